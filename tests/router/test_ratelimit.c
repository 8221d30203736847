/* SPDX-License-Identifier: MIT */
/*
 * Token buckets (hv-router/ratelimit.c) on a simulated clock: exact waits,
 * unlimited and zero rates, requests over the burst, debt, reload, extreme
 * rates and idle periods, and the long-run rate bound.
 */
#include <errno.h>
#include <stdint.h>

#include "ava/policy.h"
#include "check.h"
#include "ratelimit.h"

#define MS  1000000ull
#define SEC 1000000000ull

/* Compares two uint64_t values and prints both on failure. */
#define CHECK_U64(a, b)                                                           \
	do {                                                                      \
		uint64_t check_a_ = (a), check_b_ = (b);                          \
		if (check_a_ != check_b_) {                                       \
			fprintf(stderr,                                           \
				"%s:%d: check failed: %s == %s (%" PRIu64 " != %" \
				"" PRIu64 ")\n",                                  \
				__FILE__, __LINE__, #a, #b, check_a_, check_b_);  \
			exit(1);                                                  \
		}                                                                 \
	} while (0)

_Static_assert(AVA_RATELIMIT_UNLIMITED == AVA_POLICY_UNLIMITED,
	       "policy and bucket agree on unlimited");

/* Takes n at t and checks that it passes. */
static void take_ok(struct ava_ratelimit *rl, uint64_t n, uint64_t t)
{
	uint64_t wait = 123;
	CHECK_INT(ava_ratelimit_take(rl, n, t, &wait), 0);
	CHECK_U64(wait, 0);
}

/* Takes n at t, checks that it is refused with exactly `want` to wait, and that it passes then. */
static void take_exact_wait(struct ava_ratelimit *rl, uint64_t n, uint64_t t, uint64_t want)
{
	uint64_t wait = 0;
	CHECK_INT(ava_ratelimit_take(rl, n, t, &wait), -EAGAIN);
	CHECK_U64(wait, want);
	/* One nanosecond early is still too early (and reports 1 ns left)... */
	if (want > 1) {
		CHECK_INT(ava_ratelimit_take(rl, n, t + want - 1, &wait), -EAGAIN);
		CHECK_U64(wait, 1);
	}
	/* ...and exactly on time passes. */
	take_ok(rl, n, t + want);
}

static void test_unlimited(void)
{
	struct ava_ratelimit rl;
	ava_ratelimit_init(&rl, AVA_RATELIMIT_UNLIMITED, 0, 0);
	CHECK(ava_ratelimit_is_unlimited(&rl));
	for (int i = 0; i < 1000; i++)
		take_ok(&rl, UINT64_MAX, 0);
	ava_ratelimit_charge(&rl, UINT64_MAX, 5);
	take_ok(&rl, UINT64_MAX, 5);
	CHECK(ava_ratelimit_available(&rl, 5) == INT64_MAX);
	CHECK_INT(ava_ratelimit_take(&rl, 1, 6, NULL), 0);
}

static void test_exact_waits(void)
{
	struct ava_ratelimit rl;

	/* 10/s, burst 5: the burst passes at once, then one token per 100 ms. */
	ava_ratelimit_init(&rl, 10, 5, 1000);
	CHECK(!ava_ratelimit_is_unlimited(&rl));
	for (int i = 0; i < 5; i++)
		take_ok(&rl, 1, 1000);
	CHECK_INT(ava_ratelimit_available(&rl, 1000), 0);
	take_exact_wait(&rl, 1, 1000, 100 * MS);
	take_exact_wait(&rl, 3, 1000 + 100 * MS, 300 * MS);

	/* 3/s: a token takes 333333333.3 ns, so the wait rounds up. */
	ava_ratelimit_init(&rl, 3, 2, 0);
	take_ok(&rl, 2, 0);
	take_exact_wait(&rl, 1, 0, 333333334);
	/* The fraction left over is kept: the next token is due at exactly 2/3 s. */
	take_exact_wait(&rl, 1, 333333334, 666666667 - 333333334);
	/* A full bucket stores no fraction beyond the burst. */
	ava_ratelimit_init(&rl, 3, 1, 0);
	take_ok(&rl, 1, 0);
	CHECK_INT(ava_ratelimit_available(&rl, 5 * SEC), 1);
	take_ok(&rl, 1, 5 * SEC);
	take_exact_wait(&rl, 1, 5 * SEC, 333333334);

	/* A refused take takes nothing. */
	ava_ratelimit_init(&rl, 1, 4, 0);
	take_ok(&rl, 3, 0);
	CHECK_INT(ava_ratelimit_take(&rl, 2, 0, NULL), -EAGAIN);
	CHECK_INT(ava_ratelimit_available(&rl, 0), 1);
	take_ok(&rl, 1, 0);
}

/* 2^40 per second with a 2^40 burst: sub-nanosecond tokens. */
static void test_high_rate(void)
{
	const uint64_t rate = 1ull << 40;
	struct ava_ratelimit rl;

	ava_ratelimit_init(&rl, rate, rate, 0);
	take_ok(&rl, rate, 0);
	take_exact_wait(&rl, 1, 0, 1); /* 1/1.0995 ns per token: one ns suffices */
	/* A whole burst takes exactly one second. */
	take_exact_wait(&rl, rate, 1, SEC);
	/* In 1 ns, floor(2^40 / 1e9) = 1099 tokens come, plus a carried fraction. */
	take_ok(&rl, 1099, 1 + SEC + 1);
	CHECK_INT(ava_ratelimit_take(&rl, 2, 1 + SEC + 1, NULL), -EAGAIN);

	/* A long idle period fills to the burst and no further, without overflow. */
	ava_ratelimit_init(&rl, rate, rate, 0);
	take_ok(&rl, rate, 0);
	CHECK_INT(ava_ratelimit_available(&rl, UINT64_MAX / 2), (int64_t)rate);
	take_ok(&rl, rate, UINT64_MAX / 2);
	take_exact_wait(&rl, 1, UINT64_MAX / 2, 1);

	/* The largest representable parameters and times. */
	ava_ratelimit_init(&rl, UINT64_MAX - 1, UINT64_MAX, 0);
	take_ok(&rl, UINT64_MAX, 0);
	CHECK_INT(ava_ratelimit_available(&rl, 0), 0);
	CHECK(ava_ratelimit_available(&rl, UINT64_MAX) == INT64_MAX);
	take_ok(&rl, UINT64_MAX, UINT64_MAX);
}

static void test_over_burst(void)
{
	struct ava_ratelimit rl;
	uint64_t wait;

	/* Burst 10 at 10/s: 25 passes when full and leaves 15 of debt. */
	ava_ratelimit_init(&rl, 10, 10, 0);
	take_ok(&rl, 25, 0);
	CHECK_INT(ava_ratelimit_available(&rl, 0), -15);
	/* One token needs the debt paid plus one: 1.6 s. */
	CHECK_INT(ava_ratelimit_take(&rl, 1, 0, &wait), -EAGAIN);
	CHECK_U64(wait, 1600 * MS);
	/* Another 25 needs a full bucket again: 2.5 s, never longer. */
	take_exact_wait(&rl, 25, 0, 2500 * MS);

	/* Not full: the over-burst request waits for full, not for 25 tokens. */
	ava_ratelimit_init(&rl, 10, 10, 0);
	take_ok(&rl, 5, 0);
	take_exact_wait(&rl, 25, 0, 500 * MS);

	/* Burst 0 still lets calls through, one per refill of their size. */
	ava_ratelimit_init(&rl, 1000, 0, 0);
	take_ok(&rl, 1, 0);
	take_exact_wait(&rl, 1, 0, 1 * MS);
}

static void test_charge(void)
{
	struct ava_ratelimit rl;
	uint64_t wait;

	/* Reply bytes counted after the fact push the bucket into debt. */
	ava_ratelimit_init(&rl, 1000, 100, 0);
	take_ok(&rl, 60, 0);
	ava_ratelimit_charge(&rl, 1040, 0);
	CHECK_INT(ava_ratelimit_available(&rl, 0), -1000);
	take_exact_wait(&rl, 1, 0, 1001 * MS);
	/* A partial token of debt reads as a whole one owed. */
	ava_ratelimit_charge(&rl, 1, 1001 * MS + 500000);
	CHECK_INT(ava_ratelimit_available(&rl, 1001 * MS + 500000), -1);

	/* Debt saturates instead of overflowing; the wait saturates below "never". */
	ava_ratelimit_init(&rl, 1, 1, 0);
	for (int i = 0; i < 8; i++)
		ava_ratelimit_charge(&rl, UINT64_MAX, 0);
	CHECK(ava_ratelimit_available(&rl, 0) == INT64_MIN);
	CHECK_INT(ava_ratelimit_take(&rl, 1, 0, &wait), -EAGAIN);
	CHECK_U64(wait, AVA_RATELIMIT_NEVER - 1);
}

static void test_zero_rate_and_clock(void)
{
	struct ava_ratelimit rl;
	uint64_t wait;

	/* Rate 0: the initial burst and then never again. */
	ava_ratelimit_init(&rl, 0, 3, 0);
	take_ok(&rl, 3, 0);
	CHECK_INT(ava_ratelimit_take(&rl, 1, UINT64_MAX, &wait), -EAGAIN);
	CHECK_U64(wait, AVA_RATELIMIT_NEVER);

	/* A clock read earlier than one seen is no time passing. */
	ava_ratelimit_init(&rl, 10, 1, 10 * SEC);
	take_ok(&rl, 1, 10 * SEC);
	CHECK_INT(ava_ratelimit_take(&rl, 1, 5 * SEC, &wait), -EAGAIN);
	CHECK_U64(wait, 100 * MS);
	take_exact_wait(&rl, 1, 10 * SEC, 100 * MS);
}

static void test_set_params(void)
{
	struct ava_ratelimit rl;

	/* The fill is kept over a reload, capped at the new burst. */
	ava_ratelimit_init(&rl, 100, 100, 0);
	take_ok(&rl, 30, 0);
	ava_ratelimit_set_params(&rl, 100, 50, 0);
	CHECK_INT(ava_ratelimit_available(&rl, 0), 50);
	ava_ratelimit_set_params(&rl, 100, 200, 0);
	CHECK_INT(ava_ratelimit_available(&rl, 0), 50);
	/* Time before the reload refills at the old rate, after it at the new one. */
	ava_ratelimit_set_params(&rl, 1000, 200, 100 * MS); /* +10 at 100/s */
	CHECK_INT(ava_ratelimit_available(&rl, 100 * MS), 60);
	CHECK_INT(ava_ratelimit_available(&rl, 200 * MS), 160); /* +100 at 1000/s */
	/* Debt survives a reload. */
	ava_ratelimit_charge(&rl, 500, 200 * MS);
	ava_ratelimit_set_params(&rl, 10, 10, 200 * MS);
	CHECK_INT(ava_ratelimit_available(&rl, 200 * MS), -340);

	/* Limited -> unlimited -> limited: the new limit starts full. */
	ava_ratelimit_set_params(&rl, AVA_RATELIMIT_UNLIMITED, 0, 300 * MS);
	take_ok(&rl, UINT64_MAX, 300 * MS);
	ava_ratelimit_set_params(&rl, 5, 7, 400 * MS);
	CHECK_INT(ava_ratelimit_available(&rl, 400 * MS), 7);
	take_ok(&rl, 7, 400 * MS);
	take_exact_wait(&rl, 1, 400 * MS, 200 * MS);
}

/*
 * A "delay" caller: requests of random sizes, each waiting as told. Over any
 * run, tokens taken <= burst + rate * elapsed (the bucket's promise), and a
 * caller that always waits exactly as told gets within one request of it.
 */
static void test_long_run(void)
{
	const uint64_t rate = 12345, burst = 1000;
	struct ava_ratelimit rl;
	uint64_t t = 7, seed = 42, taken = 0;

	ava_ratelimit_init(&rl, rate, burst, t);
	for (int i = 0; i < 200000; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t n = 1 + (seed >> 33) % 1500; /* sometimes over the burst */
		uint64_t wait;
		while (ava_ratelimit_take(&rl, n, t, &wait) == -EAGAIN) {
			CHECK(wait > 0 && wait != AVA_RATELIMIT_NEVER);
			t += wait;
		}
		taken += n;
		/* The promise, checked after every take (128-bit: no overflow). */
		__extension__ unsigned __int128 allowed =
		    (unsigned __int128)burst * SEC + (unsigned __int128)rate * (t - 7);
		/* An over-burst take may overdraw by its excess over the burst. */
		uint64_t over = n > burst ? n - burst : 0;
		CHECK((unsigned __int128)(taken - over) * SEC <= allowed);
	}
	double achieved = (double)taken * 1e9 / (double)(t - 7);
	printf("ratelimit long run: %.1f tokens/s achieved of %" PRIu64 "/s\n", achieved, rate);
	CHECK(achieved <= (double)rate * 1.001 && achieved >= (double)rate * 0.999);
}

int main(void)
{
	test_unlimited();
	test_exact_waits();
	test_high_rate();
	test_over_burst();
	test_charge();
	test_zero_rate_and_clock();
	test_set_params();
	test_long_run();
	printf("test_ratelimit: ok\n");
	return 0;
}
