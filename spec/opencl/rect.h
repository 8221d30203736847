/* SPDX-License-Identifier: MIT */
/* OpenCL's rect shapes (spec/opencl/rect.c), for both runtimes. */
#ifndef AVA_SPEC_OPENCL_RECT_H
#define AVA_SPEC_OPENCL_RECT_H

#include <stddef.h>
#include <stdint.h>

#include <CL/cl.h>

#include <ava/gen.h>

extern const struct ava_gen_rect_ops ava_opencl_rect_ops;

/* Where an image created with host memory lies in it (ava_opencl_rect_image_host). */
struct ava_opencl_image_host {
	cl_mem_object_type type;
	size_t elem_bytes;
	size_t region[3];   /* the whole image, as a region of clEnqueueReadImage */
	size_t row_pitch;   /* the host's, as CL_IMAGE_ROW_PITCH reports it natively */
	size_t slice_pitch; /* the same (0 for 1D and 2D images) */
	size_t size_bytes;  /* from host_ptr to the end of the last row */
};

/*
 * The host memory of an image creator's call (fn_id clCreateImage,
 * clCreateImageWithProperties, clCreateImage2D or clCreateImage3D, with
 * CL_MEM_COPY_HOST_PTR or CL_MEM_USE_HOST_PTR in flags): the whole image
 * at the pitches of the call, 0 pitches being those of packed rows and
 * slices. Returns 0, -EINVAL when the call describes no such memory (the
 * library refuses it), -ENOENT for another function.
 */
int ava_opencl_rect_image_host(uint32_t fn_id, void *const *args,
			       struct ava_opencl_image_host *ret);

#endif /* AVA_SPEC_OPENCL_RECT_H */
