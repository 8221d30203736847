/* SPDX-License-Identifier: MIT */
/* Mappings: their memory, their list, and their part of a call (mapping.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "conn.h"
#include "hooks.h"
#include "late.h"
#include "mapping.h"
#include "rect.h"
#include "util.h"

struct mapping *ava_guestlib_mapping_take(struct conn *c, const void *ptr)
{
	pthread_mutex_lock(&c->lock);
	struct mapping **pp = &c->mappings;
	while (*pp && (*pp)->ptr != ptr)
		pp = &(*pp)->next;
	struct mapping *m = *pp;
	if (m)
		*pp = m->next;
	pthread_mutex_unlock(&c->lock);
	return m;
}

void ava_guestlib_mapping_put(struct conn *c, struct mapping *m)
{
	pthread_mutex_lock(&c->lock);
	m->next = c->mappings;
	c->mappings = m;
	pthread_mutex_unlock(&c->lock);
}

void ava_guestlib_mapping_free(struct mapping *m)
{
	if (m && m->owned)
		free(m->ptr);
	free(m);
}

/*
 * Memory for a new mapping of len_bytes: where the API's placer says (an
 * OpenCL CL_MEM_USE_HOST_PTR buffer's host_ptr + offset), else page-aligned
 * memory of our own. Returns a record (not yet listed) or NULL.
 */
static struct mapping *mapping_new(const struct ava_guestlib_api *api, uint32_t fn_id,
				   void *const *args, size_t len_bytes, bool writable)
{
	struct mapping *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->len_bytes = len_bytes;
	m->wire_bytes = len_bytes;
	m->writable = writable;
	m->ptr = ava_guestlib_hooks_place_map(api, fn_id, args, len_bytes);
	if (!m->ptr) {
		long page = sysconf(_SC_PAGESIZE);
		size_t align = page > 0 ? (size_t)page : 4096;
		size_t n = (len_bytes + align - 1) / align * align;
		m->ptr = aligned_alloc(align, n ? n : align);
		m->owned = true;
	}
	if (!m->ptr) {
		free(m);
		return NULL;
	}
	return m;
}

int ava_guestlib_mapping_prepare(struct ava_guestlib_call *call)
{
	const struct ava_abi_fn *fn = call->fn;
	struct ava_gen_plan *plan = &call->plan;

	/* The mapping given back, */
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (fn->args[i].kind != AVA_ABI_UNMAP)
			continue;
		call->unmapping = ava_guestlib_mapping_take(call->c, *(void *const *)call->args[i]);
		if (!call->unmapping) {
			if (ava_guestlib_debug())
				ava_guestlib_say("%s: the pointer is no open mapping", fn->name);
			return ava_guestlib_call_fail(call, AVA_STATUS_BAD_HANDLE);
		}
	}
	if (fn->ret.kind != AVA_ABI_MAP)
		return 0;
	/*
	 * or memory for a new one. A rect mapping: the application's memory
	 * holds the rect as the API's shape lays it out (the pitches the server
	 * reports), the wire its packed bytes; none when the arguments describe
	 * no rect (the library answers them).
	 */
	struct ava_gen_rect shape;
	bool is_rect = false;
	uint64_t len = plan->map_count;
	if (fn->ret.flags & AVA_ABI_V_RECT) {
		uint64_t bytes = 0;
		is_rect = ava_guestlib_rect_of_map(call->api, fn, call->args, &shape, &bytes, &len);
		plan->map_count = is_rect ? bytes : 0;
		if (!is_rect)
			len = 0;
	}
	if (plan->map_count <= fn->ret.max_count && (uint64_t)(size_t)len == len)
		call->mapping = mapping_new(call->api, call->fn_id, call->args, (size_t)len,
					    (plan->map_access & AVA_ABI_MAP_WRITE) != 0);
	if (!call->mapping) {
		ava_guestlib_say("%s: no memory for a mapping of %llu bytes", fn->name,
				 (unsigned long long)plan->map_count);
		return ava_guestlib_call_fail(call, AVA_STATUS_NO_MEMORY);
	}
	if (is_rect) {
		call->mapping->rect = true;
		call->mapping->shape = shape;
		call->mapping->wire_bytes = (size_t)plan->map_count;
	}
	return 0;
}

int ava_guestlib_mapping_encode_unmap(struct ava_guestlib_call *call, struct ava_abi_view *vw)
{
	const struct mapping *unmapping = call->unmapping;
	struct ava_wire_buf *b = &call->b;
	/* the mapping's id, then its bytes if it was mapped for writing */
	size_t n = unmapping->writable ? unmapping->wire_bytes : 0;
	void *packed = NULL;
	vw->u64 = unmapping->id;
	vw->count = n;
	if (n && unmapping->rect) {
		packed = malloc(n);
		if (!packed)
			return -ENOMEM;
		ava_gen_rect_pack(&unmapping->shape, unmapping->ptr, packed);
	}
	int r = ava_wire_put_u64(b, unmapping->id);
	if (r == 0)
		r = ava_wire_put_u64(b, n);
	/* (a rect mapping's bytes go packed, in the CALL) */
	if (r == 0 && n && !packed && !call->bulk && n > AVA_WIRE_CHUNK_MAX_BYTES) {
		vw->streamed = 1; /* mode 1: the bytes are streamed */
		call->bulk = unmapping->ptr;
		call->bulk_len = n;
		r = ava_wire_put_u8(b, 1);
		goto out;
	}
	if (r == 0 && n)
		r = ava_wire_put_u8(b, 0);
	if (r == 0 && n)
		r = ava_wire_put_bytes(b, packed ? packed : unmapping->ptr, n);
out:
	free(packed);
	return r;
}

int ava_guestlib_mapping_encode_trailer(struct ava_guestlib_call *call)
{
	const struct ava_gen_plan *plan = &call->plan;
	int r = ava_wire_put_u64(&call->b, plan->map_count);
	if (r == 0 && (plan->map_access & AVA_ABI_MAP_READ)) {
		call->map_transfer = ava_guestlib_late_new_id(call->c);
		r = ava_wire_put_u64(&call->b, call->map_transfer);
	}
	if (r == 0)
		r = ava_wire_put_u8(&call->b, plan->map_access);
	return r;
}

void ava_guestlib_mapping_finish(struct ava_guestlib_call *call)
{
	struct conn *c = call->c;
	bool ok = call->status == AVA_STATUS_OK;
	void *ret = call->ret;

	if (call->unmapping) { /* a successful unmap ends it; else it stays open */
		if (ok && call->left_guest && ava_guestlib_succeeded(call->gf, call->args, ret))
			ava_guestlib_mapping_free(call->unmapping);
		else
			ava_guestlib_mapping_put(c, call->unmapping);
		call->unmapping = NULL;
	}
	if (call->mapping) {
		uint64_t id =
		    ok && call->left_guest && ret ? (uint64_t)(uintptr_t) * (void **)ret : 0;
		if (id) {
			call->mapping->id = id;
			*(void **)ret = call->mapping->ptr;
			ava_guestlib_mapping_put(c, call->mapping);
		} else {
			if (ret && call->left_guest)
				*(void **)ret = NULL;
			ava_guestlib_mapping_free(call->mapping);
		}
		call->mapping = NULL;
	}
}
