/* SPDX-License-Identifier: MIT */
/*
 * The API server runtime: executes one tenant's calls on the real library.
 *
 * The router starts one server per tenant per API and multiplexes that
 * tenant's guest connections over one socket as sessions. Each session has
 * its own handle table, so a guest can only name objects its own session
 * created. Each guest thread gets a worker thread here, so a call that blocks
 * (a wait on an event another guest thread will signal) stalls only its own
 * guest thread, and calls from one guest thread keep their order (which is
 * what makes asynchronous calls safe).
 *
 * The main thread only reads frames and hands them out: CALLs to workers,
 * CALLBACK_REPLYs to the trampoline waiting for them, session open/close.
 *
 * Order of work for a call (docs/wire-protocol.md): validate the payload
 * against the ABI, re-run the spec's plan on the decoded scalars and check
 * every buffer count against it, translate handles (unknown ones answer
 * BAD_HANDLE), run, translate results back, reply.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ava/apiserver.h>
#include <ava/handle.h>
#include <ava/transport.h>

#include "hooks.h"
#include "output.h"

#define MAX_WORKERS_PER_SESSION		 256
#define MAX_HANDLES_PER_SESSION		 (1u << 20)
#define MAX_CALLBACK_RECORDS_PER_SESSION 65536
#define CB_RECORD_MAGIC			 0x41564143u
/*
 * Most bytes of streamed CALL arguments being reassembled at once, for all
 * sessions of this server (so per tenant and API); docs/router.md, Limits.
 */
#define AVA_APISERVER_STREAM_CAP_BYTES (4ull << 30)

struct frame {
	struct frame *next;
	struct ava_wire_header hdr;
	uint8_t *payload;
	uint8_t *bulk; /* a streamed argument's bytes (AVA_WIRE_F_STREAM), or NULL */
};

struct session;

struct worker {
	struct worker *next;
	struct session *s;
	uint32_t thread_id;
	pthread_t thread;
	struct frame *head, *tail;
	bool busy; /* running a call (under g_lock) */
	pthread_cond_t cond;
};

/* A worker with nothing to do for this long ends (guest threads come and go). */
#define WORKER_IDLE_SECONDS 2

/*
 * What the real library gets as user_data when a guest passes a callback:
 * enough to find the guest's function and user_data again. Records are never
 * freed while the process lives (the library may call back at any time); a
 * session reuses its record for the same (function, user_data) pair and has
 * a cap on how many it may create.
 */
struct cb_record {
	uint32_t magic;
	uint32_t session_id;
	uint32_t callback_id;
	uint64_t guest_fn;
	uint64_t guest_userdata;
	struct cb_record *next; /* in g_cb_records */
};

/*
 * An open mapping (a call whose result is an AVA_ABI_MAP): the library's
 * pointer stays here; the guest knows only the id. The handles the map call
 * named are retained, so that a mapping left open at the session's end can
 * still be unmapped before its objects are released.
 */
struct mapping {
	struct mapping *next;
	uint64_t id;
	void *ptr;
	uint64_t len_bytes;
	bool writable;
	bool busy;	      /* an unmap of it is running */
	uint64_t transfer_id; /* a readable mapping's DATA not yet sent, else 0 */
	/*
	 * A rect mapping (AVA_ABI_V_RECT result): the wire's bytes are packed,
	 * the library's lie at ptr as shape says. broken: the library reported
	 * no usable layout, so its memory is neither read nor written.
	 */
	bool rect, broken;
	struct ava_gen_rect shape;
	uint16_t n_objs;
	void *objs[AVA_ABI_MAX_ARGS];
	uint16_t types[AVA_ABI_MAX_ARGS];
};

struct session {
	struct session *next;
	struct mapping *maps; /* under g_lock */
	uint64_t next_map_id;
	uint32_t id;
	unsigned refs; /* list membership + running workers + callbacks in flight */
	bool closing;
	ava_handle_table *handles;
	struct worker *workers;
	unsigned n_workers;
	unsigned n_cb_records;
	bool deferred_pending;
	uint32_t deferred_fn;
	uint8_t deferred_value[AVA_ABI_MAX_SCALAR_BYTES];
};

/* A trampoline waiting for the guest to finish a callback. */
struct cb_waiter {
	struct cb_waiter *next;
	uint64_t seq;
	uint32_t session_id;
	bool done;
	uint16_t status;
	uint8_t *payload;
	uint32_t len;
	pthread_cond_t cond;
};

static const struct ava_apiserver_api *g_api;
static ava_transport *g_router;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session *g_sessions;
static struct cb_waiter *g_cb_waiters;
static struct cb_record *g_cb_records; /* all sessions'; see struct cb_record */
static bool g_router_gone;
static atomic_uint_fast64_t g_next_cb_seq = 1;
static const char *g_tenant = "?";

__attribute__((format(printf, 1, 2))) static void logmsg(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ava-server-%s[%d] tenant %s: %s\n", g_api->abi->name, (int)getpid(),
		g_tenant, line);
}

/* ---- sessions ---- */

static struct session *session_find_locked(uint32_t id)
{
	for (struct session *s = g_sessions; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

/* Drops the references the guest still held; borrowed objects (refs 0) are not ours. */
static void release_object(uint16_t type, void *ptr, uint32_t refs, void *ctx)
{
	unsigned *n_released = ctx;
	if (refs == 0 || type > g_api->abi->n_handle_types || !g_api->release ||
	    !g_api->release[type])
		return;
	for (uint32_t k = 0; k < refs; k++)
		g_api->release[type](ptr);
	(*n_released)++;
}

static void mapping_leftover(struct session *s, struct mapping *m);

/* Drops a reference; the last one releases every object the session still holds. */
static void session_unref(struct session *s)
{
	pthread_mutex_lock(&g_lock);
	bool last = --s->refs == 0;
	if (last) {
		struct session **pp = &g_sessions;
		while (*pp && *pp != s)
			pp = &(*pp)->next;
		if (*pp)
			*pp = s->next;
	}
	pthread_mutex_unlock(&g_lock);
	if (!last)
		return;
	/* before the objects its state may need go */
	ava_apiserver_hooks_session_end(g_api, s->id);
	unsigned n = 0;
	while (s->maps) {
		struct mapping *m = s->maps;
		s->maps = m->next;
		mapping_leftover(s, m);
		n++;
	}
	ava_handle_table_drain(s->handles, release_object, &n);
	ava_handle_table_free(s->handles);
	if (n)
		logmsg("session %u closed; released %u objects it still held", s->id, n);
	/* Callback records stay: the library may still hold them as user_data. */
	free(s);
}

static int session_open(uint32_t id)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = id;
	s->refs = 1;
	int r = ava_handle_table_new((uint8_t)(id & 0xffu), MAX_HANDLES_PER_SESSION, &s->handles);
	if (r < 0) {
		free(s);
		return r;
	}
	pthread_mutex_lock(&g_lock);
	if (session_find_locked(id)) {
		pthread_mutex_unlock(&g_lock);
		ava_handle_table_free(s->handles);
		free(s);
		return -EEXIST;
	}
	s->next = g_sessions;
	g_sessions = s;
	pthread_mutex_unlock(&g_lock);
	ava_apiserver_output_session_opened(id);
	return 0;
}

/* Wakes trampolines waiting on a session (or all, if id is 0). Caller holds g_lock. */
static void wake_cb_waiters_locked(uint32_t session_id)
{
	for (struct cb_waiter **pp = &g_cb_waiters; *pp;) {
		struct cb_waiter *w = *pp;
		if (session_id == 0 || w->session_id == session_id) {
			*pp = w->next;
			w->done = true;
			w->status = AVA_STATUS_SERVER_GONE;
			pthread_cond_signal(&w->cond);
		} else {
			pp = &w->next;
		}
	}
}

static void session_close(uint32_t id)
{
	pthread_mutex_lock(&g_lock);
	struct session *s = session_find_locked(id);
	if (!s || s->closing) {
		pthread_mutex_unlock(&g_lock);
		return;
	}
	s->closing = true;
	for (struct worker *w = s->workers; w; w = w->next)
		pthread_cond_signal(&w->cond);
	wake_cb_waiters_locked(id);
	pthread_mutex_unlock(&g_lock);
	ava_apiserver_output_session_closed(id);
	session_unref(s);
}

/* ---- replies ---- */

static void late_flush(uint32_t session_id);

/* Sends a REPLY, after the DATA of every late read of the session that completed. */
static void send_reply(uint32_t session_id, uint64_t seq, uint32_t call_id, uint16_t status,
		       uint16_t flags, const void *payload, size_t len)
{
	ava_apiserver_output_flush(); /* OUTPUT written before the call returned */
	if (ava_apiserver_hooks_events(g_api))
		late_flush(session_id);
	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_REPLY,
		.len_bytes = (uint32_t)len,
		.call_id = call_id,
		.seq = seq,
		.flags = flags,
		.status = status,
		.session = session_id,
	};
	if (ava_transport_send_frame(g_router, &hdr, payload, len) < 0) {
		/* The router is gone; the main loop sees EOF and exits. */
		ava_transport_shutdown(g_router);
	}
}

/* ---- device time ---- */

/*
 * Every CALL of a device_time function that reaches the server is answered
 * by one USAGE frame, after its REPLY (if any): the router frees a device
 * slot on it. The device time is measured here, on one completion thread
 * per server, so a wait for the device (clFinish) never holds up the guest
 * thread's next call: the worker replies, hands the call's record to the
 * completion thread and goes on. The completion thread runs the spec's
 * ava_device_time_until function on an object the worker retained for it,
 * releases the object, and reports end - max(start, end of the previous
 * completion): busy time that does not overlap, so a tenant is never charged
 * twice for the same nanoseconds. A call that did not run or failed reports
 * 0 ns. The records hold no session, so closing a session never waits for
 * the device; at exit the thread releases what is queued without waiting.
 */
struct completion {
	struct completion *next;
	uint32_t session_id;
	uint32_t call_id;
	uint64_t seq;
	uint64_t start_ns, end_ns; /* around the call itself */
	bool ok;		   /* the call ran and succeeded */
	void *obj;		   /* retained object to wait on, or NULL */
	uint16_t type;		   /* its handle type */
	ava_apiserver_release_fn wait;
};

/* How long exit waits for a device wait in progress before leaving it. */
#define COMPLETION_EXIT_GRACE_SECONDS 2

static pthread_mutex_t g_done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_done_cond = PTHREAD_COND_INITIALIZER;
static struct completion *g_done_head, *g_done_tail;
static bool g_done_stop;
static bool g_done_running;
static pthread_t g_done_thread;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void send_usage(uint32_t session_id, uint32_t call_id, uint64_t seq, uint64_t device_ns)
{
	uint8_t payload[8];
	for (int i = 0; i < 8; i++)
		payload[i] = (uint8_t)(device_ns >> (8 * i));
	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_USAGE,
		.len_bytes = sizeof(payload),
		.call_id = call_id,
		.seq = seq,
		.session = session_id,
	};
	if (ava_transport_send_frame(g_router, &hdr, payload, sizeof(payload)) < 0)
		ava_transport_shutdown(g_router);
}

static bool is_device_time(uint32_t call_id)
{
	return call_id < g_api->abi->n_fns &&
	       (g_api->abi->fns[call_id].flags & AVA_ABI_FN_DEVICE_TIME);
}

static void release_retained(void *obj, uint16_t type)
{
	if (obj)
		g_api->release[type](obj);
}

static void *completion_main(void *arg)
{
	uint64_t prev_end = 0;
	(void)arg;
	pthread_mutex_lock(&g_done_lock);
	for (;;) {
		while (!g_done_head && !g_done_stop)
			pthread_cond_wait(&g_done_cond, &g_done_lock);
		struct completion *c = g_done_head;
		if (!c)
			break; /* stopping and drained */
		g_done_head = c->next;
		if (!g_done_head)
			g_done_tail = NULL;
		const bool stopping = g_done_stop;
		pthread_mutex_unlock(&g_done_lock);

		uint64_t end = c->end_ns, ns = 0;
		if (c->obj && c->ok && !stopping) {
			c->wait(c->obj);
			end = now_ns();
		}
		release_retained(c->obj, c->type);
		if (c->ok) {
			uint64_t from = c->start_ns > prev_end ? c->start_ns : prev_end;
			ns = end > from ? end - from : 0;
			if (end > prev_end)
				prev_end = end;
		}
		if (!stopping)
			send_usage(c->session_id, c->call_id, c->seq, ns);
		free(c);
		pthread_mutex_lock(&g_done_lock);
	}
	pthread_mutex_unlock(&g_done_lock);
	return NULL;
}

/* Hands a finished device_time call to the completion thread (takes c). */
static void completion_queue(struct completion *c)
{
	pthread_mutex_lock(&g_done_lock);
	if (!g_done_running || g_done_stop) {
		pthread_mutex_unlock(&g_done_lock);
		release_retained(c->obj, c->type);
		free(c);
		return;
	}
	if (g_done_tail)
		g_done_tail->next = c;
	else
		g_done_head = c;
	g_done_tail = c;
	pthread_cond_signal(&g_done_cond);
	pthread_mutex_unlock(&g_done_lock);
}

/* Starts the completion thread if some function measures device time. */
static int completion_start(void)
{
	bool any = false;
	for (uint32_t i = 0; i < g_api->abi->n_fns; i++)
		any = any || is_device_time(i);
	if (!any)
		return 0;
	int r = pthread_create(&g_done_thread, NULL, completion_main, NULL);
	if (r != 0)
		return -r;
	g_done_running = true;
	return 0;
}

/*
 * At exit: queued records are released without waiting; a wait already
 * running gets a grace period (device work a guest left blocked, such as a
 * queue waiting on a user event nobody sets, may never finish).
 */
static void completion_stop(void)
{
	pthread_mutex_lock(&g_done_lock);
	bool running = g_done_running;
	g_done_stop = true;
	pthread_cond_broadcast(&g_done_cond);
	pthread_mutex_unlock(&g_done_lock);
	if (!running)
		return;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += COMPLETION_EXIT_GRACE_SECONDS;
	if (pthread_timedjoin_np(g_done_thread, NULL, &deadline) != 0)
		logmsg("a device wait is still running at exit; leaving it");
}

/* ---- late buffers ---- */

/*
 * A late buffer (AVA_ABI_V_LATE) the library may still use: the server's
 * copy of a non-blocking write's source, or a non-blocking read's
 * destination whose bytes go to the guest in one DATA frame once the call's
 * event completes. Each holds its own reference on the event.
 *
 * The guarantee: a DATA frame is on the wire before any later frame of the
 * session that could let the application see the completion. So every
 * REPLY and CALLBACK first runs late_flush(), which asks each pending
 * event's status (a completion notice alone could race the reply) and sends
 * the DATA of those complete, all under g_late_lock, so a flush in another
 * thread that took an entry has sent its DATA before this reply goes. Events
 * are released and buffers freed on the late thread, never inside a
 * library callback.
 */
struct late {
	struct late *next;
	uint32_t session_id;
	uint32_t fn_id;
	uint64_t transfer_id; /* 0: an input kept alive, nothing to send */
	void *event;
	void *buf;
	size_t len_bytes;
	bool borrowed; /* buf is the library's (a mapping): not freed here */
	bool rect;     /* a rect mapping: buf laid out as shape, packed when sent */
	struct ava_gen_rect shape;
};

static pthread_mutex_t g_late_lock = PTHREAD_MUTEX_INITIALIZER; /* g_late; held while sending */
static struct late *g_late;
static pthread_mutex_t g_late_wake_lock = PTHREAD_MUTEX_INITIALIZER; /* the rest */
static pthread_cond_t g_late_cond = PTHREAD_COND_INITIALIZER;
static struct late *g_late_done; /* finished: release and free on the late thread */
static bool g_late_kicked, g_late_thread_started;

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Sends the DATA of a late out buffer: its bytes in pieces of at most
 * AVA_WIRE_CHUNK_MAX_BYTES, each frame the transfer id and the next piece
 * (one frame with just the id for 0 bytes), or (ok false) one frame with
 * just the id and a failure status. A failure is only ever sent before any
 * piece, so the guest's buffer is either filled or left as it was.
 */
static void send_data(uint32_t session_id, uint32_t fn_id, uint64_t transfer_id, bool ok,
		      const void *buf, size_t len_bytes)
{
	size_t piece = len_bytes < AVA_WIRE_CHUNK_MAX_BYTES ? len_bytes : AVA_WIRE_CHUNK_MAX_BYTES;
	uint8_t id_only[8];
	uint8_t *frame = ok && len_bytes ? malloc(8 + piece) : id_only;
	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_DATA,
		.len_bytes = 8,
		.call_id = fn_id,
		.status = ok ? AVA_STATUS_OK : AVA_STATUS_INTERNAL,
		.session = session_id,
	};
	if (!frame) { /* no memory for the bytes: the transfer fails, the id still goes */
		frame = id_only;
		hdr.status = AVA_STATUS_NO_MEMORY;
	}
	put_le64(frame, transfer_id);
	if (frame == id_only) {
		if (ava_transport_send_frame(g_router, &hdr, frame, 8) < 0)
			ava_transport_shutdown(g_router);
		return;
	}
	for (size_t off = 0; off < len_bytes;) {
		size_t n = len_bytes - off < piece ? len_bytes - off : piece;
		memcpy(frame + 8, (const uint8_t *)buf + off, n);
		hdr.len_bytes = (uint32_t)(8 + n);
		if (ava_transport_send_frame(g_router, &hdr, frame, 8 + n) < 0) {
			ava_transport_shutdown(g_router);
			break;
		}
		off += n;
	}
	free(frame);
}

static void late_kick(void)
{
	pthread_mutex_lock(&g_late_wake_lock);
	g_late_kicked = true;
	pthread_cond_signal(&g_late_cond);
	pthread_mutex_unlock(&g_late_wake_lock);
}

/*
 * Sends the DATA of every late buffer of session_id (0: of all sessions)
 * whose event has completed, and hands those entries to the late thread.
 */
static void late_flush(uint32_t session_id)
{
	struct late *done = NULL;
	pthread_mutex_lock(&g_late_lock);
	for (struct late **pp = &g_late; *pp;) {
		struct late *l = *pp;
		int st;
		if ((session_id && l->session_id != session_id) ||
		    (st = ava_apiserver_hooks_events(g_api)->status(l->event)) == 0) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		if (l->transfer_id && l->rect && st > 0) {
			void *packed = malloc(l->len_bytes ? l->len_bytes : 1);
			if (packed)
				ava_gen_rect_pack(&l->shape, l->buf, packed);
			send_data(l->session_id, l->fn_id, l->transfer_id, packed != NULL, packed,
				  l->len_bytes);
			free(packed);
		} else if (l->transfer_id) {
			send_data(l->session_id, l->fn_id, l->transfer_id, st > 0, l->buf,
				  l->len_bytes);
		}
		l->next = done;
		done = l;
	}
	pthread_mutex_unlock(&g_late_lock);
	if (!done)
		return;
	pthread_mutex_lock(&g_late_wake_lock);
	while (done) {
		struct late *l = done;
		done = l->next;
		l->next = g_late_done;
		g_late_done = l;
	}
	g_late_kicked = true;
	pthread_cond_signal(&g_late_cond);
	pthread_mutex_unlock(&g_late_wake_lock);
}

static void *late_thread_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&g_late_wake_lock);
		while (!g_late_kicked)
			pthread_cond_wait(&g_late_cond, &g_late_wake_lock);
		g_late_kicked = false;
		pthread_mutex_unlock(&g_late_wake_lock);

		late_flush(0);

		pthread_mutex_lock(&g_late_wake_lock);
		struct late *done = g_late_done;
		g_late_done = NULL;
		pthread_mutex_unlock(&g_late_wake_lock);
		while (done) {
			struct late *l = done;
			done = l->next;
			ava_apiserver_hooks_events(g_api)->release(l->event);
			if (!l->borrowed)
				free(l->buf);
			free(l);
		}
	}
	return NULL;
}

/* Takes the late buffers of a call that succeeded; each waits for event. Returns 0 or < 0. */
static int late_add(struct session *s, const struct ava_abi_fn *fn,
		    const struct ava_abi_view *views, void **bufs, void *event)
{
	pthread_mutex_lock(&g_late_wake_lock);
	if (!g_late_thread_started) {
		pthread_t t;
		if (pthread_create(&t, NULL, late_thread_main, NULL) != 0) {
			pthread_mutex_unlock(&g_late_wake_lock);
			return -EAGAIN;
		}
		pthread_detach(t);
		g_late_thread_started = true;
	}
	pthread_mutex_unlock(&g_late_wake_lock);

	struct late *added = NULL;
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (!bufs[i])
			continue;
		struct late *l = calloc(1, sizeof(*l));
		if (!l) {
			while (added) { /* nothing handed over yet: the caller frees the buffers */
				struct late *n = added->next;
				ava_apiserver_hooks_events(g_api)->release(added->event);
				free(added);
				added = n;
			}
			return -ENOMEM;
		}
		l->session_id = s->id;
		l->fn_id = fn->id;
		l->transfer_id = v->dir == AVA_ABI_DIR_OUT ? views[i].u64 : 0;
		l->event = event;
		l->buf = bufs[i];
		l->len_bytes = (size_t)views[i].count * v->size_bytes;
		ava_apiserver_hooks_events(g_api)->retain(event);
		l->next = added;
		added = l;
	}
	pthread_mutex_lock(&g_late_lock);
	while (added) {
		struct late *n = added->next;
		added->next = g_late;
		g_late = added;
		added = n;
	}
	pthread_mutex_unlock(&g_late_lock);
	for (unsigned i = 0; i < fn->n_args; i++)
		bufs[i] = NULL; /* handed over */
	if (ava_apiserver_hooks_events(g_api)->on_complete(event, late_kick) < 0)
		late_kick(); /* no notice: the next flush still finds it */
	return 0;
}

/* ---- rects ---- */

union slot {
	uint8_t b[AVA_ABI_MAX_SCALAR_BYTES];
	void *p;
	long double ld;
};

/*
 * The rect arguments (AVA_ABI_V_RECT) of a decoded call, whose buffers
 * hold what the guest sent: the packed size is the API's shape of the
 * arguments, never the guest's word, so the library, handed the packed
 * buffer with the arguments rewritten to say so (ops->pack), stays inside
 * it. An empty rect (a region with a 0) touches no byte: the library gets
 * the arguments as they are, and a valid pointer. Where the arguments
 * describe no rect (a NULL region, bad pitches) the guest sends nothing and
 * the library gets a NULL pointer (and what ops->refuse rewrites): it
 * answers the call itself. Shapes are all taken before any rewriting, which
 * may change what another reads.
 */
static uint16_t rects_prepare(struct session *s, const struct ava_abi_fn *fn,
			      const struct ava_abi_view *views, void *const *argv,
			      union slot *slots)
{
	const struct ava_gen_rect_ops *ops = ava_apiserver_hooks_rect(g_api);
	bool ok[AVA_ABI_MAX_ARGS] = { false };
	for (unsigned i = 0; i < fn->n_args; i++) {
		struct ava_gen_rect r;
		uint64_t bytes = 0;
		if (!(fn->args[i].flags & AVA_ABI_V_RECT) || !views[i].present)
			continue;
		ok[i] =
		    ops && ops->shape(fn, i, argv, &r) == 0 && ava_gen_rect_bytes(&r, &bytes) == 0;
		if (views[i].count != bytes) {
			logmsg("session %u: %s: argument %u has %llu bytes, its rect %llu", s->id,
			       fn->name, i, (unsigned long long)views[i].count,
			       (unsigned long long)bytes);
			return AVA_STATUS_MALFORMED;
		}
	}
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (!(fn->args[i].flags & AVA_ABI_V_RECT) || !views[i].present)
			continue;
		if (ok[i]) {
			/* an empty rect: the library touches no byte, and sees its arguments */
			if (views[i].count)
				ops->pack(fn, i, argv);
			continue;
		}
		slots[i].p = NULL; /* its buffer is still freed as usual */
		if (ops && ops->refuse)
			ops->refuse(fn, i, argv);
	}
	return AVA_STATUS_OK;
}

/* ---- mappings ---- */

/* A readable mapping's bytes go to the guest from the library's own pointer once ev completes. */
static int map_late_add(struct session *s, uint32_t fn_id, uint64_t transfer_id, void *ptr,
			size_t len_bytes, const struct ava_gen_rect *rect, void *event)
{
	struct late *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	pthread_mutex_lock(&g_late_wake_lock);
	if (!g_late_thread_started) {
		pthread_t t;
		if (pthread_create(&t, NULL, late_thread_main, NULL) != 0) {
			pthread_mutex_unlock(&g_late_wake_lock);
			free(l);
			return -EAGAIN;
		}
		pthread_detach(t);
		g_late_thread_started = true;
	}
	pthread_mutex_unlock(&g_late_wake_lock);
	l->session_id = s->id;
	l->fn_id = fn_id;
	l->transfer_id = transfer_id;
	l->event = event;
	l->buf = ptr;
	l->len_bytes = len_bytes;
	l->borrowed = true;
	if (rect) {
		l->rect = true;
		l->shape = *rect;
	}
	ava_apiserver_hooks_events(g_api)->retain(event);
	pthread_mutex_lock(&g_late_lock);
	l->next = g_late;
	g_late = l;
	pthread_mutex_unlock(&g_late_lock);
	if (ava_apiserver_hooks_events(g_api)->on_complete(event, late_kick) < 0)
		late_kick();
	return 0;
}

/*
 * The mapping is going away before its bytes were sent (an unmap enqueued
 * before the map completed, or the session's end): the guest learns that
 * the transfer failed, and nothing reads the library's pointer later.
 */
static void map_late_cancel(uint32_t session_id, uint64_t transfer_id)
{
	struct late *found = NULL;
	pthread_mutex_lock(&g_late_lock);
	for (struct late **pp = &g_late; *pp; pp = &(*pp)->next) {
		struct late *l = *pp;
		if (l->session_id == session_id && l->transfer_id == transfer_id && l->borrowed) {
			*pp = l->next;
			send_data(l->session_id, l->fn_id, l->transfer_id, false, NULL, 0);
			found = l;
			break;
		}
	}
	pthread_mutex_unlock(&g_late_lock);
	if (!found)
		return;
	pthread_mutex_lock(&g_late_wake_lock);
	found->next = g_late_done;
	g_late_done = found;
	g_late_kicked = true;
	pthread_cond_signal(&g_late_cond);
	pthread_mutex_unlock(&g_late_wake_lock);
}

static void mapping_free(struct mapping *m)
{
	for (uint16_t i = 0; i < m->n_objs; i++)
		release_retained(m->objs[i], m->types[i]);
	free(m);
}

/*
 * Records a mapping the library made for a call of fn (argv its arguments),
 * a rect mapping when rect is not NULL (the library's layout; broken: none).
 * Returns it, or NULL without memory (the caller then unmaps it at once).
 */
static struct mapping *mapping_add(struct session *s, const struct ava_abi_fn *fn,
				   void *const *argv, void *ptr, uint64_t len_bytes, bool writable,
				   const struct ava_gen_rect *rect, bool broken)
{
	struct mapping *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->ptr = ptr;
	m->len_bytes = len_bytes;
	m->writable = writable;
	if (rect) {
		m->rect = true;
		m->broken = broken;
		if (!broken)
			m->shape = *rect;
	}
	for (uint16_t i = 0; i < fn->n_args; i++) {
		uint16_t type = fn->args[i].handle_type;
		void *obj = *(void *const *)argv[i];
		if (fn->args[i].kind != AVA_ABI_HANDLE || !obj || !g_api->retain ||
		    !g_api->retain[type] || !g_api->release[type])
			continue;
		g_api->retain[type](obj);
		m->objs[m->n_objs] = obj;
		m->types[m->n_objs++] = type;
	}
	pthread_mutex_lock(&g_lock);
	m->id = ++s->next_map_id;
	m->next = s->maps;
	s->maps = m;
	pthread_mutex_unlock(&g_lock);
	return m;
}

/* The function that takes a mapping back (the first with an AVA_ABI_UNMAP argument), or -1. */
static int unmap_fn_id(void)
{
	for (uint32_t f = 0; f < g_api->abi->n_fns; f++) {
		const struct ava_abi_fn *fn = &g_api->abi->fns[f];
		for (uint16_t i = 0; i < fn->n_args && g_api->fns[f].invoke; i++) {
			if (fn->args[i].kind == AVA_ABI_UNMAP)
				return (int)f;
		}
	}
	return -1;
}

/*
 * Unmaps a mapping the guest left open (the session ended): the unmap
 * function gets the mapping's pointer and, for each handle argument, the
 * map call's object of the same type; everything else is zero. Then it
 * waits for the device (the unmap's device_time completion, if the spec
 * names one) and releases the objects it retained.
 */
static void mapping_leftover(struct session *s, struct mapping *m)
{
	int f = unmap_fn_id();
	if (m->transfer_id)
		map_late_cancel(s->id, m->transfer_id);
	if (f >= 0) {
		const struct ava_apiserver_fn *sf = &g_api->fns[f];
		const struct ava_abi_fn *fn = sf->abi;
		union slot slots[AVA_ABI_MAX_ARGS], retslot;
		void *argv[AVA_ABI_MAX_ARGS];
		bool complete = true;
		memset(slots, 0, sizeof(slots));
		memset(&retslot, 0, sizeof(retslot));
		for (uint16_t i = 0; i < fn->n_args; i++) {
			argv[i] = &slots[i];
			if (fn->args[i].kind == AVA_ABI_UNMAP) {
				slots[i].p = m->ptr;
			} else if (fn->args[i].kind == AVA_ABI_HANDLE) {
				uint16_t k = 0;
				while (k < m->n_objs && m->types[k] != fn->args[i].handle_type)
					k++;
				if (k == m->n_objs)
					complete = false;
				else
					slots[i].p = m->objs[k];
			}
		}
		if (complete) {
			sf->invoke(argv, fn->ret.kind == AVA_ABI_VOID ? NULL : &retslot);
			if ((fn->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL) && sf->device_wait)
				sf->device_wait(slots[fn->until_arg].p);
		}
	}
	mapping_free(m);
}

/*
 * An unmap's argument: the mapping the guest names must be one of its
 * session's, not being unmapped already, and the bytes it sends exactly the
 * mapping's size when it was mapped for writing (else none). They are
 * written into the library's own mapped pointer, which the call then gets.
 */
static uint16_t unmap_prepare(struct session *s, const struct ava_abi_fn *fn,
			      const struct ava_abi_view *view, void **ret_ptr,
			      struct mapping **ret_m)
{
	pthread_mutex_lock(&g_lock);
	struct mapping *m = s->maps;
	while (m && m->id != view->u64)
		m = m->next;
	if (!m || m->busy) {
		pthread_mutex_unlock(&g_lock);
		return AVA_STATUS_BAD_HANDLE;
	}
	if (view->count != (m->writable ? m->len_bytes : 0)) {
		pthread_mutex_unlock(&g_lock);
		logmsg("session %u: %s: %llu bytes for a mapping of %llu%s", s->id, fn->name,
		       (unsigned long long)view->count, (unsigned long long)m->len_bytes,
		       m->writable ? "" : " mapped for reading only");
		return AVA_STATUS_MALFORMED;
	}
	m->busy = true;
	uint64_t transfer_id = m->transfer_id;
	m->transfer_id = 0;
	pthread_mutex_unlock(&g_lock);
	if (transfer_id)
		map_late_cancel(s->id, transfer_id);
	if (view->count && m->rect && !m->broken)
		ava_gen_rect_unpack(&m->shape, view->data, m->ptr);
	else if (view->count && !m->rect)
		memcpy(m->ptr, view->data, (size_t)view->count);
	*ret_ptr = m->ptr;
	*ret_m = m;
	return AVA_STATUS_OK;
}

/* After the unmap call: a successful one ends the mapping; a failed one leaves it open. */
static void unmap_finish(struct session *s, struct mapping *m, bool success)
{
	pthread_mutex_lock(&g_lock);
	if (success) {
		for (struct mapping **pp = &s->maps; *pp; pp = &(*pp)->next) {
			if (*pp == m) {
				*pp = m->next;
				break;
			}
		}
	} else {
		m->busy = false;
	}
	pthread_mutex_unlock(&g_lock);
	if (success)
		mapping_free(m);
}

/* ---- calls ---- */

static bool result_is_success(const struct ava_apiserver_fn *sf, void *const *args,
			      const union slot *ret)
{
	const struct ava_gen_fn_errors *e = &sf->errors;
	const struct ava_abi_fn *fn = sf->abi;
	if (e->ret && e->ret->success)
		return memcmp(ret->b, e->ret->success, e->ret->size_bytes) == 0;
	if (e->errcode_arg >= 0 && e->errcode && e->errcode->success) {
		const void *p = *(void *const *)args[e->errcode_arg];
		if (p)
			return memcmp(p, e->errcode->success, e->errcode->size_bytes) == 0;
	}
	if (fn->ret.kind == AVA_ABI_HANDLE)
		return ret->p != NULL;
	return true;
}

/*
 * Turns a host pointer in an out-value into an id of the session's table;
 * owned (an ava_allocates value) adds the guest's reference.
 */
static int to_ids(struct session *s, uint16_t type, void **ptr_slot, bool owned)
{
	uint64_t id = 0;
	if (*ptr_slot) {
		int r = ava_handle_table_insert(s->handles, type, *ptr_slot, &id);
		if (r == 0 && owned)
			r = ava_handle_table_ref(s->handles, id, type);
		if (r < 0)
			return r;
	}
	memcpy(ptr_slot, &id, sizeof(id));
	return 0;
}

/* Translates guest ids to host pointers in place. Returns a wire status. */
static int from_id(struct session *s, uint16_t type, void **slot_p, uint64_t id)
{
	if (id == 0) {
		*slot_p = NULL;
		return AVA_STATUS_OK;
	}
	void *p;
	int r = ava_handle_table_lookup(s->handles, id, type, &p);
	if (r == -EINVAL)
		return AVA_STATUS_MALFORMED;
	if (r < 0)
		return AVA_STATUS_BAD_HANDLE;
	*slot_p = p;
	return AVA_STATUS_OK;
}

static int translate_in_buffer(struct session *s, const struct ava_abi_value *v, uint8_t *data,
			       uint64_t count)
{
	if (v->elem != AVA_ABI_ELEM_HANDLE && v->elem != AVA_ABI_ELEM_STRUCT)
		return AVA_STATUS_OK; /* plain bytes: nothing to translate, no per-byte walk */
	for (uint64_t k = 0; k < count; k++) {
		uint8_t *el = data + (size_t)k * v->size_bytes;
		if (v->elem == AVA_ABI_ELEM_HANDLE) {
			uint64_t id;
			memcpy(&id, el, 8);
			void *p;
			int st = from_id(s, v->handle_type, &p, id);
			if (st != AVA_STATUS_OK)
				return st;
			memcpy(el, &p, sizeof(p));
		} else if (v->elem == AVA_ABI_ELEM_STRUCT) {
			for (unsigned f = 0; f < v->n_fields; f++) {
				uint64_t id;
				memcpy(&id, el + v->fields[f].offset_bytes, 8);
				void *p;
				int st = from_id(s, v->fields[f].handle_type, &p, id);
				if (st != AVA_STATUS_OK)
					return st;
				memcpy(el + v->fields[f].offset_bytes, &p, sizeof(p));
			}
		}
	}
	return AVA_STATUS_OK;
}

static int translate_out_buffer(struct session *s, const struct ava_abi_value *v, uint8_t *data,
				uint64_t count, bool success)
{
	const bool owned = (v->flags & AVA_ABI_V_ALLOCATES) != 0;
	if (v->elem != AVA_ABI_ELEM_HANDLE && v->elem != AVA_ABI_ELEM_STRUCT)
		return 0;
	for (uint64_t k = 0; k < count; k++) {
		uint8_t *el = data + (size_t)k * v->size_bytes;
		if (v->elem == AVA_ABI_ELEM_HANDLE) {
			void *p;
			memcpy(&p, el, sizeof(p));
			if (!success) /* a failed call's out-handles are garbage: never insert */
				p = NULL;
			int r = to_ids(s, v->handle_type, &p, owned);
			if (r < 0)
				return r;
			memcpy(el, &p, sizeof(p));
		} else if (v->elem == AVA_ABI_ELEM_STRUCT) {
			for (unsigned f = 0; f < v->n_fields; f++) {
				void *p;
				memcpy(&p, el + v->fields[f].offset_bytes, sizeof(p));
				if (!success)
					p = NULL;
				int r = to_ids(s, v->fields[f].handle_type, &p, owned);
				if (r < 0)
					return r;
				memcpy(el + v->fields[f].offset_bytes, &p, sizeof(p));
			}
		}
	}
	return 0;
}

/*
 * Bytes buffers that hold handles only for some calls: the words of an
 * info-query result typed by the plan, and :scan blobs whose words may or may
 * not be ids. Buffers come from calloc, so their words are aligned.
 */
static int typed_words_in(struct session *s, uint16_t type, uint8_t *data, size_t bytes)
{
	for (size_t off = 0; off + 8 <= bytes; off += 8) {
		uint64_t id;
		void *p;
		memcpy(&id, data + off, 8);
		int st = from_id(s, type, &p, id);
		if (st != AVA_STATUS_OK)
			return st;
		memcpy(data + off, &p, sizeof(p));
	}
	return AVA_STATUS_OK;
}

static int typed_words_out(struct session *s, uint16_t type, uint8_t *data, size_t bytes,
			   bool success)
{
	for (size_t off = 0; off + 8 <= bytes; off += 8) {
		void *p;
		memcpy(&p, data + off, sizeof(p));
		if (!success)
			p = NULL;
		int r = to_ids(s, type, &p, false);
		if (r < 0)
			return r;
		memcpy(data + off, &p, sizeof(p));
	}
	return 0;
}

static void scan_words_in(struct session *s, uint8_t *data, size_t bytes)
{
	for (size_t off = 0; off + 8 <= bytes; off += 8) {
		uint64_t id;
		void *p;
		memcpy(&id, data + off, 8);
		if (id != 0 && AVA_HANDLE_TYPE_OF(id) != 0 &&
		    ava_handle_table_lookup(s->handles, id, AVA_HANDLE_TYPE_OF(id), &p) == 0)
			memcpy(data + off, &p, sizeof(p));
	}
}

/*
 * An array of char * pointing into the (already validated) payload, which
 * outlives the call. Returns a wire status.
 */
static int decode_strings(const uint8_t *data, const uint8_t *end, uint64_t count, void **ret_array)
{
	char **strs = calloc(count ? (size_t)count : 1, sizeof(char *));
	if (!strs)
		return AVA_STATUS_NO_MEMORY;
	struct ava_wire_cursor cur = { data, end };
	for (uint64_t k = 0; k < count; k++) {
		uint32_t n;
		const uint8_t *str = NULL;
		if (ava_wire_get_u32(&cur, &n) < 0 ||
		    (n && ava_wire_get_bytes(&cur, n, &str) < 0)) {
			free(
			    strs); /* cannot happen after ava_abi_check_args; never trust it blindly */
			return AVA_STATUS_MALFORMED;
		}
		strs[k] = (char *)str;
	}
	*ret_array = strs;
	return AVA_STATUS_OK;
}

static struct cb_record *cb_record_get(struct session *s, uint32_t cb_id, uint64_t fn,
				       uint64_t userdata)
{
	pthread_mutex_lock(&g_lock);
	struct cb_record *rec;
	for (rec = g_cb_records; rec; rec = rec->next)
		if (rec->session_id == s->id && rec->callback_id == cb_id && rec->guest_fn == fn &&
		    rec->guest_userdata == userdata)
			break;
	if (!rec && s->n_cb_records < MAX_CALLBACK_RECORDS_PER_SESSION) {
		rec = calloc(1, sizeof(*rec));
		if (rec) {
			rec->magic = CB_RECORD_MAGIC;
			rec->session_id = s->id;
			rec->callback_id = cb_id;
			rec->guest_fn = fn;
			rec->guest_userdata = userdata;
			rec->next = g_cb_records;
			g_cb_records = rec;
			s->n_cb_records++;
		}
	}
	pthread_mutex_unlock(&g_lock);
	return rec;
}

/* Records the first unreported failure of an asynchronous call. */
static void remember_async_failure(struct session *s, const struct ava_apiserver_fn *sf,
				   const void *ret_bytes)
{
	if (sf->abi->ret.kind != AVA_ABI_SCALAR)
		return;
	pthread_mutex_lock(&g_lock);
	if (!s->deferred_pending) {
		s->deferred_pending = true;
		s->deferred_fn = sf->abi->id;
		memcpy(s->deferred_value, ret_bytes, sf->abi->ret.size_bytes);
	}
	pthread_mutex_unlock(&g_lock);
}

/* An async call that could not run reports its native error later, like one that failed. */
static void async_status_failure(struct session *s, const struct ava_apiserver_fn *sf,
				 unsigned status)
{
	const struct ava_gen_errors *e = sf->errors.ret;
	if (e && e->on_status[status])
		remember_async_failure(s, sf, e->on_status[status]);
}

/*
 * A blobs buffer in mode 1 (ava_blobs_sized_by): the array of n pointers at
 * ptrs gets one block cut into the guest's capacities (u64 each at caps,
 * checked by ava_abi_check_args to fit the buffer's max); a 0 capacity is a
 * NULL pointer. *ret_block is the block to free (NULL if none).
 */
static uint16_t alloc_blobs(void *ptrs, size_t n, const uint8_t *caps, void **ret_block)
{
	uint64_t total = 0, off = 0;
	*ret_block = NULL;
	for (size_t k = 0; k < n; k++) {
		uint64_t cap;
		memcpy(&cap, caps + 8 * k, 8);
		total += cap;
	}
	uint8_t *block = malloc(total ? (size_t)total : 1);
	if (!block)
		return AVA_STATUS_NO_MEMORY;
	*ret_block = block;
	for (size_t k = 0; k < n; k++) {
		uint64_t cap;
		memcpy(&cap, caps + 8 * k, 8);
		void *q = cap ? block + off : NULL;
		memcpy((uint8_t *)ptrs + k * sizeof(void *), &q, sizeof(q));
		off += cap;
	}
	return AVA_STATUS_OK;
}

/* The reply of a blobs buffer: its count, then per pointer u64 n and n bytes (none on failure). */
static int put_blobs(struct ava_wire_buf *out, const void *ptrs, uint64_t count, size_t n,
		     const uint8_t *caps, bool success)
{
	int r = ava_wire_put_u64(out, count);
	for (size_t k = 0; k < n && r == 0; k++) {
		uint64_t cap = 0;
		void *q;
		if (success)
			memcpy(&cap, caps + 8 * k, 8);
		memcpy(&q, (const uint8_t *)ptrs + k * sizeof(void *), sizeof(q));
		if (!q)
			cap = 0;
		r = ava_wire_put_u64(out, cap);
		if (r == 0 && cap)
			r = ava_wire_put_bytes(out, q, (size_t)cap);
	}
	return r;
}

/* ava_clear_bits: clears mask in the width-byte value at p (host byte order). */
static void clear_bits(void *p, uint8_t width, uint64_t mask)
{
	if (width == 1) {
		uint8_t x;
		memcpy(&x, p, 1);
		x &= (uint8_t)~mask;
		memcpy(p, &x, 1);
	} else if (width == 2) {
		uint16_t x;
		memcpy(&x, p, 2);
		x &= (uint16_t)~mask;
		memcpy(p, &x, 2);
	} else if (width == 4) {
		uint32_t x;
		memcpy(&x, p, 4);
		x &= (uint32_t)~mask;
		memcpy(p, &x, 4);
	} else if (width == 8) {
		uint64_t x;
		memcpy(&x, p, 8);
		x &= ~mask;
		memcpy(p, &x, 8);
	}
}

/*
 * Runs one CALL. bulk (owned; NULL when none) is the streamed argument's
 * bytes, reassembled from its CHUNK frames; a CALL with a streamed argument
 * and no bulk could not be reassembled (over the cap, out of memory).
 */
static void execute_call(struct session *s, const struct ava_wire_header *hdr,
			 const uint8_t *payload, uint8_t *bulk)
{
	const struct ava_abi_api *abi = g_api->abi;
	const struct ava_gen_rect_ops *rect_ops = ava_apiserver_hooks_rect(g_api);
	const struct ava_apiserver_event_ops *event_ops = ava_apiserver_hooks_events(g_api);
	const bool async = (hdr->flags & AVA_WIRE_F_ASYNC) != 0;
	uint16_t status = AVA_STATUS_OK;
	char err[200];
	struct ava_abi_view views[AVA_ABI_MAX_ARGS + 1]; /* + the MAP trailer */
	union slot slots[AVA_ABI_MAX_ARGS], retslot;
	struct mapping *unmapping = NULL, *mapped = NULL;
	bool map_read = false;
	void *argv[AVA_ABI_MAX_ARGS];
	void *owned[2 * AVA_ABI_MAX_ARGS]; /* a buffer each, and a blobs block */
	unsigned n_owned = 0;
	void *late_bufs[AVA_ABI_MAX_ARGS] = { 0 }; /* freed here unless handed to late_add */
	void *late_event = NULL;		   /* the event slot when the guest passed none */
	int event_arg = -1;
	bool late = false;
	struct ava_wire_buf out;
	ava_wire_buf_init(&out);
	/* device_time: the record for the completion thread (never NULL-checked: see out) */
	struct completion done = {
		.session_id = s->id,
		.call_id = hdr->call_id,
		.seq = hdr->seq,
	};

	if (hdr->call_id >= abi->n_fns) {
		logmsg("session %u: call id %u out of range", s->id, hdr->call_id);
		status = AVA_STATUS_MALFORMED;
		goto reply;
	}
	const struct ava_apiserver_fn *sf = &g_api->fns[hdr->call_id];
	const struct ava_abi_fn *fn = sf->abi;
	if (!sf->invoke || (fn->flags & AVA_ABI_FN_UNSUPPORTED)) {
		status = AVA_STATUS_UNSUPPORTED;
		goto reply;
	}
	if (ava_abi_check_call(abi, fn, payload, hdr->len_bytes, views, err, sizeof(err)) < 0) {
		logmsg("session %u: %s: %s", s->id, fn->name, err);
		status = AVA_STATUS_MALFORMED;
		goto reply;
	}
	uint64_t bulk_bytes = 0;
	int bulk_arg = ava_abi_streamed_arg(fn, views, &bulk_bytes);
	if (bulk_arg >= 0) {
		if (!bulk) {
			status = AVA_STATUS_NO_MEMORY;
			goto reply;
		}
		views[bulk_arg].data = bulk;
		if (fn->args[bulk_arg].kind == AVA_ABI_UNMAP) {
			owned[n_owned++] = bulk;
			bulk = NULL;
		}
	}

	memset(slots, 0, sizeof(slots));
	memset(&retslot, 0, sizeof(retslot));
	for (unsigned i = 0; i < fn->n_args; i++) {
		argv[i] = &slots[i];
		if (fn->args[i].kind == AVA_ABI_SCALAR)
			memcpy(slots[i].b, views[i].data, fn->args[i].size_bytes);
	}

	/* The plan is the spec's word on sizes: the guest's counts must agree with it. */
	struct ava_gen_plan plan;
	memset(&plan, 0, sizeof(plan));
	if (sf->plan)
		sf->plan(argv, &plan);
	else
		plan.async = (fn->flags & AVA_ABI_FN_MAY_ASYNC) ? 1 : 0;
	if (!(fn->flags & AVA_ABI_FN_MAY_ASYNC))
		plan.async = 0;
	if (plan.async != async) {
		logmsg("session %u: %s: call mode disagrees with the spec", s->id, fn->name);
		status = AVA_STATUS_MALFORMED;
		goto reply;
	}
	if (fn->ret.kind == AVA_ABI_MAP) {
		/* the mapping's size is the library's (the plan's), never the guest's word */
		const struct ava_abi_view *t = &views[fn->n_args];
		if (fn->ret.flags & AVA_ABI_V_RECT)
			plan.map_count = t->count; /* checked once the arguments are decoded */
		if (t->count != plan.map_count || t->access != plan.map_access) {
			logmsg("session %u: %s: mapping of %llu bytes (access %u), the spec says "
			       "%llu (access %u)",
			       s->id, fn->name, (unsigned long long)t->count, t->access,
			       (unsigned long long)plan.map_count, plan.map_access);
			status = AVA_STATUS_MALFORMED;
			goto reply;
		}
		map_read = (t->access & AVA_ABI_MAP_READ) != 0;
	}

	int cb_arg = -1, ud_arg = -1;
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		switch (v->kind) {
		case AVA_ABI_HANDLE:
			status = from_id(s, v->handle_type, &slots[i].p, views[i].u64);
			break;
		case AVA_ABI_STRING:
			slots[i].p = views[i].present ? (void *)views[i].data : NULL;
			break;
		case AVA_ABI_CALLBACK:
			cb_arg = (int)i;
			break;
		case AVA_ABI_USERDATA:
			ud_arg = (int)i;
			slots[i].p = (void *)(uintptr_t)views[i].u64;
			break;
		case AVA_ABI_UNMAP:
			if (unmapping) {
				status = AVA_STATUS_MALFORMED;
				break;
			}
			status = unmap_prepare(s, fn, &views[i], &slots[i].p, &unmapping);
			break;
		case AVA_ABI_BUFFER: {
			if (!views[i].present)
				break;
			if (plan.count[i] != AVA_GEN_COUNT_FROM_WIRE &&
			    views[i].count != plan.count[i]) {
				logmsg("session %u: %s: argument %u has %llu elements, the spec "
				       "says %llu",
				       s->id, fn->name, i, (unsigned long long)views[i].count,
				       (unsigned long long)plan.count[i]);
				status = AVA_STATUS_MALFORMED;
				break;
			}
			size_t bytes = (size_t)views[i].count * v->size_bytes; /* checked */
			if (v->elem == AVA_ABI_ELEM_STRING) {
				status = decode_strings(views[i].data, payload + hdr->len_bytes,
							views[i].count, &slots[i].p);
				if (slots[i].p)
					owned[n_owned++] = slots[i].p;
				break;
			}
			/*
			 * A property list is followed by one more zero element: lists
			 * that are not plain pairs (OpenCL's partition by counts) still
			 * end inside the buffer.
			 */
			uint8_t *p;
			if (views[i].streamed) { /* reassembled with a spare zero byte */
				p = bulk;
				bulk = NULL;
			} else {
				p = calloc(
				    1, bytes + ((v->flags & AVA_ABI_V_PROPS) ? v->size_bytes : 1));
			}
			if (!p) {
				status = AVA_STATUS_NO_MEMORY;
				break;
			}
			if (v->flags & AVA_ABI_V_LATE)
				late_bufs[i] = p;
			else
				owned[n_owned++] = p;
			slots[i].p = p;
			if ((v->flags & AVA_ABI_V_BLOBS) &&
			    (views[i].u64 == 1) != (plan.blobs_arg[i] != 0)) {
				logmsg("session %u: %s: argument %u: blobs mode disagrees with the "
				       "spec",
				       s->id, fn->name, i);
				status = AVA_STATUS_MALFORMED;
				break;
			}
			if ((v->flags & AVA_ABI_V_BLOBS) && views[i].u64 == 1) {
				status = alloc_blobs(p, bytes / 8, views[i].data, &owned[n_owned]);
				if (owned[n_owned])
					n_owned++;
				break;
			}
			if ((v->dir & AVA_ABI_DIR_IN) && bytes) {
				if (!views[i].streamed)
					memcpy(p, views[i].data, bytes);
				status = translate_in_buffer(s, v, p, views[i].count);
				if (status == AVA_STATUS_OK && plan.handle_type[i] &&
				    v->elem == AVA_ABI_ELEM_BYTES)
					status = typed_words_in(s, plan.handle_type[i], p, bytes);
				else if (v->flags & AVA_ABI_V_SCAN)
					scan_words_in(s, p, bytes);
			}
			break;
		}
		default:
			break;
		}
		if (status != AVA_STATUS_OK)
			goto reply;
	}
	status = rects_prepare(s, fn, views, argv, slots);
	if (status != AVA_STATUS_OK)
		goto reply;
	if (fn->ret.kind == AVA_ABI_MAP && (fn->ret.flags & AVA_ABI_V_RECT)) {
		/* a rect mapping's size is the packed size of the server's own shape */
		struct ava_gen_rect r;
		uint64_t bytes = 0;
		if (!rect_ops || rect_ops->shape(fn, fn->n_args, argv, &r) < 0 ||
		    ava_gen_rect_bytes(&r, &bytes) < 0)
			bytes = 0;
		if (views[fn->n_args].count != bytes) {
			logmsg("session %u: %s: mapping of %llu bytes, its rect %llu", s->id,
			       fn->name, (unsigned long long)views[fn->n_args].count,
			       (unsigned long long)bytes);
			status = AVA_STATUS_MALFORMED;
			goto reply;
		}
	}
	if (cb_arg >= 0 && views[cb_arg].u64 != 0) {
		const struct ava_abi_value *v = &fn->args[cb_arg];
		uint64_t ud = ud_arg >= 0 ? views[ud_arg].u64 : 0;
		struct cb_record *rec = cb_record_get(s, v->callback_id, views[cb_arg].u64, ud);
		if (!rec || ud_arg < 0) {
			status = rec ? AVA_STATUS_UNSUPPORTED : AVA_STATUS_NO_MEMORY;
			goto reply;
		}
		slots[cb_arg].p = (void *)g_api->callbacks[v->callback_id].trampoline;
		slots[ud_arg].p = rec;
	}
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (fn->args[i].flags & AVA_ABI_V_EVENT)
			event_arg = (int)i;
		if ((fn->args[i].flags & AVA_ABI_V_LATE) && views[i].present)
			late = true;
	}
	if (map_read)
		late = true; /* its bytes follow the event like a late read's */
	if (late && (!event_ops || event_arg < 0)) {
		logmsg("session %u: %s: late buffers need the API's event operations", s->id,
		       fn->name);
		status = AVA_STATUS_UNSUPPORTED;
		goto reply;
	}
	if (late && (!views[event_arg].present || views[event_arg].count == 0))
		slots[event_arg].p = &late_event; /* the server's own event, released below */

	if ((fn->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL) && sf->device_wait && g_api->retain) {
		/* Keep the object the completion waits on alive past a guest's release. */
		uint16_t type = fn->args[fn->until_arg].handle_type;
		void *obj = slots[fn->until_arg].p;
		if (obj && g_api->retain[type] && g_api->release[type]) {
			g_api->retain[type](obj);
			done.obj = obj;
			done.type = type;
			done.wait = sf->device_wait;
		}
	}
	if (fn->flags & AVA_ABI_FN_DEVICE_TIME)
		ava_apiserver_output_attribute(s->id); /* what the device prints now is s's */
	done.start_ns = now_ns();
	ava_apiserver_hooks_invoke(g_api, s->id, fn, sf->invoke, argv,
				   fn->ret.kind == AVA_ABI_VOID ? NULL : &retslot);
	done.end_ns = now_ns();

	const bool success = result_is_success(sf, argv, &retslot);
	done.ok = success;
	if (unmapping)
		unmap_finish(s, unmapping, success);
	if (fn->ret.kind == AVA_ABI_MAP && success && retslot.p) {
		const struct ava_abi_view *t = &views[fn->n_args];
		struct ava_gen_rect lib;
		bool rect = (fn->ret.flags & AVA_ABI_V_RECT) != 0, broken = false;
		if (rect) {
			/*
			 * The library's layout of the mapping, from the pitches it
			 * reported; the reply reports the guest memory's instead. A
			 * layout that is not the rect's own size is never trusted to
			 * read or write the library's memory.
			 */
			uint64_t bytes = 0;
			broken = !rect_ops || !rect_ops->mapped ||
				 rect_ops->mapped(fn, argv, &lib) < 0 ||
				 ava_gen_rect_bytes(&lib, &bytes) < 0 || bytes != t->count;
		}
		mapped =
		    mapping_add(s, fn, argv, retslot.p, t->count,
				(t->access & AVA_ABI_MAP_WRITE) != 0, rect ? &lib : NULL, broken);
		if (!mapped) {
			struct mapping tmp = { .ptr = retslot.p };
			for (uint16_t i = 0; i < fn->n_args; i++) {
				if (fn->args[i].kind == AVA_ABI_HANDLE && slots[i].p &&
				    g_api->retain && g_api->retain[fn->args[i].handle_type]) {
					g_api->retain[fn->args[i].handle_type](slots[i].p);
					tmp.objs[tmp.n_objs] = slots[i].p;
					tmp.types[tmp.n_objs++] = fn->args[i].handle_type;
				}
			}
			struct mapping *heap = malloc(sizeof(*heap));
			if (heap) {
				*heap = tmp;
				mapping_leftover(s, heap);
			}
		}
	}
	if (late) {
		void *ev = *(void **)slots[event_arg].p;
		bool kept = success && ev && late_add(s, fn, views, late_bufs, ev) == 0;
		if (map_read) {
			const struct ava_abi_view *t = &views[fn->n_args];
			if (mapped && ev && !(mapped->rect && mapped->broken) &&
			    map_late_add(s, fn->id, t->u64, mapped->ptr, (size_t)t->count,
					 mapped->rect ? &mapped->shape : NULL, ev) == 0) {
				pthread_mutex_lock(&g_lock);
				mapped->transfer_id = t->u64;
				pthread_mutex_unlock(&g_lock);
			} else {
				send_data(s->id, fn->id, t->u64, false, NULL, 0);
			}
		}
		if (late_event)
			event_ops->release(late_event);
		for (unsigned i = 0; !kept && i < fn->n_args; i++) {
			/* nothing will complete: the guest learns now, before the reply */
			if (late_bufs[i] && fn->args[i].dir == AVA_ABI_DIR_OUT)
				send_data(s->id, fn->id, views[i].u64, false, NULL, 0);
		}
	}
	if (success) {
		for (unsigned i = 0; i < fn->n_args; i++) {
			const struct ava_abi_value *v = &fn->args[i];
			int removed, rr = 0;
			if (v->kind != AVA_ABI_HANDLE || !views[i].u64)
				continue;
			if (v->flags & AVA_ABI_V_DEALLOCATES)
				rr = ava_handle_table_unref(s->handles, views[i].u64,
							    v->handle_type, &removed);
			else if (v->flags & AVA_ABI_V_RETAINS)
				rr = ava_handle_table_ref(s->handles, views[i].u64, v->handle_type);
			/* rr < 0: a racing release in another thread got there first. */
			(void)rr;
		}
	}
	if (async) {
		if (!success)
			remember_async_failure(s, sf, retslot.b);
		goto out;
	}

	int r = 0;
	if (fn->ret.kind == AVA_ABI_SCALAR) {
		r = ava_wire_put_bytes(&out, retslot.b, fn->ret.size_bytes);
	} else if (fn->ret.kind == AVA_ABI_HANDLE) {
		r = to_ids(s, fn->ret.handle_type, &retslot.p,
			   success && (fn->ret.flags & AVA_ABI_V_ALLOCATES));
		if (r == 0)
			r = ava_wire_put_bytes(&out, &retslot.p, 8);
	} else if (fn->ret.kind == AVA_ABI_MAP) {
		r = ava_wire_put_u64(&out,
				     mapped ? mapped->id : 0); /* never the library's pointer */
	}
	for (unsigned i = 0; i < fn->n_args && r == 0; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_OUT) || !views[i].present ||
		    (v->flags & AVA_ABI_V_LATE))
			continue; /* a late buffer's bytes go in its DATA frame */
		if ((v->flags & AVA_ABI_V_BLOBS) && views[i].u64 == 1) {
			r = put_blobs(&out, slots[i].p, views[i].count,
				      (size_t)views[i].count * v->size_bytes / 8, views[i].data,
				      success);
			continue;
		}
		if (success && plan.clear_width[i] &&
		    (size_t)views[i].count * v->size_bytes >= plan.clear_width[i])
			clear_bits(slots[i].p, plan.clear_width[i], plan.clear_bits[i]);
		r = translate_out_buffer(s, v, slots[i].p, views[i].count, success);
		if (r == 0 && plan.handle_type[i] && v->elem == AVA_ABI_ELEM_BYTES)
			r = typed_words_out(s, plan.handle_type[i], slots[i].p,
					    (size_t)views[i].count * v->size_bytes, success);
		if (r == 0)
			r = ava_wire_put_u64(&out, views[i].count);
		if (r == 0)
			r = ava_wire_put_bytes(&out, slots[i].p,
					       (size_t)views[i].count * v->size_bytes);
	}
	if (r < 0) {
		status = r == -ENOSPC ? AVA_STATUS_NO_MEMORY : AVA_STATUS_INTERNAL;
		logmsg("session %u: %s: could not build the reply (%s)", s->id, fn->name,
		       strerror(-r));
		goto reply;
	}

reply:
	if (async) {
		if (status != AVA_STATUS_OK && hdr->call_id < abi->n_fns)
			async_status_failure(s, &g_api->fns[hdr->call_id], status);
		goto out;
	}
	uint16_t flags = 0;
	if (status != AVA_STATUS_OK) {
		out.len = 0;
	} else {
		/* Piggy-back the first unreported asynchronous failure. */
		pthread_mutex_lock(&g_lock);
		if (s->deferred_pending) {
			const struct ava_abi_fn *dfn = &abi->fns[s->deferred_fn];
			if (ava_wire_put_u32(&out, s->deferred_fn) == 0 &&
			    ava_wire_put_bytes(&out, s->deferred_value, dfn->ret.size_bytes) == 0) {
				flags |= AVA_WIRE_F_DEFERRED_ERROR;
				s->deferred_pending = false;
			}
		}
		pthread_mutex_unlock(&g_lock);
	}
	send_reply(s->id, hdr->seq, hdr->call_id, status, flags, out.data, out.len);
out:
	free(bulk);
	for (unsigned i = 0; i < n_owned; i++)
		free(owned[i]);
	for (unsigned i = 0; i < AVA_ABI_MAX_ARGS; i++)
		free(late_bufs[i]);
	ava_wire_buf_fini(&out);
	if (is_device_time(hdr->call_id)) {
		/* After the REPLY: the router sees USAGE only for calls it has answered. */
		struct completion *c = malloc(sizeof(*c));
		if (c) {
			*c = done;
			completion_queue(c);
		} else {
			release_retained(done.obj, done.type);
			send_usage(s->id, hdr->call_id, hdr->seq, 0);
		}
	}
}

/* ---- workers ---- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct session *s = w->s;
	for (;;) {
		pthread_mutex_lock(&g_lock);
		w->busy = false;
		bool idle_too_long = false;
		while (!w->head && !s->closing && !idle_too_long) {
			struct timespec deadline;
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			deadline.tv_sec += WORKER_IDLE_SECONDS;
			idle_too_long =
			    pthread_cond_timedwait(&w->cond, &g_lock, &deadline) == ETIMEDOUT &&
			    !w->head;
		}
		struct frame *f = w->head;
		if (!f) { /* closing and drained, or idle: a later call gets a new worker */
			struct worker **pp = &s->workers;
			while (*pp && *pp != w)
				pp = &(*pp)->next;
			if (*pp)
				*pp = w->next;
			s->n_workers--;
			pthread_mutex_unlock(&g_lock);
			break;
		}
		w->head = f->next;
		if (!w->head)
			w->tail = NULL;
		w->busy = true;
		pthread_mutex_unlock(&g_lock);
		execute_call(s, &f->hdr, f->payload, f->bulk);
		free(f->payload);
		free(f);
	}
	pthread_cond_destroy(&w->cond);
	free(w);
	session_unref(s);
	return NULL;
}

/*
 * Queues a CALL for the worker of its guest thread, creating it on first
 * use. Takes payload and bulk (a streamed argument's bytes, or NULL).
 */
static void dispatch_call(const struct ava_wire_header *hdr, uint8_t *payload, uint8_t *bulk)
{
	struct frame *f = calloc(1, sizeof(*f));
	if (!f) {
		free(bulk);
		free(payload);
		if (!(hdr->flags & AVA_WIRE_F_ASYNC))
			send_reply(hdr->session, hdr->seq, hdr->call_id, AVA_STATUS_NO_MEMORY, 0,
				   NULL, 0);
		if (is_device_time(hdr->call_id))
			send_usage(hdr->session, hdr->call_id, hdr->seq, 0);
		return;
	}
	f->hdr = *hdr;
	f->payload = payload;
	f->bulk = bulk;

	pthread_mutex_lock(&g_lock);
	struct session *s = session_find_locked(hdr->session);
	if (!s || s->closing) {
		pthread_mutex_unlock(&g_lock);
		free(bulk);
		free(payload);
		free(f);
		/* the router already ended this session; it still frees the call's device slot */
		if (is_device_time(hdr->call_id))
			send_usage(hdr->session, hdr->call_id, hdr->seq, 0);
		return;
	}
	struct worker *w;
	for (w = s->workers; w; w = w->next)
		if (w->thread_id == hdr->thread_id)
			break;
	if (!w && s->n_workers >= MAX_WORKERS_PER_SESSION) {
		/*
		 * At the cap, an idle worker (nothing queued, nothing running) can
		 * serve this thread: ordering only matters within one thread.
		 */
		for (w = s->workers; w; w = w->next)
			if (!w->busy && !w->head)
				break;
		if (w)
			w->thread_id = hdr->thread_id;
	}
	if (!w && s->n_workers < MAX_WORKERS_PER_SESSION) {
		w = calloc(1, sizeof(*w));
		if (w) {
			pthread_condattr_t ca;
			w->s = s;
			w->thread_id = hdr->thread_id;
			pthread_condattr_init(&ca);
			pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
			pthread_cond_init(&w->cond, &ca);
			pthread_condattr_destroy(&ca);
			s->refs++;
			if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
				s->refs--;
				free(w);
				w = NULL;
			} else {
				pthread_detach(w->thread);
				w->next = s->workers;
				s->workers = w;
				s->n_workers++;
			}
		}
	}
	if (!w) {
		pthread_mutex_unlock(&g_lock);
		logmsg("session %u: no worker for guest thread %u (limit %d)", hdr->session,
		       hdr->thread_id, MAX_WORKERS_PER_SESSION);
		if (!(hdr->flags & AVA_WIRE_F_ASYNC))
			send_reply(hdr->session, hdr->seq, hdr->call_id, AVA_STATUS_NO_MEMORY, 0,
				   NULL, 0);
		if (is_device_time(hdr->call_id))
			send_usage(hdr->session, hdr->call_id, hdr->seq, 0);
		free(bulk);
		free(payload);
		free(f);
		return;
	}
	if (w->tail)
		w->tail->next = f;
	else
		w->head = f;
	w->tail = f;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&g_lock);
}

/* ---- streamed arguments ---- */

/*
 * A CALL with a streamed argument (AVA_WIRE_F_STREAM) waits here, on the
 * main thread only, until its CHUNK frames have brought every byte; then it
 * goes to its worker with them. The router lets nothing else of the session
 * come in between, so a session has at most one. Bytes being reassembled
 * count against AVA_APISERVER_STREAM_CAP_BYTES for the whole server (one
 * tenant's): past it, or without memory, the chunks are read and dropped and
 * the call is answered NO_MEMORY once they have all come.
 */
struct stream {
	struct stream *next;
	struct ava_wire_header hdr; /* the CALL */
	uint8_t *payload;
	uint8_t *buf; /* len_bytes + a zero byte; NULL: dropping */
	uint64_t len_bytes, got_bytes;
};

static struct stream *g_streams;
static uint64_t g_stream_bytes; /* in the bufs of g_streams */

static struct stream **stream_find(uint32_t session_id)
{
	struct stream **pp = &g_streams;
	while (*pp && (*pp)->hdr.session != session_id)
		pp = &(*pp)->next;
	return pp;
}

static void stream_free(struct stream **pp)
{
	struct stream *st = *pp;
	*pp = st->next;
	if (st->buf)
		g_stream_bytes -= st->len_bytes;
	free(st->buf);
	free(st->payload);
	free(st);
}

/* A session closed: its half-streamed CALL never runs. */
static void stream_drop(uint32_t session_id)
{
	struct stream **pp = stream_find(session_id);
	if (*pp)
		stream_free(pp);
}

static void stream_begin(const struct ava_wire_header *hdr, uint8_t *payload)
{
	const struct ava_abi_api *abi = g_api->abi;
	struct ava_abi_view views[AVA_ABI_MAX_ARGS + 1];
	uint64_t bytes = 0;
	char err[200];
	if (hdr->call_id >= abi->n_fns ||
	    ava_abi_check_call(abi, &abi->fns[hdr->call_id], payload, hdr->len_bytes, views, err,
			       sizeof(err)) < 0 ||
	    ava_abi_streamed_arg(&abi->fns[hdr->call_id], views, &bytes) < 0) {
		/* the worker answers MALFORMED; stray CHUNKs are dropped */
		dispatch_call(hdr, payload, NULL);
		return;
	}
	struct stream **pp = stream_find(hdr->session);
	if (*pp) {
		logmsg("session %u: a second streamed CALL before the first had all its bytes",
		       hdr->session);
		dispatch_call(&(*pp)->hdr, (*pp)->payload, NULL);
		(*pp)->payload = NULL;
		stream_free(pp);
	}
	struct stream *st = calloc(1, sizeof(*st));
	if (!st) {
		logmsg("session %u: no memory for a streamed CALL", hdr->session);
		dispatch_call(hdr, payload, NULL); /* answered NO_MEMORY; its CHUNKs are dropped */
		return;
	}
	st->hdr = *hdr;
	st->payload = payload;
	st->len_bytes = bytes; /* >= 1, bounded by the manifest's max */
	if (bytes <= AVA_APISERVER_STREAM_CAP_BYTES - g_stream_bytes &&
	    (st->buf = malloc((size_t)bytes + 1))) {
		st->buf[bytes] = 0;
		g_stream_bytes += bytes;
	} else {
		logmsg("session %u: %s: no room for %llu streamed bytes (%llu of %llu in use)",
		       hdr->session, abi->fns[hdr->call_id].name, (unsigned long long)bytes,
		       (unsigned long long)g_stream_bytes,
		       (unsigned long long)AVA_APISERVER_STREAM_CAP_BYTES);
	}
	st->next = g_streams;
	g_streams = st;
}

static void stream_chunk(const struct ava_wire_header *hdr, uint8_t *payload)
{
	struct stream **pp = stream_find(hdr->session);
	struct stream *st = *pp;
	if (!st || st->hdr.seq != hdr->seq || hdr->len_bytes > st->len_bytes - st->got_bytes) {
		logmsg("session %u: a CHUNK for no streamed CALL (seq %llu); dropped", hdr->session,
		       (unsigned long long)hdr->seq);
		free(payload);
		return;
	}
	if (st->buf && hdr->len_bytes)
		memcpy(st->buf + st->got_bytes, payload, hdr->len_bytes);
	st->got_bytes += hdr->len_bytes;
	free(payload);
	if (st->got_bytes < st->len_bytes)
		return;
	uint8_t *buf = st->buf;
	struct ava_wire_header call = st->hdr;
	uint8_t *call_payload = st->payload;
	if (buf)
		g_stream_bytes -= st->len_bytes;
	st->buf = NULL;
	st->payload = NULL;
	stream_free(pp);
	dispatch_call(&call, call_payload, buf);
}

/* ---- callbacks ---- */

static atomic_bool g_cb_oversize_logged;

/*
 * One input buffer of a callback: u8 present, u64 count, count elements.
 * The count is the plan's; a NULL pointer, or a count over the
 * descriptor's maximum (the guest would refuse the frame), travels as NULL.
 */
static int put_cb_buffer(struct ava_wire_buf *b, const struct ava_abi_callback *cba,
			 const struct ava_abi_value *v, const void *data,
			 const struct ava_gen_plan *plan, unsigned i)
{
	uint64_t count = plan->count[i], n_bytes;
	int r;

	if (!data || v->dir != AVA_ABI_DIR_IN || v->elem != AVA_ABI_ELEM_BYTES)
		return ava_wire_put_u8(b, 0);
	if (count > v->max_count ||
	    __builtin_mul_overflow(count, (uint64_t)v->size_bytes, &n_bytes) ||
	    n_bytes > SIZE_MAX) {
		if (!atomic_exchange(&g_cb_oversize_logged, true))
			logmsg("callback %s: argument %u has %" PRIu64 " elements, over its "
			       "maximum of %" PRIu64 "; the guest gets NULL (logged once)",
			       cba->name, i, count, v->max_count);
		return ava_wire_put_u8(b, 0);
	}
	r = ava_wire_put_u8(b, 1);
	if (r == 0)
		r = ava_wire_put_u64(b, count);
	if (r == 0)
		r = ava_wire_put_bytes(b, data, (size_t)n_bytes);
	return r;
}

void ava_apiserver_callback(const struct ava_apiserver_api *api, uint32_t cb_id, void *const *args,
			    void *ret)
{
	const struct ava_abi_callback *cba = api->callbacks[cb_id].abi;
	size_t ret_bytes = cba->ret.kind == AVA_ABI_SCALAR   ? cba->ret.size_bytes
			   : cba->ret.kind == AVA_ABI_HANDLE ? sizeof(void *)
							     : 0;
	if (ret && ret_bytes)
		memset(ret, 0, ret_bytes);

	const struct cb_record *rec = *(void *const *)args[cba->userdata_arg];
	if (!rec || rec->magic != CB_RECORD_MAGIC || rec->callback_id != cb_id)
		return;

	pthread_mutex_lock(&g_lock);
	struct session *s = session_find_locked(rec->session_id);
	if (!s || s->closing || g_router_gone) {
		pthread_mutex_unlock(&g_lock);
		return; /* the guest is gone: the callback has nowhere to run */
	}
	s->refs++;
	pthread_mutex_unlock(&g_lock);

	/* Counts of the callback's buffers, from its scalar arguments. */
	struct ava_gen_plan plan;
	memset(&plan, 0, sizeof(plan));
	if (api->callbacks[cb_id].plan)
		api->callbacks[cb_id].plan(args, &plan);

	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	int r = ava_wire_put_u64(&b, rec->guest_fn);
	for (unsigned i = 0; i < cba->n_args && r == 0; i++) {
		const struct ava_abi_value *v = &cba->args[i];
		switch (v->kind) {
		case AVA_ABI_SCALAR:
			r = ava_wire_put_bytes(&b, args[i], v->size_bytes);
			break;
		case AVA_ABI_HANDLE: {
			void *p = *(void *const *)args[i];
			r = to_ids(s, v->handle_type, &p, false);
			if (r == 0)
				r = ava_wire_put_bytes(&b, &p, 8);
			break;
		}
		case AVA_ABI_USERDATA:
			r = ava_wire_put_u64(&b, rec->guest_userdata);
			break;
		case AVA_ABI_CALLBACK:
			r = ava_wire_put_u64(&b, 0);
			break;
		case AVA_ABI_STRING: {
			const char *str = *(const char *const *)args[i];
			size_t n = str ? strnlen(str, v->max_count) + 1 : 0;
			if (n > v->max_count) /* too long: truncate to what the spec allows */
				n = v->max_count;
			r = ava_wire_put_u32(&b, (uint32_t)n);
			if (r == 0 && n > 0)
				r = ava_wire_put_bytes(&b, str, n - 1);
			if (r == 0 && n > 0)
				r = ava_wire_put_u8(&b, 0);
			break;
		}
		case AVA_ABI_BUFFER:
			r = put_cb_buffer(&b, cba, v, *(const void *const *)args[i], &plan, i);
			break;
		default:
			r = -EINVAL;
			break;
		}
	}
	if (r < 0)
		logmsg("session %u: callback %s not forwarded: %s", s->id, cba->name, strerror(-r));

	struct cb_waiter w = { .seq = atomic_fetch_add(&g_next_cb_seq, 1),
			       .session_id = rec->session_id };
	pthread_cond_init(&w.cond, NULL);
	if (r == 0) {
		pthread_mutex_lock(&g_lock);
		w.next = g_cb_waiters;
		g_cb_waiters = &w;
		pthread_mutex_unlock(&g_lock);
		ava_apiserver_output_flush();
		if (ava_apiserver_hooks_events(g_api))
			late_flush(rec->session_id); /* DATA the callback could observe first */
		struct ava_wire_header hdr = {
			.magic = AVA_WIRE_MAGIC,
			.version = AVA_WIRE_VERSION,
			.kind = AVA_WIRE_CALLBACK,
			.len_bytes = (uint32_t)b.len,
			.call_id = cb_id,
			.seq = w.seq,
			.session = rec->session_id,
		};
		if (ava_transport_send_frame(g_router, &hdr, b.data, b.len) < 0) {
			pthread_mutex_lock(&g_lock);
			wake_cb_waiters_locked(rec->session_id);
			pthread_mutex_unlock(&g_lock);
		}
		pthread_mutex_lock(&g_lock);
		while (!w.done)
			pthread_cond_wait(&w.cond, &g_lock);
		pthread_mutex_unlock(&g_lock);
		if (w.status == AVA_STATUS_OK && ret && ret_bytes) {
			struct ava_abi_view rv;
			char err[160];
			if (ava_abi_check_result(api->abi, &cba->ret, w.payload, w.len, &rv, err,
						 sizeof(err)) == 0) {
				if (cba->ret.kind == AVA_ABI_SCALAR) {
					memcpy(ret, rv.data, ret_bytes);
				} else {
					void *p = NULL;
					(void)from_id(s, cba->ret.handle_type, &p, rv.u64);
					memcpy(ret, &p, sizeof(p));
				}
			} else {
				logmsg("session %u: bad result from callback %s: %s", s->id,
				       cba->name, err);
			}
		}
		free(w.payload);
	}
	pthread_cond_destroy(&w.cond);
	ava_wire_buf_fini(&b);
	session_unref(s);
}

static void complete_callback(const struct ava_wire_header *hdr, uint8_t *payload)
{
	pthread_mutex_lock(&g_lock);
	struct cb_waiter **pp = &g_cb_waiters;
	while (*pp && !((*pp)->seq == hdr->seq && (*pp)->session_id == hdr->session))
		pp = &(*pp)->next;
	struct cb_waiter *w = *pp;
	if (w) {
		*pp = w->next;
		w->done = true;
		w->status = AVA_STATUS_OK;
		w->payload = payload;
		w->len = hdr->len_bytes;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&g_lock);
	if (!w) {
		logmsg("session %u: answer to a callback nobody waits for", hdr->session);
		free(payload);
	}
}

/* ---- main ---- */

static int usage(FILE *f, int code)
{
	fprintf(f,
		"usage: ava-server-%s --fd N      serve the router on connected socket N\n"
		"       ava-server-%s --print-abi print the compiled-in ABI manifest\n"
		"API servers are started by avarouterd; see docs/router.md.\n",
		g_api->abi->name, g_api->abi->name);
	return code;
}

int ava_apiserver_main(const struct ava_apiserver_api *api, int argc, char **argv)
{
	g_api = api;
	int fd = -1;
	char err[256];

	if (ava_abi_api_check(api->abi, err, sizeof(err)) < 0) {
		fprintf(stderr, "ava-server-%s: compiled-in ABI is inconsistent: %s\n",
			api->abi->name, err);
		return 70;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 0 || v > 65535) {
				fprintf(stderr, "ava-server-%s: --fd needs a descriptor number\n",
					api->abi->name);
				return 64;
			}
			fd = (int)v;
		} else if (strcmp(argv[i], "--print-abi") == 0) {
			return ava_abi_format(api->abi, api->spec_path, stdout) < 0 ? 1 : 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			return usage(stdout, 0);
		} else {
			fprintf(stderr, "ava-server-%s: unknown argument '%s'\n", api->abi->name,
				argv[i]);
			return usage(stderr, 64);
		}
	}
	if (fd < 0)
		return usage(stderr, 64);
	const char *tenant = getenv("AVA_TENANT");
	if (tenant && *tenant)
		g_tenant = tenant;
	signal(SIGPIPE, SIG_IGN);
	if (ava_transport_unix_from_fd(fd, &g_router) < 0) {
		fprintf(stderr, "ava-server-%s: descriptor %d is not a usable socket\n",
			api->abi->name, fd);
		return 66;
	}
	int out_r = ava_apiserver_output_start(g_router);
	if (out_r < 0)
		logmsg("stdout stays the server's, not forwarded to guests: %s", strerror(-out_r));
	if (completion_start() < 0) {
		fprintf(stderr, "ava-server-%s: cannot start the completion thread\n",
			api->abi->name);
		return 71;
	}

	for (;;) {
		struct ava_wire_header hdr;
		uint8_t *payload = NULL;
		const char *reason = NULL;
		int r = ava_transport_recv_frame(g_router, AVA_WIRE_MAX_PAYLOAD_BYTES, &hdr,
						 &payload, &reason);
		if (r == -EPIPE)
			break;
		if (r < 0) {
			logmsg("bad frame from the router (%s); exiting",
			       reason ? reason : strerror(-r));
			break;
		}
		switch (hdr.kind) {
		case AVA_WIRE_SESSION_OPEN:
			free(payload);
			if (session_open(hdr.session) < 0)
				logmsg("could not open session %u", hdr.session);
			break;
		case AVA_WIRE_SESSION_CLOSE:
			free(payload);
			stream_drop(hdr.session);
			session_close(hdr.session);
			break;
		case AVA_WIRE_CALL:
			if (hdr.flags & AVA_WIRE_F_STREAM)
				stream_begin(&hdr, payload);
			else
				dispatch_call(&hdr, payload, NULL);
			break;
		case AVA_WIRE_CHUNK:
			stream_chunk(&hdr, payload);
			break;
		case AVA_WIRE_CALLBACK_REPLY:
			complete_callback(&hdr, payload);
			break;
		default:
			free(payload);
			logmsg("unexpected %s frame from the router; ignored",
			       ava_wire_kind_name(hdr.kind));
			break;
		}
	}
	/* Router gone: nothing can reach the guests any more. */
	pthread_mutex_lock(&g_lock);
	g_router_gone = true;
	wake_cb_waiters_locked(0);
	pthread_mutex_unlock(&g_lock);
	completion_stop();
	return 0;
}
