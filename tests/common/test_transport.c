/* SPDX-License-Identifier: MIT */
/* Unix-socket transport: frames over a socketpair, limits, EOF, concurrency, connect. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ava/transport.h"
#include "check.h"

static void make_pair(ava_transport **a, ava_transport **b)
{
	int sv[2];

	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_INT(ava_transport_unix_from_fd(sv[0], a), 0);
	CHECK_INT(ava_transport_unix_from_fd(sv[1], b), 0);
	CHECK(ava_transport_fd(*a) == sv[0]);
}

static struct ava_wire_header hdr_for(uint16_t kind, uint32_t len, uint64_t seq)
{
	struct ava_wire_header h = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = kind,
		.len_bytes = len,
		.call_id = 7,
		.seq = seq,
		.thread_id = 3,
	};
	return h;
}

static void test_round_trip(void)
{
	ava_transport *a, *b;
	struct ava_wire_header h = hdr_for(AVA_WIRE_CALL, 5, 42), got;
	uint8_t *payload;
	const char *reason;

	make_pair(&a, &b);
	CHECK_INT(ava_transport_send_frame(a, &h, "hello", 5), 0);
	CHECK_INT(ava_transport_recv_frame(b, 1024, &got, &payload, &reason), 0);
	CHECK(memcmp(&h, &got, sizeof(h)) == 0);
	CHECK(payload && memcmp(payload, "hello", 5) == 0);
	free(payload);

	/*
	 * Empty payload: still a buffer (issue 10: receivers offset the payload
	 * pointer, and NULL + 0 is undefined behaviour), freed by the caller.
	 */
	h = hdr_for(AVA_WIRE_SESSION_CLOSE, 0, 43);
	CHECK_INT(ava_transport_send_frame(b, &h, NULL, 0), 0);
	CHECK_INT(ava_transport_recv_frame(a, 1024, &got, &payload, &reason), 0);
	CHECK(payload != NULL);
	free(payload);
	CHECK_INT(got.seq, 43);

	/* len_bytes must match the payload given. */
	h = hdr_for(AVA_WIRE_CALL, 4, 44);
	CHECK_INT(ava_transport_send_frame(a, &h, "hello", 5), -EINVAL);
	h.len_bytes = 1;
	CHECK_INT(ava_transport_send_frame(a, &h, NULL, 1), -EINVAL);

	ava_transport_free(a);
	ava_transport_free(b);
	ava_transport_free(NULL);
}

/* Writes raw bytes to a socket: how a misbehaving peer sends. */
static void raw_send(int fd, const void *p, size_t n)
{
	CHECK_INT(write(fd, p, n), (long long)n);
}

static void test_oversize_and_bad_header(void)
{
	ava_transport *b;
	struct ava_wire_header h = hdr_for(AVA_WIRE_CALL, 4096, 1), got;
	uint8_t raw[AVA_WIRE_HEADER_BYTES], *payload = (uint8_t *)1;
	const char *reason = NULL;
	int sv[2];

	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_INT(ava_transport_unix_from_fd(sv[1], &b), 0);

	/* Length above the receiver's cap: refused from the header alone, nothing allocated. */
	ava_wire_header_encode(&h, raw);
	raw_send(sv[0], raw, sizeof(raw));
	CHECK_INT(ava_transport_recv_frame(b, 4095, &got, &payload, &reason), -EMSGSIZE);
	CHECK(payload == NULL);
	CHECK_HAS(reason, "length");

	/* A header with bad magic. */
	h = hdr_for(AVA_WIRE_CALL, 0, 2);
	h.magic = 0x12345678;
	ava_wire_header_encode(&h, raw);
	raw_send(sv[0], raw, sizeof(raw));
	reason = NULL;
	CHECK_INT(ava_transport_recv_frame(b, 4096, &got, &payload, &reason), -EPROTO);
	CHECK_HAS(reason, "magic");

	/* The sender's side refuses nothing: the receiver's cap is what counts. */
	ava_transport_free(b);
	close(sv[0]);
}

static void test_eof(void)
{
	ava_transport *b;
	struct ava_wire_header h = hdr_for(AVA_WIRE_REPLY, 100, 1), got;
	uint8_t raw[AVA_WIRE_HEADER_BYTES], *payload;
	const char *reason;
	int sv[2];

	/* Orderly EOF before any byte. */
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_INT(ava_transport_unix_from_fd(sv[1], &b), 0);
	close(sv[0]);
	CHECK_INT(ava_transport_recv_frame(b, 4096, &got, &payload, &reason), -EPIPE);
	ava_transport_free(b);

	/* EOF inside the header. */
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_INT(ava_transport_unix_from_fd(sv[1], &b), 0);
	ava_wire_header_encode(&h, raw);
	raw_send(sv[0], raw, 10);
	close(sv[0]);
	CHECK_INT(ava_transport_recv_frame(b, 4096, &got, &payload, &reason), -EPIPE);
	ava_transport_free(b);

	/* EOF inside the payload: no leak, no frame. */
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_INT(ava_transport_unix_from_fd(sv[1], &b), 0);
	raw_send(sv[0], raw, sizeof(raw));
	raw_send(sv[0], "abc", 3);
	close(sv[0]);
	payload = (uint8_t *)1;
	CHECK_INT(ava_transport_recv_frame(b, 4096, &got, &payload, &reason), -EPIPE);
	CHECK(payload == NULL);

	/* Sending to a closed peer: -EPIPE, and no SIGPIPE kills us. */
	CHECK_INT(ava_transport_send_frame(b, &h, NULL, 0), -EINVAL); /* len_bytes 100 */
	h.len_bytes = 0;
	{
		int r = 0;

		for (int i = 0; i < 4 && r == 0; i++)
			r = ava_transport_send_frame(b, &h, NULL, 0);
		CHECK_INT(r, -EPIPE);
	}
	ava_transport_free(b);
}

/* Large frames force partial writes; a reader thread drains them concurrently. */
enum { BIG = 3 * 1024 * 1024 + 17 };

struct reader {
	ava_transport *t;
	int n_frames;
	const char *err;
};

static void *big_reader(void *arg)
{
	struct reader *r = arg;

	for (int f = 0; f < r->n_frames; f++) {
		struct ava_wire_header h;
		uint8_t *p;
		const char *reason;

		if (ava_transport_recv_frame(r->t, AVA_WIRE_MAX_PAYLOAD_BYTES, &h, &p, &reason)) {
			r->err = "recv failed";
			return NULL;
		}
		if (h.len_bytes != BIG || h.seq != (uint64_t)f) {
			r->err = "wrong header";
			free(p);
			return NULL;
		}
		for (size_t i = 0; i < BIG; i++) {
			if (p[i] != (uint8_t)(i * 31 + (size_t)f)) {
				r->err = "wrong payload byte";
				break;
			}
		}
		free(p);
		if (r->err)
			return NULL;
	}
	return NULL;
}

static void test_big(void)
{
	ava_transport *a, *b;
	struct reader rd;
	pthread_t th;
	uint8_t *buf = malloc(BIG);

	CHECK(buf);
	make_pair(&a, &b);
	rd = (struct reader){ b, 3, NULL };
	CHECK_INT(pthread_create(&th, NULL, big_reader, &rd), 0);
	for (int f = 0; f < 3; f++) {
		struct ava_wire_header h = hdr_for(AVA_WIRE_CALL, BIG, (uint64_t)f);

		for (size_t i = 0; i < BIG; i++)
			buf[i] = (uint8_t)(i * 31 + (size_t)f);
		CHECK_INT(ava_transport_send_frame(a, &h, buf, BIG), 0);
	}
	CHECK_INT(pthread_join(th, NULL), 0);
	if (rd.err)
		fprintf(stderr, "reader: %s\n", rd.err);
	CHECK(rd.err == NULL);
	free(buf);
	ava_transport_free(a);
	ava_transport_free(b);
}

/* Concurrent senders: each frame arrives whole, never interleaved with another. */
enum { SENDERS = 6, PER_SENDER = 200, CSIZE = 70000 };

struct sender {
	ava_transport *t;
	int id;
	int rc;
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	uint8_t *buf = malloc(CSIZE);

	if (!buf) {
		s->rc = -ENOMEM;
		return NULL;
	}
	memset(buf, 'A' + s->id, CSIZE);
	for (int i = 0; i < PER_SENDER && s->rc == 0; i++) {
		struct ava_wire_header h = hdr_for(AVA_WIRE_CALL, CSIZE, (uint64_t)s->id);

		h.thread_id = (uint32_t)i;
		s->rc = ava_transport_send_frame(s->t, &h, buf, CSIZE);
	}
	free(buf);
	return NULL;
}

static void test_concurrent_senders(void)
{
	ava_transport *a, *b;
	struct sender s[SENDERS];
	pthread_t th[SENDERS];
	int next[SENDERS] = { 0 };

	make_pair(&a, &b);
	for (int i = 0; i < SENDERS; i++) {
		s[i] = (struct sender){ a, i, 0 };
		CHECK_INT(pthread_create(&th[i], NULL, sender_main, &s[i]), 0);
	}
	for (int n = 0; n < SENDERS * PER_SENDER; n++) {
		struct ava_wire_header h;
		uint8_t *p;
		const char *reason;

		CHECK_INT(ava_transport_recv_frame(b, CSIZE, &h, &p, &reason), 0);
		CHECK(h.seq < SENDERS);
		CHECK_INT(h.thread_id, next[h.seq]++); /* per-sender order kept */
		for (size_t i = 0; i < CSIZE; i++)
			CHECK(p[i] == 'A' + h.seq);
		free(p);
	}
	for (int i = 0; i < SENDERS; i++) {
		CHECK_INT(pthread_join(th[i], NULL), 0);
		CHECK_INT(s[i].rc, 0);
	}
	ava_transport_free(a);
	ava_transport_free(b);
}

static void *blocked_reader(void *arg)
{
	struct reader *r = arg;
	struct ava_wire_header h;
	uint8_t *p;
	const char *reason;

	r->n_frames = ava_transport_recv_frame(r->t, 1024, &h, &p, &reason);
	return NULL;
}

static void test_shutdown_wakes_reader(void)
{
	ava_transport *a, *b;
	struct reader rd;
	pthread_t th;

	make_pair(&a, &b);
	rd = (struct reader){ b, 1, NULL };
	CHECK_INT(pthread_create(&th, NULL, blocked_reader, &rd), 0);
	usleep(50 * 1000);
	ava_transport_shutdown(b);
	CHECK_INT(pthread_join(th, NULL), 0);
	CHECK_INT(rd.n_frames, -EPIPE);
	ava_transport_shutdown(NULL);
	ava_transport_free(a);
	ava_transport_free(b);
}

static void test_connect(void)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	ava_transport *c, *s;
	struct ava_wire_header h = hdr_for(AVA_WIRE_HELLO, 2, 9), got;
	uint8_t *payload;
	const char *reason;
	int lfd, afd;

	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	CHECK_INT(ava_transport_unix_connect(path, &c), -ENAMETOOLONG);
	path[sizeof(addr.sun_path)] = '\0'; /* exactly sun_path bytes: no room for the NUL */
	CHECK_INT(ava_transport_unix_connect(path, &c), -ENAMETOOLONG);
	CHECK_INT(ava_transport_unix_connect("", &c), -EINVAL);
	CHECK_INT(ava_transport_unix_connect("/nonexistent/ava-test.sock", &c), -ENOENT);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "/tmp/ava-test-transport-%d.sock",
		 (int)getpid());
	unlink(addr.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(lfd >= 0);
	CHECK_INT(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	CHECK_INT(listen(lfd, 1), 0);
	CHECK_INT(ava_transport_unix_connect(addr.sun_path, &c), 0);
	afd = accept(lfd, NULL, NULL);
	CHECK(afd >= 0);
	CHECK_INT(ava_transport_unix_from_fd(afd, &s), 0);
	CHECK_INT(ava_transport_send_frame(c, &h, "ok", 2), 0);
	CHECK_INT(ava_transport_recv_frame(s, 1024, &got, &payload, &reason), 0);
	CHECK(memcmp(payload, "ok", 2) == 0);
	free(payload);
	ava_transport_free(c);
	ava_transport_free(s);
	close(lfd);
	unlink(addr.sun_path);

	CHECK_INT(ava_transport_unix_from_fd(-1, &c), -EBADF);
	CHECK_INT(ava_transport_fd(NULL), -1);
}

int main(void)
{
	/* The transport itself must never raise SIGPIPE; leave the default action armed. */
	signal(SIGPIPE, SIG_DFL);
	test_round_trip();
	test_oversize_and_bad_header();
	test_eof();
	test_big();
	test_concurrent_senders();
	test_shutdown_wakes_reader();
	test_connect();
	printf("test_transport: ok\n");
	return 0;
}
