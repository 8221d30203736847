/* SPDX-License-Identifier: MIT */
/* Messages, thread ids and native results for the guest runtime (util.h). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static atomic_uint next_thread_id = 1;
static _Thread_local uint32_t tls_thread_id;

bool ava_guestlib_debug(void)
{
	const char *v = getenv("AVA_DEBUG");
	return v && *v && strcmp(v, "0") != 0;
}

void ava_guestlib_say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ava: %s\n", line);
}

uint32_t ava_guestlib_thread_id(void)
{
	if (tls_thread_id == 0)
		tls_thread_id = atomic_fetch_add(&next_thread_id, 1);
	return tls_thread_id;
}

size_t ava_guestlib_value_size(const struct ava_abi_value *v)
{
	switch (v->kind) {
	case AVA_ABI_SCALAR:
		return v->size_bytes;
	case AVA_ABI_HANDLE:
	case AVA_ABI_CALLBACK:
	case AVA_ABI_USERDATA:
	case AVA_ABI_STRING:
	case AVA_ABI_BUFFER:
	case AVA_ABI_MAP:
		return sizeof(void *);
	default:
		return 0;
	}
}

void ava_guestlib_set_error(const struct ava_guestlib_fn *gf, void *const *args, void *ret,
			    unsigned status)
{
	const struct ava_gen_fn_errors *e = &gf->errors;
	if (status >= AVA_STATUS_COUNT)
		status = AVA_STATUS_INTERNAL;
	if (ret) {
		size_t n = ava_guestlib_value_size(&gf->abi->ret);
		if (e->ret && e->ret->on_status[status] && e->ret->size_bytes == n)
			memcpy(ret, e->ret->on_status[status], n);
		else
			memset(ret, 0, n);
	}
	if (e->errcode_arg >= 0 && e->errcode && e->errcode->on_status[status] && args) {
		void *p = *(void *const *)args[e->errcode_arg];
		if (p)
			memcpy(p, e->errcode->on_status[status], e->errcode->size_bytes);
	}
}

void ava_guestlib_set_success(const struct ava_guestlib_fn *gf, void *ret)
{
	if (!ret)
		return;
	size_t n = ava_guestlib_value_size(&gf->abi->ret);
	if (gf->errors.ret && gf->errors.ret->success && gf->errors.ret->size_bytes == n)
		memcpy(ret, gf->errors.ret->success, n);
	else
		memset(ret, 0, n);
}

/*
 * The native value of one type for a dead handle: the argument's own
 * (ava_invalid_handle_error in ava_argument), else the handle type's
 * (ava_invalid_handle_error_of), else the type's BAD_HANDLE value.
 */
static const void *bad_handle_value(const struct ava_gen_errors *t, const void *const *per_arg,
				    const struct ava_guestlib_bad_handle *b)
{
	if (b->arg >= 0 && per_arg && per_arg[b->arg])
		return per_arg[b->arg];
	if (b->arg >= 0 && t->on_bad_handle && b->type < t->n_bad_handle &&
	    t->on_bad_handle[b->type])
		return t->on_bad_handle[b->type];
	return t->on_status[AVA_STATUS_BAD_HANDLE];
}

void ava_guestlib_set_bad_handle(const struct ava_guestlib_fn *gf, void *const *args, void *ret,
				 const struct ava_guestlib_bad_handle *b)
{
	const struct ava_gen_fn_errors *e = &gf->errors;
	ava_guestlib_set_error(gf, args, ret, AVA_STATUS_BAD_HANDLE);
	if (ret && e->ret && e->ret->size_bytes == ava_guestlib_value_size(&gf->abi->ret)) {
		const void *v = bad_handle_value(e->ret, e->arg_bad_handle_ret, b);
		if (v)
			memcpy(ret, v, e->ret->size_bytes);
	}
	if (e->errcode_arg >= 0 && e->errcode && args) {
		void *p = *(void *const *)args[e->errcode_arg];
		const void *v = bad_handle_value(e->errcode, e->arg_bad_handle_errcode, b);
		if (p && v)
			memcpy(p, v, e->errcode->size_bytes);
	}
}

bool ava_guestlib_succeeded(const struct ava_guestlib_fn *gf, void *const *args, const void *ret)
{
	const struct ava_gen_fn_errors *e = &gf->errors;
	const void *errcode = NULL;
	if (e->errcode_arg >= 0 && args)
		errcode = *(void *const *)args[e->errcode_arg];
	return ava_gen_succeeded(gf->abi, e, ret, errcode);
}
