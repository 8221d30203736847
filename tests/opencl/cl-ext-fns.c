/* SPDX-License-Identifier: MIT */
/*
 * cl-ext-fns: every extension the platform and its devices report comes with
 * the functions the implementation hands out for it.
 *
 * The candidates are every function the OpenCL extension headers declare
 * (CL/cl_ext.h, the sharing headers, whose KHR/EXT functions the ICD loader
 * knows) and PoCL's own (spec/opencl/pocl-ext.h), each with its extension:
 * cl-ext-names.h, generated from the headers by ext-names.awk. For each
 * extension reported (CL_PLATFORM_EXTENSIONS, each device's
 * CL_DEVICE_EXTENSIONS) it prints which candidates
 * clGetExtensionFunctionAddressForPlatform answers, so the diff against the
 * native run shows a function handed out natively and not remoted (or the
 * other way round). Each function handed out is then called at least once
 * through the address it was handed out at, with its result printed; one
 * this program does not know how to call fails the run, so that a function
 * handed out is never left untested (cl_khr_command_buffer's are all called
 * by cl-cmdbuf).
 */
#include "clt.h"

#include <CL/cl_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opencl/pocl-ext.h"

static const struct {
	const char *extension;
	const char *name;
} candidates[] = {
#include "cl-ext-names.h"
};
#define N_CANDIDATES (sizeof(candidates) / sizeof(candidates[0]))

/* The reported extensions, each once, in the order first reported. */
static char *reported[256];
static unsigned n_reported;

static void add_reported(const char *list)
{
	char *copy = strdup(list);
	CLT_ASSERT(copy != NULL, "out of memory");
	for (char *save = NULL, *e = strtok_r(copy, " ", &save); e;
	     e = strtok_r(NULL, " ", &save)) {
		unsigned i = 0;
		while (i < n_reported && strcmp(reported[i], e) != 0)
			i++;
		if (i == n_reported) {
			CLT_ASSERT(n_reported < 256, "too many extensions");
			reported[n_reported] = strdup(e);
			CLT_ASSERT(reported[n_reported] != NULL, "out of memory");
			n_reported++;
		}
	}
	free(copy);
}

static void call_icd_get(cl_platform_id platform, void *fn)
{
	clIcdGetPlatformIDsKHR_fn icd_get = (clIcdGetPlatformIDsKHR_fn)fn;
	cl_platform_id ids[16];
	cl_uint n = 0;
	bool listed = false;

	CLT_CHECK(icd_get(16, ids, &n));
	for (cl_uint i = 0; i < n && i < 16; i++)
		listed = listed || ids[i] == platform;
	printf("  clIcdGetPlatformIDsKHR: lists the platform: %s\n", clt_yes(listed));
	CLT_ASSERT(listed, "clIcdGetPlatformIDsKHR does not list the platform");
}

/*
 * clSetContentSizeBufferPoCL: a buffer's content size lives in another
 * buffer; the buffer's bytes stay what they are. The library's own errors
 * for a missing buffer of either kind print as they are.
 */
static void call_set_content_size(cl_platform_id platform, cl_device_id device, void *fn)
{
	clSetContentSizeBufferPoCL_fn set_size = (clSetContentSizeBufferPoCL_fn)fn;
	cl_context ctx = clt_context_new(platform, device);
	cl_command_queue q;
	static unsigned char bytes[4096], back[4096];
	cl_ulong content = 1000;
	cl_int err;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 7 + 3);
	q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	cl_mem buf = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof(bytes),
				    bytes, &err);
	CLT_CHECK(err);
	cl_mem size_buf = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
					 sizeof(content), &content, &err);
	CLT_CHECK(err);
	err = set_size(buf, size_buf);
	printf("  clSetContentSizeBufferPoCL(buffer, size buffer): %s\n", clt_err_name(err));
	CLT_CHECK(err);
	printf("  clSetContentSizeBufferPoCL(NULL, size buffer): %s\n",
	       clt_err_name(set_size(NULL, size_buf)));
	printf("  clSetContentSizeBufferPoCL(buffer, NULL): %s\n",
	       clt_err_name(set_size(buf, NULL)));
	CLT_CHECK(clEnqueueReadBuffer(q, buf, CL_TRUE, 0, 1000, back, 0, NULL, NULL));
	printf("  the content read back: %s\n", clt_yes(memcmp(back, bytes, 1000) == 0));
	CLT_ASSERT(memcmp(back, bytes, 1000) == 0, "the buffer's content changed");
	CLT_CHECK(clReleaseMemObject(size_buf));
	CLT_CHECK(clReleaseMemObject(buf));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
}

int main(void)
{
	cl_platform_id platform;
	cl_device_id device, devices[16];
	cl_uint n_devices = 0;

	clt_init(60);
	clt_pick_device(&platform, &device);

	char *list = clt_platform_string(platform, CL_PLATFORM_EXTENSIONS);
	add_reported(list);
	free(list);
	CLT_CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 16, devices, &n_devices));
	for (cl_uint d = 0; d < n_devices && d < 16; d++) {
		list = clt_device_string(devices[d], CL_DEVICE_EXTENSIONS);
		add_reported(list);
		free(list);
	}

	int untested = 0;
	for (unsigned r = 0; r < n_reported; r++) {
		printf("%s:", reported[r]);
		unsigned found = 0;
		for (size_t i = 0; i < N_CANDIDATES; i++) {
			if (strcmp(candidates[i].extension, reported[r]) != 0)
				continue;
			void *fn =
			    clGetExtensionFunctionAddressForPlatform(platform, candidates[i].name);
			if (!fn)
				continue;
			printf(" %s", candidates[i].name);
			found++;
		}
		printf("%s\n", found ? "" : " (no function)");
		for (size_t i = 0; i < N_CANDIDATES; i++) {
			const char *name = candidates[i].name;
			if (strcmp(candidates[i].extension, reported[r]) != 0)
				continue;
			void *fn = clGetExtensionFunctionAddressForPlatform(platform, name);
			if (!fn)
				continue;
			if (strcmp(name, "clIcdGetPlatformIDsKHR") == 0) {
				call_icd_get(platform, fn);
			} else if (strcmp(name, "clSetContentSizeBufferPoCL") == 0) {
				call_set_content_size(platform, device, fn);
			} else if (strcmp(reported[r], "cl_khr_command_buffer") == 0) {
				/* cl-cmdbuf calls each of them, fetched the same way */
			} else {
				fprintf(stderr,
					"cl-ext-fns: %s (%s) is handed out, and not called here\n",
					name, reported[r]);
				untested++;
			}
		}
	}
	CLT_ASSERT(untested == 0, "%d function(s) handed out and never called", untested);
	for (unsigned r = 0; r < n_reported; r++)
		free(reported[r]);
	return 0;
}
