/* SPDX-License-Identifier: MIT */
/*
 * The admin socket and avactl status (docs/router.md, "Admin socket"):
 *  - the socket is mode 0600 beside the first --listen socket, and removed at exit;
 *  - `avactl status --json` shows each tenant's sessions, calls and payload
 *    bytes in both directions, exactly, and its API servers;
 *  - a Request that does not decode gets CODE_BAD_REQUEST and the connection
 *    keeps serving; an unknown command gets CODE_UNKNOWN_COMMAND; a length
 *    over the cap gets an error and the connection is closed; the router
 *    keeps serving others throughout;
 *  - connections are bounded: past 16 at once, one more gets CODE_DENIED.
 * With "peercred" (as root only; else exit 77): another uid cannot connect
 * through the 0600 file, and with the file opened up, SO_PEERCRED still
 * refuses it with CODE_DENIED and a log line, and avactl says why.
 *
 *   test_router_admin AVAROUTERD API_DIR AVACTL [peercred]
 */
#define _GNU_SOURCE /* setresuid */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin-proto.h"
#include "harness.h"

static struct rt_router g_r;
static const char *g_avactl;

static int admin_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	RT_CHECK(strlen(path) < sizeof(addr.sun_path), "path too long: %s", path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	RT_CHECK(fd >= 0, "socket: %s", strerror(errno));
	RT_CHECK(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0, "connect %s: %s", path,
		 strerror(errno));
	return fd;
}

/* Sends a length prefix and body (len may differ from body_len, to lie). */
static void admin_send_raw(int fd, uint32_t len, const void *body, size_t body_len)
{
	uint8_t hdr[AVA_ADMIN_LEN_BYTES];
	ava_admin_put_len(hdr, len);
	RT_CHECK(rt_send_raw(fd, hdr, sizeof(hdr)) == 0, "send");
	if (body_len)
		RT_CHECK(rt_send_raw(fd, body, body_len) == 0, "send");
}

static void admin_send(int fd, Ava__Admin__Request *req)
{
	uint8_t buf[1024];
	size_t n = ava__admin__request__get_packed_size(req);
	RT_CHECK(n <= sizeof(buf), "request too big");
	ava__admin__request__pack(req, buf);
	admin_send_raw(fd, (uint32_t)n, buf, n);
}

/* Reads exactly len bytes (blocking, bounded by the socket timeout); 0 or -EPIPE. */
static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t k = recv(fd, (uint8_t *)buf + got, len - got, 0);
		if (k <= 0)
			return -EPIPE;
		got += (size_t)k;
	}
	return 0;
}

/* The next Response on fd, or NULL at EOF. */
static Ava__Admin__Response *admin_recv(int fd)
{
	struct timeval tv = { .tv_sec = RT_TIMEOUT_MS / 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	uint8_t hdr[AVA_ADMIN_LEN_BYTES];
	if (read_full(fd, hdr, sizeof(hdr)) < 0)
		return NULL;
	uint32_t len = ava_admin_get_len(hdr);
	RT_CHECK(len <= AVA_ADMIN_MAX_RESPONSE_BYTES, "response length %u", len);
	uint8_t *body = malloc(len ? len : 1);
	RT_CHECK(body != NULL, "oom");
	RT_CHECK(read_full(fd, body, len) == 0, "response cut short");
	Ava__Admin__Response *resp = ava__admin__response__unpack(NULL, len, body);
	free(body);
	RT_CHECK(resp != NULL, "response does not decode");
	return resp;
}

static int avactl(char *out, size_t out_len, const char *a1, const char *a2)
{
	const char *argv[] = { g_avactl, "--admin", g_r.admin, a1, a2, NULL };
	return rt_run(out, out_len, argv);
}

/* The number after "field": on the JSON line of tenant name (avactl prints one per line). */
static uint64_t tenant_field(const char *json, const char *name, const char *field)
{
	char key[128];
	snprintf(key, sizeof(key), "{\"name\": \"%s\"", name);
	const char *line = strstr(json, key);
	RT_CHECK(line != NULL, "tenant %s not in status:\n%s", name, json);
	const char *eol = strchr(line, '\n');
	snprintf(key, sizeof(key), "\"%s\": ", field);
	const char *f = strstr(line, key);
	RT_CHECK(f && (!eol || f < eol), "no %s for tenant %s:\n%s", field, name, json);
	return strtoull(f + strlen(key), NULL, 10);
}

static void check_status_numbers(const struct ava_abi_api *abi)
{
	/* Two sessions of tenant alpha with 3 calls each; one of uid:<ours> with 1. */
	int a1 = rt_connect(&g_r, 0), a2 = rt_connect(&g_r, 0), u = rt_connect(&g_r, 1);
	RT_CHECK(rt_hello(a1, "avatest", abi->hash) == AVA_STATUS_OK, "hello");
	RT_CHECK(rt_hello(a2, "avatest", abi->hash) == AVA_STATUS_OK, "hello");
	RT_CHECK(rt_hello(u, "avatest", abi->hash) == AVA_STATUS_OK, "hello");
	for (int i = 0; i < 3; i++) {
		RT_CHECK(rt_add_one(a1, abi, i, (uint64_t)i + 1) == 0, "add_one");
		RT_CHECK(rt_add_one(a2, abi, i, (uint64_t)i + 1) == 0, "add_one");
	}
	RT_CHECK(rt_add_one(u, abi, 7, 1) == 0, "add_one");

	static char out[65536];
	int rc = avactl(out, sizeof(out), "status", "--json");
	RT_CHECK(rc == 0, "avactl status --json exited %d:\n%s", rc, out);
	char uid_tenant[32];
	snprintf(uid_tenant, sizeof(uid_tenant), "uid:%u", (unsigned)geteuid());
	/* HELLO "avatest": 4 + 7 + 8 bytes; add_one CALL: i32 + out buffer (1 + 8) = 13; REPLY: 16. */
	const uint64_t hello = 19, call = 13, reply = 16;
	RT_CHECK(tenant_field(out, "alpha", "sessions") == 2, "alpha sessions:\n%s", out);
	RT_CHECK(tenant_field(out, "alpha", "calls") == 6, "alpha calls:\n%s", out);
	RT_CHECK(tenant_field(out, "alpha", "bytes_in") == 2 * hello + 6 * call,
		 "alpha bytes_in:\n%s", out);
	RT_CHECK(tenant_field(out, "alpha", "bytes_out") == 6 * reply, "alpha bytes_out:\n%s", out);
	RT_CHECK(tenant_field(out, "alpha", "weight") == 1, "alpha weight:\n%s", out);
	RT_CHECK(tenant_field(out, uid_tenant, "sessions") == 1, "uid sessions:\n%s", out);
	RT_CHECK(tenant_field(out, uid_tenant, "calls") == 1, "uid calls:\n%s", out);
	RT_CHECK(tenant_field(out, uid_tenant, "bytes_in") == hello + call, "uid bytes_in:\n%s",
		 out);
	RT_CHECK(strstr(out, "\"refusals\": {\"unknown_tenant\": 0, \"api\": 0, \"function\": 0"),
		 "refusal counters:\n%s", out);
	RT_CHECK(strstr(out, "\"memory_quota\": null"), "unlimited quota is null:\n%s", out);
	/* One server per tenant, alpha's with both sessions. */
	pid_t alpha_pid = rt_server_pid_of_last_session(&g_r, "alpha");
	char srv[128];
	snprintf(srv, sizeof(srv),
		 "{\"tenant\": \"alpha\", \"api\": \"avatest\", \"pid\": %ld, \"sessions\": 2",
		 (long)alpha_pid);
	RT_CHECK(strstr(out, srv), "no '%s' in:\n%s", srv, out);

	/* The table form names the same tenants. */
	rc = avactl(out, sizeof(out), "status", NULL);
	RT_CHECK(rc == 0 && strstr(out, "TENANT") && strstr(out, "alpha") &&
		     strstr(out, uid_tenant) && strstr(out, g_r.policy),
		 "avactl status exited %d:\n%s", rc, out);

	/* A session that ends is no longer counted; its calls are. */
	close(a2);
	char line[512];
	RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, line, sizeof(line), "tenant alpha session",
			     "closed (disconnected)", NULL),
		 "no close line");
	rc = avactl(out, sizeof(out), "status", "--json");
	RT_CHECK(rc == 0 && tenant_field(out, "alpha", "sessions") == 1 &&
		     tenant_field(out, "alpha", "calls") == 6,
		 "after a disconnect:\n%s", out);
	close(a1);
	close(u);
}

static void check_bad_requests(void)
{
	int fd = admin_connect(g_r.admin);
	/* Garbage that is no protobuf message: an answer, and the connection stays. */
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x07 };
	admin_send_raw(fd, sizeof(junk), junk, sizeof(junk));
	Ava__Admin__Response *resp = admin_recv(fd);
	RT_CHECK(resp && resp->code == AVA__ADMIN__CODE__CODE_BAD_REQUEST && *resp->error,
		 "junk request: code %d", resp ? (int)resp->code : -1);
	ava__admin__response__free_unpacked(resp, NULL);

	/* A well-formed message with only an unknown field: no command. */
	static const uint8_t unknown[] = { 0x98, 0x06, 0x01 }; /* field 99, varint 1 */
	admin_send_raw(fd, sizeof(unknown), unknown, sizeof(unknown));
	resp = admin_recv(fd);
	RT_CHECK(resp && resp->code == AVA__ADMIN__CODE__CODE_UNKNOWN_COMMAND,
		 "unknown command: code %d", resp ? (int)resp->code : -1);
	ava__admin__response__free_unpacked(resp, NULL);

	/* An empty message decodes (all defaults) and has no command either. */
	admin_send_raw(fd, 0, NULL, 0);
	resp = admin_recv(fd);
	RT_CHECK(resp && resp->code == AVA__ADMIN__CODE__CODE_UNKNOWN_COMMAND,
		 "empty request: code %d", resp ? (int)resp->code : -1);
	ava__admin__response__free_unpacked(resp, NULL);

	/* The same connection still serves a real request, with its id echoed. */
	Ava__Admin__Request req = AVA__ADMIN__REQUEST__INIT;
	Ava__Admin__StatusRequest sreq = AVA__ADMIN__STATUS_REQUEST__INIT;
	req.id = 42;
	req.command_case = AVA__ADMIN__REQUEST__COMMAND_STATUS;
	req.status = &sreq;
	admin_send(fd, &req);
	resp = admin_recv(fd);
	RT_CHECK(resp && resp->code == AVA__ADMIN__CODE__CODE_OK && resp->id == 42 &&
		     resp->reply_case == AVA__ADMIN__RESPONSE__REPLY_STATUS,
		 "status after junk");
	ava__admin__response__free_unpacked(resp, NULL);

	/* A length over the cap: an error, then the router closes the connection. */
	admin_send_raw(fd, AVA_ADMIN_MAX_REQUEST_BYTES + 1, NULL, 0);
	resp = admin_recv(fd);
	RT_CHECK(resp && resp->code == AVA__ADMIN__CODE__CODE_BAD_REQUEST &&
		     strstr(resp->error, "exceeds"),
		 "oversized request: code %d", resp ? (int)resp->code : -1);
	ava__admin__response__free_unpacked(resp, NULL);
	RT_CHECK(admin_recv(fd) == NULL, "connection not closed after an oversized length");
	close(fd);

	/* A client that vanishes mid-request costs nothing. */
	fd = admin_connect(g_r.admin);
	admin_send_raw(fd, 100, "abc", 3);
	close(fd);

	char out[8192];
	int rc = avactl(out, sizeof(out), "status", NULL);
	RT_CHECK(rc == 0, "status after bad requests: %d\n%s", rc, out);
	RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, out, sizeof(out), "admin: uid",
			     "not a valid ava.admin.Request", NULL),
		 "bad request not logged");
}

/* A status request on fd; returns the Response's code, or -1 at EOF. */
static int status_code(int fd)
{
	uint8_t buf[64];
	Ava__Admin__Request req = AVA__ADMIN__REQUEST__INIT;
	Ava__Admin__StatusRequest sreq = AVA__ADMIN__STATUS_REQUEST__INIT;
	req.command_case = AVA__ADMIN__REQUEST__COMMAND_STATUS;
	req.status = &sreq;
	size_t n = ava__admin__request__get_packed_size(&req);
	ava_admin_put_len(buf, (uint32_t)n);
	ava__admin__request__pack(&req, buf + AVA_ADMIN_LEN_BYTES);
	/* A refused connection may be closed before the request is written. */
	(void)rt_send_raw(fd, buf, AVA_ADMIN_LEN_BYTES + n);
	Ava__Admin__Response *resp = admin_recv(fd);
	if (!resp)
		return -1;
	int code = (int)resp->code;
	ava__admin__response__free_unpacked(resp, NULL);
	return code;
}

static void check_connection_bound(void)
{
	enum { N = 16 };
	int fds[N];
	/*
	 * 16 connections, each proven served by a round trip. Earlier clients
	 * that the router has not yet seen close may still hold slots: a
	 * connection refused for that reason is simply tried again.
	 */
	int served = 0;
	for (int tries = 0; served < N && tries < 10000; tries++) {
		int fd = admin_connect(g_r.admin);
		int code = status_code(fd);
		if (code == AVA__ADMIN__CODE__CODE_OK) {
			fds[served++] = fd;
			continue;
		}
		RT_CHECK(code == AVA__ADMIN__CODE__CODE_DENIED, "connection %d: code %d", served,
			 code);
		close(fd);
	}
	RT_CHECK(served == N, "only %d admin connections served", served);
	/* With 16 open and served, one more is over the limit. */
	int extra = admin_connect(g_r.admin);
	Ava__Admin__Response *resp = admin_recv(extra);
	RT_CHECK(resp && resp->code == AVA__ADMIN__CODE__CODE_DENIED &&
		     strstr(resp->error, "too many"),
		 "17th connection: code %d", resp ? (int)resp->code : -1);
	ava__admin__response__free_unpacked(resp, NULL);
	RT_CHECK(admin_recv(extra) == NULL, "17th connection not closed");
	close(extra);
	char line[512];
	RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, line, sizeof(line), "admin: over 16 connections",
			     NULL),
		 "no log line for the connection limit");
	/* The 16 still work. */
	for (int i = 0; i < N; i++) {
		RT_CHECK(status_code(fds[i]) == AVA__ADMIN__CODE__CODE_OK, "connection %d", i);
		close(fds[i]);
	}
	/* Freed slots serve again, once the router has seen the closes. */
	int code = -1;
	for (int tries = 0; tries < 10000 && code != AVA__ADMIN__CODE__CODE_OK; tries++) {
		int fd = admin_connect(g_r.admin);
		code = status_code(fd);
		close(fd);
	}
	RT_CHECK(code == AVA__ADMIN__CODE__CODE_OK, "no slot freed after the closes");
}

/* In a child running as uid/gid 65534: the checks of an unprivileged client. */
static void __attribute__((noreturn)) unprivileged_child(int opened)
{
	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0) {
		fprintf(stderr, "setresuid: %s\n", strerror(errno));
		_exit(3);
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	memcpy(addr.sun_path, g_r.admin, strlen(g_r.admin) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		_exit(3);
	int c = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	if (!opened) {
		/* The file's mode keeps it out. */
		if (c == 0 || errno != EACCES) {
			fprintf(stderr, "connect as uid 65534 through a 0600 socket: %s\n",
				c == 0 ? "succeeded" : strerror(errno));
			_exit(1);
		}
		_exit(0);
	}
	if (c < 0) {
		fprintf(stderr, "connect to the opened socket: %s\n", strerror(errno));
		_exit(1);
	}
	/* The router answers CODE_DENIED on connect and closes. */
	Ava__Admin__Response *resp = admin_recv(fd);
	if (!resp || resp->code != AVA__ADMIN__CODE__CODE_DENIED ||
	    !strstr(resp->error, "uid 65534")) {
		fprintf(stderr, "uid 65534 was not refused (code %d)\n",
			resp ? (int)resp->code : -1);
		_exit(1);
	}
	ava__admin__response__free_unpacked(resp, NULL);
	if (admin_recv(fd) != NULL) {
		fprintf(stderr, "connection of uid 65534 not closed\n");
		_exit(1);
	}
	close(fd);
	/* avactl says why, and fails. */
	char out[2048];
	const char *argv[] = { g_avactl, "--admin", g_r.admin, "status", NULL };
	int rc = rt_run(out, sizeof(out), argv);
	if (rc != 1 || !strstr(out, "permission denied")) {
		fprintf(stderr, "avactl as uid 65534: exit %d: %s\n", rc, out);
		_exit(1);
	}
	_exit(0);
}

static void run_unprivileged(int opened)
{
	pid_t pid = fork();
	RT_CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		unprivileged_child(opened);
	int status = 0;
	RT_CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	RT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "unprivileged client (socket %s): status 0x%x", opened ? "opened" : "0600",
		 (unsigned)status);
}

static int peercred_main(void)
{
	/* The folder (mkdtemp: 0700) must not be what keeps the client out. */
	RT_CHECK(chmod(g_r.dir, 0711) == 0, "chmod: %s", strerror(errno));
	run_unprivileged(0);
	/* An operator who opens the file up still does not open the router. */
	RT_CHECK(chmod(g_r.admin, 0666) == 0, "chmod: %s", strerror(errno));
	run_unprivileged(1);
	char line[512];
	RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, line, sizeof(line),
			     "admin: refused a connection from uid 65534", NULL),
		 "refusal not logged");
	/* Root is still served. */
	char out[8192];
	int rc = avactl(out, sizeof(out), "status", NULL);
	RT_CHECK(rc == 0, "root after refusals: %d\n%s", rc, out);
	rt_router_stop(&g_r);
	printf("test_router_admin peercred: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *router, *api_dir;
	struct ava_abi_api *abi;
	rt_init(argc, argv, &router, &api_dir, &abi);
	int peercred = argc == 5 && !strcmp(argv[4], "peercred");
	if (argc != 4 && !peercred) {
		fprintf(stderr, "usage: %s AVAROUTERD API_DIR AVACTL [peercred]\n", argv[0]);
		return 2;
	}
	if (peercred && geteuid() != 0) {
		fprintf(stderr, "skipped: checking SO_PEERCRED refusals needs root (to run a "
				"client as another uid)\n");
		return 77;
	}
	g_avactl = argv[3];
	const char *tenants[] = { "alpha", NULL };
	/* alpha's two sessions on one server: servers: shared (test_router_per_app has the default) */
	if (peercred)
		rt_router_start(&g_r, router, api_dir, tenants, 2, NULL);
	else
		rt_router_start_policy(&g_r, router, api_dir, tenants, 2, RT_POLICY_SHARED);
	if (peercred) {
		int ret = peercred_main();
		ava_abi_api_free(abi);
		return ret;
	}

	struct stat st;
	RT_CHECK(lstat(g_r.admin, &st) == 0 && S_ISSOCK(st.st_mode), "no admin socket at %s",
		 g_r.admin);
	RT_CHECK((st.st_mode & 07777) == 0600, "admin socket mode %o, want 600",
		 (unsigned)(st.st_mode & 07777));
	RT_CHECK(st.st_uid == geteuid(), "admin socket owned by uid %u", (unsigned)st.st_uid);

	check_status_numbers(abi);
	check_bad_requests();
	check_connection_bound();

	/* avactl's own errors: no router there. */
	char out[1024];
	const char *argv_none[] = { g_avactl, "--admin", "/nonexistent/admin.sock", "status",
				    NULL };
	int rc = rt_run(out, sizeof(out), argv_none);
	RT_CHECK(rc == 1 && strstr(out, "/nonexistent/admin.sock"), "no router: %d %s", rc, out);
	const char *argv_bad[] = { g_avactl, "frobnicate", NULL };
	rc = rt_run(out, sizeof(out), argv_bad);
	RT_CHECK(rc == 2 && strstr(out, "usage"), "bad command: %d %s", rc, out);

	RT_CHECK(rt_router_alive(&g_r), "router died");
	rt_router_stop(&g_r);
	ava_abi_api_free(abi);
	printf("test_router_admin: ok\n");
	return 0;
}
