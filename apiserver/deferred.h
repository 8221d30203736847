/* SPDX-License-Identifier: MIT */
/*
 * Deferred errors (private to apiserver/): an asynchronous call is never
 * answered, so the first failure of one that nobody heard of yet rides on
 * the session's next synchronous reply (AVA_WIRE_F_DEFERRED_ERROR).
 */
#ifndef AVA_APISERVER_DEFERRED_H
#define AVA_APISERVER_DEFERRED_H

#include <stdint.h>

#include <ava/apiserver.h>
#include <ava/wire.h>

struct session;

/* Records the result of an asynchronous call of sf that failed, unless one is pending. */
void ava_apiserver_deferred_remember(struct session *s, const struct ava_apiserver_fn *sf,
				     const void *ret_bytes);

/* An asynchronous call that could not run (status): its native error, as if it had failed. */
void ava_apiserver_deferred_status(struct session *s, const struct ava_apiserver_fn *sf,
				   uint16_t status);

/*
 * Appends the pending failure, if any, to a synchronous reply's payload and
 * forgets it. Returns the reply's flags (AVA_WIRE_F_DEFERRED_ERROR or 0).
 */
uint16_t ava_apiserver_deferred_put(struct session *s, struct ava_wire_buf *out);

#endif /* AVA_APISERVER_DEFERRED_H */
