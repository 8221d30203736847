/* SPDX-License-Identifier: MIT */
/*
 * The shapes of OpenCL's host memory rects (spec/opencl.spec: ava_rect on
 * the ptr of clEnqueueReadBufferRect, clEnqueueWriteBufferRect,
 * clEnqueueReadImage and clEnqueueWriteImage): where the bytes of the
 * region lie in the application's memory, given the host origin and
 * pitches, and, on the server, how to tell the library that they are
 * packed. Hand-written because the rules are OpenCL's (0 pitches, an
 * image's element size, 1D image arrays stepping by the slice pitch); the
 * packing, the size checks and the late delivery are the runtimes'.
 *
 * The same source is in the guest library (registered by opencl-icd.c),
 * where clGetImageInfo and clGetMemObjectInfo are remote calls, and in the
 * API server (registered by opencl-events.c), where they are the library's.
 */
#define CL_TARGET_OPENCL_VERSION 300
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <CL/cl.h>

#include <ava/gen.h>

#include "opencl-rect.h"

/* Argument positions, from CL/cl.h. */
enum {
	BUF_HOST_ORIGIN = 4, /* clEnqueue{Read,Write}BufferRect */
	BUF_REGION = 5,
	BUF_HOST_ROW_PITCH = 8,
	BUF_HOST_SLICE_PITCH = 9,
	IMG_IMAGE = 1, /* clEnqueue{Read,Write}Image */
	IMG_REGION = 4,
	IMG_ROW_PITCH = 5,
	IMG_SLICE_PITCH = 6,
};

#define ARG_PTR(args, i)  (*(const size_t *const *)(args)[i])
#define ARG_SIZE(args, i) (*(const size_t *)(args)[i])

static bool is_fn(const struct ava_abi_fn *fn, const char *a, const char *b)
{
	return strcmp(fn->name, a) == 0 || strcmp(fn->name, b) == 0;
}

/*
 * The host side of a buffer rect, with the checks the specification makes
 * the library answer with CL_INVALID_VALUE (a NULL host origin or region,
 * a host pitch too small or a slice pitch that is no multiple of the row
 * pitch): those go to the library with a NULL pointer, which gives the same.
 */
static int buffer_shape(void *const *args, struct ava_gen_rect *r)
{
	const size_t *origin = ARG_PTR(args, BUF_HOST_ORIGIN);
	const size_t *region = ARG_PTR(args, BUF_REGION);
	uint64_t rp = ARG_SIZE(args, BUF_HOST_ROW_PITCH);
	uint64_t sp = ARG_SIZE(args, BUF_HOST_SLICE_PITCH);
	uint64_t min_sp, a, b;

	memset(r, 0, sizeof(*r));
	if (!origin || !region)
		return -EINVAL;
	if (!region[0] || !region[1] || !region[2])
		return 0; /* empty: the library refuses the region itself */
	if (rp == 0)
		rp = region[0];
	if (rp < region[0] || __builtin_mul_overflow(rp, (uint64_t)region[1], &min_sp))
		return -EINVAL;
	if (sp == 0)
		sp = min_sp;
	if (sp < min_sp || sp % rp)
		return -EINVAL;
	if (__builtin_mul_overflow((uint64_t)origin[2], sp, &a) ||
	    __builtin_mul_overflow((uint64_t)origin[1], rp, &b) ||
	    __builtin_add_overflow(a, b, &a) ||
	    __builtin_add_overflow(a, (uint64_t)origin[0], &r->offset_bytes))
		return -EINVAL;
	r->row_bytes = region[0];
	r->rows = region[1];
	r->slices = region[2];
	r->row_pitch = rp;
	r->slice_pitch = sp;
	return 0;
}

/*
 * The host side of an image read or write: rows of region[0] elements. A
 * 0 row pitch is a row's size, a 0 slice pitch a row pitch times the rows;
 * a 1D image array's images are region[1] "slices" at the slice pitch
 * (0: the row pitch). Pitches the library accepts even though they are
 * smaller than a row (PoCL checks none) overlap as they do natively. A
 * region that does not fit the image's type is the library's to refuse.
 */
static int image_shape(void *const *args, struct ava_gen_rect *r)
{
	cl_mem image = *(const cl_mem *)args[IMG_IMAGE];
	const size_t *region = ARG_PTR(args, IMG_REGION);
	uint64_t rp = ARG_SIZE(args, IMG_ROW_PITCH);
	uint64_t sp = ARG_SIZE(args, IMG_SLICE_PITCH);
	cl_mem_object_type type = 0;
	size_t elem = 0;

	memset(r, 0, sizeof(*r));
	if (!region)
		return -EINVAL;
	if (!region[0] || !region[1] || !region[2])
		return 0; /* empty */
	if (clGetMemObjectInfo(image, CL_MEM_TYPE, sizeof(type), &type, NULL) != CL_SUCCESS ||
	    clGetImageInfo(image, CL_IMAGE_ELEMENT_SIZE, sizeof(elem), &elem, NULL) != CL_SUCCESS ||
	    !elem || __builtin_mul_overflow((uint64_t)region[0], (uint64_t)elem, &r->row_bytes))
		return -EINVAL;
	if (rp == 0)
		rp = r->row_bytes;
	r->rows = 1;
	r->slices = 1;
	r->row_pitch = rp;
	switch (type) {
	case CL_MEM_OBJECT_IMAGE1D:
	case CL_MEM_OBJECT_IMAGE1D_BUFFER:
		if (region[1] != 1 || region[2] != 1)
			return -EINVAL;
		break;
	case CL_MEM_OBJECT_IMAGE1D_ARRAY:
		if (region[2] != 1)
			return -EINVAL;
		r->slices = region[1];
		r->slice_pitch = sp ? sp : rp;
		break;
	case CL_MEM_OBJECT_IMAGE2D:
		if (region[2] != 1)
			return -EINVAL;
		r->rows = region[1];
		break;
	case CL_MEM_OBJECT_IMAGE2D_ARRAY:
	case CL_MEM_OBJECT_IMAGE3D:
		r->rows = region[1];
		r->slices = region[2];
		if (sp == 0 && __builtin_mul_overflow(rp, (uint64_t)region[1], &sp))
			return -EINVAL;
		r->slice_pitch = sp;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int opencl_rect_shape(const struct ava_abi_fn *fn, unsigned arg, void *const *args,
			     struct ava_gen_rect *ret)
{
	(void)arg; /* each function has one rect: its ptr */
	if (is_fn(fn, "clEnqueueReadBufferRect", "clEnqueueWriteBufferRect"))
		return buffer_shape(args, ret);
	if (is_fn(fn, "clEnqueueReadImage", "clEnqueueWriteImage"))
		return image_shape(args, ret);
	return -ENOENT;
}

/*
 * Packed bytes at ptr: host origin {0,0,0} and 0 pitches, which the
 * specification defines as tightly packed rows and slices (and which no
 * library refuses: a 2D image's slice pitch must be 0). A 1D image array's
 * images are then a row apart whether the library steps them by the row
 * pitch or by the slice pitch.
 */
static void opencl_rect_pack(const struct ava_abi_fn *fn, unsigned arg, void *const *args)
{
	(void)arg;
	if (is_fn(fn, "clEnqueueReadBufferRect", "clEnqueueWriteBufferRect")) {
		size_t *origin = *(size_t *const *)args[BUF_HOST_ORIGIN]; /* the server's copy */
		origin[0] = origin[1] = origin[2] = 0;
		*(size_t *)args[BUF_HOST_ROW_PITCH] = 0;
		*(size_t *)args[BUF_HOST_SLICE_PITCH] = 0;
	} else if (is_fn(fn, "clEnqueueReadImage", "clEnqueueWriteImage")) {
		*(size_t *)args[IMG_ROW_PITCH] = 0;
		*(size_t *)args[IMG_SLICE_PITCH] = 0;
	}
}

const struct ava_gen_rect_ops ava_opencl_rect_ops = {
	.shape = opencl_rect_shape,
	.pack = opencl_rect_pack,
};
