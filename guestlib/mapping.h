/* SPDX-License-Identifier: MIT */
/*
 * Mappings (ava_mapping results, AVA_ABI_MAP; their unmap arguments,
 * AVA_ABI_UNMAP): the memory the application gets from a map call (where
 * the API's placer says, else our own), listed while open, its bytes sent
 * back on unmap if it was mapped for writing. A readable mapping's bytes
 * come as a late transfer (late.c); a rect mapping's are packed on the
 * wire (rect.c). Private to guestlib/.
 */
#ifndef AVA_GUESTLIB_MAPPING_H
#define AVA_GUESTLIB_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ava/gen.h>
#include <ava/wire.h>

struct conn;
struct ava_guestlib_call;

/*
 * An open mapping: the memory the application got, and the server's id for
 * it. Out of the list while its unmap runs, and for good once that succeeds.
 */
struct mapping {
	struct mapping *next;
	void *ptr;
	uint64_t id;
	size_t len_bytes;
	bool writable;
	bool owned; /* ptr was allocated here (else the application's, from the placer) */
	/*
	 * A rect mapping: ptr holds the rect as shape lays it out, the wire
	 * its wire_bytes packed (else wire_bytes is len_bytes).
	 */
	bool rect;
	struct ava_gen_rect shape;
	size_t wire_bytes;
};

/*
 * Step: takes the mapping an UNMAP argument gives back out of the list
 * (BAD_HANDLE when the pointer is no open mapping), and makes memory for a
 * MAP result (NO_MEMORY). Returns 0 or -1.
 */
int ava_guestlib_mapping_prepare(struct ava_guestlib_call *call)
    __attribute__((warn_unused_result));

/*
 * Encoder of an UNMAP argument: the mapping's id, then its bytes if it was
 * mapped for writing (packed for a rect, streamed when large). Returns 0 or
 * < 0.
 */
int ava_guestlib_mapping_encode_unmap(struct ava_guestlib_call *call, struct ava_abi_view *view)
    __attribute__((warn_unused_result));

/*
 * Encoder of the MAP trailer after the arguments: count, the transfer id of
 * a readable mapping, access. Returns 0 or < 0.
 */
int ava_guestlib_mapping_encode_trailer(struct ava_guestlib_call *call)
    __attribute__((warn_unused_result));

/*
 * After the call: a successful unmap ends its mapping, a failed one leaves
 * it open; a successful map lists its mapping and gives the application
 * its memory (*ret), a failed one frees it (*ret NULL once it left the guest).
 */
void ava_guestlib_mapping_finish(struct ava_guestlib_call *call);

/* Takes the open mapping at ptr out of the list (the newest, if several share it). */
struct mapping *ava_guestlib_mapping_take(struct conn *c, const void *ptr);

/* Lists m as open. */
void ava_guestlib_mapping_put(struct conn *c, struct mapping *m);

/* Frees the record and memory of ours. Accepts NULL. */
void ava_guestlib_mapping_free(struct mapping *m);

#endif /* AVA_GUESTLIB_MAPPING_H */
