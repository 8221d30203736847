/* SPDX-License-Identifier: MIT */
/*
 * A small u64 -> pointer hash map (open addressing, linear probing,
 * backward-shift deletion) for the router's per-session tables: outstanding
 * calls by seq, outstanding callbacks by seq, sessions by id. The map never
 * owns the values.
 */
#ifndef AVA_ROUTER_MAP_H
#define AVA_ROUTER_MAP_H

#include <stddef.h>
#include <stdint.h>

struct ava_map_slot {
	uint64_t key;
	void *value; /* NULL: empty slot */
};

struct ava_map {
	struct ava_map_slot *slots;
	size_t mask; /* n_slots - 1; n_slots is a power of two, or 0 */
	size_t count;
};

void ava_map_init(struct ava_map *m);
/* Frees the slots (not the values). */
void ava_map_fini(struct ava_map *m);
/* The value stored under key, or NULL. */
void *ava_map_get(const struct ava_map *m, uint64_t key);
/* Stores value (not NULL) under key, which must be absent. Returns 0 or -ENOMEM. */
int ava_map_put(struct ava_map *m, uint64_t key, void *value) __attribute__((warn_unused_result));
/* Removes key and returns its value, or NULL if it was absent. */
void *ava_map_del(struct ava_map *m, uint64_t key);
/*
 * Iteration: *pos starts at 0; returns the next value (and its key in
 * *ret_key if not NULL) or NULL at the end. The map must not change during a
 * walk except by ava_map_del of the key just returned, after which the walk
 * must be restarted from 0 (backward shift may move entries).
 */
void *ava_map_next(const struct ava_map *m, size_t *pos, uint64_t *ret_key);

#endif /* AVA_ROUTER_MAP_H */
