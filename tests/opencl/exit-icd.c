/* SPDX-License-Identifier: MIT */
/*
 * exit-icd: a vendor library (an ICD for ocl-icd) that gives up the way PoCL
 * does on what it does not implement, for lib-exit.sh: one platform, no
 * device, and clGetDeviceIDs for CL_DEVICE_TYPE_ACCELERATOR calls exit(3),
 * for CL_DEVICE_TYPE_CUSTOM abort(). Loaded into an AvA API server, it shows
 * what the server says when its library ends it.
 */
#define CL_TARGET_OPENCL_VERSION 300
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>
#include <CL/cl_ext.h>
#include <CL/cl_icd.h>

struct _cl_platform_id {
	const struct _cl_icd_dispatch *dispatch;
};

static cl_int CL_API_CALL get_platform_info(cl_platform_id platform, cl_platform_info name,
					    size_t size, void *value, size_t *ret_size)
{
	const char *s;

	(void)platform;
	switch (name) {
	case CL_PLATFORM_PROFILE:
		s = "FULL_PROFILE";
		break;
	case CL_PLATFORM_VERSION:
		s = "OpenCL 3.0 exit-icd";
		break;
	case CL_PLATFORM_NAME:
		s = "exit-icd";
		break;
	case CL_PLATFORM_VENDOR:
		s = "AvA tests";
		break;
	case CL_PLATFORM_EXTENSIONS:
		s = "cl_khr_icd";
		break;
	case CL_PLATFORM_ICD_SUFFIX_KHR:
		s = "EXIT";
		break;
	default:
		return CL_INVALID_VALUE;
	}
	if (value && size < strlen(s) + 1)
		return CL_INVALID_VALUE;
	if (value)
		memcpy(value, s, strlen(s) + 1);
	if (ret_size)
		*ret_size = strlen(s) + 1;
	return CL_SUCCESS;
}

static cl_int CL_API_CALL get_device_ids(cl_platform_id platform, cl_device_type type, cl_uint n,
					 cl_device_id *devices, cl_uint *ret_n)
{
	(void)platform;
	(void)n;
	(void)devices;
	if (type == CL_DEVICE_TYPE_ACCELERATOR)
		exit(3);
	if (type == CL_DEVICE_TYPE_CUSTOM)
		abort();
	if (ret_n)
		*ret_n = 0;
	return CL_DEVICE_NOT_FOUND;
}

static void *CL_API_CALL get_extension_function_address(const char *name);

static void *CL_API_CALL get_extension_function_address_for_platform(cl_platform_id platform,
								     const char *name)
{
	(void)platform;
	return get_extension_function_address(name);
}

static const struct _cl_icd_dispatch dispatch = {
	.clGetPlatformInfo = get_platform_info,
	.clGetDeviceIDs = get_device_ids,
	.clGetExtensionFunctionAddressForPlatform = get_extension_function_address_for_platform,
};
static struct _cl_platform_id the_platform = { &dispatch };

static cl_int CL_API_CALL icd_get_platform_ids(cl_uint n, cl_platform_id *platforms, cl_uint *ret_n)
{
	if ((n == 0 && platforms) || (!platforms && !ret_n))
		return CL_INVALID_VALUE;
	if (platforms)
		platforms[0] = &the_platform;
	if (ret_n)
		*ret_n = 1;
	return CL_SUCCESS;
}

static void *CL_API_CALL get_extension_function_address(const char *name)
{
	if (name && strcmp(name, "clIcdGetPlatformIDsKHR") == 0)
		return (void *)icd_get_platform_ids;
	if (name && strcmp(name, "clGetPlatformInfo") == 0)
		return (void *)get_platform_info;
	return NULL;
}

/* What ocl-icd looks up by name in a vendor library. */
__attribute__((visibility("default"))) void *CL_API_CALL
clGetExtensionFunctionAddress(const char *name)
{
	return get_extension_function_address(name);
}
