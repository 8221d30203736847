/* SPDX-License-Identifier: MIT */
/*
 * A token bucket for the policy's call_rate and byte_rate (include/ava/policy.h).
 *
 * Pure logic: no clock reads, no locks. Every function takes the caller's
 * monotonic time in nanoseconds (now_ns), so the router passes its loop
 * clock and tests pass a simulated one. A time earlier than one already
 * seen counts as no time passing.
 *
 * The fill is kept in exact integer "token-nanoseconds" (tokens * 1e9, a
 * signed 128-bit value): refilling adds elapsed_ns * rate, so no rounding
 * ever accumulates and rates up to 2^64-1 per second, bursts up to 2^64-1
 * and idle periods of any length cannot overflow.
 *
 * Requests larger than the burst: a bucket can never hold more than `burst`
 * tokens, so such a request is allowed as soon as the bucket is full, and
 * the excess is left as debt (a negative fill) that later requests wait
 * out. A large write is therefore delayed at most one burst's refill time,
 * and the long-run rate still holds.
 */
#ifndef AVA_ROUTER_RATELIMIT_H
#define AVA_ROUTER_RATELIMIT_H

#include <stdint.h>

#ifndef __SIZEOF_INT128__
#error "ratelimit.h needs a compiler with __int128 (gcc or clang on a 64-bit target)"
#endif

/* A rate of this value is no limit (the same value as AVA_POLICY_UNLIMITED). */
#define AVA_RATELIMIT_UNLIMITED UINT64_MAX
/* The wait ava_ratelimit_take reports when the tokens will never come (rate 0). */
#define AVA_RATELIMIT_NEVER UINT64_MAX

__extension__ typedef __int128 ava_ratelimit_i128;

/* Fields are private to ratelimit.c; embed the struct, use the functions. */
struct ava_ratelimit {
	uint64_t rate;		 /* tokens per second, or AVA_RATELIMIT_UNLIMITED */
	uint64_t burst;		 /* most tokens stored */
	ava_ratelimit_i128 fill; /* tokens * 1e9; negative = debt */
	uint64_t last_ns;	 /* time the fill was last brought up to date */
};

/*
 * Sets up rl with rate_per_sec tokens per second (AVA_RATELIMIT_UNLIMITED:
 * every take passes; 0: no refill, only the initial burst) and at most burst
 * tokens stored. The bucket starts full at now_ns.
 */
void ava_ratelimit_init(struct ava_ratelimit *rl, uint64_t rate_per_sec, uint64_t burst,
			uint64_t now_ns);

/*
 * Takes n tokens at now_ns. Returns 0 when they were taken, or -EAGAIN when
 * not enough are stored; then nothing is taken and *ret_wait_ns (if not
 * NULL) is the exact time after now_ns at which this same request would
 * pass (the smallest wait that suffices), or AVA_RATELIMIT_NEVER when it
 * never will (rate 0). n larger than the burst passes when the bucket is
 * full and leaves the rest as debt (see above). An unlimited bucket always
 * returns 0. *ret_wait_ns is 0 on success.
 */
int ava_ratelimit_take(struct ava_ratelimit *rl, uint64_t n, uint64_t now_ns, uint64_t *ret_wait_ns)
    __attribute__((warn_unused_result));

/*
 * Takes n tokens unconditionally, going into debt if needed: for amounts
 * known only after the fact (reply bytes). Debt is capped at 2^64 tokens.
 */
void ava_ratelimit_charge(struct ava_ratelimit *rl, uint64_t n, uint64_t now_ns);

/*
 * Changes the parameters (policy reload) at now_ns. The fill is brought up
 * to date under the old rate first, then kept, capped at the new burst;
 * debt is kept. Changing from unlimited to limited starts full.
 */
void ava_ratelimit_set_params(struct ava_ratelimit *rl, uint64_t rate_per_sec, uint64_t burst,
			      uint64_t now_ns);

/*
 * Whole tokens stored at now_ns (negative: debt), saturated to the int64_t
 * range; INT64_MAX for an unlimited bucket. For status output.
 */
int64_t ava_ratelimit_available(struct ava_ratelimit *rl, uint64_t now_ns);

/* Whether rl is unlimited. */
int ava_ratelimit_is_unlimited(const struct ava_ratelimit *rl);

#endif /* AVA_ROUTER_RATELIMIT_H */
