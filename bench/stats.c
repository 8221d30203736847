/* SPDX-License-Identifier: MIT */
#include "stats.h"

#include <stdlib.h>
#include <time.h>

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct stats summarize(double *samples, size_t n)
{
	struct stats s = { 0 };
	size_t p99 = (n * 99) / 100;

	if (n == 0)
		return s;
	qsort(samples, n, sizeof(*samples), cmp_double);
	s.median_ns = samples[n / 2];
	s.p99_ns = samples[p99 < n ? p99 : n - 1];
	s.valid = true;
	return s;
}
