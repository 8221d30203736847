/* SPDX-License-Identifier: MIT */
/*
 * The guest runtime's hooks into an API's hand-written guest sources (map
 * placer, call filter, call observers, handle_gone hooks, rect shapes), as
 * the rest of the runtime reaches them. Private to guestlib/.
 *
 * Every use site in the runtime goes through these functions, never through
 * the ops table itself, so where the hooks live (api->ops, the API's table
 * of struct ava_guestlib_ops) is hooks.c's business alone. api is the API
 * the call or handle belongs to.
 */
#ifndef AVA_GUESTLIB_HOOKS_H
#define AVA_GUESTLIB_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include <ava/guestlib.h>

/*
 * Memory the API's placer chose for a new mapping of len_bytes made by this
 * call of fn_id, or NULL (no placer, or it declined): the runtime allocates.
 */
void *ava_guestlib_hooks_place_map(const struct ava_guestlib_api *api, uint32_t fn_id,
				   void *const *args, size_t len_bytes);

/*
 * Shows a supported call to the API's call filter before it is sent.
 * Returns 1 when the filter answered it (ret and the out buffers hold what
 * the application gets), 0 to make the call. Calls the filter makes itself
 * (on this thread, while it runs) are not filtered again: 0 for them.
 */
int ava_guestlib_hooks_filter(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
			      void *ret);

/* Shows a finished call to the API's call observer. */
void ava_guestlib_hooks_observe(const struct ava_guestlib_api *api, uint32_t fn_id,
				void *const *args, void *ret);

/* Tells the API's handle_gone hook that the application's handle is gone (no lock held). */
void ava_guestlib_hooks_handle_gone(const struct ava_guestlib_api *api, uint16_t handle_type,
				    const void *handle);

/* The API's rect shapes, or NULL when it has none. */
const struct ava_gen_rect_ops *ava_guestlib_hooks_rect(const struct ava_guestlib_api *api);

#endif /* AVA_GUESTLIB_HOOKS_H */
