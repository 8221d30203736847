/* SPDX-License-Identifier: MIT */
/*
 * Mappings (private to apiserver/): a call whose result is an AVA_ABI_MAP
 * leaves the library's pointer here; the guest knows only the mapping's id.
 * The handles the map call named are retained, so that a mapping left open
 * at the session's end can still be unmapped before its objects are
 * released. A readable mapping's bytes go to the guest as a late transfer
 * (late.c); a rect mapping's are packed (rect.c).
 */
#ifndef AVA_APISERVER_MAPPING_H
#define AVA_APISERVER_MAPPING_H

#include <stdbool.h>
#include <stdint.h>

struct ava_apiserver_call;
struct session;
struct mapping;

/* A call's mapping state. */
struct ava_apiserver_map_call {
	struct mapping *unmapping; /* the mapping an unmap argument names */
	struct mapping *mapped;	   /* the mapping a map call made */
	bool read;		   /* the map call maps for reading: its bytes go late */
};

/*
 * Pipeline step after the plan: a map call's trailer must ask for the
 * plan's size and access (the library's word, never the guest's; a rect
 * mapping's size is checked by rect.c). Returns a wire status.
 */
uint16_t ava_apiserver_mapping_check_plan(struct ava_apiserver_call *c);

/*
 * Decodes unmap argument i: the mapping the guest names must be one of its
 * session's, not being unmapped already, and the bytes it sends exactly the
 * mapping's size when it was mapped for writing (else none). They are
 * written into the library's own mapped pointer, which the call then gets.
 * Returns a wire status.
 */
uint16_t ava_apiserver_mapping_unmap_prepare(struct ava_apiserver_call *c, unsigned i);

/*
 * Pipeline step after the call: a successful unmap ends its mapping (a
 * failed one leaves it open); a successful map call's pointer becomes a
 * mapping (unmapped at once if it cannot be recorded).
 */
void ava_apiserver_mapping_finish(struct ava_apiserver_call *c);

/*
 * Part of late.c's finish step for a map call mapping for reading: its
 * bytes follow event (NULL: there is none), or the transfer fails now.
 */
void ava_apiserver_mapping_read_late(struct ava_apiserver_call *c, void *event);

/* The id the reply of a map call carries (0: no mapping). */
uint64_t ava_apiserver_mapping_reply_id(const struct ava_apiserver_call *c);

/*
 * At the session's end (its last reference): unmaps every mapping the
 * guest left open and releases the objects they kept. Returns how many.
 */
unsigned ava_apiserver_mapping_leftovers(struct session *s);

#endif /* AVA_APISERVER_MAPPING_H */
