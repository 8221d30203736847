/* SPDX-License-Identifier: MIT */
/*
 * bench-fairness-client: one tenant's load for bench/fairness.sh, which runs
 * several of these through ava-run against one avarouterd and reads what the
 * router counted (`avactl status --json`).
 *
 *   bench-fairness-client busy SECONDS USEC
 *       avatest_busy(dev, USEC) in a loop for SECONDS, then avatest_sync;
 *       prints "busy N"
 *   bench-fairness-client busy-sync SECONDS USEC
 *       the same with avatest_sync after every call: one call in flight at a
 *       time, like an OpenCL program that calls clFinish after each kernel
 *   bench-fairness-client flood SECONDS THREADS USEC
 *       THREADS threads for SECONDS: even ones call avatest_null, odd ones
 *       avatest_busy(dev, USEC), as fast as they are answered; prints
 *       "flood null N busy M"
 *   bench-fairness-client latency N SECONDS
 *       times N avatest_null calls one by one (or as many as fit in SECONDS);
 *       prints "latency n N p50_ns X p99_ns Y"
 *
 * Exits 1 with a message if a call fails: a delaying policy slows calls down,
 * it never fails them.
 */
#define _GNU_SOURCE
#include "avatest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define MAX_THREADS 64

static avatest_device dev;

struct flood_thread {
	pthread_t th;
	unsigned index;
	uint64_t end_ns;
	uint32_t usec;
	unsigned long calls;
	avatest_status bad; /* the first error, AVATEST_OK if none */
};

static int busy_mode(double seconds, uint32_t usec, bool sync_each)
{
	unsigned long n = 0;
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);

	while (now_ns() < end) {
		avatest_status s = avatest_busy(dev, usec);
		if (s != AVATEST_OK) {
			fprintf(stderr, "bench-fairness-client: avatest_busy returned %d\n",
				(int)s);
			return 1;
		}
		if (sync_each && avatest_sync(dev) != AVATEST_OK) {
			fprintf(stderr, "bench-fairness-client: avatest_sync failed\n");
			return 1;
		}
		n++;
	}
	if (avatest_sync(dev) != AVATEST_OK) {
		fprintf(stderr, "bench-fairness-client: avatest_sync failed\n");
		return 1;
	}
	printf("busy %lu\n", n);
	return 0;
}

static void *flood_thread_main(void *arg)
{
	struct flood_thread *t = arg;
	bool busy = t->index % 2 == 1;

	while (now_ns() < t->end_ns) {
		avatest_status s = busy ? avatest_busy(dev, t->usec) : avatest_null();
		if (s != AVATEST_OK) {
			t->bad = s;
			break;
		}
		t->calls++;
	}
	return NULL;
}

static int flood_mode(double seconds, unsigned n_threads, uint32_t usec)
{
	struct flood_thread t[MAX_THREADS];
	unsigned long nulls = 0, busys = 0;
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	unsigned started = 0;
	int ret = 0;

	if (n_threads == 0 || n_threads > MAX_THREADS) {
		fprintf(stderr, "bench-fairness-client: THREADS must be 1..%d\n", MAX_THREADS);
		return 2;
	}
	memset(t, 0, sizeof(t));
	for (unsigned i = 0; i < n_threads; i++) {
		t[i].index = i;
		t[i].end_ns = end;
		t[i].usec = usec;
		if (pthread_create(&t[i].th, NULL, flood_thread_main, &t[i]) != 0) {
			fprintf(stderr, "bench-fairness-client: pthread_create failed\n");
			ret = 1;
			break;
		}
		started++;
	}
	for (unsigned i = 0; i < started; i++) {
		pthread_join(t[i].th, NULL);
		if (t[i].bad != AVATEST_OK) {
			fprintf(stderr,
				"bench-fairness-client: flood thread %u: call returned %d\n", i,
				(int)t[i].bad);
			ret = 1;
		}
		if (i % 2 == 1)
			busys += t[i].calls;
		else
			nulls += t[i].calls;
	}
	if (ret == 0)
		printf("flood null %lu busy %lu\n", nulls, busys);
	return ret;
}

static int latency_mode(unsigned long n, double seconds)
{
	double *samples = calloc(n ? n : 1, sizeof(*samples));
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	unsigned long done = 0;
	int ret = 1;

	if (!samples) {
		fprintf(stderr, "bench-fairness-client: out of memory\n");
		return 1;
	}
	while (done < n) {
		uint64_t t0 = now_ns();
		avatest_status s = avatest_null();
		uint64_t t1 = now_ns();
		if (s != AVATEST_OK) {
			fprintf(stderr, "bench-fairness-client: avatest_null returned %d\n",
				(int)s);
			goto out;
		}
		samples[done++] = (double)(t1 - t0);
		if (t1 >= end)
			break;
	}
	struct stats st = summarize(samples, done);
	if (!st.valid) {
		fprintf(stderr, "bench-fairness-client: no samples\n");
		goto out;
	}
	printf("latency n %lu p50_ns %.0f p99_ns %.0f\n", done, st.median_ns, st.p99_ns);
	ret = 0;
out:
	free(samples);
	return ret;
}

int main(int argc, char **argv)
{
	int ret = 2;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-fairness-client busy|busy-sync SECONDS USEC | "
				"flood SECONDS THREADS USEC | latency N SECONDS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (avatest_device_open(0, &dev) != AVATEST_OK) {
		fprintf(stderr, "bench-fairness-client: cannot open device 0\n");
		return 1;
	}
	if ((!strcmp(argv[1], "busy") || !strcmp(argv[1], "busy-sync")) && argc == 4)
		ret = busy_mode(strtod(argv[2], NULL), (uint32_t)strtoul(argv[3], NULL, 0),
				!strcmp(argv[1], "busy-sync"));
	else if (!strcmp(argv[1], "flood") && argc == 5)
		ret = flood_mode(strtod(argv[2], NULL), (unsigned)strtoul(argv[3], NULL, 0),
				 (uint32_t)strtoul(argv[4], NULL, 0));
	else if (!strcmp(argv[1], "latency") && argc == 4)
		ret = latency_mode(strtoul(argv[2], NULL, 0), strtod(argv[3], NULL));
	else
		fprintf(stderr, "bench-fairness-client: unknown mode or wrong arguments\n");
	(void)avatest_device_close(dev);
	return ret;
}
