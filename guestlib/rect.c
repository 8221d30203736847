/* SPDX-License-Identifier: MIT */
/* Rect arguments and rect mappings (rect.h). */
#include <errno.h>
#include <stdlib.h>

#include "call.h"
#include "hooks.h"
#include "rect.h"
#include "util.h"

/*
 * Rect argument i of the call: its packed size from the API's shape, and an
 * input's bytes packed into a copy the call owns, which travels instead.
 * Returns 0 or -ENOMEM.
 */
static int rect_arg(struct ava_guestlib_call *call, const struct ava_gen_rect_ops *ops, unsigned i)
{
	const struct ava_abi_fn *fn = call->fn;
	const void *app = *(void *const *)call->args[i];
	struct ava_gen_rect *rect = &call->rects[i];
	uint64_t bytes = 0;

	call->rect_ok[i] = false;
	call->plan.count[i] = 0;
	if (!app || !ops || ops->shape(fn, i, call->args, rect) < 0 ||
	    ava_gen_rect_bytes(rect, &bytes) < 0)
		return 0;
	call->rect_ok[i] = true;
	call->plan.count[i] = bytes;
	if (!(fn->args[i].dir & AVA_ABI_DIR_IN) || !bytes || bytes > fn->args[i].max_count)
		return 0; /* the encoder refuses one too large */
	void *packed = malloc(bytes);
	if (ava_guestlib_call_own(call, packed) < 0)
		return -ENOMEM;
	ava_gen_rect_pack(rect, app, packed);
	ava_guestlib_call_send_arg(call, i, packed);
	return 0;
}

int ava_guestlib_rect_prepare(struct ava_guestlib_call *call)
{
	const struct ava_abi_fn *fn = call->fn;
	const struct ava_gen_rect_ops *ops = ava_guestlib_hooks_rect(call->api);
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (fn->args[i].kind != AVA_ABI_BUFFER || !(fn->args[i].flags & AVA_ABI_V_RECT))
			continue;
		if (rect_arg(call, ops, i) < 0) {
			ava_guestlib_say("%s: out of memory", fn->name);
			return ava_guestlib_call_fail(call, AVA_STATUS_NO_MEMORY);
		}
	}
	return 0;
}

bool ava_guestlib_rect_of_map(const struct ava_guestlib_api *api, const struct ava_abi_fn *fn,
			      void *const *args, struct ava_gen_rect *ret_rect, uint64_t *ret_bytes,
			      uint64_t *ret_extent_bytes)
{
	const struct ava_gen_rect_ops *ops = ava_guestlib_hooks_rect(api);
	*ret_extent_bytes = 0;
	return ops && ops->shape(fn, fn->n_args, args, ret_rect) == 0 &&
	       ava_gen_rect_bytes(ret_rect, ret_bytes) == 0 &&
	       ava_gen_rect_extent(ret_rect, ret_extent_bytes) == 0;
}
