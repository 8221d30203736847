/* SPDX-License-Identifier: MIT */
/*
 * API server death (docs/router.md, "Failures"): SIGKILL a tenant's server;
 * its idle session and a session with a call in flight get BYE(SERVER_GONE)
 * promptly, the next session of that tenant gets a fresh server that works,
 * and another tenant never notices.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define GONE_TIMEOUT_MS 30000

static struct rt_router g_r;

enum { SOCK_A = 0, SOCK_B = 1 };

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	const char *router, *api_dir;
	struct ava_abi_api *abi;
	rt_init(argc, argv, &router, &api_dir, &abi);

	const char *tenants[] = { "tenantA", "tenantB" };
	/* Two sessions of A on one server: servers: shared (test_router_per_app has the default). */
	rt_router_start_policy(&g_r, router, api_dir, tenants, 2, RT_POLICY_SHARED);

	int a_idle = rt_connect(&g_r, SOCK_A);
	RT_CHECK(rt_hello(a_idle, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO a_idle");
	RT_CHECK(rt_add_one(a_idle, abi, 1, 1) == 0, "add_one a_idle");
	pid_t pid_a = rt_server_pid_of_last_session(&g_r, "tenantA");
	int b = rt_connect(&g_r, SOCK_B);
	RT_CHECK(rt_hello(b, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO b");
	RT_CHECK(rt_add_one(b, abi, 2, 1) == 0, "add_one b");
	pid_t pid_b = rt_server_pid_of_last_session(&g_r, "tenantB");
	RT_CHECK(pid_a > 0 && pid_b > 0 && pid_a != pid_b, "server pids %ld %ld", (long)pid_a,
		 (long)pid_b);

	/* A second session of A with a call in flight: avatest_sleep_ms(60 s). */
	int a_busy = rt_connect(&g_r, SOCK_A);
	RT_CHECK(rt_hello(a_busy, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO a_busy");
	{
		const struct ava_abi_fn *fn = rt_fn(abi, "avatest_sleep_ms");
		struct ava_wire_buf buf;
		ava_wire_buf_init(&buf);
		rt_put_u32(&buf, 60000);
		struct ava_wire_header h = { .kind = AVA_WIRE_CALL,
					     .call_id = fn->id,
					     .seq = 5,
					     .thread_id = 1,
					     .len_bytes = (uint32_t)buf.len };
		RT_CHECK(rt_send_frame(a_busy, &h, buf.data, buf.len) == 0, "send sleep");
		ava_wire_buf_fini(&buf);
	}
	usleep(200 * 1000); /* let the call reach the server; the test does not depend on it */

	RT_CHECK(kill(pid_a, SIGKILL) == 0, "kill -9 %ld: %s", (long)pid_a, strerror(errno));
	int64_t t0 = now_ms();
	char why[512];
	int st = rt_wait_bye(a_idle, GONE_TIMEOUT_MS, why, sizeof(why));
	RT_CHECK(st == AVA_STATUS_SERVER_GONE, "idle session: expected BYE(SERVER_GONE), got %d",
		 st);
	fprintf(stderr, "idle session: BYE(SERVER_GONE) after %lld ms: %s\n",
		(long long)(now_ms() - t0), why);
	st = rt_wait_bye(a_busy, GONE_TIMEOUT_MS, why, sizeof(why));
	RT_CHECK(st == AVA_STATUS_SERVER_GONE,
		 "session with a call in flight: expected BYE(SERVER_GONE), got %d", st);
	fprintf(stderr, "busy session: BYE(SERVER_GONE): %s\n", why);
	char needle[96];
	snprintf(needle, sizeof(needle), "server pid %ld", (long)pid_a);
	RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, NULL, 0, needle, "killed by signal 9", NULL),
		 "no log line for the server's death");
	close(a_idle);
	close(a_busy);

	/* Tenant B never noticed. */
	RT_CHECK(rt_add_one(b, abi, 3, 2) == 0, "tenant B after A's server died");
	RT_CHECK(kill(pid_b, 0) == 0, "tenant B's server died");

	/* A new session of A gets a new server, which works. */
	int a_new = rt_connect(&g_r, SOCK_A);
	RT_CHECK(rt_hello(a_new, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO a_new");
	pid_t pid_a2 = rt_server_pid_of_last_session(&g_r, "tenantA");
	RT_CHECK(pid_a2 > 0 && pid_a2 != pid_a, "respawned server pid %ld (old %ld)", (long)pid_a2,
		 (long)pid_a);
	RT_CHECK(rt_add_one(a_new, abi, 4, 1) == 0, "add_one on the respawned server");
	RT_CHECK(rt_add_one(b, abi, 5, 3) == 0, "tenant B still fine");
	RT_CHECK(rt_router_alive(&g_r), "router died");
	RT_CHECK(rt_log_count(&g_r, "; ending session") == 0, "a crash is not a guest violation");

	close(a_new);
	close(b);
	rt_router_stop(&g_r);
	ava_abi_api_free(abi);
	fprintf(stderr, "test_router_server_crash: ok\n");
	return 0;
}
