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
 * `cl-quota svm` makes one SVM allocation instead (see svm()); `cl-quota
 * kinds` the other memory-object creators (see kinds()).
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
static int kinds(void);

int main(int argc, char **argv)
{
	cl_platform_id platform;
	cl_device_id device;

	clt_init(60);
	if (argc > 1 && strcmp(argv[1], "svm") == 0)
		return svm();
	if (argc > 1 && strcmp(argv[1], "kinds") == 0)
		return kinds();
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

/*
 * cl-quota kinds: with a 768 KiB buffer in the 1 MiB quota, a
 * clCreateBufferWithProperties of 768 KiB does not fit and one of 128 KiB
 * does; a 64x64 RGBA8 image (clCreateImage, clCreateImageWithProperties)
 * and a 16 x 16-byte pipe cannot be sized by the router, so under a memory
 * quota they are refused (CL_MEM_OBJECT_ALLOCATION_FAILURE, the spec's
 * over-quota error). Natively PoCL creates all but the pipe: its CPU device
 * has no pipes (CL_INVALID_OPERATION).
 */
static void report(const char *what, cl_mem m, cl_int err)
{
	printf("%s: %s%s\n", what, clt_err_name(err), m ? "" : " (no object)");
	if (m)
		clReleaseMemObject(m);
}

static int kinds(void)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_int err;

	clt_pick_device(&platform, &device);
	cl_context ctx = clt_context_new(platform, device);
	cl_mem first = buffer(ctx, 768 << 10, "768 KiB buffer");

	err = CL_SUCCESS;
	cl_mem m =
	    clCreateBufferWithProperties(ctx, NULL, CL_MEM_READ_WRITE, 768 << 10, NULL, &err);
	report("768 KiB buffer with properties", m, err);
	err = CL_SUCCESS;
	m = clCreateBufferWithProperties(ctx, NULL, CL_MEM_READ_WRITE, 128 << 10, NULL, &err);
	report("128 KiB buffer with properties", m, err);

	const cl_image_format fmt = { CL_RGBA, CL_UNSIGNED_INT8 };
	cl_image_desc desc;
	memset(&desc, 0, sizeof(desc));
	desc.image_type = CL_MEM_OBJECT_IMAGE2D;
	desc.image_width = 64;
	desc.image_height = 64;
	err = CL_SUCCESS;
	m = clCreateImage(ctx, CL_MEM_READ_WRITE, &fmt, &desc, NULL, &err);
	report("64x64 RGBA8 image", m, err);
	err = CL_SUCCESS;
	m = clCreateImageWithProperties(ctx, NULL, CL_MEM_READ_WRITE, &fmt, &desc, NULL, &err);
	report("64x64 RGBA8 image with properties", m, err);
	err = CL_SUCCESS;
	m = clCreatePipe(ctx, CL_MEM_READ_WRITE, 16, 16, NULL, &err);
	report("16 x 16-byte pipe", m, err);

	if (first)
		clReleaseMemObject(first);
	clReleaseContext(ctx);
	return 0;
}
