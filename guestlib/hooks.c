/* SPDX-License-Identifier: MIT */
/*
 * The hooks an API's hand-written guest sources register from constructors
 * (include/ava/guestlib.h), and the runtime's one way to reach them
 * (hooks.h). Process-global: one API per process registers them today.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "hooks.h"

static ava_guestlib_map_placer_fn g_map_placer;
static _Atomic(ava_guestlib_call_observer_fn) g_call_observers[AVA_GUESTLIB_MAX_HOOKS];
static _Atomic(ava_guestlib_call_filter_fn) g_call_filter;
static _Thread_local bool in_call_filter; /* its own calls are not filtered again */
static _Atomic(ava_guestlib_handle_gone_fn) g_handle_gone[AVA_GUESTLIB_MAX_HOOKS];
static const struct ava_gen_rect_ops *g_rect_ops;

void ava_guestlib_set_map_placer(ava_guestlib_map_placer_fn placer)
{
	g_map_placer = placer;
}

void ava_guestlib_add_call_observer(ava_guestlib_call_observer_fn observer)
{
	for (unsigned i = 0; i < AVA_GUESTLIB_MAX_HOOKS; i++) {
		ava_guestlib_call_observer_fn none = NULL;
		if (atomic_compare_exchange_strong(&g_call_observers[i], &none, observer))
			return;
	}
	fprintf(stderr, "ava: more than %d call observers; one is ignored\n",
		AVA_GUESTLIB_MAX_HOOKS);
}

void ava_guestlib_set_call_filter(ava_guestlib_call_filter_fn filter)
{
	atomic_store(&g_call_filter, filter);
}

void ava_guestlib_add_handle_gone(ava_guestlib_handle_gone_fn gone)
{
	for (unsigned i = 0; i < AVA_GUESTLIB_MAX_HOOKS; i++) {
		ava_guestlib_handle_gone_fn none = NULL;
		if (atomic_compare_exchange_strong(&g_handle_gone[i], &none, gone))
			return;
	}
	fprintf(stderr, "ava: more than %d handle-gone hooks; one is ignored\n",
		AVA_GUESTLIB_MAX_HOOKS);
}

void ava_guestlib_set_rect_ops(const struct ava_gen_rect_ops *ops)
{
	g_rect_ops = ops;
}

void *ava_guestlib_hooks_place_map(const struct ava_guestlib_api *api, uint32_t fn_id,
				   void *const *args, size_t len_bytes)
{
	return g_map_placer ? g_map_placer(api->abi, fn_id, args, len_bytes) : NULL;
}

int ava_guestlib_hooks_filter(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
			      void *ret)
{
	ava_guestlib_call_filter_fn filter = atomic_load(&g_call_filter);
	if (!filter || in_call_filter)
		return 0;
	in_call_filter = true;
	bool answered = filter(api, fn_id, args, ret) != 0;
	in_call_filter = false;
	return answered ? 1 : 0;
}

void ava_guestlib_hooks_observe(const struct ava_guestlib_api *api, uint32_t fn_id,
				void *const *args, void *ret)
{
	for (unsigned i = 0; i < AVA_GUESTLIB_MAX_HOOKS; i++) {
		ava_guestlib_call_observer_fn f = atomic_load(&g_call_observers[i]);
		if (f)
			f(api->abi, fn_id, args, ret);
	}
}

void ava_guestlib_hooks_handle_gone(const struct ava_guestlib_api *api, uint16_t handle_type,
				    const void *handle)
{
	for (unsigned i = 0; i < AVA_GUESTLIB_MAX_HOOKS; i++) {
		ava_guestlib_handle_gone_fn gone = atomic_load(&g_handle_gone[i]);
		if (gone)
			gone(api->abi, handle_type, handle);
	}
}

const struct ava_gen_rect_ops *ava_guestlib_hooks_rect(const struct ava_guestlib_api *api)
{
	(void)api;
	return g_rect_ops;
}
