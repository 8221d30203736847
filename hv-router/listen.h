/* SPDX-License-Identifier: MIT */
/*
 * Listening Unix sockets, for guests (0666: tenancy comes from which socket,
 * not from file permissions) and for the admin socket (0600). A leaf.
 */
#ifndef AVA_ROUTER_LISTEN_H
#define AVA_ROUTER_LISTEN_H

/*
 * Creates, binds and listens on a Unix stream socket at path with the given
 * mode (the socket file never has wider permissions, even briefly), making
 * its folder if needed and replacing a stale socket file nobody answers on.
 * At start-up only: errors go to stderr. Returns the non-blocking fd or -1.
 */
int ava_listen_unix(const char *path, unsigned mode);

#endif /* AVA_ROUTER_LISTEN_H */
