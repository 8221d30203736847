/* SPDX-License-Identifier: MIT */
/*
 * Callbacks: the application's function pointers, handed to the server as
 * tokens, and the CALLBACK frames the server forwards, run on a callback
 * thread of the session (started on first use) and answered. Private to
 * guestlib/.
 */
#ifndef AVA_GUESTLIB_CALLBACK_H
#define AVA_GUESTLIB_CALLBACK_H

#include <stdint.h>

#include <ava/wire.h>

struct conn;

/*
 * The token for a callback function pointer, registering it on first sight;
 * 0 for NULL. Returns 0, or -ENOSPC for too many distinct functions.
 */
int ava_guestlib_callback_token(struct conn *c, void *fn, uint64_t *ret_token)
    __attribute__((warn_unused_result));

/*
 * Queues a CALLBACK frame (it takes payload) for the callback thread,
 * starting it on first use. Returns 0, or < 0 (payload not taken).
 */
int ava_guestlib_callback_queue(struct conn *c, const struct ava_wire_header *hdr, uint8_t *payload)
    __attribute__((warn_unused_result));

#endif /* AVA_GUESTLIB_CALLBACK_H */
