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
 * USE_HOST_PTR images (clCreateImage, clCreateImageWithProperties,
 * clCreateImage2D, clCreateImage3D) are copies on the server too, and are
 * remembered the same way with where the image lies in host_ptr (its
 * pitches, spec/opencl/rect.c): CL_MEM_FLAGS, CL_MEM_HOST_PTR and
 * clGetImageInfo's CL_IMAGE_ROW_PITCH / CL_IMAGE_SLICE_PITCH are answered
 * as natively; a map of a region (clEnqueueMapImage) is placed at
 * host_ptr + the region's offset, laid out at the host pitches (the guest
 * runtime lays a map out at the pitches clGetImageInfo answers) and
 * reports them; kernels, clEnqueueWriteImage, clEnqueueFillImage,
 * clEnqueueCopyImage and clEnqueueCopyBufferToImage mark an image as
 * writes mark a buffer, and a refresh reads it back with blocking
 * clEnqueueReadImage calls at the host pitches (the gaps between rows and
 * slices are never written); blocking image reads, writes and maps are
 * synchronisation points like the buffers' ones.
 *
 * A USE_HOST_PTR buffer on SVM memory (spec/opencl/svm.c makes it with
 * avaclCreateBufferOnSVM, on the server's allocation itself) is remembered
 * the same way, for its maps and answers, but never marked or refreshed:
 * its host_ptr is the guest's view of the SVM range, which SVM maps keep
 * current, and a refresh could overwrite an open SVM map's writes.
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
#include "opencl/rect.h"

#define HOSTPTR_BUCKETS 256 /* a power of two */
/* A refresh reads at most this much per call (one call carries at most 64 MiB). */
#define HOSTPTR_CHUNK_BYTES ((size_t)32 << 20)

enum hostptr_kind {
	HOSTPTR_BUFFER, /* or an image */
	HOSTPTR_QUEUE,
	HOSTPTR_CONTEXT, /* one whose clWaitForEvents refreshes needed a queue of our own */
};

/*
 * A live USE_HOST_PTR buffer (or a sub-buffer of one) or image, a command
 * queue or a context.
 */
struct hostptr_obj {
	struct hostptr_obj *next;
	const void *handle; /* what the application holds */
	enum hostptr_kind kind;
	const void *context; /* a buffer's or a queue's */
	/* buffers */
	char *host; /* host_ptr, + origin for a sub-buffer */
	size_t size_bytes;
	bool read_only; /* CL_MEM_READ_ONLY: no kernel writes it */
	bool svm;	/* on SVM memory, which the server's buffer shares: never refreshed */
	bool image;	/* an image, lying in host as shape says */
	struct ava_opencl_image_host shape;
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

/* Did a creator succeed? No error in *errcode_ret (when given), and a handle. */
static bool hostptr_made(const void *handle, const cl_int *errcode_ret)
{
	return (!errcode_ret || *errcode_ret == CL_SUCCESS) && handle != NULL;
}

/* A new USE_HOST_PTR buffer (svm: on SVM memory): remembered. */
static void hostptr_created(const void *mem, const void *context, cl_mem_flags flags, size_t size,
			    void *host_ptr, bool svm)
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
		.svm = svm,
	};
	hostptr_add(&o);
}

/* A new USE_HOST_PTR image (fn_id: its creator, args: the call's): remembered. */
static void hostptr_image_created(const void *mem, const void *context, cl_mem_flags flags,
				  void *host_ptr, uint32_t fn_id, void *const *args)
{
	cl_mem_flags host_flags =
	    CL_MEM_USE_HOST_PTR | CL_MEM_COPY_HOST_PTR | CL_MEM_ALLOC_HOST_PTR;
	struct hostptr_obj o = {
		.handle = mem,
		.kind = HOSTPTR_BUFFER,
		.context = context,
		.host = host_ptr,
		.read_only = (flags & CL_MEM_READ_ONLY) != 0,
		.image = true,
	};

	if (!mem || (flags & host_flags) != CL_MEM_USE_HOST_PTR || !host_ptr ||
	    ava_opencl_rect_image_host(fn_id, args, &o.shape) < 0)
		return; /* the server got no host memory for it either (spec/opencl/rect.c) */
	o.size_bytes = o.shape.size_bytes;
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
	bool ok = p && !p->image && region->origin <= p->size_bytes &&
		  region->size <= p->size_bytes - region->origin;
	if (ok) {
		o.handle = sub;
		o.context = p->context;
		o.host = p->host + region->origin;
		o.size_bytes = region->size;
		o.svm = p->svm;
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

/*
 * clGetImageInfo of a remembered image: its row and slice pitches are the
 * host memory's (the server's image, a copy, has packed ones), as natively.
 */
static void hostptr_fix_image_info(const void *image, cl_image_info name, size_t size, void *value)
{
	if (!value || size < sizeof(size_t) ||
	    (name != CL_IMAGE_ROW_PITCH && name != CL_IMAGE_SLICE_PITCH))
		return;
	pthread_mutex_lock(&hostptr_lock);
	struct hostptr_obj *o = hostptr_find(image, HOSTPTR_BUFFER);
	if (o && o->image) {
		size_t pitch =
		    name == CL_IMAGE_ROW_PITCH ? o->shape.row_pitch : o->shape.slice_pitch;
		memcpy(value, &pitch, sizeof(pitch));
	}
	pthread_mutex_unlock(&hostptr_lock);
}

/*
 * A map of a remembered image lies in host_ptr at the host's pitches (the
 * map placer put it there, laid out as clGetImageInfo answered above): the
 * pitches the application gets are those, not the server image's.
 */
static void hostptr_fix_map_pitches(const void *image, size_t *row_pitch, size_t *slice_pitch)
{
	pthread_mutex_lock(&hostptr_lock);
	struct hostptr_obj *o = hostptr_find(image, HOSTPTR_BUFFER);
	if (o && o->image) {
		if (row_pitch)
			*row_pitch = o->shape.row_pitch;
		if (slice_pitch && o->shape.slice_pitch)
			*slice_pitch = o->shape.slice_pitch;
	}
	pthread_mutex_unlock(&hostptr_lock);
}

/*
 * Where a region of a remembered image starts in its host memory, or
 * SIZE_MAX outside it. Caller holds the lock.
 */
static size_t hostptr_image_offset(const struct hostptr_obj *o, const size_t *origin)
{
	const struct ava_opencl_image_host *sh = &o->shape;
	/* a 1D image array's images lie a slice pitch apart */
	size_t step1 = sh->type == CL_MEM_OBJECT_IMAGE1D_ARRAY ? sh->slice_pitch : sh->row_pitch;

	if (!origin)
		return SIZE_MAX;
	for (int d = 0; d < 3; d++)
		if (origin[d] >= sh->region[d])
			return SIZE_MAX;
	return origin[0] * sh->elem_bytes + origin[1] * step1 + origin[2] * sh->slice_pitch;
}

static void hostptr_set_dirty(struct hostptr_obj *o, const void *queue, const void *event)
{
	if (o->svm)
		return; /* host_ptr is the SVM range: current at SVM maps and buffer maps */
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
	bool whole = o && !o->image && o->dirty_queue == queue && o->n_maps == 0 && offset == 0 &&
		     size == o->size_bytes;
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
 * Reads a remembered image back into host_ptr at its pitches, on queue rq:
 * blocking clEnqueueReadImage calls of whole slices (rows, elements, when
 * one is larger) of at most HOSTPTR_CHUNK_BYTES each where they fit.
 */
static void hostptr_read_image(cl_command_queue rq, const struct hostptr_obj *o)
{
	const struct ava_opencl_image_host *sh = &o->shape;
	size_t step1 = sh->type == CL_MEM_OBJECT_IMAGE1D_ARRAY ? sh->slice_pitch : sh->row_pitch;
	size_t pitch[3] = { sh->elem_bytes, step1, sh->slice_pitch };
	size_t unit = sh->elem_bytes; /* packed bytes of one step along dim */
	int dim = 0;

	for (int d = 1; d < 3; d++)
		if (sh->region[d] > 1) {
			for (int e = dim; e < d; e++)
				unit *= sh->region[e];
			dim = d;
		}
	size_t per = unit < HOSTPTR_CHUNK_BYTES ? HOSTPTR_CHUNK_BYTES / unit : 1;
	for (size_t at = 0; at < sh->region[dim]; at += per) {
		size_t origin[3] = { 0, 0, 0 };
		size_t region[3] = { sh->region[0], sh->region[1], sh->region[2] };
		origin[dim] = at;
		region[dim] = sh->region[dim] - at < per ? sh->region[dim] - at : per;
		if (clEnqueueReadImage(rq, (cl_mem)o->handle, CL_TRUE, origin, region,
				       sh->row_pitch, sh->slice_pitch, o->host + at * pitch[dim], 0,
				       NULL, NULL) != CL_SUCCESS)
			return;
	}
}

/*
 * Reads back into host_ptr each buffer or image that is due: marked with queue, whose
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
			if (rq && o->image) {
				hostptr_read_image(rq, o);
				continue;
			}
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

/* Are there USE_HOST_PTR buffers? */
static bool hostptr_tracking(void)
{
	pthread_mutex_lock(&hostptr_lock);
	bool tracking = hostptr_n_buffers > 0;
	pthread_mutex_unlock(&hostptr_lock);
	return tracking;
}

/* Are there buffers whose host_ptr is kept refreshed? */
static bool hostptr_refreshes(void)
{
	return !hostptr_no_refresh && hostptr_tracking();
}

/* The event a command gave the application (event: its cl_event *event argument), or NULL. */
static const void *hostptr_event(cl_event *const *event)
{
	return *event ? **event : NULL;
}

/*
 * A synchronisation point or a command that may write buffers (fn_id is one
 * of those observe routes here), once it returned: host_ptr refreshed, or
 * the buffers it may have written marked.
 */
static void hostptr_sync(uint32_t fn_id, void *const *args, void *ret)
{
	switch (fn_id) {
	case AVA_OPENCL_FN_clWaitForEvents: {
		struct ava_opencl_args_clWaitForEvents a = ava_opencl_args_clWaitForEvents(args);
		if (*ava_opencl_ret_clWaitForEvents(ret) == CL_SUCCESS)
			hostptr_refresh(NULL, true, *a.event_list, *a.num_events);
		return;
	}
	case AVA_OPENCL_FN_clEnqueueMapBuffer: {
		struct ava_opencl_args_clEnqueueMapBuffer a =
		    ava_opencl_args_clEnqueueMapBuffer(args);
		bool blocking = *a.blocking_map != CL_FALSE;
		if (!hostptr_made(*ava_opencl_ret_clEnqueueMapBuffer(ret), *a.errcode_ret))
			return;
		if (blocking && !(*a.map_flags & CL_MAP_WRITE_INVALIDATE_REGION))
			hostptr_fresh_copy(*a.command_queue, *a.buffer, *a.offset, *a.size, NULL);
		if (blocking)
			hostptr_refresh(*a.command_queue, false, NULL, 0);
		hostptr_map_count(*a.buffer, +1);
		return;
	}
	case AVA_OPENCL_FN_clEnqueueMapImage: {
		struct ava_opencl_args_clEnqueueMapImage a =
		    ava_opencl_args_clEnqueueMapImage(args);
		if (!hostptr_made(*ava_opencl_ret_clEnqueueMapImage(ret), *a.errcode_ret))
			return;
		if (*a.blocking_map != CL_FALSE)
			hostptr_refresh(*a.command_queue, false, NULL, 0);
		hostptr_map_count(*a.image, +1);
		return;
	}
	case AVA_OPENCL_FN_clEnqueueReadImage: {
		struct ava_opencl_args_clEnqueueReadImage a =
		    ava_opencl_args_clEnqueueReadImage(args);
		if (*ava_opencl_ret_clEnqueueReadImage(ret) == CL_SUCCESS &&
		    *a.blocking_read != CL_FALSE)
			hostptr_refresh(*a.command_queue, false, NULL, 0);
		return;
	}
	case AVA_OPENCL_FN_clEnqueueWriteImage: {
		struct ava_opencl_args_clEnqueueWriteImage a =
		    ava_opencl_args_clEnqueueWriteImage(args);
		if (*ava_opencl_ret_clEnqueueWriteImage(ret) != CL_SUCCESS)
			return;
		hostptr_mark(*a.command_queue, *a.image, hostptr_event(a.event));
		if (*a.blocking_write != CL_FALSE)
			hostptr_refresh(*a.command_queue, false, NULL, 0);
		return;
	}
	case AVA_OPENCL_FN_clEnqueueFillImage: {
		struct ava_opencl_args_clEnqueueFillImage a =
		    ava_opencl_args_clEnqueueFillImage(args);
		if (*ava_opencl_ret_clEnqueueFillImage(ret) == CL_SUCCESS)
			hostptr_mark(*a.command_queue, *a.image, hostptr_event(a.event));
		return;
	}
	case AVA_OPENCL_FN_clEnqueueCopyImage: {
		struct ava_opencl_args_clEnqueueCopyImage a =
		    ava_opencl_args_clEnqueueCopyImage(args);
		if (*ava_opencl_ret_clEnqueueCopyImage(ret) == CL_SUCCESS)
			hostptr_mark(*a.command_queue, *a.dst_image, hostptr_event(a.event));
		return;
	}
	case AVA_OPENCL_FN_clEnqueueCopyBufferToImage: {
		struct ava_opencl_args_clEnqueueCopyBufferToImage a =
		    ava_opencl_args_clEnqueueCopyBufferToImage(args);
		if (*ava_opencl_ret_clEnqueueCopyBufferToImage(ret) == CL_SUCCESS)
			hostptr_mark(*a.command_queue, *a.dst_image, hostptr_event(a.event));
		return;
	}
	case AVA_OPENCL_FN_clEnqueueUnmapMemObject: {
		struct ava_opencl_args_clEnqueueUnmapMemObject a =
		    ava_opencl_args_clEnqueueUnmapMemObject(args);
		if (*ava_opencl_ret_clEnqueueUnmapMemObject(ret) == CL_SUCCESS)
			hostptr_map_count(*a.memobj, -1);
		return;
	}
	case AVA_OPENCL_FN_clFinish: {
		struct ava_opencl_args_clFinish a = ava_opencl_args_clFinish(args);
		if (*ava_opencl_ret_clFinish(ret) == CL_SUCCESS)
			hostptr_refresh(*a.command_queue, true, NULL, 0);
		return;
	}
	case AVA_OPENCL_FN_clEnqueueReadBuffer: {
		struct ava_opencl_args_clEnqueueReadBuffer a =
		    ava_opencl_args_clEnqueueReadBuffer(args);
		if (*ava_opencl_ret_clEnqueueReadBuffer(ret) != CL_SUCCESS ||
		    *a.blocking_read == CL_FALSE)
			return;
		hostptr_fresh_copy(*a.command_queue, *a.buffer, *a.offset, *a.size, *a.ptr);
		hostptr_refresh(*a.command_queue, false, NULL, 0);
		return;
	}
	case AVA_OPENCL_FN_clEnqueueWriteBuffer: {
		struct ava_opencl_args_clEnqueueWriteBuffer a =
		    ava_opencl_args_clEnqueueWriteBuffer(args);
		if (*ava_opencl_ret_clEnqueueWriteBuffer(ret) != CL_SUCCESS)
			return;
		hostptr_mark(*a.command_queue, *a.buffer, hostptr_event(a.event));
		if (*a.blocking_write != CL_FALSE)
			hostptr_refresh(*a.command_queue, false, NULL, 0);
		return;
	}
	case AVA_OPENCL_FN_clEnqueueWriteBufferRect: {
		struct ava_opencl_args_clEnqueueWriteBufferRect a =
		    ava_opencl_args_clEnqueueWriteBufferRect(args);
		if (*ava_opencl_ret_clEnqueueWriteBufferRect(ret) != CL_SUCCESS)
			return;
		hostptr_mark(*a.command_queue, *a.buffer, hostptr_event(a.event));
		if (*a.blocking_write != CL_FALSE)
			hostptr_refresh(*a.command_queue, false, NULL, 0);
		return;
	}
	case AVA_OPENCL_FN_clEnqueueFillBuffer: {
		struct ava_opencl_args_clEnqueueFillBuffer a =
		    ava_opencl_args_clEnqueueFillBuffer(args);
		if (*ava_opencl_ret_clEnqueueFillBuffer(ret) == CL_SUCCESS)
			hostptr_mark(*a.command_queue, *a.buffer, hostptr_event(a.event));
		return;
	}
	case AVA_OPENCL_FN_clEnqueueCopyBuffer: {
		struct ava_opencl_args_clEnqueueCopyBuffer a =
		    ava_opencl_args_clEnqueueCopyBuffer(args);
		if (*ava_opencl_ret_clEnqueueCopyBuffer(ret) == CL_SUCCESS)
			hostptr_mark(*a.command_queue, *a.dst_buffer, hostptr_event(a.event));
		return;
	}
	case AVA_OPENCL_FN_clEnqueueCopyBufferRect: {
		struct ava_opencl_args_clEnqueueCopyBufferRect a =
		    ava_opencl_args_clEnqueueCopyBufferRect(args);
		if (*ava_opencl_ret_clEnqueueCopyBufferRect(ret) == CL_SUCCESS)
			hostptr_mark(*a.command_queue, *a.dst_buffer, hostptr_event(a.event));
		return;
	}
	case AVA_OPENCL_FN_clEnqueueCopyImageToBuffer: {
		struct ava_opencl_args_clEnqueueCopyImageToBuffer a =
		    ava_opencl_args_clEnqueueCopyImageToBuffer(args);
		if (*ava_opencl_ret_clEnqueueCopyImageToBuffer(ret) == CL_SUCCESS)
			hostptr_mark(*a.command_queue, *a.dst_buffer, hostptr_event(a.event));
		return;
	}
	case AVA_OPENCL_FN_clEnqueueNDRangeKernel: {
		struct ava_opencl_args_clEnqueueNDRangeKernel a =
		    ava_opencl_args_clEnqueueNDRangeKernel(args);
		if (*ava_opencl_ret_clEnqueueNDRangeKernel(ret) == CL_SUCCESS)
			hostptr_mark(*a.command_queue, NULL, hostptr_event(a.event));
		return;
	}
	case AVA_OPENCL_FN_clEnqueueTask: {
		struct ava_opencl_args_clEnqueueTask a = ava_opencl_args_clEnqueueTask(args);
		if (*ava_opencl_ret_clEnqueueTask(ret) == CL_SUCCESS)
			hostptr_mark(*a.command_queue, NULL, hostptr_event(a.event));
		return;
	}
	default:
		return;
	}
}

void ava_opencl_hostptr_observe(const struct ava_guestlib_api *api, uint32_t fn_id,
				void *const *args, void *ret)
{
	(void)api;
	if (hostptr_refreshing)
		return; /* our own reads */
	switch (fn_id) {
	case AVA_OPENCL_FN_clCreateBuffer: {
		struct ava_opencl_args_clCreateBuffer a = ava_opencl_args_clCreateBuffer(args);
		cl_mem mem = *ava_opencl_ret_clCreateBuffer(ret);
		if (hostptr_made(mem, *a.errcode_ret))
			hostptr_created(mem, *a.context, *a.flags, *a.size, *a.host_ptr, false);
		return;
	}
	case AVA_OPENCL_FN_clCreateBufferWithProperties: {
		struct ava_opencl_args_clCreateBufferWithProperties a =
		    ava_opencl_args_clCreateBufferWithProperties(args);
		cl_mem mem = *ava_opencl_ret_clCreateBufferWithProperties(ret);
		if (hostptr_made(mem, *a.errcode_ret))
			hostptr_created(mem, *a.context, *a.flags, *a.size, *a.host_ptr, false);
		return;
	}
	case AVA_OPENCL_FN_avaclCreateBufferOnSVM: {
		/* spec/opencl/svm.c's clCreateBuffer(WithProperties) on SVM memory */
		struct ava_opencl_args_avaclCreateBufferOnSVM a =
		    ava_opencl_args_avaclCreateBufferOnSVM(args);
		cl_mem mem = *ava_opencl_ret_avaclCreateBufferOnSVM(ret);
		if (hostptr_made(mem, *a.errcode_ret))
			hostptr_created(mem, *a.context, *a.flags, *a.size, *a.svm_ptr, true);
		return;
	}
	case AVA_OPENCL_FN_clCreateImage: {
		struct ava_opencl_args_clCreateImage a = ava_opencl_args_clCreateImage(args);
		cl_mem mem = *ava_opencl_ret_clCreateImage(ret);
		if (hostptr_made(mem, *a.errcode_ret))
			hostptr_image_created(mem, *a.context, *a.flags, *a.host_ptr, fn_id, args);
		return;
	}
	case AVA_OPENCL_FN_clCreateImageWithProperties: {
		struct ava_opencl_args_clCreateImageWithProperties a =
		    ava_opencl_args_clCreateImageWithProperties(args);
		cl_mem mem = *ava_opencl_ret_clCreateImageWithProperties(ret);
		if (hostptr_made(mem, *a.errcode_ret))
			hostptr_image_created(mem, *a.context, *a.flags, *a.host_ptr, fn_id, args);
		return;
	}
	case AVA_OPENCL_FN_clCreateImage2D: {
		struct ava_opencl_args_clCreateImage2D a = ava_opencl_args_clCreateImage2D(args);
		cl_mem mem = *ava_opencl_ret_clCreateImage2D(ret);
		if (hostptr_made(mem, *a.errcode_ret))
			hostptr_image_created(mem, *a.context, *a.flags, *a.host_ptr, fn_id, args);
		return;
	}
	case AVA_OPENCL_FN_clCreateImage3D: {
		struct ava_opencl_args_clCreateImage3D a = ava_opencl_args_clCreateImage3D(args);
		cl_mem mem = *ava_opencl_ret_clCreateImage3D(ret);
		if (hostptr_made(mem, *a.errcode_ret))
			hostptr_image_created(mem, *a.context, *a.flags, *a.host_ptr, fn_id, args);
		return;
	}
	case AVA_OPENCL_FN_clGetImageInfo: {
		struct ava_opencl_args_clGetImageInfo a = ava_opencl_args_clGetImageInfo(args);
		if (*ava_opencl_ret_clGetImageInfo(ret) == CL_SUCCESS && hostptr_tracking())
			hostptr_fix_image_info(*a.image, *a.param_name, *a.param_value_size,
					       *a.param_value);
		return;
	}
	case AVA_OPENCL_FN_clCreateSubBuffer: {
		struct ava_opencl_args_clCreateSubBuffer a =
		    ava_opencl_args_clCreateSubBuffer(args);
		cl_mem sub = *ava_opencl_ret_clCreateSubBuffer(ret);
		if (hostptr_made(sub, *a.errcode_ret) && hostptr_tracking())
			hostptr_sub_created(sub, *a.buffer, *a.flags, *a.buffer_create_type,
					    *a.buffer_create_info);
		return;
	}
	case AVA_OPENCL_FN_clGetMemObjectInfo: {
		struct ava_opencl_args_clGetMemObjectInfo a =
		    ava_opencl_args_clGetMemObjectInfo(args);
		if (*ava_opencl_ret_clGetMemObjectInfo(ret) == CL_SUCCESS)
			hostptr_fix_info(*a.memobj, *a.param_name, *a.param_value_size,
					 *a.param_value);
		return;
	}
	case AVA_OPENCL_FN_clCreateCommandQueue: {
		struct ava_opencl_args_clCreateCommandQueue a =
		    ava_opencl_args_clCreateCommandQueue(args);
		cl_command_queue q = *ava_opencl_ret_clCreateCommandQueue(ret);
		if (hostptr_made(q, *a.errcode_ret))
			hostptr_queue_created(
			    q, *a.context, *a.device,
			    (*a.properties & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) != 0);
		return;
	}
	case AVA_OPENCL_FN_clCreateCommandQueueWithProperties: {
		struct ava_opencl_args_clCreateCommandQueueWithProperties a =
		    ava_opencl_args_clCreateCommandQueueWithProperties(args);
		cl_command_queue q = *ava_opencl_ret_clCreateCommandQueueWithProperties(ret);
		if (hostptr_made(q, *a.errcode_ret))
			hostptr_queue_created(q, *a.context, *a.device,
					      hostptr_props_out_of_order(*a.properties));
		return;
	}
	case AVA_OPENCL_FN_clEnqueueMapImage: {
		struct ava_opencl_args_clEnqueueMapImage a =
		    ava_opencl_args_clEnqueueMapImage(args);
		if (hostptr_made(*ava_opencl_ret_clEnqueueMapImage(ret), *a.errcode_ret) &&
		    hostptr_tracking())
			hostptr_fix_map_pitches(*a.image, *a.image_row_pitch, *a.image_slice_pitch);
		if (hostptr_refreshes())
			hostptr_sync(fn_id, args, ret);
		return;
	}
	case AVA_OPENCL_FN_clWaitForEvents:
	case AVA_OPENCL_FN_clEnqueueMapBuffer:
	case AVA_OPENCL_FN_clEnqueueReadImage:
	case AVA_OPENCL_FN_clEnqueueWriteImage:
	case AVA_OPENCL_FN_clEnqueueFillImage:
	case AVA_OPENCL_FN_clEnqueueCopyImage:
	case AVA_OPENCL_FN_clEnqueueCopyBufferToImage:
	case AVA_OPENCL_FN_clEnqueueUnmapMemObject:
	case AVA_OPENCL_FN_clFinish:
	case AVA_OPENCL_FN_clEnqueueReadBuffer:
	case AVA_OPENCL_FN_clEnqueueWriteBuffer:
	case AVA_OPENCL_FN_clEnqueueWriteBufferRect:
	case AVA_OPENCL_FN_clEnqueueFillBuffer:
	case AVA_OPENCL_FN_clEnqueueCopyBuffer:
	case AVA_OPENCL_FN_clEnqueueCopyBufferRect:
	case AVA_OPENCL_FN_clEnqueueCopyImageToBuffer:
	case AVA_OPENCL_FN_clEnqueueNDRangeKernel:
	case AVA_OPENCL_FN_clEnqueueTask:
		/* the rest only keeps host_ptr refreshed */
		if (hostptr_refreshes())
			hostptr_sync(fn_id, args, ret);
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

	(void)api;
	if (fn_id == AVA_OPENCL_FN_clEnqueueMapImage) {
		struct ava_opencl_args_clEnqueueMapImage a =
		    ava_opencl_args_clEnqueueMapImage(args);
		pthread_mutex_lock(&hostptr_lock);
		struct hostptr_obj *o = hostptr_find(*a.image, HOSTPTR_BUFFER);
		size_t offset = o && o->image ? hostptr_image_offset(o, *a.origin) : SIZE_MAX;
		/* laid out at the host's pitches: it fits unless the region is the library's error */
		if (offset != SIZE_MAX && offset <= o->size_bytes &&
		    len_bytes <= o->size_bytes - offset)
			at = o->host + offset;
		pthread_mutex_unlock(&hostptr_lock);
		return at;
	}
	if (fn_id != AVA_OPENCL_FN_clEnqueueMapBuffer)
		return NULL;
	struct ava_opencl_args_clEnqueueMapBuffer a = ava_opencl_args_clEnqueueMapBuffer(args);
	size_t offset = *a.offset;
	pthread_mutex_lock(&hostptr_lock);
	struct hostptr_obj *o = hostptr_find(*a.buffer, HOSTPTR_BUFFER);
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
