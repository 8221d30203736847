/* SPDX-License-Identifier: MIT */
/*
 * Blobs (ava_blobs_sized_by, AVA_ABI_V_BLOBS): an out buffer that is, this
 * time, an array of pointers to the caller's byte buffers (OpenCL's
 * clGetProgramInfo(CL_PROGRAM_BINARIES)). The guest learns each buffer's
 * size first with the same function and the spec's sizing argument (a
 * sizing call), sends the capacities, and copies each blob back, no more
 * than its capacity. Private to guestlib/.
 */
#ifndef AVA_GUESTLIB_BLOB_H
#define AVA_GUESTLIB_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include <ava/abi.h>
#include <ava/wire.h>

struct ava_guestlib_call;

/*
 * Step: for each blobs buffer of the call, the sizing call (prepared and
 * exchanged as a call of its own, not through ava_guestlib_call) and the
 * capacities it gives, into call->blob_caps. Returns 0, or -1: out of
 * memory (status), or the sizing call failed (answered: its error is in
 * ret and the errcode, as the real call would have answered).
 */
int ava_guestlib_blob_sizes(struct ava_guestlib_call *call) __attribute__((warn_unused_result));

/*
 * Encoder of blobs buffer i after its count: u8 1 and a u64 capacity per
 * pointer when it is an array of blobs this time, else u8 0.
 */
int ava_guestlib_blob_encode(struct ava_guestlib_call *call, unsigned i, struct ava_abi_view *view,
			     size_t bytes) __attribute__((warn_unused_result));

/*
 * Applier of blobs buffer i of a checked reply (view: the reply's): copies
 * each blob to its pointer. Returns 0, or -EPROTO with call->err for a blob
 * larger than was asked for.
 */
int ava_guestlib_blob_apply(struct ava_guestlib_call *call, unsigned i,
			    const struct ava_abi_view *view) __attribute__((warn_unused_result));

#endif /* AVA_GUESTLIB_BLOB_H */
