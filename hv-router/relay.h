/* SPDX-License-Identifier: MIT */
/*
 * A session's two ends and the frames between them (relay.c): forwarding in
 * both directions, flow control of both, and the end of sessions and of
 * servers. Called by the guest side (guest.c) and the server side
 * (backend.c); calls nothing above it.
 */
#ifndef AVA_ROUTER_RELAY_H
#define AVA_ROUTER_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* ---- guest -> server ---- */

/* Queues a router->server frame; on failure the server is declared gone. Takes payload. */
int ava_relay_to_server(struct ava_router *r, struct ava_router_server *s,
			const struct ava_wire_header *hdr, uint8_t *payload, size_t len);
/*
 * Forwards the frames enforcement released (ava_enforce_next_release) to
 * their sessions' servers, and re-arms those guests. Called after every
 * enforcement entry point that can release.
 */
void ava_relay_forward_released(struct ava_router *r);
/* s's channel is writable: flushes it. Returns 0, or -EPIPE once s was declared gone. */
int ava_relay_flush_server(struct ava_router *r, struct ava_router_server *s);

/* ---- server -> guest ---- */

/* Forwards a server frame to g (session field cleared). Takes payload. */
void ava_relay_to_guest(struct ava_router *r, struct ava_router_guest *g,
			const struct ava_wire_header *hdr, uint8_t *payload);
/* Queues a router-originated control frame (HELLO_REPLY) to g. 0 or -EPIPE. */
int ava_relay_control(struct ava_router *r, struct ava_router_guest *g, unsigned kind,
		      unsigned status, uint64_t seq);
/*
 * Answers a CALL the policy refuses (counted under why, logged with reason)
 * without forwarding it: REPLY(REFUSED), with DEFERRED_ERROR for an async
 * call. The caller still owns (and frees) the CALL's payload.
 */
void ava_relay_refuse_call(struct ava_router *r, struct ava_router_guest *g,
			   const struct ava_wire_header *hdr, const struct ava_abi_fn *fn,
			   enum ava_router_refusal why, const char *reason);

/* ---- flow control and epoll interest ---- */

/* Re-registers the connection's epoll interest from its state. */
void ava_relay_update_guest_events(struct ava_router *r, struct ava_router_guest *g);
void ava_relay_update_server_events(struct ava_router *r, struct ava_router_server *s);
/* Re-evaluates throttling of s's guests after its queue changed. */
void ava_relay_check_throttle(struct ava_router *r, struct ava_router_server *s);
/*
 * Re-evaluates whether g's output queue holds its server back (above the high
 * mark: the server is not read; below the low mark again: it is).
 */
void ava_relay_check_backlog(struct ava_router *r, struct ava_router_guest *g);

/* ---- ends ---- */

/*
 * Ends g's session: queues BYE(status, reason) if status is not OK, sends
 * SESSION_CLOSE to the server (retiring it if the session was its last and
 * it is not shared), and lets the connection linger until the BYE is
 * written. is_violation: the reason is logged as the guest's violation.
 */
void ava_relay_end(struct ava_router *r, struct ava_router_guest *g, unsigned status,
		   const char *reason, int is_violation);
/* Closes g's channel now and moves g to the graveyard (freed after the batch). */
void ava_relay_bury_guest(struct ava_router *r, struct ava_router_guest *g);
/* Forgets the late transfers of call (its REPLY's status is not OK: no DATA follows). */
void ava_relay_drop_transfers(struct ava_router_guest *g, const struct ava_abi_fn *fn,
			      const struct ava_router_call *call);
/* Ends every session of s with BYE(SERVER_GONE), closes its socket, kills it if alive. */
void ava_relay_fail_server(struct ava_router *r, struct ava_router_server *s, const char *reason);
/* Closes s's channel (it serves no session any more, or failed); no message. */
void ava_relay_close_server(struct ava_router *r, struct ava_router_server *s);
/*
 * A session left s: if s now serves none and is not its tenant's shared
 * server, retires it (it exits on EOF; backend.c kills it if it does not).
 */
void ava_relay_release_server(struct ava_router *r, struct ava_router_server *s);
/* The API name of g's session for messages ("-" before HELLO). */
const char *ava_relay_api_name(const struct ava_router_guest *g);

#endif /* AVA_ROUTER_RELAY_H */
