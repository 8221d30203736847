/* SPDX-License-Identifier: MIT */
/*
 * Frame header codec, payload cursor and growable output buffer.
 * docs/wire-protocol.md is the normative description of the format.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ava/wire.h"
#include "wire-private.h"

void ava_wire_header_encode(const struct ava_wire_header *hdr, uint8_t *out)
{
	ava_wire_store_u32(out + 0, hdr->magic);
	ava_wire_store_u16(out + 4, hdr->version);
	ava_wire_store_u16(out + 6, hdr->kind);
	ava_wire_store_u32(out + 8, hdr->len_bytes);
	ava_wire_store_u32(out + 12, hdr->call_id);
	ava_wire_store_u64(out + 16, hdr->seq);
	ava_wire_store_u32(out + 24, hdr->thread_id);
	ava_wire_store_u16(out + 28, hdr->flags);
	ava_wire_store_u16(out + 30, hdr->status);
	ava_wire_store_u32(out + 32, hdr->session);
	ava_wire_store_u32(out + 36, hdr->reserved);
}

/*
 * The header is decoded completely first, then validated field by field in
 * wire order, so the reason names the first bad field. Nothing is written to
 * *ret_hdr unless the whole header is valid.
 */
int ava_wire_header_decode(const uint8_t *in, uint32_t max_payload_bytes,
			   struct ava_wire_header *ret_hdr, const char **ret_reason)
{
	struct ava_wire_header h;
	const char *reason = NULL;
	int r = -EPROTO;

	h.magic = ava_wire_load_u32(in + 0);
	h.version = ava_wire_load_u16(in + 4);
	h.kind = ava_wire_load_u16(in + 6);
	h.len_bytes = ava_wire_load_u32(in + 8);
	h.call_id = ava_wire_load_u32(in + 12);
	h.seq = ava_wire_load_u64(in + 16);
	h.thread_id = ava_wire_load_u32(in + 24);
	h.flags = ava_wire_load_u16(in + 28);
	h.status = ava_wire_load_u16(in + 30);
	h.session = ava_wire_load_u32(in + 32);
	h.reserved = ava_wire_load_u32(in + 36);

	if (h.magic != AVA_WIRE_MAGIC) {
		reason = "bad magic";
	} else if (h.version != AVA_WIRE_VERSION) {
		reason = "unsupported protocol version";
	} else if (!ava_wire_kind_known(h.kind)) {
		reason = "unknown frame kind";
	} else if (h.len_bytes > max_payload_bytes) {
		reason = "payload length exceeds maximum";
		r = -EMSGSIZE;
	} else if (h.flags & ~AVA_WIRE_F_KNOWN) {
		reason = "unknown flag bits";
	} else if (h.status >= AVA_STATUS_COUNT) {
		reason = "unknown status";
	} else if (h.reserved != 0) {
		reason = "reserved field not zero";
	} else {
		*ret_hdr = h;
		r = 0;
	}
	if (ret_reason)
		*ret_reason = reason;
	return r;
}

const char *ava_wire_status_name(unsigned status)
{
	static const char *const names[AVA_STATUS_COUNT] = {
		[AVA_STATUS_OK] = "ok",
		[AVA_STATUS_UNSUPPORTED] = "unsupported",
		[AVA_STATUS_BAD_HANDLE] = "bad handle",
		[AVA_STATUS_REFUSED] = "refused by policy",
		[AVA_STATUS_SERVER_GONE] = "API server gone",
		[AVA_STATUS_MALFORMED] = "malformed frame",
		[AVA_STATUS_NO_MEMORY] = "out of memory",
		[AVA_STATUS_UNKNOWN_API] = "unknown API",
		[AVA_STATUS_ABI_MISMATCH] = "ABI mismatch",
		[AVA_STATUS_INTERNAL] = "internal error",
		[AVA_STATUS_OVER_QUOTA] = "over quota",
	};

	if (status >= AVA_STATUS_COUNT)
		return "unknown status";
	return names[status];
}

static const char *const kind_names[AVA_WIRE_KIND_MAX + 1] = {
	[AVA_WIRE_HELLO] = "HELLO",
	[AVA_WIRE_HELLO_REPLY] = "HELLO_REPLY",
	[AVA_WIRE_CALL] = "CALL",
	[AVA_WIRE_REPLY] = "REPLY",
	[AVA_WIRE_CALLBACK] = "CALLBACK",
	[AVA_WIRE_CALLBACK_REPLY] = "CALLBACK_REPLY",
	[AVA_WIRE_SESSION_OPEN] = "SESSION_OPEN",
	[AVA_WIRE_SESSION_CLOSE] = "SESSION_CLOSE",
	[AVA_WIRE_BYE] = "BYE",
	[AVA_WIRE_USAGE] = "USAGE",
	[AVA_WIRE_DATA] = "DATA",
	[AVA_WIRE_OUTPUT] = "OUTPUT",
	[AVA_WIRE_CHUNK] = "CHUNK",
};

bool ava_wire_kind_known(unsigned kind)
{
	return kind >= 1 && kind <= AVA_WIRE_KIND_MAX && kind_names[kind];
}

const char *ava_wire_kind_name(unsigned kind)
{
	return ava_wire_kind_known(kind) ? kind_names[kind] : "UNKNOWN";
}

int ava_wire_get_u8(struct ava_wire_cursor *c, uint8_t *ret)
{
	if (1 > (size_t)(c->end - c->cur))
		return -EPROTO;
	*ret = c->cur[0];
	c->cur += 1;
	return 0;
}

int ava_wire_get_u32(struct ava_wire_cursor *c, uint32_t *ret)
{
	if (4 > (size_t)(c->end - c->cur))
		return -EPROTO;
	*ret = ava_wire_load_u32(c->cur);
	c->cur += 4;
	return 0;
}

int ava_wire_get_u64(struct ava_wire_cursor *c, uint64_t *ret)
{
	if (8 > (size_t)(c->end - c->cur))
		return -EPROTO;
	*ret = ava_wire_load_u64(c->cur);
	c->cur += 8;
	return 0;
}

int ava_wire_get_bytes(struct ava_wire_cursor *c, size_t n, const uint8_t **ret)
{
	if (n > (size_t)(c->end - c->cur))
		return -EPROTO;
	*ret = c->cur;
	if (n)
		c->cur += n; /* never offset a NULL cursor (empty payload), even by 0 */
	return 0;
}

int ava_wire_hello_decode(const uint8_t *payload, size_t len, const uint8_t **ret_name,
			  uint32_t *ret_name_len, uint64_t *ret_hash)
{
	struct ava_wire_cursor c = ava_wire_cursor_of(payload, len);
	uint32_t name_len;
	const uint8_t *name;
	uint64_t hash;

	if ((!payload && len) || ava_wire_get_u32(&c, &name_len) < 0 || name_len == 0 ||
	    name_len > AVA_WIRE_MAX_API_NAME || ava_wire_get_bytes(&c, name_len, &name) < 0 ||
	    ava_wire_get_u64(&c, &hash) < 0 || c.cur != c.end)
		return -EPROTO;
	*ret_name = name;
	*ret_name_len = name_len;
	*ret_hash = hash;
	return 0;
}

void ava_wire_buf_init(struct ava_wire_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void ava_wire_buf_fini(struct ava_wire_buf *b)
{
	if (!b)
		return;
	free(b->data);
	ava_wire_buf_init(b);
}

int ava_wire_reserve(struct ava_wire_buf *b, size_t n, uint8_t **ret)
{
	size_t need;

	if (__builtin_add_overflow(b->len, n, &need))
		return -ENOMEM;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		uint8_t *p;

		while (cap < need) {
			if (__builtin_mul_overflow(cap, (size_t)2, &cap))
				return -ENOMEM;
		}
		p = realloc(b->data, cap);
		if (!p)
			return -ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	*ret = b->data + b->len;
	b->len = need;
	return 0;
}

int ava_wire_put_u8(struct ava_wire_buf *b, uint8_t v)
{
	uint8_t *p;
	int r = ava_wire_reserve(b, 1, &p);

	if (r < 0)
		return r;
	p[0] = v;
	return 0;
}

int ava_wire_put_u32(struct ava_wire_buf *b, uint32_t v)
{
	uint8_t *p;
	int r = ava_wire_reserve(b, 4, &p);

	if (r < 0)
		return r;
	ava_wire_store_u32(p, v);
	return 0;
}

int ava_wire_put_u64(struct ava_wire_buf *b, uint64_t v)
{
	uint8_t *p;
	int r = ava_wire_reserve(b, 8, &p);

	if (r < 0)
		return r;
	ava_wire_store_u64(p, v);
	return 0;
}

int ava_wire_put_bytes(struct ava_wire_buf *b, const void *src, size_t n)
{
	uint8_t *p;
	int r;

	if (n == 0)
		return 0;
	r = ava_wire_reserve(b, n, &p);
	if (r < 0)
		return r;
	memcpy(p, src, n);
	return 0;
}
