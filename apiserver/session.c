/* SPDX-License-Identifier: MIT */
/* Sessions: open, close, and the clean-up when the last reference goes. */
#include <errno.h>
#include <stdlib.h>

#include "callback.h"
#include "hooks.h"
#include "mapping.h"
#include "output.h"
#include "server.h"
#include "session.h"
#include "worker.h"

#define MAX_HANDLES_PER_SESSION (1u << 20)

struct session *ava_apiserver_session_find_locked(uint32_t id)
{
	for (struct session *s = ava_apiserver_server.sessions; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

/* Drops the references the guest still held; borrowed objects (refs 0) are not ours. */
static void release_object(uint16_t type, void *ptr, uint32_t refs, void *ctx)
{
	const struct ava_apiserver_api *api = ava_apiserver_server.api;
	unsigned *n_released = ctx;
	if (refs == 0 || type > api->abi->n_handle_types || !api->release || !api->release[type])
		return;
	for (uint32_t k = 0; k < refs; k++)
		api->release[type](ptr);
	(*n_released)++;
}

void ava_apiserver_session_unref(struct session *s)
{
	struct ava_server *srv = &ava_apiserver_server;
	pthread_mutex_lock(&srv->lock);
	bool last = --s->refs == 0;
	if (last) {
		struct session **pp = &srv->sessions;
		while (*pp && *pp != s)
			pp = &(*pp)->next;
		if (*pp)
			*pp = s->next;
	}
	pthread_mutex_unlock(&srv->lock);
	if (!last)
		return;
	/* before the objects its state may need go */
	ava_apiserver_hooks_session_end(srv->api, s->id);
	/* the last reference: nothing else touches s any more */
	unsigned n = ava_apiserver_mapping_leftovers(s);
	ava_handle_table_drain(s->handles, release_object, &n);
	ava_handle_table_free(s->handles);
	if (n)
		ava_apiserver_log("session %u closed; released %u objects it still held", s->id, n);
	/* Callback records stay: the library may still hold them as user_data. */
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int ava_apiserver_session_open(uint32_t id)
{
	struct ava_server *srv = &ava_apiserver_server;
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = id;
	s->refs = 1;
	int r = ava_handle_table_new((uint8_t)(id & 0xffu), MAX_HANDLES_PER_SESSION, &s->handles);
	if (r < 0) {
		free(s);
		return r;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_lock(&srv->lock);
	if (ava_apiserver_session_find_locked(id)) {
		pthread_mutex_unlock(&srv->lock);
		pthread_mutex_destroy(&s->lock);
		ava_handle_table_free(s->handles);
		free(s);
		return -EEXIST;
	}
	s->next = srv->sessions;
	srv->sessions = s;
	pthread_mutex_unlock(&srv->lock);
	ava_apiserver_output_session_opened(id);
	return 0;
}

void ava_apiserver_session_close(uint32_t id)
{
	struct ava_server *srv = &ava_apiserver_server;
	pthread_mutex_lock(&srv->lock);
	struct session *s = ava_apiserver_session_find_locked(id);
	if (!s || s->closing) {
		pthread_mutex_unlock(&srv->lock);
		return;
	}
	s->closing = true;
	ava_apiserver_worker_wake_all_locked(s);
	ava_apiserver_callback_wake_locked(id);
	pthread_mutex_unlock(&srv->lock);
	ava_apiserver_output_session_closed(id);
	ava_apiserver_session_unref(s);
}
