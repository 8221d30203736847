/* SPDX-License-Identifier: MIT */
/*
 * CL_MEM_USE_HOST_PTR in the guest: the application's host memory behaves as
 * OpenCL 3.0 says, although the server never sees it (spec/opencl.spec
 * creates such buffers with CL_MEM_COPY_HOST_PTR there, from the bytes the
 * guest sends).
 *
 * This source remembers each live USE_HOST_PTR buffer (from a successful
 * clCreateBuffer / clCreateBufferWithProperties: host_ptr, size, flags,
 * context; a sub-buffer of one from clCreateSubBuffer: host_ptr + origin)
 * until the guest runtime says its handle is gone (the last reference
 * released, or the session ended), and with that:
 *
 *  - places a map of such a buffer at host_ptr + offset (the map placer): the
 *    readable map's bytes land there once the map completes, a writable
 *    map's bytes go from there to the device at unmap, and the unmap frees
 *    nothing;
 *  - answers CL_MEM_FLAGS with CL_MEM_USE_HOST_PTR (not the server's
 *    CL_MEM_COPY_HOST_PTR) and CL_MEM_HOST_PTR with host_ptr (+ origin); any
 *    other memory object's CL_MEM_HOST_PTR is NULL, as PoCL answers it, so a
 *    server address never reaches the application;
 *  - refreshes host_ptr from the device at synchronisation points, which
 *    PoCL gives natively (it keeps such a buffer in host_ptr) and sloppy
 *    applications rely on. A kernel launched on a queue may have written
 *    every such buffer of the queue's context that is not CL_MEM_READ_ONLY;
 *    a write, copy or fill its destination: the buffer is marked with that
 *    queue (and the command's event, when the application asked for one).
 *    Once clFinish on that queue, or a blocking read, write or map on it
 *    (for an in-order queue: everything before it is complete) returns,
 *    each buffer marked with the queue is read back into host_ptr with one
 *    blocking clEnqueueReadBuffer on that queue; a blocking read or
 *    readable map of the whole buffer is its own refresh. Once
 *    clWaitForEvents returns, each buffer whose marking command's event was
 *    waited for is read back on a queue of our own in the context (a read on
 *    the application's queue could wait for later commands the application
 *    has not released yet, gated by a user event). Buffers with a map open
 *    are left alone: the application may be writing into the mapped region.
 *    AVA_OPENCL_HOST_PTR_REFRESH=0 turns refreshing off (host_ptr is then
 *    current only through maps, which is all OpenCL promises).
 *
 * Thread-safe: one lock over the tables, never held across a call of the
 * API. A buffer being refreshed is marked busy, and its release waits in
 * the handle-gone hook until the read's bytes are in place, so the
 * application never frees host_ptr under a refresh.
 */
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>

#include <ava/guestlib.h>

#include "ava_opencl.h"
#include "opencl/guest.h"

#define HOSTPTR_BUCKETS 256 /* a power of two */
/* A refresh reads at most this much per call (one call carries at most 64 MiB). */
#define HOSTPTR_CHUNK_BYTES ((size_t)32 << 20)

enum hostptr_kind {
	HOSTPTR_BUFFER,
	HOSTPTR_QUEUE,
	HOSTPTR_CONTEXT, /* one whose clWaitForEvents refreshes needed a queue of our own */
};

/* A live USE_HOST_PTR buffer (or a sub-buffer of one), a command queue or a context. */
struct hostptr_obj {
	struct hostptr_obj *next;
	const void *handle; /* what the application holds */
	enum hostptr_kind kind;
	const void *context; /* a buffer's or a queue's */
	/* buffers */
	char *host; /* host_ptr, + origin for a sub-buffer */
	size_t size_bytes;
	bool read_only; /* CL_MEM_READ_ONLY: no kernel writes it */
	/* the queue (and event) of a command that may have written it since the last refresh */
	const void *dirty_queue, *dirty_event;
	unsigned n_maps; /* maps open */
	unsigned busy;	 /* refreshes in flight */
	/* queues */
	const void *device;
	bool out_of_order;
	/* contexts */
	cl_command_queue own_queue;
};

static pthread_mutex_t hostptr_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hostptr_idle = PTHREAD_COND_INITIALIZER;
static struct hostptr_obj *hostptr_table[HOSTPTR_BUCKETS];
static unsigned hostptr_n_buffers; /* 0: nothing to do after most calls */
static _Thread_local bool hostptr_refreshing;
static bool hostptr_no_refresh; /* AVA_OPENCL_HOST_PTR_REFRESH=0 */

/* Function ids, resolved by name from the generated description once. */
enum hostptr_fn {
	FN_CREATE_BUFFER,
	FN_CREATE_BUFFER_PROPS,
	FN_CREATE_SUB_BUFFER,
	FN_GET_MEM_INFO,
	FN_CREATE_QUEUE,
	FN_CREATE_QUEUE_PROPS,
	FN_MAP_BUFFER,
	FN_UNMAP,
	FN_FINISH,
	FN_WAIT_FOR_EVENTS,
	FN_READ_BUFFER,
	FN_WRITE_BUFFER,
	FN_WRITE_BUFFER_RECT,
	FN_COPY_BUFFER,
	FN_COPY_BUFFER_RECT,
	FN_FILL_BUFFER,
	FN_COPY_IMAGE_TO_BUFFER,
	FN_NDRANGE,
	FN_TASK,
	FN_COUNT,
};

static const char *const hostptr_fn_names[FN_COUNT] = {
	[FN_CREATE_BUFFER] = "clCreateBuffer",
	[FN_CREATE_BUFFER_PROPS] = "clCreateBufferWithProperties",
	[FN_CREATE_SUB_BUFFER] = "clCreateSubBuffer",
	[FN_GET_MEM_INFO] = "clGetMemObjectInfo",
	[FN_CREATE_QUEUE] = "clCreateCommandQueue",
	[FN_CREATE_QUEUE_PROPS] = "clCreateCommandQueueWithProperties",
	[FN_MAP_BUFFER] = "clEnqueueMapBuffer",
	[FN_UNMAP] = "clEnqueueUnmapMemObject",
	[FN_FINISH] = "clFinish",
	[FN_WAIT_FOR_EVENTS] = "clWaitForEvents",
	[FN_READ_BUFFER] = "clEnqueueReadBuffer",
	[FN_WRITE_BUFFER] = "clEnqueueWriteBuffer",
	[FN_WRITE_BUFFER_RECT] = "clEnqueueWriteBufferRect",
	[FN_COPY_BUFFER] = "clEnqueueCopyBuffer",
	[FN_COPY_BUFFER_RECT] = "clEnqueueCopyBufferRect",
	[FN_FILL_BUFFER] = "clEnqueueFillBuffer",
	[FN_COPY_IMAGE_TO_BUFFER] = "clEnqueueCopyImageToBuffer",
	[FN_NDRANGE] = "clEnqueueNDRangeKernel",
	[FN_TASK] = "clEnqueueTask",
};

/* Where the commands that mark buffers have their cl_event *event (0: none of ours). */
static const uint8_t hostptr_event_arg[FN_COUNT] = {
	[FN_WRITE_BUFFER] = 8, [FN_WRITE_BUFFER_RECT] = 13,
	[FN_COPY_BUFFER] = 8,  [FN_COPY_BUFFER_RECT] = 12,
	[FN_FILL_BUFFER] = 8,  [FN_COPY_IMAGE_TO_BUFFER] = 8,
	[FN_NDRANGE] = 8,      [FN_TASK] = 4,
};

/* hostptr_fn of each function id; FN_COUNT for the others. */
static uint8_t *hostptr_fn_of;
static uint32_t hostptr_n_fns;
/* hostptr_event_arg[k] names an out buffer of handles in the description */
static bool hostptr_event_ok[FN_COUNT];
static pthread_once_t hostptr_once = PTHREAD_ONCE_INIT;

static void hostptr_resolve(void)
{
	const struct ava_abi_api *abi = ava_gen__opencl__guest_api.abi;
	uint8_t *of = malloc(abi->n_fns ? abi->n_fns : 1);

	if (!of)
		return; /* nothing is tracked: USE_HOST_PTR behaves as COPY_HOST_PTR */
	memset(of, FN_COUNT, abi->n_fns);
	for (uint32_t i = 0; i < abi->n_fns; i++) {
		const struct ava_abi_fn *fn = &abi->fns[i];
		for (unsigned k = 0; k < FN_COUNT; k++) {
			if (strcmp(fn->name, hostptr_fn_names[k]) != 0)
				continue;
			of[i] = (uint8_t)k;
			unsigned e = hostptr_event_arg[k];
			hostptr_event_ok[k] = e && e < fn->n_args &&
					      fn->args[e].kind == AVA_ABI_BUFFER &&
					      fn->args[e].elem == AVA_ABI_ELEM_HANDLE;
		}
	}
	hostptr_n_fns = abi->n_fns;
	hostptr_fn_of = of;
}

/* Which of our functions fn_id is, or FN_COUNT. */
static enum hostptr_fn hostptr_which(const struct ava_guestlib_api *api, uint32_t fn_id)
{
	pthread_once(&hostptr_once, hostptr_resolve);
	if (api != &ava_gen__opencl__guest_api || fn_id >= hostptr_n_fns)
		return FN_COUNT;
	return (enum hostptr_fn)hostptr_fn_of[fn_id];
}

static size_t hostptr_hash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (size_t)x & (HOSTPTR_BUCKETS - 1);
}

/* The object for handle, or NULL. Caller holds the lock. */
static struct hostptr_obj *hostptr_find(const void *handle, enum hostptr_kind kind)
{
	struct hostptr_obj *o = handle ? hostptr_table[hostptr_hash(handle)] : NULL;

	while (o && (o->handle != handle || o->kind != kind))
		o = o->next;
	return o;
}

/* Enters o (the lock not held). Without memory it is not tracked. */
static void hostptr_add(struct hostptr_obj *o)
{
	struct hostptr_obj *copy = malloc(sizeof(*copy));

	if (!copy)
		return;
	*copy = *o;
	pthread_mutex_lock(&hostptr_lock);
	size_t h = hostptr_hash(copy->handle);
	copy->next = hostptr_table[h];
	hostptr_table[h] = copy;
	if (copy->kind == HOSTPTR_BUFFER)
		hostptr_n_buffers++;
	pthread_mutex_unlock(&hostptr_lock);
}

static void *hostptr_arg_ptr(void *const *args, unsigned i)
{
	return *(void *const *)args[i];
}

/* Did the call succeed? A creator (errcode_arg >= 0) returned non-NULL and no error. */
static bool hostptr_ok(const void *ret, void *const *args, int errcode_arg)
{
	if (errcode_arg >= 0) {
		const cl_int *e = hostptr_arg_ptr(args, (unsigned)errcode_arg);
		if (e && *e != CL_SUCCESS)
			return false;
		return *(void *const *)ret != NULL;
	}
	return *(const cl_int *)ret == CL_SUCCESS;
}

/* A new USE_HOST_PTR buffer: remembered. */
static void hostptr_created(const void *mem, const void *context, cl_mem_flags flags, size_t size,
			    void *host_ptr)
{
	if (!mem || !(flags & CL_MEM_USE_HOST_PTR) || !host_ptr)
		return;
	struct hostptr_obj o = {
		.handle = mem,
		.kind = HOSTPTR_BUFFER,
		.context = context,
		.host = host_ptr,
		.size_bytes = size,
		.read_only = (flags & CL_MEM_READ_ONLY) != 0,
	};
	hostptr_add(&o);
}

/* A sub-buffer of a remembered buffer: remembered with its own part of host_ptr. */
static void hostptr_sub_created(const void *sub, const void *parent, cl_mem_flags flags,
				cl_buffer_create_type type, const void *info)
{
	const cl_buffer_region *region = info;

	if (!sub || type != CL_BUFFER_CREATE_TYPE_REGION || !region)
		return;
	pthread_mutex_lock(&hostptr_lock);
	struct hostptr_obj *p = hostptr_find(parent, HOSTPTR_BUFFER);
	struct hostptr_obj o = { .kind = HOSTPTR_BUFFER };
	bool ok =
	    p && region->origin <= p->size_bytes && region->size <= p->size_bytes - region->origin;
	if (ok) {
		o.handle = sub;
		o.context = p->context;
		o.host = p->host + region->origin;
		o.size_bytes = region->size;
		/* access flags not given are the parent's */
		if (flags & (CL_MEM_READ_WRITE | CL_MEM_READ_ONLY | CL_MEM_WRITE_ONLY))
			o.read_only = (flags & CL_MEM_READ_ONLY) != 0;
		else
			o.read_only = p->read_only;
	}
	pthread_mutex_unlock(&hostptr_lock);
	if (ok)
		hostptr_add(&o);
}

static void hostptr_queue_created(const void *queue, const void *context, const void *device,
				  bool out_of_order)
{
	if (!queue)
		return;
	struct hostptr_obj o = {
		.handle = queue,
		.kind = HOSTPTR_QUEUE,
		.context = context,
		.device = device,
		.out_of_order = out_of_order,
	};
	hostptr_add(&o);
}

/* clCreateCommandQueueWithProperties: is CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE asked for? */
static bool hostptr_props_out_of_order(const cl_queue_properties *props)
{
	for (size_t i = 0; props && props[i]; i += 2)
		if (props[i] == CL_QUEUE_PROPERTIES)
			return (props[i + 1] & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) != 0;
	return false;
}

/* The answer to clGetMemObjectInfo, as a native library with the application's memory gives it. */
static void hostptr_fix_info(const void *mem, cl_mem_info name, size_t size, void *value)
{
	if (!value || (name != CL_MEM_FLAGS && name != CL_MEM_HOST_PTR))
		return;
	pthread_mutex_lock(&hostptr_lock);
	struct hostptr_obj *o = hostptr_find(mem, HOSTPTR_BUFFER);
	if (name == CL_MEM_FLAGS && o && size >= sizeof(cl_mem_flags)) {
		cl_mem_flags f;
		memcpy(&f, value, sizeof(f));
		f = (f & ~(cl_mem_flags)CL_MEM_COPY_HOST_PTR) | CL_MEM_USE_HOST_PTR;
		memcpy(value, &f, sizeof(f));
	} else if (name == CL_MEM_HOST_PTR && size >= sizeof(void *)) {
		void *p = o ? o->host : NULL;
		memcpy(value, &p, sizeof(p));
	}
	pthread_mutex_unlock(&hostptr_lock);
}

static void hostptr_set_dirty(struct hostptr_obj *o, const void *queue, const void *event)
{
	o->dirty_queue = queue;
	o->dirty_event = event;
}

/*
 * A command on queue (whose event is event, or NULL) may have written mem
 * (NULL: every writable buffer of queue's context).
 */
static void hostptr_mark(const void *queue, const void *mem, const void *event)
{
	pthread_mutex_lock(&hostptr_lock);
	struct hostptr_obj *q = hostptr_find(queue, HOSTPTR_QUEUE);
	if (mem) {
		struct hostptr_obj *o = hostptr_find(mem, HOSTPTR_BUFFER);
		if (o && q)
			hostptr_set_dirty(o, queue, event);
	} else if (q) {
		for (size_t b = 0; b < HOSTPTR_BUCKETS; b++)
			for (struct hostptr_obj *o = hostptr_table[b]; o; o = o->next)
				if (o->kind == HOSTPTR_BUFFER && o->context == q->context &&
				    !o->read_only)
					hostptr_set_dirty(o, queue, event);
	}
	pthread_mutex_unlock(&hostptr_lock);
}

/*
 * A blocking read (or readable map) on queue just brought mem's current
 * bytes [offset, offset + size) to dst (NULL: to host + offset, the map).
 * When that is the whole buffer, host_ptr is refreshed with them: no second
 * transfer.
 */
static void hostptr_fresh_copy(const void *queue, const void *mem, size_t offset, size_t size,
			       const void *dst)
{
	pthread_mutex_lock(&hostptr_lock);
	struct hostptr_obj *o = hostptr_find(mem, HOSTPTR_BUFFER);
	bool whole =
	    o && o->dirty_queue == queue && o->n_maps == 0 && offset == 0 && size == o->size_bytes;
	if (whole) {
		hostptr_set_dirty(o, NULL, NULL);
		o->busy++;
	}
	pthread_mutex_unlock(&hostptr_lock);
	if (!whole)
		return;
	if (dst && dst != o->host)
		memmove(o->host, dst, size);
	pthread_mutex_lock(&hostptr_lock);
	o->busy--;
	pthread_cond_broadcast(&hostptr_idle);
	pthread_mutex_unlock(&hostptr_lock);
}

/* Is o to be refreshed now: marked with queue, or with one of events? */
static bool hostptr_due(const struct hostptr_obj *o, const void *queue, const cl_event *events,
			size_t n_events)
{
	if (o->kind != HOSTPTR_BUFFER || !o->dirty_queue || o->n_maps || o->busy)
		return false;
	if (queue)
		return o->dirty_queue == queue;
	for (size_t i = 0; o->dirty_event && i < n_events; i++)
		if ((const void *)events[i] == o->dirty_event)
			return true;
	return false;
}

/*
 * A queue of our own in o's context (for a read that waits for nothing the
 * application enqueued), made on first use; NULL if that fails.
 */
static cl_command_queue hostptr_own_queue(const void *context, const void *written_by)
{
	cl_command_queue made = NULL, q = NULL;
	const void *device = NULL;

	pthread_mutex_lock(&hostptr_lock);
	struct hostptr_obj *c = hostptr_find(context, HOSTPTR_CONTEXT);
	struct hostptr_obj *wq = hostptr_find(written_by, HOSTPTR_QUEUE);
	if (c)
		q = c->own_queue;
	else if (wq)
		device = wq->device;
	pthread_mutex_unlock(&hostptr_lock);
	if (q || !device)
		return q;

	cl_int err = CL_SUCCESS;
	made = clCreateCommandQueueWithProperties((cl_context)context, (cl_device_id)device, NULL,
						  &err);
	if (err != CL_SUCCESS || !made)
		return NULL;
	struct hostptr_obj entry = {
		.handle = context,
		.kind = HOSTPTR_CONTEXT,
		.own_queue = made,
	};
	pthread_mutex_lock(&hostptr_lock);
	c = hostptr_find(context, HOSTPTR_CONTEXT);
	q = c ? c->own_queue : NULL;
	pthread_mutex_unlock(&hostptr_lock);
	if (q) { /* another thread made one meanwhile */
		(void)clReleaseCommandQueue(made);
		return q;
	}
	hostptr_add(&entry);
	return made;
}

/*
 * Reads back into host_ptr each buffer that is due: marked with queue, whose
 * earlier commands are complete (finished: clFinish; else a blocking command,
 * which says so only for an in-order queue), or (queue NULL) marked with one
 * of events, which are complete. The reads go on queue, or on a queue of our
 * own in the buffer's context.
 */
static void hostptr_refresh(cl_command_queue queue, bool finished, const cl_event *events,
			    size_t n_events)
{
	enum { BATCH = 64 };
	struct hostptr_obj *todo[BATCH];
	const void *written_by[BATCH], *context[BATCH];
	size_t n;

	do {
		n = 0;
		pthread_mutex_lock(&hostptr_lock);
		struct hostptr_obj *q = queue ? hostptr_find(queue, HOSTPTR_QUEUE) : NULL;
		bool ok = queue ? q && (finished || !q->out_of_order) : hostptr_n_buffers > 0;
		for (size_t b = 0; ok && b < HOSTPTR_BUCKETS && n < BATCH; b++)
			for (struct hostptr_obj *o = hostptr_table[b]; o && n < BATCH; o = o->next)
				if (hostptr_due(o, queue, events, n_events)) {
					written_by[n] = o->dirty_queue;
					context[n] = o->context;
					hostptr_set_dirty(o, NULL, NULL);
					o->busy++;
					todo[n++] = o;
				}
		pthread_mutex_unlock(&hostptr_lock);
		hostptr_refreshing = true;
		for (size_t i = 0; i < n; i++) {
			struct hostptr_obj *o = todo[i];
			cl_command_queue rq =
			    queue ? queue : hostptr_own_queue(context[i], written_by[i]);
			for (size_t off = 0; rq && off < o->size_bytes;
			     off += HOSTPTR_CHUNK_BYTES) {
				size_t len = o->size_bytes - off < HOSTPTR_CHUNK_BYTES
						 ? o->size_bytes - off
						 : HOSTPTR_CHUNK_BYTES;
				if (clEnqueueReadBuffer(rq, (cl_mem)o->handle, CL_TRUE, off, len,
							o->host + off, 0, NULL, NULL) != CL_SUCCESS)
					break;
			}
		}
		hostptr_refreshing = false;
		pthread_mutex_lock(&hostptr_lock);
		for (size_t i = 0; i < n; i++)
			todo[i]->busy--;
		if (n)
			pthread_cond_broadcast(&hostptr_idle);
		pthread_mutex_unlock(&hostptr_lock);
	} while (n == BATCH);
}

static void hostptr_map_count(const void *mem, int delta)
{
	pthread_mutex_lock(&hostptr_lock);
	struct hostptr_obj *o = hostptr_find(mem, HOSTPTR_BUFFER);
	if (o && delta > 0)
		o->n_maps++;
	else if (o && o->n_maps > 0)
		o->n_maps--;
	pthread_mutex_unlock(&hostptr_lock);
}

/* Is args[i] (a cl_bool) CL_TRUE? */
static bool hostptr_blocking(void *const *args, unsigned i)
{
	return *(const cl_bool *)args[i] != CL_FALSE;
}

void ava_opencl_hostptr_observe(const struct ava_guestlib_api *api, uint32_t fn_id,
				void *const *args, void *ret)
{
	enum hostptr_fn fn = hostptr_which(api, fn_id);
	bool tracking;

	if (fn == FN_COUNT || hostptr_refreshing)
		return;
	pthread_mutex_lock(&hostptr_lock);
	tracking = hostptr_n_buffers > 0;
	pthread_mutex_unlock(&hostptr_lock);

	switch (fn) {
	case FN_CREATE_BUFFER:
		if (hostptr_ok(ret, args, 4))
			hostptr_created(*(void **)ret, hostptr_arg_ptr(args, 0),
					*(const cl_mem_flags *)args[1], *(const size_t *)args[2],
					hostptr_arg_ptr(args, 3));
		return;
	case FN_CREATE_BUFFER_PROPS:
		if (hostptr_ok(ret, args, 5))
			hostptr_created(*(void **)ret, hostptr_arg_ptr(args, 0),
					*(const cl_mem_flags *)args[2], *(const size_t *)args[3],
					hostptr_arg_ptr(args, 4));
		return;
	case FN_CREATE_SUB_BUFFER:
		if (tracking && hostptr_ok(ret, args, 4))
			hostptr_sub_created(
			    *(void **)ret, hostptr_arg_ptr(args, 0), *(const cl_mem_flags *)args[1],
			    *(const cl_buffer_create_type *)args[2], hostptr_arg_ptr(args, 3));
		return;
	case FN_GET_MEM_INFO:
		if (hostptr_ok(ret, args, -1))
			hostptr_fix_info(hostptr_arg_ptr(args, 0), *(const cl_mem_info *)args[1],
					 *(const size_t *)args[2], hostptr_arg_ptr(args, 3));
		return;
	case FN_CREATE_QUEUE:
		if (hostptr_ok(ret, args, 3))
			hostptr_queue_created(*(void **)ret, hostptr_arg_ptr(args, 0),
					      hostptr_arg_ptr(args, 1),
					      (*(const cl_command_queue_properties *)args[2] &
					       CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) != 0);
		return;
	case FN_CREATE_QUEUE_PROPS:
		if (hostptr_ok(ret, args, 3))
			hostptr_queue_created(*(void **)ret, hostptr_arg_ptr(args, 0),
					      hostptr_arg_ptr(args, 1),
					      hostptr_props_out_of_order(hostptr_arg_ptr(args, 2)));
		return;
	default:
		break;
	}
	if (!tracking || hostptr_no_refresh)
		return; /* the rest only keeps host_ptr refreshed */
	if (fn == FN_WAIT_FOR_EVENTS) {
		if (hostptr_ok(ret, args, -1))
			hostptr_refresh(NULL, true, hostptr_arg_ptr(args, 1),
					*(const cl_uint *)args[0]);
		return;
	}

	/* Enqueued commands: args[0] is the queue. */
	cl_command_queue queue = hostptr_arg_ptr(args, 0);
	const cl_event *evp =
	    hostptr_event_ok[fn] ? hostptr_arg_ptr(args, hostptr_event_arg[fn]) : NULL;
	const void *event = evp ? *evp : NULL;
	switch (fn) {
	case FN_MAP_BUFFER: {
		cl_map_flags flags = *(const cl_map_flags *)args[3];
		if (!hostptr_ok(ret, args, 9))
			return;
		if (hostptr_blocking(args, 2) && !(flags & CL_MAP_WRITE_INVALIDATE_REGION))
			hostptr_fresh_copy(queue, hostptr_arg_ptr(args, 1),
					   *(const size_t *)args[4], *(const size_t *)args[5],
					   NULL);
		if (hostptr_blocking(args, 2))
			hostptr_refresh(queue, false, NULL, 0);
		hostptr_map_count(hostptr_arg_ptr(args, 1), +1);
		return;
	}
	case FN_UNMAP:
		if (hostptr_ok(ret, args, -1))
			hostptr_map_count(hostptr_arg_ptr(args, 1), -1);
		return;
	case FN_FINISH:
		if (hostptr_ok(ret, args, -1))
			hostptr_refresh(queue, true, NULL, 0);
		return;
	case FN_READ_BUFFER:
		if (!hostptr_ok(ret, args, -1) || !hostptr_blocking(args, 2))
			return;
		hostptr_fresh_copy(queue, hostptr_arg_ptr(args, 1), *(const size_t *)args[3],
				   *(const size_t *)args[4], hostptr_arg_ptr(args, 5));
		hostptr_refresh(queue, false, NULL, 0);
		return;
	case FN_WRITE_BUFFER:
	case FN_WRITE_BUFFER_RECT:
		if (!hostptr_ok(ret, args, -1))
			return;
		hostptr_mark(queue, hostptr_arg_ptr(args, 1), event);
		if (hostptr_blocking(args, 2))
			hostptr_refresh(queue, false, NULL, 0);
		return;
	case FN_FILL_BUFFER:
		if (hostptr_ok(ret, args, -1))
			hostptr_mark(queue, hostptr_arg_ptr(args, 1), event);
		return;
	case FN_COPY_BUFFER:
	case FN_COPY_BUFFER_RECT:
	case FN_COPY_IMAGE_TO_BUFFER:
		if (hostptr_ok(ret, args, -1))
			hostptr_mark(queue, hostptr_arg_ptr(args, 2), event);
		return;
	case FN_NDRANGE:
	case FN_TASK:
		if (hostptr_ok(ret, args, -1))
			hostptr_mark(queue, NULL, event);
		return;
	default:
		return;
	}
}

/* A map of a remembered buffer goes to host_ptr + offset. */
void *ava_opencl_hostptr_place_map(const struct ava_guestlib_api *api, uint32_t fn_id,
				   void *const *args, size_t len_bytes)
{
	void *at = NULL;

	if (hostptr_which(api, fn_id) != FN_MAP_BUFFER)
		return NULL;
	size_t offset = *(const size_t *)args[4];
	pthread_mutex_lock(&hostptr_lock);
	struct hostptr_obj *o = hostptr_find(hostptr_arg_ptr(args, 1), HOSTPTR_BUFFER);
	/* a region outside the buffer: the library refuses the map, nothing lands */
	if (o && offset <= o->size_bytes && len_bytes <= o->size_bytes - offset)
		at = o->host + offset;
	pthread_mutex_unlock(&hostptr_lock);
	return at;
}

/*
 * The application's handle is gone: forget it, once no refresh writes into
 * its host_ptr; a context's queue of our own goes with it; a buffer marked
 * with an event that is gone keeps its queue mark only (the pointer may name
 * another event later).
 */
void ava_opencl_hostptr_handle_gone(const struct ava_guestlib_api *api, uint16_t handle_type,
				    const void *handle)
{
	cl_command_queue own = NULL;

	(void)api;
	(void)handle_type;
	pthread_mutex_lock(&hostptr_lock);
	for (size_t b = 0; hostptr_n_buffers && b < HOSTPTR_BUCKETS; b++)
		for (struct hostptr_obj *o = hostptr_table[b]; o; o = o->next)
			if (o->dirty_event == handle)
				o->dirty_event = NULL;
	for (struct hostptr_obj **pp = &hostptr_table[hostptr_hash(handle)]; *pp;) {
		struct hostptr_obj *o = *pp;
		if (o->handle != handle) {
			pp = &o->next;
			continue;
		}
		if (o->busy) {
			/* the bucket may change meanwhile: look again from its head */
			pthread_cond_wait(&hostptr_idle, &hostptr_lock);
			pp = &hostptr_table[hostptr_hash(handle)];
			continue;
		}
		*pp = o->next;
		if (o->kind == HOSTPTR_BUFFER)
			hostptr_n_buffers--;
		if (o->kind == HOSTPTR_CONTEXT)
			own = o->own_queue;
		free(o);
	}
	pthread_mutex_unlock(&hostptr_lock);
	if (own)
		(void)clReleaseCommandQueue(own);
}

/* A forked child has none of the parent's handles, and maybe a lock held by a parent thread. */
static void hostptr_atfork_child(void)
{
	pthread_mutex_init(&hostptr_lock, NULL);
	pthread_cond_init(&hostptr_idle, NULL);
	for (size_t b = 0; b < HOSTPTR_BUCKETS; b++) {
		while (hostptr_table[b]) {
			struct hostptr_obj *o = hostptr_table[b];
			hostptr_table[b] = o->next;
			free(o);
		}
	}
	hostptr_n_buffers = 0;
}

__attribute__((constructor)) static void hostptr_init(void)
{
	const char *v = getenv("AVA_OPENCL_HOST_PTR_REFRESH");

	hostptr_no_refresh = v && strcmp(v, "0") == 0;
	pthread_atfork(NULL, NULL, hostptr_atfork_child);
}
