/* SPDX-License-Identifier: MIT */
/* A call's arguments onto the wire, and its reply back (marshal.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "call.h"
#include "callback.h"
#include "conn.h"
#include "late.h"
#include "mapping.h"
#include "marshal.h"
#include "proxy.h"
#include "util.h"

/* Each string: u32 n, then n bytes ending in a NUL we add (lengths may be NULL). */
static int encode_strings(struct ava_wire_buf *b, const void *array, uint64_t count,
			  const size_t *lengths, const char **ret_why)
{
	const char *const *strs = array;
	int r = 0;
	for (uint64_t k = 0; k < count && r == 0; k++) {
		if (!strs[k]) {
			r = ava_wire_put_u32(b, 0);
			continue;
		}
		size_t n = lengths && lengths[k] ? lengths[k] : strlen(strs[k]);
		if (n >= UINT32_MAX) {
			*ret_why = "a string in an array is larger than a frame";
			return -EMSGSIZE;
		}
		r = ava_wire_put_u32(b, (uint32_t)n + 1);
		if (r == 0)
			r = ava_wire_put_bytes(b, strs[k], n);
		if (r == 0)
			r = ava_wire_put_u8(b, 0);
	}
	return r;
}

/* A string argument: u32 n (0: NULL), then n bytes ending in its NUL. */
static int encode_string(struct ava_wire_buf *b, const struct ava_abi_value *v, const char *s,
			 struct ava_abi_view *vw, const char **ret_why)
{
	if (!s) {
		vw->present = 0;
		return ava_wire_put_u32(b, 0);
	}
	size_t n = strlen(s) + 1;
	if (n > v->max_count || n > UINT32_MAX) {
		*ret_why = "a string argument is longer than the spec allows";
		return -EMSGSIZE;
	}
	vw->count = n;
	int r = ava_wire_put_u32(b, (uint32_t)n);
	if (r == 0)
		r = ava_wire_put_bytes(b, s, n);
	return r;
}

/*
 * Buffer argument i: u8 present (0: NULL), u64 count, then by its
 * annotations a late transfer id (late.c), strings, blob capacities
 * (blob.c) or, for an input, the elements; or (mode 2) streamed.
 */
static int encode_buffer(struct ava_guestlib_call *call, unsigned i, const char **ret_why)
{
	const struct ava_abi_value *v = &call->fn->args[i];
	const struct ava_gen_plan *plan = &call->plan;
	struct ava_abi_view *vw = &call->views[i];
	struct ava_wire_buf *b = &call->b;
	const void *p = *(void *const *)call->send_args[i];
	if (!p) {
		vw->present = 0;
		return ava_wire_put_u8(b, 0);
	}
	uint64_t count = plan->count[i];
	size_t bytes;
	if (count > v->max_count ||
	    __builtin_mul_overflow((size_t)count, (size_t)v->size_bytes, &bytes)) {
		*ret_why = "a buffer argument is larger than the spec allows";
		return -EMSGSIZE;
	}
	vw->count = count;
	/*
	 * Plain input bytes larger than one chunk are streamed after the CALL
	 * (the first such argument; docs/wire-protocol.md 7.8). Not a rect: its
	 * packed copy is gone before the CHUNKs go (a rect is at most one frame).
	 */
	if (!call->bulk && v->dir == AVA_ABI_DIR_IN && v->elem == AVA_ABI_ELEM_BYTES &&
	    !(v->flags & (AVA_ABI_V_SCAN | AVA_ABI_V_PROPS | AVA_ABI_V_BLOBS | AVA_ABI_V_RECT)) &&
	    !plan->handle_type[i] && bytes > AVA_WIRE_CHUNK_MAX_BYTES) {
		vw->streamed = 1;
		call->bulk = p;
		call->bulk_len = bytes;
		int r = ava_wire_put_u8(b, 2);
		if (r == 0)
			r = ava_wire_put_u64(b, count);
		return r;
	}
	int r = ava_wire_put_u8(b, 1);
	if (r == 0)
		r = ava_wire_put_u64(b, count);
	if (r == 0 && (v->flags & AVA_ABI_V_LATE) && v->dir == AVA_ABI_DIR_OUT)
		r = ava_guestlib_late_encode(call->c, b, vw);
	if (r < 0)
		return r;
	if (v->elem == AVA_ABI_ELEM_STRING)
		return encode_strings(b, p, count, plan->str_lengths[i], ret_why);
	if (v->flags & AVA_ABI_V_BLOBS)
		return ava_guestlib_blob_encode(call, i, vw, bytes);
	/*
	 * Handles are pointer-sized ids in guest memory, so arrays of handles
	 * and structs with handle fields go as they are.
	 */
	if (v->dir & AVA_ABI_DIR_IN)
		return ava_wire_put_bytes(b, p, bytes);
	return 0;
}

/* Encodes the arguments; see ava_guestlib_marshal_encode. */
static int encode_args(struct ava_guestlib_call *call, const char **ret_why)
{
	const struct ava_abi_fn *fn = call->fn;
	void *const *args = call->send_args;
	struct ava_wire_buf *b = &call->b;
	int r = 0;
	call->bulk = NULL;
	call->bulk_len = 0;
	for (unsigned i = 0; i < fn->n_args && r == 0; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		struct ava_abi_view *vw = &call->views[i];
		memset(vw, 0, sizeof(*vw));
		vw->present = 1;
		switch (v->kind) {
		case AVA_ABI_SCALAR:
			r = ava_wire_put_bytes(b, args[i], v->size_bytes);
			break;
		case AVA_ABI_HANDLE:
		case AVA_ABI_USERDATA:
			r = ava_wire_put_u64(b, (uint64_t)(uintptr_t) * (void *const *)args[i]);
			break;
		case AVA_ABI_CALLBACK: {
			uint64_t token;
			r = ava_guestlib_callback_token(call->c, *(void *const *)args[i], &token);
			if (r < 0)
				*ret_why = "too many distinct callback functions";
			else
				r = ava_wire_put_u64(b, token);
			break;
		}
		case AVA_ABI_STRING:
			r = encode_string(b, v, *(const char *const *)args[i], vw, ret_why);
			break;
		case AVA_ABI_BUFFER:
			r = encode_buffer(call, i, ret_why);
			break;
		case AVA_ABI_UNMAP:
			r = ava_guestlib_mapping_encode_unmap(call, vw);
			break;
		default:
			*ret_why = "unknown value kind in the descriptor";
			return -EINVAL;
		}
	}
	if (r < 0 && !*ret_why)
		*ret_why = "out of memory";
	return r;
}

int ava_guestlib_marshal_encode(struct ava_guestlib_call *call, const char **ret_why)
{
	int r = encode_args(call, ret_why);
	if (r == 0 && call->mapping && ava_guestlib_mapping_encode_trailer(call) < 0) {
		*ret_why = "out of memory";
		r = -ENOMEM;
	}
	return r;
}

/* Out buffer i into the application's memory, if the CALL sent one and the REPLY carries it. */
static int apply_buffer(struct ava_guestlib_call *call, unsigned i)
{
	const struct ava_abi_value *v = &call->fn->args[i];
	const struct ava_abi_view *rv = &call->reply_views[1 + i];
	if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_OUT) || !call->views[i].present ||
	    (v->flags & AVA_ABI_V_LATE))
		return 0;
	call->written |= 1u << i;
	if ((v->flags & AVA_ABI_V_BLOBS) && call->views[i].u64 == 1)
		return ava_guestlib_blob_apply(call, i, rv);
	if (rv->count) /* a zero-element buffer sends no data pointer */
		memcpy(*(void *const *)call->args[i], rv->data, (size_t)rv->count * v->size_bytes);
	return 0;
}

/*
 * The rule of the runtime for outputs: a call that failed (the spec's
 * ava_gen_succeeded, on the result and the errcode argument the REPLY
 * carries) leaves the application's out buffers as they were, as a
 * library leaves them natively, but for the errcode argument, which gets
 * the error, and those the spec marks ava_written_on_failure. The server
 * still sends them (the REPLY's layout does not depend on the result);
 * they are dropped here. Late buffers and mappings follow the same rule
 * on their own paths (late.c: a failed call's DATA carries no bytes;
 * mapping.c: a failed map frees its memory and answers NULL).
 */
int ava_guestlib_marshal_apply(struct ava_guestlib_call *call)
{
	struct conn *c = call->c;
	const struct ava_abi_fn *fn = call->fn;
	const struct ava_gen_fn_errors *e = &call->gf->errors;
	struct ava_abi_view *rv = call->reply_views;
	void *ret = call->ret;
	uint16_t flags = call->w.flags;
	struct ava_abi_view deferred;
	uint32_t deferred_fn = 0;
	int r =
	    ava_abi_check_reply(c->api->abi, fn, call->views, flags, call->w.payload, call->w.len,
				rv, &deferred_fn, &deferred, call->err, sizeof(call->err));
	if (r < 0)
		return r;
	if (ret) {
		if (fn->ret.kind == AVA_ABI_SCALAR)
			memcpy(ret, rv[0].data, fn->ret.size_bytes);
		else if (fn->ret.kind == AVA_ABI_HANDLE || fn->ret.kind == AVA_ABI_MAP)
			*(void **)ret = (void *)(uintptr_t)rv[0].u64; /* MAP: the id, for now */
	}
	call->written = 0;
	if (e->errcode_arg >= 0 && (unsigned)e->errcode_arg < fn->n_args)
		r = apply_buffer(call, (unsigned)e->errcode_arg);
	bool ok = ava_guestlib_succeeded(call->gf, call->args, ret);
	for (unsigned i = 0; i < fn->n_args && r == 0; i++) {
		bool always =
		    (fn->args[i].flags & AVA_ABI_V_ERRCODE) || (e->written_on_failure & (1u << i));
		if ((int)i != e->errcode_arg && (ok || always))
			r = apply_buffer(call, i);
	}
	if (r < 0)
		return r;
	if (c->api->proxy_dispatch)
		ava_guestlib_proxy_from_ids(call);
	if (flags & AVA_WIRE_F_DEFERRED_ERROR)
		ava_guestlib_conn_remember_deferred(c, deferred_fn, &deferred);
	return 0;
}
