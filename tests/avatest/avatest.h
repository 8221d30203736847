/* SPDX-License-Identifier: MIT */
/*
 * avatest: a small C library of our own, used to prove the whole remoting
 * pipeline end to end (avagen, wire, runtimes, router) before real APIs.
 * It has what real accelerator APIs have: opaque handles, in/out/inout
 * buffers, strings, arrays of handles, a struct argument with a handle field,
 * callbacks with user data (one of them taking a buffer), error returns,
 * calls that block, an asynchronous call whose failure surfaces later, a
 * function the spec leaves out, and, at the end, one feature for each word of
 * the spec language that the calls above do not need (avatest-features.c).
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
	AVATEST_ERR_UNSUPPORTED = -4,	/* function not available */
	AVATEST_ERR_REFUSED = -5,	/* refused by policy */
	AVATEST_ERR_REMOTE = -6,	/* remoting failed (server gone) */
	AVATEST_ERR_TOO_SMALL = -7,	/* output buffer too small */
	AVATEST_ERR_OVER_QUOTA = -8,	/* a quota of the tenant is used up */
	AVATEST_ERR_INVALID_EVENT = -9, /* an event handle does not name a live event */
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

/*
 * What the router's policy meters, without a real device's noise:
 *
 * Device references, OpenCL style: avatest_device_retain adds one,
 * avatest_device_close drops one and closes the device at none.
 */
avatest_status avatest_device_retain(avatest_device dev);

/* Device memory: a buffer of size bytes on dev (bookkeeping only, nothing is allocated). */
typedef struct avatest_buffer_s *avatest_buffer;
avatest_buffer avatest_buffer_new(avatest_device dev, size_t size, avatest_status *errcode_ret);
avatest_status avatest_buffer_retain(avatest_buffer buf);
/* Drops a reference; the buffer is freed at none. */
avatest_status avatest_buffer_release(avatest_buffer buf);
/* The size the buffer was created with. */
avatest_status avatest_buffer_size(avatest_buffer buf, size_t *ret_size);

/*
 * Device time: avatest_busy queues usec microseconds of work on dev and
 * returns at once (like clEnqueueNDRangeKernel); the device works through
 * its queue in order. avatest_sync returns once all of it is done (like
 * clFinish).
 */
avatest_status avatest_busy(avatest_device dev, uint32_t usec);
avatest_status avatest_sync(avatest_device dev);

/*
 * ---- The rest of the spec language, one feature each (avatest-features.c) ----
 */

/* Pointer result passed as it is (ava_opaque). */
#define AVATEST_BUFFER_ADDRESS_BASE ((uintptr_t)0xd0000000u)

/* Writes x to *ret_x. Remoted, a negative x arrives as 0 (the spec's ava_override). */
avatest_status avatest_echo(int32_t x, int32_t *ret_x);

/*
 * data[i] = value (fill) or start + i (iota), for i < n. Their data is
 * avatest_increment's, out only: one ava_defaults says it for all three,
 * and avatest_increment's own block (in and out) replaces it.
 */
avatest_status avatest_fill(int32_t *data, size_t n, int32_t value);
avatest_status avatest_iota(int32_t *data, size_t n, int32_t start);

/*
 * Logs count values (each an int32_t) in order, as count blocking calls of
 * avatest_log_value would, and stops at the first that fails, returning its
 * error. Variadic, so no spec can remote it: the guest library implements
 * it with a wire-only function (avatest-wire.h, ava_private).
 */
avatest_status avatest_log_values(avatest_device dev, int32_t count, ...);

/*
 * Extension functions: the library does not export them by name; an
 * application finds them here (OpenCL's clGetExtensionFunctionAddress).
 * NULL for a name that is none.
 */
void *avatest_get_extension_address(const char *name);
/* An extension: *ret_y = 3 * x. */
avatest_status avatest_ext_triple(int32_t x, int32_t *ret_y);
typedef avatest_status (*avatest_ext_triple_fn)(int32_t x, int32_t *ret_y);

/* Capabilities a device reports (AVATEST_DEVICE_INFO_CAPS). */
#define AVATEST_CAP_SCALE (1u << 0)
#define AVATEST_CAP_LOG	  (1u << 1)
/* In-process only: a remoted device does not report it (the spec's ava_clear_bits). */
#define AVATEST_CAP_SHARED_MEMORY (1u << 2)

/* What avatest_device_get_info answers, and the type of its value. */
#define AVATEST_DEVICE_INFO_INDEX      1 /* int32_t */
#define AVATEST_DEVICE_INFO_PEER       2 /* avatest_device: the configured peer, or NULL */
#define AVATEST_DEVICE_INFO_CAPS       3 /* uint32_t: AVATEST_CAP_* */
#define AVATEST_DEVICE_INFO_BLOB_SIZES 4 /* size_t[2]: bytes of the name and of the label */
#define AVATEST_DEVICE_INFO_BLOBS      5 /* unsigned char *[2]: the name and the label, no NUL */

/*
 * OpenCL-style info query: writes the value of what into value (size bytes;
 * value may be NULL) and its size to *ret_size (may be NULL). For
 * AVATEST_DEVICE_INFO_BLOBS, value holds two pointers to the caller's
 * buffers (NULL: skipped), each as big as AVATEST_DEVICE_INFO_BLOB_SIZES
 * says, and the bytes go there. AVATEST_ERR_TOO_SMALL when size is too small.
 */
avatest_status avatest_device_get_info(avatest_device dev, int32_t what, size_t size, void *value,
				       size_t *ret_size);

/* Keys of a property list: 0-terminated key/value pairs of int64_t. */
#define AVATEST_PROP_INDEX	1 /* the device index (required) */
#define AVATEST_PROP_BIAS_MILLI 2 /* the device's bias in thousandths (default: index * 500) */
#define AVATEST_PROP_PEER	3 /* an avatest_device, cast to int64_t: configured as peer */

/* Creates a device from a property list (the error through errcode_ret, may be NULL). */
avatest_device avatest_device_create_with_properties(const int64_t *properties,
						     avatest_status *errcode_ret);

/*
 * Sets the label to the count strings concatenated. lengths (may be NULL)
 * holds each string's length in bytes; NULL or a 0 entry means the string
 * is NUL-terminated (clCreateProgramWithSource).
 */
avatest_status avatest_device_set_label_parts(avatest_device dev, uint32_t count,
					      const char **strings, const size_t *lengths);
/* Reads the label back (like avatest_device_name; "" when none is set). */
avatest_status avatest_device_get_label(avatest_device dev, char *buf, size_t buf_len,
					size_t *ret_len);

/*
 * Buffer storage: a buffer's size bytes (zeroed, allocated on first use) are
 * what the reads, writes and mappings below move. A sub-buffer is size
 * bytes of its parent from offset (no sub-buffers of sub-buffers); it keeps
 * the parent's storage alive until the sub-buffer is released, even once the
 * parent's own handle is released (clCreateSubBuffer).
 */
avatest_buffer avatest_buffer_new_sub(avatest_buffer parent, size_t offset, size_t size,
				      avatest_status *errcode_ret);
/* The size of the buffer a sub-buffer is part of (the buffer itself's otherwise). */
avatest_status avatest_buffer_parent_size(avatest_buffer buf, size_t *ret_size);
/*
 * The buffer's device address, a token never dereferenced:
 * AVATEST_BUFFER_ADDRESS_BASE, plus the offset for a sub-buffer; NULL for
 * an invalid handle.
 */
void *avatest_buffer_address(avatest_buffer buf);
/* Natively nothing can be imported: NULL, *errcode_ret AVATEST_ERR_INVALID. The spec
 * marks it ava_unsupported: remoted, NULL and AVATEST_ERR_UNSUPPORTED. */
avatest_buffer avatest_buffer_import(int32_t fd, avatest_status *errcode_ret);

/*
 * Events, OpenCL style: every buffer command below returns one (through
 * ret_event, may be NULL: the command still runs), and may wait for one
 * (wait_for, may be NULL). A command whose wait_for has not completed runs
 * when it completes, on the thread that completes it; its own event then
 * completes. A user event completes when avatest_user_event_complete says.
 * The caller releases the events it got.
 */
typedef struct avatest_event_s *avatest_event;
#define AVATEST_EVENT_COMPLETE 0
#define AVATEST_EVENT_QUEUED   1

avatest_status avatest_user_event_new(avatest_event *ret_event);
/* Completes a user event (once): runs the commands waiting for it. */
avatest_status avatest_user_event_complete(avatest_event ev);
/* AVATEST_EVENT_COMPLETE or AVATEST_EVENT_QUEUED. */
avatest_status avatest_event_status(avatest_event ev, int32_t *ret_status);
/* Returns once ev has completed. */
avatest_status avatest_event_wait(avatest_event ev);
avatest_status avatest_event_retain(avatest_event ev);
avatest_status avatest_event_release(avatest_event ev);
/* Calls fn(ev, user_data) once ev has completed (at once if it has), on the thread completing it. */
typedef void (*avatest_event_fn)(avatest_event ev, void *user_data);
avatest_status avatest_event_on_complete(avatest_event ev, avatest_event_fn fn, void *user_data);

/*
 * Copies size bytes of buf from offset into ptr (read) or from ptr (write),
 * when wait_for has completed. With blocking the call returns once the
 * command ran; without, at once, and ptr must stay valid (and a write's
 * bytes unchanged) until *ret_event completes (clEnqueueReadBuffer).
 */
avatest_status avatest_buffer_read(avatest_buffer buf, int32_t blocking, size_t offset, size_t size,
				   void *ptr, avatest_event wait_for, avatest_event *ret_event);
avatest_status avatest_buffer_write(avatest_buffer buf, int32_t blocking, size_t offset,
				    size_t size, const void *ptr, avatest_event wait_for,
				    avatest_event *ret_event);
/*
 * 2D transfers (clEnqueueReadBufferRect): region[1] rows of region[0] bytes,
 * in buf from buffer_offset buffer_row_pitch bytes apart, in ptr from its
 * start host_row_pitch bytes apart (0: region[0]). The bytes of ptr between
 * the rows are not touched. AVATEST_ERR_INVALID for a NULL region, a pitch
 * smaller than region[0] or rows beyond the buffer.
 */
avatest_status avatest_buffer_read_rect(avatest_buffer buf, int32_t blocking, size_t buffer_offset,
					size_t buffer_row_pitch, const size_t *region,
					size_t host_row_pitch, void *ptr, avatest_event wait_for,
					avatest_event *ret_event);
avatest_status avatest_buffer_write_rect(avatest_buffer buf, int32_t blocking, size_t buffer_offset,
					 size_t buffer_row_pitch, const size_t *region,
					 size_t host_row_pitch, const void *ptr,
					 avatest_event wait_for, avatest_event *ret_event);

#define AVATEST_MAP_READ	     1u
#define AVATEST_MAP_WRITE	     2u
#define AVATEST_MAP_WRITE_INVALIDATE 4u /* write only; what the mapping held before is lost */
/*
 * Maps size bytes of buf from offset (clEnqueueMapBuffer): the pointer is
 * the caller's until avatest_buffer_unmap; its bytes are the buffer's once
 * *ret_event completes (unless AVATEST_MAP_WRITE_INVALIDATE), and what is
 * written there is the buffer's once it is unmapped. NULL and *errcode_ret
 * (may be NULL) on failure.
 */
void *avatest_buffer_map(avatest_buffer buf, uint32_t flags, size_t offset, size_t size,
			 avatest_event wait_for, avatest_event *ret_event,
			 avatest_status *errcode_ret);
/* Ends a mapping of buf; AVATEST_ERR_INVALID if mapped is none of its mappings. */
avatest_status avatest_buffer_unmap(avatest_buffer buf, void *mapped);

#ifdef __cplusplus
}
#endif

#endif /* AVATEST_H */
