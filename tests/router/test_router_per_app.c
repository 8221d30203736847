/* SPDX-License-Identifier: MIT */
/*
 * One API server per guest application (docs/router.md, "API servers"):
 *  - by default two sessions (applications) of one tenant get two servers,
 *    and `avactl status` shows each server with its application (session id,
 *    guest pid from SO_PEERCRED);
 *  - a server stopped (SIGSTOP) stalls only its own application, and one
 *    killed (SIGKILL) ends only its own session with BYE(SERVER_GONE): the
 *    tenant's other application keeps working throughout;
 *  - a session that ends takes its server with it: the server exits, is
 *    reaped and leaves status; one that does not exit is killed;
 *  - with `servers: shared` the sessions share one server, which stays when
 *    they end; a policy reload to per-application retires it once idle.
 *
 *   test_router_per_app AVAROUTERD API_DIR AVACTL
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static const struct ava_abi_api *g_abi;
static const char *g_avactl;
static struct rt_router g_r;

enum { SOCK_A = 0, SOCK_B = 1 };

static char g_out[1 << 16];

/* avactl --admin ... ARGS (at most two); returns its output in g_out. */
static const char *avactl(const char *a1, const char *a2, const char *a3)
{
	const char *argv[] = { g_avactl, "--admin", g_r.admin, a1, a2, a3, NULL };
	int rc = rt_run(g_out, sizeof(g_out), argv);
	RT_CHECK(rc == 0, "avactl %s %s exited %d:\n%s", a1, a2 ? a2 : "", rc, g_out);
	return g_out;
}

/* The number of server lines of tenant in avactl status --json output. */
static int count_servers(const char *json, const char *tenant)
{
	char key[96];
	snprintf(key, sizeof(key), "{\"tenant\": \"%s\"", tenant);
	int n = 0;
	for (const char *p = json; (p = strstr(p, key)); p += strlen(key))
		n++;
	return n;
}

/* The JSON line of the server with pid (copied to line), or 0 if there is none. */
static int server_line(const char *json, pid_t pid, char *line, size_t line_len)
{
	char key[64];
	snprintf(key, sizeof(key), "\"pid\": %ld,", (long)pid);
	const char *p = strstr(json, key);
	if (!p)
		return 0;
	const char *b = p, *e = strchr(p, '\n');
	while (b > json && b[-1] != '\n')
		b--;
	snprintf(line, line_len, "%.*s", (int)(e ? e - b : (long)strlen(b)), b);
	return 1;
}

/* Session id from the last "open" log line of tenant. */
static long last_session_id(const char *tenant)
{
	char needle[96], line[1024];
	snprintf(needle, sizeof(needle), "tenant %s session ", tenant);
	RT_CHECK(
	    rt_log_find(&g_r, RT_TIMEOUT_MS, line, sizeof(line), needle, "open, server pid", NULL),
	    "no open line for %s", tenant);
	return strtol(strstr(line, needle) + strlen(needle), NULL, 10);
}

/* Connects on sock and opens an avatest session; its server's pid and session id. */
static int open_app(int sock, const char *tenant, pid_t *ret_pid, long *ret_session)
{
	int fd = rt_connect(&g_r, sock);
	RT_CHECK(rt_hello(fd, "avatest", g_abi->hash) == AVA_STATUS_OK, "HELLO on socket %d", sock);
	*ret_pid = rt_server_pid_of_last_session(&g_r, tenant);
	*ret_session = last_session_id(tenant);
	RT_CHECK(*ret_pid > 0 && *ret_session > 0, "server pid / session from the log");
	return fd;
}

/* Waits until the router logs that pid exited or was killed (it was reaped). */
static void wait_reaped(pid_t pid, const char *how)
{
	char needle[64];
	snprintf(needle, sizeof(needle), "server pid %ld %s", (long)pid, how);
	RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, NULL, 0, needle, NULL), "no '%s' in the log",
		 needle);
	RT_CHECK(kill(pid, 0) < 0 && errno == ESRCH, "server %ld is still there after '%s'",
		 (long)pid, how);
}

/* Waits until status lists no server of tenant. */
static void wait_no_servers(const char *tenant)
{
	for (int i = 0; i < 100; i++) {
		if (count_servers(avactl("status", "--json", NULL), tenant) == 0)
			return;
		usleep(100 * 1000);
	}
	RT_CHECK(0, "tenant %s still has servers:\n%s", tenant, g_out);
}

static void per_application(const char *router, const char *api_dir)
{
	const char *tenants[] = { "tenantA", "tenantB" };
	rt_router_start(&g_r, router, api_dir, tenants, 2, NULL);

	pid_t pid_a1, pid_a2, pid_b;
	long s_a1, s_a2, s_b;
	int a1 = open_app(SOCK_A, "tenantA", &pid_a1, &s_a1);
	int a2 = open_app(SOCK_A, "tenantA", &pid_a2, &s_a2);
	int b = open_app(SOCK_B, "tenantB", &pid_b, &s_b);
	RT_CHECK(pid_a1 != pid_a2, "tenant A's two applications share server %ld", (long)pid_a1);
	RT_CHECK(pid_b != pid_a1 && pid_b != pid_a2, "tenants A and B share a server");
	RT_CHECK(rt_add_one(a1, g_abi, 1, 1) == 0, "add_one a1");
	RT_CHECK(rt_add_one(a2, g_abi, 2, 1) == 0, "add_one a2");
	RT_CHECK(rt_add_one(b, g_abi, 3, 1) == 0, "add_one b");

	/* Status: each server with its one application (this process, by SO_PEERCRED). */
	const char *json = avactl("status", "--json", NULL);
	RT_CHECK(count_servers(json, "tenantA") == 2, "tenant A's servers:\n%s", json);
	char line[1024], app[128];
	snprintf(app, sizeof(app), "\"applications\": [{\"session\": %ld, \"guest_pid\": %ld, ",
		 s_a1, (long)getpid());
	RT_CHECK(server_line(json, pid_a1, line, sizeof(line)) && strstr(line, app) &&
		     strstr(line, "\"sessions\": 1,") && strstr(line, "\"shared\": false") &&
		     strstr(line, "\"device\": \"default\""),
		 "no '%s' on the line of server %ld:\n%s", app, (long)pid_a1, json);
	snprintf(app, sizeof(app), "\"applications\": [{\"session\": %ld, \"guest_pid\": %ld, ",
		 s_a2, (long)getpid());
	RT_CHECK(server_line(json, pid_a2, line, sizeof(line)) && strstr(line, app),
		 "no '%s' on the line of server %ld:\n%s", app, (long)pid_a2, json);
	const char *text = avactl("status", NULL, NULL);
	snprintf(app, sizeof(app), "session %ld (pid %ld)", s_a1, (long)getpid());
	RT_CHECK(strstr(text, "APPLICATIONS") && strstr(text, "per-application") &&
		     strstr(text, app) && strstr(text, "built-in default"),
		 "no '%s' in:\n%s", app, text);

	/* A stopped server stalls its own application only. */
	RT_CHECK(kill(pid_a1, SIGSTOP) == 0, "SIGSTOP %ld: %s", (long)pid_a1, strerror(errno));
	struct ava_wire_buf buf;
	ava_wire_buf_init(&buf);
	rt_put_i32(&buf, 10);
	rt_put_out_buffer(&buf, 1);
	struct ava_wire_header h = { .kind = AVA_WIRE_CALL,
				     .call_id = rt_fn(g_abi, "avatest_add_one")->id,
				     .seq = 2,
				     .thread_id = 1,
				     .len_bytes = (uint32_t)buf.len };
	RT_CHECK(rt_send_frame(a1, &h, buf.data, buf.len) == 0, "send add_one on a1");
	ava_wire_buf_fini(&buf);
	for (int i = 0; i < 20; i++)
		RT_CHECK(rt_add_one(a2, g_abi, 100 + i, 2 + (uint64_t)i) == 0,
			 "a2 while a1's server is stopped");
	RT_CHECK(rt_add_one(b, g_abi, 4, 2) == 0, "b while a1's server is stopped");

	/* Killed: a1 (with its call in flight) gets BYE(SERVER_GONE); a2 goes on. */
	RT_CHECK(kill(pid_a1, SIGKILL) == 0, "SIGKILL %ld: %s", (long)pid_a1, strerror(errno));
	char why[512];
	int st = rt_wait_bye(a1, RT_TIMEOUT_MS, why, sizeof(why));
	RT_CHECK(st == AVA_STATUS_SERVER_GONE, "a1: expected BYE(SERVER_GONE), got %d", st);
	wait_reaped(pid_a1, "killed by signal 9");
	RT_CHECK(rt_add_one(a2, g_abi, 5, 30) == 0, "a2 after a1's server died");
	RT_CHECK(kill(pid_a2, 0) == 0, "a2's server died with a1's");
	close(a1);

	/* An application that ends takes its server along: exited, reaped, out of status. */
	close(a2);
	wait_reaped(pid_a2, "exited with status 0");
	wait_no_servers("tenantA");
	RT_CHECK(rt_add_one(b, g_abi, 6, 3) == 0, "b after a2 ended");

	/* A server that does not exit when its session ends is killed. */
	pid_t pid_a3;
	long s_a3;
	int a3 = open_app(SOCK_A, "tenantA", &pid_a3, &s_a3);
	RT_CHECK(rt_add_one(a3, g_abi, 7, 1) == 0, "add_one a3");
	RT_CHECK(kill(pid_a3, SIGSTOP) == 0, "SIGSTOP %ld: %s", (long)pid_a3, strerror(errno));
	close(a3);
	char needle[64];
	snprintf(needle, sizeof(needle), "server pid %ld did not exit", (long)pid_a3);
	RT_CHECK(rt_log_find(&g_r, 3 * RT_TIMEOUT_MS, NULL, 0, needle, "killing it", NULL),
		 "no '%s' in the log", needle);
	wait_reaped(pid_a3, "killed by signal 9");
	wait_no_servers("tenantA");

	RT_CHECK(rt_log_count(&g_r, "; ending session") == 0, "unexpected violation");
	close(b);
	rt_router_stop(&g_r);
	RT_CHECK(kill(pid_b, 0) < 0, "tenant B's server outlived the router");
}

static void shared(const char *router, const char *api_dir)
{
	const char *tenants[] = { "tenantA" };
	rt_router_start_policy(&g_r, router, api_dir, tenants, 1, RT_POLICY_SHARED);

	pid_t pid_a1, pid_a2;
	long s_a1, s_a2;
	int a1 = open_app(SOCK_A, "tenantA", &pid_a1, &s_a1);
	int a2 = open_app(SOCK_A, "tenantA", &pid_a2, &s_a2);
	RT_CHECK(pid_a1 == pid_a2, "servers: shared, yet servers %ld and %ld", (long)pid_a1,
		 (long)pid_a2);
	RT_CHECK(rt_add_one(a1, g_abi, 1, 1) == 0 && rt_add_one(a2, g_abi, 2, 1) == 0, "add_one");
	const char *json = avactl("status", "--json", NULL);
	char line[1024], apps[160];
	snprintf(apps, sizeof(apps),
		 "\"applications\": [{\"session\": %ld, \"guest_pid\": %ld, \"uid\": %u}, "
		 "{\"session\": %ld, ",
		 s_a1, (long)getpid(), (unsigned)getuid(), s_a2);
	RT_CHECK(count_servers(json, "tenantA") == 1 &&
		     server_line(json, pid_a1, line, sizeof(line)) && strstr(line, apps) &&
		     strstr(line, "\"shared\": true") && strstr(line, "\"sessions\": 2,"),
		 "no '%s' on one shared server line:\n%s", apps, json);

	/* The shared server outlives its sessions, as before per-application servers. */
	close(a1);
	close(a2);
	char needle[64];
	snprintf(needle, sizeof(needle), "session %ld (api avatest): closed", s_a2);
	RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, NULL, 0, needle, NULL), "no close line for a2");
	int a3 = open_app(SOCK_A, "tenantA", &pid_a2, &s_a2);
	RT_CHECK(pid_a2 == pid_a1, "a new session got server %ld, not the shared %ld", (long)pid_a2,
		 (long)pid_a1);
	RT_CHECK(rt_add_one(a3, g_abi, 3, 1) == 0, "add_one a3");
	close(a3);

	/* The tenant stops sharing: its idle shared server goes. */
	FILE *f = fopen(g_r.policy, "w");
	RT_CHECK(f && fputs("version: 1\n", f) >= 0 && fclose(f) == 0, "rewriting %s", g_r.policy);
	avactl("policy", "reload", NULL);
	wait_reaped(pid_a1, "exited with status 0");
	wait_no_servers("tenantA");
	rt_router_stop(&g_r);
}

int main(int argc, char **argv)
{
	const char *router, *api_dir;
	struct ava_abi_api *abi;
	rt_init(argc, argv, &router, &api_dir, &abi);
	if (argc != 4) {
		fprintf(stderr, "usage: %s AVAROUTERD API_DIR AVACTL\n", argv[0]);
		return 2;
	}
	g_abi = abi;
	g_avactl = argv[3];
	per_application(router, api_dir);
	shared(router, api_dir);
	ava_abi_api_free(abi);
	fprintf(stderr, "test_router_per_app: ok\n");
	return 0;
}
