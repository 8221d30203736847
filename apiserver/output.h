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
 * Attribution: one server serves every session of one tenant and fd 1 is one
 * per process, so the bytes carry no owner. They go to the session whose
 * device_time call (a kernel launch) most recently started; before any such
 * call, to the session opened most recently. When that session closes,
 * output goes to the server's original stdout until another session runs a
 * device_time call or opens. With one session (the usual case) that is
 * always right; with several sessions of one tenant running kernels at
 * once, output of one may reach another (never another tenant).
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

/* session_id is about to run a device_time call: later output is its. */
void ava_apiserver_output_attribute(uint32_t session_id);

/* A session opened (it owns output until some session runs a device_time call). */
void ava_apiserver_output_session_opened(uint32_t session_id);

/* A session closed: output no longer goes to it. Flushes first. */
void ava_apiserver_output_session_closed(uint32_t session_id);

#endif /* AVA_APISERVER_OUTPUT_H */
