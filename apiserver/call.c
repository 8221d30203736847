/* SPDX-License-Identifier: MIT */
/*
 * One CALL, as a pipeline of steps over its context (call.h). The payload
 * was checked against the ABI before any step reads it (ava_abi_check_call);
 * the spec's plan is re-run on the decoded scalars and every buffer count is
 * checked against it, so the library never sees a size the guest made up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ava/handle.h>

#include "blobs.h"
#include "call.h"
#include "callback.h"
#include "deferred.h"
#include "hooks.h"
#include "lastwords.h"
#include "marshal.h"
#include "output.h"
#include "rect.h"
#include "session.h"

void ava_apiserver_call_reply(uint32_t session_id, uint64_t seq, uint32_t call_id, uint16_t status,
			      uint16_t flags, const void *payload, size_t len)
{
	ava_transport *router = ava_apiserver_server.router;
	ava_apiserver_output_flush(); /* OUTPUT written before the call returned */
	ava_apiserver_late_flush(session_id);
	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_REPLY,
		.len_bytes = (uint32_t)len,
		.call_id = call_id,
		.seq = seq,
		.flags = flags,
		.status = status,
		.session = session_id,
	};
	if (ava_transport_send_frame(router, &hdr, payload, len) < 0) {
		/* The router is gone; the main loop sees EOF and exits. */
		ava_transport_shutdown(router);
	}
}

/* ---- steps before the call ---- */

/* The function, the payload against its ABI, the streamed argument's bytes, the scalars. */
static uint16_t call_decode(struct ava_apiserver_call *c)
{
	const struct ava_apiserver_api *api = ava_apiserver_server.api;
	const struct ava_wire_header *hdr = c->hdr;
	char err[200];

	if (hdr->call_id >= api->abi->n_fns) {
		ava_apiserver_log("session %u: call id %u out of range", c->s->id, hdr->call_id);
		return AVA_STATUS_MALFORMED;
	}
	c->sf = &api->fns[hdr->call_id];
	c->fn = c->sf->abi;
	const struct ava_abi_fn *fn = c->fn;
	if (!c->sf->invoke || (fn->flags & AVA_ABI_FN_UNSUPPORTED))
		return AVA_STATUS_UNSUPPORTED;
	if (ava_abi_check_call(api->abi, fn, c->payload, hdr->len_bytes, c->views, err,
			       sizeof(err)) < 0) {
		ava_apiserver_log("session %u: %s: %s", c->s->id, fn->name, err);
		return AVA_STATUS_MALFORMED;
	}
	uint64_t bulk_bytes = 0;
	int bulk_arg = ava_abi_streamed_arg(fn, c->views, &bulk_bytes);
	if (bulk_arg >= 0) {
		if (!c->bulk)
			return AVA_STATUS_NO_MEMORY;
		c->views[bulk_arg].data = c->bulk;
		if (fn->args[bulk_arg].kind == AVA_ABI_UNMAP) {
			c->owned[c->n_owned++] = c->bulk;
			c->bulk = NULL;
		}
	}
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (fn->args[i].kind == AVA_ABI_SCALAR)
			memcpy(c->slots[i].b, c->views[i].data, fn->args[i].size_bytes);
	}
	return AVA_STATUS_OK;
}

/* The plan is the spec's word on sizes and on the call mode: the guest's must agree with it. */
static uint16_t call_plan(struct ava_apiserver_call *c)
{
	ava_gen_plan_run(c->fn, c->sf->plan, c->argv, &c->plan);
	if (c->plan.async != c->async) {
		ava_apiserver_log("session %u: %s: call mode disagrees with the spec", c->s->id,
				  c->fn->name);
		return AVA_STATUS_MALFORMED;
	}
	return ava_apiserver_mapping_check_plan(c);
}

/*
 * A buffer argument: the guest's count must be the plan's; the server's
 * copy gets the bytes and, for handles, the library's pointers.
 */
static uint16_t translate_buffer(struct ava_apiserver_call *c, unsigned i)
{
	const struct ava_abi_value *v = &c->fn->args[i];
	const struct ava_abi_view *view = &c->views[i];
	const struct ava_gen_plan *plan = &c->plan;
	struct session *s = c->s;
	uint16_t status = AVA_STATUS_OK;

	if (!view->present)
		return AVA_STATUS_OK;
	if (plan->count[i] != AVA_GEN_COUNT_FROM_WIRE && view->count != plan->count[i]) {
		ava_apiserver_log(
		    "session %u: %s: argument %u has %llu elements, the spec says %llu", s->id,
		    c->fn->name, i, (unsigned long long)view->count,
		    (unsigned long long)plan->count[i]);
		return AVA_STATUS_MALFORMED;
	}
	size_t bytes = (size_t)view->count * v->size_bytes; /* checked */
	if (v->elem == AVA_ABI_ELEM_STRING) {
		status = ava_apiserver_marshal_strings(view->data, c->payload + c->hdr->len_bytes,
						       view->count, &c->slots[i].p);
		if (c->slots[i].p)
			c->owned[c->n_owned++] = c->slots[i].p;
		return status;
	}
	/*
	 * A property list is followed by one more zero element: lists that are
	 * not plain pairs (OpenCL's partition by counts) still end inside the
	 * buffer.
	 */
	uint8_t *p;
	if (view->streamed) { /* reassembled with a spare zero byte */
		p = c->bulk;
		c->bulk = NULL;
	} else {
		p = calloc(1, bytes + ((v->flags & AVA_ABI_V_PROPS) ? v->size_bytes : 1));
	}
	if (!p)
		return AVA_STATUS_NO_MEMORY;
	if (v->flags & AVA_ABI_V_LATE)
		c->late.bufs[i] = p;
	else
		c->owned[c->n_owned++] = p;
	c->slots[i].p = p;
	if ((v->flags & AVA_ABI_V_BLOBS) && (view->u64 == 1) != (plan->blobs_arg[i] != 0)) {
		ava_apiserver_log("session %u: %s: argument %u: blobs mode disagrees with the spec",
				  s->id, c->fn->name, i);
		return AVA_STATUS_MALFORMED;
	}
	if ((v->flags & AVA_ABI_V_BLOBS) && view->u64 == 1) {
		status = ava_apiserver_blobs_alloc(p, bytes / 8, view->data, &c->owned[c->n_owned]);
		if (c->owned[c->n_owned])
			c->n_owned++;
		return status;
	}
	if ((v->dir & AVA_ABI_DIR_IN) && bytes) {
		if (!view->streamed)
			memcpy(p, view->data, bytes);
		status = ava_apiserver_marshal_in_buffer(s, v, p, view->count);
		if (status == AVA_STATUS_OK && plan->handle_type[i] &&
		    v->elem == AVA_ABI_ELEM_BYTES)
			status = ava_apiserver_marshal_typed_in(s, plan->handle_type[i], p, bytes);
		else if (v->flags & AVA_ABI_V_SCAN)
			ava_apiserver_marshal_scan_in(s, p, bytes);
	}
	return status;
}

/* Every argument into what the library gets (a callback's waits for callback.c). */
static uint16_t call_translate(struct ava_apiserver_call *c)
{
	const struct ava_abi_fn *fn = c->fn;
	uint16_t status = AVA_STATUS_OK;
	for (unsigned i = 0; i < fn->n_args && status == AVA_STATUS_OK; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		const struct ava_abi_view *view = &c->views[i];
		switch (v->kind) {
		case AVA_ABI_HANDLE:
			status = ava_apiserver_marshal_from_id(c->s, v->handle_type, &c->slots[i].p,
							       view->u64);
			break;
		case AVA_ABI_STRING:
			c->slots[i].p = view->present ? (void *)view->data : NULL;
			break;
		case AVA_ABI_USERDATA:
			c->slots[i].p = (void *)(uintptr_t)view->u64;
			break;
		case AVA_ABI_UNMAP:
			status = ava_apiserver_mapping_unmap_prepare(c, i);
			break;
		case AVA_ABI_BUFFER:
			status = translate_buffer(c, i);
			break;
		default:
			break;
		}
	}
	return status;
}

/* The steps before the library runs, in order; the first that fails answers the call. */
static uint16_t (*const g_prepare_steps[])(struct ava_apiserver_call *) = {
	call_decode,
	call_plan,
	call_translate,
	ava_apiserver_rect_prepare,
	ava_apiserver_callback_prepare,
	ava_apiserver_late_prepare,
};

/* ---- the call and after ---- */

static bool result_is_success(const struct ava_apiserver_call *c)
{
	const struct ava_gen_fn_errors *e = &c->sf->errors;
	const void *errcode = e->errcode_arg >= 0 ? c->slots[e->errcode_arg].p : NULL;
	return ava_gen_succeeded(c->fn, e, c->fn->ret.kind == AVA_ABI_VOID ? NULL : &c->ret,
				 errcode);
}

static void call_invoke(struct ava_apiserver_call *c)
{
	const struct ava_abi_fn *fn = c->fn;
	ava_apiserver_devtime_before_invoke(c);
	ava_apiserver_lastwords_enter(fn->name, c->s->id);
	ava_apiserver_hooks_invoke(ava_apiserver_server.api, c->s->id, fn, c->sf->invoke, c->argv,
				   fn->ret.kind == AVA_ABI_VOID ? NULL : &c->ret);
	ava_apiserver_lastwords_leave();
	ava_apiserver_devtime_after_invoke(c);
	c->success = result_is_success(c);
}

/* A call that succeeded drops (ava_deallocates) or adds (ava_retains) the guest's references. */
static void call_references(struct ava_apiserver_call *c)
{
	const struct ava_abi_fn *fn = c->fn;
	if (!c->success)
		return;
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		uint64_t id = c->views[i].u64;
		int removed, rr = 0;
		if (v->kind != AVA_ABI_HANDLE || !id)
			continue;
		if (v->flags & AVA_ABI_V_DEALLOCATES)
			rr = ava_handle_table_unref(c->s->handles, id, v->handle_type, &removed);
		else if (v->flags & AVA_ABI_V_RETAINS)
			rr = ava_handle_table_ref(c->s->handles, id, v->handle_type);
		/* rr < 0: a racing release in another thread got there first. */
		(void)rr;
	}
}

/* One out buffer into the reply (a late one's bytes go in its DATA frames). Returns 0 or < 0. */
static int encode_buffer(struct ava_apiserver_call *c, unsigned i)
{
	const struct ava_abi_value *v = &c->fn->args[i];
	const struct ava_abi_view *view = &c->views[i];
	const struct ava_gen_plan *plan = &c->plan;
	void *p = c->slots[i].p;
	size_t bytes = (size_t)view->count * v->size_bytes;
	if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_OUT) || !view->present ||
	    (v->flags & AVA_ABI_V_LATE))
		return 0;
	if ((v->flags & AVA_ABI_V_BLOBS) && view->u64 == 1)
		return ava_apiserver_blobs_put(&c->out, p, view->count, bytes / 8, view->data,
					       c->success);
	if (c->success && plan->clear_width[i] && bytes >= plan->clear_width[i])
		ava_apiserver_marshal_clear_bits(p, plan->clear_width[i], plan->clear_bits[i]);
	int r = ava_apiserver_marshal_out_buffer(c->s, v, p, view->count, c->success);
	if (r == 0 && plan->handle_type[i] && v->elem == AVA_ABI_ELEM_BYTES)
		r = ava_apiserver_marshal_typed_out(c->s, plan->handle_type[i], p, bytes,
						    c->success);
	if (r == 0)
		r = ava_wire_put_u64(&c->out, view->count);
	if (r == 0)
		r = ava_wire_put_bytes(&c->out, p, bytes);
	return r;
}

/*
 * The reply's payload: the result (handles as ids, a mapping as its id,
 * never the library's pointer), then the out buffers. An asynchronous call
 * has no reply: a failure is remembered for the next one. Returns a wire
 * status.
 */
static uint16_t call_encode(struct ava_apiserver_call *c)
{
	const struct ava_abi_fn *fn = c->fn;
	if (c->async) {
		if (!c->success)
			ava_apiserver_deferred_remember(c->s, c->sf, c->ret.b);
		return AVA_STATUS_OK;
	}
	int r = 0;
	if (fn->ret.kind == AVA_ABI_SCALAR) {
		r = ava_wire_put_bytes(&c->out, c->ret.b, fn->ret.size_bytes);
	} else if (fn->ret.kind == AVA_ABI_HANDLE) {
		r = ava_apiserver_marshal_to_id(c->s, fn->ret.handle_type, &c->ret.p,
						c->success &&
						    (fn->ret.flags & AVA_ABI_V_ALLOCATES));
		if (r == 0)
			r = ava_wire_put_bytes(&c->out, &c->ret.p, 8);
	} else if (fn->ret.kind == AVA_ABI_MAP) {
		r = ava_wire_put_u64(&c->out, ava_apiserver_mapping_reply_id(c));
	}
	for (unsigned i = 0; i < fn->n_args && r == 0; i++)
		r = encode_buffer(c, i);
	if (r < 0) {
		ava_apiserver_log("session %u: %s: could not build the reply (%s)", c->s->id,
				  fn->name, strerror(-r));
		return r == -ENOSPC ? AVA_STATUS_NO_MEMORY : AVA_STATUS_INTERNAL;
	}
	return AVA_STATUS_OK;
}

/*
 * Answers a synchronous call: with status and no payload, or with the
 * encoded reply and the first unreported asynchronous failure. An
 * asynchronous call that could not run is remembered as failed instead.
 */
static void call_answer(struct ava_apiserver_call *c, uint16_t status)
{
	uint16_t flags = 0;
	if (c->async) {
		if (status != AVA_STATUS_OK && c->sf)
			ava_apiserver_deferred_status(c->s, c->sf, status);
		return;
	}
	if (status != AVA_STATUS_OK)
		c->out.len = 0;
	else
		flags = ava_apiserver_deferred_put(c->s, &c->out);
	ava_apiserver_call_reply(c->s->id, c->hdr->seq, c->hdr->call_id, status, flags, c->out.data,
				 c->out.len);
}

static void call_init(struct ava_apiserver_call *c, struct session *s,
		      const struct ava_wire_header *hdr, const uint8_t *payload, uint8_t *bulk)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->hdr = hdr;
	c->payload = payload;
	c->bulk = bulk;
	c->async = (hdr->flags & AVA_WIRE_F_ASYNC) != 0;
	for (unsigned i = 0; i < AVA_ABI_MAX_ARGS; i++)
		c->argv[i] = &c->slots[i];
	c->late.event_arg = -1;
	ava_wire_buf_init(&c->out);
}

/* Frees what the call still owns; a device_time call's record goes on (after the REPLY). */
static void call_fini(struct ava_apiserver_call *c)
{
	free(c->bulk);
	for (unsigned i = 0; i < c->n_owned; i++)
		free(c->owned[i]);
	for (unsigned i = 0; i < AVA_ABI_MAX_ARGS; i++)
		free(c->late.bufs[i]);
	ava_wire_buf_fini(&c->out);
	ava_apiserver_devtime_finish(c);
}

void ava_apiserver_call_run(struct ava_apiserver_call *c, struct session *s,
			    const struct ava_wire_header *hdr, const uint8_t *payload,
			    uint8_t *bulk)
{
	uint16_t status = AVA_STATUS_OK;
	call_init(c, s, hdr, payload, bulk);
	for (size_t k = 0; k < sizeof(g_prepare_steps) / sizeof(g_prepare_steps[0]); k++) {
		status = g_prepare_steps[k](c);
		if (status != AVA_STATUS_OK)
			goto out;
	}
	call_invoke(c);
	ava_apiserver_mapping_finish(c);
	ava_apiserver_late_finish(c);
	call_references(c);
	status = call_encode(c);
out:
	call_answer(c, status);
	call_fini(c);
}
