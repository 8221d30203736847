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
 * The same source is in the guest library (its ops table, opencl/guest.c),
 * where clGetImageInfo and clGetMemObjectInfo are remote calls, and in the
 * API server (opencl/server.c), where they are the library's. Arguments
 * come typed from the generated ava_opencl.h.
 */
#define CL_TARGET_OPENCL_VERSION 300
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <CL/cl.h>

#include <ava/gen.h>

#include "ava_opencl.h"
#include "opencl/rect.h"

/*
 * The host side of a buffer rect, with the checks the specification makes
 * the library answer with CL_INVALID_VALUE (a NULL host origin or region,
 * a host pitch too small or a slice pitch that is no multiple of the row
 * pitch): those go to the library with a NULL pointer, which gives the same.
 */
static int buffer_shape(const size_t *origin, const size_t *region, uint64_t rp, uint64_t sp,
			struct ava_gen_rect *r)
{
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
 * An image region in host memory: rows of region[0] elements. A 0 row
 * pitch is a row's size, a 0 slice pitch a row pitch times the rows; a 1D
 * image array's images are region[1] "slices" at the slice pitch (0: the
 * row pitch). A region that does not fit the image's type is the library's
 * to refuse. *ret_type gets the image's type.
 */
static int image_layout(cl_mem image, const size_t *region, uint64_t rp, uint64_t sp,
			struct ava_gen_rect *r, cl_mem_object_type *ret_type)
{
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
	*ret_type = type;
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

/*
 * The host side of an image read or write. Pitches the library accepts
 * even though they are smaller than a row (PoCL checks none) overlap as
 * they do natively.
 */
static int image_shape(cl_mem image, const size_t *region, uint64_t rp, uint64_t sp,
		       struct ava_gen_rect *r)
{
	cl_mem_object_type type;
	return image_layout(image, region, rp, sp, r, &type);
}

/*
 * clEnqueueMapImage: the guest's memory for the mapping holds the region at
 * the image's own pitches (CL_IMAGE_ROW_PITCH and CL_IMAGE_SLICE_PITCH,
 * which is what PoCL's mappings report natively); opencl_rect_mapped gives
 * the library's layout and reports these pitches.
 */
static int map_shape(const struct ava_opencl_args_clEnqueueMapImage *a, struct ava_gen_rect *r)
{
	cl_mem image = *a->image;
	cl_mem_object_type type;
	size_t rp = 0, sp = 0;

	if (clGetImageInfo(image, CL_IMAGE_ROW_PITCH, sizeof(rp), &rp, NULL) != CL_SUCCESS ||
	    clGetImageInfo(image, CL_IMAGE_SLICE_PITCH, sizeof(sp), &sp, NULL) != CL_SUCCESS) {
		memset(r, 0, sizeof(*r));
		return -EINVAL;
	}
	if (image_layout(image, *a->region, rp, sp, r, &type) < 0)
		return -EINVAL;
	/* an image's pitches may be smaller than the region's rows: never overlap */
	if (r->row_pitch < r->row_bytes)
		r->row_pitch = r->row_bytes;
	if (r->slices > 1 && r->slice_pitch < r->row_pitch * r->rows)
		r->slice_pitch = r->row_pitch * (r->rows ? r->rows : 1);
	return 0;
}

static int opencl_rect_mapped(const struct ava_abi_fn *fn, void *const *args,
			      struct ava_gen_rect *ret)
{
	cl_mem_object_type type = 0;
	struct ava_gen_rect guest;

	if (fn->id != AVA_OPENCL_FN_clEnqueueMapImage)
		return -EINVAL;
	struct ava_opencl_args_clEnqueueMapImage a = ava_opencl_args_clEnqueueMapImage(args);
	size_t *rp = *a.image_row_pitch; /* the server's out buffers */
	size_t *sp = *a.image_slice_pitch;
	if (!rp || image_layout(*a.image, *a.region, *rp, sp ? *sp : 0, ret, &type) < 0 ||
	    map_shape(&a, &guest) < 0)
		return -EINVAL;
	/* Only the pitches that lay out the rect change: a 1D or 2D image keeps the rest. */
	if (guest.rows > 1 || guest.slices > 1)
		*rp = guest.row_pitch;
	if (sp && guest.slices > 1)
		*sp = guest.slice_pitch;
	return 0;
}

/* Bytes of one element of fmt (CL_IMAGE_ELEMENT_SIZE), or 0 for a format OpenCL 3.0 lacks. */
static uint64_t format_bytes(const cl_image_format *fmt)
{
	uint64_t channels = 0, per = 0;

	switch (fmt->image_channel_data_type) {
	case CL_UNORM_SHORT_565:
	case CL_UNORM_SHORT_555:
		return 2; /* packed: one value per element, whatever the order */
	case CL_UNORM_INT_101010:
	case CL_UNORM_INT_101010_2:
		return 4;
	case CL_SNORM_INT8:
	case CL_UNORM_INT8:
	case CL_SIGNED_INT8:
	case CL_UNSIGNED_INT8:
		per = 1;
		break;
	case CL_SNORM_INT16:
	case CL_UNORM_INT16:
	case CL_SIGNED_INT16:
	case CL_UNSIGNED_INT16:
	case CL_HALF_FLOAT:
		per = 2;
		break;
	case CL_SIGNED_INT32:
	case CL_UNSIGNED_INT32:
	case CL_FLOAT:
		per = 4;
		break;
	case CL_UNORM_INT24:
		per = 4; /* CL_DEPTH or CL_DEPTH_STENCIL: 24 bits in 32 */
		break;
	default:
		return 0;
	}
	switch (fmt->image_channel_order) {
	case CL_R:
	case CL_A:
	case CL_INTENSITY:
	case CL_LUMINANCE:
	case CL_Rx:
	case CL_DEPTH:
		channels = 1;
		break;
	case CL_DEPTH_STENCIL: /* UNORM_INT24: 24 + 8 bits; FLOAT: a float and 8 bits in 32 */
		return fmt->image_channel_data_type == CL_UNORM_INT24 ? 4
		       : fmt->image_channel_data_type == CL_FLOAT     ? 8
								      : 0;
	case CL_RG:
	case CL_RA:
	case CL_RGx:
		channels = 2;
		break;
	case CL_RGB:
	case CL_RGBx:
	case CL_sRGB:
	case CL_sRGBx:
		channels = 3;
		break;
	case CL_RGBA:
	case CL_BGRA:
	case CL_ARGB:
	case CL_ABGR:
	case CL_sRGBA:
	case CL_sBGRA:
		channels = 4;
		break;
	default:
		return 0;
	}
	return per == 4 && fmt->image_channel_data_type == CL_UNORM_INT24 && channels != 1
		   ? 0
		   : channels * per;
}

/*
 * An image's host memory at creation (CL_MEM_COPY_HOST_PTR; the spec turns
 * CL_MEM_USE_HOST_PTR into it): the whole image, width elements by height
 * rows by depth or array size slices, at the descriptor's pitches. Without
 * those flags nothing is read (the library refuses a host_ptr then): an
 * empty rect. Pitches the specification does not allow (a row pitch below
 * a row or no multiple of the element size, a slice pitch below its rows or
 * no multiple of the row pitch, any slice pitch on a 1D or 2D image) are
 * the library's to refuse: see opencl_rect_refuse.
 */
static int create_shape(cl_mem_flags flags, const cl_image_format *fmt, cl_mem_object_type type,
			uint64_t w, uint64_t h, uint64_t d, uint64_t n, uint64_t rp, uint64_t sp,
			struct ava_gen_rect *r)
{
	uint64_t elem, min;

	memset(r, 0, sizeof(*r));
	if (!(flags & (CL_MEM_COPY_HOST_PTR | CL_MEM_USE_HOST_PTR)))
		return 0;
	if (!fmt || !(elem = format_bytes(fmt)) || !w ||
	    __builtin_mul_overflow(w, elem, &r->row_bytes))
		return -EINVAL;
	if (rp == 0)
		rp = r->row_bytes;
	if (rp < r->row_bytes || rp % elem)
		return -EINVAL;
	r->rows = 1;
	r->slices = 1;
	r->row_pitch = rp;
	switch (type) {
	case CL_MEM_OBJECT_IMAGE1D:
	case CL_MEM_OBJECT_IMAGE1D_BUFFER:
		if (sp)
			return -EINVAL;
		break;
	case CL_MEM_OBJECT_IMAGE2D:
		if (sp || !h)
			return -EINVAL;
		r->rows = h;
		break;
	case CL_MEM_OBJECT_IMAGE1D_ARRAY:
		if (!n || (sp && (sp < rp || sp % rp)))
			return -EINVAL;
		r->slices = n;
		r->slice_pitch = sp ? sp : rp;
		break;
	case CL_MEM_OBJECT_IMAGE2D_ARRAY:
	case CL_MEM_OBJECT_IMAGE3D: {
		uint64_t slices = type == CL_MEM_OBJECT_IMAGE3D ? d : n;
		if (!h || !slices || __builtin_mul_overflow(rp, h, &min) ||
		    (sp && (sp < min || sp % rp)))
			return -EINVAL;
		r->rows = h;
		r->slices = slices;
		r->slice_pitch = sp ? sp : min;
		break;
	}
	default:
		return -EINVAL;
	}
	return 0;
}

/* clCreateImage and clCreateImageWithProperties: from the image descriptor. */
static int desc_shape(cl_mem_flags flags, const cl_image_format *fmt, const cl_image_desc *desc,
		      struct ava_gen_rect *r)
{
	if (!desc) {
		memset(r, 0, sizeof(*r));
		return flags & (CL_MEM_COPY_HOST_PTR | CL_MEM_USE_HOST_PTR) ? -EINVAL : 0;
	}
	return create_shape(flags, fmt, desc->image_type, desc->image_width, desc->image_height,
			    desc->image_depth, desc->image_array_size, desc->image_row_pitch,
			    desc->image_slice_pitch, r);
}

/* ava_opencl_rect_image_host's answer from the creator's arguments. */
static int image_host(cl_mem_flags flags, const cl_image_format *fmt, cl_mem_object_type type,
		      uint64_t w, uint64_t h, uint64_t d, uint64_t n, uint64_t rp, uint64_t sp,
		      struct ava_opencl_image_host *ret)
{
	struct ava_gen_rect r;
	uint64_t last, rows;

	memset(ret, 0, sizeof(*ret));
	if (!(flags & (CL_MEM_COPY_HOST_PTR | CL_MEM_USE_HOST_PTR)) ||
	    create_shape(flags, fmt, type, w, h, d, n, rp, sp, &r) < 0 ||
	    __builtin_mul_overflow(r.slices - 1, r.slice_pitch, &last) ||
	    __builtin_mul_overflow(r.rows - 1, r.row_pitch, &rows) ||
	    __builtin_add_overflow(last, rows, &last) ||
	    __builtin_add_overflow(last, r.row_bytes, &last) || (uint64_t)(size_t)last != last)
		return -EINVAL;
	ret->type = type;
	ret->elem_bytes = (size_t)format_bytes(fmt);
	ret->region[0] = (size_t)w;
	ret->region[1] = type == CL_MEM_OBJECT_IMAGE1D_ARRAY ? (size_t)r.slices : (size_t)r.rows;
	ret->region[2] = type == CL_MEM_OBJECT_IMAGE1D_ARRAY ? 1 : (size_t)r.slices;
	ret->row_pitch = (size_t)r.row_pitch;
	ret->slice_pitch = type == CL_MEM_OBJECT_IMAGE1D_ARRAY ||
				   type == CL_MEM_OBJECT_IMAGE2D_ARRAY ||
				   type == CL_MEM_OBJECT_IMAGE3D
			       ? (size_t)r.slice_pitch
			       : 0;
	ret->size_bytes = (size_t)last;
	return 0;
}

int ava_opencl_rect_image_host(uint32_t fn_id, void *const *args, struct ava_opencl_image_host *ret)
{
	const cl_image_desc *desc;
	cl_mem_flags flags;
	const cl_image_format *fmt;

	switch (fn_id) {
	case AVA_OPENCL_FN_clCreateImage: {
		struct ava_opencl_args_clCreateImage a = ava_opencl_args_clCreateImage(args);
		flags = *a.flags;
		fmt = *a.image_format;
		desc = *a.image_desc;
		break;
	}
	case AVA_OPENCL_FN_clCreateImageWithProperties: {
		struct ava_opencl_args_clCreateImageWithProperties a =
		    ava_opencl_args_clCreateImageWithProperties(args);
		flags = *a.flags;
		fmt = *a.image_format;
		desc = *a.image_desc;
		break;
	}
	case AVA_OPENCL_FN_clCreateImage2D: {
		struct ava_opencl_args_clCreateImage2D a = ava_opencl_args_clCreateImage2D(args);
		return image_host(*a.flags, *a.image_format, CL_MEM_OBJECT_IMAGE2D, *a.image_width,
				  *a.image_height, 1, 0, *a.image_row_pitch, 0, ret);
	}
	case AVA_OPENCL_FN_clCreateImage3D: {
		struct ava_opencl_args_clCreateImage3D a = ava_opencl_args_clCreateImage3D(args);
		return image_host(*a.flags, *a.image_format, CL_MEM_OBJECT_IMAGE3D, *a.image_width,
				  *a.image_height, *a.image_depth, 0, *a.image_row_pitch,
				  *a.image_slice_pitch, ret);
	}
	default:
		return -ENOENT;
	}
	if (!desc) {
		memset(ret, 0, sizeof(*ret));
		return -EINVAL;
	}
	return image_host(flags, fmt, desc->image_type, desc->image_width, desc->image_height,
			  desc->image_depth, desc->image_array_size, desc->image_row_pitch,
			  desc->image_slice_pitch, ret);
}

static int opencl_rect_shape(const struct ava_abi_fn *fn, unsigned arg, void *const *args,
			     struct ava_gen_rect *ret)
{
	switch (fn->id) {
	case AVA_OPENCL_FN_clEnqueueReadBufferRect: {
		struct ava_opencl_args_clEnqueueReadBufferRect a =
		    ava_opencl_args_clEnqueueReadBufferRect(args);
		return buffer_shape(*a.host_origin, *a.region, *a.host_row_pitch,
				    *a.host_slice_pitch, ret);
	}
	case AVA_OPENCL_FN_clEnqueueWriteBufferRect: {
		struct ava_opencl_args_clEnqueueWriteBufferRect a =
		    ava_opencl_args_clEnqueueWriteBufferRect(args);
		return buffer_shape(*a.host_origin, *a.region, *a.host_row_pitch,
				    *a.host_slice_pitch, ret);
	}
	case AVA_OPENCL_FN_clEnqueueReadImage: {
		struct ava_opencl_args_clEnqueueReadImage a =
		    ava_opencl_args_clEnqueueReadImage(args);
		return image_shape(*a.image, *a.region, *a.row_pitch, *a.slice_pitch, ret);
	}
	case AVA_OPENCL_FN_clEnqueueWriteImage: {
		struct ava_opencl_args_clEnqueueWriteImage a =
		    ava_opencl_args_clEnqueueWriteImage(args);
		return image_shape(*a.image, *a.region, *a.input_row_pitch, *a.input_slice_pitch,
				   ret);
	}
	case AVA_OPENCL_FN_clEnqueueMapImage: {
		struct ava_opencl_args_clEnqueueMapImage a =
		    ava_opencl_args_clEnqueueMapImage(args);
		return arg == fn->n_args ? map_shape(&a, ret) : -ENOENT;
	}
	case AVA_OPENCL_FN_clCreateImage: {
		struct ava_opencl_args_clCreateImage a = ava_opencl_args_clCreateImage(args);
		return desc_shape(*a.flags, *a.image_format, *a.image_desc, ret);
	}
	case AVA_OPENCL_FN_clCreateImageWithProperties: {
		struct ava_opencl_args_clCreateImageWithProperties a =
		    ava_opencl_args_clCreateImageWithProperties(args);
		return desc_shape(*a.flags, *a.image_format, *a.image_desc, ret);
	}
	case AVA_OPENCL_FN_clCreateImage2D: {
		struct ava_opencl_args_clCreateImage2D a = ava_opencl_args_clCreateImage2D(args);
		return create_shape(*a.flags, *a.image_format, CL_MEM_OBJECT_IMAGE2D,
				    *a.image_width, *a.image_height, 1, 0, *a.image_row_pitch, 0,
				    ret);
	}
	case AVA_OPENCL_FN_clCreateImage3D: {
		struct ava_opencl_args_clCreateImage3D a = ava_opencl_args_clCreateImage3D(args);
		return create_shape(*a.flags, *a.image_format, CL_MEM_OBJECT_IMAGE3D,
				    *a.image_width, *a.image_height, *a.image_depth, 0,
				    *a.image_row_pitch, *a.image_slice_pitch, ret);
	}
	default:
		return -ENOENT;
	}
}

/*
 * Packed bytes at ptr: host origin {0,0,0} and 0 pitches, which the
 * specification defines as tightly packed rows and slices (and which no
 * library refuses: a 2D image's slice pitch must be 0). A 1D image array's
 * images are then a row apart whether the library steps them by the row
 * pitch or by the slice pitch. The origin and the descriptor are the
 * server's copies, which the library gets: written here although the API
 * declares them const.
 */
static void opencl_rect_pack(const struct ava_abi_fn *fn, unsigned arg, void *const *args)
{
	size_t *origin = NULL, *rp = NULL, *sp = NULL;
	cl_image_desc *desc = NULL;

	(void)arg;
	switch (fn->id) {
	case AVA_OPENCL_FN_clEnqueueReadBufferRect: {
		struct ava_opencl_args_clEnqueueReadBufferRect a =
		    ava_opencl_args_clEnqueueReadBufferRect(args);
		origin = (size_t *)*a.host_origin;
		rp = a.host_row_pitch;
		sp = a.host_slice_pitch;
		break;
	}
	case AVA_OPENCL_FN_clEnqueueWriteBufferRect: {
		struct ava_opencl_args_clEnqueueWriteBufferRect a =
		    ava_opencl_args_clEnqueueWriteBufferRect(args);
		origin = (size_t *)*a.host_origin;
		rp = a.host_row_pitch;
		sp = a.host_slice_pitch;
		break;
	}
	case AVA_OPENCL_FN_clEnqueueReadImage: {
		struct ava_opencl_args_clEnqueueReadImage a =
		    ava_opencl_args_clEnqueueReadImage(args);
		rp = a.row_pitch;
		sp = a.slice_pitch;
		break;
	}
	case AVA_OPENCL_FN_clEnqueueWriteImage: {
		struct ava_opencl_args_clEnqueueWriteImage a =
		    ava_opencl_args_clEnqueueWriteImage(args);
		rp = a.input_row_pitch;
		sp = a.input_slice_pitch;
		break;
	}
	case AVA_OPENCL_FN_clCreateImage:
		desc = (cl_image_desc *)*ava_opencl_args_clCreateImage(args).image_desc;
		break;
	case AVA_OPENCL_FN_clCreateImageWithProperties:
		desc =
		    (cl_image_desc *)*ava_opencl_args_clCreateImageWithProperties(args).image_desc;
		break;
	case AVA_OPENCL_FN_clCreateImage2D:
		rp = ava_opencl_args_clCreateImage2D(args).image_row_pitch;
		break;
	case AVA_OPENCL_FN_clCreateImage3D: {
		struct ava_opencl_args_clCreateImage3D a = ava_opencl_args_clCreateImage3D(args);
		rp = a.image_row_pitch;
		sp = a.image_slice_pitch;
		break;
	}
	default:
		return;
	}
	if (origin)
		origin[0] = origin[1] = origin[2] = 0;
	if (rp)
		*rp = 0;
	if (sp)
		*sp = 0;
	if (desc)
		desc->image_row_pitch = desc->image_slice_pitch = 0;
}

/*
 * A creator whose image memory has no shape gets no host_ptr (the runtime
 * made it NULL) and so no host-pointer flags: the library then answers the
 * descriptor, format or pitches itself (PoCL checks pitches with or without
 * host memory), and never reads the application's memory.
 */
static void opencl_rect_refuse(const struct ava_abi_fn *fn, unsigned arg, void *const *args)
{
	cl_mem_flags *flags;

	(void)arg;
	switch (fn->id) {
	case AVA_OPENCL_FN_clCreateImage:
		flags = ava_opencl_args_clCreateImage(args).flags;
		break;
	case AVA_OPENCL_FN_clCreateImageWithProperties:
		flags = ava_opencl_args_clCreateImageWithProperties(args).flags;
		break;
	case AVA_OPENCL_FN_clCreateImage2D:
		flags = ava_opencl_args_clCreateImage2D(args).flags;
		break;
	case AVA_OPENCL_FN_clCreateImage3D:
		flags = ava_opencl_args_clCreateImage3D(args).flags;
		break;
	default:
		return;
	}
	*flags &= ~(cl_mem_flags)(CL_MEM_COPY_HOST_PTR | CL_MEM_USE_HOST_PTR);
}

const struct ava_gen_rect_ops ava_opencl_rect_ops = {
	.shape = opencl_rect_shape,
	.pack = opencl_rect_pack,
	.refuse = opencl_rect_refuse,
	.mapped = opencl_rect_mapped,
};
