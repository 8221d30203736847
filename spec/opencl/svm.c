/* SPDX-License-Identifier: MIT */
/*
 * Coarse-grained SVM in the guest: an SVM pointer is the very address the
 * server's library allocated, so it works as it is in kernels and inside
 * SVM data structures (a linked list of SVM nodes).
 *
 *  - clSVMAlloc: the server's allocation is answered with its address
 *    (ava_opaque); the guest reserves the pages of that range in the
 *    application (anonymous, read-write, MAP_FIXED_NOREPLACE). Allocations
 *    of the library share pages (PoCL allocates from its heap), so a page
 *    another live allocation already reserved is not reserved again, and
 *    freeing unmaps only the pages no live allocation covers. When the
 *    range is taken in the application, the allocation is held, another
 *    one tried (a few times), and the held ones freed on the server: NULL
 *    (an allocation failure) only when every try collided.
 *  - The guest's range is the application's view of the allocation, and
 *    the bytes travel at coarse-grained SVM's synchronisation points:
 *    clEnqueueSVMMap of a session range that is readable (not
 *    CL_MAP_WRITE_INVALIDATE_REGION) first enqueues an avaclEnqueueSVMRead
 *    of the region into the guest's range, which the map waits for (its
 *    bytes arrive before the map's event reports completion);
 *    clEnqueueSVMUnmap of a writable map (CL_MAP_WRITE, INVALIDATE, or no
 *    CL_MAP_READ) first enqueues an avaclEnqueueSVMWrite of the region's
 *    bytes, which the unmap waits for. clEnqueueSVMMemcpy with a host side
 *    becomes avaclEnqueueSVMRead (SVM to host) or avaclEnqueueSVMWrite
 *    (host to SVM); SVM to SVM goes as it is; host to host is done here,
 *    once the wait list is complete (a marker's event stands for it).
 *  - clSVMFree, and clEnqueueSVMFree without a callback, unmap the range
 *    (with a callback, the application frees them in it).
 *  - clCreateBuffer and clCreateBufferWithProperties with CL_MEM_USE_HOST_PTR
 *    (alone of the host-pointer flags) on a range inside one live allocation
 *    become avaclCreateBufferOnSVM: the server's buffer is made on its own
 *    allocation at that address, so the buffer and the SVM pointer share
 *    the memory, as natively (a copy, as for other host memory, would not
 *    see the SVM pointer's writes, nor they the buffer's).
 *
 * Which pointer is SVM is decided by its start: one inside a live
 * allocation of this process is; the server checks the whole range.
 * Thread-safe: one lock over the tables, never held across a call. A
 * forked child forgets the parent's allocations (its session has none).
 */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 300
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CL/cl.h>

#include <ava/guestlib.h>

#include "ava_opencl.h"
#include "opencl/guest.h"
#include "opencl/svm-wire.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* How many server allocations one clSVMAlloc tries before it answers NULL. */
#define SVM_ALLOC_TRIES 4

struct svm_range {
	uintptr_t base;
	size_t size_bytes;
};

struct svm_map {
	struct svm_map *next;
	uintptr_t ptr;
	size_t size_bytes;
	bool writable;
};

static pthread_mutex_t svm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct svm_range *svm_ranges; /* live allocations, sorted by base */
static size_t svm_n_ranges, svm_cap_ranges;
static struct svm_map *svm_maps; /* open maps of session ranges, newest first */
static uintptr_t svm_page_mask;

static uintptr_t svm_page_down(uintptr_t a)
{
	return a & ~svm_page_mask;
}

static uintptr_t svm_page_up(uintptr_t a)
{
	return (a + svm_page_mask) & ~svm_page_mask;
}

/* Index of the first range whose base is above a. Caller holds the lock. */
static size_t svm_upper(uintptr_t a)
{
	size_t lo = 0, hi = svm_n_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (svm_ranges[mid].base <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Does [p, p + len_bytes) lie inside one live allocation? */
static bool svm_covers(const void *p, size_t len_bytes)
{
	uintptr_t a = (uintptr_t)p;

	if (!p)
		return false;
	pthread_mutex_lock(&svm_lock);
	size_t i = svm_upper(a);
	bool ours = i > 0 && a - svm_ranges[i - 1].base < svm_ranges[i - 1].size_bytes &&
		    len_bytes <= svm_ranges[i - 1].size_bytes - (a - svm_ranges[i - 1].base);
	pthread_mutex_unlock(&svm_lock);
	return ours;
}

/* Is p inside a live allocation? */
static bool svm_is_ours(const void *p)
{
	return svm_covers(p, 0);
}

/* A USE_HOST_PTR buffer creator's flags and memory: is it one on SVM memory? */
static bool svm_backs(cl_mem_flags flags, size_t size, const void *host_ptr)
{
	cl_mem_flags host_flags =
	    CL_MEM_USE_HOST_PTR | CL_MEM_COPY_HOST_PTR | CL_MEM_ALLOC_HOST_PTR;

	return (flags & host_flags) == CL_MEM_USE_HOST_PTR && size && svm_covers(host_ptr, size);
}

/*
 * The pages of the range [base, base + size_bytes) that the neighbours of
 * slot i (the range's place in the sorted table, the range itself not in
 * it) do not cover. Caller holds the lock.
 */
static void svm_own_pages(size_t i, uintptr_t base, size_t size_bytes, uintptr_t *ret_lo,
			  uintptr_t *ret_hi)
{
	uintptr_t lo = svm_page_down(base), hi = svm_page_up(base + size_bytes);

	if (i > 0) {
		const struct svm_range *pred = &svm_ranges[i - 1];
		uintptr_t pred_hi = svm_page_up(pred->base + pred->size_bytes);
		if (pred_hi > lo)
			lo = pred_hi;
	}
	if (i < svm_n_ranges) {
		uintptr_t succ_lo = svm_page_down(svm_ranges[i].base);
		if (succ_lo < hi)
			hi = succ_lo;
	}
	*ret_lo = lo;
	*ret_hi = hi;
}

/* Reserves the range of a new allocation in this process; 0 or -EEXIST, -ENOMEM. */
static int svm_reserve(void *p, size_t size_bytes)
{
	uintptr_t base = (uintptr_t)p, lo, hi;
	int r = 0;

	if (base + size_bytes < base)
		return -EEXIST;
	pthread_mutex_lock(&svm_lock);
	size_t i = svm_upper(base);
	bool overlaps = (i > 0 && svm_ranges[i - 1].base + svm_ranges[i - 1].size_bytes > base) ||
			(i < svm_n_ranges && svm_ranges[i].base < base + size_bytes);
	if (overlaps) {
		r = -EEXIST; /* not the library's: never two live allocations in one place */
		goto out;
	}
	if (svm_n_ranges == svm_cap_ranges) {
		size_t cap = svm_cap_ranges ? 2 * svm_cap_ranges : 64;
		struct svm_range *grown = realloc(svm_ranges, cap * sizeof(*grown));
		if (!grown) {
			r = -ENOMEM;
			goto out;
		}
		svm_ranges = grown;
		svm_cap_ranges = cap;
	}
	svm_own_pages(i, base, size_bytes, &lo, &hi);
	if (lo < hi) {
		void *at = mmap((void *)lo, hi - lo, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (at == MAP_FAILED || at != (void *)lo) {
			if (at != MAP_FAILED) /* a kernel that took the flag for a hint */
				munmap(at, hi - lo);
			r = -EEXIST;
			goto out;
		}
	}
	memmove(&svm_ranges[i + 1], &svm_ranges[i], (svm_n_ranges - i) * sizeof(*svm_ranges));
	svm_ranges[i] = (struct svm_range){ .base = base, .size_bytes = size_bytes };
	svm_n_ranges++;
out:
	pthread_mutex_unlock(&svm_lock);
	return r;
}

/* Forgets the allocation at p and unmaps the pages no other one covers; false: none there. */
static bool svm_release(const void *p)
{
	uintptr_t base = (uintptr_t)p, lo = 0, hi = 0;
	bool found = false;

	pthread_mutex_lock(&svm_lock);
	size_t i = svm_upper(base);
	if (i > 0 && svm_ranges[i - 1].base == base) {
		size_t size = svm_ranges[i - 1].size_bytes;
		found = true;
		i--;
		memmove(&svm_ranges[i], &svm_ranges[i + 1],
			(svm_n_ranges - i - 1) * sizeof(*svm_ranges));
		svm_n_ranges--;
		svm_own_pages(i, base, size, &lo, &hi);
		if (lo < hi)
			munmap((void *)lo, hi - lo);
		/* its maps are gone too */
		for (struct svm_map **pp = &svm_maps; *pp;) {
			struct svm_map *m = *pp;
			if (m->ptr - base < size) {
				*pp = m->next;
				free(m);
			} else {
				pp = &m->next;
			}
		}
	}
	pthread_mutex_unlock(&svm_lock);
	return found;
}

/* clSVMAlloc: the server's address, reserved here too, or NULL. */
static void *svm_alloc(cl_context context, cl_svm_mem_flags flags, size_t size, cl_uint alignment)
{
	void *held[SVM_ALLOC_TRIES];
	unsigned n_held = 0;
	void *p = NULL;

	while (n_held < SVM_ALLOC_TRIES) {
		p = clSVMAlloc(context, flags, size, alignment);
		if (!p || svm_reserve(p, size) == 0)
			break;
		held[n_held++] = p; /* taken here: kept until another address is tried */
		p = NULL;
	}
	for (unsigned k = 0; k < n_held; k++)
		clSVMFree(context, held[k]);
	return p;
}

/* An event for the guest's own step that a command waits for: released once enqueued. */
static void svm_drop_event(cl_event e)
{
	if (e)
		(void)clReleaseEvent(e);
}

static cl_int svm_map(cl_command_queue q, cl_bool blocking, cl_map_flags flags, void *ptr,
		      size_t size, cl_uint n, const cl_event *wl, cl_event *event)
{
	struct svm_map *m = malloc(sizeof(*m));
	cl_event read = NULL;
	cl_int err;

	if (!m)
		return CL_OUT_OF_HOST_MEMORY;
	if (!(flags & CL_MAP_WRITE_INVALIDATE_REGION)) {
		err = avaclEnqueueSVMRead(q, CL_FALSE, ptr, ptr, size, n, wl, &read);
		if (err != CL_SUCCESS) {
			free(m);
			return err;
		}
		n = 1;
		wl = &read;
	}
	err = clEnqueueSVMMap(q, blocking, flags, ptr, size, n, wl, event);
	svm_drop_event(read);
	if (err != CL_SUCCESS) {
		free(m);
		return err;
	}
	m->ptr = (uintptr_t)ptr;
	m->size_bytes = size;
	m->writable =
	    (flags & (CL_MAP_WRITE | CL_MAP_WRITE_INVALIDATE_REGION)) || !(flags & CL_MAP_READ);
	pthread_mutex_lock(&svm_lock);
	m->next = svm_maps;
	svm_maps = m;
	pthread_mutex_unlock(&svm_lock);
	return CL_SUCCESS;
}

static cl_int svm_unmap(cl_command_queue q, void *ptr, cl_uint n, const cl_event *wl,
			cl_event *event)
{
	struct svm_map *m = NULL;
	cl_event write = NULL;
	cl_int err;

	pthread_mutex_lock(&svm_lock);
	for (struct svm_map **pp = &svm_maps; *pp; pp = &(*pp)->next)
		if ((*pp)->ptr == (uintptr_t)ptr) {
			m = *pp;
			*pp = m->next; /* taken: another thread's unmap of it finds none */
			break;
		}
	pthread_mutex_unlock(&svm_lock);
	if (m && m->writable) {
		err = avaclEnqueueSVMWrite(q, CL_FALSE, ptr, ptr, m->size_bytes, n, wl, &write);
		if (err != CL_SUCCESS)
			goto put_back;
		n = 1;
		wl = &write;
	}
	err = clEnqueueSVMUnmap(q, ptr, n, wl, event);
	svm_drop_event(write);
	if (err == CL_SUCCESS || !m) {
		free(m);
		return err;
	}
put_back:
	pthread_mutex_lock(&svm_lock);
	m->next = svm_maps;
	svm_maps = m;
	pthread_mutex_unlock(&svm_lock);
	return err;
}

/* Host to host: done here once the wait list is complete (as PoCL, overlap refused). */
static cl_int svm_host_copy(cl_command_queue q, void *dst, const void *src, size_t size, cl_uint n,
			    const cl_event *wl, cl_event *event)
{
	uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;
	cl_event marker = NULL;

	if ((d <= s && s - d < size) || (s < d && d - s < size))
		return CL_MEM_COPY_OVERLAP;
	cl_int err = clEnqueueMarkerWithWaitList(q, n, wl, &marker);
	if (err == CL_SUCCESS)
		err = clWaitForEvents(1, &marker);
	if (err == CL_SUCCESS)
		memcpy(dst, src, size);
	if (err == CL_SUCCESS && event)
		*event = marker;
	else
		svm_drop_event(marker);
	return err;
}

int ava_opencl_svm_filter(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
			  void *ret)
{
	(void)api;
	switch (fn_id) {
	case AVA_OPENCL_FN_clSVMAlloc: {
		struct ava_opencl_args_clSVMAlloc a = ava_opencl_args_clSVMAlloc(args);
		*ava_opencl_ret_clSVMAlloc(ret) =
		    svm_alloc(*a.context, *a.flags, *a.size, *a.alignment);
		return 1;
	}
	case AVA_OPENCL_FN_clCreateBuffer: {
		struct ava_opencl_args_clCreateBuffer a = ava_opencl_args_clCreateBuffer(args);
		if (!svm_backs(*a.flags, *a.size, *a.host_ptr))
			return 0;
		*ava_opencl_ret_clCreateBuffer(ret) = avaclCreateBufferOnSVM(
		    *a.context, NULL, *a.flags, *a.size, *a.host_ptr, *a.errcode_ret);
		return 1;
	}
	case AVA_OPENCL_FN_clCreateBufferWithProperties: {
		struct ava_opencl_args_clCreateBufferWithProperties a =
		    ava_opencl_args_clCreateBufferWithProperties(args);
		if (!svm_backs(*a.flags, *a.size, *a.host_ptr))
			return 0;
		*ava_opencl_ret_clCreateBufferWithProperties(ret) = avaclCreateBufferOnSVM(
		    *a.context, *a.properties, *a.flags, *a.size, *a.host_ptr, *a.errcode_ret);
		return 1;
	}
	case AVA_OPENCL_FN_clSVMFree: {
		struct ava_opencl_args_clSVMFree a = ava_opencl_args_clSVMFree(args);
		void *p = *a.svm_pointer;
		if (p && !svm_is_ours(p))
			return 1; /* nothing of the session's: the server would leave it alone */
		clSVMFree(*a.context, p);
		if (p)
			(void)svm_release(p);
		return 1;
	}
	case AVA_OPENCL_FN_clEnqueueSVMFree: {
		struct ava_opencl_args_clEnqueueSVMFree a = ava_opencl_args_clEnqueueSVMFree(args);
		cl_uint n = *a.num_svm_pointers;
		void **ptrs = *a.svm_pointers;
		cl_int err =
		    clEnqueueSVMFree(*a.command_queue, n, ptrs, *a.pfn_free_func, *a.user_data,
				     *a.num_events_in_wait_list, *a.event_wait_list, *a.event);
		/* without a callback the library frees them: the application may not touch them */
		for (cl_uint i = 0; err == CL_SUCCESS && !*a.pfn_free_func && ptrs && i < n; i++)
			(void)svm_release(ptrs[i]);
		*ava_opencl_ret_clEnqueueSVMFree(ret) = err;
		return 1;
	}
	case AVA_OPENCL_FN_clEnqueueSVMMemcpy: {
		struct ava_opencl_args_clEnqueueSVMMemcpy a =
		    ava_opencl_args_clEnqueueSVMMemcpy(args);
		void *dst = *a.dst_ptr;
		const void *src = *a.src_ptr;
		size_t size = *a.size;
		bool d = svm_is_ours(dst), s = svm_is_ours(src);
		cl_command_queue q = *a.command_queue;
		cl_bool blocking = *a.blocking_copy;
		cl_uint n = *a.num_events_in_wait_list;
		const cl_event *wl = *a.event_wait_list;
		cl_event *event = *a.event;
		cl_int *err = ava_opencl_ret_clEnqueueSVMMemcpy(ret);
		if (!dst || !src || size == 0 || (d && s))
			return 0; /* the library's answer */
		if (s)
			*err = avaclEnqueueSVMRead(q, blocking, dst, src, size, n, wl, event);
		else if (d)
			*err = avaclEnqueueSVMWrite(q, blocking, dst, src, size, n, wl, event);
		else
			*err = svm_host_copy(q, dst, src, size, n, wl, event);
		return 1;
	}
	case AVA_OPENCL_FN_clEnqueueSVMMap: {
		struct ava_opencl_args_clEnqueueSVMMap a = ava_opencl_args_clEnqueueSVMMap(args);
		if (!svm_is_ours(*a.svm_ptr) || *a.size == 0)
			return 0; /* the library's (or the server's) answer */
		*ava_opencl_ret_clEnqueueSVMMap(ret) =
		    svm_map(*a.command_queue, *a.blocking_map, *a.flags, *a.svm_ptr, *a.size,
			    *a.num_events_in_wait_list, *a.event_wait_list, *a.event);
		return 1;
	}
	case AVA_OPENCL_FN_clEnqueueSVMUnmap: {
		struct ava_opencl_args_clEnqueueSVMUnmap a =
		    ava_opencl_args_clEnqueueSVMUnmap(args);
		if (!svm_is_ours(*a.svm_ptr))
			return 0;
		*ava_opencl_ret_clEnqueueSVMUnmap(ret) =
		    svm_unmap(*a.command_queue, *a.svm_ptr, *a.num_events_in_wait_list,
			      *a.event_wait_list, *a.event);
		return 1;
	}
	default:
		return 0;
	}
}

/*
 * A forked child's session has none of the parent's allocations: it
 * forgets them (their pages stay, plain memory of the child), and the lock
 * a parent thread may have held.
 */
static void svm_atfork_child(void)
{
	pthread_mutex_init(&svm_lock, NULL);
	free(svm_ranges);
	svm_ranges = NULL;
	svm_n_ranges = svm_cap_ranges = 0;
	while (svm_maps) {
		struct svm_map *m = svm_maps;
		svm_maps = m->next;
		free(m);
	}
}

__attribute__((constructor)) static void svm_init(void)
{
	long page = sysconf(_SC_PAGESIZE);

	svm_page_mask = (uintptr_t)(page > 0 ? page : 4096) - 1;
	pthread_atfork(NULL, NULL, svm_atfork_child);
}
