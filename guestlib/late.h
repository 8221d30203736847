/* SPDX-License-Identifier: MIT */
/*
 * Late out buffers (ava_late_data, AVA_ABI_V_LATE): bytes that come after
 * the REPLY, in DATA frames, once the call's event completes (OpenCL's
 * non-blocking reads); and a readable mapping's bytes, which travel the
 * same way. Each is a transfer: entered before the CALL is sent, removed by
 * its DATA frame(s), by a REPLY whose status is not OK (the call did not
 * run), or when the session ends. Private to guestlib/.
 */
#ifndef AVA_GUESTLIB_LATE_H
#define AVA_GUESTLIB_LATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ava/gen.h>
#include <ava/wire.h>

struct conn;
struct ava_guestlib_call;

/* Where a transfer's DATA bytes go. */
struct transfer {
	struct transfer *next;
	uint64_t id;
	uint64_t seq; /* of the CALL */
	void *dst;
	size_t len_bytes;
	size_t done_bytes; /* DATA comes in pieces, in order */
	uint32_t fn_id;
	bool rect; /* the bytes are packed: unpacked into dst as shape says */
	struct ava_gen_rect shape;
};

/* A new transfer id of the session (never 0). */
uint64_t ava_guestlib_late_new_id(struct conn *c);

/*
 * Encoder, for a late out buffer argument after its count: a new transfer
 * id, put on the wire and kept in *view's u64. Returns 0 or -ENOMEM.
 */
int ava_guestlib_late_encode(struct conn *c, struct ava_wire_buf *b, struct ava_abi_view *view)
    __attribute__((warn_unused_result));

/*
 * Send step, with c->lock held, before the CALL goes: enters the call's
 * late out buffers (a rect with its shape, where rect.c found one) and its
 * readable mapping's transfer. Returns 0, or -ENOMEM (some may be entered:
 * ava_guestlib_late_drop_locked takes them out).
 */
int ava_guestlib_late_add_locked(struct ava_guestlib_call *call)
    __attribute__((warn_unused_result));

/* Forgets the transfers of the call with this seq. Caller holds c->lock. */
void ava_guestlib_late_drop_locked(struct conn *c, uint64_t seq);

/* Forgets every transfer (the session ended). Caller holds c->lock. */
void ava_guestlib_late_drop_all_locked(struct conn *c);

/*
 * A DATA frame, on the receiver thread: its bytes copied into the
 * application's memory there, so they are in place before any later frame
 * (the REPLY of a wait, a callback) lets the application see that the
 * transfer completed. Returns 0, or -EPROTO with *ret_why.
 */
int ava_guestlib_late_take_data(struct conn *c, const struct ava_wire_header *hdr,
				const uint8_t *payload, const char **ret_why)
    __attribute__((warn_unused_result));

#endif /* AVA_GUESTLIB_LATE_H */
