/* SPDX-License-Identifier: MIT */
/*
 * Tenancy (docs/router.md, "Tenants and sessions"): the tenant comes from the
 * listening socket (or the peer uid), each tenant's sessions go to its own
 * API server process, connections of one tenant share that server as
 * separate sessions (under servers: shared; test_router_per_app has the
 * default), and a handle from one session means nothing in another
 * (BAD_HANDLE through the REPLY path, never another tenant's object).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static const struct ava_abi_api *g_abi;
static struct rt_router g_r;

enum { SOCK_A = 0, SOCK_B = 1, SOCK_UID = 2 };

/* avatest_device_open(index) -> handle id; fails the test on error. */
static uint64_t device_open(int fd, int32_t index, uint64_t seq)
{
	const struct ava_abi_fn *fn = rt_fn(g_abi, "avatest_device_open");
	RT_CHECK(fn->n_args == 2 && fn->args[0].kind == AVA_ABI_SCALAR &&
		     fn->args[1].kind == AVA_ABI_BUFFER && fn->args[1].elem == AVA_ABI_ELEM_HANDLE,
		 "avatest_device_open layout");
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_i32(&b, index);
	rt_put_out_buffer(&b, 1);
	struct ava_wire_header h;
	uint8_t *p = NULL;
	int st = rt_call(fd, fn, seq, b.data, b.len, &h, &p);
	ava_wire_buf_fini(&b);
	RT_CHECK(st == AVA_STATUS_OK, "device_open: status %d", st);
	struct ava_wire_cursor c = { p, p + h.len_bytes };
	const uint8_t *ret;
	uint64_t count = 0, id = 0;
	RT_CHECK(ava_wire_get_bytes(&c, 4, &ret) == 0 && ava_wire_get_u64(&c, &count) == 0 &&
		     count == 1 && ava_wire_get_u64(&c, &id) == 0 && c.cur == c.end,
		 "device_open reply layout");
	int32_t rv;
	memcpy(&rv, ret, 4);
	RT_CHECK(rv == 0 && id != 0, "device_open returned %d, handle %llx", rv,
		 (unsigned long long)id);
	free(p);
	return id;
}

/*
 * avatest_device_name(dev, buf[64], 64, &len): returns the REPLY's wire
 * status; on OK, name receives the name.
 */
static int device_name(int fd, uint64_t dev, uint64_t seq, char *name, size_t name_len)
{
	const struct ava_abi_fn *fn = rt_fn(g_abi, "avatest_device_name");
	RT_CHECK(fn->n_args == 4 && fn->args[0].kind == AVA_ABI_HANDLE &&
		     fn->args[1].kind == AVA_ABI_BUFFER && fn->args[2].kind == AVA_ABI_SCALAR &&
		     fn->args[2].size_bytes == 8 && fn->args[3].kind == AVA_ABI_BUFFER,
		 "avatest_device_name layout");
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_u64(&b, dev);
	rt_put_out_buffer(&b, 64);
	rt_put_u64(&b, 64);
	rt_put_out_buffer(&b, 1);
	struct ava_wire_header h;
	uint8_t *p = NULL;
	int st = rt_call(fd, fn, seq, b.data, b.len, &h, &p);
	ava_wire_buf_fini(&b);
	RT_CHECK(st >= 0, "device_name: no REPLY (%d)", st);
	if (st == AVA_STATUS_OK) {
		struct ava_wire_cursor c = { p, p + h.len_bytes };
		const uint8_t *ret, *buf;
		uint64_t count;
		RT_CHECK(ava_wire_get_bytes(&c, 4, &ret) == 0 &&
			     ava_wire_get_u64(&c, &count) == 0 && count == 64 &&
			     ava_wire_get_bytes(&c, 64, &buf) == 0,
			 "device_name reply layout");
		snprintf(name, name_len, "%.*s", 64, (const char *)buf);
	}
	free(p);
	return st;
}

static void check_tenant_env(pid_t pid, const char *tenant)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "note: cannot read %s (%s); AVA_TENANT not checked\n", path,
			strerror(errno));
		return;
	}
	char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char want[128];
	snprintf(want, sizeof(want), "AVA_TENANT=%s", tenant);
	int found = 0, device = 0;
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
		found |= !strcmp(buf + i, want);
		/* No policy: every server is placed on the built-in device. */
		device |= !strcmp(buf + i, "AVA_DEVICE=default");
	}
	RT_CHECK(found, "server pid %ld lacks %s in its environment", (long)pid, want);
	RT_CHECK(device, "server pid %ld lacks AVA_DEVICE=default in its environment", (long)pid);
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

int main(int argc, char **argv)
{
	const char *router, *api_dir;
	struct ava_abi_api *abi;
	rt_init(argc, argv, &router, &api_dir, &abi);
	g_abi = abi;

	const char *tenants[] = { "tenantA", "tenantB", NULL };
	/* A tenant's sessions share its server only when its policy says so. */
	rt_router_start_policy(&g_r, router, api_dir, tenants, 3, RT_POLICY_SHARED);

	int a1 = rt_connect(&g_r, SOCK_A);
	RT_CHECK(rt_hello(a1, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO a1");
	pid_t pid_a1 = rt_server_pid_of_last_session(&g_r, "tenantA");
	long sess_a1 = last_session_id("tenantA");
	int b1 = rt_connect(&g_r, SOCK_B);
	RT_CHECK(rt_hello(b1, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO b1");
	pid_t pid_b1 = rt_server_pid_of_last_session(&g_r, "tenantB");
	int a2 = rt_connect(&g_r, SOCK_A);
	RT_CHECK(rt_hello(a2, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO a2");
	pid_t pid_a2 = rt_server_pid_of_last_session(&g_r, "tenantA");
	long sess_a2 = last_session_id("tenantA");

	/* One server per tenant; one tenant's connections share it as separate sessions. */
	RT_CHECK(pid_a1 > 0 && pid_b1 > 0, "server pids from the log");
	RT_CHECK(pid_a1 == pid_a2, "tenant A's two sessions on servers %ld and %ld", (long)pid_a1,
		 (long)pid_a2);
	RT_CHECK(pid_a1 != pid_b1, "tenants A and B share server %ld", (long)pid_a1);
	RT_CHECK(sess_a1 != sess_a2 && sess_a1 != 0 && sess_a2 != 0, "session ids %ld, %ld",
		 sess_a1, sess_a2);
	RT_CHECK(rt_log_count(&g_r, "tenant tenantA api avatest: server pid") == 1,
		 "tenant A's server started more than once");
	RT_CHECK(kill(pid_a1, 0) == 0 && kill(pid_b1, 0) == 0, "servers alive");

	/* Calls on all three sessions (and so the servers have exec'd: environ is theirs). */
	RT_CHECK(rt_add_one(a1, abi, 1, 1) == 0, "add_one a1");
	RT_CHECK(rt_add_one(b1, abi, 2, 1) == 0, "add_one b1");
	RT_CHECK(rt_add_one(a2, abi, 3, 1) == 0, "add_one a2");
	check_tenant_env(pid_a1, "tenantA");
	check_tenant_env(pid_b1, "tenantB");

	/* Handles: A's handle works in A's session and nowhere else. */
	uint64_t ha = device_open(a1, 0, 10);
	uint64_t hb = device_open(b1, 0, 10);
	char name[80] = "";
	RT_CHECK(device_name(a1, ha, 11, name, sizeof(name)) == AVA_STATUS_OK && name[0],
		 "A's own handle");
	RT_CHECK(device_name(b1, ha, 11, name, sizeof(name)) == AVA_STATUS_BAD_HANDLE,
		 "tenant B using tenant A's handle %llx must get BAD_HANDLE",
		 (unsigned long long)ha);
	RT_CHECK(device_name(a2, ha, 11, name, sizeof(name)) == AVA_STATUS_BAD_HANDLE,
		 "another session of tenant A using a1's handle must get BAD_HANDLE");
	RT_CHECK(device_name(a1, hb, 12, name, sizeof(name)) == AVA_STATUS_BAD_HANDLE,
		 "tenant A using tenant B's handle must get BAD_HANDLE");
	RT_CHECK(device_name(b1, hb, 12, name, sizeof(name)) == AVA_STATUS_OK, "B's own handle");
	/* A BAD_HANDLE reply is an answer, not a violation: the sessions go on. */
	RT_CHECK(rt_add_one(b1, abi, 4, 13) == 0, "b1 after BAD_HANDLE");
	RT_CHECK(rt_log_count(&g_r, "; ending session") == 0, "unexpected violation");

	/* A socket without =TENANT: the tenant is the peer's uid. */
	int u = rt_connect(&g_r, SOCK_UID);
	RT_CHECK(rt_hello(u, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO u");
	char uid_tenant[32];
	snprintf(uid_tenant, sizeof(uid_tenant), "uid:%u", (unsigned)getuid());
	pid_t pid_u = rt_server_pid_of_last_session(&g_r, uid_tenant);
	RT_CHECK(pid_u > 0 && pid_u != pid_a1 && pid_u != pid_b1, "uid tenant's server %ld",
		 (long)pid_u);
	RT_CHECK(rt_add_one(u, abi, 5, 1) == 0, "add_one u");
	check_tenant_env(pid_u, uid_tenant);

	/* Closing one session of A leaves the other (and the shared server) working. */
	close(a1);
	char needle[96];
	snprintf(needle, sizeof(needle), "session %ld (api avatest): closed", sess_a1);
	RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, NULL, 0, needle, NULL), "no close line for a1");
	RT_CHECK(rt_add_one(a2, abi, 6, 2) == 0, "a2 after a1 closed");
	RT_CHECK(kill(pid_a1, 0) == 0, "tenant A's server exited with one session left");

	close(a2);
	close(b1);
	close(u);
	rt_router_stop(&g_r);
	/* The router reaped its servers on the way out. */
	RT_CHECK(kill(pid_a1, 0) < 0 && kill(pid_b1, 0) < 0 && kill(pid_u, 0) < 0,
		 "API servers outlived the router");
	ava_abi_api_free(abi);
	fprintf(stderr, "test_router_tenants: ok\n");
	return 0;
}
