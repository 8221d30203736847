/* SPDX-License-Identifier: MIT */
/* Rect buffers (ava_rect) and the size of rect mappings. */
#include <errno.h>
#include <stdbool.h>

#include "call.h"
#include "hooks.h"
#include "rect.h"
#include "server.h"
#include "session.h"

static const struct ava_gen_rect_ops *rect_ops(void)
{
	return ava_apiserver_hooks_rect(ava_apiserver_server.api);
}

/*
 * The rect arguments of a decoded call, whose buffers hold what the guest
 * sent: the packed size is the API's shape of the arguments, never the
 * guest's word, so the library, handed the packed buffer with the arguments
 * rewritten to say so (ops->pack), stays inside it. An empty rect (a region
 * with a 0) touches no byte: the library gets the arguments as they are, and
 * a valid pointer. Where the arguments describe no rect (a NULL region, bad
 * pitches) the guest sends nothing and the library gets a NULL pointer (and
 * what ops->refuse rewrites): it answers the call itself. Shapes are all
 * taken before any rewriting, which may change what another reads.
 */
static uint16_t rect_args(struct ava_apiserver_call *c)
{
	const struct ava_gen_rect_ops *ops = rect_ops();
	const struct ava_abi_fn *fn = c->fn;
	const struct ava_abi_view *views = c->views;
	bool ok[AVA_ABI_MAX_ARGS] = { false };
	for (unsigned i = 0; i < fn->n_args; i++) {
		struct ava_gen_rect r;
		uint64_t bytes = 0;
		if (!(fn->args[i].flags & AVA_ABI_V_RECT) || !views[i].present)
			continue;
		ok[i] = ops && ops->shape(fn, i, c->argv, &r) == 0 &&
			ava_gen_rect_bytes(&r, &bytes) == 0;
		if (views[i].count != bytes) {
			ava_apiserver_log(
			    "session %u: %s: argument %u has %llu bytes, its rect %llu", c->s->id,
			    fn->name, i, (unsigned long long)views[i].count,
			    (unsigned long long)bytes);
			return AVA_STATUS_MALFORMED;
		}
	}
	for (unsigned i = 0; i < fn->n_args; i++) {
		if (!(fn->args[i].flags & AVA_ABI_V_RECT) || !views[i].present)
			continue;
		if (ok[i]) {
			/* an empty rect: the library touches no byte, and sees its arguments */
			if (views[i].count)
				ops->pack(fn, i, c->argv);
			continue;
		}
		c->slots[i].p = NULL; /* its buffer is still freed as usual */
		if (ops && ops->refuse)
			ops->refuse(fn, i, c->argv);
	}
	return AVA_STATUS_OK;
}

/* A rect mapping's size is the packed size of the server's own shape. */
static uint16_t rect_map_size(struct ava_apiserver_call *c)
{
	const struct ava_gen_rect_ops *ops = rect_ops();
	const struct ava_abi_fn *fn = c->fn;
	struct ava_gen_rect r;
	uint64_t bytes = 0;
	if (!ops || ops->shape(fn, fn->n_args, c->argv, &r) < 0 ||
	    ava_gen_rect_bytes(&r, &bytes) < 0)
		bytes = 0;
	if (c->views[fn->n_args].count != bytes) {
		ava_apiserver_log("session %u: %s: mapping of %llu bytes, its rect %llu", c->s->id,
				  fn->name, (unsigned long long)c->views[fn->n_args].count,
				  (unsigned long long)bytes);
		return AVA_STATUS_MALFORMED;
	}
	return AVA_STATUS_OK;
}

uint16_t ava_apiserver_rect_prepare(struct ava_apiserver_call *c)
{
	const struct ava_abi_fn *fn = c->fn;
	uint16_t status = rect_args(c);
	if (status == AVA_STATUS_OK && fn->ret.kind == AVA_ABI_MAP &&
	    (fn->ret.flags & AVA_ABI_V_RECT))
		status = rect_map_size(c);
	return status;
}

/*
 * The reply reports the guest memory's layout instead. A layout that is not
 * the rect's own size is never trusted to read or write the library's
 * memory.
 */
int ava_apiserver_rect_mapped(const struct ava_apiserver_call *c, uint64_t count_bytes,
			      struct ava_gen_rect *ret_layout)
{
	const struct ava_gen_rect_ops *ops = rect_ops();
	uint64_t bytes = 0;
	if (!ops || !ops->mapped || ops->mapped(c->fn, c->argv, ret_layout) < 0 ||
	    ava_gen_rect_bytes(ret_layout, &bytes) < 0 || bytes != count_bytes)
		return -EINVAL;
	return 0;
}
