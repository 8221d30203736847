/* SPDX-License-Identifier: MIT */
/*
 * The guest side of avarouterd: accepting guest connections (each is one
 * session, one application), the HELLO handshake that gives it its API
 * server (backend.c), and the validation of every frame a guest sends
 * before relay.c forwards it; the policy's function filter and enforcement
 * verdicts (enforce.c) are applied here, on the validated frame.
 *
 * Validation order for a guest frame (any failure ends the session with
 * BYE(MALFORMED) and touches nothing else):
 *   1. header: magic, version, kind, flags, status, reserved, and len against
 *      AVA_WIRE_MAX_PAYLOAD_BYTES, before the payload is read (conn.c);
 *   2. session field zero (a guest never names a session; the channel does);
 *   3. state: HELLO first and once;
 *   4. per kind: CALL: call id in range, function supported, ASYNC only where
 *      the spec allows it, seq not outstanding; CALLBACK_REPLY: seq names a
 *      callback outstanding in this session, call id is that callback's;
 *   5. payload: ava_abi_check_args / ava_abi_check_result, which check every
 *      length, count, handle type tag and the exact end of the payload.
 */
#define _GNU_SOURCE /* accept4, struct ucred */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest.h"

#include "backend.h"
#include "enforce.h"
#include "log.h"
#include "poller.h"
#include "relay.h"
#include "tenant.h"

static uint32_t session_id_new(struct ava_router *r)
{
	for (;;) {
		uint32_t id = r->next_session++;
		if (id != 0 && !ava_map_get(&r->sessions, id))
			return id;
	}
}

int ava_guest_accept(struct ava_router *r, struct ava_router_listener *l)
{
	int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    errno == ECONNABORTED)
			return -EAGAIN;
		int e = errno;
		ava_log_line("avarouterd: accept on %s: %s; pausing this socket for a second",
			     l->path, strerror(e));
		return -e;
	}

	struct ucred cred;
	socklen_t cred_len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0) {
		ava_log_line("avarouterd: SO_PEERCRED on %s: %s; closing connection", l->path,
			     strerror(errno));
		close(fd);
		return 0;
	}
	/*
	 * The tenant: the policy entry the channel matches, else the channel's
	 * own name (listener label, else uid:N) with the policy's defaults, or,
	 * if the policy refuses unknown tenants, a refusal at HELLO.
	 */
	char tenant_name[AVA_ROUTER_MAX_TENANT_NAME + 8];
	const struct ava_policy_tenant *entry =
	    ava_policy_match(r->policy, l->path, l->tenant, (uint32_t)cred.uid);
	int refused = 0;
	if (entry)
		snprintf(tenant_name, sizeof(tenant_name), "%s", entry->name);
	else if (l->tenant)
		snprintf(tenant_name, sizeof(tenant_name), "%s", l->tenant);
	else
		snprintf(tenant_name, sizeof(tenant_name), "uid:%u", (unsigned)cred.uid);
	if (!entry && r->policy->refuse_unknown)
		refused = 1;

	int is_new = 1;
	for (struct ava_router_tenant *u = r->tenants; u && is_new; u = u->next)
		is_new = strcmp(u->name, tenant_name) != 0;
	struct ava_router_tenant *t = ava_tenant_get(r, tenant_name);
	struct ava_router_guest *g = t ? calloc(1, sizeof(*g)) : NULL;
	if (!g) {
		ava_log_line("avarouterd: out of memory accepting on %s; closing connection",
			     l->path);
		close(fd);
		return 0;
	}
	if (t->n_guests >= AVA_ROUTER_MAX_GUESTS_PER_TENANT) {
		ava_log_line("avarouterd: tenant %s: over %u connections; refusing one on %s",
			     t->name, AVA_ROUTER_MAX_GUESTS_PER_TENANT, l->path);
		free(g);
		close(fd);
		return 0;
	}
	if (refused && is_new)
		t->refused_only = 1;
	else if (!refused)
		t->refused_only = 0;
	g->ev_type = AVA_ROUTER_EV_GUEST;
	ava_conn_init(&g->conn, fd, AVA_ROUTER_GUEST_OUT_CAP);
	g->tenant = t;
	g->refused = refused;
	g->uid = (uint32_t)cred.uid;
	g->pid = cred.pid;
	g->listener_path = l->path;
	g->listener_label = l->tenant;
	g->session = session_id_new(r);
	g->state = AVA_GUEST_AWAIT_HELLO;
	ava_map_init(&g->calls);
	ava_enforce_guest_init(g);
	ava_map_init(&g->callbacks);
	ava_map_init(&g->transfers);
	g->deadline_ms = r->now_ms + AVA_ROUTER_HELLO_TIMEOUT_MS;
	g->progress_ms = r->now_ms;
	if (ava_map_put(&r->sessions, g->session, g) < 0) {
		ava_log_line("avarouterd: out of memory accepting on %s; closing connection",
			     l->path);
		ava_conn_fini(&g->conn);
		free(g);
		return 0;
	}
	if (ava_poller_add(r->epfd, fd, EPOLLIN, g) < 0) {
		ava_log_line("avarouterd: epoll: %s; closing connection", strerror(errno));
		ava_map_del(&r->sessions, g->session);
		ava_conn_fini(&g->conn);
		free(g);
		return 0;
	}
	g->registered = 1;
	g->ep_events = EPOLLIN;
	t->n_guests++;
	g->next = r->guests;
	if (r->guests)
		r->guests->prev = g;
	r->guests = g;
	if (r->verbose)
		ava_log_line("avarouterd: tenant %s session %" PRIu32 ": connected on %s", t->name,
			     g->session, l->path);
	return 0;
}

void ava_guest_collect(struct ava_router *r)
{
	while (r->guest_graveyard) {
		struct ava_router_guest *g = r->guest_graveyard;
		r->guest_graveyard = g->grave_next;
		free(g);
	}
}

static void violation(struct ava_router *r, struct ava_router_guest *g, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void violation(struct ava_router *r, struct ava_router_guest *g, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	ava_relay_end(r, g, AVA_STATUS_MALFORMED, reason, 1);
}

/* Refuses a HELLO: HELLO_REPLY(status), then BYE(status, reason). */
static void refuse_hello(struct ava_router *r, struct ava_router_guest *g, uint64_t seq,
			 unsigned status, const char *reason)
{
	if (ava_relay_control(r, g, AVA_WIRE_HELLO_REPLY, status, seq) < 0) {
		ava_relay_end(r, g, AVA_STATUS_OK, "write to guest failed", 0);
		return;
	}
	ava_relay_end(r, g, status, reason, 1);
}

static void handle_hello(struct ava_router *r, struct ava_router_guest *g,
			 const struct ava_wire_header *hdr, const uint8_t *payload)
{
	if (hdr->flags || hdr->status || hdr->call_id) {
		violation(r, g, "HELLO with nonzero flags, status or call id");
		return;
	}
	uint32_t name_len;
	const uint8_t *name;
	uint64_t hash;
	if (ava_wire_hello_decode(payload, hdr->len_bytes, &name, &name_len, &hash) < 0) {
		violation(r, g, "malformed HELLO payload");
		return;
	}
	/* Printable copy of the name for messages. */
	char shown[AVA_WIRE_MAX_API_NAME + 1];
	for (uint32_t i = 0; i < name_len; i++)
		shown[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? (char)name[i] : '?';
	shown[name_len] = '\0';

	struct ava_router_tenant *t = g->tenant;
	if (g->refused) {
		char reason[512];
		char label[AVA_ROUTER_MAX_TENANT_NAME + 16] = "";
		if (g->listener_label)
			snprintf(label, sizeof(label), ", label %s", g->listener_label);
		snprintf(reason, sizeof(reason),
			 "refused by policy: channel %s (uid %" PRIu32 "%s) matches no tenant of "
			 "%s, which refuses unknown tenants",
			 g->listener_path, g->uid, label,
			 r->policy_path ? r->policy_path : "the policy");
		t->stats.refusals[AVA_REFUSAL_UNKNOWN_TENANT]++;
		refuse_hello(r, g, hdr->seq, AVA_STATUS_REFUSED, reason);
		return;
	}

	struct ava_router_api *api = NULL;
	for (size_t i = 0; i < r->n_apis; i++) {
		if (strlen(r->apis[i].name) == name_len &&
		    !memcmp(r->apis[i].name, name, name_len)) {
			api = &r->apis[i];
			break;
		}
	}
	if (!api) {
		char reason[128];
		snprintf(reason, sizeof(reason), "HELLO for unknown API '%s'", shown);
		refuse_hello(r, g, hdr->seq, AVA_STATUS_UNKNOWN_API, reason);
		return;
	}
	if (hash != api->abi->hash) {
		char reason[192];
		snprintf(reason, sizeof(reason),
			 "HELLO for API '%s' with ABI hash %016" PRIx64 ", router has %016" PRIx64
			 " (guest library and manifest differ)",
			 shown, hash, api->abi->hash);
		refuse_hello(r, g, hdr->seq, AVA_STATUS_ABI_MISMATCH, reason);
		return;
	}
	if (!t->api_allowed[api - r->apis]) {
		char reason[512];
		char where[64] = "the policy's defaults";
		if (t->entry)
			snprintf(where, sizeof(where), "its policy entry (line %" PRIu32 ")",
				 t->entry->pos.line);
		snprintf(
		    reason, sizeof(reason),
		    "refused by policy: tenant %s may not use API %s (not in the apis of %s in "
		    "%s)",
		    t->name, api->name, where,
		    r->policy_path ? r->policy_path : "the built-in policy");
		t->stats.refusals[AVA_REFUSAL_API]++;
		refuse_hello(r, g, hdr->seq, AVA_STATUS_REFUSED, reason);
		return;
	}
	g->api = api;
	struct ava_router_server *s = ava_backend_get(r, g->tenant, api);
	if (!s) {
		refuse_hello(r, g, hdr->seq, AVA_STATUS_SERVER_GONE, "could not start API server");
		return;
	}
	if (ava_map_put(&s->sessions, g->session, g) < 0) {
		ava_relay_release_server(r, s); /* a server started for g alone goes again */
		refuse_hello(r, g, hdr->seq, AVA_STATUS_NO_MEMORY, "router out of memory");
		return;
	}
	g->server = s;
	g->state = AVA_GUEST_OPEN;
	g->deadline_ms = 0;
	struct ava_wire_header open = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_SESSION_OPEN,
		.session = g->session,
	};
	pid_t pid = s->pid;
	if (ava_relay_to_server(r, s, &open, NULL, 0) < 0)
		return; /* the server was declared gone; g got BYE(SERVER_GONE) */
	ava_log_line("avarouterd: tenant %s session %" PRIu32 " (api %s): open, server pid %ld",
		     g->tenant->name, g->session, api->name, (long)pid);
	if (ava_relay_control(r, g, AVA_WIRE_HELLO_REPLY, AVA_STATUS_OK, hdr->seq) < 0)
		ava_relay_end(r, g, AVA_STATUS_OK, "write to guest failed", 0);
}

/*
 * Records the late out buffers of a CALL, so that the server's DATA frames
 * can be checked: one per transfer id, of exactly the size the guest asked
 * for. A transfer id still outstanding may not be reused. Returns 0, or < 0
 * once the session has been ended.
 */
static int record_transfers(struct ava_router *r, struct ava_router_guest *g,
			    const struct ava_abi_fn *fn, uint64_t seq,
			    const struct ava_abi_view *views)
{
	for (uint16_t i = 0; i <= fn->n_args; i++) {
		/* [n_args]: a readable mapping's bytes (the MAP trailer) */
		const struct ava_abi_value *v = i < fn->n_args ? &fn->args[i] : &fn->ret;
		if (i == fn->n_args) {
			if (v->kind != AVA_ABI_MAP || !(views[i].access & AVA_ABI_MAP_READ))
				continue;
		} else if (v->kind != AVA_ABI_BUFFER || v->dir != AVA_ABI_DIR_OUT ||
			   !(v->flags & AVA_ABI_V_LATE) || !views[i].present) {
			continue;
		}
		if (ava_map_get(&g->transfers, views[i].u64)) {
			violation(r, g,
				  "CALL of %s reuses transfer id %" PRIu64 " of an outstanding "
				  "transfer",
				  fn->name, views[i].u64);
			return -EPROTO;
		}
		if (g->transfers.count >= AVA_ROUTER_MAX_OUTSTANDING) {
			violation(r, g, "more than %u outstanding transfers",
				  AVA_ROUTER_MAX_OUTSTANDING);
			return -EPROTO;
		}
		struct ava_router_transfer *t = malloc(sizeof(*t));
		if (!t || ava_map_put(&g->transfers, views[i].u64, t) < 0) {
			free(t);
			ava_relay_end(r, g, AVA_STATUS_NO_MEMORY, "router out of memory", 1);
			return -ENOMEM;
		}
		t->seq = seq;
		t->len_bytes = views[i].count * v->size_bytes; /* bounded by check_args */
		t->done_bytes = 0;
		t->fn_id = fn->id;
	}
	return 0;
}

static void handle_call(struct ava_router *r, struct ava_router_guest *g,
			const struct ava_wire_header *hdr, uint8_t *payload)
{
	const struct ava_abi_api *abi = g->api->abi;
	if (hdr->call_id >= abi->n_fns) {
		violation(r, g, "CALL with bad call id %" PRIu32 " (API has %" PRIu32 ")",
			  hdr->call_id, abi->n_fns);
		goto out;
	}
	const struct ava_abi_fn *fn = &abi->fns[hdr->call_id];
	if (fn->flags & AVA_ABI_FN_UNSUPPORTED) {
		violation(r, g, "CALL of %s, which the spec does not support", fn->name);
		goto out;
	}
	if (hdr->flags & ~(AVA_WIRE_F_ASYNC | AVA_WIRE_F_STREAM)) {
		violation(r, g, "CALL of %s with flags 0x%x", fn->name, hdr->flags);
		goto out;
	}
	int async = (hdr->flags & AVA_WIRE_F_ASYNC) != 0;
	if (async && !(fn->flags & AVA_ABI_FN_MAY_ASYNC)) {
		violation(r, g, "ASYNC CALL of %s, which the spec makes synchronous", fn->name);
		goto out;
	}
	if (hdr->status) {
		violation(r, g, "CALL of %s with nonzero status", fn->name);
		goto out;
	}
	struct ava_abi_view views[AVA_ABI_MAX_ARGS + 1]; /* + the MAP trailer */
	char err[256];
	if (fn->n_args > AVA_ABI_MAX_ARGS) {
		violation(r, g, "CALL of %s: manifest has too many arguments", fn->name);
		goto out;
	}
	memset(views, 0, sizeof(views));
	if (ava_abi_check_call(abi, fn, payload, hdr->len_bytes, views, err, sizeof(err)) < 0) {
		violation(r, g, "CALL of %s: %s", fn->name, err);
		goto out;
	}
	uint64_t stream_bytes = 0;
	int streamed = ava_abi_streamed_arg(fn, views, &stream_bytes) >= 0;
	if (streamed != ((hdr->flags & AVA_WIRE_F_STREAM) != 0)) {
		violation(r, g, "CALL of %s: %s", fn->name,
			  streamed ? "a streamed argument without the STREAM flag"
				   : "the STREAM flag without a streamed argument");
		goto out;
	}
	if (streamed) {
		/* Whatever happens to the CALL now, its CHUNKs come next. */
		g->stream.active = 1;
		g->stream.discard = 0;
		g->stream.seq = hdr->seq;
		g->stream.fn_id = fn->id;
		g->stream.left_bytes = stream_bytes;
	}
	uint8_t *denied = g->tenant->fn_denied[g->api - r->apis];
	if (denied && denied[fn->id]) {
		g->stream.discard = 1;
		ava_relay_refuse_call(r, g, hdr, fn, AVA_REFUSAL_FUNCTION,
				      "its function filter denies it");
		goto out;
	}
	struct ava_router_call *call = NULL;
	if (!async) {
		if (ava_map_get(&g->calls, hdr->seq)) {
			violation(r, g, "CALL of %s reuses seq %" PRIu64 " of an outstanding call",
				  fn->name, hdr->seq);
			goto out;
		}
		if (g->calls.count >= AVA_ROUTER_MAX_OUTSTANDING) {
			violation(r, g, "more than %u outstanding calls",
				  AVA_ROUTER_MAX_OUTSTANDING);
			goto out;
		}
		/* Copies, not pointers: the payload is freed once it is forwarded. */
		call = malloc(sizeof(*call) + ((size_t)fn->n_args + 1) * sizeof(call->args[0]));
		if (!call) {
			ava_relay_end(r, g, AVA_STATUS_NO_MEMORY, "router out of memory", 1);
			goto out;
		}
		call->fn_id = fn->id;
		call->resv = NULL;
		call->n_args = fn->n_args;
		for (uint16_t i = 0; i <= fn->n_args; i++) { /* [n_args]: the MAP trailer */
			call->args[i].present = views[i].present;
			call->args[i].count = views[i].count;
			call->args[i].u64 = views[i].u64;
		}
		if (ava_map_put(&g->calls, hdr->seq, call) < 0) {
			free(call);
			ava_relay_end(r, g, AVA_STATUS_NO_MEMORY, "router out of memory", 1);
			goto out;
		}
		if (record_transfers(r, g, fn, hdr->seq, views) < 0)
			goto out;
	}
	struct ava_enforce_refusal refusal;
	enum ava_enforce_verdict verdict =
	    ava_enforce_call(r, g, hdr, payload, fn, views, call, &refusal);
	if (verdict == AVA_ENFORCE_REFUSED) {
		/* its CHUNKs go nowhere; its outstanding entry and reservation go */
		g->stream.discard = 1;
		if (call) {
			ava_map_del(&g->calls, hdr->seq);
			ava_enforce_call_dropped(call);
			ava_relay_drop_transfers(g, fn, call);
			free(call);
		}
		ava_relay_refuse_call(r, g, hdr, fn, refusal.why, refusal.reason);
		goto out;
	}
	if (verdict == AVA_ENFORCE_TAKEN) {
		/* held (CHUNKs wait behind a held CALL), or released at once */
		ava_relay_forward_released(r);
		ava_relay_update_guest_events(r, g); /* a held call may pause it */
		return;
	}
	struct ava_wire_header h = *hdr;
	h.session = g->session;
	g->tenant->stats.calls++;
	(void)ava_relay_to_server(r, g->server, &h, payload, hdr->len_bytes);
	return;
out:
	free(payload);
}

static void handle_callback_reply(struct ava_router *r, struct ava_router_guest *g,
				  const struct ava_wire_header *hdr, uint8_t *payload)
{
	const struct ava_abi_api *abi = g->api->abi;
	void *v = ava_map_get(&g->callbacks, hdr->seq);
	if (!v) {
		violation(r, g,
			  "CALLBACK_REPLY for seq %" PRIu64 ", which is no outstanding callback",
			  hdr->seq);
		goto out;
	}
	uint32_t cb_id = (uint32_t)((uintptr_t)v - 1);
	const struct ava_abi_callback *cb = &abi->callbacks[cb_id];
	if (hdr->flags) {
		violation(r, g, "CALLBACK_REPLY for %s with flags 0x%x", cb->name, hdr->flags);
		goto out;
	}
	if (hdr->call_id != cb_id) {
		violation(r, g, "CALLBACK_REPLY with call id %" PRIu32 " for a callback of %s",
			  hdr->call_id, cb->name);
		goto out;
	}
	/* A guest that could not run the callback reports a status and no result. */
	if (!(hdr->status != AVA_STATUS_OK && hdr->len_bytes == 0)) {
		struct ava_abi_view view;
		char err[256];
		if (ava_abi_check_result(abi, &cb->ret, payload, hdr->len_bytes, &view, err,
					 sizeof(err)) < 0) {
			violation(r, g, "CALLBACK_REPLY for %s: %s", cb->name, err);
			goto out;
		}
	}
	ava_map_del(&g->callbacks, hdr->seq);
	struct ava_wire_header h = *hdr;
	h.session = g->session;
	(void)ava_relay_to_server(r, g->server, &h, payload, hdr->len_bytes);
	return;
out:
	free(payload);
}

/*
 * CHUNK: the next piece of the streamed argument of the session's last
 * CALL, in order and no more than it announced; forwarded (or held behind a
 * held CALL, or dropped after a refusal) one at a time, so the router never
 * holds more than a frame of it per session.
 */
static void handle_chunk(struct ava_router *r, struct ava_router_guest *g,
			 const struct ava_wire_header *hdr, uint8_t *payload)
{
	if (!g->stream.active) {
		violation(r, g, "CHUNK with no streamed CALL in progress");
		goto out;
	}
	const char *fn_name = g->api->abi->fns[g->stream.fn_id].name;
	if (hdr->seq != g->stream.seq || hdr->call_id != g->stream.fn_id) {
		violation(r, g,
			  "CHUNK for seq %" PRIu64 " call id %" PRIu32
			  " while the CALL of %s with seq %" PRIu64 " is streaming",
			  hdr->seq, hdr->call_id, fn_name, g->stream.seq);
		goto out;
	}
	if (hdr->flags || hdr->status || hdr->thread_id) {
		violation(r, g, "CHUNK of %s with flags, status or a thread id", fn_name);
		goto out;
	}
	if (hdr->len_bytes == 0 || hdr->len_bytes > AVA_WIRE_CHUNK_MAX_BYTES ||
	    hdr->len_bytes > g->stream.left_bytes) {
		violation(r, g,
			  "CHUNK of %s with %" PRIu32 " bytes (1 to %u allowed, %" PRIu64
			  " left in the stream)",
			  fn_name, hdr->len_bytes, AVA_WIRE_CHUNK_MAX_BYTES, g->stream.left_bytes);
		goto out;
	}
	g->stream.left_bytes -= hdr->len_bytes;
	if (g->stream.left_bytes == 0)
		g->stream.active = 0;
	if (g->stream.discard)
		goto out;
	struct ava_wire_header h = *hdr;
	h.session = g->session;
	int held = ava_enforce_hold_chunk(g, &h, payload);
	if (held == 0) {
		ava_relay_update_guest_events(r, g); /* held bytes may pause it */
		return;
	}
	if (held == -ENOMEM) {
		ava_relay_end(r, g, AVA_STATUS_NO_MEMORY, "router out of memory", 1);
		goto out;
	}
	(void)ava_relay_to_server(r, g->server, &h, payload, h.len_bytes);
	return;
out:
	free(payload);
}

/* Handles one complete frame from g. Takes payload. */
static void handle_frame(struct ava_router *r, struct ava_router_guest *g,
			 const struct ava_wire_header *hdr, uint8_t *payload)
{
	if (r->verbose) {
		const char *what = "";
		if (hdr->kind == AVA_WIRE_CALL && g->api && hdr->call_id < g->api->abi->n_fns)
			what = g->api->abi->fns[hdr->call_id].name;
		ava_log_line("avarouterd: tenant %s session %" PRIu32 ": guest %s%s%s seq %" PRIu64
			     " len %" PRIu32,
			     g->tenant->name, g->session, ava_wire_kind_name(hdr->kind),
			     *what ? " " : "", what, hdr->seq, hdr->len_bytes);
	}
	g->tenant->stats.bytes_in += hdr->len_bytes;
	if (hdr->session != 0) {
		violation(r, g, "%s with nonzero session field %" PRIu32,
			  ava_wire_kind_name(hdr->kind), hdr->session);
		goto drop;
	}
	if (g->state == AVA_GUEST_AWAIT_HELLO) {
		if (hdr->kind != AVA_WIRE_HELLO) {
			violation(r, g, "%s before HELLO", ava_wire_kind_name(hdr->kind));
			goto drop;
		}
		handle_hello(r, g, hdr, payload);
		goto drop;
	}
	if (g->stream.active && hdr->kind != AVA_WIRE_CHUNK) {
		violation(r, g,
			  "%s while the CALL of %s with seq %" PRIu64 " still streams %" PRIu64
			  " bytes",
			  ava_wire_kind_name(hdr->kind), g->api->abi->fns[g->stream.fn_id].name,
			  g->stream.seq, g->stream.left_bytes);
		goto drop;
	}
	switch (hdr->kind) {
	case AVA_WIRE_CALL:
		handle_call(r, g, hdr, payload);
		return;
	case AVA_WIRE_CHUNK:
		handle_chunk(r, g, hdr, payload);
		return;
	case AVA_WIRE_CALLBACK_REPLY:
		handle_callback_reply(r, g, hdr, payload);
		return;
	case AVA_WIRE_HELLO:
		violation(r, g, "second HELLO");
		goto drop;
	default:
		violation(r, g, "unexpected %s frame from a guest", ava_wire_kind_name(hdr->kind));
		goto drop;
	}
drop:
	free(payload);
}

static void read_frames(struct ava_router *r, struct ava_router_guest *g)
{
	g->progress_ms = r->now_ms;
	ava_conn_arm(&g->conn);
	/*
	 * Up to the per-wakeup limit of frames, and always what is already
	 * staged (at most one staging buffer): epoll will not report bytes that
	 * left the socket. Only a throttled server leaves staged frames behind;
	 * ava_guest_resume picks them up.
	 */
	for (int i = 0; i < AVA_ROUTER_FRAMES_PER_WAKEUP || g->conn.stage; i++) {
		if (g->state != AVA_GUEST_AWAIT_HELLO && g->state != AVA_GUEST_OPEN)
			return;
		if ((g->server && g->server->throttled) || g->enforce.paused)
			return;
		struct ava_wire_header hdr;
		uint8_t *payload = NULL;
		const char *reason = NULL;
		int ret = ava_conn_read_frame(&g->conn, &hdr, &payload, &reason);
		if (ret == 0)
			return;
		if (ret == -EPIPE) {
			char why[160];
			if (g->stream.active)
				snprintf(why, sizeof(why),
					 "disconnected with %" PRIu64
					 " bytes of a streamed CALL of %s still to come; the call "
					 "never runs",
					 g->stream.left_bytes,
					 g->api->abi->fns[g->stream.fn_id].name);
			else
				snprintf(why, sizeof(why), "%s",
					 ava_conn_mid_frame(&g->conn) ? "disconnected mid-frame"
								      : "disconnected");
			ava_relay_end(r, g, AVA_STATUS_OK, why, 0);
			return;
		}
		if (ret == -EPROTO || ret == -EMSGSIZE) {
			violation(r, g, "bad frame header: %s", reason ? reason : "invalid");
			return;
		}
		if (ret == -ENOMEM) {
			ava_relay_end(r, g, AVA_STATUS_NO_MEMORY, "router out of memory", 1);
			return;
		}
		if (ret < 0) {
			char why[128];
			snprintf(why, sizeof(why), "read failed: %s", strerror(-ret));
			ava_relay_end(r, g, AVA_STATUS_OK, why, 0);
			return;
		}
		handle_frame(r, g, &hdr, payload);
	}
}

void ava_guest_on_events(struct ava_router *r, struct ava_router_guest *g, uint32_t events)
{
	if (g->state == AVA_GUEST_DEAD)
		return;
	if (g->state == AVA_GUEST_CLOSING) {
		if ((events & (EPOLLERR | EPOLLHUP)) || ava_conn_flush(&g->conn) < 0 ||
		    g->conn.out_bytes == 0)
			ava_relay_bury_guest(r, g);
		return;
	}
	if (events & EPOLLOUT) {
		size_t queued = g->conn.out_bytes;
		if (ava_conn_flush(&g->conn) < 0) {
			ava_relay_end(r, g, AVA_STATUS_OK, "write to guest failed", 0);
			return;
		}
		if (g->conn.out_bytes < queued)
			g->out_progress_ms = r->now_ms;
		ava_relay_check_backlog(r, g);
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		read_frames(r, g);
	if (g->state == AVA_GUEST_AWAIT_HELLO || g->state == AVA_GUEST_OPEN) {
		/* Paused by throttling with only a hangup left to report: nothing reads it. */
		if ((events & (EPOLLHUP | EPOLLERR)) && g->server && g->server->throttled) {
			ava_relay_end(r, g, AVA_STATUS_OK, "disconnected", 0);
			return;
		}
		ava_relay_update_guest_events(r, g);
	}
}

void ava_guest_resume(struct ava_router *r)
{
	r->resume_guests = 0;
	struct ava_router_guest *next;
	for (struct ava_router_guest *g = r->guests; g; g = next) {
		next = g->next;
		if ((g->state == AVA_GUEST_AWAIT_HELLO || g->state == AVA_GUEST_OPEN) &&
		    g->conn.stage && !(g->server && g->server->throttled) && !g->enforce.paused) {
			read_frames(r, g);
			if (g->state == AVA_GUEST_AWAIT_HELLO || g->state == AVA_GUEST_OPEN)
				ava_relay_update_guest_events(r, g);
		}
	}
}

void ava_guest_tick(struct ava_router *r)
{
	struct ava_router_guest *next;
	for (struct ava_router_guest *g = r->guests; g; g = next) {
		next = g->next;
		switch (g->state) {
		case AVA_GUEST_AWAIT_HELLO:
			if (r->now_ms >= g->deadline_ms)
				violation(r, g, "no HELLO within %d s",
					  AVA_ROUTER_HELLO_TIMEOUT_MS / 1000);
			break;
		case AVA_GUEST_OPEN:
			if (g->backlogged &&
			    r->now_ms - g->out_progress_ms >= AVA_ROUTER_BACKLOG_STALL_MS) {
				violation(r, g,
					  "guest is not reading its replies (%zu bytes queued, no "
					  "progress for %d s)",
					  g->conn.out_bytes, AVA_ROUTER_BACKLOG_STALL_MS / 1000);
				break;
			}
			if (ava_conn_mid_frame(&g->conn) &&
			    r->now_ms - g->progress_ms >= AVA_ROUTER_STALL_TIMEOUT_MS &&
			    !(g->server && g->server->throttled))
				violation(r, g, "frame incomplete with no progress for %d s",
					  AVA_ROUTER_STALL_TIMEOUT_MS / 1000);
			break;
		case AVA_GUEST_CLOSING:
			if (r->now_ms >= g->deadline_ms)
				ava_relay_bury_guest(r, g);
			break;
		case AVA_GUEST_DEAD:
			break;
		}
		/* Ending a session may bury other guests; buried ones keep their next link. */
	}
}
