/* SPDX-License-Identifier: MIT */
/*
 * The router's side of its API server processes (the processes themselves
 * are apiserver/): spawning, validating their frames, reaping, retiring
 * (backend.c has the order of checks).
 */
#ifndef AVA_ROUTER_BACKEND_H
#define AVA_ROUTER_BACKEND_H

#include <stdint.h>

#include "model.h"

/*
 * The server for a new session of t for api: a fresh one (servers:
 * per-application), or the tenant's shared one, spawned if needed (servers:
 * shared). NULL on failure (logged).
 */
struct ava_router_server *ava_backend_get(struct ava_router *r, struct ava_router_tenant *t,
					  struct ava_router_api *api);
/* Handles readiness of s's channel (epoll events). */
void ava_backend_on_events(struct ava_router *r, struct ava_router_server *s, uint32_t events);
/* Reads what servers no longer held back by a guest's backlog left staged. */
void ava_backend_resume(struct ava_router *r);
/*
 * Periodic: retires idle shared servers of tenants that no longer share (a
 * policy reload) and kills retired servers that did not exit in time.
 */
void ava_backend_tick(struct ava_router *r);
/* Handles SIGCHLD: reaps exited servers. */
void ava_backend_reap(struct ava_router *r);
/* Frees reaped servers. */
void ava_backend_collect(struct ava_router *r);
/* At exit: SIGTERM all servers, wait up to the grace period, SIGKILL the rest. */
void ava_backend_stop_all(struct ava_router *r);

#endif /* AVA_ROUTER_BACKEND_H */
