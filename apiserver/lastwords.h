/* SPDX-License-Identifier: MIT */
/*
 * A library that ends the server (private to apiserver/): when the real
 * library calls exit() or abort() while it runs a call, the server says so
 * on stderr (the router's log: servers inherit it) before it dies, naming
 * the call, its session and the exit status, so that the death is never
 * read as a server crash of unknown cause. The application's call gets the
 * API's error as for any server death (the router ends the sessions with
 * BYE).
 */
#ifndef AVA_APISERVER_LASTWORDS_H
#define AVA_APISERVER_LASTWORDS_H

#include <stdint.h>

/* Installs the abort() handler. Call once, before the first call runs. */
void ava_apiserver_lastwords_start(void);

/*
 * Marks this thread as running fn_name (a static string: the ABI's) for
 * session_id until ava_apiserver_lastwords_leave. Not nested.
 */
void ava_apiserver_lastwords_enter(const char *fn_name, uint32_t session_id);
void ava_apiserver_lastwords_leave(void);

#endif /* AVA_APISERVER_LASTWORDS_H */
