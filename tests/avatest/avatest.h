/* SPDX-License-Identifier: MIT */
/*
 * avatest: a small C library of our own, used to prove the whole remoting
 * pipeline end to end (avagen, wire, runtimes, router) before real APIs.
 * It has what real accelerator APIs have: opaque handles, in/out/inout
 * buffers, strings, arrays of handles, a struct argument with a handle field,
 * callbacks with user data (one of them taking a buffer), error returns,
 * calls that block, an asynchronous call whose failure surfaces later, and a
 * function the spec leaves out.
 */
#ifndef AVATEST_H
#define AVATEST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum avatest_status {
	AVATEST_OK = 0,
	AVATEST_ERR_INVALID = -1,	 /* bad argument value */
	AVATEST_ERR_INVALID_HANDLE = -2, /* handle does not name a live object */
	AVATEST_ERR_NO_MEMORY = -3,
	AVATEST_ERR_UNSUPPORTED = -4, /* function not available */
	AVATEST_ERR_REFUSED = -5,     /* refused by policy */
	AVATEST_ERR_REMOTE = -6,      /* remoting failed (server gone) */
	AVATEST_ERR_TOO_SMALL = -7,   /* output buffer too small */
	AVATEST_ERR_OVER_QUOTA = -8,  /* a quota of the tenant is used up */
} avatest_status;

#define AVATEST_MAX_DEVICES 4
#define AVATEST_NAME_MAX    64

typedef struct avatest_device_s *avatest_device;
typedef struct avatest_gate_s *avatest_gate;

typedef struct avatest_config {
	uint32_t flags;
	int32_t priority;
	avatest_device peer; /* may be NULL */
	double gain;
	char tag[16];
} avatest_config;

/* Called once per visited item; returns nothing. */
typedef void (*avatest_visit_fn)(int32_t index, const char *name, void *user_data);

/* Does nothing; the unit of per-call overhead. */
avatest_status avatest_null(void);
/* Adds 1 to x; the smallest call with an argument and a result. */
avatest_status avatest_add_one(int32_t x, int32_t *ret_y);

/* Opens device index (0..AVATEST_MAX_DEVICES-1). */
avatest_status avatest_device_open(int32_t index, avatest_device *ret_dev);
/* OpenCL-style creation: returns the handle, error through errcode_ret (may be NULL). */
avatest_device avatest_device_create(int32_t index, avatest_status *errcode_ret);
avatest_status avatest_device_close(avatest_device dev);
/* Writes the device name (NUL-terminated) into buf; ret_len gets the full length + 1. */
avatest_status avatest_device_name(avatest_device dev, char *buf, size_t buf_len, size_t *ret_len);
/* Stores a copy of label (NUL-terminated) as the device's label. */
avatest_status avatest_device_set_label(avatest_device dev, const char *label);
/* out[i] = in[i] * factor + device bias, for i < n. */
avatest_status avatest_scale(avatest_device dev, const float *in, float *out, size_t n,
			     float factor);
/* data[i] += delta for i < n (in and out). */
avatest_status avatest_increment(int32_t *data, size_t n, int32_t delta);
/* Sum of the device indices of n handles. */
avatest_status avatest_sum_indices(const avatest_device *devs, size_t n, int64_t *ret_sum);
/* Applies cfg to dev; cfg->peer must be NULL or a live device. */
avatest_status avatest_configure(avatest_device dev, const avatest_config *cfg);
/* Reads back the configuration. */
avatest_status avatest_get_config(avatest_device dev, avatest_config *ret_cfg);
/* Calls fn(i, name_i, user_data) for each of the device's count items, in order. */
avatest_status avatest_visit(avatest_device dev, int32_t count, avatest_visit_fn fn,
			     void *user_data);
/* Sleeps ms milliseconds. */
avatest_status avatest_sleep_ms(uint32_t ms);
/*
 * Records value in the device log; fails with AVATEST_ERR_INVALID if value < 0.
 * When blocking is 0 a remoted call returns at once and a failure is reported
 * by the next blocking call instead (like clEnqueueWriteBuffer).
 */
avatest_status avatest_log_value(avatest_device dev, int32_t value, int32_t blocking);
/* Sum of the values logged so far. */
avatest_status avatest_log_sum(avatest_device dev, int64_t *ret_sum);

/* A gate: avatest_gate_wait blocks until another thread calls avatest_gate_open. */
avatest_status avatest_gate_new(avatest_gate *ret_gate);
avatest_status avatest_gate_wait(avatest_gate gate);
avatest_status avatest_gate_open(avatest_gate gate);
avatest_status avatest_gate_free(avatest_gate gate);

/* Number of live devices and gates in this process (lets tests see leaks). */
avatest_status avatest_live_objects(int64_t *ret_count);

/* A function the spec deliberately leaves out. */
avatest_status avatest_unspecced(int32_t x);

/* Called once with the values a device logged so far (never NULL, even when n_values is 0). */
typedef void (*avatest_report_fn)(const int32_t *values, size_t n_values, void *user_data);

/* Calls fn(values, n_values, user_data) once with a copy of the device's logged values. */
avatest_status avatest_report(avatest_device dev, avatest_report_fn fn, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* AVATEST_H */
