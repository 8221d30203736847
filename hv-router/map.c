/* SPDX-License-Identifier: MIT */
#include "map.h"

#include <errno.h>
#include <stdlib.h>

/* splitmix64 finaliser: guest-chosen seqs must not cluster into long probe runs. */
static size_t hash_u64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (size_t)x;
}

void ava_map_init(struct ava_map *m)
{
	m->slots = NULL;
	m->mask = 0;
	m->count = 0;
}

void ava_map_fini(struct ava_map *m)
{
	free(m->slots);
	ava_map_init(m);
}

void *ava_map_get(const struct ava_map *m, uint64_t key)
{
	if (!m->slots)
		return NULL;
	for (size_t i = hash_u64(key) & m->mask;; i = (i + 1) & m->mask) {
		if (!m->slots[i].value)
			return NULL;
		if (m->slots[i].key == key)
			return m->slots[i].value;
	}
}

static void insert_slot(struct ava_map_slot *slots, size_t mask, uint64_t key, void *value)
{
	size_t i = hash_u64(key) & mask;
	while (slots[i].value)
		i = (i + 1) & mask;
	slots[i].key = key;
	slots[i].value = value;
}

static int grow(struct ava_map *m)
{
	size_t n_old = m->slots ? m->mask + 1 : 0;
	size_t n_new = n_old ? n_old * 2 : 16;
	struct ava_map_slot *slots = calloc(n_new, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < n_old; i++) {
		if (m->slots[i].value)
			insert_slot(slots, n_new - 1, m->slots[i].key, m->slots[i].value);
	}
	free(m->slots);
	m->slots = slots;
	m->mask = n_new - 1;
	return 0;
}

int ava_map_put(struct ava_map *m, uint64_t key, void *value)
{
	/* Keep the load factor at or below 1/2. */
	if (!m->slots || (m->count + 1) * 2 > m->mask + 1) {
		int r = grow(m);
		if (r < 0)
			return r;
	}
	insert_slot(m->slots, m->mask, key, value);
	m->count++;
	return 0;
}

void *ava_map_del(struct ava_map *m, uint64_t key)
{
	if (!m->slots)
		return NULL;
	size_t i = hash_u64(key) & m->mask;
	while (m->slots[i].value && m->slots[i].key != key)
		i = (i + 1) & m->mask;
	void *value = m->slots[i].value;
	if (!value)
		return NULL;
	/*
	 * Backward-shift deletion: move later members of the probe run into the
	 * hole when their home slot does not lie cyclically in (hole, j].
	 */
	size_t hole = i;
	for (size_t j = (i + 1) & m->mask; m->slots[j].value; j = (j + 1) & m->mask) {
		size_t home = hash_u64(m->slots[j].key) & m->mask;
		int home_in_range =
		    hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!home_in_range) {
			m->slots[hole] = m->slots[j];
			hole = j;
		}
	}
	m->slots[hole].value = NULL;
	m->slots[hole].key = 0;
	m->count--;
	return value;
}

void *ava_map_next(const struct ava_map *m, size_t *pos, uint64_t *ret_key)
{
	if (!m->slots)
		return NULL;
	for (; *pos <= m->mask; (*pos)++) {
		if (m->slots[*pos].value) {
			if (ret_key)
				*ret_key = m->slots[*pos].key;
			return m->slots[(*pos)++].value;
		}
	}
	return NULL;
}
