/* SPDX-License-Identifier: MIT */
/*
 * avatest's hand-written guest source: what the guest library needs beyond
 * the spec. Everything is registered here, in one constructor.
 */
#include <ava/guestlib.h>

#include "avatest-rect.h"

__attribute__((constructor)) static void avatest_guest_register(void)
{
	ava_guestlib_set_rect_ops(&ava_avatest_rect_ops); /* avatest-rect.c */
}
