/* SPDX-License-Identifier: MIT */
/*
 * Enforcement as a decision engine (hv-router/enforce.c), without a router
 * process, sockets or an event loop: it returns verdicts and released
 * frames and never sends, so a test can drive it with records alone.
 *  - an object past max_objects is REFUSED with its reason, and the
 *    caller's ava_enforce_call_dropped gives the reservation back;
 *  - a device-time CALL is TAKEN and released at once while the device is
 *    free (the same payload, in order), the next waits until the first one's
 *    USAGE frees the slot;
 *  - a session that ends drops what was released for it and not taken;
 *  - an allocator of unsized memory (a device_memory constant of
 *    UINT64_MAX: OpenCL's images and pipes) is REFUSED under a memory
 *    quota and reserves an object of 0 bytes without one.
 *
 *   test_enforce_verdicts AVATEST_ABI
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ava/abi.h"
#include "ava/policy.h"
#include "check.h"
#include "enforce.h"

static struct ava_router g_r;
static struct ava_router_tenant g_t;
static struct ava_router_guest g_g;
static struct ava_router_server g_s;
static struct ava_router_api g_api;

static const struct ava_abi_fn *fn_named(const struct ava_abi_api *abi, const char *name)
{
	for (uint32_t i = 0; i < abi->n_fns; i++)
		if (!strcmp(abi->fns[i].name, name))
			return &abi->fns[i];
	fprintf(stderr, "no function %s in the manifest\n", name);
	exit(1);
}

static struct ava_router_call *call_new(const struct ava_abi_fn *fn)
{
	struct ava_router_call *c =
	    calloc(1, sizeof(*c) + ((size_t)fn->n_args + 1) * sizeof(c->args[0]));
	CHECK(c != NULL);
	c->fn_id = fn->id;
	c->n_args = fn->n_args;
	return c;
}

/* A CALL of fn with seq through enforcement; *ret_payload is the payload it was given. */
static enum ava_enforce_verdict call(const struct ava_abi_fn *fn, uint64_t seq,
				     struct ava_router_call *c, uint8_t **ret_payload,
				     struct ava_enforce_refusal *ret_refusal)
{
	struct ava_abi_view views[AVA_ABI_MAX_ARGS + 1];
	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_CALL,
		.call_id = fn->id,
		.seq = seq,
		.len_bytes = 4,
	};
	uint8_t *payload = malloc(4);
	CHECK(payload != NULL);
	memset(views, 0, sizeof(views));
	*ret_payload = payload;
	enum ava_enforce_verdict v =
	    ava_enforce_call(&g_r, &g_g, &hdr, payload, fn, views, c, ret_refusal);
	if (v != AVA_ENFORCE_TAKEN)
		free(payload); /* FORWARD and REFUSED leave it with the caller */
	return v;
}

static void setup(const struct ava_abi_api *abi, const char *policy_text)
{
	struct ava_policy *p = NULL;
	char *errors = NULL;
	CHECK_INT(ava_policy_parse(policy_text, strlen(policy_text), "test.yaml", &p, &errors), 0);
	free(errors);
	memset(&g_r, 0, sizeof(g_r));
	memset(&g_t, 0, sizeof(g_t));
	memset(&g_g, 0, sizeof(g_g));
	memset(&g_s, 0, sizeof(g_s));
	g_r.policy = p;
	g_r.next_session = 2;
	CHECK_INT(ava_enforce_init(&g_r), 0);
	snprintf(g_t.name, sizeof(g_t.name), "alice");
	g_t.limits = &p->defaults;
	ava_enforce_tenant_init(&g_r, &g_t);
	g_api.name = (char *)"avatest";
	g_api.abi = (struct ava_abi_api *)abi;
	g_g.tenant = &g_t;
	g_g.api = &g_api;
	g_g.session = 1;
	g_g.state = AVA_GUEST_OPEN;
	g_g.server = &g_s;
	ava_enforce_guest_init(&g_g);
	g_s.tenant = &g_t;
	g_s.api = &g_api;
	ava_map_init(&g_s.sessions);
	CHECK_INT(ava_map_put(&g_s.sessions, g_g.session, &g_g), 0);
}

static void teardown(void)
{
	ava_enforce_guest_end(&g_r, &g_g);
	CHECK(ava_enforce_next_release(&g_r) == NULL);
	ava_map_fini(&g_s.sessions);
	ava_enforce_tenant_fini(&g_r, &g_t);
	ava_enforce_fini(&g_r);
	ava_policy_free(g_r.policy);
}

static void test_objects_refused(const struct ava_abi_api *abi)
{
	setup(abi, "version: 1\ndefaults:\n  max_objects: 1\n");
	const struct ava_abi_fn *open = fn_named(abi, "avatest_device_open");
	struct ava_enforce_refusal why;
	uint8_t *payload;
	struct ava_router_call *c1 = call_new(open), *c2 = call_new(open), *c3 = call_new(open);

	CHECK_INT(call(open, 1, c1, &payload, &why), AVA_ENFORCE_FORWARD);
	CHECK(c1->resv != NULL); /* reserved until its REPLY */
	/* The second object would pass the cap while the first is reserved. */
	CHECK_INT(call(open, 2, c2, &payload, &why), AVA_ENFORCE_REFUSED);
	CHECK_INT(why.why, AVA_REFUSAL_OBJECTS);
	CHECK_HAS(why.reason, "object cap");
	CHECK(ava_enforce_next_release(&g_r) == NULL); /* a refusal sends nothing */
	/* The first call never got a REPLY: dropping it gives its reservation back. */
	ava_enforce_call_dropped(c1);
	CHECK(c1->resv == NULL);
	CHECK_INT(call(open, 3, c3, &payload, &why), AVA_ENFORCE_FORWARD);
	ava_enforce_call_dropped(c3);
	free(c1);
	free(c2);
	free(c3);
	teardown();
}

static void test_device_release(const struct ava_abi_api *abi)
{
	/* A lease no test run outlasts: only USAGE frees the slot. */
	setup(abi, "version: 1\ndevices:\n  - name: default\n    lease_ms: 3600000\n");
	const struct ava_abi_fn *busy = fn_named(abi, "avatest_busy");
	CHECK(busy->flags & AVA_ABI_FN_DEVICE_TIME);
	struct ava_enforce_refusal why;
	uint8_t *p1, *p2, *p3;

	/* The device is free: taken and released at once, with the very payload. */
	CHECK_INT(call(busy, 1, NULL, &p1, &why), AVA_ENFORCE_TAKEN);
	struct ava_enforce_release *rel = ava_enforce_next_release(&g_r);
	CHECK(rel != NULL && rel->g == &g_g && rel->call.hdr.seq == 1 && rel->call.payload == p1 &&
	      rel->call.next == NULL);
	CHECK(ava_enforce_next_release(&g_r) == NULL);
	ava_enforce_release_free(rel);

	/* Busy: the next two wait in the device's queue (the router would not send them). */
	CHECK_INT(call(busy, 2, NULL, &p2, &why), AVA_ENFORCE_TAKEN);
	CHECK_INT(call(busy, 3, NULL, &p3, &why), AVA_ENFORCE_TAKEN);
	CHECK(ava_enforce_next_release(&g_r) == NULL);
	CHECK(ava_enforce_is_held(&g_g, 2) && ava_enforce_is_held(&g_g, 3));
	CHECK_INT(g_t.enforce.held_now, 2);

	/* The first one's USAGE frees the slot: the second, only, is released. */
	ava_enforce_usage(&g_r, &g_s, g_g.session, 1, 1000);
	rel = ava_enforce_next_release(&g_r);
	CHECK(rel != NULL && rel->call.hdr.seq == 2 && rel->call.payload == p2);
	CHECK(ava_enforce_next_release(&g_r) == NULL);
	CHECK(!ava_enforce_is_held(&g_g, 2) && ava_enforce_is_held(&g_g, 3));
	ava_enforce_release_free(rel);

	/* Released but not taken when the session ends: dropped with it (no leak, no send). */
	ava_enforce_usage(&g_r, &g_s, g_g.session, 2, 1000);
	teardown();
}

static void test_unsized(const struct ava_abi_api *abi, const char *policy_text, int refused)
{
	setup(abi, policy_text);
	struct ava_abi_fn unsized = *fn_named(abi, "avatest_buffer_new");
	CHECK(unsized.ret.flags & AVA_ABI_V_ALLOCATES);
	unsized.mem_from = AVA_ABI_AMOUNT_CONST;
	unsized.mem_arg = 0;
	unsized.mem_bytes = UINT64_MAX;
	struct ava_enforce_refusal why;
	uint8_t *payload;
	struct ava_router_call *c = call_new(&unsized);

	if (refused) {
		CHECK_INT(call(&unsized, 1, c, &payload, &why), AVA_ENFORCE_REFUSED);
		CHECK_INT(why.why, AVA_REFUSAL_MEMORY_QUOTA);
		CHECK_HAS(why.reason, "cannot be accounted");
		CHECK(c->resv == NULL);
		CHECK_INT(g_t.enforce.quota.n_refused, 1);
	} else {
		CHECK_INT(call(&unsized, 1, c, &payload, &why), AVA_ENFORCE_FORWARD);
		CHECK(c->resv != NULL); /* the object, of no bytes */
		CHECK_INT(g_t.enforce.quota.reserved_bytes, 0);
		ava_enforce_call_dropped(c);
	}
	free(c);
	teardown();
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s AVATEST_ABI\n", argv[0]);
		return 2;
	}
	struct ava_abi_api *abi = NULL;
	char err[256];
	if (ava_abi_load(argv[1], &abi, err, sizeof(err)) < 0) {
		fprintf(stderr, "cannot load %s: %s\n", argv[1], err);
		return 1;
	}
	test_objects_refused(abi);
	test_device_release(abi);
	test_unsized(abi, "version: 1\ndefaults:\n  memory_quota: 1MiB\n", 1);
	test_unsized(abi, "version: 1\n", 0);
	ava_abi_api_free(abi);
	fprintf(stderr, "test_enforce_verdicts: ok\n");
	return 0;
}
