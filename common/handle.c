/* SPDX-License-Identifier: MIT */
/*
 * Handle tables. Slots live in one growable array indexed by the id's index
 * field (slot 0 is never used, so no valid id is 0). Free slots form a LIFO
 * list; live slots form a doubly-linked list in insertion order so drain can
 * release newest first; a chained hash keyed by the object pointer (chains
 * threaded through the slots) finds the existing id of a pointer in O(1).
 * One mutex guards everything: tables are per session and contention is low.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ava/handle.h"
#include "handle-private.h"

#define INDEX_BITS 24
#define GEN_BITS   24
#define INDEX_MASK ((UINT64_C(1) << INDEX_BITS) - 1)
#define GEN_MASK   ((UINT64_C(1) << GEN_BITS) - 1)
#define MAX_INDEX  ((uint32_t)INDEX_MASK) /* largest index; slots 1..MAX_INDEX */
#define NIL	   0u			  /* "no slot" in every list (slot 0 is unused) */

enum slot_state { SLOT_FREE = 0, SLOT_LIVE = 1, SLOT_RETIRED = 2 };

struct slot {
	void *ptr;
	uint32_t gen;  /* current generation (GEN_BITS wide) */
	uint32_t refs; /* guest references; see ava_handle_table_ref */
	uint8_t state;
	uint8_t type;
	uint32_t next_free;  /* free list */
	uint32_t hnext;	     /* hash chain */
	uint32_t prev, next; /* live list, oldest to newest */
};

struct ava_handle_table {
	pthread_mutex_t lock;
	uint8_t epoch;
	uint32_t max_entries;
	uint32_t n_live;
	struct slot *slots; /* n_slots entries, [0] unused */
	uint32_t n_slots;
	uint32_t cap_slots;
	uint32_t free_head;
	uint32_t oldest, newest;
	uint32_t *buckets; /* n_buckets heads, power of two */
	uint32_t n_buckets;
};

static uint64_t make_id(const struct ava_handle_table *t, uint32_t index)
{
	const struct slot *s = &t->slots[index];

	return (uint64_t)index | (uint64_t)s->gen << INDEX_BITS | (uint64_t)s->type << 48 |
	       (uint64_t)t->epoch << 56;
}

static uint32_t hash_ptr(const void *ptr, uint32_t n_buckets)
{
	uint64_t x = (uint64_t)(uintptr_t)ptr;

	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return (uint32_t)x & (n_buckets - 1);
}

int ava_handle_table_new(uint8_t epoch, uint32_t max_entries, ava_handle_table **ret_table)
{
	struct ava_handle_table *t;

	if (max_entries == 0 || max_entries > MAX_INDEX)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->n_buckets = 64;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return -ENOMEM;
	}
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t->buckets);
		free(t);
		return -ENOMEM;
	}
	t->epoch = epoch;
	t->max_entries = max_entries;
	t->n_slots = 1; /* slot 0 is never used */
	*ret_table = t;
	return 0;
}

void ava_handle_table_free(ava_handle_table *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->slots);
	free(t->buckets);
	free(t);
}

static uint32_t hash_find(const struct ava_handle_table *t, const void *ptr)
{
	uint32_t i = t->buckets[hash_ptr(ptr, t->n_buckets)];

	while (i != NIL && t->slots[i].ptr != ptr)
		i = t->slots[i].hnext;
	return i;
}

static void hash_add(struct ava_handle_table *t, uint32_t index)
{
	uint32_t b = hash_ptr(t->slots[index].ptr, t->n_buckets);

	t->slots[index].hnext = t->buckets[b];
	t->buckets[b] = index;
}

static void hash_del(struct ava_handle_table *t, uint32_t index)
{
	uint32_t *link = &t->buckets[hash_ptr(t->slots[index].ptr, t->n_buckets)];

	while (*link != index)
		link = &t->slots[*link].hnext;
	*link = t->slots[index].hnext;
}

/* Doubles the buckets when the live count reaches them; a failed resize is harmless. */
static void hash_maybe_grow(struct ava_handle_table *t)
{
	uint32_t n = t->n_buckets * 2, i;
	uint32_t *b;

	if (t->n_live < t->n_buckets || t->n_buckets >= (UINT32_C(1) << 25))
		return;
	b = calloc(n, sizeof(*b));
	if (!b)
		return;
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = n;
	for (i = t->oldest; i != NIL; i = t->slots[i].next)
		hash_add(t, i);
}

/* Finds a slot for a new handle: a free one, else a new one. Returns its index or NIL. */
static uint32_t slot_take(struct ava_handle_table *t)
{
	uint32_t i;

	if (t->free_head != NIL) {
		i = t->free_head;
		t->free_head = t->slots[i].next_free;
		return i;
	}
	if (t->n_slots > MAX_INDEX)
		return NIL; /* every index is live or retired */
	if (t->n_slots >= t->cap_slots) {
		uint32_t cap = t->cap_slots ? t->cap_slots * 2 : 16;
		struct slot *s;

		if (cap > MAX_INDEX + 1u)
			cap = MAX_INDEX + 1u;
		s = realloc(t->slots, (size_t)cap * sizeof(*s));
		if (!s)
			return NIL;
		t->slots = s;
		t->cap_slots = cap;
	}
	i = t->n_slots++;
	memset(&t->slots[i], 0, sizeof(t->slots[i]));
	return i;
}

int ava_handle_table_insert(ava_handle_table *t, uint16_t type, void *ptr, uint64_t *ret_id)
{
	uint32_t i;
	int r = 0;

	if (!ptr || type == 0 || type > 0xff)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	i = hash_find(t, ptr);
	if (i != NIL) {
		if (t->slots[i].type != type)
			r = -EEXIST;
		else
			*ret_id = make_id(t, i);
		goto out;
	}
	if (t->n_live >= t->max_entries) {
		r = -ENOSPC;
		goto out;
	}
	i = slot_take(t);
	if (i == NIL) {
		/* Out of indexes (retired slots) or memory; both mean no room. */
		r = t->n_slots > MAX_INDEX ? -ENOSPC : -ENOMEM;
		goto out;
	}
	t->slots[i].ptr = ptr;
	t->slots[i].refs = 0;
	t->slots[i].type = (uint8_t)type;
	t->slots[i].state = SLOT_LIVE;
	t->slots[i].next = NIL;
	t->slots[i].prev = t->newest;
	if (t->newest != NIL)
		t->slots[t->newest].next = i;
	else
		t->oldest = i;
	t->newest = i;
	hash_add(t, i);
	t->n_live++;
	hash_maybe_grow(t);
	*ret_id = make_id(t, i);
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

/* Finds the live slot id names. Caller holds the lock. Returns index, or negative errno. */
static int64_t find_locked(const struct ava_handle_table *t, uint64_t id, uint16_t type)
{
	uint32_t index = (uint32_t)(id & INDEX_MASK);
	uint32_t gen = (uint32_t)((id >> INDEX_BITS) & GEN_MASK);
	uint8_t tag = (uint8_t)(id >> 48);
	uint8_t epoch = (uint8_t)(id >> 56);
	const struct slot *s;

	if (index == 0 || index >= t->n_slots || epoch != t->epoch)
		return -ENOENT;
	s = &t->slots[index];
	if (s->state != SLOT_LIVE || s->gen != gen || s->type != tag)
		return -ENOENT;
	if (tag != type)
		return -EINVAL;
	return index;
}

int ava_handle_table_lookup(ava_handle_table *t, uint64_t id, uint16_t type, void **ret_ptr)
{
	int64_t i;

	pthread_mutex_lock(&t->lock);
	i = find_locked(t, id, type);
	if (i >= 0)
		*ret_ptr = t->slots[i].ptr;
	pthread_mutex_unlock(&t->lock);
	return i < 0 ? (int)i : 0;
}

/* Unlinks live slot i and frees or retires it. Caller holds the lock. */
static void remove_locked(struct ava_handle_table *t, uint32_t i)
{
	struct slot *s = &t->slots[i];

	hash_del(t, i);
	if (s->prev != NIL)
		t->slots[s->prev].next = s->next;
	else
		t->oldest = s->next;
	if (s->next != NIL)
		t->slots[s->next].prev = s->prev;
	else
		t->newest = s->prev;
	s->ptr = NULL;
	t->n_live--;
	if (s->gen == GEN_MASK) {
		/* The next generation would wrap to an id seen before: never reuse. */
		s->state = SLOT_RETIRED;
		return;
	}
	s->gen++;
	s->state = SLOT_FREE;
	s->next_free = t->free_head;
	t->free_head = i;
}

int ava_handle_table_ref(ava_handle_table *t, uint64_t id, uint16_t type)
{
	int64_t i;

	pthread_mutex_lock(&t->lock);
	i = find_locked(t, id, type);
	if (i >= 0 && t->slots[i].refs < UINT32_MAX)
		t->slots[i].refs++;
	pthread_mutex_unlock(&t->lock);
	return i < 0 ? (int)i : 0;
}

int ava_handle_table_unref(ava_handle_table *t, uint64_t id, uint16_t type, int *ret_removed)
{
	int64_t i;

	*ret_removed = 0;
	pthread_mutex_lock(&t->lock);
	i = find_locked(t, id, type);
	if (i >= 0) {
		if (t->slots[i].refs > 0)
			t->slots[i].refs--;
		if (t->slots[i].refs == 0) {
			remove_locked(t, (uint32_t)i);
			*ret_removed = 1;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return i < 0 ? (int)i : 0;
}

int ava_handle_table_remove(ava_handle_table *t, uint64_t id, uint16_t type)
{
	int64_t i;

	pthread_mutex_lock(&t->lock);
	i = find_locked(t, id, type);
	if (i >= 0)
		remove_locked(t, (uint32_t)i);
	pthread_mutex_unlock(&t->lock);
	return i < 0 ? (int)i : 0;
}

uint32_t ava_handle_table_count(ava_handle_table *t)
{
	uint32_t n;

	pthread_mutex_lock(&t->lock);
	n = t->n_live;
	pthread_mutex_unlock(&t->lock);
	return n;
}

/*
 * One handle at a time: take the newest under the lock, then call fn without
 * it, so fn may use the table (or block) without deadlocking.
 */
void ava_handle_table_drain(ava_handle_table *t,
			    void (*fn)(uint16_t type, void *ptr, uint32_t refs, void *ctx),
			    void *ctx)
{
	for (;;) {
		uint32_t i;
		uint16_t type;
		uint32_t refs;
		void *ptr;

		pthread_mutex_lock(&t->lock);
		i = t->newest;
		if (i == NIL) {
			pthread_mutex_unlock(&t->lock);
			return;
		}
		type = t->slots[i].type;
		ptr = t->slots[i].ptr;
		refs = t->slots[i].refs;
		remove_locked(t, i);
		pthread_mutex_unlock(&t->lock);
		if (fn)
			fn(type, ptr, refs, ctx);
	}
}

int ava_handle_table_set_generation_for_test(ava_handle_table *t, uint32_t index, uint32_t gen)
{
	int r = -ENOENT;

	pthread_mutex_lock(&t->lock);
	if (index != 0 && index < t->n_slots && t->slots[index].state != SLOT_RETIRED &&
	    gen <= GEN_MASK) {
		t->slots[index].gen = gen;
		r = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}
