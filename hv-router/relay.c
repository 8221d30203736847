/* SPDX-License-Identifier: MIT */
/*
 * A session's two ends and the frames between them: the one module that
 * forwards in both directions (guest -> API server: ava_relay_to_server;
 * server -> guest: ava_relay_to_guest, and the router's own answers), keeps
 * the flow control of both (a server's full queue pauses its guests; a
 * guest's full queue pauses its server), and ends what must end: a session
 * (SESSION_CLOSE to its server, BYE to its guest, its outstanding state
 * forgotten), a server that failed (every session it served), a server no
 * session needs any more (retired: its channel half-closed).
 *
 * The guest side (guest.c) and the server side (backend.c) validate what
 * they read and call down into this file; it calls nothing above it
 * (docs/router.md, "Modules"). Frames released by enforcement are forwarded
 * here too (ava_relay_forward_released), so enforce.c never sends.
 */
#include "relay.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "enforce.h"
#include "log.h"
#include "poller.h"

void ava_relay_update_guest_events(struct ava_router *r, struct ava_router_guest *g)
{
	if (!g->registered)
		return;
	uint32_t want = 0;
	if (g->conn.out_bytes)
		want |= EPOLLOUT;
	if ((g->state == AVA_GUEST_AWAIT_HELLO || g->state == AVA_GUEST_OPEN) &&
	    !(g->server && g->server->throttled) && !g->enforce.paused)
		want |= EPOLLIN;
	ava_poller_set(r->epfd, g->conn.fd, &g->ep_events, want, g);
}

void ava_relay_update_server_events(struct ava_router *r, struct ava_router_server *s)
{
	if (!s->registered)
		return;
	uint32_t want = (s->n_backlogged ? 0 : EPOLLIN) | (s->conn.out_bytes ? EPOLLOUT : 0);
	ava_poller_set(r->epfd, s->conn.fd, &s->ep_events, want, s);
}

const char *ava_relay_api_name(const struct ava_router_guest *g)
{
	return g->api ? g->api->name : "-";
}

void ava_relay_bury_guest(struct ava_router *r, struct ava_router_guest *g)
{
	if (g->state == AVA_GUEST_DEAD)
		return;
	if (g->registered)
		ava_poller_del(r->epfd, g->conn.fd);
	g->registered = 0;
	ava_conn_fini(&g->conn);
	g->state = AVA_GUEST_DEAD;
	if (g->prev)
		g->prev->next = g->next;
	else
		r->guests = g->next;
	if (g->next)
		g->next->prev = g->prev;
	/* g->next stays: a walk of r->guests standing on g continues correctly. */
	g->grave_next = r->guest_graveyard;
	r->guest_graveyard = g;
}

static void forget_outstanding(struct ava_router_guest *g)
{
	size_t pos = 0;
	void *v;
	while ((v = ava_map_next(&g->calls, &pos, NULL))) {
		ava_enforce_call_dropped(v);
		free(v);
	}
	pos = 0;
	while ((v = ava_map_next(&g->transfers, &pos, NULL)))
		free(v);
	ava_map_fini(&g->calls);
	ava_map_fini(&g->callbacks);
	ava_map_fini(&g->transfers);
}

void ava_relay_end(struct ava_router *r, struct ava_router_guest *g, unsigned status,
		   const char *reason, int is_violation)
{
	if (g->state == AVA_GUEST_CLOSING || g->state == AVA_GUEST_DEAD)
		return;
	if (is_violation)
		ava_log_line("avarouterd: tenant %s session %" PRIu32 " (api %s): %s; ending "
			     "session",
			     g->tenant->name, g->session, ava_relay_api_name(g), reason);
	else
		ava_log_line("avarouterd: tenant %s session %" PRIu32 " (api %s): closed (%s)",
			     g->tenant->name, g->session, ava_relay_api_name(g), reason);

	enum ava_router_guest_state old_state = g->state;
	g->state = AVA_GUEST_CLOSING;  /* before anything below can re-enter */
	ava_relay_check_backlog(r, g); /* a closing guest holds its server back no more */
	struct ava_router_server *s = g->server;
	g->server = NULL;
	if (s) {
		ava_map_del(&s->sessions, g->session);
		if (s->conn_open && old_state == AVA_GUEST_OPEN) {
			struct ava_wire_header h = {
				.magic = AVA_WIRE_MAGIC,
				.version = AVA_WIRE_VERSION,
				.kind = AVA_WIRE_SESSION_CLOSE,
				.session = g->session,
			};
			(void)ava_relay_to_server(r, s, &h, NULL, 0);
		}
		if (s->conn_open)
			ava_relay_check_throttle(r, s);
		ava_relay_release_server(r, s);
	}
	ava_enforce_guest_end(r, g);
	ava_relay_forward_released(r); /* its device slots may let others go */
	forget_outstanding(g);
	ava_map_del(&r->sessions, g->session);
	g->tenant->n_guests--;

	if (status == AVA_STATUS_OK) {
		ava_relay_bury_guest(r, g);
		return;
	}
	/* Drop a partly received frame; queue the BYE behind what is already queued. */
	ava_conn_discard_input(&g->conn);
	struct ava_wire_header bye = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_BYE,
		.status = (uint16_t)status,
		.len_bytes = (uint32_t)strlen(reason),
	};
	if (ava_conn_queue_copy(&g->conn, &bye, reason, strlen(reason)) < 0 ||
	    ava_conn_flush(&g->conn) < 0 || g->conn.out_bytes == 0) {
		ava_relay_bury_guest(r, g);
		return;
	}
	g->deadline_ms = r->now_ms + AVA_ROUTER_LINGER_MS;
	ava_relay_update_guest_events(r, g);
}

void ava_relay_to_guest(struct ava_router *r, struct ava_router_guest *g,
			const struct ava_wire_header *hdr, uint8_t *payload)
{
	struct ava_wire_header h = *hdr;
	h.session = 0;
	g->tenant->stats.bytes_out += h.len_bytes;
	int ret = ava_conn_queue(&g->conn, &h, payload, h.len_bytes);
	if (ret == -ENOBUFS) {
		/* The BYE cannot be queued either; the connection is simply closed. */
		ava_relay_end(r, g, AVA_STATUS_MALFORMED,
			      "guest is not reading its replies (output queue over cap)", 1);
		return;
	}
	if (ret < 0) {
		ava_relay_end(r, g, AVA_STATUS_NO_MEMORY, "router out of memory", 1);
		return;
	}
	if (ava_conn_flush(&g->conn) < 0) {
		ava_relay_end(r, g, AVA_STATUS_OK, "write to guest failed", 0);
		return;
	}
	ava_relay_check_backlog(r, g);
	ava_relay_update_guest_events(r, g);
}

void ava_relay_check_backlog(struct ava_router *r, struct ava_router_guest *g)
{
	struct ava_router_server *s = g->server;
	int want = g->state == AVA_GUEST_OPEN && s &&
		   g->conn.out_bytes >
		       (g->backlogged ? AVA_ROUTER_GUEST_OUT_LOW : AVA_ROUTER_GUEST_OUT_HIGH);
	if (want == g->backlogged || !s)
		return;
	g->backlogged = want;
	if (want) {
		s->n_backlogged++;
		g->out_progress_ms = r->now_ms;
	} else if (--s->n_backlogged == 0) {
		r->resume_servers = 1;
	}
	if (r->verbose)
		ava_log_line("avarouterd: tenant %s session %" PRIu32 ": %s its server (%zu bytes "
			     "queued to the guest)",
			     g->tenant->name, g->session, want ? "holding back" : "resuming",
			     g->conn.out_bytes);
	if (s->conn_open)
		ava_relay_update_server_events(r, s);
}

int ava_relay_control(struct ava_router *r, struct ava_router_guest *g, unsigned kind,
		      unsigned status, uint64_t seq)
{
	struct ava_wire_header h = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = (uint16_t)kind,
		.status = (uint16_t)status,
		.seq = seq,
	};
	if (ava_conn_queue(&g->conn, &h, NULL, 0) < 0 || ava_conn_flush(&g->conn) < 0)
		return -EPIPE;
	ava_relay_update_guest_events(r, g);
	return 0;
}

/*
 * Answers a CALL the policy refuses, without the server: a sync call gets
 * REPLY(REFUSED) with an empty payload (the guest stub returns the spec's
 * ava_refuse_with error); an async call, which expects no REPLY, gets
 * REPLY(REFUSED, DEFERRED_ERROR) with its own seq and call id and an empty
 * payload, which the guest keeps and reports at its next synchronous call,
 * as for an async call that failed in the server (docs/wire-protocol.md 7.3).
 */
void ava_relay_refuse_call(struct ava_router *r, struct ava_router_guest *g,
			   const struct ava_wire_header *hdr, const struct ava_abi_fn *fn,
			   enum ava_router_refusal why, const char *reason)
{
	struct ava_router_tenant *t = g->tenant;
	int async = (hdr->flags & AVA_WIRE_F_ASYNC) != 0;
	t->stats.refusals[why]++;
	/* Every refusal is counted; the first of each session is logged (all with --verbose). */
	if (r->verbose || g->refusals_logged++ == 0)
		ava_log_line("avarouterd: tenant %s session %" PRIu32 " (api %s): %s%s refused: "
			     "%s%s",
			     t->name, g->session, ava_relay_api_name(g), async ? "async " : "",
			     fn->name, reason,
			     r->verbose ? "" : " (further refusals of this session are counted)");
	struct ava_wire_header h = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_REPLY,
		.call_id = fn->id,
		.seq = hdr->seq,
		.thread_id = hdr->thread_id,
		.flags = async ? AVA_WIRE_F_DEFERRED_ERROR : 0,
		.status = (why == AVA_REFUSAL_MEMORY_QUOTA || why == AVA_REFUSAL_OBJECTS)
			      ? AVA_STATUS_OVER_QUOTA
			      : AVA_STATUS_REFUSED,
	};
	ava_relay_to_guest(r, g, &h, NULL);
}

void ava_relay_forward_released(struct ava_router *r)
{
	/* A send below can end sessions, which release more: the outer loop takes them. */
	if (r->forwarding_released)
		return;
	r->forwarding_released = 1;
	struct ava_enforce_release *rel;
	while ((rel = ava_enforce_next_release(r))) {
		struct ava_router_guest *g = rel->g;
		for (struct ava_enforce_frame *f = &rel->call; f; f = f->next) {
			/* a send that failed ended the session: the rest is dropped */
			if (g->state != AVA_GUEST_OPEN || !g->server)
				break;
			struct ava_wire_header h = f->hdr;
			h.session = g->session;
			if (f == &rel->call)
				g->tenant->stats.calls++;
			uint8_t *payload = f->payload;
			f->payload = NULL;
			(void)ava_relay_to_server(r, g->server, &h, payload, h.len_bytes);
		}
		ava_relay_update_guest_events(r, g); /* its release may have unpaused it */
		ava_enforce_release_free(rel);
	}
	r->forwarding_released = 0;
}

/* Forgets the transfers of a call that did not run (its REPLY's status is not OK). */
void ava_relay_drop_transfers(struct ava_router_guest *g, const struct ava_abi_fn *fn,
			      const struct ava_router_call *call)
{
	for (uint16_t i = 0; i < fn->n_args && i < call->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		if (v->kind == AVA_ABI_BUFFER && v->dir == AVA_ABI_DIR_OUT &&
		    (v->flags & AVA_ABI_V_LATE) && call->args[i].present)
			free(ava_map_del(&g->transfers, call->args[i].u64));
	}
	/* the MAP trailer's transfer, kept after the arguments */
	if (fn->ret.kind == AVA_ABI_MAP && call->args[fn->n_args].u64)
		free(ava_map_del(&g->transfers, call->args[fn->n_args].u64));
}

/* A retiring server's queue is empty: half-close the channel (the server reads EOF and exits). */
static void retire_flushed(struct ava_router_server *s)
{
	if (s->retiring && !s->shut_wr && s->conn_open && s->conn.out_bytes == 0) {
		(void)shutdown(s->conn.fd, SHUT_WR);
		s->shut_wr = 1;
	}
}

void ava_relay_release_server(struct ava_router *r, struct ava_router_server *s)
{
	if (!s->conn_open || s->retiring || s->sessions.count)
		return;
	if (s->shared && s->tenant->limits->servers == AVA_POLICY_SERVERS_SHARED)
		return; /* a tenant's shared server waits for its next session */
	size_t idx = (size_t)(s->api - r->apis);
	if (s->tenant->servers[idx] == s)
		s->tenant->servers[idx] = NULL;
	s->retiring = 1;
	s->retire_deadline_ms = r->now_ms + AVA_ROUTER_RETIRE_GRACE_MS;
	if (r->verbose)
		ava_log_line("avarouterd: tenant %s api %s: server pid %ld serves no session; "
			     "closing its channel",
			     s->tenant->name, s->api->name, (long)s->pid);
	retire_flushed(s);
}

void ava_relay_close_server(struct ava_router *r, struct ava_router_server *s)
{
	s->conn_open = 0;
	ava_map_fini(&s->sessions);
	if (s->registered)
		ava_poller_del(r->epfd, s->conn.fd);
	s->registered = 0;
	ava_conn_fini(&s->conn);
	s->throttled = 0;
}

int ava_relay_flush_server(struct ava_router *r, struct ava_router_server *s)
{
	if (ava_conn_flush(&s->conn) < 0) {
		ava_relay_fail_server(r, s, "write to the server failed");
		return -EPIPE;
	}
	ava_relay_check_throttle(r, s);
	retire_flushed(s);
	return 0;
}

void ava_relay_check_throttle(struct ava_router *r, struct ava_router_server *s)
{
	int want;
	if (!s->conn_open)
		want = 0;
	else if (s->throttled)
		want = s->conn.out_bytes > AVA_ROUTER_SERVER_OUT_LOW;
	else
		want = s->conn.out_bytes > AVA_ROUTER_SERVER_OUT_HIGH;
	if (want == s->throttled)
		return;
	s->throttled = want;
	if (!want)
		r->resume_guests = 1; /* their staged frames wait for ava_guest_resume */
	if (r->verbose)
		ava_log_line("avarouterd: tenant %s api %s: server pid %ld: %s guests (%zu bytes "
			     "queued)",
			     s->tenant->name, s->api->name, (long)s->pid,
			     want ? "pausing" : "resuming", s->conn.out_bytes);
	size_t pos = 0;
	struct ava_router_guest *g;
	while ((g = ava_map_next(&s->sessions, &pos, NULL)))
		ava_relay_update_guest_events(r, g);
}

int ava_relay_to_server(struct ava_router *r, struct ava_router_server *s,
			const struct ava_wire_header *hdr, uint8_t *payload, size_t len)
{
	if (!s->conn_open) {
		free(payload);
		return -EPIPE;
	}
	int ret = ava_conn_queue(&s->conn, hdr, payload, len);
	if (ret < 0) {
		ava_relay_fail_server(
		    r, s, ret == -ENOBUFS ? "queue to the server over cap" : "out of memory");
		return ret;
	}
	ret = ava_conn_flush(&s->conn);
	if (ret < 0) {
		ava_relay_fail_server(r, s, "write to the server failed");
		return ret;
	}
	retire_flushed(s);
	ava_relay_update_server_events(r, s);
	ava_relay_check_throttle(r, s);
	return 0;
}

void ava_relay_fail_server(struct ava_router *r, struct ava_router_server *s, const char *reason)
{
	if (!s->conn_open)
		return;
	if (s->retiring && s->reaped) {
		/* It exited after its last session ended, as asked: nobody to tell. */
		ava_relay_close_server(r, s);
		return;
	}
	s->conn_open = 0;
	size_t idx = (size_t)(s->api - r->apis);
	if (s->tenant->servers[idx] == s)
		s->tenant->servers[idx] = NULL;
	if (!s->reaped)
		kill(s->pid, SIGKILL); /* unreaped: the pid is still ours */
	ava_log_line("avarouterd: tenant %s api %s: server pid %ld gone (%s); ending its %zu "
		     "session(s)",
		     s->tenant->name, s->api->name, (long)s->pid, reason, s->sessions.count);
	char bye[256];
	snprintf(bye, sizeof(bye), "API server for %s gone (%s)", s->api->name, reason);
	for (;;) {
		size_t pos = 0;
		uint64_t id;
		struct ava_router_guest *g = ava_map_next(&s->sessions, &pos, &id);
		if (!g)
			break;
		ava_map_del(&s->sessions, id);
		g->server = NULL;
		ava_relay_end(r, g, AVA_STATUS_SERVER_GONE, bye, 0);
	}
	ava_relay_close_server(r, s);
}
