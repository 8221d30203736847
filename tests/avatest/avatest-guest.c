/* SPDX-License-Identifier: MIT */
/*
 * avatest's hand-written guest source: what the guest library needs beyond
 * the spec. Everything is registered here, in one constructor.
 */
#include <ava/guestlib.h>

#include "ava_avatest.h"
#include "avatest-rect.h"

const struct ava_guestlib_ops ava_avatest_guest_ops = {
	.rect = &ava_avatest_rect_ops, /* avatest-rect.c */
};
