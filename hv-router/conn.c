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
	free(c->payload);
	c->payload = NULL;
	c->have_hdr = 0;
	c->hdr_got = 0;
	c->payload_got = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int ava_conn_mid_frame(const struct ava_conn *c)
{
	return c->hdr_got > 0 || c->have_hdr;
}

/* One recv: >0 bytes, 0 would block, -EPIPE EOF, negative errno. */
static ssize_t recv_some(int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = recv(fd, buf, len, 0);
		if (n > 0)
			return n;
		if (n == 0)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == ECONNRESET)
			return -EPIPE;
		return -errno;
	}
}

int ava_conn_read_frame(struct ava_conn *c, struct ava_wire_header *ret_hdr, uint8_t **ret_payload,
			const char **ret_reason)
{
	*ret_reason = NULL;
	if (!c->have_hdr) {
		while (c->hdr_got < AVA_WIRE_HEADER_BYTES) {
			ssize_t n = recv_some(c->fd, c->hdr_buf + c->hdr_got,
					      AVA_WIRE_HEADER_BYTES - c->hdr_got);
			if (n <= 0)
				return (int)n;
			c->hdr_got += (uint32_t)n;
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
		if (c->hdr.len_bytes > 0) {
			c->payload = malloc(c->hdr.len_bytes);
			if (!c->payload)
				return -ENOMEM;
		}
	}
	while (c->payload_got < c->hdr.len_bytes) {
		ssize_t n = recv_some(c->fd, c->payload + c->payload_got,
				      c->hdr.len_bytes - c->payload_got);
		if (n <= 0)
			return (int)n;
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
		for (struct ava_conn_chunk *ch = c->out_head; ch && n_iov < 2 * CONN_FLUSH_BATCH;
		     ch = ch->next) {
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
