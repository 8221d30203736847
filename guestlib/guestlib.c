/* SPDX-License-Identifier: MIT */
/*
 * The guest runtime: marshals calls described by generated descriptors, sends
 * them to the router and waits for replies; runs callbacks the server forwards.
 *
 * One connection (session) per API per process, opened on the first call.
 * A receiver thread reads every frame from the router: replies are handed to
 * the thread that waits for them (matched by seq), callbacks are queued to a
 * callback thread. So a thread blocked in a long call never stalls the others,
 * and a callback may itself call into the API.
 *
 * Nothing from the router is trusted: every reply is checked against the ABI
 * description before a byte is copied into application memory. A broken
 * channel turns every later call into the spec's native failure value.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ava/guestlib.h>
#include <ava/transport.h>

#include "hooks.h"

#define AVA_GUESTLIB_MAX_APIS	      8
#define AVA_GUESTLIB_MAX_CALLBACK_FNS 4096
/* Freed proxies kept readable (dispatch intact) before their memory is reused. */
#define AVA_GUESTLIB_PROXY_QUARANTINE 1024

/*
 * What the application holds when the spec says ava_handle_proxy(symbol): a
 * guest allocation whose first member points at the dispatch table, so an
 * ICD loader can find our entry points from any handle.
 */
struct proxy {
	const void *dispatch; /* must stay first */
	uint64_t id;	      /* the session's handle id; 0 once retired */
	uint32_t refs;	      /* the guest's references, as the server counts them */
	struct proxy *next_id, *next_ptr;
};

/* Live proxies of one session, by id and by address. Under its own lock. */
struct proxy_registry {
	pthread_mutex_t lock;
	struct proxy **by_id, **by_ptr;
	size_t n_buckets; /* a power of two, or 0 before the first proxy */
	size_t n;
};

/* One thread's pending synchronous call. Lives on that thread's stack. */
struct waiter {
	struct waiter *next;
	uint64_t seq;
	bool done;
	uint16_t status;
	uint16_t flags;
	uint8_t *payload; /* owned once done */
	uint32_t len;
	pthread_cond_t cond;
};

/*
 * A late out buffer (AVA_ABI_V_LATE) of a call: where its DATA frame's bytes
 * go. Entered before the CALL is sent; removed by its DATA frame, by a
 * REPLY whose status is not OK (the call did not run), or when the session
 * ends.
 */
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

/*
 * An open mapping (a call whose result is an AVA_ABI_MAP): the memory the
 * application got, and the server's id for it. Removed while its unmap
 * runs, and for good once that succeeds.
 */
struct mapping {
	struct mapping *next;
	void *ptr;
	uint64_t id;
	size_t len_bytes;
	bool writable;
	bool owned; /* ptr was allocated here (else the application's, from the placer) */
	/*
	 * A rect mapping: ptr holds the rect as shape lays it out, the wire
	 * its wire_bytes packed (else wire_bytes is len_bytes).
	 */
	bool rect;
	struct ava_gen_rect shape;
	size_t wire_bytes;
};

struct cb_item {
	struct cb_item *next;
	struct ava_wire_header hdr;
	uint8_t *payload;
};

struct conn {
	const struct ava_guestlib_api *api;
	pthread_mutex_t lock;
	int state; /* 0 new, 1 up, -1 dead */
	uint16_t dead_status;
	bool dead_reported;
	ava_transport *t;
	/*
	 * Held around every frame sent after HELLO, and across a streamed CALL
	 * and all its CHUNKs, which nothing else may come between.
	 */
	pthread_mutex_t send_lock;
	pthread_t rx_thread;
	struct waiter *waiters;
	atomic_uint_fast64_t next_seq;

	/* Function pointers handed to the server as callback tokens (index + 1). */
	void *cb_fns[AVA_GUESTLIB_MAX_CALLBACK_FNS];
	uint32_t n_cb_fns;

	/* Callbacks waiting for the callback thread. */
	struct cb_item *cb_head, *cb_tail;
	pthread_cond_t cb_cond;
	bool cb_thread_started;
	pthread_t cb_thread;

	/* Late out buffers whose DATA has not come yet. */
	struct transfer *transfers;
	uint64_t next_transfer_id;

	/* Open mappings, newest first. */
	struct mapping *mappings;

	/* An asynchronous failure not yet reported (see deliver_deferred). */
	bool deferred_pending;
	uint32_t deferred_fn;
	uint8_t deferred_value[AVA_ABI_MAX_SCALAR_BYTES];

	/* api->proxy_dispatch: the proxies handed to the application. */
	struct proxy_registry proxies;
};

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns[AVA_GUESTLIB_MAX_APIS];
static unsigned n_conns;
static atomic_uint next_thread_id = 1;
static _Thread_local uint32_t tls_thread_id;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static bool debug_enabled(void)
{
	const char *v = getenv("AVA_DEBUG");
	return v && *v && strcmp(v, "0") != 0;
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ava: %s\n", line);
}

static uint32_t thread_id(void)
{
	if (tls_thread_id == 0)
		tls_thread_id = atomic_fetch_add(&next_thread_id, 1);
	return tls_thread_id;
}

static size_t value_size(const struct ava_abi_value *v)
{
	switch (v->kind) {
	case AVA_ABI_SCALAR:
		return v->size_bytes;
	case AVA_ABI_HANDLE:
	case AVA_ABI_CALLBACK:
	case AVA_ABI_USERDATA:
	case AVA_ABI_STRING:
	case AVA_ABI_BUFFER:
	case AVA_ABI_MAP:
		return sizeof(void *);
	default:
		return 0;
	}
}

/* Writes the native value for a failed call into ret and the errcode argument. */
static void set_error(const struct ava_guestlib_fn *gf, void *const *args, void *ret,
		      unsigned status)
{
	const struct ava_gen_fn_errors *e = &gf->errors;
	if (status >= AVA_STATUS_COUNT)
		status = AVA_STATUS_INTERNAL;
	if (ret) {
		size_t n = value_size(&gf->abi->ret);
		if (e->ret && e->ret->on_status[status] && e->ret->size_bytes == n)
			memcpy(ret, e->ret->on_status[status], n);
		else
			memset(ret, 0, n);
	}
	if (e->errcode_arg >= 0 && e->errcode && e->errcode->on_status[status] && args) {
		void *p = *(void *const *)args[e->errcode_arg];
		if (p)
			memcpy(p, e->errcode->on_status[status], e->errcode->size_bytes);
	}
}

static void set_success(const struct ava_guestlib_fn *gf, void *ret)
{
	if (!ret)
		return;
	size_t n = value_size(&gf->abi->ret);
	if (gf->errors.ret && gf->errors.ret->success && gf->errors.ret->size_bytes == n)
		memcpy(ret, gf->errors.ret->success, n);
	else
		memset(ret, 0, n);
}

/* ---- proxies ---- */

/* Tells the API's guest sources that the application's handle p is gone (no lock held). */
static void proxy_tell_gone(struct conn *c, const struct proxy *p, uint64_t id)
{
	ava_guestlib_hooks_handle_gone(c->api, (uint16_t)AVA_HANDLE_TYPE_OF(id), p);
}

static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;
static struct proxy *quarantine[AVA_GUESTLIB_PROXY_QUARANTINE];
static unsigned quarantine_next;

static size_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (size_t)x;
}

/*
 * A proxy the application may still point at (a released object, a session
 * that ended): unregistered, so lookups miss, but its memory stays readable
 * for a while, dispatch included, so a loader that reads a stale handle's
 * dispatch table reaches us and gets the invalid-handle error, not freed
 * memory. The oldest retired proxy is freed when the quarantine is full.
 */
static void proxy_retire(struct proxy *p)
{
	p->id = 0;
	p->next_id = p->next_ptr = NULL;
	pthread_mutex_lock(&quarantine_lock);
	struct proxy *old = quarantine[quarantine_next];
	quarantine[quarantine_next] = p;
	quarantine_next = (quarantine_next + 1) % AVA_GUESTLIB_PROXY_QUARANTINE;
	pthread_mutex_unlock(&quarantine_lock);
	free(old);
}

/* Grows the tables to at least twice n. Caller holds the lock. */
static int registry_grow(struct proxy_registry *reg)
{
	size_t nb = reg->n_buckets ? reg->n_buckets * 2 : 64;
	struct proxy **by_id = calloc(nb, sizeof(*by_id));
	struct proxy **by_ptr = calloc(nb, sizeof(*by_ptr));
	if (!by_id || !by_ptr) {
		free(by_id);
		free(by_ptr);
		return -ENOMEM;
	}
	for (size_t b = 0; b < reg->n_buckets; b++) {
		struct proxy *p = reg->by_id[b];
		while (p) {
			struct proxy *next = p->next_id;
			size_t h = hash_u64(p->id) & (nb - 1);
			p->next_id = by_id[h];
			by_id[h] = p;
			h = hash_u64((uint64_t)(uintptr_t)p) & (nb - 1);
			p->next_ptr = by_ptr[h];
			by_ptr[h] = p;
			p = next;
		}
	}
	free(reg->by_id);
	free(reg->by_ptr);
	reg->by_id = by_id;
	reg->by_ptr = by_ptr;
	reg->n_buckets = nb;
	return 0;
}

/* The live proxy at address ptr, or NULL. Caller holds the lock. */
static struct proxy *registry_find_ptr(struct proxy_registry *reg, const void *ptr)
{
	if (!reg->n_buckets)
		return NULL;
	struct proxy *p = reg->by_ptr[hash_u64((uint64_t)(uintptr_t)ptr) & (reg->n_buckets - 1)];
	while (p && (const void *)p != ptr)
		p = p->next_ptr;
	return p;
}

static void registry_remove(struct proxy_registry *reg, struct proxy *p)
{
	struct proxy **pp = &reg->by_id[hash_u64(p->id) & (reg->n_buckets - 1)];
	while (*pp != p)
		pp = &(*pp)->next_id;
	*pp = p->next_id;
	pp = &reg->by_ptr[hash_u64((uint64_t)(uintptr_t)p) & (reg->n_buckets - 1)];
	while (*pp != p)
		pp = &(*pp)->next_ptr;
	*pp = p->next_ptr;
	reg->n--;
}

/*
 * The proxy for handle id (the same one every time while it lives), made on
 * first sight; add_ref adds a guest reference. NULL for id 0, or out of memory.
 */
static void *proxy_of_id(struct conn *c, uint64_t id, bool add_ref)
{
	struct proxy_registry *reg = &c->proxies;
	if (id == 0)
		return NULL;
	pthread_mutex_lock(&reg->lock);
	struct proxy *p = NULL;
	if (reg->n_buckets) {
		p = reg->by_id[hash_u64(id) & (reg->n_buckets - 1)];
		while (p && p->id != id)
			p = p->next_id;
	}
	if (!p && (reg->n < reg->n_buckets || registry_grow(reg) == 0)) {
		p = calloc(1, sizeof(*p));
		if (p) {
			p->dispatch = c->api->proxy_dispatch;
			p->id = id;
			size_t h = hash_u64(id) & (reg->n_buckets - 1);
			p->next_id = reg->by_id[h];
			reg->by_id[h] = p;
			h = hash_u64((uint64_t)(uintptr_t)p) & (reg->n_buckets - 1);
			p->next_ptr = reg->by_ptr[h];
			reg->by_ptr[h] = p;
			reg->n++;
		}
	}
	if (p && add_ref)
		p->refs++;
	pthread_mutex_unlock(&reg->lock);
	if (!p)
		say("out of memory for a %s handle; the application gets NULL", c->api->abi->name);
	return p;
}

/*
 * The handle id of what the application passed: 0 for NULL, the proxy's id
 * for a live proxy. False for anything else (a stray, forged or released
 * pointer), which is never dereferenced.
 */
static bool id_of_proxy(struct conn *c, const void *ptr, uint64_t *ret_id)
{
	struct proxy_registry *reg = &c->proxies;
	if (!ptr) {
		*ret_id = 0;
		return true;
	}
	pthread_mutex_lock(&reg->lock);
	struct proxy *p = registry_find_ptr(reg, ptr);
	if (p)
		*ret_id = p->id;
	pthread_mutex_unlock(&reg->lock);
	return p != NULL;
}

/* Mirrors the server's count: delta +1 (retain) or -1 (release, gone at none left). */
static void proxy_count(struct conn *c, const void *ptr, int delta)
{
	struct proxy_registry *reg = &c->proxies;
	uint64_t id = 0;
	pthread_mutex_lock(&reg->lock);
	struct proxy *p = registry_find_ptr(reg, ptr);
	if (p && delta > 0) {
		p->refs++;
	} else if (p) {
		if (p->refs > 0)
			p->refs--;
		id = p->id;
		if (p->refs == 0)
			registry_remove(reg, p);
		else
			p = NULL;
	}
	pthread_mutex_unlock(&reg->lock);
	if (p && delta < 0) {
		/* before retiring: the pointer cannot be handed out again meanwhile */
		proxy_tell_gone(c, p, id);
		proxy_retire(p);
	}
}

/* The session ended: none of its handles means anything any more. */
static void proxies_drop_all(struct conn *c)
{
	struct proxy_registry *reg = &c->proxies;
	pthread_mutex_lock(&reg->lock);
	struct proxy **by_id = reg->by_id;
	size_t nb = reg->n_buckets;
	reg->by_id = reg->by_ptr = NULL;
	reg->n_buckets = reg->n = 0;
	pthread_mutex_unlock(&reg->lock);
	for (size_t b = 0; b < nb; b++) {
		struct proxy *p = by_id[b];
		while (p) {
			struct proxy *next = p->next_id;
			proxy_tell_gone(c, p, p->id);
			proxy_retire(p);
			p = next;
		}
	}
	free(by_id);
}

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
	while (c->transfers) {
		struct transfer *t = c->transfers;
		c->transfers = t->next;
		free(t);
	}
	pthread_cond_broadcast(&c->cb_cond);
	if (c->t)
		ava_transport_shutdown(c->t);
}

/* Forgets the transfers of the call with this seq. Caller holds c->lock. */
static void drop_transfers_locked(struct conn *c, uint64_t seq)
{
	for (struct transfer **pp = &c->transfers; *pp;) {
		struct transfer *t = *pp;
		if (t->seq == seq) {
			*pp = t->next;
			free(t);
		} else {
			pp = &t->next;
		}
	}
}

/*
 * A DATA frame: the bytes of a late out buffer, copied into the application's
 * memory here, on the receiver thread, so they are in place before any later
 * frame (the REPLY of a wait, a callback) lets the application see that the
 * transfer completed. Returns 0, or -EPROTO with *ret_why.
 */
static int take_data(struct conn *c, const struct ava_wire_header *hdr, const uint8_t *payload,
		     const char **ret_why)
{
	struct ava_wire_cursor cur = { payload, payload ? payload + hdr->len_bytes : payload };
	uint64_t id;
	if (hdr->flags || hdr->thread_id || ava_wire_get_u64(&cur, &id) < 0) {
		*ret_why = "DATA frame without a transfer id";
		return -EPROTO;
	}
	pthread_mutex_lock(&c->lock);
	struct transfer **pp = &c->transfers;
	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	struct transfer *t = *pp;
	size_t n = (size_t)(cur.end - cur.cur);
	if (!t) {
		pthread_mutex_unlock(&c->lock);
		*ret_why = "DATA for a transfer that is not outstanding";
		return -EPROTO;
	}
	size_t left = t->len_bytes - t->done_bytes;
	bool ok_piece =
	    hdr->status == AVA_STATUS_OK
		? (left == 0 ? n == 0 : n >= 1 && n <= left && n <= AVA_WIRE_CHUNK_MAX_BYTES)
		: n == 0 && t->done_bytes == 0;
	if (hdr->call_id != t->fn_id || !ok_piece) {
		pthread_mutex_unlock(&c->lock);
		*ret_why = "DATA of the wrong function or size for its transfer";
		return -EPROTO;
	}
	if (n && t->rect)
		ava_gen_rect_unpack_part(&t->shape, cur.cur, t->done_bytes, n, t->dst);
	else if (n)
		memcpy((uint8_t *)t->dst + t->done_bytes, cur.cur, n);
	t->done_bytes += n;
	if (hdr->status == AVA_STATUS_OK && t->done_bytes < t->len_bytes) {
		pthread_mutex_unlock(&c->lock);
		return 0; /* more pieces follow */
	}
	*pp = t->next;
	pthread_mutex_unlock(&c->lock);
	if (hdr->status != AVA_STATUS_OK && debug_enabled())
		say("a late transfer of %s failed remotely (%s)", c->api->abi->fns[t->fn_id].name,
		    ava_wire_status_name(hdr->status));
	free(t);
	return 0;
}

static void mark_dead(struct conn *c, uint16_t status, const char *why)
{
	pthread_mutex_lock(&c->lock);
	bool report = !c->dead_reported && c->state != -1;
	c->dead_reported = true;
	mark_dead_locked(c, status);
	pthread_mutex_unlock(&c->lock);
	if (c->api->proxy_dispatch)
		proxies_drop_all(c);
	if (report)
		say("%s session ended (%s): %s; further calls fail", c->api->abi->name,
		    ava_wire_status_name(status), why);
}

static void *cb_thread_main(void *arg);

/* Queues a callback frame for the callback thread, starting it on first use. */
static int queue_callback(struct conn *c, const struct ava_wire_header *hdr, uint8_t *payload)
{
	struct cb_item *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->hdr = *hdr;
	it->payload = payload;
	pthread_mutex_lock(&c->lock);
	if (!c->cb_thread_started) {
		if (pthread_create(&c->cb_thread, NULL, cb_thread_main, c) != 0) {
			pthread_mutex_unlock(&c->lock);
			free(it);
			return -EAGAIN;
		}
		pthread_detach(c->cb_thread);
		c->cb_thread_started = true;
	}
	if (c->cb_tail)
		c->cb_tail->next = it;
	else
		c->cb_head = it;
	c->cb_tail = it;
	pthread_cond_signal(&c->cb_cond);
	pthread_mutex_unlock(&c->lock);
	return 0;
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
	if (debug_enabled())
		say("asynchronous %s: %s", abi->fns[hdr->call_id].name,
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
			mark_dead(c, AVA_STATUS_SERVER_GONE, "the router closed the connection");
			return NULL;
		}
		if (r < 0) {
			char why[160];
			snprintf(why, sizeof(why), "bad frame from the router: %s",
				 reason ? reason : strerror(-r));
			mark_dead(c, AVA_STATUS_MALFORMED, why);
			return NULL;
		}
		if (hdr.session != 0) {
			free(payload);
			mark_dead(c, AVA_STATUS_MALFORMED, "router sent a nonzero session field");
			return NULL;
		}
		if (hdr.kind == AVA_WIRE_REPLY && (hdr.flags & AVA_WIRE_F_DEFERRED_ERROR) &&
		    hdr.status != AVA_STATUS_OK) {
			free(payload);
			if (remember_refused_async(c, &hdr) < 0) {
				mark_dead(c, AVA_STATUS_MALFORMED,
					  "unusable refusal of an async call");
				return NULL;
			}
		} else if (hdr.kind == AVA_WIRE_REPLY) {
			pthread_mutex_lock(&c->lock);
			struct waiter **pp = &c->waiters;
			while (*pp && (*pp)->seq != hdr.seq)
				pp = &(*pp)->next;
			struct waiter *w = *pp;
			if (w) {
				*pp = w->next;
				w->done = true;
				w->status = hdr.status;
				w->flags = hdr.flags;
				w->payload = payload;
				w->len = hdr.len_bytes;
				pthread_cond_signal(&w->cond);
			}
			pthread_mutex_unlock(&c->lock);
			if (!w) {
				free(payload);
				mark_dead(c, AVA_STATUS_MALFORMED,
					  "reply for a call that is not outstanding");
				return NULL;
			}
		} else if (hdr.kind == AVA_WIRE_DATA) {
			const char *why = NULL;
			int dr = take_data(c, &hdr, payload, &why);
			free(payload);
			if (dr < 0) {
				mark_dead(c, AVA_STATUS_MALFORMED, why);
				return NULL;
			}
		} else if (hdr.kind == AVA_WIRE_OUTPUT) {
			int wr = write_output(&hdr, payload);
			free(payload);
			if (wr < 0) {
				mark_dead(c, AVA_STATUS_MALFORMED, "malformed OUTPUT frame");
				return NULL;
			}
		} else if (hdr.kind == AVA_WIRE_CALLBACK) {
			if (hdr.call_id >= c->api->abi->n_callbacks ||
			    queue_callback(c, &hdr, payload) < 0) {
				free(payload);
				mark_dead(c, AVA_STATUS_MALFORMED, "unusable callback frame");
				return NULL;
			}
		} else if (hdr.kind == AVA_WIRE_BYE) {
			char why[256];
			size_t n =
			    hdr.len_bytes < sizeof(why) - 1 ? hdr.len_bytes : sizeof(why) - 1;
			for (size_t i = 0; i < n; i++) /* keep the message printable */
				why[i] = (payload[i] >= 0x20 && payload[i] < 0x7f)
					     ? (char)payload[i]
					     : '?';
			why[n] = '\0';
			free(payload);
			uint16_t st =
			    hdr.status != AVA_STATUS_OK ? hdr.status : AVA_STATUS_SERVER_GONE;
			mark_dead(c, st, n ? why : "no reason given");
			return NULL;
		} else {
			free(payload);
			mark_dead(c, AVA_STATUS_MALFORMED, "unexpected frame kind from the router");
			return NULL;
		}
	}
}

/* Sends one frame after HELLO. Returns 0 or < 0 (the caller marks the connection dead). */
static int conn_send(struct conn *c, const struct ava_wire_header *hdr, const void *payload,
		     size_t len)
{
	pthread_mutex_lock(&c->send_lock);
	int r = ava_transport_send_frame(c->t, hdr, payload, len);
	pthread_mutex_unlock(&c->send_lock);
	return r;
}

/*
 * Sends a CALL whose one streamed argument (bulk, len bytes, straight from
 * the application's memory) follows in CHUNK frames of at most
 * AVA_WIRE_CHUNK_MAX_BYTES, with nothing of this connection in between.
 */
static int conn_send_streamed(struct conn *c, const struct ava_wire_header *call,
			      const void *payload, size_t payload_len, const void *bulk, size_t len)
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

/* Runs one forwarded callback and answers it. */
static void run_callback(struct conn *c, struct cb_item *it)
{
	const struct ava_abi_api *abi = c->api->abi;
	const struct ava_guestlib_callback *cb = &c->api->callbacks[it->hdr.call_id];
	const struct ava_abi_callback *cba = cb->abi;
	struct ava_abi_view views[AVA_ABI_MAX_ARGS];
	char err[160];
	union slot {
		uint8_t b[AVA_ABI_MAX_SCALAR_BYTES];
		void *p;
		long double ld;
	} slots[AVA_ABI_MAX_ARGS], retslot;
	void *argv[AVA_ABI_MAX_ARGS];
	void *owned[AVA_ABI_MAX_ARGS];
	unsigned n_owned = 0;

	if (ava_abi_check_args(abi, cba->n_args, cba->args, 1, it->payload, it->hdr.len_bytes,
			       views, err, sizeof(err)) < 0) {
		char why[220];
		snprintf(why, sizeof(why), "bad callback %s: %s", cba->name, err);
		mark_dead(c, AVA_STATUS_MALFORMED, why);
		return;
	}
	/* The validated payload starts with the u64 function token. */
	uint64_t token = 0;
	struct ava_wire_cursor cur = { it->payload, it->payload + it->hdr.len_bytes };
	if (ava_wire_get_u64(&cur, &token) < 0)
		token = 0;

	pthread_mutex_lock(&c->lock);
	void *fn = (token >= 1 && token <= c->n_cb_fns) ? c->cb_fns[token - 1] : NULL;
	pthread_mutex_unlock(&c->lock);
	if (!fn) {
		mark_dead(c, AVA_STATUS_MALFORMED, "callback token names no registered function");
		return;
	}

	memset(slots, 0, sizeof(slots));
	memset(&retslot, 0, sizeof(retslot));
	for (unsigned i = 0; i < cba->n_args; i++) {
		const struct ava_abi_value *v = &cba->args[i];
		argv[i] = &slots[i];
		switch (v->kind) {
		case AVA_ABI_SCALAR:
			memcpy(slots[i].b, views[i].data, v->size_bytes);
			break;
		case AVA_ABI_HANDLE:
			if (c->api->proxy_dispatch)
				slots[i].p = proxy_of_id(c, views[i].u64, false);
			else
				slots[i].p = (void *)(uintptr_t)views[i].u64;
			break;
		case AVA_ABI_USERDATA:
		case AVA_ABI_CALLBACK:
			slots[i].p = (void *)(uintptr_t)views[i].u64;
			break;
		case AVA_ABI_STRING:
			slots[i].p = views[i].present ? (void *)views[i].data : NULL;
			break;
		case AVA_ABI_BUFFER:
			if (views[i].present) {
				/*
				 * Copy out of the payload so elements are aligned; an
				 * empty buffer is still a pointer, as it was natively.
				 */
				size_t n = (size_t)views[i].count * v->size_bytes;
				void *p = malloc(n ? n : 1);
				if (!p)
					goto out;
				if (n)
					memcpy(p, views[i].data, n);
				owned[n_owned++] = p;
				slots[i].p = p;
			}
			break;
		default:
			break;
		}
	}
	cb->invoke(fn, argv, cba->ret.kind == AVA_ABI_VOID ? NULL : &retslot);

	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	int r = 0;
	if (cba->ret.kind == AVA_ABI_SCALAR)
		r = ava_wire_put_bytes(&b, retslot.b, cba->ret.size_bytes);
	else if (cba->ret.kind == AVA_ABI_HANDLE) {
		uint64_t id = (uint64_t)(uintptr_t)retslot.p;
		if (c->api->proxy_dispatch && !id_of_proxy(c, retslot.p, &id))
			id = 0; /* not one of ours: the server gets NULL */
		r = ava_wire_put_u64(&b, id);
	}
	if (r == 0) {
		struct ava_wire_header hdr = {
			.magic = AVA_WIRE_MAGIC,
			.version = AVA_WIRE_VERSION,
			.kind = AVA_WIRE_CALLBACK_REPLY,
			.len_bytes = (uint32_t)b.len,
			.call_id = it->hdr.call_id,
			.seq = it->hdr.seq,
		};
		if (conn_send(c, &hdr, b.data, b.len) < 0)
			mark_dead(c, AVA_STATUS_SERVER_GONE, "could not answer a callback");
	}
	ava_wire_buf_fini(&b);
out:
	for (unsigned i = 0; i < n_owned; i++)
		free(owned[i]);
}

static void *cb_thread_main(void *arg)
{
	struct conn *c = arg;
	for (;;) {
		pthread_mutex_lock(&c->lock);
		while (!c->cb_head && c->state != -1)
			pthread_cond_wait(&c->cb_cond, &c->lock);
		struct cb_item *it = c->cb_head;
		if (!it) {
			c->cb_thread_started = false;
			pthread_mutex_unlock(&c->lock);
			return NULL;
		}
		c->cb_head = it->next;
		if (!c->cb_head)
			c->cb_tail = NULL;
		pthread_mutex_unlock(&c->lock);
		run_callback(c, it);
		free(it->payload);
		free(it);
	}
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
		pthread_mutex_init(&c->proxies.lock, NULL);
	}
	pthread_mutex_init(&quarantine_lock, NULL);
	for (unsigned i = 0; i < n_conns; i++)
		if (conns[i]->api->proxy_dispatch)
			proxies_drop_all(conns[i]);
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
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	const char *base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	return strncmp(base, "ava-server-", 11) == 0 || strcmp(base, "avarouterd") == 0;
}

/*
 * Returns the connection for api, connecting on first use; NULL with
 * *ret_status if down. quiet: an unreachable router is not reported.
 */
static struct conn *get_conn(const struct ava_guestlib_api *api, bool quiet, uint16_t *ret_status)
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
			pthread_mutex_init(&c->proxies.lock, NULL);
			atomic_init(&c->next_seq, 1);
			conns[n_conns++] = c;
		}
	}
	if (!c) {
		pthread_mutex_unlock(&conns_lock);
		*ret_status = AVA_STATUS_NO_MEMORY;
		return NULL;
	}
	if (c->state == 0) {
		const char *path = getenv("AVA_ROUTER_SOCKET");
		if (!path || !*path)
			path = AVA_GUESTLIB_DEFAULT_SOCKET;
		int r = inside_ava_service() ? -ENOTCONN : ava_transport_unix_connect(path, &c->t);
		int st = AVA_STATUS_SERVER_GONE;
		char why[256] = "";
		if (r == -ENOTCONN) {
			c->t = NULL; /* an AvA service process: never a guest */
		} else if (r < 0 && quiet && !debug_enabled()) {
			c->t = NULL;
		} else if (r < 0) {
			say("cannot reach the AvA router at %s (%s); every %s call will fail "
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
				say("the router at %s does not serve the %s API", path,
				    api->abi->name);
			} else if (st == AVA_STATUS_ABI_MISMATCH) {
				say("this %s guest library and the router's manifest differ "
				    "(rebuild or reinstall one of them)",
				    api->abi->name);
			} else if (why[0]) {
				say("the router at %s refused the %s session: %s", path,
				    api->abi->name, why);
			} else {
				say("the router at %s refused the %s session (%s)", path,
				    api->abi->name,
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
	return get_conn(api, quiet != 0, &status) ? 0 : -ECONNREFUSED;
}

/* Returns the token for a callback function pointer, registering it. 0 for NULL. */
static int callback_token(struct conn *c, void *fn, uint64_t *ret_token)
{
	if (!fn) {
		*ret_token = 0;
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	uint32_t i;
	for (i = 0; i < c->n_cb_fns; i++)
		if (c->cb_fns[i] == fn)
			break;
	if (i == c->n_cb_fns) {
		if (c->n_cb_fns == AVA_GUESTLIB_MAX_CALLBACK_FNS) {
			pthread_mutex_unlock(&c->lock);
			return -ENOSPC;
		}
		c->cb_fns[c->n_cb_fns++] = fn;
	}
	pthread_mutex_unlock(&c->lock);
	*ret_token = (uint64_t)i + 1;
	return 0;
}

/* Which argument named no live object, and the handle type it should have had. */
struct bad_handle {
	int arg; /* -1: not known */
	uint16_t type;
};

/* Records where the dead handle was; returns false, for `return bad_handle_at(...)`. */
static bool bad_handle_at(struct bad_handle *b, unsigned arg, uint16_t type)
{
	b->arg = (int)arg;
	b->type = type;
	return false;
}

/*
 * The native value of one type for a dead handle: the argument's own
 * (ava_invalid_handle_error in ava_argument), else the handle type's
 * (ava_invalid_handle_error_of), else the type's BAD_HANDLE value.
 */
static const void *bad_handle_value(const struct ava_gen_errors *t, const void *const *per_arg,
				    const struct bad_handle *b)
{
	if (b->arg >= 0 && per_arg && per_arg[b->arg])
		return per_arg[b->arg];
	if (b->arg >= 0 && t->on_bad_handle && b->type < t->n_bad_handle &&
	    t->on_bad_handle[b->type])
		return t->on_bad_handle[b->type];
	return t->on_status[AVA_STATUS_BAD_HANDLE];
}

/* set_error for a handle argument that names no live object. */
static void set_bad_handle(const struct ava_guestlib_fn *gf, void *const *args, void *ret,
			   const struct bad_handle *b)
{
	const struct ava_gen_fn_errors *e = &gf->errors;
	set_error(gf, args, ret, AVA_STATUS_BAD_HANDLE);
	if (ret && e->ret && e->ret->size_bytes == value_size(&gf->abi->ret)) {
		const void *v = bad_handle_value(e->ret, e->arg_bad_handle_ret, b);
		if (v)
			memcpy(ret, v, e->ret->size_bytes);
	}
	if (e->errcode_arg >= 0 && e->errcode && args) {
		void *p = *(void *const *)args[e->errcode_arg];
		const void *v = bad_handle_value(e->errcode, e->arg_bad_handle_errcode, b);
		if (p && v)
			memcpy(p, v, e->errcode->size_bytes);
	}
}

static bool handle_ok(uint64_t id, uint16_t type)
{
	return id == 0 || AVA_HANDLE_TYPE_OF(id) == type;
}

/*
 * A value that is not one of our handle ids (a stray or garbage pointer) is
 * the application's mistake: answer it here with the spec's invalid-handle
 * error, as a careful native library would. Sending it would be a protocol
 * violation that ends the whole session.
 */
static bool handles_valid(const struct ava_abi_fn *fn, const struct ava_gen_plan *plan,
			  void *const *args, struct bad_handle *ret_bad)
{
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind == AVA_ABI_HANDLE) {
			if (!handle_ok((uint64_t)(uintptr_t) * (void *const *)args[i],
				       v->handle_type))
				return bad_handle_at(ret_bad, i, v->handle_type);
			continue;
		}
		if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_IN) ||
		    (v->elem != AVA_ABI_ELEM_HANDLE && v->elem != AVA_ABI_ELEM_STRUCT))
			continue;
		const uint8_t *p = *(void *const *)args[i];
		if (!p || plan->count[i] > v->max_count)
			continue; /* encode_args reports the size problem */
		for (uint64_t k = 0; k < plan->count[i]; k++) {
			const uint8_t *el = p + (size_t)k * v->size_bytes;
			uint64_t id;
			if (v->elem == AVA_ABI_ELEM_HANDLE) {
				memcpy(&id, el, 8);
				if (!handle_ok(id, v->handle_type))
					return bad_handle_at(ret_bad, i, v->handle_type);
			}
			for (unsigned f = 0; v->elem == AVA_ABI_ELEM_STRUCT && f < v->n_fields;
			     f++) {
				memcpy(&id, el + v->fields[f].offset_bytes, 8);
				if (!handle_ok(id, v->fields[f].handle_type))
					return bad_handle_at(ret_bad, i, v->fields[f].handle_type);
			}
		}
	}
	return true;
}

/* An 8-byte word of an element or bytes buffer, proxy pointer to handle id. */
static bool word_to_id(struct conn *c, uint8_t *word, bool strict)
{
	void *ptr;
	uint64_t id;
	memcpy(&ptr, word, sizeof(ptr));
	if (!id_of_proxy(c, ptr, &id))
		return !strict; /* a :scan word that is no proxy is plain data */
	memcpy(word, &id, sizeof(id));
	return true;
}

/*
 * With proxies, the arguments as they travel: each handle argument becomes
 * its id, and each input buffer that holds handles (elements, struct fields,
 * typed or :scan words) a translated copy, recorded in owned. out_args[i]
 * points at the value to send. Returns AVA_STATUS_OK, BAD_HANDLE for a
 * pointer that is no live proxy, or NO_MEMORY.
 */
static int proxies_to_ids(struct conn *c, const struct ava_abi_fn *fn,
			  const struct ava_gen_plan *plan, void *const *args, void **out_args,
			  void **slots, void **owned, unsigned *n_owned, struct bad_handle *ret_bad)
{
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		out_args[i] = args[i];
		if (v->kind == AVA_ABI_HANDLE) {
			uint64_t id;
			if (!id_of_proxy(c, *(void *const *)args[i], &id)) {
				bad_handle_at(ret_bad, i, v->handle_type);
				return AVA_STATUS_BAD_HANDLE;
			}
			slots[i] = (void *)(uintptr_t)id;
			out_args[i] = &slots[i];
			continue;
		}
		if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_IN))
			continue;
		bool typed = v->elem == AVA_ABI_ELEM_BYTES && plan->handle_type[i];
		bool scan = v->elem == AVA_ABI_ELEM_BYTES && (v->flags & AVA_ABI_V_SCAN);
		if (v->elem != AVA_ABI_ELEM_HANDLE && v->elem != AVA_ABI_ELEM_STRUCT && !typed &&
		    !scan)
			continue;
		const uint8_t *p = *(void *const *)args[i];
		size_t bytes;
		if (!p || plan->count[i] == 0 || plan->count[i] > v->max_count ||
		    __builtin_mul_overflow((size_t)plan->count[i], (size_t)v->size_bytes, &bytes))
			continue; /* encode_args reports the size problem */
		uint8_t *copy = malloc(bytes);
		if (!copy)
			return AVA_STATUS_NO_MEMORY;
		memcpy(copy, p, bytes);
		owned[(*n_owned)++] = copy;
		slots[i] = copy;
		out_args[i] = &slots[i];
		if (v->elem == AVA_ABI_ELEM_BYTES) {
			for (size_t off = 0; off + 8 <= bytes; off += 8)
				if (!word_to_id(c, copy + off, typed)) {
					bad_handle_at(ret_bad, i, plan->handle_type[i]);
					return AVA_STATUS_BAD_HANDLE;
				}
			continue;
		}
		for (uint64_t k = 0; k < plan->count[i]; k++) {
			uint8_t *el = copy + (size_t)k * v->size_bytes;
			if (v->elem == AVA_ABI_ELEM_HANDLE && !word_to_id(c, el, true)) {
				bad_handle_at(ret_bad, i, v->handle_type);
				return AVA_STATUS_BAD_HANDLE;
			}
			for (unsigned f = 0; v->elem == AVA_ABI_ELEM_STRUCT && f < v->n_fields; f++)
				if (!word_to_id(c, el + v->fields[f].offset_bytes, true)) {
					bad_handle_at(ret_bad, i, v->fields[f].handle_type);
					return AVA_STATUS_BAD_HANDLE;
				}
		}
	}
	return AVA_STATUS_OK;
}

/* An 8-byte handle id in application memory becomes its proxy. */
static void word_to_proxy(struct conn *c, uint8_t *word, bool add_ref)
{
	uint64_t id;
	memcpy(&id, word, sizeof(id));
	void *p = proxy_of_id(c, id, add_ref);
	memcpy(word, &p, sizeof(p));
}

/* Did the call succeed? The server's rule (apiserver result_is_success). */
static bool call_succeeded(const struct ava_guestlib_fn *gf, void *const *args, const void *ret)
{
	const struct ava_gen_fn_errors *e = &gf->errors;
	if (ret && e->ret && e->ret->success)
		return memcmp(ret, e->ret->success, e->ret->size_bytes) == 0;
	if (e->errcode_arg >= 0 && e->errcode && e->errcode->success) {
		const void *p = *(void *const *)args[e->errcode_arg];
		if (p)
			return memcmp(p, e->errcode->success, e->errcode->size_bytes) == 0;
	}
	if (ret && gf->abi->ret.kind == AVA_ABI_HANDLE)
		return *(void *const *)ret != NULL;
	return true;
}

/* After a successful :retains / :deallocates call, the proxies count as the server does. */
static void proxies_count_call(struct conn *c, const struct ava_abi_fn *fn, void *const *args)
{
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind != AVA_ABI_HANDLE || !*(void *const *)args[i])
			continue;
		if (v->flags & AVA_ABI_V_DEALLOCATES)
			proxy_count(c, *(void *const *)args[i], -1);
		else if (v->flags & AVA_ABI_V_RETAINS)
			proxy_count(c, *(void *const *)args[i], +1);
	}
}

/* Each string: u32 n, then n bytes ending in a NUL we add (lengths may be NULL). */
static int encode_strings(struct ava_wire_buf *b, const void *array, uint64_t count,
			  const size_t *lengths, const char **ret_why)
{
	const char *const *strs = array;
	int r = 0;
	for (uint64_t k = 0; k < count && r == 0; k++) {
		if (!strs[k]) {
			r = ava_wire_put_u32(b, 0);
			continue;
		}
		size_t n = lengths && lengths[k] ? lengths[k] : strlen(strs[k]);
		if (n >= UINT32_MAX) {
			*ret_why = "a string in an array is larger than a frame";
			return -EMSGSIZE;
		}
		r = ava_wire_put_u32(b, (uint32_t)n + 1);
		if (r == 0)
			r = ava_wire_put_bytes(b, strs[k], n);
		if (r == 0)
			r = ava_wire_put_u8(b, 0);
	}
	return r;
}

/* Encodes the arguments of a call into b and records what was sent in views. */
static int encode_args(struct conn *c, const struct ava_guestlib_fn *gf,
		       const struct ava_gen_plan *plan, void *const *args,
		       uint64_t *const *blob_caps, struct ava_wire_buf *b,
		       struct ava_abi_view *views, const struct mapping *unmapping,
		       const void **ret_bulk, size_t *ret_bulk_len, const char **ret_why)
{
	const struct ava_abi_fn *fn = gf->abi;
	int r = 0;
	*ret_bulk = NULL;
	*ret_bulk_len = 0;
	for (unsigned i = 0; i < fn->n_args && r == 0; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		struct ava_abi_view *vw = &views[i];
		memset(vw, 0, sizeof(*vw));
		vw->present = 1;
		switch (v->kind) {
		case AVA_ABI_SCALAR:
			r = ava_wire_put_bytes(b, args[i], v->size_bytes);
			break;
		case AVA_ABI_HANDLE:
		case AVA_ABI_USERDATA:
			r = ava_wire_put_u64(b, (uint64_t)(uintptr_t) * (void *const *)args[i]);
			break;
		case AVA_ABI_CALLBACK: {
			uint64_t token;
			r = callback_token(c, *(void *const *)args[i], &token);
			if (r < 0)
				*ret_why = "too many distinct callback functions";
			else
				r = ava_wire_put_u64(b, token);
			break;
		}
		case AVA_ABI_STRING: {
			const char *s = *(const char *const *)args[i];
			if (!s) {
				vw->present = 0;
				r = ava_wire_put_u32(b, 0);
				break;
			}
			size_t n = strlen(s) + 1;
			if (n > v->max_count || n > UINT32_MAX) {
				*ret_why = "a string argument is longer than the spec allows";
				return -EMSGSIZE;
			}
			vw->count = n;
			r = ava_wire_put_u32(b, (uint32_t)n);
			if (r == 0)
				r = ava_wire_put_bytes(b, s, n);
			break;
		}
		case AVA_ABI_BUFFER: {
			const void *p = *(void *const *)args[i];
			if (!p) {
				vw->present = 0;
				r = ava_wire_put_u8(b, 0);
				break;
			}
			uint64_t count = plan->count[i];
			size_t bytes;
			if (count > v->max_count ||
			    __builtin_mul_overflow((size_t)count, (size_t)v->size_bytes, &bytes)) {
				*ret_why = "a buffer argument is larger than the spec allows";
				return -EMSGSIZE;
			}
			vw->count = count;
			/*
			 * Plain input bytes larger than one chunk are streamed after
			 * the CALL (the first such argument; docs/wire-protocol.md 7.8).
			 * Not a rect: its packed copy is gone before the CHUNKs go (a
			 * rect is at most one frame).
			 */
			if (!*ret_bulk && v->dir == AVA_ABI_DIR_IN &&
			    v->elem == AVA_ABI_ELEM_BYTES &&
			    !(v->flags & (AVA_ABI_V_SCAN | AVA_ABI_V_PROPS | AVA_ABI_V_BLOBS |
					  AVA_ABI_V_RECT)) &&
			    !plan->handle_type[i] && bytes > AVA_WIRE_CHUNK_MAX_BYTES) {
				vw->streamed = 1;
				*ret_bulk = p;
				*ret_bulk_len = bytes;
				r = ava_wire_put_u8(b, 2);
				if (r == 0)
					r = ava_wire_put_u64(b, count);
				break;
			}
			r = ava_wire_put_u8(b, 1);
			if (r == 0)
				r = ava_wire_put_u64(b, count);
			if (r == 0 && (v->flags & AVA_ABI_V_LATE) && v->dir == AVA_ABI_DIR_OUT) {
				pthread_mutex_lock(&c->lock);
				vw->u64 = ++c->next_transfer_id;
				pthread_mutex_unlock(&c->lock);
				r = ava_wire_put_u64(b, vw->u64);
			}
			if (r == 0 && v->elem == AVA_ABI_ELEM_STRING) {
				r = encode_strings(b, p, count, plan->str_lengths[i], ret_why);
				break;
			}
			if (r == 0 && (v->flags & AVA_ABI_V_BLOBS)) {
				vw->u64 = plan->blobs_arg[i] ? 1 : 0;
				r = ava_wire_put_u8(b, (uint8_t)vw->u64);
				for (uint64_t k = 0; vw->u64 && k < bytes / 8 && r == 0; k++)
					r = ava_wire_put_u64(b, blob_caps[i] ? blob_caps[i][k] : 0);
				break;
			}
			/*
			 * Handles are pointer-sized ids in guest memory, so arrays
			 * of handles and structs with handle fields go as they are.
			 */
			if (r == 0 && (v->dir & AVA_ABI_DIR_IN))
				r = ava_wire_put_bytes(b, p, bytes);
			break;
		}
		case AVA_ABI_UNMAP: {
			/* the mapping's id, then its bytes if it was mapped for writing */
			size_t n = unmapping->writable ? unmapping->wire_bytes : 0;
			void *packed = NULL;
			vw->u64 = unmapping->id;
			vw->count = n;
			if (n && unmapping->rect) {
				packed = malloc(n);
				if (!packed)
					return -ENOMEM;
				ava_gen_rect_pack(&unmapping->shape, unmapping->ptr, packed);
			}
			r = ava_wire_put_u64(b, unmapping->id);
			if (r == 0)
				r = ava_wire_put_u64(b, n);
			/* (a rect mapping's bytes go packed, in the CALL) */
			if (r == 0 && n && !packed && !*ret_bulk && n > AVA_WIRE_CHUNK_MAX_BYTES) {
				vw->streamed = 1; /* mode 1: the bytes are streamed */
				*ret_bulk = unmapping->ptr;
				*ret_bulk_len = n;
				r = ava_wire_put_u8(b, 1);
				break;
			}
			if (r == 0 && n)
				r = ava_wire_put_u8(b, 0);
			if (r == 0 && n)
				r = ava_wire_put_bytes(b, packed ? packed : unmapping->ptr, n);
			free(packed);
			break;
		}
		default:
			*ret_why = "unknown value kind in the descriptor";
			return -EINVAL;
		}
	}
	if (r < 0 && !*ret_why)
		*ret_why = "out of memory";
	return r;
}

/*
 * An asynchronous call failed earlier. Report it through this call, which
 * succeeded, if it speaks the same native error type; otherwise keep it for a
 * later call that does. Never drop it.
 */
static void deliver_deferred(struct conn *c, const struct ava_guestlib_fn *gf, void *ret)
{
	pthread_mutex_lock(&c->lock);
	if (c->deferred_pending && ret && gf->errors.ret) {
		const struct ava_guestlib_fn *failed = &c->api->fns[c->deferred_fn];
		const struct ava_gen_errors *e = gf->errors.ret;
		bool ok_now = e->success && memcmp(ret, e->success, e->size_bytes) == 0;
		if (failed->errors.ret == e && ok_now) {
			memcpy(ret, c->deferred_value, e->size_bytes);
			c->deferred_pending = false;
			if (debug_enabled())
				say("%s reports the failure of an earlier asynchronous %s",
				    gf->abi->name, failed->abi->name);
		}
	}
	pthread_mutex_unlock(&c->lock);
}

static void remember_deferred(struct conn *c, uint32_t fn_id, const struct ava_abi_view *v)
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

/*
 * Enters the late out buffers of a call about to be sent (a rect with its
 * shape, where rect_ok says it has one). Caller holds c->lock.
 */
static int add_transfers_locked(struct conn *c, const struct ava_guestlib_fn *gf, void *const *args,
				const struct ava_abi_view *views, const struct ava_gen_rect *rects,
				const bool *rect_ok, uint64_t seq)
{
	const struct ava_abi_fn *fn = gf->abi;
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind != AVA_ABI_BUFFER || v->dir != AVA_ABI_DIR_OUT ||
		    !(v->flags & AVA_ABI_V_LATE) || !views[i].present)
			continue;
		struct transfer *t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		t->id = views[i].u64;
		t->seq = seq;
		t->dst = *(void *const *)args[i];
		t->len_bytes = (size_t)views[i].count * v->size_bytes; /* checked by encode_args */
		t->fn_id = fn->id;
		if ((v->flags & AVA_ABI_V_RECT) && rect_ok[i]) {
			t->rect = true;
			t->shape = rects[i];
		}
		t->next = c->transfers;
		c->transfers = t;
	}
	return 0;
}

/*
 * With proxies: the handle ids a reply wrote into the result and the
 * out-buffers become proxies, with a reference for each ava_allocates value
 * of a successful call; a successful call's :retains / :deallocates
 * arguments are counted.
 */
static void ids_to_proxies(struct conn *c, const struct ava_guestlib_fn *gf,
			   const struct ava_gen_plan *plan, void *const *args, void *ret,
			   const struct ava_abi_view *call_views, const struct ava_abi_view *rv)
{
	const struct ava_abi_fn *fn = gf->abi;
	bool success = call_succeeded(gf, args, ret);
	if (ret && fn->ret.kind == AVA_ABI_HANDLE)
		word_to_proxy(c, ret, success && (fn->ret.flags & AVA_ABI_V_ALLOCATES));
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_OUT) ||
		    !call_views[i].present || !rv[1 + i].count)
			continue;
		uint8_t *dst = *(void *const *)args[i];
		size_t bytes = (size_t)rv[1 + i].count * v->size_bytes;
		bool owned = success && (v->flags & AVA_ABI_V_ALLOCATES);
		if (v->elem == AVA_ABI_ELEM_BYTES && plan->handle_type[i]) {
			for (size_t off = 0; off + 8 <= bytes; off += 8)
				word_to_proxy(c, dst + off, false);
		} else if (v->elem == AVA_ABI_ELEM_HANDLE) {
			for (size_t off = 0; off < bytes; off += 8)
				word_to_proxy(c, dst + off, owned);
		} else if (v->elem == AVA_ABI_ELEM_STRUCT) {
			for (uint64_t k = 0; k < rv[1 + i].count; k++)
				for (unsigned f = 0; f < v->n_fields; f++)
					word_to_proxy(c,
						      dst + (size_t)k * v->size_bytes +
							  v->fields[f].offset_bytes,
						      owned);
		}
	}
	if (success)
		proxies_count_call(c, fn, args);
}

/* Copies a validated reply into the caller's result and out-buffers. */
static int apply_reply(struct conn *c, const struct ava_guestlib_fn *gf,
		       const struct ava_gen_plan *plan, void *const *args, void *ret,
		       const struct ava_abi_view *call_views, uint64_t *const *blob_caps,
		       uint16_t flags, const uint8_t *payload, uint32_t len, char *err,
		       size_t errlen)
{
	const struct ava_abi_fn *fn = gf->abi;
	struct ava_abi_view rv[1 + AVA_ABI_MAX_ARGS];
	struct ava_abi_view deferred;
	uint32_t deferred_fn = 0;
	int r = ava_abi_check_reply(c->api->abi, fn, call_views, flags, payload, len, rv,
				    &deferred_fn, &deferred, err, errlen);
	if (r < 0)
		return r;
	if (ret) {
		if (fn->ret.kind == AVA_ABI_SCALAR)
			memcpy(ret, rv[0].data, fn->ret.size_bytes);
		else if (fn->ret.kind == AVA_ABI_HANDLE || fn->ret.kind == AVA_ABI_MAP)
			*(void **)ret = (void *)(uintptr_t)rv[0].u64; /* MAP: the id, for now */
	}
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_OUT) ||
		    !call_views[i].present || (v->flags & AVA_ABI_V_LATE))
			continue;
		void *dst = *(void *const *)args[i];
		if ((v->flags & AVA_ABI_V_BLOBS) && call_views[i].u64 == 1) {
			/* Checked by ava_abi_check_reply: u64 n and n bytes per pointer. */
			const uint8_t *q = rv[1 + i].data;
			uint64_t n_ptrs = (uint64_t)rv[1 + i].count * v->size_bytes / 8;
			for (uint64_t k = 0; k < n_ptrs; k++) {
				uint64_t n;
				memcpy(&n, q, 8);
				q += 8;
				uint64_t cap = blob_caps[i] ? blob_caps[i][k] : 0;
				if (n > cap) {
					snprintf(
					    err, errlen,
					    "argument %u: blob %llu of %llu bytes, %llu asked for",
					    i, (unsigned long long)k, (unsigned long long)n,
					    (unsigned long long)cap);
					return -EPROTO;
				}
				void *blob = ((void *const *)dst)[k];
				if (n && blob)
					memcpy(blob, q, (size_t)n);
				q += n;
			}
			continue;
		}
		if (rv[1 + i].count) /* a zero-element buffer sends no data pointer */
			memcpy(dst, rv[1 + i].data, (size_t)rv[1 + i].count * v->size_bytes);
	}
	if (c->api->proxy_dispatch)
		ids_to_proxies(c, gf, plan, args, ret, call_views, rv);
	if (flags & AVA_WIRE_F_DEFERRED_ERROR)
		remember_deferred(c, deferred_fn, &deferred);
	return 0;
}

/* The application's scalar arguments, kept before a plan's overrides rewrite args. */
union app_slot {
	uint8_t b[AVA_ABI_MAX_SCALAR_BYTES];
	void *p;
	long double ld;
};

static void keep_app_args(const struct ava_abi_fn *fn, void *const *args, union app_slot *slots,
			  void **ret_args)
{
	for (unsigned i = 0; i < fn->n_args; i++) {
		ret_args[i] = args[i];
		if (fn->args[i].kind == AVA_ABI_SCALAR &&
		    fn->args[i].size_bytes <= AVA_ABI_MAX_SCALAR_BYTES) {
			memcpy(slots[i].b, args[i], fn->args[i].size_bytes);
			ret_args[i] = &slots[i];
		}
	}
}

/* Takes the open mapping at ptr out of the list (the newest, if several share it). */
static struct mapping *mapping_take(struct conn *c, const void *ptr)
{
	pthread_mutex_lock(&c->lock);
	struct mapping **pp = &c->mappings;
	while (*pp && (*pp)->ptr != ptr)
		pp = &(*pp)->next;
	struct mapping *m = *pp;
	if (m)
		*pp = m->next;
	pthread_mutex_unlock(&c->lock);
	return m;
}

static void mapping_put(struct conn *c, struct mapping *m)
{
	pthread_mutex_lock(&c->lock);
	m->next = c->mappings;
	c->mappings = m;
	pthread_mutex_unlock(&c->lock);
}

static void mapping_free(struct mapping *m)
{
	if (m && m->owned)
		free(m->ptr);
	free(m);
}

/*
 * Memory for a new mapping of len_bytes: where the API's placer says (an
 * OpenCL CL_MEM_USE_HOST_PTR buffer's host_ptr + offset), else page-aligned
 * memory of our own. Returns a record (not yet listed) or NULL.
 */
static struct mapping *mapping_new(const struct ava_guestlib_api *api, uint32_t fn_id,
				   void *const *args, size_t len_bytes, bool writable)
{
	struct mapping *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->len_bytes = len_bytes;
	m->wire_bytes = len_bytes;
	m->writable = writable;
	m->ptr = ava_guestlib_hooks_place_map(api, fn_id, args, len_bytes);
	if (!m->ptr) {
		long page = sysconf(_SC_PAGESIZE);
		size_t align = page > 0 ? (size_t)page : 4096;
		size_t n = (len_bytes + align - 1) / align * align;
		m->ptr = aligned_alloc(align, n ? n : align);
		m->owned = true;
	}
	if (!m->ptr) {
		free(m);
		return NULL;
	}
	return m;
}

/*
 * The rect arguments of a call (AVA_ABI_V_RECT): their packed size from the
 * API's shape, and an input's bytes packed into a copy (*ret_packed, the
 * caller frees it). Where the arguments describe no rect, nothing travels
 * (count 0) and the server lets the library answer. Returns 0 or -ENOMEM.
 */
static int rect_prepare(const struct ava_guestlib_api *api, const struct ava_abi_fn *fn, unsigned i,
			void *const *args, struct ava_gen_plan *plan, struct ava_gen_rect *ret_rect,
			bool *ret_ok, void **ret_packed)
{
	const struct ava_gen_rect_ops *ops = ava_guestlib_hooks_rect(api);
	const void *app = *(void *const *)args[i];
	uint64_t bytes = 0;

	*ret_ok = false;
	*ret_packed = NULL;
	plan->count[i] = 0;
	if (!app || !ops || ops->shape(fn, i, args, ret_rect) < 0 ||
	    ava_gen_rect_bytes(ret_rect, &bytes) < 0)
		return 0;
	*ret_ok = true;
	plan->count[i] = bytes;
	if (!(fn->args[i].dir & AVA_ABI_DIR_IN) || !bytes || bytes > fn->args[i].max_count)
		return 0; /* encode_args refuses one too large */
	*ret_packed = malloc(bytes);
	if (!*ret_packed)
		return -ENOMEM;
	ava_gen_rect_pack(ret_rect, app, *ret_packed);
	return 0;
}

/* Set while a thread makes a blobs sizing call: that call sends its buffer as it is. */
static _Thread_local bool in_sizing_call;

/*
 * Argument i is, this time, an array of pointers to the caller's byte
 * buffers (ava_blobs_sized_by): learns each buffer's size with the same call
 * and the spec's sizing argument, into *ret_caps (0 for a NULL pointer).
 * Returns 0, or -1 when the sizing call failed: its error is already in ret
 * and errcode, as the real call would have answered it.
 */
static int blob_capacities(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
			   void *ret, const struct ava_gen_plan *plan, unsigned i,
			   uint64_t **ret_caps)
{
	const struct ava_guestlib_fn *gf = &api->fns[fn_id];
	const struct ava_abi_fn *fn = gf->abi;
	const struct ava_abi_value *sv = &fn->args[plan->blobs_arg[i] - 1];
	void *const *ptrs = *(void *const *)args[i];
	size_t n = (size_t)(plan->count[i] * fn->args[i].size_bytes / 8);
	uint8_t value[AVA_ABI_MAX_SCALAR_BYTES] = { 0 };
	void *args2[AVA_ABI_MAX_ARGS];

	*ret_caps = calloc(n ? n : 1, sizeof(uint64_t));
	size_t *sizes = calloc(n ? n : 1, sizeof(size_t));
	if (!*ret_caps || !sizes) {
		free(sizes);
		set_error(gf, args, ret, AVA_STATUS_NO_MEMORY);
		return -1;
	}
	if (!n) {
		free(sizes);
		return 0;
	}
	for (unsigned k = 0; k < sv->size_bytes && k < 8; k++)
		value[k] = (uint8_t)(plan->blobs_value[i] >> (8 * k));
	memcpy(args2, args, fn->n_args * sizeof(*args2));
	void *sizes_ptr = sizes;
	args2[plan->blobs_arg[i] - 1] = value;
	args2[i] = &sizes_ptr;
	in_sizing_call = true;
	ava_guestlib_call(api, fn_id, args2, ret);
	in_sizing_call = false;
	const struct ava_gen_errors *e = gf->errors.ret;
	if (ret && e && e->success && memcmp(ret, e->success, e->size_bytes) != 0) {
		free(sizes);
		return -1;
	}
	for (size_t k = 0; k < n; k++)
		(*ret_caps)[k] = ptrs[k] ? sizes[k] : 0;
	free(sizes);
	return 0;
}

void ava_guestlib_call(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
		       void *ret)
{
	const struct ava_guestlib_fn *gf = &api->fns[fn_id];
	const struct ava_abi_fn *fn = gf->abi;
	static _Atomic unsigned char unsupported_said[4096];

	if (fn->flags & AVA_ABI_FN_UNSUPPORTED) {
		if (fn_id >= sizeof(unsupported_said) ||
		    !atomic_exchange(&unsupported_said[fn_id], 1))
			say("%s is not supported by the %s spec; it returns the API's "
			    "\"unsupported\" error",
			    fn->name, api->abi->name);
		set_error(gf, args, ret, AVA_STATUS_UNSUPPORTED);
		return;
	}

	if (ava_guestlib_hooks_filter(api, fn_id, args, ret))
		return;

	uint16_t status = AVA_STATUS_OK;
	struct conn *c = get_conn(api, false, &status);
	if (!c) {
		set_error(gf, args, ret, status);
		return;
	}

	union app_slot app_slots[AVA_ABI_MAX_ARGS];
	void *app_args[AVA_ABI_MAX_ARGS];
	keep_app_args(fn, args, app_slots, app_args);

	struct ava_gen_plan plan;
	memset(&plan, 0, sizeof(plan));
	if (gf->plan)
		gf->plan(args, &plan);
	else
		plan.async = (fn->flags & AVA_ABI_FN_MAY_ASYNC) ? 1 : 0;
	if (!(fn->flags & AVA_ABI_FN_MAY_ASYNC))
		plan.async = 0;

	/* With proxies, what travels: ids for proxies, translated copies of buffers. */
	void *xargs[AVA_ABI_MAX_ARGS], *xslots[AVA_ABI_MAX_ARGS], *xowned[AVA_ABI_MAX_ARGS];
	unsigned n_xowned = 0;
	void *const *send_args = args;
	struct bad_handle bad = { .arg = -1 };
	if (api->proxy_dispatch && fn->n_args) {
		int st = proxies_to_ids(c, fn, &plan, args, xargs, xslots, xowned, &n_xowned, &bad);
		if (st != AVA_STATUS_OK) {
			for (unsigned k = 0; k < n_xowned; k++)
				free(xowned[k]);
			if (st == AVA_STATUS_BAD_HANDLE) {
				if (debug_enabled())
					say("%s: argument %d is not a live %s handle", fn->name,
					    bad.arg, api->abi->name);
				set_bad_handle(gf, args, ret, &bad);
			} else {
				set_error(gf, args, ret, st);
			}
			return;
		}
		send_args = xargs;
	}

	if (!handles_valid(fn, &plan, send_args, &bad)) {
		if (debug_enabled())
			say("%s: argument %d is not a live %s handle", fn->name, bad.arg,
			    api->abi->name);
		for (unsigned k = 0; k < n_xowned; k++)
			free(xowned[k]);
		set_bad_handle(gf, args, ret, &bad);
		return;
	}

	uint64_t *blob_caps[AVA_ABI_MAX_ARGS] = { NULL };
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (!(fn->args[i].flags & AVA_ABI_V_BLOBS) || in_sizing_call)
			plan.blobs_arg[i] = 0;
		if (!plan.blobs_arg[i] || !*(void *const *)args[i] ||
		    plan.count[i] > fn->args[i].max_count)
			continue;
		if (blob_capacities(api, fn_id, args, ret, &plan, i, &blob_caps[i]) < 0) {
			for (unsigned k = 0; k <= i; k++)
				free(blob_caps[k]);
			return;
		}
	}

	/* Mappings: the one given back, or memory for a new one. */
	struct mapping *unmapping = NULL, *mapping = NULL;
	uint64_t map_transfer = 0;
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (fn->args[i].kind != AVA_ABI_UNMAP)
			continue;
		unmapping = mapping_take(c, *(void *const *)args[i]);
		if (!unmapping) {
			if (debug_enabled())
				say("%s: the pointer is no open mapping", fn->name);
			for (unsigned k = 0; k < n_xowned; k++)
				free(xowned[k]);
			for (unsigned k = 0; k < fn->n_args; k++)
				free(blob_caps[k]);
			set_error(gf, args, ret, AVA_STATUS_BAD_HANDLE);
			return;
		}
	}
	/*
	 * A rect mapping: the application's memory holds the rect as the
	 * API's shape lays it out (the pitches the server reports), the wire
	 * its packed bytes; none when the arguments describe no rect (the
	 * library answers them).
	 */
	struct ava_gen_rect map_rect;
	bool map_is_rect = false;
	uint64_t map_len = plan.map_count;
	if (fn->ret.kind == AVA_ABI_MAP && (fn->ret.flags & AVA_ABI_V_RECT)) {
		uint64_t bytes = 0;
		map_len = 0;
		const struct ava_gen_rect_ops *ops = ava_guestlib_hooks_rect(api);
		map_is_rect = ops && ops->shape(fn, fn->n_args, args, &map_rect) == 0 &&
			      ava_gen_rect_bytes(&map_rect, &bytes) == 0 &&
			      ava_gen_rect_extent(&map_rect, &map_len) == 0;
		plan.map_count = map_is_rect ? bytes : 0;
		if (!map_is_rect)
			map_len = 0;
	}
	if (fn->ret.kind == AVA_ABI_MAP) {
		if (plan.map_count <= fn->ret.max_count && (uint64_t)(size_t)map_len == map_len)
			mapping = mapping_new(api, fn_id, args, (size_t)map_len,
					      (plan.map_access & AVA_ABI_MAP_WRITE) != 0);
		if (mapping && map_is_rect) {
			mapping->rect = true;
			mapping->shape = map_rect;
			mapping->wire_bytes = (size_t)plan.map_count;
		}
		if (!mapping) {
			say("%s: no memory for a mapping of %llu bytes", fn->name,
			    (unsigned long long)plan.map_count);
			for (unsigned k = 0; k < n_xowned; k++)
				free(xowned[k]);
			for (unsigned k = 0; k < fn->n_args; k++)
				free(blob_caps[k]);
			set_error(gf, args, ret, AVA_STATUS_NO_MEMORY);
			return;
		}
	}

	/* Rects: an input goes packed, from a copy that replaces its pointer. */
	struct ava_gen_rect rects[AVA_ABI_MAX_ARGS];
	bool rect_ok[AVA_ABI_MAX_ARGS] = { false };
	void *packed[AVA_ABI_MAX_ARGS] = { NULL };
	void *rargs[AVA_ABI_MAX_ARGS];
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (fn->args[i].kind != AVA_ABI_BUFFER || !(fn->args[i].flags & AVA_ABI_V_RECT))
			continue;
		if (rect_prepare(api, fn, i, args, &plan, &rects[i], &rect_ok[i], &packed[i]) < 0) {
			for (unsigned k = 0; k < n_xowned; k++)
				free(xowned[k]);
			for (unsigned k = 0; k < fn->n_args; k++) {
				free(packed[k]);
				free(blob_caps[k]);
			}
			if (unmapping)
				mapping_put(c, unmapping);
			mapping_free(mapping);
			say("%s: out of memory", fn->name);
			set_error(gf, args, ret, AVA_STATUS_NO_MEMORY);
			return;
		}
		if (packed[i]) {
			if (send_args != rargs) {
				memcpy(rargs, send_args, fn->n_args * sizeof(*rargs));
				send_args = rargs;
			}
			rargs[i] = &packed[i];
		}
	}

	struct ava_abi_view views[AVA_ABI_MAX_ARGS];
	struct ava_wire_buf b;
	const char *why = NULL;
	const void *bulk = NULL;
	size_t bulk_len = 0;
	ava_wire_buf_init(&b);
	int er = encode_args(c, gf, &plan, send_args, blob_caps, &b, views, unmapping, &bulk,
			     &bulk_len, &why);
	for (unsigned k = 0; k < n_xowned; k++)
		free(xowned[k]);
	for (unsigned k = 0; k < fn->n_args; k++)
		free(packed[k]);
	if (er == 0 && mapping) { /* the MAP trailer */
		er = ava_wire_put_u64(&b, plan.map_count);
		if (er == 0 && (plan.map_access & AVA_ABI_MAP_READ)) {
			pthread_mutex_lock(&c->lock);
			map_transfer = ++c->next_transfer_id;
			pthread_mutex_unlock(&c->lock);
			er = ava_wire_put_u64(&b, map_transfer);
		}
		if (er == 0)
			er = ava_wire_put_u8(&b, plan.map_access);
		if (er < 0)
			why = "out of memory";
	}
	if (er < 0) {
		say("%s: %s", fn->name, why);
		ava_wire_buf_fini(&b);
		if (unmapping)
			mapping_put(c, unmapping);
		mapping_free(mapping);
		for (unsigned k = 0; k < fn->n_args; k++)
			free(blob_caps[k]);
		set_error(gf, args, ret, AVA_STATUS_INTERNAL);
		return;
	}

	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_CALL,
		.len_bytes = (uint32_t)b.len,
		.call_id = fn_id,
		.seq = atomic_fetch_add(&c->next_seq, 1),
		.thread_id = thread_id(),
		.flags = (uint16_t)((plan.async ? AVA_WIRE_F_ASYNC : 0) |
				    (bulk ? AVA_WIRE_F_STREAM : 0)),
	};
	if (b.len > AVA_WIRE_MAX_PAYLOAD_BYTES) {
		say("%s: arguments of %zu bytes exceed the %u-byte frame limit", fn->name, b.len,
		    AVA_WIRE_MAX_PAYLOAD_BYTES);
		ava_wire_buf_fini(&b);
		for (unsigned k = 0; k < fn->n_args; k++)
			free(blob_caps[k]);
		set_error(gf, args, ret, AVA_STATUS_INTERNAL);
		return;
	}

	if (plan.async) {
		int r = bulk ? conn_send_streamed(c, &hdr, b.data, b.len, bulk, bulk_len)
			     : conn_send(c, &hdr, b.data, b.len);
		ava_wire_buf_fini(&b);
		if (r < 0) {
			mark_dead(c, AVA_STATUS_SERVER_GONE, "sending to the router failed");
			set_error(gf, args, ret, AVA_STATUS_SERVER_GONE);
			return;
		}
		set_success(gf, ret);
		if (api->proxy_dispatch)
			proxies_count_call(c, fn, args);
		ava_guestlib_hooks_observe(api, fn_id, app_args, ret);
		return;
	}

	struct waiter w = { .seq = hdr.seq };
	pthread_cond_init(&w.cond, NULL);
	pthread_mutex_lock(&c->lock);
	if (c->state != 1) {
		status = c->dead_status;
		pthread_mutex_unlock(&c->lock);
		goto fail;
	}
	w.next = c->waiters;
	c->waiters = &w;
	struct transfer *mt = map_transfer ? calloc(1, sizeof(*mt)) : NULL;
	if (mt) { /* a readable mapping's bytes land in its memory */
		mt->id = map_transfer;
		mt->seq = hdr.seq;
		mt->dst = mapping->ptr;
		mt->len_bytes = mapping->wire_bytes;
		mt->rect = mapping->rect;
		mt->shape = mapping->shape;
		mt->fn_id = fn->id;
		mt->next = c->transfers;
		c->transfers = mt;
	}
	if ((map_transfer && !mt) ||
	    add_transfers_locked(c, gf, args, views, rects, rect_ok, hdr.seq) < 0) {
		drop_transfers_locked(c, hdr.seq);
		c->waiters = w.next;
		pthread_mutex_unlock(&c->lock);
		say("%s: out of memory", fn->name);
		status = AVA_STATUS_NO_MEMORY;
		goto fail;
	}
	pthread_mutex_unlock(&c->lock);

	if ((bulk ? conn_send_streamed(c, &hdr, b.data, b.len, bulk, bulk_len)
		  : conn_send(c, &hdr, b.data, b.len)) < 0)
		mark_dead(c, AVA_STATUS_SERVER_GONE, "sending to the router failed");

	pthread_mutex_lock(&c->lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &c->lock);
	pthread_mutex_unlock(&c->lock);

	status = w.status;
	if (status != AVA_STATUS_OK) { /* the call did not run: no DATA will come */
		pthread_mutex_lock(&c->lock);
		drop_transfers_locked(c, hdr.seq);
		pthread_mutex_unlock(&c->lock);
	}
	if (status == AVA_STATUS_OK) {
		char err[200];
		if (apply_reply(c, gf, &plan, args, ret, views, blob_caps, w.flags, w.payload,
				w.len, err, sizeof(err)) < 0) {
			char msg[260];
			snprintf(msg, sizeof(msg), "bad reply to %s: %s", fn->name, err);
			mark_dead(c, AVA_STATUS_MALFORMED, msg);
			status = AVA_STATUS_MALFORMED;
		} else {
			deliver_deferred(c, gf, ret);
		}
	} else if (debug_enabled()) {
		say("%s failed remotely: %s", fn->name, ava_wire_status_name(status));
	}
	free(w.payload);
fail:
	pthread_cond_destroy(&w.cond);
	ava_wire_buf_fini(&b);
	for (unsigned k = 0; k < fn->n_args; k++)
		free(blob_caps[k]);
	if (status != AVA_STATUS_OK)
		set_error(gf, args, ret, status);
	if (unmapping) { /* a successful unmap ends it; else it stays open */
		if (status == AVA_STATUS_OK && call_succeeded(gf, args, ret))
			mapping_free(unmapping);
		else
			mapping_put(c, unmapping);
	}
	if (mapping) {
		uint64_t id =
		    status == AVA_STATUS_OK && ret ? (uint64_t)(uintptr_t) * (void **)ret : 0;
		if (id) {
			mapping->id = id;
			*(void **)ret = mapping->ptr;
			mapping_put(c, mapping);
		} else {
			if (ret)
				*(void **)ret = NULL;
			mapping_free(mapping);
		}
	}
	ava_guestlib_hooks_observe(api, fn_id, app_args, ret);
}
