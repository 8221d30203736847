/* SPDX-License-Identifier: MIT */
/* Blobs buffers: the sizing call, the capacities, the blobs (blob.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "call.h"
#include "util.h"

/*
 * The sizing call of blobs buffer i: the same function, with the spec's
 * sizing argument set to its value and buffer i an array of one size_t per
 * pointer (sizes). Prepared and exchanged like any call, but as a step of
 * this one: not through ava_guestlib_call, so no hook sees it and it makes
 * no sizing call of its own (call->sizing). Returns 0, or -1 when it failed:
 * its error is then in ret and the errcode, as the real call would have
 * answered.
 */
static int sizing_call(struct ava_guestlib_call *call, unsigned i, size_t *sizes)
{
	const struct ava_abi_fn *fn = call->fn;
	const struct ava_gen_plan *plan = &call->plan;
	const struct ava_abi_value *sv = &fn->args[plan->blobs_arg[i] - 1];
	uint8_t value[AVA_ABI_MAX_SCALAR_BYTES] = { 0 };
	void *args[AVA_ABI_MAX_ARGS];
	void *sizes_ptr = sizes;

	for (unsigned k = 0; k < sv->size_bytes && k < 8; k++)
		value[k] = (uint8_t)(plan->blobs_value[i] >> (8 * k));
	memcpy(args, call->args, fn->n_args * sizeof(*args));
	args[plan->blobs_arg[i] - 1] = value;
	args[i] = &sizes_ptr;

	struct ava_guestlib_call *sizing =
	    ava_guestlib_call_new(call->api, call->fn_id, args, call->ret, true);
	if (!sizing) {
		ava_guestlib_set_error(call->gf, args, call->ret, AVA_STATUS_NO_MEMORY);
		return -1;
	}
	if (ava_guestlib_call_prepare(sizing) == 0)
		(void)ava_guestlib_call_exchange(sizing);
	ava_guestlib_call_finish(sizing);
	ava_guestlib_call_free(sizing);

	const struct ava_gen_errors *e = call->gf->errors.ret;
	if (call->ret && e && e->success && memcmp(call->ret, e->success, e->size_bytes) != 0)
		return -1;
	return 0;
}

/*
 * Argument i is, this time, an array of pointers to the caller's byte
 * buffers: learns each buffer's size with its sizing call, into
 * call->blob_caps[i] (0 for a NULL pointer). Returns 0 or -1 (see
 * ava_guestlib_blob_sizes).
 */
static int capacities(struct ava_guestlib_call *call, unsigned i)
{
	void *const *ptrs = *(void *const *)call->args[i];
	size_t n = (size_t)(call->plan.count[i] * call->fn->args[i].size_bytes / 8);
	size_t *sizes = NULL;
	int r = -1;

	call->blob_caps[i] = calloc(n ? n : 1, sizeof(uint64_t));
	sizes = calloc(n ? n : 1, sizeof(size_t));
	if (!call->blob_caps[i] || !sizes) {
		ava_guestlib_call_fail(call, AVA_STATUS_NO_MEMORY);
		goto out;
	}
	if (n && sizing_call(call, i, sizes) < 0) {
		call->answered = true;
		goto out;
	}
	for (size_t k = 0; k < n; k++)
		call->blob_caps[i][k] = ptrs[k] ? sizes[k] : 0;
	r = 0;
out:
	free(sizes);
	return r;
}

int ava_guestlib_blob_sizes(struct ava_guestlib_call *call)
{
	const struct ava_abi_fn *fn = call->fn;
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (!call->plan.blobs_arg[i] || !*(void *const *)call->args[i] ||
		    call->plan.count[i] > fn->args[i].max_count)
			continue;
		if (capacities(call, i) < 0)
			return -1;
	}
	return 0;
}

int ava_guestlib_blob_encode(struct ava_guestlib_call *call, unsigned i, struct ava_abi_view *vw,
			     size_t bytes)
{
	const uint64_t *caps = call->blob_caps[i];
	vw->u64 = call->plan.blobs_arg[i] ? 1 : 0;
	int r = ava_wire_put_u8(&call->b, (uint8_t)vw->u64);
	for (uint64_t k = 0; vw->u64 && k < bytes / 8 && r == 0; k++)
		r = ava_wire_put_u64(&call->b, caps ? caps[k] : 0);
	return r;
}

int ava_guestlib_blob_apply(struct ava_guestlib_call *call, unsigned i,
			    const struct ava_abi_view *view)
{
	const struct ava_abi_value *v = &call->fn->args[i];
	void *const *dst = *(void *const *)call->args[i];
	const uint64_t *caps = call->blob_caps[i];
	/* Checked by ava_abi_check_reply: u64 n and n bytes per pointer. */
	const uint8_t *q = view->data;
	uint64_t n_ptrs = (uint64_t)view->count * v->size_bytes / 8;
	for (uint64_t k = 0; k < n_ptrs; k++) {
		uint64_t n;
		memcpy(&n, q, 8);
		q += 8;
		uint64_t cap = caps ? caps[k] : 0;
		if (n > cap) {
			snprintf(call->err, sizeof(call->err),
				 "argument %u: blob %llu of %llu bytes, %llu asked for", i,
				 (unsigned long long)k, (unsigned long long)n,
				 (unsigned long long)cap);
			return -EPROTO;
		}
		void *blob = dst[k];
		if (n && blob)
			memcpy(blob, q, (size_t)n);
		q += n;
	}
	return 0;
}
