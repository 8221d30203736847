/* SPDX-License-Identifier: MIT */
/*
 * OpenCL's hand-written guest code, as the guest runtime sees it: the API's
 * one ops table (ava_opencl_guest_ops, declared in the generated
 * ava_opencl.h, which the generated descriptor points at), composed of the
 * modules of spec/opencl/ in a fixed order:
 *
 *  - call filters: the files a build reads (build.c: clBuildProgram,
 *    clCompileProgram, and the build log and options they leave), then
 *    SVM (svm.c: the SVM calls whose pointers are the session's shared
 *    memory). They answer different calls;
 *  - call observers: USE_HOST_PTR (hostptr.c), then context properties
 *    (ctxprops.c). They look at different calls, so the order only says
 *    which runs first where both would;
 *  - handle gone: hostptr.c, then ctxprops.c (each forgets its own);
 *  - map placer: hostptr.c (a USE_HOST_PTR buffer's map lands at its
 *    host_ptr);
 *  - rect shapes: rect.c, shared with the server.
 */
#include <ava/guestlib.h>

#include "ava_opencl.h"
#include "opencl/guest.h"
#include "opencl/rect.h"

static int opencl_call_filter(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
			      void *ret)
{
	return ava_opencl_build_filter(api, fn_id, args, ret) ||
	       ava_opencl_svm_filter(api, fn_id, args, ret);
}

static void opencl_call_observer(const struct ava_guestlib_api *api, uint32_t fn_id,
				 void *const *args, void *ret)
{
	ava_opencl_hostptr_observe(api, fn_id, args, ret);
	ava_opencl_ctxprops_observe(api, fn_id, args, ret);
}

static void opencl_handle_gone(const struct ava_guestlib_api *api, uint16_t handle_type,
			       const void *handle)
{
	ava_opencl_hostptr_handle_gone(api, handle_type, handle);
	ava_opencl_ctxprops_handle_gone(api, handle_type, handle);
}

const struct ava_guestlib_ops ava_opencl_guest_ops = {
	.map_placer = ava_opencl_hostptr_place_map,
	.call_filter = opencl_call_filter,
	.call_observer = opencl_call_observer,
	.handle_gone = opencl_handle_gone,
	.rect = &ava_opencl_rect_ops,
};
