/* SPDX-License-Identifier: MIT */
/*
 * PoCL's own extension functions, declared as PoCL's CL/cl_ext_pocl.h does
 * (a header Debian's PoCL packages do not install). PoCL reports the
 * extension in CL_PLATFORM_EXTENSIONS and hands the functions out through
 * clGetExtensionFunctionAddressForPlatform; spec/opencl.spec remotes them
 * like the cl_khr_command_buffer block (ava_resolve_via), and the guest
 * hands them out (spec/opencl/icd.c).
 */
#ifndef AVA_OPENCL_POCL_EXT_H
#define AVA_OPENCL_POCL_EXT_H

#include <CL/cl.h>

/*
 * cl_pocl_content_size: content_size_buffer (a buffer of at least one
 * cl_ulong) holds how many bytes of buffer are meaningful, so that the
 * runtime may move only those between devices.
 */
#ifndef cl_pocl_content_size
#define cl_pocl_content_size 1

typedef cl_int(CL_API_CALL *clSetContentSizeBufferPoCL_fn)(cl_mem buffer,
							   cl_mem content_size_buffer);

extern CL_API_ENTRY cl_int CL_API_CALL clSetContentSizeBufferPoCL(cl_mem buffer,
								  cl_mem content_size_buffer);
#endif

#endif /* AVA_OPENCL_POCL_EXT_H */
