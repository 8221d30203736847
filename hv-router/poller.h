/* SPDX-License-Identifier: MIT */
/*
 * Registration in the router's epoll set. Every registered fd carries a
 * pointer to its record, whose first member is an int naming the record's
 * type (enum ava_router_ev_type), which the event loop dispatches on. A
 * leaf: it knows the epoll fd and nothing else of the router.
 */
#ifndef AVA_ROUTER_POLLER_H
#define AVA_ROUTER_POLLER_H

#include <stdint.h>

/* Adds fd with events and ptr. Returns 0 or -errno. */
int ava_poller_add(int epfd, int fd, uint32_t events, void *ptr)
    __attribute__((warn_unused_result));
/* Removes fd (an fd that is not registered is ignored). */
void ava_poller_del(int epfd, int fd);
/*
 * Sets fd's events to want unless *cur already says so; *cur follows what
 * is registered (unchanged if the change failed, so it is retried).
 */
void ava_poller_set(int epfd, int fd, uint32_t *cur, uint32_t want, void *ptr);

#endif /* AVA_ROUTER_POLLER_H */
