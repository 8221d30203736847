/* SPDX-License-Identifier: MIT */
/*
 * avatest-guest-linked: linked directly against the guest stub library
 * (ava-guest-avatest) and run with AVA_ROUTER_SOCKET naming a socket nobody
 * listens on. Every call must fail cleanly with AVATEST_ERR_REMOTE (the
 * spec's failure value): no crash, no hang, no abort, and again on retry.
 */
#define _GNU_SOURCE
#include "avatest.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n_failed;
static int n_checks;

static void want(const char *call, avatest_status got, avatest_status want1, avatest_status want2)
{
	n_checks++;
	if (got != want1 && got != want2) {
		fprintf(stderr, "avatest-guest-linked: FAIL %s returned %d, want %d\n", call, got,
			want1);
		n_failed++;
	}
}

#define REMOTE(call) want(#call, (call), AVATEST_ERR_REMOTE, AVATEST_ERR_REMOTE)

static int visited;

static void visit_cb(int32_t index, const char *name, void *user_data)
{
	(void)index;
	(void)name;
	(void)user_data;
	visited++;
}

/* Every function of the API once, with plausible arguments and a handle that was never issued. */
static void call_everything(void)
{
	avatest_device fake = (avatest_device)(uintptr_t)0x1000001u;
	avatest_device devs[2] = { fake, fake };
	avatest_gate gate = (avatest_gate)(uintptr_t)0x2000001u;
	avatest_device dev = fake;
	avatest_status err = AVATEST_OK;
	avatest_config cfg;
	float in[4] = { 1, 2, 3, 4 }, out[4];
	int32_t data[3] = { 1, 2, 3 };
	int32_t y = 0;
	int64_t sum = 0;
	size_t len = 0;
	char buf[32];

	memset(&cfg, 0, sizeof(cfg));
	REMOTE(avatest_null());
	REMOTE(avatest_add_one(1, &y));
	REMOTE(avatest_device_open(0, &dev));
	err = AVATEST_OK;
	dev = avatest_device_create(0, &err);
	want("avatest_device_create errcode_ret", err, AVATEST_ERR_REMOTE, AVATEST_ERR_REMOTE);
	n_checks++;
	if (dev) {
		fprintf(stderr,
			"avatest-guest-linked: FAIL avatest_device_create returned a handle\n");
		n_failed++;
	}
	dev = avatest_device_create(0, NULL); /* no errcode_ret: must not crash */
	REMOTE(avatest_device_close(fake));
	REMOTE(avatest_device_name(fake, buf, sizeof(buf), &len));
	REMOTE(avatest_device_set_label(fake, "label"));
	REMOTE(avatest_scale(fake, in, out, 4, 2.0f));
	REMOTE(avatest_increment(data, 3, 1));
	REMOTE(avatest_sum_indices(devs, 2, &sum));
	REMOTE(avatest_configure(fake, &cfg));
	REMOTE(avatest_get_config(fake, &cfg));
	REMOTE(avatest_visit(fake, 3, visit_cb, NULL));
	REMOTE(avatest_sleep_ms(1));
	REMOTE(avatest_log_value(fake, 1, 1));
	/* A non-blocking call may be queued (OK); then the next blocking call reports the failure. */
	want("avatest_log_value(non-blocking)", avatest_log_value(fake, 1, 0), AVATEST_OK,
	     AVATEST_ERR_REMOTE);
	REMOTE(avatest_log_sum(fake, &sum));
	REMOTE(avatest_gate_new(&gate));
	REMOTE(avatest_gate_wait(gate));
	REMOTE(avatest_gate_open(gate));
	REMOTE(avatest_gate_free(gate));
	/* Left out of the spec: its stub may answer without trying the router. */
	want("avatest_unspecced(1)", avatest_unspecced(1), AVATEST_ERR_REMOTE,
	     AVATEST_ERR_UNSUPPORTED);
}

static void *thread_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		want("avatest_null (thread)", avatest_null(), AVATEST_ERR_REMOTE,
		     AVATEST_ERR_REMOTE);
	}
	return NULL;
}

int main(void)
{
	pthread_t threads[4];
	const char *sock = getenv("AVA_ROUTER_SOCKET");
	int n_threads = 0;

	if (!sock || !*sock) {
		fprintf(stderr, "avatest-guest-linked: set AVA_ROUTER_SOCKET to a path nobody "
				"listens on\n");
		return 2;
	}
	/* Natively every call below succeeds, so a wrongly loaded library fails the test. */
	alarm(60);
	call_everything();
	call_everything(); /* retrying after a failure must fail the same way */
	for (int i = 0; i < 4; i++) {
		if (pthread_create(&threads[i], NULL, thread_main, NULL) == 0)
			n_threads++;
	}
	for (int i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);

	if (visited) {
		fprintf(stderr, "avatest-guest-linked: FAIL the callback ran %d times\n", visited);
		n_failed++;
	}
	if (n_failed) {
		fprintf(stderr, "avatest-guest-linked: %d of %d checks failed\n", n_failed,
			n_checks);
		return 1;
	}
	printf("avatest-guest-linked: %d checks, every call failed cleanly with "
	       "AVATEST_ERR_REMOTE\n",
	       n_checks);
	return 0;
}
