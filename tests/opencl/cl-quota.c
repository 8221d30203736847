/* SPDX-License-Identifier: MIT */
/*
 * cl-quota: device memory under a router memory quota, as an OpenCL program
 * sees it (tests/router/test_enforce.sh quota-opencl, with memory_quota
 * 1 MiB). Each step prints the error name the call returned:
 *
 *   a 768 KiB buffer fits; a second one does not (CL_MEM_OBJECT_ALLOCATION_FAILURE);
 *   a sub-buffer of the first, then the first released: its storage lives on
 *   in the sub-buffer, so a new 768 KiB buffer still does not fit;
 *   the sub-buffer released: now it fits.
 *
 * Natively (no quota) every allocation succeeds; the script only runs it remoted.
 * `cl-quota svm` makes one SVM allocation instead (see svm()).
 */
#include "clt.h"

#include <stdio.h>
#include <string.h>

static cl_mem buffer(cl_context ctx, size_t size, const char *what)
{
	cl_int err = CL_SUCCESS;
	cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, size, NULL, &err);
	printf("%s: %s%s\n", what, clt_err_name(err), m ? "" : " (no buffer)");
	return m;
}

static int svm(void);

int main(int argc, char **argv)
{
	cl_platform_id platform;
	cl_device_id device;

	clt_init(60);
	if (argc > 1 && strcmp(argv[1], "svm") == 0)
		return svm();
	clt_pick_device(&platform, &device);
	cl_context ctx = clt_context_new(platform, device);

	cl_mem first = buffer(ctx, 768 << 10, "first 768 KiB buffer");
	cl_mem second = buffer(ctx, 768 << 10, "second 768 KiB buffer");
	if (second)
		clReleaseMemObject(second);

	cl_buffer_region region = { 0, 4096 };
	cl_int err = CL_SUCCESS;
	cl_mem sub = first ? clCreateSubBuffer(first, CL_MEM_READ_WRITE,
					       CL_BUFFER_CREATE_TYPE_REGION, &region, &err)
			   : NULL;
	printf("sub-buffer of the first: %s\n", clt_err_name(err));
	if (first)
		printf("release the first: %s\n", clt_err_name(clReleaseMemObject(first)));
	cl_mem third = buffer(ctx, 768 << 10, "768 KiB while the sub-buffer lives");
	if (third)
		clReleaseMemObject(third);
	if (sub)
		printf("release the sub-buffer: %s\n", clt_err_name(clReleaseMemObject(sub)));
	cl_mem fourth = buffer(ctx, 768 << 10, "768 KiB after the sub-buffer went");
	if (fourth)
		clReleaseMemObject(fourth);
	clReleaseContext(ctx);
	return 0;
}

/*
 * cl-quota svm: one 64 KiB SVM allocation, freed again. The router cannot
 * account SVM, so under a memory quota it refuses it (NULL); the script
 * reads the router's refusal count, which tells that apart from a device
 * without coarse-grained SVM.
 */
static int svm(void)
{
	cl_platform_id platform;
	cl_device_id device;

	clt_pick_device(&platform, &device);
	cl_context ctx = clt_context_new(platform, device);
	void *p = clSVMAlloc(ctx, CL_MEM_READ_WRITE, 64 << 10, 0);
	printf("64 KiB SVM allocation: %s\n", p ? "allocated" : "NULL");
	if (p)
		clSVMFree(ctx, p);
	clReleaseContext(ctx);
	return 0;
}
