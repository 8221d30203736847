/* SPDX-License-Identifier: MIT */
/*
 * cl-devices: device reference counts, sub-devices, timers, destructor
 * callbacks, the deprecated 1.x commands, and what a device reports and
 * answers about shared virtual memory and native kernels.
 *
 * The remoting cannot offer native kernels (guest functions), so a remoted
 * device reports CL_DEVICE_EXECUTION_CAPABILITIES without
 * CL_EXEC_NATIVE_KERNEL and clEnqueueNativeKernel answers as it must for
 * such a device; a device without SVM at all (CL_DEVICE_SVM_CAPABILITIES 0)
 * gets the SVM functions' answers for that checked. This program prints
 * those answers only where they follow from what the device reports, so
 * native and remoted agree: with SVM reported (PoCL natively and remoted,
 * coarse-grained buffers: cl-svm) the SVM calls are not made.
 */
#define CL_USE_DEPRECATED_OPENCL_1_1_APIS
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include "clt.h"

#include <stdio.h>
#include <stdlib.h>

struct cb_log {
	struct clt_waiter *w;
	int mem_calls, ctx_calls;
};

static void CL_CALLBACK mem_destroyed(cl_mem m, void *user_data)
{
	struct cb_log *log = user_data;
	(void)m;
	log->mem_calls++;
	clt_waiter_signal(log->w);
}

static void CL_CALLBACK ctx_destroyed(cl_context c, void *user_data)
{
	struct cb_log *log = user_data;
	(void)c;
	log->ctx_calls++;
	clt_waiter_signal(log->w);
}

int main(void)
{
	clt_init(120);
	cl_platform_id platform;
	cl_device_id dev;
	cl_int err;

	clt_pick_device(&platform, &dev);
	CLT_CHECK(clRetainDevice(dev));
	CLT_CHECK(clReleaseDevice(dev));
	printf("clRetainDevice/clReleaseDevice on a root device: CL_SUCCESS\n");

	/* Sub-devices: PoCL partitions CPUs; the answer, whatever it is, must agree. */
	cl_uint max_sub = 0;
	CLT_CHECK(clGetDeviceInfo(dev, CL_DEVICE_PARTITION_MAX_SUB_DEVICES, sizeof(max_sub),
				  &max_sub, NULL));
	printf("can partition: %s\n", clt_yes(max_sub > 1));
	if (max_sub > 1) {
		const cl_device_partition_property by_counts[] = {
			CL_DEVICE_PARTITION_BY_COUNTS, 1, CL_DEVICE_PARTITION_BY_COUNTS_LIST_END, 0
		};
		cl_device_id sub = NULL;
		cl_uint n = 0;
		err = clCreateSubDevices(dev, by_counts, 1, &sub, &n);
		printf("partition by counts {1}: %s, %u sub-device(s)\n", clt_err_name(err), n);
		if (err == CL_SUCCESS) {
			cl_device_id parent = NULL;
			cl_uint units = 0;
			CLT_CHECK(clGetDeviceInfo(sub, CL_DEVICE_PARENT_DEVICE, sizeof(parent),
						  &parent, NULL));
			CLT_CHECK(clGetDeviceInfo(sub, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(units),
						  &units, NULL));
			printf("sub-device: parent is the device: %s, compute units %u\n",
			       clt_yes(parent == dev), units);
			CLT_CHECK(clRetainDevice(sub));
			CLT_CHECK(clReleaseDevice(sub));
			CLT_CHECK(clReleaseDevice(sub));
		}
	}
	const cl_device_partition_property bad_props[] = { 0x7fff, 1, 0 };
	cl_device_id sub = NULL;
	err = clCreateSubDevices(dev, bad_props, 1, &sub, NULL);
	printf("partition with an unknown property: %s\n", clt_err_name(err));

	cl_ulong host_t = 0, dev_t = 0;
	err = clGetHostTimer(dev, &host_t);
	printf("clGetHostTimer: %s%s\n", clt_err_name(err),
	       err == CL_SUCCESS ? (host_t ? ", non-zero" : ", zero") : "");
	err = clGetDeviceAndHostTimer(dev, &dev_t, &host_t);
	printf("clGetDeviceAndHostTimer: %s\n", clt_err_name(err));

	/* What the device offers for SVM and native kernels, and the calls that follow. */
	cl_device_svm_capabilities svm = 0;
	cl_device_exec_capabilities exec = 0;
	CLT_CHECK(clGetDeviceInfo(dev, CL_DEVICE_SVM_CAPABILITIES, sizeof(svm), &svm, NULL));
	CLT_CHECK(
	    clGetDeviceInfo(dev, CL_DEVICE_EXECUTION_CAPABILITIES, sizeof(exec), &exec, NULL));
	printf("CL_EXEC_KERNEL: %s\n", clt_yes(exec & CL_EXEC_KERNEL));

	cl_context ctx = clt_context_new(platform, dev);
	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, dev, NULL, &err);
	CLT_CHECK(err);
	/*
	 * Natively PoCL offers SVM and native kernels; remoted it offers
	 * coarse-grained SVM only. So the answers are checked, not printed:
	 * stdout must agree.
	 */
	if (!svm) {
		void *p = clSVMAlloc(ctx, CL_MEM_READ_WRITE, 4096, 0);
		CLT_ASSERT(p == NULL, "no SVM, yet clSVMAlloc returned memory");
		clSVMFree(ctx, p);
		int x = 0;
		CLT_EXPECT_ERR(CL_INVALID_OPERATION,
			       clEnqueueSVMMemcpy(q, CL_TRUE, &x, &x, sizeof(x), 0, NULL, NULL));
		fprintf(stderr, "cl-devices: no SVM: clSVMAlloc NULL, clEnqueueSVMMemcpy "
				"CL_INVALID_OPERATION\n");
	}
	if (!(exec & CL_EXEC_NATIVE_KERNEL)) {
		CLT_EXPECT_ERR(
		    CL_INVALID_OPERATION,
		    clEnqueueNativeKernel(q, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, NULL));
		fprintf(stderr, "cl-devices: no native kernels: clEnqueueNativeKernel "
				"CL_INVALID_OPERATION\n");
	}

	/* Deprecated 1.x commands. */
	cl_event marker = NULL;
	CLT_CHECK(clEnqueueMarker(q, &marker));
	CLT_CHECK(clEnqueueBarrier(q));
	CLT_CHECK(clFinish(q));
	cl_command_type type = 0;
	CLT_CHECK(clGetEventInfo(marker, CL_EVENT_COMMAND_TYPE, sizeof(type), &type, NULL));
	printf("clEnqueueMarker: %s\n", clt_command_name(type));
	CLT_CHECK(clReleaseEvent(marker));
	err = clSetDefaultDeviceCommandQueue(ctx, dev, q);
	printf("clSetDefaultDeviceCommandQueue with a host queue: %s\n", clt_err_name(err));

	/* Destructor callbacks run with the application's user_data, buffer then context. */
	struct cb_log log = { clt_waiter_new(), 0, 0 };
	cl_mem buf = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 64, NULL, &err);
	CLT_CHECK(err);
	CLT_CHECK(clSetMemObjectDestructorCallback(buf, mem_destroyed, &log));
	CLT_CHECK(clReleaseMemObject(buf));
	CLT_ASSERT(clt_waiter_wait(log.w, 1, 30) == 1,
		   "the buffer's destructor callback never ran");
	printf("buffer destructor callback: ran %d time(s)\n", log.mem_calls);
	err = clSetContextDestructorCallback(ctx, ctx_destroyed, &log);
	printf("clSetContextDestructorCallback: %s\n", clt_err_name(err));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	if (err == CL_SUCCESS) {
		CLT_ASSERT(clt_waiter_wait(log.w, 2, 30) == 2,
			   "the context's destructor callback never ran");
		printf("context destructor callback: ran %d time(s)\n", log.ctx_calls);
	}
	clt_waiter_free(log.w);
	printf("cl-devices: ok\n");
	return 0;
}
