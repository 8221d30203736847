/* SPDX-License-Identifier: MIT */
/*
 * bench-null-call: the per-call cost of remoting, against baselines measured
 * in the same run.
 *
 *   native   avatest_* of the real libavatest.so.1.0.0, dlopen()ed by its full
 *            path (under ava-run the name libavatest.so.1 is the guest stub)
 *   remote   avatest_* as linked: the guest stub when run under ava-run
 *   raw RTT  a 40-byte message echoed by a forked process over a socketpair,
 *            the transport's floor; for the 1 MiB call, 1 MiB out and back
 *
 * Run it through bench/run.sh (which uses ava-run). Prints per-call median and
 * p99 in ns and the ratios remote/native and remote/raw.
 */
#define _GNU_SOURCE
#include "avatest.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

#ifndef AVA_BENCH_NATIVE_LIB
#define AVA_BENCH_NATIVE_LIB "libavatest.so.1.0.0"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_UNDER_ASAN 1
#endif
#endif

#define MSG_BYTES    40
#define BIG_N	     ((size_t)1 << 18) /* floats: 1 MiB */
#define NATIVE_BATCH 256 /* native calls are timed in batches; a clock read costs more */

struct api {
	avatest_status (*null)(void);
	avatest_status (*add_one)(int32_t, int32_t *);
	avatest_status (*device_open)(int32_t, avatest_device *);
	avatest_status (*device_close)(avatest_device);
	avatest_status (*scale)(avatest_device, const float *, float *, size_t, float);
};

struct echo {
	pid_t pid;
	int fd;
};

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The echo process: reads a message whose first 8 bytes hold its total
 * length, and sends the whole message back; like a framed call, a header
 * read then a payload read. Forked before the first remoted call so it
 * holds no channel.
 */
static int echo_start(struct echo *e)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	e->pid = fork();
	if (e->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (e->pid == 0) {
		char *buf = malloc(BIG_N * sizeof(float));
		uint64_t len;

		close(sv[0]);
		while (buf && read_all(sv[1], buf, sizeof(len)) == 0) {
			memcpy(&len, buf, sizeof(len));
			if (len < sizeof(len) || len > BIG_N * sizeof(float) ||
			    read_all(sv[1], buf + sizeof(len), len - sizeof(len)) != 0 ||
			    write_all(sv[1], buf, len) != 0)
				break;
		}
		_exit(0);
	}
	close(sv[1]);
	e->fd = sv[0];
	return 0;
}

static void echo_stop(struct echo *e)
{
	close(e->fd);
	waitpid(e->pid, NULL, 0);
}

/* One round trip of a len-byte message (len >= 8) in one write, and its echo. */
static int echo_round_trip(struct echo *e, char *buf, uint64_t len)
{
	memcpy(buf, &len, sizeof(len));
	if (write_all(e->fd, buf, len) != 0)
		return -1;
	return read_all(e->fd, buf, len);
}

static struct stats bench_echo(struct echo *e, size_t len, size_t iters, double *samples)
{
	char *buf = calloc(1, len);
	struct stats none = { 0 };

	if (!buf)
		return none;
	for (size_t i = 0; i < iters / 10 + 1; i++) {
		if (echo_round_trip(e, buf, len) != 0)
			goto fail;
	}
	for (size_t i = 0; i < iters; i++) {
		uint64_t t0 = now_ns();
		if (echo_round_trip(e, buf, len) != 0)
			goto fail;
		samples[i] = (double)(now_ns() - t0);
	}
	free(buf);
	return summarize(samples, iters);
fail:
	fprintf(stderr, "bench-null-call: echo process failed\n");
	free(buf);
	return none;
}

/* Times iters calls of fn, batch calls per sample. Returns zeroed stats if a call fails. */
#define BENCH_CALLS(call, iters, batch, samples, ret)                               \
	do {                                                                        \
		bool ok_ = true;                                                    \
		for (size_t w_ = 0; w_ < (iters) / 10 + 1 && ok_; w_++)             \
			ok_ = (call) == AVATEST_OK;                                 \
		for (size_t i_ = 0; i_ < (iters) && ok_; i_++) {                    \
			uint64_t t0_ = now_ns();                                    \
			for (size_t b_ = 0; b_ < (batch); b_++)                     \
				ok_ &= (call) == AVATEST_OK;                        \
			(samples)[i_] = (double)(now_ns() - t0_) / (double)(batch); \
		}                                                                   \
		if (ok_) {                                                          \
			(ret) = summarize((samples), (iters));                      \
		} else {                                                            \
			fprintf(stderr, "bench-null-call: %s failed\n", #call);     \
			memset(&(ret), 0, sizeof(ret));                             \
		}                                                                   \
	} while (0)

struct results {
	struct stats null, add_one, scale;
};

static void bench_api(const struct api *api, size_t iters, size_t big_iters, size_t batch,
		      double *samples, float *in, float *out, struct results *r)
{
	avatest_device dev = NULL;
	int32_t y = 0;

	memset(r, 0, sizeof(*r));
	BENCH_CALLS(api->null(), iters, batch, samples, r->null);
	BENCH_CALLS(api->add_one(41, &y), iters, batch, samples, r->add_one);
	if (api->device_open(1, &dev) != AVATEST_OK) {
		fprintf(stderr, "bench-null-call: avatest_device_open failed\n");
		return;
	}
	BENCH_CALLS(api->scale(dev, in, out, BIG_N, 2.0f), big_iters, 1, samples, r->scale);
	if (api->device_close(dev) != AVATEST_OK)
		fprintf(stderr, "bench-null-call: avatest_device_close failed\n");
}

static int load_native(const char *path, struct api *api)
{
	int flags = RTLD_NOW | RTLD_LOCAL;
	avatest_status (*unspecced)(int32_t);
	void *lib;

#ifndef BENCH_UNDER_ASAN
	flags |= RTLD_DEEPBIND; /* the library binds to itself, never to the stub's symbols */
#endif
	lib = dlopen(path, flags);
	if (!lib) {
		fprintf(stderr, "bench-null-call: cannot load the native library: %s\n", dlerror());
		return -1;
	}
	*(void **)&api->null = dlsym(lib, "avatest_null");
	*(void **)&api->add_one = dlsym(lib, "avatest_add_one");
	*(void **)&api->device_open = dlsym(lib, "avatest_device_open");
	*(void **)&api->device_close = dlsym(lib, "avatest_device_close");
	*(void **)&api->scale = dlsym(lib, "avatest_scale");
	if (!api->null || !api->add_one || !api->device_open || !api->device_close || !api->scale) {
		fprintf(stderr, "bench-null-call: %s lacks avatest symbols\n", path);
		return -1;
	}
	/* The stub answers avatest_unspecced with UNSUPPORTED; the real library with OK. */
	*(void **)&unspecced = dlsym(lib, "avatest_unspecced");
	if (!unspecced || unspecced(0) != AVATEST_OK) {
		fprintf(stderr, "bench-null-call: %s is not the native library\n", path);
		return -1;
	}
	return 0;
}

static void print_row(const char *name, struct stats s)
{
	if (s.valid)
		printf("  %-34s median %10.1f ns   p99 %10.1f ns\n", name, s.median_ns, s.p99_ns);
	else
		printf("  %-34s (not measured)\n", name);
}

static void print_ratio(const char *name, struct stats a, const char *a_name, struct stats b,
			const char *b_name)
{
	if (!a.valid || !b.valid || b.median_ns <= 0)
		return;
	printf("RATIO %-16s %s/%s = %.1f (median), %.1f (p99)\n", name, a_name, b_name,
	       a.median_ns / b.median_ns, b.p99_ns > 0 ? a.p99_ns / b.p99_ns : 0.0);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-null-call [--native-lib PATH] [--iters N] [--big-iters N] "
		   "[--require-remote]\n"
		   "  run remoted: ava-run -- bench-null-call --native-lib "
		   "BUILD/lib/libavatest.so.1.0.0\n");
}

int main(int argc, char **argv)
{
	const char *native_path = AVA_BENCH_NATIVE_LIB;
	size_t iters = 20000, big_iters = 200;
	bool require_remote = false, remoted;
	struct api native, remote = {
		.null = avatest_null,
		.add_one = avatest_add_one,
		.device_open = avatest_device_open,
		.device_close = avatest_device_close,
		.scale = avatest_scale,
	};
	struct results rn, rr;
	struct stats raw_small, raw_big;
	struct echo echo;
	double *samples;
	float *in, *out;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--native-lib") && i + 1 < argc) {
			native_path = argv[++i];
		} else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
			iters = strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--big-iters") && i + 1 < argc) {
			big_iters = strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--require-remote")) {
			require_remote = true;
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (iters == 0 || big_iters == 0) {
		usage(stderr);
		return 2;
	}

	/* Fork the echo process before anything touches the remoting channel. */
	signal(SIGPIPE, SIG_IGN);
	if (echo_start(&echo) != 0) {
		perror("bench-null-call: socketpair/fork");
		return 1;
	}
	if (load_native(native_path, &native) != 0) {
		echo_stop(&echo);
		return 1;
	}
	remoted = avatest_unspecced(0) == AVATEST_ERR_UNSUPPORTED;
	if (!remoted) {
		fprintf(stderr,
			"bench-null-call: avatest is not remoted (run it under ava-run, "
			"see bench/run.sh)%s\n",
			require_remote ? "; skipped" : "; remote rows left out");
		if (require_remote) {
			echo_stop(&echo);
			return 77;
		}
	}

	samples = malloc((iters > big_iters ? iters : big_iters) * sizeof(*samples));
	in = malloc(BIG_N * sizeof(float));
	out = malloc(BIG_N * sizeof(float));
	if (!samples || !in || !out) {
		fprintf(stderr, "bench-null-call: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < BIG_N; i++)
		in[i] = (float)(i % 4096);

	raw_small = bench_echo(&echo, MSG_BYTES, iters, samples);
	raw_big = bench_echo(&echo, BIG_N * sizeof(float), big_iters, samples);
	echo_stop(&echo);
	bench_api(&native, iters, big_iters, NATIVE_BATCH, samples, in, out, &rn);
	if (remoted)
		bench_api(&remote, iters, big_iters, 1, samples, in, out, &rr);
	else
		memset(&rr, 0, sizeof(rr));

	printf("bench-null-call: %zu calls (%zu for 1 MiB), native timed in batches of %d\n", iters,
	       big_iters, NATIVE_BATCH);
#ifdef BENCH_UNDER_ASAN
	printf("note: built with AddressSanitizer; numbers are not representative\n");
#endif
	printf("baseline: raw Unix socketpair round trip to a forked echo process\n");
	print_row("raw RTT 40 B", raw_small);
	print_row("raw RTT 1 MiB out + 1 MiB back", raw_big);
	printf("native (%s)\n", native_path);
	print_row("avatest_null", rn.null);
	print_row("avatest_add_one", rn.add_one);
	print_row("avatest_scale 1 MiB", rn.scale);
	if (remoted) {
		printf("remote (guest stub -> router -> API server)\n");
		print_row("avatest_null", rr.null);
		print_row("avatest_add_one", rr.add_one);
		print_row("avatest_scale 1 MiB", rr.scale);
		print_ratio("null", rr.null, "remote", rn.null, "native");
		print_ratio("null", rr.null, "remote", raw_small, "raw-RTT");
		print_ratio("add_one", rr.add_one, "remote", rn.add_one, "native");
		print_ratio("add_one", rr.add_one, "remote", raw_small, "raw-RTT");
		print_ratio("scale-1MiB", rr.scale, "remote", rn.scale, "native");
		print_ratio("scale-1MiB", rr.scale, "remote", raw_big, "raw-RTT-1MiB");
	}
	free(samples);
	free(in);
	free(out);
	if (!raw_small.valid || !raw_big.valid || !rn.null.valid || !rn.add_one.valid ||
	    !rn.scale.valid ||
	    (remoted && (!rr.null.valid || !rr.add_one.valid || !rr.scale.valid)))
		return 1;
	return 0;
}
