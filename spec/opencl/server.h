/* SPDX-License-Identifier: MIT */
/*
 * OpenCL's server modules, as spec/opencl/server.c composes them into the
 * API's one ops table (struct ava_apiserver_ops, include/ava/apiserver.h).
 */
#ifndef AVA_SPEC_OPENCL_SERVER_H
#define AVA_SPEC_OPENCL_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <ava/apiserver.h>

/* Completion events, which late buffers wait for (spec/opencl/events.c). */
extern const struct ava_apiserver_event_ops ava_opencl_event_ops;

/* Coarse-grained SVM (spec/opencl/svm-server.c): every SVM pointer is the session's. */
void ava_opencl_svm_call_wrapper(uint32_t session_id, const struct ava_abi_fn *fn,
				 ava_apiserver_invoke_fn invoke, void *const *args, void *ret);
void ava_opencl_svm_session_end(uint32_t session_id);

/*
 * On-device queues (spec/opencl/queue-server.c): answers a
 * clCreateCommandQueueWithProperties asking for one on a device without
 * them as such a device does (CL_INVALID_QUEUE_PROPERTIES, into ret and
 * the errcode) and returns true; false for every other call, which then
 * runs as it is.
 */
bool ava_opencl_queue_refuse(const struct ava_abi_fn *fn, void *const *args, void *ret);

/*
 * Build files (spec/opencl/build-server.c): answers avaclPutBuildFiles
 * (returns 1; 0 for every other call) and lets go of a session's build
 * directories at its end (the last user of one removes it).
 */
int ava_opencl_build_call(uint32_t session_id, const struct ava_abi_fn *fn, void *const *args,
			  void *ret);
void ava_opencl_build_session_end(uint32_t session_id);

#endif /* AVA_SPEC_OPENCL_SERVER_H */
