/* SPDX-License-Identifier: MIT */
/*
 * cl-hostptr: CL_MEM_USE_HOST_PTR and CL_MEM_ALLOC_HOST_PTR buffers keep the
 * OpenCL 3.0 rules for the host memory the application owns.
 *
 * Cases: a kernel sees a USE_HOST_PTR buffer's initial host_ptr contents; a
 * kernel writes one and a blocking and a non-blocking read map (event wait
 * and clFinish) return exactly host_ptr + offset with the data there; a
 * write map's bytes, written through host_ptr + offset, reach a kernel after
 * the unmap; a sub-buffer's map is parent host_ptr + origin + offset;
 * CL_MEM_FLAGS and CL_MEM_HOST_PTR of USE_HOST_PTR, COPY_HOST_PTR,
 * ALLOC_HOST_PTR and plain buffers and sub-buffers; an ALLOC_HOST_PTR map
 * and unmap; ALLOC_HOST_PTR | COPY_HOST_PTR; a kernel's results in
 * host_ptr after clFinish, a blocking read and clWaitForEvents (with a
 * command gated by a user event behind the kernel), without a map, and of
 * a blocking write, a fill and a copy, and on an out-of-order queue after
 * clFinish (PoCL keeps such buffers in host_ptr; the guest library
 * refreshes it at those points); a retained buffer stays remembered until
 * its last release; releasing a buffer leaves
 * host_ptr to the application untouched; four threads with their own
 * buffers at once. Prints offsets from host_ptr (never addresses) and
 * mismatch counts, diffed against the native run.
 */
#include "clt.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N	  4096 /* ints per buffer */
#define N_THREADS 4

static const char kernel_src[] = "__kernel void fill(__global int *out, int seed)\n"
				 "{\n"
				 "\tint i = (int)get_global_id(0);\n"
				 "\tout[i] = i * 3 + seed;\n"
				 "}\n"
				 "__kernel void twice(__global const int *in, __global int *out)\n"
				 "{\n"
				 "\tsize_t i = get_global_id(0);\n"
				 "\tout[i] = in[i] * 2 + 1;\n"
				 "}\n";

static cl_platform_id platform;
static cl_device_id device;

/* What fill(seed) writes at index i, and twice() of that. */
static cl_int filled(size_t i, int seed)
{
	return (cl_int)i * 3 + seed;
}

static void report(const char *what, int bad)
{
	printf("%s: mismatches %d\n", what, bad);
	CLT_ASSERT(bad == 0, "%s: %d ints wrong", what, bad);
}

/* The byte offset of p from base, printed; p must lie in [base, base + len]. */
static void report_at(const char *what, const void *p, const void *base, size_t len)
{
	ptrdiff_t off = (const char *)p - (const char *)base;
	bool inside = p && off >= 0 && (size_t)off <= len;

	printf("%s: at host_ptr + %td\n", what, inside ? off : (ptrdiff_t)-1);
	CLT_ASSERT(inside, "%s: the pointer is not inside the application's memory", what);
}

static int check_filled(const cl_int *p, size_t first, size_t n, int seed)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += p[i] != filled(first + i, seed);
	return bad;
}

static void *host_new(void)
{
	void *p = aligned_alloc(4096, N * sizeof(cl_int));

	CLT_ASSERT(p, "out of memory");
	return p;
}

struct ctx {
	cl_context ctx;
	cl_command_queue q;
	cl_program prog;
	cl_kernel fill, twice;
};

static void ctx_init(struct ctx *c)
{
	cl_int err;

	c->ctx = clt_context_new(platform, device);
	c->q = clCreateCommandQueueWithProperties(c->ctx, device, NULL, &err);
	CLT_CHECK(err);
	c->prog = clt_program_build(c->ctx, device, kernel_src, NULL);
	c->fill = clCreateKernel(c->prog, "fill", &err);
	CLT_CHECK(err);
	c->twice = clCreateKernel(c->prog, "twice", &err);
	CLT_CHECK(err);
}

static void ctx_fini(struct ctx *c)
{
	CLT_CHECK(clReleaseKernel(c->fill));
	CLT_CHECK(clReleaseKernel(c->twice));
	CLT_CHECK(clReleaseProgram(c->prog));
	CLT_CHECK(clReleaseCommandQueue(c->q));
	CLT_CHECK(clReleaseContext(c->ctx));
}

/* fill(seed) into buf's n ints; returns the kernel's event when ret_ev is not NULL. */
static void run_fill(struct ctx *c, cl_mem buf, size_t n, int seed, cl_event *ret_ev)
{
	CLT_CHECK(clSetKernelArg(c->fill, 0, sizeof(cl_mem), &buf));
	CLT_CHECK(clSetKernelArg(c->fill, 1, sizeof(int), &seed));
	CLT_CHECK(clEnqueueNDRangeKernel(c->q, c->fill, 1, NULL, &n, NULL, 0, NULL, ret_ev));
}

/* twice() of in's n ints, read back; returns how many are not 2 * expect[i] + 1. */
static int run_twice(struct ctx *c, cl_mem in, size_t n, const cl_int *expect)
{
	static cl_int dst[N];
	cl_int err;
	cl_mem out = clCreateBuffer(c->ctx, CL_MEM_WRITE_ONLY, n * sizeof(cl_int), NULL, &err);
	int bad = 0;

	CLT_CHECK(err);
	CLT_CHECK(clSetKernelArg(c->twice, 0, sizeof(cl_mem), &in));
	CLT_CHECK(clSetKernelArg(c->twice, 1, sizeof(cl_mem), &out));
	CLT_CHECK(clEnqueueNDRangeKernel(c->q, c->twice, 1, NULL, &n, NULL, 0, NULL, NULL));
	CLT_CHECK(
	    clEnqueueReadBuffer(c->q, out, CL_TRUE, 0, n * sizeof(cl_int), dst, 0, NULL, NULL));
	for (size_t i = 0; i < n; i++)
		bad += dst[i] != expect[i] * 2 + 1;
	CLT_CHECK(clReleaseMemObject(out));
	return bad;
}

static void print_flags(const char *what, cl_mem m)
{
	cl_mem_flags f = 0;
	size_t n = 0;

	CLT_CHECK(clGetMemObjectInfo(m, CL_MEM_FLAGS, sizeof(f), &f, &n));
	printf("%s: CL_MEM_FLAGS 0x%" PRIx64 " (USE_HOST_PTR %s, COPY_HOST_PTR %s, "
	       "ALLOC_HOST_PTR %s), size %zu\n",
	       what, (uint64_t)f, clt_yes(f & CL_MEM_USE_HOST_PTR),
	       clt_yes(f & CL_MEM_COPY_HOST_PTR), clt_yes(f & CL_MEM_ALLOC_HOST_PTR), n);
}

/* CL_MEM_HOST_PTR: NULL, or its offset from base. */
static void print_host_ptr(const char *what, cl_mem m, const void *base)
{
	void *p = (void *)1;
	size_t n = 0;

	CLT_CHECK(clGetMemObjectInfo(m, CL_MEM_HOST_PTR, 0, NULL, &n));
	printf("%s: CL_MEM_HOST_PTR size %zu, ", what, n);
	CLT_CHECK(clGetMemObjectInfo(m, CL_MEM_HOST_PTR, sizeof(p), &p, &n));
	if (!p)
		printf("NULL\n");
	else if (base && (const char *)p >= (const char *)base &&
		 (const char *)p <= (const char *)base + N * sizeof(cl_int))
		printf("host_ptr + %td\n", (const char *)p - (const char *)base);
	else
		printf("elsewhere\n");
	CLT_ASSERT(!p || base, "%s: CL_MEM_HOST_PTR is not NULL", what);
}

static void case_use_host_ptr(struct ctx *c)
{
	const size_t bytes = N * sizeof(cl_int);
	cl_int *host = host_new(), *p, err;
	static cl_int expect[N];
	cl_event ev;
	cl_mem hb;

	/* 1. the kernel sees host_ptr's initial contents */
	for (size_t i = 0; i < N; i++)
		host[i] = expect[i] = (cl_int)(i * 7 + 1);
	hb = clCreateBuffer(c->ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes, host, &err);
	CLT_CHECK(err);
	report("use-host-ptr initial contents seen by a kernel", run_twice(c, hb, N, expect));
	print_flags("use-host-ptr", hb);
	print_host_ptr("use-host-ptr", hb, host);

	/* 2. a kernel writes; a blocking read map returns host_ptr + offset */
	run_fill(c, hb, N, 10, NULL);
	p = clEnqueueMapBuffer(c->q, hb, CL_TRUE, CL_MAP_READ, 8 * sizeof(cl_int),
			       (N - 8) * sizeof(cl_int), 0, NULL, NULL, &err);
	CLT_CHECK(err);
	report_at("blocking read map", p, host, bytes);
	report("blocking read map data", check_filled(p, 8, N - 8, 10));
	CLT_CHECK(clEnqueueUnmapMemObject(c->q, hb, p, 0, NULL, NULL));
	CLT_CHECK(clFinish(c->q));

	/* 3. non-blocking read maps: the data is there after the event / clFinish */
	run_fill(c, hb, N, 20, NULL);
	p = clEnqueueMapBuffer(c->q, hb, CL_FALSE, CL_MAP_READ, 100 * sizeof(cl_int),
			       200 * sizeof(cl_int), 0, NULL, &ev, &err);
	CLT_CHECK(err);
	CLT_CHECK(clWaitForEvents(1, &ev));
	CLT_CHECK(clReleaseEvent(ev));
	report_at("non-blocking read map + wait", p, host, bytes);
	report("non-blocking read map + wait data", check_filled(p, 100, 200, 20));
	CLT_CHECK(clEnqueueUnmapMemObject(c->q, hb, p, 0, NULL, NULL));
	run_fill(c, hb, N, 21, NULL);
	p = clEnqueueMapBuffer(c->q, hb, CL_FALSE, CL_MAP_READ, 0, bytes, 0, NULL, NULL, &err);
	CLT_CHECK(err);
	CLT_CHECK(clFinish(c->q));
	report_at("non-blocking read map + finish", p, host, bytes);
	report("non-blocking read map + finish data", check_filled(p, 0, N, 21));
	CLT_CHECK(clEnqueueUnmapMemObject(c->q, hb, p, 0, NULL, NULL));
	CLT_CHECK(clFinish(c->q));

	/* 4. a write map: written through the pointer, a kernel sees it after the unmap */
	p = clEnqueueMapBuffer(c->q, hb, CL_TRUE, CL_MAP_WRITE, 512 * sizeof(cl_int),
			       1024 * sizeof(cl_int), 0, NULL, NULL, &err);
	CLT_CHECK(err);
	report_at("write map", p, host, bytes);
	for (size_t i = 0; i < 1024; i++)
		p[i] = (cl_int)(i * 5 + 3);
	CLT_CHECK(clEnqueueUnmapMemObject(c->q, hb, p, 0, NULL, NULL));
	for (size_t i = 0; i < N; i++)
		expect[i] = i >= 512 && i < 1536 ? (cl_int)((i - 512) * 5 + 3) : filled(i, 21);
	report("write map reaches a kernel", run_twice(c, hb, N, expect));
	p = clEnqueueMapBuffer(c->q, hb, CL_TRUE, CL_MAP_WRITE_INVALIDATE_REGION, 0, bytes, 0, NULL,
			       NULL, &err);
	CLT_CHECK(err);
	report_at("write-invalidate map", p, host, bytes);
	for (size_t i = 0; i < N; i++)
		p[i] = expect[i] = (cl_int)(N - i);
	CLT_CHECK(clEnqueueUnmapMemObject(c->q, hb, p, 0, NULL, &ev));
	CLT_CHECK(clWaitForEvents(1, &ev));
	CLT_CHECK(clReleaseEvent(ev));
	report("write-invalidate map reaches a kernel", run_twice(c, hb, N, expect));

	/* 5. a sub-buffer: parent host_ptr + origin + offset */
	{
		cl_buffer_region region = { 1024 * sizeof(cl_int), 2048 * sizeof(cl_int) };
		cl_mem sub = clCreateSubBuffer(hb, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION,
					       &region, &err);
		CLT_CHECK(err);
		print_flags("sub-buffer", sub);
		print_host_ptr("sub-buffer", sub, host);
		run_fill(c, hb, N, 30, NULL);
		p = clEnqueueMapBuffer(c->q, sub, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE,
				       16 * sizeof(cl_int), 64 * sizeof(cl_int), 0, NULL, NULL,
				       &err);
		CLT_CHECK(err);
		report_at("sub-buffer map", p, host, bytes);
		report("sub-buffer map data", check_filled(p, 1024 + 16, 64, 30));
		for (size_t i = 0; i < 64; i++)
			p[i] = -(cl_int)i;
		CLT_CHECK(clEnqueueUnmapMemObject(c->q, sub, p, 0, NULL, NULL));
		for (size_t i = 0; i < N; i++)
			expect[i] = i >= 1040 && i < 1104 ? -(cl_int)(i - 1040) : filled(i, 30);
		report("sub-buffer map write reaches the parent", run_twice(c, hb, N, expect));
		CLT_CHECK(clReleaseMemObject(sub));
	}

	/* 6. without a map: the results are in host_ptr after clFinish, a blocking read */
	run_fill(c, hb, N, 40, NULL);
	CLT_CHECK(clFinish(c->q));
	report("kernel results in host_ptr after clFinish", check_filled(host, 0, N, 40));
	{
		static cl_int dst[16];
		run_fill(c, hb, N, 41, NULL);
		CLT_CHECK(
		    clEnqueueReadBuffer(c->q, hb, CL_TRUE, 0, sizeof(dst), dst, 0, NULL, NULL));
		report("kernel results in host_ptr after a blocking read",
		       check_filled(host, 0, N, 41));
	}
	{
		/*
		 * clWaitForEvents on the kernel's event while a later command of
		 * the queue waits for a user event: the results are there, and
		 * nothing waits for the gated command.
		 */
		cl_event gate = clCreateUserEvent(c->ctx, &err);
		CLT_CHECK(err);
		run_fill(c, hb, N, 42, &ev);
		CLT_CHECK(clEnqueueMarkerWithWaitList(c->q, 1, &gate, NULL));
		CLT_CHECK(clWaitForEvents(1, &ev));
		report("kernel results in host_ptr after clWaitForEvents",
		       check_filled(host, 0, N, 42));
		CLT_CHECK(clSetUserEventStatus(gate, CL_COMPLETE));
		CLT_CHECK(clFinish(c->q));
		CLT_CHECK(clReleaseEvent(gate));
		CLT_CHECK(clReleaseEvent(ev));
	}

	/* transfers: a blocking write, a fill and a copy into the buffer reach host_ptr too */
	{
		static cl_int src[N];
		const cl_int pattern = -7;
		int bad = 0;
		cl_mem other = clCreateBuffer(c->ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
		CLT_CHECK(err);
		for (size_t i = 0; i < N; i++)
			src[i] = (cl_int)(i + 1000);
		CLT_CHECK(clEnqueueWriteBuffer(c->q, hb, CL_TRUE, 64 * sizeof(cl_int),
					       128 * sizeof(cl_int), src, 0, NULL, NULL));
		for (size_t i = 0; i < N; i++)
			bad += host[i] != (i >= 64 && i < 192 ? src[i - 64] : filled(i, 42));
		report("blocking write in host_ptr", bad);
		CLT_CHECK(clEnqueueFillBuffer(c->q, hb, &pattern, sizeof(pattern), 0,
					      16 * sizeof(cl_int), 0, NULL, NULL));
		CLT_CHECK(clEnqueueWriteBuffer(c->q, other, CL_TRUE, 0, bytes, src, 0, NULL, NULL));
		CLT_CHECK(clEnqueueCopyBuffer(c->q, other, hb, 0, 2048 * sizeof(cl_int),
					      16 * sizeof(cl_int), 0, NULL, NULL));
		CLT_CHECK(clFinish(c->q));
		bad = 0;
		for (size_t i = 0; i < N; i++) {
			cl_int want = i < 16			   ? pattern
				      : i >= 64 && i < 192	   ? src[i - 64]
				      : i >= 2048 && i < 2048 + 16 ? src[i - 2048]
								   : filled(i, 42);
			bad += host[i] != want;
		}
		report("fill and copy in host_ptr after clFinish", bad);
		CLT_CHECK(clReleaseMemObject(other));
	}

	/* an out-of-order queue: clFinish refreshes */
	{
		cl_queue_properties props[] = { CL_QUEUE_PROPERTIES,
						CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, 0 };
		cl_command_queue ooo =
		    clCreateCommandQueueWithProperties(c->ctx, device, props, &err);
		CLT_CHECK(err);
		size_t n = N;
		int seed = 43;
		CLT_CHECK(clSetKernelArg(c->fill, 0, sizeof(cl_mem), &hb));
		CLT_CHECK(clSetKernelArg(c->fill, 1, sizeof(int), &seed));
		CLT_CHECK(clEnqueueNDRangeKernel(ooo, c->fill, 1, NULL, &n, NULL, 0, NULL, NULL));
		CLT_CHECK(clFinish(ooo));
		report("out-of-order queue: kernel results in host_ptr after clFinish",
		       check_filled(host, 0, N, 43));
		CLT_CHECK(clReleaseCommandQueue(ooo));
	}

	/* a retained buffer stays remembered until its last release */
	CLT_CHECK(clRetainMemObject(hb));
	CLT_CHECK(clReleaseMemObject(hb));
	print_host_ptr("retained and released once", hb, host);
	p = clEnqueueMapBuffer(c->q, hb, CL_TRUE, CL_MAP_READ, 4, 8, 0, NULL, NULL, &err);
	CLT_CHECK(err);
	report_at("retained and released once: map", p, host, bytes);
	CLT_CHECK(clEnqueueUnmapMemObject(c->q, hb, p, 0, NULL, NULL));

	/* 7. released: host_ptr is the application's again, and nothing writes it */
	run_fill(c, hb, N, 50, NULL);
	CLT_CHECK(clReleaseMemObject(hb));
	CLT_CHECK(clFinish(c->q));
	for (size_t i = 0; i < N; i++)
		host[i] = (cl_int)(i ^ 0x5a5a);
	{
		cl_mem other =
		    clCreateBuffer(c->ctx, CL_MEM_READ_WRITE, bytes, NULL, &err); /* more work */
		CLT_CHECK(err);
		run_fill(c, other, N, 51, NULL);
		CLT_CHECK(clFinish(c->q));
		CLT_CHECK(clReleaseMemObject(other));
	}
	{
		int bad = 0;
		for (size_t i = 0; i < N; i++)
			bad += host[i] != (cl_int)(i ^ 0x5a5a);
		report("host_ptr untouched after release", bad);
	}
	free(host);
}

static void case_other_flags(struct ctx *c)
{
	const size_t bytes = N * sizeof(cl_int);
	cl_int *host = host_new(), *p, err;
	cl_mem b;

	for (size_t i = 0; i < N; i++)
		host[i] = filled(i, 60);
	b = clCreateBuffer(c->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, host, &err);
	CLT_CHECK(err);
	print_flags("copy-host-ptr", b);
	print_host_ptr("copy-host-ptr", b, NULL);
	CLT_CHECK(clReleaseMemObject(b));

	b = clCreateBuffer(c->ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
	CLT_CHECK(err);
	print_flags("plain", b);
	print_host_ptr("plain", b, NULL);
	CLT_CHECK(clReleaseMemObject(b));

	/* ALLOC_HOST_PTR: a normal buffer whose maps work */
	b = clCreateBuffer(c->ctx, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes, NULL, &err);
	CLT_CHECK(err);
	print_flags("alloc-host-ptr", b);
	print_host_ptr("alloc-host-ptr", b, NULL);
	p = clEnqueueMapBuffer(c->q, b, CL_TRUE, CL_MAP_WRITE_INVALIDATE_REGION, 0, bytes, 0, NULL,
			       NULL, &err);
	CLT_CHECK(err);
	printf("alloc-host-ptr map: %s\n", p ? "mapped" : "NULL");
	for (size_t i = 0; i < N; i++)
		p[i] = host[i];
	CLT_CHECK(clEnqueueUnmapMemObject(c->q, b, p, 0, NULL, NULL));
	report("alloc-host-ptr map write reaches a kernel", run_twice(c, b, N, host));
	run_fill(c, b, N, 61, NULL);
	p = clEnqueueMapBuffer(c->q, b, CL_TRUE, CL_MAP_READ, 4 * sizeof(cl_int),
			       (N - 4) * sizeof(cl_int), 0, NULL, NULL, &err);
	CLT_CHECK(err);
	report("alloc-host-ptr read map data", check_filled(p, 4, N - 4, 61));
	CLT_CHECK(clEnqueueUnmapMemObject(c->q, b, p, 0, NULL, NULL));
	{
		cl_buffer_region region = { 1024 * sizeof(cl_int), 1024 * sizeof(cl_int) };
		cl_mem sub = clCreateSubBuffer(b, CL_MEM_READ_ONLY, CL_BUFFER_CREATE_TYPE_REGION,
					       &region, &err);
		CLT_CHECK(err);
		print_flags("alloc-host-ptr sub-buffer", sub);
		print_host_ptr("alloc-host-ptr sub-buffer", sub, NULL);
		CLT_CHECK(clReleaseMemObject(sub));
	}
	CLT_CHECK(clReleaseMemObject(b));
	CLT_CHECK(clFinish(c->q));

	/* ALLOC_HOST_PTR | COPY_HOST_PTR: starts with host_ptr's bytes, keeps nothing of it */
	b = clCreateBuffer(c->ctx, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR | CL_MEM_COPY_HOST_PTR,
			   bytes, host, &err);
	CLT_CHECK(err);
	print_flags("alloc+copy-host-ptr", b);
	print_host_ptr("alloc+copy-host-ptr", b, NULL);
	report("alloc+copy-host-ptr initial contents seen by a kernel", run_twice(c, b, N, host));
	CLT_CHECK(clReleaseMemObject(b));

	/* clCreateBufferWithProperties with USE_HOST_PTR is remembered too */
	b = clCreateBufferWithProperties(c->ctx, NULL, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR,
					 bytes, host, &err);
	CLT_CHECK(err);
	print_flags("use-host-ptr with properties", b);
	print_host_ptr("use-host-ptr with properties", b, host);
	p = clEnqueueMapBuffer(c->q, b, CL_TRUE, CL_MAP_READ, 32, 64, 0, NULL, NULL, &err);
	CLT_CHECK(err);
	report_at("use-host-ptr with properties map", p, host, bytes);
	report("use-host-ptr with properties map data", check_filled(p, 8, 16, 60));
	CLT_CHECK(clEnqueueUnmapMemObject(c->q, b, p, 0, NULL, NULL));
	CLT_CHECK(clReleaseMemObject(b));
	CLT_CHECK(clFinish(c->q));
	free(host);
}

struct worker {
	int index;
	int bad_map, bad_finish, bad_offset;
};

static pthread_barrier_t start;

/* Each thread: its own context and USE_HOST_PTR buffers, kernels, maps, release. */
static void *run_worker(void *arg)
{
	struct worker *w = arg;
	struct ctx c;
	cl_int *host[2], err;
	cl_mem hb[2];

	ctx_init(&c);
	pthread_barrier_wait(&start);
	for (int r = 0; r < 3; r++) {
		for (int k = 0; k < 2; k++) {
			host[k] = host_new();
			memset(host[k], 0, N * sizeof(cl_int));
			hb[k] = clCreateBuffer(c.ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR,
					       N * sizeof(cl_int), host[k], &err);
			CLT_CHECK(err);
		}
		for (int k = 0; k < 2; k++) {
			int seed = w->index * 100 + r * 10 + k;
			size_t off = (size_t)(w->index + k) * 64;
			run_fill(&c, hb[k], N, seed, NULL);
			cl_int *p = clEnqueueMapBuffer(
			    c.q, hb[k], CL_TRUE, CL_MAP_READ, off * sizeof(cl_int),
			    (N - off) * sizeof(cl_int), 0, NULL, NULL, &err);
			CLT_CHECK(err);
			w->bad_offset += p != host[k] + off;
			w->bad_map += check_filled(p, off, N - off, seed);
			CLT_CHECK(clEnqueueUnmapMemObject(c.q, hb[k], p, 0, NULL, NULL));
			run_fill(&c, hb[k], N, seed + 1, NULL);
		}
		CLT_CHECK(clFinish(c.q));
		for (int k = 0; k < 2; k++) {
			w->bad_finish +=
			    check_filled(host[k], 0, N, w->index * 100 + r * 10 + k + 1);
			CLT_CHECK(clReleaseMemObject(hb[k]));
			free(host[k]);
		}
	}
	ctx_fini(&c);
	return NULL;
}

static void case_threads(void)
{
	pthread_t t[N_THREADS];
	struct worker w[N_THREADS];

	pthread_barrier_init(&start, NULL, N_THREADS);
	for (int i = 0; i < N_THREADS; i++) {
		w[i] = (struct worker){ .index = i };
		CLT_ASSERT(pthread_create(&t[i], NULL, run_worker, &w[i]) == 0, "pthread_create");
	}
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < N_THREADS; i++) {
		printf("thread %d: maps not at host_ptr + offset %d, map mismatches %d, "
		       "host_ptr after clFinish mismatches %d\n",
		       i, w[i].bad_offset, w[i].bad_map, w[i].bad_finish);
		CLT_ASSERT(w[i].bad_offset == 0 && w[i].bad_map == 0 && w[i].bad_finish == 0,
			   "thread %d: wrong results", i);
	}
}

int main(void)
{
	struct ctx c;

	clt_init(120);
	clt_pick_device(&platform, &device);
	ctx_init(&c);
	case_use_host_ptr(&c);
	case_other_flags(&c);
	ctx_fini(&c);
	case_threads();
	printf("done\n");
	return 0;
}
