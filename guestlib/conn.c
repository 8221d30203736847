/* SPDX-License-Identifier: MIT */
/*
 * The connections (conn.h): connecting and HELLO, the receiver thread, the
 * senders, the dead state, deferred errors, fork.
 *
 * Nothing from the router is trusted: every reply is checked against the
 * ABI description before a byte is copied into application memory
 * (marshal.c). A broken channel turns every later call into the spec's
 * native failure value.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "callback.h"
#include "conn.h"
#include "late.h"
#include "proxy.h"
#include "util.h"

/* The connection table; see conn.h for the lock order. */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns[AVA_GUESTLIB_MAX_APIS];
static unsigned n_conns;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Marks the connection dead and wakes every waiter. Caller holds c->lock. */
static void mark_dead_locked(struct conn *c, uint16_t status)
{
	if (c->state == -1)
		return;
	c->state = -1;
	c->dead_status = status;
	for (struct waiter *w = c->waiters; w; w = w->next) {
		w->done = true;
		w->status = status;
		pthread_cond_signal(&w->cond);
	}
	c->waiters = NULL;
	ava_guestlib_late_drop_all_locked(c);
	pthread_cond_broadcast(&c->cb_cond);
	if (c->t)
		ava_transport_shutdown(c->t);
}

void ava_guestlib_conn_mark_dead(struct conn *c, uint16_t status, const char *why)
{
	pthread_mutex_lock(&c->lock);
	bool report = !c->dead_reported && c->state != -1;
	c->dead_reported = true;
	mark_dead_locked(c, status);
	pthread_mutex_unlock(&c->lock);
	if (c->api->proxy_dispatch)
		ava_guestlib_proxy_drop_all(c);
	if (report)
		ava_guestlib_say("%s session ended (%s): %s; further calls fail", c->api->abi->name,
				 ava_wire_status_name(status), why);
}

/*
 * The router refused an asynchronous call (REPLY with DEFERRED_ERROR, a
 * non-OK status, no payload, the call's seq and function id; no thread
 * waits for it): keep the status's native error for the next synchronous
 * call, as for an asynchronous call that failed in the server.
 */
static int remember_refused_async(struct conn *c, const struct ava_wire_header *hdr)
{
	const struct ava_abi_api *abi = c->api->abi;
	if (hdr->len_bytes != 0 || hdr->call_id >= abi->n_fns ||
	    !(abi->fns[hdr->call_id].flags & AVA_ABI_FN_MAY_ASYNC))
		return -EPROTO;
	const struct ava_gen_errors *e = c->api->fns[hdr->call_id].errors.ret;
	const void *value = e ? e->on_status[hdr->status] : NULL;
	if (ava_guestlib_debug())
		ava_guestlib_say("asynchronous %s: %s", abi->fns[hdr->call_id].name,
				 ava_wire_status_name(hdr->status));
	if (!value || e->size_bytes > AVA_ABI_MAX_SCALAR_BYTES)
		return 0; /* no native error to report it with */
	pthread_mutex_lock(&c->lock);
	if (!c->deferred_pending) {
		c->deferred_pending = true;
		c->deferred_fn = hdr->call_id;
		memcpy(c->deferred_value, value, e->size_bytes);
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/*
 * OUTPUT: what the API server's process printed (kernel printf) goes to this
 * process's fd 1 with write(2), before the receiver reads the next frame, so
 * it is out before the REPLY that follows it is seen. It bypasses stdio: the
 * application's own buffered stdout interleaves with it only at its flush
 * points (a line-buffered or flushed stdout keeps the native order).
 * Returns 0, or -EPROTO for a frame that breaks the rules.
 */
static int write_output(const struct ava_wire_header *hdr, const uint8_t *payload)
{
	if (hdr->call_id || hdr->seq || hdr->thread_id || hdr->flags || hdr->status ||
	    hdr->len_bytes == 0 || hdr->len_bytes > AVA_WIRE_OUTPUT_MAX_BYTES)
		return -EPROTO;
	size_t off = 0;
	while (off < hdr->len_bytes) {
		ssize_t n = write(STDOUT_FILENO, payload + off, hdr->len_bytes - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
			(void)poll(&p, 1, -1);
			continue;
		}
		if (n <= 0)
			break; /* stdout is closed or full for good: lost, as it would be natively */
		off += (size_t)n;
	}
	return 0;
}

/* A REPLY, handed to the thread waiting for it (it takes payload); false if none waits. */
static bool take_reply(struct conn *c, const struct ava_wire_header *hdr, uint8_t *payload)
{
	pthread_mutex_lock(&c->lock);
	struct waiter **pp = &c->waiters;
	while (*pp && (*pp)->seq != hdr->seq)
		pp = &(*pp)->next;
	struct waiter *w = *pp;
	if (w) {
		*pp = w->next;
		w->done = true;
		w->status = hdr->status;
		w->flags = hdr->flags;
		w->payload = payload;
		w->len = hdr->len_bytes;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return w != NULL;
}

/* A BYE: the session ended, for the reason its text gives. */
static void take_bye(struct conn *c, const struct ava_wire_header *hdr, const uint8_t *payload)
{
	char why[256];
	size_t n = hdr->len_bytes < sizeof(why) - 1 ? hdr->len_bytes : sizeof(why) - 1;
	for (size_t i = 0; i < n; i++) /* keep the message printable */
		why[i] = (payload[i] >= 0x20 && payload[i] < 0x7f) ? (char)payload[i] : '?';
	why[n] = '\0';
	uint16_t st = hdr->status != AVA_STATUS_OK ? hdr->status : AVA_STATUS_SERVER_GONE;
	ava_guestlib_conn_mark_dead(c, st, n ? why : "no reason given");
}

/*
 * One frame from the router, on the receiver thread (it takes payload).
 * Returns 0, or -1 once the connection is marked dead: a BYE, or a frame
 * that breaks the rules.
 */
static int take_frame(struct conn *c, const struct ava_wire_header *hdr, uint8_t *payload)
{
	const char *why = NULL;
	switch (hdr->kind) {
	case AVA_WIRE_REPLY:
		if ((hdr->flags & AVA_WIRE_F_DEFERRED_ERROR) && hdr->status != AVA_STATUS_OK) {
			free(payload);
			if (remember_refused_async(c, hdr) < 0)
				why = "unusable refusal of an async call";
		} else if (!take_reply(c, hdr, payload)) {
			free(payload);
			why = "reply for a call that is not outstanding";
		}
		break;
	case AVA_WIRE_DATA: {
		const char *data_why = NULL;
		if (ava_guestlib_late_take_data(c, hdr, payload, &data_why) < 0)
			why = data_why;
		free(payload);
		break;
	}
	case AVA_WIRE_OUTPUT:
		if (write_output(hdr, payload) < 0)
			why = "malformed OUTPUT frame";
		free(payload);
		break;
	case AVA_WIRE_CALLBACK:
		if (hdr->call_id >= c->api->abi->n_callbacks ||
		    ava_guestlib_callback_queue(c, hdr, payload) < 0) {
			free(payload);
			why = "unusable callback frame";
		}
		break;
	case AVA_WIRE_BYE:
		take_bye(c, hdr, payload);
		free(payload);
		return -1;
	default:
		free(payload);
		why = "unexpected frame kind from the router";
		break;
	}
	if (!why)
		return 0;
	ava_guestlib_conn_mark_dead(c, AVA_STATUS_MALFORMED, why);
	return -1;
}

static void *rx_thread_main(void *arg)
{
	struct conn *c = arg;
	for (;;) {
		struct ava_wire_header hdr;
		uint8_t *payload = NULL;
		const char *reason = NULL;
		int r = ava_transport_recv_frame(c->t, AVA_WIRE_MAX_PAYLOAD_BYTES, &hdr, &payload,
						 &reason);
		if (r == -EPIPE) {
			ava_guestlib_conn_mark_dead(c, AVA_STATUS_SERVER_GONE,
						    "the router closed the connection");
			return NULL;
		}
		if (r < 0) {
			char why[160];
			snprintf(why, sizeof(why), "bad frame from the router: %s",
				 reason ? reason : strerror(-r));
			ava_guestlib_conn_mark_dead(c, AVA_STATUS_MALFORMED, why);
			return NULL;
		}
		if (hdr.session != 0) {
			free(payload);
			ava_guestlib_conn_mark_dead(c, AVA_STATUS_MALFORMED,
						    "router sent a nonzero session field");
			return NULL;
		}
		if (take_frame(c, &hdr, payload) < 0)
			return NULL;
	}
}

int ava_guestlib_conn_send(struct conn *c, const struct ava_wire_header *hdr, const void *payload,
			   size_t len)
{
	pthread_mutex_lock(&c->send_lock);
	int r = ava_transport_send_frame(c->t, hdr, payload, len);
	pthread_mutex_unlock(&c->send_lock);
	return r;
}

int ava_guestlib_conn_send_streamed(struct conn *c, const struct ava_wire_header *call,
				    const void *payload, size_t payload_len, const void *bulk,
				    size_t len)
{
	struct ava_wire_header h = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_CHUNK,
		.call_id = call->call_id,
		.seq = call->seq,
	};
	pthread_mutex_lock(&c->send_lock);
	int r = ava_transport_send_frame(c->t, call, payload, payload_len);
	for (size_t off = 0; r == 0 && off < len;) {
		size_t n =
		    len - off < AVA_WIRE_CHUNK_MAX_BYTES ? len - off : AVA_WIRE_CHUNK_MAX_BYTES;
		h.len_bytes = (uint32_t)n;
		r = ava_transport_send_frame(c->t, &h, (const uint8_t *)bulk + off, n);
		off += n;
	}
	pthread_mutex_unlock(&c->send_lock);
	return r;
}

/*
 * HELLO and its HELLO_REPLY status. A refusal by policy is followed by a
 * BYE whose text says why (which channel, which API): copied to why.
 */
static int hello(struct conn *c, char *why, size_t why_len)
{
	why[0] = '\0';
	const char *name = c->api->abi->name;
	size_t n = strlen(name);
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	int r = ava_wire_put_u32(&b, (uint32_t)n);
	if (r == 0)
		r = ava_wire_put_bytes(&b, name, n);
	if (r == 0)
		r = ava_wire_put_u64(&b, c->api->abi->hash);
	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_HELLO,
		.len_bytes = (uint32_t)b.len,
	};
	if (r == 0)
		r = ava_transport_send_frame(c->t, &hdr, b.data, b.len);
	ava_wire_buf_fini(&b);
	if (r < 0)
		return AVA_STATUS_SERVER_GONE;

	uint8_t *payload = NULL;
	const char *reason = NULL;
	r = ava_transport_recv_frame(c->t, 4096, &hdr, &payload, &reason);
	if (r < 0)
		return AVA_STATUS_SERVER_GONE;
	int status = hdr.status;
	if (hdr.kind == AVA_WIRE_BYE && status == AVA_STATUS_OK)
		status = AVA_STATUS_SERVER_GONE;
	else if (hdr.kind != AVA_WIRE_HELLO_REPLY && hdr.kind != AVA_WIRE_BYE)
		status = AVA_STATUS_MALFORMED;
	free(payload);
	payload = NULL;
	if (hdr.kind == AVA_WIRE_HELLO_REPLY && status == AVA_STATUS_REFUSED &&
	    ava_transport_recv_frame(c->t, 4096, &hdr, &payload, &reason) == 0 &&
	    hdr.kind == AVA_WIRE_BYE) {
		size_t k = hdr.len_bytes < why_len - 1 ? hdr.len_bytes : why_len - 1;
		for (size_t i = 0; i < k; i++) /* keep the message printable */
			why[i] = (payload[i] >= 0x20 && payload[i] < 0x7f) ? (char)payload[i] : '?';
		why[k] = '\0';
	}
	free(payload);
	return status;
}

static void atfork_child(void)
{
	/*
	 * The child has the parent's socket but none of its threads: give it a
	 * fresh, unconnected state. Its first call opens its own session (the
	 * parent's handles mean nothing there).
	 */
	for (unsigned i = 0; i < n_conns; i++) {
		struct conn *c = conns[i];
		if (c->t)
			ava_transport_free(c->t); /* closes only the child's copy */
		c->t = NULL;
		pthread_mutex_init(&c->lock, NULL);
		pthread_mutex_init(&c->send_lock, NULL);
		pthread_cond_init(&c->cb_cond, NULL);
		c->state = 0;
		c->dead_reported = false;
		c->waiters = NULL;
		c->cb_head = c->cb_tail = NULL;
		c->cb_thread_started = false;
		c->deferred_pending = false;
		c->transfers = NULL; /* the parent's; its DATA never reaches the child */
		ava_guestlib_proxy_registry_init(&c->proxies);
	}
	ava_guestlib_proxy_atfork_child();
	for (unsigned i = 0; i < n_conns; i++)
		if (conns[i]->api->proxy_dispatch)
			ava_guestlib_proxy_drop_all(conns[i]);
	pthread_mutex_init(&conns_lock, NULL);
}

static void install_atfork(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

/*
 * Is this process an AvA API server or router? Loaded there (an ICD
 * registered system-wide is loaded by the server's own OpenCL loader), the
 * guest library must not connect back to the router it serves.
 */
static bool inside_ava_service(void)
{
	const size_t len = 4096; /* on the heap: this runs on the application's thread */
	char *exe = malloc(len);
	bool inside = false;
	ssize_t n = exe ? readlink("/proc/self/exe", exe, len - 1) : -1;
	if (n > 0) {
		exe[n] = '\0';
		const char *base = strrchr(exe, '/');
		base = base ? base + 1 : exe;
		inside = strncmp(base, "ava-server-", 11) == 0 || strcmp(base, "avarouterd") == 0;
	}
	free(exe);
	return inside;
}

/*
 * Opens a new connection (state 0): connect, HELLO, the receiver thread.
 * Leaves it up (1) or dead (-1, with the status calls fail with), having
 * said why on stderr unless quiet and the router is just not there. Caller
 * holds conns_lock.
 */
static void conn_open(struct conn *c, bool quiet)
{
	const struct ava_guestlib_api *api = c->api;
	const char *path = getenv("AVA_ROUTER_SOCKET");
	if (!path || !*path)
		path = AVA_GUESTLIB_DEFAULT_SOCKET;
	int r = inside_ava_service() ? -ENOTCONN : ava_transport_unix_connect(path, &c->t);
	int st = AVA_STATUS_SERVER_GONE;
	char why[256] = "";
	if (r == -ENOTCONN) {
		c->t = NULL; /* an AvA service process: never a guest */
	} else if (r < 0 && quiet && !ava_guestlib_debug()) {
		c->t = NULL;
	} else if (r < 0) {
		ava_guestlib_say("cannot reach the AvA router at %s (%s); every %s call will fail "
				 "(run the program under ava-run, or set AVA_ROUTER_SOCKET)",
				 path, strerror(-r), api->abi->name);
		c->t = NULL;
	} else {
		st = hello(c, why, sizeof(why));
		if (st == AVA_STATUS_OK &&
		    pthread_create(&c->rx_thread, NULL, rx_thread_main, c) == 0) {
			pthread_detach(c->rx_thread);
			c->state = 1;
		} else if (st == AVA_STATUS_UNKNOWN_API) {
			ava_guestlib_say("the router at %s does not serve the %s API", path,
					 api->abi->name);
		} else if (st == AVA_STATUS_ABI_MISMATCH) {
			ava_guestlib_say("this %s guest library and the router's manifest differ "
					 "(rebuild or reinstall one of them)",
					 api->abi->name);
		} else if (why[0]) {
			ava_guestlib_say("the router at %s refused the %s session: %s", path,
					 api->abi->name, why);
		} else {
			ava_guestlib_say(
			    "the router at %s refused the %s session (%s)", path, api->abi->name,
			    ava_wire_status_name(st == AVA_STATUS_OK ? AVA_STATUS_INTERNAL
								     : (unsigned)st));
		}
	}
	if (c->state != 1) {
		c->state = -1;
		c->dead_reported = true;
		c->dead_status = st == AVA_STATUS_OK ? AVA_STATUS_INTERNAL : (uint16_t)st;
	}
}

struct conn *ava_guestlib_conn_get(const struct ava_guestlib_api *api, bool quiet,
				   uint16_t *ret_status)
{
	pthread_once(&atfork_once, install_atfork);
	pthread_mutex_lock(&conns_lock);
	struct conn *c = NULL;
	for (unsigned i = 0; i < n_conns; i++)
		if (conns[i]->api == api)
			c = conns[i];
	if (!c && n_conns < AVA_GUESTLIB_MAX_APIS) {
		c = calloc(1, sizeof(*c));
		if (c) {
			c->api = api;
			pthread_mutex_init(&c->lock, NULL);
			pthread_mutex_init(&c->send_lock, NULL);
			pthread_cond_init(&c->cb_cond, NULL);
			ava_guestlib_proxy_registry_init(&c->proxies);
			atomic_init(&c->next_seq, 1);
			conns[n_conns++] = c;
		}
	}
	if (!c) {
		pthread_mutex_unlock(&conns_lock);
		*ret_status = AVA_STATUS_NO_MEMORY;
		return NULL;
	}
	if (c->state == 0)
		conn_open(c, quiet);
	pthread_mutex_unlock(&conns_lock);
	if (c->state != 1) {
		*ret_status = c->dead_status;
		return NULL;
	}
	return c;
}

int ava_guestlib_connect(const struct ava_guestlib_api *api, int quiet)
{
	uint16_t status = AVA_STATUS_OK;
	if (inside_ava_service())
		return -ENOTCONN;
	return ava_guestlib_conn_get(api, quiet != 0, &status) ? 0 : -ECONNREFUSED;
}

void ava_guestlib_conn_deliver_deferred(struct conn *c, const struct ava_guestlib_fn *gf, void *ret)
{
	pthread_mutex_lock(&c->lock);
	if (c->deferred_pending && ret && gf->errors.ret) {
		const struct ava_guestlib_fn *failed = &c->api->fns[c->deferred_fn];
		const struct ava_gen_errors *e = gf->errors.ret;
		bool ok_now = e->success && memcmp(ret, e->success, e->size_bytes) == 0;
		if (failed->errors.ret == e && ok_now) {
			memcpy(ret, c->deferred_value, e->size_bytes);
			c->deferred_pending = false;
			if (ava_guestlib_debug())
				ava_guestlib_say(
				    "%s reports the failure of an earlier asynchronous %s",
				    gf->abi->name, failed->abi->name);
		}
	}
	pthread_mutex_unlock(&c->lock);
}

void ava_guestlib_conn_remember_deferred(struct conn *c, uint32_t fn_id,
					 const struct ava_abi_view *v)
{
	const struct ava_abi_fn *fn = &c->api->abi->fns[fn_id];
	if (fn->ret.kind != AVA_ABI_SCALAR || !v->data)
		return;
	pthread_mutex_lock(&c->lock);
	if (!c->deferred_pending) {
		c->deferred_pending = true;
		c->deferred_fn = fn_id;
		memcpy(c->deferred_value, v->data, fn->ret.size_bytes);
	}
	pthread_mutex_unlock(&c->lock);
}
