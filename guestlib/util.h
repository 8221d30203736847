/* SPDX-License-Identifier: MIT */
/*
 * Small pieces every part of the guest runtime uses: its one-line messages,
 * the caller's thread id, and the native values (the spec's errors and
 * success) a call hands the application. Private to guestlib/.
 */
#ifndef AVA_GUESTLIB_UTIL_H
#define AVA_GUESTLIB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ava/guestlib.h>

/* One line "ava: ..." on stderr, written at once. */
__attribute__((format(printf, 1, 2))) void ava_guestlib_say(const char *fmt, ...);

/* AVA_DEBUG is set (and not "0"): failed calls say why. */
bool ava_guestlib_debug(void);

/* This thread's id on the wire (1, 2, ... in order of first use). */
uint32_t ava_guestlib_thread_id(void);

/* Bytes of a value as the application holds it (a pointer for all but scalars). */
size_t ava_guestlib_value_size(const struct ava_abi_value *v);

/* Writes the native value for a failed call (wire status) into ret and the errcode argument. */
void ava_guestlib_set_error(const struct ava_guestlib_fn *gf, void *const *args, void *ret,
			    unsigned status);

/* Writes the native success value into ret (zero where the spec gives none). */
void ava_guestlib_set_success(const struct ava_guestlib_fn *gf, void *ret);

/* Which argument named no live object, and the handle type it should have had. */
struct ava_guestlib_bad_handle {
	int arg; /* -1: not known */
	uint16_t type;
};

/*
 * ava_guestlib_set_error for a handle argument that names no live object:
 * the argument's or the handle type's invalid-handle error where the spec
 * gives one. With b->arg -1 it is set_error(AVA_STATUS_BAD_HANDLE).
 */
void ava_guestlib_set_bad_handle(const struct ava_guestlib_fn *gf, void *const *args, void *ret,
				 const struct ava_guestlib_bad_handle *b);

/* Did the call succeed? ava_gen_succeeded on the application's result and errcode argument. */
bool ava_guestlib_succeeded(const struct ava_guestlib_fn *gf, void *const *args, const void *ret);

#endif /* AVA_GUESTLIB_UTIL_H */
