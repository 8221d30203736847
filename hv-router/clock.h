/* SPDX-License-Identifier: MIT */
/*
 * The router's clock: CLOCK_MONOTONIC, so deadlines survive changes of the
 * wall clock. A leaf.
 */
#ifndef AVA_ROUTER_CLOCK_H
#define AVA_ROUTER_CLOCK_H

#include <stdint.h>

/* Monotonic milliseconds (the event loop's deadlines). */
int64_t ava_clock_now_ms(void);
/* Monotonic nanoseconds (rate limits, fair queueing, device time). */
uint64_t ava_clock_now_ns(void);

#endif /* AVA_ROUTER_CLOCK_H */
