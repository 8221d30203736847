/* SPDX-License-Identifier: MIT */
/*
 * hv-router/conn.c's output queue: many queued frames, flushed through a
 * small socket buffer so the head of the queue is often half sent, arrive
 * whole and in order (a half-sent head takes one iovec, so a batch must stop
 * while two are still free). Bulk DATA pieces queue exactly like this.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ava/wire.h"
#include "check.h"
#include "conn.h"

#define N_FRAMES      200
#define PAYLOAD_BYTES 1000

int main(void)
{
	int sv[2];
	struct ava_conn c;
	int small = 4096;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) == 0);
	CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	ava_conn_init(&c, sv[0], 64u << 20);
	for (unsigned i = 0; i < N_FRAMES; i++) {
		struct ava_wire_header h = {
			.magic = AVA_WIRE_MAGIC,
			.version = AVA_WIRE_VERSION,
			.kind = AVA_WIRE_DATA,
			.len_bytes = PAYLOAD_BYTES,
			.seq = i,
		};
		uint8_t *p = malloc(PAYLOAD_BYTES);
		CHECK(p != NULL);
		memset(p, (int)(i & 0xff), PAYLOAD_BYTES);
		CHECK_INT(ava_conn_queue(&c, &h, p, PAYLOAD_BYTES), 0);
	}
	size_t want = (size_t)N_FRAMES * (AVA_WIRE_HEADER_BYTES + PAYLOAD_BYTES), got = 0;
	uint8_t *in = malloc(want);
	CHECK(in != NULL);
	while (got < want) {
		CHECK(ava_conn_flush(&c) >= 0);
		/* read a little at a time, so the sender's buffer stays nearly full */
		ssize_t n =
		    recv(sv[1], in + got, want - got < 1500 ? want - got : 1500, MSG_DONTWAIT);
		if (n < 0)
			CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
		else
			got += (size_t)n;
	}
	CHECK(c.out_bytes == 0);
	for (unsigned i = 0; i < N_FRAMES; i++) {
		const uint8_t *f = in + (size_t)i * (AVA_WIRE_HEADER_BYTES + PAYLOAD_BYTES);
		struct ava_wire_header h;
		const char *reason = NULL;
		CHECK_INT(ava_wire_header_decode(f, PAYLOAD_BYTES, &h, &reason), 0);
		CHECK(h.seq == i && h.len_bytes == PAYLOAD_BYTES);
		for (unsigned k = 0; k < PAYLOAD_BYTES; k++)
			CHECK(f[AVA_WIRE_HEADER_BYTES + k] == (i & 0xff));
	}
	free(in);
	ava_conn_fini(&c);
	close(sv[1]);
	return 0;
}
