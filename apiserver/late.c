/* SPDX-License-Identifier: MIT */
/*
 * Late buffers. Each pending one holds its own reference on its event.
 *
 * The guarantee: a DATA frame is on the wire before any later frame of the
 * session that could let the application see the completion. So every
 * REPLY and CALLBACK first runs ava_apiserver_late_flush(), which asks each
 * pending event's status (a completion notice alone could race the reply)
 * and sends the DATA of those complete, all under g_late.lock, so a flush in
 * another thread that took an entry has sent its DATA before this reply
 * goes. Events are released and buffers freed on the late thread, never
 * inside a library callback.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "hooks.h"
#include "late.h"
#include "server.h"
#include "session.h"

struct late {
	struct late *next;
	uint32_t session_id;
	uint32_t fn_id;
	uint64_t transfer_id; /* 0: an input kept alive, nothing to send */
	void *event;
	void *buf;
	size_t len_bytes;
	bool borrowed; /* buf is the library's (a mapping): not freed here */
	bool rect;     /* a rect mapping: buf laid out as shape, packed when sent */
	struct ava_gen_rect shape;
};

/* Pending entries; the lock is held while their DATA is sent (server.h's order). */
static struct {
	pthread_mutex_t lock;
	struct late *pending;
} g_late = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The late thread: woken by completions and flushes; a leaf lock. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct late *done; /* finished: release and free on the late thread */
	bool kicked, started;
} g_wake = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static const struct ava_apiserver_event_ops *events(void)
{
	return ava_apiserver_hooks_events(ava_apiserver_server.api);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * The DATA of a late out buffer: its bytes in pieces of at most
 * AVA_WIRE_CHUNK_MAX_BYTES, each frame the transfer id and the next piece
 * (one frame with just the id for 0 bytes), or (ok false) one frame with
 * just the id and a failure status. A failure is only ever sent before any
 * piece, so the guest's buffer is either filled or left as it was.
 */
void ava_apiserver_late_send_data(uint32_t session_id, uint32_t fn_id, uint64_t transfer_id,
				  bool ok, const void *buf, size_t len_bytes)
{
	ava_transport *router = ava_apiserver_server.router;
	size_t piece = len_bytes < AVA_WIRE_CHUNK_MAX_BYTES ? len_bytes : AVA_WIRE_CHUNK_MAX_BYTES;
	uint8_t id_only[8];
	uint8_t *frame = ok && len_bytes ? malloc(8 + piece) : id_only;
	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_DATA,
		.len_bytes = 8,
		.call_id = fn_id,
		.status = ok ? AVA_STATUS_OK : AVA_STATUS_INTERNAL,
		.session = session_id,
	};
	if (!frame) { /* no memory for the bytes: the transfer fails, the id still goes */
		frame = id_only;
		hdr.status = AVA_STATUS_NO_MEMORY;
	}
	put_le64(frame, transfer_id);
	if (frame == id_only) {
		if (ava_transport_send_frame(router, &hdr, frame, 8) < 0)
			ava_transport_shutdown(router);
		return;
	}
	for (size_t off = 0; off < len_bytes;) {
		size_t n = len_bytes - off < piece ? len_bytes - off : piece;
		memcpy(frame + 8, (const uint8_t *)buf + off, n);
		hdr.len_bytes = (uint32_t)(8 + n);
		if (ava_transport_send_frame(router, &hdr, frame, 8 + n) < 0) {
			ava_transport_shutdown(router);
			break;
		}
		off += n;
	}
	free(frame);
}

static void late_kick(void)
{
	pthread_mutex_lock(&g_wake.lock);
	g_wake.kicked = true;
	pthread_cond_signal(&g_wake.cond);
	pthread_mutex_unlock(&g_wake.lock);
}

/* Hands finished entries (a list) to the late thread. */
static void late_retire(struct late *done)
{
	pthread_mutex_lock(&g_wake.lock);
	while (done) {
		struct late *l = done;
		done = l->next;
		l->next = g_wake.done;
		g_wake.done = l;
	}
	g_wake.kicked = true;
	pthread_cond_signal(&g_wake.cond);
	pthread_mutex_unlock(&g_wake.lock);
}

void ava_apiserver_late_flush(uint32_t session_id)
{
	const struct ava_apiserver_event_ops *ops = events();
	struct late *done = NULL;
	if (!ops)
		return;
	pthread_mutex_lock(&g_late.lock);
	for (struct late **pp = &g_late.pending; *pp;) {
		struct late *l = *pp;
		int st;
		if ((session_id && l->session_id != session_id) ||
		    (st = ops->status(l->event)) == 0) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		if (l->transfer_id && l->rect && st > 0) {
			void *packed = malloc(l->len_bytes ? l->len_bytes : 1);
			if (packed)
				ava_gen_rect_pack(&l->shape, l->buf, packed);
			ava_apiserver_late_send_data(l->session_id, l->fn_id, l->transfer_id,
						     packed != NULL, packed, l->len_bytes);
			free(packed);
		} else if (l->transfer_id) {
			ava_apiserver_late_send_data(l->session_id, l->fn_id, l->transfer_id,
						     st > 0, l->buf, l->len_bytes);
		}
		l->next = done;
		done = l;
	}
	pthread_mutex_unlock(&g_late.lock);
	if (done)
		late_retire(done);
}

static void *late_thread_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&g_wake.lock);
		while (!g_wake.kicked)
			pthread_cond_wait(&g_wake.cond, &g_wake.lock);
		g_wake.kicked = false;
		pthread_mutex_unlock(&g_wake.lock);

		ava_apiserver_late_flush(0);

		pthread_mutex_lock(&g_wake.lock);
		struct late *done = g_wake.done;
		g_wake.done = NULL;
		pthread_mutex_unlock(&g_wake.lock);
		while (done) {
			struct late *l = done;
			done = l->next;
			events()->release(l->event);
			if (!l->borrowed)
				free(l->buf);
			free(l);
		}
	}
	return NULL;
}

/* Starts the late thread on first use. Returns 0 or -EAGAIN. */
static int late_thread_start(void)
{
	int r = 0;
	pthread_mutex_lock(&g_wake.lock);
	if (!g_wake.started) {
		pthread_t t;
		if (pthread_create(&t, NULL, late_thread_main, NULL) != 0) {
			r = -EAGAIN;
		} else {
			pthread_detach(t);
			g_wake.started = true;
		}
	}
	pthread_mutex_unlock(&g_wake.lock);
	return r;
}

/* Puts entries (a list, each with its event reference) on the pending list. */
static void late_publish(struct late *added, void *event)
{
	pthread_mutex_lock(&g_late.lock);
	while (added) {
		struct late *n = added->next;
		added->next = g_late.pending;
		g_late.pending = added;
		added = n;
	}
	pthread_mutex_unlock(&g_late.lock);
	if (events()->on_complete(event, late_kick) < 0)
		late_kick(); /* no notice: the next flush still finds it */
}

/* Takes the late buffers of a call that succeeded; each waits for event. Returns 0 or < 0. */
static int late_add(struct ava_apiserver_call *c, void *event)
{
	const struct ava_apiserver_event_ops *ops = events();
	const struct ava_abi_fn *fn = c->fn;
	int r = late_thread_start();
	if (r < 0)
		return r;

	struct late *added = NULL;
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (!c->late.bufs[i])
			continue;
		struct late *l = calloc(1, sizeof(*l));
		if (!l) {
			while (added) { /* nothing handed over yet: the caller frees the buffers */
				struct late *n = added->next;
				ops->release(added->event);
				free(added);
				added = n;
			}
			return -ENOMEM;
		}
		l->session_id = c->s->id;
		l->fn_id = fn->id;
		l->transfer_id = v->dir == AVA_ABI_DIR_OUT ? c->views[i].u64 : 0;
		l->event = event;
		l->buf = c->late.bufs[i];
		l->len_bytes = (size_t)c->views[i].count * v->size_bytes;
		ops->retain(event);
		l->next = added;
		added = l;
	}
	for (unsigned i = 0; i < fn->n_args; i++)
		c->late.bufs[i] = NULL; /* handed over */
	late_publish(added, event);
	return 0;
}

int ava_apiserver_late_add_mapped(uint32_t session_id, uint32_t fn_id, uint64_t transfer_id,
				  void *ptr, size_t len_bytes, const struct ava_gen_rect *rect,
				  void *event)
{
	struct late *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	int r = late_thread_start();
	if (r < 0) {
		free(l);
		return r;
	}
	l->session_id = session_id;
	l->fn_id = fn_id;
	l->transfer_id = transfer_id;
	l->event = event;
	l->buf = ptr;
	l->len_bytes = len_bytes;
	l->borrowed = true;
	if (rect) {
		l->rect = true;
		l->shape = *rect;
	}
	events()->retain(event);
	late_publish(l, event);
	return 0;
}

void ava_apiserver_late_cancel_mapped(uint32_t session_id, uint64_t transfer_id)
{
	struct late *found = NULL;
	pthread_mutex_lock(&g_late.lock);
	for (struct late **pp = &g_late.pending; *pp; pp = &(*pp)->next) {
		struct late *l = *pp;
		if (l->session_id == session_id && l->transfer_id == transfer_id && l->borrowed) {
			*pp = l->next;
			ava_apiserver_late_send_data(l->session_id, l->fn_id, l->transfer_id, false,
						     NULL, 0);
			found = l;
			break;
		}
	}
	pthread_mutex_unlock(&g_late.lock);
	if (found) {
		found->next = NULL;
		late_retire(found);
	}
}

uint16_t ava_apiserver_late_prepare(struct ava_apiserver_call *c)
{
	const struct ava_abi_fn *fn = c->fn;
	struct ava_apiserver_late_call *lc = &c->late;
	lc->event_arg = -1;
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (fn->args[i].flags & AVA_ABI_V_EVENT)
			lc->event_arg = (int)i;
		if ((fn->args[i].flags & AVA_ABI_V_LATE) && c->views[i].present)
			lc->on = true;
	}
	if (c->map.read)
		lc->on = true; /* its bytes follow the event like a late read's */
	if (!lc->on)
		return AVA_STATUS_OK;
	if (!events() || lc->event_arg < 0) {
		ava_apiserver_log("session %u: %s: late buffers need the API's event operations",
				  c->s->id, fn->name);
		return AVA_STATUS_UNSUPPORTED;
	}
	const struct ava_abi_view *ev = &c->views[lc->event_arg];
	if (!ev->present || ev->count == 0)
		c->slots[lc->event_arg].p = &lc->event; /* the server's own event, released later */
	return AVA_STATUS_OK;
}

void ava_apiserver_late_finish(struct ava_apiserver_call *c)
{
	const struct ava_abi_fn *fn = c->fn;
	struct ava_apiserver_late_call *lc = &c->late;
	if (!lc->on)
		return;
	void *ev = *(void **)c->slots[lc->event_arg].p;
	bool kept = c->success && ev && late_add(c, ev) == 0;
	if (c->map.read)
		ava_apiserver_mapping_read_late(c, ev);
	if (lc->event)
		events()->release(lc->event);
	for (unsigned i = 0; !kept && i < fn->n_args; i++) {
		/* nothing will complete: the guest learns now, before the reply */
		if (lc->bufs[i] && fn->args[i].dir == AVA_ABI_DIR_OUT)
			ava_apiserver_late_send_data(c->s->id, fn->id, c->views[i].u64, false, NULL,
						     0);
	}
}
