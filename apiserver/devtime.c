/* SPDX-License-Identifier: MIT */
/*
 * Device time. The device time is measured here, on one completion thread
 * per server, so a wait for the device (clFinish) never holds up the guest
 * thread's next call: the worker replies, hands the call's record to the
 * completion thread and goes on. The completion thread runs the spec's
 * ava_device_time_until function on an object the worker retained for it,
 * releases the object, and reports end - max(start, end of the previous
 * completion): busy time that does not overlap, so a tenant is never charged
 * twice for the same nanoseconds. A call that did not run or failed reports
 * 0 ns. The records hold no session, so closing a session never waits for
 * the device; at exit the thread releases what is queued without waiting.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "call.h"
#include "devtime.h"
#include "output.h"
#include "server.h"
#include "session.h"

/* How long exit waits for a device wait in progress before leaving it. */
#define COMPLETION_EXIT_GRACE_SECONDS 2

struct completion {
	struct completion *next;
	uint32_t session_id;
	uint32_t call_id;
	uint64_t seq;
	bool ok; /* the call ran and succeeded */
	struct ava_apiserver_devtime_call d;
};

/* The completion thread and its queue; a leaf lock (server.h). */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct completion *head, *tail;
	bool stop;
	bool running;
	pthread_t thread;
} g_done = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

void ava_apiserver_devtime_usage(uint32_t session_id, uint32_t call_id, uint64_t seq,
				 uint64_t device_ns)
{
	ava_transport *router = ava_apiserver_server.router;
	uint8_t payload[8];
	for (int i = 0; i < 8; i++)
		payload[i] = (uint8_t)(device_ns >> (8 * i));
	struct ava_wire_header hdr = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = AVA_WIRE_USAGE,
		.len_bytes = sizeof(payload),
		.call_id = call_id,
		.seq = seq,
		.session = session_id,
	};
	if (ava_transport_send_frame(router, &hdr, payload, sizeof(payload)) < 0)
		ava_transport_shutdown(router);
}

bool ava_apiserver_devtime_measured(uint32_t call_id)
{
	const struct ava_abi_api *abi = ava_apiserver_server.api->abi;
	return call_id < abi->n_fns && (abi->fns[call_id].flags & AVA_ABI_FN_DEVICE_TIME);
}

uint64_t ava_apiserver_devtime_charge(uint64_t *prev_end, uint64_t start_ns, uint64_t end_ns,
				      bool ok)
{
	uint64_t ns = 0;
	if (ok) {
		uint64_t from = start_ns > *prev_end ? start_ns : *prev_end;
		ns = end_ns > from ? end_ns - from : 0;
		if (end_ns > *prev_end)
			*prev_end = end_ns;
	}
	return ns;
}

static void *completion_main(void *arg)
{
	uint64_t prev_end = 0;
	(void)arg;
	pthread_mutex_lock(&g_done.lock);
	for (;;) {
		while (!g_done.head && !g_done.stop)
			pthread_cond_wait(&g_done.cond, &g_done.lock);
		struct completion *c = g_done.head;
		if (!c)
			break; /* stopping and drained */
		g_done.head = c->next;
		if (!g_done.head)
			g_done.tail = NULL;
		const bool stopping = g_done.stop;
		pthread_mutex_unlock(&g_done.lock);

		uint64_t end = c->d.end_ns;
		if (c->d.obj && c->ok && !stopping) {
			c->d.wait(c->d.obj);
			end = ava_apiserver_now_ns();
		}
		ava_apiserver_output_device_end(c->d.out_token); /* after the device is done */
		ava_apiserver_release_retained(c->d.obj, c->d.type);
		uint64_t ns = ava_apiserver_devtime_charge(&prev_end, c->d.start_ns, end, c->ok);
		if (!stopping)
			ava_apiserver_devtime_usage(c->session_id, c->call_id, c->seq, ns);
		free(c);
		pthread_mutex_lock(&g_done.lock);
	}
	pthread_mutex_unlock(&g_done.lock);
	return NULL;
}

/* Hands a finished device_time call to the completion thread (takes c). */
static void completion_queue(struct completion *c)
{
	pthread_mutex_lock(&g_done.lock);
	if (!g_done.running || g_done.stop) {
		pthread_mutex_unlock(&g_done.lock);
		ava_apiserver_output_device_end(c->d.out_token);
		ava_apiserver_release_retained(c->d.obj, c->d.type);
		free(c);
		return;
	}
	if (g_done.tail)
		g_done.tail->next = c;
	else
		g_done.head = c;
	g_done.tail = c;
	pthread_cond_signal(&g_done.cond);
	pthread_mutex_unlock(&g_done.lock);
}

void ava_apiserver_devtime_before_invoke(struct ava_apiserver_call *c)
{
	const struct ava_apiserver_api *api = ava_apiserver_server.api;
	const struct ava_abi_fn *fn = c->fn;
	if ((fn->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL) && c->sf->device_wait && api->retain) {
		/* Keep the object the completion waits on alive past a guest's release. */
		uint16_t type = fn->args[fn->until_arg].handle_type;
		void *obj = c->slots[fn->until_arg].p;
		if (obj && api->retain[type] && api->release[type]) {
			api->retain[type](obj);
			c->devtime.obj = obj;
			c->devtime.type = type;
			c->devtime.wait = c->sf->device_wait;
		}
	}
	if (fn->flags & AVA_ABI_FN_DEVICE_TIME) /* what the device prints now is s's */
		c->devtime.out_token = ava_apiserver_output_device_begin(c->s->id);
	c->devtime.start_ns = ava_apiserver_now_ns();
}

void ava_apiserver_devtime_after_invoke(struct ava_apiserver_call *c)
{
	c->devtime.end_ns = ava_apiserver_now_ns();
}

void ava_apiserver_devtime_finish(struct ava_apiserver_call *c)
{
	const struct ava_wire_header *hdr = c->hdr;
	if (!ava_apiserver_devtime_measured(hdr->call_id))
		return;
	/* After the REPLY: the router sees USAGE only for calls it has answered. */
	struct completion *done = calloc(1, sizeof(*done));
	if (!done) {
		ava_apiserver_output_device_end(c->devtime.out_token);
		ava_apiserver_release_retained(c->devtime.obj, c->devtime.type);
		ava_apiserver_devtime_usage(c->s->id, hdr->call_id, hdr->seq, 0);
		return;
	}
	done->session_id = c->s->id;
	done->call_id = hdr->call_id;
	done->seq = hdr->seq;
	done->ok = c->success;
	done->d = c->devtime;
	completion_queue(done);
}

int ava_apiserver_devtime_start(void)
{
	bool any = false;
	for (uint32_t i = 0; i < ava_apiserver_server.api->abi->n_fns; i++)
		any = any || ava_apiserver_devtime_measured(i);
	if (!any)
		return 0;
	int r = pthread_create(&g_done.thread, NULL, completion_main, NULL);
	if (r != 0)
		return -r;
	g_done.running = true;
	return 0;
}

void ava_apiserver_devtime_stop(void)
{
	pthread_mutex_lock(&g_done.lock);
	bool running = g_done.running;
	g_done.stop = true;
	pthread_cond_broadcast(&g_done.cond);
	pthread_mutex_unlock(&g_done.lock);
	if (!running)
		return;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += COMPLETION_EXIT_GRACE_SECONDS;
	if (pthread_timedjoin_np(g_done.thread, NULL, &deadline) != 0)
		ava_apiserver_log("a device wait is still running at exit; leaving it");
}
