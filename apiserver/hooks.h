/* SPDX-License-Identifier: MIT */
/*
 * The hooks of an API's hand-written server code (event ops, rect
 * ops, the call wrapper, the session-end hook), as the runtime reaches them.
 * Private to apiserver/: every use site in the runtime goes through these
 * functions, never the ops table itself, so that where the hooks come from
 * (api->ops, the API's struct ava_apiserver_ops) is decided in
 * apiserver/hooks.c alone. The api argument names the API the server runs.
 */
#ifndef AVA_APISERVER_HOOKS_H
#define AVA_APISERVER_HOOKS_H

#include <stdint.h>

#include <ava/apiserver.h>

/* The API's completion events (late buffers), or NULL if it has none. */
const struct ava_apiserver_event_ops *
ava_apiserver_hooks_events(const struct ava_apiserver_api *api);

/* The API's rect shapes (ava_rect buffers), or NULL if it has none. */
const struct ava_gen_rect_ops *ava_apiserver_hooks_rect(const struct ava_apiserver_api *api);

/*
 * Runs one call of session_id: through the API's call wrapper, or
 * invoke(args, ret) itself when there is none. ret is NULL for a void
 * function.
 */
void ava_apiserver_hooks_invoke(const struct ava_apiserver_api *api, uint32_t session_id,
				const struct ava_abi_fn *fn, ava_apiserver_invoke_fn invoke,
				void *const *args, void *ret);

/* Tells the API's session-end hook, if any, that session_id has ended. */
void ava_apiserver_hooks_session_end(const struct ava_apiserver_api *api, uint32_t session_id);

#endif /* AVA_APISERVER_HOOKS_H */
