/* SPDX-License-Identifier: MIT */
/*
 * avatest-remote-only: behaviour that holds only when avatest is remoted
 * (run as `ava-run -- avatest-remote-only`).
 *
 *  - a function the spec leaves out returns AVATEST_ERR_UNSUPPORTED;
 *  - a failing non-blocking call returns AVATEST_OK at once and its error
 *    surfaces at the next blocking call, exactly once, never lost;
 *  - handles the application sees are tokens, not pointers into its memory;
 *  - many short-lived threads, one after another, each get their calls served
 *    (the server's per-thread workers must not run out).
 *
 * Run natively, avatest_unspecced works (AVATEST_OK): exits 77 (skipped),
 * or 1 when AVATEST_EXPECT_REMOTE is set (the test scripts set it when they
 * launch it through ava-run, so a launcher that fails to remote is a failure).
 */
#define _GNU_SOURCE
#include "avatest.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static int n_failed;

#define CHECK(cond, ...)                                                                          \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "avatest-remote-only: FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                                             \
			fputc('\n', stderr);                                                      \
			n_failed++;                                                               \
		}                                                                                 \
	} while (0)

/* True if addr lies inside any mapping of this process (/proc/self/maps). */
static bool address_is_mapped(uintptr_t addr)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	bool mapped = false;
	char line[512];

	if (!maps)
		return false;
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi) {
			mapped = true;
			break;
		}
	}
	fclose(maps);
	return mapped;
}

static void check_deferred_error(avatest_device dev)
{
	avatest_status st;
	int64_t sum = -1;

	/* A failing non-blocking call is accepted at once ... */
	st = avatest_log_value(dev, -1, 0);
	CHECK(st == AVATEST_OK, "non-blocking log_value(-1) returned %d, want AVATEST_OK (0)", st);
	/* ... and its error comes back from the next blocking call, */
	st = avatest_log_sum(dev, &sum);
	CHECK(st == AVATEST_ERR_INVALID,
	      "log_sum after a failed non-blocking call returned %d, want AVATEST_ERR_INVALID (-1)",
	      st);
	/* exactly once. */
	sum = -1;
	st = avatest_log_sum(dev, &sum);
	CHECK(st == AVATEST_OK, "second log_sum returned %d, want AVATEST_OK", st);
	CHECK(sum == 0, "log sum %" PRId64 ", want 0 (the failed value is not logged)", sum);

	/* Successful non-blocking calls are all applied, in order, before the next blocking one. */
	for (int32_t v = 1; v <= 100; v++) {
		st = avatest_log_value(dev, v, 0);
		CHECK(st == AVATEST_OK, "non-blocking log_value(%d) returned %d", (int)v, st);
	}
	st = avatest_log_sum(dev, &sum);
	CHECK(st == AVATEST_OK && sum == 5050,
	      "log_sum after 100 non-blocking calls: %d, sum %" PRId64, st, sum);

	/* An error in the middle of a batch is not lost, and the rest of the batch still runs. */
	st = avatest_log_value(dev, 1, 0);
	CHECK(st == AVATEST_OK, "non-blocking log_value(1) returned %d", st);
	st = avatest_log_value(dev, -5, 0);
	CHECK(st == AVATEST_OK, "non-blocking log_value(-5) returned %d", st);
	st = avatest_log_value(dev, 2, 0);
	CHECK(st == AVATEST_OK, "non-blocking log_value(2) returned %d", st);
	st = avatest_log_sum(dev, &sum);
	CHECK(st == AVATEST_ERR_INVALID, "log_sum after a failed batch returned %d, want -1", st);
	st = avatest_log_sum(dev, &sum);
	CHECK(st == AVATEST_OK && sum == 5053, "log_sum after the reported error: %d, sum %" PRId64,
	      st, sum);
}

#define CHURN_THREADS 600

static void *churn_thread(void *arg)
{
	int32_t y = 0;
	avatest_status st = avatest_add_one((int32_t)(intptr_t)arg, &y);

	return (void *)(intptr_t)(st == AVATEST_OK && y == (int32_t)(intptr_t)arg + 1);
}

/* More guest threads over the program's life than the server keeps workers. */
static void check_thread_churn(void)
{
	int ok = 0;

	for (int i = 0; i < CHURN_THREADS; i++) {
		pthread_t t;
		void *res = NULL;

		if (pthread_create(&t, NULL, churn_thread, (void *)(intptr_t)i) != 0)
			break;
		pthread_join(t, &res);
		ok += res != NULL;
	}
	CHECK(ok == CHURN_THREADS, "%d of %d short-lived threads got their call served", ok,
	      CHURN_THREADS);
}

int main(void)
{
	avatest_device dev = NULL, dev2 = NULL;
	avatest_status st;

	st = avatest_unspecced(1);
	if (st == AVATEST_OK && getenv("AVATEST_EXPECT_REMOTE")) {
		fprintf(stderr,
			"avatest-remote-only: FAIL: run to be remoted (AVATEST_EXPECT_REMOTE "
			"is set) but avatest_unspecced returned AVATEST_OK: the native "
			"library is loaded\n");
		return 1;
	}
	if (st == AVATEST_OK) {
		fprintf(stderr, "avatest-remote-only: skipped: not remoted (avatest_unspecced "
				"returned AVATEST_OK, so the native library is loaded; run it "
				"under ava-run)\n");
		return 77;
	}
	CHECK(st == AVATEST_ERR_UNSUPPORTED, "avatest_unspecced returned %d, want %d", st,
	      AVATEST_ERR_UNSUPPORTED);
	/* The unsupported call must not have broken the channel. */
	st = avatest_null();
	CHECK(st == AVATEST_OK, "avatest_null after an unsupported call returned %d", st);

	st = avatest_device_open(0, &dev);
	CHECK(st == AVATEST_OK && dev, "device_open(0) returned %d", st);
	st = avatest_device_open(1, &dev2);
	CHECK(st == AVATEST_OK && dev2, "device_open(1) returned %d", st);
	if (!dev || !dev2)
		return 1;

	CHECK(!address_is_mapped((uintptr_t)dev) && !address_is_mapped((uintptr_t)dev2),
	      "a device handle points into this process's memory");
	CHECK(dev != dev2, "two devices got the same handle");

	check_deferred_error(dev);
	check_thread_churn();

	st = avatest_device_close(dev);
	CHECK(st == AVATEST_OK, "device_close returned %d", st);
	st = avatest_device_close(dev2);
	CHECK(st == AVATEST_OK, "device_close(dev2) returned %d", st);

	if (n_failed) {
		fprintf(stderr, "avatest-remote-only: %d check(s) failed\n", n_failed);
		return 1;
	}
	printf("avatest-remote-only: all checks passed\n");
	return 0;
}
