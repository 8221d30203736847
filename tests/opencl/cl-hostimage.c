/* SPDX-License-Identifier: MIT */
/*
 * cl-hostimage: CL_MEM_USE_HOST_PTR images with the application's memory at
 * pitches of its own.
 *
 * A 2D image (clCreateImage, a row pitch wider than a row) and a 3D one
 * (clCreateImage3D, row and slice pitches with gaps): CL_MEM_HOST_PTR is
 * the application's pointer and CL_MEM_FLAGS has USE_HOST_PTR; a kernel
 * writing the 2D image, or a fill of the 3D one, then clFinish: host_ptr
 * holds the results at its pitches, the gaps untouched; a map of a region
 * returns host_ptr + the region's offset with the host pitches and the
 * current bytes, and what is written through it reaches the device.
 * A 2D image array (clCreateImageWithProperties) written by a non-blocking
 * clEnqueueWriteImage: host_ptr has the bytes once clWaitForEvents returns.
 * Also CL_IMAGE_ROW_PITCH / CL_IMAGE_SLICE_PITCH. Exits 77 without image
 * support.
 */
#define CL_USE_DEPRECATED_OPENCL_1_1_APIS
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include "clt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W   16
#define H   8
#define D   3
#define GAP 0xee /* bytes between rows and slices */

static const char *src = "kernel void paint(write_only image2d_t img)\n"
			 "{\n"
			 "	int x = get_global_id(0), y = get_global_id(1);\n"
			 "	write_imageui(img, (int2)(x, y), (uint4)(x * 100 + y, 0, 0, 0));\n"
			 "}\n";

static void report(const char *what, int bad)
{
	printf("%s: mismatches %d\n", what, bad);
	CLT_ASSERT(bad == 0, "%s: %d wrong", what, bad);
}

static cl_uint *at(unsigned char *host, size_t rp, size_t sp, size_t x, size_t y, size_t z)
{
	return (cl_uint *)(host + z * sp + y * rp + x * sizeof(cl_uint));
}

/* Gap bytes (not in a row of the image) that are not GAP any more. */
static int gaps_bad(const unsigned char *host, size_t rp, size_t sp, size_t rows, size_t slices)
{
	int bad = 0;

	for (size_t z = 0; z < slices; z++)
		for (size_t off = 0; off < (slices > 1 ? sp : rp * rows); off++) {
			bool in_row = off % rp < W * sizeof(cl_uint) && off / rp < rows;
			bad += !in_row && host[z * sp + off] != GAP;
		}
	return bad;
}

static void info(cl_mem img, void *host, const char *what)
{
	void *hp = NULL;
	cl_mem_flags flags = 0;
	size_t rp = 0, sp = 0;

	CLT_CHECK(clGetMemObjectInfo(img, CL_MEM_HOST_PTR, sizeof(hp), &hp, NULL));
	CLT_CHECK(clGetMemObjectInfo(img, CL_MEM_FLAGS, sizeof(flags), &flags, NULL));
	CLT_CHECK(clGetImageInfo(img, CL_IMAGE_ROW_PITCH, sizeof(rp), &rp, NULL));
	CLT_CHECK(clGetImageInfo(img, CL_IMAGE_SLICE_PITCH, sizeof(sp), &sp, NULL));
	printf("%s: CL_MEM_HOST_PTR is host_ptr: %s, USE_HOST_PTR: %s, COPY_HOST_PTR: %s, "
	       "CL_IMAGE_ROW_PITCH %zu, CL_IMAGE_SLICE_PITCH %zu\n",
	       what, clt_yes(hp == host), clt_yes(flags & CL_MEM_USE_HOST_PTR),
	       clt_yes(flags & CL_MEM_COPY_HOST_PTR), rp, sp);
	CLT_ASSERT(hp == host, "%s: CL_MEM_HOST_PTR is not host_ptr", what);
}

static void image_2d(cl_context ctx, cl_device_id device, cl_command_queue q)
{
	const size_t rp = W * sizeof(cl_uint) + 24;
	unsigned char *host = malloc(rp * H);
	cl_image_format fmt = { CL_R, CL_UNSIGNED_INT32 };
	cl_image_desc desc = { .image_type = CL_MEM_OBJECT_IMAGE2D,
			       .image_width = W,
			       .image_height = H,
			       .image_row_pitch = rp };
	cl_int err;

	CLT_ASSERT(host, "out of memory");
	memset(host, GAP, rp * H);
	for (size_t y = 0; y < H; y++)
		for (size_t x = 0; x < W; x++)
			*at(host, rp, 0, x, y, 0) = 7;
	cl_mem img =
	    clCreateImage(ctx, CL_MEM_WRITE_ONLY | CL_MEM_USE_HOST_PTR, &fmt, &desc, host, &err);
	CLT_CHECK(err);
	info(img, host, "2D image");

	cl_program prog = clt_program_build(ctx, device, src, NULL);
	cl_kernel paint = clCreateKernel(prog, "paint", &err);
	CLT_CHECK(err);
	CLT_CHECK(clSetKernelArg(paint, 0, sizeof(img), &img));
	size_t gws[2] = { W, H };
	CLT_CHECK(clEnqueueNDRangeKernel(q, paint, 2, NULL, gws, NULL, 0, NULL, NULL));
	CLT_CHECK(clFinish(q));
	int bad = 0;
	for (size_t y = 0; y < H; y++)
		for (size_t x = 0; x < W; x++)
			bad += *at(host, rp, 0, x, y, 0) != x * 100 + y;
	report("2D: host_ptr after the kernel and clFinish", bad);
	report("2D: gaps between rows", gaps_bad(host, rp, 0, H, 1));

	/* a map of a region: host_ptr + offset, host pitches, current bytes; writes reach the device */
	size_t origin[3] = { 2, 1, 0 }, region[3] = { 4, 3, 1 }, row_pitch = 0, slice_pitch = 0;
	cl_uint *m = clEnqueueMapImage(q, img, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, origin, region,
				       &row_pitch, &slice_pitch, 0, NULL, NULL, &err);
	CLT_CHECK(err);
	printf("2D map: at host_ptr + offset: %s, row pitch is host's: %s, slice pitch %zu\n",
	       clt_yes((void *)m == (void *)at(host, rp, 0, 2, 1, 0)), clt_yes(row_pitch == rp),
	       slice_pitch);
	bad = 0;
	for (size_t y = 0; y < region[1]; y++)
		for (size_t x = 0; x < region[0]; x++) {
			cl_uint *e = (cl_uint *)((unsigned char *)m + y * row_pitch) + x;
			bad += *e != (x + 2) * 100 + y + 1;
			*e = 5000 + (cl_uint)(y * 10 + x);
		}
	report("2D map holds the kernel's results", bad);
	CLT_CHECK(clEnqueueUnmapMemObject(q, img, m, 0, NULL, NULL));
	cl_uint got[H][W];
	size_t zero[3] = { 0, 0, 0 }, all[3] = { W, H, 1 };
	CLT_CHECK(clEnqueueReadImage(q, img, CL_TRUE, zero, all, 0, 0, got, 0, NULL, NULL));
	bad = 0;
	for (size_t y = 0; y < H; y++)
		for (size_t x = 0; x < W; x++) {
			bool in = x >= 2 && x < 6 && y >= 1 && y < 4;
			cl_uint want =
			    in ? 5000 + (cl_uint)((y - 1) * 10 + x - 2) : (cl_uint)(x * 100 + y);
			bad += got[y][x] != want;
		}
	report("2D: the device has the map's writes", bad);

	CLT_CHECK(clReleaseKernel(paint));
	CLT_CHECK(clReleaseProgram(prog));
	CLT_CHECK(clReleaseMemObject(img));
	free(host);
}

static void image_3d(cl_context ctx, cl_command_queue q)
{
	const size_t rp = W * sizeof(cl_uint) + 8, sp = rp * H + 2 * rp;
	unsigned char *host = malloc(sp * D);
	cl_image_format fmt = { CL_R, CL_UNSIGNED_INT32 };
	cl_int err;

	CLT_ASSERT(host, "out of memory");
	memset(host, GAP, sp * D);
	for (size_t z = 0; z < D; z++)
		for (size_t y = 0; y < H; y++)
			for (size_t x = 0; x < W; x++)
				*at(host, rp, sp, x, y, z) = (cl_uint)(z * 1000 + y * 100 + x);
	cl_mem img = clCreateImage3D(ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, &fmt, W, H, D,
				     rp, sp, host, &err);
	CLT_CHECK(err);
	info(img, host, "3D image");

	/* a fill of a box, then clFinish: host_ptr has it */
	cl_uint4 color = { { 42, 0, 0, 0 } };
	size_t forigin[3] = { 1, 2, 1 }, fregion[3] = { 3, 2, 2 };
	CLT_CHECK(clEnqueueFillImage(q, img, &color, forigin, fregion, 0, NULL, NULL));
	CLT_CHECK(clFinish(q));
	int bad = 0;
	for (size_t z = 0; z < D; z++)
		for (size_t y = 0; y < H; y++)
			for (size_t x = 0; x < W; x++) {
				bool in = x >= 1 && x < 4 && y >= 2 && y < 4 && z >= 1 && z < 3;
				cl_uint want = in ? 42 : (cl_uint)(z * 1000 + y * 100 + x);
				bad += *at(host, rp, sp, x, y, z) != want;
			}
	report("3D: host_ptr after a fill and clFinish", bad);
	report("3D: gaps between rows and slices", gaps_bad(host, rp, sp, H, D));

	size_t origin[3] = { 3, 1, 1 }, region[3] = { 5, 4, 2 }, row_pitch = 0, slice_pitch = 0;
	cl_uint *m = clEnqueueMapImage(q, img, CL_TRUE, CL_MAP_READ, origin, region, &row_pitch,
				       &slice_pitch, 0, NULL, NULL, &err);
	CLT_CHECK(err);
	printf("3D map: at host_ptr + offset: %s, row pitch is host's: %s, slice pitch is "
	       "host's: %s\n",
	       clt_yes((void *)m == (void *)at(host, rp, sp, 3, 1, 1)), clt_yes(row_pitch == rp),
	       clt_yes(slice_pitch == sp));
	bad = 0;
	for (size_t z = 0; z < region[2]; z++)
		for (size_t y = 0; y < region[1]; y++)
			for (size_t x = 0; x < region[0]; x++) {
				size_t ix = x + 3, iy = y + 1, iz = z + 1;
				bool in =
				    ix >= 1 && ix < 4 && iy >= 2 && iy < 4 && iz >= 1 && iz < 3;
				cl_uint want = in ? 42 : (cl_uint)(iz * 1000 + iy * 100 + ix);
				bad += *(cl_uint *)((unsigned char *)m + z * slice_pitch +
						    y * row_pitch + x * sizeof(cl_uint)) != want;
			}
	report("3D map holds the current bytes", bad);
	CLT_CHECK(clEnqueueUnmapMemObject(q, img, m, 0, NULL, NULL));
	CLT_CHECK(clFinish(q));
	CLT_CHECK(clReleaseMemObject(img));
	free(host);
}

/* A 2D image array (clCreateImageWithProperties) written by clEnqueueWriteImage, then waited for. */
static void image_2d_array(cl_context ctx, cl_command_queue q)
{
	const size_t rp = W * sizeof(cl_uint) + 4, sp = rp * H + rp, n = 2;
	unsigned char *host = malloc(sp * n);
	cl_uint bytes[2][H][W];
	cl_image_format fmt = { CL_R, CL_UNSIGNED_INT32 };
	cl_image_desc desc = { .image_type = CL_MEM_OBJECT_IMAGE2D_ARRAY,
			       .image_width = W,
			       .image_height = H,
			       .image_array_size = n,
			       .image_row_pitch = rp,
			       .image_slice_pitch = sp };
	cl_int err;

	CLT_ASSERT(host, "out of memory");
	memset(host, GAP, sp * n);
	for (size_t z = 0; z < n; z++)
		for (size_t y = 0; y < H; y++)
			for (size_t x = 0; x < W; x++) {
				*at(host, rp, sp, x, y, z) = 1;
				bytes[z][y][x] = (cl_uint)(z * 10000 + y * 100 + x + 3);
			}
	cl_mem img =
	    clCreateImageWithProperties(ctx, NULL, CL_MEM_USE_HOST_PTR, &fmt, &desc, host, &err);
	CLT_CHECK(err);
	info(img, host, "2D image array");
	size_t zero[3] = { 0, 0, 0 }, all[3] = { W, H, n };
	cl_event ev;
	CLT_CHECK(clEnqueueWriteImage(q, img, CL_FALSE, zero, all, 0, 0, bytes, 0, NULL, &ev));
	CLT_CHECK(clWaitForEvents(1, &ev));
	CLT_CHECK(clReleaseEvent(ev));
	int bad = 0;
	for (size_t z = 0; z < n; z++)
		for (size_t y = 0; y < H; y++)
			for (size_t x = 0; x < W; x++)
				bad += *at(host, rp, sp, x, y, z) != bytes[z][y][x];
	report("2D array: host_ptr after a write and clWaitForEvents", bad);
	report("2D array: gaps between rows and slices", gaps_bad(host, rp, sp, H, n));
	CLT_CHECK(clFinish(q));
	CLT_CHECK(clReleaseMemObject(img));
	free(host);
}

int main(void)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_bool images = CL_FALSE;
	cl_int err;

	clt_init(120);
	clt_pick_device(&platform, &device);
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_IMAGE_SUPPORT, sizeof(images), &images, NULL));
	if (!images) {
		fprintf(stderr, "cl-hostimage: skipped: the device has no images\n");
		return CLT_SKIP;
	}
	cl_context ctx = clt_context_new(platform, device);
	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	image_2d(ctx, device, q);
	image_3d(ctx, q);
	image_2d_array(ctx, q);
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	return 0;
}
