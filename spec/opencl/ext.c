/* SPDX-License-Identifier: MIT */
/*
 * OpenCL extension functions for the API server: the remoted functions of
 * CL/cl_ext.h (spec/opencl.spec's cl_khr_command_buffer block).
 *
 * The generated server calls every remoted function by name, but an ICD
 * loader exports no extension function: the application is meant to find
 * them through clGetExtensionFunctionAddressForPlatform. So this file defines
 * each of them, with the header's own prototype, as a forwarder to what the
 * real library's lookup answers for that name. The answer is looked up on
 * first use and kept; a function no platform knows returns
 * CL_INVALID_OPERATION (creators: NULL with that error), what a guest that
 * calls one its device does not offer gets.
 *
 * The lookup asks each platform in clGetPlatformIDs order and takes the
 * first answer. With one platform (PoCL) that is the platform of every
 * object; a server with several platforms implementing one extension would
 * need the object's own platform here.
 */
#define CL_TARGET_OPENCL_VERSION 300
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include <CL/cl.h>
#include <CL/cl_ext.h>

#define EXT_FNS(X)                         \
	X(clCreateCommandBufferKHR)        \
	X(clFinalizeCommandBufferKHR)      \
	X(clRetainCommandBufferKHR)        \
	X(clReleaseCommandBufferKHR)       \
	X(clEnqueueCommandBufferKHR)       \
	X(clCommandBarrierWithWaitListKHR) \
	X(clCommandCopyBufferKHR)          \
	X(clCommandCopyBufferRectKHR)      \
	X(clCommandCopyBufferToImageKHR)   \
	X(clCommandCopyImageKHR)           \
	X(clCommandCopyImageToBufferKHR)   \
	X(clCommandFillBufferKHR)          \
	X(clCommandFillImageKHR)           \
	X(clCommandNDRangeKernelKHR)       \
	X(clGetCommandBufferInfoKHR)

/* EXT_ID_clCreateCommandBufferKHR, ...: indexes of the tables below. */
#define EXT_ID(name) EXT_ID_##name,
enum ext_id { EXT_FNS(EXT_ID) EXT_N };
#undef EXT_ID

static const char *const ext_names[EXT_N] = {
#define EXT_NAME(name) [EXT_ID_##name] = #name,
	EXT_FNS(EXT_NAME)
#undef EXT_NAME
};

/* The forwarders themselves: a lookup answering one of these is no library's. */
static void *const ext_self[EXT_N] = {
#define EXT_SELF(name) [EXT_ID_##name] = (void *)name,
	EXT_FNS(EXT_SELF)
#undef EXT_SELF
};

static _Atomic(void *) ext_real[EXT_N];

/* The real library's function for ext_names[id], or NULL when no platform has it. */
static void *ext_resolve(enum ext_id id)
{
	void *fn = atomic_load_explicit(&ext_real[id], memory_order_acquire);
	cl_platform_id *platforms = NULL;
	cl_uint n = 0;

	if (fn)
		return fn;
	if (clGetPlatformIDs(0, NULL, &n) != CL_SUCCESS || n == 0)
		return NULL;
	platforms = calloc(n, sizeof(*platforms));
	if (!platforms)
		return NULL;
	if (clGetPlatformIDs(n, platforms, NULL) == CL_SUCCESS) {
		for (cl_uint i = 0; i < n && !fn; i++) {
			fn = clGetExtensionFunctionAddressForPlatform(platforms[i], ext_names[id]);
			if (fn == ext_self[id])
				fn = NULL;
		}
	}
	free(platforms);
	/* Racing first calls find the same pointer: storing it twice is harmless. */
	if (fn)
		atomic_store_explicit(&ext_real[id], fn, memory_order_release);
	return fn;
}

#define EXT(name) ((name##_fn)ext_resolve(EXT_ID_##name))

cl_command_buffer_khr clCreateCommandBufferKHR(cl_uint num_queues, const cl_command_queue *queues,
					       const cl_command_buffer_properties_khr *properties,
					       cl_int *errcode_ret)
{
	clCreateCommandBufferKHR_fn f = EXT(clCreateCommandBufferKHR);

	if (!f) {
		if (errcode_ret)
			*errcode_ret = CL_INVALID_OPERATION;
		return NULL;
	}
	return f(num_queues, queues, properties, errcode_ret);
}

cl_int clFinalizeCommandBufferKHR(cl_command_buffer_khr command_buffer)
{
	clFinalizeCommandBufferKHR_fn f = EXT(clFinalizeCommandBufferKHR);

	return f ? f(command_buffer) : CL_INVALID_OPERATION;
}

cl_int clRetainCommandBufferKHR(cl_command_buffer_khr command_buffer)
{
	clRetainCommandBufferKHR_fn f = EXT(clRetainCommandBufferKHR);

	return f ? f(command_buffer) : CL_INVALID_OPERATION;
}

cl_int clReleaseCommandBufferKHR(cl_command_buffer_khr command_buffer)
{
	clReleaseCommandBufferKHR_fn f = EXT(clReleaseCommandBufferKHR);

	return f ? f(command_buffer) : CL_INVALID_OPERATION;
}

cl_int clEnqueueCommandBufferKHR(cl_uint num_queues, cl_command_queue *queues,
				 cl_command_buffer_khr command_buffer,
				 cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
				 cl_event *event)
{
	clEnqueueCommandBufferKHR_fn f = EXT(clEnqueueCommandBufferKHR);

	return f ? f(num_queues, queues, command_buffer, num_events_in_wait_list, event_wait_list,
		     event)
		 : CL_INVALID_OPERATION;
}

cl_int clCommandBarrierWithWaitListKHR(cl_command_buffer_khr command_buffer,
				       cl_command_queue command_queue,
				       cl_uint num_sync_points_in_wait_list,
				       const cl_sync_point_khr *sync_point_wait_list,
				       cl_sync_point_khr *sync_point,
				       cl_mutable_command_khr *mutable_handle)
{
	clCommandBarrierWithWaitListKHR_fn f = EXT(clCommandBarrierWithWaitListKHR);

	return f ? f(command_buffer, command_queue, num_sync_points_in_wait_list,
		     sync_point_wait_list, sync_point, mutable_handle)
		 : CL_INVALID_OPERATION;
}

cl_int clCommandCopyBufferKHR(cl_command_buffer_khr command_buffer, cl_command_queue command_queue,
			      cl_mem src_buffer, cl_mem dst_buffer, size_t src_offset,
			      size_t dst_offset, size_t size, cl_uint num_sync_points_in_wait_list,
			      const cl_sync_point_khr *sync_point_wait_list,
			      cl_sync_point_khr *sync_point, cl_mutable_command_khr *mutable_handle)
{
	clCommandCopyBufferKHR_fn f = EXT(clCommandCopyBufferKHR);

	return f ? f(command_buffer, command_queue, src_buffer, dst_buffer, src_offset, dst_offset,
		     size, num_sync_points_in_wait_list, sync_point_wait_list, sync_point,
		     mutable_handle)
		 : CL_INVALID_OPERATION;
}

cl_int clCommandCopyBufferRectKHR(
    cl_command_buffer_khr command_buffer, cl_command_queue command_queue, cl_mem src_buffer,
    cl_mem dst_buffer, const size_t *src_origin, const size_t *dst_origin, const size_t *region,
    size_t src_row_pitch, size_t src_slice_pitch, size_t dst_row_pitch, size_t dst_slice_pitch,
    cl_uint num_sync_points_in_wait_list, const cl_sync_point_khr *sync_point_wait_list,
    cl_sync_point_khr *sync_point, cl_mutable_command_khr *mutable_handle)
{
	clCommandCopyBufferRectKHR_fn f = EXT(clCommandCopyBufferRectKHR);

	return f ? f(command_buffer, command_queue, src_buffer, dst_buffer, src_origin, dst_origin,
		     region, src_row_pitch, src_slice_pitch, dst_row_pitch, dst_slice_pitch,
		     num_sync_points_in_wait_list, sync_point_wait_list, sync_point, mutable_handle)
		 : CL_INVALID_OPERATION;
}

cl_int clCommandCopyBufferToImageKHR(cl_command_buffer_khr command_buffer,
				     cl_command_queue command_queue, cl_mem src_buffer,
				     cl_mem dst_image, size_t src_offset, const size_t *dst_origin,
				     const size_t *region, cl_uint num_sync_points_in_wait_list,
				     const cl_sync_point_khr *sync_point_wait_list,
				     cl_sync_point_khr *sync_point,
				     cl_mutable_command_khr *mutable_handle)
{
	clCommandCopyBufferToImageKHR_fn f = EXT(clCommandCopyBufferToImageKHR);

	return f ? f(command_buffer, command_queue, src_buffer, dst_image, src_offset, dst_origin,
		     region, num_sync_points_in_wait_list, sync_point_wait_list, sync_point,
		     mutable_handle)
		 : CL_INVALID_OPERATION;
}

cl_int clCommandCopyImageKHR(cl_command_buffer_khr command_buffer, cl_command_queue command_queue,
			     cl_mem src_image, cl_mem dst_image, const size_t *src_origin,
			     const size_t *dst_origin, const size_t *region,
			     cl_uint num_sync_points_in_wait_list,
			     const cl_sync_point_khr *sync_point_wait_list,
			     cl_sync_point_khr *sync_point, cl_mutable_command_khr *mutable_handle)
{
	clCommandCopyImageKHR_fn f = EXT(clCommandCopyImageKHR);

	return f ? f(command_buffer, command_queue, src_image, dst_image, src_origin, dst_origin,
		     region, num_sync_points_in_wait_list, sync_point_wait_list, sync_point,
		     mutable_handle)
		 : CL_INVALID_OPERATION;
}

cl_int clCommandCopyImageToBufferKHR(
    cl_command_buffer_khr command_buffer, cl_command_queue command_queue, cl_mem src_image,
    cl_mem dst_buffer, const size_t *src_origin, const size_t *region, size_t dst_offset,
    cl_uint num_sync_points_in_wait_list, const cl_sync_point_khr *sync_point_wait_list,
    cl_sync_point_khr *sync_point, cl_mutable_command_khr *mutable_handle)
{
	clCommandCopyImageToBufferKHR_fn f = EXT(clCommandCopyImageToBufferKHR);

	return f ? f(command_buffer, command_queue, src_image, dst_buffer, src_origin, region,
		     dst_offset, num_sync_points_in_wait_list, sync_point_wait_list, sync_point,
		     mutable_handle)
		 : CL_INVALID_OPERATION;
}

cl_int clCommandFillBufferKHR(cl_command_buffer_khr command_buffer, cl_command_queue command_queue,
			      cl_mem buffer, const void *pattern, size_t pattern_size,
			      size_t offset, size_t size, cl_uint num_sync_points_in_wait_list,
			      const cl_sync_point_khr *sync_point_wait_list,
			      cl_sync_point_khr *sync_point, cl_mutable_command_khr *mutable_handle)
{
	clCommandFillBufferKHR_fn f = EXT(clCommandFillBufferKHR);

	return f ? f(command_buffer, command_queue, buffer, pattern, pattern_size, offset, size,
		     num_sync_points_in_wait_list, sync_point_wait_list, sync_point, mutable_handle)
		 : CL_INVALID_OPERATION;
}

cl_int clCommandFillImageKHR(cl_command_buffer_khr command_buffer, cl_command_queue command_queue,
			     cl_mem image, const void *fill_color, const size_t *origin,
			     const size_t *region, cl_uint num_sync_points_in_wait_list,
			     const cl_sync_point_khr *sync_point_wait_list,
			     cl_sync_point_khr *sync_point, cl_mutable_command_khr *mutable_handle)
{
	clCommandFillImageKHR_fn f = EXT(clCommandFillImageKHR);

	return f ? f(command_buffer, command_queue, image, fill_color, origin, region,
		     num_sync_points_in_wait_list, sync_point_wait_list, sync_point, mutable_handle)
		 : CL_INVALID_OPERATION;
}

cl_int clCommandNDRangeKernelKHR(
    cl_command_buffer_khr command_buffer, cl_command_queue command_queue,
    const cl_ndrange_kernel_command_properties_khr *properties, cl_kernel kernel, cl_uint work_dim,
    const size_t *global_work_offset, const size_t *global_work_size, const size_t *local_work_size,
    cl_uint num_sync_points_in_wait_list, const cl_sync_point_khr *sync_point_wait_list,
    cl_sync_point_khr *sync_point, cl_mutable_command_khr *mutable_handle)
{
	clCommandNDRangeKernelKHR_fn f = EXT(clCommandNDRangeKernelKHR);

	return f ? f(command_buffer, command_queue, properties, kernel, work_dim,
		     global_work_offset, global_work_size, local_work_size,
		     num_sync_points_in_wait_list, sync_point_wait_list, sync_point, mutable_handle)
		 : CL_INVALID_OPERATION;
}

cl_int clGetCommandBufferInfoKHR(cl_command_buffer_khr command_buffer,
				 cl_command_buffer_info_khr param_name, size_t param_value_size,
				 void *param_value, size_t *param_value_size_ret)
{
	clGetCommandBufferInfoKHR_fn f = EXT(clGetCommandBufferInfoKHR);

	return f ? f(command_buffer, param_name, param_value_size, param_value,
		     param_value_size_ret)
		 : CL_INVALID_OPERATION;
}
