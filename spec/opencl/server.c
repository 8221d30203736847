/* SPDX-License-Identifier: MIT */
/*
 * OpenCL's hand-written server code, as the API server runtime sees it: the
 * API's one ops table (ava_opencl_server_ops, declared in the generated
 * ava_opencl.h, which the generated descriptor points at):
 *
 *  - completion events of late buffers: events.c;
 *  - rect shapes: rect.c, shared with the guest;
 *  - call wrapper: on-device queues (queue-server.c), refused as a device
 *    without them refuses them, then the build files (build-server.c),
 *    which answers the wire-only avaclPutBuildFiles, then SVM
 *    (svm-server.c), which checks every SVM pointer against the session's
 *    allocations;
 *  - session end: the build files (a session's build directories are let
 *    go), then SVM, which frees what a session left.
 */
#include <ava/apiserver.h>

#include "ava_opencl.h"
#include "opencl/rect.h"
#include "opencl/server.h"

static void opencl_call(uint32_t session_id, const struct ava_abi_fn *fn,
			ava_apiserver_invoke_fn invoke, void *const *args, void *ret)
{
	if (ava_opencl_queue_refuse(fn, args, ret))
		return;
	if (ava_opencl_build_call(session_id, fn, args, ret))
		return;
	ava_opencl_svm_call_wrapper(session_id, fn, invoke, args, ret);
}

static void opencl_session_end(uint32_t session_id)
{
	ava_opencl_build_session_end(session_id);
	ava_opencl_svm_session_end(session_id);
}

const struct ava_apiserver_ops ava_opencl_server_ops = {
	.events = &ava_opencl_event_ops,
	.rect = &ava_opencl_rect_ops,
	.call_wrapper = opencl_call,
	.session_end = opencl_session_end,
};
