/* SPDX-License-Identifier: MIT */
/* OpenCL's rect shapes (spec/opencl/rect.c), for both runtimes. */
#ifndef AVA_SPEC_OPENCL_RECT_H
#define AVA_SPEC_OPENCL_RECT_H

#include <ava/gen.h>

extern const struct ava_gen_rect_ops ava_opencl_rect_ops;

#endif /* AVA_SPEC_OPENCL_RECT_H */
