/* SPDX-License-Identifier: MIT */
/*
 * Callbacks (private to apiserver/; the trampolines' entry point is
 * ava_apiserver_callback in <ava/apiserver.h>): a guest's callback argument
 * becomes a trampoline and a record the library gets as user_data; a call
 * of it goes to the guest as a CALLBACK frame and waits for the reply.
 */
#ifndef AVA_APISERVER_CALLBACK_H
#define AVA_APISERVER_CALLBACK_H

#include <stdint.h>

#include <ava/wire.h>

struct ava_apiserver_call;

/*
 * Pipeline step after the arguments are decoded: a non-NULL callback
 * argument becomes the trampoline, its user_data argument the session's
 * record for (function, user_data). Returns a wire status (NO_MEMORY past
 * the session's cap of records; UNSUPPORTED without a user_data argument).
 */
uint16_t ava_apiserver_callback_prepare(struct ava_apiserver_call *c);

/* A CALLBACK_REPLY: wakes the trampoline waiting for it (takes payload). */
void ava_apiserver_callback_complete(const struct ava_wire_header *hdr, uint8_t *payload);

/*
 * Wakes the trampolines waiting on a session (0: all) with SERVER_GONE.
 * Caller holds ava_apiserver_server.lock.
 */
void ava_apiserver_callback_wake_locked(uint32_t session_id);

#endif /* AVA_APISERVER_CALLBACK_H */
