/* SPDX-License-Identifier: MIT */
/*
 * The guest runtime's rule for outputs (guestlib/marshal.c): a REPLY is
 * copied into the application's out buffers only when the call succeeded
 * (ava_gen_succeeded on its result and errcode); a failed call's outputs
 * stay as the application left them, but for the errcode argument, which
 * gets the error, and the ava_written_on_failure buffers. No proxy is made
 * from what a failed call left untouched.
 */
#include <stdlib.h>
#include <string.h>

#include <ava/guestlib.h>

#include "call.h"
#include "check.h"
#include "conn.h"
#include "fake_api.h"
#include "marshal.h"
#include "proxy.h"

static const int dispatch_table = 1;
static const struct ava_guestlib_ops ops;
static const struct ava_guestlib_api api = { .abi = &fake_abi, .fns = fake_fns, .ops = &ops };
static const struct ava_guestlib_api api_proxies = {
	.abi = &fake_abi, .fns = fake_fns, .proxy_dispatch = &dispatch_table, .ops = &ops
};

static struct conn *new_conn(const struct ava_guestlib_api *a)
{
	struct conn *c = calloc(1, sizeof(*c));
	CHECK(c);
	c->api = a;
	ava_guestlib_proxy_registry_init(&c->proxies);
	return c;
}

static void free_conn(struct conn *c)
{
	ava_guestlib_proxy_drop_all(c);
	free(c);
}

/* A REPLY of f_outs: result, errcode, values, things, needed (each u64 count, elements). */
struct outs_reply {
	int32_t ret, errcode;
	int32_t values[2];
	uint64_t things[2];
	int64_t needed;
};

static size_t put(uint8_t *p, const void *v, size_t n)
{
	memcpy(p, v, n);
	return n;
}

static size_t put_count(uint8_t *p, uint64_t n)
{
	return put(p, &n, 8);
}

static uint8_t *encode_outs(const struct outs_reply *r, size_t *ret_len)
{
	uint8_t *p = malloc(4 + 8 + 4 + 8 + 8 + 8 + 16 + 8 + 8);
	size_t n = 0;
	CHECK(p);
	n += put(p + n, &r->ret, 4);
	n += put_count(p + n, 1);
	n += put(p + n, &r->errcode, 4);
	n += put_count(p + n, 2);
	n += put(p + n, r->values, 8);
	n += put_count(p + n, 2);
	n += put(p + n, r->things, 16);
	n += put_count(p + n, 1);
	n += put(p + n, &r->needed, 8);
	*ret_len = n;
	return p;
}

/* The application's buffers, preset to what must survive a failure. */
struct outs_app {
	int32_t errcode, values[2];
	void *things[2];
	int64_t needed;
	int32_t *errcode_p, *values_p;
	void **things_p;
	int64_t *needed_p;
	void *args[4];
	int32_t ret;
};

static void app_init(struct outs_app *a)
{
	a->errcode = 1;
	a->values[0] = a->values[1] = 55;
	a->things[0] = a->things[1] = (void *)(uintptr_t)1;
	a->needed = -9;
	a->errcode_p = &a->errcode;
	a->values_p = a->values;
	a->things_p = a->things;
	a->needed_p = &a->needed;
	a->args[0] = &a->errcode_p;
	a->args[1] = &a->values_p;
	a->args[2] = &a->things_p;
	a->args[3] = &a->needed_p;
	a->ret = 1;
}

/* Applies the REPLY r to a call of f_outs with the application's a; returns apply's result. */
static int apply_outs(struct conn *c, struct outs_app *a, const struct outs_reply *r)
{
	struct ava_guestlib_call *call =
	    ava_guestlib_call_new(c->api, FN_OUTS, a->args, &a->ret, false);
	CHECK(call);
	call->c = c;
	const uint64_t counts[4] = { 1, 2, 2, 1 };
	for (unsigned i = 0; i < 4; i++)
		call->views[i] = (struct ava_abi_view){ .present = 1, .count = counts[i] };
	size_t len;
	call->w.payload = encode_outs(r, &len);
	call->w.len = (uint32_t)len;
	call->w.flags = 0;
	int rc = ava_guestlib_marshal_apply(call);
	call->c = NULL; /* (no mapping to give back) */
	ava_guestlib_call_free(call);
	return rc;
}

/* Success: every output gets the REPLY's values. */
static void test_success_writes(void)
{
	struct conn *c = new_conn(&api);
	struct outs_app a;
	app_init(&a);
	const struct outs_reply r = { .ret = 0,
				      .errcode = 0,
				      .values = { 3, 4 },
				      .things = { FAKE_ID(1, 7), FAKE_ID(1, 8) },
				      .needed = 16 };
	CHECK_INT(apply_outs(c, &a, &r), 0);
	CHECK_INT(a.ret, 0);
	CHECK_INT(a.errcode, 0);
	CHECK_INT(a.values[0], 3);
	CHECK_INT(a.values[1], 4);
	CHECK(a.things[0] == (void *)(uintptr_t)FAKE_ID(1, 7)); /* no proxies: the id */
	CHECK_INT(a.needed, 16);
	free_conn(c);
}

/* Failure (by the result): only the errcode and the written_on_failure buffer change. */
static void test_failure_keeps(void)
{
	struct conn *c = new_conn(&api);
	struct outs_app a;
	app_init(&a);
	const struct outs_reply r = {
		.ret = -3, .errcode = -3, .values = { 0, 0 }, .things = { 0, 0 }, .needed = 32
	};
	CHECK_INT(apply_outs(c, &a, &r), 0);
	CHECK_INT(a.ret, -3);
	CHECK_INT(a.errcode, -3);   /* the errcode gets the error */
	CHECK_INT(a.values[0], 55); /* untouched */
	CHECK_INT(a.values[1], 55);
	CHECK(a.things[0] == (void *)(uintptr_t)1); /* an event-like out handle: untouched */
	CHECK(a.things[1] == (void *)(uintptr_t)1);
	CHECK_INT(a.needed, 32); /* ava_written_on_failure */
	free_conn(c);
}

/* With proxies: a failed call makes none of what it left alone (a preset (void *)1). */
static void test_failure_no_proxies(void)
{
	struct conn *c = new_conn(&api_proxies);
	struct outs_app a;
	app_init(&a);
	const struct outs_reply bad = { .ret = -3, .errcode = -3, .needed = 1 };
	CHECK_INT(apply_outs(c, &a, &bad), 0);
	CHECK(a.things[0] == (void *)(uintptr_t)1 && a.things[1] == (void *)(uintptr_t)1);
	CHECK_INT(c->proxies.n, 0);
	/* success: the ids become proxies, one reference each */
	const struct outs_reply good = { .things = { FAKE_ID(1, 7), 0 } };
	CHECK_INT(apply_outs(c, &a, &good), 0);
	CHECK(a.things[0] != NULL && a.things[0] != (void *)(uintptr_t)FAKE_ID(1, 7));
	CHECK(*(const void *const *)a.things[0] == &dispatch_table);
	CHECK(a.things[1] == NULL);
	CHECK_INT(c->proxies.n, 1);
	free_conn(c);
}

/* A handle result without an errcode fails when NULL: its out buffer stays. */
static void test_handle_result(void)
{
	struct conn *c = new_conn(&api);
	int32_t value = 55, *value_p = &value;
	void *args[] = { &value_p };
	void *ret = (void *)(uintptr_t)1;
	for (int ok = 0; ok < 2; ok++) {
		struct ava_guestlib_call *call =
		    ava_guestlib_call_new(&api, FN_MAKE, args, &ret, false);
		CHECK(call);
		call->c = c;
		call->views[0] = (struct ava_abi_view){ .present = 1, .count = 1 };
		uint8_t *p = malloc(8 + 8 + 4);
		CHECK(p);
		uint64_t id = ok ? FAKE_ID(1, 3) : 0;
		int32_t v = 77;
		size_t n = put(p, &id, 8);
		n += put_count(p + n, 1);
		n += put(p + n, &v, 4);
		call->w.payload = p;
		call->w.len = (uint32_t)n;
		CHECK_INT(ava_guestlib_marshal_apply(call), 0);
		call->c = NULL;
		ava_guestlib_call_free(call);
		CHECK(ret == (void *)(uintptr_t)id);
		CHECK_INT(value, ok ? 77 : 55);
	}
	free_conn(c);
}

/* The rule itself: result, then errcode, then a handle or mapping result's NULL. */
static void test_succeeded(void)
{
	const struct ava_gen_fn_errors *e = &fake_fns[FN_OUTS].errors;
	int32_t zero = 0, err = -1;
	CHECK(ava_gen_succeeded(&fake_abi_fns[FN_OUTS], e, &zero, &err)); /* the result decides */
	CHECK(!ava_gen_succeeded(&fake_abi_fns[FN_OUTS], e, &err, &zero));
	const struct ava_gen_fn_errors none = { .errcode_arg = -1 };
	void *null = NULL, *one = (void *)(uintptr_t)1;
	CHECK(!ava_gen_succeeded(&fake_abi_fns[FN_MAKE], &none, &null, NULL));
	CHECK(ava_gen_succeeded(&fake_abi_fns[FN_MAKE], &none, &one, NULL));
	CHECK(!ava_gen_succeeded(&fake_abi_fns[FN_MAP], &none, &null, NULL)); /* a failed map */
	CHECK(ava_gen_succeeded(&fake_abi_fns[FN_MAP], &none, &one, NULL));
	/* an errcode alone: it decides; none passed: a handle's NULL */
	const struct ava_gen_fn_errors ec = { .errcode_arg = 0, .errcode = &fake_errors };
	CHECK(!ava_gen_succeeded(&fake_abi_fns[FN_MAKE], &ec, &one, &err));
	CHECK(ava_gen_succeeded(&fake_abi_fns[FN_MAKE], &ec, &null, &zero));
	CHECK(!ava_gen_succeeded(&fake_abi_fns[FN_MAKE], &ec, &null, NULL));
}

int main(void)
{
	test_success_writes();
	test_failure_keeps();
	test_failure_no_proxies();
	test_handle_result();
	test_succeeded();
	return 0;
}
