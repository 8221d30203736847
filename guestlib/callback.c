/* SPDX-License-Identifier: MIT */
/* Callback tokens and the callback thread (callback.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callback.h"
#include "conn.h"
#include "proxy.h"
#include "util.h"

struct cb_item {
	struct cb_item *next;
	struct ava_wire_header hdr;
	uint8_t *payload;
};

static void *cb_thread_main(void *arg);

int ava_guestlib_callback_queue(struct conn *c, const struct ava_wire_header *hdr, uint8_t *payload)
{
	struct cb_item *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->hdr = *hdr;
	it->payload = payload;
	pthread_mutex_lock(&c->lock);
	if (!c->cb_thread_started) {
		if (pthread_create(&c->cb_thread, NULL, cb_thread_main, c) != 0) {
			pthread_mutex_unlock(&c->lock);
			free(it);
			return -EAGAIN;
		}
		pthread_detach(c->cb_thread);
		c->cb_thread_started = true;
	}
	if (c->cb_tail)
		c->cb_tail->next = it;
	else
		c->cb_head = it;
	c->cb_tail = it;
	pthread_cond_signal(&c->cb_cond);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

union cb_slot {
	uint8_t b[AVA_ABI_MAX_SCALAR_BYTES];
	void *p;
	long double ld;
};

/*
 * One callback being run: its arguments as the application's function gets
 * them. On the heap: the application's callback runs on top of it.
 */
struct cb_run {
	struct ava_abi_view views[AVA_ABI_MAX_ARGS];
	union cb_slot slots[AVA_ABI_MAX_ARGS], retslot;
	void *argv[AVA_ABI_MAX_ARGS];
	void *owned[AVA_ABI_MAX_ARGS];
	unsigned n_owned;
	char err[160];
};

/*
 * The registered function a validated CALLBACK frame names, or NULL (the
 * session is then marked dead: the frame breaks the rules).
 */
static void *callback_fn(struct conn *c, const struct cb_item *it, struct cb_run *run)
{
	const struct ava_abi_callback *cba = c->api->callbacks[it->hdr.call_id].abi;
	if (ava_abi_check_args(c->api->abi, cba->n_args, cba->args, 1, it->payload,
			       it->hdr.len_bytes, run->views, run->err, sizeof(run->err)) < 0) {
		char why[220];
		snprintf(why, sizeof(why), "bad callback %s: %s", cba->name, run->err);
		ava_guestlib_conn_mark_dead(c, AVA_STATUS_MALFORMED, why);
		return NULL;
	}
	/* The validated payload starts with the u64 function token. */
	uint64_t token = 0;
	struct ava_wire_cursor cur = ava_wire_cursor_of(it->payload, it->hdr.len_bytes);
	if (ava_wire_get_u64(&cur, &token) < 0)
		token = 0;

	pthread_mutex_lock(&c->lock);
	void *fn = (token >= 1 && token <= c->n_cb_fns) ? c->cb_fns[token - 1] : NULL;
	pthread_mutex_unlock(&c->lock);
	if (!fn)
		ava_guestlib_conn_mark_dead(c, AVA_STATUS_MALFORMED,
					    "callback token names no registered function");
	return fn;
}

/* The callback's arguments from the frame's views. Returns 0 or -ENOMEM. */
static int callback_args(struct conn *c, const struct ava_abi_callback *cba, struct cb_run *run)
{
	for (unsigned i = 0; i < cba->n_args; i++) {
		const struct ava_abi_value *v = &cba->args[i];
		const struct ava_abi_view *vw = &run->views[i];
		union cb_slot *slot = &run->slots[i];
		run->argv[i] = slot;
		switch (v->kind) {
		case AVA_ABI_SCALAR:
			memcpy(slot->b, vw->data, v->size_bytes);
			break;
		case AVA_ABI_HANDLE:
			if (c->api->proxy_dispatch)
				slot->p = ava_guestlib_proxy_of_id(c, vw->u64, false);
			else
				slot->p = (void *)(uintptr_t)vw->u64;
			break;
		case AVA_ABI_USERDATA:
		case AVA_ABI_CALLBACK:
			slot->p = (void *)(uintptr_t)vw->u64;
			break;
		case AVA_ABI_STRING:
			slot->p = vw->present ? (void *)vw->data : NULL;
			break;
		case AVA_ABI_BUFFER:
			if (vw->present) {
				/*
				 * Copy out of the payload so elements are aligned; an
				 * empty buffer is still a pointer, as it was natively.
				 */
				size_t n = (size_t)vw->count * v->size_bytes;
				void *p = malloc(n ? n : 1);
				if (!p)
					return -ENOMEM;
				if (n)
					memcpy(p, vw->data, n);
				run->owned[run->n_owned++] = p;
				slot->p = p;
			}
			break;
		default:
			break;
		}
	}
	return 0;
}

/* The CALLBACK_REPLY: the callback's result (a handle as its id). */
static void callback_answer(struct conn *c, const struct cb_item *it,
			    const struct ava_abi_callback *cba, const struct cb_run *run)
{
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	int r = 0;
	if (cba->ret.kind == AVA_ABI_SCALAR)
		r = ava_wire_put_bytes(&b, run->retslot.b, cba->ret.size_bytes);
	else if (cba->ret.kind == AVA_ABI_HANDLE) {
		uint64_t id = (uint64_t)(uintptr_t)run->retslot.p;
		if (c->api->proxy_dispatch && !ava_guestlib_proxy_id_of(c, run->retslot.p, &id))
			id = 0; /* not one of ours: the server gets NULL */
		r = ava_wire_put_u64(&b, id);
	}
	if (r == 0) {
		struct ava_wire_header hdr = {
			.magic = AVA_WIRE_MAGIC,
			.version = AVA_WIRE_VERSION,
			.kind = AVA_WIRE_CALLBACK_REPLY,
			.len_bytes = (uint32_t)b.len,
			.call_id = it->hdr.call_id,
			.seq = it->hdr.seq,
		};
		if (ava_guestlib_conn_send(c, &hdr, b.data, b.len) < 0)
			ava_guestlib_conn_mark_dead(c, AVA_STATUS_SERVER_GONE,
						    "could not answer a callback");
	}
	ava_wire_buf_fini(&b);
}

/*
 * Runs one forwarded callback and answers it. Out of memory for its
 * arguments, it is not run (nor answered).
 */
static void run_callback(struct conn *c, struct cb_item *it)
{
	const struct ava_guestlib_callback *cb = &c->api->callbacks[it->hdr.call_id];
	struct cb_run *run = calloc(1, sizeof(*run));
	if (!run)
		return;
	void *fn = callback_fn(c, it, run);
	if (!fn || callback_args(c, cb->abi, run) < 0)
		goto out;
	cb->invoke(fn, run->argv, cb->abi->ret.kind == AVA_ABI_VOID ? NULL : &run->retslot);
	callback_answer(c, it, cb->abi, run);
out:
	for (unsigned i = 0; i < run->n_owned; i++)
		free(run->owned[i]);
	free(run);
}

static void *cb_thread_main(void *arg)
{
	struct conn *c = arg;
	for (;;) {
		pthread_mutex_lock(&c->lock);
		while (!c->cb_head && c->state != -1)
			pthread_cond_wait(&c->cb_cond, &c->lock);
		struct cb_item *it = c->cb_head;
		if (!it) {
			c->cb_thread_started = false;
			pthread_mutex_unlock(&c->lock);
			return NULL;
		}
		c->cb_head = it->next;
		if (!c->cb_head)
			c->cb_tail = NULL;
		pthread_mutex_unlock(&c->lock);
		run_callback(c, it);
		free(it->payload);
		free(it);
	}
}

int ava_guestlib_callback_token(struct conn *c, void *fn, uint64_t *ret_token)
{
	if (!fn) {
		*ret_token = 0;
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	uint32_t i;
	for (i = 0; i < c->n_cb_fns; i++)
		if (c->cb_fns[i] == fn)
			break;
	if (i == c->n_cb_fns) {
		if (c->n_cb_fns == AVA_GUESTLIB_MAX_CALLBACK_FNS) {
			pthread_mutex_unlock(&c->lock);
			return -ENOSPC;
		}
		c->cb_fns[c->n_cb_fns++] = fn;
	}
	pthread_mutex_unlock(&c->lock);
	*ret_token = (uint64_t)i + 1;
	return 0;
}
