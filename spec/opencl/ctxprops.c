/* SPDX-License-Identifier: MIT */
/*
 * clGetContextInfo(CL_CONTEXT_PROPERTIES), answered in the guest.
 *
 * OpenCL returns the property list the context was created with, "in the
 * same order and without including additional properties", or nothing
 * (param_value_size_ret 0) when it was created with NULL properties. The
 * list holds the application's own handles (CL_CONTEXT_PLATFORM's value),
 * which the server knows only as its library's pointers, and the guest
 * cannot tell which words of an arbitrary list are handles. But the guest
 * saw the list go by: this source keeps a copy of each live context's list
 * from a successful clCreateContext / clCreateContextFromType, and when the
 * server (whose spec entry asks the library for parameter 0 instead, so
 * that no server pointer comes back) has answered CL_INVALID_VALUE for a
 * CL_CONTEXT_PROPERTIES query, gives the application the copy with the
 * errors a library would give (too small a buffer: CL_INVALID_VALUE). The
 * copy goes when the guest's last reference to the context does.
 */
#define CL_TARGET_OPENCL_VERSION 300
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>

#include <ava/guestlib.h>

#include "ava_opencl.h"
#include "opencl/guest.h"

/* Longest list kept (key/value pairs and the terminating 0); longer ones are not answered. */
#define CTXPROPS_MAX_WORDS 1024

struct ctxprops {
	struct ctxprops *next;
	const void *context;
	size_t n_words; /* 0: created with NULL properties */
	cl_context_properties words[];
};

static pthread_mutex_t ctxprops_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctxprops *ctxprops_list;

/* Remembers a new context's properties (NULL: none). Out of memory: not answered later. */
static void ctxprops_created(const void *context, const cl_context_properties *props)
{
	size_t n = 0;

	if (props) {
		while (n < CTXPROPS_MAX_WORDS && props[n] != 0)
			n += 2;
		if (n >= CTXPROPS_MAX_WORDS)
			return;
		n++; /* the terminating 0 */
	}
	struct ctxprops *e = malloc(sizeof(*e) + n * sizeof(e->words[0]));
	if (!e)
		return;
	e->context = context;
	e->n_words = n;
	if (n)
		memcpy(e->words, props, n * sizeof(e->words[0]));
	pthread_mutex_lock(&ctxprops_lock);
	e->next = ctxprops_list;
	ctxprops_list = e;
	pthread_mutex_unlock(&ctxprops_lock);
}

/* The CL_CONTEXT_PROPERTIES answer for context, as the library would give it. */
static void ctxprops_answer(const void *context, size_t size, void *value, size_t *size_ret,
			    cl_int *ret)
{
	pthread_mutex_lock(&ctxprops_lock);
	const struct ctxprops *e = ctxprops_list;
	while (e && e->context != context)
		e = e->next;
	if (e) {
		size_t bytes = e->n_words * sizeof(e->words[0]);
		if (value && size < bytes) {
			*ret = CL_INVALID_VALUE;
		} else {
			if (value && bytes)
				memcpy(value, e->words, bytes);
			if (size_ret)
				*size_ret = bytes;
			*ret = CL_SUCCESS;
		}
	}
	pthread_mutex_unlock(&ctxprops_lock);
}

void ava_opencl_ctxprops_observe(const struct ava_guestlib_api *api, uint32_t fn_id,
				 void *const *args, void *ret)
{
	(void)api;
	switch (fn_id) {
	case AVA_OPENCL_FN_clCreateContext: {
		/* success is a non-NULL context */
		cl_context context = *ava_opencl_ret_clCreateContext(ret);
		if (context)
			ctxprops_created(context,
					 *ava_opencl_args_clCreateContext(args).properties);
		return;
	}
	case AVA_OPENCL_FN_clCreateContextFromType: {
		cl_context context = *ava_opencl_ret_clCreateContextFromType(ret);
		if (context)
			ctxprops_created(context,
					 *ava_opencl_args_clCreateContextFromType(args).properties);
		return;
	}
	case AVA_OPENCL_FN_clGetContextInfo: {
		struct ava_opencl_args_clGetContextInfo a = ava_opencl_args_clGetContextInfo(args);
		cl_int *err = ava_opencl_ret_clGetContextInfo(ret);
		if (*a.param_name == CL_CONTEXT_PROPERTIES && *err == CL_INVALID_VALUE)
			ctxprops_answer(*a.context, *a.param_value_size, *a.param_value,
					*a.param_value_size_ret, err);
		return;
	}
	default:
		return;
	}
}

void ava_opencl_ctxprops_handle_gone(const struct ava_guestlib_api *api, uint16_t handle_type,
				     const void *handle)
{
	(void)api;
	if (handle_type != AVA_OPENCL_HANDLE_cl_context)
		return;
	pthread_mutex_lock(&ctxprops_lock);
	struct ctxprops **pp = &ctxprops_list;
	while (*pp && (*pp)->context != handle)
		pp = &(*pp)->next;
	struct ctxprops *e = *pp;
	if (e)
		*pp = e->next;
	pthread_mutex_unlock(&ctxprops_lock);
	free(e);
}

/* A forked child has none of the parent's contexts, and maybe a lock held by a parent thread. */
static void ctxprops_atfork_child(void)
{
	pthread_mutex_init(&ctxprops_lock, NULL);
	while (ctxprops_list) {
		struct ctxprops *e = ctxprops_list;
		ctxprops_list = e->next;
		free(e);
	}
}

__attribute__((constructor)) static void ctxprops_init(void)
{
	pthread_atfork(NULL, NULL, ctxprops_atfork_child);
}
