/* SPDX-License-Identifier: MIT */
/* Frame header codec, cursor and output buffer. */
#include <errno.h>
#include <stdint.h>

#include "ava/wire.h"
#include "check.h"

static struct ava_wire_header sample_header(void)
{
	struct ava_wire_header h = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_CALL,
		.len_bytes = 0x01020304,
		.call_id = 0x0a0b0c0d,
		.seq = UINT64_C(0x1122334455667788),
		.thread_id = 0xdeadbeef,
		.flags = AVA_WIRE_F_ASYNC | AVA_WIRE_F_DEFERRED_ERROR,
		.status = AVA_STATUS_INTERNAL,
		.session = 0x99aabbcc,
		.reserved = 0,
	};
	return h;
}

static void test_round_trip(void)
{
	struct ava_wire_header h = sample_header(), d;
	uint8_t raw[AVA_WIRE_HEADER_BYTES];
	const char *reason = "unset";
	/* The layout in docs/wire-protocol.md, byte by byte. */
	static const uint8_t expect[AVA_WIRE_HEADER_BYTES] = {
		0x41, 0x56, 0x41, 0x31,				/* magic "AVA1" */
		0x01, 0x00,					/* version */
		0x03, 0x00,					/* kind CALL */
		0x04, 0x03, 0x02, 0x01,				/* len_bytes */
		0x0d, 0x0c, 0x0b, 0x0a,				/* call_id */
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* seq */
		0xef, 0xbe, 0xad, 0xde,				/* thread_id */
		0x03, 0x00,					/* flags */
		0x09, 0x00,					/* status */
		0xcc, 0xbb, 0xaa, 0x99,				/* session */
		0x00, 0x00, 0x00, 0x00,				/* reserved */
	};

	ava_wire_header_encode(&h, raw);
	CHECK(memcmp(raw, expect, sizeof(raw)) == 0);
	CHECK_INT(ava_wire_header_decode(raw, UINT32_MAX, &d, &reason), 0);
	CHECK(reason == NULL);
	CHECK(memcmp(&h, &d, sizeof(h)) == 0);

	/* Every known kind decodes, a gap in 1..MAX does not; the payload cap is inclusive. */
	unsigned n_known = 0;
	for (unsigned k = 1; k <= AVA_WIRE_KIND_MAX; k++) {
		h.kind = (uint16_t)k;
		ava_wire_header_encode(&h, raw);
		if (!ava_wire_kind_known(k)) {
			CHECK_INT(ava_wire_header_decode(raw, h.len_bytes, &d, NULL), -EPROTO);
			continue;
		}
		n_known++;
		CHECK_INT(ava_wire_header_decode(raw, h.len_bytes, &d, NULL), 0);
		CHECK_INT(d.kind, k);
	}
	CHECK(ava_wire_kind_known(AVA_WIRE_DATA) && ava_wire_kind_known(AVA_WIRE_OUTPUT));
	CHECK(ava_wire_kind_known(AVA_WIRE_CHUNK));
	CHECK_HAS(ava_wire_kind_name(AVA_WIRE_CHUNK), "CHUNK");
	CHECK(n_known >= 13);
}

/* Encodes h with one field broken and expects decode to fail without touching the output. */
static void expect_reject(const struct ava_wire_header *h, uint32_t max, int err,
			  const char *reason_part)
{
	uint8_t raw[AVA_WIRE_HEADER_BYTES];
	struct ava_wire_header d;
	const char *reason = NULL;

	memset(&d, 0x5a, sizeof(d));
	ava_wire_header_encode(h, raw);
	CHECK_INT(ava_wire_header_decode(raw, max, &d, &reason), err);
	CHECK_HAS(reason, reason_part);
	for (size_t i = 0; i < sizeof(d); i++)
		CHECK(((const uint8_t *)&d)[i] == 0x5a);
}

static void test_rejections(void)
{
	struct ava_wire_header h;

	h = sample_header();
	h.magic ^= 1;
	expect_reject(&h, UINT32_MAX, -EPROTO, "magic");
	h = sample_header();
	h.version = 2;
	expect_reject(&h, UINT32_MAX, -EPROTO, "version");
	h = sample_header();
	h.kind = 0;
	expect_reject(&h, UINT32_MAX, -EPROTO, "kind");
	h.kind = AVA_WIRE_KIND_MAX + 1;
	expect_reject(&h, UINT32_MAX, -EPROTO, "kind");
	h.kind = 0xffff;
	expect_reject(&h, UINT32_MAX, -EPROTO, "kind");
	h = sample_header();
	h.flags = 0x0008;
	expect_reject(&h, UINT32_MAX, -EPROTO, "flag");
	{
		uint8_t raw[AVA_WIRE_HEADER_BYTES];
		struct ava_wire_header d;

		h.flags = AVA_WIRE_F_STREAM;
		ava_wire_header_encode(&h, raw);
		CHECK_INT(ava_wire_header_decode(raw, UINT32_MAX, &d, NULL), 0);
		CHECK_INT(d.flags, AVA_WIRE_F_STREAM);
	}
	h.flags = 0x8001;
	expect_reject(&h, UINT32_MAX, -EPROTO, "flag");
	h = sample_header();
	h.status = AVA_STATUS_COUNT;
	expect_reject(&h, UINT32_MAX, -EPROTO, "status");
	h = sample_header();
	h.reserved = 1u << 31;
	expect_reject(&h, UINT32_MAX, -EPROTO, "reserved");
	h = sample_header();
	expect_reject(&h, h.len_bytes - 1, -EMSGSIZE, "length");
	h.len_bytes = UINT32_MAX;
	expect_reject(&h, AVA_WIRE_MAX_PAYLOAD_BYTES, -EMSGSIZE, "length");

	/* NULL reason pointer is allowed. */
	{
		uint8_t raw[AVA_WIRE_HEADER_BYTES];
		struct ava_wire_header d;

		h = sample_header();
		h.magic = 0;
		ava_wire_header_encode(&h, raw);
		CHECK_INT(ava_wire_header_decode(raw, UINT32_MAX, &d, NULL), -EPROTO);
	}
}

static void test_names(void)
{
	CHECK_HAS(ava_wire_status_name(AVA_STATUS_BAD_HANDLE), "bad handle");
	CHECK_HAS(ava_wire_status_name(AVA_STATUS_OK), "ok");
	for (unsigned s = 0; s < AVA_STATUS_COUNT; s++)
		CHECK(ava_wire_status_name(s) != NULL && *ava_wire_status_name(s));
	CHECK_HAS(ava_wire_status_name(AVA_STATUS_COUNT), "unknown");
	CHECK_HAS(ava_wire_status_name(~0u), "unknown");
	CHECK(strcmp(ava_wire_kind_name(AVA_WIRE_CALL), "CALL") == 0);
	CHECK(strcmp(ava_wire_kind_name(AVA_WIRE_CALLBACK_REPLY), "CALLBACK_REPLY") == 0);
	for (unsigned k = 1; k <= AVA_WIRE_KIND_MAX; k++)
		CHECK((strcmp(ava_wire_kind_name(k), "UNKNOWN") != 0) == ava_wire_kind_known(k));
	CHECK(strcmp(ava_wire_kind_name(AVA_WIRE_OUTPUT), "OUTPUT") == 0);
	CHECK(strcmp(ava_wire_kind_name(0), "UNKNOWN") == 0);
	CHECK(strcmp(ava_wire_kind_name(AVA_WIRE_KIND_MAX + 1), "UNKNOWN") == 0);
}

static void test_cursor(void)
{
	static const uint8_t data[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
					0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d };
	struct ava_wire_cursor c = { data, data + sizeof(data) };
	const uint8_t *p;
	uint64_t v64;
	uint32_t v32;
	uint8_t v8;

	CHECK_INT(ava_wire_get_u8(&c, &v8), 0);
	CHECK_INT(v8, 1);
	CHECK_INT(ava_wire_get_u32(&c, &v32), 0);
	CHECK_INT(v32, 0x05040302);
	CHECK_INT(ava_wire_get_bytes(&c, 9, &p), -EPROTO); /* 8 left */
	CHECK(c.cur == data + 5);			   /* a failed read does not move */
	CHECK_INT(ava_wire_get_bytes(&c, SIZE_MAX, &p), -EPROTO);
	CHECK(c.cur == data + 5);
	CHECK_INT(ava_wire_get_bytes(&c, 4, &p), 0);
	CHECK(p == data + 5);
	CHECK_INT(ava_wire_get_u64(&c, &v64), -EPROTO); /* 4 left */
	CHECK(c.cur == data + 9);
	CHECK_INT(ava_wire_get_u32(&c, &v32), 0);
	CHECK_INT(v32, 0x0d0c0b0a);
	CHECK(c.cur == c.end);
	CHECK_INT(ava_wire_get_u8(&c, &v8), -EPROTO);
	CHECK_INT(ava_wire_get_u32(&c, &v32), -EPROTO);
	CHECK_INT(ava_wire_get_bytes(&c, 0, &p), 0);

	/* u64 across exactly the remaining bytes. */
	c.cur = data + 5;
	CHECK_INT(ava_wire_get_u64(&c, &v64), 0);
	CHECK(v64 == UINT64_C(0x0d0c0b0a09080706));
	CHECK(c.cur == c.end);

	/* An empty cursor (as for an empty payload) reads nothing. */
	c.cur = c.end = NULL;
	CHECK_INT(ava_wire_get_u8(&c, &v8), -EPROTO);
	CHECK_INT(ava_wire_get_bytes(&c, 0, &p), 0);
}

static void test_buf(void)
{
	struct ava_wire_buf b;
	uint8_t *p;

	ava_wire_buf_init(&b);
	CHECK(b.data == NULL && b.len == 0);
	CHECK_INT(ava_wire_put_u8(&b, 0xab), 0);
	CHECK_INT(ava_wire_put_u32(&b, 0x01020304), 0);
	CHECK_INT(ava_wire_put_u64(&b, UINT64_C(0x1112131415161718)), 0);
	CHECK_INT(ava_wire_put_bytes(&b, "xyz", 3), 0);
	CHECK_INT(ava_wire_put_bytes(&b, NULL, 0), 0);
	CHECK_INT(b.len, 16);
	static const uint8_t expect[] = { 0xab, 0x04, 0x03, 0x02, 0x01, 0x18, 0x17, 0x16,
					  0x15, 0x14, 0x13, 0x12, 0x11, 'x',  'y',  'z' };
	CHECK(memcmp(b.data, expect, sizeof(expect)) == 0);

	/* Growth keeps the contents; huge reservations fail and leave the buffer alone. */
	for (int i = 0; i < 10000; i++)
		CHECK_INT(ava_wire_put_u32(&b, (uint32_t)i), 0);
	CHECK_INT(b.len, 16 + 40000);
	CHECK(memcmp(b.data, expect, sizeof(expect)) == 0);
	CHECK_INT(ava_wire_reserve(&b, SIZE_MAX, &p), -ENOMEM);
	CHECK_INT(ava_wire_reserve(&b, SIZE_MAX - 8, &p), -ENOMEM);
	CHECK_INT(b.len, 16 + 40000);
	CHECK_INT(ava_wire_reserve(&b, 5, &p), 0);
	CHECK(p == b.data + 16 + 40000);
	CHECK_INT(b.len, 16 + 40005);
	ava_wire_buf_fini(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
	ava_wire_buf_fini(&b);
}

int main(void)
{
	test_round_trip();
	test_rejections();
	test_names();
	test_cursor();
	test_buf();
	printf("test_wire: ok\n");
	return 0;
}
