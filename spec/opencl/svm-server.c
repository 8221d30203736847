/* SPDX-License-Identifier: MIT */
/*
 * Coarse-grained SVM on the API server: every SVM pointer a session gives
 * the library is one of its own allocations.
 *
 * spec/opencl.spec passes SVM pointers as their values (the guest reserves
 * the very addresses the library returned, spec/opencl/svm.c), so a tenant
 * could name any address of this process. This source keeps each session's
 * live clSVMAlloc results (context, base, size) and, through the runtime's
 * call wrapper, checks every SVM pointer before the library sees it:
 *
 *  - clSVMAlloc: fine-grained or atomic allocations are refused (NULL, what
 *    a device without them answers: the device reports coarse-grained
 *    buffers only); a successful one is remembered;
 *  - clSVMFree frees only the session's allocations (anything else is left
 *    alone); clEnqueueSVMFree refuses pointers that are none with
 *    CL_INVALID_VALUE, and without a callback forgets them (the library
 *    frees them);
 *  - clSetKernelArgSVMPointer: CL_INVALID_ARG_VALUE for a pointer outside
 *    the session's allocations (NULL passes, as the library allows it);
 *    clSetKernelExecInfo's CL_KERNEL_EXEC_INFO_SVM_PTRS: CL_INVALID_VALUE
 *    for such a pointer; CL_KERNEL_EXEC_INFO_SVM_FINE_GRAIN_SYSTEM CL_TRUE:
 *    CL_INVALID_OPERATION, as for a device without fine-grained system SVM;
 *  - clEnqueueSVMMemcpy, MemFill, Map, Unmap, MigrateMem and the wire-only
 *    avaclEnqueueSVMRead / Write: CL_INVALID_VALUE for a range outside one
 *    allocation (NULL and empty ranges reach the library, which answers
 *    them itself).
 *
 * At session end the allocations left are freed. Thread-safe (one lock,
 * never held across a call of the library).
 */
#define CL_TARGET_OPENCL_VERSION 300
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>

#include <ava/apiserver.h>

#include "ava_opencl.h"
#include "opencl/server.h"
#include "opencl/svm-wire.h"

struct svm_alloc {
	struct svm_alloc *next;
	uint32_t session;
	cl_context context;
	uintptr_t base;
	size_t size_bytes;
};

static pthread_mutex_t svm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct svm_alloc *svm_allocs;

enum svm_fn {
	SVM_OTHER,
	SVM_ALLOC,
	SVM_FREE,
	SVM_ENQUEUE_FREE,
	SVM_MEMCPY,
	SVM_FILL,
	SVM_MAP,
	SVM_UNMAP,
	SVM_ARG,
	SVM_EXEC_INFO,
	SVM_MIGRATE,
	SVM_READ,
	SVM_WRITE,
	SVM_N_FNS,
};

static const char *const svm_fn_names[SVM_N_FNS] = {
	[SVM_ALLOC] = "clSVMAlloc",
	[SVM_FREE] = "clSVMFree",
	[SVM_ENQUEUE_FREE] = "clEnqueueSVMFree",
	[SVM_MEMCPY] = "clEnqueueSVMMemcpy",
	[SVM_FILL] = "clEnqueueSVMMemFill",
	[SVM_MAP] = "clEnqueueSVMMap",
	[SVM_UNMAP] = "clEnqueueSVMUnmap",
	[SVM_ARG] = "clSetKernelArgSVMPointer",
	[SVM_EXEC_INFO] = "clSetKernelExecInfo",
	[SVM_MIGRATE] = "clEnqueueSVMMigrateMem",
	[SVM_READ] = "avaclEnqueueSVMRead",
	[SVM_WRITE] = "avaclEnqueueSVMWrite",
};

/* enum svm_fn + 1 of each function id seen so far (0: not looked up yet). */
#define SVM_MAX_FN_IDS 1024
static _Atomic uint8_t svm_fn_of[SVM_MAX_FN_IDS];

static enum svm_fn svm_which(const struct ava_abi_fn *fn)
{
	if (fn->id < SVM_MAX_FN_IDS && svm_fn_of[fn->id])
		return (enum svm_fn)(svm_fn_of[fn->id] - 1);
	enum svm_fn which = SVM_OTHER;
	for (unsigned k = 1; k < SVM_N_FNS; k++)
		if (strcmp(fn->name, svm_fn_names[k]) == 0)
			which = (enum svm_fn)k;
	if (fn->id < SVM_MAX_FN_IDS)
		svm_fn_of[fn->id] = (uint8_t)(which + 1);
	return which;
}

/*
 * Does [p, p + len_bytes) lie inside one allocation of session? len_bytes
 * 0: p itself does.
 */
static bool svm_covers(uint32_t session, const void *p, size_t len_bytes)
{
	uintptr_t a = (uintptr_t)p;
	bool ok = false;

	pthread_mutex_lock(&svm_lock);
	for (struct svm_alloc *s = svm_allocs; s && !ok; s = s->next)
		ok = s->session == session && a >= s->base && a - s->base < s->size_bytes &&
		     len_bytes <= s->size_bytes - (a - s->base);
	pthread_mutex_unlock(&svm_lock);
	return ok;
}

/* Forgets the session's allocation at base; returns whether there was one. */
static bool svm_forget(uint32_t session, const void *base)
{
	struct svm_alloc *gone = NULL;

	pthread_mutex_lock(&svm_lock);
	for (struct svm_alloc **pp = &svm_allocs; *pp; pp = &(*pp)->next)
		if ((*pp)->session == session && (*pp)->base == (uintptr_t)base) {
			gone = *pp;
			*pp = gone->next;
			break;
		}
	pthread_mutex_unlock(&svm_lock);
	free(gone);
	return gone != NULL;
}

/* Is base the start of one of the session's allocations? */
static bool svm_is_base(uint32_t session, const void *base)
{
	bool ok = false;

	pthread_mutex_lock(&svm_lock);
	for (struct svm_alloc *s = svm_allocs; s && !ok; s = s->next)
		ok = s->session == session && s->base == (uintptr_t)base;
	pthread_mutex_unlock(&svm_lock);
	return ok;
}

static void *svm_arg_ptr(void *const *args, unsigned i)
{
	return *(void *const *)args[i];
}

static void svm_alloc(uint32_t session, ava_apiserver_invoke_fn invoke, void *const *args,
		      void *ret)
{
	cl_svm_mem_flags flags = *(const cl_svm_mem_flags *)args[1];
	struct svm_alloc *a = malloc(sizeof(*a));

	*(void **)ret = NULL;
	if (!a || (flags & (CL_MEM_SVM_FINE_GRAIN_BUFFER | CL_MEM_SVM_ATOMICS))) {
		free(a);
		return;
	}
	invoke(args, ret);
	if (!*(void **)ret) {
		free(a);
		return;
	}
	a->session = session;
	a->context = svm_arg_ptr(args, 0);
	a->base = (uintptr_t) * (void **)ret;
	a->size_bytes = *(const size_t *)args[2];
	pthread_mutex_lock(&svm_lock);
	a->next = svm_allocs;
	svm_allocs = a;
	pthread_mutex_unlock(&svm_lock);
}

/* clEnqueueSVMFree: every pointer must be an allocation of the session. */
static void svm_enqueue_free(uint32_t session, ava_apiserver_invoke_fn invoke, void *const *args,
			     void *ret)
{
	cl_uint n = *(const cl_uint *)args[1];
	void **ptrs = svm_arg_ptr(args, 2);
	bool callback = svm_arg_ptr(args, 3) != NULL;

	for (cl_uint i = 0; ptrs && i < n; i++)
		if (ptrs[i] && !svm_is_base(session, ptrs[i])) {
			*(cl_int *)ret = CL_INVALID_VALUE;
			return;
		}
	invoke(args, ret);
	if (*(cl_int *)ret != CL_SUCCESS || callback)
		return; /* with a callback the application frees them (clSVMFree) */
	for (cl_uint i = 0; ptrs && i < n; i++)
		(void)svm_forget(session, ptrs[i]);
}

/* clSetKernelExecInfo: the SVM pointers the kernel may use are the session's. */
static void svm_exec_info(uint32_t session, ava_apiserver_invoke_fn invoke, void *const *args,
			  void *ret)
{
	cl_kernel_exec_info name = *(const cl_kernel_exec_info *)args[1];
	size_t size = *(const size_t *)args[2];
	const unsigned char *value = svm_arg_ptr(args, 3);

	if (name == CL_KERNEL_EXEC_INFO_SVM_PTRS && value) {
		for (size_t off = 0; off + sizeof(void *) <= size; off += sizeof(void *)) {
			void *p;
			memcpy(&p, value + off, sizeof(p));
			if (!svm_covers(session, p, 0)) {
				*(cl_int *)ret = CL_INVALID_VALUE;
				return;
			}
		}
	}
	if (name == CL_KERNEL_EXEC_INFO_SVM_FINE_GRAIN_SYSTEM && value && size == sizeof(cl_bool)) {
		cl_bool on;
		memcpy(&on, value, sizeof(on));
		if (on != CL_FALSE) {
			*(cl_int *)ret = CL_INVALID_OPERATION;
			return;
		}
	}
	invoke(args, ret);
}

static void svm_migrate(uint32_t session, ava_apiserver_invoke_fn invoke, void *const *args,
			void *ret)
{
	cl_uint n = *(const cl_uint *)args[1];
	const void **ptrs = svm_arg_ptr(args, 2);
	const size_t *sizes = svm_arg_ptr(args, 3);

	for (cl_uint i = 0; ptrs && i < n; i++)
		if (ptrs[i] && !svm_covers(session, ptrs[i], sizes ? sizes[i] : 0)) {
			*(cl_int *)ret = CL_INVALID_VALUE;
			return;
		}
	invoke(args, ret);
}

/* A range argument: NULL and empty ranges go to the library as they are. */
static bool svm_range_ok(uint32_t session, const void *p, size_t len_bytes)
{
	return !p || len_bytes == 0 || svm_covers(session, p, len_bytes);
}

void ava_opencl_svm_call_wrapper(uint32_t session, const struct ava_abi_fn *fn,
				 ava_apiserver_invoke_fn invoke, void *const *args, void *ret)
{
	bool ok = true;
	cl_int refuse = CL_INVALID_VALUE;

	switch (svm_which(fn)) {
	case SVM_ALLOC:
		svm_alloc(session, invoke, args, ret);
		return;
	case SVM_FREE:
		if (!svm_arg_ptr(args, 1) || svm_forget(session, svm_arg_ptr(args, 1)))
			invoke(args, ret);
		return;
	case SVM_ENQUEUE_FREE:
		svm_enqueue_free(session, invoke, args, ret);
		return;
	case SVM_EXEC_INFO:
		svm_exec_info(session, invoke, args, ret);
		return;
	case SVM_MIGRATE:
		svm_migrate(session, invoke, args, ret);
		return;
	case SVM_MEMCPY: {
		size_t size = *(const size_t *)args[4];
		ok = svm_range_ok(session, svm_arg_ptr(args, 2), size) &&
		     svm_range_ok(session, svm_arg_ptr(args, 3), size);
		break;
	}
	case SVM_READ:
		ok = svm_range_ok(session, svm_arg_ptr(args, 3), *(const size_t *)args[4]);
		break;
	case SVM_WRITE:
		ok = svm_range_ok(session, svm_arg_ptr(args, 2), *(const size_t *)args[4]);
		break;
	case SVM_FILL:
		/* PoCL reads a NULL pattern; the specification says CL_INVALID_VALUE */
		ok = svm_range_ok(session, svm_arg_ptr(args, 1), *(const size_t *)args[4]) &&
		     svm_arg_ptr(args, 2) != NULL;
		break;
	case SVM_MAP:
		ok = svm_range_ok(session, svm_arg_ptr(args, 3), *(const size_t *)args[4]);
		break;
	case SVM_UNMAP:
		ok = svm_range_ok(session, svm_arg_ptr(args, 1), 1);
		break;
	case SVM_ARG:
		ok = !svm_arg_ptr(args, 2) || svm_covers(session, svm_arg_ptr(args, 2), 0);
		refuse = CL_INVALID_ARG_VALUE;
		break;
	default:
		break;
	}
	if (ok)
		invoke(args, ret);
	else
		*(cl_int *)ret = refuse;
}

/* What the session did not free: freed now, while its contexts still live. */
void ava_opencl_svm_session_end(uint32_t session)
{
	for (;;) {
		struct svm_alloc *gone = NULL;
		pthread_mutex_lock(&svm_lock);
		for (struct svm_alloc **pp = &svm_allocs; *pp; pp = &(*pp)->next)
			if ((*pp)->session == session) {
				gone = *pp;
				*pp = gone->next;
				break;
			}
		pthread_mutex_unlock(&svm_lock);
		if (!gone)
			return;
		clSVMFree(gone->context, (void *)gone->base);
		free(gone);
	}
}

cl_int avaclEnqueueSVMRead(cl_command_queue command_queue, cl_bool blocking, void *dst,
			   const void *svm_src, size_t size, cl_uint num_events_in_wait_list,
			   const cl_event *event_wait_list, cl_event *event)
{
	return clEnqueueSVMMemcpy(command_queue, blocking, dst, svm_src, size,
				  num_events_in_wait_list, event_wait_list, event);
}

cl_int avaclEnqueueSVMWrite(cl_command_queue command_queue, cl_bool blocking, void *svm_dst,
			    const void *src, size_t size, cl_uint num_events_in_wait_list,
			    const cl_event *event_wait_list, cl_event *event)
{
	return clEnqueueSVMMemcpy(command_queue, blocking, svm_dst, src, size,
				  num_events_in_wait_list, event_wait_list, event);
}
