/* SPDX-License-Identifier: MIT */
/*
 * The hooks of an API's hand-written guest code, as the runtime reaches
 * them (hooks.h): the API's one ops table, found through its generated
 * descriptor (api->ops, the weak reference to ava_<api>_guest_ops), so
 * each API in a process has its own and none can replace another's.
 */
#include <stdbool.h>
#include <stddef.h>

#include "hooks.h"

static _Thread_local bool in_call_filter; /* its own calls are not filtered again */

void *ava_guestlib_hooks_place_map(const struct ava_guestlib_api *api, uint32_t fn_id,
				   void *const *args, size_t len_bytes)
{
	const struct ava_guestlib_ops *ops = api->ops;

	return ops && ops->map_placer ? ops->map_placer(api, fn_id, args, len_bytes) : NULL;
}

int ava_guestlib_hooks_filter(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
			      void *ret)
{
	const struct ava_guestlib_ops *ops = api->ops;

	if (!ops || !ops->call_filter || in_call_filter)
		return 0;
	in_call_filter = true;
	bool answered = ops->call_filter(api, fn_id, args, ret) != 0;
	in_call_filter = false;
	return answered ? 1 : 0;
}

void ava_guestlib_hooks_observe(const struct ava_guestlib_api *api, uint32_t fn_id,
				void *const *args, void *ret)
{
	const struct ava_guestlib_ops *ops = api->ops;

	if (ops && ops->call_observer)
		ops->call_observer(api, fn_id, args, ret);
}

void ava_guestlib_hooks_handle_gone(const struct ava_guestlib_api *api, uint16_t handle_type,
				    const void *handle)
{
	const struct ava_guestlib_ops *ops = api->ops;

	if (ops && ops->handle_gone)
		ops->handle_gone(api, handle_type, handle);
}

const struct ava_gen_rect_ops *ava_guestlib_hooks_rect(const struct ava_guestlib_api *api)
{
	return api->ops ? api->ops->rect : NULL;
}
