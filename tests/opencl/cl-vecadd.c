/* SPDX-License-Identifier: MIT */
/*
 * cl-vecadd: c = a + b over 1M floats, the canonical first OpenCL program.
 *
 * a goes to the device with a blocking write; b with two non-blocking writes
 * (one per half) whose events gate the kernel; c comes back with a
 * non-blocking read, then clFinish. A second pass runs the kernel again with
 * a different scalar argument and a blocking read. Every element is checked
 * against the CPU; the inputs are multiples of 1/4 below 2^10, so the float
 * sums are exact and the printed checksums are identical on every run.
 */
#include "clt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define N ((size_t)1 << 20)

static const char kernel_src[] =
    "__kernel void vecadd(__global const float *a, __global const float *b,\n"
    "                     __global float *c, float scale_b, uint n)\n"
    "{\n"
    "\tsize_t i = get_global_id(0);\n"
    "\tif (i < n)\n"
    "\t\tc[i] = a[i] + scale_b * b[i];\n"
    "}\n";

static void check_event(cl_event ev, cl_command_type want_type, cl_command_queue q,
			const char *label)
{
	cl_int status = 1;
	cl_command_type type = 0;
	cl_command_queue ev_q = NULL;

	CLT_CHECK(
	    clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(status), &status, NULL));
	CLT_CHECK(clGetEventInfo(ev, CL_EVENT_COMMAND_TYPE, sizeof(type), &type, NULL));
	CLT_CHECK(clGetEventInfo(ev, CL_EVENT_COMMAND_QUEUE, sizeof(ev_q), &ev_q, NULL));
	CLT_ASSERT(status == CL_COMPLETE, "%s: status %s after clFinish", label,
		   clt_status_name(status));
	CLT_ASSERT(type == want_type, "%s: command type %s", label, clt_command_name(type));
	CLT_ASSERT(ev_q == q, "%s: CL_EVENT_COMMAND_QUEUE is not the queue", label);
	printf("event %s: %s, %s, queue is the queue: %s\n", label, clt_command_name(type),
	       clt_status_name(status), clt_yes(ev_q == q));
}

/* Sum of c (exact: every element is a multiple of 1/4 and the total stays below 2^53). */
static double checksum(const float *c)
{
	double sum = 0;

	for (size_t i = 0; i < N; i++)
		sum += c[i];
	return sum;
}

static size_t count_mismatches(const float *a, const float *b, const float *c, float scale_b)
{
	size_t bad = 0;

	for (size_t i = 0; i < N; i++) {
		if (c[i] != a[i] + scale_b * b[i]) {
			if (bad < 5)
				fprintf(stderr, "cl-vecadd: c[%zu] = %g, want %g\n", i,
					(double)c[i], (double)(a[i] + scale_b * b[i]));
			bad++;
		}
	}
	return bad;
}

int main(void)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_context ctx;
	cl_command_queue q;
	cl_program prog;
	cl_kernel k;
	cl_mem da, db, dc;
	cl_event ev_b[2], ev_k, ev_r;
	float *a, *b, *c, scale_b = 1.0f;
	cl_uint n = (cl_uint)N;
	size_t global = N, half = N / 2, bad;
	cl_int err;

	clt_init(120);
	clt_pick_device(&platform, &device);
	a = malloc(N * sizeof(float));
	b = malloc(N * sizeof(float));
	c = malloc(N * sizeof(float));
	CLT_ASSERT(a && b && c, "out of memory");
	for (size_t i = 0; i < N; i++) {
		a[i] = (float)(i % 1000) * 0.5f;
		b[i] = (float)((i * 7) % 1013) * 0.25f;
		c[i] = -1.0f;
	}

	ctx = clt_context_new(platform, device);
	q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	prog = clt_program_build(ctx, device, kernel_src, NULL);
	k = clCreateKernel(prog, "vecadd", &err);
	CLT_CHECK(err);

	da = clCreateBuffer(ctx, CL_MEM_READ_ONLY, N * sizeof(float), NULL, &err);
	CLT_CHECK(err);
	db = clCreateBuffer(ctx, CL_MEM_READ_ONLY, N * sizeof(float), NULL, &err);
	CLT_CHECK(err);
	dc = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, N * sizeof(float), NULL, &err);
	CLT_CHECK(err);

	/* Pass 1: blocking write of a, two non-blocking writes of b, non-blocking read of c. */
	CLT_CHECK(clEnqueueWriteBuffer(q, da, CL_TRUE, 0, N * sizeof(float), a, 0, NULL, NULL));
	CLT_CHECK(
	    clEnqueueWriteBuffer(q, db, CL_FALSE, 0, half * sizeof(float), b, 0, NULL, &ev_b[0]));
	CLT_CHECK(clEnqueueWriteBuffer(q, db, CL_FALSE, half * sizeof(float),
				       (N - half) * sizeof(float), b + half, 0, NULL, &ev_b[1]));
	CLT_CHECK(clSetKernelArg(k, 0, sizeof(cl_mem), &da));
	CLT_CHECK(clSetKernelArg(k, 1, sizeof(cl_mem), &db));
	CLT_CHECK(clSetKernelArg(k, 2, sizeof(cl_mem), &dc));
	CLT_CHECK(clSetKernelArg(k, 3, sizeof(float), &scale_b));
	CLT_CHECK(clSetKernelArg(k, 4, sizeof(cl_uint), &n));
	CLT_CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 2, ev_b, &ev_k));
	CLT_CHECK(clEnqueueReadBuffer(q, dc, CL_FALSE, 0, N * sizeof(float), c, 1, &ev_k, &ev_r));
	CLT_CHECK(clFlush(q));
	CLT_CHECK(clFinish(q));
	check_event(ev_b[0], CL_COMMAND_WRITE_BUFFER, q, "write b[0:N/2]");
	check_event(ev_b[1], CL_COMMAND_WRITE_BUFFER, q, "write b[N/2:N]");
	check_event(ev_k, CL_COMMAND_NDRANGE_KERNEL, q, "kernel");
	check_event(ev_r, CL_COMMAND_READ_BUFFER, q, "read c");
	bad = count_mismatches(a, b, c, scale_b);
	printf("pass 1 (c = a + b): n %zu, checksum %.2f, mismatches %zu\n", N, checksum(c), bad);
	CLT_ASSERT(bad == 0, "pass 1: %zu mismatches", bad);

	/* Pass 2: new scalar argument, only it is set again; blocking read. */
	scale_b = -2.0f;
	CLT_CHECK(clSetKernelArg(k, 3, sizeof(float), &scale_b));
	CLT_CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 0, NULL, NULL));
	CLT_CHECK(clEnqueueReadBuffer(q, dc, CL_TRUE, 0, N * sizeof(float), c, 0, NULL, NULL));
	bad = count_mismatches(a, b, c, scale_b);
	printf("pass 2 (c = a - 2b): n %zu, checksum %.2f, mismatches %zu\n", N, checksum(c), bad);
	CLT_ASSERT(bad == 0, "pass 2: %zu mismatches", bad);
	printf("c[0] %.2f, c[N/2] %.2f, c[N-1] %.2f, bytes fnv1a %016" PRIx64 "\n", (double)c[0],
	       (double)c[N / 2], (double)c[N - 1], clt_fnv1a(c, N * sizeof(float)));

	CLT_CHECK(clFinish(q));
	for (int i = 0; i < 2; i++)
		CLT_CHECK(clReleaseEvent(ev_b[i]));
	CLT_CHECK(clReleaseEvent(ev_k));
	CLT_CHECK(clReleaseEvent(ev_r));
	CLT_CHECK(clReleaseMemObject(dc));
	CLT_CHECK(clReleaseMemObject(db));
	CLT_CHECK(clReleaseMemObject(da));
	CLT_CHECK(clReleaseKernel(k));
	CLT_CHECK(clReleaseProgram(prog));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	free(c);
	free(b);
	free(a);
	return 0;
}
