/* SPDX-License-Identifier: MIT */
/*
 * avatest-quota: the router's memory quota as an application sees it
 * (run-quota.sh runs it remoted under a policy with memory_quota: 64KiB).
 *
 *  - an allocation beyond the quota fails with the spec's
 *    ava_over_quota_error (AVATEST_ERR_OVER_QUOTA), and nothing is created;
 *  - a sub-buffer (ava_parent) keeps its parent's memory charged after the
 *    parent's own handle is released, until the sub-buffer is released too.
 *
 * Natively there is no quota: exits 77, or 1 when AVATEST_EXPECT_REMOTE is set.
 */
#define _GNU_SOURCE
#include "avatest.h"

#include <stdio.h>
#include <stdlib.h>

#define KIB 1024u

static int n_failed;

#define CHECK(cond, ...)                                                                    \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "avatest-quota: FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                                       \
			fputc('\n', stderr);                                                \
			n_failed++;                                                         \
		}                                                                           \
	} while (0)

/* Tries a buffer of size bytes; releases it at once when it was made. */
static avatest_status try_alloc(avatest_device dev, size_t size)
{
	avatest_status err = AVATEST_ERR_REMOTE;
	avatest_buffer buf = avatest_buffer_new(dev, size, &err);

	if (buf && avatest_buffer_release(buf) != AVATEST_OK)
		return AVATEST_ERR_REMOTE;
	if (err == AVATEST_OK && !buf)
		return AVATEST_ERR_REMOTE;
	if (err != AVATEST_OK && buf)
		return AVATEST_ERR_REMOTE;
	return err;
}

int main(void)
{
	avatest_status err = AVATEST_ERR_REMOTE, st;
	avatest_buffer parent, sub;
	avatest_device dev = NULL;
	size_t size = 0;

	if (avatest_unspecced(0) == AVATEST_OK) {
		if (getenv("AVATEST_EXPECT_REMOTE")) {
			fprintf(stderr, "avatest-quota: FAIL: AVATEST_EXPECT_REMOTE is set but the "
					"native library is loaded\n");
			return 1;
		}
		fprintf(stderr,
			"avatest-quota: skipped: not remoted (run it through run-quota.sh)\n");
		return 77;
	}
	st = avatest_device_open(0, &dev);
	CHECK(st == AVATEST_OK && dev, "device_open: %d", st);
	if (!dev)
		return 1;

	/* 48 KiB of 64: 16 KiB left. */
	parent = avatest_buffer_new(dev, 48 * KIB, &err);
	CHECK(parent && err == AVATEST_OK, "buffer_new(48 KiB): %d", err);
	st = try_alloc(dev, 32 * KIB);
	CHECK(st == AVATEST_ERR_OVER_QUOTA, "32 KiB beyond the quota: %d, want OVER_QUOTA (%d)", st,
	      AVATEST_ERR_OVER_QUOTA);
	st = try_alloc(dev, 16 * KIB);
	CHECK(st == AVATEST_OK, "16 KiB (exactly the rest): %d", st);

	/* The sub-buffer is charged nothing itself and keeps its parent charged. */
	sub = avatest_buffer_new_sub(parent, 8 * KIB, 8 * KIB, &err);
	CHECK(sub && err == AVATEST_OK, "buffer_new_sub: %d", err);
	st = avatest_buffer_release(parent);
	CHECK(st == AVATEST_OK, "buffer_release(parent): %d", st);
	st = avatest_buffer_parent_size(sub, &size);
	CHECK(st == AVATEST_OK && size == 48 * KIB, "parent_size(sub): %d, %zu", st, size);
	st = try_alloc(dev, 32 * KIB);
	CHECK(st == AVATEST_ERR_OVER_QUOTA,
	      "32 KiB while the sub-buffer holds its released parent: %d, want OVER_QUOTA", st);
	st = avatest_buffer_release(sub);
	CHECK(st == AVATEST_OK, "buffer_release(sub): %d", st);
	st = try_alloc(dev, 64 * KIB);
	CHECK(st == AVATEST_OK, "the whole quota once the sub-buffer is gone: %d", st);
	st = try_alloc(dev, 64 * KIB + 1);
	CHECK(st == AVATEST_ERR_OVER_QUOTA, "one byte beyond the quota: %d", st);

	st = avatest_device_close(dev);
	CHECK(st == AVATEST_OK, "device_close: %d", st);
	if (n_failed) {
		fprintf(stderr, "avatest-quota: %d check(s) failed\n", n_failed);
		return 1;
	}
	printf("avatest-quota: all checks passed\n");
	return 0;
}
