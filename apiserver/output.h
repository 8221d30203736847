/* SPDX-License-Identifier: MIT */
/*
 * The API server's stdout, forwarded to the guests (OUTPUT frames).
 *
 * A vendor library writes to the process's stdout on the guest's behalf
 * (OpenCL kernel printf: PoCL write(2)s each kernel's output to fd 1 before
 * the command completes). The server points fd 1 at a pipe; what arrives in
 * it goes to a session as OUTPUT frames, and the server drains the pipe
 * before it sends any REPLY or CALLBACK, so output written before a call
 * returned reaches the guest before that call's REPLY.
 *
 * Attribution: fd 1 is one per process, so the bytes carry no owner, and a
 * shared server (`servers: shared`) serves several applications of one
 * tenant. Output belongs to the session whose device calls are running:
 * a device call (a kernel launch; any device_time call) of one session
 * waits for its turn, until no other session's device calls are still
 * running on the device (devtime.c's completion thread ends each when the
 * device is done with it, after which what its kernels printed is in the
 * pipe), and what was in the pipe goes to the previous owner before the
 * turn passes. So kernels of different sessions never print at once and
 * each application's kernel output reaches that application, whichever
 * call (clFinish, a blocking read, the server's own wait) flushed it. With
 * one session per server (the default) there is never a wait. Before any
 * device call, output goes to the session opened most recently; output of
 * a session that closed goes to the server's original stdout (its log). A
 * turn waits at most 10 s (a kernel may wait on an event the application
 * sets later); past that the calls overlap, and output written while they
 * do goes to the log with a line saying so, never to the other session.
 */
#ifndef AVA_APISERVER_OUTPUT_H
#define AVA_APISERVER_OUTPUT_H

#include <stdint.h>

#include <ava/transport.h>

/*
 * Redirects fd 1 into a pipe (the original stays open for output nobody
 * owns), makes stdio's stdout unbuffered and starts the thread that forwards
 * what arrives to router. Returns 0 or negative errno (fd 1 is then as it was).
 */
int ava_apiserver_output_start(ava_transport *router) __attribute__((warn_unused_result));

/* Sends what is in the pipe now; call before sending a REPLY or CALLBACK. */
void ava_apiserver_output_flush(void);

/*
 * session_id is about to run a device call: waits for its turn (above),
 * then later output is its. Returns the token for
 * ava_apiserver_output_device_end (0 when output is not forwarded).
 */
uint64_t ava_apiserver_output_device_begin(uint32_t session_id);

/*
 * The device call begun with token is done on the device (what it printed
 * has been written to fd 1): sends the pipe's contents, and the last such
 * call of a session lets another session's turn begin.
 */
void ava_apiserver_output_device_end(uint64_t token);

/* A session opened (it owns output until some session runs a device_time call). */
void ava_apiserver_output_session_opened(uint32_t session_id);

/* A session closed: output no longer goes to it. Flushes first. */
void ava_apiserver_output_session_closed(uint32_t session_id);

#endif /* AVA_APISERVER_OUTPUT_H */
