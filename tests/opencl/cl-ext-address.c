/* SPDX-License-Identifier: MIT */
/*
 * cl-ext-address: extension entry points by name, the way ICD loaders and
 * applications find them (clGetExtensionFunctionAddress[ForPlatform]), and
 * the platform's ICD suffix. The answers print the same natively, remoted
 * through the soname route and through the ICD route.
 */
#include "clt.h"

#include <CL/cl_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	cl_platform_id platform;
	cl_device_id device;

	clt_init(60);
	clt_pick_device(&platform, &device);

	char *suffix = clt_platform_string(platform, CL_PLATFORM_ICD_SUFFIX_KHR);
	printf("CL_PLATFORM_ICD_SUFFIX_KHR: %s\n", suffix);
	free(suffix);
	char *exts = clt_platform_string(platform, CL_PLATFORM_EXTENSIONS);
	printf("platform reports cl_khr_icd: %s\n", clt_yes(strstr(exts, "cl_khr_icd") != NULL));
	free(exts);

	clIcdGetPlatformIDsKHR_fn icd_get =
	    (clIcdGetPlatformIDsKHR_fn)clGetExtensionFunctionAddressForPlatform(
		platform, "clIcdGetPlatformIDsKHR");
	printf("clIcdGetPlatformIDsKHR for the platform: %s\n", icd_get ? "found" : "NULL");
	CLT_ASSERT(icd_get != NULL, "no clIcdGetPlatformIDsKHR for a platform with cl_khr_icd");
	cl_uint n = 0;
	CLT_CHECK(icd_get(0, NULL, &n));
	CLT_ASSERT(n >= 1, "clIcdGetPlatformIDsKHR reports no platform");
	cl_platform_id *ids = calloc(n, sizeof(*ids));
	CLT_ASSERT(ids != NULL, "out of memory");
	CLT_CHECK(icd_get(n, ids, NULL));
	bool same = false;
	for (cl_uint i = 0; i < n; i++)
		same = same || ids[i] == platform;
	printf("clIcdGetPlatformIDsKHR lists the platform: %s\n", clt_yes(same));
	CLT_ASSERT(same, "clIcdGetPlatformIDsKHR does not list the platform");
	free(ids);

	void *none = clGetExtensionFunctionAddressForPlatform(platform, "clAvaNoSuchFunctionXYZ");
	printf("an unknown name: %s\n", none ? "found" : "NULL");
	CLT_ASSERT(none == NULL, "an unknown name has an address");
	none = clGetExtensionFunctionAddressForPlatform(platform, NULL);
	printf("a NULL name: %s\n", none ? "found" : "NULL");
	return 0;
}
