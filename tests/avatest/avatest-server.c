/* SPDX-License-Identifier: MIT */
/*
 * avatest's hand-written server source: how an avatest event reports
 * completion (the late buffers of avatest_buffer_read/write and the
 * mappings of avatest_buffer_map wait for it), the rect shapes, the
 * wire-only function of avatest-wire.h and the resolver of the spec's
 * ava_resolve_via entries. The rest (DATA frames, keeping buffers alive,
 * flushing before replies) is the generic runtime's. What is hand-written
 * here reaches the runtime through the ops table ava_avatest_server_ops.
 */
#include <ava/apiserver.h>

#include "ava_avatest.h"
#include "avatest.h"
#include "avatest-rect.h"
#include "avatest-wire.h"

static int avatest_server_event_status(void *event)
{
	int32_t st = AVATEST_EVENT_QUEUED;

	if (avatest_event_status((avatest_event)event, &st) != AVATEST_OK)
		return -1;
	return st == AVATEST_EVENT_COMPLETE ? 1 : 0;
}

/* The runtime passes the same notify function every time; callbacks need a plain pointer. */
static void (*avatest_server_notify)(void);

static void avatest_server_event_done(avatest_event event, void *user_data)
{
	(void)event;
	(void)user_data;
	if (avatest_server_notify)
		avatest_server_notify();
}

static int avatest_server_event_on_complete(void *event, void (*notify)(void))
{
	avatest_server_notify = notify;
	return avatest_event_on_complete((avatest_event)event, avatest_server_event_done, NULL) ==
		       AVATEST_OK
		   ? 0
		   : -1;
}

static void avatest_server_event_retain(void *event)
{
	(void)avatest_event_retain((avatest_event)event);
}

static void avatest_server_event_release(void *event)
{
	(void)avatest_event_release((avatest_event)event);
}

/* The guest's avatest_log_values (avatest-guest.c), run where the device is. */
avatest_status avatest_wire_log_values(avatest_device dev, const int32_t *values, size_t n)
{
	avatest_status st = AVATEST_OK;

	if (n > 0 && !values)
		return AVATEST_ERR_INVALID;
	for (size_t i = 0; i < n && st == AVATEST_OK; i++)
		st = avatest_log_value(dev, values[i], 1);
	return st;
}

/*
 * The generated server defines each ava_resolve_via function (the
 * extensions, which the library does not export) as a forwarder to what
 * this answers for its name: the library's own lookup. self, the
 * forwarder, is never an answer; the library's lookup is a table of its
 * own functions, so it cannot find it.
 */
void *ava_avatest_ext_resolve(const char *name, void *self);
void *ava_avatest_ext_resolve(const char *name, void *self)
{
	void *fn = avatest_get_extension_address(name);

	return fn == self ? NULL : fn;
}

static const struct ava_apiserver_event_ops avatest_server_event_ops = {
	.status = avatest_server_event_status,
	.on_complete = avatest_server_event_on_complete,
	.retain = avatest_server_event_retain,
	.release = avatest_server_event_release,
};

const struct ava_apiserver_ops ava_avatest_server_ops = {
	.events = &avatest_server_event_ops, .rect = &ava_avatest_rect_ops, /* avatest-rect.c */
};
