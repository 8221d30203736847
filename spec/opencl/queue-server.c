/* SPDX-License-Identifier: MIT */
/*
 * On-device queues, which no device of the server offers: the answer of a
 * device without them, on the server, before the library sees the call.
 *
 * PoCL 3.1 reports no on-device queue support (CL_DEVICE_QUEUE_ON_DEVICE_*
 * are 0, CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES is 0), yet
 * clCreateCommandQueueWithProperties with CL_QUEUE_ON_DEVICE ends the
 * process ("Device side queue is unimplemented", exit(2)): natively the
 * application, here the API server with every session on it. OpenCL 3.0
 * says a device that does not support properties that are valid answers
 * CL_INVALID_QUEUE_PROPERTIES, what later PoCL versions answer too.
 *
 * The library's own checks that come first stay the library's: a property
 * list it would refuse as invalid (an unknown name) and a device not in the
 * context go through to it, so those errors are its own.
 */
#define CL_TARGET_OPENCL_VERSION 300
#include <stdbool.h>
#include <stddef.h>

#include <CL/cl.h>
#include <CL/cl_ext.h>

#include "ava_opencl.h"
#include "opencl/server.h"

/* Does the list ask for an on-device queue, with only names the library knows? */
static bool asks_on_device(const cl_queue_properties *props)
{
	bool on_device = false;

	if (!props)
		return false;
	for (size_t i = 0; props[i] != 0; i += 2) {
		switch (props[i]) {
		case CL_QUEUE_PROPERTIES:
			if (props[i + 1] & CL_QUEUE_ON_DEVICE)
				on_device = true;
			break;
		case CL_QUEUE_SIZE:
		case CL_QUEUE_PRIORITY_KHR:
		case CL_QUEUE_THROTTLE_KHR:
			break;
		default:
			return false; /* the library's CL_INVALID_VALUE */
		}
	}
	return on_device;
}

/* Is device one of context's (the library's CL_INVALID_DEVICE otherwise)? */
static bool context_has_device(cl_context context, cl_device_id device)
{
	cl_device_id devices[64];
	size_t n_bytes = 0;

	if (clGetContextInfo(context, CL_CONTEXT_DEVICES, sizeof(devices), devices, &n_bytes) !=
	    CL_SUCCESS)
		return false;
	for (size_t i = 0; i < n_bytes / sizeof(devices[0]); i++)
		if (devices[i] == device)
			return true;
	return false;
}

bool ava_opencl_queue_refuse(const struct ava_abi_fn *fn, void *const *args, void *ret)
{
	cl_command_queue_properties on_device = 0;

	if (fn->id != AVA_OPENCL_FN_clCreateCommandQueueWithProperties)
		return false;
	struct ava_opencl_args_clCreateCommandQueueWithProperties a =
	    ava_opencl_args_clCreateCommandQueueWithProperties(args);
	if (!asks_on_device(*a.properties) || !context_has_device(*a.context, *a.device))
		return false;
	if (clGetDeviceInfo(*a.device, CL_DEVICE_QUEUE_ON_DEVICE_PROPERTIES, sizeof(on_device),
			    &on_device, NULL) == CL_SUCCESS &&
	    on_device != 0)
		return false; /* a device that has them: the library's */
	if (*a.errcode_ret)
		**a.errcode_ret = CL_INVALID_QUEUE_PROPERTIES;
	*ava_opencl_ret_clCreateCommandQueueWithProperties(ret) = NULL;
	return true;
}
