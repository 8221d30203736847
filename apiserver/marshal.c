/* SPDX-License-Identifier: MIT */
/* Handle ids <-> library pointers in arguments, buffers and results. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ava/handle.h>
#include <ava/wire.h>

#include "marshal.h"
#include "session.h"

int ava_apiserver_marshal_to_id(struct session *s, uint16_t type, void **ptr_slot, bool owned)
{
	uint64_t id = 0;
	if (*ptr_slot) {
		int r = ava_handle_table_insert(s->handles, type, *ptr_slot, &id);
		if (r == 0 && owned)
			r = ava_handle_table_ref(s->handles, id, type);
		if (r < 0)
			return r;
	}
	memcpy(ptr_slot, &id, sizeof(id));
	return 0;
}

uint16_t ava_apiserver_marshal_from_id(struct session *s, uint16_t type, void **slot_p, uint64_t id)
{
	if (id == 0) {
		*slot_p = NULL;
		return AVA_STATUS_OK;
	}
	void *p;
	int r = ava_handle_table_lookup(s->handles, id, type, &p);
	if (r == -EINVAL)
		return AVA_STATUS_MALFORMED;
	if (r < 0)
		return AVA_STATUS_BAD_HANDLE;
	*slot_p = p;
	return AVA_STATUS_OK;
}

/* The ids of one element at el: itself (a handle) or its handle fields (a struct). */
static uint16_t element_in(struct session *s, const struct ava_abi_value *v, uint8_t *el)
{
	if (v->elem == AVA_ABI_ELEM_HANDLE) {
		uint64_t id;
		memcpy(&id, el, 8);
		void *p;
		uint16_t st = ava_apiserver_marshal_from_id(s, v->handle_type, &p, id);
		if (st != AVA_STATUS_OK)
			return st;
		memcpy(el, &p, sizeof(p));
		return AVA_STATUS_OK;
	}
	for (unsigned f = 0; f < v->n_fields; f++) {
		uint64_t id;
		memcpy(&id, el + v->fields[f].offset_bytes, 8);
		void *p;
		uint16_t st = ava_apiserver_marshal_from_id(s, v->fields[f].handle_type, &p, id);
		if (st != AVA_STATUS_OK)
			return st;
		memcpy(el + v->fields[f].offset_bytes, &p, sizeof(p));
	}
	return AVA_STATUS_OK;
}

uint16_t ava_apiserver_marshal_in_buffer(struct session *s, const struct ava_abi_value *v,
					 uint8_t *data, uint64_t count)
{
	if (v->elem != AVA_ABI_ELEM_HANDLE && v->elem != AVA_ABI_ELEM_STRUCT)
		return AVA_STATUS_OK; /* plain bytes: nothing to translate, no per-byte walk */
	for (uint64_t k = 0; k < count; k++) {
		uint16_t st = element_in(s, v, data + (size_t)k * v->size_bytes);
		if (st != AVA_STATUS_OK)
			return st;
	}
	return AVA_STATUS_OK;
}

/* The pointer at p becomes an id (a failed call's: 0). */
static int word_out(struct session *s, uint16_t type, uint8_t *p, bool owned, bool success)
{
	void *ptr;
	memcpy(&ptr, p, sizeof(ptr));
	if (!success) /* a failed call's out-handles are garbage: never insert */
		ptr = NULL;
	int r = ava_apiserver_marshal_to_id(s, type, &ptr, owned);
	if (r == 0)
		memcpy(p, &ptr, sizeof(ptr));
	return r;
}

int ava_apiserver_marshal_out_buffer(struct session *s, const struct ava_abi_value *v,
				     uint8_t *data, uint64_t count, bool success)
{
	const bool owned = (v->flags & AVA_ABI_V_ALLOCATES) != 0;
	if (v->elem != AVA_ABI_ELEM_HANDLE && v->elem != AVA_ABI_ELEM_STRUCT)
		return 0;
	for (uint64_t k = 0; k < count; k++) {
		uint8_t *el = data + (size_t)k * v->size_bytes;
		int r = 0;
		if (v->elem == AVA_ABI_ELEM_HANDLE)
			r = word_out(s, v->handle_type, el, owned, success);
		for (unsigned f = 0; v->elem == AVA_ABI_ELEM_STRUCT && f < v->n_fields && r == 0;
		     f++)
			r = word_out(s, v->fields[f].handle_type, el + v->fields[f].offset_bytes,
				     owned, success);
		if (r < 0)
			return r;
	}
	return 0;
}

uint16_t ava_apiserver_marshal_typed_in(struct session *s, uint16_t type, uint8_t *data,
					size_t bytes)
{
	for (size_t off = 0; off + 8 <= bytes; off += 8) {
		uint64_t id;
		void *p;
		memcpy(&id, data + off, 8);
		uint16_t st = ava_apiserver_marshal_from_id(s, type, &p, id);
		if (st != AVA_STATUS_OK)
			return st;
		memcpy(data + off, &p, sizeof(p));
	}
	return AVA_STATUS_OK;
}

int ava_apiserver_marshal_typed_out(struct session *s, uint16_t type, uint8_t *data, size_t bytes,
				    bool success)
{
	for (size_t off = 0; off + 8 <= bytes; off += 8) {
		int r = word_out(s, type, data + off, false, success);
		if (r < 0)
			return r;
	}
	return 0;
}

void ava_apiserver_marshal_scan_in(struct session *s, uint8_t *data, size_t bytes)
{
	for (size_t off = 0; off + 8 <= bytes; off += 8) {
		uint64_t id;
		void *p;
		memcpy(&id, data + off, 8);
		if (id != 0 && AVA_HANDLE_TYPE_OF(id) != 0 &&
		    ava_handle_table_lookup(s->handles, id, AVA_HANDLE_TYPE_OF(id), &p) == 0)
			memcpy(data + off, &p, sizeof(p));
	}
}

uint16_t ava_apiserver_marshal_strings(const uint8_t *data, const uint8_t *end, uint64_t count,
				       void **ret_array)
{
	char **strs = calloc(count ? (size_t)count : 1, sizeof(char *));
	if (!strs)
		return AVA_STATUS_NO_MEMORY;
	struct ava_wire_cursor cur = { data, end };
	for (uint64_t k = 0; k < count; k++) {
		uint32_t n;
		const uint8_t *str = NULL;
		if (ava_wire_get_u32(&cur, &n) < 0 ||
		    (n && ava_wire_get_bytes(&cur, n, &str) < 0)) {
			/* cannot happen after ava_abi_check_args; never trust it blindly */
			free(strs);
			return AVA_STATUS_MALFORMED;
		}
		strs[k] = (char *)str;
	}
	*ret_array = strs;
	return AVA_STATUS_OK;
}

void ava_apiserver_marshal_clear_bits(void *p, uint8_t width, uint64_t mask)
{
	if (width == 1) {
		uint8_t x;
		memcpy(&x, p, 1);
		x &= (uint8_t)~mask;
		memcpy(p, &x, 1);
	} else if (width == 2) {
		uint16_t x;
		memcpy(&x, p, 2);
		x &= (uint16_t)~mask;
		memcpy(p, &x, 2);
	} else if (width == 4) {
		uint32_t x;
		memcpy(&x, p, 4);
		x &= (uint32_t)~mask;
		memcpy(p, &x, 4);
	} else if (width == 8) {
		uint64_t x;
		memcpy(&x, p, 8);
		x &= ~mask;
		memcpy(p, &x, 8);
	}
}
