/* SPDX-License-Identifier: MIT */
/*
 * One non-blocking framed stream (a guest channel or an API server socket):
 * incremental frame reading and a bounded output queue. The event loop owns
 * the fd's epoll registration; this module only moves bytes.
 *
 * Reading order (docs/router.md, "Validation"): the 40-byte header is read
 * first and validated with ava_wire_header_decode against
 * AVA_WIRE_MAX_PAYLOAD_BYTES before anything is allocated; only then is a
 * payload buffer of exactly len_bytes allocated and filled.
 *
 * Bytes arrive through a small staging buffer, so one recv usually brings a
 * whole small frame (or several), and a recv that returns less than asked
 * means the socket is drained: no further recv is tried until the next
 * readiness event (ava_conn_arm). Large payloads are read straight into
 * their buffer. The staging buffer exists only while it holds bytes.
 */
#ifndef AVA_ROUTER_CONN_H
#define AVA_ROUTER_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <ava/wire.h>

struct ava_conn_chunk;

struct ava_conn {
	int fd;
	/* Input: the frame being received. */
	uint8_t hdr_buf[AVA_WIRE_HEADER_BYTES];
	uint32_t hdr_got;
	int have_hdr;
	struct ava_wire_header hdr;
	uint8_t *payload;
	uint32_t payload_got;
	uint8_t *stage; /* received, not yet consumed bytes; NULL when empty */
	uint32_t stage_off;
	uint32_t stage_len;
	int may_recv; /* the socket may hold more bytes (since the last readiness event) */
	/* Output queue, oldest first. */
	struct ava_conn_chunk *out_head;
	struct ava_conn_chunk *out_tail;
	size_t out_bytes;
	size_t out_cap_bytes;
};

/* Takes ownership of fd (non-blocking). out_cap_bytes bounds the output queue. */
void ava_conn_init(struct ava_conn *c, int fd, size_t out_cap_bytes);
/* Frees buffers and the queue and closes the fd. Safe to call twice. */
void ava_conn_fini(struct ava_conn *c);

/* Whether part of a frame has been received and the rest is pending. */
int ava_conn_mid_frame(const struct ava_conn *c);

/* Notes a readiness event: the next ava_conn_read_frame may recv again. */
void ava_conn_arm(struct ava_conn *c);

/* Drops a partly received frame and any staged bytes (the session ended). */
void ava_conn_discard_input(struct ava_conn *c);

/*
 * Reads towards the next frame. Returns 1 with a complete frame (the caller
 * owns *ret_payload, never NULL, also when len_bytes is 0), 0 when the socket has no more
 * bytes now (or was found drained since the last ava_conn_arm), -EPIPE on EOF (or reset), -EPROTO / -EMSGSIZE for a header that
 * fails validation (*ret_reason set; nothing was allocated), or another
 * negative errno.
 */
int ava_conn_read_frame(struct ava_conn *c, struct ava_wire_header *ret_hdr, uint8_t **ret_payload,
			const char **ret_reason) __attribute__((warn_unused_result));

/*
 * Queues one frame; hdr->len_bytes must equal len. Takes ownership of
 * payload (freed here on failure too). Returns 0, -ENOBUFS when the queue
 * would pass its cap, or -ENOMEM. Nothing is written until ava_conn_flush.
 */
int ava_conn_queue(struct ava_conn *c, const struct ava_wire_header *hdr, uint8_t *payload,
		   size_t len) __attribute__((warn_unused_result));
/* Same, copying len bytes from data. */
int ava_conn_queue_copy(struct ava_conn *c, const struct ava_wire_header *hdr, const void *data,
			size_t len) __attribute__((warn_unused_result));

/*
 * Writes as much of the queue as the socket takes without blocking.
 * Returns 0 (check out_bytes for what is left) or -EPIPE / negative errno.
 */
int ava_conn_flush(struct ava_conn *c) __attribute__((warn_unused_result));

#endif /* AVA_ROUTER_CONN_H */
