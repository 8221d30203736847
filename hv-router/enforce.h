/* SPDX-License-Identifier: MIT */
/*
 * Policy enforcement on the call path (docs/router.md, "Enforcement"):
 * memory and object quotas, call and byte rate limits, and weighted fair
 * queueing of device-time calls per device. The decisions are made by the
 * pure-logic modules (quota.c, ratelimit.c, fairq.c); this file holds the
 * router's side: which frames they apply to, holding and releasing frames,
 * and keeping counters for `avactl status`.
 *
 * A CALL passes, in order: the function filter (guest.c), the quota
 * (reserve before forwarding; committed or aborted when the REPLY comes),
 * the tenant's rate limits (a delayed call waits in the tenant's FIFO), and,
 * for device-time calls, the device's fair queue (at most max_inflight of
 * them run at once; the API server's USAGE frame ends each). A held
 * synchronous call blocks only its guest thread; while a session has a held
 * asynchronous call, or holds more than AVA_ENFORCE_HELD_HIGH bytes, the
 * router stops reading that session so that its calls keep their order and
 * the router's memory stays bounded.
 */
#ifndef AVA_ROUTER_ENFORCE_H
#define AVA_ROUTER_ENFORCE_H

#include <stdint.h>

#include <ava/abi.h>
#include <ava/wire.h>

#include "model.h"

#define AVA_ENFORCE_HELD_HIGH (64u << 20) /* held payload bytes per session before pausing it */

/* A verdict REFUSED: why, and the reason the log line gives. */
struct ava_enforce_refusal {
	enum ava_router_refusal why;
	char reason[256];
};

/* One frame of a release: a CALL, or a CHUNK of its streamed argument. */
struct ava_enforce_frame {
	struct ava_enforce_frame *next;
	struct ava_wire_header hdr; /* as the guest sent it (session 0) */
	uint8_t *payload;	    /* owned */
};

/*
 * A held CALL whose turn came (tokens, a device slot), with the CHUNKs held
 * behind it: the caller forwards call, then call.next..., to g's server if
 * g's session is still open (and counts the CALL as forwarded), and re-arms
 * g's epoll interest (its release may have unpaused it).
 */
struct ava_enforce_release {
	struct ava_enforce_release *next;
	struct ava_router_guest *g;
	struct ava_enforce_frame call;
};

enum ava_enforce_verdict {
	AVA_ENFORCE_FORWARD = 0, /* forward the frame now */
	AVA_ENFORCE_TAKEN,	 /* enforcement owns the payload: held, or released already */
	AVA_ENFORCE_REFUSED,	 /* refused (why in the refusal); the caller answers the guest */
};

/* Sets up the router's quota table and devices from r->policy. Returns 0 or -ENOMEM. */
int ava_enforce_init(struct ava_router *r) __attribute__((warn_unused_result));
/* Frees every device and flow (tenants' state is freed by ava_enforce_tenant_fini). */
void ava_enforce_fini(struct ava_router *r);

/* Sets up t's buckets, account and flows from t->limits. */
void ava_enforce_tenant_init(struct ava_router *r, struct ava_router_tenant *t);
/* Applies changed limits (policy reload) keeping usage, fill levels and service. */
void ava_enforce_tenant_apply(struct ava_router *r, struct ava_router_tenant *t);
void ava_enforce_tenant_fini(struct ava_router *r, struct ava_router_tenant *t);
/* After a reload: device parameters and new devices. Returns 0 or -ENOMEM. */
int ava_enforce_policy_applied(struct ava_router *r) __attribute__((warn_unused_result));

void ava_enforce_guest_init(struct ava_router_guest *g);
/*
 * The session ends: drops its held (and released, not yet taken) frames,
 * gives up its device slots and returns the memory and objects it held to
 * its tenant's account. Freed slots may release other sessions' frames.
 */
void ava_enforce_guest_end(struct ava_router *r, struct ava_router_guest *g);

/*
 * A validated CALL of fn (views from ava_abi_check_args; call is its
 * outstanding entry, NULL for an async call). Returns FORWARD (the caller
 * forwards it and keeps payload), TAKEN when enforcement now owns payload
 * (the call is held, or was released at once: see ava_enforce_next_release;
 * g->enforce.paused may now be set), or REFUSED (the caller keeps payload,
 * drops the outstanding entry with ava_enforce_call_dropped and answers the
 * guest; *ret_refusal says why).
 */
enum ava_enforce_verdict
ava_enforce_call(struct ava_router *r, struct ava_router_guest *g,
		 const struct ava_wire_header *hdr, uint8_t *payload, const struct ava_abi_fn *fn,
		 const struct ava_abi_view *views, struct ava_router_call *call,
		 struct ava_enforce_refusal *ret_refusal) __attribute__((warn_unused_result));

/*
 * The next held frame whose turn came, oldest first, or NULL. Any entry
 * point above may release frames (a call, a USAGE, a session's end, the
 * tick); their caller takes them all. The caller owns what it takes and
 * frees it with ava_enforce_release_free (which frees the payloads still
 * in it; set a payload to NULL once it is handed on).
 */
struct ava_enforce_release *ava_enforce_next_release(struct ava_router *r);
void ava_enforce_release_free(struct ava_enforce_release *rel);

/*
 * A REPLY to call passed validation (reply_views as ava_abi_check_reply gave
 * them, NULL when the status is not OK): commits or aborts its reservation,
 * follows retain/release calls, charges the reply's bytes.
 */
void ava_enforce_reply(struct ava_router *r, struct ava_router_guest *g,
		       struct ava_router_call *call, const struct ava_abi_fn *fn,
		       const struct ava_wire_header *hdr, const struct ava_abi_view *reply_views);

/* Whether the CALL with this seq is held (waiting for tokens or a device slot). */
int ava_enforce_is_held(const struct ava_router_guest *g, uint64_t seq);

/*
 * A validated CHUNK of a streamed CALL: kept behind that CALL while it is
 * held (counted in the session's held bytes), released with it. Returns 0
 * when enforcement took payload (g->enforce.paused may now be set), -ENOENT
 * when the CALL is not held (the caller forwards the CHUNK itself), -ENOMEM.
 */
int ava_enforce_hold_chunk(struct ava_router_guest *g, const struct ava_wire_header *hdr,
			   uint8_t *payload) __attribute__((warn_unused_result));

/* The outstanding call is being freed without a REPLY: aborts its reservation. */
void ava_enforce_call_dropped(struct ava_router_call *call);

/*
 * A USAGE frame of server s (validated): ends the device slot of (session,
 * seq), which may release frames.
 */
void ava_enforce_usage(struct ava_router *r, struct ava_router_server *s, uint32_t session,
		       uint64_t seq, uint64_t device_ns);

/*
 * Runs due work (rate-delayed calls whose tokens are there, expired leases),
 * which may release frames, and returns the next time (monotonic ms) it
 * needs to run, or INT64_MAX.
 */
int64_t ava_enforce_tick(struct ava_router *r);

/* Device counters for status (both 0 for a device no call has used yet). */
void ava_enforce_device_counts(const struct ava_router *r, const char *name, uint32_t *ret_inflight,
			       uint32_t *ret_queued);

#endif /* AVA_ROUTER_ENFORCE_H */
