/* SPDX-License-Identifier: MIT */
/*
 * An API's ops tables, as hand code defines them and the runtimes reach
 * them: mini's generated guest descriptor finds ava_mini_guest_ops defined
 * here (its weak reference resolves; mini_guest_test checks it is NULL
 * without one), and guestlib/hooks.c and apiserver/hooks.c, compiled in,
 * call each hook of the API's table with the call as the stub passed it
 * (read back through ava_mini.h's typed views), or do nothing without one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ava/apiserver.h>
#include <ava/guestlib.h>

#include "../../apiserver/hooks.h"
#include "../../guestlib/hooks.h"
#include "ava_mini.h"
#include "mini.h"

static int failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                              \
		}                                                                                \
	} while (0)

/*
 * mini.spec's guest export, which the generated proxy table
 * (ava_handle_proxy_table) names; this test does not call it.
 */
const void *mini_get_dispatch(void);
const void *mini_get_dispatch(void)
{
	return NULL;
}

/* The generated stubs call the runtime; this test calls the hooks directly. */
void ava_guestlib_call(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
		       void *ret)
{
	(void)api;
	(void)fn_id;
	(void)args;
	(void)ret;
	fprintf(stderr, "unexpected ava_guestlib_call\n");
	exit(1);
}

/* ---- the hand code: one table, each hook recording what it saw ---- */

static struct {
	const struct ava_guestlib_api *api;
	uint32_t fn_id;
	mini_buf buf;
	size_t offset, size;
	int filtered, nested_answer, observed, gone;
	uint16_t gone_type;
	const void *gone_handle;
} seen;

static char placed[64];

static void *place_map(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
		       size_t len_bytes)
{
	seen.api = api;
	seen.fn_id = fn_id;
	if (fn_id != AVA_MINI_FN_mini_map || len_bytes > sizeof(placed))
		return NULL;
	seen.buf = *ava_mini_args_mini_map(args).buf;
	return placed;
}

static int call_filter(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
		       void *ret)
{
	seen.api = api;
	seen.fn_id = fn_id;
	seen.filtered++;
	if (fn_id != AVA_MINI_FN_mini_read)
		return 0;
	struct ava_mini_args_mini_read a = ava_mini_args_mini_read(args);
	seen.buf = *a.buf;
	seen.offset = *a.offset;
	seen.size = *a.size;
	/* a call the filter makes itself is not filtered again */
	seen.nested_answer = ava_guestlib_hooks_filter(api, fn_id, args, ret);
	*ava_mini_ret_mini_read(ret) = MINI_ERR_REFUSED;
	return 1;
}

static void call_observer(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
			  void *ret)
{
	(void)args;
	seen.api = api;
	seen.fn_id = fn_id;
	seen.observed++;
	if (fn_id == AVA_MINI_FN_mini_flush)
		*ava_mini_ret_mini_flush(ret) = MINI_ERR_REMOTE;
}

static void handle_gone(const struct ava_guestlib_api *api, uint16_t handle_type,
			const void *handle)
{
	seen.api = api;
	seen.gone++;
	seen.gone_type = handle_type;
	seen.gone_handle = handle;
}

static int rect_shape(const struct ava_abi_fn *fn, unsigned arg, void *const *args,
		      struct ava_gen_rect *ret)
{
	(void)fn;
	(void)arg;
	(void)args;
	memset(ret, 0, sizeof(*ret));
	return 0;
}

static const struct ava_gen_rect_ops rect_ops = { .shape = rect_shape };

const struct ava_guestlib_ops ava_mini_guest_ops = {
	.map_placer = place_map,
	.call_filter = call_filter,
	.call_observer = call_observer,
	.handle_gone = handle_gone,
	.rect = &rect_ops,
};

/* ---- the server's table, on a hand-built descriptor (mini_server.c has a main) ---- */

static struct {
	uint32_t session, fn_id, ended;
	int wrapped, invoked;
} srv;

static void invoke(void *const *args, void *ret)
{
	(void)args;
	srv.invoked++;
	*(mini_err *)ret = MINI_OK;
}

static void call_wrapper(uint32_t session_id, const struct ava_abi_fn *fn,
			 ava_apiserver_invoke_fn inv, void *const *args, void *ret)
{
	srv.wrapped++;
	srv.session = session_id;
	srv.fn_id = fn->id;
	inv(args, ret);
}

static void session_end(uint32_t session_id)
{
	srv.ended = session_id;
}

static int ev_status(void *event)
{
	(void)event;
	return 1;
}

static const struct ava_apiserver_event_ops ev_ops = { .status = ev_status };

static const struct ava_apiserver_ops server_ops = {
	.events = &ev_ops,
	.rect = &rect_ops,
	.call_wrapper = call_wrapper,
	.session_end = session_end,
};

static void test_guest(void)
{
	const struct ava_guestlib_api *api = &ava_gen__mini__guest_api;
	mini_buf buf = (mini_buf)(uintptr_t)0x20;
	mini_err err = MINI_OK;
	size_t offset = 16, size = 48;
	uint8_t bytes[64];
	void *data = bytes;
	void *const read_args[] = { &buf, &data, &offset, &size };
	void *const map_args[] = { &buf };

	CHECK(api->ops == &ava_mini_guest_ops);
	CHECK(ava_guestlib_hooks_rect(api) == &rect_ops);

	CHECK(ava_guestlib_hooks_filter(api, AVA_MINI_FN_mini_read, read_args, &err) == 1);
	CHECK(seen.api == api && seen.fn_id == AVA_MINI_FN_mini_read && seen.filtered == 1);
	CHECK(seen.buf == buf && seen.offset == 16 && seen.size == 48);
	CHECK(seen.nested_answer == 0 && err == MINI_ERR_REFUSED);
	CHECK(ava_guestlib_hooks_filter(api, AVA_MINI_FN_mini_flush, map_args, &err) == 0);
	CHECK(seen.filtered == 2);

	err = MINI_OK;
	ava_guestlib_hooks_observe(api, AVA_MINI_FN_mini_flush, map_args, &err);
	CHECK(seen.observed == 1 && seen.fn_id == AVA_MINI_FN_mini_flush && err == MINI_ERR_REMOTE);

	seen.buf = NULL;
	CHECK(ava_guestlib_hooks_place_map(api, AVA_MINI_FN_mini_map, map_args, 8) == placed);
	CHECK(seen.buf == buf);
	CHECK(ava_guestlib_hooks_place_map(api, AVA_MINI_FN_mini_map, map_args, 4096) == NULL);

	ava_guestlib_hooks_handle_gone(api, AVA_MINI_HANDLE_mini_buf, buf);
	CHECK(seen.gone == 1 && seen.gone_type == AVA_MINI_HANDLE_mini_buf &&
	      seen.gone_handle == buf);
}

/* An API without hand code: every hook is a no-op, the runtime does what the spec says. */
static void test_guest_without_ops(void)
{
	const struct ava_guestlib_api bare = { .abi = ava_gen__mini__guest_api.abi };
	mini_buf buf = (mini_buf)(uintptr_t)0x20;
	void *const args[] = { &buf };
	mini_err err = MINI_OK;

	memset(&seen, 0, sizeof(seen));
	CHECK(ava_guestlib_hooks_filter(&bare, AVA_MINI_FN_mini_flush, args, &err) == 0);
	ava_guestlib_hooks_observe(&bare, AVA_MINI_FN_mini_flush, args, &err);
	CHECK(ava_guestlib_hooks_place_map(&bare, AVA_MINI_FN_mini_map, args, 8) == NULL);
	ava_guestlib_hooks_handle_gone(&bare, AVA_MINI_HANDLE_mini_buf, buf);
	CHECK(ava_guestlib_hooks_rect(&bare) == NULL);
	CHECK(seen.filtered == 0 && seen.observed == 0 && seen.gone == 0 && err == MINI_OK);
}

static void test_server(void)
{
	const struct ava_abi_fn *fn = &ava_gen__mini__guest_api.abi->fns[AVA_MINI_FN_mini_flush];
	const struct ava_apiserver_api api = { .abi = ava_gen__mini__guest_api.abi,
					       .ops = &server_ops };
	const struct ava_apiserver_api bare = { .abi = ava_gen__mini__guest_api.abi };
	mini_err err = MINI_ERR_REMOTE;

	CHECK(ava_apiserver_hooks_events(&api) == &ev_ops);
	CHECK(ava_apiserver_hooks_rect(&api) == &rect_ops);
	ava_apiserver_hooks_invoke(&api, 7, fn, invoke, NULL, &err);
	CHECK(srv.wrapped == 1 && srv.invoked == 1 && srv.session == 7);
	CHECK(srv.fn_id == AVA_MINI_FN_mini_flush && err == MINI_OK);
	ava_apiserver_hooks_session_end(&api, 7);
	CHECK(srv.ended == 7);

	err = MINI_ERR_REMOTE;
	CHECK(ava_apiserver_hooks_events(&bare) == NULL && ava_apiserver_hooks_rect(&bare) == NULL);
	ava_apiserver_hooks_invoke(&bare, 8, fn, invoke, NULL, &err);
	CHECK(srv.wrapped == 1 && srv.invoked == 2 && err == MINI_OK);
	ava_apiserver_hooks_session_end(&bare, 8);
	CHECK(srv.ended == 7);
}

int main(void)
{
	test_guest();
	test_guest_without_ops();
	test_server();
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	return failures ? 1 : 0;
}
