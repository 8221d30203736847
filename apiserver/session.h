/* SPDX-License-Identifier: MIT */
/*
 * Sessions (private to apiserver/): one per guest connection the router
 * multiplexes onto this server. Each has its own handle table, so a guest
 * can only name objects its own session created.
 */
#ifndef AVA_APISERVER_SESSION_H
#define AVA_APISERVER_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <ava/abi.h>
#include <ava/handle.h>

struct worker;
struct mapping;

struct session {
	struct session *next; /* in ava_apiserver_server.sessions */
	uint32_t id;
	ava_handle_table *handles; /* has its own lock */

	/* Under ava_apiserver_server.lock. */
	unsigned refs; /* list membership + running workers + callbacks in flight */
	bool closing;
	struct worker *workers;
	unsigned n_workers;

	/* Under callback.c's records lock. */
	unsigned n_cb_records;

	/* Under lock (the session's own; a leaf, see server.h). */
	pthread_mutex_t lock;
	struct mapping *maps;
	uint64_t next_map_id;
	bool deferred_pending;
	uint32_t deferred_fn;
	uint8_t deferred_value[AVA_ABI_MAX_SCALAR_BYTES];
};

/* The session with this id, or NULL. Caller holds ava_apiserver_server.lock. */
struct session *ava_apiserver_session_find_locked(uint32_t id);

/* Opens a session (SESSION_OPEN). Returns 0, -EEXIST or -ENOMEM. */
int ava_apiserver_session_open(uint32_t id);

/*
 * Closes a session (SESSION_CLOSE): its workers finish what is queued and
 * end, trampolines waiting on it are woken, and the list's reference is
 * dropped. Unknown or closing ids are ignored.
 */
void ava_apiserver_session_close(uint32_t id);

/*
 * Drops a reference (the caller took it under ava_apiserver_server.lock);
 * the last one tells the API (session-end hook), unmaps what the guest left
 * mapped, releases every object the session still holds and frees s.
 */
void ava_apiserver_session_unref(struct session *s);

#endif /* AVA_APISERVER_SESSION_H */
