/* SPDX-License-Identifier: MIT */
#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct ava_conn_chunk {
	struct ava_conn_chunk *next;
	uint8_t hdr[AVA_WIRE_HEADER_BYTES];
	uint8_t *payload;
	size_t len;  /* payload bytes */
	size_t sent; /* bytes of hdr + payload already written */
};

/* Frames written per sendmsg; two iovecs each. */
#define CONN_FLUSH_BATCH 32
/* Staging buffer for reads: a few small frames per recv. */
#define CONN_STAGE_BYTES 16384u

void ava_conn_init(struct ava_conn *c, int fd, size_t out_cap_bytes)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->out_cap_bytes = out_cap_bytes;
}

void ava_conn_fini(struct ava_conn *c)
{
	struct ava_conn_chunk *ch = c->out_head;
	while (ch) {
		struct ava_conn_chunk *next = ch->next;
		free(ch->payload);
		free(ch);
		ch = next;
	}
	c->out_head = c->out_tail = NULL;
	c->out_bytes = 0;
	ava_conn_discard_input(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int ava_conn_mid_frame(const struct ava_conn *c)
{
	return c->hdr_got > 0 || c->have_hdr;
}

void ava_conn_arm(struct ava_conn *c)
{
	c->may_recv = 1;
}

void ava_conn_discard_input(struct ava_conn *c)
{
	free(c->payload);
	c->payload = NULL;
	c->have_hdr = 0;
	c->hdr_got = 0;
	c->payload_got = 0;
	free(c->stage);
	c->stage = NULL;
	c->stage_off = c->stage_len = 0;
	c->may_recv = 0;
}

/*
 * One recv into buf: >0 bytes, 0 nothing now, -EPIPE EOF, negative errno.
 * A short read means the socket is drained until the next readiness event.
 */
static ssize_t recv_some(struct ava_conn *c, void *buf, size_t len)
{
	if (!c->may_recv)
		return 0;
	for (;;) {
		ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);
		if (n > 0) {
			if ((size_t)n < len)
				c->may_recv = 0;
			return n;
		}
		if (n == 0)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		c->may_recv = 0;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == ECONNRESET)
			return -EPIPE;
		return -errno;
	}
}

/* Refills the (empty) staging buffer: >0, 0 nothing now, or negative as recv_some. */
static ssize_t stage_fill(struct ava_conn *c)
{
	if (!c->may_recv)
		return 0;
	if (!c->stage) {
		c->stage = malloc(CONN_STAGE_BYTES);
		if (!c->stage)
			return -ENOMEM;
	}
	ssize_t n = recv_some(c, c->stage, CONN_STAGE_BYTES);
	c->stage_off = 0;
	c->stage_len = n > 0 ? (uint32_t)n : 0;
	if (n <= 0) {
		free(c->stage);
		c->stage = NULL;
	}
	return n;
}

/* Moves up to len staged bytes to dst; frees the staging buffer once empty. */
static uint32_t stage_take(struct ava_conn *c, uint8_t *dst, uint32_t len)
{
	uint32_t avail = c->stage_len - c->stage_off;
	uint32_t n = len < avail ? len : avail;
	if (n) {
		memcpy(dst, c->stage + c->stage_off, n);
		c->stage_off += n;
	}
	if (c->stage && c->stage_off == c->stage_len) {
		free(c->stage);
		c->stage = NULL;
		c->stage_off = c->stage_len = 0;
	}
	return n;
}

int ava_conn_read_frame(struct ava_conn *c, struct ava_wire_header *ret_hdr, uint8_t **ret_payload,
			const char **ret_reason)
{
	*ret_reason = NULL;
	if (!c->have_hdr) {
		while (c->hdr_got < AVA_WIRE_HEADER_BYTES) {
			uint32_t need = AVA_WIRE_HEADER_BYTES - c->hdr_got;
			if (c->stage) {
				c->hdr_got += stage_take(c, c->hdr_buf + c->hdr_got, need);
				continue;
			}
			ssize_t n = stage_fill(c);
			if (n <= 0)
				return (int)n;
		}
		/* The length is checked here, before any payload byte is read or allocated. */
		int r = ava_wire_header_decode(c->hdr_buf, AVA_WIRE_MAX_PAYLOAD_BYTES, &c->hdr,
					       ret_reason);
		if (r < 0) {
			if (!*ret_reason)
				*ret_reason = "invalid frame header";
			return r == -EMSGSIZE ? -EMSGSIZE : -EPROTO;
		}
		c->have_hdr = 1;
		c->payload_got = 0;
		/*
		 * An empty payload gets a buffer too: handlers decode and offset
		 * the payload pointer without caring whether it is empty, and
		 * NULL + 0 is undefined behaviour.
		 */
		c->payload = malloc(c->hdr.len_bytes ? c->hdr.len_bytes : 1);
		if (!c->payload)
			return -ENOMEM;
	}
	while (c->payload_got < c->hdr.len_bytes) {
		uint32_t need = c->hdr.len_bytes - c->payload_got;
		if (c->stage) {
			c->payload_got += stage_take(c, c->payload + c->payload_got, need);
			continue;
		}
		/* Large remainders go straight into the payload: no second copy. */
		ssize_t n = need >= CONN_STAGE_BYTES
				? recv_some(c, c->payload + c->payload_got, need)
				: stage_fill(c);
		if (n <= 0)
			return (int)n;
		if (need >= CONN_STAGE_BYTES)
			c->payload_got += (uint32_t)n;
	}
	*ret_hdr = c->hdr;
	*ret_payload = c->payload;
	c->payload = NULL;
	c->have_hdr = 0;
	c->hdr_got = 0;
	c->payload_got = 0;
	return 1;
}

int ava_conn_queue(struct ava_conn *c, const struct ava_wire_header *hdr, uint8_t *payload,
		   size_t len)
{
	size_t frame_bytes = AVA_WIRE_HEADER_BYTES + len;
	if (frame_bytes > c->out_cap_bytes || c->out_bytes > c->out_cap_bytes - frame_bytes) {
		free(payload);
		return -ENOBUFS;
	}
	struct ava_conn_chunk *ch = malloc(sizeof(*ch));
	if (!ch) {
		free(payload);
		return -ENOMEM;
	}
	ch->next = NULL;
	ava_wire_header_encode(hdr, ch->hdr);
	ch->payload = len ? payload : NULL;
	if (!len)
		free(payload);
	ch->len = len;
	ch->sent = 0;
	if (c->out_tail)
		c->out_tail->next = ch;
	else
		c->out_head = ch;
	c->out_tail = ch;
	c->out_bytes += frame_bytes;
	return 0;
}

int ava_conn_queue_copy(struct ava_conn *c, const struct ava_wire_header *hdr, const void *data,
			size_t len)
{
	uint8_t *copy = NULL;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	return ava_conn_queue(c, hdr, copy, len);
}

int ava_conn_flush(struct ava_conn *c)
{
	while (c->out_head) {
		struct iovec iov[2 * CONN_FLUSH_BATCH];
		int n_iov = 0;
		/* each chunk takes up to 2 entries: stop while 2 are still free */
		for (struct ava_conn_chunk *ch = c->out_head;
		     ch && n_iov + 2 <= 2 * CONN_FLUSH_BATCH; ch = ch->next) {
			if (ch->sent < AVA_WIRE_HEADER_BYTES) {
				iov[n_iov].iov_base = ch->hdr + ch->sent;
				iov[n_iov].iov_len = AVA_WIRE_HEADER_BYTES - ch->sent;
				n_iov++;
				if (ch->len) {
					iov[n_iov].iov_base = ch->payload;
					iov[n_iov].iov_len = ch->len;
					n_iov++;
				}
			} else {
				size_t off = ch->sent - AVA_WIRE_HEADER_BYTES;
				iov[n_iov].iov_base = ch->payload + off;
				iov[n_iov].iov_len = ch->len - off;
				n_iov++;
			}
		}
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n_iov };
		ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ECONNRESET)
				return -EPIPE;
			return -errno;
		}
		size_t left = (size_t)n;
		c->out_bytes -= left;
		while (left) {
			struct ava_conn_chunk *ch = c->out_head;
			size_t chunk_left = AVA_WIRE_HEADER_BYTES + ch->len - ch->sent;
			if (left < chunk_left) {
				ch->sent += left;
				break;
			}
			left -= chunk_left;
			c->out_head = ch->next;
			if (!c->out_head)
				c->out_tail = NULL;
			free(ch->payload);
			free(ch);
		}
	}
	return 0;
}
