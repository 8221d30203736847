/* SPDX-License-Identifier: MIT */
/*
 * Policy enforcement on the call path: the router's side of quotas, rate
 * limits and device fair queueing (enforce.h explains the order a CALL
 * passes them in).
 *
 * Held frames: a CALL that must wait (for tokens or for a device slot) is
 * kept with its payload in a struct ava_enforce_held, linked into its
 * session's list (so the session's end can drop it) and into either its
 * tenant's rate FIFO or its device's fair queue (as the item's cookie).
 * When it may go, it is unlinked from everything and appended, with the
 * CHUNKs held behind it, to the router's list of released frames
 * (ava_enforce_next_release), which the caller forwards. This file decides;
 * it never sends, answers or touches the epoll set: every function returns
 * what the caller must do (a verdict, a release, a paused session).
 */
#define _GNU_SOURCE
#include "enforce.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ava/policy.h>

#include "log.h"
#include "clock.h"

/* A device that tenants' servers are placed on: one fair queue. */
struct ava_router_device {
	struct ava_router_device *next;
	char *name;
	struct ava_fairq q;
	int in_policy; /* named by the current policy (devices no longer named drain and stay) */
};

/* A tenant's flow on one device. */
struct ava_router_flow {
	struct ava_router_flow *next;
	struct ava_router_device *dev;
	struct ava_fairq_flow *flow;
};

enum held_stage {
	HELD_RATE = 1, /* in the tenant's rate FIFO */
	HELD_DEVICE,   /* queued in a device's fair queue */
};

struct ava_enforce_held {
	struct ava_enforce_held *g_prev, *g_next; /* the session's held frames */
	struct ava_enforce_held *rate_next;	  /* the tenant's rate FIFO */
	struct ava_router_guest *g;
	struct ava_wire_header hdr;
	uint8_t *payload;
	const struct ava_abi_fn *fn;
	enum held_stage stage;
	int call_token_taken;
	uint64_t since_ns;
	struct ava_router_device *dev; /* HELD_DEVICE */
	struct ava_fairq_item *item;   /* HELD_DEVICE */
	uint64_t cost_bytes;	       /* byte_rate tokens: the payload and any streamed bytes */
	struct ava_enforce_frame *chunks, **chunks_tail; /* a streamed CALL's CHUNKs so far */
	uint64_t chunk_bytes;
	struct ava_enforce_release release; /* what it becomes when it may go */
};

/* The held frame a release was made from (it lives on in the release). */
static struct ava_enforce_held *container_of_release(struct ava_enforce_release *rel)
{
	return (struct ava_enforce_held *)(void *)((char *)rel -
						   offsetof(struct ava_enforce_held, release));
}

static void held_chunks_free(struct ava_enforce_held *h)
{
	while (h->chunks) {
		struct ava_enforce_frame *c = h->chunks;
		h->chunks = c->next;
		free(c->payload);
		free(c);
	}
	h->chunks_tail = &h->chunks;
	h->chunk_bytes = 0;
}

/* A device-time call in flight, by its seq in g->enforce.dispatched. */
struct dispatched {
	struct ava_router_device *dev;
	struct ava_fairq_item *item;
};

/* Wakes the loop no later than at_ns. */
static void wake_at(struct ava_router *r, uint64_t at_ns)
{
	int64_t ms = (int64_t)((at_ns + 999999u) / 1000000u);
	if (at_ns == UINT64_MAX)
		return;
	if (r->enforce_wake_ms == 0 || ms < r->enforce_wake_ms)
		r->enforce_wake_ms = ms;
}

static void sync_usage_stats(struct ava_router_tenant *t)
{
	t->stats.memory_used = t->enforce.quota.used_bytes;
	t->stats.objects = t->enforce.quota.n_objects;
}

/* ---- devices and flows ---- */

static struct ava_router_device *device_find(const struct ava_router *r, const char *name)
{
	for (struct ava_router_device *d = r->devices; d; d = d->next) {
		if (!strcmp(d->name, name))
			return d;
	}
	return NULL;
}

static struct ava_router_device *device_get(struct ava_router *r,
					    const struct ava_policy_device *pd)
{
	struct ava_router_device *d = device_find(r, pd->name);
	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->name = strdup(pd->name);
	if (!d->name) {
		free(d);
		return NULL;
	}
	ava_fairq_init(&d->q, pd->max_inflight, (uint64_t)pd->lease_ms * 1000000u, 0);
	ava_fairq_set_idle(&d->q, (uint64_t)pd->idle_us * 1000u);
	d->in_policy = 1;
	d->next = r->devices;
	r->devices = d;
	return d;
}

int ava_enforce_policy_applied(struct ava_router *r)
{
	const struct ava_policy *p = r->policy;
	for (struct ava_router_device *d = r->devices; d; d = d->next)
		d->in_policy = 0;
	for (size_t i = 0; i < p->n_devices; i++) {
		const struct ava_policy_device *pd = &p->devices[i];
		struct ava_router_device *d = device_find(r, pd->name);
		if (d) {
			ava_fairq_set_params(&d->q, pd->max_inflight,
					     (uint64_t)pd->lease_ms * 1000000u);
			ava_fairq_set_idle(&d->q, (uint64_t)pd->idle_us * 1000u);
			d->in_policy = 1;
		} else if (!device_get(r, pd)) {
			return -ENOMEM;
		}
	}
	return 0;
}

int ava_enforce_init(struct ava_router *r)
{
	ava_quota_init(&r->quota);
	r->enforce_released = NULL;
	r->enforce_released_tail = &r->enforce_released;
	return ava_enforce_policy_applied(r);
}

void ava_enforce_fini(struct ava_router *r)
{
	while (r->devices) {
		struct ava_router_device *d = r->devices;
		r->devices = d->next;
		ava_fairq_fini(&d->q);
		free(d->name);
		free(d);
	}
	ava_quota_fini(&r->quota);
}

static struct ava_fairq_flow *flow_get(struct ava_router_tenant *t, struct ava_router_device *d)
{
	for (struct ava_router_flow *f = t->enforce.flows; f; f = f->next) {
		if (f->dev == d)
			return f->flow;
	}
	struct ava_router_flow *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	if (ava_fairq_flow_new(&d->q, t->limits->weight, &f->flow) < 0) {
		free(f);
		return NULL;
	}
	f->dev = d;
	f->next = t->enforce.flows;
	t->enforce.flows = f;
	return f->flow;
}

/* ---- tenants ---- */

void ava_enforce_tenant_init(struct ava_router *r, struct ava_router_tenant *t)
{
	const struct ava_policy_limits *l = t->limits;
	uint64_t now = ava_clock_now_ns();
	(void)r;
	ava_ratelimit_init(&t->enforce.call_rl, l->call_rate.per_sec, l->call_rate.burst, now);
	ava_ratelimit_init(&t->enforce.byte_rl, l->byte_rate.per_sec, l->byte_rate.burst, now);
	ava_quota_account_init(&t->enforce.quota, l->memory_quota, l->max_objects);
}

void ava_enforce_tenant_apply(struct ava_router *r, struct ava_router_tenant *t)
{
	const struct ava_policy_limits *l = t->limits;
	uint64_t now = ava_clock_now_ns();
	ava_ratelimit_set_params(&t->enforce.call_rl, l->call_rate.per_sec, l->call_rate.burst,
				 now);
	ava_ratelimit_set_params(&t->enforce.byte_rl, l->byte_rate.per_sec, l->byte_rate.burst,
				 now);
	ava_quota_set_limit(&t->enforce.quota, l->memory_quota, l->max_objects);
	for (struct ava_router_flow *f = t->enforce.flows; f; f = f->next)
		ava_fairq_flow_set_weight(f->flow, l->weight);
	/* New rates may let waiting calls go sooner. */
	if (t->enforce.rate_head)
		wake_at(r, now);
}

void ava_enforce_tenant_fini(struct ava_router *r, struct ava_router_tenant *t)
{
	while (t->enforce.flows) {
		struct ava_router_flow *f = t->enforce.flows;
		t->enforce.flows = f->next;
		(void)ava_fairq_flow_remove(&f->dev->q, f->flow, NULL, NULL);
		free(f);
	}
	ava_quota_account_fini(&r->quota, &t->enforce.quota);
}

/* ---- held frames ---- */

void ava_enforce_guest_init(struct ava_router_guest *g)
{
	memset(&g->enforce, 0, sizeof(g->enforce));
	ava_map_init(&g->enforce.dispatched);
}

/* Its held frames drained: read it again (its release tells the caller to re-arm it). */
static void guest_unpause_maybe(struct ava_router *r, struct ava_router_guest *g)
{
	struct ava_enforce_guest *e = &g->enforce;
	if (!e->paused || e->held_async || e->held_bytes > AVA_ENFORCE_HELD_HIGH)
		return;
	e->paused = 0;
	r->resume_guests = 1;
}

/* Unlinks h from its session (not from the rate FIFO or device queue). */
static void held_unlink_guest(struct ava_router *r, struct ava_enforce_held *h)
{
	struct ava_router_guest *g = h->g;
	struct ava_enforce_guest *e = &g->enforce;
	if (h->g_prev)
		h->g_prev->g_next = h->g_next;
	else
		e->held = h->g_next;
	if (h->g_next)
		h->g_next->g_prev = h->g_prev;
	h->g_prev = h->g_next = NULL;
	e->held_bytes -= h->hdr.len_bytes + h->chunk_bytes;
	if (h->hdr.flags & AVA_WIRE_F_ASYNC)
		e->held_async--;
	g->tenant->enforce.held_now--;
	guest_unpause_maybe(r, g);
}

/*
 * Appends h's CALL, then the CHUNKs of it that came meanwhile (later ones go
 * straight on: guest.c), to the released frames; frees h.
 */
static void held_release(struct ava_router *r, struct ava_enforce_held *h)
{
	struct ava_enforce_release *rel = &h->release;
	rel->g = h->g;
	rel->next = NULL;
	rel->call.hdr = h->hdr;
	rel->call.payload = h->payload;
	rel->call.next = h->chunks;
	*r->enforce_released_tail = rel;
	r->enforce_released_tail = &rel->next;
}

struct ava_enforce_release *ava_enforce_next_release(struct ava_router *r)
{
	struct ava_enforce_release *rel = r->enforce_released;
	if (!rel)
		return NULL;
	r->enforce_released = rel->next;
	if (!r->enforce_released)
		r->enforce_released_tail = &r->enforce_released;
	rel->next = NULL;
	return rel;
}

void ava_enforce_release_free(struct ava_enforce_release *rel)
{
	struct ava_enforce_frame *f = rel->call.next;
	free(rel->call.payload);
	while (f) {
		struct ava_enforce_frame *next = f->next;
		free(f->payload);
		free(f);
		f = next;
	}
	free(container_of_release(rel));
}

static struct ava_enforce_held *held_find(const struct ava_router_guest *g, uint64_t seq)
{
	for (struct ava_enforce_held *h = g->enforce.held; h; h = h->g_next)
		if (h->hdr.seq == seq)
			return h;
	return NULL;
}

int ava_enforce_is_held(const struct ava_router_guest *g, uint64_t seq)
{
	return held_find(g, seq) != NULL;
}

int ava_enforce_hold_chunk(struct ava_router_guest *g, const struct ava_wire_header *hdr,
			   uint8_t *payload)
{
	struct ava_enforce_held *h = held_find(g, hdr->seq);
	if (!h)
		return -ENOENT;
	struct ava_enforce_frame *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->next = NULL;
	c->hdr = *hdr;
	c->payload = payload;
	*h->chunks_tail = c;
	h->chunks_tail = &c->next;
	h->chunk_bytes += hdr->len_bytes;
	g->enforce.held_bytes += hdr->len_bytes;
	if (g->enforce.held_bytes > AVA_ENFORCE_HELD_HIGH)
		g->enforce.paused = 1; /* the caller stops reading it */
	return 0;
}

/* Forwards what the device's fair queue lets run now. */
static void device_dispatch(struct ava_router *r, struct ava_router_device *d)
{
	struct ava_fairq_item *item;
	uint64_t now = ava_clock_now_ns();
	while ((item = ava_fairq_next(&d->q, now))) {
		struct ava_enforce_held *h = ava_fairq_item_cookie(item);
		struct ava_router_guest *g = h->g;
		struct dispatched *x = malloc(sizeof(*x));
		held_unlink_guest(r, h);
		if (!x || ava_map_get(&g->enforce.dispatched, h->hdr.seq) ||
		    ava_map_put(&g->enforce.dispatched, h->hdr.seq, x) < 0) {
			/* Untracked: the slot is given back at once rather than leaked. */
			free(x);
			(void)ava_fairq_drop(&d->q, item);
		} else {
			x->dev = d;
			x->item = item;
		}
		held_release(r, h);
	}
	wake_at(r, ava_fairq_next_deadline(&d->q));
}

/* A call that passed its rate limits: into the device queue, or straight on. */
static void after_rate(struct ava_router *r, struct ava_enforce_held *h)
{
	struct ava_router_guest *g = h->g;
	if (!(h->fn->flags & AVA_ABI_FN_DEVICE_TIME)) {
		held_unlink_guest(r, h);
		held_release(r, h);
		return;
	}
	const struct ava_policy_device *pd =
	    ava_policy_placement(r->policy, g->tenant->limits, g->api->name);
	struct ava_router_device *d = pd ? device_get(r, pd) : NULL;
	struct ava_fairq_flow *f = d ? flow_get(g->tenant, d) : NULL;
	if (!f || ava_fairq_enqueue(&d->q, f, h, ava_clock_now_ns(), &h->item) < 0) {
		/* Out of memory: the call goes unqueued rather than not at all. */
		held_unlink_guest(r, h);
		held_release(r, h);
		return;
	}
	h->stage = HELD_DEVICE;
	h->dev = d;
	device_dispatch(r, d);
}

/*
 * Takes the tokens h needs. Returns 0 when it may go, or -EAGAIN with the
 * wait in *ret_wait_ns (the call token, once taken, is not taken again).
 */
static int rate_take(struct ava_router_tenant *t, struct ava_enforce_held *h, uint64_t now,
		     uint64_t *ret_wait_ns)
{
	struct ava_enforce_tenant *e = &t->enforce;
	if (!h->call_token_taken) {
		if (ava_ratelimit_take(&e->call_rl, 1, now, ret_wait_ns) < 0)
			return -EAGAIN;
		h->call_token_taken = 1;
	}
	if (ava_ratelimit_take(&e->byte_rl, h->cost_bytes, now, ret_wait_ns) < 0)
		return -EAGAIN;
	return 0;
}

/* Lets waiting calls of t pass while their tokens are there. */
static void rate_drain(struct ava_router *r, struct ava_router_tenant *t, uint64_t now)
{
	struct ava_enforce_tenant *e = &t->enforce;
	while (e->rate_head) {
		struct ava_enforce_held *h = e->rate_head;
		uint64_t wait = 0;
		if (rate_take(t, h, now, &wait) < 0) {
			e->rate_wake_ns = now + wait;
			wake_at(r, e->rate_wake_ns);
			return;
		}
		e->rate_head = h->rate_next;
		if (!e->rate_head)
			e->rate_tail = NULL;
		h->rate_next = NULL;
		e->delay_ns += now - h->since_ns;
		after_rate(r, h);
	}
	e->rate_wake_ns = 0;
}

/* ---- the call path ---- */

static int fn_makes_object(const struct ava_abi_fn *fn)
{
	if (fn->ret.flags & AVA_ABI_V_ALLOCATES)
		return 1;
	for (uint16_t i = 0; i < fn->n_args; i++) {
		if (fn->args[i].flags & AVA_ABI_V_ALLOCATES)
			return 1;
	}
	return 0;
}

/*
 * ava_allocates_resource(device_memory, 0xffffffffffffffff) (OpenCL:
 * AVA_OPENCL_UNSIZED), a constant of UINT64_MAX bytes: the call creates
 * device memory whose size the router cannot compute from the wire (an image's is its dimensions times its
 * format's element size, a pipe's its packet size times its packet count;
 * the manifest carries one scalar or a constant). A tenant with a memory
 * quota is refused it, as SVM is; without one it counts as an object only.
 */
static int fn_unsized(const struct ava_abi_fn *fn)
{
	return fn->mem_from == AVA_ABI_AMOUNT_CONST && fn->mem_bytes == UINT64_MAX;
}

/* The verdict REFUSED, with why and the reason for the log. */
static enum ava_enforce_verdict refuse(struct ava_enforce_refusal *ret, enum ava_router_refusal why,
				       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum ava_enforce_verdict refuse(struct ava_enforce_refusal *ret, enum ava_router_refusal why,
				       const char *fmt, ...)
{
	va_list ap;
	ret->why = why;
	va_start(ap, fmt);
	vsnprintf(ret->reason, sizeof(ret->reason), fmt, ap);
	va_end(ap);
	return AVA_ENFORCE_REFUSED;
}

enum ava_enforce_verdict ava_enforce_call(struct ava_router *r, struct ava_router_guest *g,
					  const struct ava_wire_header *hdr, uint8_t *payload,
					  const struct ava_abi_fn *fn,
					  const struct ava_abi_view *views,
					  struct ava_router_call *call,
					  struct ava_enforce_refusal *ret_refusal)
{
	struct ava_router_tenant *t = g->tenant;
	struct ava_enforce_tenant *e = &t->enforce;
	const struct ava_policy_limits *l = t->limits;
	int async = (hdr->flags & AVA_WIRE_F_ASYNC) != 0;
	uint64_t now = ava_clock_now_ns();

	/* 1. Quota: reserve before the call can allocate anything. */
	if (call && fn_makes_object(fn)) {
		uint64_t bytes = 0;
		if (fn_unsized(fn)) {
			if (l->memory_quota != AVA_QUOTA_UNLIMITED) {
				e->quota.n_refused++;
				return refuse(ret_refusal, AVA_REFUSAL_MEMORY_QUOTA,
					      "the size of %s cannot be accounted against its "
					      "memory quota (%" PRIu64 ")",
					      fn->name, l->memory_quota);
			}
		} else if (ava_abi_mem_amount(fn, views, &bytes) < 0) {
			bytes = 0;
		}
		int ret = ava_quota_reserve(&e->quota, bytes, 1, &call->resv);
		if (ret == -EDQUOT)
			return refuse(ret_refusal, AVA_REFUSAL_MEMORY_QUOTA,
				      "%" PRIu64 " bytes would pass its memory quota (%" PRIu64
				      " used, %" PRIu64 " reserved, quota %" PRIu64 ")",
				      bytes, e->quota.used_bytes, e->quota.reserved_bytes,
				      l->memory_quota);
		if (ret == -ENOSPC)
			return refuse(ret_refusal, AVA_REFUSAL_OBJECTS,
				      "one more object would pass its object cap (%" PRIu64
				      " live, cap %" PRIu64 ")",
				      e->quota.n_objects, l->max_objects);
		if (ret < 0)
			call->resv = NULL; /* out of memory: unaccounted rather than refused */
	}
	/*
	 * Device memory that no handle will hold (clSVMAlloc returns an
	 * address): the router could not give it back, so a tenant with a
	 * memory quota is refused it; without one it is not counted.
	 */
	if (call && !fn_makes_object(fn) && fn->mem_from != AVA_ABI_AMOUNT_NONE &&
	    l->memory_quota != AVA_QUOTA_UNLIMITED) {
		uint64_t bytes = 0;
		if (ava_abi_mem_amount(fn, views, &bytes) < 0)
			bytes = 0;
		if (bytes > 0) {
			e->quota.n_refused++;
			return refuse(ret_refusal, AVA_REFUSAL_MEMORY_QUOTA,
				      "%" PRIu64 " bytes of %s cannot be accounted against its "
				      "memory quota (%" PRIu64 ")",
				      bytes, fn->name, l->memory_quota);
		}
	}

	/* 2. Rate limits: the FIFO keeps the tenant's calls in order. */
	uint64_t streamed = 0;
	(void)ava_abi_streamed_arg(fn, views, &streamed);
	struct ava_enforce_held tmp = { .hdr = *hdr, .cost_bytes = hdr->len_bytes + streamed };
	uint64_t wait = 0;
	int over = e->rate_head != NULL;
	int token_taken = 0;
	if (!over) {
		over = rate_take(t, &tmp, now, &wait) < 0;
		token_taken = tmp.call_token_taken;
	}
	if (over) {
		int by_bytes = token_taken || e->rate_head;
		const struct ava_policy_rate *rate =
		    by_bytes && !e->rate_head ? &l->byte_rate : &l->call_rate;
		if (!e->rate_head && rate->over == AVA_POLICY_OVER_REFUSE)
			return refuse(ret_refusal,
				      by_bytes ? AVA_REFUSAL_BYTE_RATE : AVA_REFUSAL_CALL_RATE,
				      "over its %s rate (%" PRIu64 "/s)",
				      by_bytes ? "byte" : "call", rate->per_sec);
	}
	if (!over && !(fn->flags & AVA_ABI_FN_DEVICE_TIME))
		return AVA_ENFORCE_FORWARD;

	/* 3. Held: for tokens, or for the device. */
	struct ava_enforce_held *h = calloc(1, sizeof(*h));
	if (!h) {
		/* Out of memory: forward unheld rather than lose the call. */
		return AVA_ENFORCE_FORWARD;
	}
	h->g = g;
	h->hdr = *hdr;
	h->payload = payload;
	h->fn = fn;
	h->since_ns = now;
	h->call_token_taken = token_taken;
	h->cost_bytes = tmp.cost_bytes;
	h->chunks_tail = &h->chunks;
	h->g_next = g->enforce.held;
	if (h->g_next)
		h->g_next->g_prev = h;
	g->enforce.held = h;
	g->enforce.held_bytes += hdr->len_bytes;
	if (async)
		g->enforce.held_async++;
	t->enforce.held_now++;
	if (g->enforce.held_async || g->enforce.held_bytes > AVA_ENFORCE_HELD_HIGH)
		g->enforce.paused = 1; /* the caller stops reading it */
	if (over) {
		h->stage = HELD_RATE;
		if (e->rate_tail)
			e->rate_tail->rate_next = h;
		else
			e->rate_head = h;
		e->rate_tail = h;
		e->delayed++;
		if (!e->rate_wake_ns || now + wait < e->rate_wake_ns)
			e->rate_wake_ns = now + wait;
		wake_at(r, e->rate_wake_ns);
		return AVA_ENFORCE_TAKEN;
	}
	after_rate(r, h);
	return AVA_ENFORCE_TAKEN;
}

void ava_enforce_call_dropped(struct ava_router_call *call)
{
	if (call->resv)
		ava_quota_abort(call->resv);
	call->resv = NULL;
}

void ava_enforce_reply(struct ava_router *r, struct ava_router_guest *g,
		       struct ava_router_call *call, const struct ava_abi_fn *fn,
		       const struct ava_wire_header *hdr, const struct ava_abi_view *reply_views)
{
	struct ava_router_tenant *t = g->tenant;
	int ok = hdr->status == AVA_STATUS_OK && reply_views;
	ava_ratelimit_charge(&t->enforce.byte_rl, hdr->len_bytes, ava_clock_now_ns());
	if (call->resv) {
		uint64_t id = 0;
		if (ok && ava_abi_new_handle(fn, reply_views, &id) == 0 && id != 0) {
			/* -EEXIST, -ENOMEM, -ESRCH: the bytes went back to the account already. */
			int ret = ava_quota_commit(&r->quota, call->resv, g->session, id);
			/* A sub-buffer keeps its parent's storage charged until it goes. */
			for (uint16_t i = 0; ret == 0 && i < fn->n_args && i < call->n_args; i++) {
				if ((fn->args[i].flags & AVA_ABI_V_PARENT) && call->args[i].u64) {
					/* -ENOENT: a parent the quota does not account for */
					int kept = ava_quota_keep(&r->quota, g->session, id,
								  call->args[i].u64);
					(void)kept;
				}
			}
			if (ret < 0 && r->verbose)
				ava_log_line("avarouterd: tenant %s session %" PRIu32
					     ": %s made handle %016" PRIx64 " not accounted (%s)",
					     t->name, g->session, fn->name, id, strerror(-ret));
		} else {
			ava_quota_abort(call->resv);
		}
		call->resv = NULL;
	}
	if (ok) {
		for (uint16_t i = 0; i < fn->n_args && i < call->n_args; i++) {
			uint8_t flags = fn->args[i].flags;
			if (fn->args[i].kind != AVA_ABI_HANDLE || !call->args[i].u64)
				continue;
			/* -ENOENT: not an accounted object (a platform, a device). */
			int64_t refs = 0;
			if (flags & AVA_ABI_V_RETAINS)
				refs = ava_quota_ref(&r->quota, g->session, call->args[i].u64);
			else if (flags & AVA_ABI_V_DEALLOCATES)
				refs = ava_quota_unref(&r->quota, g->session, call->args[i].u64);
			(void)refs;
		}
	}
	sync_usage_stats(t);
}

void ava_enforce_usage(struct ava_router *r, struct ava_router_server *s, uint32_t session,
		       uint64_t seq, uint64_t device_ns)
{
	struct ava_router_guest *g = ava_map_get(&s->sessions, session);
	if (!g)
		return; /* the session ended: its slot was given back then */
	struct dispatched *x = ava_map_del(&g->enforce.dispatched, seq);
	if (!x)
		return;
	(void)ava_fairq_complete(&x->dev->q, x->item, device_ns, ava_clock_now_ns());
	struct ava_router_device *d = x->dev;
	free(x);
	device_dispatch(r, d);
}

void ava_enforce_guest_end(struct ava_router *r, struct ava_router_guest *g)
{
	struct ava_enforce_guest *e = &g->enforce;
	struct ava_router_tenant *t = g->tenant;
	/* Held frames: out of the rate FIFO or device queue, then freed. */
	while (e->held) {
		struct ava_enforce_held *h = e->held;
		if (h->stage == HELD_RATE) {
			struct ava_enforce_held **pp = &t->enforce.rate_head, *prev = NULL;
			while (*pp && *pp != h) {
				prev = *pp;
				pp = &(*pp)->rate_next;
			}
			if (*pp)
				*pp = h->rate_next;
			if (t->enforce.rate_tail == h)
				t->enforce.rate_tail = prev;
		} else if (h->stage == HELD_DEVICE) {
			(void)ava_fairq_drop(&h->dev->q, h->item);
		}
		e->held = h->g_next;
		t->enforce.held_now--;
		held_chunks_free(h);
		free(h->payload);
		free(h);
	}
	e->held_bytes = 0;
	e->held_async = 0;
	e->paused = 0;
	/* Released but not yet forwarded: nowhere to go now. */
	for (struct ava_enforce_release **pp = &r->enforce_released; *pp;) {
		struct ava_enforce_release *rel = *pp;
		if (rel->g != g) {
			pp = &rel->next;
			continue;
		}
		*pp = rel->next;
		if (!*pp)
			r->enforce_released_tail = pp;
		ava_enforce_release_free(rel);
	}
	/* In-flight device calls give their slots back. */
	size_t pos = 0;
	struct dispatched *x;
	struct ava_router_device *touched = NULL;
	while ((x = ava_map_next(&e->dispatched, &pos, NULL))) {
		(void)ava_fairq_drop(&x->dev->q, x->item);
		touched = x->dev;
		free(x);
	}
	ava_map_fini(&e->dispatched);
	ava_map_init(&e->dispatched);
	(void)ava_quota_release_session(&r->quota, g->session);
	sync_usage_stats(t);
	/* Freed slots and a shorter FIFO may let others go. */
	for (struct ava_router_device *d = r->devices; d; d = d->next) {
		if (d == touched || d->q.n_queued)
			device_dispatch(r, d);
	}
	if (t->enforce.rate_head)
		wake_at(r, ava_clock_now_ns());
}

int64_t ava_enforce_tick(struct ava_router *r)
{
	uint64_t now = ava_clock_now_ns();
	r->enforce_wake_ms = 0;
	for (struct ava_router_tenant *t = r->tenants; t; t = t->next) {
		if (t->enforce.rate_head) {
			if (t->enforce.rate_wake_ns <= now)
				rate_drain(r, t, now);
			else
				wake_at(r, t->enforce.rate_wake_ns);
		}
	}
	for (struct ava_router_device *d = r->devices; d; d = d->next) {
		/* Expired leases and ended anticipations may let queued calls go. */
		if (ava_fairq_expire(&d->q, now) || d->q.n_queued)
			device_dispatch(r, d);
		wake_at(r, ava_fairq_next_deadline(&d->q));
	}
	return r->enforce_wake_ms ? r->enforce_wake_ms : INT64_MAX;
}

void ava_enforce_device_counts(const struct ava_router *r, const char *name, uint32_t *ret_inflight,
			       uint32_t *ret_queued)
{
	const struct ava_router_device *d = device_find(r, name);
	*ret_inflight = 0;
	*ret_queued = 0;
	if (!d)
		return;
	*ret_inflight = (uint32_t)(d->q.n_inflight + d->q.n_expired);
	*ret_queued = (uint32_t)d->q.n_queued;
}
