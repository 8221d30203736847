/* SPDX-License-Identifier: MIT */
/*
 * cl-image: 2D images and samplers.
 *
 * Uploads a 64x32 RGBA8 picture into an image (clEnqueueCopyBufferToImage),
 * blurs it with a 3x3 box filter in a kernel that reads the image through a
 * clamp-to-edge sampler, and checks every pixel against the CPU. Then fills,
 * copies and reads back images (clEnqueueFillImage, clEnqueueCopyImage,
 * clEnqueueCopyImageToBuffer), and queries images, formats and samplers,
 * including the deprecated clCreateImage2D and clCreateSampler.
 */
/* The deprecated 1.x entry points are part of what this program checks. */
#define CL_USE_DEPRECATED_OPENCL_1_1_APIS
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include "clt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 64
#define H 32

static const char blur_src[] =
    "__kernel void blur(__read_only image2d_t img, sampler_t s, __global uint4 *out)\n"
    "{\n"
    "\tint x = get_global_id(0), y = get_global_id(1);\n"
    "\tuint4 sum = (uint4)(0);\n"
    "\tfor (int dy = -1; dy <= 1; dy++)\n"
    "\t\tfor (int dx = -1; dx <= 1; dx++)\n"
    "\t\t\tsum += read_imageui(img, s, (int2)(x + dx, y + dy));\n"
    "\tout[y * get_global_size(0) + x] = sum / 9;\n"
    "}\n";

static uint8_t pic[H][W][4];

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int main(void)
{
	clt_init(120);
	cl_platform_id platform;
	cl_device_id dev;
	cl_int err;

	clt_pick_device(&platform, &dev);
	cl_bool images = CL_FALSE;
	CLT_CHECK(clGetDeviceInfo(dev, CL_DEVICE_IMAGE_SUPPORT, sizeof(images), &images, NULL));
	printf("image support: %s\n", clt_yes(images));
	if (!images) {
		printf("cl-image: ok (no images to test)\n");
		return 0;
	}
	cl_context ctx = clt_context_new(platform, dev);
	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, dev, NULL, &err);
	CLT_CHECK(err);

	cl_uint n_formats = 0;
	CLT_CHECK(clGetSupportedImageFormats(ctx, CL_MEM_READ_ONLY, CL_MEM_OBJECT_IMAGE2D, 0, NULL,
					     &n_formats));
	cl_image_format *formats = calloc(n_formats ? n_formats : 1, sizeof(*formats));
	CLT_ASSERT(formats, "out of memory");
	CLT_CHECK(clGetSupportedImageFormats(ctx, CL_MEM_READ_ONLY, CL_MEM_OBJECT_IMAGE2D,
					     n_formats, formats, NULL));
	bool have_rgba8 = false;
	for (cl_uint i = 0; i < n_formats; i++)
		have_rgba8 |= formats[i].image_channel_order == CL_RGBA &&
			      formats[i].image_channel_data_type == CL_UNSIGNED_INT8;
	free(formats);
	printf("2D read-only formats: %u, RGBA/UNSIGNED_INT8 among them: %s\n", n_formats,
	       clt_yes(have_rgba8));
	CLT_ASSERT(have_rgba8, "no RGBA/UNSIGNED_INT8 format");

	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			for (int c = 0; c < 4; c++)
				pic[y][x][c] = (uint8_t)((x * 7 + y * 13 + c * 61) ^ (x * y));
	cl_mem src =
	    clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof(pic), pic, &err);
	CLT_CHECK(err);
	const cl_image_format fmt = { CL_RGBA, CL_UNSIGNED_INT8 };
	cl_image_desc desc;
	memset(&desc, 0, sizeof(desc));
	desc.image_type = CL_MEM_OBJECT_IMAGE2D;
	desc.image_width = W;
	desc.image_height = H;
	cl_mem img = clCreateImage(ctx, CL_MEM_READ_ONLY, &fmt, &desc, NULL, &err);
	CLT_CHECK(err);
	const size_t origin[3] = { 0, 0, 0 }, region[3] = { W, H, 1 };
	CLT_CHECK(clEnqueueCopyBufferToImage(q, src, img, 0, origin, region, 0, NULL, NULL));

	size_t width = 0, height = 0, elem = 0;
	cl_image_format got_fmt;
	CLT_CHECK(clGetImageInfo(img, CL_IMAGE_WIDTH, sizeof(width), &width, NULL));
	CLT_CHECK(clGetImageInfo(img, CL_IMAGE_HEIGHT, sizeof(height), &height, NULL));
	CLT_CHECK(clGetImageInfo(img, CL_IMAGE_ELEMENT_SIZE, sizeof(elem), &elem, NULL));
	CLT_CHECK(clGetImageInfo(img, CL_IMAGE_FORMAT, sizeof(got_fmt), &got_fmt, NULL));
	printf("image: %zux%zu, %zu bytes per pixel, format is RGBA/UNSIGNED_INT8: %s\n", width,
	       height, elem,
	       clt_yes(got_fmt.image_channel_order == CL_RGBA &&
		       got_fmt.image_channel_data_type == CL_UNSIGNED_INT8));

	const cl_sampler_properties sprops[] = {
		CL_SAMPLER_NORMALIZED_COORDS,
		CL_FALSE,
		CL_SAMPLER_ADDRESSING_MODE,
		CL_ADDRESS_CLAMP_TO_EDGE,
		CL_SAMPLER_FILTER_MODE,
		CL_FILTER_NEAREST,
		0,
	};
	cl_sampler sampler = clCreateSamplerWithProperties(ctx, sprops, &err);
	CLT_CHECK(err);
	cl_addressing_mode am = 0;
	cl_context sctx = NULL;
	CLT_CHECK(clGetSamplerInfo(sampler, CL_SAMPLER_ADDRESSING_MODE, sizeof(am), &am, NULL));
	CLT_CHECK(clGetSamplerInfo(sampler, CL_SAMPLER_CONTEXT, sizeof(sctx), &sctx, NULL));
	printf("sampler: clamp to edge: %s, context is the context: %s\n",
	       clt_yes(am == CL_ADDRESS_CLAMP_TO_EDGE), clt_yes(sctx == ctx));
	CLT_CHECK(clRetainSampler(sampler));
	CLT_CHECK(clReleaseSampler(sampler));

	cl_program prog = clt_program_build(ctx, dev, blur_src, NULL);
	cl_kernel k = clCreateKernel(prog, "blur", &err);
	CLT_CHECK(err);
	cl_mem out = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, (size_t)W * H * 16, NULL, &err);
	CLT_CHECK(err);
	CLT_CHECK(clSetKernelArg(k, 0, sizeof(cl_mem), &img));
	CLT_CHECK(clSetKernelArg(k, 1, sizeof(cl_sampler), &sampler));
	CLT_CHECK(clSetKernelArg(k, 2, sizeof(cl_mem), &out));
	const size_t global[2] = { W, H };
	CLT_CHECK(clEnqueueNDRangeKernel(q, k, 2, NULL, global, NULL, 0, NULL, NULL));
	static uint32_t blurred[H][W][4];
	CLT_CHECK(clEnqueueReadBuffer(q, out, CL_TRUE, 0, sizeof(blurred), blurred, 0, NULL, NULL));
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			for (int c = 0; c < 4; c++) {
				uint32_t sum = 0;
				for (int dy = -1; dy <= 1; dy++)
					for (int dx = -1; dx <= 1; dx++)
						sum += pic[clampi(y + dy, 0, H - 1)]
							  [clampi(x + dx, 0, W - 1)][c];
				CLT_ASSERT(blurred[y][x][c] == sum / 9,
					   "blur (%d,%d).%d = %u, want %u", x, y, c,
					   blurred[y][x][c], sum / 9);
			}
	printf("blur: %d pixels correct, checksum %016" PRIx64 "\n", W * H,
	       clt_fnv1a(blurred, sizeof(blurred)));

	/* Fill a deprecated-API image, copy a corner of the picture over it, read it back. */
	cl_mem img2 = clCreateImage2D(ctx, CL_MEM_READ_WRITE, &fmt, W, H, 0, NULL, &err);
	CLT_CHECK(err);
	const cl_uint4 color = { { 1, 2, 3, 4 } };
	CLT_CHECK(clEnqueueFillImage(q, img2, &color, origin, region, 0, NULL, NULL));
	const size_t corner[3] = { 8, 4, 1 }, at[3] = { 16, 8, 0 };
	CLT_CHECK(clEnqueueCopyImage(q, img, img2, origin, at, corner, 0, NULL, NULL));
	cl_mem back = clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof(pic), NULL, &err);
	CLT_CHECK(err);
	CLT_CHECK(clEnqueueCopyImageToBuffer(q, img2, back, origin, region, 0, 0, NULL, NULL));
	static uint8_t got[H][W][4];
	CLT_CHECK(clEnqueueReadBuffer(q, back, CL_TRUE, 0, sizeof(got), got, 0, NULL, NULL));
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			for (int c = 0; c < 4; c++) {
				bool in = x >= 16 && x < 24 && y >= 8 && y < 12;
				uint8_t want = in ? pic[y - 8][x - 16][c] : (uint8_t)(c + 1);
				CLT_ASSERT(got[y][x][c] == want,
					   "fill+copy (%d,%d).%d = %u, want %u", x, y, c,
					   got[y][x][c], want);
			}
	printf("fill, copy and read back: %d pixels correct\n", W * H);

	/* clEnqueueCopyBufferRect: the picture's rows 2..5, bytes 40..71, to the origin. */
	const size_t rsrc[3] = { 40, 2, 0 }, rdst[3] = { 0, 0, 0 }, rreg[3] = { 32, 4, 1 };
	CLT_CHECK(clEnqueueCopyBufferRect(q, src, back, rsrc, rdst, rreg, W * 4, 0, 32, 0, 0, NULL,
					  NULL));
	static uint8_t rect[4][32];
	CLT_CHECK(clEnqueueReadBuffer(q, back, CL_TRUE, 0, sizeof(rect), rect, 0, NULL, NULL));
	for (int y = 0; y < 4; y++)
		for (int x = 0; x < 32; x++)
			CLT_ASSERT(rect[y][x] == pic[y + 2][(40 + x) / 4][(40 + x) % 4],
				   "rect copy (%d,%d) = %u", x, y, rect[y][x]);
	printf("buffer rectangle copy: %d bytes correct\n", 4 * 32);

	cl_sampler old = clCreateSampler(ctx, CL_TRUE, CL_ADDRESS_REPEAT, CL_FILTER_LINEAR, &err);
	CLT_CHECK(err);
	cl_bool norm = CL_FALSE;
	CLT_CHECK(clGetSamplerInfo(old, CL_SAMPLER_NORMALIZED_COORDS, sizeof(norm), &norm, NULL));
	printf("clCreateSampler: normalized coordinates: %s\n", clt_yes(norm));
	CLT_CHECK(clReleaseSampler(old));

	/* An image descriptor naming no image type: the library's error. */
	desc.image_type = CL_MEM_OBJECT_BUFFER;
	cl_mem none = clCreateImage(ctx, CL_MEM_READ_ONLY, &fmt, &desc, NULL, &err);
	printf("image of type CL_MEM_OBJECT_BUFFER: %s, image %s\n", clt_err_name(err),
	       none ? "returned" : "NULL");
	if (none)
		CLT_CHECK(clReleaseMemObject(none));

	CLT_CHECK(clReleaseMemObject(back));
	CLT_CHECK(clReleaseMemObject(img2));
	CLT_CHECK(clReleaseMemObject(out));
	CLT_CHECK(clReleaseKernel(k));
	CLT_CHECK(clReleaseProgram(prog));
	CLT_CHECK(clReleaseSampler(sampler));
	CLT_CHECK(clReleaseMemObject(img));
	CLT_CHECK(clReleaseMemObject(src));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	printf("cl-image: ok\n");
	return 0;
}
