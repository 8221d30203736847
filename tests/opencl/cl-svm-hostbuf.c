/* SPDX-License-Identifier: MIT */
/*
 * cl-svm-hostbuf: a CL_MEM_USE_HOST_PTR buffer on coarse-grained SVM memory
 * shares the allocation, as OpenCL 3.0 says of any USE_HOST_PTR buffer.
 *
 * The application fills an SVM allocation (map, write, unmap), runs a
 * kernel on the SVM pointer, creates a USE_HOST_PTR buffer on that memory
 * and runs a kernel on the buffer, then maps the SVM allocation: it sees
 * both kernels' effects. The same for a buffer on a sub-range of an
 * allocation (the bytes around it untouched) and a sub-buffer of one; what
 * goes through the SVM pointer after the buffer was created reaches the
 * buffer; the buffer's map is host_ptr + offset, holds the current bytes
 * and its writes reach the SVM allocation; CL_MEM_HOST_PTR and
 * CL_MEM_FLAGS are what the application passed, CL_MEM_USES_SVM_POINTER
 * what the library says. Exits 77 without
 * coarse-grained SVM (and, built with AddressSanitizer, when no SVM range
 * can be reserved remoted: see cl-svm).
 */
#include "clt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define CLT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLT_ASAN 1
#endif
#endif
#ifndef CLT_ASAN
#define CLT_ASAN 0
#endif

#define N 4096 /* ints of the allocation */

static const char *src = "kernel void add(global int *p, int k)\n"
			 "{\n"
			 "	p[get_global_id(0)] += k;\n"
			 "}\n"
			 "kernel void twice(global int *p)\n"
			 "{\n"
			 "	p[get_global_id(0)] *= 2;\n"
			 "}\n";

static void report(const char *what, int bad)
{
	printf("%s: mismatches %d\n", what, bad);
	CLT_ASSERT(bad == 0, "%s: %d ints wrong", what, bad);
}

/* Runs kernel k over n ints of buffer mem (arg 0; arg 1 set by the caller). */
static void run_on_buffer(cl_command_queue q, cl_kernel k, cl_mem mem, size_t n)
{
	CLT_CHECK(clSetKernelArg(k, 0, sizeof(mem), &mem));
	CLT_CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &n, NULL, 0, NULL, NULL));
}

/* The values of p[0, n) through a blocking read map of the SVM allocation. */
static int svm_bad(cl_command_queue q, cl_int *p, size_t n, cl_int (*want)(size_t))
{
	int bad = 0;

	CLT_CHECK(clEnqueueSVMMap(q, CL_TRUE, CL_MAP_READ, p, n * sizeof(cl_int), 0, NULL, NULL));
	for (size_t i = 0; i < n; i++)
		bad += p[i] != want(i);
	CLT_CHECK(clEnqueueSVMUnmap(q, p, 0, NULL, NULL));
	return bad;
}

static cl_int want_whole(size_t i)
{
	return ((cl_int)i + 1) * 2; /* filled i, add 1 on the SVM pointer, twice on the buffer */
}

static cl_int want_part(size_t i)
{
	/* then add 100 on [1024, 2048) through a buffer on that part, twice on [1536, 2048) */
	cl_int v = want_whole(i);
	if (i >= 1024 && i < 2048)
		v += 100;
	if (i >= 1536 && i < 2048)
		v *= 2;
	return v;
}

static cl_int want_mapped(size_t i)
{
	/* then the buffer's write map on [16, 32) of the part set them to -i */
	return i >= 1024 + 16 && i < 1024 + 32 ? -(cl_int)i : want_part(i);
}

static void info(cl_mem mem, void *host_ptr, const char *what)
{
	void *hp = NULL;
	cl_mem_flags flags = 0;
	cl_bool svm = CL_FALSE;

	CLT_CHECK(clGetMemObjectInfo(mem, CL_MEM_HOST_PTR, sizeof(hp), &hp, NULL));
	CLT_CHECK(clGetMemObjectInfo(mem, CL_MEM_FLAGS, sizeof(flags), &flags, NULL));
	CLT_CHECK(clGetMemObjectInfo(mem, CL_MEM_USES_SVM_POINTER, sizeof(svm), &svm, NULL));
	printf("%s: CL_MEM_HOST_PTR is the SVM pointer: %s, CL_MEM_FLAGS USE_HOST_PTR: %s, "
	       "COPY_HOST_PTR: %s, CL_MEM_USES_SVM_POINTER: %s\n",
	       what, clt_yes(hp == host_ptr), clt_yes(flags & CL_MEM_USE_HOST_PTR),
	       clt_yes(flags & CL_MEM_COPY_HOST_PTR), clt_yes(svm));
	CLT_ASSERT(hp == host_ptr && (flags & CL_MEM_USE_HOST_PTR), "%s: wrong info", what);
}

int main(void)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_int err;

	clt_init(120);
	clt_pick_device(&platform, &device);
	cl_device_svm_capabilities caps = 0;
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_SVM_CAPABILITIES, sizeof(caps), &caps, NULL));
	if (!(caps & CL_DEVICE_SVM_COARSE_GRAIN_BUFFER)) {
		fprintf(stderr, "cl-svm-hostbuf: skipped: the device has no coarse-grained "
				"buffer SVM\n");
		return CLT_SKIP;
	}
	cl_context ctx = clt_context_new(platform, device);
	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	cl_int *p = clSVMAlloc(ctx, CL_MEM_READ_WRITE, N * sizeof(cl_int), 0);
#if CLT_ASAN
	if (!p) {
		fprintf(stderr,
			"cl-svm-hostbuf: skipped: no SVM allocation can be reserved in this "
			"process (AddressSanitizer's allocator region holds the server's)\n");
		return CLT_SKIP;
	}
#endif
	CLT_ASSERT(p, "clSVMAlloc failed");
	cl_program prog = clt_program_build(ctx, device, src, "-cl-std=CL2.0");
	cl_kernel add = clCreateKernel(prog, "add", &err);
	CLT_CHECK(err);
	cl_kernel twice = clCreateKernel(prog, "twice", &err);
	CLT_CHECK(err);

	/* filled through a write map */
	CLT_CHECK(clEnqueueSVMMap(q, CL_TRUE, CL_MAP_WRITE, p, N * sizeof(cl_int), 0, NULL, NULL));
	for (size_t i = 0; i < N; i++)
		p[i] = (cl_int)i;
	CLT_CHECK(clEnqueueSVMUnmap(q, p, 0, NULL, NULL));

	/* a kernel on the SVM pointer, then one on a USE_HOST_PTR buffer on it */
	size_t n = N;
	cl_int one = 1;
	CLT_CHECK(clSetKernelArgSVMPointer(add, 0, p));
	CLT_CHECK(clSetKernelArg(add, 1, sizeof(one), &one));
	CLT_CHECK(clEnqueueNDRangeKernel(q, add, 1, NULL, &n, NULL, 0, NULL, NULL));
	cl_mem whole = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR,
				      N * sizeof(cl_int), p, &err);
	CLT_CHECK(err);
	info(whole, p, "buffer on the allocation");
	run_on_buffer(q, twice, whole, N);
	CLT_CHECK(clFinish(q));
	report("SVM map after kernels on the SVM pointer and on the buffer",
	       svm_bad(q, p, N, want_whole));

	/* a buffer on a sub-range (clCreateBufferWithProperties), and a sub-buffer of it */
	cl_mem part = clCreateBufferWithProperties(ctx, NULL, CL_MEM_USE_HOST_PTR,
						   1024 * sizeof(cl_int), p + 1024, &err);
	CLT_CHECK(err);
	info(part, p + 1024, "buffer on a sub-range");
	cl_int hundred = 100;
	CLT_CHECK(clSetKernelArg(add, 1, sizeof(hundred), &hundred));
	run_on_buffer(q, add, part, 1024);
	cl_buffer_region region = { 512 * sizeof(cl_int), 512 * sizeof(cl_int) };
	cl_mem sub = clCreateSubBuffer(part, 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
	CLT_CHECK(err);
	info(sub, p + 1536, "sub-buffer of it");
	run_on_buffer(q, twice, sub, 512);
	CLT_CHECK(clFinish(q));
	report("SVM map after kernels on a sub-range and a sub-buffer",
	       svm_bad(q, p, N, want_part));

	/* the buffer's map: host_ptr + offset, current, and its writes reach the allocation */
	cl_int *m =
	    clEnqueueMapBuffer(q, part, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 16 * sizeof(cl_int),
			       16 * sizeof(cl_int), 0, NULL, NULL, &err);
	CLT_CHECK(err);
	printf("buffer map at host_ptr + offset: %s\n", clt_yes(m == p + 1024 + 16));
	int bad = 0;
	for (size_t i = 0; i < 16; i++) {
		bad += m[i] != want_part(1024 + 16 + i);
		m[i] = -(cl_int)(1024 + 16 + i);
	}
	report("buffer map holds the kernels' results", bad);
	CLT_CHECK(clEnqueueUnmapMemObject(q, part, m, 0, NULL, NULL));
	CLT_CHECK(clFinish(q));
	report("SVM map after the buffer's write map", svm_bad(q, p, N, want_mapped));

	/* written through the SVM pointer after the buffer was made: the buffer sees it */
	CLT_CHECK(clEnqueueSVMMap(q, CL_TRUE, CL_MAP_WRITE_INVALIDATE_REGION, p, N * sizeof(cl_int),
				  0, NULL, NULL));
	for (size_t i = 0; i < N; i++)
		p[i] = (cl_int)i * 7;
	CLT_CHECK(clEnqueueSVMUnmap(q, p, 0, NULL, NULL));
	cl_int got[N];
	CLT_CHECK(clEnqueueReadBuffer(q, whole, CL_TRUE, 0, sizeof(got), got, 0, NULL, NULL));
	bad = 0;
	for (size_t i = 0; i < N; i++)
		bad += got[i] != (cl_int)i * 7;
	report("buffer read after an SVM write map", bad);

	CLT_CHECK(clReleaseMemObject(sub));
	CLT_CHECK(clReleaseMemObject(part));
	CLT_CHECK(clReleaseMemObject(whole));
	CLT_CHECK(clReleaseKernel(add));
	CLT_CHECK(clReleaseKernel(twice));
	CLT_CHECK(clReleaseProgram(prog));
	clSVMFree(ctx, p);
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	return 0;
}
