/* SPDX-License-Identifier: MIT */
/* Timing and sample statistics shared by the benchmarks. */
#ifndef AVA_BENCH_STATS_H
#define AVA_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stats {
	double median_ns;
	double p99_ns;
	bool valid; /* false when there were no samples */
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);

/* Sorts samples (ns) in place and returns their median and p99. */
struct stats summarize(double *samples, size_t n);

#endif /* AVA_BENCH_STATS_H */
