/* SPDX-License-Identifier: MIT */
/*
 * avatest-policy: what an application sees when the operator's policy
 * refuses its calls (run through ava-run against a router whose policy
 * denies avatest_add_one and avatest_log_value; test_policy_guest.sh).
 *
 *  - a refused call returns the spec's ava_refuse_with error,
 *    AVATEST_ERR_REFUSED, and the application goes on;
 *  - a refused non-blocking call returns AVATEST_OK at once and its
 *    AVATEST_ERR_REFUSED comes back from the next blocking call, once;
 *  - calls the policy allows work as usual.
 * With the argument "refused-session" (the policy refuses the channel):
 * every call returns AVATEST_ERR_REFUSED.
 */
#include "avatest.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int n_failed;

#define CHECK(cond, ...)                                                                     \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "avatest-policy: FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                                        \
			fputc('\n', stderr);                                                 \
			n_failed++;                                                          \
		}                                                                            \
	} while (0)

static int refused_session(void)
{
	int32_t y = 0;
	avatest_device dev = NULL;
	avatest_status st = avatest_null();
	CHECK(st == AVATEST_ERR_REFUSED, "null returned %d in a refused session", st);
	st = avatest_add_one(1, &y);
	CHECK(st == AVATEST_ERR_REFUSED, "add_one returned %d in a refused session", st);
	st = avatest_device_open(0, &dev);
	CHECK(st == AVATEST_ERR_REFUSED, "device_open returned %d in a refused session", st);
	if (n_failed)
		return 1;
	printf("avatest-policy refused-session: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	avatest_device dev = NULL;
	avatest_status st;
	int32_t y = 0;
	int64_t sum = -1;

	if (argc > 1 && !strcmp(argv[1], "refused-session"))
		return refused_session();

	st = avatest_add_one(1, &y);
	CHECK(st == AVATEST_ERR_REFUSED, "add_one returned %d, want AVATEST_ERR_REFUSED (%d)", st,
	      AVATEST_ERR_REFUSED);
	st = avatest_null();
	CHECK(st == AVATEST_OK, "null returned %d after a refusal", st);
	st = avatest_device_open(0, &dev);
	CHECK(st == AVATEST_OK && dev, "device_open returned %d", st);

	/* Blocking log_value: refused at once. */
	st = avatest_log_value(dev, 3, 1);
	CHECK(st == AVATEST_ERR_REFUSED, "blocking log_value returned %d, want %d", st,
	      AVATEST_ERR_REFUSED);

	/* Non-blocking: accepted at once, refused at the next blocking call, once. */
	st = avatest_log_value(dev, 5, 0);
	CHECK(st == AVATEST_OK, "non-blocking log_value returned %d, want AVATEST_OK", st);
	st = avatest_log_sum(dev, &sum);
	CHECK(st == AVATEST_ERR_REFUSED,
	      "log_sum after a refused non-blocking call returned %d, want %d", st,
	      AVATEST_ERR_REFUSED);
	sum = -1;
	st = avatest_log_sum(dev, &sum);
	CHECK(st == AVATEST_OK && sum == 0, "second log_sum: %d, sum %" PRId64 " (want 0)", st,
	      sum);

	st = avatest_device_close(dev);
	CHECK(st == AVATEST_OK, "device_close returned %d", st);
	if (n_failed)
		return 1;
	printf("avatest-policy: ok\n");
	return 0;
}
