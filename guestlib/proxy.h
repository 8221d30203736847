/* SPDX-License-Identifier: MIT */
/*
 * Proxies (the spec's ava_handle_proxy): what the application holds for a
 * handle is a guest allocation whose first member points at the API's
 * dispatch table, so an ICD loader finds our entry points from any handle.
 * The registry maps handle ids to proxies and back, per session; proxies
 * that die are kept readable in a quarantine for a while. And the handle
 * checks and translations of a call's arguments and results. Private to
 * guestlib/.
 */
#ifndef AVA_GUESTLIB_PROXY_H
#define AVA_GUESTLIB_PROXY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ava/guestlib.h>

#include "util.h"

/* Freed proxies kept readable (dispatch intact) before their memory is reused. */
#define AVA_GUESTLIB_PROXY_QUARANTINE 1024

struct conn;
struct ava_guestlib_call;

struct proxy {
	const void *dispatch; /* must stay first */
	uint64_t id;	      /* the session's handle id; 0 once retired */
	uint32_t refs;	      /* the guest's references, as the server counts them */
	struct proxy *next_id, *next_ptr;
};

/* Live proxies of one session, by id and by address. Under its own lock (see conn.h). */
struct proxy_registry {
	pthread_mutex_t lock;
	struct proxy **by_id, **by_ptr;
	size_t n_buckets; /* a power of two, or 0 before the first proxy */
	size_t n;
};

/* An empty registry (also in a forked child, over the parent's copy: see drop_all). */
void ava_guestlib_proxy_registry_init(struct proxy_registry *reg);

/* In a forked child: the quarantine's lock, which a parent thread may have held. */
void ava_guestlib_proxy_atfork_child(void);

/*
 * The proxy for handle id (the same one every time while it lives), made on
 * first sight; add_ref adds a guest reference. NULL for id 0, or out of memory.
 */
void *ava_guestlib_proxy_of_id(struct conn *c, uint64_t id, bool add_ref);

/*
 * The handle id of what the application passed: 0 for NULL, the proxy's id
 * for a live proxy. False for anything else (a stray, forged or released
 * pointer), which is never dereferenced.
 */
bool ava_guestlib_proxy_id_of(struct conn *c, const void *ptr, uint64_t *ret_id);

/*
 * Mirrors the server's count: delta +1 (retain) or -1 (release; at none
 * left the proxy is gone: the API's handle_gone hooks are told, with no lock
 * held, and it goes to the quarantine).
 */
void ava_guestlib_proxy_count(struct conn *c, const void *ptr, int delta);

/* The session ended: none of its handles means anything any more. */
void ava_guestlib_proxy_drop_all(struct conn *c);

/*
 * The call's handle arguments and the handles in its input buffers are
 * handle ids of the right type (or 0)? Else false with the culprit in
 * *ret_bad. A value that is not one of our ids (a stray or garbage pointer)
 * is the application's mistake: the call is answered in the guest, as a
 * careful native library would; sending it would end the whole session.
 */
bool ava_guestlib_proxy_handles_valid(const struct ava_abi_fn *fn, const struct ava_gen_plan *plan,
				      void *const *args, struct ava_guestlib_bad_handle *ret_bad);

/*
 * Pipeline step, with proxies: the arguments as they travel. Each handle
 * argument becomes its id, and each input buffer that holds handles
 * (elements, struct fields, typed or :scan words) a translated copy the
 * call owns (call->send_args). Returns 0, or -1 with call->status
 * BAD_HANDLE (call->bad says which) or NO_MEMORY.
 */
int ava_guestlib_proxy_to_ids(struct ava_guestlib_call *call) __attribute__((warn_unused_result));

/*
 * With proxies, after a reply was applied: the handle ids it wrote into the
 * result and the out buffers (call->written) become proxies, with a reference for each
 * ava_allocates value of a successful call; a successful call's :retains /
 * :deallocates arguments are counted.
 */
void ava_guestlib_proxy_from_ids(struct ava_guestlib_call *call);

/* After a successful :retains / :deallocates call, the proxies count as the server does. */
void ava_guestlib_proxy_count_call(struct conn *c, const struct ava_abi_fn *fn, void *const *args);

#endif /* AVA_GUESTLIB_PROXY_H */
