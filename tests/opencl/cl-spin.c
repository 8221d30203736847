/* SPDX-License-Identifier: MIT */
/*
 * cl-spin: a compute-bound OpenCL tenant. Enqueues BATCH kernels of FMAS
 * dependent multiply-adds per work item, then clFinish, in a loop for
 * SECONDS; checks the result of the last run against the CPU and prints
 * "spin N" (the number of kernels). test_enforce.sh (share-opencl) and bench/fairness.sh run two
 * or more of these through one avarouterd to see the device time split.
 *
 *   cl-spin SECONDS [WORK_ITEMS [FMAS [BATCH]]]   (defaults 4096, 2048 and 1)
 *
 * Exits 77 when there is no OpenCL device, 1 on any unexpected result. Its
 * output depends on the machine's speed, so it is not one of the programs
 * run-diff.sh compares.
 */
#include "clt.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char kernel_src[] = "__kernel void spin(__global float *out, uint fmas)\n"
				 "{\n"
				 "\tfloat x = (float)(get_global_id(0) & 7);\n"
				 "\tfor (uint i = 0; i < fmas; i++)\n"
				 "\t\tx = x * 0.5f + 1.0f;\n"
				 "\tout[get_global_id(0)] = x;\n"
				 "}\n";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* x_{i+1} = x_i / 2 + 1 on the CPU, in the same float arithmetic. */
static float expected(size_t gid, cl_uint fmas)
{
	float x = (float)(gid & 7);

	for (cl_uint i = 0; i < fmas; i++)
		x = x * 0.5f + 1.0f;
	return x;
}

int main(int argc, char **argv)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_int err;

	if (argc < 2 || argc > 5) {
		fprintf(stderr, "usage: cl-spin SECONDS [WORK_ITEMS [FMAS [BATCH]]]\n");
		return 2;
	}
	double seconds = strtod(argv[1], NULL);
	size_t items = argc > 2 ? strtoul(argv[2], NULL, 0) : 4096;
	cl_uint fmas = argc > 3 ? (cl_uint)strtoul(argv[3], NULL, 0) : 2048;
	unsigned long batch = argc > 4 ? strtoul(argv[4], NULL, 0) : 1;
	if (seconds <= 0 || items == 0 || items > ((size_t)1 << 24) || batch == 0 || batch > 1024) {
		fprintf(stderr,
			"cl-spin: SECONDS must be > 0, WORK_ITEMS 1..2^24, BATCH 1..1024\n");
		return 2;
	}
	clt_init((unsigned)seconds + 120);
	clt_pick_device(&platform, &device);
	cl_context ctx = clt_context_new(platform, device);
	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	cl_program prog = clt_program_build(ctx, device, kernel_src, NULL);
	cl_kernel k = clCreateKernel(prog, "spin", &err);
	CLT_CHECK(err);
	cl_mem out = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, items * sizeof(float), NULL, &err);
	CLT_CHECK(err);
	CLT_CHECK(clSetKernelArg(k, 0, sizeof(out), &out));
	CLT_CHECK(clSetKernelArg(k, 1, sizeof(fmas), &fmas));

	unsigned long n = 0;
	double end = now_s() + seconds;
	while (n == 0 || now_s() < end) {
		for (unsigned long b = 0; b < batch; b++)
			CLT_CHECK(
			    clEnqueueNDRangeKernel(q, k, 1, NULL, &items, NULL, 0, NULL, NULL));
		CLT_CHECK(clFinish(q));
		n += batch;
	}

	float *host = malloc(items * sizeof(float));
	CLT_ASSERT(host != NULL, "out of memory");
	CLT_CHECK(
	    clEnqueueReadBuffer(q, out, CL_TRUE, 0, items * sizeof(float), host, 0, NULL, NULL));
	for (size_t i = 0; i < items; i++)
		CLT_ASSERT(host[i] == expected(i, fmas), "out[%zu] = %g, want %g", i,
			   (double)host[i], (double)expected(i, fmas));
	free(host);
	CLT_CHECK(clReleaseMemObject(out));
	CLT_CHECK(clReleaseKernel(k));
	CLT_CHECK(clReleaseProgram(prog));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	printf("spin %lu\n", n);
	return 0;
}
