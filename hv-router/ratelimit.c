/* SPDX-License-Identifier: MIT */
#include "ratelimit.h"

#include <errno.h>
#include <stddef.h>

__extension__ typedef unsigned __int128 u128;
typedef ava_ratelimit_i128 i128;

#define NS_PER_SEC ((i128)1000000000)
/* The deepest debt kept, in token-nanoseconds: 2^64 tokens. */
#define DEBT_CAP (((i128)1 << 64) * NS_PER_SEC)

static i128 capacity(const struct ava_ratelimit *rl)
{
	return (i128)rl->burst * NS_PER_SEC;
}

/*
 * Brings the fill up to date at now_ns. elapsed_ns * rate is at most
 * (2^64 - 1)^2 < 2^128, so the product fits in an unsigned 128-bit value
 * and is compared with the deficit before it is added.
 */
static void refill(struct ava_ratelimit *rl, uint64_t now_ns)
{
	if (now_ns <= rl->last_ns)
		return;
	uint64_t elapsed = now_ns - rl->last_ns;
	rl->last_ns = now_ns;
	if (rl->rate == AVA_RATELIMIT_UNLIMITED || rl->rate == 0)
		return;
	i128 cap = capacity(rl);
	if (rl->fill >= cap)
		return;
	u128 deficit = (u128)(cap - rl->fill);
	u128 gained = (u128)elapsed * rl->rate;
	if (gained >= deficit)
		rl->fill = cap;
	else
		rl->fill += (i128)gained;
}

static void debit(struct ava_ratelimit *rl, uint64_t n)
{
	rl->fill -= (i128)n * NS_PER_SEC;
	if (rl->fill < -DEBT_CAP)
		rl->fill = -DEBT_CAP;
}

void ava_ratelimit_init(struct ava_ratelimit *rl, uint64_t rate_per_sec, uint64_t burst,
			uint64_t now_ns)
{
	rl->rate = rate_per_sec;
	rl->burst = burst;
	rl->fill = capacity(rl);
	rl->last_ns = now_ns;
}

int ava_ratelimit_take(struct ava_ratelimit *rl, uint64_t n, uint64_t now_ns, uint64_t *ret_wait_ns)
{
	if (ret_wait_ns)
		*ret_wait_ns = 0;
	if (rl->rate == AVA_RATELIMIT_UNLIMITED) {
		rl->last_ns = now_ns > rl->last_ns ? now_ns : rl->last_ns;
		return 0;
	}
	refill(rl, now_ns);
	/* More than the burst can never be stored: a full bucket is enough. */
	i128 need = (i128)(n < rl->burst ? n : rl->burst) * NS_PER_SEC;
	if (rl->fill >= need) {
		debit(rl, n);
		return 0;
	}
	if (ret_wait_ns) {
		if (rl->rate == 0) {
			*ret_wait_ns = AVA_RATELIMIT_NEVER;
		} else {
			/* The smallest wait with wait * rate >= deficit. */
			u128 deficit = (u128)(need - rl->fill);
			u128 wait = (deficit + rl->rate - 1) / rl->rate;
			/* Beyond 584 years: saturate just below "never". */
			*ret_wait_ns =
			    wait >= AVA_RATELIMIT_NEVER ? AVA_RATELIMIT_NEVER - 1 : (uint64_t)wait;
		}
	}
	return -EAGAIN;
}

void ava_ratelimit_charge(struct ava_ratelimit *rl, uint64_t n, uint64_t now_ns)
{
	if (rl->rate == AVA_RATELIMIT_UNLIMITED) {
		rl->last_ns = now_ns > rl->last_ns ? now_ns : rl->last_ns;
		return;
	}
	refill(rl, now_ns);
	debit(rl, n);
}

void ava_ratelimit_set_params(struct ava_ratelimit *rl, uint64_t rate_per_sec, uint64_t burst,
			      uint64_t now_ns)
{
	if (rl->rate == AVA_RATELIMIT_UNLIMITED) {
		ava_ratelimit_init(rl, rate_per_sec, burst,
				   now_ns > rl->last_ns ? now_ns : rl->last_ns);
		return;
	}
	refill(rl, now_ns);
	rl->rate = rate_per_sec;
	rl->burst = burst;
	if (rl->fill > capacity(rl))
		rl->fill = capacity(rl);
}

int64_t ava_ratelimit_available(struct ava_ratelimit *rl, uint64_t now_ns)
{
	if (rl->rate == AVA_RATELIMIT_UNLIMITED)
		return INT64_MAX;
	refill(rl, now_ns);
	i128 whole = rl->fill / NS_PER_SEC;
	if (rl->fill < 0 && whole * NS_PER_SEC != rl->fill)
		whole--; /* floor: a partial token of debt is still debt */
	if (whole > INT64_MAX)
		return INT64_MAX;
	if (whole < INT64_MIN)
		return INT64_MIN;
	return (int64_t)whole;
}

int ava_ratelimit_is_unlimited(const struct ava_ratelimit *rl)
{
	return rl->rate == AVA_RATELIMIT_UNLIMITED;
}
