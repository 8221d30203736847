/* SPDX-License-Identifier: MIT */
/*
 * Runs mini's generated API server dispatch against a stand-in for the
 * server runtime and a stand-in for the real library (below): every invoke
 * function must call the real function with the arguments it was given and
 * store its result, callback trampolines must forward to
 * ava_apiserver_callback with the callback's id and arguments, and release
 * functions must call the spec's ava_deallocates function.
 *
 * The generated file's main() calls ava_apiserver_main, which here is the test.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ava/apiserver.h>

#include "mini.h"

static int failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                              \
		}                                                                                \
	} while (0)

/* ---- stand-in for the real library: records what it was called with ---- */

static struct {
	const char *fn;
	uintptr_t a[6];
	mini_event_fn event_fn;
	void *event_user;
} seen;

#define SEEN(name) (seen.fn = (name))

mini_err mini_open(const char *name, mini_ctx *ret_ctx)
{
	SEEN("mini_open");
	seen.a[0] = (uintptr_t)name;
	*ret_ctx = (mini_ctx)(uintptr_t)0x77;
	return MINI_OK;
}

mini_err mini_close(mini_ctx ctx)
{
	SEEN("mini_close");
	seen.a[0] = (uintptr_t)ctx;
	return MINI_OK;
}

mini_buf mini_buf_new(mini_ctx ctx, size_t size, mini_err *err)
{
	SEEN("mini_buf_new");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = size;
	*err = MINI_OK;
	return (mini_buf)(uintptr_t)0x99;
}

mini_err mini_buf_free(mini_buf buf)
{
	SEEN("mini_buf_free");
	seen.a[0] = (uintptr_t)buf;
	return MINI_OK;
}

mini_err mini_buf_retain(mini_buf buf)
{
	SEEN("mini_buf_retain");
	seen.a[0] = (uintptr_t)buf;
	return MINI_OK;
}

mini_err mini_write(mini_buf buf, mini_mode mode, const void *data, size_t size)
{
	SEEN("mini_write");
	seen.a[0] = (uintptr_t)buf;
	seen.a[1] = (uintptr_t)mode;
	seen.a[2] = (uintptr_t)data;
	seen.a[3] = size;
	return MINI_ERR_REFUSED; /* any value: the invoke must pass it through */
}

mini_err mini_read(mini_buf buf, void *data, size_t offset, size_t size)
{
	SEEN("mini_read");
	seen.a[0] = (uintptr_t)buf;
	seen.a[1] = (uintptr_t)data;
	seen.a[2] = offset;
	seen.a[3] = size;
	return MINI_OK;
}

mini_err mini_copy(mini_ctx ctx, int32_t mode, const uint8_t *src, size_t n, uint8_t *dst, size_t m)
{
	SEEN("mini_copy");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = (uintptr_t)mode;
	seen.a[2] = (uintptr_t)src;
	seen.a[3] = n;
	seen.a[4] = (uintptr_t)dst;
	seen.a[5] = m;
	return MINI_OK;
}

mini_err mini_pairs(mini_ctx ctx, const mini_pair *pairs, uint32_t count)
{
	SEEN("mini_pairs");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = (uintptr_t)pairs;
	seen.a[2] = count;
	return MINI_OK;
}

mini_err mini_points(mini_point *pts, size_t n)
{
	SEEN("mini_points");
	seen.a[0] = (uintptr_t)pts;
	seen.a[1] = n;
	return MINI_OK;
}

mini_err mini_on_event(mini_ctx ctx, mini_event_fn fn, void *user)
{
	SEEN("mini_on_event");
	seen.a[0] = (uintptr_t)ctx;
	seen.event_fn = fn;
	seen.event_user = user;
	return MINI_OK;
}

mini_err mini_flush(mini_ctx ctx)
{
	SEEN("mini_flush");
	seen.a[0] = (uintptr_t)ctx;
	return MINI_OK;
}

mini_err mini_submit(mini_ctx ctx, size_t bytes)
{
	SEEN("mini_submit");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = bytes;
	return MINI_OK;
}

int64_t mini_clock(void)
{
	SEEN("mini_clock");
	return INT64_C(1) << 40;
}

void mini_log(const char *msg)
{
	SEEN("mini_log");
	seen.a[0] = (uintptr_t)msg;
}

uintptr_t mini_device_ptr(mini_buf buf)
{
	SEEN("mini_device_ptr");
	return (uintptr_t)buf + 1;
}

void *mini_map(mini_buf buf)
{
	SEEN("mini_map");
	return (char *)buf + 2;
}

mini_err mini_set_name(mini_ctx_alias ctx, const char *name, const int32_t flags)
{
	SEEN("mini_set_name");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = (uintptr_t)name;
	seen.a[2] = (uintptr_t)flags;
	return MINI_OK;
}

mini_err mini_bufs(const mini_buf *bufs, uint32_t n, mini_buf *ret_bufs)
{
	SEEN("mini_bufs");
	seen.a[0] = (uintptr_t)bufs;
	seen.a[1] = n;
	seen.a[2] = (uintptr_t)ret_bufs;
	return MINI_OK;
}

mini_err mini_release_all(mini_buf *bufs, uint32_t n)
{
	SEEN("mini_release_all");
	seen.a[0] = (uintptr_t)bufs;
	seen.a[1] = n;
	return MINI_OK;
}

mini_err mini_poke(mini_ctx ctx, void *device_ptr)
{
	SEEN("mini_poke");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = (uintptr_t)device_ptr;
	return MINI_OK;
}

mini_count_t mini_count(mini_ctx ctx)
{
	SEEN("mini_count");
	seen.a[0] = (uintptr_t)ctx;
	return 12;
}

mini_err mini_clash(int args, int ret, int plan, int32_t *out)
{
	SEEN("mini_clash");
	*out = args + ret + plan;
	return MINI_OK;
}

mini_err mini_old(mini_ctx ctx)
{
	SEEN("mini_old");
	seen.a[0] = (uintptr_t)ctx;
	return MINI_OK;
}

static void (*error_fn)(int32_t code, void *user);
static void *error_user;

mini_err mini_on_error(mini_ctx ctx, void (*fn)(int32_t code, void *user), void *user)
{
	SEEN("mini_on_error");
	seen.a[0] = (uintptr_t)ctx;
	error_fn = fn;
	error_user = user;
	return MINI_OK;
}

mini_ctx mini_current(void)
{
	SEEN("mini_current");
	return (mini_ctx)(uintptr_t)0x55;
}

mini_err mini_get_info(mini_buf buf, mini_info what, size_t size, void *value, size_t *size_ret)
{
	SEEN("mini_get_info");
	seen.a[0] = (uintptr_t)buf;
	seen.a[1] = what;
	seen.a[2] = size;
	seen.a[3] = (uintptr_t)value;
	seen.a[4] = (uintptr_t)size_ret;
	return MINI_OK;
}

mini_ctx mini_create(const mini_prop *props, uint32_t flags, mini_err *err)
{
	SEEN("mini_create");
	seen.a[0] = (uintptr_t)props;
	seen.a[1] = flags;
	*err = MINI_OK;
	return (mini_ctx)(uintptr_t)0x66;
}

mini_err mini_set_arg(mini_ctx ctx, uint32_t index, size_t size, const void *value)
{
	SEEN("mini_set_arg");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = index;
	seen.a[2] = size;
	seen.a[3] = (uintptr_t)value;
	return MINI_OK;
}

mini_err mini_compile(mini_ctx ctx, uint32_t count, const char **sources, const size_t *lengths)
{
	SEEN("mini_compile");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = count;
	seen.a[2] = (uintptr_t)sources;
	seen.a[3] = (uintptr_t)lengths;
	return MINI_OK;
}

mini_err mini_wait(mini_ctx ctx, int32_t blocking)
{
	SEEN("mini_wait");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = (uintptr_t)blocking;
	return MINI_OK;
}

mini_err mini_buf_finish(mini_buf buf)
{
	SEEN("mini_buf_finish");
	seen.a[0] = (uintptr_t)buf;
	return MINI_OK;
}

mini_err mini_on_notify(mini_ctx ctx, mini_notify_fn fn, void *user)
{
	SEEN("mini_on_notify");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = (uintptr_t)fn;
	seen.a[2] = (uintptr_t)user;
	return MINI_OK;
}

mini_err mini_read_late(mini_buf buf, size_t size, void *data, mini_buf *ret_fence)
{
	SEEN("mini_read_late");
	seen.a[0] = (uintptr_t)buf;
	seen.a[1] = size;
	seen.a[2] = (uintptr_t)data;
	seen.a[3] = (uintptr_t)ret_fence;
	return MINI_OK;
}

mini_err mini_write_late(mini_buf buf, size_t size, const void *data, mini_buf *ret_fence)
{
	SEEN("mini_write_late");
	seen.a[0] = (uintptr_t)buf;
	seen.a[1] = size;
	seen.a[2] = (uintptr_t)data;
	seen.a[3] = (uintptr_t)ret_fence;
	return MINI_OK;
}

mini_err mini_write_rect(mini_buf buf, const size_t *region, size_t pitch, const void *data)
{
	SEEN("mini_write_rect");
	seen.a[0] = (uintptr_t)buf;
	seen.a[1] = (uintptr_t)region;
	seen.a[2] = pitch;
	seen.a[3] = (uintptr_t)data;
	return MINI_OK;
}

mini_err mini_read_rect(mini_buf buf, const size_t *region, size_t pitch, void *data,
			mini_buf *ret_fence)
{
	SEEN("mini_read_rect");
	seen.a[0] = (uintptr_t)buf;
	seen.a[1] = (uintptr_t)region;
	seen.a[2] = pitch;
	seen.a[3] = (uintptr_t)data;
	seen.a[4] = (uintptr_t)ret_fence;
	return MINI_OK;
}

void *mini_map_bytes(mini_buf buf, uint32_t flags, size_t size, mini_buf *ret_fence, mini_err *err)
{
	SEEN("mini_map_bytes");
	seen.a[0] = (uintptr_t)buf;
	seen.a[1] = flags;
	seen.a[2] = size;
	seen.a[3] = (uintptr_t)ret_fence;
	seen.a[4] = (uintptr_t)err;
	return NULL;
}

mini_err mini_unmap(mini_buf buf, void *mapped)
{
	SEEN("mini_unmap");
	seen.a[0] = (uintptr_t)buf;
	seen.a[1] = (uintptr_t)mapped;
	return MINI_OK;
}

mini_buf mini_sub(mini_buf parent, size_t offset, size_t size, mini_err *err)
{
	SEEN("mini_sub");
	seen.a[0] = (uintptr_t)parent;
	seen.a[1] = offset;
	seen.a[2] = size;
	seen.a[3] = (uintptr_t)err;
	return NULL;
}

mini_err mini_prog_info_get(mini_ctx ctx, mini_prog_info what, size_t size, void *value)
{
	SEEN("mini_prog_info_get");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = (uintptr_t)what;
	seen.a[2] = size;
	seen.a[3] = (uintptr_t)value;
	return MINI_OK;
}

mini_qerr mini_reserve(mini_ctx ctx, size_t bytes)
{
	SEEN("mini_reserve");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = bytes;
	return MINI_Q_OK;
}

/*
 * What mini_ext_lookup finds: the library's extension, which it does not
 * export as mini_ext_tune (the generated server defines that name, as a
 * forwarder: ava_resolve_via).
 */
static mini_err real_ext_tune(mini_ctx ctx, int32_t level)
{
	SEEN("real_ext_tune");
	seen.a[0] = (uintptr_t)ctx;
	seen.a[1] = (uintptr_t)level;
	return MINI_OK;
}

static struct {
	int calls;
	bool answer;
	const char *name;
	void *self;
} ext_lookup;

void *mini_ext_lookup(const char *name, void *self);
void *mini_ext_lookup(const char *name, void *self)
{
	ext_lookup.calls++;
	ext_lookup.name = name;
	ext_lookup.self = self;
	return ext_lookup.answer && strcmp(name, "mini_ext_tune") == 0 ? (void *)real_ext_tune
								       : NULL;
}

/* ---- stand-in server runtime ---- */

static struct {
	uint32_t cb_id;
	void *const *args;
	int n;
} cb_seen;

void ava_apiserver_callback(const struct ava_apiserver_api *api, uint32_t cb_id, void *const *args,
			    void *ret)
{
	(void)api;
	cb_seen.cb_id = cb_id;
	cb_seen.args = args;
	cb_seen.n++;
	if (ret)
		*(int *)ret = 1234;
}

static const struct ava_apiserver_fn *fn_named(const struct ava_apiserver_api *api,
					       const char *name)
{
	const struct ava_abi_fn *abi = ava_abi_find_fn(api->abi, name);

	if (!abi) {
		fprintf(stderr, "no function %s\n", name);
		exit(1);
	}
	return &api->fns[abi->id];
}

int ava_apiserver_main(const struct ava_apiserver_api *api, int argc, char **argv)
{
	const struct ava_apiserver_fn *fn;
	char errbuf[256];
	mini_err r = MINI_ERR_REMOTE;
	uint32_t i;

	(void)argc;
	(void)argv;
	CHECK(ava_abi_api_check(api->abi, errbuf, sizeof(errbuf)) == 0);
	CHECK(strcmp(api->spec_path, "tests/codegen/specs/mini.spec") == 0);
	for (i = 0; i < api->abi->n_fns; i++) {
		int unsupported = !!(api->abi->fns[i].flags & AVA_ABI_FN_UNSUPPORTED);

		CHECK(api->fns[i].abi == &api->abi->fns[i]);
		CHECK(unsupported == (api->fns[i].invoke == NULL));
	}

	{
		mini_buf buf = (mini_buf)(uintptr_t)0x20;
		mini_mode mode = MINI_MODE_AUTO;
		const void *data = &r;
		size_t size = 77;
		void *const args[] = { &buf, &mode, &data, &size };

		fn = fn_named(api, "mini_write");
		fn->invoke(args, &r);
		CHECK(strcmp(seen.fn, "mini_write") == 0 && r == MINI_ERR_REFUSED);
		CHECK(seen.a[0] == 0x20 && seen.a[1] == MINI_MODE_AUTO &&
		      seen.a[2] == (uintptr_t)&r && seen.a[3] == 77);
		/* The server runs the same plan on the scalar arguments. */
		{
			struct ava_gen_plan plan;
			void *const scalars[] = { NULL, &mode, NULL, &size };

			fn->plan(scalars, &plan);
			CHECK(plan.async == 0 && plan.count[2] == 77);
		}
	}
	{
		mini_ctx ctx = (mini_ctx)(uintptr_t)0x10;
		int32_t mode = 3;
		const uint8_t *src = (const uint8_t *)"abc";
		size_t n = 3, m = 4;
		uint8_t dst[4];
		uint8_t *dstp = dst;
		void *const args[] = { &ctx, &mode, &src, &n, &dstp, &m };

		fn_named(api, "mini_copy")->invoke(args, &r);
		CHECK(strcmp(seen.fn, "mini_copy") == 0 && r == MINI_OK);
		CHECK(seen.a[0] == 0x10 && seen.a[1] == 3 && seen.a[2] == (uintptr_t)src &&
		      seen.a[3] == 3 && seen.a[4] == (uintptr_t)dst && seen.a[5] == 4);
	}
	{
		mini_ctx ctx = (mini_ctx)(uintptr_t)0x10;
		size_t size = 4096;
		mini_err err = MINI_ERR_REMOTE, *errp = &err;
		mini_buf got = NULL;
		void *const args[] = { &ctx, &size, &errp };

		fn_named(api, "mini_buf_new")->invoke(args, &got);
		CHECK(got == (mini_buf)(uintptr_t)0x99 && err == MINI_OK && seen.a[1] == 4096);
	}
	{
		int64_t t = 0;
		uintptr_t p = 0;
		void *m = NULL;
		mini_buf buf = (mini_buf)(uintptr_t)0x20;
		void *const args[] = { &buf };
		mini_ctx cur = NULL;

		fn_named(api, "mini_clock")->invoke(NULL, &t);
		CHECK(t == INT64_C(1) << 40);
		fn_named(api, "mini_device_ptr")->invoke(args, &p);
		CHECK(p == 0x21);
		fn_named(api, "mini_map")->invoke(args, &m);
		CHECK(m == (char *)buf + 2);
		fn_named(api, "mini_current")->invoke(NULL, &cur);
		CHECK(cur == (mini_ctx)(uintptr_t)0x55);
	}
	{
		const char *msg = "hi";
		void *const args[] = { &msg };

		fn_named(api, "mini_log")->invoke(args, NULL);
		CHECK(strcmp(seen.fn, "mini_log") == 0 && seen.a[0] == (uintptr_t)msg);
	}
	{
		int a = 1, b = 2, c = 3;
		int32_t out = 0, *outp = &out;
		void *const args[] = { &a, &b, &c, &outp };

		fn_named(api, "mini_clash")->invoke(args, &r);
		CHECK(out == 6);
	}

	/*
	 * Plans on the server see only scalars: pointer slots hold NULL. A property
	 * list's count then comes from the wire, and overrides rewrite the scalar
	 * the real function will get.
	 */
	{
		const mini_prop *props = NULL;
		uint32_t flags = MINI_FLAG_SHARE | 0x10u;
		mini_err *errp = NULL;
		void *const args[] = { &props, &flags, &errp };
		struct ava_gen_plan plan;

		memset(&plan, 0, sizeof(plan));
		fn_named(api, "mini_create")->plan(args, &plan);
		CHECK(plan.count[0] == AVA_GEN_COUNT_FROM_WIRE && plan.count[2] == 1);
		CHECK(flags == (MINI_FLAG_COPY | 0x10u));
		/* Running it again on the overridden value changes nothing. */
		fn_named(api, "mini_create")->plan(args, &plan);
		CHECK(flags == (MINI_FLAG_COPY | 0x10u));
	}
	{
		mini_ctx ctx = (mini_ctx)(uintptr_t)0x10;
		uint32_t count = 2;
		const char **sources = NULL;
		const size_t *lengths = NULL;
		void *const args[] = { &ctx, &count, &sources, &lengths };
		struct ava_gen_plan plan;

		memset(&plan, 0, sizeof(plan));
		fn_named(api, "mini_compile")->plan(args, &plan);
		CHECK(plan.count[2] == 2 && plan.count[3] == 2 && plan.str_lengths[2] == NULL);
	}
	{
		mini_ctx ctx = (mini_ctx)(uintptr_t)0x10;
		int32_t blocking = 0;
		void *const args[] = { &ctx, &blocking };
		struct ava_gen_plan plan;

		memset(&plan, 0, sizeof(plan));
		fn_named(api, "mini_wait")->plan(args, &plan);
		CHECK(blocking == 1);
		fn_named(api, "mini_wait")->invoke(args, &r);
		CHECK(strcmp(seen.fn, "mini_wait") == 0 && seen.a[1] == 1);
	}

	/* Callbacks: the library gets the trampoline, which forwards to the runtime. */
	{
		mini_ctx ctx = (mini_ctx)(uintptr_t)0x10;
		mini_event_fn tramp = (mini_event_fn)api->callbacks[0].trampoline;
		void *user = (void *)(uintptr_t)0xabc;
		void *const args[] = { &ctx, &tramp, &user };
		int ret;

		CHECK(api->callbacks[0].abi == &api->abi->callbacks[0]);
		fn_named(api, "mini_on_event")->invoke(args, &r);
		CHECK(seen.event_fn == tramp && seen.event_user == user);
		ret = seen.event_fn((mini_buf)(uintptr_t)0x20, 9, "msg", seen.event_user);
		CHECK(ret == 1234 && cb_seen.n == 1 && cb_seen.cb_id == 0);
		CHECK(*(mini_buf *)cb_seen.args[0] == (mini_buf)(uintptr_t)0x20);
		CHECK(*(int32_t *)cb_seen.args[1] == 9);
		CHECK(strcmp(*(const char **)cb_seen.args[2], "msg") == 0);
		CHECK(*(void **)cb_seen.args[3] == user);
	}

	/* A void callback through a plain function pointer parameter. */
	{
		mini_ctx ctx = (mini_ctx)(uintptr_t)0x10;
		void (*tramp)(int32_t, void *) =
		    (void (*)(int32_t, void *))api->callbacks[1].trampoline;
		void *user = (void *)(uintptr_t)0xdef;
		void *const args[] = { &ctx, &tramp, &user };

		CHECK(strcmp(api->abi->callbacks[1].name, "mini_error_cb") == 0);
		fn_named(api, "mini_on_error")->invoke(args, &r);
		CHECK(error_fn == tramp && error_user == user);
		error_fn(-3, error_user);
		CHECK(cb_seen.n == 2 && cb_seen.cb_id == 1);
		CHECK(*(int32_t *)cb_seen.args[0] == -3 && *(void **)cb_seen.args[1] == user);
	}

	/* A callback's buffer: its plan counts it from the callback's scalar argument. */
	{
		const char *info = "x";
		const void *data = "abc";
		size_t size = 3;
		void *user = NULL;
		void *const args[] = { &info, &data, &size, &user };
		struct ava_gen_plan plan;

		CHECK(strcmp(api->abi->callbacks[2].name, "mini_notify_cb") == 0);
		CHECK(api->callbacks[0].plan == NULL && api->callbacks[1].plan == NULL);
		CHECK(api->callbacks[2].plan != NULL);
		memset(&plan, 0, sizeof(plan));
		api->callbacks[2].plan(args, &plan);
		CHECK(plan.count[1] == 3 && plan.count[0] == 0 && plan.count[2] == 0);
	}

	/* Release functions: one per handle type with an ava_deallocates function. */
	CHECK(api->release[0] == NULL);
	api->release[1]((void *)(uintptr_t)0x31);
	CHECK(strcmp(seen.fn, "mini_close") == 0 && seen.a[0] == 0x31);
	api->release[2]((void *)(uintptr_t)0x32);
	CHECK(strcmp(seen.fn, "mini_buf_free") == 0 && seen.a[0] == 0x32);

	/*
	 * Device time: mini_read's completion waits with mini_buf_finish on its
	 * buffer, which the server keeps alive with the type's retain function;
	 * types no completion waits on need none.
	 */
	{
		const struct ava_apiserver_fn *rd = fn_named(api, "mini_read");

		CHECK(rd->abi->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL);
		CHECK(strcmp(api->abi->fns[rd->abi->until_fn].name, "mini_buf_finish") == 0);
		CHECK(rd->abi->until_arg == 0);
		CHECK(rd->device_wait != NULL);
		rd->device_wait((void *)(uintptr_t)0x33);
		CHECK(strcmp(seen.fn, "mini_buf_finish") == 0 && seen.a[0] == 0x33);
		CHECK(fn_named(api, "mini_submit")->device_wait == NULL);
		CHECK(fn_named(api, "mini_submit")->abi->flags & AVA_ABI_FN_DEVICE_TIME);
		CHECK(api->retain != NULL && api->retain[0] == NULL && api->retain[1] == NULL);
		api->retain[2]((void *)(uintptr_t)0x34);
		CHECK(strcmp(seen.fn, "mini_buf_retain") == 0 && seen.a[0] == 0x34);
	}

	/* ava_clear_bits is the server's: its plan names the bits, under the condition. */
	{
		const struct ava_apiserver_fn *pi = fn_named(api, "mini_prog_info_get");
		mini_prog_info what = MINI_PROG_CAPS;
		size_t size = 2;
		void *const scalars[] = { NULL, &what, &size, NULL };
		struct ava_gen_plan plan;

		memset(&plan, 0, sizeof(plan));
		pi->plan(scalars, &plan);
		CHECK(plan.count[3] == 2 && plan.clear_width[3] == 2 &&
		      plan.clear_bits[3] == MINI_CAP_SHARED);
		what = MINI_PROG_SIZES;
		memset(&plan, 0, sizeof(plan));
		pi->plan(scalars, &plan);
		CHECK(plan.clear_width[3] == 0 && plan.blobs_arg[3] == 0);
	}

	/* A mapping function's invoke returns the library's pointer as it is. */
	{
		mini_buf buf = (mini_buf)(uintptr_t)0x40;
		uint32_t flags = MINI_MAP_READ;
		size_t size = 64;
		mini_buf fence = NULL, *ret_fence = &fence;
		mini_err err = MINI_OK, *errp = &err;
		void *const args[] = { &buf, &flags, &size, &ret_fence, &errp };
		void *mapped = (void *)1;

		fn_named(api, "mini_map_bytes")->invoke(args, &mapped);
		CHECK(strcmp(seen.fn, "mini_map_bytes") == 0 && seen.a[0] == 0x40 &&
		      seen.a[1] == MINI_MAP_READ && seen.a[2] == 64 && mapped == NULL);
	}

	/*
	 * ava_resolve_via: the call reaches the forwarder, which asks the
	 * resolver with its name and address until it answers (the unsupported
	 * error meanwhile), then passes arguments and result through.
	 */
	{
		const struct ava_apiserver_fn *tune = fn_named(api, "mini_ext_tune");
		mini_ctx ctx = (mini_ctx)(uintptr_t)0x50;
		int32_t level = 7;
		void *const args[] = { &ctx, &level };
		mini_err ret = MINI_OK;

		CHECK(tune->invoke != NULL);
		seen.fn = NULL;
		tune->invoke(args, &ret);
		CHECK(ret == MINI_ERR_UNSUPPORTED && seen.fn == NULL);
		CHECK(ext_lookup.calls == 1 && strcmp(ext_lookup.name, "mini_ext_tune") == 0);
		CHECK(ext_lookup.self == (void *)mini_ext_tune);
		ext_lookup.answer = true;
		tune->invoke(args, &ret);
		CHECK(ret == MINI_OK && ext_lookup.calls == 2);
		CHECK(seen.fn && strcmp(seen.fn, "real_ext_tune") == 0 && seen.a[0] == 0x50 &&
		      seen.a[1] == 7);
		level = 8;
		tune->invoke(args, &ret);
		CHECK(ret == MINI_OK && ext_lookup.calls == 2 && seen.a[1] == 8); /* kept */
	}

	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	return failures ? 1 : 0;
}
