/* SPDX-License-Identifier: MIT */
/* The first unreported failure of an asynchronous call, per session. */
#include <pthread.h>
#include <string.h>

#include "deferred.h"
#include "server.h"
#include "session.h"

void ava_apiserver_deferred_remember(struct session *s, const struct ava_apiserver_fn *sf,
				     const void *ret_bytes)
{
	if (sf->abi->ret.kind != AVA_ABI_SCALAR)
		return;
	pthread_mutex_lock(&s->lock);
	if (!s->deferred_pending) {
		s->deferred_pending = true;
		s->deferred_fn = sf->abi->id;
		memcpy(s->deferred_value, ret_bytes, sf->abi->ret.size_bytes);
	}
	pthread_mutex_unlock(&s->lock);
}

void ava_apiserver_deferred_status(struct session *s, const struct ava_apiserver_fn *sf,
				   uint16_t status)
{
	const struct ava_gen_errors *e = sf->errors.ret;
	if (e && e->on_status[status])
		ava_apiserver_deferred_remember(s, sf, e->on_status[status]);
}

uint16_t ava_apiserver_deferred_put(struct session *s, struct ava_wire_buf *out)
{
	const struct ava_abi_api *abi = ava_apiserver_server.api->abi;
	uint16_t flags = 0;
	pthread_mutex_lock(&s->lock);
	if (s->deferred_pending) {
		const struct ava_abi_fn *dfn = &abi->fns[s->deferred_fn];
		if (ava_wire_put_u32(out, s->deferred_fn) == 0 &&
		    ava_wire_put_bytes(out, s->deferred_value, dfn->ret.size_bytes) == 0) {
			flags |= AVA_WIRE_F_DEFERRED_ERROR;
			s->deferred_pending = false;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return flags;
}
