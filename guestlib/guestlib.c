/* SPDX-License-Identifier: MIT */
/*
 * The guest runtime: marshals calls described by generated descriptors, sends
 * them to the router and waits for replies; runs callbacks the server forwards.
 *
 * One connection (session) per API per process, opened on the first call.
 * A receiver thread reads every frame from the router: replies are handed to
 * the thread that waits for them (matched by seq), callbacks are queued to a
 * callback thread. So a thread blocked in a long call never stalls the others,
 * and a callback may itself call into the API.
 *
 * Nothing from the router is trusted: every reply is checked against the ABI
 * description before a byte is copied into application memory. A broken
 * channel turns every later call into the spec's native failure value.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ava/guestlib.h>
#include <ava/transport.h>

#define AVA_GUESTLIB_MAX_APIS	      8
#define AVA_GUESTLIB_MAX_CALLBACK_FNS 4096

/* One thread's pending synchronous call. Lives on that thread's stack. */
struct waiter {
	struct waiter *next;
	uint64_t seq;
	bool done;
	uint16_t status;
	uint16_t flags;
	uint8_t *payload; /* owned once done */
	uint32_t len;
	pthread_cond_t cond;
};

struct cb_item {
	struct cb_item *next;
	struct ava_wire_header hdr;
	uint8_t *payload;
};

struct conn {
	const struct ava_guestlib_api *api;
	pthread_mutex_t lock;
	int state; /* 0 new, 1 up, -1 dead */
	uint16_t dead_status;
	bool dead_reported;
	ava_transport *t;
	pthread_t rx_thread;
	struct waiter *waiters;
	atomic_uint_fast64_t next_seq;

	/* Function pointers handed to the server as callback tokens (index + 1). */
	void *cb_fns[AVA_GUESTLIB_MAX_CALLBACK_FNS];
	uint32_t n_cb_fns;

	/* Callbacks waiting for the callback thread. */
	struct cb_item *cb_head, *cb_tail;
	pthread_cond_t cb_cond;
	bool cb_thread_started;
	pthread_t cb_thread;

	/* An asynchronous failure not yet reported (see deliver_deferred). */
	bool deferred_pending;
	uint32_t deferred_fn;
	uint8_t deferred_value[AVA_ABI_MAX_SCALAR_BYTES];
};

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns[AVA_GUESTLIB_MAX_APIS];
static unsigned n_conns;
static atomic_uint next_thread_id = 1;
static _Thread_local uint32_t tls_thread_id;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static bool debug_enabled(void)
{
	const char *v = getenv("AVA_DEBUG");
	return v && *v && strcmp(v, "0") != 0;
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ava: %s\n", line);
}

static uint32_t thread_id(void)
{
	if (tls_thread_id == 0)
		tls_thread_id = atomic_fetch_add(&next_thread_id, 1);
	return tls_thread_id;
}

static size_t value_size(const struct ava_abi_value *v)
{
	switch (v->kind) {
	case AVA_ABI_SCALAR:
		return v->size_bytes;
	case AVA_ABI_HANDLE:
	case AVA_ABI_CALLBACK:
	case AVA_ABI_USERDATA:
	case AVA_ABI_STRING:
	case AVA_ABI_BUFFER:
		return sizeof(void *);
	default:
		return 0;
	}
}

/* Writes the native value for a failed call into ret and the errcode argument. */
static void set_error(const struct ava_guestlib_fn *gf, void *const *args, void *ret,
		      unsigned status)
{
	const struct ava_gen_fn_errors *e = &gf->errors;
	if (status >= AVA_STATUS_COUNT)
		status = AVA_STATUS_INTERNAL;
	if (ret) {
		size_t n = value_size(&gf->abi->ret);
		if (e->ret && e->ret->on_status[status] && e->ret->size_bytes == n)
			memcpy(ret, e->ret->on_status[status], n);
		else
			memset(ret, 0, n);
	}
	if (e->errcode_arg >= 0 && e->errcode && e->errcode->on_status[status] && args) {
		void *p = *(void *const *)args[e->errcode_arg];
		if (p)
			memcpy(p, e->errcode->on_status[status], e->errcode->size_bytes);
	}
}

static void set_success(const struct ava_guestlib_fn *gf, void *ret)
{
	if (!ret)
		return;
	size_t n = value_size(&gf->abi->ret);
	if (gf->errors.ret && gf->errors.ret->success && gf->errors.ret->size_bytes == n)
		memcpy(ret, gf->errors.ret->success, n);
	else
		memset(ret, 0, n);
}

/* Marks the connection dead and wakes every waiter. Caller holds c->lock. */
static void mark_dead_locked(struct conn *c, uint16_t status)
{
	if (c->state == -1)
		return;
	c->state = -1;
	c->dead_status = status;
	for (struct waiter *w = c->waiters; w; w = w->next) {
		w->done = true;
		w->status = status;
		pthread_cond_signal(&w->cond);
	}
	c->waiters = NULL;
	pthread_cond_broadcast(&c->cb_cond);
	if (c->t)
		ava_transport_shutdown(c->t);
}

static void mark_dead(struct conn *c, uint16_t status, const char *why)
{
	pthread_mutex_lock(&c->lock);
	bool report = !c->dead_reported && c->state != -1;
	c->dead_reported = true;
	mark_dead_locked(c, status);
	pthread_mutex_unlock(&c->lock);
	if (report)
		say("%s session ended (%s): %s; further calls fail", c->api->abi->name,
		    ava_wire_status_name(status), why);
}

static void *cb_thread_main(void *arg);

/* Queues a callback frame for the callback thread, starting it on first use. */
static int queue_callback(struct conn *c, const struct ava_wire_header *hdr, uint8_t *payload)
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

static void *rx_thread_main(void *arg)
{
	struct conn *c = arg;
	for (;;) {
		struct ava_wire_header hdr;
		uint8_t *payload = NULL;
		const char *reason = NULL;
		int r = ava_transport_recv_frame(c->t, AVA_WIRE_MAX_PAYLOAD_BYTES, &hdr, &payload,
						 &reason);
		if (r == -EPIPE) {
			mark_dead(c, AVA_STATUS_SERVER_GONE, "the router closed the connection");
			return NULL;
		}
		if (r < 0) {
			char why[160];
			snprintf(why, sizeof(why), "bad frame from the router: %s",
				 reason ? reason : strerror(-r));
			mark_dead(c, AVA_STATUS_MALFORMED, why);
			return NULL;
		}
		if (hdr.session != 0) {
			free(payload);
			mark_dead(c, AVA_STATUS_MALFORMED, "router sent a nonzero session field");
			return NULL;
		}
		if (hdr.kind == AVA_WIRE_REPLY) {
			pthread_mutex_lock(&c->lock);
			struct waiter **pp = &c->waiters;
			while (*pp && (*pp)->seq != hdr.seq)
				pp = &(*pp)->next;
			struct waiter *w = *pp;
			if (w) {
				*pp = w->next;
				w->done = true;
				w->status = hdr.status;
				w->flags = hdr.flags;
				w->payload = payload;
				w->len = hdr.len_bytes;
				pthread_cond_signal(&w->cond);
			}
			pthread_mutex_unlock(&c->lock);
			if (!w) {
				free(payload);
				mark_dead(c, AVA_STATUS_MALFORMED,
					  "reply for a call that is not outstanding");
				return NULL;
			}
		} else if (hdr.kind == AVA_WIRE_CALLBACK) {
			if (hdr.call_id >= c->api->abi->n_callbacks ||
			    queue_callback(c, &hdr, payload) < 0) {
				free(payload);
				mark_dead(c, AVA_STATUS_MALFORMED, "unusable callback frame");
				return NULL;
			}
		} else if (hdr.kind == AVA_WIRE_BYE) {
			char why[256];
			size_t n =
			    hdr.len_bytes < sizeof(why) - 1 ? hdr.len_bytes : sizeof(why) - 1;
			for (size_t i = 0; i < n; i++) /* keep the message printable */
				why[i] = (payload[i] >= 0x20 && payload[i] < 0x7f)
					     ? (char)payload[i]
					     : '?';
			why[n] = '\0';
			free(payload);
			uint16_t st =
			    hdr.status != AVA_STATUS_OK ? hdr.status : AVA_STATUS_SERVER_GONE;
			mark_dead(c, st, n ? why : "no reason given");
			return NULL;
		} else {
			free(payload);
			mark_dead(c, AVA_STATUS_MALFORMED, "unexpected frame kind from the router");
			return NULL;
		}
	}
}

/* Runs one forwarded callback and answers it. */
static void run_callback(struct conn *c, struct cb_item *it)
{
	const struct ava_abi_api *abi = c->api->abi;
	const struct ava_guestlib_callback *cb = &c->api->callbacks[it->hdr.call_id];
	const struct ava_abi_callback *cba = cb->abi;
	struct ava_abi_view views[AVA_ABI_MAX_ARGS];
	char err[160];
	union slot {
		uint8_t b[AVA_ABI_MAX_SCALAR_BYTES];
		void *p;
		long double ld;
	} slots[AVA_ABI_MAX_ARGS], retslot;
	void *argv[AVA_ABI_MAX_ARGS];
	void *owned[AVA_ABI_MAX_ARGS];
	unsigned n_owned = 0;

	if (ava_abi_check_args(abi, cba->n_args, cba->args, 1, it->payload, it->hdr.len_bytes,
			       views, err, sizeof(err)) < 0) {
		char why[220];
		snprintf(why, sizeof(why), "bad callback %s: %s", cba->name, err);
		mark_dead(c, AVA_STATUS_MALFORMED, why);
		return;
	}
	/* The validated payload starts with the u64 function token. */
	uint64_t token = 0;
	struct ava_wire_cursor cur = { it->payload, it->payload + it->hdr.len_bytes };
	if (ava_wire_get_u64(&cur, &token) < 0)
		token = 0;

	pthread_mutex_lock(&c->lock);
	void *fn = (token >= 1 && token <= c->n_cb_fns) ? c->cb_fns[token - 1] : NULL;
	pthread_mutex_unlock(&c->lock);
	if (!fn) {
		mark_dead(c, AVA_STATUS_MALFORMED, "callback token names no registered function");
		return;
	}

	memset(slots, 0, sizeof(slots));
	memset(&retslot, 0, sizeof(retslot));
	for (unsigned i = 0; i < cba->n_args; i++) {
		const struct ava_abi_value *v = &cba->args[i];
		argv[i] = &slots[i];
		switch (v->kind) {
		case AVA_ABI_SCALAR:
			memcpy(slots[i].b, views[i].data, v->size_bytes);
			break;
		case AVA_ABI_HANDLE:
		case AVA_ABI_USERDATA:
		case AVA_ABI_CALLBACK:
			slots[i].p = (void *)(uintptr_t)views[i].u64;
			break;
		case AVA_ABI_STRING:
			slots[i].p = views[i].present ? (void *)views[i].data : NULL;
			break;
		case AVA_ABI_BUFFER:
			if (views[i].present) {
				/*
				 * Copy out of the payload so elements are aligned; an
				 * empty buffer is still a pointer, as it was natively.
				 */
				size_t n = (size_t)views[i].count * v->size_bytes;
				void *p = malloc(n ? n : 1);
				if (!p)
					goto out;
				if (n)
					memcpy(p, views[i].data, n);
				owned[n_owned++] = p;
				slots[i].p = p;
			}
			break;
		default:
			break;
		}
	}
	cb->invoke(fn, argv, cba->ret.kind == AVA_ABI_VOID ? NULL : &retslot);

	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	int r = 0;
	if (cba->ret.kind == AVA_ABI_SCALAR)
		r = ava_wire_put_bytes(&b, retslot.b, cba->ret.size_bytes);
	else if (cba->ret.kind == AVA_ABI_HANDLE)
		r = ava_wire_put_u64(&b, (uint64_t)(uintptr_t)retslot.p);
	if (r == 0) {
		struct ava_wire_header hdr = {
			.magic = AVA_WIRE_MAGIC,
			.version = AVA_WIRE_VERSION,
			.kind = AVA_WIRE_CALLBACK_REPLY,
			.len_bytes = (uint32_t)b.len,
			.call_id = it->hdr.call_id,
			.seq = it->hdr.seq,
		};
		if (ava_transport_send_frame(c->t, &hdr, b.data, b.len) < 0)
			mark_dead(c, AVA_STATUS_SERVER_GONE, "could not answer a callback");
	}
	ava_wire_buf_fini(&b);
out:
	for (unsigned i = 0; i < n_owned; i++)
		free(owned[i]);
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

static int hello(struct conn *c)
{
	const char *name = c->api->abi->name;
	size_t n = strlen(name);
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	int r = ava_wire_put_u32(&b, (uint32_t)n);
	if (r == 0)
		r = ava_wire_put_bytes(&b, name, n);
	if (r == 0)
		r = ava_wire_put_u64(&b, c->api->abi->hash);
	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_HELLO,
		.len_bytes = (uint32_t)b.len,
	};
	if (r == 0)
		r = ava_transport_send_frame(c->t, &hdr, b.data, b.len);
	ava_wire_buf_fini(&b);
	if (r < 0)
		return AVA_STATUS_SERVER_GONE;

	uint8_t *payload = NULL;
	const char *reason = NULL;
	r = ava_transport_recv_frame(c->t, 4096, &hdr, &payload, &reason);
	if (r < 0)
		return AVA_STATUS_SERVER_GONE;
	int status = hdr.status;
	if (hdr.kind == AVA_WIRE_BYE && status == AVA_STATUS_OK)
		status = AVA_STATUS_SERVER_GONE;
	else if (hdr.kind != AVA_WIRE_HELLO_REPLY && hdr.kind != AVA_WIRE_BYE)
		status = AVA_STATUS_MALFORMED;
	free(payload);
	return status;
}

static void atfork_child(void)
{
	/*
	 * The child has the parent's socket but none of its threads: give it a
	 * fresh, unconnected state. Its first call opens its own session (the
	 * parent's handles mean nothing there).
	 */
	for (unsigned i = 0; i < n_conns; i++) {
		struct conn *c = conns[i];
		if (c->t)
			ava_transport_free(c->t); /* closes only the child's copy */
		c->t = NULL;
		pthread_mutex_init(&c->lock, NULL);
		pthread_cond_init(&c->cb_cond, NULL);
		c->state = 0;
		c->dead_reported = false;
		c->waiters = NULL;
		c->cb_head = c->cb_tail = NULL;
		c->cb_thread_started = false;
		c->deferred_pending = false;
	}
	pthread_mutex_init(&conns_lock, NULL);
}

static void install_atfork(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

/* Returns the connection for api, connecting on first use; NULL with *ret_status if down. */
static struct conn *get_conn(const struct ava_guestlib_api *api, uint16_t *ret_status)
{
	pthread_once(&atfork_once, install_atfork);
	pthread_mutex_lock(&conns_lock);
	struct conn *c = NULL;
	for (unsigned i = 0; i < n_conns; i++)
		if (conns[i]->api == api)
			c = conns[i];
	if (!c && n_conns < AVA_GUESTLIB_MAX_APIS) {
		c = calloc(1, sizeof(*c));
		if (c) {
			c->api = api;
			pthread_mutex_init(&c->lock, NULL);
			pthread_cond_init(&c->cb_cond, NULL);
			atomic_init(&c->next_seq, 1);
			conns[n_conns++] = c;
		}
	}
	if (!c) {
		pthread_mutex_unlock(&conns_lock);
		*ret_status = AVA_STATUS_NO_MEMORY;
		return NULL;
	}
	if (c->state == 0) {
		const char *path = getenv("AVA_ROUTER_SOCKET");
		if (!path || !*path)
			path = AVA_GUESTLIB_DEFAULT_SOCKET;
		int r = ava_transport_unix_connect(path, &c->t);
		int st = AVA_STATUS_SERVER_GONE;
		if (r < 0) {
			say("cannot reach the AvA router at %s (%s); every %s call will fail "
			    "(run the program under ava-run, or set AVA_ROUTER_SOCKET)",
			    path, strerror(-r), api->abi->name);
			c->t = NULL;
		} else {
			st = hello(c);
			if (st == AVA_STATUS_OK &&
			    pthread_create(&c->rx_thread, NULL, rx_thread_main, c) == 0) {
				pthread_detach(c->rx_thread);
				c->state = 1;
			} else if (st == AVA_STATUS_UNKNOWN_API) {
				say("the router at %s does not serve the %s API", path,
				    api->abi->name);
			} else if (st == AVA_STATUS_ABI_MISMATCH) {
				say("this %s guest library and the router's manifest differ "
				    "(rebuild or reinstall one of them)",
				    api->abi->name);
			} else {
				say("the router at %s refused the %s session (%s)", path,
				    api->abi->name,
				    ava_wire_status_name(st == AVA_STATUS_OK ? AVA_STATUS_INTERNAL
									     : (unsigned)st));
			}
		}
		if (c->state != 1) {
			c->state = -1;
			c->dead_reported = true;
			c->dead_status = st == AVA_STATUS_OK ? AVA_STATUS_INTERNAL : (uint16_t)st;
		}
	}
	pthread_mutex_unlock(&conns_lock);
	if (c->state != 1) {
		*ret_status = c->dead_status;
		return NULL;
	}
	return c;
}

/* Returns the token for a callback function pointer, registering it. 0 for NULL. */
static int callback_token(struct conn *c, void *fn, uint64_t *ret_token)
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

static bool handle_ok(uint64_t id, uint16_t type)
{
	return id == 0 || AVA_HANDLE_TYPE_OF(id) == type;
}

/*
 * A value that is not one of our handle ids (a stray or garbage pointer) is
 * the application's mistake: answer it here with the spec's invalid-handle
 * error, as a careful native library would. Sending it would be a protocol
 * violation that ends the whole session.
 */
static bool handles_valid(const struct ava_abi_fn *fn, const struct ava_gen_plan *plan,
			  void *const *args)
{
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind == AVA_ABI_HANDLE) {
			if (!handle_ok((uint64_t)(uintptr_t) * (void *const *)args[i],
				       v->handle_type))
				return false;
			continue;
		}
		if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_IN) ||
		    (v->elem != AVA_ABI_ELEM_HANDLE && v->elem != AVA_ABI_ELEM_STRUCT))
			continue;
		const uint8_t *p = *(void *const *)args[i];
		if (!p || plan->count[i] > v->max_count)
			continue; /* encode_args reports the size problem */
		for (uint64_t k = 0; k < plan->count[i]; k++) {
			const uint8_t *el = p + (size_t)k * v->size_bytes;
			uint64_t id;
			if (v->elem == AVA_ABI_ELEM_HANDLE) {
				memcpy(&id, el, 8);
				if (!handle_ok(id, v->handle_type))
					return false;
			}
			for (unsigned f = 0; v->elem == AVA_ABI_ELEM_STRUCT && f < v->n_fields;
			     f++) {
				memcpy(&id, el + v->fields[f].offset_bytes, 8);
				if (!handle_ok(id, v->fields[f].handle_type))
					return false;
			}
		}
	}
	return true;
}

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

/* Encodes the arguments of a call into b and records what was sent in views. */
static int encode_args(struct conn *c, const struct ava_guestlib_fn *gf,
		       const struct ava_gen_plan *plan, void *const *args,
		       uint64_t *const *blob_caps, struct ava_wire_buf *b,
		       struct ava_abi_view *views, const char **ret_why)
{
	const struct ava_abi_fn *fn = gf->abi;
	int r = 0;
	for (unsigned i = 0; i < fn->n_args && r == 0; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		struct ava_abi_view *vw = &views[i];
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
			r = callback_token(c, *(void *const *)args[i], &token);
			if (r < 0)
				*ret_why = "too many distinct callback functions";
			else
				r = ava_wire_put_u64(b, token);
			break;
		}
		case AVA_ABI_STRING: {
			const char *s = *(const char *const *)args[i];
			if (!s) {
				vw->present = 0;
				r = ava_wire_put_u32(b, 0);
				break;
			}
			size_t n = strlen(s) + 1;
			if (n > v->max_count || n > UINT32_MAX) {
				*ret_why = "a string argument is longer than the spec allows";
				return -EMSGSIZE;
			}
			vw->count = n;
			r = ava_wire_put_u32(b, (uint32_t)n);
			if (r == 0)
				r = ava_wire_put_bytes(b, s, n);
			break;
		}
		case AVA_ABI_BUFFER: {
			const void *p = *(void *const *)args[i];
			if (!p) {
				vw->present = 0;
				r = ava_wire_put_u8(b, 0);
				break;
			}
			uint64_t count = plan->count[i];
			size_t bytes;
			if (count > v->max_count ||
			    __builtin_mul_overflow((size_t)count, (size_t)v->size_bytes, &bytes)) {
				*ret_why = "a buffer argument is larger than the spec allows";
				return -EMSGSIZE;
			}
			vw->count = count;
			r = ava_wire_put_u8(b, 1);
			if (r == 0)
				r = ava_wire_put_u64(b, count);
			if (r == 0 && v->elem == AVA_ABI_ELEM_STRING) {
				r = encode_strings(b, p, count, plan->str_lengths[i], ret_why);
				break;
			}
			if (r == 0 && (v->flags & AVA_ABI_V_BLOBS)) {
				vw->u64 = plan->blobs_arg[i] ? 1 : 0;
				r = ava_wire_put_u8(b, (uint8_t)vw->u64);
				for (uint64_t k = 0; vw->u64 && k < bytes / 8 && r == 0; k++)
					r = ava_wire_put_u64(b, blob_caps[i] ? blob_caps[i][k] : 0);
				break;
			}
			/*
			 * Handles are pointer-sized ids in guest memory, so arrays
			 * of handles and structs with handle fields go as they are.
			 */
			if (r == 0 && (v->dir & AVA_ABI_DIR_IN))
				r = ava_wire_put_bytes(b, p, bytes);
			break;
		}
		default:
			*ret_why = "unknown value kind in the descriptor";
			return -EINVAL;
		}
	}
	if (r < 0 && !*ret_why)
		*ret_why = "out of memory";
	return r;
}

/*
 * An asynchronous call failed earlier. Report it through this call, which
 * succeeded, if it speaks the same native error type; otherwise keep it for a
 * later call that does. Never drop it.
 */
static void deliver_deferred(struct conn *c, const struct ava_guestlib_fn *gf, void *ret)
{
	pthread_mutex_lock(&c->lock);
	if (c->deferred_pending && ret && gf->errors.ret) {
		const struct ava_guestlib_fn *failed = &c->api->fns[c->deferred_fn];
		const struct ava_gen_errors *e = gf->errors.ret;
		bool ok_now = e->success && memcmp(ret, e->success, e->size_bytes) == 0;
		if (failed->errors.ret == e && ok_now) {
			memcpy(ret, c->deferred_value, e->size_bytes);
			c->deferred_pending = false;
			if (debug_enabled())
				say("%s reports the failure of an earlier asynchronous %s",
				    gf->abi->name, failed->abi->name);
		}
	}
	pthread_mutex_unlock(&c->lock);
}

static void remember_deferred(struct conn *c, uint32_t fn_id, const struct ava_abi_view *v)
{
	const struct ava_abi_fn *fn = &c->api->abi->fns[fn_id];
	if (fn->ret.kind != AVA_ABI_SCALAR || !v->data)
		return;
	pthread_mutex_lock(&c->lock);
	if (!c->deferred_pending) {
		c->deferred_pending = true;
		c->deferred_fn = fn_id;
		memcpy(c->deferred_value, v->data, fn->ret.size_bytes);
	}
	pthread_mutex_unlock(&c->lock);
}

/* Copies a validated reply into the caller's result and out-buffers. */
static int apply_reply(struct conn *c, const struct ava_guestlib_fn *gf, void *const *args,
		       void *ret, const struct ava_abi_view *call_views, uint64_t *const *blob_caps,
		       uint16_t flags, const uint8_t *payload, uint32_t len, char *err,
		       size_t errlen)
{
	const struct ava_abi_fn *fn = gf->abi;
	struct ava_abi_view rv[1 + AVA_ABI_MAX_ARGS];
	struct ava_abi_view deferred;
	uint32_t deferred_fn = 0;
	int r = ava_abi_check_reply(c->api->abi, fn, call_views, flags, payload, len, rv,
				    &deferred_fn, &deferred, err, errlen);
	if (r < 0)
		return r;
	if (ret) {
		if (fn->ret.kind == AVA_ABI_SCALAR)
			memcpy(ret, rv[0].data, fn->ret.size_bytes);
		else if (fn->ret.kind == AVA_ABI_HANDLE)
			*(void **)ret = (void *)(uintptr_t)rv[0].u64;
	}
	for (unsigned i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_OUT) ||
		    !call_views[i].present)
			continue;
		void *dst = *(void *const *)args[i];
		if ((v->flags & AVA_ABI_V_BLOBS) && call_views[i].u64 == 1) {
			/* Checked by ava_abi_check_reply: u64 n and n bytes per pointer. */
			const uint8_t *q = rv[1 + i].data;
			uint64_t n_ptrs = (uint64_t)rv[1 + i].count * v->size_bytes / 8;
			for (uint64_t k = 0; k < n_ptrs; k++) {
				uint64_t n;
				memcpy(&n, q, 8);
				q += 8;
				uint64_t cap = blob_caps[i] ? blob_caps[i][k] : 0;
				if (n > cap) {
					snprintf(
					    err, errlen,
					    "argument %u: blob %llu of %llu bytes, %llu asked for",
					    i, (unsigned long long)k, (unsigned long long)n,
					    (unsigned long long)cap);
					return -EPROTO;
				}
				void *blob = ((void *const *)dst)[k];
				if (n && blob)
					memcpy(blob, q, (size_t)n);
				q += n;
			}
			continue;
		}
		if (rv[1 + i].count) /* a zero-element buffer sends no data pointer */
			memcpy(dst, rv[1 + i].data, (size_t)rv[1 + i].count * v->size_bytes);
	}
	if (flags & AVA_WIRE_F_DEFERRED_ERROR)
		remember_deferred(c, deferred_fn, &deferred);
	return 0;
}

/* Set while a thread makes a blobs sizing call: that call sends its buffer as it is. */
static _Thread_local bool in_sizing_call;

/*
 * Argument i is, this time, an array of pointers to the caller's byte
 * buffers (ava_blobs_sized_by): learns each buffer's size with the same call
 * and the spec's sizing argument, into *ret_caps (0 for a NULL pointer).
 * Returns 0, or -1 when the sizing call failed: its error is already in ret
 * and errcode, as the real call would have answered it.
 */
static int blob_capacities(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
			   void *ret, const struct ava_gen_plan *plan, unsigned i,
			   uint64_t **ret_caps)
{
	const struct ava_guestlib_fn *gf = &api->fns[fn_id];
	const struct ava_abi_fn *fn = gf->abi;
	const struct ava_abi_value *sv = &fn->args[plan->blobs_arg[i] - 1];
	void *const *ptrs = *(void *const *)args[i];
	size_t n = (size_t)(plan->count[i] * fn->args[i].size_bytes / 8);
	uint8_t value[AVA_ABI_MAX_SCALAR_BYTES] = { 0 };
	void *args2[AVA_ABI_MAX_ARGS];

	*ret_caps = calloc(n ? n : 1, sizeof(uint64_t));
	size_t *sizes = calloc(n ? n : 1, sizeof(size_t));
	if (!*ret_caps || !sizes) {
		free(sizes);
		set_error(gf, args, ret, AVA_STATUS_NO_MEMORY);
		return -1;
	}
	if (!n) {
		free(sizes);
		return 0;
	}
	for (unsigned k = 0; k < sv->size_bytes && k < 8; k++)
		value[k] = (uint8_t)(plan->blobs_value[i] >> (8 * k));
	memcpy(args2, args, fn->n_args * sizeof(*args2));
	void *sizes_ptr = sizes;
	args2[plan->blobs_arg[i] - 1] = value;
	args2[i] = &sizes_ptr;
	in_sizing_call = true;
	ava_guestlib_call(api, fn_id, args2, ret);
	in_sizing_call = false;
	const struct ava_gen_errors *e = gf->errors.ret;
	if (ret && e && e->success && memcmp(ret, e->success, e->size_bytes) != 0) {
		free(sizes);
		return -1;
	}
	for (size_t k = 0; k < n; k++)
		(*ret_caps)[k] = ptrs[k] ? sizes[k] : 0;
	free(sizes);
	return 0;
}

void ava_guestlib_call(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
		       void *ret)
{
	const struct ava_guestlib_fn *gf = &api->fns[fn_id];
	const struct ava_abi_fn *fn = gf->abi;
	static _Atomic unsigned char unsupported_said[4096];

	if (fn->flags & AVA_ABI_FN_UNSUPPORTED) {
		if (fn_id >= sizeof(unsupported_said) ||
		    !atomic_exchange(&unsupported_said[fn_id], 1))
			say("%s is not supported by the %s spec; it returns the API's "
			    "\"unsupported\" error",
			    fn->name, api->abi->name);
		set_error(gf, args, ret, AVA_STATUS_UNSUPPORTED);
		return;
	}

	uint16_t status = AVA_STATUS_OK;
	struct conn *c = get_conn(api, &status);
	if (!c) {
		set_error(gf, args, ret, status);
		return;
	}

	struct ava_gen_plan plan;
	memset(&plan, 0, sizeof(plan));
	if (gf->plan)
		gf->plan(args, &plan);
	else
		plan.async = (fn->flags & AVA_ABI_FN_MAY_ASYNC) ? 1 : 0;
	if (!(fn->flags & AVA_ABI_FN_MAY_ASYNC))
		plan.async = 0;

	if (!handles_valid(fn, &plan, args)) {
		if (debug_enabled())
			say("%s: an argument is not a live %s handle", fn->name, api->abi->name);
		set_error(gf, args, ret, AVA_STATUS_BAD_HANDLE);
		return;
	}

	uint64_t *blob_caps[AVA_ABI_MAX_ARGS] = { NULL };
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (!(fn->args[i].flags & AVA_ABI_V_BLOBS) || in_sizing_call)
			plan.blobs_arg[i] = 0;
		if (!plan.blobs_arg[i] || !*(void *const *)args[i] ||
		    plan.count[i] > fn->args[i].max_count)
			continue;
		if (blob_capacities(api, fn_id, args, ret, &plan, i, &blob_caps[i]) < 0) {
			for (unsigned k = 0; k <= i; k++)
				free(blob_caps[k]);
			return;
		}
	}

	struct ava_abi_view views[AVA_ABI_MAX_ARGS];
	struct ava_wire_buf b;
	const char *why = NULL;
	ava_wire_buf_init(&b);
	if (encode_args(c, gf, &plan, args, blob_caps, &b, views, &why) < 0) {
		say("%s: %s", fn->name, why);
		ava_wire_buf_fini(&b);
		for (unsigned k = 0; k < fn->n_args; k++)
			free(blob_caps[k]);
		set_error(gf, args, ret, AVA_STATUS_INTERNAL);
		return;
	}

	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_CALL,
		.len_bytes = (uint32_t)b.len,
		.call_id = fn_id,
		.seq = atomic_fetch_add(&c->next_seq, 1),
		.thread_id = thread_id(),
		.flags = plan.async ? AVA_WIRE_F_ASYNC : 0,
	};
	if (b.len > AVA_WIRE_MAX_PAYLOAD_BYTES) {
		say("%s: arguments of %zu bytes exceed the %u-byte frame limit", fn->name, b.len,
		    AVA_WIRE_MAX_PAYLOAD_BYTES);
		ava_wire_buf_fini(&b);
		for (unsigned k = 0; k < fn->n_args; k++)
			free(blob_caps[k]);
		set_error(gf, args, ret, AVA_STATUS_INTERNAL);
		return;
	}

	if (plan.async) {
		int r = ava_transport_send_frame(c->t, &hdr, b.data, b.len);
		ava_wire_buf_fini(&b);
		if (r < 0) {
			mark_dead(c, AVA_STATUS_SERVER_GONE, "sending to the router failed");
			set_error(gf, args, ret, AVA_STATUS_SERVER_GONE);
			return;
		}
		set_success(gf, ret);
		return;
	}

	struct waiter w = { .seq = hdr.seq };
	pthread_cond_init(&w.cond, NULL);
	pthread_mutex_lock(&c->lock);
	if (c->state != 1) {
		status = c->dead_status;
		pthread_mutex_unlock(&c->lock);
		goto fail;
	}
	w.next = c->waiters;
	c->waiters = &w;
	pthread_mutex_unlock(&c->lock);

	if (ava_transport_send_frame(c->t, &hdr, b.data, b.len) < 0)
		mark_dead(c, AVA_STATUS_SERVER_GONE, "sending to the router failed");

	pthread_mutex_lock(&c->lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &c->lock);
	pthread_mutex_unlock(&c->lock);

	status = w.status;
	if (status == AVA_STATUS_OK) {
		char err[200];
		if (apply_reply(c, gf, args, ret, views, blob_caps, w.flags, w.payload, w.len, err,
				sizeof(err)) < 0) {
			char msg[260];
			snprintf(msg, sizeof(msg), "bad reply to %s: %s", fn->name, err);
			mark_dead(c, AVA_STATUS_MALFORMED, msg);
			status = AVA_STATUS_MALFORMED;
		} else {
			deliver_deferred(c, gf, ret);
		}
	} else if (debug_enabled()) {
		say("%s failed remotely: %s", fn->name, ava_wire_status_name(status));
	}
	free(w.payload);
fail:
	pthread_cond_destroy(&w.cond);
	ava_wire_buf_fini(&b);
	for (unsigned k = 0; k < fn->n_args; k++)
		free(blob_caps[k]);
	if (status != AVA_STATUS_OK)
		set_error(gf, args, ret, status);
}
