/* SPDX-License-Identifier: MIT */
/* Open mappings, unmaps, and the mappings a session leaves open. */
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "late.h"
#include "mapping.h"
#include "rect.h"
#include "server.h"
#include "session.h"

struct mapping {
	struct mapping *next; /* in the session's maps; the list and the fields below */
	uint64_t id;	      /* are under the session's lock */
	void *ptr;
	uint64_t len_bytes;
	bool writable;
	bool busy;	      /* an unmap of it is running */
	uint64_t transfer_id; /* a readable mapping's DATA not yet sent, else 0 */
	/*
	 * A rect mapping (AVA_ABI_V_RECT result): the wire's bytes are packed,
	 * the library's lie at ptr as shape says. broken: the library reported
	 * no usable layout, so its memory is neither read nor written.
	 */
	bool rect, broken;
	struct ava_gen_rect shape;
	uint16_t n_objs;
	void *objs[AVA_ABI_MAX_ARGS];
	uint16_t types[AVA_ABI_MAX_ARGS];
};

static void mapping_free(struct mapping *m)
{
	for (uint16_t i = 0; i < m->n_objs; i++)
		ava_apiserver_release_retained(m->objs[i], m->types[i]);
	free(m);
}

/* The function that takes a mapping back (the first with an AVA_ABI_UNMAP argument), or -1. */
static int unmap_fn_id(void)
{
	const struct ava_apiserver_api *api = ava_apiserver_server.api;
	for (uint32_t f = 0; f < api->abi->n_fns; f++) {
		const struct ava_abi_fn *fn = &api->abi->fns[f];
		for (uint16_t i = 0; i < fn->n_args && api->fns[f].invoke; i++) {
			if (fn->args[i].kind == AVA_ABI_UNMAP)
				return (int)f;
		}
	}
	return -1;
}

/*
 * Unmaps a mapping nobody will unmap any more (the session ended, or it
 * could not be recorded): the unmap function gets the mapping's pointer
 * and, for each handle argument, the map call's object of the same type;
 * everything else is zero. Then it waits for the device (the unmap's
 * device_time completion, if the spec names one) and releases the objects
 * it retained. Takes m.
 */
static void mapping_leftover(uint32_t session_id, struct mapping *m)
{
	const struct ava_apiserver_api *api = ava_apiserver_server.api;
	int f = unmap_fn_id();
	if (m->transfer_id)
		ava_apiserver_late_cancel_mapped(session_id, m->transfer_id);
	if (f >= 0) {
		const struct ava_apiserver_fn *sf = &api->fns[f];
		const struct ava_abi_fn *fn = sf->abi;
		union ava_apiserver_slot slots[AVA_ABI_MAX_ARGS], retslot;
		void *argv[AVA_ABI_MAX_ARGS];
		bool complete = true;
		memset(slots, 0, sizeof(slots));
		memset(&retslot, 0, sizeof(retslot));
		for (uint16_t i = 0; i < fn->n_args; i++) {
			argv[i] = &slots[i];
			if (fn->args[i].kind == AVA_ABI_UNMAP) {
				slots[i].p = m->ptr;
			} else if (fn->args[i].kind == AVA_ABI_HANDLE) {
				uint16_t k = 0;
				while (k < m->n_objs && m->types[k] != fn->args[i].handle_type)
					k++;
				if (k == m->n_objs)
					complete = false;
				else
					slots[i].p = m->objs[k];
			}
		}
		if (complete) {
			sf->invoke(argv, fn->ret.kind == AVA_ABI_VOID ? NULL : &retslot);
			if ((fn->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL) && sf->device_wait)
				sf->device_wait(slots[fn->until_arg].p);
		}
	}
	mapping_free(m);
}

unsigned ava_apiserver_mapping_leftovers(struct session *s)
{
	unsigned n = 0;
	while (s->maps) {
		struct mapping *m = s->maps;
		s->maps = m->next;
		mapping_leftover(s->id, m);
		n++;
	}
	return n;
}

uint16_t ava_apiserver_mapping_check_plan(struct ava_apiserver_call *c)
{
	const struct ava_abi_fn *fn = c->fn;
	struct ava_gen_plan *plan = &c->plan;
	if (fn->ret.kind != AVA_ABI_MAP)
		return AVA_STATUS_OK;
	const struct ava_abi_view *t = &c->views[fn->n_args];
	if (fn->ret.flags & AVA_ABI_V_RECT)
		plan->map_count = t->count; /* checked once the arguments are decoded */
	if (t->count != plan->map_count || t->access != plan->map_access) {
		ava_apiserver_log(
		    "session %u: %s: mapping of %llu bytes (access %u), the spec says "
		    "%llu (access %u)",
		    c->s->id, fn->name, (unsigned long long)t->count, t->access,
		    (unsigned long long)plan->map_count, plan->map_access);
		return AVA_STATUS_MALFORMED;
	}
	c->map.read = (t->access & AVA_ABI_MAP_READ) != 0;
	return AVA_STATUS_OK;
}

uint16_t ava_apiserver_mapping_unmap_prepare(struct ava_apiserver_call *c, unsigned i)
{
	struct session *s = c->s;
	const struct ava_abi_view *view = &c->views[i];
	if (c->map.unmapping)
		return AVA_STATUS_MALFORMED; /* one unmap argument per call */
	pthread_mutex_lock(&s->lock);
	struct mapping *m = s->maps;
	while (m && m->id != view->u64)
		m = m->next;
	if (!m || m->busy) {
		pthread_mutex_unlock(&s->lock);
		return AVA_STATUS_BAD_HANDLE;
	}
	if (view->count != (m->writable ? m->len_bytes : 0)) {
		pthread_mutex_unlock(&s->lock);
		ava_apiserver_log("session %u: %s: %llu bytes for a mapping of %llu%s", s->id,
				  c->fn->name, (unsigned long long)view->count,
				  (unsigned long long)m->len_bytes,
				  m->writable ? "" : " mapped for reading only");
		return AVA_STATUS_MALFORMED;
	}
	m->busy = true;
	uint64_t transfer_id = m->transfer_id;
	m->transfer_id = 0;
	pthread_mutex_unlock(&s->lock);
	if (transfer_id)
		ava_apiserver_late_cancel_mapped(s->id, transfer_id);
	if (view->count && m->rect && !m->broken)
		ava_gen_rect_unpack(&m->shape, view->data, m->ptr);
	else if (view->count && !m->rect)
		memcpy(m->ptr, view->data, (size_t)view->count);
	c->slots[i].p = m->ptr;
	c->map.unmapping = m;
	return AVA_STATUS_OK;
}

/* After the unmap call: a successful one ends the mapping; a failed one leaves it open. */
static void unmap_finish(struct session *s, struct mapping *m, bool success)
{
	pthread_mutex_lock(&s->lock);
	if (success) {
		for (struct mapping **pp = &s->maps; *pp; pp = &(*pp)->next) {
			if (*pp == m) {
				*pp = m->next;
				break;
			}
		}
	} else {
		m->busy = false;
	}
	pthread_mutex_unlock(&s->lock);
	if (success)
		mapping_free(m);
}

/* Retains the objects of c's handle arguments for m (so its unmap can still name them). */
static void retain_objects(const struct ava_apiserver_call *c, struct mapping *m)
{
	const struct ava_apiserver_api *api = ava_apiserver_server.api;
	const struct ava_abi_fn *fn = c->fn;
	for (uint16_t i = 0; i < fn->n_args; i++) {
		uint16_t type = fn->args[i].handle_type;
		void *obj = c->slots[i].p;
		if (fn->args[i].kind != AVA_ABI_HANDLE || !obj || !api->retain ||
		    !api->retain[type] || !api->release[type])
			continue;
		api->retain[type](obj);
		m->objs[m->n_objs] = obj;
		m->types[m->n_objs++] = type;
	}
}

/*
 * Records the mapping the library made for c, a rect mapping when rect is
 * not NULL (the library's layout; broken: none). Returns it, or NULL
 * without memory.
 */
static struct mapping *mapping_add(struct ava_apiserver_call *c, void *ptr, uint64_t len_bytes,
				   bool writable, const struct ava_gen_rect *rect, bool broken)
{
	struct session *s = c->s;
	struct mapping *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->ptr = ptr;
	m->len_bytes = len_bytes;
	m->writable = writable;
	if (rect) {
		m->rect = true;
		m->broken = broken;
		if (!broken)
			m->shape = *rect;
	}
	retain_objects(c, m);
	pthread_mutex_lock(&s->lock);
	m->id = ++s->next_map_id;
	m->next = s->maps;
	s->maps = m;
	pthread_mutex_unlock(&s->lock);
	return m;
}

void ava_apiserver_mapping_finish(struct ava_apiserver_call *c)
{
	const struct ava_abi_fn *fn = c->fn;
	if (c->map.unmapping)
		unmap_finish(c->s, c->map.unmapping, c->success);
	if (fn->ret.kind != AVA_ABI_MAP || !c->success || !c->ret.p)
		return;
	const struct ava_abi_view *t = &c->views[fn->n_args];
	struct ava_gen_rect lib;
	bool rect = (fn->ret.flags & AVA_ABI_V_RECT) != 0;
	bool broken = rect && ava_apiserver_rect_mapped(c, t->count, &lib) < 0;
	c->map.mapped = mapping_add(c, c->ret.p, t->count, (t->access & AVA_ABI_MAP_WRITE) != 0,
				    rect ? &lib : NULL, broken);
	if (c->map.mapped)
		return;
	/* Not recorded: the guest gets id 0, and the library its mapping back now. */
	struct mapping *heap = calloc(1, sizeof(*heap));
	if (!heap)
		return;
	heap->ptr = c->ret.p;
	retain_objects(c, heap);
	mapping_leftover(c->s->id, heap);
}

void ava_apiserver_mapping_read_late(struct ava_apiserver_call *c, void *event)
{
	const struct ava_abi_view *t = &c->views[c->fn->n_args];
	struct mapping *m = c->map.mapped;
	if (m && event && !(m->rect && m->broken) &&
	    ava_apiserver_late_add_mapped(c->s->id, c->fn->id, t->u64, m->ptr, (size_t)t->count,
					  m->rect ? &m->shape : NULL, event) == 0) {
		pthread_mutex_lock(&c->s->lock);
		m->transfer_id = t->u64;
		pthread_mutex_unlock(&c->s->lock);
	} else {
		ava_apiserver_late_send_data(c->s->id, c->fn->id, t->u64, false, NULL, 0);
	}
}

uint64_t ava_apiserver_mapping_reply_id(const struct ava_apiserver_call *c)
{
	return c->map.mapped ? c->map.mapped->id : 0; /* never the library's pointer */
}
