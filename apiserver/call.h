/* SPDX-License-Identifier: MIT */
/*
 * One CALL (private to apiserver/): a per-call context and the pipeline
 * that runs it, in this order (docs/wire-protocol.md):
 *   decode     the function, the payload against the ABI, the streamed
 *              argument, the scalars
 *   plan       the spec's plan on the decoded scalars; the call mode and a
 *              map call's size must agree with it (mapping.c)
 *   translate  handles to library pointers (unknown ones answer
 *              BAD_HANDLE), strings, buffers checked against the plan's
 *              counts, blobs (blobs.c), an unmap's mapping (mapping.c)
 *   prepare    each feature's step: rect.c, callback.c, late.c
 *   invoke     through the API's call wrapper, timed (devtime.c)
 *   finish     mapping.c, late.c, handle references
 *   encode     results back to ids, the out buffers
 *   reply      the deferred error (deferred.c), the REPLY
 * and the context's fini, which frees what the call owns and hands a
 * device_time call to devtime.c. A step that fails returns a wire status;
 * the pipeline then replies with it.
 */
#ifndef AVA_APISERVER_CALL_H
#define AVA_APISERVER_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ava/apiserver.h>
#include <ava/wire.h>

#include "devtime.h"
#include "late.h"
#include "mapping.h"
#include "server.h"

struct session;

/*
 * Everything one call decodes, allocates and hands out. Kept in its
 * worker (not on the stack: it is several KB) and reset by
 * ava_apiserver_call_run for each call.
 */
struct ava_apiserver_call {
	struct session *s;
	const struct ava_wire_header *hdr;
	const uint8_t *payload; /* hdr->len_bytes; the caller's */
	uint8_t *bulk;		/* the streamed argument's bytes; owned until a step takes it */
	bool async;
	const struct ava_apiserver_fn *sf; /* NULL until decode found the function */
	const struct ava_abi_fn *fn;

	struct ava_abi_view views[AVA_ABI_MAX_ARGS + 1]; /* + the MAP trailer */
	union ava_apiserver_slot slots[AVA_ABI_MAX_ARGS], ret;
	void *argv[AVA_ABI_MAX_ARGS]; /* argv[i] = &slots[i]: what the library gets */
	struct ava_gen_plan plan;
	void *owned[2 * AVA_ABI_MAX_ARGS]; /* a buffer each, and a blobs block: freed at fini */
	unsigned n_owned;
	bool success; /* the call ran and its result says success */
	struct ava_wire_buf out;

	/* Each feature's state. */
	struct ava_apiserver_map_call map;
	struct ava_apiserver_late_call late;
	struct ava_apiserver_devtime_call devtime;
};

/*
 * Runs one CALL of session s in c (storage the caller keeps; its contents
 * are reset). payload stays the caller's; bulk (NULL when none) is the
 * streamed argument's bytes, reassembled from its CHUNK frames, and is
 * taken: a CALL with a streamed argument and no bulk could not be
 * reassembled (over the cap, out of memory) and is answered NO_MEMORY.
 */
void ava_apiserver_call_run(struct ava_apiserver_call *c, struct session *s,
			    const struct ava_wire_header *hdr, const uint8_t *payload,
			    uint8_t *bulk);

/*
 * Sends a REPLY, after the OUTPUT written before the call returned and the
 * DATA of every late transfer of the session that completed.
 */
void ava_apiserver_call_reply(uint32_t session_id, uint64_t seq, uint32_t call_id, uint16_t status,
			      uint16_t flags, const void *payload, size_t len);

#endif /* AVA_APISERVER_CALL_H */
