/* SPDX-License-Identifier: MIT */
/* avatest's rect shapes (tests/avatest/avatest-rect.c), for both runtimes. */
#ifndef AVATEST_RECT_H
#define AVATEST_RECT_H

#include <ava/gen.h>

extern const struct ava_gen_rect_ops ava_avatest_rect_ops;

#endif /* AVATEST_RECT_H */
