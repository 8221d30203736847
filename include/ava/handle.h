/* SPDX-License-Identifier: MIT */
/*
 * Handle tables: map host object pointers to the per-session ids a guest sees.
 *
 * An id is 64 bits: index (bits 0-23, never 0), generation (24-47, bumped on
 * every remove so stale ids miss), type tag (48-55) and table epoch (56-63,
 * differs per table so ids from another session or server incarnation miss).
 * A slot whose generation would wrap is retired rather than reused. Ids are
 * never host pointers, and a host pointer is never given to the guest.
 * All functions are thread-safe.
 */
#ifndef AVA_HANDLE_H
#define AVA_HANDLE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ava_handle_table ava_handle_table;

/* New table holding at most max_entries live handles. Returns 0 or -ENOMEM / -EINVAL. */
int ava_handle_table_new(uint8_t epoch, uint32_t max_entries, ava_handle_table **ret_table)
    __attribute__((warn_unused_result));
/* Frees the table (not the objects). Accepts NULL. */
void ava_handle_table_free(ava_handle_table *table);

/*
 * Returns the id for (type, ptr): the existing one if ptr is already in the
 * table with that type, else a new one. ptr must not be NULL.
 * Returns 0, -ENOSPC when the table is full, -EEXIST if ptr is live with another type.
 */
int ava_handle_table_insert(ava_handle_table *table, uint16_t type, void *ptr, uint64_t *ret_id)
    __attribute__((warn_unused_result));

/*
 * Translates id to the object pointer. Returns 0, -ENOENT (unknown, stale or
 * another table's id) or -EINVAL (type tag differs from type).
 */
int ava_handle_table_lookup(ava_handle_table *table, uint64_t id, uint16_t type, void **ret_ptr)
    __attribute__((warn_unused_result));

/*
 * Guest references. An entry starts with 0 references ("borrowed": an object
 * the guest was shown but does not own, like an OpenCL platform). Each
 * ava_allocates result and each ava_retains call adds one; each successful
 * ava_deallocates call drops one, and the entry is removed when none remain
 * (or if it had none). What is left at session end is released as many
 * times as it is still referenced.
 * ref returns 0 or the lookup errors; unref also sets *ret_removed.
 */
int ava_handle_table_ref(ava_handle_table *table, uint64_t id, uint16_t type)
    __attribute__((warn_unused_result));
int ava_handle_table_unref(ava_handle_table *table, uint64_t id, uint16_t type, int *ret_removed)
    __attribute__((warn_unused_result));

/* Removes id. Returns 0 or the lookup errors. */
int ava_handle_table_remove(ava_handle_table *table, uint64_t id, uint16_t type)
    __attribute__((warn_unused_result));

/* Number of live handles. */
uint32_t ava_handle_table_count(ava_handle_table *table);

/*
 * Removes every live handle, calling fn(type, ptr, refs, ctx) for each,
 * newest first (objects created later are released before what they
 * depend on); refs is the entry's guest reference count.
 */
void ava_handle_table_drain(ava_handle_table *table,
			    void (*fn)(uint16_t type, void *ptr, uint32_t refs, void *ctx),
			    void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* AVA_HANDLE_H */
