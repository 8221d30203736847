/* SPDX-License-Identifier: MIT */
/*
 * cl-handles: the AvA guest library's handles (guest only; run remoted).
 *
 * Handles are proxies that start with the ICD dispatch table. Checks that the
 * same object always comes back as the same pointer (from creation, queries
 * and callbacks), that every handle starts with the same dispatch pointer,
 * and that forged, stray, wrongly typed and released pointers, alone or in
 * arrays, give the error OpenCL names for an invalid object of the type
 * (CL_INVALID_MEM_OBJECT, ...; CL_INVALID_EVENT_WAIT_LIST in wait lists)
 * without a crash. Natively most of these calls are undefined behaviour, so
 * this program has no native run; it exits 1 if it finds no guest library.
 */
#define _GNU_SOURCE
#define CL_USE_DEPRECATED_OPENCL_1_1_APIS
#include "clt.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_checked;

static void expect_err(const char *label, cl_int got, cl_int want)
{
	printf("%s: %s\n", label, clt_err_name(got));
	CLT_ASSERT(got == want, "%s: got %s (%d), want %s", label, clt_err_name(got), (int)got,
		   clt_err_name(want));
	n_checked++;
}

static void expect_true(const char *label, bool ok)
{
	printf("%s: %s\n", label, clt_yes(ok));
	CLT_ASSERT(ok, "%s", label);
	n_checked++;
}

static const void *first_word(const void *handle)
{
	const void *w;
	memcpy(&w, handle, sizeof(w));
	return w;
}

struct cb_seen {
	struct clt_waiter *w;
	cl_event event;
};

static void CL_CALLBACK on_event(cl_event ev, cl_int status, void *user_data)
{
	struct cb_seen *seen = user_data;
	(void)status;
	seen->event = ev;
	clt_waiter_signal(seen->w);
}

static cl_int status_of(cl_event e)
{
	cl_int st = 0;
	CLT_CHECK(clGetEventInfo(e, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(st), &st, NULL));
	return st;
}

/*
 * clEnqueueWaitForEvents (deprecated 1.1), which the guest library does
 * itself: PoCL natively ends the process on it, so only a remoted run can
 * check it. Later commands of the queue wait for the listed events.
 */
static void wait_for_events(cl_context ctx, cl_command_queue q)
{
	cl_int err;
	cl_event gate = clCreateUserEvent(ctx, &err), marker, none = NULL;
	CLT_CHECK(err);
	expect_err("clEnqueueWaitForEvents(a user event)", clEnqueueWaitForEvents(q, 1, &gate),
		   CL_SUCCESS);
	CLT_CHECK(clEnqueueMarkerWithWaitList(q, 0, NULL, &marker));
	CLT_CHECK(clFlush(q));
	expect_true("a later marker waits for the user event", status_of(marker) != CL_COMPLETE);
	CLT_CHECK(clSetUserEventStatus(gate, CL_COMPLETE));
	CLT_CHECK(clFinish(q));
	expect_true("and completes once it is set", status_of(marker) == CL_COMPLETE);
	expect_err("clEnqueueWaitForEvents(no events)", clEnqueueWaitForEvents(q, 0, &gate),
		   CL_INVALID_VALUE);
	expect_err("clEnqueueWaitForEvents(NULL list)", clEnqueueWaitForEvents(q, 1, NULL),
		   CL_INVALID_VALUE);
	expect_err("clEnqueueWaitForEvents(a NULL event)", clEnqueueWaitForEvents(q, 1, &none),
		   CL_INVALID_EVENT);
	expect_err("clEnqueueWaitForEvents(NULL queue)", clEnqueueWaitForEvents(NULL, 1, &gate),
		   CL_INVALID_COMMAND_QUEUE);
	CLT_CHECK(clReleaseEvent(marker));
	CLT_CHECK(clReleaseEvent(gate));
}

int main(void)
{
	cl_platform_id platform, again[4];
	cl_device_id device, dev_again;
	cl_uint n = 0;
	cl_int err;

	clt_init(120);
	clt_pick_device(&platform, &device);
	CLT_ASSERT(dlsym(RTLD_DEFAULT, "clIcdGetPlatformIDsKHR") != NULL,
		   "not running on the AvA guest library (run it under ava-run)");

	/* One object, one pointer. */
	CLT_CHECK(clGetPlatformIDs(4, again, &n));
	bool listed = false;
	for (cl_uint i = 0; i < n && i < 4; i++)
		listed = listed || again[i] == platform;
	expect_true("platform listed again as the same pointer", listed);
	CLT_CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &dev_again, NULL));
	expect_true("device listed again as the same pointer", dev_again == device);
	cl_platform_id dev_platform = NULL;
	CLT_CHECK(
	    clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof(dev_platform), &dev_platform, NULL));
	expect_true("CL_DEVICE_PLATFORM is the platform", dev_platform == platform);

	cl_context ctx = clt_context_new(platform, device);
	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	cl_context q_ctx = NULL;
	CLT_CHECK(clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof(q_ctx), &q_ctx, NULL));
	expect_true("CL_QUEUE_CONTEXT is the context", q_ctx == ctx);
	cl_device_id ctx_devs[2] = { NULL, NULL };
	CLT_CHECK(clGetContextInfo(ctx, CL_CONTEXT_DEVICES, sizeof(ctx_devs), ctx_devs, NULL));
	expect_true("CL_CONTEXT_DEVICES holds the device", ctx_devs[0] == device);

	/* Every handle starts with the same dispatch table. */
	const void *dispatch = first_word(platform);
	expect_true("handles start with a dispatch table",
		    dispatch != NULL && first_word(device) == dispatch &&
			first_word(ctx) == dispatch && first_word(q) == dispatch);

	cl_mem buf = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 64, NULL, &err);
	CLT_CHECK(err);
	cl_context mem_ctx = NULL;
	CLT_CHECK(clGetMemObjectInfo(buf, CL_MEM_CONTEXT, sizeof(mem_ctx), &mem_ctx, NULL));
	expect_true("CL_MEM_CONTEXT is the context", mem_ctx == ctx);

	/* Forged: looks like a proxy (our dispatch table first) but was never handed out. */
	struct {
		const void *dispatch;
		uint64_t id;
		uint64_t pad[4];
	} fake = { dispatch, 1, { 0, 0, 0, 0 } };
	size_t size = 0;
	expect_err("forged context",
		   clGetContextInfo((cl_context)&fake, CL_CONTEXT_NUM_DEVICES, sizeof(n), &n, NULL),
		   CL_INVALID_CONTEXT);
	/* Stray: not readable memory at all; never dereferenced. */
	expect_err(
	    "stray pointer 0x10",
	    clGetMemObjectInfo((cl_mem)(uintptr_t)0x10, CL_MEM_SIZE, sizeof(size), &size, NULL),
	    CL_INVALID_MEM_OBJECT);
	expect_err(
	    "stray pointer ~0",
	    clGetMemObjectInfo((cl_mem) ~(uintptr_t)0, CL_MEM_SIZE, sizeof(size), &size, NULL),
	    CL_INVALID_MEM_OBJECT);
	/* A live handle of another type. */
	expect_err("context passed as a buffer",
		   clGetMemObjectInfo((cl_mem)ctx, CL_MEM_SIZE, sizeof(size), &size, NULL),
		   CL_INVALID_MEM_OBJECT);
	/* Arrays of handles with a forged element. */
	cl_device_id devs[2] = { device, (cl_device_id)&fake };
	cl_context bad_ctx = clCreateContext(NULL, 2, devs, NULL, NULL, &err);
	expect_err("forged device in a device list", err, CL_INVALID_DEVICE);
	expect_true("... and no context", bad_ctx == NULL);
	cl_mem bad_mem = clCreateBuffer((cl_context)&fake, CL_MEM_READ_WRITE, 64, NULL, &err);
	expect_err("a buffer in a forged context", err, CL_INVALID_CONTEXT);
	expect_true("... and no buffer", bad_mem == NULL);
	cl_event uev = clCreateUserEvent(ctx, &err);
	CLT_CHECK(err);
	cl_event evs[2] = { uev, (cl_event)(uintptr_t)0x1000 };
	expect_err("stray event in clWaitForEvents", clWaitForEvents(2, evs), CL_INVALID_EVENT);
	expect_err("stray event in an enqueue's wait list",
		   clEnqueueMarkerWithWaitList(q, 2, evs, NULL), CL_INVALID_EVENT_WAIT_LIST);

	/* The callback gets the application's own event pointer. */
	struct cb_seen seen = { clt_waiter_new(), NULL };
	CLT_CHECK(clSetEventCallback(uev, CL_COMPLETE, on_event, &seen));
	CLT_CHECK(clSetUserEventStatus(uev, CL_COMPLETE));
	CLT_ASSERT(clt_waiter_wait(seen.w, 1, 60) == 1, "the event callback never ran");
	expect_true("the callback's event is the user event", seen.event == uev);
	clt_waiter_free(seen.w);
	CLT_CHECK(clReleaseEvent(uev));

	/* References: retain keeps a handle alive across one release; the last frees it. */
	CLT_CHECK(clRetainMemObject(buf));
	CLT_CHECK(clReleaseMemObject(buf));
	expect_err("buffer after release with one reference left",
		   clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof(size), &size, NULL), CL_SUCCESS);
	CLT_CHECK(clReleaseMemObject(buf));
	expect_err("buffer after its last release",
		   clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof(size), &size, NULL),
		   CL_INVALID_MEM_OBJECT);
	expect_err("releasing it again", clReleaseMemObject(buf), CL_INVALID_MEM_OBJECT);
	cl_mem fresh = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 64, NULL, &err);
	CLT_CHECK(err);
	expect_true("a new buffer is not the released one's pointer", fresh != buf);
	CLT_CHECK(clReleaseMemObject(fresh));

	wait_for_events(ctx, q);

	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	expect_err("context after its release",
		   clGetContextInfo(ctx, CL_CONTEXT_NUM_DEVICES, sizeof(n), &n, NULL),
		   CL_INVALID_CONTEXT);
	printf("%d checks passed\n", n_checked);
	return 0;
}
