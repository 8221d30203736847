/* SPDX-License-Identifier: MIT */
/* Callbacks from the library, forwarded to the guest. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "callback.h"
#include "late.h"
#include "marshal.h"
#include "output.h"
#include "server.h"
#include "session.h"

#define MAX_CALLBACK_RECORDS_PER_SESSION 65536
#define CB_RECORD_MAGIC			 0x41564143u

/*
 * What the real library gets as user_data when a guest passes a callback:
 * enough to find the guest's function and user_data again. Records are never
 * freed while the process lives (the library may call back at any time); a
 * session reuses its record for the same (function, user_data) pair and has
 * a cap on how many it may create.
 */
struct cb_record {
	uint32_t magic;
	uint32_t session_id;
	uint32_t callback_id;
	uint64_t guest_fn;
	uint64_t guest_userdata;
	struct cb_record *next; /* in g_records */
};

/* All sessions' records, and each session's n_cb_records; a leaf lock (server.h). */
static struct {
	pthread_mutex_t lock;
	struct cb_record *head;
} g_records = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* A trampoline waiting for the guest to finish a callback (under ava_apiserver_server.lock). */
struct cb_waiter {
	struct cb_waiter *next;
	uint64_t seq;
	uint32_t session_id;
	bool done;
	uint16_t status;
	uint8_t *payload;
	uint32_t len;
	pthread_cond_t cond;
};

static struct cb_waiter *g_waiters; /* under ava_apiserver_server.lock */
static atomic_uint_fast64_t g_next_seq = 1;
static atomic_bool g_oversize_logged;

static struct cb_record *record_get(struct session *s, uint32_t cb_id, uint64_t fn,
				    uint64_t userdata)
{
	pthread_mutex_lock(&g_records.lock);
	struct cb_record *rec;
	for (rec = g_records.head; rec; rec = rec->next)
		if (rec->session_id == s->id && rec->callback_id == cb_id && rec->guest_fn == fn &&
		    rec->guest_userdata == userdata)
			break;
	if (!rec && s->n_cb_records < MAX_CALLBACK_RECORDS_PER_SESSION) {
		rec = calloc(1, sizeof(*rec));
		if (rec) {
			rec->magic = CB_RECORD_MAGIC;
			rec->session_id = s->id;
			rec->callback_id = cb_id;
			rec->guest_fn = fn;
			rec->guest_userdata = userdata;
			rec->next = g_records.head;
			g_records.head = rec;
			s->n_cb_records++;
		}
	}
	pthread_mutex_unlock(&g_records.lock);
	return rec;
}

uint16_t ava_apiserver_callback_prepare(struct ava_apiserver_call *c)
{
	const struct ava_abi_fn *fn = c->fn;
	int cb_arg = -1, ud_arg = -1;
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (fn->args[i].kind == AVA_ABI_CALLBACK)
			cb_arg = (int)i;
		else if (fn->args[i].kind == AVA_ABI_USERDATA)
			ud_arg = (int)i;
	}
	if (cb_arg < 0 || c->views[cb_arg].u64 == 0)
		return AVA_STATUS_OK;
	const struct ava_abi_value *v = &fn->args[cb_arg];
	uint64_t ud = ud_arg >= 0 ? c->views[ud_arg].u64 : 0;
	struct cb_record *rec = record_get(c->s, v->callback_id, c->views[cb_arg].u64, ud);
	if (!rec || ud_arg < 0)
		return rec ? AVA_STATUS_UNSUPPORTED : AVA_STATUS_NO_MEMORY;
	c->slots[cb_arg].p = (void *)ava_apiserver_server.api->callbacks[v->callback_id].trampoline;
	c->slots[ud_arg].p = rec;
	return AVA_STATUS_OK;
}

void ava_apiserver_callback_wake_locked(uint32_t session_id)
{
	for (struct cb_waiter **pp = &g_waiters; *pp;) {
		struct cb_waiter *w = *pp;
		if (session_id == 0 || w->session_id == session_id) {
			*pp = w->next;
			w->done = true;
			w->status = AVA_STATUS_SERVER_GONE;
			pthread_cond_signal(&w->cond);
		} else {
			pp = &w->next;
		}
	}
}

/*
 * One input buffer of a callback: u8 present, u64 count, count elements.
 * The count is the plan's; a NULL pointer, or a count over the
 * descriptor's maximum (the guest would refuse the frame), travels as NULL.
 */
static int put_cb_buffer(struct ava_wire_buf *b, const struct ava_abi_callback *cba,
			 const struct ava_abi_value *v, const void *data,
			 const struct ava_gen_plan *plan, unsigned i)
{
	uint64_t count = plan->count[i], n_bytes;
	int r;

	if (!data || v->dir != AVA_ABI_DIR_IN || v->elem != AVA_ABI_ELEM_BYTES)
		return ava_wire_put_u8(b, 0);
	if (count > v->max_count ||
	    __builtin_mul_overflow(count, (uint64_t)v->size_bytes, &n_bytes) ||
	    n_bytes > SIZE_MAX) {
		if (!atomic_exchange(&g_oversize_logged, true))
			ava_apiserver_log(
			    "callback %s: argument %u has %" PRIu64 " elements, over its "
			    "maximum of %" PRIu64 "; the guest gets NULL (logged once)",
			    cba->name, i, count, v->max_count);
		return ava_wire_put_u8(b, 0);
	}
	r = ava_wire_put_u8(b, 1);
	if (r == 0)
		r = ava_wire_put_u64(b, count);
	if (r == 0)
		r = ava_wire_put_bytes(b, data, (size_t)n_bytes);
	return r;
}

/* The CALLBACK frame's payload: the guest's function, then the arguments. */
static int encode_callback(const struct ava_apiserver_api *api, struct session *s,
			   const struct cb_record *rec, uint32_t cb_id, void *const *args,
			   struct ava_wire_buf *b)
{
	const struct ava_abi_callback *cba = api->callbacks[cb_id].abi;
	/* Counts of the callback's buffers, from its scalar arguments. */
	struct ava_gen_plan plan;
	memset(&plan, 0, sizeof(plan));
	if (api->callbacks[cb_id].plan)
		api->callbacks[cb_id].plan(args, &plan);

	int r = ava_wire_put_u64(b, rec->guest_fn);
	for (unsigned i = 0; i < cba->n_args && r == 0; i++) {
		const struct ava_abi_value *v = &cba->args[i];
		switch (v->kind) {
		case AVA_ABI_SCALAR:
			r = ava_wire_put_bytes(b, args[i], v->size_bytes);
			break;
		case AVA_ABI_HANDLE: {
			void *p = *(void *const *)args[i];
			r = ava_apiserver_marshal_to_id(s, v->handle_type, &p, false);
			if (r == 0)
				r = ava_wire_put_bytes(b, &p, 8);
			break;
		}
		case AVA_ABI_USERDATA:
			r = ava_wire_put_u64(b, rec->guest_userdata);
			break;
		case AVA_ABI_CALLBACK:
			r = ava_wire_put_u64(b, 0);
			break;
		case AVA_ABI_STRING: {
			const char *str = *(const char *const *)args[i];
			size_t n = str ? strnlen(str, v->max_count) + 1 : 0;
			if (n > v->max_count) /* too long: truncate to what the spec allows */
				n = v->max_count;
			r = ava_wire_put_u32(b, (uint32_t)n);
			if (r == 0 && n > 0)
				r = ava_wire_put_bytes(b, str, n - 1);
			if (r == 0 && n > 0)
				r = ava_wire_put_u8(b, 0);
			break;
		}
		case AVA_ABI_BUFFER:
			r = put_cb_buffer(b, cba, v, *(const void *const *)args[i], &plan, i);
			break;
		default:
			r = -EINVAL;
			break;
		}
	}
	return r;
}

/* Sends the CALLBACK and waits for its reply (or the session's end) in w. */
static void forward_and_wait(const struct cb_record *rec, uint32_t cb_id, struct cb_waiter *w,
			     const struct ava_wire_buf *b)
{
	struct ava_server *srv = &ava_apiserver_server;
	pthread_mutex_lock(&srv->lock);
	w->next = g_waiters;
	g_waiters = w;
	pthread_mutex_unlock(&srv->lock);
	ava_apiserver_output_flush();
	ava_apiserver_late_flush(rec->session_id); /* DATA the callback could observe first */
	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_CALLBACK,
		.len_bytes = (uint32_t)b->len,
		.call_id = cb_id,
		.seq = w->seq,
		.session = rec->session_id,
	};
	if (ava_transport_send_frame(srv->router, &hdr, b->data, b->len) < 0) {
		pthread_mutex_lock(&srv->lock);
		ava_apiserver_callback_wake_locked(rec->session_id);
		pthread_mutex_unlock(&srv->lock);
	}
	pthread_mutex_lock(&srv->lock);
	while (!w->done)
		pthread_cond_wait(&w->cond, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
}

/* The guest's result of a callback into ret (ret_bytes of it). */
static void take_result(const struct ava_apiserver_api *api, struct session *s,
			const struct ava_abi_callback *cba, const struct cb_waiter *w, void *ret,
			size_t ret_bytes)
{
	struct ava_abi_view rv;
	char err[160];
	if (ava_abi_check_result(api->abi, &cba->ret, w->payload, w->len, &rv, err, sizeof(err)) <
	    0) {
		ava_apiserver_log("session %u: bad result from callback %s: %s", s->id, cba->name,
				  err);
		return;
	}
	if (cba->ret.kind == AVA_ABI_SCALAR) {
		memcpy(ret, rv.data, ret_bytes);
	} else {
		void *p = NULL;
		(void)ava_apiserver_marshal_from_id(s, cba->ret.handle_type, &p, rv.u64);
		memcpy(ret, &p, sizeof(p));
	}
}

void ava_apiserver_callback(const struct ava_apiserver_api *api, uint32_t cb_id, void *const *args,
			    void *ret)
{
	struct ava_server *srv = &ava_apiserver_server;
	const struct ava_abi_callback *cba = api->callbacks[cb_id].abi;
	size_t ret_bytes = cba->ret.kind == AVA_ABI_SCALAR   ? cba->ret.size_bytes
			   : cba->ret.kind == AVA_ABI_HANDLE ? sizeof(void *)
							     : 0;
	if (ret && ret_bytes)
		memset(ret, 0, ret_bytes);

	const struct cb_record *rec = *(void *const *)args[cba->userdata_arg];
	if (!rec || rec->magic != CB_RECORD_MAGIC || rec->callback_id != cb_id)
		return;

	pthread_mutex_lock(&srv->lock);
	struct session *s = ava_apiserver_session_find_locked(rec->session_id);
	if (!s || s->closing || srv->router_gone) {
		pthread_mutex_unlock(&srv->lock);
		return; /* the guest is gone: the callback has nowhere to run */
	}
	s->refs++;
	pthread_mutex_unlock(&srv->lock);

	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	int r = encode_callback(api, s, rec, cb_id, args, &b);
	if (r < 0)
		ava_apiserver_log("session %u: callback %s not forwarded: %s", s->id, cba->name,
				  strerror(-r));

	struct cb_waiter w = { .seq = atomic_fetch_add(&g_next_seq, 1),
			       .session_id = rec->session_id };
	pthread_cond_init(&w.cond, NULL);
	if (r == 0) {
		forward_and_wait(rec, cb_id, &w, &b);
		if (w.status == AVA_STATUS_OK && ret && ret_bytes)
			take_result(api, s, cba, &w, ret, ret_bytes);
		free(w.payload);
	}
	pthread_cond_destroy(&w.cond);
	ava_wire_buf_fini(&b);
	ava_apiserver_session_unref(s);
}

void ava_apiserver_callback_complete(const struct ava_wire_header *hdr, uint8_t *payload)
{
	struct ava_server *srv = &ava_apiserver_server;
	pthread_mutex_lock(&srv->lock);
	struct cb_waiter **pp = &g_waiters;
	while (*pp && !((*pp)->seq == hdr->seq && (*pp)->session_id == hdr->session))
		pp = &(*pp)->next;
	struct cb_waiter *w = *pp;
	if (w) {
		*pp = w->next;
		w->done = true;
		w->status = AVA_STATUS_OK;
		w->payload = payload;
		w->len = hdr->len_bytes;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&srv->lock);
	if (!w) {
		ava_apiserver_log("session %u: answer to a callback nobody waits for",
				  hdr->session);
		free(payload);
	}
}
