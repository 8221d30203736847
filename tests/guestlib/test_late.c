/* SPDX-License-Identifier: MIT */
/*
 * Late transfers in the guest (guestlib/late.c): entered for a call's late
 * out buffers and its readable mapping, filled by DATA frames in pieces (a
 * rect unpacked into place), refused when a frame breaks the rules, dropped
 * with their call.
 */
#include <errno.h>
#include <stdlib.h>

#include <ava/guestlib.h>

#include "call.h"
#include "check.h"
#include "conn.h"
#include "fake_api.h"
#include "late.h"
#include "mapping.h"

static const struct ava_guestlib_api api = { .abi = &fake_abi, .fns = fake_fns };

/* DATA for transfer id: the u64 id, then the bytes. */
static int data(struct conn *c, uint32_t fn_id, uint16_t status, uint64_t id, const void *bytes,
		size_t n, const char **ret_why)
{
	uint8_t payload[64];
	CHECK(n + 8 <= sizeof(payload));
	memcpy(payload, &id, 8);
	memcpy(payload + 8, bytes, n);
	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_DATA,
		.status = status,
		.call_id = fn_id,
		.len_bytes = (uint32_t)(8 + n),
	};
	*ret_why = NULL;
	return ava_guestlib_late_take_data(c, &hdr, payload, ret_why);
}

static unsigned n_transfers(const struct conn *c)
{
	unsigned n = 0;
	for (const struct transfer *t = c->transfers; t; t = t->next)
		n++;
	return n;
}

/* A call of f_rect(in, out) whose out buffer (6 bytes) is late; rect says how it lands. */
static struct ava_guestlib_call *late_call(struct conn *c, void *const *args, bool rect,
					   uint64_t seq)
{
	int32_t *r = NULL;
	struct ava_guestlib_call *call = ava_guestlib_call_new(&api, FN_RECT, args, r, false);
	CHECK(call);
	call->c = c;
	call->hdr.seq = seq;
	memset(call->views, 0, sizeof(call->views));
	call->views[1] = (struct ava_abi_view){ .present = 1, .count = 6 };
	call->views[1].u64 = ava_guestlib_late_new_id(c);
	call->rect_ok[1] = rect;
	call->rects[1] = (struct ava_gen_rect){
		.offset_bytes = 1, .row_bytes = 3, .rows = 2, .slices = 1, .row_pitch = 5
	};
	pthread_mutex_lock(&c->lock);
	CHECK_INT(ava_guestlib_late_add_locked(call), 0);
	pthread_mutex_unlock(&c->lock);
	return call;
}

static void test_pieces(struct conn *c)
{
	char out[16] = { 0 };
	void *inp = NULL, *outp = out;
	void *args[] = { &inp, &outp };
	const char *why;
	struct ava_guestlib_call *call = late_call(c, args, false, 1);
	uint64_t id = call->views[1].u64;
	CHECK(id != 0);
	CHECK_INT(n_transfers(c), 1);

	CHECK_INT(data(c, FN_RECT, AVA_STATUS_OK, id + 1, "x", 1, &why), -EPROTO);
	CHECK_HAS(why, "not outstanding");
	CHECK_INT(data(c, FN_PLAIN, AVA_STATUS_OK, id, "x", 1, &why), -EPROTO);
	CHECK_HAS(why, "wrong function or size");
	CHECK_INT(data(c, FN_RECT, AVA_STATUS_OK, id, "abcdefg", 7, &why), -EPROTO);
	CHECK_INT(data(c, FN_RECT, AVA_STATUS_OK, id, "", 0, &why), -EPROTO);

	CHECK_INT(data(c, FN_RECT, AVA_STATUS_OK, id, "abc", 3, &why), 0);
	CHECK_INT(n_transfers(c), 1); /* more pieces follow */
	CHECK_INT(data(c, FN_RECT, AVA_STATUS_OK, id, "def", 3, &why), 0);
	CHECK_INT(n_transfers(c), 0);
	CHECK(memcmp(out, "abcdef", 6) == 0 && out[6] == 0);
	ava_guestlib_call_free(call);
}

static void test_rect(struct conn *c)
{
	char out[16];
	memset(out, '.', sizeof(out));
	void *inp = NULL, *outp = out;
	void *args[] = { &inp, &outp };
	const char *why;
	struct ava_guestlib_call *call = late_call(c, args, true, 2);
	CHECK_INT(data(c, FN_RECT, AVA_STATUS_OK, call->views[1].u64, "abcdef", 6, &why), 0);
	CHECK(memcmp(out, ".abc..def.", 10) == 0);
	CHECK_INT(n_transfers(c), 0);
	ava_guestlib_call_free(call);
}

static void test_failed_and_dropped(struct conn *c)
{
	char out[8] = { 0 };
	void *inp = NULL, *outp = out;
	void *args[] = { &inp, &outp };
	const char *why;

	/* the transfer failed remotely: an empty DATA with its status ends it */
	struct ava_guestlib_call *call = late_call(c, args, false, 3);
	CHECK_INT(data(c, FN_RECT, AVA_STATUS_INTERNAL, call->views[1].u64, "x", 1, &why), -EPROTO);
	CHECK_INT(data(c, FN_RECT, AVA_STATUS_INTERNAL, call->views[1].u64, "", 0, &why), 0);
	CHECK_INT(n_transfers(c), 0);
	CHECK_INT(out[0], 0);
	ava_guestlib_call_free(call);

	/* a readable mapping's transfer goes with its call's */
	struct mapping m = { .ptr = out, .wire_bytes = 4 };
	struct ava_guestlib_call *a = late_call(c, args, false, 4);
	struct ava_guestlib_call *b = ava_guestlib_call_new(&api, FN_RECT, args, NULL, false);
	b->c = c;
	b->hdr.seq = 5;
	memset(b->views, 0, sizeof(b->views));
	b->mapping = &m;
	b->map_transfer = ava_guestlib_late_new_id(c);
	pthread_mutex_lock(&c->lock);
	CHECK_INT(ava_guestlib_late_add_locked(b), 0);
	CHECK_INT(n_transfers(c), 2);
	ava_guestlib_late_drop_locked(c, 4);
	CHECK_INT(n_transfers(c), 1);
	pthread_mutex_unlock(&c->lock);
	CHECK_INT(data(c, FN_RECT, AVA_STATUS_OK, b->map_transfer, "wxyz", 4, &why), 0);
	CHECK(memcmp(out, "wxyz", 4) == 0);
	b->mapping = NULL; /* ours, on the stack */
	ava_guestlib_call_free(a);
	ava_guestlib_call_free(b);

	a = late_call(c, args, false, 6);
	pthread_mutex_lock(&c->lock);
	ava_guestlib_late_drop_all_locked(c);
	pthread_mutex_unlock(&c->lock);
	CHECK_INT(n_transfers(c), 0);
	ava_guestlib_call_free(a);
}

int main(void)
{
	struct conn *c = calloc(1, sizeof(*c));
	CHECK(c);
	c->api = &api;
	pthread_mutex_init(&c->lock, NULL);
	test_pieces(c);
	test_rect(c);
	test_failed_and_dropped(c);
	free(c);
	return 0;
}
