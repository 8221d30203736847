/* SPDX-License-Identifier: MIT */
/*
 * apiserver/late.c on its own, without a router or a generated server: the
 * module's "router" is one end of a socketpair, the test reads the other,
 * and the API's events are fakes whose status the test sets. Checks what
 * late transfers promise the guest:
 *  - a transfer's DATA goes before the next REPLY of its session once its
 *    event has completed (asked at the reply, without any notice), and
 *    never before;
 *  - a session's reply sends only that session's DATA; another session's
 *    goes when its event's completion notice arrives;
 *  - an event that ended in an error sends one failure frame (the id only);
 *  - a cancelled transfer fails at once and sends nothing later;
 *  - bytes over AVA_WIRE_CHUNK_MAX_BYTES go in pieces, in order;
 *  - a rect mapping's bytes are packed from the library's layout;
 *  - each transfer's event reference is dropped once it is done, and a
 *    borrowed (mapped) buffer is never freed (ASan would see it).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ava/apiserver.h>
#include <ava/transport.h>
#include <ava/wire.h>

#include "call.h"
#include "late.h"
#include "server.h"

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

/* ---- fake events ---- */

struct fake_event {
	int status; /* what status() answers: 0 pending, 1 complete, -1 failed */
	int refs;
	void (*notify)(void);
};

static pthread_mutex_t g_ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_ev_cond = PTHREAD_COND_INITIALIZER;

static int ev_status(void *event)
{
	struct fake_event *e = event;
	pthread_mutex_lock(&g_ev_lock);
	int st = e->status;
	pthread_mutex_unlock(&g_ev_lock);
	return st;
}

static int ev_on_complete(void *event, void (*notify)(void))
{
	struct fake_event *e = event;
	pthread_mutex_lock(&g_ev_lock);
	e->notify = notify; /* the test calls it, as a library would on completion */
	pthread_mutex_unlock(&g_ev_lock);
	return 0;
}

static void ev_retain(void *event)
{
	struct fake_event *e = event;
	pthread_mutex_lock(&g_ev_lock);
	e->refs++;
	pthread_mutex_unlock(&g_ev_lock);
}

static void ev_release(void *event)
{
	struct fake_event *e = event;
	pthread_mutex_lock(&g_ev_lock);
	CHECK(e->refs > 0);
	e->refs--;
	pthread_cond_broadcast(&g_ev_cond);
	pthread_mutex_unlock(&g_ev_lock);
}

static const struct ava_apiserver_event_ops g_ev_ops = {
	.status = ev_status,
	.on_complete = ev_on_complete,
	.retain = ev_retain,
	.release = ev_release,
};

static void ev_set(struct fake_event *e, int status)
{
	pthread_mutex_lock(&g_ev_lock);
	e->status = status;
	pthread_mutex_unlock(&g_ev_lock);
}

static int ev_refs(struct fake_event *e)
{
	pthread_mutex_lock(&g_ev_lock);
	int refs = e->refs;
	pthread_mutex_unlock(&g_ev_lock);
	return refs;
}

/* Waits (no deadline: ctest's timeout catches a hang) until the late thread let e go. */
static void ev_wait_released(struct fake_event *e)
{
	pthread_mutex_lock(&g_ev_lock);
	while (e->refs > 0)
		pthread_cond_wait(&g_ev_cond, &g_ev_lock);
	pthread_mutex_unlock(&g_ev_lock);
}

/* ---- the router's end ---- */

static ava_transport *g_peer;
static uint64_t g_seq = 100;

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The next frame the server sent; *ret_payload is the caller's. */
static struct ava_wire_header next_frame(uint8_t **ret_payload)
{
	struct ava_wire_header h;
	const char *reason = NULL;
	CHECK(ava_transport_recv_frame(g_peer, AVA_WIRE_MAX_PAYLOAD_BYTES, &h, ret_payload,
				       &reason) == 0);
	return h;
}

/* Expects a DATA frame of transfer id: status, and (status OK) len bytes equal to want. */
static void expect_data(uint32_t session, uint32_t fn_id, uint64_t id, uint16_t status,
			const void *want, size_t len)
{
	uint8_t *p = NULL;
	struct ava_wire_header h = next_frame(&p);
	CHECK(h.kind == AVA_WIRE_DATA);
	CHECK(h.session == session);
	CHECK(h.call_id == fn_id);
	CHECK(h.status == status);
	CHECK(h.len_bytes == 8 + len);
	CHECK(le64(p) == id);
	CHECK(len == 0 || memcmp(p + 8, want, len) == 0);
	free(p);
}

/* Has the server answer a call of session (its late flush runs first); returns the seq. */
static uint64_t reply(uint32_t session)
{
	uint64_t seq = ++g_seq;
	ava_apiserver_call_reply(session, seq, 5, AVA_STATUS_OK, 0, "ok", 2);
	return seq;
}

static void expect_reply(uint32_t session, uint64_t seq)
{
	uint8_t *p = NULL;
	struct ava_wire_header h = next_frame(&p);
	CHECK(h.kind == AVA_WIRE_REPLY);
	CHECK(h.session == session);
	CHECK(h.seq == seq);
	CHECK(h.len_bytes == 2 && memcmp(p, "ok", 2) == 0);
	free(p);
}

/* ---- checks ---- */

static void check_data_before_reply(void)
{
	static const char bytes[] = "abc";
	struct fake_event e = { 0 };
	CHECK(ava_apiserver_late_add_mapped(1, 5, 77, (void *)bytes, 3, NULL, &e) == 0);
	CHECK(ev_refs(&e) == 1);

	uint64_t seq = reply(1); /* not complete: the reply goes alone */
	expect_reply(1, seq);

	ev_set(&e, 1); /* complete, and no notice: the reply's own question finds it */
	seq = reply(1);
	expect_data(1, 5, 77, AVA_STATUS_OK, bytes, 3);
	expect_reply(1, seq);
	ev_wait_released(&e);

	seq = reply(1); /* sent once only */
	expect_reply(1, seq);
}

static void check_other_session(void)
{
	static const char bytes[] = "xyz";
	struct fake_event e = { .status = 1 };
	CHECK(ava_apiserver_late_add_mapped(2, 6, 78, (void *)bytes, 3, NULL, &e) == 0);
	uint64_t seq = reply(1);
	expect_reply(1, seq); /* session 1's reply does not carry session 2's DATA */

	pthread_mutex_lock(&g_ev_lock);
	void (*notify)(void) = e.notify;
	pthread_mutex_unlock(&g_ev_lock);
	CHECK(notify != NULL);
	notify(); /* the completion notice: the late thread sends it */
	expect_data(2, 6, 78, AVA_STATUS_OK, bytes, 3);
	ev_wait_released(&e);
}

static void check_failed_event(void)
{
	static const char bytes[] = "fail";
	struct fake_event e = { .status = -1 };
	CHECK(ava_apiserver_late_add_mapped(1, 5, 79, (void *)bytes, 4, NULL, &e) == 0);
	uint64_t seq = reply(1);
	expect_data(1, 5, 79, AVA_STATUS_INTERNAL, NULL, 0);
	expect_reply(1, seq);
	ev_wait_released(&e);
}

static void check_cancel(void)
{
	static const char bytes[] = "gone";
	struct fake_event e = { 0 };
	CHECK(ava_apiserver_late_add_mapped(1, 7, 80, (void *)bytes, 4, NULL, &e) == 0);
	ava_apiserver_late_cancel_mapped(1, 80);
	expect_data(1, 7, 80, AVA_STATUS_INTERNAL, NULL, 0);
	ev_wait_released(&e);
	ev_set(&e, 1);
	uint64_t seq = reply(1);
	expect_reply(1, seq);			 /* nothing left to send */
	ava_apiserver_late_cancel_mapped(1, 80); /* twice: nothing happens */
	seq = reply(1);
	expect_reply(1, seq);
}

struct big_reply {
	pthread_t thread;
	uint64_t seq;
};

/* The reply of the pieces check, from another thread: the test reads meanwhile. */
static void *big_reply_main(void *arg)
{
	struct big_reply *r = arg;
	r->seq = ++g_seq;
	ava_apiserver_call_reply(1, r->seq, 5, AVA_STATUS_OK, 0, "ok", 2);
	return NULL;
}

static void check_pieces(void)
{
	const size_t len = AVA_WIRE_CHUNK_MAX_BYTES + 5;
	uint8_t *bytes = malloc(len);
	CHECK(bytes != NULL);
	for (size_t i = 0; i < len; i++)
		bytes[i] = (uint8_t)(i * 7 + 3);
	struct fake_event e = { .status = 1 };
	CHECK(ava_apiserver_late_add_mapped(1, 5, 81, bytes, len, NULL, &e) == 0);
	struct big_reply r = { 0 };
	CHECK(pthread_create(&r.thread, NULL, big_reply_main, &r) == 0);
	expect_data(1, 5, 81, AVA_STATUS_OK, bytes, AVA_WIRE_CHUNK_MAX_BYTES);
	expect_data(1, 5, 81, AVA_STATUS_OK, bytes + AVA_WIRE_CHUNK_MAX_BYTES, 5);
	CHECK(pthread_join(r.thread, NULL) == 0);
	expect_reply(1, r.seq);
	ev_wait_released(&e);
	free(bytes); /* borrowed: still ours */
}

static void check_rect(void)
{
	/* two rows of 2 bytes with a row pitch of 4, starting at byte 1 */
	static const char lib[] = "-ab--cd-";
	const struct ava_gen_rect shape = {
		.offset_bytes = 1,
		.row_bytes = 2,
		.rows = 2,
		.slices = 1,
		.row_pitch = 4,
		.slice_pitch = 8,
	};
	struct fake_event e = { .status = 1 };
	CHECK(ava_apiserver_late_add_mapped(1, 5, 82, (void *)lib, 4, &shape, &e) == 0);
	uint64_t seq = reply(1);
	expect_data(1, 5, 82, AVA_STATUS_OK, "abcd", 4);
	expect_reply(1, seq);
	ev_wait_released(&e);
}

int main(void)
{
	static const struct ava_abi_api abi = { .name = "late-test" };
	static const struct ava_apiserver_ops ops = { .events = &g_ev_ops };
	static const struct ava_apiserver_api api = { .abi = &abi, .ops = &ops };
	int fds[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
	ava_apiserver_server.api = &api;
	CHECK(ava_transport_unix_from_fd(fds[0], &ava_apiserver_server.router) == 0);
	CHECK(ava_transport_unix_from_fd(fds[1], &g_peer) == 0);

	check_data_before_reply();
	check_other_session();
	check_failed_event();
	check_cancel();
	check_pieces();
	check_rect();

	/* The late thread is detached and waits forever: the process just ends. */
	printf("late: all checks passed\n");
	return 0;
}
