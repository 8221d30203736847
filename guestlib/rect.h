/* SPDX-License-Identifier: MIT */
/*
 * Rects (ava_rect, AVA_ABI_V_RECT): a buffer argument, or a mapping, that
 * is a 3-D region of the application's memory with its pitches. On the wire
 * only its bytes travel, packed; the API's rect shapes (hooks.c) say where
 * they are. Where the arguments describe no rect, nothing travels (count 0)
 * and the server lets the library answer. Private to guestlib/.
 */
#ifndef AVA_GUESTLIB_RECT_H
#define AVA_GUESTLIB_RECT_H

#include <stdbool.h>
#include <stdint.h>

#include <ava/guestlib.h>

struct ava_guestlib_call;

/*
 * Step: each rect argument's packed size into the plan and its shape into
 * call->rects (rect_ok); an input's bytes travel from a packed copy the
 * call owns. Returns 0, or -1 (NO_MEMORY).
 */
int ava_guestlib_rect_prepare(struct ava_guestlib_call *call) __attribute__((warn_unused_result));

/*
 * A rect mapping's shape (the API's shape with arg fn->n_args): true with
 * *ret_rect, its packed bytes and its extent in the application's memory;
 * false when the arguments describe no rect.
 */
bool ava_guestlib_rect_of_map(const struct ava_guestlib_api *api, const struct ava_abi_fn *fn,
			      void *const *args, struct ava_gen_rect *ret_rect, uint64_t *ret_bytes,
			      uint64_t *ret_extent_bytes);

#endif /* AVA_GUESTLIB_RECT_H */
