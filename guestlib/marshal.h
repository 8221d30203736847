/* SPDX-License-Identifier: MIT */
/*
 * The CALL's payload from the call's arguments, and a REPLY's payload into
 * the application's result and out buffers. The wire features' encoders
 * and appliers (late.c, blob.c, mapping.c) are called from here, each for
 * the values its annotation marks. Private to guestlib/.
 */
#ifndef AVA_GUESTLIB_MARSHAL_H
#define AVA_GUESTLIB_MARSHAL_H

#include <stdint.h>

struct ava_guestlib_call;

/*
 * Encodes call->send_args into call->b and records what was sent in
 * call->views (and the streamed argument in call->bulk). Returns 0, or < 0
 * with *ret_why.
 */
int ava_guestlib_marshal_encode(struct ava_guestlib_call *call, const char **ret_why)
    __attribute__((warn_unused_result));

/*
 * Checks the REPLY in call->w against the ABI and copies it into the
 * application's result and out buffers (then proxies, and a deferred
 * error it reports): a failed call's only into the errcode argument and
 * the ava_written_on_failure buffers, so that its other outputs stay as
 * they were. Records which buffers it wrote in call->written. Returns 0,
 * or < 0 with call->err.
 */
int ava_guestlib_marshal_apply(struct ava_guestlib_call *call) __attribute__((warn_unused_result));

#endif /* AVA_GUESTLIB_MARSHAL_H */
