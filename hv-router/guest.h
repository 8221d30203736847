/* SPDX-License-Identifier: MIT */
/*
 * The guest side: guest connections (one session each), their HELLO, and the
 * validation of what they send (guest.c has the order of checks).
 */
#ifndef AVA_ROUTER_GUEST_H
#define AVA_ROUTER_GUEST_H

#include <stdint.h>

#include "model.h"

/*
 * Accepts one connection on l; returns 0, -EAGAIN when none is pending, or
 * another negative errno (EMFILE, ...) after which the caller pauses l.
 */
int ava_guest_accept(struct ava_router *r, struct ava_router_listener *l);
/* Handles readiness of g's connection (epoll events). */
void ava_guest_on_events(struct ava_router *r, struct ava_router_guest *g, uint32_t events);
/* Reads frames a throttled server or a paused session left staged in guests' connections. */
void ava_guest_resume(struct ava_router *r);
/* Periodic deadlines (HELLO, stalled frames, a guest not reading, linger). */
void ava_guest_tick(struct ava_router *r);
/* Frees guests ended in this iteration. */
void ava_guest_collect(struct ava_router *r);

#endif /* AVA_ROUTER_GUEST_H */
