/* SPDX-License-Identifier: MIT */
/*
 * Helpers that generated plan functions call, and the rules both runtimes
 * share (a call's success), on the guest and the server.
 */
#include <errno.h>
#include <string.h>

#include <ava/gen.h>

void ava_gen_plan_run(const struct ava_abi_fn *fn, ava_gen_plan_fn plan, void *const *args,
		      struct ava_gen_plan *ret_plan)
{
	memset(ret_plan, 0, sizeof(*ret_plan));
	if (plan)
		plan(args, ret_plan);
	else
		ret_plan->async = (fn->flags & AVA_ABI_FN_MAY_ASYNC) ? 1 : 0;
	if (!(fn->flags & AVA_ABI_FN_MAY_ASYNC))
		ret_plan->async = 0;
}

uint64_t ava_gen_props_count(const void *list, size_t elem_bytes)
{
	static const unsigned char zero[AVA_ABI_MAX_SCALAR_BYTES];
	const unsigned char *p = list;
	uint64_t n = 0;

	if (!p || elem_bytes == 0 || elem_bytes > sizeof(zero))
		return AVA_GEN_COUNT_FROM_WIRE;
	/* Keys at even positions; the list ends at the first zero key. */
	while (memcmp(p + n * elem_bytes, zero, elem_bytes) != 0)
		n += 2;
	return n + 1;
}

int ava_gen_rect_bytes(const struct ava_gen_rect *r, uint64_t *ret_bytes)
{
	uint64_t bytes, last, a, b;

	if (!r->row_bytes || !r->rows || !r->slices) {
		*ret_bytes = 0; /* an empty rect: the library touches no byte of it */
		return 0;
	}
	/* The packed size, and the offset one past the rect's last byte. */
	if (__builtin_mul_overflow(r->row_bytes, r->rows, &bytes) ||
	    __builtin_mul_overflow(bytes, r->slices, &bytes) ||
	    __builtin_mul_overflow(r->slices - 1, r->slice_pitch, &a) ||
	    __builtin_mul_overflow(r->rows - 1, r->row_pitch, &b) ||
	    __builtin_add_overflow(a, b, &last) ||
	    __builtin_add_overflow(last, r->offset_bytes, &last) ||
	    __builtin_add_overflow(last, r->row_bytes, &last) || (uint64_t)(size_t)last != last)
		return -EINVAL;
	*ret_bytes = bytes;
	return 0;
}

int ava_gen_rect_extent(const struct ava_gen_rect *r, uint64_t *ret_bytes)
{
	uint64_t bytes, a, b;

	if (ava_gen_rect_bytes(r, &bytes) < 0)
		return -EINVAL;
	if (!bytes) {
		*ret_bytes = 0;
		return 0;
	}
	/* checked by ava_gen_rect_bytes: none of this overflows */
	a = (r->slices - 1) * r->slice_pitch;
	b = (r->rows - 1) * r->row_pitch;
	*ret_bytes = r->offset_bytes + a + b + r->row_bytes;
	return 0;
}

/*
 * Rows in ascending order, slice by slice, as a library's row-by-row copy
 * goes: pitches smaller than a row overlap the same way.
 */
void ava_gen_rect_pack(const struct ava_gen_rect *r, const void *app, void *packed)
{
	const unsigned char *src = (const unsigned char *)app + r->offset_bytes;
	unsigned char *dst = packed;

	for (uint64_t j = 0; j < r->slices; j++)
		for (uint64_t k = 0; k < r->rows; k++, dst += r->row_bytes)
			memcpy(dst, src + j * r->slice_pitch + k * r->row_pitch, r->row_bytes);
}

void ava_gen_rect_unpack_part(const struct ava_gen_rect *r, const void *piece,
			      uint64_t offset_bytes, uint64_t len_bytes, void *app)
{
	const unsigned char *src = piece;
	unsigned char *base = (unsigned char *)app + r->offset_bytes;

	if (r->row_bytes == 0)
		return;
	while (len_bytes > 0) {
		uint64_t row = offset_bytes / r->row_bytes, in_row = offset_bytes % r->row_bytes;
		uint64_t n = r->row_bytes - in_row;
		if (n > len_bytes)
			n = len_bytes;
		memcpy(base + (row / r->rows) * r->slice_pitch + (row % r->rows) * r->row_pitch +
			   in_row,
		       src, n);
		src += n;
		offset_bytes += n;
		len_bytes -= n;
	}
}

void ava_gen_rect_unpack(const struct ava_gen_rect *r, const void *packed, void *app)
{
	const unsigned char *src = packed;
	unsigned char *dst = (unsigned char *)app + r->offset_bytes;

	for (uint64_t j = 0; j < r->slices; j++)
		for (uint64_t k = 0; k < r->rows; k++, src += r->row_bytes)
			memcpy(dst + j * r->slice_pitch + k * r->row_pitch, src, r->row_bytes);
}

_Static_assert(AVA_ABI_MAX_ARGS <= 32, "written_on_failure has a bit per argument");

bool ava_gen_succeeded(const struct ava_abi_fn *fn, const struct ava_gen_fn_errors *e,
		       const void *ret, const void *errcode)
{
	if (ret && e->ret && e->ret->success)
		return memcmp(ret, e->ret->success, e->ret->size_bytes) == 0;
	if (e->errcode_arg >= 0 && e->errcode && e->errcode->success && errcode)
		return memcmp(errcode, e->errcode->success, e->errcode->size_bytes) == 0;
	if (ret && (fn->ret.kind == AVA_ABI_HANDLE || fn->ret.kind == AVA_ABI_MAP))
		return *(void *const *)ret != NULL;
	return true;
}
