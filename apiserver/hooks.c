/* SPDX-License-Identifier: MIT */
/*
 * The hooks of an API's hand-written server code, as the runtime reaches
 * them (hooks.h): the API's one ops table, found through its generated
 * descriptor (api->ops, the weak reference to ava_<api>_server_ops). The
 * table is constant data, so reading it needs no lock.
 */
#include <stddef.h>

#include "hooks.h"

const struct ava_apiserver_event_ops *
ava_apiserver_hooks_events(const struct ava_apiserver_api *api)
{
	return api->ops ? api->ops->events : NULL;
}

const struct ava_gen_rect_ops *ava_apiserver_hooks_rect(const struct ava_apiserver_api *api)
{
	return api->ops ? api->ops->rect : NULL;
}

void ava_apiserver_hooks_invoke(const struct ava_apiserver_api *api, uint32_t session_id,
				const struct ava_abi_fn *fn, ava_apiserver_invoke_fn invoke,
				void *const *args, void *ret)
{
	if (api->ops && api->ops->call_wrapper)
		api->ops->call_wrapper(session_id, fn, invoke, args, ret);
	else
		invoke(args, ret);
}

void ava_apiserver_hooks_session_end(const struct ava_apiserver_api *api, uint32_t session_id)
{
	if (api->ops && api->ops->session_end)
		api->ops->session_end(session_id);
}
