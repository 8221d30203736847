/* SPDX-License-Identifier: MIT */
/*
 * A small API described by hand, as avagen would describe it, for the guest
 * runtime's unit tests: an int32 result whose error for wire status s is
 * -(100 + s), and an int32 errcode argument where a function has one.
 */
#ifndef AVA_TEST_FAKE_API_H
#define AVA_TEST_FAKE_API_H

#include <ava/guestlib.h>

enum {
	FN_UNSUPPORTED,
	FN_PLAIN,  /* (int32 x, int32 *errcode) */
	FN_HANDLE, /* (handle:1 h, const handle:1 *hs (in, max 8)) */
	FN_RECT,   /* (const void *in (rect), void *out (rect, late)) */
	FN_BLOBS,  /* (int32 param, void **blobs (out, blobs, max 16 pointers)) */
	FN_MAP,	   /* void *(int32 x): a mapping of at most 4096 bytes */
	FN_UNMAP,  /* (void *mapped) */
	/*
	 * (int32 *errcode, int32 *values (out, 2), handle:1 *things (out,
	 * allocates, 2), int64 *needed (in-out, ava_written_on_failure))
	 */
	FN_OUTS,
	FN_MAKE, /* handle:1 (int32 *value (out, 1)): no errcode, NULL on failure */
	N_FNS
};

#define FAKE_ERR(s) (-(100 + (s)))

static const int32_t fake_success = 0;
static const int32_t fake_err[AVA_STATUS_COUNT] = {
	FAKE_ERR(0), FAKE_ERR(1), FAKE_ERR(2), FAKE_ERR(3), FAKE_ERR(4),  FAKE_ERR(5),
	FAKE_ERR(6), FAKE_ERR(7), FAKE_ERR(8), FAKE_ERR(9), FAKE_ERR(10),
};
/* FN_HANDLE's first argument has an invalid-handle error of its own. */
static const int32_t fake_arg0_bad = -7;
static const void *const fake_arg_bad_ret[2] = { &fake_arg0_bad, NULL };

static const struct ava_gen_errors fake_errors = {
	.size_bytes = 4,
	.success = &fake_success,
	.on_status = { NULL, &fake_err[1], &fake_err[2], &fake_err[3], &fake_err[4], &fake_err[5],
		       &fake_err[6], &fake_err[7], &fake_err[8], &fake_err[9], &fake_err[10] },
};

#define SCALAR4                                         \
	{                                               \
		.kind = AVA_ABI_SCALAR, .size_bytes = 4 \
	}

static const struct ava_abi_value fake_plain_args[] = {
	SCALAR4,
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_OUT,
	  .elem = AVA_ABI_ELEM_BYTES,
	  .flags = AVA_ABI_V_ERRCODE,
	  .size_bytes = 4,
	  .max_count = 1 },
};
static const struct ava_abi_value fake_handle_args[] = {
	{ .kind = AVA_ABI_HANDLE, .handle_type = 1 },
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_IN,
	  .elem = AVA_ABI_ELEM_HANDLE,
	  .handle_type = 1,
	  .size_bytes = 8,
	  .max_count = 8 },
};
static const struct ava_abi_value fake_rect_args[] = {
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_IN,
	  .elem = AVA_ABI_ELEM_BYTES,
	  .flags = AVA_ABI_V_RECT,
	  .size_bytes = 1,
	  .max_count = 1024 },
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_OUT,
	  .elem = AVA_ABI_ELEM_BYTES,
	  .flags = AVA_ABI_V_RECT | AVA_ABI_V_LATE,
	  .size_bytes = 1,
	  .max_count = 1024 },
};
static const struct ava_abi_value fake_blobs_args[] = {
	SCALAR4,
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_OUT,
	  .elem = AVA_ABI_ELEM_BYTES,
	  .flags = AVA_ABI_V_BLOBS,
	  .size_bytes = 8,
	  .max_count = 16 },
};

static const struct ava_abi_value fake_outs_args[] = {
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_OUT,
	  .elem = AVA_ABI_ELEM_BYTES,
	  .flags = AVA_ABI_V_ERRCODE,
	  .size_bytes = 4,
	  .max_count = 1 },
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_OUT,
	  .elem = AVA_ABI_ELEM_BYTES,
	  .size_bytes = 4,
	  .max_count = 2 },
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_OUT,
	  .elem = AVA_ABI_ELEM_HANDLE,
	  .flags = AVA_ABI_V_ALLOCATES,
	  .handle_type = 1,
	  .size_bytes = 8,
	  .max_count = 2 },
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_INOUT,
	  .elem = AVA_ABI_ELEM_BYTES,
	  .size_bytes = 8,
	  .max_count = 1 },
};
static const struct ava_abi_value fake_make_args[] = {
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_OUT,
	  .elem = AVA_ABI_ELEM_BYTES,
	  .size_bytes = 4,
	  .max_count = 1 },
};

static const struct ava_abi_value fake_unmap_args[] = {
	{ .kind = AVA_ABI_UNMAP, .max_count = 4096 },
};

static const struct ava_abi_fn fake_abi_fns[N_FNS] = {
	{ .id = FN_UNSUPPORTED,
	  .name = "f_unsupported",
	  .flags = AVA_ABI_FN_UNSUPPORTED,
	  .ret = SCALAR4 },
	{ .id = FN_PLAIN, .name = "f_plain", .ret = SCALAR4, .n_args = 2, .args = fake_plain_args },
	{ .id = FN_HANDLE,
	  .name = "f_handle",
	  .ret = SCALAR4,
	  .n_args = 2,
	  .args = fake_handle_args },
	{ .id = FN_RECT, .name = "f_rect", .ret = SCALAR4, .n_args = 2, .args = fake_rect_args },
	{ .id = FN_BLOBS, .name = "f_blobs", .ret = SCALAR4, .n_args = 2, .args = fake_blobs_args },
	{ .id = FN_MAP,
	  .name = "f_map",
	  .ret = { .kind = AVA_ABI_MAP, .max_count = 4096 },
	  .n_args = 1,
	  .args = fake_plain_args },
	{ .id = FN_UNMAP, .name = "f_unmap", .ret = SCALAR4, .n_args = 1, .args = fake_unmap_args },
	{ .id = FN_OUTS, .name = "f_outs", .ret = SCALAR4, .n_args = 4, .args = fake_outs_args },
	{ .id = FN_MAKE,
	  .name = "f_make",
	  .ret = { .kind = AVA_ABI_HANDLE, .handle_type = 1 },
	  .n_args = 1,
	  .args = fake_make_args },
};

static const char *const fake_handle_type_names[] = { NULL, "thing_t" };

static const struct ava_abi_api fake_abi = {
	.name = "fake",
	.n_fns = N_FNS,
	.fns = fake_abi_fns,
	.n_handle_types = 1,
	.handle_type_names = fake_handle_type_names,
};

static const struct ava_guestlib_fn fake_fns[N_FNS] = {
	{ .abi = &fake_abi_fns[0], .errors = { .ret = &fake_errors, .errcode_arg = -1 } },
	{ .abi = &fake_abi_fns[1],
	  .errors = { .ret = &fake_errors, .errcode_arg = 1, .errcode = &fake_errors } },
	{ .abi = &fake_abi_fns[2],
	  .errors = { .ret = &fake_errors,
		      .errcode_arg = -1,
		      .arg_bad_handle_ret = fake_arg_bad_ret } },
	{ .abi = &fake_abi_fns[3], .errors = { .ret = &fake_errors, .errcode_arg = -1 } },
	{ .abi = &fake_abi_fns[4], .errors = { .ret = &fake_errors, .errcode_arg = -1 } },
	{ .abi = &fake_abi_fns[5], .errors = { .errcode_arg = -1 } },
	{ .abi = &fake_abi_fns[6], .errors = { .ret = &fake_errors, .errcode_arg = -1 } },
	{ .abi = &fake_abi_fns[7],
	  .errors = { .ret = &fake_errors,
		      .errcode_arg = 0,
		      .errcode = &fake_errors,
		      .written_on_failure = 1u << 3 } },
	{ .abi = &fake_abi_fns[8], .errors = { .errcode_arg = -1 } },
};

/* A handle id of type tag t (the top 16 bits hold the tag). */
#define FAKE_ID(t, n) (((uint64_t)(t) << 48) | (uint64_t)(n))

#endif /* AVA_TEST_FAKE_API_H */
