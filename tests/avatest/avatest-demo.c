/* SPDX-License-Identifier: MIT */
/*
 * avatest-demo: exercises every avatest call up to avatest_sync (the calls
 * after it, one per remaining feature of the spec language, are
 * avatest-features.c's) and prints every result.
 *
 * The output is deterministic and identical whether the library is the real
 * one or the remoted guest stub (`ava-run -- avatest-demo`): no handle
 * values, pointers or timings are printed. tests/avatest/run-diff.sh diffs
 * the two byte for byte. Each expectation is also checked here, so the
 * program exits non-zero on its own when a result is wrong.
 */
#define _GNU_SOURCE
#include "avatest-check.h"
#include "avatest.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_THREADS    4
#define SCALE_BIG_N  ((size_t)1 << 18) /* 262144 floats = 1 MiB */
#define SCALE_HUGE_N ((size_t)3 << 20) /* 3145728 floats = 12 MiB: streamed */
#define WATCHDOG_S   120	       /* a deadlock fails the run instead of hanging it */

static uint64_t fnv1a(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void sleep_local_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void section(const char *name)
{
	printf("\n== %s\n", name);
}

static void demo_basic(void)
{
	int32_t y = 0;

	section("basic calls");
	expect("null()", avatest_null(), AVATEST_OK);
	expect("add_one(41)", avatest_add_one(41, &y), AVATEST_OK);
	printf("  y = %" PRId32 "\n", y);
	check(y == 42, "add_one(41) gives 42");
	expect("add_one(-1)", avatest_add_one(-1, &y), AVATEST_OK);
	printf("  y = %" PRId32 "\n", y);
	check(y == 0, "add_one(-1) gives 0");
	expect("add_one(INT32_MAX) (overflow)", avatest_add_one(INT32_MAX, &y),
	       AVATEST_ERR_INVALID);
	expect("sleep_ms(10)", avatest_sleep_ms(10), AVATEST_OK);
}

static void demo_devices(avatest_device devs[AVATEST_MAX_DEVICES])
{
	char buf[AVATEST_NAME_MAX];
	char label[64];
	avatest_device bad = NULL;
	avatest_status err = AVATEST_OK;
	size_t len = 0;

	section("devices");
	for (int32_t i = 0; i < AVATEST_MAX_DEVICES; i++) {
		snprintf(label, sizeof(label), "device_open(%d)", (int)i);
		expect(label, avatest_device_open(i, &devs[i]), AVATEST_OK);
		len = 0;
		memset(buf, 0, sizeof(buf));
		expect("  device_name", avatest_device_name(devs[i], buf, sizeof(buf), &len),
		       AVATEST_OK);
		printf("  name = \"%s\", ret_len = %zu\n", buf, len);
		snprintf(label, sizeof(label), "avatest-device-%d", (int)i);
		check(strcmp(buf, label) == 0 && len == strlen(label) + 1, "device name");
	}
	expect("device_open(-1) (bad index)", avatest_device_open(-1, &bad), AVATEST_ERR_INVALID);
	expect("device_open(4) (bad index)", avatest_device_open(AVATEST_MAX_DEVICES, &bad),
	       AVATEST_ERR_INVALID);

	section("errcode_ret");
	err = AVATEST_ERR_REMOTE;
	bad = avatest_device_create(2, &err);
	printf("device_create(2, &err): err = %s, handle is NULL: %s\n", status_name(err),
	       bad ? "no" : "yes");
	check(err == AVATEST_OK && bad, "device_create(2)");
	expect("  device_close", avatest_device_close(bad), AVATEST_OK);
	err = AVATEST_OK;
	bad = avatest_device_create(9, &err);
	printf("device_create(9, &err) (bad index): err = %s, handle is NULL: %s\n",
	       status_name(err), bad ? "no" : "yes");
	check(err == AVATEST_ERR_INVALID && !bad, "device_create(9) fails");
	bad = avatest_device_create(3, NULL);
	printf("device_create(3, NULL): handle is NULL: %s\n", bad ? "no" : "yes");
	check(bad != NULL, "device_create(3, NULL)");
	len = 0;
	expect("  device_name", avatest_device_name(bad, buf, sizeof(buf), &len), AVATEST_OK);
	printf("  name = \"%s\"\n", buf);
	expect("  device_close", avatest_device_close(bad), AVATEST_OK);

	section("buffer too small");
	len = 0;
	expect("device_name(dev0, buf_len=4)", avatest_device_name(devs[0], buf, 4, &len),
	       AVATEST_ERR_TOO_SMALL);
	printf("  ret_len = %zu\n", len);
	check(len == 17, "ret_len set when too small");
	len = 0;
	expect("device_name(dev0, NULL, 0) (length query)",
	       avatest_device_name(devs[0], NULL, 0, &len), AVATEST_ERR_TOO_SMALL);
	printf("  ret_len = %zu\n", len);
	check(len == 17, "ret_len set on length query");
	len = 0;
	memset(buf, 'x', sizeof(buf));
	expect("device_name(dev0, buf_len=17) (exact fit)",
	       avatest_device_name(devs[0], buf, 17, &len), AVATEST_OK);
	printf("  name = \"%s\", ret_len = %zu\n", buf, len);
}

static void demo_handles_invalid(void)
{
	avatest_device dev = NULL;
	avatest_device forged = (avatest_device)(uintptr_t)0x7ead0001u;
	char buf[AVATEST_NAME_MAX];
	size_t len = 0;

	section("invalid handles");
	expect("device_open(1)", avatest_device_open(1, &dev), AVATEST_OK);
	expect("device_close(dev)", avatest_device_close(dev), AVATEST_OK);
	/* No device is opened between the close and these calls. */
	expect("device_close(dev) again (closed handle)", avatest_device_close(dev),
	       AVATEST_ERR_INVALID_HANDLE);
	expect("device_name(closed handle)", avatest_device_name(dev, buf, sizeof(buf), &len),
	       AVATEST_ERR_INVALID_HANDLE);
	expect("log_value(closed handle, 1, blocking)", avatest_log_value(dev, 1, 1),
	       AVATEST_ERR_INVALID_HANDLE);
	expect("device_name(NULL)", avatest_device_name(NULL, buf, sizeof(buf), &len),
	       AVATEST_ERR_INVALID_HANDLE);
	expect("device_name(forged handle)", avatest_device_name(forged, buf, sizeof(buf), &len),
	       AVATEST_ERR_INVALID_HANDLE);
}

static void demo_strings(avatest_device dev)
{
	char *longer;

	section("strings");
	expect("set_label(\"hello\")", avatest_device_set_label(dev, "hello"), AVATEST_OK);
	expect("set_label(\"\")", avatest_device_set_label(dev, ""), AVATEST_OK);
	longer = malloc(4001);
	if (!longer) {
		check(false, "malloc");
		return;
	}
	for (int i = 0; i < 4000; i++)
		longer[i] = (char)('a' + i % 26);
	longer[4000] = '\0';
	expect("set_label(4000 chars)", avatest_device_set_label(dev, longer), AVATEST_OK);
	free(longer);
}

static void demo_buffers(avatest_device devs[AVATEST_MAX_DEVICES])
{
	float in[8], out[8];
	int32_t data[6] = { 0, 1, 2, 3, 4, -5 };
	float *big_in, *big_out;
	double sum = 0.0;

	section("in/out buffers");
	for (int i = 0; i < 8; i++)
		in[i] = (float)i * 1.5f;
	memset(out, 0, sizeof(out));
	expect("scale(dev2, 8 floats, factor 2)", avatest_scale(devs[2], in, out, 8, 2.0f),
	       AVATEST_OK);
	printf("  out =");
	for (int i = 0; i < 8; i++) {
		printf(" %.3f", (double)out[i]);
		check(out[i] == in[i] * 2.0f + 1.0f, "scale value");
	}
	printf("\n");
	expect("scale(dev0, n=0)", avatest_scale(devs[0], in, out, 0, 2.0f), AVATEST_OK);

	section("inout buffer");
	expect("increment(6 ints, +10)", avatest_increment(data, 6, 10), AVATEST_OK);
	printf("  data =");
	for (int i = 0; i < 6; i++)
		printf(" %" PRId32, data[i]);
	printf("\n");
	check(data[0] == 10 && data[5] == 5, "increment values");
	expect("increment(n=0)", avatest_increment(data, 0, 10), AVATEST_OK);

	section("1 MiB scale");
	big_in = malloc(SCALE_BIG_N * sizeof(float));
	big_out = malloc(SCALE_BIG_N * sizeof(float));
	if (!big_in || !big_out) {
		check(false, "malloc");
		goto out;
	}
	for (size_t i = 0; i < SCALE_BIG_N; i++)
		big_in[i] = (float)(i % 1000) * 0.25f;
	memset(big_out, 0, SCALE_BIG_N * sizeof(float));
	expect("scale(dev1, 262144 floats, factor 3)",
	       avatest_scale(devs[1], big_in, big_out, SCALE_BIG_N, 3.0f), AVATEST_OK);
	for (size_t i = 0; i < SCALE_BIG_N; i++)
		sum += big_out[i];
	printf("  out[0] = %.3f, out[last] = %.3f, sum = %.1f, fnv1a = %016" PRIx64 "\n",
	       (double)big_out[0], (double)big_out[SCALE_BIG_N - 1], sum,
	       fnv1a(big_out, SCALE_BIG_N * sizeof(float)));
	check(big_out[SCALE_BIG_N - 1] == big_in[SCALE_BIG_N - 1] * 3.0f + 0.5f, "big scale");

	/* More than one 8 MiB chunk: remoted, the input is streamed after the CALL. */
	section("12 MiB scale");
	free(big_in);
	free(big_out);
	big_in = malloc(SCALE_HUGE_N * sizeof(float));
	big_out = malloc(SCALE_HUGE_N * sizeof(float));
	if (!big_in || !big_out) {
		check(false, "malloc");
		goto out;
	}
	for (size_t i = 0; i < SCALE_HUGE_N; i++)
		big_in[i] = (float)(i % 4093) * 0.5f;
	memset(big_out, 0, SCALE_HUGE_N * sizeof(float));
	expect("scale(dev1, 3145728 floats, factor 2)",
	       avatest_scale(devs[1], big_in, big_out, SCALE_HUGE_N, 2.0f), AVATEST_OK);
	printf("  out[1] = %.3f, out[last] = %.3f, fnv1a = %016" PRIx64 "\n", (double)big_out[1],
	       (double)big_out[SCALE_HUGE_N - 1], fnv1a(big_out, SCALE_HUGE_N * sizeof(float)));
	check(big_out[SCALE_HUGE_N - 1] == big_in[SCALE_HUGE_N - 1] * 2.0f + 0.5f, "huge scale");
out:
	free(big_in);
	free(big_out);
}

static void demo_handle_arrays(avatest_device devs[AVATEST_MAX_DEVICES])
{
	avatest_device arr[6];
	avatest_device closed = NULL;
	int64_t sum = -1;

	section("arrays of handles");
	expect("sum_indices(4 devices)", avatest_sum_indices(devs, AVATEST_MAX_DEVICES, &sum),
	       AVATEST_OK);
	printf("  sum = %" PRId64 "\n", sum);
	check(sum == 6, "sum of 0..3");
	for (int i = 0; i < 6; i++)
		arr[i] = devs[(i * 3) % AVATEST_MAX_DEVICES]; /* 0 3 2 1 0 3 */
	expect("sum_indices(6 handles, repeats)", avatest_sum_indices(arr, 6, &sum), AVATEST_OK);
	printf("  sum = %" PRId64 "\n", sum);
	check(sum == 9, "sum with repeats");
	expect("sum_indices(n=0)", avatest_sum_indices(arr, 0, &sum), AVATEST_OK);
	printf("  sum = %" PRId64 "\n", sum);
	expect("device_open(2)", avatest_device_open(2, &closed), AVATEST_OK);
	expect("device_close", avatest_device_close(closed), AVATEST_OK);
	arr[1] = closed;
	expect("sum_indices(array with a closed handle)", avatest_sum_indices(arr, 6, &sum),
	       AVATEST_ERR_INVALID_HANDLE);
}

static void print_config(const avatest_config *cfg)
{
	printf("  flags = 0x%" PRIx32 ", priority = %" PRId32 ", gain = %.4f, tag = \"%.*s\"\n",
	       cfg->flags, cfg->priority, cfg->gain, (int)sizeof(cfg->tag), cfg->tag);
}

static void demo_config(avatest_device devs[AVATEST_MAX_DEVICES])
{
	avatest_config cfg, back;
	avatest_device peer = NULL;

	section("struct with a handle field");
	memset(&cfg, 0, sizeof(cfg));
	memset(&back, 0xff, sizeof(back));
	expect("get_config(dev3) (never configured)", avatest_get_config(devs[3], &back),
	       AVATEST_OK);
	print_config(&back);
	printf("  peer is NULL: %s\n", back.peer ? "no" : "yes");

	cfg.flags = 0x5;
	cfg.priority = -3;
	cfg.peer = devs[1];
	cfg.gain = 1.25;
	snprintf(cfg.tag, sizeof(cfg.tag), "alpha");
	expect("configure(dev0, peer=dev1)", avatest_configure(devs[0], &cfg), AVATEST_OK);
	memset(&back, 0, sizeof(back));
	expect("get_config(dev0)", avatest_get_config(devs[0], &back), AVATEST_OK);
	print_config(&back);
	printf("  peer round-trips equal: %s\n", back.peer == devs[1] ? "yes" : "no");
	check(back.peer == devs[1] && back.flags == 0x5 && back.priority == -3 &&
		  back.gain == 1.25 && strcmp(back.tag, "alpha") == 0,
	      "config round trip");

	cfg.flags = 0x80000000u;
	cfg.priority = 7;
	cfg.peer = NULL;
	cfg.gain = -0.5;
	memcpy(cfg.tag, "0123456789abcde", 16);
	expect("configure(dev1, NULL peer)", avatest_configure(devs[1], &cfg), AVATEST_OK);
	memset(&back, 0xff, sizeof(back));
	expect("get_config(dev1)", avatest_get_config(devs[1], &back), AVATEST_OK);
	print_config(&back);
	printf("  peer is NULL: %s\n", back.peer ? "no" : "yes");
	check(!back.peer && back.priority == 7, "config with NULL peer");

	expect("device_open(3) (peer to be closed)", avatest_device_open(3, &peer), AVATEST_OK);
	cfg.peer = peer;
	expect("configure(dev2, peer=new)", avatest_configure(devs[2], &cfg), AVATEST_OK);
	expect("device_close(peer)", avatest_device_close(peer), AVATEST_OK);
	memset(&back, 0, sizeof(back));
	expect("get_config(dev2) after peer closed", avatest_get_config(devs[2], &back),
	       AVATEST_OK);
	printf("  peer is NULL: %s\n", back.peer ? "no" : "yes");
	check(!back.peer, "closed peer reads back NULL");
	expect("configure(dev2, peer=closed handle)", avatest_configure(devs[2], &cfg),
	       AVATEST_ERR_INVALID_HANDLE);
}

struct visit_ctx {
	int calls;
	int32_t index[8];
	char name[8][16];
};

/* The one context the demo passes; the callback checks it gets this exact pointer back. */
static struct visit_ctx visit_ctx_storage;
static int visit_foreign_user_data;

static void visit_cb(int32_t index, const char *name, void *user_data)
{
	struct visit_ctx *ctx = user_data;

	if (ctx != &visit_ctx_storage) {
		__atomic_fetch_add(&visit_foreign_user_data, 1, __ATOMIC_RELAXED);
		return;
	}
	if (ctx->calls < 8) {
		ctx->index[ctx->calls] = index;
		snprintf(ctx->name[ctx->calls], sizeof(ctx->name[0]), "%s", name ? name : "(null)");
	}
	ctx->calls++;
}

static void demo_visit(avatest_device dev)
{
	struct visit_ctx *ctx = &visit_ctx_storage;
	int before;

	section("callbacks with user data");
	expect("visit(dev0, 5)", avatest_visit(dev, 5, visit_cb, ctx), AVATEST_OK);
	for (int i = 0; i < ctx->calls && i < 8; i++)
		printf("  fn(%" PRId32 ", \"%s\")\n", ctx->index[i], ctx->name[i]);
	printf("  calls = %d, user_data %s\n", ctx->calls,
	       visit_foreign_user_data ? "WRONG" : "ok");
	check(ctx->calls == 5 && !visit_foreign_user_data, "visit callbacks");
	for (int i = 0; i < 5 && i < ctx->calls; i++) {
		char want[16];
		snprintf(want, sizeof(want), "item-%d", i);
		check(ctx->index[i] == i && strcmp(ctx->name[i], want) == 0, "visit order");
	}
	before = ctx->calls;
	expect("visit(dev0, 0)", avatest_visit(dev, 0, visit_cb, ctx), AVATEST_OK);
	expect("visit(dev0, -1) (bad count)", avatest_visit(dev, -1, visit_cb, ctx),
	       AVATEST_ERR_INVALID);
	printf("  no further calls: %s\n", ctx->calls == before ? "yes" : "no");
	check(ctx->calls == before, "no calls for count <= 0");
}

struct report_ctx {
	int calls;
	bool values_null;
	size_t n_values;
	int32_t values[8];
};

/* The one context the demo passes to avatest_report, checked like visit's. */
static struct report_ctx report_ctx_storage;
static int report_foreign_user_data;

static void report_cb(const int32_t *values, size_t n_values, void *user_data)
{
	struct report_ctx *ctx = user_data;

	if (ctx != &report_ctx_storage) {
		__atomic_fetch_add(&report_foreign_user_data, 1, __ATOMIC_RELAXED);
		return;
	}
	ctx->calls++;
	ctx->values_null = !values;
	ctx->n_values = n_values;
	for (size_t i = 0; values && i < n_values && i < 8; i++)
		ctx->values[i] = values[i];
}

/* avatest_report on dev; prints and checks what the callback got against want[n_want]. */
static void report_and_check(const char *label, avatest_device dev, const int32_t *want,
			     size_t n_want)
{
	struct report_ctx *ctx = &report_ctx_storage;
	bool same;

	memset(ctx, 0, sizeof(*ctx));
	expect(label, avatest_report(dev, report_cb, ctx), AVATEST_OK);
	printf("  calls = %d, values %s, n_values = %zu:", ctx->calls,
	       ctx->values_null ? "NULL" : "set", ctx->n_values);
	for (size_t i = 0; i < ctx->n_values && i < 8; i++)
		printf(" %" PRId32, ctx->values[i]);
	printf(", user_data %s\n", report_foreign_user_data ? "WRONG" : "ok");
	same = ctx->n_values == n_want;
	for (size_t i = 0; same && i < n_want; i++)
		same = ctx->values[i] == want[i];
	check(ctx->calls == 1 && !ctx->values_null && same && !report_foreign_user_data,
	      "report callback gets the logged values");
}

static void demo_log(avatest_device dev)
{
	static const int32_t logged[] = { 5, 7, 11 };

	int64_t sum = -1;

	section("blocking and non-blocking calls");
	report_and_check("report(dev3) before logging", dev, NULL, 0);
	expect("log_value(5, blocking)", avatest_log_value(dev, 5, 1), AVATEST_OK);
	expect("log_value(7, non-blocking)", avatest_log_value(dev, 7, 0), AVATEST_OK);
	expect("log_value(11, non-blocking)", avatest_log_value(dev, 11, 0), AVATEST_OK);
	expect("log_sum", avatest_log_sum(dev, &sum), AVATEST_OK);
	printf("  sum = %" PRId64 "\n", sum);
	check(sum == 23, "log sum");
	expect("log_value(-1, blocking) (bad value)", avatest_log_value(dev, -1, 1),
	       AVATEST_ERR_INVALID);
	expect("log_sum", avatest_log_sum(dev, &sum), AVATEST_OK);
	printf("  sum = %" PRId64 "\n", sum);
	check(sum == 23, "failed log_value leaves the sum");

	section("a callback taking a buffer");
	report_and_check("report(dev3)", dev, logged, 3);
	expect("report(dev3, NULL fn) (bad fn)", avatest_report(dev, NULL, NULL),
	       AVATEST_ERR_INVALID);
}

struct worker {
	pthread_t thread;
	int32_t id;
	avatest_status st_open, st_add, st_inc, st_scale, st_log, st_sum, st_close;
	int64_t add_total;
	int32_t inc[4];
	uint64_t scale_hash;
	int64_t log_sum;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	avatest_device dev = NULL;
	float in[64], out[64];

	w->st_open = avatest_device_open(w->id % AVATEST_MAX_DEVICES, &dev);
	if (w->st_open != AVATEST_OK)
		return NULL;
	w->st_add = AVATEST_OK;
	for (int32_t k = 0; k < 200; k++) {
		int32_t y = 0;
		avatest_status st = avatest_add_one(k * (w->id + 1), &y);
		if (st != AVATEST_OK)
			w->st_add = st;
		w->add_total += y;
	}
	for (int i = 0; i < 4; i++)
		w->inc[i] = w->id * 100 + i;
	w->st_inc = avatest_increment(w->inc, 4, w->id + 1);
	for (int i = 0; i < 64; i++)
		in[i] = (float)(i + w->id);
	w->st_scale = avatest_scale(dev, in, out, 64, 0.5f);
	w->scale_hash = fnv1a(out, sizeof(out));
	w->st_log = AVATEST_OK;
	for (int32_t v = 1; v <= 50; v++) {
		avatest_status st = avatest_log_value(dev, v * (w->id + 1), v % 2);
		if (st != AVATEST_OK)
			w->st_log = st;
	}
	w->st_sum = avatest_log_sum(dev, &w->log_sum);
	w->st_close = avatest_device_close(dev);
	return NULL;
}

static void demo_threads(void)
{
	struct worker w[N_THREADS];

	section("concurrent threads");
	memset(w, 0, sizeof(w));
	for (int i = 0; i < N_THREADS; i++) {
		w[i].id = i;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
			check(false, "pthread_create");
			return;
		}
	}
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(w[i].thread, NULL);
	for (int i = 0; i < N_THREADS; i++) {
		printf("thread %d: open %s, add %s total %" PRId64 ", increment %s [%" PRId32
		       " %" PRId32 " %" PRId32 " %" PRId32 "], scale %s fnv1a %016" PRIx64
		       ", log %s sum %s %" PRId64 ", close %s\n",
		       i, status_name(w[i].st_open), status_name(w[i].st_add), w[i].add_total,
		       status_name(w[i].st_inc), w[i].inc[0], w[i].inc[1], w[i].inc[2], w[i].inc[3],
		       status_name(w[i].st_scale), w[i].scale_hash, status_name(w[i].st_log),
		       status_name(w[i].st_sum), w[i].log_sum, status_name(w[i].st_close));
		check(w[i].st_open == AVATEST_OK && w[i].st_add == AVATEST_OK &&
			  w[i].st_inc == AVATEST_OK && w[i].st_scale == AVATEST_OK &&
			  w[i].st_log == AVATEST_OK && w[i].st_sum == AVATEST_OK &&
			  w[i].st_close == AVATEST_OK,
		      "thread statuses");
		check(w[i].add_total == (int64_t)(i + 1) * 19900 + 200, "thread add total");
		check(w[i].log_sum == (int64_t)(i + 1) * 1275, "thread log sum");
	}
}

struct waiter {
	avatest_gate gate;
	avatest_status st;
	int done;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->st = avatest_gate_wait(w->gate);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void demo_gate(void)
{
	struct waiter w = { .gate = NULL, .st = AVATEST_ERR_REMOTE, .done = 0 };
	pthread_t thread;
	int32_t y = 0;

	section("gate: a blocked call must not stall other threads");
	expect("gate_new", avatest_gate_new(&w.gate), AVATEST_OK);
	if (pthread_create(&thread, NULL, waiter_main, &w) != 0) {
		check(false, "pthread_create");
		return;
	}
	/* Give the waiter time to block in gate_wait; the result is the same either way. */
	sleep_local_ms(100);
	printf("waiter still blocked: %s\n",
	       __atomic_load_n(&w.done, __ATOMIC_ACQUIRE) ? "no" : "yes");
	check(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE), "gate_wait blocks until opened");
	/* If the remoting serialised calls, these would wait behind gate_wait forever. */
	expect("add_one(1) while another thread waits", avatest_add_one(1, &y), AVATEST_OK);
	expect("sleep_ms(1) while another thread waits", avatest_sleep_ms(1), AVATEST_OK);
	expect("gate_open from this thread", avatest_gate_open(w.gate), AVATEST_OK);
	pthread_join(thread, NULL);
	printf("waiter's gate_wait -> %s\n", status_name(w.st));
	check(w.st == AVATEST_OK, "waiter released");
	expect("gate_wait on an open gate", avatest_gate_wait(w.gate), AVATEST_OK);
	expect("gate_free", avatest_gate_free(w.gate), AVATEST_OK);
	expect("gate_wait on a freed gate", avatest_gate_wait(w.gate), AVATEST_ERR_INVALID_HANDLE);
	expect("gate_free again", avatest_gate_free(w.gate), AVATEST_ERR_INVALID_HANDLE);
}

int main(void)
{
	avatest_device devs[AVATEST_MAX_DEVICES] = { NULL };

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(WATCHDOG_S);
	printf("avatest-demo: every call of avatest.h, with its result\n");

	demo_basic();
	demo_devices(devs);
	demo_handles_invalid();
	demo_strings(devs[0]);
	demo_buffers(devs);
	demo_handle_arrays(devs);
	demo_config(devs);
	demo_visit(devs[0]);
	demo_log(devs[3]);
	demo_threads();
	demo_gate();

	section("clean up");
	for (int i = 0; i < AVATEST_MAX_DEVICES; i++) {
		char label[32];
		snprintf(label, sizeof(label), "device_close(dev%d)", i);
		expect(label, avatest_device_close(devs[i]), AVATEST_OK);
	}

	printf("\n%d checks, %d failed\n", n_checks, n_failed);
	return n_failed ? 1 : 0;
}
