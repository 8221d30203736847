/* SPDX-License-Identifier: MIT */
/*
 * Handle ids and library pointers in a call's values (private to
 * apiserver/): the guest names objects by ids of its session's handle table;
 * the library sees its own pointers. Also the decoding of string arrays and
 * ava_clear_bits.
 */
#ifndef AVA_APISERVER_MARSHAL_H
#define AVA_APISERVER_MARSHAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ava/abi.h>

struct session;

/*
 * Turns a host pointer in an out-value into an id of the session's table
 * (NULL: 0), in place; owned (an ava_allocates value) adds the guest's
 * reference. Returns 0 or < 0 (the table is full, no memory).
 */
int ava_apiserver_marshal_to_id(struct session *s, uint16_t type, void **ptr_slot, bool owned)
    __attribute__((warn_unused_result));

/* Looks up a guest id (0: NULL) into *slot_p. Returns a wire status. */
uint16_t ava_apiserver_marshal_from_id(struct session *s, uint16_t type, void **slot_p,
				       uint64_t id);

/* Translates the ids in count elements of an input buffer in place. Returns a wire status. */
uint16_t ava_apiserver_marshal_in_buffer(struct session *s, const struct ava_abi_value *v,
					 uint8_t *data, uint64_t count);

/*
 * Translates the pointers in count elements of an output buffer into ids
 * (a failed call's are garbage: they become 0). Returns 0 or < 0.
 */
int ava_apiserver_marshal_out_buffer(struct session *s, const struct ava_abi_value *v,
				     uint8_t *data, uint64_t count, bool success)
    __attribute__((warn_unused_result));

/*
 * Bytes buffers that hold handles only for some calls: the words of an
 * info-query result typed by the plan (in: a wire status; out: 0 or < 0),
 * and :scan blobs whose words may or may not be ids (ids found become
 * pointers, the rest stay). Buffers come from calloc, so their words are
 * aligned.
 */
uint16_t ava_apiserver_marshal_typed_in(struct session *s, uint16_t type, uint8_t *data,
					size_t bytes);
int ava_apiserver_marshal_typed_out(struct session *s, uint16_t type, uint8_t *data, size_t bytes,
				    bool success) __attribute__((warn_unused_result));
void ava_apiserver_marshal_scan_in(struct session *s, uint8_t *data, size_t bytes);

/*
 * An array of count char * pointing into the (already validated) payload
 * between data and end, which outlives the call; the caller frees the
 * array. Returns a wire status.
 */
uint16_t ava_apiserver_marshal_strings(const uint8_t *data, const uint8_t *end, uint64_t count,
				       void **ret_array);

/* ava_clear_bits: clears mask in the width-byte value at p (host byte order). */
void ava_apiserver_marshal_clear_bits(void *p, uint8_t width, uint64_t mask);

#endif /* AVA_APISERVER_MARSHAL_H */
