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
 *    them itself);
 *  - the wire-only avaclCreateBufferOnSVM (a CL_MEM_USE_HOST_PTR buffer on
 *    SVM memory): CL_INVALID_HOST_PTR for a range outside one allocation,
 *    CL_INVALID_VALUE for flags other than USE_HOST_PTR's; else the
 *    library's buffer on the allocation itself.
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

static void svm_alloc(uint32_t session, ava_apiserver_invoke_fn invoke, void *const *args,
		      void *ret)
{
	struct ava_opencl_args_clSVMAlloc a = ava_opencl_args_clSVMAlloc(args);
	void **p = ava_opencl_ret_clSVMAlloc(ret);
	struct svm_alloc *s = malloc(sizeof(*s));

	*p = NULL;
	if (!s || (*a.flags & (CL_MEM_SVM_FINE_GRAIN_BUFFER | CL_MEM_SVM_ATOMICS))) {
		free(s);
		return;
	}
	invoke(args, ret);
	if (!*p) {
		free(s);
		return;
	}
	s->session = session;
	s->context = *a.context;
	s->base = (uintptr_t)*p;
	s->size_bytes = *a.size;
	pthread_mutex_lock(&svm_lock);
	s->next = svm_allocs;
	svm_allocs = s;
	pthread_mutex_unlock(&svm_lock);
}

/* clEnqueueSVMFree: every pointer must be an allocation of the session. */
static void svm_enqueue_free(uint32_t session, ava_apiserver_invoke_fn invoke, void *const *args,
			     void *ret)
{
	struct ava_opencl_args_clEnqueueSVMFree a = ava_opencl_args_clEnqueueSVMFree(args);
	cl_int *err = ava_opencl_ret_clEnqueueSVMFree(ret);
	cl_uint n = *a.num_svm_pointers;
	void **ptrs = *a.svm_pointers;
	bool callback = *a.pfn_free_func != NULL;

	for (cl_uint i = 0; ptrs && i < n; i++)
		if (ptrs[i] && !svm_is_base(session, ptrs[i])) {
			*err = CL_INVALID_VALUE;
			return;
		}
	invoke(args, ret);
	if (*err != CL_SUCCESS || callback)
		return; /* with a callback the application frees them (clSVMFree) */
	for (cl_uint i = 0; ptrs && i < n; i++)
		(void)svm_forget(session, ptrs[i]);
}

/* clSetKernelExecInfo: the SVM pointers the kernel may use are the session's. */
static void svm_exec_info(uint32_t session, ava_apiserver_invoke_fn invoke, void *const *args,
			  void *ret)
{
	struct ava_opencl_args_clSetKernelExecInfo a = ava_opencl_args_clSetKernelExecInfo(args);
	cl_int *err = ava_opencl_ret_clSetKernelExecInfo(ret);
	cl_kernel_exec_info name = *a.param_name;
	size_t size = *a.param_value_size;
	const unsigned char *value = *a.param_value;

	if (name == CL_KERNEL_EXEC_INFO_SVM_PTRS && value) {
		for (size_t off = 0; off + sizeof(void *) <= size; off += sizeof(void *)) {
			void *p;
			memcpy(&p, value + off, sizeof(p));
			if (!svm_covers(session, p, 0)) {
				*err = CL_INVALID_VALUE;
				return;
			}
		}
	}
	if (name == CL_KERNEL_EXEC_INFO_SVM_FINE_GRAIN_SYSTEM && value && size == sizeof(cl_bool)) {
		cl_bool on;
		memcpy(&on, value, sizeof(on));
		if (on != CL_FALSE) {
			*err = CL_INVALID_OPERATION;
			return;
		}
	}
	invoke(args, ret);
}

static void svm_migrate(uint32_t session, ava_apiserver_invoke_fn invoke, void *const *args,
			void *ret)
{
	struct ava_opencl_args_clEnqueueSVMMigrateMem a =
	    ava_opencl_args_clEnqueueSVMMigrateMem(args);
	cl_uint n = *a.num_svm_pointers;
	const void **ptrs = *a.svm_pointers;
	const size_t *sizes = *a.sizes;

	for (cl_uint i = 0; ptrs && i < n; i++)
		if (ptrs[i] && !svm_covers(session, ptrs[i], sizes ? sizes[i] : 0)) {
			*ava_opencl_ret_clEnqueueSVMMigrateMem(ret) = CL_INVALID_VALUE;
			return;
		}
	invoke(args, ret);
}

/* A range argument: NULL and empty ranges go to the library as they are. */
static bool svm_range_ok(uint32_t session, const void *p, size_t len_bytes)
{
	return !p || len_bytes == 0 || svm_covers(session, p, len_bytes);
}

/*
 * Whether the SVM pointers of a call that only reads or writes SVM memory
 * are the session's; *ret_refuse: the error when they are not.
 */
static bool svm_args_ok(uint32_t session, uint32_t fn_id, void *const *args, cl_int *ret_refuse)
{
	*ret_refuse = CL_INVALID_VALUE;
	switch (fn_id) {
	case AVA_OPENCL_FN_clEnqueueSVMMemcpy: {
		struct ava_opencl_args_clEnqueueSVMMemcpy a =
		    ava_opencl_args_clEnqueueSVMMemcpy(args);
		return svm_range_ok(session, *a.dst_ptr, *a.size) &&
		       svm_range_ok(session, *a.src_ptr, *a.size);
	}
	case AVA_OPENCL_FN_avaclEnqueueSVMRead: {
		struct ava_opencl_args_avaclEnqueueSVMRead a =
		    ava_opencl_args_avaclEnqueueSVMRead(args);
		return svm_range_ok(session, *a.svm_src, *a.size);
	}
	case AVA_OPENCL_FN_avaclEnqueueSVMWrite: {
		struct ava_opencl_args_avaclEnqueueSVMWrite a =
		    ava_opencl_args_avaclEnqueueSVMWrite(args);
		return svm_range_ok(session, *a.svm_dst, *a.size);
	}
	case AVA_OPENCL_FN_clEnqueueSVMMemFill: {
		struct ava_opencl_args_clEnqueueSVMMemFill a =
		    ava_opencl_args_clEnqueueSVMMemFill(args);
		/* PoCL reads a NULL pattern; the specification says CL_INVALID_VALUE */
		return svm_range_ok(session, *a.svm_ptr, *a.size) && *a.pattern != NULL;
	}
	case AVA_OPENCL_FN_clEnqueueSVMMap: {
		struct ava_opencl_args_clEnqueueSVMMap a = ava_opencl_args_clEnqueueSVMMap(args);
		return svm_range_ok(session, *a.svm_ptr, *a.size);
	}
	case AVA_OPENCL_FN_clEnqueueSVMUnmap: {
		struct ava_opencl_args_clEnqueueSVMUnmap a =
		    ava_opencl_args_clEnqueueSVMUnmap(args);
		return svm_range_ok(session, *a.svm_ptr, 1);
	}
	case AVA_OPENCL_FN_clSetKernelArgSVMPointer: {
		struct ava_opencl_args_clSetKernelArgSVMPointer a =
		    ava_opencl_args_clSetKernelArgSVMPointer(args);
		*ret_refuse = CL_INVALID_ARG_VALUE;
		return !*a.arg_value || svm_covers(session, *a.arg_value, 0);
	}
	default:
		return true;
	}
}

/* avaclCreateBufferOnSVM: the buffer's memory must be the session's SVM memory. */
static void svm_create_buffer(uint32_t session, ava_apiserver_invoke_fn invoke, void *const *args,
			      void *ret)
{
	struct ava_opencl_args_avaclCreateBufferOnSVM a =
	    ava_opencl_args_avaclCreateBufferOnSVM(args);
	cl_mem_flags host_flags =
	    CL_MEM_USE_HOST_PTR | CL_MEM_COPY_HOST_PTR | CL_MEM_ALLOC_HOST_PTR;
	cl_int refuse = CL_SUCCESS;

	if ((*a.flags & host_flags) != CL_MEM_USE_HOST_PTR)
		refuse = CL_INVALID_VALUE;
	else if (!*a.svm_ptr || *a.size == 0 || !svm_covers(session, *a.svm_ptr, *a.size))
		refuse = CL_INVALID_HOST_PTR;
	if (refuse == CL_SUCCESS) {
		invoke(args, ret);
		return;
	}
	*ava_opencl_ret_avaclCreateBufferOnSVM(ret) = NULL;
	if (*a.errcode_ret)
		**a.errcode_ret = refuse;
}

void ava_opencl_svm_call_wrapper(uint32_t session, const struct ava_abi_fn *fn,
				 ava_apiserver_invoke_fn invoke, void *const *args, void *ret)
{
	cl_int refuse;

	switch (fn->id) {
	case AVA_OPENCL_FN_clSVMAlloc:
		svm_alloc(session, invoke, args, ret);
		return;
	case AVA_OPENCL_FN_clSVMFree: {
		struct ava_opencl_args_clSVMFree a = ava_opencl_args_clSVMFree(args);
		if (!*a.svm_pointer || svm_forget(session, *a.svm_pointer))
			invoke(args, ret);
		return;
	}
	case AVA_OPENCL_FN_clEnqueueSVMFree:
		svm_enqueue_free(session, invoke, args, ret);
		return;
	case AVA_OPENCL_FN_clSetKernelExecInfo:
		svm_exec_info(session, invoke, args, ret);
		return;
	case AVA_OPENCL_FN_clEnqueueSVMMigrateMem:
		svm_migrate(session, invoke, args, ret);
		return;
	case AVA_OPENCL_FN_avaclCreateBufferOnSVM:
		svm_create_buffer(session, invoke, args, ret);
		return;
	default:
		break;
	}
	if (svm_args_ok(session, fn->id, args, &refuse))
		invoke(args, ret);
	else
		*(cl_int *)ret = refuse; /* each of those returns a cl_int */
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

cl_mem avaclCreateBufferOnSVM(cl_context context, const cl_mem_properties *properties,
			      cl_mem_flags flags, size_t size, void *svm_ptr, cl_int *errcode_ret)
{
	return clCreateBufferWithProperties(context, properties, flags, size, svm_ptr, errcode_ret);
}
