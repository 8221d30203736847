/* SPDX-License-Identifier: MIT */
/*
 * libavatest.so.1: the real (native) implementation of tests/avatest/avatest.h.
 *
 * Every object the library hands out (devices and gates) is kept in a
 * mutex-protected registry of live objects, so that a stale, forged or
 * closed handle is answered with AVATEST_ERR_INVALID_HANDLE instead of a
 * crash. Lookups take a reference under the registry lock; closing removes
 * the object from the registry and the memory is freed when the last
 * reference goes. A call racing with a close of the same handle therefore
 * either sees the object alive or gets AVATEST_ERR_INVALID_HANDLE, never
 * freed memory. Per-object state has its own lock, so a thread blocked in
 * avatest_gate_wait does not stall other calls.
 */
#define _GNU_SOURCE
#include "avatest.h"
#include "avatest-icd.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum avatest_kind {
	AVATEST_KIND_DEVICE = 1,
	AVATEST_KIND_GATE = 2,
	AVATEST_KIND_BUFFER = 3,
	AVATEST_KIND_EVENT = 4,
};

/*
 * Header shared by every registered object; first member of each object.
 * It starts with the dispatch table, as an ICD-style library's objects do
 * (avatest-icd.h).
 */
struct avatest_obj {
	const struct avatest_icd_dispatch *dispatch;
	enum avatest_kind kind;
	uint64_t serial;   /* unique per object, never reused */
	unsigned refs;	   /* guarded by registry_lock */
	bool live;	   /* guarded by registry_lock: false once closed/freed */
	unsigned api_refs; /* devices, buffers: the API's retain count (registry_lock) */
	struct avatest_obj *next;
};

struct avatest_device_s {
	struct avatest_obj obj;
	int32_t index;
	float bias;
	char name[AVATEST_NAME_MAX];
	pthread_mutex_t lock; /* guards everything below */
	char *label;
	avatest_config cfg;
	uint64_t peer_serial; /* serial of cfg.peer when configured */
	int32_t *log;
	size_t log_len;
	size_t log_cap;
	int64_t log_sum;
	struct timespec busy_until; /* CLOCK_MONOTONIC: when queued avatest_busy work ends */
};

#define AVATEST_MAX_MAPS 8

struct avatest_buffer_s {
	struct avatest_obj obj;
	size_t size;
	struct avatest_buffer_s *parent; /* a sub-buffer's (referenced), else NULL */
	size_t offset;			 /* a sub-buffer's, in its parent */
	unsigned char *storage;		 /* storage_lock; not a sub-buffer's: size bytes, or NULL */
	void *maps[AVATEST_MAX_MAPS];	 /* storage_lock: the live mappings */
};

/* A function to call once an event completes. */
struct avatest_event_cb {
	avatest_event_fn fn;
	void *user_data;
	struct avatest_event_cb *next;
};

struct avatest_event_s {
	struct avatest_obj obj;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t cond;
	bool user;
	bool complete;
	struct avatest_cmd *waiting, **waiting_tail; /* run, in order, when this completes */
	struct avatest_event_cb *cbs, **cbs_tail;
};

enum avatest_cmd_kind {
	AVATEST_CMD_READ = 1,
	AVATEST_CMD_WRITE = 2,
	AVATEST_CMD_MAP = 3,
};

/*
 * A buffer command: checked and given its storage when submitted, so that
 * running it cannot fail. A read or write moves rows rows of width bytes,
 * buffer_pitch apart in the buffer and host_pitch apart at host (a plain
 * transfer is one row).
 */
struct avatest_cmd {
	enum avatest_cmd_kind kind;
	struct avatest_buffer_s *buf; /* referenced */
	unsigned char *bytes;	      /* the buffer's storage at the command's offset */
	void *host;		      /* a read's destination or a write's source */
	size_t width, rows, buffer_pitch, host_pitch;
	struct avatest_event_s *event; /* referenced: completes once the command ran */
	struct avatest_cmd *next;
};

struct avatest_gate_s {
	struct avatest_obj obj;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	bool freed;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
/* Guards every buffer's storage and maps; never held while taking another lock but registry_lock. */
static pthread_mutex_t storage_lock = PTHREAD_MUTEX_INITIALIZER;
static struct avatest_obj *registry_head;
static uint64_t registry_next_serial = 1;

static void registry_put(struct avatest_obj *obj);
static void cmd_free(struct avatest_cmd *cmd);

static void obj_destroy(struct avatest_obj *obj)
{
	if (obj->kind == AVATEST_KIND_DEVICE) {
		struct avatest_device_s *dev = (struct avatest_device_s *)obj;
		pthread_mutex_destroy(&dev->lock);
		free(dev->label);
		free(dev->log);
		free(dev);
	} else if (obj->kind == AVATEST_KIND_BUFFER) {
		struct avatest_buffer_s *buf = (struct avatest_buffer_s *)obj;
		if (buf->parent)
			registry_put(&buf->parent->obj);
		free(buf->storage);
		free(buf);
	} else if (obj->kind == AVATEST_KIND_EVENT) {
		struct avatest_event_s *ev = (struct avatest_event_s *)obj;
		/* Commands still waiting for an event nobody can complete any more never run. */
		while (ev->waiting) {
			struct avatest_cmd *next = ev->waiting->next;
			cmd_free(ev->waiting);
			ev->waiting = next;
		}
		while (ev->cbs) {
			struct avatest_event_cb *next = ev->cbs->next;
			free(ev->cbs);
			ev->cbs = next;
		}
		pthread_cond_destroy(&ev->cond);
		pthread_mutex_destroy(&ev->lock);
		free(ev);
	} else {
		struct avatest_gate_s *gate = (struct avatest_gate_s *)obj;
		pthread_cond_destroy(&gate->cond);
		pthread_mutex_destroy(&gate->lock);
		free(gate);
	}
}

static const struct avatest_icd_dispatch avatest_dispatch;

static void registry_add(struct avatest_obj *obj, enum avatest_kind kind)
{
	obj->dispatch = &avatest_dispatch;
	obj->kind = kind;
	obj->refs = 1; /* the registry's own reference */
	obj->api_refs = 1;
	obj->live = true;
	pthread_mutex_lock(&registry_lock);
	obj->serial = registry_next_serial++;
	obj->next = registry_head;
	registry_head = obj;
	pthread_mutex_unlock(&registry_lock);
}

/* Caller holds registry_lock. The pointer is compared, never dereferenced, until found. */
static struct avatest_obj *registry_find_locked(const void *ptr, enum avatest_kind kind)
{
	for (struct avatest_obj *o = registry_head; o; o = o->next) {
		if ((const void *)o == ptr)
			return o->kind == kind && o->live ? o : NULL;
	}
	return NULL;
}

/* Returns a referenced object, or NULL if ptr does not name a live object of that kind. */
static struct avatest_obj *registry_get(const void *ptr, enum avatest_kind kind)
{
	struct avatest_obj *o;

	if (!ptr)
		return NULL;
	pthread_mutex_lock(&registry_lock);
	o = registry_find_locked(ptr, kind);
	if (o)
		o->refs++;
	pthread_mutex_unlock(&registry_lock);
	return o;
}

static void registry_put(struct avatest_obj *obj)
{
	bool last;

	pthread_mutex_lock(&registry_lock);
	last = --obj->refs == 0;
	pthread_mutex_unlock(&registry_lock);
	if (last)
		obj_destroy(obj);
}

/*
 * Unlinks ptr from the registry (it stops being live) and returns it still
 * referenced by the caller, or NULL if it was not live. The caller drops the
 * registry's reference and its own with two registry_put calls.
 */
static struct avatest_obj *registry_remove(const void *ptr, enum avatest_kind kind)
{
	struct avatest_obj *o = NULL;

	if (!ptr)
		return NULL;
	pthread_mutex_lock(&registry_lock);
	for (struct avatest_obj **link = &registry_head; *link; link = &(*link)->next) {
		if ((const void *)*link != ptr)
			continue;
		if ((*link)->kind == kind && (*link)->live) {
			o = *link;
			*link = o->next;
			o->next = NULL;
			o->live = false;
			o->refs++;
		}
		break;
	}
	pthread_mutex_unlock(&registry_lock);
	return o;
}

/* True if ptr is a live device whose serial is serial (so a reused address does not match). */
static bool device_alive_with_serial(const void *ptr, uint64_t serial)
{
	struct avatest_obj *o;
	bool alive;

	pthread_mutex_lock(&registry_lock);
	o = registry_find_locked(ptr, AVATEST_KIND_DEVICE);
	alive = o && o->serial == serial;
	pthread_mutex_unlock(&registry_lock);
	return alive;
}

static struct avatest_device_s *device_get(avatest_device dev)
{
	return (struct avatest_device_s *)registry_get(dev, AVATEST_KIND_DEVICE);
}

static void device_put(struct avatest_device_s *dev)
{
	registry_put(&dev->obj);
}

static struct avatest_gate_s *gate_get(avatest_gate gate)
{
	return (struct avatest_gate_s *)registry_get(gate, AVATEST_KIND_GATE);
}

static void gate_put(struct avatest_gate_s *gate)
{
	registry_put(&gate->obj);
}

avatest_status avatest_null(void)
{
	return AVATEST_OK;
}

avatest_status avatest_add_one(int32_t x, int32_t *ret_y)
{
	if (!ret_y || x == INT32_MAX)
		return AVATEST_ERR_INVALID;
	*ret_y = x + 1;
	return AVATEST_OK;
}

static avatest_status device_new(int32_t index, avatest_device *ret_dev)
{
	struct avatest_device_s *dev;

	*ret_dev = NULL;
	if (index < 0 || index >= AVATEST_MAX_DEVICES)
		return AVATEST_ERR_INVALID;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return AVATEST_ERR_NO_MEMORY;
	dev->index = index;
	dev->bias = (float)index * 0.5f;
	snprintf(dev->name, sizeof(dev->name), "avatest-device-%d", (int)index);
	pthread_mutex_init(&dev->lock, NULL);
	registry_add(&dev->obj, AVATEST_KIND_DEVICE);
	*ret_dev = dev;
	return AVATEST_OK;
}

avatest_status avatest_device_open(int32_t index, avatest_device *ret_dev)
{
	if (!ret_dev)
		return AVATEST_ERR_INVALID;
	return device_new(index, ret_dev);
}

avatest_device avatest_device_create(int32_t index, avatest_status *errcode_ret)
{
	avatest_device dev;
	avatest_status st = device_new(index, &dev);

	if (errcode_ret)
		*errcode_ret = st;
	return dev;
}

/* Adds an API reference to a live object of kind. */
static avatest_status api_retain(const void *ptr, enum avatest_kind kind)
{
	struct avatest_obj *o;

	pthread_mutex_lock(&registry_lock);
	o = registry_find_locked(ptr, kind);
	if (o)
		o->api_refs++;
	pthread_mutex_unlock(&registry_lock);
	return o ? AVATEST_OK : AVATEST_ERR_INVALID_HANDLE;
}

/* Drops an API reference; the last one removes the object from the registry. */
static avatest_status api_release(const void *ptr, enum avatest_kind kind)
{
	struct avatest_obj *o;

	if (!ptr)
		return AVATEST_ERR_INVALID_HANDLE;
	pthread_mutex_lock(&registry_lock);
	o = registry_find_locked(ptr, kind);
	if (o && o->api_refs > 1) {
		o->api_refs--;
		pthread_mutex_unlock(&registry_lock);
		return AVATEST_OK;
	}
	pthread_mutex_unlock(&registry_lock);
	o = registry_remove(ptr, kind);
	if (!o)
		return AVATEST_ERR_INVALID_HANDLE;
	registry_put(o); /* the registry's reference */
	registry_put(o); /* ours */
	return AVATEST_OK;
}

avatest_status avatest_device_close(avatest_device handle)
{
	return api_release(handle, AVATEST_KIND_DEVICE);
}

avatest_status avatest_device_name(avatest_device handle, char *buf, size_t buf_len,
				   size_t *ret_len)
{
	struct avatest_device_s *dev = device_get(handle);
	avatest_status st = AVATEST_OK;
	size_t need;

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	need = strlen(dev->name) + 1;
	if (ret_len)
		*ret_len = need;
	if (!buf && buf_len > 0)
		st = AVATEST_ERR_INVALID;
	else if (buf_len < need)
		st = AVATEST_ERR_TOO_SMALL;
	else
		memcpy(buf, dev->name, need);
	device_put(dev);
	return st;
}

avatest_status avatest_device_set_label(avatest_device handle, const char *label)
{
	struct avatest_device_s *dev = device_get(handle);
	avatest_status st = AVATEST_OK;
	char *copy;

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	if (!label) {
		st = AVATEST_ERR_INVALID;
		goto out;
	}
	copy = strdup(label);
	if (!copy) {
		st = AVATEST_ERR_NO_MEMORY;
		goto out;
	}
	pthread_mutex_lock(&dev->lock);
	free(dev->label);
	dev->label = copy;
	pthread_mutex_unlock(&dev->lock);
out:
	device_put(dev);
	return st;
}

avatest_status avatest_scale(avatest_device handle, const float *in, float *out, size_t n,
			     float factor)
{
	struct avatest_device_s *dev = device_get(handle);

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	if (n > 0 && (!in || !out)) {
		device_put(dev);
		return AVATEST_ERR_INVALID;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = in[i] * factor + dev->bias;
	device_put(dev);
	return AVATEST_OK;
}

avatest_status avatest_increment(int32_t *data, size_t n, int32_t delta)
{
	if (n > 0 && !data)
		return AVATEST_ERR_INVALID;
	for (size_t i = 0; i < n; i++)
		data[i] = (int32_t)((uint32_t)data[i] + (uint32_t)delta); /* wraps, never UB */
	return AVATEST_OK;
}

avatest_status avatest_sum_indices(const avatest_device *devs, size_t n, int64_t *ret_sum)
{
	int64_t sum = 0;

	if ((n > 0 && !devs) || !ret_sum)
		return AVATEST_ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		struct avatest_device_s *dev = device_get(devs[i]);
		if (!dev)
			return AVATEST_ERR_INVALID_HANDLE;
		sum += dev->index;
		device_put(dev);
	}
	*ret_sum = sum;
	return AVATEST_OK;
}

avatest_status avatest_configure(avatest_device handle, const avatest_config *cfg)
{
	struct avatest_device_s *dev = device_get(handle);
	struct avatest_device_s *peer = NULL;
	avatest_status st = AVATEST_OK;

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	if (!cfg) {
		st = AVATEST_ERR_INVALID;
		goto out;
	}
	if (cfg->peer) {
		peer = device_get(cfg->peer);
		if (!peer) {
			st = AVATEST_ERR_INVALID_HANDLE;
			goto out;
		}
	}
	pthread_mutex_lock(&dev->lock);
	dev->cfg = *cfg;
	dev->peer_serial = peer ? peer->obj.serial : 0;
	pthread_mutex_unlock(&dev->lock);
out:
	if (peer)
		device_put(peer);
	device_put(dev);
	return st;
}

avatest_status avatest_get_config(avatest_device handle, avatest_config *ret_cfg)
{
	struct avatest_device_s *dev = device_get(handle);
	uint64_t peer_serial;

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	if (!ret_cfg) {
		device_put(dev);
		return AVATEST_ERR_INVALID;
	}
	pthread_mutex_lock(&dev->lock);
	*ret_cfg = dev->cfg;
	peer_serial = dev->peer_serial;
	pthread_mutex_unlock(&dev->lock);
	/* A peer closed since configure reads back as NULL, never as a dangling handle. */
	if (ret_cfg->peer && !device_alive_with_serial(ret_cfg->peer, peer_serial))
		ret_cfg->peer = NULL;
	device_put(dev);
	return AVATEST_OK;
}

avatest_status avatest_visit(avatest_device handle, int32_t count, avatest_visit_fn fn,
			     void *user_data)
{
	struct avatest_device_s *dev = device_get(handle);
	char name[32];

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	device_put(dev);
	if (count < 0 || (count > 0 && !fn))
		return AVATEST_ERR_INVALID;
	for (int32_t i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "item-%d", (int)i);
		fn(i, name, user_data);
	}
	return AVATEST_OK;
}

avatest_status avatest_sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return AVATEST_OK;
}

avatest_status avatest_log_value(avatest_device handle, int32_t value, int32_t blocking)
{
	struct avatest_device_s *dev = device_get(handle);
	avatest_status st = AVATEST_OK;

	(void)blocking; /* only changes how a remoted call is carried */
	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	if (value < 0) {
		st = AVATEST_ERR_INVALID;
		goto out;
	}
	pthread_mutex_lock(&dev->lock);
	if (dev->log_len == dev->log_cap) {
		size_t cap = dev->log_cap ? dev->log_cap * 2 : 16;
		int32_t *log = realloc(dev->log, cap * sizeof(*log));
		if (!log) {
			pthread_mutex_unlock(&dev->lock);
			st = AVATEST_ERR_NO_MEMORY;
			goto out;
		}
		dev->log = log;
		dev->log_cap = cap;
	}
	dev->log[dev->log_len++] = value;
	dev->log_sum += value;
	pthread_mutex_unlock(&dev->lock);
out:
	device_put(dev);
	return st;
}

avatest_status avatest_log_sum(avatest_device handle, int64_t *ret_sum)
{
	struct avatest_device_s *dev = device_get(handle);

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	if (!ret_sum) {
		device_put(dev);
		return AVATEST_ERR_INVALID;
	}
	pthread_mutex_lock(&dev->lock);
	*ret_sum = dev->log_sum;
	pthread_mutex_unlock(&dev->lock);
	device_put(dev);
	return AVATEST_OK;
}

avatest_status avatest_gate_new(avatest_gate *ret_gate)
{
	struct avatest_gate_s *gate;

	if (!ret_gate)
		return AVATEST_ERR_INVALID;
	*ret_gate = NULL;
	gate = calloc(1, sizeof(*gate));
	if (!gate)
		return AVATEST_ERR_NO_MEMORY;
	pthread_mutex_init(&gate->lock, NULL);
	pthread_cond_init(&gate->cond, NULL);
	registry_add(&gate->obj, AVATEST_KIND_GATE);
	*ret_gate = gate;
	return AVATEST_OK;
}

/*
 * The gate latches: once opened, every wait (earlier or later) returns
 * AVATEST_OK, so the outcome never depends on which thread got there first.
 * Freeing a gate wakes its waiters with AVATEST_ERR_INVALID_HANDLE.
 */
avatest_status avatest_gate_wait(avatest_gate handle)
{
	struct avatest_gate_s *gate = gate_get(handle);
	avatest_status st;

	if (!gate)
		return AVATEST_ERR_INVALID_HANDLE;
	pthread_mutex_lock(&gate->lock);
	while (!gate->open && !gate->freed)
		pthread_cond_wait(&gate->cond, &gate->lock);
	st = gate->open ? AVATEST_OK : AVATEST_ERR_INVALID_HANDLE;
	pthread_mutex_unlock(&gate->lock);
	gate_put(gate);
	return st;
}

avatest_status avatest_gate_open(avatest_gate handle)
{
	struct avatest_gate_s *gate = gate_get(handle);

	if (!gate)
		return AVATEST_ERR_INVALID_HANDLE;
	pthread_mutex_lock(&gate->lock);
	gate->open = true;
	pthread_cond_broadcast(&gate->cond);
	pthread_mutex_unlock(&gate->lock);
	gate_put(gate);
	return AVATEST_OK;
}

avatest_status avatest_gate_free(avatest_gate handle)
{
	struct avatest_obj *o = registry_remove(handle, AVATEST_KIND_GATE);
	struct avatest_gate_s *gate = (struct avatest_gate_s *)o;

	if (!o)
		return AVATEST_ERR_INVALID_HANDLE;
	pthread_mutex_lock(&gate->lock);
	gate->freed = true;
	pthread_cond_broadcast(&gate->cond);
	pthread_mutex_unlock(&gate->lock);
	registry_put(o); /* the registry's reference */
	registry_put(o); /* ours; waiters still hold theirs */
	return AVATEST_OK;
}

avatest_status avatest_unspecced(int32_t x)
{
	(void)x;
	return AVATEST_OK;
}

avatest_status avatest_live_objects(int64_t *ret_count)
{
	int64_t n = 0;

	if (!ret_count)
		return AVATEST_ERR_INVALID;
	pthread_mutex_lock(&registry_lock);
	for (struct avatest_obj *o = registry_head; o; o = o->next)
		n += o->live ? 1 : 0;
	pthread_mutex_unlock(&registry_lock);
	*ret_count = n;
	return AVATEST_OK;
}

avatest_status avatest_report(avatest_device handle, avatest_report_fn fn, void *user_data)
{
	struct avatest_device_s *dev = device_get(handle);
	int32_t *values;
	size_t n;

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	if (!fn) {
		device_put(dev);
		return AVATEST_ERR_INVALID;
	}
	/* A copy, so fn runs without the device lock and may call back into the library. */
	pthread_mutex_lock(&dev->lock);
	n = dev->log_len;
	values = malloc(n ? n * sizeof(*values) : 1);
	if (values && n)
		memcpy(values, dev->log, n * sizeof(*values));
	pthread_mutex_unlock(&dev->lock);
	device_put(dev);
	if (!values)
		return AVATEST_ERR_NO_MEMORY;
	fn(values, n, user_data);
	free(values);
	return AVATEST_OK;
}

avatest_status avatest_device_retain(avatest_device handle)
{
	return api_retain(handle, AVATEST_KIND_DEVICE);
}

avatest_buffer avatest_buffer_new(avatest_device handle, size_t size, avatest_status *errcode_ret)
{
	struct avatest_device_s *dev = device_get(handle);
	struct avatest_buffer_s *buf = NULL;
	avatest_status st = AVATEST_OK;

	if (!dev) {
		st = AVATEST_ERR_INVALID_HANDLE;
		goto out;
	}
	device_put(dev);
	if (size == 0) {
		st = AVATEST_ERR_INVALID;
		goto out;
	}
	buf = calloc(1, sizeof(*buf));
	if (!buf) {
		st = AVATEST_ERR_NO_MEMORY;
		goto out;
	}
	buf->size = size;
	registry_add(&buf->obj, AVATEST_KIND_BUFFER);
out:
	if (errcode_ret)
		*errcode_ret = st;
	return buf;
}

avatest_status avatest_buffer_retain(avatest_buffer buf)
{
	return api_retain(buf, AVATEST_KIND_BUFFER);
}

avatest_status avatest_buffer_release(avatest_buffer buf)
{
	return api_release(buf, AVATEST_KIND_BUFFER);
}

avatest_status avatest_buffer_size(avatest_buffer handle, size_t *ret_size)
{
	struct avatest_buffer_s *buf =
	    (struct avatest_buffer_s *)registry_get(handle, AVATEST_KIND_BUFFER);

	if (!buf)
		return AVATEST_ERR_INVALID_HANDLE;
	if (ret_size)
		*ret_size = buf->size;
	registry_put(&buf->obj);
	return ret_size ? AVATEST_OK : AVATEST_ERR_INVALID;
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

avatest_status avatest_busy(avatest_device handle, uint32_t usec)
{
	struct avatest_device_s *dev = device_get(handle);
	struct timespec now;

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&dev->lock);
	/* The device starts this work when it is done with what is queued. */
	if (ts_before(&dev->busy_until, &now))
		dev->busy_until = now;
	dev->busy_until.tv_sec += usec / 1000000u;
	dev->busy_until.tv_nsec += (long)(usec % 1000000u) * 1000;
	if (dev->busy_until.tv_nsec >= 1000000000L) {
		dev->busy_until.tv_sec++;
		dev->busy_until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_unlock(&dev->lock);
	device_put(dev);
	return AVATEST_OK;
}

avatest_status avatest_sync(avatest_device handle)
{
	struct avatest_device_s *dev = device_get(handle);
	struct timespec until;

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	pthread_mutex_lock(&dev->lock);
	until = dev->busy_until;
	pthread_mutex_unlock(&dev->lock);
	device_put(dev);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
	return AVATEST_OK;
}

/* ---- the rest of the spec language, one feature each ---- */

avatest_status avatest_echo(int32_t x, int32_t *ret_x)
{
	if (!ret_x)
		return AVATEST_ERR_INVALID;
	*ret_x = x;
	return AVATEST_OK;
}

avatest_status avatest_fill(int32_t *data, size_t n, int32_t value)
{
	if (n > 0 && !data)
		return AVATEST_ERR_INVALID;
	for (size_t i = 0; i < n; i++)
		data[i] = value;
	return AVATEST_OK;
}

avatest_status avatest_iota(int32_t *data, size_t n, int32_t start)
{
	if (n > 0 && !data)
		return AVATEST_ERR_INVALID;
	for (size_t i = 0; i < n; i++)
		data[i] = (int32_t)((uint32_t)start + (uint32_t)i); /* wraps, never UB */
	return AVATEST_OK;
}

avatest_status avatest_log_values(avatest_device dev, int32_t count, ...)
{
	avatest_status st = AVATEST_OK;
	va_list ap;

	if (count < 0)
		return AVATEST_ERR_INVALID;
	va_start(ap, count);
	for (int32_t i = 0; i < count && st == AVATEST_OK; i++)
		st = avatest_log_value(dev, va_arg(ap, int32_t), 1);
	va_end(ap);
	return st;
}

/*
 * The extensions: not exported by name (static), found only through
 * avatest_get_extension_address, as a vendor library's are.
 */
static avatest_status ext_triple(int32_t x, int32_t *ret_y)
{
	if (!ret_y)
		return AVATEST_ERR_INVALID;
	*ret_y = (int32_t)(3u * (uint32_t)x); /* wraps, never UB */
	return AVATEST_OK;
}

void *avatest_get_extension_address(const char *name)
{
	if (name && strcmp(name, "avatest_ext_triple") == 0)
		return (void *)ext_triple;
	return NULL;
}

/* Answers an info query whose value is the need bytes at src (src NULL: checked only). */
static avatest_status info_answer(const void *src, size_t need, size_t size, void *value,
				  size_t *ret_size)
{
	if (ret_size)
		*ret_size = need;
	if (!value)
		return AVATEST_OK;
	if (size < need)
		return AVATEST_ERR_TOO_SMALL;
	if (src)
		memcpy(value, src, need);
	return AVATEST_OK;
}

avatest_status avatest_device_get_info(avatest_device handle, int32_t what, size_t size,
				       void *value, size_t *ret_size)
{
	struct avatest_device_s *dev = device_get(handle);
	avatest_status st = AVATEST_OK;
	avatest_device peer;
	size_t sizes[2];
	uint32_t caps;

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	pthread_mutex_lock(&dev->lock);
	sizes[0] = strlen(dev->name);
	sizes[1] = dev->label ? strlen(dev->label) : 0;
	peer = dev->cfg.peer;
	if (peer && !device_alive_with_serial(peer, dev->peer_serial))
		peer = NULL;
	switch (what) {
	case AVATEST_DEVICE_INFO_INDEX:
		st = info_answer(&dev->index, sizeof(dev->index), size, value, ret_size);
		break;
	case AVATEST_DEVICE_INFO_PEER:
		st = info_answer(&peer, sizeof(peer), size, value, ret_size);
		break;
	case AVATEST_DEVICE_INFO_CAPS:
		caps = AVATEST_CAP_SCALE | AVATEST_CAP_LOG | AVATEST_CAP_SHARED_MEMORY;
		st = info_answer(&caps, sizeof(caps), size, value, ret_size);
		break;
	case AVATEST_DEVICE_INFO_BLOB_SIZES:
		st = info_answer(sizes, sizeof(sizes), size, value, ret_size);
		break;
	case AVATEST_DEVICE_INFO_BLOBS:
		st = info_answer(NULL, 2 * sizeof(unsigned char *), size, value, ret_size);
		if (st == AVATEST_OK && value) {
			unsigned char **blobs = value;
			if (blobs[0])
				memcpy(blobs[0], dev->name, sizes[0]);
			if (blobs[1] && sizes[1])
				memcpy(blobs[1], dev->label, sizes[1]);
		}
		break;
	default:
		st = AVATEST_ERR_INVALID;
	}
	pthread_mutex_unlock(&dev->lock);
	device_put(dev);
	return st;
}

avatest_device avatest_device_create_with_properties(const int64_t *properties,
						     avatest_status *errcode_ret)
{
	struct avatest_device_s *dev = NULL, *peer = NULL;
	avatest_device handle = NULL;
	int64_t index = -1, bias_milli = INT64_MIN;
	avatest_status st = AVATEST_OK;

	if (!properties) {
		st = AVATEST_ERR_INVALID;
		goto out;
	}
	for (const int64_t *p = properties; p[0] != 0; p += 2) {
		if (p[0] == AVATEST_PROP_INDEX) {
			index = p[1];
		} else if (p[0] == AVATEST_PROP_BIAS_MILLI) {
			bias_milli = p[1];
		} else if (p[0] == AVATEST_PROP_PEER && !peer) {
			peer = device_get((avatest_device)(intptr_t)p[1]);
			if (!peer) {
				st = AVATEST_ERR_INVALID_HANDLE;
				goto out;
			}
		} else {
			st = AVATEST_ERR_INVALID;
			goto out;
		}
	}
	if (index < 0 || index >= AVATEST_MAX_DEVICES) {
		st = AVATEST_ERR_INVALID;
		goto out;
	}
	st = device_new((int32_t)index, &handle);
	if (st != AVATEST_OK)
		goto out;
	dev = (struct avatest_device_s *)handle;
	pthread_mutex_lock(&dev->lock);
	if (bias_milli != INT64_MIN)
		dev->bias = (float)bias_milli / 1000.0f;
	if (peer) {
		dev->cfg.peer = (avatest_device)peer;
		dev->peer_serial = peer->obj.serial;
	}
	pthread_mutex_unlock(&dev->lock);
out:
	if (peer)
		device_put(peer);
	if (errcode_ret)
		*errcode_ret = st;
	return handle;
}

avatest_status avatest_device_set_label_parts(avatest_device handle, uint32_t count,
					      const char **strings, const size_t *lengths)
{
	struct avatest_device_s *dev = device_get(handle);
	avatest_status st = AVATEST_OK;
	size_t total = 0, at = 0;
	char *label = NULL;

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	if (count > 0 && !strings) {
		st = AVATEST_ERR_INVALID;
		goto out;
	}
	for (uint32_t i = 0; i < count; i++) {
		if (!strings[i]) {
			st = AVATEST_ERR_INVALID;
			goto out;
		}
		total += lengths && lengths[i] ? lengths[i] : strlen(strings[i]);
	}
	label = malloc(total + 1);
	if (!label) {
		st = AVATEST_ERR_NO_MEMORY;
		goto out;
	}
	for (uint32_t i = 0; i < count; i++) {
		size_t len = lengths && lengths[i] ? lengths[i] : strlen(strings[i]);
		memcpy(label + at, strings[i], len);
		at += len;
	}
	label[at] = '\0';
	pthread_mutex_lock(&dev->lock);
	free(dev->label);
	dev->label = label;
	pthread_mutex_unlock(&dev->lock);
out:
	device_put(dev);
	return st;
}

avatest_status avatest_device_get_label(avatest_device handle, char *buf, size_t buf_len,
					size_t *ret_len)
{
	struct avatest_device_s *dev = device_get(handle);
	avatest_status st = AVATEST_OK;
	const char *label;
	size_t need;

	if (!dev)
		return AVATEST_ERR_INVALID_HANDLE;
	pthread_mutex_lock(&dev->lock);
	label = dev->label ? dev->label : "";
	need = strlen(label) + 1;
	if (ret_len)
		*ret_len = need;
	if (!buf && buf_len > 0)
		st = AVATEST_ERR_INVALID;
	else if (buf_len < need)
		st = AVATEST_ERR_TOO_SMALL;
	else
		memcpy(buf, label, need);
	pthread_mutex_unlock(&dev->lock);
	device_put(dev);
	return st;
}

static struct avatest_buffer_s *buffer_get(avatest_buffer buf)
{
	return (struct avatest_buffer_s *)registry_get(buf, AVATEST_KIND_BUFFER);
}

static void buffer_put(struct avatest_buffer_s *buf)
{
	registry_put(&buf->obj);
}

/* Adds a reference to an object the caller already holds one on. */
static void obj_ref(struct avatest_obj *obj)
{
	pthread_mutex_lock(&registry_lock);
	obj->refs++;
	pthread_mutex_unlock(&registry_lock);
}

avatest_buffer avatest_buffer_new_sub(avatest_buffer handle, size_t offset, size_t size,
				      avatest_status *errcode_ret)
{
	struct avatest_buffer_s *parent = buffer_get(handle);
	struct avatest_buffer_s *sub = NULL;
	avatest_status st = AVATEST_OK;

	if (!parent) {
		st = AVATEST_ERR_INVALID_HANDLE;
		goto out;
	}
	if (parent->parent || size == 0 || offset > parent->size || size > parent->size - offset) {
		st = AVATEST_ERR_INVALID;
		goto out;
	}
	sub = calloc(1, sizeof(*sub));
	if (!sub) {
		st = AVATEST_ERR_NO_MEMORY;
		goto out;
	}
	sub->size = size;
	sub->offset = offset;
	sub->parent = parent; /* takes our reference */
	parent = NULL;
	registry_add(&sub->obj, AVATEST_KIND_BUFFER);
out:
	if (parent)
		buffer_put(parent);
	if (errcode_ret)
		*errcode_ret = st;
	return sub;
}

avatest_status avatest_buffer_parent_size(avatest_buffer handle, size_t *ret_size)
{
	struct avatest_buffer_s *buf = buffer_get(handle);

	if (!buf)
		return AVATEST_ERR_INVALID_HANDLE;
	if (ret_size)
		*ret_size = buf->parent ? buf->parent->size : buf->size;
	buffer_put(buf);
	return ret_size ? AVATEST_OK : AVATEST_ERR_INVALID;
}

void *avatest_buffer_address(avatest_buffer handle)
{
	struct avatest_buffer_s *buf = buffer_get(handle);
	uintptr_t addr;

	if (!buf)
		return NULL;
	addr = AVATEST_BUFFER_ADDRESS_BASE + buf->offset;
	buffer_put(buf);
	return (void *)addr;
}

avatest_buffer avatest_buffer_import(int32_t fd, avatest_status *errcode_ret)
{
	(void)fd;
	if (errcode_ret)
		*errcode_ret = AVATEST_ERR_INVALID;
	return NULL;
}

/* The buffer's storage from offset (allocated on first use), or NULL (no memory). */
static unsigned char *buffer_bytes(struct avatest_buffer_s *buf, size_t offset)
{
	struct avatest_buffer_s *root = buf->parent ? buf->parent : buf;
	unsigned char *bytes;

	pthread_mutex_lock(&storage_lock);
	if (!root->storage)
		root->storage = calloc(1, root->size);
	bytes = root->storage ? root->storage + buf->offset + offset : NULL;
	pthread_mutex_unlock(&storage_lock);
	return bytes;
}

static struct avatest_event_s *event_get(avatest_event ev)
{
	return (struct avatest_event_s *)registry_get(ev, AVATEST_KIND_EVENT);
}

static void event_put(struct avatest_event_s *ev)
{
	registry_put(&ev->obj);
}

static struct avatest_event_s *event_new(bool user)
{
	struct avatest_event_s *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	pthread_mutex_init(&ev->lock, NULL);
	pthread_cond_init(&ev->cond, NULL);
	ev->user = user;
	ev->waiting_tail = &ev->waiting;
	ev->cbs_tail = &ev->cbs;
	registry_add(&ev->obj, AVATEST_KIND_EVENT);
	return ev;
}

static void cmd_free(struct avatest_cmd *cmd)
{
	if (cmd->event)
		event_put(cmd->event);
	if (cmd->buf)
		buffer_put(cmd->buf);
	free(cmd);
}

static void cmd_run(struct avatest_cmd *cmd);

/*
 * Completes ev once: wakes its waiters, runs the commands waiting for it (in
 * the order they were submitted, each completing its own event), then calls
 * its callbacks. No lock is held meanwhile, so a callback may call the library.
 */
static void event_complete(struct avatest_event_s *ev)
{
	struct avatest_cmd *cmds;
	struct avatest_event_cb *cbs;

	pthread_mutex_lock(&ev->lock);
	if (ev->complete) {
		pthread_mutex_unlock(&ev->lock);
		return;
	}
	ev->complete = true;
	cmds = ev->waiting;
	cbs = ev->cbs;
	ev->waiting = NULL;
	ev->waiting_tail = &ev->waiting;
	ev->cbs = NULL;
	ev->cbs_tail = &ev->cbs;
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
	while (cmds) {
		struct avatest_cmd *next = cmds->next;
		cmd_run(cmds);
		cmds = next;
	}
	while (cbs) {
		struct avatest_event_cb *next = cbs->next;
		cbs->fn((avatest_event)ev, cbs->user_data);
		free(cbs);
		cbs = next;
	}
}

/* Runs a submitted command, completes its event and frees it. */
static void cmd_run(struct avatest_cmd *cmd)
{
	pthread_mutex_lock(&storage_lock);
	for (size_t r = 0; r < cmd->rows; r++) {
		unsigned char *b = cmd->bytes + r * cmd->buffer_pitch;
		unsigned char *h = (unsigned char *)cmd->host + r * cmd->host_pitch;
		if (cmd->kind == AVATEST_CMD_READ)
			memcpy(h, b, cmd->width);
		else if (cmd->kind == AVATEST_CMD_WRITE)
			memcpy(b, h, cmd->width);
	}
	pthread_mutex_unlock(&storage_lock);
	event_complete(cmd->event);
	cmd_free(cmd);
}

/*
 * Submits cmd (owned; its buf is set and referenced): runs it now, or once
 * wait_for completes; with blocking, returns once it ran. *ret_event (may
 * be NULL) gets its event.
 */
static avatest_status cmd_submit(struct avatest_cmd *cmd, avatest_event wait_for, int32_t blocking,
				 avatest_event *ret_event)
{
	struct avatest_event_s *wait = NULL, *ev;
	bool deferred = false;

	if (wait_for) {
		wait = event_get(wait_for);
		if (!wait) {
			cmd_free(cmd);
			return AVATEST_ERR_INVALID_EVENT;
		}
	}
	ev = event_new(false);
	if (!ev) {
		if (wait)
			event_put(wait);
		cmd_free(cmd);
		return AVATEST_ERR_NO_MEMORY;
	}
	obj_ref(&ev->obj); /* the command's */
	obj_ref(&ev->obj); /* ours, until the end of this call */
	cmd->event = ev;
	if (wait) {
		pthread_mutex_lock(&wait->lock);
		if (!wait->complete) {
			*wait->waiting_tail = cmd;
			wait->waiting_tail = &cmd->next;
			deferred = true;
		}
		pthread_mutex_unlock(&wait->lock);
		event_put(wait);
	}
	if (!deferred)
		cmd_run(cmd);
	if (blocking) {
		pthread_mutex_lock(&ev->lock);
		while (!ev->complete)
			pthread_cond_wait(&ev->cond, &ev->lock);
		pthread_mutex_unlock(&ev->lock);
	}
	if (ret_event)
		*ret_event = (avatest_event)ev;
	else
		(void)api_release(ev, AVATEST_KIND_EVENT);
	event_put(ev);
	return AVATEST_OK;
}

/* True if rows rows of width bytes, pitch apart from offset, lie within size bytes. */
static bool rows_fit(size_t size, size_t offset, size_t width, size_t rows, size_t pitch)
{
	size_t last;

	if (rows == 0 || width == 0)
		return offset <= size;
	if (pitch < width || rows - 1 > (SIZE_MAX - width) / pitch)
		return false;
	last = (rows - 1) * pitch + width;
	return offset <= size && last <= size - offset;
}

/* Checks and submits a transfer of rows rows of width bytes. */
static avatest_status transfer(enum avatest_cmd_kind kind, avatest_buffer handle, int32_t blocking,
			       size_t offset, size_t width, size_t rows, size_t buffer_pitch,
			       size_t host_pitch, const void *host, avatest_event wait_for,
			       avatest_event *ret_event)
{
	struct avatest_buffer_s *buf = buffer_get(handle);
	struct avatest_cmd *cmd;

	if (ret_event)
		*ret_event = NULL;
	if (!buf)
		return AVATEST_ERR_INVALID_HANDLE;
	if (!rows_fit(buf->size, offset, width, rows, buffer_pitch) || (width && rows && !host)) {
		buffer_put(buf);
		return AVATEST_ERR_INVALID;
	}
	cmd = calloc(1, sizeof(*cmd));
	if (!cmd) {
		buffer_put(buf);
		return AVATEST_ERR_NO_MEMORY;
	}
	cmd->kind = kind;
	cmd->buf = buf;
	cmd->host = (void *)(uintptr_t)host;
	cmd->width = width;
	cmd->rows = width ? rows : 0;
	cmd->buffer_pitch = buffer_pitch;
	cmd->host_pitch = host_pitch;
	cmd->bytes = buffer_bytes(buf, offset);
	if (!cmd->bytes) {
		cmd_free(cmd);
		return AVATEST_ERR_NO_MEMORY;
	}
	return cmd_submit(cmd, wait_for, blocking, ret_event);
}

avatest_status avatest_buffer_read(avatest_buffer buf, int32_t blocking, size_t offset, size_t size,
				   void *ptr, avatest_event wait_for, avatest_event *ret_event)
{
	return transfer(AVATEST_CMD_READ, buf, blocking, offset, size, 1, size, size, ptr, wait_for,
			ret_event);
}

avatest_status avatest_buffer_write(avatest_buffer buf, int32_t blocking, size_t offset,
				    size_t size, const void *ptr, avatest_event wait_for,
				    avatest_event *ret_event)
{
	return transfer(AVATEST_CMD_WRITE, buf, blocking, offset, size, 1, size, size, ptr,
			wait_for, ret_event);
}

static avatest_status transfer_rect(enum avatest_cmd_kind kind, avatest_buffer buf,
				    int32_t blocking, size_t buffer_offset, size_t buffer_row_pitch,
				    const size_t *region, size_t host_row_pitch, const void *ptr,
				    avatest_event wait_for, avatest_event *ret_event)
{
	if (ret_event)
		*ret_event = NULL;
	if (!region)
		return AVATEST_ERR_INVALID;
	if (!host_row_pitch)
		host_row_pitch = region[0];
	if (host_row_pitch < region[0] || buffer_row_pitch < region[0])
		return AVATEST_ERR_INVALID;
	return transfer(kind, buf, blocking, buffer_offset, region[0], region[1], buffer_row_pitch,
			host_row_pitch, ptr, wait_for, ret_event);
}

avatest_status avatest_buffer_read_rect(avatest_buffer buf, int32_t blocking, size_t buffer_offset,
					size_t buffer_row_pitch, const size_t *region,
					size_t host_row_pitch, void *ptr, avatest_event wait_for,
					avatest_event *ret_event)
{
	return transfer_rect(AVATEST_CMD_READ, buf, blocking, buffer_offset, buffer_row_pitch,
			     region, host_row_pitch, ptr, wait_for, ret_event);
}

avatest_status avatest_buffer_write_rect(avatest_buffer buf, int32_t blocking, size_t buffer_offset,
					 size_t buffer_row_pitch, const size_t *region,
					 size_t host_row_pitch, const void *ptr,
					 avatest_event wait_for, avatest_event *ret_event)
{
	return transfer_rect(AVATEST_CMD_WRITE, buf, blocking, buffer_offset, buffer_row_pitch,
			     region, host_row_pitch, ptr, wait_for, ret_event);
}

void *avatest_buffer_map(avatest_buffer handle, uint32_t flags, size_t offset, size_t size,
			 avatest_event wait_for, avatest_event *ret_event,
			 avatest_status *errcode_ret)
{
	struct avatest_buffer_s *buf = buffer_get(handle);
	struct avatest_cmd *cmd = NULL;
	avatest_status st = AVATEST_OK;
	unsigned char *mapped = NULL;
	int slot = -1;

	if (ret_event)
		*ret_event = NULL;
	if (!buf) {
		st = AVATEST_ERR_INVALID_HANDLE;
		goto out;
	}
	if (!flags ||
	    (flags & ~(AVATEST_MAP_READ | AVATEST_MAP_WRITE | AVATEST_MAP_WRITE_INVALIDATE)) ||
	    ((flags & AVATEST_MAP_WRITE_INVALIDATE) && (flags & AVATEST_MAP_READ)) || size == 0 ||
	    !rows_fit(buf->size, offset, size, 1, size)) {
		st = AVATEST_ERR_INVALID;
		goto out;
	}
	mapped = buffer_bytes(buf, offset);
	cmd = calloc(1, sizeof(*cmd));
	if (!mapped || !cmd) {
		st = AVATEST_ERR_NO_MEMORY;
		goto out;
	}
	pthread_mutex_lock(&storage_lock);
	for (int i = 0; i < AVATEST_MAX_MAPS && slot < 0; i++) {
		if (!buf->maps[i])
			slot = i;
	}
	if (slot >= 0)
		buf->maps[slot] = mapped;
	pthread_mutex_unlock(&storage_lock);
	if (slot < 0) {
		st = AVATEST_ERR_NO_MEMORY;
		goto out;
	}
	/* The bytes are the buffer's own: the command only orders the mapping after wait_for. */
	cmd->kind = AVATEST_CMD_MAP;
	obj_ref(&buf->obj);
	cmd->buf = buf;
	st = cmd_submit(cmd, wait_for, 0, ret_event);
	cmd = NULL;
	if (st != AVATEST_OK) {
		pthread_mutex_lock(&storage_lock);
		buf->maps[slot] = NULL;
		pthread_mutex_unlock(&storage_lock);
	}
out:
	free(cmd);
	if (buf)
		buffer_put(buf);
	if (st != AVATEST_OK)
		mapped = NULL;
	if (errcode_ret)
		*errcode_ret = st;
	return mapped;
}

avatest_status avatest_buffer_unmap(avatest_buffer handle, void *mapped)
{
	struct avatest_buffer_s *buf = buffer_get(handle);
	avatest_status st = AVATEST_ERR_INVALID;

	if (!buf)
		return AVATEST_ERR_INVALID_HANDLE;
	pthread_mutex_lock(&storage_lock);
	for (int i = 0; i < AVATEST_MAX_MAPS && mapped; i++) {
		if (buf->maps[i] == mapped) {
			buf->maps[i] = NULL;
			st = AVATEST_OK;
			break;
		}
	}
	pthread_mutex_unlock(&storage_lock);
	buffer_put(buf);
	return st;
}

avatest_status avatest_user_event_new(avatest_event *ret_event)
{
	struct avatest_event_s *ev;

	if (!ret_event)
		return AVATEST_ERR_INVALID;
	ev = event_new(true);
	*ret_event = (avatest_event)ev;
	return ev ? AVATEST_OK : AVATEST_ERR_NO_MEMORY;
}

avatest_status avatest_user_event_complete(avatest_event handle)
{
	struct avatest_event_s *ev = event_get(handle);
	avatest_status st = AVATEST_OK;

	if (!ev)
		return AVATEST_ERR_INVALID_EVENT;
	pthread_mutex_lock(&ev->lock);
	if (!ev->user || ev->complete)
		st = AVATEST_ERR_INVALID;
	pthread_mutex_unlock(&ev->lock);
	if (st == AVATEST_OK)
		event_complete(ev);
	event_put(ev);
	return st;
}

avatest_status avatest_event_status(avatest_event handle, int32_t *ret_status)
{
	struct avatest_event_s *ev = event_get(handle);

	if (!ev)
		return AVATEST_ERR_INVALID_EVENT;
	if (ret_status) {
		pthread_mutex_lock(&ev->lock);
		*ret_status = ev->complete ? AVATEST_EVENT_COMPLETE : AVATEST_EVENT_QUEUED;
		pthread_mutex_unlock(&ev->lock);
	}
	event_put(ev);
	return ret_status ? AVATEST_OK : AVATEST_ERR_INVALID;
}

avatest_status avatest_event_wait(avatest_event handle)
{
	struct avatest_event_s *ev = event_get(handle);

	if (!ev)
		return AVATEST_ERR_INVALID_EVENT;
	pthread_mutex_lock(&ev->lock);
	while (!ev->complete)
		pthread_cond_wait(&ev->cond, &ev->lock);
	pthread_mutex_unlock(&ev->lock);
	event_put(ev);
	return AVATEST_OK;
}

avatest_status avatest_event_retain(avatest_event ev)
{
	return api_retain(ev, AVATEST_KIND_EVENT) == AVATEST_OK ? AVATEST_OK
								: AVATEST_ERR_INVALID_EVENT;
}

avatest_status avatest_event_release(avatest_event ev)
{
	return api_release(ev, AVATEST_KIND_EVENT) == AVATEST_OK ? AVATEST_OK
								 : AVATEST_ERR_INVALID_EVENT;
}

avatest_status avatest_event_on_complete(avatest_event handle, avatest_event_fn fn, void *user_data)
{
	struct avatest_event_s *ev = event_get(handle);
	struct avatest_event_cb *cb;
	bool now = false;

	if (!ev)
		return AVATEST_ERR_INVALID_EVENT;
	cb = fn ? malloc(sizeof(*cb)) : NULL;
	if (!cb) {
		event_put(ev);
		return fn ? AVATEST_ERR_NO_MEMORY : AVATEST_ERR_INVALID;
	}
	cb->fn = fn;
	cb->user_data = user_data;
	cb->next = NULL;
	pthread_mutex_lock(&ev->lock);
	if (ev->complete) {
		now = true;
	} else {
		*ev->cbs_tail = cb;
		ev->cbs_tail = &cb->next;
	}
	pthread_mutex_unlock(&ev->lock);
	if (now) {
		fn(handle, user_data);
		free(cb);
	}
	event_put(ev);
	return AVATEST_OK;
}

static const struct avatest_icd_dispatch avatest_dispatch = {
	.avatest_device_close = avatest_device_close,
	.avatest_device_retain = avatest_device_retain,
	.avatest_device_name = avatest_device_name,
	.avatest_device_get_info = avatest_device_get_info,
	.avatest_buffer_size = avatest_buffer_size,
	.avatest_buffer_release = avatest_buffer_release,
	.avatest_event_status = avatest_event_status,
	.avatest_event_release = avatest_event_release,
};

const struct avatest_icd_dispatch *avatest_icd_get_dispatch(void)
{
	return &avatest_dispatch;
}
