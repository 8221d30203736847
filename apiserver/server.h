/* SPDX-License-Identifier: MIT */
/*
 * The API server's shared state and the rules for its locks (private to
 * apiserver/).
 *
 * The router starts one server per tenant per API and multiplexes that
 * tenant's guest connections over one socket as sessions. The modules:
 *   main.c      the main thread: reads frames and hands them out
 *   session.c   sessions: open, close, the last reference's clean-up
 *   worker.c    one worker thread per guest thread, its queue of CALLs
 *   call.c      one CALL, as a pipeline of steps over a struct ava_apiserver_call
 *   marshal.c   handle ids <-> library pointers in arguments, buffers, results
 *   blobs.c     ava_blobs buffers;  deferred.c  asynchronous failures
 *   rect.c      ava_rect buffers and rect mappings
 *   mapping.c   open mappings, unmaps, mappings left open at a session's end
 *   late.c      late buffers (ava_late_data): DATA after the event completes
 *   devtime.c   device time: the completion thread and USAGE frames
 *   stream.c    streamed CALL arguments reassembled from CHUNK frames
 *   callback.c  callbacks from the library to the guest
 *   hooks.c     the hooks an API registers;  output.c  stdout to the guests
 *   lastwords.c a library's exit() or abort() inside a call, said before dying
 *
 * Locks, and the order in which they may be taken (a thread holding one
 * takes only the locks below it):
 *   ava_apiserver_server.lock  the session list; each session's refs, closing
 *        flag, workers and their queues (the workers' condition variables
 *        wait on it); the callback waiters; router_gone.
 *   late.c g_late.lock  the pending late buffers; held while their DATA is
 *        sent, and around the API's event_ops->status.
 *   output.c g_out_lock  the stdout pipe and whose output it is; held while its
 *        OUTPUT is sent (a device call waiting for its turn waits on it).
 *   struct session's lock  that session's mappings and deferred error.
 *   callback.c g_records.lock  all callback records, each session's count.
 *   late.c g_wake.lock, devtime.c g_done.lock, a session's handle table's
 *        lock (common/handle.c).
 *   the transport's send lock (common/transport.c): innermost.
 * Today every lock but g_late.lock and g_out_lock is a leaf: nothing else
 * is taken while it is held (the session's lock and g_records.lock took
 * over what ava_apiserver_server.lock guarded without ever holding it
 * around anything else). No lock is held while the library runs a call, a
 * release or a wait; the one call into the API under a lock is
 * event_ops->status, under g_late.lock, so it must take none of ours.
 */
#ifndef AVA_APISERVER_SERVER_H
#define AVA_APISERVER_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <ava/apiserver.h>
#include <ava/transport.h>

/* What every module of the server shares; one per process (the trampolines find it). */
struct ava_server {
	const struct ava_apiserver_api *api; /* set once before any thread starts */
	ava_transport *router;		     /* likewise */
	const char *tenant;		     /* for log lines */
	pthread_mutex_t lock;		     /* 1. in the lock order above */
	struct session *sessions;
	bool router_gone; /* the main loop saw the router go */
};

extern struct ava_server ava_apiserver_server;

/* A decoded argument or result: any scalar, a pointer, or a handle's id. */
union ava_apiserver_slot {
	uint8_t b[AVA_ABI_MAX_SCALAR_BYTES];
	void *p;
	long double ld;
};

/* One line on stderr, naming the API, the process and the tenant. */
__attribute__((format(printf, 1, 2))) void ava_apiserver_log(const char *fmt, ...);

/*
 * Drops a library reference the server took on an object of handle type
 * type (api->retain) to keep it alive; obj NULL: none.
 */
void ava_apiserver_release_retained(void *obj, uint16_t type);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t ava_apiserver_now_ns(void);

#endif /* AVA_APISERVER_SERVER_H */
