/* SPDX-License-Identifier: MIT */
/*
 * Per-tenant accounts of device memory and live objects (the policy's
 * memory_quota and max_objects), with reserve-then-commit accounting.
 *
 * The router cannot know whether an allocating call succeeds until its
 * reply comes, and it must not let a tenant overshoot by sending many
 * allocations at once. So, before forwarding an allocating call, it
 * reserves the bytes (and one object) on the tenant's account; the
 * reservation counts against the limit like used memory. When the reply
 * brings the new object's handle, the reservation is committed to the
 * object's key (session id, handle id); when the call fails, it is
 * aborted and the bytes return. Objects are reference counted (retain and
 * release calls); the bytes return when the count reaches zero, when the
 * session ends (its server released its objects) or when the account is
 * released as a whole.
 *
 * Invariant, checked by the tests: used + reserved never exceeds the limit
 * by a new reservation (a limit lowered on reload can leave usage above it;
 * then every new reservation is refused until usage drops).
 *
 * Pure logic, single-threaded, no clock. The struct bodies are visible for
 * embedding and reading counters; only quota.c changes them.
 */
#ifndef AVA_ROUTER_QUOTA_H
#define AVA_ROUTER_QUOTA_H

#include <stdint.h>

#include "map.h"

/* A limit of this value is no limit (the same value as AVA_POLICY_UNLIMITED). */
#define AVA_QUOTA_UNLIMITED UINT64_MAX

struct ava_quota_object;
struct ava_quota_resv;

/* One tenant's account. Embed it (ava_quota_account_init) or allocate it yourself. */
struct ava_quota_account {
	uint64_t limit_bytes;		  /* memory_quota */
	uint64_t max_objects;		  /* max_objects */
	uint64_t used_bytes;		  /* committed, live objects */
	uint64_t reserved_bytes;	  /* reserved, not yet committed or aborted */
	uint64_t peak_bytes;		  /* highest used_bytes seen */
	uint64_t n_objects;		  /* live objects */
	uint64_t reserved_objects;	  /* objects reserved, not yet committed */
	uint64_t peak_objects;		  /* highest n_objects seen */
	uint64_t n_refused;		  /* reservations refused (either limit) */
	struct ava_quota_object *objects; /* doubly linked through the objects */
	struct ava_quota_resv *resvs;	  /* outstanding reservations */
};

/* The table of every account's objects by key: one per router. */
struct ava_quota {
	struct ava_map sessions; /* session id -> struct ava_quota_session */
};

/* Sets up an empty table. */
void ava_quota_init(struct ava_quota *q);
/*
 * Frees the table's index. Every account must have been finished
 * (ava_quota_account_fini) first; objects still live are a bug.
 */
void ava_quota_fini(struct ava_quota *q);

/* Sets up an account with the given limits (AVA_QUOTA_UNLIMITED: none) and no usage. */
void ava_quota_account_init(struct ava_quota_account *a, uint64_t limit_bytes,
			    uint64_t max_objects);
/*
 * Releases every object of a (as ava_quota_release_account) and detaches
 * its outstanding reservations: committing or aborting one later only frees
 * it. a may then be freed by its owner.
 */
void ava_quota_account_fini(struct ava_quota *q, struct ava_quota_account *a);

/*
 * Changes the limits (policy reload). Usage and reservations above a
 * lowered limit are kept; new reservations are refused until usage drops
 * below it.
 */
void ava_quota_set_limit(struct ava_quota_account *a, uint64_t limit_bytes, uint64_t max_objects);

/*
 * Reserves bytes and n_objects (0 or 1 for a call that makes one object)
 * on a before an allocating call is forwarded. Succeeds when
 * used + reserved + bytes <= limit_bytes (exactly at the limit passes) and
 * live + reserved objects + n_objects <= max_objects. Returns 0 and
 * *ret_resv, -EDQUOT when the memory limit refuses, -ENOSPC when the object
 * cap refuses, or -ENOMEM. The caller owns the reservation until it passes
 * it to ava_quota_commit or ava_quota_abort, exactly once.
 */
int ava_quota_reserve(struct ava_quota_account *a, uint64_t bytes, uint64_t n_objects,
		      struct ava_quota_resv **ret_resv) __attribute__((warn_unused_result));

/*
 * The allocating call succeeded: turns resv (consumed) into a live object
 * under (session, handle) with one reference, holding the reserved bytes.
 * A reservation of 0 objects is committed as an object too (its bytes need
 * a key to return by), only not counted against max_objects.
 * Returns 0; -EEXIST when the key is already live (the bytes return, the
 * existing object is untouched); -ENOMEM (the bytes return); -ESRCH when
 * resv's account was finished meanwhile (nothing to charge).
 */
int ava_quota_commit(struct ava_quota *q, struct ava_quota_resv *resv, uint64_t session,
		     uint64_t handle) __attribute__((warn_unused_result));

/* The allocating call failed: returns resv's bytes and objects to its account and frees resv. */
void ava_quota_abort(struct ava_quota_resv *resv);

/*
 * A retain call on (session, handle): adds a reference. Returns the new
 * count, or -ENOENT for a key that is not live (not an accounted object).
 */
int64_t ava_quota_ref(struct ava_quota *q, uint64_t session, uint64_t handle)
    __attribute__((warn_unused_result));

/*
 * A release call on (session, handle): drops a reference; at zero the
 * object is gone and its bytes and object count return to its account.
 * Returns the new count (0: released), or -ENOENT for a key not live.
 */
int64_t ava_quota_unref(struct ava_quota *q, uint64_t session, uint64_t handle)
    __attribute__((warn_unused_result));

/*
 * The object (session, child) keeps (session, parent) alive until child is
 * released (an OpenCL sub-buffer and its buffer): adds a reference to parent
 * that child's release drops. Returns 0, or -ENOENT when either is not an
 * accounted object (or child already has a parent).
 */
int ava_quota_keep(struct ava_quota *q, uint64_t session, uint64_t child, uint64_t parent)
    __attribute__((warn_unused_result));

/*
 * The session ended (guest disconnected, or its server died): releases
 * every object it holds whatever its count. Returns the bytes returned.
 * Reservations of the session's outstanding calls are the caller's to abort.
 */
uint64_t ava_quota_release_session(struct ava_quota *q, uint64_t session);

/*
 * Releases every object of account a (all its sessions), e.g. when the
 * tenant's servers are all gone. Returns the bytes returned. Outstanding
 * reservations stay.
 */
uint64_t ava_quota_release_account(struct ava_quota *q, struct ava_quota_account *a);

/* The bytes an object holds, or -ENOENT. For status and tests. */
int64_t ava_quota_object_bytes(const struct ava_quota *q, uint64_t session, uint64_t handle);

#endif /* AVA_ROUTER_QUOTA_H */
