/* SPDX-License-Identifier: MIT */
/*
 * cl-errors: calls that must fail, with the exact error code the OpenCL spec gives.
 *
 * Each line prints the call's name and the code it returned; each code is also
 * checked against the spec's, so the program fails on its own when one is wrong.
 * Reusing a released object is undefined behaviour, so it is not tried. The
 * build log of a failed build is printed only as "non-empty": its text names
 * temporary files.
 */
#include "clt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char good_src[] = "__kernel void add(__global int *x, int k, __local int *tmp)\n"
			       "{\n"
			       "\tsize_t i = get_global_id(0);\n"
			       "\ttmp[get_local_id(0)] = x[i];\n"
			       "\tx[i] = tmp[get_local_id(0)] + k;\n"
			       "}\n";

static const char bad_src[] = "__kernel void broken(__global int *x)\n"
			      "{\n"
			      "\tx[get_global_id(0)] = undeclared_name +;\n"
			      "}\n";

static int n_checked;

/* Prints "label: CODE" and fails unless got == want. */
static void expect(const char *label, cl_int got, cl_int want)
{
	printf("%s: %s\n", label, clt_err_name(got));
	CLT_ASSERT(got == want, "%s: got %s (%d), want %s", label, clt_err_name(got), (int)got,
		   clt_err_name(want));
	n_checked++;
}

static void platform_and_device_errors(cl_platform_id platform, cl_device_id device)
{
	cl_platform_id p;
	cl_device_id d;
	cl_uint n = 0, v = 0;
	char small[2];
	size_t size = 0;

	expect("clGetPlatformIDs(0 entries, a platform array)", clGetPlatformIDs(0, &p, NULL),
	       CL_INVALID_VALUE);
	expect("clGetPlatformIDs(no array, no count)", clGetPlatformIDs(0, NULL, NULL),
	       CL_INVALID_VALUE);
	/* (An invalid type should be CL_INVALID_DEVICE_TYPE; PoCL 3.1 says CL_DEVICE_NOT_FOUND.) */
	expect("clGetDeviceIDs(type CUSTOM, which no device has)",
	       clGetDeviceIDs(platform, CL_DEVICE_TYPE_CUSTOM, 1, &d, &n), CL_DEVICE_NOT_FOUND);
	expect("clGetDeviceIDs(0 entries, a device array)",
	       clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, &d, NULL), CL_INVALID_VALUE);
	expect("clGetPlatformInfo(unknown param)",
	       clGetPlatformInfo(platform, 0x7fff, sizeof(small), small, &size), CL_INVALID_VALUE);
	expect("clGetPlatformInfo(CL_PLATFORM_NAME into 2 bytes)",
	       clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof(small), small, NULL),
	       CL_INVALID_VALUE);
	expect("clGetDeviceInfo(unknown param)",
	       clGetDeviceInfo(device, 0x7fff, sizeof(v), &v, &size), CL_INVALID_VALUE);
	expect("clGetDeviceInfo(CL_DEVICE_MAX_COMPUTE_UNITS into 2 bytes)",
	       clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, 2, &v, NULL), CL_INVALID_VALUE);
	expect("clGetDeviceInfo(NULL device)",
	       clGetDeviceInfo(NULL, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(v), &v, NULL),
	       CL_INVALID_DEVICE);
}

static void context_and_queue_errors(cl_platform_id platform, cl_device_id device, cl_context ctx)
{
	cl_context_properties bad_props[] = { 0x7fff, 1, 0 };
	cl_queue_properties bad_qprops[] = { CL_QUEUE_PROPERTIES, 0x40000000, 0 };
	cl_context c;
	cl_command_queue q;
	cl_uint v = 0;
	cl_int err = 0;

	c = clCreateContext(NULL, 0, NULL, NULL, NULL, &err);
	expect("clCreateContext(no devices)", err, CL_INVALID_VALUE);
	CLT_ASSERT(c == NULL, "clCreateContext failed but returned a context");
	c = clCreateContext(NULL, 1, &device, NULL, (void *)1, &err);
	expect("clCreateContext(user_data without pfn_notify)", err, CL_INVALID_VALUE);
	c = clCreateContext(bad_props, 1, &device, NULL, NULL, &err);
	expect("clCreateContext(unknown property)", err, CL_INVALID_PROPERTY);
	CLT_ASSERT(c == NULL, "clCreateContext failed but returned a context");
	expect("clGetContextInfo(NULL context)",
	       clGetContextInfo(NULL, CL_CONTEXT_NUM_DEVICES, sizeof(v), &v, NULL),
	       CL_INVALID_CONTEXT);
	expect("clGetContextInfo(unknown param)",
	       clGetContextInfo(ctx, 0x7fff, sizeof(v), &v, NULL), CL_INVALID_VALUE);
	{
		/* CL_CONTEXT_PROPERTIES: the list as created ({PLATFORM, platform, 0}), or none */
		cl_context_properties got[8] = { 0 };
		size_t n = 0;
		expect("clGetContextInfo(CL_CONTEXT_PROPERTIES)",
		       clGetContextInfo(ctx, CL_CONTEXT_PROPERTIES, sizeof(got), got, &n),
		       CL_SUCCESS);
		printf("  %zu bytes, {PLATFORM, the platform, 0}: %s\n", n,
		       clt_yes(n == 3 * sizeof(got[0]) && got[0] == CL_CONTEXT_PLATFORM &&
			       got[1] == (cl_context_properties)platform && got[2] == 0));
		expect("clGetContextInfo(CL_CONTEXT_PROPERTIES, 2 words)",
		       clGetContextInfo(ctx, CL_CONTEXT_PROPERTIES, 2 * sizeof(got[0]), got, NULL),
		       CL_INVALID_VALUE);
		c = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
		CLT_CHECK(err);
		n = 99;
		expect("clGetContextInfo(CL_CONTEXT_PROPERTIES, NULL properties)",
		       clGetContextInfo(c, CL_CONTEXT_PROPERTIES, 0, NULL, &n), CL_SUCCESS);
		printf("  %zu bytes\n", n);
		CLT_CHECK(clReleaseContext(c));
	}
	expect("clRetainContext(NULL)", clRetainContext(NULL), CL_INVALID_CONTEXT);
	expect("clReleaseContext(NULL)", clReleaseContext(NULL), CL_INVALID_CONTEXT);

	q = clCreateCommandQueueWithProperties(NULL, device, NULL, &err);
	expect("clCreateCommandQueueWithProperties(NULL context)", err, CL_INVALID_CONTEXT);
	CLT_ASSERT(q == NULL, "queue creation failed but returned a queue");
	q = clCreateCommandQueueWithProperties(ctx, NULL, NULL, &err);
	expect("clCreateCommandQueueWithProperties(NULL device)", err, CL_INVALID_DEVICE);
	q = clCreateCommandQueueWithProperties(ctx, device, bad_qprops, &err);
	expect("clCreateCommandQueueWithProperties(unknown queue property bit)", err,
	       CL_INVALID_VALUE);
	expect("clFinish(NULL)", clFinish(NULL), CL_INVALID_COMMAND_QUEUE);
	expect("clReleaseCommandQueue(NULL)", clReleaseCommandQueue(NULL),
	       CL_INVALID_COMMAND_QUEUE);
}

static void buffer_errors(cl_context ctx, cl_command_queue q)
{
	char host[64] = { 0 };
	cl_buffer_region region;
	cl_mem m, sub;
	cl_int err = 0;
	size_t size = 0;
	int pattern3[1] = { 0 };

	m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 0, NULL, &err);
	expect("clCreateBuffer(size 0)", err, CL_INVALID_BUFFER_SIZE);
	CLT_ASSERT(m == NULL, "clCreateBuffer failed but returned a buffer");
	m = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_WRITE_ONLY, 64, NULL, &err);
	expect("clCreateBuffer(READ_ONLY | WRITE_ONLY)", err, CL_INVALID_VALUE);
	m = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, 64, NULL, &err);
	expect("clCreateBuffer(COPY_HOST_PTR without a pointer)", err, CL_INVALID_HOST_PTR);
	m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 64, host, &err);
	expect("clCreateBuffer(a pointer without COPY/USE_HOST_PTR)", err, CL_INVALID_HOST_PTR);
	m = clCreateBuffer(ctx, CL_MEM_USE_HOST_PTR | CL_MEM_COPY_HOST_PTR, 64, host, &err);
	expect("clCreateBuffer(USE_HOST_PTR | COPY_HOST_PTR)", err, CL_INVALID_VALUE);
	CLT_ASSERT(m == NULL, "clCreateBuffer failed but returned a buffer");
	m = clCreateBuffer(ctx, CL_MEM_USE_HOST_PTR | CL_MEM_ALLOC_HOST_PTR, 64, host, &err);
	expect("clCreateBuffer(USE_HOST_PTR | ALLOC_HOST_PTR)", err, CL_INVALID_VALUE);
	CLT_ASSERT(m == NULL, "clCreateBuffer failed but returned a buffer");
	m = clCreateBufferWithProperties(ctx, NULL, CL_MEM_USE_HOST_PTR | CL_MEM_ALLOC_HOST_PTR, 64,
					 host, &err);
	expect("clCreateBufferWithProperties(USE_HOST_PTR | ALLOC_HOST_PTR)", err,
	       CL_INVALID_VALUE);
	CLT_ASSERT(m == NULL, "clCreateBufferWithProperties failed but returned a buffer");
	m = clCreateBuffer(NULL, CL_MEM_READ_WRITE, 64, NULL, &err);
	expect("clCreateBuffer(NULL context)", err, CL_INVALID_CONTEXT);
	{
		const cl_image_format fmt = { CL_RGBA, CL_UNORM_INT8 };
		const cl_image_desc desc = { .image_type = CL_MEM_OBJECT_IMAGE2D,
					     .image_width = 4,
					     .image_height = 4 };
		m = clCreateImage(ctx, CL_MEM_USE_HOST_PTR | CL_MEM_ALLOC_HOST_PTR, &fmt, &desc,
				  host, &err);
		expect("clCreateImage(USE_HOST_PTR | ALLOC_HOST_PTR)", err, CL_INVALID_VALUE);
		CLT_ASSERT(m == NULL, "clCreateImage failed but returned an image");
	}
	expect("clGetMemObjectInfo(NULL)",
	       clGetMemObjectInfo(NULL, CL_MEM_SIZE, sizeof(size), &size, NULL),
	       CL_INVALID_MEM_OBJECT);
	expect("clRetainMemObject(NULL)", clRetainMemObject(NULL), CL_INVALID_MEM_OBJECT);

	m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 64, NULL, &err);
	CLT_CHECK(err);
	expect("clEnqueueReadBuffer(past the end)",
	       clEnqueueReadBuffer(q, m, CL_TRUE, 32, 64, host, 0, NULL, NULL), CL_INVALID_VALUE);
	expect("clEnqueueReadBuffer(into NULL)",
	       clEnqueueReadBuffer(q, m, CL_TRUE, 0, 16, NULL, 0, NULL, NULL), CL_INVALID_VALUE);
	expect("clEnqueueWriteBuffer(past the end)",
	       clEnqueueWriteBuffer(q, m, CL_TRUE, 60, 8, host, 0, NULL, NULL), CL_INVALID_VALUE);
	expect("clEnqueueReadBuffer(wait list count without a list)",
	       clEnqueueReadBuffer(q, m, CL_TRUE, 0, 16, host, 1, NULL, NULL),
	       CL_INVALID_EVENT_WAIT_LIST);
	expect("clEnqueueCopyBuffer(overlapping regions of one buffer)",
	       clEnqueueCopyBuffer(q, m, m, 0, 8, 16, 0, NULL, NULL), CL_MEM_COPY_OVERLAP);
	expect("clEnqueueCopyBuffer(past the end)",
	       clEnqueueCopyBuffer(q, m, m, 0, 56, 16, 0, NULL, NULL), CL_INVALID_VALUE);
	expect("clEnqueueFillBuffer(pattern size 3)",
	       clEnqueueFillBuffer(q, m, pattern3, 3, 0, 12, 0, NULL, NULL), CL_INVALID_VALUE);
	expect("clEnqueueFillBuffer(offset not a multiple of the pattern)",
	       clEnqueueFillBuffer(q, m, pattern3, 4, 2, 8, 0, NULL, NULL), CL_INVALID_VALUE);

	region.origin = 0;
	region.size = 128;
	sub = clCreateSubBuffer(m, 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
	expect("clCreateSubBuffer(region past the end)", err, CL_INVALID_VALUE);
	CLT_ASSERT(sub == NULL, "clCreateSubBuffer failed but returned a buffer");
	region.size = 0;
	sub = clCreateSubBuffer(m, 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
	expect("clCreateSubBuffer(size 0)", err, CL_INVALID_BUFFER_SIZE);
	region.origin = 1;
	region.size = 8;
	sub = clCreateSubBuffer(m, 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
	expect("clCreateSubBuffer(misaligned origin)", err, CL_MISALIGNED_SUB_BUFFER_OFFSET);
	CLT_CHECK(clFinish(q));
	CLT_CHECK(clReleaseMemObject(m));
}

static void program_errors(cl_context ctx, cl_device_id device)
{
	const char *src = bad_src;
	cl_build_status status = CL_BUILD_NONE;
	cl_program p;
	cl_kernel k;
	size_t len = 0;
	char *log;
	cl_int err = 0;

	p = clCreateProgramWithSource(ctx, 0, &src, NULL, &err);
	expect("clCreateProgramWithSource(0 strings)", err, CL_INVALID_VALUE);
	/* (NULL strings should be CL_INVALID_VALUE; PoCL 3.1 crashes on it.) */

	p = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
	CLT_CHECK(err);
	k = clCreateKernel(p, "broken", &err);
	expect("clCreateKernel(program never built)", err, CL_INVALID_PROGRAM_EXECUTABLE);
	expect("clBuildProgram(syntax error)", clBuildProgram(p, 1, &device, NULL, NULL, NULL),
	       CL_BUILD_PROGRAM_FAILURE);
	CLT_CHECK(clGetProgramBuildInfo(p, device, CL_PROGRAM_BUILD_STATUS, sizeof(status), &status,
					NULL));
	printf("build status after the failed build: %s\n",
	       status == CL_BUILD_ERROR ? "CL_BUILD_ERROR" : "other");
	CLT_ASSERT(status == CL_BUILD_ERROR, "build status %d", (int)status);
	CLT_CHECK(clGetProgramBuildInfo(p, device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len));
	log = calloc(1, len + 1);
	CLT_ASSERT(log != NULL, "out of memory");
	CLT_CHECK(clGetProgramBuildInfo(p, device, CL_PROGRAM_BUILD_LOG, len, log, NULL));
	printf("build log: %s\n", strlen(log) > 0 ? "log non-empty" : "empty");
	CLT_ASSERT(strlen(log) > 0, "the failed build has an empty log");
	free(log);
	k = clCreateKernel(p, "broken", &err);
	expect("clCreateKernel(failed build)", err, CL_INVALID_PROGRAM_EXECUTABLE);
	CLT_ASSERT(k == NULL, "clCreateKernel failed but returned a kernel");
	CLT_CHECK(clReleaseProgram(p));

	src = good_src;
	p = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
	CLT_CHECK(err);
	expect("clBuildProgram(unknown option)",
	       clBuildProgram(p, 1, &device, "-no-such-option", NULL, NULL),
	       CL_INVALID_BUILD_OPTIONS);
	expect("clBuildProgram(user_data without pfn_notify)",
	       clBuildProgram(p, 1, &device, NULL, NULL, (void *)1), CL_INVALID_VALUE);
	expect("clGetProgramInfo(NULL program)",
	       clGetProgramInfo(NULL, CL_PROGRAM_NUM_DEVICES, 0, NULL, &len), CL_INVALID_PROGRAM);
	CLT_CHECK(clReleaseProgram(p));
}

static void kernel_errors(cl_context ctx, cl_device_id device, cl_command_queue q)
{
	cl_program p;
	cl_kernel k;
	cl_mem m;
	cl_int err = 0, k_val = 1;
	cl_long k_long = 1; /* a real 8-byte object for the wrong-size case */
	size_t global = 64, local = 16, too_big = 1 << 20, odd_global = 60, n_args = 0;
	cl_kernel ks[1];
	cl_uint n_kernels = 0;
	char name[32];

	p = clt_program_build(ctx, device, good_src, NULL);
	k = clCreateKernel(p, "no_such_kernel", &err);
	expect("clCreateKernel(invalid kernel name)", err, CL_INVALID_KERNEL_NAME);
	CLT_ASSERT(k == NULL, "clCreateKernel failed but returned a kernel");
	k = clCreateKernel(p, NULL, &err);
	expect("clCreateKernel(NULL name)", err, CL_INVALID_VALUE);
	expect("clCreateKernelsInProgram(0 entries, a kernel array)",
	       clCreateKernelsInProgram(p, 0, ks, &n_kernels), CL_INVALID_VALUE);

	k = clCreateKernel(p, "add", &err);
	CLT_CHECK(err);
	m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 64 * sizeof(cl_int), NULL, &err);
	CLT_CHECK(err);
	expect("clEnqueueNDRangeKernel(arguments not set)",
	       clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, NULL),
	       CL_INVALID_KERNEL_ARGS);
	expect("clSetKernelArg(index 3 of 3 arguments)", clSetKernelArg(k, 3, sizeof(m), &m),
	       CL_INVALID_ARG_INDEX);
	expect("clSetKernelArg(buffer argument of the wrong size)",
	       clSetKernelArg(k, 0, sizeof(m) / 2, &m), CL_INVALID_ARG_SIZE);
	expect("clSetKernelArg(int argument of the wrong size)",
	       clSetKernelArg(k, 1, sizeof(k_long), &k_long), CL_INVALID_ARG_SIZE);
	expect("clSetKernelArg(__local argument of size 0)", clSetKernelArg(k, 2, 0, NULL),
	       CL_INVALID_ARG_SIZE);
	expect("clSetKernelArg(scalar argument without a value)",
	       clSetKernelArg(k, 1, sizeof(cl_int), NULL), CL_INVALID_ARG_VALUE);
	CLT_CHECK(clSetKernelArg(k, 0, sizeof(m), &m));
	CLT_CHECK(clSetKernelArg(k, 1, sizeof(k_val), &k_val));
	CLT_CHECK(clSetKernelArg(k, 2, local * sizeof(cl_int), NULL));
	expect("clEnqueueNDRangeKernel(work_dim 0)",
	       clEnqueueNDRangeKernel(q, k, 0, NULL, &global, &local, 0, NULL, NULL),
	       CL_INVALID_WORK_DIMENSION);
	expect("clEnqueueNDRangeKernel(work_dim 4)",
	       clEnqueueNDRangeKernel(q, k, 4, NULL, &global, &local, 0, NULL, NULL),
	       CL_INVALID_WORK_DIMENSION);
	expect("clEnqueueNDRangeKernel(local size above the device maximum)",
	       clEnqueueNDRangeKernel(q, k, 1, NULL, &too_big, &too_big, 0, NULL, NULL),
	       CL_INVALID_WORK_GROUP_SIZE);
	expect("clEnqueueNDRangeKernel(global size not a multiple of local, OpenCL C 1.2)",
	       clEnqueueNDRangeKernel(q, k, 1, NULL, &odd_global, &local, 0, NULL, NULL),
	       CL_INVALID_WORK_GROUP_SIZE);
	/* (A NULL kernel should be CL_INVALID_KERNEL; PoCL 3.1 crashes on it.) */
	CLT_CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, NULL));
	CLT_CHECK(clFinish(q));
	printf("clEnqueueNDRangeKernel(all arguments set): CL_SUCCESS\n");

	expect("clGetKernelInfo(NULL kernel)",
	       clGetKernelInfo(NULL, CL_KERNEL_NUM_ARGS, sizeof(n_args), &n_args, NULL),
	       CL_INVALID_KERNEL);
	expect("clGetKernelInfo(CL_KERNEL_FUNCTION_NAME into 2 bytes)",
	       clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, 2, name, NULL), CL_INVALID_VALUE);
	expect("clGetKernelArgInfo(index past the arguments)",
	       clGetKernelArgInfo(k, 3, CL_KERNEL_ARG_NAME, sizeof(name), name, NULL),
	       CL_INVALID_ARG_INDEX);
	expect("clReleaseKernel(NULL)", clReleaseKernel(NULL), CL_INVALID_KERNEL);
	CLT_CHECK(clReleaseMemObject(m));
	CLT_CHECK(clReleaseKernel(k));
	CLT_CHECK(clReleaseProgram(p));
}

static void event_errors(cl_context ctx)
{
	cl_event ue;
	cl_int err = 0, status = 0;
	cl_ulong t = 0;

	expect("clWaitForEvents(no events)", clWaitForEvents(0, NULL), CL_INVALID_VALUE);
	expect(
	    "clGetEventInfo(NULL event)",
	    clGetEventInfo(NULL, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(status), &status, NULL),
	    CL_INVALID_EVENT);
	ue = clCreateUserEvent(NULL, &err);
	expect("clCreateUserEvent(NULL context)", err, CL_INVALID_CONTEXT);
	ue = clCreateUserEvent(ctx, &err);
	CLT_CHECK(err);
	expect("clSetUserEventStatus(CL_RUNNING)", clSetUserEventStatus(ue, CL_RUNNING),
	       CL_INVALID_VALUE);
	expect("clSetEventCallback(no function)", clSetEventCallback(ue, CL_COMPLETE, NULL, NULL),
	       CL_INVALID_VALUE);
	expect("clGetEventProfilingInfo(user event)",
	       clGetEventProfilingInfo(ue, CL_PROFILING_COMMAND_END, sizeof(t), &t, NULL),
	       CL_PROFILING_INFO_NOT_AVAILABLE);
	CLT_CHECK(clSetUserEventStatus(ue, CL_COMPLETE));
	expect("clSetUserEventStatus(a second time)", clSetUserEventStatus(ue, CL_COMPLETE),
	       CL_INVALID_OPERATION);
	expect("clReleaseEvent(NULL)", clReleaseEvent(NULL), CL_INVALID_EVENT);
	CLT_CHECK(clReleaseEvent(ue));
}

int main(void)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_context ctx;
	cl_command_queue q;
	cl_int err;

	clt_init(120);
	clt_pick_device(&platform, &device);
	ctx = clt_context_new(platform, device);
	q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);

	platform_and_device_errors(platform, device);
	context_and_queue_errors(platform, device, ctx);
	buffer_errors(ctx, q);
	program_errors(ctx, device);
	kernel_errors(ctx, device, q);
	event_errors(ctx);

	/* The context and queue still work after all that. */
	CLT_CHECK(clFinish(q));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	printf("error paths checked: %d\n", n_checked);
	return 0;
}
