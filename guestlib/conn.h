/* SPDX-License-Identifier: MIT */
/*
 * One connection (session) per API per process, opened on the first call:
 * the HELLO, the receiver thread that reads every frame from the router,
 * the senders, the dead state, the deferred errors of asynchronous calls,
 * and the state of a forked child. Private to guestlib/.
 *
 * The receiver thread hands replies to the thread that waits for them
 * (matched by seq) and queues callbacks to a callback thread (callback.c),
 * so a thread blocked in a long call never stalls the others, and a
 * callback may itself call into the API.
 *
 * Locks, and their order. No code holds two of them at once, except that
 * conns_lock (conn.c: the table of connections) is held across a new
 * connection's HELLO and the start of its receiver thread; so:
 *
 *   conns_lock  >  { c->lock, c->send_lock, c->proxies.lock, quarantine_lock }
 *
 * and the four on the right are leaves: none is taken while another of them
 * is held, and none is held while the runtime calls out (hooks, callbacks,
 * the API's plan functions), so hand code may call the API from there.
 *
 *   conns_lock       the connection table, and a connection's state 0 -> 1/-1
 *   c->lock          state, waiters, callback tokens and queue, transfers,
 *                    mappings, deferred error, next transfer id
 *   c->send_lock     the transport's sending side: one frame, or a streamed
 *                    CALL and all its CHUNKs, which nothing may come between
 *   c->proxies.lock  the session's proxy registry (proxy.c)
 *   quarantine_lock  the retired proxies of every session (proxy.c)
 */
#ifndef AVA_GUESTLIB_CONN_H
#define AVA_GUESTLIB_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <ava/guestlib.h>
#include <ava/transport.h>

#include "proxy.h"

#define AVA_GUESTLIB_MAX_APIS	      8
#define AVA_GUESTLIB_MAX_CALLBACK_FNS 4096

struct transfer;
struct mapping;
struct cb_item;

/* One thread's pending synchronous call (in its call context). */
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

	/* Late out buffers whose DATA has not come yet (late.c). */
	struct transfer *transfers;
	uint64_t next_transfer_id;

	/* Open mappings, newest first (mapping.c). */
	struct mapping *mappings;

	/* An asynchronous failure not yet reported (see deliver_deferred). */
	bool deferred_pending;
	uint32_t deferred_fn;
	uint8_t deferred_value[AVA_ABI_MAX_SCALAR_BYTES];

	/* api->proxy_dispatch: the proxies handed to the application. */
	struct proxy_registry proxies;
};

/*
 * Returns the connection for api, connecting on first use; NULL with
 * *ret_status (the wire status the call fails with) if it is down. quiet:
 * an unreachable router is not reported.
 */
struct conn *ava_guestlib_conn_get(const struct ava_guestlib_api *api, bool quiet,
				   uint16_t *ret_status);

/*
 * Marks the connection dead (every later call fails with status), wakes
 * every waiter, forgets the transfers and drops the proxies; says why on
 * stderr the first time.
 */
void ava_guestlib_conn_mark_dead(struct conn *c, uint16_t status, const char *why);

/* Sends one frame after HELLO. Returns 0 or < 0 (the caller marks the connection dead). */
int ava_guestlib_conn_send(struct conn *c, const struct ava_wire_header *hdr, const void *payload,
			   size_t len) __attribute__((warn_unused_result));

/*
 * Sends a CALL whose one streamed argument (bulk, len bytes, straight from
 * the application's memory) follows in CHUNK frames of at most
 * AVA_WIRE_CHUNK_MAX_BYTES, with nothing of this connection in between.
 */
int ava_guestlib_conn_send_streamed(struct conn *c, const struct ava_wire_header *call,
				    const void *payload, size_t payload_len, const void *bulk,
				    size_t len) __attribute__((warn_unused_result));

/*
 * An asynchronous call failed earlier. Report it through this call, which
 * succeeded, if it speaks the same native error type; otherwise keep it for
 * a later call that does. Never drop it.
 */
void ava_guestlib_conn_deliver_deferred(struct conn *c, const struct ava_guestlib_fn *gf,
					void *ret);

/* A reply said an earlier asynchronous fn_id failed with the result in v: keep it. */
void ava_guestlib_conn_remember_deferred(struct conn *c, uint32_t fn_id,
					 const struct ava_abi_view *v);

#endif /* AVA_GUESTLIB_CONN_H */
