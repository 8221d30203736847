/* SPDX-License-Identifier: MIT */
/*
 * cl-queue-on-device: a device that reports no on-device queues refuses to
 * create one, and the application goes on.
 *
 * The device's CL_DEVICE_QUEUE_ON_DEVICE_* and
 * CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES answers are printed; when they say
 * "none", clCreateCommandQueueWithProperties with CL_QUEUE_ON_DEVICE (and
 * CL_QUEUE_ON_DEVICE_DEFAULT, and a CL_QUEUE_SIZE) must answer NULL and
 * CL_INVALID_QUEUE_PROPERTIES, while a list the library finds invalid keeps
 * its CL_INVALID_VALUE. Then a host queue runs a command, so the session
 * (and its server) lived through it.
 *
 * Remoted only: natively PoCL 3.1 ends the process on the first create
 * ("Device side queue is unimplemented", exit(2)).
 */
#include "clt.h"

#include <stdio.h>
#include <stdlib.h>

static void try_create(cl_context ctx, cl_device_id device, const char *what,
		       const cl_queue_properties *props, cl_int want)
{
	cl_int err = CL_SUCCESS;
	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, device, props, &err);

	printf("%s: %s, %s\n", what, q ? "a queue" : "NULL", clt_err_name(err));
	CLT_ASSERT(q == NULL && err == want, "%s: want NULL and %s", what, clt_err_name(want));
	q = clCreateCommandQueueWithProperties(ctx, device, props, NULL);
	CLT_ASSERT(q == NULL, "%s without errcode_ret: a queue", what);
}

int main(void)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_command_queue_properties on_dev_props = 1;
	cl_device_device_enqueue_capabilities caps = 1;
	cl_uint max_queues = 1, pref_size = 1, max_size = 1;
	cl_int err;

	clt_init(60);
	clt_pick_device(&platform, &device);
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_QUEUE_ON_DEVICE_PROPERTIES,
				  sizeof(on_dev_props), &on_dev_props, NULL));
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES, sizeof(caps),
				  &caps, NULL));
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_MAX_ON_DEVICE_QUEUES, sizeof(max_queues),
				  &max_queues, NULL));
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_QUEUE_ON_DEVICE_PREFERRED_SIZE,
				  sizeof(pref_size), &pref_size, NULL));
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_QUEUE_ON_DEVICE_MAX_SIZE, sizeof(max_size),
				  &max_size, NULL));
	printf("on-device queue properties %#llx, device enqueue capabilities %#llx, "
	       "max on-device queues %u, preferred size %u, max size %u\n",
	       (unsigned long long)on_dev_props, (unsigned long long)caps, max_queues, pref_size,
	       max_size);
	if (on_dev_props != 0 || caps != 0 || max_queues != 0) {
		fprintf(stderr, "skipped: the device reports on-device queues\n");
		return CLT_SKIP;
	}
	CLT_ASSERT(pref_size == 0 && max_size == 0, "no on-device queues, yet a queue size");

	cl_context ctx = clt_context_new(platform, device);
	const cl_queue_properties on_device[] = {
		CL_QUEUE_PROPERTIES, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE | CL_QUEUE_ON_DEVICE, 0
	};
	const cl_queue_properties on_device_default[] = { CL_QUEUE_PROPERTIES,
							  CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE |
							      CL_QUEUE_ON_DEVICE |
							      CL_QUEUE_ON_DEVICE_DEFAULT,
							  0 };
	const cl_queue_properties sized[] = { CL_QUEUE_PROPERTIES,
					      CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE |
						  CL_QUEUE_ON_DEVICE,
					      CL_QUEUE_SIZE, 16384, 0 };
	const cl_queue_properties unknown[] = { CL_QUEUE_PROPERTIES, CL_QUEUE_ON_DEVICE, 0x7fff, 1,
						0 };
	try_create(ctx, device, "CL_QUEUE_ON_DEVICE", on_device, CL_INVALID_QUEUE_PROPERTIES);
	try_create(ctx, device, "CL_QUEUE_ON_DEVICE_DEFAULT", on_device_default,
		   CL_INVALID_QUEUE_PROPERTIES);
	try_create(ctx, device, "CL_QUEUE_SIZE 16384", sized, CL_INVALID_QUEUE_PROPERTIES);
	try_create(ctx, device, "an unknown property", unknown, CL_INVALID_VALUE);

	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	int value = 0x1234, back = 0;
	cl_mem buf = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof(value),
				    &value, &err);
	CLT_CHECK(err);
	CLT_CHECK(clEnqueueReadBuffer(q, buf, CL_TRUE, 0, sizeof(back), &back, 0, NULL, NULL));
	printf("a host queue afterwards reads back %#x\n", back);
	CLT_ASSERT(back == value, "read back %#x", back);
	CLT_CHECK(clReleaseMemObject(buf));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	return 0;
}
