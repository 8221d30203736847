/* SPDX-License-Identifier: MIT */
/*
 * avarouterd's admin socket: the control plane that avactl talks to
 * (docs/router.md, "Admin socket"; messages in admin.proto).
 *
 * The socket is mode 0600 and every connection is checked again with
 * SO_PEERCRED: only root and the router's own uid are served; anyone else
 * gets one CODE_DENIED Response and the connection is closed (and logged).
 *
 * Served in the router's epoll loop, non-blocking, and bounded: at most
 * ADMIN_MAX_CLIENTS connections; a Request is a u32 little-endian length
 * (at most AVA_ADMIN_MAX_REQUEST_BYTES, checked before anything is
 * allocated) and the message; one Request is handled at a time per
 * connection and the next is not read before its Response has been written
 * (so a client that does not read cannot make the router queue more than one
 * Response for it); a connection that makes no progress for ADMIN_TIMEOUT_MS
 * is closed. A Request that does not decode is answered CODE_BAD_REQUEST and
 * the connection stays usable; a length over the cap is answered and then
 * the connection is closed (the stream cannot be resynchronised).
 */
#define _GNU_SOURCE /* accept4, struct ucred */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin.h"

#include "admin-proto.h"
#include "enforce.h"
#include "listen.h"
#include "log.h"
#include "poller.h"
#include "tenant.h"

#define ADMIN_MAX_CLIENTS	 16
#define ADMIN_TIMEOUT_MS	 30000
#define ADMIN_ACCEPTS_PER_WAKEUP 16

struct ava_admin_client {
	int ev_type; /* first member: epoll data points here */
	int fd;
	struct ava_admin_client *next; /* admin->clients, then admin->graveyard */
	uid_t uid;
	pid_t pid;
	/* Input: the Request being received. */
	uint8_t len_buf[AVA_ADMIN_LEN_BYTES];
	uint32_t len_got;
	uint8_t *req;
	uint32_t req_len;
	uint32_t req_got;
	/* Output: at most one Response. */
	uint8_t *out;
	size_t out_len;
	size_t out_off;
	int close_after; /* close once the Response is written */
	int64_t progress_ms;
	uint32_t ep_events;
};

struct ava_admin {
	int ev_type; /* first member: epoll data points here */
	int fd;
	char *path;
	int paused; /* accept failed for lack of fds: not polled until the next tick */
	uid_t uid;  /* the router's effective uid */
	struct ava_admin_client *clients;
	unsigned n_clients;
	struct ava_admin_client *graveyard; /* freed after the epoll batch */
};

static const char *const refusal_names[AVA_REFUSAL_COUNT] = {
	[AVA_REFUSAL_UNKNOWN_TENANT] = "unknown_tenant",
	[AVA_REFUSAL_API] = "api",
	[AVA_REFUSAL_FUNCTION] = "function",
	[AVA_REFUSAL_CALL_RATE] = "call_rate",
	[AVA_REFUSAL_BYTE_RATE] = "byte_rate",
	[AVA_REFUSAL_MEMORY_QUOTA] = "memory_quota",
	[AVA_REFUSAL_OBJECTS] = "objects",
};

/* ---- responses ---- */

/*
 * Encodes resp with its length prefix into a malloc'd buffer. A Response
 * over the cap becomes a CODE_INTERNAL one. Returns 0 or -ENOMEM.
 */
static int encode_response(Ava__Admin__Response *resp, uint8_t **ret_buf, size_t *ret_len)
{
	Ava__Admin__Response too_big = AVA__ADMIN__RESPONSE__INIT;
	char why[128];
	size_t n = ava__admin__response__get_packed_size(resp);
	if (n > AVA_ADMIN_MAX_RESPONSE_BYTES) {
		snprintf(why, sizeof(why), "response of %zu bytes exceeds the %u-byte limit", n,
			 AVA_ADMIN_MAX_RESPONSE_BYTES);
		too_big.id = resp->id;
		too_big.code = AVA__ADMIN__CODE__CODE_INTERNAL;
		too_big.error = why;
		resp = &too_big;
		n = ava__admin__response__get_packed_size(resp);
	}
	uint8_t *buf = malloc(AVA_ADMIN_LEN_BYTES + n);
	if (!buf)
		return -ENOMEM;
	ava_admin_put_len(buf, (uint32_t)n);
	ava__admin__response__pack(resp, buf + AVA_ADMIN_LEN_BYTES);
	*ret_buf = buf;
	*ret_len = AVA_ADMIN_LEN_BYTES + n;
	return 0;
}

/* For a connection about to be closed: one best-effort write of an error Response. */
static void send_refusal(int fd, Ava__Admin__Code code, const char *error)
{
	Ava__Admin__Response resp = AVA__ADMIN__RESPONSE__INIT;
	resp.code = code;
	resp.error = (char *)error;
	uint8_t *buf = NULL;
	size_t len = 0;
	if (encode_response(&resp, &buf, &len) < 0)
		return;
	ssize_t ignored = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)ignored;
	free(buf);
}

/* ---- status ---- */

static int build_status(struct ava_router *r, Ava__Admin__StatusReply *st, void **ret_mem)
{
	size_t n_tenants = 0, n_servers = 0, n_apps = 0;
	for (struct ava_router_tenant *t = r->tenants; t; t = t->next)
		n_tenants++;
	for (struct ava_router_server *s = r->servers; s; s = s->next) {
		n_servers++;
		n_apps += s->conn_open ? s->sessions.count : 0;
	}
	const struct ava_policy *pol = r->policy;
	const size_t n_devices = pol->n_devices;

	/* One allocation for every message and pointer array of the reply. */
	size_t sz =
	    n_tenants * (sizeof(Ava__Admin__TenantStatus) + sizeof(void *) +
			 AVA_REFUSAL_COUNT * (sizeof(Ava__Admin__RefusalCount) + sizeof(void *))) +
	    n_servers * (sizeof(Ava__Admin__ServerStatus) + sizeof(void *)) +
	    n_apps * (sizeof(Ava__Admin__ApplicationStatus) + sizeof(void *)) +
	    n_devices * (sizeof(Ava__Admin__DeviceStatus) + sizeof(void *));
	char *mem = calloc(1, sz ? sz : 1);
	if (!mem)
		return -ENOMEM;
	*ret_mem = mem;
	/* Structs first (all 8-byte aligned), then the pointer arrays. */
	Ava__Admin__TenantStatus *ts = (void *)mem;
	Ava__Admin__RefusalCount *rc = (void *)(ts + n_tenants);
	Ava__Admin__ServerStatus *ss = (void *)(rc + n_tenants * AVA_REFUSAL_COUNT);
	Ava__Admin__ApplicationStatus *as = (void *)(ss + n_servers);
	Ava__Admin__DeviceStatus *ds = (void *)(as + n_apps);
	Ava__Admin__TenantStatus **tp = (void *)(ds + n_devices);
	Ava__Admin__RefusalCount **rp = (void *)(tp + n_tenants);
	Ava__Admin__ServerStatus **sp = (void *)(rp + n_tenants * AVA_REFUSAL_COUNT);
	Ava__Admin__ApplicationStatus **ap = (void *)(sp + n_servers);
	Ava__Admin__DeviceStatus **dp = (void *)(ap + n_apps);

	st->policy_file = r->policy_path ? r->policy_path : (char *)"";
	st->policy_generation = r->policy_generation;
	st->last_reload_error = r->policy_error ? r->policy_error : (char *)"";
	st->refuse_unknown = pol->refuse_unknown != 0;
	st->uptime_ms = (uint64_t)(r->now_ms - r->start_ms);

	size_t i = 0;
	for (struct ava_router_tenant *t = r->tenants; t; t = t->next, i++) {
		Ava__Admin__TenantStatus *x = &ts[i];
		ava__admin__tenant_status__init(x);
		tp[i] = x;
		x->name = t->name;
		x->matched = (char *)ava_tenant_matched(t);
		x->policy_line = t->entry ? t->entry->pos.line : 0;
		x->weight = t->limits->weight;
		x->sessions = t->n_guests;
		x->calls = t->stats.calls;
		x->bytes_in = t->stats.bytes_in;
		x->bytes_out = t->stats.bytes_out;
		x->n_refusals = AVA_REFUSAL_COUNT;
		x->refusals = &rp[i * AVA_REFUSAL_COUNT];
		for (size_t k = 0; k < AVA_REFUSAL_COUNT; k++) {
			Ava__Admin__RefusalCount *c = &rc[i * AVA_REFUSAL_COUNT + k];
			ava__admin__refusal_count__init(c);
			c->reason = (char *)refusal_names[k];
			c->count = t->stats.refusals[k];
			x->refusals[k] = c;
		}
		x->device_time_ns = t->stats.device_time_ns;
		x->memory_used = t->stats.memory_used;
		x->memory_quota = t->limits->memory_quota;
		x->objects = t->stats.objects;
		x->max_objects = t->limits->max_objects;
		x->delayed = t->enforce.delayed;
		x->delay_ns = t->enforce.delay_ns;
		x->held = t->enforce.held_now;
		x->memory_peak = t->enforce.quota.peak_bytes;
	}
	st->n_tenants = n_tenants;
	st->tenants = tp;

	i = 0;
	for (struct ava_router_server *s = r->servers; s; s = s->next, i++) {
		Ava__Admin__ServerStatus *x = &ss[i];
		ava__admin__server_status__init(x);
		sp[i] = x;
		x->tenant = s->tenant->name;
		x->api = s->api->name;
		x->pid = (int32_t)s->pid;
		x->sessions = (uint32_t)s->sessions.count;
		x->queue_bytes = s->conn.out_bytes;
		const struct ava_policy_device *dev =
		    ava_policy_placement(pol, s->tenant->limits, s->api->name);
		x->device = dev ? dev->name : (char *)AVA_POLICY_DEFAULT_DEVICE;
		x->shared = s->shared != 0;
		x->exiting = s->retiring != 0 || !s->conn_open;
		/* Its applications, by session id (the map's order is no order). */
		x->applications = ap;
		x->n_applications = s->conn_open ? s->sessions.count : 0;
		size_t pos = 0, k = 0;
		uint64_t id;
		struct ava_router_guest *g;
		while (k < x->n_applications && (g = ava_map_next(&s->sessions, &pos, &id))) {
			Ava__Admin__ApplicationStatus *a = as++;
			ava__admin__application_status__init(a);
			a->session = (uint32_t)id;
			a->pid = (int32_t)g->pid;
			a->uid = g->uid;
			size_t j = k++;
			while (j > 0 && ap[j - 1]->session > a->session) {
				ap[j] = ap[j - 1];
				j--;
			}
			ap[j] = a;
		}
		x->n_applications = k;
		ap += k;
	}
	st->n_servers = n_servers;
	st->servers = sp;

	/* Device-time calls running and waiting in each device's fair queue. */
	for (i = 0; i < n_devices; i++) {
		ava__admin__device_status__init(&ds[i]);
		ds[i].name = pol->devices[i].name;
		ds[i].max_inflight = pol->devices[i].max_inflight;
		ava_enforce_device_counts(r, pol->devices[i].name, &ds[i].inflight, &ds[i].queued);
		dp[i] = &ds[i];
	}
	st->n_devices = n_devices;
	st->devices = dp;
	return 0;
}

/* ---- requests ---- */

/* Handles one complete Request of c and queues its Response. */
static void handle_request(struct ava_router *r, struct ava_admin_client *c)
{
	Ava__Admin__Response resp = AVA__ADMIN__RESPONSE__INIT;
	Ava__Admin__StatusReply status = AVA__ADMIN__STATUS_REPLY__INIT;
	Ava__Admin__PolicyReloadReply reload = AVA__ADMIN__POLICY_RELOAD_REPLY__INIT;
	void *status_mem = NULL;
	char *errors = NULL;
	char why[160];

	Ava__Admin__Request *req = ava__admin__request__unpack(NULL, c->req_len, c->req);
	if (!req) {
		snprintf(why, sizeof(why),
			 "request of %" PRIu32 " bytes is not a valid ava.admin.Request message",
			 c->req_len);
		ava_log_line("avarouterd: admin: uid %u pid %ld: %s", (unsigned)c->uid,
			     (long)c->pid, why);
		resp.code = AVA__ADMIN__CODE__CODE_BAD_REQUEST;
		resp.error = why;
		goto out;
	}
	resp.id = req->id;
	switch (req->command_case) {
	case AVA__ADMIN__REQUEST__COMMAND_STATUS:
		if (r->verbose)
			ava_log_line("avarouterd: admin: uid %u pid %ld: status", (unsigned)c->uid,
				     (long)c->pid);
		if (build_status(r, &status, &status_mem) < 0) {
			resp.code = AVA__ADMIN__CODE__CODE_INTERNAL;
			resp.error = (char *)"router out of memory";
			break;
		}
		resp.reply_case = AVA__ADMIN__RESPONSE__REPLY_STATUS;
		resp.status = &status;
		break;
	case AVA__ADMIN__REQUEST__COMMAND_POLICY_RELOAD: {
		const char *file = req->policy_reload->file;
		ava_log_line("avarouterd: admin: uid %u pid %ld: policy reload%s%s",
			     (unsigned)c->uid, (long)c->pid, *file ? " from " : "", file);
		if (*file && file[0] != '/') {
			resp.code = AVA__ADMIN__CODE__CODE_BAD_REQUEST;
			resp.error = (char *)"policy reload: the file must be an absolute path";
			break;
		}
		int ret = ava_tenant_policy_reload(r, *file ? file : NULL, &errors);
		if (ret < 0) {
			resp.code = AVA__ADMIN__CODE__CODE_INTERNAL;
			resp.error = (char *)"router out of memory; the current policy stays";
			break;
		}
		if (ret > 0) {
			resp.code = AVA__ADMIN__CODE__CODE_REJECTED;
			resp.error = errors ? errors : (char *)"policy rejected";
			break;
		}
		reload.file = r->policy_path ? r->policy_path : (char *)"";
		reload.generation = r->policy_generation;
		resp.reply_case = AVA__ADMIN__RESPONSE__REPLY_POLICY_RELOAD;
		resp.policy_reload = &reload;
		break;
	}
	default:
		snprintf(why, sizeof(why), "unknown command (field %d) in the request",
			 (int)req->command_case);
		resp.code = AVA__ADMIN__CODE__CODE_UNKNOWN_COMMAND;
		resp.error = why;
		break;
	}
out:;
	int ret = encode_response(&resp, &c->out, &c->out_len);
	c->out_off = 0;
	if (req)
		ava__admin__request__free_unpacked(req, NULL);
	free(status_mem);
	free(errors);
	if (ret < 0) {
		/* Not even an error fits: the client sees the connection close. */
		c->out = NULL;
		c->out_len = 0;
		c->close_after = 1;
	}
}

/* ---- connections ---- */

static void client_close(struct ava_router *r, struct ava_admin_client *c)
{
	struct ava_admin *a = r->admin;
	struct ava_admin_client **pp = &a->clients;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (!*pp)
		return; /* already closed */
	*pp = c->next;
	a->n_clients--;
	ava_poller_del(r->epfd, c->fd);
	close(c->fd);
	c->fd = -1;
	free(c->req);
	c->req = NULL;
	free(c->out);
	c->out = NULL;
	c->next = a->graveyard;
	a->graveyard = c;
}

static void client_update_events(struct ava_router *r, struct ava_admin_client *c)
{
	uint32_t want = c->out ? EPOLLOUT : (c->close_after ? 0 : EPOLLIN);
	if (want == c->ep_events)
		return;
	struct epoll_event ev = { .events = want, .data.ptr = c };
	if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ep_events = want;
}

/* Writes what the socket takes. Returns 0, or -1 if c was closed. */
static int client_flush(struct ava_router *r, struct ava_admin_client *c)
{
	while (c->out && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			c->progress_ms = r->now_ms;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		client_close(r, c);
		return -1;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->close_after) {
		client_close(r, c);
		return -1;
	}
	return 0;
}

/*
 * Reads towards one Request (never past its end, so the next stays in the
 * socket until this one is answered). Returns 1 with a complete Request, 0
 * when the socket has no more bytes now, or -1 if c was closed.
 */
static int client_read(struct ava_router *r, struct ava_admin_client *c)
{
	for (;;) {
		uint8_t *dst;
		size_t want;
		if (c->len_got < AVA_ADMIN_LEN_BYTES) {
			dst = c->len_buf + c->len_got;
			want = AVA_ADMIN_LEN_BYTES - c->len_got;
		} else if (c->req_got < c->req_len) {
			dst = c->req + c->req_got;
			want = c->req_len - c->req_got;
		} else {
			return 1;
		}
		ssize_t n = recv(c->fd, dst, want, MSG_DONTWAIT);
		if (n == 0) {
			if (c->len_got)
				ava_log_line("avarouterd: admin: uid %u pid %ld: disconnected "
					     "mid-request",
					     (unsigned)c->uid, (long)c->pid);
			client_close(r, c);
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			client_close(r, c);
			return -1;
		}
		c->progress_ms = r->now_ms;
		if (c->len_got < AVA_ADMIN_LEN_BYTES) {
			c->len_got += (uint32_t)n;
			if (c->len_got < AVA_ADMIN_LEN_BYTES)
				continue;
			uint32_t len = ava_admin_get_len(c->len_buf);
			if (len > AVA_ADMIN_MAX_REQUEST_BYTES) {
				char why[128];
				snprintf(why, sizeof(why),
					 "request length %" PRIu32 " exceeds the %u-byte limit",
					 len, AVA_ADMIN_MAX_REQUEST_BYTES);
				ava_log_line("avarouterd: admin: uid %u pid %ld: %s; closing",
					     (unsigned)c->uid, (long)c->pid, why);
				send_refusal(c->fd, AVA__ADMIN__CODE__CODE_BAD_REQUEST, why);
				client_close(r, c);
				return -1;
			}
			c->req_len = len;
			c->req_got = 0;
			/*
			 * An empty request gets a buffer too: it is handed to the
			 * protobuf decoder, which must never see NULL + 0.
			 */
			c->req = malloc(len ? len : 1);
			if (!c->req) {
				send_refusal(c->fd, AVA__ADMIN__CODE__CODE_INTERNAL,
					     "router out of memory");
				client_close(r, c);
				return -1;
			}
		} else {
			c->req_got += (uint32_t)n;
		}
	}
}

static void client_on_events(struct ava_router *r, struct ava_admin_client *c, uint32_t events)
{
	if (c->fd < 0)
		return; /* closed earlier in this batch */
	if (c->out) {
		if (client_flush(r, c) < 0)
			return;
	} else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		int got = client_read(r, c);
		if (got < 0)
			return;
		if (got == 1) {
			handle_request(r, c);
			free(c->req);
			c->req = NULL;
			c->len_got = c->req_len = c->req_got = 0;
			if (client_flush(r, c) < 0)
				return;
		}
	}
	if (!c->out && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN)) {
		client_close(r, c);
		return;
	}
	client_update_events(r, c);
}

static void accept_some(struct ava_router *r)
{
	struct ava_admin *a = r->admin;
	for (int k = 0; k < ADMIN_ACCEPTS_PER_WAKEUP; k++) {
		int fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			ava_log_line("avarouterd: admin: accept on %s: %s; pausing it for a "
				     "second",
				     a->path, strerror(errno));
			struct epoll_event ev = { .events = 0, .data.ptr = a };
			if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, a->fd, &ev) == 0)
				a->paused = 1;
			return;
		}
		struct ucred cred;
		socklen_t cred_len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0) {
			ava_log_line("avarouterd: admin: SO_PEERCRED: %s; closing connection",
				     strerror(errno));
			close(fd);
			continue;
		}
		if (cred.uid != 0 && cred.uid != a->uid) {
			char why[160];
			snprintf(
			    why, sizeof(why),
			    "permission denied: uid %u may not use the admin socket (only root "
			    "and uid %u)",
			    (unsigned)cred.uid, (unsigned)a->uid);
			ava_log_line("avarouterd: admin: refused a connection from uid %u pid %ld "
				     "(only root and uid %u are served)",
				     (unsigned)cred.uid, (long)cred.pid, (unsigned)a->uid);
			send_refusal(fd, AVA__ADMIN__CODE__CODE_DENIED, why);
			close(fd);
			continue;
		}
		if (a->n_clients >= ADMIN_MAX_CLIENTS) {
			ava_log_line("avarouterd: admin: over %d connections; refusing one from "
				     "uid %u pid %ld",
				     ADMIN_MAX_CLIENTS, (unsigned)cred.uid, (long)cred.pid);
			send_refusal(fd, AVA__ADMIN__CODE__CODE_DENIED,
				     "too many admin connections; try again");
			close(fd);
			continue;
		}
		struct ava_admin_client *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->ev_type = AVA_ROUTER_EV_ADMIN;
		c->fd = fd;
		c->uid = cred.uid;
		c->pid = cred.pid;
		c->progress_ms = r->now_ms;
		if (ava_poller_add(r->epfd, fd, EPOLLIN, c) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->ep_events = EPOLLIN;
		c->next = a->clients;
		a->clients = c;
		a->n_clients++;
	}
}

void ava_admin_on_events(struct ava_router *r, void *ptr, uint32_t events)
{
	if (*(int *)ptr == AVA_ROUTER_EV_ADMIN_LISTENER)
		accept_some(r);
	else
		client_on_events(r, ptr, events);
}

void ava_admin_tick(struct ava_router *r)
{
	struct ava_admin *a = r->admin;
	if (!a)
		return;
	if (a->paused) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = a };
		if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, a->fd, &ev) == 0)
			a->paused = 0;
	}
	struct ava_admin_client *next;
	for (struct ava_admin_client *c = a->clients; c; c = next) {
		next = c->next;
		if (r->now_ms - c->progress_ms >= ADMIN_TIMEOUT_MS) {
			ava_log_line("avarouterd: admin: uid %u pid %ld: no progress for %d s; "
				     "closing",
				     (unsigned)c->uid, (long)c->pid, ADMIN_TIMEOUT_MS / 1000);
			client_close(r, c);
		}
	}
}

void ava_admin_collect(struct ava_router *r)
{
	struct ava_admin *a = r->admin;
	if (!a)
		return;
	while (a->graveyard) {
		struct ava_admin_client *c = a->graveyard;
		a->graveyard = c->next;
		free(c);
	}
}

int ava_admin_open(struct ava_router *r, const char *path)
{
	struct ava_admin *a = calloc(1, sizeof(*a));
	char *p = strdup(path);
	if (!a || !p) {
		free(a);
		free(p);
		fprintf(stderr, "avarouterd: out of memory\n");
		return -1;
	}
	a->ev_type = AVA_ROUTER_EV_ADMIN_LISTENER;
	a->path = p;
	a->uid = geteuid();
	a->fd = ava_listen_unix(path, 0600);
	if (a->fd < 0) {
		fprintf(stderr,
			"avarouterd: cannot open the admin socket %s (choose another with "
			"--admin PATH)\n",
			path);
		free(a->path);
		free(a);
		return -1;
	}
	if (ava_poller_add(r->epfd, a->fd, EPOLLIN, a) < 0) {
		fprintf(stderr, "avarouterd: epoll: %s\n", strerror(errno));
		unlink(a->path);
		close(a->fd);
		free(a->path);
		free(a);
		return -1;
	}
	r->admin = a;
	ava_log_line("avarouterd: admin socket %s (root and uid %u)", path, (unsigned)a->uid);
	return 0;
}

void ava_admin_close(struct ava_router *r)
{
	struct ava_admin *a = r->admin;
	if (!a)
		return;
	while (a->clients)
		client_close(r, a->clients);
	ava_admin_collect(r);
	ava_poller_del(r->epfd, a->fd);
	close(a->fd);
	unlink(a->path);
	free(a->path);
	free(a);
	r->admin = NULL;
}
