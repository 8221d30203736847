/* SPDX-License-Identifier: MIT */
/*
 * Operator policy in the router (docs/router.md, "Policy"):
 *  - a bad --policy at start: every problem as FILE:LINE:COL, exit 2;
 *  - identity: a channel matching an entry belongs to that tenant; with
 *    `action: refuse`, an unmatched channel is refused at HELLO (REFUSED,
 *    reason naming the channel);
 *  - an API not in the tenant's apis: HELLO refused;
 *  - a denied function: sync CALL answered REPLY(REFUSED) by the router,
 *    async CALL answered REPLY(REFUSED, DEFERRED_ERROR); the session goes on;
 *  - avactl status shows the match, weight and refusal counts;
 *  - avactl policy reload: a good file takes effect for existing sessions;
 *    a bad one is rejected with FILE:LINE:COL (exit 1) and changes nothing;
 *  - SIGHUP re-reads the file, good or bad;
 *  - a tenant whose entry vanished keeps running on the defaults.
 *
 *   test_router_policy AVAROUTERD API_DIR AVACTL
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static struct rt_router g_r;
static const struct ava_abi_api *g_abi;
static const char *g_avactl;
static char g_dir[PATH_MAX]; /* policy files */

enum { SOCK_A = 0, SOCK_B = 1, SOCK_OTHER = 2 };

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	RT_CHECK(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	RT_CHECK(fclose(f) == 0, "write %s", path);
}

static int avactl(char *out, size_t out_len, const char *a1, const char *a2, const char *a3)
{
	const char *argv[] = { g_avactl, "--admin", g_r.admin, a1, a2, a3, NULL };
	return rt_run(out, out_len, argv);
}

/* The JSON line of tenant name from avactl status --json (one tenant per line). */
static const char *tenant_line(const char *json, const char *name, char *line, size_t len)
{
	char key[128];
	snprintf(key, sizeof(key), "{\"name\": \"%s\"", name);
	const char *p = strstr(json, key);
	if (!p)
		return NULL;
	const char *eol = strchr(p, '\n');
	size_t n = eol ? (size_t)(eol - p) : strlen(p);
	if (n >= len)
		n = len - 1;
	memcpy(line, p, n);
	line[n] = '\0';
	return line;
}

/* Status JSON, and the given tenant's line in it (checked to exist). */
static void status_of(const char *tenant, char *line, size_t len)
{
	static char out[65536];
	int rc = avactl(out, sizeof(out), "status", "--json", NULL);
	RT_CHECK(rc == 0, "avactl status --json: %d\n%s", rc, out);
	RT_CHECK(tenant_line(out, tenant, line, len), "tenant %s not in:\n%s", tenant, out);
}

static uint64_t device_open(int fd, uint64_t seq)
{
	const struct ava_abi_fn *fn = rt_fn(g_abi, "avatest_device_open");
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_i32(&b, 0);
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
		     count == 1 && ava_wire_get_u64(&c, &id) == 0 && id != 0,
		 "device_open reply");
	free(p);
	return id;
}

/* avatest_add_one(1): the REPLY's status (OK only with y == 2). */
static int add_one_status(int fd, uint64_t seq)
{
	const struct ava_abi_fn *fn = rt_fn(g_abi, "avatest_add_one");
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_i32(&b, 1);
	rt_put_out_buffer(&b, 1);
	struct ava_wire_header h;
	uint8_t *p = NULL;
	int st = rt_call(fd, fn, seq, b.data, b.len, &h, &p);
	ava_wire_buf_fini(&b);
	RT_CHECK(st >= 0, "add_one: no REPLY (%d)", st);
	if (st != AVA_STATUS_OK) {
		RT_CHECK(h.len_bytes == 0 && h.call_id == fn->id && h.seq == seq && h.flags == 0,
			 "refusal REPLY: len %u call %u seq %" PRIu64 " flags %x", h.len_bytes,
			 h.call_id, h.seq, h.flags);
	}
	free(p);
	return st;
}

static void check_bad_policy_at_start(const char *router, const char *api_dir)
{
	char bad[PATH_MAX + 16], sock[PATH_MAX + 16], arg[PATH_MAX + 32];
	snprintf(bad, sizeof(bad), "%s/bad.yaml", g_dir);
	snprintf(sock, sizeof(sock), "%s/never.sock", g_dir);
	write_file(bad, "version: 1\n"
			"defaults:\n"
			"  weight: 0\n"
			"tenants:\n"
			"  - name: x\n"
			"    match: { uid: abc }\n");
	snprintf(arg, sizeof(arg), "%s", bad);
	const char *argv[] = {
		router, "--api-dir", api_dir, "--listen", sock, "--policy", arg, NULL
	};
	static char out[8192];
	int rc = rt_run(out, sizeof(out), argv);
	char want1[PATH_MAX + 64], want2[PATH_MAX + 64];
	snprintf(want1, sizeof(want1), "%s:3:11: error: defaults.weight", bad);
	snprintf(want2, sizeof(want2), "%s:6:19: error: tenants[0].match.uid", bad);
	RT_CHECK(rc == 2 && strstr(out, want1) && strstr(out, want2),
		 "bad policy at start: exit %d, want 2 with both problems:\n%s", rc, out);
	RT_CHECK(access(sock, F_OK) < 0, "router left %s behind", sock);

	/* A function name the API does not have is a problem too (checked against the APIs). */
	write_file(bad, "version: 1\n"
			"defaults:\n"
			"  functions:\n"
			"    avatest: { deny: [avatest_add_onee] }\n");
	rc = rt_run(out, sizeof(out), argv);
	snprintf(want1, sizeof(want1), "%s:4:23: error:", bad);
	RT_CHECK(rc == 2 && strstr(out, want1) && strstr(out, "avatest_add_one?"),
		 "unknown function at start: exit %d:\n%s", rc, out);
	unlink(bad);
}

static const char *const policy_v1 =
    "version: 1\n"
    "defaults:\n"
    "  action: refuse\n"
    "tenants:\n"
    "  - name: alpha\n"
    "    match: { label: vm-a }\n"
    "    weight: 3\n"
    "    memory_quota: 1GiB\n"
    "    functions:\n"
    "      avatest: { deny: [avatest_add_one, avatest_log_value] }\n"
    "  - name: beta\n"
    "    match: { label: vm-b }\n"
    "    apis: [opencl]\n";

/* alpha may now call everything; weight 5. */
static const char *const policy_v2 = "version: 1\n"
				     "defaults:\n"
				     "  action: refuse\n"
				     "tenants:\n"
				     "  - name: alpha\n"
				     "    match: { label: vm-a }\n"
				     "    weight: 5\n"
				     "  - name: beta\n"
				     "    match: { label: vm-b }\n"
				     "    apis: [opencl]\n";

static const char *const policy_bad = "version: 1\n"
				      "tenants:\n"
				      "  - name: alpha\n"
				      "    match: { label: vm-a }\n"
				      "    weight: heavy\n";

/* No entry for alpha any more; the defaults deny nothing and allow unknown tenants. */
static const char *const policy_v4 = "version: 1\n"
				     "defaults:\n"
				     "  weight: 2\n";

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
	const char *tmp = getenv("TMPDIR");
	snprintf(g_dir, sizeof(g_dir), "%s/ava-policy-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	RT_CHECK(mkdtemp(g_dir) != NULL, "mkdtemp: %s", strerror(errno));

	check_bad_policy_at_start(router, api_dir);

	char p1[PATH_MAX + 16], p2[PATH_MAX + 16], pbad[PATH_MAX + 16], p4[PATH_MAX + 16];
	snprintf(p1, sizeof(p1), "%s/p1.yaml", g_dir);
	snprintf(p2, sizeof(p2), "%s/p2.yaml", g_dir);
	snprintf(pbad, sizeof(pbad), "%s/bad.yaml", g_dir);
	snprintf(p4, sizeof(p4), "%s/p4.yaml", g_dir);
	write_file(p1, policy_v1);
	write_file(p2, policy_v2);
	write_file(pbad, policy_bad);
	write_file(p4, policy_v4);

	const char *tenants[] = { "vm-a", "vm-b", NULL };
	const char *extra[] = { "--policy", p1, NULL };
	rt_router_start_args(&g_r, router, api_dir, tenants, 3, extra);
	char line[4096];
	static char out[65536];

	/* refuse_unknown: the unlabeled socket's uid matches no entry. */
	int fd = rt_connect(&g_r, SOCK_OTHER);
	RT_CHECK(rt_hello(fd, "avatest", abi->hash) == AVA_STATUS_REFUSED, "unknown tenant");
	char why[512];
	int st = rt_wait_bye(fd, RT_TIMEOUT_MS, why, sizeof(why));
	RT_CHECK(st == AVA_STATUS_REFUSED && strstr(why, g_r.sock[SOCK_OTHER]) &&
		     strstr(why, "matches no tenant"),
		 "unknown tenant BYE: %d '%s'", st, why);
	close(fd);
	char uid_tenant[32];
	snprintf(uid_tenant, sizeof(uid_tenant), "uid:%u", (unsigned)geteuid());
	status_of(uid_tenant, line, sizeof(line));
	RT_CHECK(strstr(line, "\"matched\": \"refused\"") && strstr(line, "\"unknown_tenant\": 1"),
		 "refused tenant status: %s", line);

	/* beta may use only opencl. */
	fd = rt_connect(&g_r, SOCK_B);
	RT_CHECK(rt_hello(fd, "avatest", abi->hash) == AVA_STATUS_REFUSED, "API not allowed");
	st = rt_wait_bye(fd, RT_TIMEOUT_MS, why, sizeof(why));
	RT_CHECK(st == AVA_STATUS_REFUSED && strstr(why, "may not use API avatest"),
		 "API refusal BYE: %d '%s'", st, why);
	close(fd);
	status_of("beta", line, sizeof(line));
	RT_CHECK(strstr(line, "\"matched\": \"policy\"") && strstr(line, "\"api\": 1"),
		 "beta status: %s", line);

	/* alpha: add_one and log_value are refused by the router; other calls go through. */
	int a = rt_connect(&g_r, SOCK_A);
	RT_CHECK(rt_hello(a, "avatest", abi->hash) == AVA_STATUS_OK, "alpha hello");
	uint64_t seq = 1;
	uint64_t dev = device_open(a, seq++);
	RT_CHECK(add_one_status(a, seq++) == AVA_STATUS_REFUSED, "add_one not refused");
	/* An async log_value: no REPLY expected, so the refusal is a deferred one. */
	const struct ava_abi_fn *log_value = rt_fn(abi, "avatest_log_value");
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_u64(&b, dev);
	rt_put_i32(&b, 5);
	rt_put_i32(&b, 0);
	uint64_t async_seq = seq++;
	struct ava_wire_header h = { .kind = AVA_WIRE_CALL,
				     .call_id = log_value->id,
				     .seq = async_seq,
				     .thread_id = 1,
				     .flags = AVA_WIRE_F_ASYNC,
				     .len_bytes = (uint32_t)b.len };
	RT_CHECK(rt_send_frame(a, &h, b.data, b.len) == 0, "send async");
	ava_wire_buf_fini(&b);
	uint8_t *p = NULL;
	RT_CHECK(rt_recv_frame(a, RT_TIMEOUT_MS, &h, &p) == 0, "no answer to a refused async call");
	RT_CHECK(h.kind == AVA_WIRE_REPLY && h.status == AVA_STATUS_REFUSED &&
		     h.flags == AVA_WIRE_F_DEFERRED_ERROR && h.seq == async_seq &&
		     h.call_id == log_value->id && h.len_bytes == 0 && h.thread_id == 1,
		 "async refusal: kind %u status %u flags %x seq %" PRIu64 " call %u len %u", h.kind,
		 h.status, h.flags, h.seq, h.call_id, h.len_bytes);
	free(p);
	RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, line, sizeof(line), "tenant alpha session",
			     "avatest_add_one refused: its function filter denies it", NULL),
		 "no log line for the refused call");
	status_of("alpha", line, sizeof(line));
	RT_CHECK(strstr(line, "\"matched\": \"policy\", \"policy_line\": 5") &&
		     strstr(line, "\"weight\": 3") && strstr(line, "\"function\": 2") &&
		     strstr(line, "\"memory_quota\": 1073741824") && strstr(line, "\"calls\": 1,"),
		 "alpha status: %s", line);

	/* A bad reload: rejected with positions, nothing changes. */
	int rc = avactl(out, sizeof(out), "policy", "reload", pbad);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s:5:13: error:", pbad);
	RT_CHECK(rc == 1 && strstr(out, want) && strstr(out, "keeps its current policy"),
		 "bad reload: exit %d:\n%s", rc, out);
	RT_CHECK(add_one_status(a, seq++) == AVA_STATUS_REFUSED, "bad reload changed the policy");
	rc = avactl(out, sizeof(out), "status", "--json", NULL);
	RT_CHECK(rc == 0 && strstr(out, "\"generation\": 1") && strstr(out, p1) &&
		     strstr(out, "weight: expected"),
		 "status after a bad reload:\n%s", out);
	RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, line, sizeof(line), "rejected (1 problem)", NULL),
		 "bad reload not logged");

	/* A good reload: the existing session may call add_one now. */
	rc = avactl(out, sizeof(out), "policy", "reload", p2);
	RT_CHECK(rc == 0 && strstr(out, "generation 2"), "good reload: exit %d:\n%s", rc, out);
	RT_CHECK(add_one_status(a, seq++) == AVA_STATUS_OK, "reload did not reach the session");
	status_of("alpha", line, sizeof(line));
	RT_CHECK(strstr(line, "\"weight\": 5") && strstr(line, "\"memory_quota\": null"),
		 "alpha after reload: %s", line);
	rc = avactl(out, sizeof(out), "status", "--json", NULL);
	RT_CHECK(strstr(out, "\"last_reload_error\": \"\""), "error not cleared:\n%s", out);

	/* SIGHUP re-reads the current file (p2): deny add_one again. */
	write_file(p2, policy_v1);
	RT_CHECK(kill(g_r.pid, SIGHUP) == 0, "kill");
	RT_CHECK(
	    rt_log_find(&g_r, RT_TIMEOUT_MS, line, sizeof(line), "loaded (generation 3)", NULL),
	    "SIGHUP reload not logged");
	RT_CHECK(add_one_status(a, seq++) == AVA_STATUS_REFUSED, "SIGHUP did not apply");
	/* SIGHUP with a broken file: logged with its position, the policy stays. */
	write_file(p2, policy_bad);
	RT_CHECK(kill(g_r.pid, SIGHUP) == 0, "kill");
	snprintf(want, sizeof(want), "%s:5:13: error:", p2);
	RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, line, sizeof(line), want, NULL),
		 "SIGHUP with a bad file not logged");
	RT_CHECK(add_one_status(a, seq++) == AVA_STATUS_REFUSED, "bad SIGHUP changed the policy");

	/* alpha's entry vanishes: its session goes on with the defaults. */
	rc = avactl(out, sizeof(out), "policy", "reload", p4);
	RT_CHECK(rc == 0 && strstr(out, "generation 4"), "reload p4: %d\n%s", rc, out);
	RT_CHECK(add_one_status(a, seq++) == AVA_STATUS_OK, "defaults not applied");
	status_of("alpha", line, sizeof(line));
	RT_CHECK(strstr(line, "\"matched\": \"default\"") && strstr(line, "\"weight\": 2") &&
		     strstr(line, "\"sessions\": 1"),
		 "alpha without an entry: %s", line);
	/* A new connection on vm-a now gets the channel's own name. */
	fd = rt_connect(&g_r, SOCK_A);
	RT_CHECK(rt_hello(fd, "avatest", abi->hash) == AVA_STATUS_OK, "vm-a hello");
	RT_CHECK(rt_add_one(fd, abi, 4, 1) == 0, "vm-a add_one");
	status_of("vm-a", line, sizeof(line));
	RT_CHECK(strstr(line, "\"matched\": \"default\""), "vm-a: %s", line);
	close(fd);
	/* Unknown tenants are no longer refused. */
	fd = rt_connect(&g_r, SOCK_OTHER);
	RT_CHECK(rt_hello(fd, "avatest", abi->hash) == AVA_STATUS_OK, "uid tenant hello");
	close(fd);

	/* Reload without a file re-reads the current one (p4). */
	rc = avactl(out, sizeof(out), "policy", "reload", NULL);
	RT_CHECK(rc == 0 && strstr(out, "generation 5") && strstr(out, p4), "reload: %d\n%s", rc,
		 out);

	close(a);
	RT_CHECK(rt_router_alive(&g_r), "router died");
	rt_router_stop(&g_r);
	unlink(p1);
	unlink(p2);
	unlink(pbad);
	unlink(p4);
	rmdir(g_dir);
	ava_abi_api_free(abi);
	printf("test_router_policy: ok\n");
	return 0;
}
