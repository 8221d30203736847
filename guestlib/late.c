/* SPDX-License-Identifier: MIT */
/* Late out buffers and a readable mapping's bytes: the transfers (late.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "conn.h"
#include "late.h"
#include "mapping.h"
#include "util.h"

uint64_t ava_guestlib_late_new_id(struct conn *c)
{
	pthread_mutex_lock(&c->lock);
	uint64_t id = ++c->next_transfer_id;
	pthread_mutex_unlock(&c->lock);
	return id;
}

int ava_guestlib_late_encode(struct conn *c, struct ava_wire_buf *b, struct ava_abi_view *view)
{
	view->u64 = ava_guestlib_late_new_id(c);
	return ava_wire_put_u64(b, view->u64);
}

/* Enters a transfer of len_bytes into dst for the call (a rect where shape is not NULL). */
static int add_locked(struct ava_guestlib_call *call, uint64_t id, void *dst, size_t len_bytes,
		      const struct ava_gen_rect *shape)
{
	struct conn *c = call->c;
	struct transfer *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->id = id;
	t->seq = call->hdr.seq;
	t->dst = dst;
	t->len_bytes = len_bytes;
	t->fn_id = call->fn->id;
	if (shape) {
		t->rect = true;
		t->shape = *shape;
	}
	t->next = c->transfers;
	c->transfers = t;
	return 0;
}

int ava_guestlib_late_add_locked(struct ava_guestlib_call *call)
{
	const struct ava_abi_fn *fn = call->fn;
	const struct mapping *m = call->mapping;
	/* a readable mapping's bytes land in its memory */
	if (call->map_transfer && add_locked(call, call->map_transfer, m->ptr, m->wire_bytes,
					     m->rect ? &m->shape : NULL) < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		const struct ava_abi_view *vw = &call->views[i];
		if (v->kind != AVA_ABI_BUFFER || v->dir != AVA_ABI_DIR_OUT ||
		    !(v->flags & AVA_ABI_V_LATE) || !vw->present)
			continue;
		bool rect = (v->flags & AVA_ABI_V_RECT) && call->rect_ok[i];
		/* the size was checked by the encoder */
		if (add_locked(call, vw->u64, *(void *const *)call->args[i],
			       (size_t)vw->count * v->size_bytes,
			       rect ? &call->rects[i] : NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

void ava_guestlib_late_drop_locked(struct conn *c, uint64_t seq)
{
	for (struct transfer **pp = &c->transfers; *pp;) {
		struct transfer *t = *pp;
		if (t->seq == seq) {
			*pp = t->next;
			free(t);
		} else {
			pp = &t->next;
		}
	}
}

int ava_guestlib_late_take_data(struct conn *c, const struct ava_wire_header *hdr,
				const uint8_t *payload, const char **ret_why)
{
	struct ava_wire_cursor cur = ava_wire_cursor_of(payload, hdr->len_bytes);
	uint64_t id;
	if (hdr->flags || hdr->thread_id || ava_wire_get_u64(&cur, &id) < 0) {
		*ret_why = "DATA frame without a transfer id";
		return -EPROTO;
	}
	pthread_mutex_lock(&c->lock);
	struct transfer **pp = &c->transfers;
	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	struct transfer *t = *pp;
	size_t n = (size_t)(cur.end - cur.cur);
	if (!t) {
		pthread_mutex_unlock(&c->lock);
		*ret_why = "DATA for a transfer that is not outstanding";
		return -EPROTO;
	}
	size_t left = t->len_bytes - t->done_bytes;
	bool ok_piece =
	    hdr->status == AVA_STATUS_OK
		? (left == 0 ? n == 0 : n >= 1 && n <= left && n <= AVA_WIRE_CHUNK_MAX_BYTES)
		: n == 0 && t->done_bytes == 0;
	if (hdr->call_id != t->fn_id || !ok_piece) {
		pthread_mutex_unlock(&c->lock);
		*ret_why = "DATA of the wrong function or size for its transfer";
		return -EPROTO;
	}
	if (n && t->rect)
		ava_gen_rect_unpack_part(&t->shape, cur.cur, t->done_bytes, n, t->dst);
	else if (n)
		memcpy((uint8_t *)t->dst + t->done_bytes, cur.cur, n);
	t->done_bytes += n;
	if (hdr->status == AVA_STATUS_OK && t->done_bytes < t->len_bytes) {
		pthread_mutex_unlock(&c->lock);
		return 0; /* more pieces follow */
	}
	*pp = t->next;
	pthread_mutex_unlock(&c->lock);
	if (hdr->status != AVA_STATUS_OK && ava_guestlib_debug())
		ava_guestlib_say("a late transfer of %s failed remotely (%s)",
				 c->api->abi->fns[t->fn_id].name,
				 ava_wire_status_name(hdr->status));
	free(t);
	return 0;
}

void ava_guestlib_late_drop_all_locked(struct conn *c)
{
	while (c->transfers) {
		struct transfer *t = c->transfers;
		c->transfers = t->next;
		free(t);
	}
}
