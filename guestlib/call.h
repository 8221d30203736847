/* SPDX-License-Identifier: MIT */
/*
 * One call of the API on its way through the guest runtime: everything the
 * call's steps share (guestlib.c runs them), on the heap, so that a call
 * costs the application's thread little stack, and freed by one fini.
 *
 * The steps, in order (each returns 0 to go on, 1 when the call is over and
 * succeeded, -1 when it failed: status says how, unless answered):
 *
 *   prepare:  connect, plan (the generated plan function), translate
 *             (proxy.c: handles to ids, handle checks)
 *   sizes:    blob.c: the sizing calls of ava_blobs_sized_by buffers
 *   exchange: mapping.c prepare, rect.c prepare, encode (marshal.c),
 *             send (late.c enters the late transfers), wait,
 *             apply (marshal.c, with blob.c and proxy.c: a failed call's
 *             outputs stay untouched, the errcode aside)
 *   finish:   the native error of a failed call, mapping.c finish
 *
 * A wire feature (a buffer annotation) is one module with a step or an
 * encoder/applier for its arguments, called from here; its state for the
 * call lives in this struct.
 */
#ifndef AVA_GUESTLIB_CALL_H
#define AVA_GUESTLIB_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include <ava/guestlib.h>
#include <ava/wire.h>

#include "conn.h"
#include "util.h"

/* The application's scalar arguments, kept before a plan's overrides rewrite args. */
union ava_guestlib_slot {
	uint8_t b[AVA_ABI_MAX_SCALAR_BYTES];
	void *p;
	long double ld;
};

struct ava_guestlib_call {
	const struct ava_guestlib_api *api;
	const struct ava_guestlib_fn *gf;
	const struct ava_abi_fn *fn;
	uint32_t fn_id;
	void *const *args; /* the application's (the plan may override scalars in place) */
	void *ret;	   /* NULL for void */
	/*
	 * A blobs sizing call (blob.c), not the application's: its blobs
	 * buffer goes as it is, and no hook sees it.
	 */
	bool sizing;

	struct conn *c;
	uint16_t status; /* AVA_STATUS_OK until a step fails */
	bool answered;	 /* a failed step already wrote ret and the errcode */
	bool left_guest; /* the observers see it (ava_guestlib_call_observer_fn) */
	struct ava_guestlib_bad_handle bad; /* status BAD_HANDLE: which argument */
	struct ava_gen_plan plan;

	/* For the observers: the arguments as the application passed them. */
	union ava_guestlib_slot app_slots[AVA_ABI_MAX_ARGS];
	void *app_args[AVA_ABI_MAX_ARGS];

	/*
	 * What travels: args, or send_buf where a step replaced an argument
	 * (slots hold the replacements: a handle id, a translated or packed
	 * copy, which owned holds).
	 */
	void *const *send_args;
	void *send_buf[AVA_ABI_MAX_ARGS];
	void *slots[AVA_ABI_MAX_ARGS];
	void *owned[2 * AVA_ABI_MAX_ARGS];
	unsigned n_owned;

	/* blob.c: each blobs buffer's capacities, from its sizing call (or NULL). */
	uint64_t *blob_caps[AVA_ABI_MAX_ARGS];
	/* rect.c: each rect argument's shape, where rect_ok. */
	struct ava_gen_rect rects[AVA_ABI_MAX_ARGS];
	bool rect_ok[AVA_ABI_MAX_ARGS];
	/* mapping.c: the mapping given back (UNMAP), the new one (MAP), its transfer id. */
	struct mapping *unmapping, *mapping;
	uint64_t map_transfer;

	/* The CALL: its encoded arguments, what was sent, the streamed argument. */
	struct ava_wire_buf b;
	struct ava_abi_view views[AVA_ABI_MAX_ARGS];
	const void *bulk;
	size_t bulk_len;
	struct ava_wire_header hdr;

	/* The REPLY. */
	struct waiter w;
	bool w_init;
	struct ava_abi_view reply_views[1 + AVA_ABI_MAX_ARGS];
	/* Bit i: the REPLY was copied into out buffer i (marshal.c; a failed call's are not). */
	uint32_t written;
	char err[200];
};

/*
 * A new call of api->fns[fn_id] with the application's args and ret, or
 * NULL out of memory. sizing: a blobs sizing call (blob.c).
 */
struct ava_guestlib_call *ava_guestlib_call_new(const struct ava_guestlib_api *api, uint32_t fn_id,
						void *const *args, void *ret, bool sizing);

/* Frees the call and everything it owns. Accepts NULL. */
void ava_guestlib_call_free(struct ava_guestlib_call *call);

/*
 * The call takes ownership of p (freed by ava_guestlib_call_free). Returns
 * 0, or -ENOMEM for p NULL (nothing to own: the allocation failed).
 */
int ava_guestlib_call_own(struct ava_guestlib_call *call, void *p)
    __attribute__((warn_unused_result));

/*
 * Replaces what travels for argument i by *slot-sized value: sets
 * call->slots[i] = value and makes send_args[i] point at it.
 */
void ava_guestlib_call_send_arg(struct ava_guestlib_call *call, unsigned i, void *value);

/* Fails the call with a wire status (the application gets its native error). */
int ava_guestlib_call_fail(struct ava_guestlib_call *call, uint16_t status);

/* The steps before the sizing calls: connect, plan, translate. */
int ava_guestlib_call_prepare(struct ava_guestlib_call *call);

/* The steps that make the call: mapping, rect, encode, send, wait, apply. */
int ava_guestlib_call_exchange(struct ava_guestlib_call *call);

/* After the steps, whatever they did: the native error of a failure; open or close mappings. */
void ava_guestlib_call_finish(struct ava_guestlib_call *call);

#endif /* AVA_GUESTLIB_CALL_H */
