/* SPDX-License-Identifier: MIT */
/*
 * Rect buffers and rect mappings (private to apiserver/): AVA_ABI_V_RECT,
 * the spec's ava_rect. The wire carries a rect's bytes packed; the shape
 * comes from the API's rect operations (hooks.h), never from the guest.
 */
#ifndef AVA_APISERVER_RECT_H
#define AVA_APISERVER_RECT_H

#include <stdint.h>

#include <ava/gen.h>

struct ava_apiserver_call;

/*
 * Pipeline step after the arguments are decoded: checks each rect
 * argument's byte count (and a rect mapping's) against the API's shape and
 * rewrites the arguments for the packed buffer. Returns a wire status.
 */
uint16_t ava_apiserver_rect_prepare(struct ava_apiserver_call *c);

/*
 * After a rect map call succeeded: the library's layout of the mapping
 * (ret_layout), from the pitches it reported. Returns 0, or < 0 when it
 * reported none usable or one whose packed size is not count_bytes (then
 * its memory is never read or written).
 */
int ava_apiserver_rect_mapped(const struct ava_apiserver_call *c, uint64_t count_bytes,
			      struct ava_gen_rect *ret_layout) __attribute__((warn_unused_result));

#endif /* AVA_APISERVER_RECT_H */
