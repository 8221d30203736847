/* SPDX-License-Identifier: MIT */
/*
 * cl-threads: four threads, each with its own context, queue, program and
 * buffers, run vector adds at the same time. A start barrier makes them
 * overlap; each thread records its results and the main thread prints them
 * after joining, in thread order, so the output does not depend on timing.
 */
#include "clt.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define N_THREADS 4
#define N_ROUNDS  3
#define N	  ((size_t)1 << 18)

static const char kernel_src[] =
    "__kernel void vecadd(__global const float *a, __global const float *b,\n"
    "                     __global float *c)\n"
    "{\n"
    "\tsize_t i = get_global_id(0);\n"
    "\tc[i] = a[i] + b[i];\n"
    "}\n";

struct worker {
	int index;
	cl_platform_id platform;
	cl_device_id device;
	/* results, read by main after the join */
	double checksum[N_ROUNDS];
	size_t mismatches[N_ROUNDS];
	uint64_t hash;
};

static pthread_barrier_t start;

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	float *a = malloc(N * sizeof(float)), *b = malloc(N * sizeof(float));
	float *c = malloc(N * sizeof(float));
	size_t global = N;
	cl_context ctx;
	cl_command_queue q;
	cl_program prog;
	cl_kernel k;
	cl_mem da, db, dc;
	cl_event ev;
	cl_int err;

	CLT_ASSERT(a && b && c, "out of memory");
	ctx = clt_context_new(w->platform, w->device);
	q = clCreateCommandQueueWithProperties(ctx, w->device, NULL, &err);
	CLT_CHECK(err);
	da = clCreateBuffer(ctx, CL_MEM_READ_ONLY, N * sizeof(float), NULL, &err);
	CLT_CHECK(err);
	db = clCreateBuffer(ctx, CL_MEM_READ_ONLY, N * sizeof(float), NULL, &err);
	CLT_CHECK(err);
	dc = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, N * sizeof(float), NULL, &err);
	CLT_CHECK(err);
	pthread_barrier_wait(&start);

	prog = clt_program_build(ctx, w->device, kernel_src, NULL);
	k = clCreateKernel(prog, "vecadd", &err);
	CLT_CHECK(err);
	CLT_CHECK(clSetKernelArg(k, 0, sizeof(cl_mem), &da));
	CLT_CHECK(clSetKernelArg(k, 1, sizeof(cl_mem), &db));
	CLT_CHECK(clSetKernelArg(k, 2, sizeof(cl_mem), &dc));
	for (int r = 0; r < N_ROUNDS; r++) {
		/* Multiples of 1/8 below 2^12: the sums are exact. */
		for (size_t i = 0; i < N; i++) {
			a[i] = (float)((i * (size_t)(w->index + 3) + (size_t)r) % 2048) * 0.125f;
			b[i] = (float)((i * 13 + (size_t)w->index * 101) % 4093) * 0.5f;
		}
		CLT_CHECK(
		    clEnqueueWriteBuffer(q, da, CL_FALSE, 0, N * sizeof(float), a, 0, NULL, NULL));
		CLT_CHECK(
		    clEnqueueWriteBuffer(q, db, CL_FALSE, 0, N * sizeof(float), b, 0, NULL, &ev));
		CLT_CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 1, &ev, NULL));
		CLT_CHECK(
		    clEnqueueReadBuffer(q, dc, CL_TRUE, 0, N * sizeof(float), c, 0, NULL, NULL));
		CLT_CHECK(clReleaseEvent(ev));
		w->checksum[r] = 0;
		w->mismatches[r] = 0;
		for (size_t i = 0; i < N; i++) {
			w->checksum[r] += c[i];
			w->mismatches[r] += c[i] != a[i] + b[i];
		}
	}
	w->hash = clt_fnv1a(c, N * sizeof(float));

	CLT_CHECK(clFinish(q));
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
	return NULL;
}

int main(void)
{
	struct worker workers[N_THREADS];
	pthread_t threads[N_THREADS];
	cl_platform_id platform;
	cl_device_id device;
	size_t total_bad = 0;

	clt_init(180);
	clt_pick_device(&platform, &device);
	pthread_barrier_init(&start, NULL, N_THREADS);
	for (int t = 0; t < N_THREADS; t++) {
		workers[t] = (struct worker){ .index = t, .platform = platform, .device = device };
		CLT_ASSERT(pthread_create(&threads[t], NULL, run_worker, &workers[t]) == 0,
			   "pthread_create");
	}
	for (int t = 0; t < N_THREADS; t++)
		CLT_ASSERT(pthread_join(threads[t], NULL) == 0, "pthread_join");
	pthread_barrier_destroy(&start);

	for (int t = 0; t < N_THREADS; t++) {
		const struct worker *w = &workers[t];

		printf("thread %d:", t);
		for (int r = 0; r < N_ROUNDS; r++) {
			printf(" round %d checksum %.3f mismatches %zu;", r, w->checksum[r],
			       w->mismatches[r]);
			total_bad += w->mismatches[r];
		}
		printf(" last fnv1a %016" PRIx64 "\n", w->hash);
	}
	printf("threads %d, rounds %d, elements %zu, mismatches %zu\n", N_THREADS, N_ROUNDS, N,
	       total_bad);
	CLT_ASSERT(total_bad == 0, "%zu wrong elements", total_bad);
	return 0;
}
