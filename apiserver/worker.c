/* SPDX-License-Identifier: MIT */
/* One worker thread per guest thread of a session, each with its queue of CALLs. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "call.h"
#include "devtime.h"
#include "server.h"
#include "session.h"
#include "worker.h"

#define MAX_WORKERS_PER_SESSION 256

/* A worker with nothing to do for this long ends (guest threads come and go). */
#define WORKER_IDLE_SECONDS 2

struct frame {
	struct frame *next;
	struct ava_wire_header hdr;
	uint8_t *payload;
	uint8_t *bulk; /* a streamed argument's bytes (AVA_WIRE_F_STREAM), or NULL */
};

struct worker {
	struct worker *next; /* in the session's workers */
	struct session *s;
	uint32_t thread_id;
	pthread_t thread;
	/* Under ava_apiserver_server.lock, like the session's list of workers. */
	struct frame *head, *tail;
	bool busy; /* running a call */
	pthread_cond_t cond;
	struct ava_apiserver_call call; /* the running call's state: kept off the thread's stack */
};

void ava_apiserver_worker_wake_all_locked(struct session *s)
{
	for (struct worker *w = s->workers; w; w = w->next)
		pthread_cond_signal(&w->cond);
}

static void *worker_main(void *arg)
{
	struct ava_server *srv = &ava_apiserver_server;
	struct worker *w = arg;
	struct session *s = w->s;
	for (;;) {
		pthread_mutex_lock(&srv->lock);
		w->busy = false;
		bool idle_too_long = false;
		while (!w->head && !s->closing && !idle_too_long) {
			struct timespec deadline;
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			deadline.tv_sec += WORKER_IDLE_SECONDS;
			idle_too_long =
			    pthread_cond_timedwait(&w->cond, &srv->lock, &deadline) == ETIMEDOUT &&
			    !w->head;
		}
		struct frame *f = w->head;
		if (!f) { /* closing and drained, or idle: a later call gets a new worker */
			struct worker **pp = &s->workers;
			while (*pp && *pp != w)
				pp = &(*pp)->next;
			if (*pp)
				*pp = w->next;
			s->n_workers--;
			pthread_mutex_unlock(&srv->lock);
			break;
		}
		w->head = f->next;
		if (!w->head)
			w->tail = NULL;
		w->busy = true;
		pthread_mutex_unlock(&srv->lock);
		ava_apiserver_call_run(&w->call, s, &f->hdr, f->payload, f->bulk);
		free(f->payload);
		free(f);
	}
	pthread_cond_destroy(&w->cond);
	free(w);
	ava_apiserver_session_unref(s);
	return NULL;
}

/* A CALL that reaches no worker: a sync one is answered, a device_time one still gets its USAGE. */
static void refuse(const struct ava_wire_header *hdr, uint16_t status)
{
	if (status != AVA_STATUS_OK && !(hdr->flags & AVA_WIRE_F_ASYNC))
		ava_apiserver_call_reply(hdr->session, hdr->seq, hdr->call_id, status, 0, NULL, 0);
	if (ava_apiserver_devtime_measured(hdr->call_id))
		ava_apiserver_devtime_usage(hdr->session, hdr->call_id, hdr->seq, 0);
}

/* The worker for hdr's guest thread, created if need be, or NULL. Caller holds the lock. */
static struct worker *worker_get_locked(struct session *s, const struct ava_wire_header *hdr)
{
	struct worker *w;
	for (w = s->workers; w; w = w->next)
		if (w->thread_id == hdr->thread_id)
			return w;
	if (s->n_workers >= MAX_WORKERS_PER_SESSION) {
		/*
		 * At the cap, an idle worker (nothing queued, nothing running) can
		 * serve this thread: ordering only matters within one thread.
		 */
		for (w = s->workers; w; w = w->next)
			if (!w->busy && !w->head)
				break;
		if (w)
			w->thread_id = hdr->thread_id;
		return w;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	pthread_condattr_t ca;
	w->s = s;
	w->thread_id = hdr->thread_id;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->refs++;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		s->refs--;
		free(w);
		return NULL;
	}
	pthread_detach(w->thread);
	w->next = s->workers;
	s->workers = w;
	s->n_workers++;
	return w;
}

void ava_apiserver_worker_dispatch(const struct ava_wire_header *hdr, uint8_t *payload,
				   uint8_t *bulk)
{
	struct ava_server *srv = &ava_apiserver_server;
	struct frame *f = calloc(1, sizeof(*f));
	if (!f) {
		free(bulk);
		free(payload);
		refuse(hdr, AVA_STATUS_NO_MEMORY);
		return;
	}
	f->hdr = *hdr;
	f->payload = payload;
	f->bulk = bulk;

	pthread_mutex_lock(&srv->lock);
	struct session *s = ava_apiserver_session_find_locked(hdr->session);
	if (!s || s->closing) {
		pthread_mutex_unlock(&srv->lock);
		free(bulk);
		free(payload);
		free(f);
		/* the router already ended this session; it still frees the call's device slot */
		refuse(hdr, AVA_STATUS_OK);
		return;
	}
	struct worker *w = worker_get_locked(s, hdr);
	if (!w) {
		pthread_mutex_unlock(&srv->lock);
		ava_apiserver_log("session %u: no worker for guest thread %u (limit %d)",
				  hdr->session, hdr->thread_id, MAX_WORKERS_PER_SESSION);
		refuse(hdr, AVA_STATUS_NO_MEMORY);
		free(bulk);
		free(payload);
		free(f);
		return;
	}
	if (w->tail)
		w->tail->next = f;
	else
		w->head = f;
	w->tail = f;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&srv->lock);
}
