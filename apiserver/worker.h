/* SPDX-License-Identifier: MIT */
/*
 * Workers (private to apiserver/): each guest thread gets a worker thread
 * here, so a call that blocks (a wait on an event another guest thread will
 * signal) stalls only its own guest thread, and calls from one guest thread
 * keep their order (which is what makes asynchronous calls safe).
 */
#ifndef AVA_APISERVER_WORKER_H
#define AVA_APISERVER_WORKER_H

#include <stdint.h>

#include <ava/wire.h>

struct session;

/*
 * Queues a CALL for the worker of its guest thread, creating it on first
 * use. Takes payload and bulk (a streamed argument's bytes, or NULL). A
 * CALL that cannot be queued is answered (NO_MEMORY, and its USAGE) here.
 */
void ava_apiserver_worker_dispatch(const struct ava_wire_header *hdr, uint8_t *payload,
				   uint8_t *bulk);

/* Wakes every worker of s (it is closing). Caller holds ava_apiserver_server.lock. */
void ava_apiserver_worker_wake_all_locked(struct session *s);

#endif /* AVA_APISERVER_WORKER_H */
