/* SPDX-License-Identifier: MIT */
/*
 * cl-async-rw: non-blocking reads and writes keep OpenCL's semantics.
 *
 * A non-blocking read's bytes must be in the application's memory by the time
 * it can see the read complete, whichever way it looks:
 *  - clWaitForEvents on the read's event;
 *  - clFinish on the queue (the read passed no event);
 *  - an event callback for CL_COMPLETE (the callback checks the bytes itself);
 *  - polling clGetEventInfo until CL_COMPLETE;
 *  - a later blocking read on the same in-order queue;
 * and many reads may be in flight at once. Reads and writes gated on a user
 * event do not run (the destination stays untouched, the calls return at
 * once) until the application sets it; a write that passed no event still
 * writes its source as it was when enqueued.
 */
#include "clt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N	   (1 << 16) /* ints per buffer */
#define N_SLICES   64	     /* reads in flight */
#define CB_TIMEOUT 60

static struct clt_waiter *cb_done;
static const cl_int *cb_dst;
static int cb_bad = -1;

/* Counts wrong ints in dst against the pattern written with seed. */
static int mismatches(const cl_int *dst, size_t n, int seed)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += dst[i] != (cl_int)(i * 7 + (size_t)seed);
	return bad;
}

static void fill(cl_int *p, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (cl_int)(i * 7 + (size_t)seed);
}

static void CL_CALLBACK on_read_done(cl_event event, cl_int status, void *user_data)
{
	(void)event;
	(void)user_data;
	/* The bytes must already be here when the callback runs. */
	cb_bad = status == CL_COMPLETE ? mismatches(cb_dst, N, 3) : -1;
	clt_waiter_signal(cb_done);
}

/* Prints what a case saw and fails unless every int arrived. */
static void report(const char *what, int bad)
{
	printf("%s: mismatches %d\n", what, bad);
	CLT_ASSERT(bad == 0, "%s: %d ints wrong", what, bad);
}

static cl_int event_status(cl_event ev)
{
	cl_int st = 1;

	CLT_CHECK(clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(st), &st, NULL));
	return st;
}

int main(void)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_context ctx;
	cl_command_queue q;
	cl_mem buf, buf2;
	cl_event ev, ue, evs[N_SLICES];
	cl_int err, *src, *dst;
	const size_t bytes = N * sizeof(cl_int);
	long polls = 0;

	clt_init(120);
	clt_pick_device(&platform, &device);
	cb_done = clt_waiter_new();
	src = malloc(bytes);
	dst = malloc(bytes);
	CLT_ASSERT(src && dst, "out of memory");
	ctx = clt_context_new(platform, device);
	q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	buf = clCreateBuffer(ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
	CLT_CHECK(err);
	buf2 = clCreateBuffer(ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
	CLT_CHECK(err);

	/* 1. Non-blocking write, then a non-blocking read finished by clWaitForEvents. */
	fill(src, N, 1);
	CLT_CHECK(clEnqueueWriteBuffer(q, buf, CL_FALSE, 0, bytes, src, 0, NULL, &ev));
	CLT_CHECK(clWaitForEvents(1, &ev));
	CLT_CHECK(clReleaseEvent(ev));
	memset(dst, 0xaa, bytes);
	CLT_CHECK(clEnqueueReadBuffer(q, buf, CL_FALSE, 0, bytes, dst, 0, NULL, &ev));
	CLT_CHECK(clWaitForEvents(1, &ev));
	printf("read, clWaitForEvents: status %s\n", clt_status_name(event_status(ev)));
	report("read, clWaitForEvents", mismatches(dst, N, 1));
	CLT_CHECK(clReleaseEvent(ev));

	/* 2. A read that passed no event, finished by clFinish. */
	fill(src, N, 2);
	CLT_CHECK(clEnqueueWriteBuffer(q, buf, CL_FALSE, 0, bytes, src, 0, NULL, NULL));
	memset(dst, 0xaa, bytes);
	CLT_CHECK(clEnqueueReadBuffer(q, buf, CL_FALSE, 0, bytes, dst, 0, NULL, NULL));
	CLT_CHECK(clFinish(q));
	report("read without event, clFinish", mismatches(dst, N, 2));

	/* 3. An event callback sees the bytes in place. */
	fill(src, N, 3);
	CLT_CHECK(clEnqueueWriteBuffer(q, buf, CL_TRUE, 0, bytes, src, 0, NULL, NULL));
	memset(dst, 0xaa, bytes);
	cb_dst = dst;
	CLT_CHECK(clEnqueueReadBuffer(q, buf, CL_FALSE, 0, bytes, dst, 0, NULL, &ev));
	CLT_CHECK(clSetEventCallback(ev, CL_COMPLETE, on_read_done, NULL));
	CLT_CHECK(clFlush(q));
	CLT_ASSERT(clt_waiter_wait(cb_done, 1, CB_TIMEOUT) == 1, "the read's callback never came");
	report("read, seen in its event callback", cb_bad);
	CLT_CHECK(clReleaseEvent(ev));

	/* 4. Polling clGetEventInfo until the read is complete. */
	fill(src, N, 4);
	CLT_CHECK(clEnqueueWriteBuffer(q, buf, CL_TRUE, 0, bytes, src, 0, NULL, NULL));
	memset(dst, 0xaa, bytes);
	CLT_CHECK(clEnqueueReadBuffer(q, buf, CL_FALSE, 0, bytes, dst, 0, NULL, &ev));
	CLT_CHECK(clFlush(q));
	while (event_status(ev) != CL_COMPLETE) {
		CLT_ASSERT(event_status(ev) >= 0, "the read failed");
		polls++;
	}
	report("read, polled to CL_COMPLETE", mismatches(dst, N, 4));
	CLT_CHECK(clReleaseEvent(ev));

	/* 5. A later blocking read on the same queue: the earlier one landed too. */
	fill(src, N, 5);
	CLT_CHECK(clEnqueueWriteBuffer(q, buf, CL_TRUE, 0, bytes, src, 0, NULL, NULL));
	CLT_CHECK(clEnqueueWriteBuffer(q, buf2, CL_TRUE, 0, bytes, src, 0, NULL, NULL));
	memset(dst, 0xaa, bytes);
	memset(src, 0x55, bytes);
	CLT_CHECK(clEnqueueReadBuffer(q, buf, CL_FALSE, 0, bytes, dst, 0, NULL, NULL));
	CLT_CHECK(clEnqueueReadBuffer(q, buf2, CL_TRUE, 0, bytes, src, 0, NULL, NULL));
	report("read, then a blocking read: the first", mismatches(dst, N, 5));
	report("read, then a blocking read: the second", mismatches(src, N, 5));

	/* 6. Many reads in flight, one slice each, all waited for at once. */
	fill(src, N, 6);
	CLT_CHECK(clEnqueueWriteBuffer(q, buf, CL_FALSE, 0, bytes, src, 0, NULL, NULL));
	memset(dst, 0xaa, bytes);
	for (int s = 0; s < N_SLICES; s++) {
		size_t off = (size_t)s * (N / N_SLICES);

		CLT_CHECK(clEnqueueReadBuffer(q, buf, CL_FALSE, off * sizeof(cl_int),
					      (N / N_SLICES) * sizeof(cl_int), dst + off, 0, NULL,
					      &evs[s]));
	}
	CLT_CHECK(clWaitForEvents(N_SLICES, evs));
	for (int s = 0; s < N_SLICES; s++)
		CLT_CHECK(clReleaseEvent(evs[s]));
	report("64 reads in flight", mismatches(dst, N, 6));

	/*
	 * 7. A write and a read gated on a user event: both calls return at once,
	 * nothing moves until the event is set, then everything lands. The write
	 * passed no event: its source must be used as it was when enqueued.
	 */
	fill(src, N, 7);
	ue = clCreateUserEvent(ctx, &err);
	CLT_CHECK(err);
	CLT_CHECK(clEnqueueWriteBuffer(q, buf, CL_FALSE, 0, bytes, src, 1, &ue, NULL));
	memset(dst, 0xaa, bytes);
	CLT_CHECK(clEnqueueReadBuffer(q, buf, CL_FALSE, 0, bytes, dst, 0, NULL, &ev));
	CLT_CHECK(clFlush(q));
	{
		bool done = event_status(ev) == CL_COMPLETE;
		bool untouched = ((const unsigned char *)dst)[0] == 0xaa &&
				 ((const unsigned char *)dst)[bytes - 1] == 0xaa;

		printf("gated read before the user event: complete %s, destination untouched "
		       "%s\n",
		       clt_yes(done), clt_yes(untouched));
		CLT_ASSERT(!done && untouched, "a gated read ran before its user event");
	}
	CLT_CHECK(clSetUserEventStatus(ue, CL_COMPLETE));
	CLT_CHECK(clWaitForEvents(1, &ev));
	report("gated write and read after the user event", mismatches(dst, N, 7));
	CLT_CHECK(clReleaseEvent(ev));
	CLT_CHECK(clReleaseEvent(ue));

	/* 8. A read that cannot run (offset past the end) fails at once; dst is untouched. */
	memset(dst, 0xaa, 16);
	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueReadBuffer(q, buf, CL_FALSE, bytes, 16, dst, 0, NULL, NULL));
	printf("failed read: destination untouched %s\n",
	       clt_yes(((const unsigned char *)dst)[0] == 0xaa));
	CLT_ASSERT(((const unsigned char *)dst)[0] == 0xaa, "a failed read wrote");
	CLT_CHECK(clFinish(q));

	CLT_CHECK(clReleaseMemObject(buf));
	CLT_CHECK(clReleaseMemObject(buf2));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	clt_waiter_free(cb_done);
	free(src);
	free(dst);
	(void)polls; /* how many polls it took depends on timing: never printed */
	printf("cl-async-rw: ok\n");
	return 0;
}
