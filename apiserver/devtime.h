/* SPDX-License-Identifier: MIT */
/*
 * Device time (private to apiserver/): every CALL of a device_time function
 * that reaches the server is answered by one USAGE frame, after its REPLY
 * (if any): the router frees a device slot on it. See devtime.c.
 */
#ifndef AVA_APISERVER_DEVTIME_H
#define AVA_APISERVER_DEVTIME_H

#include <stdbool.h>
#include <stdint.h>

#include <ava/apiserver.h>

struct ava_apiserver_call;

/* A call's record for the completion thread; filled in by the steps below. */
struct ava_apiserver_devtime_call {
	uint64_t start_ns, end_ns; /* around the call itself */
	void *obj;		   /* retained object to wait on, or NULL */
	uint16_t type;		   /* its handle type */
	ava_apiserver_release_fn wait;
	uint64_t out_token; /* output.c's turn; 0: none */
};

/* Whether call_id (any value a peer sent) names a function that measures device time. */
bool ava_apiserver_devtime_measured(uint32_t call_id);

/* Sends one USAGE frame. */
void ava_apiserver_devtime_usage(uint32_t session_id, uint32_t call_id, uint64_t seq,
				 uint64_t device_ns);

/*
 * Pipeline steps. before_invoke: retains the object the completion will
 * wait on, takes the session's turn for device output (output.h), takes
 * the start time;
 * after_invoke: the end time. finish (always, after the REPLY): hands the
 * record of a device_time call to the completion thread, which waits for
 * the device, ends the call's output turn and sends its USAGE (0 ns unless
 * the call ran and succeeded).
 */
void ava_apiserver_devtime_before_invoke(struct ava_apiserver_call *c);
void ava_apiserver_devtime_after_invoke(struct ava_apiserver_call *c);
void ava_apiserver_devtime_finish(struct ava_apiserver_call *c);

/*
 * What a completion is charged: end - max(start, *prev_end), 0 if the call
 * failed or the span lies wholly before *prev_end, which moves to end.
 */
uint64_t ava_apiserver_devtime_charge(uint64_t *prev_end, uint64_t start_ns, uint64_t end_ns,
				      bool ok);

/* Starts the completion thread if some function measures device time. Returns 0 or < 0. */
int ava_apiserver_devtime_start(void);

/*
 * At exit: queued records are released without waiting; a wait already
 * running gets a grace period (device work a guest left blocked may never
 * finish).
 */
void ava_apiserver_devtime_stop(void);

#endif /* AVA_APISERVER_DEVTIME_H */
