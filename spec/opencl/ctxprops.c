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

#include <ava/abi.h>
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

/* Function ids, looked up by name once (the manifest's order is the header's). */
static uint32_t ctxprops_create = UINT32_MAX, ctxprops_create_from_type = UINT32_MAX,
		ctxprops_get_info = UINT32_MAX;
static uint16_t ctxprops_context_type;
static pthread_once_t ctxprops_once = PTHREAD_ONCE_INIT;

static void ctxprops_resolve(void)
{
	const struct ava_abi_api *abi = ava_gen__opencl__guest_api.abi;

	for (uint32_t i = 0; i < abi->n_fns; i++) {
		const char *name = abi->fns[i].name;
		if (strcmp(name, "clCreateContext") == 0)
			ctxprops_create = i;
		else if (strcmp(name, "clCreateContextFromType") == 0)
			ctxprops_create_from_type = i;
		else if (strcmp(name, "clGetContextInfo") == 0)
			ctxprops_get_info = i;
	}
	if (ctxprops_get_info != UINT32_MAX && abi->fns[ctxprops_get_info].n_args > 0)
		ctxprops_context_type = abi->fns[ctxprops_get_info].args[0].handle_type;
}

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

static void *ctxprops_arg_ptr(void *const *args, unsigned i)
{
	return *(void *const *)args[i];
}

void ava_opencl_ctxprops_observe(const struct ava_guestlib_api *api, uint32_t fn_id,
				 void *const *args, void *ret)
{
	(void)api;
	pthread_once(&ctxprops_once, ctxprops_resolve);
	if (fn_id == ctxprops_create || fn_id == ctxprops_create_from_type) {
		/* errcode_ret is the last argument; success is a non-NULL context */
		void *context = *(void **)ret;
		if (context)
			ctxprops_created(context, ctxprops_arg_ptr(args, 0));
	} else if (fn_id == ctxprops_get_info &&
		   *(const cl_context_info *)args[1] == CL_CONTEXT_PROPERTIES &&
		   *(cl_int *)ret == CL_INVALID_VALUE) {
		ctxprops_answer(ctxprops_arg_ptr(args, 0), *(const size_t *)args[2],
				ctxprops_arg_ptr(args, 3), ctxprops_arg_ptr(args, 4),
				(cl_int *)ret);
	}
}

void ava_opencl_ctxprops_handle_gone(const struct ava_guestlib_api *api, uint16_t handle_type,
				     const void *handle)
{
	(void)api;
	pthread_once(&ctxprops_once, ctxprops_resolve);
	if (!ctxprops_context_type || handle_type != ctxprops_context_type)
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
