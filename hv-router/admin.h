/* SPDX-License-Identifier: MIT */
/*
 * The admin socket (docs/router.md, "Admin socket"; messages in admin.proto):
 * avactl's status and policy reload, served in the router's loop.
 */
#ifndef AVA_ROUTER_ADMIN_H
#define AVA_ROUTER_ADMIN_H

#include <stdint.h>

#include "model.h"

/* Opens the admin socket at path (mode 0600). At start-up; errors on stderr; 0 or -1. */
int ava_admin_open(struct ava_router *r, const char *path);
/* Handles readiness of the admin listener or of one admin client (ptr from epoll). */
void ava_admin_on_events(struct ava_router *r, void *ptr, uint32_t events);
/* Periodic deadlines: closes admin clients that made no progress for a while. */
void ava_admin_tick(struct ava_router *r);
/* Frees admin clients closed in this iteration. */
void ava_admin_collect(struct ava_router *r);
/* Closes every admin connection and the socket, and unlinks it. */
void ava_admin_close(struct ava_router *r);

#endif /* AVA_ROUTER_ADMIN_H */
