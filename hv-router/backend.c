/* SPDX-License-Identifier: MIT */
/*
 * avarouterd's API server processes (the processes themselves are
 * apiserver/; this is the router's side of them): spawning them, validating
 * what they send (servers run vendor code on guest input and are not
 * trusted either) before relay.c delivers it to the right session, reaping
 * them, and turning a server's death into BYE(SERVER_GONE) for its sessions
 * only.
 *
 * Which server a session gets (docs/router.md, "API servers"): by default
 * every guest application (one session: one connection of one process for
 * one API) gets a server of its own, as a native process has its own copy of
 * the vendor library, so a hang or crash of the library stays with the
 * program that caused it. A tenant whose policy says `servers: shared` gets
 * one server per API for all its sessions instead. A server is retired when
 * it serves no session and is not (or no longer) a tenant's shared one: the
 * router (relay.c) half-closes its channel, the server sees EOF and exits, and the
 * router keeps reading what it still sends (USAGE of calls that completed)
 * until it closes; one that has not exited AVA_ROUTER_RETIRE_GRACE_MS later
 * is killed. Either way SIGCHLD reaps it.
 *
 * Validation of a server frame (any failure kills that server; its sessions
 * get BYE(SERVER_GONE)):
 *   1. header (conn.c), then session field nonzero;
 *   2. a session that is not (or no longer) open on this server: dropped;
 *   3. REPLY: seq names an outstanding sync call of that session, call id is
 *      that call's function; a non-OK status comes with an empty payload, an
 *      OK one with results checked by ava_abi_check_reply against the call's
 *      recorded argument presence and counts; CALLBACK: callback id in range, no flags, seq not
 *      outstanding, payload checked by ava_abi_check_args(has_token = 1);
 *   4. USAGE: session issued by this router (it may have closed since),
 *      call id a device_time function, payload exactly u64 device_ns, no
 *      flags or status; the time is added to the tenant's stats.device_time_ns and the
 *      frame goes no further;
 *   5. any other kind is a violation.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"

#include "clock.h"
#include "enforce.h"
#include "log.h"
#include "poller.h"
#include "relay.h"

/*
 * The server's environment, built by the router rather than inherited
 * (docs/router.md, "The server's environment"): the router's own minus the
 * variables that steer a program onto AvA's guest side, where the server's
 * own ICD loader would then load the guest library instead of the vendor's
 * (an ava-run inside a shell that already points OCL_ICD_VENDORS at the AvA
 * ICD found no platform), then AVA_SERVER_ENV_<NAME>=<value> of the router's
 * environment as <NAME>=<value> (how an operator gives a server such a
 * variable on purpose), then AVA_TENANT and AVA_DEVICE.
 */
static const char *const server_env_dropped[] = {
	/* ICD loaders' vendor selection (ocl-icd, the Khronos loader) */
	"OCL_ICD_VENDORS",
	"OCL_ICD_FILENAMES",
	"OPENCL_VENDOR_PATH",
	/* the guest side's and ava-run's own */
	"AVA_ROUTER_SOCKET",
	"AVA_RUN_ROUTE",
	"AVA_GUEST_DIR",
	"AVA_ICD_VENDORS",
	"AVA_API_DIR",
	/* the router sets these (the last two) */
	"AVA_TENANT",
	"AVA_DEVICE",
};

#define SERVER_ENV_PREFIX "AVA_SERVER_ENV_"

extern char **environ;

/* Whether entry ("NAME=value") names one of names[0..n). */
static int env_names_one_of(const char *entry, const char *const *names, size_t n)
{
	size_t len = strcspn(entry, "=");
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && !strncmp(entry, names[i], len))
			return 1;
	return 0;
}

/* Whether environ holds AVA_SERVER_ENV_<entry's name>. */
static int env_overridden(const char *entry)
{
	size_t len = strcspn(entry, "="), plen = strlen(SERVER_ENV_PREFIX);
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, SERVER_ENV_PREFIX, plen) && !strncmp(*e + plen, entry, len) &&
		    (*e)[plen + len] == '=')
			return 1;
	return 0;
}

static char *env_entry(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s=%s", name, value);
	return s;
}

/* Frees a server_env_new array and what it points to; NULL is fine. */
static void server_env_free(char **envp)
{
	if (!envp)
		return;
	for (char **e = envp; *e; e++)
		free(*e);
	free(envp);
}

/* A server's environment (above), NULL-terminated, every string malloc'd. Returns 0 or -ENOMEM. */
static int server_env_new(const char *tenant, const char *device, char ***ret_envp)
{
	const size_t n_dropped = sizeof(server_env_dropped) / sizeof(server_env_dropped[0]);
	size_t n = 0, k = 0, plen = strlen(SERVER_ENV_PREFIX);
	for (char **e = environ; *e; e++)
		n++;
	char **envp = calloc(n + 3, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	for (char **e = environ; *e; e++) {
		const char *entry = *e;
		if (!strncmp(entry, SERVER_ENV_PREFIX, plen)) {
			entry += plen; /* given on purpose: passes whatever its name, */
			if (entry[0] == '=' || !strchr(entry, '=') ||
			    env_names_one_of(entry, server_env_dropped + n_dropped - 2, 2))
				continue; /* but for the router's own two */
		} else if (!strchr(entry, '=') ||
			   env_names_one_of(entry, server_env_dropped, n_dropped) ||
			   env_overridden(entry)) {
			continue;
		}
		if (!(envp[k++] = strdup(entry)))
			goto oom;
	}
	if (!(envp[k++] = env_entry("AVA_TENANT", tenant)) ||
	    !(envp[k++] = env_entry("AVA_DEVICE", device)))
		goto oom;
	*ret_envp = envp;
	return 0;
oom:
	server_env_free(envp);
	return -ENOMEM;
}

/*
 * Everything after this in the child is async-signal-safe or exec. The
 * server learns its tenant (AVA_TENANT) and the device the policy places it
 * on (AVA_DEVICE, a `devices:` name) from envp (server_env_new).
 */
static void __attribute__((noreturn))
child_exec(const char *path, char *const *envp, int sock, pid_t parent)
{
	/* Die with the router; check for the race where it already died. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		_exit(127);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(127);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);

	/* The channel becomes fd 3; stdin is /dev/null; stdout and stderr stay (logs). */
	int chan = 3;
	if (sock != chan) {
		if (dup2(sock, chan) < 0)
			_exit(127);
	} else {
		int fl = fcntl(chan, F_GETFD);
		if (fl < 0 || fcntl(chan, F_SETFD, fl & ~FD_CLOEXEC) < 0)
			_exit(127);
	}
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd >= 0 && null_fd != 0) {
		dup2(null_fd, 0);
		close(null_fd);
	}
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 4u, ~0u, 0u) < 0)
#endif
	{
		long max_fd = sysconf(_SC_OPEN_MAX);
		for (long fd = 4; fd < (max_fd > 0 ? max_fd : 1024); fd++)
			close((int)fd);
	}
	char *const argv[] = { (char *)path, (char *)"--fd", (char *)"3", NULL };
	execve(path, argv, envp);
	int e = errno;
	const char *msg = "avarouterd: exec of API server failed: ";
	ssize_t ignored = write(2, msg, strlen(msg));
	ignored = write(2, path, strlen(path));
	ignored = write(2, ": ", 2);
	ignored = write(2, strerror(e), strlen(strerror(e)));
	ignored = write(2, "\n", 1);
	(void)ignored;
	_exit(127);
}

static struct ava_router_server *spawn(struct ava_router *r, struct ava_router_tenant *t,
				       struct ava_router_api *api, int shared)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ava_log_line("avarouterd: tenant %s api %s: socketpair: %s", t->name, api->name,
			     strerror(errno));
		return NULL;
	}
	struct ava_router_server *s = calloc(1, sizeof(*s));
	if (!s) {
		ava_log_line("avarouterd: tenant %s api %s: out of memory", t->name, api->name);
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	const struct ava_policy_device *dev = ava_policy_placement(r->policy, t->limits, api->name);
	const char *device = dev ? dev->name : AVA_POLICY_DEFAULT_DEVICE;
	char **envp = NULL;
	if (server_env_new(t->name, device, &envp) < 0) {
		ava_log_line("avarouterd: tenant %s api %s: out of memory", t->name, api->name);
		close(sv[0]);
		close(sv[1]);
		free(s);
		return NULL;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		ava_log_line("avarouterd: tenant %s api %s: fork: %s", t->name, api->name,
			     strerror(errno));
		server_env_free(envp);
		close(sv[0]);
		close(sv[1]);
		free(s);
		return NULL;
	}
	if (pid == 0)
		child_exec(api->server_path, envp, sv[1], parent);
	server_env_free(envp);
	close(sv[1]);
	int fl = fcntl(sv[0], F_GETFL);
	if (fl >= 0)
		(void)fcntl(sv[0], F_SETFL, fl | O_NONBLOCK);

	s->ev_type = AVA_ROUTER_EV_SERVER;
	ava_conn_init(&s->conn, sv[0], AVA_ROUTER_SERVER_OUT_CAP);
	s->tenant = t;
	s->api = api;
	s->pid = pid;
	s->conn_open = 1;
	s->shared = shared;
	ava_map_init(&s->sessions);
	s->next = r->servers;
	r->servers = s;
	ava_log_line("avarouterd: tenant %s api %s: server pid %ld started on device %s (%s%s)",
		     t->name, api->name, (long)pid, device, api->server_path,
		     shared ? ", shared" : "");
	if (ava_poller_add(r->epfd, sv[0], EPOLLIN, s) < 0) {
		ava_relay_fail_server(r, s, "epoll registration failed");
		return NULL;
	}
	s->registered = 1;
	s->ep_events = EPOLLIN;
	return s;
}

struct ava_router_server *ava_backend_get(struct ava_router *r, struct ava_router_tenant *t,
					  struct ava_router_api *api)
{
	if (t->limits->servers != AVA_POLICY_SERVERS_SHARED)
		return spawn(r, t, api, 0);
	size_t idx = (size_t)(api - r->apis);
	struct ava_router_server *s = t->servers[idx];
	if (s && s->conn_open && !s->retiring)
		return s;
	s = spawn(r, t, api, 1);
	t->servers[idx] = s;
	return s;
}

void ava_backend_tick(struct ava_router *r)
{
	for (struct ava_router_server *s = r->servers; s; s = s->next) {
		/* An idle shared server whose tenant no longer shares (policy reload) goes too. */
		ava_relay_release_server(r, s);
		if (!s->retiring || s->reaped || s->killed || r->now_ms < s->retire_deadline_ms)
			continue;
		ava_log_line("avarouterd: tenant %s api %s: server pid %ld did not exit within "
			     "%d s of its last session's end; killing it",
			     s->tenant->name, s->api->name, (long)s->pid,
			     AVA_ROUTER_RETIRE_GRACE_MS / 1000);
		kill(s->pid, SIGKILL); /* unreaped: the pid is still ours */
		s->killed = 1;
		if (s->conn_open)
			ava_relay_close_server(r, s);
	}
}

static void server_violation(struct ava_router *r, struct ava_router_server *s, const char *fmt,
			     ...) __attribute__((format(printf, 3, 4)));

static void server_violation(struct ava_router *r, struct ava_router_server *s, const char *fmt,
			     ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	ava_log_line("avarouterd: tenant %s api %s: server pid %ld: %s; killing server",
		     s->tenant->name, s->api->name, (long)s->pid, reason);
	ava_relay_fail_server(r, s, "malformed frame from server");
}

static void handle_reply(struct ava_router *r, struct ava_router_server *s,
			 struct ava_router_guest *g, const struct ava_wire_header *hdr,
			 uint8_t *payload)
{
	const struct ava_abi_api *abi = s->api->abi;
	struct ava_router_call *call = ava_map_get(&g->calls, hdr->seq);
	if (!call) {
		server_violation(r, s,
				 "REPLY for seq %" PRIu64 " of session %" PRIu32
				 ", which has no such outstanding call",
				 hdr->seq, g->session);
		goto drop;
	}
	const struct ava_abi_fn *fn = &abi->fns[call->fn_id];
	if (hdr->flags & ~AVA_WIRE_F_DEFERRED_ERROR) {
		server_violation(r, s, "REPLY to %s with flags 0x%x", fn->name, hdr->flags);
		goto drop;
	}
	if (hdr->call_id != call->fn_id) {
		server_violation(r, s, "REPLY with call id %" PRIu32 " to a call of %s",
				 hdr->call_id, fn->name);
		goto drop;
	}
	/*
	 * A failed call (bad handle, ...) carries its status and no results.
	 * DEFERRED_ERROR with a failure status is the router's own refusal of
	 * an async call (ava_relay_refuse_call), never a server's.
	 */
	if (hdr->status != AVA_STATUS_OK && (hdr->flags & AVA_WIRE_F_DEFERRED_ERROR)) {
		server_violation(r, s, "REPLY to %s with status %s and DEFERRED_ERROR", fn->name,
				 ava_wire_status_name(hdr->status));
		goto drop;
	}
	if (hdr->status != AVA_STATUS_OK && hdr->len_bytes != 0) {
		server_violation(r, s, "REPLY to %s with status %s and a payload", fn->name,
				 ava_wire_status_name(hdr->status));
		goto drop;
	}
	struct ava_abi_view ret_views[1 + AVA_ABI_MAX_ARGS];
	if (hdr->status == AVA_STATUS_OK) {
		struct ava_abi_view call_views[AVA_ABI_MAX_ARGS];
		struct ava_abi_view deferred;
		uint32_t deferred_fn = 0;
		char err[256];
		memset(call_views, 0, sizeof(call_views));
		for (uint16_t i = 0; i < call->n_args && i < AVA_ABI_MAX_ARGS; i++) {
			call_views[i].present = call->args[i].present;
			call_views[i].count = call->args[i].count;
			call_views[i].u64 = call->args[i].u64;
		}
		if (ava_abi_check_reply(abi, fn, call_views, hdr->flags, payload, hdr->len_bytes,
					ret_views, &deferred_fn, &deferred, err, sizeof(err)) < 0) {
			server_violation(r, s, "REPLY to %s: %s", fn->name, err);
			goto drop;
		}
	}
	ava_enforce_reply(r, g, call, fn, hdr, hdr->status == AVA_STATUS_OK ? ret_views : NULL);
	if (hdr->status != AVA_STATUS_OK)
		ava_relay_drop_transfers(g, fn, call);
	free(ava_map_del(&g->calls, hdr->seq));
	ava_relay_to_guest(r, g, hdr, payload);
	return;
drop:
	free(payload);
}

/*
 * DATA: the late bytes of a transfer the guest's CALL named, in pieces of
 * 1..AVA_WIRE_CHUNK_MAX_BYTES in order until exactly the size asked for
 * (one empty frame for a 0-byte transfer), or, with a failure status before
 * any piece, just the id. Each piece is forwarded as it comes.
 */
static void handle_data(struct ava_router *r, struct ava_router_server *s,
			struct ava_router_guest *g, const struct ava_wire_header *hdr,
			uint8_t *payload)
{
	struct ava_wire_cursor c = ava_wire_cursor_of(payload, hdr->len_bytes);
	uint64_t id = 0;
	if (hdr->flags || hdr->thread_id || ava_wire_get_u64(&c, &id) < 0) {
		server_violation(r, s, "DATA with flags, a thread id or no transfer id");
		goto drop;
	}
	struct ava_router_transfer *t = ava_map_get(&g->transfers, id);
	if (!t) {
		server_violation(r, s,
				 "DATA for transfer %" PRIu64 " of session %" PRIu32
				 ", which has no such outstanding transfer",
				 id, g->session);
		goto drop;
	}
	uint64_t n = (uint64_t)(c.end - c.cur), left = t->len_bytes - t->done_bytes;
	int ok_piece =
	    hdr->status == AVA_STATUS_OK
		? (left == 0 ? n == 0 : n >= 1 && n <= left && n <= AVA_WIRE_CHUNK_MAX_BYTES)
		: n == 0 && t->done_bytes == 0;
	if (hdr->call_id != t->fn_id || !ok_piece) {
		server_violation(r, s,
				 "DATA for transfer %" PRIu64 " with call id %" PRIu32 ", status %s"
				 " and %" PRIu64 " bytes; the call (fn %" PRIu32
				 ") asked for %" PRIu64 " of which %" PRIu64
				 " came (pieces of 1 to %u bytes)",
				 id, hdr->call_id, ava_wire_status_name(hdr->status), n, t->fn_id,
				 t->len_bytes, t->done_bytes, AVA_WIRE_CHUNK_MAX_BYTES);
		goto drop;
	}
	t->done_bytes += n;
	if (hdr->status != AVA_STATUS_OK || t->done_bytes == t->len_bytes)
		free(ava_map_del(&g->transfers, id));
	ava_relay_to_guest(r, g, hdr, payload);
	return;
drop:
	free(payload);
}

/*
 * OUTPUT: what the server's process wrote to its stdout, for the guest's
 * stdout. Opaque bytes; only the framing is checked.
 */
static void handle_output(struct ava_router *r, struct ava_router_server *s,
			  struct ava_router_guest *g, const struct ava_wire_header *hdr,
			  uint8_t *payload)
{
	if (hdr->call_id || hdr->seq || hdr->thread_id || hdr->flags || hdr->status ||
	    hdr->len_bytes == 0 || hdr->len_bytes > AVA_WIRE_OUTPUT_MAX_BYTES) {
		server_violation(r, s,
				 "OUTPUT with %" PRIu32 " bytes (1 to %u allowed) or a non-zero "
				 "call id, seq, thread id, flags or status",
				 hdr->len_bytes, AVA_WIRE_OUTPUT_MAX_BYTES);
		free(payload);
		return;
	}
	ava_relay_to_guest(r, g, hdr, payload);
}

static void handle_callback(struct ava_router *r, struct ava_router_server *s,
			    struct ava_router_guest *g, const struct ava_wire_header *hdr,
			    uint8_t *payload)
{
	const struct ava_abi_api *abi = s->api->abi;
	if (hdr->call_id >= abi->n_callbacks) {
		server_violation(r, s, "CALLBACK with bad callback id %" PRIu32, hdr->call_id);
		goto drop;
	}
	const struct ava_abi_callback *cb = &abi->callbacks[hdr->call_id];
	if (hdr->flags || hdr->status) {
		server_violation(r, s, "CALLBACK %s with nonzero flags or status", cb->name);
		goto drop;
	}
	struct ava_abi_view views[AVA_ABI_MAX_ARGS];
	char err[256];
	if (cb->n_args > AVA_ABI_MAX_ARGS ||
	    ava_abi_check_args(abi, cb->n_args, cb->args, 1, payload, hdr->len_bytes, views, err,
			       sizeof(err)) < 0) {
		server_violation(r, s, "CALLBACK %s: %s", cb->name,
				 cb->n_args > AVA_ABI_MAX_ARGS ? "too many arguments" : err);
		goto drop;
	}
	if (ava_map_get(&g->callbacks, hdr->seq)) {
		server_violation(r, s,
				 "CALLBACK %s reuses seq %" PRIu64 " of an outstanding callback",
				 cb->name, hdr->seq);
		goto drop;
	}
	if (g->callbacks.count >= AVA_ROUTER_MAX_OUTSTANDING) {
		server_violation(r, s, "more than %u outstanding callbacks in session %" PRIu32,
				 AVA_ROUTER_MAX_OUTSTANDING, g->session);
		goto drop;
	}
	if (ava_map_put(&g->callbacks, hdr->seq, (void *)(uintptr_t)(hdr->call_id + 1u)) < 0) {
		free(payload);
		ava_relay_end(r, g, AVA_STATUS_NO_MEMORY, "router out of memory", 1);
		return;
	}
	ava_relay_to_guest(r, g, hdr, payload);
	return;
drop:
	free(payload);
}

/*
 * USAGE: the device time one device_time CALL took, measured by the server.
 * It may arrive after its session closed (the server waits for the device
 * off the call's path), so any session id the router has issued is accepted;
 * the time is charged to the server's tenant, whichever session it names.
 */
static void handle_usage(struct ava_router *r, struct ava_router_server *s,
			 const struct ava_wire_header *hdr, const uint8_t *payload)
{
	const struct ava_abi_api *abi = s->api->abi;
	struct ava_wire_cursor c = ava_wire_cursor_of(payload, hdr->len_bytes);
	uint64_t ns;

	if (hdr->session == 0 ||
	    (!ava_map_get(&s->sessions, hdr->session) && hdr->session >= r->next_session)) {
		server_violation(r, s, "USAGE for session %" PRIu32 ", which was never opened",
				 hdr->session);
		return;
	}
	if (hdr->len_bytes != 8 || hdr->flags || hdr->status || hdr->thread_id) {
		server_violation(r, s, "USAGE with a %" PRIu32 "-byte payload or non-zero flags",
				 hdr->len_bytes);
		return;
	}
	if (hdr->call_id >= abi->n_fns ||
	    !(abi->fns[hdr->call_id].flags & AVA_ABI_FN_DEVICE_TIME)) {
		server_violation(r, s, "USAGE for fn %" PRIu32 ", which is not a device_time call",
				 hdr->call_id);
		return;
	}
	if (ava_wire_get_u64(&c, &ns) < 0)
		return; /* len checked above */
	s->tenant->stats.device_time_ns += ns;
	ava_enforce_usage(r, s, hdr->session, hdr->seq, ns);
	ava_relay_forward_released(r); /* the freed device slot may let a call go */
	if (r->verbose)
		ava_log_line("avarouterd: tenant %s api %s: session %" PRIu32 " seq %" PRIu64
			     " %s used %" PRIu64 " ns of device time (tenant total %" PRIu64 ")",
			     s->tenant->name, s->api->name, hdr->session, hdr->seq,
			     abi->fns[hdr->call_id].name, ns, s->tenant->stats.device_time_ns);
}

static void handle_frame(struct ava_router *r, struct ava_router_server *s,
			 const struct ava_wire_header *hdr, uint8_t *payload)
{
	if (r->verbose)
		ava_log_line("avarouterd: tenant %s api %s: server %s session %" PRIu32
			     " seq %" PRIu64 " len %" PRIu32 " status %s",
			     s->tenant->name, s->api->name, ava_wire_kind_name(hdr->kind),
			     hdr->session, hdr->seq, hdr->len_bytes,
			     ava_wire_status_name(hdr->status));
	if (hdr->kind == AVA_WIRE_USAGE) {
		handle_usage(r, s, hdr, payload);
		goto drop;
	}
	if (hdr->kind != AVA_WIRE_REPLY && hdr->kind != AVA_WIRE_CALLBACK &&
	    hdr->kind != AVA_WIRE_DATA && hdr->kind != AVA_WIRE_OUTPUT) {
		server_violation(r, s, "unexpected %s frame from a server",
				 ava_wire_kind_name(hdr->kind));
		goto drop;
	}
	if (hdr->session == 0) {
		server_violation(r, s, "%s with session 0", ava_wire_kind_name(hdr->kind));
		goto drop;
	}
	struct ava_router_guest *g = ava_map_get(&s->sessions, hdr->session);
	if (!g || g->state != AVA_GUEST_OPEN) {
		/* The session ended (or never was this server's): nothing to deliver to. */
		if (r->verbose)
			ava_log_line("avarouterd: tenant %s api %s: dropping %s for session "
				     "%" PRIu32 ", which is not open",
				     s->tenant->name, s->api->name, ava_wire_kind_name(hdr->kind),
				     hdr->session);
		goto drop;
	}
	if (hdr->kind == AVA_WIRE_REPLY)
		handle_reply(r, s, g, hdr, payload);
	else if (hdr->kind == AVA_WIRE_DATA)
		handle_data(r, s, g, hdr, payload);
	else if (hdr->kind == AVA_WIRE_OUTPUT)
		handle_output(r, s, g, hdr, payload);
	else
		handle_callback(r, s, g, hdr, payload);
	return;
drop:
	free(payload);
}

static void log_exit(struct ava_router_server *s, int status)
{
	if (WIFEXITED(status))
		ava_log_line("avarouterd: tenant %s api %s: server pid %ld exited with status %d",
			     s->tenant->name, s->api->name, (long)s->pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		ava_log_line("avarouterd: tenant %s api %s: server pid %ld killed by signal %d "
			     "(%s)",
			     s->tenant->name, s->api->name, (long)s->pid, WTERMSIG(status),
			     strsignal(WTERMSIG(status)));
}

/*
 * EOF from a server usually means it died: reap it now if so, so that the
 * sessions' BYE says how it ended.
 */
static void server_eof(struct ava_router *r, struct ava_router_server *s)
{
	int status;
	char why[96];
	if (!s->reaped && waitpid(s->pid, &status, WNOHANG) == s->pid) {
		s->reaped = 1;
		log_exit(s, status);
		if (WIFSIGNALED(status))
			snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
		else
			snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(status));
		ava_relay_fail_server(r, s, why);
		return;
	}
	if (s->retiring) {
		/* Exiting as asked; SIGCHLD reaps it (or the retire deadline kills it). */
		ava_relay_close_server(r, s);
		return;
	}
	ava_relay_fail_server(r, s, "server closed its channel");
}

void ava_backend_on_events(struct ava_router *r, struct ava_router_server *s, uint32_t events)
{
	if (!s->conn_open)
		return;
	if (events & EPOLLOUT) {
		if (ava_relay_flush_server(r, s) < 0)
			return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		/* a hangup is read even while held back: it would be reported again and again */
		int hangup = (events & (EPOLLHUP | EPOLLERR)) != 0;
		ava_conn_arm(&s->conn);
		/*
		 * Bytes already staged are consumed unless a guest's backlog holds the
		 * server back (then ava_backend_resume reads them once it drains).
		 */
		for (int i = 0; (i < AVA_ROUTER_FRAMES_PER_WAKEUP || s->conn.stage) &&
				s->conn_open && (!s->n_backlogged || hangup);
		     i++) {
			struct ava_wire_header hdr;
			uint8_t *payload = NULL;
			const char *reason = NULL;
			int ret = ava_conn_read_frame(&s->conn, &hdr, &payload, &reason);
			if (ret == 0)
				break;
			if (ret == -EPIPE) {
				server_eof(r, s);
				return;
			}
			if (ret == -EPROTO || ret == -EMSGSIZE) {
				server_violation(r, s, "bad frame header: %s",
						 reason ? reason : "invalid");
				return;
			}
			if (ret < 0) {
				char why[128];
				snprintf(why, sizeof(why), "read from the server failed: %s",
					 strerror(-ret));
				ava_relay_fail_server(r, s, why);
				return;
			}
			handle_frame(r, s, &hdr, payload);
		}
	}
	if (s->conn_open)
		ava_relay_update_server_events(r, s);
}

void ava_backend_resume(struct ava_router *r)
{
	r->resume_servers = 0;
	for (struct ava_router_server *s = r->servers; s; s = s->next) {
		if (s->conn_open && !s->n_backlogged && s->conn.stage)
			ava_backend_on_events(r, s, EPOLLIN);
	}
}

void ava_backend_reap(struct ava_router *r)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		struct ava_router_server *s = r->servers;
		while (s && s->pid != pid)
			s = s->next;
		if (!s)
			continue;
		s->reaped = 1;
		log_exit(s, status);
		if (s->conn_open) {
			char why[96];
			if (WIFSIGNALED(status))
				snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
			else
				snprintf(why, sizeof(why), "exited with status %d",
					 WEXITSTATUS(status));
			ava_relay_fail_server(r, s, why);
		}
	}
}

void ava_backend_collect(struct ava_router *r)
{
	struct ava_router_server **pp = &r->servers;
	while (*pp) {
		struct ava_router_server *s = *pp;
		if (s->reaped && !s->conn_open) {
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
}

void ava_backend_stop_all(struct ava_router *r)
{
	int n_alive = 0;
	for (struct ava_router_server *s = r->servers; s; s = s->next) {
		if (s->conn_open) {
			ava_map_fini(&s->sessions); /* guests were closed by the caller */
			if (s->registered)
				ava_poller_del(r->epfd, s->conn.fd);
			s->registered = 0;
			ava_conn_fini(&s->conn);
			s->conn_open = 0;
		}
		if (!s->reaped) {
			kill(s->pid, SIGTERM);
			n_alive++;
		}
	}
	int64_t deadline = ava_clock_now_ms() + AVA_ROUTER_SHUTDOWN_GRACE_MS;
	while (n_alive > 0) {
		int64_t left = deadline - ava_clock_now_ms();
		if (left <= 0)
			break;
		/* SIGCHLD is blocked and read through the signalfd. */
		struct pollfd pfd = { .fd = r->sigfd, .events = POLLIN };
		(void)poll(&pfd, 1, (int)left);
		struct signalfd_siginfo si;
		while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
		ava_backend_reap(r);
		n_alive = 0;
		for (struct ava_router_server *s = r->servers; s; s = s->next)
			n_alive += !s->reaped;
	}
	for (struct ava_router_server *s = r->servers; s; s = s->next) {
		if (s->reaped)
			continue;
		ava_log_line("avarouterd: tenant %s api %s: server pid %ld ignored SIGTERM; "
			     "killing it",
			     s->tenant->name, s->api->name, (long)s->pid);
		kill(s->pid, SIGKILL);
		int status;
		if (waitpid(s->pid, &status, 0) == s->pid) {
			s->reaped = 1;
			log_exit(s, status);
		}
	}
	ava_backend_collect(r);
}
