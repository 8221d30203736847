/* SPDX-License-Identifier: MIT */
/*
 * Blobs buffers in the guest (guestlib/blob.c): the capacities on the wire,
 * and a reply's blobs copied back no larger than was asked for.
 */
#include <errno.h>

#include <ava/guestlib.h>

#include "blob.h"
#include "call.h"
#include "check.h"
#include "fake_api.h"

static const struct ava_guestlib_api api = { .abi = &fake_abi, .fns = fake_fns };

static void test_encode(void)
{
	int32_t param = 1;
	void *blobs[2] = { NULL, NULL };
	void **blobsp = blobs;
	void *args[] = { &param, &blobsp };
	int32_t r = 0;
	struct ava_abi_view view = { 0 };

	struct ava_guestlib_call *call = ava_guestlib_call_new(&api, FN_BLOBS, args, &r, false);
	CHECK(call);
	call->plan.blobs_arg[1] = 1;
	call->blob_caps[1] = calloc(2, sizeof(uint64_t));
	call->blob_caps[1][0] = 5;
	call->blob_caps[1][1] = 0;
	CHECK_INT(ava_guestlib_blob_encode(call, 1, &view, 16), 0);
	CHECK_INT(view.u64, 1);
	CHECK_INT(call->b.len, 1 + 16);
	CHECK_INT(call->b.data[0], 1);
	uint64_t cap;
	memcpy(&cap, call->b.data + 1, 8);
	CHECK_INT(cap, 5);
	ava_guestlib_call_free(call);

	/* not an array of blobs this time (or a sizing call): u8 0 alone */
	call = ava_guestlib_call_new(&api, FN_BLOBS, args, &r, false);
	CHECK_INT(ava_guestlib_blob_encode(call, 1, &view, 16), 0);
	CHECK_INT(view.u64, 0);
	CHECK_INT(call->b.len, 1);
	CHECK_INT(call->b.data[0], 0);
	ava_guestlib_call_free(call);
}

static void test_apply(void)
{
	int32_t param = 1;
	char a[5] = { 0 }, b[3] = { 0 };
	void *blobs[2] = { a, b };
	void **blobsp = blobs;
	void *args[] = { &param, &blobsp };
	int32_t r = 0;
	/* the reply's buffer: u64 n and n bytes per pointer */
	uint8_t payload[8 + 4 + 8 + 3];
	uint64_t n = 4;
	memcpy(payload, &n, 8);
	memcpy(payload + 8, "abcd", 4);
	n = 3;
	memcpy(payload + 12, &n, 8);
	memcpy(payload + 20, "xyz", 3);
	struct ava_abi_view view = { .present = 1, .count = 2, .data = payload };

	struct ava_guestlib_call *call = ava_guestlib_call_new(&api, FN_BLOBS, args, &r, false);
	call->blob_caps[1] = calloc(2, sizeof(uint64_t));
	call->blob_caps[1][0] = 5;
	call->blob_caps[1][1] = 3;
	CHECK_INT(ava_guestlib_blob_apply(call, 1, &view), 0);
	CHECK(memcmp(a, "abcd", 4) == 0 && a[4] == 0);
	CHECK(memcmp(b, "xyz", 3) == 0);

	/* a blob larger than its buffer: a protocol error, nothing written past it */
	call->blob_caps[1][1] = 2;
	memset(b, 0, sizeof(b));
	CHECK_INT(ava_guestlib_blob_apply(call, 1, &view), -EPROTO);
	CHECK_HAS(call->err, "blob 1 of 3 bytes, 2 asked for");
	CHECK(b[0] == 0);
	ava_guestlib_call_free(call);
}

int main(void)
{
	test_encode();
	test_apply();
	return 0;
}
