/* SPDX-License-Identifier: MIT */
/*
 * Weighted fair queueing of device-time-consuming calls for one device
 * (the policy's `devices:` entries and tenants' `weight`).
 *
 * The router holds calls that use a device in one queue per device, with a
 * flow per tenant, and lets at most max_inflight of them run at once, so
 * that queueing (and so the choice of who goes next) happens here and not
 * in the device's own FIFO. The caller enqueues items (an opaque cookie per
 * call) on a flow, asks next() for the item to forward whenever a slot may
 * be free, and reports complete() with the device time the API server
 * measured once the reply comes.
 *
 * Why start-time fair queueing (SFQ, Goyal, Vin and Cheng 1996):
 *
 * A call's cost (device time) is known only after it ran, and weighted fair
 * queueing schemes that order by finish tag (WFQ, WF2Q) need the cost before
 * dispatch. SFQ orders by start tag, which needs only the flow's history:
 * each flow f keeps the finish tag F_f of its last call, a call's start tag
 * is S = F_f (or the virtual time V when the flow was idle), and after the
 * call F_f = S + cost / weight_f. The queue always dispatches the head with
 * the smallest start tag, and V is the start tag of the last call
 * dispatched. For backlogged flows this bounds the difference of the
 * weight-normalised service of any two flows by the sum of their largest
 * cost / weight, independent of how many flows there are, with O(1) state
 * per flow.
 *
 * Cost after the fact: at dispatch the flow's finish tag is advanced by an
 * estimate (the flow's moving average cost, initially one quantum), and
 * when the completion arrives it is corrected by (actual - estimate) /
 * weight. With max_inflight 1 every correction lands before the next
 * choice, so scheduling is exactly SFQ on the true costs; with more slots
 * the error is at most one estimate per in-flight call. Tags are integer
 * virtual nanoseconds; each flow carries the remainder of its cost / weight
 * divisions, so no rounding accumulates.
 *
 * No credit for idling: when a flow goes from empty to backlogged, its
 * finish tag is raised to at least V, so time it did not use is not saved
 * up to crowd others out later. When the device is completely idle V jumps
 * to the largest finish tag, so everyone starts level.
 *
 * Idling for an owed tenant (anticipation, as in disk schedulers like
 * anticipatory scheduling and BFQ): a tenant that runs one device call at a
 * time and waits for it (enqueue, then clFinish) is never backlogged when
 * its call completes, so a work-conserving queue would hand the free slot
 * to whoever waits and shares would fall to 1:1 whatever the weights. So
 * when a flow's call completes, the flow has nothing else queued or
 * running, and it would go before every waiting flow (its finish tag is the
 * smallest), the slot is kept free for up to idle_ns for that flow's next
 * call. The flow's think time (completion to its next call) is measured;
 * a flow whose think time is longer than idle_ns is not waited for, so a
 * tenant that stopped costs the device at most idle_ns a few times.
 *
 * Leases: a dispatched call that has not completed lease_ns after dispatch
 * (a hung kernel, a lost reply) stops counting toward max_inflight after
 * ava_fairq_expire, so one tenant cannot block the device's slots; its
 * completion, if it comes, is still charged to its flow (or dropped if the
 * flow was removed).
 *
 * Pure logic, single-threaded: every function takes the caller's
 * monotonic now_ns where time matters, nothing reads a clock. Struct
 * fields are readable for status output; only fairq.c changes them.
 */
#ifndef AVA_ROUTER_FAIRQ_H
#define AVA_ROUTER_FAIRQ_H

#include <stddef.h>
#include <stdint.h>

/* ava_fairq_next_deadline when no slot has a deadline. */
#define AVA_FAIRQ_NO_DEADLINE UINT64_MAX
/* A cost for ava_fairq_complete meaning "not measured": charge the wall time since dispatch. */
#define AVA_FAIRQ_COST_UNKNOWN UINT64_MAX
/* Weights are clamped to 1..AVA_FAIRQ_MAX_WEIGHT (the policy's limit). */
#define AVA_FAIRQ_MAX_WEIGHT	     10000u
#define AVA_FAIRQ_DEFAULT_QUANTUM_NS 1000000ull /* 1 ms */

struct ava_fairq;
struct ava_fairq_item;

/* One flow (tenant) on one device queue. */
struct ava_fairq_flow {
	struct ava_fairq *q;
	uint32_t weight;
	uint64_t id; /* creation order: ties in start tag go to the older flow */
	/* Counters, for status. */
	uint64_t n_dispatched;
	uint64_t n_completed; /* including completions that arrived after the lease */
	uint64_t cost_ns;     /* total device time charged */
	uint64_t n_queued;    /* waiting now */
	uint64_t n_inflight;  /* dispatched, not completed (lease expired or not) */
	uint64_t est_ns;      /* moving average cost: the estimate for the next dispatch */
	uint64_t think_ns;    /* moving average time from an idle completion to its next call */
	uint64_t idle_since;  /* when its last call completed leaving it idle; 0: not idle */
	/* Scheduling state. */
	uint64_t finish;		    /* finish tag of the last dispatched call, virtual ns */
	uint64_t finish_rem;		    /* remainder of the cost/weight divisions, < weight */
	struct ava_fairq_item *head, *tail; /* queued items, FIFO */
	struct ava_fairq_flow *prev, *next; /* q->flows */
	struct ava_fairq_flow *act_prev, *act_next; /* q->active: flows with items queued */
};

/* One device's queue. Embed it; ava_fairq_init sets it up. */
struct ava_fairq {
	uint32_t max_inflight;
	uint64_t lease_ns;
	uint64_t quantum_ns;
	uint64_t vtime;	     /* V: start tag of the last call dispatched */
	uint64_t n_inflight; /* dispatched, lease not expired: what max_inflight limits */
	uint64_t n_expired;  /* dispatched, lease expired, completion not yet seen */
	uint64_t n_queued;
	uint64_t n_dispatched;
	uint64_t n_expired_total;
	uint64_t idle_ns;		    /* anticipation window; 0: work-conserving */
	struct ava_fairq_flow *ant_flow;    /* the flow the free slot waits for, or NULL */
	uint64_t ant_until;		    /* until when */
	uint64_t n_idle_holds, n_idle_hits; /* anticipations started, and answered in time */
	uint64_t next_flow_id;
	struct ava_fairq_flow *flows;
	struct ava_fairq_flow *active;
	struct ava_fairq_item *inflight; /* slots counting toward max_inflight */
	struct ava_fairq_item *expired;	 /* slots whose lease expired */
};

/*
 * Sets up q for a device that runs at most max_inflight calls at once
 * (0 counts as 1), whose calls hold their slot at most lease_ns (0: no
 * lease, a slot is held until completion), with quantum_ns the first cost
 * estimate of a new flow (0: AVA_FAIRQ_DEFAULT_QUANTUM_NS).
 */
void ava_fairq_init(struct ava_fairq *q, uint32_t max_inflight, uint64_t lease_ns,
		    uint64_t quantum_ns);

/*
 * Frees every flow and item. Cookies still queued or dispatched are not
 * reported: remove flows (ava_fairq_flow_remove) first to fail them.
 */
void ava_fairq_fini(struct ava_fairq *q);

/*
 * Changes max_inflight and lease_ns (policy reload). Slots already
 * dispatched keep their deadline; a lower max_inflight takes effect as
 * slots complete.
 */
void ava_fairq_set_params(struct ava_fairq *q, uint32_t max_inflight, uint64_t lease_ns);

/* Sets the anticipation window (policy `idle_us`; 0 turns it off). */
void ava_fairq_set_idle(struct ava_fairq *q, uint64_t idle_ns);

/*
 * Adds a flow with weight (clamped to 1..AVA_FAIRQ_MAX_WEIGHT). Returns 0
 * and *ret_flow (owned by q until ava_fairq_flow_remove), or -ENOMEM.
 */
int ava_fairq_flow_new(struct ava_fairq *q, uint32_t weight, struct ava_fairq_flow **ret_flow)
    __attribute__((warn_unused_result));

/*
 * Changes a flow's weight (policy reload; clamped as above). Service
 * already charged stays charged; calls from now on count at the new weight.
 */
void ava_fairq_flow_set_weight(struct ava_fairq_flow *f, uint32_t weight);

/*
 * Removes flow f (the tenant is gone) and frees it. Each cookie still
 * queued on f is passed to fail(cookie, arg) in queue order, for the
 * caller to fail the call; fail must not call into q. Dispatched calls of
 * f stay dispatched: their completion (or drop) frees the slot, charging
 * no one. Returns the number of cookies passed to fail.
 */
size_t ava_fairq_flow_remove(struct ava_fairq *q, struct ava_fairq_flow *f,
			     void (*fail)(void *cookie, void *arg), void *arg);

/*
 * Queues a call (cookie, not NULL, owned by the caller) on flow f at now_ns.
 * Returns 0 and, if ret_item is not NULL, the item's handle (valid until it
 * is completed or dropped), or -ENOMEM.
 */
int ava_fairq_enqueue(struct ava_fairq *q, struct ava_fairq_flow *f, void *cookie, uint64_t now_ns,
		      struct ava_fairq_item **ret_item) __attribute__((warn_unused_result));

/*
 * Dispatches the next call when fewer than max_inflight slots are held:
 * the queued head with the smallest start tag. Returns the item, now
 * holding a slot until now_ns + lease_ns (forward its cookie to the
 * server, then report ava_fairq_complete or ava_fairq_drop), or NULL when
 * nothing is queued or every slot is held. Call it in a loop until NULL
 * after every enqueue, complete, drop and expire.
 */
struct ava_fairq_item *ava_fairq_next(struct ava_fairq *q, uint64_t now_ns)
    __attribute__((warn_unused_result));

/* The cookie an item was queued with. */
void *ava_fairq_item_cookie(const struct ava_fairq_item *item);

/* The flow of an item, or NULL for a dispatched item whose flow was removed. */
struct ava_fairq_flow *ava_fairq_item_flow(const struct ava_fairq_item *item);

/*
 * A dispatched call completed after using cost_ns of device time
 * (AVA_FAIRQ_COST_UNKNOWN: charge now_ns minus its dispatch time). Charges
 * its flow (if it still exists), corrects the flow's finish tag from the
 * estimate to the actual cost, frees the slot (if its lease had not
 * expired) and frees item. Returns the item's cookie.
 */
void *ava_fairq_complete(struct ava_fairq *q, struct ava_fairq_item *item, uint64_t cost_ns,
			 uint64_t now_ns);

/*
 * Forgets an item without a measured cost and frees it: a queued call is
 * unqueued (its session ended), a dispatched call gives up its slot (its
 * server died), keeping the estimate already charged at dispatch. Returns
 * the item's cookie.
 */
void *ava_fairq_drop(struct ava_fairq *q, struct ava_fairq_item *item);

/*
 * Ends the lease of every slot whose deadline is <= now_ns: the slot stops
 * counting toward max_inflight (the call stays dispatched, and its
 * completion is still charged). Returns the number of slots expired.
 */
size_t ava_fairq_expire(struct ava_fairq *q, uint64_t now_ns);

/*
 * The earliest time the queue needs the caller again (a lease deadline, or
 * the end of an anticipation while calls wait), for the caller's timer, or
 * AVA_FAIRQ_NO_DEADLINE.
 */
uint64_t ava_fairq_next_deadline(const struct ava_fairq *q);

#endif /* AVA_ROUTER_FAIRQ_H */
