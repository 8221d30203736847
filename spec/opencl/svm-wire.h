/* SPDX-License-Identifier: MIT */
/*
 * Three wire-only functions of the OpenCL spec. Two say how coarse-grained
 * SVM bytes travel between the guest's reservation of an SVM range and the
 * server's allocation (spec/opencl/svm.c calls them for clEnqueueSVMMap,
 * Unmap and Memcpy with a host side; spec/opencl/svm-server.c runs them as
 * clEnqueueSVMMemcpy on the server); the third creates a CL_MEM_USE_HOST_PTR
 * buffer on SVM memory (spec/opencl/svm.c calls it for clCreateBuffer and
 * clCreateBufferWithProperties). Applications do not call them: their spec
 * entries are ava_private, so the guest library does not export them.
 */
#ifndef AVA_OPENCL_SVM_WIRE_H
#define AVA_OPENCL_SVM_WIRE_H

#include <CL/cl.h>

/* Copies size bytes of the session's SVM memory at svm_src into host memory at dst. */
cl_int avaclEnqueueSVMRead(cl_command_queue command_queue, cl_bool blocking, void *dst,
			   const void *svm_src, size_t size, cl_uint num_events_in_wait_list,
			   const cl_event *event_wait_list, cl_event *event);

/* Copies size bytes of host memory at src into the session's SVM memory at svm_dst. */
cl_int avaclEnqueueSVMWrite(cl_command_queue command_queue, cl_bool blocking, void *svm_dst,
			    const void *src, size_t size, cl_uint num_events_in_wait_list,
			    const cl_event *event_wait_list, cl_event *event);

/*
 * clCreateBufferWithProperties with CL_MEM_USE_HOST_PTR on
 * [svm_ptr, svm_ptr + size), which lies inside one of the session's SVM
 * allocations: the server's buffer uses that allocation itself (the same
 * addresses in the application and the server), so it shares the memory as
 * natively. The server refuses any other range (CL_INVALID_HOST_PTR) and
 * flags without USE_HOST_PTR or with COPY_HOST_PTR or ALLOC_HOST_PTR
 * (CL_INVALID_VALUE).
 */
cl_mem avaclCreateBufferOnSVM(cl_context context, const cl_mem_properties *properties,
			      cl_mem_flags flags, size_t size, void *svm_ptr, cl_int *errcode_ret);

#endif /* AVA_OPENCL_SVM_WIRE_H */
