/* SPDX-License-Identifier: MIT */
/*
 * The hooks an API's hand-written server code registers from constructors,
 * before main runs (spec/opencl/events.c, rect.c, svm-server.c): stored here,
 * read by the runtime only through apiserver/hooks.h. Written once before
 * any thread starts and only read afterwards, so they need no lock.
 */
#include <stddef.h>

#include "hooks.h"

static const struct ava_apiserver_event_ops *g_event_ops; /* late buffers; NULL: none */
static const struct ava_gen_rect_ops *g_rect_ops;	  /* rect buffers; NULL: none */
static ava_apiserver_call_wrapper_fn g_call_wrapper;	  /* NULL: invoke directly */
static ava_apiserver_session_end_fn g_session_end;	  /* NULL: nothing to tell */

void ava_apiserver_set_event_ops(const struct ava_apiserver_event_ops *ops)
{
	g_event_ops = ops;
}

void ava_apiserver_set_rect_ops(const struct ava_gen_rect_ops *ops)
{
	g_rect_ops = ops;
}

void ava_apiserver_set_call_wrapper(ava_apiserver_call_wrapper_fn wrapper)
{
	g_call_wrapper = wrapper;
}

void ava_apiserver_set_session_end(ava_apiserver_session_end_fn end)
{
	g_session_end = end;
}

const struct ava_apiserver_event_ops *
ava_apiserver_hooks_events(const struct ava_apiserver_api *api)
{
	(void)api;
	return g_event_ops;
}

const struct ava_gen_rect_ops *ava_apiserver_hooks_rect(const struct ava_apiserver_api *api)
{
	(void)api;
	return g_rect_ops;
}

void ava_apiserver_hooks_invoke(const struct ava_apiserver_api *api, uint32_t session_id,
				const struct ava_abi_fn *fn, ava_apiserver_invoke_fn invoke,
				void *const *args, void *ret)
{
	(void)api;
	if (g_call_wrapper)
		g_call_wrapper(session_id, fn, invoke, args, ret);
	else
		invoke(args, ret);
}

void ava_apiserver_hooks_session_end(const struct ava_apiserver_api *api, uint32_t session_id)
{
	(void)api;
	if (g_session_end)
		g_session_end(session_id);
}
