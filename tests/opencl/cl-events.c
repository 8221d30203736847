/* SPDX-License-Identifier: MIT */
/*
 * cl-events: user events, event callbacks, markers, barriers and profiling.
 *
 *  - a user event gates a write, a kernel, a marker, a barrier and a read;
 *    nothing may run before the application sets it to CL_COMPLETE;
 *  - clSetEventCallback callbacks record what they saw (status, whether the
 *    event is the one registered, a user_data tag) into a table that is
 *    printed, in tag order, only once every callback has come;
 *  - a marker on one queue waits for a kernel on another, gated by a second
 *    user event;
 *  - a user event set to an error status fails clWaitForEvents;
 *  - profiling timestamps are printed only as "nonzero" and "ordered".
 */
#include "clt.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N	     4096
#define USER_ERROR   (-1234) /* any negative status marks a user event as failed */
#define CB_TIMEOUT_S 30

static const char kernel_src[] = "__kernel void twice_plus_one(__global int *x)\n"
				 "{\n"
				 "\tsize_t i = get_global_id(0);\n"
				 "\tx[i] = 2 * x[i] + 1;\n"
				 "}\n";

enum {
	CB_USER,
	CB_WRITE,
	CB_KERNEL_SUBMITTED,
	CB_KERNEL_RUNNING,
	CB_KERNEL_COMPLETE,
	CB_MARKER,
	CB_BARRIER,
	CB_READ,
	CB_CROSS_MARKER,
	N_CB
};

static const char *const cb_names[N_CB] = {
	[CB_USER] = "user event, CL_COMPLETE",
	[CB_WRITE] = "write, CL_COMPLETE",
	[CB_KERNEL_SUBMITTED] = "kernel, CL_SUBMITTED",
	[CB_KERNEL_RUNNING] = "kernel, CL_RUNNING",
	[CB_KERNEL_COMPLETE] = "kernel, CL_COMPLETE",
	[CB_MARKER] = "marker, CL_COMPLETE",
	[CB_BARRIER] = "barrier, CL_COMPLETE",
	[CB_READ] = "read, CL_COMPLETE",
	[CB_CROSS_MARKER] = "marker on another queue, CL_COMPLETE",
};

/* What one callback saw. user_data points here; the tag says which record it is. */
struct cb_record {
	int tag;
	cl_event event; /* the event it was registered on */
	int calls;
	cl_int status;
	bool event_matches;
	int tag_seen;
};

static struct cb_record records[N_CB];
static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;
static struct clt_waiter *callbacks_done;

static void CL_CALLBACK on_event(cl_event event, cl_int status, void *user_data)
{
	struct cb_record *rec = user_data;

	pthread_mutex_lock(&records_lock);
	rec->calls++;
	rec->status = status;
	rec->event_matches = event == rec->event;
	rec->tag_seen = rec->tag;
	pthread_mutex_unlock(&records_lock);
	clt_waiter_signal(callbacks_done);
}

static void watch(int tag, cl_event event, cl_int when)
{
	records[tag].tag = tag;
	records[tag].event = event;
	CLT_CHECK(clSetEventCallback(event, when, on_event, &records[tag]));
}

static cl_int event_status(cl_event ev)
{
	cl_int status = 1;

	CLT_CHECK(
	    clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(status), &status, NULL));
	return status;
}

static cl_uint event_refs(cl_event ev)
{
	cl_uint refs = 0;

	CLT_CHECK(clGetEventInfo(ev, CL_EVENT_REFERENCE_COUNT, sizeof(refs), &refs, NULL));
	return refs;
}

static void print_event(const char *label, cl_event ev, cl_context ctx, cl_command_queue q)
{
	cl_command_type type = 0;
	cl_command_queue ev_q = (cl_command_queue)1;
	cl_context ev_ctx = NULL;

	CLT_CHECK(clGetEventInfo(ev, CL_EVENT_COMMAND_TYPE, sizeof(type), &type, NULL));
	CLT_CHECK(clGetEventInfo(ev, CL_EVENT_COMMAND_QUEUE, sizeof(ev_q), &ev_q, NULL));
	CLT_CHECK(clGetEventInfo(ev, CL_EVENT_CONTEXT, sizeof(ev_ctx), &ev_ctx, NULL));
	CLT_ASSERT(ev_ctx == ctx, "%s: CL_EVENT_CONTEXT is not the context", label);
	CLT_ASSERT(ev_q == q, "%s: CL_EVENT_COMMAND_QUEUE is not the queue", label);
	printf("%s: %s, %s, queue: %s, context is the context: %s\n", label, clt_command_name(type),
	       clt_status_name(event_status(ev)),
	       q ? (ev_q == q ? "the queue" : "other") : (ev_q ? "some" : "none"),
	       clt_yes(ev_ctx == ctx));
}

static void print_profile(const char *label, cl_event ev)
{
	static const cl_profiling_info params[] = {
		CL_PROFILING_COMMAND_QUEUED,
		CL_PROFILING_COMMAND_SUBMIT,
		CL_PROFILING_COMMAND_START,
		CL_PROFILING_COMMAND_END,
	};
	cl_ulong t[4];
	bool nonzero = true, ordered = true;

	for (int i = 0; i < 4; i++) {
		size_t size = 0;

		CLT_CHECK(clGetEventProfilingInfo(ev, params[i], sizeof(t[i]), &t[i], &size));
		CLT_ASSERT(size == sizeof(cl_ulong), "%s: profiling size %zu", label, size);
		nonzero = nonzero && t[i] != 0;
		ordered = ordered && (i == 0 || t[i - 1] <= t[i]);
	}
	printf("%s profiling: nonzero %s, queued <= submit <= start <= end %s\n", label,
	       clt_yes(nonzero), clt_yes(ordered));
	CLT_ASSERT(nonzero && ordered, "%s: profiling %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
		   label, (uint64_t)t[0], (uint64_t)t[1], (uint64_t)t[2], (uint64_t)t[3]);
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(void)
{
	cl_queue_properties props[] = { CL_QUEUE_PROPERTIES, CL_QUEUE_PROFILING_ENABLE, 0 };
	cl_platform_id platform;
	cl_device_id device;
	cl_context ctx;
	cl_command_queue q, q2;
	cl_program prog;
	cl_kernel k;
	cl_mem x;
	cl_event ue, ue2, ue_err, ev_w, ev_k, ev_m, ev_b, ev_r, ev_k2, ev_m2;
	cl_event wait2[2];
	cl_int *in, *out, err;
	size_t global = N, n_bad = 0;
	cl_ulong t = 0;
	int seen;

	clt_init(120);
	clt_pick_device(&platform, &device);
	callbacks_done = clt_waiter_new();
	in = malloc(N * sizeof(cl_int));
	out = malloc(N * sizeof(cl_int));
	CLT_ASSERT(in && out, "out of memory");
	for (int i = 0; i < N; i++) {
		in[i] = i - N / 2;
		out[i] = 0x5a5a5a5a;
	}

	ctx = clt_context_new(platform, device);
	q = clCreateCommandQueueWithProperties(ctx, device, props, &err);
	CLT_CHECK(err);
	q2 = clCreateCommandQueueWithProperties(ctx, device, props, &err);
	CLT_CHECK(err);
	prog = clt_program_build(ctx, device, kernel_src, NULL);
	k = clCreateKernel(prog, "twice_plus_one", &err);
	CLT_CHECK(err);
	x = clCreateBuffer(ctx, CL_MEM_READ_WRITE, N * sizeof(cl_int), NULL, &err);
	CLT_CHECK(err);
	CLT_CHECK(clSetKernelArg(k, 0, sizeof(cl_mem), &x));

	/* A chain gated by a user event: write -> kernel -> marker -> barrier -> read. */
	ue = clCreateUserEvent(ctx, &err);
	CLT_CHECK(err);
	print_event("user event", ue, ctx, NULL);
	CLT_EXPECT_ERR(
	    CL_PROFILING_INFO_NOT_AVAILABLE,
	    clGetEventProfilingInfo(ue, CL_PROFILING_COMMAND_START, sizeof(t), &t, NULL));
	printf("user event profiling: CL_PROFILING_INFO_NOT_AVAILABLE\n");
	CLT_CHECK(clEnqueueWriteBuffer(q, x, CL_FALSE, 0, N * sizeof(cl_int), in, 1, &ue, &ev_w));
	CLT_CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 1, &ev_w, &ev_k));
	wait2[0] = ev_w;
	wait2[1] = ev_k;
	CLT_CHECK(clEnqueueMarkerWithWaitList(q, 2, wait2, &ev_m));
	CLT_CHECK(clEnqueueBarrierWithWaitList(q, 0, NULL, &ev_b));
	CLT_CHECK(clEnqueueReadBuffer(q, x, CL_FALSE, 0, N * sizeof(cl_int), out, 1, &ev_b, &ev_r));
	watch(CB_USER, ue, CL_COMPLETE);
	watch(CB_WRITE, ev_w, CL_COMPLETE);
	watch(CB_KERNEL_SUBMITTED, ev_k, CL_SUBMITTED);
	watch(CB_KERNEL_RUNNING, ev_k, CL_RUNNING);
	watch(CB_KERNEL_COMPLETE, ev_k, CL_COMPLETE);
	watch(CB_MARKER, ev_m, CL_COMPLETE);
	watch(CB_BARRIER, ev_b, CL_COMPLETE);
	watch(CB_READ, ev_r, CL_COMPLETE);
	CLT_CHECK(clFlush(q));

	/* Give a broken implementation time to run the gated commands early. */
	pause_ms(100);
	printf("before the user event: read complete %s, output untouched %s\n",
	       clt_yes(event_status(ev_r) == CL_COMPLETE), clt_yes(out[0] == 0x5a5a5a5a));
	CLT_ASSERT(event_status(ev_k) != CL_COMPLETE && event_status(ev_r) != CL_COMPLETE,
		   "commands gated by a user event ran before it completed");
	CLT_CHECK(clSetUserEventStatus(ue, CL_COMPLETE));
	CLT_CHECK(clWaitForEvents(1, &ev_r));
	CLT_CHECK(clFinish(q));

	for (int i = 0; i < N; i++)
		n_bad += out[i] != 2 * in[i] + 1;
	printf("after the user event: output mismatches %zu, fnv1a %016" PRIx64 "\n", n_bad,
	       clt_fnv1a(out, N * sizeof(cl_int)));
	CLT_ASSERT(n_bad == 0, "%zu wrong elements", n_bad);
	print_event("user event", ue, ctx, NULL);
	print_event("write", ev_w, ctx, q);
	print_event("kernel", ev_k, ctx, q);
	print_event("marker", ev_m, ctx, q);
	print_event("barrier", ev_b, ctx, q);
	print_event("read", ev_r, ctx, q);
	print_profile("write", ev_w);
	print_profile("kernel", ev_k);
	print_profile("read", ev_r);

	/* Across queues: a marker on q waits for a kernel on q2 that waits for a user event. */
	ue2 = clCreateUserEvent(ctx, &err);
	CLT_CHECK(err);
	CLT_CHECK(clEnqueueNDRangeKernel(q2, k, 1, NULL, &global, NULL, 1, &ue2, &ev_k2));
	CLT_CHECK(clEnqueueMarkerWithWaitList(q, 1, &ev_k2, &ev_m2));
	watch(CB_CROSS_MARKER, ev_m2, CL_COMPLETE);
	CLT_CHECK(clFlush(q2));
	CLT_CHECK(clFlush(q));
	pause_ms(50);
	printf("cross-queue marker complete before its user event: %s\n",
	       clt_yes(event_status(ev_m2) == CL_COMPLETE));
	CLT_ASSERT(event_status(ev_m2) != CL_COMPLETE, "cross-queue marker ran early");
	CLT_CHECK(clSetUserEventStatus(ue2, CL_COMPLETE));
	CLT_CHECK(clWaitForEvents(1, &ev_m2));
	print_event("kernel on queue 2", ev_k2, ctx, q2);
	print_event("marker waiting for it", ev_m2, ctx, q);
	CLT_CHECK(clEnqueueReadBuffer(q, x, CL_TRUE, 0, N * sizeof(cl_int), out, 0, NULL, NULL));
	n_bad = 0;
	for (int i = 0; i < N; i++)
		n_bad += out[i] != 2 * (2 * in[i] + 1) + 1;
	printf("after the second kernel: output mismatches %zu\n", n_bad);
	CLT_ASSERT(n_bad == 0, "%zu wrong elements", n_bad);

	/*
	 * A user event that fails: waiting on it is an error. (No callback on it: the
	 * spec calls CL_COMPLETE callbacks on abnormal termination too, PoCL 3.1 never does.)
	 */
	ue_err = clCreateUserEvent(ctx, &err);
	CLT_CHECK(err);
	CLT_CHECK(clSetUserEventStatus(ue_err, USER_ERROR));
	CLT_EXPECT_ERR(CL_INVALID_OPERATION, clSetUserEventStatus(ue_err, CL_COMPLETE));
	printf("setting a user event's status twice: CL_INVALID_OPERATION\n");
	CLT_EXPECT_ERR(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, clWaitForEvents(1, &ue_err));
	printf("waiting for a failed user event: CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST\n");
	printf("failed user event status is the status set: %s\n",
	       clt_yes(event_status(ue_err) == USER_ERROR));
	CLT_ASSERT(event_status(ue_err) == USER_ERROR, "status %d", (int)event_status(ue_err));

	/* Callbacks run asynchronously: wait for all of them, then print in tag order. */
	seen = clt_waiter_wait(callbacks_done, N_CB, CB_TIMEOUT_S);
	if (seen != N_CB) {
		pthread_mutex_lock(&records_lock);
		for (int i = 0; i < N_CB; i++) {
			if (records[i].calls == 0)
				fprintf(stderr, "cl-events: no callback %d (%s)\n", i, cb_names[i]);
		}
		pthread_mutex_unlock(&records_lock);
	}
	CLT_ASSERT(seen == N_CB, "only %d of %d event callbacks came", seen, N_CB);
	pthread_mutex_lock(&records_lock);
	for (int i = 0; i < N_CB; i++) {
		const struct cb_record *r = &records[i];

		printf(
		    "callback %d (%s): calls %d, status %s, event matches %s, user_data tag %d\n",
		    i, cb_names[i], r->calls, clt_status_name(r->status), clt_yes(r->event_matches),
		    r->tag_seen);
		CLT_ASSERT(r->calls == 1 && r->event_matches && r->tag_seen == i,
			   "callback %d: calls %d, event matches %d, tag %d", i, r->calls,
			   r->event_matches, r->tag_seen);
	}
	pthread_mutex_unlock(&records_lock);

	/*
	 * Reference counts of an event nothing else holds: a command's event may be held by
	 * the implementation for a while after it completes (its callbacks, its cleanup).
	 */
	printf("user event reference count: %u\n", event_refs(ue_err));
	CLT_CHECK(clRetainEvent(ue_err));
	printf("user event reference count after retain: %u\n", event_refs(ue_err));
	CLT_CHECK(clReleaseEvent(ue_err));
	printf("user event reference count after release: %u\n", event_refs(ue_err));

	CLT_CHECK(clFinish(q2));
	CLT_CHECK(clFinish(q));
	cl_event all[] = { ue, ue2, ue_err, ev_w, ev_k, ev_m, ev_b, ev_r, ev_k2, ev_m2 };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		CLT_CHECK(clReleaseEvent(all[i]));
	CLT_CHECK(clReleaseMemObject(x));
	CLT_CHECK(clReleaseKernel(k));
	CLT_CHECK(clReleaseProgram(prog));
	CLT_CHECK(clReleaseCommandQueue(q2));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	clt_waiter_free(callbacks_done);
	free(out);
	free(in);
	return 0;
}
