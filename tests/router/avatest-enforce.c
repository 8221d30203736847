/* SPDX-License-Identifier: MIT */
/*
 * avatest-enforce: an application under an operator policy, for
 * test_enforce.sh. Each mode does one thing and prints what it saw; the
 * script checks the numbers against the policy and `avactl status`.
 *
 *   avatest-enforce quota SIZE          allocate SIZE-byte buffers until refused; free one,
 *                                       allocate again; prints "allocated N"
 *   avatest-enforce threads T SIZE      T threads allocate SIZE-byte buffers until refused;
 *                                       prints "allocated N" and exits holding them
 *   avatest-enforce calls N             N avatest_null calls; prints "ok A refused R"
 *   avatest-enforce busy SECONDS USEC   avatest_busy(USEC) in a loop for SECONDS; prints
 *                                       "busy N"
 *   avatest-enforce hold SIZE SECONDS   allocate one SIZE-byte buffer, print "held", then
 *                                       sleep (its server may be killed meanwhile)
 *
 * Exits 1 with a message if the API answers something no policy explains.
 */
#define _GNU_SOURCE
#include "avatest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static avatest_device dev;
static size_t thread_size;
static unsigned long thread_count[64];
static int thread_bad;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int quota_mode(size_t size)
{
	avatest_buffer bufs[4096];
	unsigned long n = 0;
	avatest_status err = AVATEST_OK;
	for (;;) {
		if (n == sizeof(bufs) / sizeof(bufs[0])) {
			fprintf(stderr, "avatest-enforce: no refusal after %lu buffers\n", n);
			return 1;
		}
		bufs[n] = avatest_buffer_new(dev, size, &err);
		if (!bufs[n])
			break;
		n++;
	}
	if (err != AVATEST_ERR_OVER_QUOTA) {
		fprintf(stderr, "avatest-enforce: buffer %lu failed with %d, not ERR_OVER_QUOTA\n",
			n, (int)err);
		return 1;
	}
	printf("allocated %lu\n", n);
	if (n == 0)
		return 0;
	/* Freeing one gives its bytes back: the same size fits again, once. */
	if (avatest_buffer_release(bufs[n - 1]) != AVATEST_OK) {
		fprintf(stderr, "avatest-enforce: release failed\n");
		return 1;
	}
	bufs[n - 1] = avatest_buffer_new(dev, size, &err);
	if (!bufs[n - 1] || err != AVATEST_OK) {
		fprintf(stderr, "avatest-enforce: allocation after a release failed (%d)\n",
			(int)err);
		return 1;
	}
	if (avatest_buffer_new(dev, size, &err) || err != AVATEST_ERR_OVER_QUOTA) {
		fprintf(stderr, "avatest-enforce: quota not enforced after a release (%d)\n",
			(int)err);
		return 1;
	}
	printf("reallocated 1\n");
	for (unsigned long i = 0; i < n; i++)
		(void)avatest_buffer_release(bufs[i]);
	return 0;
}

static void *alloc_thread(void *arg)
{
	unsigned long *count = arg;
	avatest_status err = AVATEST_OK;
	while (avatest_buffer_new(dev, thread_size, &err))
		(*count)++;
	if (err != AVATEST_ERR_OVER_QUOTA)
		__atomic_store_n(&thread_bad, (int)err ? (int)err : 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int threads_mode(unsigned n_threads, size_t size)
{
	pthread_t th[64];
	thread_size = size;
	if (n_threads == 0 || n_threads > 64)
		return 2;
	for (unsigned i = 0; i < n_threads; i++) {
		if (pthread_create(&th[i], NULL, alloc_thread, &thread_count[i]) != 0)
			return 1;
	}
	unsigned long total = 0;
	for (unsigned i = 0; i < n_threads; i++) {
		pthread_join(th[i], NULL);
		total += thread_count[i];
	}
	if (thread_bad) {
		fprintf(stderr,
			"avatest-enforce: an allocation failed with %d, not ERR_OVER_QUOTA\n",
			thread_bad);
		return 1;
	}
	printf("allocated %lu\n", total);
	return 0; /* exits holding them: the router must release them at disconnect */
}

static int calls_mode(unsigned long n)
{
	unsigned long ok = 0, refused = 0;
	for (unsigned long i = 0; i < n; i++) {
		avatest_status s = avatest_null();
		if (s == AVATEST_OK) {
			ok++;
		} else if (s == AVATEST_ERR_REFUSED) {
			refused++;
		} else {
			fprintf(stderr, "avatest-enforce: avatest_null returned %d\n", (int)s);
			return 1;
		}
	}
	printf("ok %lu refused %lu\n", ok, refused);
	return 0;
}

static int busy_mode(double seconds, uint32_t usec)
{
	unsigned long n = 0;
	double end = now_s() + seconds;
	while (now_s() < end) {
		avatest_status s = avatest_busy(dev, usec);
		if (s != AVATEST_OK) {
			fprintf(stderr, "avatest-enforce: avatest_busy returned %d\n", (int)s);
			return 1;
		}
		n++;
	}
	if (avatest_sync(dev) != AVATEST_OK)
		return 1;
	printf("busy %lu\n", n);
	return 0;
}

static int hold_mode(size_t size, unsigned seconds)
{
	avatest_status err = AVATEST_OK;
	avatest_buffer buf = avatest_buffer_new(dev, size, &err);
	if (!buf) {
		fprintf(stderr, "avatest-enforce: allocation failed (%d)\n", (int)err);
		return 1;
	}
	printf("held\n");
	sleep(seconds);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: avatest-enforce quota SIZE | threads T SIZE | calls N | "
				"busy SECONDS USEC\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* calls needs no device: under a call rate that refuses, opening one could fail. */
	if (strcmp(argv[1], "calls") != 0 && avatest_device_open(0, &dev) != AVATEST_OK) {
		fprintf(stderr, "avatest-enforce: cannot open device 0\n");
		return 1;
	}
	int ret = 2;
	if (!strcmp(argv[1], "quota"))
		ret = quota_mode(strtoull(argv[2], NULL, 0));
	else if (!strcmp(argv[1], "threads") && argc == 4)
		ret = threads_mode((unsigned)strtoul(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
	else if (!strcmp(argv[1], "calls"))
		ret = calls_mode(strtoul(argv[2], NULL, 0));
	else if (!strcmp(argv[1], "hold") && argc == 4)
		ret = hold_mode(strtoull(argv[2], NULL, 0), (unsigned)strtoul(argv[3], NULL, 0));
	else if (!strcmp(argv[1], "busy") && argc == 4)
		ret = busy_mode(strtod(argv[2], NULL), (uint32_t)strtoul(argv[3], NULL, 0));
	return ret;
}
