/* SPDX-License-Identifier: MIT */
/*
 * The guest runtime's call pipeline: ava_guestlib_call, and the call
 * context its steps share (call.h).
 *
 * The runtime marshals calls described by generated descriptors, sends them
 * to the router and waits for replies (conn.c), and runs the callbacks the
 * server forwards (callback.c). A call is a context on the heap and a
 * sequence of small steps over it; each wire feature (late.c, rect.c,
 * mapping.c, blob.c) and the proxies (proxy.c) contribute steps, encoders
 * and appliers; marshal.c turns arguments into a CALL and a REPLY into
 * results. Whatever happens, the context's one fini frees what the call
 * allocated.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "call.h"
#include "conn.h"
#include "hooks.h"
#include "late.h"
#include "mapping.h"
#include "marshal.h"
#include "proxy.h"
#include "rect.h"
#include "util.h"

struct ava_guestlib_call *ava_guestlib_call_new(const struct ava_guestlib_api *api, uint32_t fn_id,
						void *const *args, void *ret, bool sizing)
{
	struct ava_guestlib_call *call = malloc(sizeof(*call));
	if (!call)
		return NULL;
	/* Only the header: the per-argument arrays are written before they are read. */
	memset(call, 0, offsetof(struct ava_guestlib_call, app_slots));
	call->api = api;
	call->gf = &api->fns[fn_id];
	call->fn = call->gf->abi;
	call->fn_id = fn_id;
	call->args = args;
	call->ret = ret;
	call->sizing = sizing;
	call->status = AVA_STATUS_OK;
	call->bad.arg = -1;
	call->send_args = args;
	call->n_owned = 0;
	memset(call->blob_caps, 0, sizeof(call->blob_caps));
	memset(call->rect_ok, 0, sizeof(call->rect_ok));
	call->unmapping = call->mapping = NULL;
	call->map_transfer = 0;
	ava_wire_buf_init(&call->b);
	call->bulk = NULL;
	call->bulk_len = 0;
	call->w_init = false;
	call->w.payload = NULL;
	call->written = 0;
	call->err[0] = '\0';
	return call;
}

void ava_guestlib_call_free(struct ava_guestlib_call *call)
{
	if (!call)
		return;
	for (unsigned k = 0; k < call->n_owned; k++)
		free(call->owned[k]);
	for (unsigned k = 0; k < call->fn->n_args; k++)
		free(call->blob_caps[k]);
	if (call->unmapping && call->c)
		ava_guestlib_mapping_put(call->c, call->unmapping);
	ava_guestlib_mapping_free(call->mapping);
	ava_wire_buf_fini(&call->b);
	if (call->w_init)
		pthread_cond_destroy(&call->w.cond);
	free(call->w.payload);
	free(call);
}

int ava_guestlib_call_own(struct ava_guestlib_call *call, void *p)
{
	if (!p)
		return -ENOMEM;
	if (call->n_owned == sizeof(call->owned) / sizeof(call->owned[0])) {
		free(p); /* not reached: at most two copies per argument */
		return -ENOMEM;
	}
	call->owned[call->n_owned++] = p;
	return 0;
}

void ava_guestlib_call_send_arg(struct ava_guestlib_call *call, unsigned i, void *value)
{
	if (call->send_args != call->send_buf) {
		memcpy(call->send_buf, call->args, call->fn->n_args * sizeof(call->send_buf[0]));
		call->send_args = call->send_buf;
	}
	call->slots[i] = value;
	call->send_buf[i] = &call->slots[i];
}

int ava_guestlib_call_fail(struct ava_guestlib_call *call, uint16_t status)
{
	call->status = status;
	return -1;
}

/* ---- the steps ---- */

static int step_connect(struct ava_guestlib_call *call)
{
	uint16_t status = AVA_STATUS_OK;
	call->c = ava_guestlib_conn_get(call->api, false, &status);
	return call->c ? 0 : ava_guestlib_call_fail(call, status);
}

/* The generated plan: counts, overrides (into args), async, handle types, blobs. */
static int step_plan(struct ava_guestlib_call *call)
{
	const struct ava_abi_fn *fn = call->fn;
	struct ava_gen_plan *plan = &call->plan;
	memset(plan, 0, sizeof(*plan));
	if (call->gf->plan)
		call->gf->plan(call->args, plan);
	else
		plan->async = (fn->flags & AVA_ABI_FN_MAY_ASYNC) ? 1 : 0;
	if (!(fn->flags & AVA_ABI_FN_MAY_ASYNC))
		plan->async = 0;
	for (unsigned i = 0; i < fn->n_args; i++)
		if (!(fn->args[i].flags & AVA_ABI_V_BLOBS) || call->sizing)
			plan->blobs_arg[i] = 0; /* a sizing call sends its buffer as it is */
	return 0;
}

/* With proxies, handles become ids; every handle must be one of ours. */
static int step_translate(struct ava_guestlib_call *call)
{
	const struct ava_abi_fn *fn = call->fn;
	if (call->api->proxy_dispatch && fn->n_args && ava_guestlib_proxy_to_ids(call) < 0)
		goto out;
	if (!ava_guestlib_proxy_handles_valid(fn, &call->plan, call->send_args, &call->bad))
		ava_guestlib_call_fail(call, AVA_STATUS_BAD_HANDLE);
out:
	if (call->status == AVA_STATUS_BAD_HANDLE && ava_guestlib_debug())
		ava_guestlib_say("%s: argument %d is not a live %s handle", fn->name, call->bad.arg,
				 call->api->abi->name);
	return call->status == AVA_STATUS_OK ? 0 : -1;
}

/* The CALL frame: its payload (marshal.c) and header. */
static int step_encode(struct ava_guestlib_call *call)
{
	const struct ava_abi_fn *fn = call->fn;
	const char *why = NULL;
	if (ava_guestlib_marshal_encode(call, &why) < 0) {
		ava_guestlib_say("%s: %s", fn->name, why);
		return ava_guestlib_call_fail(call, AVA_STATUS_INTERNAL);
	}
	if (call->b.len > AVA_WIRE_MAX_PAYLOAD_BYTES) {
		ava_guestlib_say("%s: arguments of %zu bytes exceed the %u-byte frame limit",
				 fn->name, call->b.len, AVA_WIRE_MAX_PAYLOAD_BYTES);
		return ava_guestlib_call_fail(call, AVA_STATUS_INTERNAL);
	}
	call->hdr = (struct ava_wire_header){
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_CALL,
		.len_bytes = (uint32_t)call->b.len,
		.call_id = call->fn_id,
		.seq = atomic_fetch_add(&call->c->next_seq, 1),
		.thread_id = ava_guestlib_thread_id(),
		.flags = (uint16_t)((call->plan.async ? AVA_WIRE_F_ASYNC : 0) |
				    (call->bulk ? AVA_WIRE_F_STREAM : 0)),
	};
	return 0;
}

static int send_call(struct ava_guestlib_call *call)
{
	struct conn *c = call->c;
	if (call->bulk)
		return ava_guestlib_conn_send_streamed(c, &call->hdr, call->b.data, call->b.len,
						       call->bulk, call->bulk_len);
	return ava_guestlib_conn_send(c, &call->hdr, call->b.data, call->b.len);
}

/* An asynchronous call: sent, and over (1) as far as the application is concerned. */
static int send_async(struct ava_guestlib_call *call)
{
	struct conn *c = call->c;
	int r = send_call(call);
	ava_wire_buf_fini(&call->b);
	if (r < 0) {
		ava_guestlib_conn_mark_dead(c, AVA_STATUS_SERVER_GONE,
					    "sending to the router failed");
		return ava_guestlib_call_fail(call, AVA_STATUS_SERVER_GONE);
	}
	call->left_guest = true;
	ava_guestlib_set_success(call->gf, call->ret);
	if (call->api->proxy_dispatch)
		ava_guestlib_proxy_count_call(c, call->fn, call->args);
	/*
	 * As before the pipeline existed, an asynchronous map or unmap (no spec
	 * has one) leaves its records alone: nothing says when the server is
	 * done with the memory.
	 */
	call->unmapping = call->mapping = NULL;
	return 1;
}

/*
 * A synchronous call: enters its waiter and its transfers (late.c), then
 * sends. A failure to send marks the connection dead, which wakes the waiter.
 */
static int step_send(struct ava_guestlib_call *call)
{
	struct conn *c = call->c;
	if (call->plan.async)
		return send_async(call);

	call->left_guest = true;
	call->w.seq = call->hdr.seq;
	call->w.done = false;
	call->w.payload = NULL;
	pthread_cond_init(&call->w.cond, NULL);
	call->w_init = true;
	pthread_mutex_lock(&c->lock);
	if (c->state != 1) {
		uint16_t status = c->dead_status;
		pthread_mutex_unlock(&c->lock);
		return ava_guestlib_call_fail(call, status);
	}
	call->w.next = c->waiters;
	c->waiters = &call->w;
	if (ava_guestlib_late_add_locked(call) < 0) {
		ava_guestlib_late_drop_locked(c, call->hdr.seq);
		c->waiters = call->w.next;
		pthread_mutex_unlock(&c->lock);
		ava_guestlib_say("%s: out of memory", call->fn->name);
		return ava_guestlib_call_fail(call, AVA_STATUS_NO_MEMORY);
	}
	pthread_mutex_unlock(&c->lock);

	if (send_call(call) < 0)
		ava_guestlib_conn_mark_dead(c, AVA_STATUS_SERVER_GONE,
					    "sending to the router failed");
	return 0;
}

/* Until the receiver thread hands over the REPLY (or the connection died). */
static int step_wait(struct ava_guestlib_call *call)
{
	struct conn *c = call->c;
	pthread_mutex_lock(&c->lock);
	while (!call->w.done)
		pthread_cond_wait(&call->w.cond, &c->lock);
	if (call->w.status != AVA_STATUS_OK) /* the call did not run: no DATA will come */
		ava_guestlib_late_drop_locked(c, call->hdr.seq);
	pthread_mutex_unlock(&c->lock);
	if (call->w.status == AVA_STATUS_OK)
		return 0;
	if (ava_guestlib_debug())
		ava_guestlib_say("%s failed remotely: %s", call->fn->name,
				 ava_wire_status_name(call->w.status));
	return ava_guestlib_call_fail(call, call->w.status);
}

/* The REPLY into the application's result and out buffers (marshal.c). */
static int step_apply(struct ava_guestlib_call *call)
{
	if (ava_guestlib_marshal_apply(call) < 0) {
		char msg[260];
		snprintf(msg, sizeof(msg), "bad reply to %s: %s", call->fn->name, call->err);
		ava_guestlib_conn_mark_dead(call->c, AVA_STATUS_MALFORMED, msg);
		return ava_guestlib_call_fail(call, AVA_STATUS_MALFORMED);
	}
	ava_guestlib_conn_deliver_deferred(call->c, call->gf, call->ret);
	return 1;
}

/* ---- the phases ---- */

int ava_guestlib_call_prepare(struct ava_guestlib_call *call)
{
	int r = step_connect(call);
	if (r == 0)
		r = step_plan(call);
	if (r == 0)
		r = step_translate(call);
	return r;
}

int ava_guestlib_call_exchange(struct ava_guestlib_call *call)
{
	int r = ava_guestlib_mapping_prepare(call);
	if (r == 0)
		r = ava_guestlib_rect_prepare(call);
	if (r == 0)
		r = step_encode(call);
	if (r == 0)
		r = step_send(call);
	if (r == 0)
		r = step_wait(call);
	if (r == 0)
		r = step_apply(call);
	return r;
}

void ava_guestlib_call_finish(struct ava_guestlib_call *call)
{
	if (call->status != AVA_STATUS_OK && !call->answered) {
		/* (bad.arg is -1 unless a step blamed an argument: then it is set_error) */
		if (call->status == AVA_STATUS_BAD_HANDLE)
			ava_guestlib_set_bad_handle(call->gf, call->args, call->ret, &call->bad);
		else
			ava_guestlib_set_error(call->gf, call->args, call->ret, call->status);
	}
	ava_guestlib_mapping_finish(call);
}

/* The application's scalar arguments, before the plan's overrides rewrite them. */
static void keep_app_args(struct ava_guestlib_call *call)
{
	const struct ava_abi_fn *fn = call->fn;
	for (unsigned i = 0; i < fn->n_args; i++) {
		call->app_args[i] = call->args[i];
		if (fn->args[i].kind == AVA_ABI_SCALAR &&
		    fn->args[i].size_bytes <= AVA_ABI_MAX_SCALAR_BYTES) {
			memcpy(call->app_slots[i].b, call->args[i], fn->args[i].size_bytes);
			call->app_args[i] = &call->app_slots[i];
		}
	}
}

void ava_guestlib_call(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
		       void *ret)
{
	const struct ava_guestlib_fn *gf = &api->fns[fn_id];
	const struct ava_abi_fn *fn = gf->abi;
	static _Atomic unsigned char unsupported_said[4096];
	struct ava_guestlib_call *call = NULL;

	if (fn->flags & AVA_ABI_FN_UNSUPPORTED) {
		if (fn_id >= sizeof(unsupported_said) ||
		    !atomic_exchange(&unsupported_said[fn_id], 1))
			ava_guestlib_say("%s is not supported by the %s spec; it returns the API's "
					 "\"unsupported\" error",
					 fn->name, api->abi->name);
		ava_guestlib_set_error(gf, args, ret, AVA_STATUS_UNSUPPORTED);
		return;
	}
	if (ava_guestlib_hooks_filter(api, fn_id, args, ret))
		return;
	call = ava_guestlib_call_new(api, fn_id, args, ret, false);
	if (!call) {
		ava_guestlib_set_error(gf, args, ret, AVA_STATUS_NO_MEMORY);
		return;
	}
	keep_app_args(call);

	int r = ava_guestlib_call_prepare(call);
	if (r == 0)
		r = ava_guestlib_blob_sizes(call);
	if (r == 0)
		r = ava_guestlib_call_exchange(call);
	ava_guestlib_call_finish(call);
	if (call->left_guest)
		ava_guestlib_hooks_observe(api, fn_id, call->app_args, ret);
	ava_guestlib_call_free(call);
}
