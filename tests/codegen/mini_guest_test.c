/* SPDX-License-Identifier: MIT */
/*
 * Calls mini's generated guest stubs against a stand-in for the guest
 * runtime, which records each call: the stubs must pass the right function
 * id and argument pointers, the plans must compute the spec's buffer counts
 * and call modes, the error tables must hold the spec's values, and the
 * static ABI tables must be exactly what the text manifest says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ava/guestlib.h>

#include "ava_mini.h"
#include "mini.h"

static int failures;

/* The spec's ava_handle_proxy symbol: avagen defines it (ava_handle_proxy_table). */
extern const struct mini_table mini_dispatch;

/* The guest source's export (ava_guest_export), which the table points to too. */
const void *mini_get_dispatch(void);
const void *mini_get_dispatch(void)
{
	return &mini_dispatch;
}

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                              \
		}                                                                                \
	} while (0)

/* ---- stand-in runtime: remembers the last call ---- */

/*
 * The stub's argument array lives on its stack, so the values are copied
 * during the call: scalars by their ABI size, everything else as a pointer.
 */
static struct {
	const struct ava_guestlib_api *api;
	uint32_t fn_id;
	int had_args, had_ret;
	uint64_t vals[AVA_ABI_MAX_ARGS];
	uint64_t planned_vals[AVA_ABI_MAX_ARGS]; /* after the plan's overrides */
	struct ava_gen_plan plan;
	int planned;
	void *errcode_ptr; /* where the errcode argument points (set_error writes there) */
	/* mini_read, through ava_mini.h's typed view of the stub's args */
	mini_buf read_buf;
	void *read_data;
	size_t read_offset, read_size;
} last;

#define ARG(i, type)	     ((type)last.vals[i])
#define PLANNED_ARG(i, type) ((type)last.planned_vals[i])

void ava_guestlib_call(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
		       void *ret)
{
	const struct ava_guestlib_fn *fn = &api->fns[fn_id];
	const struct ava_gen_errors *e = fn->errors.ret;

	last.api = api;
	last.fn_id = fn_id;
	last.had_args = args != NULL;
	last.had_ret = ret != NULL;
	last.planned = 0;
	last.errcode_ptr = NULL;
	if (args && fn->errors.errcode_arg >= 0)
		last.errcode_ptr = *(void *const *)args[fn->errors.errcode_arg];
	if (fn_id == AVA_MINI_FN_mini_read) {
		struct ava_mini_args_mini_read a = ava_mini_args_mini_read(args);

		last.read_buf = *a.buf;
		last.read_data = *a.data;
		last.read_offset = *a.offset;
		last.read_size = *a.size;
	}
	memset(last.vals, 0, sizeof(last.vals));
	for (uint16_t i = 0; i < fn->abi->n_args; i++) {
		const struct ava_abi_value *v = &fn->abi->args[i];
		size_t n = v->kind == AVA_ABI_SCALAR ? v->size_bytes : sizeof(void *);

		memcpy(&last.vals[i], args[i], n < 8 ? n : 8);
	}
	/* The runtimes zero the plan first; so does this stand-in. */
	memset(&last.plan, 0, sizeof(last.plan));
	if (fn->plan) {
		fn->plan(args, &last.plan);
		last.planned = 1;
	}
	memset(last.planned_vals, 0, sizeof(last.planned_vals));
	for (uint16_t i = 0; i < fn->abi->n_args; i++) {
		const struct ava_abi_value *v = &fn->abi->args[i];
		size_t n = v->kind == AVA_ABI_SCALAR ? v->size_bytes : sizeof(void *);

		memcpy(&last.planned_vals[i], args[i], n < 8 ? n : 8);
	}
	if (ret && e) {
		const void *v = (fn->abi->flags & AVA_ABI_FN_UNSUPPORTED)
				    ? e->on_status[AVA_STATUS_UNSUPPORTED]
				    : e->success;

		if (v)
			memcpy(ret, v, e->size_bytes);
	}
}

static uint32_t id_of(const char *name)
{
	const struct ava_abi_fn *fn = ava_abi_find_fn(last.api->abi, name);

	if (!fn) {
		fprintf(stderr, "no function %s in the ABI\n", name);
		exit(1);
	}
	return fn->id;
}

static int cb_calls;
static int event_cb(mini_buf buf, int32_t status, const char *msg, void *user)
{
	cb_calls++;
	return (int)(intptr_t)buf + status + (int)strlen(msg) + (int)(intptr_t)user;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void check_abi(void)
{
	const struct ava_abi_api *abi = last.api->abi;
	char errbuf[256] = "", *text = NULL, *manifest;
	size_t len = 0;
	FILE *f;

	CHECK(ava_abi_api_check(abi, errbuf, sizeof(errbuf)) == 0);
	CHECK(abi->hash == ava_abi_hash(abi));
	f = open_memstream(&text, &len);
	CHECK(f && ava_abi_format(abi, "tests/codegen/specs/mini.spec", f) == 0);
	fclose(f);
	manifest = read_file(MINI_ABI_PATH);
	CHECK(manifest && text && strcmp(manifest, text) == 0);
	free(manifest);
	free(text);
	CHECK(abi->n_handle_types == 2);
	CHECK(strcmp(abi->handle_type_names[1], "mini_ctx") == 0);
	CHECK(strcmp(abi->handle_type_names[2], "mini_buf") == 0);
}

int main(void)
{
	mini_ctx ctx = (mini_ctx)(uintptr_t)0x10;
	mini_buf buf = (mini_buf)(uintptr_t)0x20;
	mini_err err = MINI_ERR_REMOTE;
	uint8_t bytes[64];
	const struct ava_guestlib_fn *fn;
	int32_t out32[8];

	/* mini_open: string + out handle. The stand-in returns ava_success. */
	{
		const char *name = "dev0";
		mini_ctx got = NULL;

		CHECK(mini_open(name, &got) == MINI_OK);
		CHECK(last.fn_id == id_of("mini_open"));
		CHECK(ARG(0, const char *) == name);
		CHECK(ARG(1, mini_ctx *) == &got);
		CHECK(last.planned && last.plan.async == 0 && last.plan.count[1] == 1);
	}
	check_abi();

	/* mini_buf_new: handle result, errcode argument. */
	(void)mini_buf_new(ctx, 4096, &err);
	fn = &last.api->fns[last.fn_id];
	CHECK(fn->errors.ret == NULL);
	CHECK(fn->errors.errcode_arg == 2);
	CHECK(fn->errors.errcode && fn->errors.errcode->size_bytes == sizeof(mini_err));
	CHECK(*(const mini_err *)fn->errors.errcode->on_status[AVA_STATUS_REFUSED] ==
	      MINI_ERR_REFUSED);
	/* No ava_over_quota_error in mini.spec: over quota falls back to ava_refuse_with. */
	CHECK(*(const mini_err *)fn->errors.errcode->on_status[AVA_STATUS_OVER_QUOTA] ==
	      MINI_ERR_REFUSED);
	CHECK(*(const mini_err *)fn->errors.errcode->on_status[AVA_STATUS_BAD_HANDLE] ==
	      MINI_ERR_BAD_HANDLE);
	CHECK(*(const mini_err *)fn->errors.errcode->on_status[AVA_STATUS_SERVER_GONE] ==
	      MINI_ERR_REMOTE);
	CHECK(*(const mini_err *)fn->errors.errcode->success == MINI_OK);

	/* Retaining a handle adds a guest reference; it is not a release function. */
	mini_buf_retain(buf);
	CHECK(last.api->abi->fns[last.fn_id].args[0].flags == AVA_ABI_V_RETAINS);

	/* mini_write: conditional call mode through an else-if chain. */
	mini_write(buf, MINI_MODE_SYNC, bytes, 10);
	CHECK(last.fn_id == id_of("mini_write"));
	CHECK(ARG(0, mini_buf) == buf && ARG(1, mini_mode) == MINI_MODE_SYNC);
	CHECK(ARG(2, const void *) == bytes && ARG(3, size_t) == 10);
	CHECK(last.plan.async == 0 && last.plan.count[2] == 10);
	CHECK(last.api->abi->fns[last.fn_id].flags == AVA_ABI_FN_MAY_ASYNC);
	mini_write(buf, MINI_MODE_ASYNC, bytes, 10);
	CHECK(last.plan.async == 1);
	mini_write(buf, MINI_MODE_AUTO, bytes, 5000);
	CHECK(last.plan.async == 1 && last.plan.count[2] == 5000);
	mini_write(buf, MINI_MODE_AUTO, bytes, 100);
	CHECK(last.plan.async == 0);

	/* mini_read: an expression over two parameters. */
	mini_read(buf, bytes, 16, 48);
	CHECK(last.plan.count[1] == 32);
	/* ava_mini.h: the call id, the descriptor and the typed arguments the stub passed */
	CHECK(last.fn_id == AVA_MINI_FN_mini_read && last.fn_id == id_of("mini_read"));
	CHECK(last.api == &ava_gen__mini__guest_api);
	/* mini has no hand code: the descriptor's weak reference to its ops table is NULL */
	CHECK(last.api->ops == NULL);
	CHECK(last.read_buf == buf && last.read_data == bytes);
	CHECK(last.read_offset == 16 && last.read_size == 48);
	CHECK(AVA_MINI_FN_mini_open == id_of("mini_open"));
	CHECK(AVA_MINI_FN_mini_buf_finish == id_of("mini_buf_finish"));
	CHECK(AVA_MINI_CB_mini_notify_cb == 2 &&
	      strcmp(last.api->abi->callbacks[AVA_MINI_CB_mini_notify_cb].name, "mini_notify_cb") ==
		  0);
	{
		mini_err e = MINI_OK;

		CHECK(ava_mini_ret_mini_read(&e) == &e);
	}

	/* mini_copy: conditional counts, inside and outside ava_argument. */
	mini_copy(ctx, 1, bytes, 3, bytes, 9);
	CHECK(last.plan.count[2] == 3 && last.plan.count[4] == 0);
	mini_copy(ctx, 0, bytes, 3, bytes, 9);
	CHECK(last.plan.count[2] == 6 && last.plan.count[4] == 0);
	mini_copy(ctx, 3, bytes, 3, bytes, 9);
	CHECK(last.plan.count[2] == 6 && last.plan.count[4] == 9);
	mini_copy(ctx, 3, bytes, 3, bytes, 0);
	CHECK(last.plan.count[4] == 0);

	/* mini_flush: unconditional ava_async, no buffers: no plan, MAY_ASYNC. */
	CHECK(mini_flush(ctx) == MINI_OK);
	CHECK(!last.planned);
	CHECK(last.api->abi->fns[last.fn_id].flags == AVA_ABI_FN_MAY_ASYNC);

	/* Unsupported functions still link and return the unsupported error. */
	CHECK(mini_missing(ctx) == MINI_ERR_UNSUPPORTED);
	CHECK(last.api->abi->fns[last.fn_id].flags == AVA_ABI_FN_UNSUPPORTED);
	CHECK(last.api->abi->fns[last.fn_id].n_args == 0);
	CHECK(mini_format((char *)bytes, sizeof(bytes), "%d", 1) == MINI_ERR_UNSUPPORTED);
	CHECK(mini_legacy(1) == MINI_ERR_UNSUPPORTED);

	/* mini_count_t defaults: only a failure value, used for every status. */
	mini_count(ctx);
	fn = &last.api->fns[last.fn_id];
	CHECK(fn->errors.ret && fn->errors.ret->success == NULL);
	CHECK(*(const mini_count_t *)fn->errors.ret->on_status[AVA_STATUS_UNSUPPORTED] == -1);
	CHECK(*(const mini_count_t *)fn->errors.ret->on_status[AVA_STATUS_INTERNAL] == -1);
	CHECK(fn->errors.ret->on_status[AVA_STATUS_OK] == NULL);

	/* A top-level const parameter and names that clash with the stub's locals. */
	mini_set_name(ctx, "x", 7);
	CHECK(ARG(2, int32_t) == 7);
	mini_clash(1, 2, 3, out32);
	CHECK(last.plan.count[3] == 6);
	CHECK(ARG(3, int32_t *) == out32);

	/* An unsupported function whose result cannot travel returns zeroes. */
	{
		mini_big big = mini_big_get();
		size_t i, nonzero = 0;

		for (i = 0; i < sizeof(big.bytes); i++)
			nonzero += big.bytes[i] != 0;
		CHECK(nonzero == 0);
		CHECK(last.api->abi->fns[last.fn_id].ret.kind == AVA_ABI_VOID);
	}

	/* void and argument-less functions. */
	mini_log("hello");
	CHECK(!last.had_ret);
	mini_clock();
	CHECK(!last.had_args && last.had_ret);

	/* Callback invoker: calls the application's function with the arguments. */
	{
		const struct ava_guestlib_callback *cb = &last.api->callbacks[0];
		mini_buf b = (mini_buf)(uintptr_t)3;
		int32_t status = 4;
		const char *msg = "hello";
		void *user = (void *)(uintptr_t)5;
		void *const args[] = { &b, &status, &msg, &user };
		int ret = 0;

		CHECK(strcmp(cb->abi->name, "mini_event_cb") == 0);
		cb->invoke((void *)event_cb, args, &ret);
		CHECK(cb_calls == 1 && ret == 3 + 4 + 5 + 5);
	}

	/* A plain function pointer parameter travels like a typedef'd one. */
	{
		void (*fnp)(int32_t, void *) = NULL;

		mini_on_error(ctx, fnp, &failures);
		CHECK(last.fn_id == id_of("mini_on_error"));
		CHECK(ARG(2, void *) == &failures);
		CHECK(last.api->abi->fns[last.fn_id].args[1].kind == AVA_ABI_CALLBACK);
		CHECK(last.api->abi->fns[last.fn_id].args[1].callback_id == 1);
	}

	/* mini_get_info: a conditional override and conditional handle types. */
	{
		uint8_t value[16];
		size_t size_ret = 0;
		const struct ava_abi_value *v;

		mini_get_info(buf, MINI_INFO_SIZE, sizeof(value), value, &size_ret);
		CHECK(last.fn_id == id_of("mini_get_info"));
		CHECK(PLANNED_ARG(1, mini_info) == MINI_INFO_SIZE);
		CHECK(last.plan.count[3] == sizeof(value) && last.plan.count[4] == 1);
		CHECK(last.plan.handle_type[3] == 0);
		mini_get_info(buf, MINI_INFO_CTX, sizeof(value), value, &size_ret);
		CHECK(last.plan.handle_type[3] == 1);
		mini_get_info(buf, MINI_INFO_BUFS, sizeof(value), value, &size_ret);
		CHECK(last.plan.handle_type[3] == 2);
		mini_get_info(buf, MINI_INFO_SECRET, sizeof(value), value, &size_ret);
		CHECK(ARG(1, mini_info) == MINI_INFO_SECRET && PLANNED_ARG(1, mini_info) == 0);
		CHECK(last.plan.handle_type[3] == 0);
		v = &last.api->abi->fns[last.fn_id].args[3];
		CHECK(v->kind == AVA_ABI_BUFFER && v->elem == AVA_ABI_ELEM_BYTES && v->flags == 0);
	}

	/* mini_create: a property list counted from its content, an override of flags. */
	{
		mini_prop props[] = { MINI_PROP_PEER, (mini_prop)0x10, 7, 8, 0 };
		const struct ava_abi_value *v;

		mini_create(props, MINI_FLAG_SHARE, &err);
		CHECK(last.plan.count[0] == 5 && last.plan.count[2] == 1);
		CHECK(ARG(1, uint32_t) == MINI_FLAG_SHARE &&
		      PLANNED_ARG(1, uint32_t) == MINI_FLAG_COPY);
		mini_create(props, 0, &err);
		CHECK(PLANNED_ARG(1, uint32_t) == 0);
		v = &last.api->abi->fns[last.fn_id].args[0];
		CHECK(v->kind == AVA_ABI_BUFFER && v->dir == AVA_ABI_DIR_IN);
		CHECK(v->elem == AVA_ABI_ELEM_BYTES && v->size_bytes == sizeof(mini_prop));
		CHECK(v->flags == (AVA_ABI_V_PROPS | AVA_ABI_V_SCAN));
		CHECK(v->max_count == 64u * 1024 * 1024 / sizeof(mini_prop));
		mini_create(NULL, 0, &err);
		CHECK(last.plan.count[0] == AVA_GEN_COUNT_FROM_WIRE);
	}

	/* mini_set_arg: bytes that may hold handles. */
	mini_set_arg(ctx, 0, sizeof(buf), &buf);
	CHECK(last.plan.count[3] == sizeof(buf));
	CHECK(last.api->abi->fns[last.fn_id].args[3].flags == AVA_ABI_V_SCAN);

	/* mini_compile: a buffer of strings and their lengths. */
	{
		const char *sources[] = { "abc", "de" };
		const size_t lengths[] = { 3, 0 };
		const struct ava_abi_value *v;

		mini_compile(ctx, 2, sources, lengths);
		CHECK(last.plan.count[2] == 2 && last.plan.count[3] == 2);
		CHECK(last.plan.str_lengths[2] == lengths && last.plan.str_lengths[3] == NULL);
		v = &last.api->abi->fns[last.fn_id].args[2];
		CHECK(v->kind == AVA_ABI_BUFFER && v->dir == AVA_ABI_DIR_IN);
		CHECK(v->elem == AVA_ABI_ELEM_STRING && v->size_bytes == 8);
		mini_compile(ctx, 2, sources, NULL);
		CHECK(last.plan.str_lengths[2] == NULL);
	}

	/* mini_wait: an unconditional override is a plan of its own. */
	mini_wait(ctx, 0);
	CHECK(last.planned && ARG(1, int32_t) == 0 && PLANNED_ARG(1, int32_t) == 1);

	/* A callback's input buffer: bytes, default maximum. */
	{
		const struct ava_abi_callback *cb = &last.api->abi->callbacks[2];

		CHECK(strcmp(cb->name, "mini_notify_cb") == 0);
		CHECK(cb->args[1].kind == AVA_ABI_BUFFER && cb->args[1].dir == AVA_ABI_DIR_IN);
		CHECK(cb->args[1].elem == AVA_ABI_ELEM_BYTES && cb->args[1].size_bytes == 1);
		CHECK(cb->args[1].max_count == 64u * 1024 * 1024);
	}

	/* An unsupported function reports through the ava_errcode_param argument. */
	err = MINI_OK;
	mini_import(ctx, 3, &err);
	fn = &last.api->fns[last.fn_id];
	CHECK(last.fn_id == id_of("mini_import"));
	CHECK(last.api->abi->fns[last.fn_id].flags == AVA_ABI_FN_UNSUPPORTED);
	CHECK(fn->errors.errcode_arg == 2 && fn->errors.errcode);
	CHECK(*(const mini_err *)fn->errors.errcode->on_status[AVA_STATUS_UNSUPPORTED] ==
	      MINI_ERR_UNSUPPORTED);
	CHECK(last.had_args && last.errcode_ptr == &err);
	/* Without such a parameter, nothing: mini_missing has none. */
	mini_missing(ctx);
	CHECK(last.api->fns[last.fn_id].errors.errcode_arg == -1);

	/* ava_handle_proxy: the runtime is told what every proxy starts with. */
	CHECK(last.api->proxy_dispatch == &mini_dispatch);
	/* ava_handle_proxy_table: each member named like a function points to it. */
	CHECK(mini_dispatch.mini_close == mini_close);
	CHECK(mini_dispatch.mini_buf_free == mini_buf_free);
	CHECK(mini_dispatch.reserved == NULL);
	CHECK(mini_dispatch.mini_missing == mini_missing);
	CHECK(mini_dispatch.mini_get_dispatch == mini_get_dispatch);
	CHECK(mini_dispatch.mini_ext_tune == mini_ext_tune);
	CHECK(mini_dispatch.mini_nothing == NULL);

	/* Late data: the bytes wait for the fence, an out handle marked :event. */
	{
		const struct ava_abi_fn *f;
		mini_buf fence = NULL;
		uint8_t data[16];

		mini_read_late(buf, sizeof(data), data, &fence);
		f = &last.api->abi->fns[last.fn_id];
		CHECK(f->args[2].dir == AVA_ABI_DIR_OUT && f->args[2].flags == AVA_ABI_V_LATE);
		CHECK(f->args[3].flags == (AVA_ABI_V_ALLOCATES | AVA_ABI_V_EVENT));
		CHECK(last.plan.count[2] == sizeof(data) && last.plan.count[3] == 1);
		mini_write_late(buf, sizeof(data), data, &fence);
		f = &last.api->abi->fns[last.fn_id];
		CHECK(f->args[2].dir == AVA_ABI_DIR_IN && f->args[2].flags == AVA_ABI_V_LATE);
	}

	/* ava_rect: the count is the shape's, so the plan leaves it to the runtime. */
	{
		const size_t region[2] = { 4, 2 };
		const struct ava_abi_fn *f;
		mini_buf fence = NULL;
		uint8_t data[16];

		mini_write_rect(buf, region, 8, data);
		f = &last.api->abi->fns[last.fn_id];
		CHECK(f->args[3].flags == AVA_ABI_V_RECT && f->args[3].dir == AVA_ABI_DIR_IN);
		CHECK(last.plan.count[3] == AVA_GEN_COUNT_FROM_WIRE && last.plan.count[1] == 2);
		mini_read_rect(buf, region, 8, data, &fence);
		f = &last.api->abi->fns[last.fn_id];
		CHECK(f->args[3].flags == (AVA_ABI_V_LATE | AVA_ABI_V_RECT));
	}

	/* ava_mapping and ava_unmaps. */
	{
		const struct ava_abi_fn *f;
		mini_buf fence = NULL;
		uint8_t data[4];

		(void)mini_map_bytes(buf, MINI_MAP_READ | MINI_MAP_WRITE, 32, &fence, &err);
		f = &last.api->abi->fns[last.fn_id];
		CHECK(f->ret.kind == AVA_ABI_MAP);
		CHECK(last.plan.map_count == 32 &&
		      last.plan.map_access == (AVA_ABI_MAP_READ | AVA_ABI_MAP_WRITE));
		(void)mini_map_bytes(buf, MINI_MAP_READ, 8, &fence, &err);
		CHECK(last.plan.map_count == 8 && last.plan.map_access == AVA_ABI_MAP_READ);
		mini_unmap(buf, data);
		CHECK(last.api->abi->fns[last.fn_id].args[1].kind == AVA_ABI_UNMAP);
	}

	/* ava_parent. */
	(void)mini_sub(buf, 0, 8, &err);
	CHECK(last.api->abi->fns[last.fn_id].args[0].flags == AVA_ABI_V_PARENT);

	/* ava_blobs_sized_by and ava_clear_bits, each under its condition. */
	{
		void *blobs[2] = { NULL, NULL };
		uint16_t caps = 0;

		mini_prog_info_get(ctx, MINI_PROG_BLOBS, sizeof(blobs), blobs);
		CHECK(last.plan.blobs_arg[3] == 1 + 1 &&
		      last.plan.blobs_value[3] == MINI_PROG_SIZES);
		CHECK(last.plan.clear_width[3] == 0);
		CHECK(last.api->abi->fns[last.fn_id].args[3].flags == AVA_ABI_V_BLOBS);
		mini_prog_info_get(ctx, MINI_PROG_CAPS, sizeof(caps), &caps);
		CHECK(last.plan.blobs_arg[3] == 0);
		CHECK(last.plan.clear_width[3] == 2 && last.plan.clear_bits[3] == MINI_CAP_SHARED);
	}

	/* ava_over_quota_error: mini_qerr's own value. */
	{
		const struct ava_gen_errors *e;

		(void)mini_reserve(ctx, 1);
		e = last.api->fns[last.fn_id].errors.ret;
		CHECK(e &&
		      *(const mini_qerr *)e->on_status[AVA_STATUS_OVER_QUOTA] == MINI_Q_OVER_QUOTA);
		CHECK(e && *(const mini_qerr *)e->on_status[AVA_STATUS_REFUSED] == MINI_Q_FAILED);
	}

	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	return failures ? 1 : 0;
}
