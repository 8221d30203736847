/* SPDX-License-Identifier: MIT */
/*
 * Two wire-only functions of the OpenCL spec: how coarse-grained SVM bytes
 * travel between the guest's reservation of an SVM range and the server's
 * allocation (spec/opencl/svm.c calls them for clEnqueueSVMMap, Unmap and
 * Memcpy with a host side; spec/opencl/svm-server.c runs them as
 * clEnqueueSVMMemcpy on the server). Applications do not call them: their
 * spec entries are ava_private, so the guest library does not export them.
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

#endif /* AVA_OPENCL_SVM_WIRE_H */
