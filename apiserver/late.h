/* SPDX-License-Identifier: MIT */
/*
 * Late buffers (private to apiserver/): AVA_ABI_V_LATE, the spec's
 * ava_late_data. The library may still use such a buffer after the call
 * returns: a non-blocking write's source, or a non-blocking read's
 * destination whose bytes go to the guest in DATA frames once the call's
 * event completes. A readable mapping's bytes travel the same way. See late.c
 * for the ordering guarantee.
 */
#ifndef AVA_APISERVER_LATE_H
#define AVA_APISERVER_LATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ava/abi.h>
#include <ava/gen.h>

struct ava_apiserver_call;

/* A call's late state. */
struct ava_apiserver_late_call {
	bool on;		      /* the call has late buffers (or a readable mapping) */
	int event_arg;		      /* the argument with AVA_ABI_V_EVENT, or -1 */
	void *event;		      /* the event slot when the guest passed none: released here */
	void *bufs[AVA_ABI_MAX_ARGS]; /* owned; freed at fini unless handed over */
};

/*
 * Pipeline step after the arguments are decoded: decides whether the call
 * is late, refuses it (UNSUPPORTED) when the API has no event operations or
 * the function no event argument, and gives the library the server's own
 * event slot when the guest passed none. Returns a wire status.
 */
uint16_t ava_apiserver_late_prepare(struct ava_apiserver_call *c);

/*
 * Pipeline step after the call: a call that succeeded with an event hands
 * its late buffers over (and its readable mapping, mapping.c); otherwise
 * each late read's transfer fails now, before the reply.
 */
void ava_apiserver_late_finish(struct ava_apiserver_call *c);

/*
 * Sends the DATA of every late buffer of session_id (0: of all sessions)
 * whose event has completed. A no-op for an API without event operations.
 * Runs before every REPLY and CALLBACK of the session.
 */
void ava_apiserver_late_flush(uint32_t session_id);

/*
 * Sends the DATA of a transfer: len_bytes of buf in pieces, or (ok false)
 * its failure.
 */
void ava_apiserver_late_send_data(uint32_t session_id, uint32_t fn_id, uint64_t transfer_id,
				  bool ok, const void *buf, size_t len_bytes);

/*
 * A readable mapping's bytes go to the guest from the library's own pointer
 * (borrowed, never freed here) once event completes; rect: packed from that
 * layout (NULL: plain bytes). Returns 0 or < 0.
 */
int ava_apiserver_late_add_mapped(uint32_t session_id, uint32_t fn_id, uint64_t transfer_id,
				  void *ptr, size_t len_bytes, const struct ava_gen_rect *rect,
				  void *event) __attribute__((warn_unused_result));

/*
 * The mapping is going away before its bytes were sent: the guest learns
 * that the transfer failed, and nothing reads the library's pointer later.
 */
void ava_apiserver_late_cancel_mapped(uint32_t session_id, uint64_t transfer_id);

#endif /* AVA_APISERVER_LATE_H */
