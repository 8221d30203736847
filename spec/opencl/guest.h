/* SPDX-License-Identifier: MIT */
/*
 * OpenCL's guest modules, as spec/opencl/guest.c composes them into the
 * API's one ops table (struct ava_guestlib_ops, include/ava/guestlib.h).
 * Each hook has the signature of the ops member it serves and looks only
 * at the calls (AVA_OPENCL_FN_*, ava_opencl.h) it is about.
 */
#ifndef AVA_SPEC_OPENCL_GUEST_H
#define AVA_SPEC_OPENCL_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include <ava/guestlib.h>

/* CL_MEM_USE_HOST_PTR (spec/opencl/hostptr.c): maps at host_ptr, answers, refreshes. */
void *ava_opencl_hostptr_place_map(const struct ava_guestlib_api *api, uint32_t fn_id,
				   void *const *args, size_t len_bytes);
void ava_opencl_hostptr_observe(const struct ava_guestlib_api *api, uint32_t fn_id,
				void *const *args, void *ret);
void ava_opencl_hostptr_handle_gone(const struct ava_guestlib_api *api, uint16_t handle_type,
				    const void *handle);

/* clGetContextInfo(CL_CONTEXT_PROPERTIES), answered in the guest (spec/opencl/ctxprops.c). */
void ava_opencl_ctxprops_observe(const struct ava_guestlib_api *api, uint32_t fn_id,
				 void *const *args, void *ret);
void ava_opencl_ctxprops_handle_gone(const struct ava_guestlib_api *api, uint16_t handle_type,
				     const void *handle);

/* Coarse-grained SVM (spec/opencl/svm.c): which pointers are the session's. */
int ava_opencl_svm_filter(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
			  void *ret);

/*
 * The files a build reads (spec/opencl/build.c): ships them to the server
 * before clBuildProgram / clCompileProgram, and answers the build log and
 * options those leave.
 */
int ava_opencl_build_filter(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
			    void *ret);

#endif /* AVA_SPEC_OPENCL_GUEST_H */
