/* SPDX-License-Identifier: MIT */
/*
 * OpenCL's completion events for the API server: what the late buffers of
 * spec/opencl.spec (ava_late_data on clEnqueueReadBuffer's ptr and
 * clEnqueueWriteBuffer's ptr) wait for. Hand-written because how an event
 * says it is done is the API's own business; the rest (DATA frames, keeping
 * buffers alive, flushing before replies) is the generic runtime's.
 */
#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>

#include <ava/apiserver.h>

#include "opencl/server.h"

static int opencl_event_status(void *event)
{
	cl_int st = CL_QUEUED;
	if (clGetEventInfo((cl_event)event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(st), &st,
			   NULL) != CL_SUCCESS)
		return -1;
	return st == CL_COMPLETE ? 1 : st < 0 ? -1 : 0;
}

/* The runtime passes the same notify function every time; callbacks need a plain pointer. */
static void (*opencl_notify)(void);

static void CL_CALLBACK opencl_event_done(cl_event event, cl_int status, void *user_data)
{
	(void)event;
	(void)status;
	(void)user_data;
	if (opencl_notify)
		opencl_notify();
}

static int opencl_event_on_complete(void *event, void (*notify)(void))
{
	opencl_notify = notify;
	return clSetEventCallback((cl_event)event, CL_COMPLETE, opencl_event_done, NULL) ==
		       CL_SUCCESS
		   ? 0
		   : -1;
}

static void opencl_event_retain(void *event)
{
	(void)clRetainEvent((cl_event)event);
}

static void opencl_event_release(void *event)
{
	(void)clReleaseEvent((cl_event)event);
}

const struct ava_apiserver_event_ops ava_opencl_event_ops = {
	.status = opencl_event_status,
	.on_complete = opencl_event_on_complete,
	.retain = opencl_event_retain,
	.release = opencl_event_release,
};
