/* SPDX-License-Identifier: MIT */
/*
 * cl-rect: transfers whose host memory is a rectangle of rows and slices.
 *
 * clEnqueueWriteBufferRect / clEnqueueReadBufferRect with origins and
 * pitches on both sides, 0 pitches, reads into memory prefilled with a
 * pattern (the bytes between the rect's rows and slices must stay as they
 * were), non-blocking reads checked after clWaitForEvents, after clFinish
 * and behind a user event; clEnqueueWriteImage / clEnqueueReadImage on a
 * 2D image (row pitch 0 and larger), a 3D image and a 2D image array with
 * slice pitches, and a 1D image array; and the errors for a NULL region, a
 * zero region and pitches that are too small; images created from pitched
 * host memory (CL_MEM_COPY_HOST_PTR, CL_MEM_USE_HOST_PTR, each creator),
 * image mappings (clEnqueueMapImage: reading, writing, both, invalidating) and
 * the errors for host memory the library must refuse. Every result is checked
 * against a model kept on the CPU; what is printed is the same on every
 * conforming run.
 */
/* clCreateImage2D and clCreateImage3D take host memory too. */
#define CL_USE_DEPRECATED_OPENCL_1_1_APIS
#include "clt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_BYTES  4096
#define HOST_BYTES 8192

/* Copies region (bytes, rows, slices) between two pitched layouts. */
static void rect_copy(uint8_t *dst, const size_t dorg[3], size_t drp, size_t dsp,
		      const uint8_t *src, const size_t sorg[3], size_t srp, size_t ssp,
		      const size_t region[3])
{
	if (!drp)
		drp = region[0];
	if (!dsp)
		dsp = drp * region[1];
	if (!srp)
		srp = region[0];
	if (!ssp)
		ssp = srp * region[1];
	for (size_t z = 0; z < region[2]; z++)
		for (size_t y = 0; y < region[1]; y++)
			memcpy(dst + (dorg[2] + z) * dsp + (dorg[1] + y) * drp + dorg[0],
			       src + (sorg[2] + z) * ssp + (sorg[1] + y) * srp + sorg[0],
			       region[0]);
}

static void prefill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static uint8_t host[HOST_BYTES], want[HOST_BYTES], model[BUF_BYTES];

/* host must equal want everywhere: the rect's bytes and every byte around them. */
static void check_host(const char *what)
{
	size_t bad = 0;
	for (size_t i = 0; i < HOST_BYTES; i++)
		bad += host[i] != want[i];
	CLT_ASSERT(bad == 0, "%s: %zu bytes differ from the model", what, bad);
	printf("%s: ok, host memory %016" PRIx64 "\n", what, clt_fnv1a(host, HOST_BYTES));
}

static void buffer_rects(cl_context ctx, cl_command_queue q)
{
	cl_int err;
	cl_mem buf = clCreateBuffer(ctx, CL_MEM_READ_WRITE, BUF_BYTES, NULL, &err);
	CLT_CHECK(err);
	prefill(model, BUF_BYTES, 11);
	CLT_CHECK(clEnqueueWriteBuffer(q, buf, CL_TRUE, 0, BUF_BYTES, model, 0, NULL, NULL));

	/* write: a 13 x 5 x 3 rect, buffer pitches 40/400, host pitches 17/170 */
	const size_t borg[3] = { 3, 2, 1 }, horg[3] = { 2, 1, 2 }, region[3] = { 13, 5, 3 };
	prefill(host, HOST_BYTES, 101);
	CLT_CHECK(clEnqueueWriteBufferRect(q, buf, CL_TRUE, borg, horg, region, 40, 400, 17, 170,
					   host, 0, NULL, NULL));
	rect_copy(model, borg, 40, 400, host, horg, 17, 170, region);
	uint8_t *all = malloc(BUF_BYTES);
	CLT_ASSERT(all, "out of memory");
	CLT_CHECK(clEnqueueReadBuffer(q, buf, CL_TRUE, 0, BUF_BYTES, all, 0, NULL, NULL));
	CLT_ASSERT(memcmp(all, model, BUF_BYTES) == 0, "write rect: buffer differs from model");
	printf("write rect 13x5x3 (pitches 40/400, host 17/170): ok, buffer %016" PRIx64 "\n",
	       clt_fnv1a(all, BUF_BYTES));

	/* read back the same rect into other host pitches, around a pattern */
	const size_t horg2[3] = { 5, 3, 1 };
	prefill(host, HOST_BYTES, 55);
	memcpy(want, host, HOST_BYTES);
	rect_copy(want, horg2, 24, 336, model, borg, 40, 400, region);
	CLT_CHECK(clEnqueueReadBufferRect(q, buf, CL_TRUE, borg, horg2, region, 40, 400, 24, 336,
					  host, 0, NULL, NULL));
	check_host("read rect blocking (host 24/336)");

	/* 0 pitches on both sides: tightly packed rows and slices */
	const size_t zero[3] = { 0, 0, 0 }, region2[3] = { 16, 4, 2 };
	prefill(host, HOST_BYTES, 77);
	CLT_CHECK(clEnqueueWriteBufferRect(q, buf, CL_TRUE, zero, zero, region2, 0, 0, 0, 0, host,
					   0, NULL, NULL));
	rect_copy(model, zero, 0, 0, host, zero, 0, 0, region2);
	prefill(host, HOST_BYTES, 9);
	memcpy(want, host, HOST_BYTES);
	rect_copy(want, zero, 0, 0, model, zero, 0, 0, region2);
	CLT_CHECK(clEnqueueReadBufferRect(q, buf, CL_TRUE, zero, zero, region2, 0, 0, 0, 0, host, 0,
					  NULL, NULL));
	check_host("rect with 0 pitches");

	/* non-blocking: the bytes are there once clWaitForEvents returns */
	const size_t borg3[3] = { 1, 1, 1 }, horg3[3] = { 4, 2, 0 }, region3[3] = { 9, 7, 2 };
	prefill(host, HOST_BYTES, 201);
	memcpy(want, host, HOST_BYTES);
	rect_copy(want, horg3, 31, 31 * 9, model, borg3, 20, 200, region3);
	cl_event ev;
	CLT_CHECK(clEnqueueReadBufferRect(q, buf, CL_FALSE, borg3, horg3, region3, 20, 200, 31,
					  31 * 9, host, 0, NULL, &ev));
	CLT_CHECK(clWaitForEvents(1, &ev));
	cl_command_type type;
	CLT_CHECK(clGetEventInfo(ev, CL_EVENT_COMMAND_TYPE, sizeof(type), &type, NULL));
	printf("non-blocking read rect event: %s\n", clt_command_name(type));
	CLT_CHECK(clReleaseEvent(ev));
	check_host("non-blocking read rect, clWaitForEvents");

	/* non-blocking, no event: the bytes are there once clFinish returns */
	prefill(host, HOST_BYTES, 13);
	memcpy(want, host, HOST_BYTES);
	rect_copy(want, horg3, 0, 0, model, borg3, 20, 200, region3);
	CLT_CHECK(clEnqueueReadBufferRect(q, buf, CL_FALSE, borg3, horg3, region3, 20, 200, 0, 0,
					  host, 0, NULL, NULL));
	CLT_CHECK(clFinish(q));
	check_host("non-blocking read rect, clFinish");

	/* behind a user event: nothing lands before it is set */
	cl_event gate = clCreateUserEvent(ctx, &err);
	CLT_CHECK(err);
	prefill(host, HOST_BYTES, 99);
	memcpy(want, host, HOST_BYTES);
	CLT_CHECK(clEnqueueReadBufferRect(q, buf, CL_FALSE, borg, horg, region, 40, 400, 17, 170,
					  host, 1, &gate, &ev));
	cl_int st;
	CLT_CHECK(clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(st), &st, NULL));
	printf("gated read rect complete before the gate is set: %s\n", clt_yes(st == CL_COMPLETE));
	CLT_ASSERT(memcmp(host, want, HOST_BYTES) == 0, "gated read rect wrote before its gate");
	printf("gated read rect left host memory alone before the gate: yes\n");
	rect_copy(want, horg, 17, 170, model, borg, 40, 400, region);
	CLT_CHECK(clSetUserEventStatus(gate, CL_COMPLETE));
	CLT_CHECK(clWaitForEvents(1, &ev));
	CLT_CHECK(clReleaseEvent(ev));
	CLT_CHECK(clReleaseEvent(gate));
	check_host("gated read rect, after the gate");

	/* errors: NULL region, zero region, pitches too small */
	const size_t reg0[3] = { 4, 0, 1 }, reg1[3] = { 8, 2, 2 };
	printf("read rect, NULL region: %s\n",
	       clt_err_name(clEnqueueReadBufferRect(q, buf, CL_TRUE, zero, zero, NULL, 0, 0, 0, 0,
						    host, 0, NULL, NULL)));
	printf("read rect, NULL host origin: %s\n",
	       clt_err_name(clEnqueueReadBufferRect(q, buf, CL_TRUE, zero, NULL, reg1, 0, 0, 0, 0,
						    host, 0, NULL, NULL)));
	printf("read rect, zero region: %s\n",
	       clt_err_name(clEnqueueReadBufferRect(q, buf, CL_TRUE, zero, zero, reg0, 0, 0, 0, 0,
						    host, 0, NULL, NULL)));
	printf("read rect, host row pitch too small: %s\n",
	       clt_err_name(clEnqueueReadBufferRect(q, buf, CL_TRUE, zero, zero, reg1, 0, 0, 7, 0,
						    host, 0, NULL, NULL)));
	printf("write rect, host slice pitch too small: %s\n",
	       clt_err_name(clEnqueueWriteBufferRect(q, buf, CL_TRUE, zero, zero, reg1, 0, 0, 8, 15,
						     host, 0, NULL, NULL)));
	printf("write rect, host slice pitch not a multiple of the row pitch: %s\n",
	       clt_err_name(clEnqueueWriteBufferRect(q, buf, CL_TRUE, zero, zero, reg1, 0, 0, 8, 17,
						     host, 0, NULL, NULL)));
	printf("write rect, buffer row pitch too small: %s\n",
	       clt_err_name(clEnqueueWriteBufferRect(q, buf, CL_TRUE, zero, zero, reg1, 7, 0, 0, 0,
						     host, 0, NULL, NULL)));
	printf("read rect, past the buffer's end: %s\n",
	       clt_err_name(clEnqueueReadBufferRect(q, buf, CL_TRUE, zero, zero, reg1, 0, BUF_BYTES,
						    0, 0, host, 0, NULL, NULL)));
	printf("read rect, NULL ptr: %s\n",
	       clt_err_name(clEnqueueReadBufferRect(q, buf, CL_TRUE, zero, zero, reg1, 0, 0, 0, 0,
						    NULL, 0, NULL, NULL)));
	/* nothing above may have changed the buffer */
	CLT_CHECK(clEnqueueReadBuffer(q, buf, CL_TRUE, 0, BUF_BYTES, all, 0, NULL, NULL));
	CLT_ASSERT(memcmp(all, model, BUF_BYTES) == 0, "a failed rect call changed the buffer");
	free(all);
	CLT_CHECK(clReleaseMemObject(buf));
}

/* An RGBA8 image and its model: width * 4 bytes x height x depth (a 1D array: x images x 1). */
struct image {
	cl_mem mem;
	size_t w, h, d; /* d: depth or array size; h: array size of a 1D array */
	uint8_t *model;
	bool array1d;
};

static void image_new(cl_context ctx, cl_command_queue q, struct image *im, cl_mem_object_type type,
		      size_t w, size_t h, size_t d)
{
	cl_image_format fmt = { CL_RGBA, CL_UNSIGNED_INT8 };
	cl_image_desc desc;
	cl_int err;
	memset(&desc, 0, sizeof(desc));
	desc.image_type = type;
	desc.image_width = w;
	desc.image_height = type == CL_MEM_OBJECT_IMAGE1D_ARRAY ? 0 : h;
	desc.image_depth = type == CL_MEM_OBJECT_IMAGE3D ? d : 0;
	desc.image_array_size = type == CL_MEM_OBJECT_IMAGE2D_ARRAY   ? d
				: type == CL_MEM_OBJECT_IMAGE1D_ARRAY ? h
								      : 0;
	im->mem = clCreateImage(ctx, CL_MEM_READ_WRITE, &fmt, &desc, NULL, &err);
	CLT_CHECK(err);
	im->w = w;
	im->h = h;
	im->d = d;
	im->array1d = type == CL_MEM_OBJECT_IMAGE1D_ARRAY;
	im->model = calloc(w * 4 * h * d, 1);
	CLT_ASSERT(im->model, "out of memory");
	/* start from known contents */
	uint8_t *init = malloc(w * 4 * h * d);
	CLT_ASSERT(init, "out of memory");
	prefill(init, w * 4 * h * d, 3);
	memcpy(im->model, init, w * 4 * h * d);
	const size_t org[3] = { 0, 0, 0 };
	const size_t reg[3] = { w, h, im->array1d ? 1 : d };
	CLT_CHECK(clEnqueueWriteImage(q, im->mem, CL_TRUE, org, reg, 0, 0, init, 0, NULL, NULL));
	free(init);
}

/* The image's bytes, read whole and packed, must be its model. */
static void image_check(cl_command_queue q, struct image *im, const char *what)
{
	size_t n = im->w * 4 * im->h * im->d;
	uint8_t *all = malloc(n);
	CLT_ASSERT(all, "out of memory");
	const size_t org[3] = { 0, 0, 0 };
	const size_t reg[3] = { im->w, im->h, im->array1d ? 1 : im->d };
	CLT_CHECK(clEnqueueReadImage(q, im->mem, CL_TRUE, org, reg, 0, 0, all, 0, NULL, NULL));
	CLT_ASSERT(memcmp(all, im->model, n) == 0, "%s: image differs from the model", what);
	printf("%s: ok, image %016" PRIx64 "\n", what, clt_fnv1a(all, n));
	free(all);
}

/*
 * Writes region at org from host memory laid out at (hrp, hsp) (model pitches:
 * a 1D array's images are its rows), then reads it back into prefilled memory
 * at (rrp, rsp), blocking or not.
 */
static void image_round(cl_command_queue q, struct image *im, const char *what, const size_t org[3],
			const size_t reg[3], size_t hrp, size_t hsp, size_t rrp, size_t rsp,
			bool blocking)
{
	size_t mrp = im->w * 4, msp = mrp * im->h;
	size_t morg[3] = { org[0] * 4, org[1], org[2] };
	size_t mreg[3] = { reg[0] * 4, reg[1], reg[2] };
	const size_t zero[3] = { 0, 0, 0 };
	char line[160];

	/* a 1D array steps through its images at the slice pitch */
	size_t whrp = hrp, whsp = hsp, wrrp = rrp, wrsp = rsp;
	if (im->array1d) {
		whrp = whsp ? whsp : whrp;
		whsp = 0;
		wrrp = wrsp ? wrsp : wrrp;
		wrsp = 0;
	}
	prefill(host, HOST_BYTES, 41);
	CLT_CHECK(
	    clEnqueueWriteImage(q, im->mem, CL_TRUE, org, reg, hrp, hsp, host, 0, NULL, NULL));
	rect_copy(im->model, morg, mrp, msp, host, zero, whrp, whsp, mreg);
	snprintf(line, sizeof(line), "%s: write", what);
	image_check(q, im, line);

	prefill(host, HOST_BYTES, 67);
	memcpy(want, host, HOST_BYTES);
	rect_copy(want, zero, wrrp, wrsp, im->model, morg, mrp, msp, mreg);
	cl_event ev;
	CLT_CHECK(clEnqueueReadImage(q, im->mem, blocking ? CL_TRUE : CL_FALSE, org, reg, rrp, rsp,
				     host, 0, NULL, &ev));
	if (!blocking)
		CLT_CHECK(clWaitForEvents(1, &ev));
	CLT_CHECK(clReleaseEvent(ev));
	snprintf(line, sizeof(line), "%s: read%s", what, blocking ? "" : " (non-blocking)");
	check_host(line);
}

static void image_free(struct image *im)
{
	CLT_CHECK(clReleaseMemObject(im->mem));
	free(im->model);
}

/*
 * Maps region at org of im with flags, checks what a readable map shows
 * against the model at the pitches it reports, and for a writable one
 * writes a pattern there and then checks the image after the unmap.
 */
static void image_map(cl_command_queue q, struct image *im, const char *what, cl_map_flags flags,
		      const size_t org[3], const size_t reg[3], bool blocking)
{
	size_t mrp = im->w * 4, msp = mrp * im->h;
	size_t morg[3] = { org[0] * 4, org[1], org[2] };
	size_t mreg[3] = { reg[0] * 4, reg[1], reg[2] };
	const size_t zero[3] = { 0, 0, 0 };
	size_t rp = 0, sp = 0;
	cl_event ev;
	cl_int err;
	char line[160];

	uint8_t *p = clEnqueueMapImage(q, im->mem, blocking ? CL_TRUE : CL_FALSE, flags, org, reg,
				       &rp, &sp, 0, NULL, &ev, &err);
	CLT_CHECK(err);
	CLT_ASSERT(p, "%s: no pointer", what);
	if (!blocking)
		CLT_CHECK(clWaitForEvents(1, &ev));
	CLT_CHECK(clReleaseEvent(ev));
	printf("%s: mapped, row pitch %zu, slice pitch %zu\n", what, rp, sp);
	/* a 1D array's images are a slice pitch apart */
	size_t prp = im->array1d ? sp : rp, psp = im->array1d ? 0 : sp;
	if (!(flags & CL_MAP_WRITE_INVALIDATE_REGION)) {
		uint8_t *expect = calloc(1, HOST_BYTES), *got = calloc(1, HOST_BYTES);
		CLT_ASSERT(expect && got, "out of memory");
		rect_copy(expect, zero, 0, 0, im->model, morg, mrp, msp, mreg);
		rect_copy(got, zero, 0, 0, p, zero, prp, psp, mreg);
		CLT_ASSERT(memcmp(expect, got, HOST_BYTES) == 0, "%s: mapped bytes differ", what);
		printf("%s: mapped bytes ok, %016" PRIx64 "\n", what,
		       clt_fnv1a(got, mreg[0] * mreg[1] * mreg[2]));
		free(expect);
		free(got);
	}
	if (flags & (CL_MAP_WRITE | CL_MAP_WRITE_INVALIDATE_REGION)) {
		uint8_t pattern[HOST_BYTES];
		prefill(pattern, sizeof(pattern), 113);
		rect_copy(p, zero, prp, psp, pattern, zero, 0, 0, mreg);
		rect_copy(im->model, morg, mrp, msp, pattern, zero, 0, 0, mreg);
	}
	CLT_CHECK(clEnqueueUnmapMemObject(q, im->mem, p, 0, NULL, &ev));
	CLT_CHECK(clWaitForEvents(1, &ev));
	CLT_CHECK(clReleaseEvent(ev));
	snprintf(line, sizeof(line), "%s: after the unmap", what);
	image_check(q, im, line);
}

static void images(cl_context ctx, cl_command_queue q, cl_device_id dev)
{
	cl_bool support = CL_FALSE;
	CLT_CHECK(clGetDeviceInfo(dev, CL_DEVICE_IMAGE_SUPPORT, sizeof(support), &support, NULL));
	printf("image support: %s\n", clt_yes(support));
	if (!support)
		return;
	struct image im;
	const size_t zero[3] = { 0, 0, 0 };

	/* 2D, 24 x 10 RGBA8: row pitch 0, then a larger one */
	image_new(ctx, q, &im, CL_MEM_OBJECT_IMAGE2D, 24, 10, 1);
	image_check(q, &im, "2D initial");
	const size_t org2[3] = { 3, 2, 0 }, reg2[3] = { 7, 5, 1 };
	image_round(q, &im, "2D 7x5 at (3,2), row pitch 0", org2, reg2, 0, 0, 0, 0, true);
	image_round(q, &im, "2D 7x5 at (3,2), row pitch 40/52", org2, reg2, 40, 0, 52, 0, false);
	const size_t reg2b[3] = { 24, 10, 1 };
	image_round(q, &im, "2D whole, row pitch 100", zero, reg2b, 100, 0, 0, 0, true);
	/* PoCL checks no host pitch of an image transfer: one below a row overlaps rows */
	image_round(q, &im, "2D 7x5 at (3,2), row pitch 20 (below a row)", org2, reg2, 20, 0, 24, 0,
		    true);

	/* errors and edge cases: what the library answers */
	const size_t reg0[3] = { 4, 0, 1 }, reg_out[3] = { 25, 1, 1 }, reg_d2[3] = { 4, 4, 2 };
	printf("2D write, NULL region: %s\n",
	       clt_err_name(
		   clEnqueueWriteImage(q, im.mem, CL_TRUE, zero, NULL, 0, 0, host, 0, NULL, NULL)));
	printf("2D read, NULL region: %s\n",
	       clt_err_name(
		   clEnqueueReadImage(q, im.mem, CL_TRUE, zero, NULL, 0, 0, host, 0, NULL, NULL)));
	printf("2D read, zero region: %s\n",
	       clt_err_name(
		   clEnqueueReadImage(q, im.mem, CL_TRUE, zero, reg0, 0, 0, host, 0, NULL, NULL)));
	printf("2D read, region past the image: %s\n",
	       clt_err_name(clEnqueueReadImage(q, im.mem, CL_TRUE, zero, reg_out, 0, 0, host, 0,
					       NULL, NULL)));
	printf("2D read, region of depth 2: %s\n",
	       clt_err_name(clEnqueueReadImage(q, im.mem, CL_TRUE, zero, reg_d2, 0, 0, host, 0,
					       NULL, NULL)));
	printf("2D read, NULL ptr: %s\n",
	       clt_err_name(
		   clEnqueueReadImage(q, im.mem, CL_TRUE, zero, reg2, 0, 0, NULL, 0, NULL, NULL)));
	image_check(q, &im, "2D after the errors");

	/* mappings: read, write, both, blocking or not */
	image_map(q, &im, "map 2D 7x5 at (3,2), read", CL_MAP_READ, org2, reg2, true);
	image_map(q, &im, "map 2D 7x5 at (3,2), write", CL_MAP_WRITE, org2, reg2, false);
	image_map(q, &im, "map 2D whole, invalidate", CL_MAP_WRITE_INVALIDATE_REGION, zero, reg2b,
		  true);
	const size_t reg2c[3] = { 5, 1, 1 };
	image_map(q, &im, "map 2D one row, read and write", CL_MAP_READ | CL_MAP_WRITE, org2, reg2c,
		  false);
	size_t rp = 0, sp = 0;
	cl_int err;
	void *p = clEnqueueMapImage(q, im.mem, CL_TRUE, CL_MAP_READ, zero, NULL, &rp, &sp, 0, NULL,
				    NULL, &err);
	printf("map 2D, NULL region: %s, %s\n", clt_err_name(err), p ? "a pointer" : "NULL");
	p = clEnqueueMapImage(q, im.mem, CL_TRUE, CL_MAP_READ, zero, reg2, NULL, &sp, 0, NULL, NULL,
			      &err);
	printf("map 2D, NULL row pitch: %s, %s\n", clt_err_name(err), p ? "a pointer" : "NULL");
	p = clEnqueueMapImage(q, im.mem, CL_TRUE, CL_MAP_READ, zero, reg_out, &rp, &sp, 0, NULL,
			      NULL, &err);
	printf("map 2D, region past the image: %s, %s\n", clt_err_name(err),
	       p ? "a pointer" : "NULL");
	image_free(&im);

	/* 3D, 8 x 6 x 4: slice pitches */
	image_new(ctx, q, &im, CL_MEM_OBJECT_IMAGE3D, 8, 6, 4);
	const size_t org3[3] = { 1, 2, 1 }, reg3[3] = { 5, 3, 2 };
	image_round(q, &im, "3D 5x3x2 at (1,2,1), pitches 24/100 and 0/0", org3, reg3, 24, 100, 0,
		    0, true);
	image_round(q, &im, "3D 5x3x2 at (1,2,1), pitches 0/0 and 20/80", org3, reg3, 0, 0, 20, 80,
		    false);
	image_map(q, &im, "map 3D 5x3x2 at (1,2,1), read and write", CL_MAP_READ | CL_MAP_WRITE,
		  org3, reg3, true);
	image_map(q, &im, "map 3D 5x3x2 at (1,2,1), read", CL_MAP_READ, org3, reg3, false);
	image_free(&im);

	/* 2D array, 6 x 5, 3 images: slice pitch */
	image_new(ctx, q, &im, CL_MEM_OBJECT_IMAGE2D_ARRAY, 6, 5, 3);
	const size_t orga[3] = { 2, 1, 1 }, rega[3] = { 4, 3, 2 };
	image_round(q, &im, "2D array 4x3x2 at (2,1,1), pitches 16/64 and 32/160", orga, rega, 16,
		    64, 32, 160, true);
	image_map(q, &im, "map 2D array 4x3x2 at (2,1,1), write", CL_MAP_WRITE, orga, rega, true);
	image_free(&im);

	/*
	 * 1D array, 10 wide, 4 images. Only pitches on which the specification
	 * (images a slice pitch apart) and PoCL (a row pitch apart) agree.
	 */
	image_new(ctx, q, &im, CL_MEM_OBJECT_IMAGE1D_ARRAY, 10, 4, 1);
	const size_t org1[3] = { 2, 1, 0 }, reg1[3] = { 6, 3, 1 };
	image_round(q, &im, "1D array 6x3 at (2,1), pitches 0/0", org1, reg1, 0, 0, 0, 0, true);
	image_round(q, &im, "1D array 6x3 at (2,1), pitches 32/0 and 44/44", org1, reg1, 32, 0, 44,
		    44, false);
	image_map(q, &im, "map 1D array 6x3 at (2,1), read and write", CL_MAP_READ | CL_MAP_WRITE,
		  org1, reg1, false);
	image_free(&im);
}

/*
 * An image created from host memory laid out at (rp, sp): read back whole
 * and packed, it must be that memory's image-sized rect.
 */
static void created_check(cl_command_queue q, cl_mem mem, const char *what, size_t w, size_t h,
			  size_t d, size_t rp, size_t sp)
{
	const size_t zero[3] = { 0, 0, 0 }, mreg[3] = { w * 4, h, d }, reg[3] = { w, h, d };
	size_t n = w * 4 * h * d;
	uint8_t *all = malloc(n), *expect = malloc(n);
	CLT_ASSERT(all && expect, "out of memory");
	rect_copy(expect, zero, 0, 0, host, zero, rp, sp, mreg);
	memset(all, 0, n);
	CLT_CHECK(clEnqueueReadImage(q, mem, CL_TRUE, zero, reg, 0, 0, all, 0, NULL, NULL));
	CLT_ASSERT(memcmp(all, expect, n) == 0, "%s: image differs from its host memory", what);
	printf("%s: ok, image %016" PRIx64 "\n", what, clt_fnv1a(all, n));
	free(all);
	free(expect);
	CLT_CHECK(clReleaseMemObject(mem));
}

static cl_mem create(cl_context ctx, cl_mem_flags flags, cl_mem_object_type type, size_t w,
		     size_t h, size_t d, size_t rp, size_t sp, void *ptr, cl_int *err)
{
	cl_image_format fmt = { CL_RGBA, CL_UNSIGNED_INT8 };
	cl_image_desc desc;
	memset(&desc, 0, sizeof(desc));
	desc.image_type = type;
	desc.image_width = w;
	desc.image_height = type == CL_MEM_OBJECT_IMAGE1D_ARRAY ? 0 : h;
	desc.image_depth = type == CL_MEM_OBJECT_IMAGE3D ? d : 0;
	desc.image_array_size = type == CL_MEM_OBJECT_IMAGE2D_ARRAY   ? d
				: type == CL_MEM_OBJECT_IMAGE1D_ARRAY ? h
								      : 0;
	desc.image_row_pitch = rp;
	desc.image_slice_pitch = sp;
	return clCreateImage(ctx, flags, &fmt, &desc, ptr, err);
}

/* Images created with CL_MEM_COPY_HOST_PTR and CL_MEM_USE_HOST_PTR from pitched memory. */
static void created_images(cl_context ctx, cl_command_queue q)
{
	cl_image_format fmt = { CL_RGBA, CL_UNSIGNED_INT8 };
	cl_int err;
	cl_mem m;

	prefill(host, HOST_BYTES, 29);
	m = create(ctx, CL_MEM_COPY_HOST_PTR, CL_MEM_OBJECT_IMAGE2D, 9, 7, 1, 0, 0, host, &err);
	CLT_CHECK(err);
	created_check(q, m, "created 2D 9x7, COPY_HOST_PTR, row pitch 0", 9, 7, 1, 0, 0);
	m = create(ctx, CL_MEM_COPY_HOST_PTR, CL_MEM_OBJECT_IMAGE2D, 9, 7, 1, 48, 0, host, &err);
	CLT_CHECK(err);
	created_check(q, m, "created 2D 9x7, COPY_HOST_PTR, row pitch 48", 9, 7, 1, 48, 0);
	m = create(ctx, CL_MEM_READ_ONLY | CL_MEM_USE_HOST_PTR, CL_MEM_OBJECT_IMAGE2D, 9, 7, 1, 40,
		   0, host, &err);
	CLT_CHECK(err);
	created_check(q, m, "created 2D 9x7, USE_HOST_PTR, row pitch 40", 9, 7, 1, 40, 0);
	m = create(ctx, CL_MEM_COPY_HOST_PTR, CL_MEM_OBJECT_IMAGE3D, 5, 4, 3, 24, 120, host, &err);
	CLT_CHECK(err);
	created_check(q, m, "created 3D 5x4x3, pitches 24/120", 5, 4, 3, 24, 120);
	m = create(ctx, CL_MEM_COPY_HOST_PTR, CL_MEM_OBJECT_IMAGE2D_ARRAY, 6, 3, 2, 0, 96, host,
		   &err);
	CLT_CHECK(err);
	created_check(q, m, "created 2D array 6x3x2, pitches 0/96", 6, 3, 2, 0, 96);
	m = create(ctx, CL_MEM_COPY_HOST_PTR, CL_MEM_OBJECT_IMAGE1D, 11, 1, 1, 0, 0, host, &err);
	CLT_CHECK(err);
	created_check(q, m, "created 1D 11, COPY_HOST_PTR", 11, 1, 1, 0, 0);
	m = create(ctx, CL_MEM_COPY_HOST_PTR, CL_MEM_OBJECT_IMAGE1D_ARRAY, 7, 3, 1, 32, 32, host,
		   &err);
	CLT_CHECK(err);
	created_check(q, m, "created 1D array 7x3, pitches 32/32", 7, 3, 1, 32, 0);
	cl_mem_properties props[] = { 0 };
	cl_image_desc desc;
	memset(&desc, 0, sizeof(desc));
	desc.image_type = CL_MEM_OBJECT_IMAGE2D;
	desc.image_width = 8;
	desc.image_height = 5;
	desc.image_row_pitch = 36;
	m = clCreateImageWithProperties(ctx, props, CL_MEM_COPY_HOST_PTR, &fmt, &desc, host, &err);
	CLT_CHECK(err);
	created_check(q, m, "created with properties 2D 8x5, row pitch 36", 8, 5, 1, 36, 0);
	m = clCreateImage2D(ctx, CL_MEM_COPY_HOST_PTR, &fmt, 10, 6, 44, host, &err);
	CLT_CHECK(err);
	created_check(q, m, "clCreateImage2D 10x6, row pitch 44", 10, 6, 1, 44, 0);
	m = clCreateImage3D(ctx, CL_MEM_COPY_HOST_PTR, &fmt, 4, 3, 2, 20, 80, host, &err);
	CLT_CHECK(err);
	created_check(q, m, "clCreateImage3D 4x3x2, pitches 20/80", 4, 3, 2, 20, 80);

	/* what the library answers for host memory it must refuse */
	m = create(ctx, CL_MEM_COPY_HOST_PTR, CL_MEM_OBJECT_IMAGE2D, 4, 3, 1, 0, 0, NULL, &err);
	printf("create, COPY_HOST_PTR and a NULL host_ptr: %s, %s\n", clt_err_name(err),
	       m ? "an image" : "NULL");
	m = create(ctx, 0, CL_MEM_OBJECT_IMAGE2D, 4, 3, 1, 0, 0, host, &err);
	printf("create, a host_ptr without flags: %s, %s\n", clt_err_name(err),
	       m ? "an image" : "NULL");
	m = create(ctx, CL_MEM_COPY_HOST_PTR | CL_MEM_USE_HOST_PTR, CL_MEM_OBJECT_IMAGE2D, 4, 3, 1,
		   0, 0, host, &err);
	printf("create, COPY_HOST_PTR and USE_HOST_PTR: %s, %s\n", clt_err_name(err),
	       m ? "an image" : "NULL");
	m = create(ctx, CL_MEM_COPY_HOST_PTR, CL_MEM_OBJECT_IMAGE2D, 4, 3, 1, 18, 0, host, &err);
	printf("create, row pitch no multiple of the element: %s, %s\n", clt_err_name(err),
	       m ? "an image" : "NULL");
	m = create(ctx, CL_MEM_COPY_HOST_PTR, CL_MEM_OBJECT_IMAGE2D, 4, 3, 1, 0, 99, host, &err);
	printf("create, 2D with a slice pitch: %s, %s\n", clt_err_name(err),
	       m ? "an image" : "NULL");
	m = create(ctx, CL_MEM_COPY_HOST_PTR, CL_MEM_OBJECT_IMAGE3D, 4, 3, 2, 16, 40, host, &err);
	printf("create, 3D slice pitch too small: %s, %s\n", clt_err_name(err),
	       m ? "an image" : "NULL");
	m = create(ctx, CL_MEM_COPY_HOST_PTR, CL_MEM_OBJECT_IMAGE2D, 0, 3, 1, 0, 0, host, &err);
	printf("create, width 0: %s, %s\n", clt_err_name(err), m ? "an image" : "NULL");
	m = clCreateImage(ctx, CL_MEM_COPY_HOST_PTR, &fmt, NULL, host, &err);
	printf("create, NULL descriptor: %s, %s\n", clt_err_name(err), m ? "an image" : "NULL");
	cl_image_format bad = { 0x1234, CL_UNSIGNED_INT8 };
	m = clCreateImage2D(ctx, CL_MEM_COPY_HOST_PTR, &bad, 4, 3, 0, host, &err);
	printf("create, unknown channel order: %s, %s\n", clt_err_name(err),
	       m ? "an image" : "NULL");
}

int main(void)
{
	clt_init(120);
	cl_platform_id platform;
	cl_device_id dev;
	cl_int err;

	clt_pick_device(&platform, &dev);
	cl_context ctx = clt_context_new(platform, dev);
	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, dev, NULL, &err);
	CLT_CHECK(err);

	buffer_rects(ctx, q);
	images(ctx, q, dev);
	cl_bool support = CL_FALSE;
	CLT_CHECK(clGetDeviceInfo(dev, CL_DEVICE_IMAGE_SUPPORT, sizeof(support), &support, NULL));
	if (support)
		created_images(ctx, q);

	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	printf("cl-rect: ok\n");
	return 0;
}
