/* SPDX-License-Identifier: MIT */
/*
 * The API server's stdout, forwarded to the guests: see output.h.
 *
 * One lock covers reading the pipe and sending what was read, so chunks
 * leave in the order they were written whichever thread (the forwarding
 * thread or a worker about to reply) drains the pipe, and a flush that
 * returns has sent everything that was in the pipe when it began.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ava/wire.h>

#include "output.h"
#include "server.h"

/* Asked of the kernel so a burst of output rarely blocks the writer; best effort. */
#define OUTPUT_PIPE_BYTES (1 << 20)

/* How long a session's device call waits for its turn (output.h) before it overlaps. */
#define OUTPUT_TURN_WAIT_MS 10000

static pthread_mutex_t g_out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_out_turn = PTHREAD_COND_INITIALIZER; /* g_out_inflight went to 0 */
static ava_transport *g_out_router;			     /* NULL: not started */
static int g_out_pipe = -1;				     /* read end; fd 1 is the write end */
static int g_out_orig = -1;				     /* the original stdout, or -1 */
static bool g_out_router_gone;
static uint8_t g_out_buf[AVA_WIRE_OUTPUT_MAX_BYTES];

/*
 * Whose output it is, all under g_out_lock. The owner is the session whose
 * device calls are the ones in flight (0: none yet); it stays the owner
 * after it closed (g_out_owner_open false: its output goes to g_out_orig)
 * until another session's device call takes the turn. g_out_turn_id counts
 * turns; a device call's token is the turn it began in. g_out_inflight: the
 * owner's device calls begun and not ended; g_out_stale: calls of earlier
 * turns not ended, which exist only after a turn was taken without waiting
 * (OUTPUT_TURN_WAIT_MS ran out): while there are any, nobody's output can be
 * told apart and it goes to g_out_orig.
 */
static uint32_t g_out_owner;
static bool g_out_owner_open;
static uint64_t g_out_turn_id = 1;
static unsigned g_out_inflight;
static unsigned g_out_stale;
static bool g_out_overlap_logged; /* once per overlap */

/* Writes all of buf to fd, as far as fd takes it. */
static void write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* nobody reads it: the output is lost, as it would be natively */
		buf += n;
		len -= (size_t)n;
	}
}

/* Sends len bytes of output to the owner. Caller holds g_out_lock. */
static void send_output_locked(const uint8_t *buf, size_t len)
{
	if (g_out_stale > 0 && !g_out_overlap_logged) {
		ava_apiserver_log("kernel output while device calls of two sessions overlap: to "
				  "this log, not to either application");
		g_out_overlap_logged = true;
	}
	if (g_out_owner == 0 || !g_out_owner_open || g_out_stale > 0) {
		if (g_out_orig >= 0)
			write_all(g_out_orig, buf, len);
		return;
	}
	if (g_out_router_gone)
		return;
	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_OUTPUT,
		.len_bytes = (uint32_t)len,
		.session = g_out_owner,
	};
	if (ava_transport_send_frame(g_out_router, &hdr, buf, len) < 0) {
		/* The router is gone; the main loop sees EOF and exits. */
		g_out_router_gone = true;
		ava_transport_shutdown(g_out_router);
	}
}

/* Reads the pipe until it is empty and sends what it held. Caller holds g_out_lock. */
static void drain_locked(void)
{
	for (;;) {
		ssize_t n = read(g_out_pipe, g_out_buf, sizeof(g_out_buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* EAGAIN: empty (the write end, fd 1, stays open) */
		send_output_locked(g_out_buf, (size_t)n);
	}
}

static void *output_thread_main(void *arg)
{
	struct pollfd p = { .fd = g_out_pipe, .events = POLLIN };
	(void)arg;
	for (;;) {
		int r = poll(&p, 1, -1);
		if (r < 0 && errno != EINTR)
			return NULL;
		if (r <= 0)
			continue;
		pthread_mutex_lock(&g_out_lock);
		drain_locked();
		pthread_mutex_unlock(&g_out_lock);
	}
}

/* A descriptor of at least 3 duplicating fd (close-on-exec), or -1. */
static int high_dup(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int ava_apiserver_output_start(ava_transport *router)
{
	int p[2], rd = -1, wr = -1, r;
	pthread_t t;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* fd 1 may have been closed, so pipe2 may have handed it out: move both ends up. */
	rd = high_dup(p[0]);
	if (rd >= 0)
		wr = high_dup(p[1]);
	r = rd < 0 || wr < 0 ? -errno : 0;
	close(p[0]);
	close(p[1]);
	if (rd < 0 || wr < 0)
		goto out;
	if (fcntl(rd, F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		goto out;
	}
	(void)fcntl(wr, F_SETPIPE_SZ, OUTPUT_PIPE_BYTES);
	g_out_orig = high_dup(STDOUT_FILENO); /* -1 when fd 1 was closed */
	fflush(stdout);
	if (dup2(wr, STDOUT_FILENO) < 0) {
		r = -errno;
		goto out;
	}
	setvbuf(stdout, NULL, _IONBF, 0); /* stdio output reaches the pipe at once */
	g_out_router = router;
	g_out_pipe = rd;
	rd = -1;
	r = -pthread_create(&t, NULL, output_thread_main, NULL);
	if (r < 0) {
		/* Nobody would read the pipe: put fd 1 back. */
		if (g_out_orig >= 0)
			(void)dup2(g_out_orig, STDOUT_FILENO);
		else
			close(STDOUT_FILENO);
		close(g_out_pipe);
		g_out_pipe = -1;
		g_out_router = NULL;
		goto out;
	}
	pthread_detach(t);
	r = 0;
out:
	if (rd >= 0)
		close(rd);
	if (wr >= 0)
		close(wr);
	if (r < 0 && g_out_orig >= 0 && !g_out_router) {
		close(g_out_orig);
		g_out_orig = -1;
	}
	return r;
}

void ava_apiserver_output_flush(void)
{
	if (!g_out_router)
		return;
	pthread_mutex_lock(&g_out_lock);
	drain_locked();
	pthread_mutex_unlock(&g_out_lock);
}

/* Adds ms milliseconds to CLOCK_REALTIME now (pthread_cond_timedwait's clock). */
static struct timespec deadline_in(unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

uint64_t ava_apiserver_output_device_begin(uint32_t session_id)
{
	if (!g_out_router)
		return 0;
	pthread_mutex_lock(&g_out_lock);
	if (g_out_owner != session_id) {
		struct timespec deadline = deadline_in(OUTPUT_TURN_WAIT_MS);
		int r = 0;
		while (g_out_inflight > 0 && g_out_owner != session_id && r != ETIMEDOUT)
			r = pthread_cond_timedwait(&g_out_turn, &g_out_lock, &deadline);
	}
	if (g_out_owner != session_id) {
		drain_locked(); /* what is there already is the previous owner's */
		if (g_out_inflight > 0) {
			ava_apiserver_log("session %u: device calls of session %u still running "
					  "after %d s; not waiting longer",
					  session_id, g_out_owner, OUTPUT_TURN_WAIT_MS / 1000);
			g_out_stale += g_out_inflight;
			g_out_inflight = 0;
		}
		g_out_owner = session_id;
		g_out_owner_open = true;
		g_out_turn_id++;
	}
	g_out_inflight++;
	uint64_t token = g_out_turn_id;
	pthread_mutex_unlock(&g_out_lock);
	return token;
}

void ava_apiserver_output_device_end(uint64_t token)
{
	if (!g_out_router || token == 0)
		return;
	pthread_mutex_lock(&g_out_lock);
	drain_locked(); /* what the call printed is in the pipe: it goes out as attributed */
	if (token == g_out_turn_id) {
		if (g_out_inflight > 0 && --g_out_inflight == 0)
			pthread_cond_broadcast(&g_out_turn);
	} else if (g_out_stale > 0 && --g_out_stale == 0) {
		g_out_overlap_logged = false;
	}
	pthread_mutex_unlock(&g_out_lock);
}

void ava_apiserver_output_session_opened(uint32_t session_id)
{
	if (!g_out_router)
		return;
	pthread_mutex_lock(&g_out_lock);
	if (g_out_owner == 0 || (!g_out_owner_open && g_out_inflight == 0)) {
		drain_locked();
		g_out_owner = session_id;
		g_out_owner_open = true;
		g_out_turn_id++;
	}
	pthread_mutex_unlock(&g_out_lock);
}

void ava_apiserver_output_session_closed(uint32_t session_id)
{
	if (!g_out_router)
		return;
	pthread_mutex_lock(&g_out_lock);
	if (g_out_owner == session_id) {
		drain_locked();
		g_out_owner_open = false; /* its device calls still count until they end */
	}
	pthread_mutex_unlock(&g_out_lock);
}
