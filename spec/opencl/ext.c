/* SPDX-License-Identifier: MIT */
/*
 * How the OpenCL API server finds extension functions: the resolver of
 * spec/opencl.spec's ava_resolve_via entries (the cl_khr_command_buffer
 * and cl_pocl_content_size blocks).
 *
 * The generated server calls every remoted function by name, but an ICD
 * loader exports no extension function: the application is meant to find
 * them through clGetExtensionFunctionAddressForPlatform. So avagen defines
 * each of them in the server, with the header's own prototype, as a
 * forwarder to what this resolver answers for its name (looked up on first
 * use and kept); a function no platform knows returns CL_INVALID_OPERATION
 * (creators: NULL with that error), what a guest that calls one its device
 * does not offer gets.
 *
 * The lookup asks each platform in clGetPlatformIDs order and takes the
 * first answer. With one platform (PoCL) that is the platform of every
 * object; a server with several platforms implementing one extension would
 * need the object's own platform here.
 */
#define CL_TARGET_OPENCL_VERSION 300
#include <stddef.h>
#include <stdlib.h>

#include <CL/cl.h>
#include <CL/cl_ext.h>

/*
 * The real library's function called name, or NULL when no platform has
 * it. self is the generated forwarder of that name: a library whose lookup
 * finds functions by symbol may answer it, and it is none of the library's.
 */
void *ava_opencl_ext_resolve(const char *name, void *self);
void *ava_opencl_ext_resolve(const char *name, void *self)
{
	cl_platform_id *platforms = NULL;
	void *fn = NULL;
	cl_uint n = 0;

	if (clGetPlatformIDs(0, NULL, &n) != CL_SUCCESS || n == 0)
		return NULL;
	platforms = calloc(n, sizeof(*platforms));
	if (!platforms)
		return NULL;
	if (clGetPlatformIDs(n, platforms, NULL) == CL_SUCCESS) {
		for (cl_uint i = 0; i < n && !fn; i++) {
			fn = clGetExtensionFunctionAddressForPlatform(platforms[i], name);
			if (fn == self)
				fn = NULL;
		}
	}
	free(platforms);
	return fn;
}
