/* SPDX-License-Identifier: MIT */
/*
 * cl-crash: an OpenCL program that dies holding objects of every kind, for
 * tests/router/test_enforce.sh crash-opencl (the API server must release
 * them all and keep serving).
 *
 *   cl-crash kill    creates a context, a queue, a program, a kernel, four
 *                    buffers (one sub-buffer), a user event and a map left
 *                    open, enqueues a kernel gated on the user event and a
 *                    non-blocking read behind it, prints "holding N objects"
 *                    and SIGKILLs itself with all of it outstanding
 *   cl-crash clean   the same work done to the end and released in order;
 *                    prints "clean: sum S" (S checked here) and exits 0
 */
#include "clt.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 4096

static const char *src = "__kernel void twice(__global int *a) {\n"
			 "	size_t i = get_global_id(0);\n"
			 "	a[i] = 2 * a[i];\n"
			 "}\n";

int main(int argc, char **argv)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_int err;
	bool kill_self;

	if (argc != 2 || (strcmp(argv[1], "kill") != 0 && strcmp(argv[1], "clean") != 0)) {
		fprintf(stderr, "usage: cl-crash kill|clean\n");
		return 2;
	}
	kill_self = strcmp(argv[1], "kill") == 0;
	clt_init(60);
	clt_pick_device(&platform, &device);
	cl_context ctx = clt_context_new(platform, device);
	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	cl_program prog = clt_program_build(ctx, device, src, NULL);
	cl_kernel k = clCreateKernel(prog, "twice", &err);
	CLT_CHECK(err);

	static int host[N], back[N];
	for (int i = 0; i < N; i++)
		host[i] = i;
	cl_mem a =
	    clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof(host), host, &err);
	CLT_CHECK(err);
	cl_mem b = clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof(host), NULL, &err);
	CLT_CHECK(err);
	cl_mem c = clCreateBuffer(ctx, CL_MEM_READ_ONLY, 1 << 20, NULL, &err);
	CLT_CHECK(err);
	cl_buffer_region region = { 0, 4096 };
	cl_mem sub =
	    clCreateSubBuffer(c, CL_MEM_READ_ONLY, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
	CLT_CHECK(err);
	void *mapped =
	    clEnqueueMapBuffer(q, b, CL_TRUE, CL_MAP_WRITE, 0, sizeof(host), 0, NULL, NULL, &err);
	CLT_CHECK(err);

	cl_event gate = clCreateUserEvent(ctx, &err);
	CLT_CHECK(err);
	cl_event ran, read;
	size_t global = N;
	CLT_CHECK(clSetKernelArg(k, 0, sizeof(a), &a));
	CLT_CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 1, &gate, &ran));
	CLT_CHECK(clEnqueueReadBuffer(q, a, CL_FALSE, 0, sizeof(back), back, 1, &ran, &read));

	if (kill_self) {
		/* context, queue, program, kernel, 4 mems, 3 events */
		printf("holding 11 objects\n");
		raise(SIGKILL);
		return 1;
	}

	CLT_CHECK(clSetUserEventStatus(gate, CL_COMPLETE));
	CLT_CHECK(clWaitForEvents(1, &read));
	CLT_CHECK(clEnqueueUnmapMemObject(q, b, mapped, 0, NULL, NULL));
	CLT_CHECK(clFinish(q));
	long sum = 0;
	for (int i = 0; i < N; i++)
		sum += back[i];
	CLT_ASSERT(sum == (long)N * (N - 1), "sum %ld, want %ld", sum, (long)N * (N - 1));
	printf("clean: sum %ld\n", sum);
	CLT_CHECK(clReleaseEvent(read));
	CLT_CHECK(clReleaseEvent(ran));
	CLT_CHECK(clReleaseEvent(gate));
	CLT_CHECK(clReleaseMemObject(sub));
	CLT_CHECK(clReleaseMemObject(c));
	CLT_CHECK(clReleaseMemObject(b));
	CLT_CHECK(clReleaseMemObject(a));
	CLT_CHECK(clReleaseKernel(k));
	CLT_CHECK(clReleaseProgram(prog));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	return 0;
}
