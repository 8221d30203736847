/* SPDX-License-Identifier: MIT */
/*
 * The proxy registry (guestlib/proxy.c): one proxy per live handle id, its
 * dispatch first, lookups of what the application passes, the server's
 * reference count mirrored, the handle_gone hooks, the quarantine; and the
 * handle checks and translation of a call's arguments.
 */
#include <stdlib.h>

#include <ava/guestlib.h>

#include "call.h"
#include "check.h"
#include "conn.h"
#include "fake_api.h"
#include "proxy.h"

static const int dispatch_table = 1;

static int n_gone;
static const void *last_gone;
static uint16_t last_gone_type;

static void gone(const struct ava_guestlib_api *api, uint16_t handle_type, const void *handle)
{
	CHECK(api->abi == &fake_abi);
	n_gone++;
	last_gone = handle;
	last_gone_type = handle_type;
}

static const struct ava_guestlib_ops ops = { .handle_gone = gone };
static const struct ava_guestlib_api api = {
	.abi = &fake_abi, .fns = fake_fns, .proxy_dispatch = &dispatch_table, .ops = &ops
};

static struct conn *new_conn(void)
{
	struct conn *c = calloc(1, sizeof(*c));
	CHECK(c);
	c->api = &api;
	ava_guestlib_proxy_registry_init(&c->proxies);
	return c;
}

static void test_lookup(void)
{
	struct conn *c = new_conn();
	uint64_t id = 0;
	CHECK(ava_guestlib_proxy_of_id(c, 0, false) == NULL);
	void *p = ava_guestlib_proxy_of_id(c, FAKE_ID(1, 5), false);
	CHECK(p);
	CHECK(*(const void *const *)p == &dispatch_table); /* the ICD loader's dispatch */
	CHECK(ava_guestlib_proxy_of_id(c, FAKE_ID(1, 5), false) == p);
	CHECK(ava_guestlib_proxy_id_of(c, p, &id));
	CHECK(id == FAKE_ID(1, 5));
	CHECK(ava_guestlib_proxy_id_of(c, NULL, &id));
	CHECK_INT(id, 0);
	int stray;
	CHECK(!ava_guestlib_proxy_id_of(c, &stray, &id)); /* never dereferenced */

	/* enough to grow the tables a few times */
	static void *many[1000];
	for (unsigned k = 0; k < 1000; k++)
		many[k] = ava_guestlib_proxy_of_id(c, FAKE_ID(1, 100 + k), false);
	for (unsigned k = 0; k < 1000; k++) {
		CHECK(ava_guestlib_proxy_id_of(c, many[k], &id));
		CHECK(id == FAKE_ID(1, 100 + k));
		CHECK(ava_guestlib_proxy_of_id(c, FAKE_ID(1, 100 + k), false) == many[k]);
	}
	CHECK_INT(c->proxies.n, 1001);

	n_gone = 0;
	ava_guestlib_proxy_drop_all(c);
	CHECK_INT(n_gone, 1001);
	CHECK(!ava_guestlib_proxy_id_of(c, p, &id));
	CHECK(*(const void *const *)p == &dispatch_table); /* quarantined, still readable */
	free(c);
}

static void test_count(void)
{
	struct conn *c = new_conn();
	uint64_t id;
	void *p = ava_guestlib_proxy_of_id(c, FAKE_ID(1, 9), true); /* an allocates result */
	ava_guestlib_proxy_count(c, p, +1);			    /* retain */
	n_gone = 0;
	ava_guestlib_proxy_count(c, p, -1);
	CHECK_INT(n_gone, 0);
	CHECK(ava_guestlib_proxy_id_of(c, p, &id));
	ava_guestlib_proxy_count(c, p, -1); /* the last reference */
	CHECK_INT(n_gone, 1);
	CHECK(last_gone == p);
	CHECK_INT(last_gone_type, 1);
	CHECK(!ava_guestlib_proxy_id_of(c, p, &id));
	CHECK(*(const void *const *)p == &dispatch_table);
	ava_guestlib_proxy_count(c, p, -1); /* a stale pointer: nothing */
	CHECK_INT(n_gone, 1);
	/* the id seen again makes a fresh proxy */
	void *q = ava_guestlib_proxy_of_id(c, FAKE_ID(1, 9), false);
	CHECK(q);
	CHECK(ava_guestlib_proxy_id_of(c, q, &id));
	CHECK(id == FAKE_ID(1, 9));
	ava_guestlib_proxy_drop_all(c);
	free(c);
}

/* f_handle(h, hs): ids of type 1 or 0 pass; anything else names the argument. */
static void test_handles_valid(void)
{
	struct ava_gen_plan plan = { .count = { 0, 2 } };
	uint64_t h = FAKE_ID(1, 1);
	uint64_t hs[2] = { FAKE_ID(1, 2), 0 };
	uint64_t *hsp = hs;
	void *args[] = { &h, &hsp };
	struct ava_guestlib_bad_handle bad = { .arg = -1 };
	const struct ava_abi_fn *fn = &fake_abi_fns[FN_HANDLE];
	CHECK(ava_guestlib_proxy_handles_valid(fn, &plan, (void *const *)args, &bad));
	hs[1] = FAKE_ID(2, 3);
	CHECK(!ava_guestlib_proxy_handles_valid(fn, &plan, (void *const *)args, &bad));
	CHECK_INT(bad.arg, 1);
	CHECK_INT(bad.type, 1);
	h = FAKE_ID(3, 1);
	CHECK(!ava_guestlib_proxy_handles_valid(fn, &plan, (void *const *)args, &bad));
	CHECK_INT(bad.arg, 0);
}

/* Proxies become ids in a translated copy; the application's memory is untouched. */
static void test_to_ids(void)
{
	struct conn *c = new_conn();
	void *p1 = ava_guestlib_proxy_of_id(c, FAKE_ID(1, 1), false);
	void *p2 = ava_guestlib_proxy_of_id(c, FAKE_ID(1, 2), false);
	void *h = p1;
	void *hs[2] = { p2, NULL };
	void **hsp = hs;
	void *args[] = { &h, &hsp };
	int32_t r = 0;

	struct ava_guestlib_call *call = ava_guestlib_call_new(&api, FN_HANDLE, args, &r, false);
	CHECK(call);
	call->c = c;
	call->plan.count[1] = 2;
	CHECK_INT(ava_guestlib_proxy_to_ids(call), 0);
	CHECK((uint64_t)(uintptr_t) * (void *const *)call->send_args[0] == FAKE_ID(1, 1));
	const uint64_t *sent = *(uint64_t *const *)call->send_args[1];
	CHECK(sent != (const uint64_t *)hs);
	CHECK(sent[0] == FAKE_ID(1, 2) && sent[1] == 0);
	CHECK(hs[0] == p2 && h == p1);
	CHECK_INT(call->n_owned, 1);
	ava_guestlib_call_free(call);

	int stray;
	hs[1] = &stray;
	call = ava_guestlib_call_new(&api, FN_HANDLE, args, &r, false);
	call->c = c;
	call->plan.count[1] = 2;
	CHECK_INT(ava_guestlib_proxy_to_ids(call), -1);
	CHECK_INT(call->status, AVA_STATUS_BAD_HANDLE);
	CHECK_INT(call->bad.arg, 1);
	ava_guestlib_call_free(call);

	ava_guestlib_proxy_drop_all(c);
	free(c);
}

int main(void)
{
	test_lookup();
	test_count();
	test_handles_valid();
	test_to_ids();
	return 0;
}
