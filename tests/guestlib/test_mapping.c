/* SPDX-License-Identifier: MIT */
/*
 * Mappings in the guest (guestlib/mapping.c): memory for a map call (the
 * API's placer's, or ours), listed once the call succeeded, found and sent
 * back by its unmap, kept open when the unmap fails.
 */
#include <stdlib.h>

#include <ava/guestlib.h>

#include "call.h"
#include "check.h"
#include "conn.h"
#include "fake_api.h"
#include "mapping.h"

static char placed[64];
static int place; /* the placer gives placed (else declines) */

static void *placer(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
		    size_t len_bytes)
{
	(void)args;
	CHECK(api->abi == &fake_abi && fn_id == FN_MAP);
	return place && len_bytes <= sizeof(placed) ? placed : NULL;
}

static const struct ava_guestlib_ops ops = { .map_placer = placer };
static const struct ava_guestlib_api api = { .abi = &fake_abi, .fns = fake_fns, .ops = &ops };

/* A call of f_map(0) for n bytes, access as given, as far as the send step. */
static struct ava_guestlib_call *map_call(struct conn *c, void **ret, uint64_t n, uint8_t access)
{
	static int32_t x;
	static void *args[] = { &x };
	struct ava_guestlib_call *call = ava_guestlib_call_new(&api, FN_MAP, args, ret, false);
	CHECK(call);
	call->c = c;
	call->plan.map_count = n;
	call->plan.map_access = access;
	CHECK_INT(ava_guestlib_mapping_prepare(call), 0);
	CHECK(call->mapping);
	return call;
}

/* The server answered the map: the reply's result is the mapping id (0: none). */
static void *map_done(struct ava_guestlib_call *call, uint64_t id)
{
	call->left_guest = true;
	*(void **)call->ret = (void *)(uintptr_t)id;
	ava_guestlib_call_finish(call);
	void *p = *(void **)call->ret;
	ava_guestlib_call_free(call);
	return p;
}

static void test_map_unmap(struct conn *c)
{
	void *ret = NULL;
	struct ava_guestlib_call *call =
	    map_call(c, &ret, 100, AVA_ABI_MAP_READ | AVA_ABI_MAP_WRITE);
	CHECK(call->mapping->owned);
	CHECK_INT((uintptr_t)call->mapping->ptr % 4096, 0); /* page-aligned, ours */
	CHECK_INT(ava_guestlib_mapping_encode_trailer(call), 0);
	CHECK(call->map_transfer != 0); /* readable: its bytes come as a transfer */
	CHECK_INT(call->b.len, 8 + 8 + 1);
	void *p = map_done(call, 77);
	CHECK(p && p != (void *)(uintptr_t)77);
	CHECK(c->mappings && c->mappings->ptr == p && c->mappings->id == 77);
	memset(p, 'm', 100);

	/* an unmap of something else: no open mapping */
	void *other = placed;
	void *uargs[] = { &other };
	int32_t r = 0;
	call = ava_guestlib_call_new(&api, FN_UNMAP, uargs, &r, false);
	call->c = c;
	CHECK_INT(ava_guestlib_mapping_prepare(call), -1);
	CHECK_INT(call->status, AVA_STATUS_BAD_HANDLE);
	ava_guestlib_call_free(call);

	/* its unmap: the id and, mapped for writing, the bytes */
	uargs[0] = &p;
	call = ava_guestlib_call_new(&api, FN_UNMAP, uargs, &r, false);
	call->c = c;
	CHECK_INT(ava_guestlib_mapping_prepare(call), 0);
	CHECK(call->unmapping && !c->mappings);
	struct ava_abi_view vw = { 0 };
	CHECK_INT(ava_guestlib_mapping_encode_unmap(call, &vw), 0);
	CHECK_INT(vw.u64, 77);
	CHECK_INT(vw.count, 100);
	CHECK_INT(call->b.len, 8 + 8 + 1 + 100);
	CHECK_INT(call->b.data[17], 'm');
	/* the unmap failed: the mapping stays open */
	call->left_guest = true;
	r = FAKE_ERR(AVA_STATUS_INTERNAL);
	ava_guestlib_call_finish(call);
	ava_guestlib_call_free(call);
	CHECK(c->mappings && c->mappings->ptr == p);

	/* it succeeded: gone for good */
	call = ava_guestlib_call_new(&api, FN_UNMAP, uargs, &r, false);
	call->c = c;
	CHECK_INT(ava_guestlib_mapping_prepare(call), 0);
	call->left_guest = true;
	r = 0;
	ava_guestlib_call_finish(call);
	ava_guestlib_call_free(call);
	CHECK(!c->mappings);
}

static void test_placed_and_failed(struct conn *c)
{
	void *ret = NULL;
	place = 1;
	struct ava_guestlib_call *call = map_call(c, &ret, 16, AVA_ABI_MAP_WRITE);
	CHECK(!call->mapping->owned && call->mapping->ptr == placed);
	CHECK_INT(ava_guestlib_mapping_encode_trailer(call), 0);
	CHECK_INT(call->map_transfer, 0); /* write only: nothing comes back */
	CHECK(map_done(call, 5) == placed);
	struct mapping *m = ava_guestlib_mapping_take(c, placed);
	CHECK(m && m->id == 5);
	ava_guestlib_mapping_free(m); /* not ours to free: only the record goes */
	place = 0;

	/* no mapping id: NULL for the application, the memory freed */
	call = map_call(c, &ret, 16, AVA_ABI_MAP_READ);
	CHECK(map_done(call, 0) == NULL);
	CHECK(!c->mappings);

	/* larger than the spec allows: no memory made */
	call = ava_guestlib_call_new(&api, FN_MAP, (void *const[]){ &ret }, &ret, false);
	call->c = c;
	call->plan.map_count = 4097;
	CHECK_INT(ava_guestlib_mapping_prepare(call), -1);
	CHECK_INT(call->status, AVA_STATUS_NO_MEMORY);
	ava_guestlib_call_free(call);
}

int main(void)
{
	struct conn *c = calloc(1, sizeof(*c));
	CHECK(c);
	c->api = &api;
	pthread_mutex_init(&c->lock, NULL);
	test_map_unmap(c);
	test_placed_and_failed(c);
	free(c);
	return 0;
}
