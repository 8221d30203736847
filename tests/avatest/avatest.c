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

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum avatest_kind {
	AVATEST_KIND_DEVICE = 1,
	AVATEST_KIND_GATE = 2,
	AVATEST_KIND_BUFFER = 3,
};

/* Header shared by every registered object; first member of each object. */
struct avatest_obj {
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

struct avatest_buffer_s {
	struct avatest_obj obj;
	size_t size;
};

struct avatest_gate_s {
	struct avatest_obj obj;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	bool freed;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct avatest_obj *registry_head;
static uint64_t registry_next_serial = 1;

static void obj_destroy(struct avatest_obj *obj)
{
	if (obj->kind == AVATEST_KIND_DEVICE) {
		struct avatest_device_s *dev = (struct avatest_device_s *)obj;
		pthread_mutex_destroy(&dev->lock);
		free(dev->label);
		free(dev->log);
		free(dev);
	} else if (obj->kind == AVATEST_KIND_BUFFER) {
		free(obj);
	} else {
		struct avatest_gate_s *gate = (struct avatest_gate_s *)obj;
		pthread_cond_destroy(&gate->cond);
		pthread_mutex_destroy(&gate->lock);
		free(gate);
	}
}

static void registry_add(struct avatest_obj *obj, enum avatest_kind kind)
{
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
