/* SPDX-License-Identifier: MIT */
/*
 * Descriptors shared by generated guest stubs and API servers. Generated code
 * is mostly these tables plus one thin typed stub per function; the runtimes
 * (guestlib/, apiserver/) do all marshalling, validation and translation.
 */
#ifndef AVA_GEN_H
#define AVA_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Native values of one C type, from the spec's ava_type(T) { ... } defaults. */
struct ava_gen_errors {
	uint32_t size_bytes;
	const void *success;			 /* ava_success, or NULL if none given */
	const void *on_status[AVA_STATUS_COUNT]; /* value for each non-OK wire status */
	/*
	 * ava_invalid_handle_error_of: the value when the dead handle is of type
	 * tag t (on_bad_handle[t], t < n_bad_handle; NULL: on_status[BAD_HANDLE]).
	 */
	const void *const *on_bad_handle;
	uint16_t n_bad_handle;
};

/*
 * What one call will do, computed from its scalar arguments by the spec's
 * expressions: element counts of buffers (ava_buffer) and sync/async. Run in
 * the guest to build the call and again in the server to check what arrived.
 */
struct ava_gen_plan {
	uint8_t async;
	uint64_t count[AVA_ABI_MAX_ARGS];
	/*
	 * For a bytes buffer that holds handles this time (an info query whose
	 * param_name asks for a cl_context, ...): their type tag, else 0. The
	 * server translates the buffer's 8-byte words.
	 */
	uint16_t handle_type[AVA_ABI_MAX_ARGS];
	/*
	 * Guest only, for a buffer of strings: the spec's array of byte lengths
	 * (NULL, or 0 for an entry, means that string is NUL-terminated).
	 */
	const size_t *str_lengths[AVA_ABI_MAX_ARGS];
	/* A function whose result is an AVA_ABI_MAP: its bytes and AVA_ABI_MAP_* access. */
	uint64_t map_count;
	uint8_t map_access;
	/*
	 * For an AVA_ABI_V_BLOBS buffer that is an array of pointers to byte
	 * buffers this time (ava_blobs_sized_by): 1 + the index of the scalar
	 * argument that, set to blobs_value, makes the same function write each
	 * buffer's size (a size_t per pointer) into it; else 0. The guest makes
	 * that sizing call first.
	 */
	uint16_t blobs_arg[AVA_ABI_MAX_ARGS];
	uint64_t blobs_value[AVA_ABI_MAX_ARGS];
	/*
	 * Server only, for an output bytes buffer (ava_clear_bits): after a
	 * successful call, the bits of clear_bits are cleared in its first value
	 * of clear_width bytes (1, 2, 4 or 8; 0: nothing to clear).
	 */
	uint64_t clear_bits[AVA_ABI_MAX_ARGS];
	uint8_t clear_width[AVA_ABI_MAX_ARGS];
};
/* A plan count the server cannot compute (a property list): take the wire's. */
#define AVA_GEN_COUNT_FROM_WIRE UINT64_MAX

/*
 * Elements in a zero-terminated key/value list of elem_bytes-wide elements,
 * including the terminating key; AVA_GEN_COUNT_FROM_WIRE for NULL (the
 * server's view of pointer arguments while planning).
 */
uint64_t ava_gen_props_count(const void *list, size_t elem_bytes);

/*
 * Where a rect buffer's bytes lie in the application's memory (AVA_ABI_V_RECT,
 * the spec's ava_rect): slices of rows of row_bytes bytes, row k of slice j
 * at offset_bytes + j * slice_pitch + k * row_pitch from the pointer. The
 * wire carries them packed: row_bytes * rows * slices bytes, rows and slices
 * in order.
 */
struct ava_gen_rect {
	uint64_t offset_bytes;
	uint64_t row_bytes, rows, slices;
	uint64_t row_pitch, slice_pitch;
};

/*
 * An API's rect shapes, hand-written next to its spec (spec/opencl/rect.c),
 * in both runtimes' ops tables (struct ava_guestlib_ops, ava_apiserver_ops;
 * fn->id is the call's AVA_<API>_FN_<name>). Called with the call's
 * arguments (guest: the application's; server: the library's, after handle
 * translation) for argument arg of fn.
 */
struct ava_gen_rect_ops {
	/*
	 * Fills *ret from the other arguments (region, origins, pitches, the
	 * image's element size). Returns 0, or < 0 when the arguments describe
	 * no rect (a NULL region, pitches the library must refuse): the call
	 * then goes with no bytes, and the library gets a NULL pointer and the
	 * arguments as they are, so it answers with its own error.
	 */
	int (*shape)(const struct ava_abi_fn *fn, unsigned arg, void *const *args,
		     struct ava_gen_rect *ret);
	/*
	 * Server only: rewrites the arguments so that the library reads or
	 * writes the packed bytes at the pointer (host origin {0,0,0}, pitches 0).
	 */
	void (*pack)(const struct ava_abi_fn *fn, unsigned arg, void *const *args);
	/*
	 * Server only, may be NULL: after a failed shape, with the pointer
	 * already NULL, rewrites what else the library must not see so that
	 * it answers with its own error (OpenCL's creators drop
	 * CL_MEM_COPY_HOST_PTR, whose NULL host_ptr would be a different one).
	 */
	void (*refuse)(const struct ava_abi_fn *fn, unsigned arg, void *const *args);
	/*
	 * Server only, for a rect mapping (an ava_mapping result with
	 * ava_rect; shape is then called with arg == fn->n_args and gives the
	 * layout of the guest's memory for it, from offset 0): after a
	 * successful call, fills *ret with the library's layout of the mapped
	 * bytes at the pointer it returned (the pitches it reported in the out
	 * arguments) and rewrites those out arguments to the guest layout's
	 * pitches. Returns 0, or < 0: the mapping's bytes then never travel.
	 */
	int (*mapped)(const struct ava_abi_fn *fn, void *const *args, struct ava_gen_rect *ret);
};

/*
 * Checks a shape (every offset it names fits in a size_t) and gives its
 * packed size: 0 when a dimension is 0 (an empty rect, which the library
 * still answers). Returns 0, or -EINVAL.
 */
int ava_gen_rect_bytes(const struct ava_gen_rect *r, uint64_t *ret_bytes)
    __attribute__((warn_unused_result));

/*
 * The bytes from the pointer to one past the rect's last byte (0 for an
 * empty rect): how much memory laid out as r says needs. Returns 0, or
 * -EINVAL as ava_gen_rect_bytes.
 */
int ava_gen_rect_extent(const struct ava_gen_rect *r, uint64_t *ret_bytes)
    __attribute__((warn_unused_result));

/* Copies the rect of app (laid out as r says) into packed, or (unpack) back. */
void ava_gen_rect_pack(const struct ava_gen_rect *r, const void *app, void *packed);
void ava_gen_rect_unpack(const struct ava_gen_rect *r, const void *packed, void *app);
/*
 * Unpacks len_bytes of the packed rect, from offset_bytes into it (a DATA
 * piece), into app; the caller keeps offset_bytes + len_bytes within the
 * packed size.
 */
void ava_gen_rect_unpack_part(const struct ava_gen_rect *r, const void *piece,
			      uint64_t offset_bytes, uint64_t len_bytes, void *app);

/* args[i] points at argument i (server: only scalar arguments are valid). */
typedef void (*ava_gen_plan_fn)(void *const *args, struct ava_gen_plan *plan);

/*
 * Runs fn's plan function (NULL: fn has no buffers) on args into a zeroed
 * ret_plan, and applies the rule on the call mode both runtimes share: a
 * function without a plan is asynchronous when it may be, and one that may
 * not be never is.
 */
void ava_gen_plan_run(const struct ava_abi_fn *fn, ava_gen_plan_fn plan, void *const *args,
		      struct ava_gen_plan *ret_plan);

/*
 * Per-function error plumbing for the guest: the result type's values, and
 * the ava_errcode argument (OpenCL's errcode_ret) if any.
 */
struct ava_gen_fn_errors {
	const struct ava_gen_errors *ret; /* NULL: result is void, a handle or a pointer (0) */
	int16_t errcode_arg;		  /* -1: none */
	const struct ava_gen_errors *errcode;
	/*
	 * An argument's own ava_invalid_handle_error, as a value of the result
	 * type and of the errcode type, per argument (NULL: none for any).
	 */
	const void *const *arg_bad_handle_ret;
	const void *const *arg_bad_handle_errcode;
	/*
	 * Bit i: out buffer argument i gets what the library wrote even when
	 * the call fails (ava_written_on_failure: OpenCL's binary_status). The
	 * guest leaves every other output of a failed call untouched, the
	 * errcode argument aside (ava_gen_succeeded says what failed means).
	 */
	uint32_t written_on_failure;
};

/*
 * Whether a call succeeded, by the spec's rule, which both runtimes share:
 * a result type with an ava_success value, when the result equals it; else
 * an ava_errcode argument whose type has one, when the caller passed one
 * (errcode: where it points, else NULL) and it holds it; else a handle or a
 * mapping result, when it is not NULL; else (void, no defaults) always. ret
 * points at the result as the runtime holds it (NULL for void).
 */
bool ava_gen_succeeded(const struct ava_abi_fn *fn, const struct ava_gen_fn_errors *e,
		       const void *ret, const void *errcode);

#ifdef __cplusplus
}
#endif

#endif /* AVA_GEN_H */
