/* SPDX-License-Identifier: MIT */
/* Start-time fair queueing of device calls; fairq.h says why and how. */
#include "fairq.h"

#include <errno.h>
#include <stdlib.h>

/* Costs beyond this (146 years) are clamped: keeps tag arithmetic far from overflow. */
#define MAX_COST_NS (1ull << 62)

enum item_state {
	ITEM_QUEUED = 0,
	ITEM_INFLIGHT, /* in q->inflight, counting toward max_inflight */
	ITEM_EXPIRED,  /* in q->expired */
};

struct ava_fairq_item {
	void *cookie;
	struct ava_fairq_flow *flow; /* NULL: flow removed while dispatched */
	enum item_state state;
	uint64_t est_ns; /* charged at dispatch */
	uint64_t dispatched_ns;
	uint64_t deadline_ns;		    /* AVA_FAIRQ_NO_DEADLINE without a lease */
	struct ava_fairq_item *prev, *next; /* flow queue, q->inflight or q->expired */
};

static uint32_t clamp_weight(uint32_t w)
{
	if (w == 0)
		return 1;
	return w > AVA_FAIRQ_MAX_WEIGHT ? AVA_FAIRQ_MAX_WEIGHT : w;
}

static uint64_t clamp_cost(uint64_t c)
{
	return c > MAX_COST_NS ? MAX_COST_NS : c;
}

/* Advances f's finish tag by cost / weight, carrying the remainder exactly. */
static void tag_add(struct ava_fairq_flow *f, uint64_t cost)
{
	uint64_t num = clamp_cost(cost) + f->finish_rem; /* rem < weight: no overflow */
	f->finish += num / f->weight;
	f->finish_rem = num % f->weight;
}

/* Moves f's finish tag back by cost / weight (an estimate that was too high). */
static void tag_sub(struct ava_fairq_flow *f, uint64_t cost)
{
	cost = clamp_cost(cost);
	uint64_t quot = cost / f->weight, rem = cost % f->weight;
	if (f->finish_rem >= rem) {
		f->finish_rem -= rem;
	} else {
		f->finish_rem += f->weight - rem;
		quot++;
	}
	if (quot > f->finish) {
		f->finish = 0;
		f->finish_rem = 0;
	} else {
		f->finish -= quot;
	}
}

/* Doubly linked lists through prev/next with a head pointer. */
static void item_link(struct ava_fairq_item **head, struct ava_fairq_item *it)
{
	it->prev = NULL;
	it->next = *head;
	if (*head)
		(*head)->prev = it;
	*head = it;
}

static void item_unlink(struct ava_fairq_item **head, struct ava_fairq_item *it)
{
	if (it->prev)
		it->prev->next = it->next;
	else
		*head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	it->prev = it->next = NULL;
}

static void active_add(struct ava_fairq *q, struct ava_fairq_flow *f)
{
	f->act_prev = NULL;
	f->act_next = q->active;
	if (q->active)
		q->active->act_prev = f;
	q->active = f;
}

static void active_del(struct ava_fairq *q, struct ava_fairq_flow *f)
{
	if (f->act_prev)
		f->act_prev->act_next = f->act_next;
	else
		q->active = f->act_next;
	if (f->act_next)
		f->act_next->act_prev = f->act_prev;
	f->act_prev = f->act_next = NULL;
}

/* Takes the head item off f's queue. */
static struct ava_fairq_item *flow_pop(struct ava_fairq *q, struct ava_fairq_flow *f)
{
	struct ava_fairq_item *it = f->head;

	f->head = it->next;
	if (f->head)
		f->head->prev = NULL;
	else
		f->tail = NULL;
	it->next = NULL;
	f->n_queued--;
	q->n_queued--;
	if (!f->head)
		active_del(q, f);
	return it;
}

/*
 * When nothing is queued or running, nobody is owed anything: V moves to
 * the largest finish tag so every flow starts level at its next call.
 */
static void idle_check(struct ava_fairq *q)
{
	if (q->n_queued || q->n_inflight || q->n_expired)
		return;
	for (struct ava_fairq_flow *f = q->flows; f; f = f->next)
		if (f->finish > q->vtime)
			q->vtime = f->finish;
}

void ava_fairq_init(struct ava_fairq *q, uint32_t max_inflight, uint64_t lease_ns,
		    uint64_t quantum_ns)
{
	*q = (struct ava_fairq){ .quantum_ns =
				     quantum_ns ? quantum_ns : AVA_FAIRQ_DEFAULT_QUANTUM_NS };
	ava_fairq_set_params(q, max_inflight, lease_ns);
}

void ava_fairq_set_params(struct ava_fairq *q, uint32_t max_inflight, uint64_t lease_ns)
{
	q->max_inflight = max_inflight ? max_inflight : 1;
	q->lease_ns = lease_ns;
}

static void free_items(struct ava_fairq_item *it)
{
	while (it) {
		struct ava_fairq_item *next = it->next;
		free(it);
		it = next;
	}
}

void ava_fairq_fini(struct ava_fairq *q)
{
	struct ava_fairq_flow *f = q->flows;

	while (f) {
		struct ava_fairq_flow *next = f->next;
		free_items(f->head);
		free(f);
		f = next;
	}
	free_items(q->inflight);
	free_items(q->expired);
	*q = (struct ava_fairq){ 0 };
}

int ava_fairq_flow_new(struct ava_fairq *q, uint32_t weight, struct ava_fairq_flow **ret_flow)
{
	struct ava_fairq_flow *f = calloc(1, sizeof(*f));

	*ret_flow = NULL;
	if (!f)
		return -ENOMEM;
	f->q = q;
	f->weight = clamp_weight(weight);
	f->id = q->next_flow_id++;
	f->est_ns = q->quantum_ns;
	f->finish = q->vtime;
	f->next = q->flows;
	if (q->flows)
		q->flows->prev = f;
	q->flows = f;
	*ret_flow = f;
	return 0;
}

void ava_fairq_flow_set_weight(struct ava_fairq_flow *f, uint32_t weight)
{
	f->weight = clamp_weight(weight);
	f->finish_rem = 0; /* less than one virtual ns at the old weight */
}

/* Forgets f in the dispatched items of list (they complete charging no one). */
static void orphan_items(struct ava_fairq_item *it, const struct ava_fairq_flow *f)
{
	for (; it; it = it->next)
		if (it->flow == f)
			it->flow = NULL;
}

size_t ava_fairq_flow_remove(struct ava_fairq *q, struct ava_fairq_flow *f,
			     void (*fail)(void *cookie, void *arg), void *arg)
{
	size_t n = 0;

	while (f->head) {
		struct ava_fairq_item *it = flow_pop(q, f);
		void *cookie = it->cookie;
		free(it);
		if (fail)
			fail(cookie, arg);
		n++;
	}
	if (f->n_inflight) {
		orphan_items(q->inflight, f);
		orphan_items(q->expired, f);
	}
	if (f->prev)
		f->prev->next = f->next;
	else
		q->flows = f->next;
	if (f->next)
		f->next->prev = f->prev;
	if (q->ant_flow == f)
		q->ant_flow = NULL;
	free(f);
	idle_check(q);
	return n;
}

void ava_fairq_set_idle(struct ava_fairq *q, uint64_t idle_ns)
{
	q->idle_ns = idle_ns;
	if (!idle_ns)
		q->ant_flow = NULL;
}

/* Folds one think time into f's moving average (over about 4 samples). */
static void think_add(struct ava_fairq_flow *f, uint64_t think_ns)
{
	f->think_ns = f->think_ns - f->think_ns / 4 + think_ns / 4;
}

int ava_fairq_enqueue(struct ava_fairq *q, struct ava_fairq_flow *f, void *cookie, uint64_t now_ns,
		      struct ava_fairq_item **ret_item)
{
	struct ava_fairq_item *it = calloc(1, sizeof(*it));

	if (ret_item)
		*ret_item = NULL;
	if (!it)
		return -ENOMEM;
	it->cookie = cookie;
	it->flow = f;
	it->state = ITEM_QUEUED;
	if (f->idle_since) {
		think_add(f, now_ns > f->idle_since ? now_ns - f->idle_since : 0);
		f->idle_since = 0;
		if (q->ant_flow == f && now_ns <= q->ant_until)
			q->n_idle_hits++;
	}
	if (!f->head) {
		/* Empty to backlogged: no credit for the time it was idle. */
		if (f->finish < q->vtime) {
			f->finish = q->vtime;
			f->finish_rem = 0;
		}
		f->head = f->tail = it;
		active_add(q, f);
	} else {
		it->prev = f->tail;
		f->tail->next = it;
		f->tail = it;
	}
	f->n_queued++;
	q->n_queued++;
	if (ret_item)
		*ret_item = it;
	return 0;
}

/*
 * Whether a's head goes before b's: smaller start tag; on a tie, the
 * smaller expected finish tag (so a heavier flow is not made to wait behind
 * a lighter one that started level); then the older flow.
 */
static int goes_before(const struct ava_fairq_flow *a, const struct ava_fairq_flow *b)
{
	if (a->finish != b->finish)
		return a->finish < b->finish;
	uint64_t fa = a->est_ns / a->weight, fb = b->est_ns / b->weight;
	if (fa != fb)
		return fa < fb;
	return a->id < b->id;
}

struct ava_fairq_item *ava_fairq_next(struct ava_fairq *q, uint64_t now_ns)
{
	struct ava_fairq_flow *best = NULL;

	if (q->n_inflight >= q->max_inflight || !q->active)
		return NULL;
	for (struct ava_fairq_flow *f = q->active; f; f = f->act_next)
		if (!best || goes_before(f, best))
			best = f;
	if (q->ant_flow && q->ant_flow != best) {
		struct ava_fairq_flow *a = q->ant_flow;
		if (now_ns < q->ant_until && !a->head && goes_before(a, best))
			return NULL; /* the slot waits for the owed flow's next call */
		if (!a->head && a->idle_since) {
			/* It did not come back in time: count the window as its think time. */
			think_add(a, 2 * q->idle_ns);
		}
	}
	q->ant_flow = NULL;

	struct ava_fairq_item *it = flow_pop(q, best);
	/* The head's start tag is the flow's finish tag; V follows the dispatched start tags. */
	if (best->finish > q->vtime)
		q->vtime = best->finish;
	it->est_ns = best->est_ns;
	tag_add(best, it->est_ns);
	it->state = ITEM_INFLIGHT;
	it->dispatched_ns = now_ns;
	it->deadline_ns = AVA_FAIRQ_NO_DEADLINE;
	if (q->lease_ns && now_ns <= AVA_FAIRQ_NO_DEADLINE - 1 - q->lease_ns)
		it->deadline_ns = now_ns + q->lease_ns;
	item_link(&q->inflight, it);
	q->n_inflight++;
	q->n_dispatched++;
	best->n_inflight++;
	best->n_dispatched++;
	return it;
}

void *ava_fairq_item_cookie(const struct ava_fairq_item *item)
{
	return item->cookie;
}

struct ava_fairq_flow *ava_fairq_item_flow(const struct ava_fairq_item *item)
{
	return item->flow;
}

/* Takes a dispatched item out of its slot list. */
static void slot_release(struct ava_fairq *q, struct ava_fairq_item *it)
{
	if (it->state == ITEM_INFLIGHT) {
		item_unlink(&q->inflight, it);
		q->n_inflight--;
	} else {
		item_unlink(&q->expired, it);
		q->n_expired--;
	}
	if (it->flow)
		it->flow->n_inflight--;
}

/*
 * f's call completed and f is idle: keep the slot for f for up to idle_ns
 * if f would go before every waiting flow and tends to come back in time.
 */
static void anticipate(struct ava_fairq *q, struct ava_fairq_flow *f, uint64_t now_ns)
{
	if (!q->idle_ns || f->think_ns > q->idle_ns)
		return;
	for (struct ava_fairq_flow *g = q->active; g; g = g->act_next)
		if (!goes_before(f, g))
			return;
	q->ant_flow = f;
	q->ant_until = now_ns + q->idle_ns;
	q->n_idle_holds++;
}

void *ava_fairq_complete(struct ava_fairq *q, struct ava_fairq_item *item, uint64_t cost_ns,
			 uint64_t now_ns)
{
	struct ava_fairq_flow *f = item->flow;
	void *cookie = item->cookie;

	if (item->state == ITEM_QUEUED)
		return ava_fairq_drop(q, item); /* never dispatched: nothing ran */
	if (cost_ns == AVA_FAIRQ_COST_UNKNOWN)
		cost_ns = now_ns > item->dispatched_ns ? now_ns - item->dispatched_ns : 0;
	cost_ns = clamp_cost(cost_ns);
	slot_release(q, item);
	if (f) {
		/* Replace the estimate charged at dispatch by the actual cost. */
		if (cost_ns >= item->est_ns)
			tag_add(f, cost_ns - item->est_ns);
		else
			tag_sub(f, item->est_ns - cost_ns);
		f->n_completed++;
		f->cost_ns += cost_ns;
		/* Moving average over about 8 calls; never 0, so a tag always advances. */
		f->est_ns = f->est_ns - f->est_ns / 8 + cost_ns / 8;
		if (f->est_ns == 0)
			f->est_ns = 1;
		if (!f->head && !f->n_inflight) {
			f->idle_since = now_ns ? now_ns : 1;
			anticipate(q, f, now_ns);
		}
	}
	free(item);
	idle_check(q);
	return cookie;
}

void *ava_fairq_drop(struct ava_fairq *q, struct ava_fairq_item *item)
{
	void *cookie = item->cookie;
	struct ava_fairq_flow *f = item->flow;

	if (item->state == ITEM_QUEUED) {
		if (item == f->head) {
			flow_pop(q, f);
		} else {
			/* Not the head: plain unlink (the flow stays backlogged). */
			item->prev->next = item->next;
			if (item->next)
				item->next->prev = item->prev;
			else
				f->tail = item->prev;
			f->n_queued--;
			q->n_queued--;
		}
	} else {
		slot_release(q, item);
	}
	free(item);
	idle_check(q);
	return cookie;
}

size_t ava_fairq_expire(struct ava_fairq *q, uint64_t now_ns)
{
	size_t n = 0;
	struct ava_fairq_item *it = q->inflight;

	while (it) {
		struct ava_fairq_item *next = it->next;
		if (it->deadline_ns != AVA_FAIRQ_NO_DEADLINE && it->deadline_ns <= now_ns) {
			item_unlink(&q->inflight, it);
			q->n_inflight--;
			it->state = ITEM_EXPIRED;
			item_link(&q->expired, it);
			q->n_expired++;
			q->n_expired_total++;
			n++;
		}
		it = next;
	}
	return n;
}

uint64_t ava_fairq_next_deadline(const struct ava_fairq *q)
{
	uint64_t d = AVA_FAIRQ_NO_DEADLINE;

	for (const struct ava_fairq_item *it = q->inflight; it; it = it->next)
		if (it->deadline_ns < d)
			d = it->deadline_ns;
	if (q->ant_flow && q->n_queued && q->ant_until < d)
		d = q->ant_until;
	return d;
}
