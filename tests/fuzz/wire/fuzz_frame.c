/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the receive path of a frame: header decode and the
 * payload validators (CALL and CALLBACK arguments, REPLY, CALLBACK_REPLY)
 * against a fixed avatest description, and the HELLO payload decoder. An
 * empty payload is passed as (NULL, 0), as a receiver may see it.
 *
 * Input: byte 0 selects the target (function or callback) and, in bit 7, the
 * deferred-error flag of the reply; bytes 1-2 (LE) split the rest into the
 * call payload and the reply payload. The first 40 bytes are also decoded as
 * a header. Beyond the sanitizers, accepted input is checked: a decoded
 * header re-encodes to the same bytes, and every view points inside its
 * payload with counts within the declared maxima; a streamed value (presence
 * 2) is plain IN bytes with no data in the payload, at most one per CALL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ava/abi.h"
#include "ava/wire.h"
#include "avatest_abi.h"
#include "wire-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORACLE(cond)                                                                              \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "%s:%d: oracle failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

static const struct ava_abi_api *description(void)
{
	static struct ava_abi_api *api;
	char err[256];

	if (!api && ava_abi_parse(fuzz_avatest_abi, sizeof(fuzz_avatest_abi) - 1, "avatest", &api,
				  err, sizeof(err)) != 0) {
		fprintf(stderr, "built-in description: %s\n", err);
		abort();
	}
	return api;
}

static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

/* Checks one accepted view of value v against its payload. */
static void check_view(const struct ava_abi_value *v, const struct ava_abi_view *view, int is_reply,
		       const uint8_t *base, size_t len)
{
	switch (v->kind) {
	case AVA_ABI_SCALAR:
		ORACLE(view->present && inside(view->data, v->size_bytes, base, len));
		break;
	case AVA_ABI_HANDLE:
		ORACLE(inside(view->data, 8, base, len));
		ORACLE(view->u64 == 0 || AVA_HANDLE_TYPE_OF(view->u64) == v->handle_type);
		break;
	case AVA_ABI_CALLBACK:
	case AVA_ABI_USERDATA:
		ORACLE(inside(view->data, 8, base, len));
		break;
	case AVA_ABI_STRING:
		if (view->present) {
			ORACLE(view->count >= 1 && view->count <= v->max_count);
			ORACLE(inside(view->data, view->count, base, len));
			ORACLE(view->data[view->count - 1] == 0);
		} else {
			ORACLE(view->data == NULL);
		}
		break;
	case AVA_ABI_BUFFER:
		if (!view->present) {
			ORACLE(view->data == NULL && view->count == 0);
			break;
		}
		ORACLE(view->count <= v->max_count);
		if (view->streamed) {
			/* streamed (presence 2): plain IN bytes, no elements in the payload */
			ORACLE(!is_reply && v->dir == AVA_ABI_DIR_IN &&
			       v->elem == AVA_ABI_ELEM_BYTES);
			ORACLE(view->count >= 1 && view->data == NULL);
			break;
		}
		if ((is_reply ? (v->dir & AVA_ABI_DIR_OUT) : (v->dir & AVA_ABI_DIR_IN)) &&
		    view->count) {
			ORACLE(view->count <= len / v->size_bytes);
			ORACLE(inside(view->data, view->count * v->size_bytes, base, len));
		} else {
			ORACLE(view->data == NULL);
		}
		break;
	default:
		break;
	}
}

static void fuzz_header(const uint8_t *data, size_t size)
{
	struct ava_wire_header h;
	uint8_t again[AVA_WIRE_HEADER_BYTES];
	const char *reason = NULL;

	if (size < AVA_WIRE_HEADER_BYTES)
		return;
	if (ava_wire_header_decode(data, AVA_WIRE_MAX_PAYLOAD_BYTES, &h, &reason) == 0) {
		ava_wire_header_encode(&h, again);
		ORACLE(memcmp(again, data, sizeof(again)) == 0);
		ORACLE(h.len_bytes <= AVA_WIRE_MAX_PAYLOAD_BYTES);
		ORACLE(ava_wire_kind_known(h.kind));
	} else {
		ORACLE(reason != NULL);
	}
}

/* The call payload as a HELLO payload: accepted means exactly name_len, name, hash. */
static void fuzz_hello(const uint8_t *payload, size_t len)
{
	const uint8_t *name = NULL;
	uint32_t name_len = 0;
	uint64_t hash;

	if (ava_wire_hello_decode(payload, len, &name, &name_len, &hash) != 0)
		return;
	ORACLE(name_len >= 1 && name_len <= AVA_WIRE_MAX_API_NAME);
	ORACLE(len == 4 + (size_t)name_len + 8);
	ORACLE(name == payload + 4);
	ORACLE(hash == ava_wire_load_u64(payload + 4 + name_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ava_abi_api *api = description();
	struct ava_abi_view views[AVA_ABI_MAX_ARGS], rviews[1 + AVA_ABI_MAX_ARGS], dview;
	const uint8_t *call, *reply;
	size_t call_len, reply_len, split;
	uint32_t target, dfn;
	uint16_t flags;
	char err[256];

	fuzz_header(data, size);
	if (size < 3)
		return 0;
	target = data[0] & 0x7f;
	flags = (data[0] & 0x80) ? AVA_WIRE_F_DEFERRED_ERROR : 0;
	split = (size_t)data[1] | (size_t)data[2] << 8;
	call = data + 3;
	call_len = size - 3;
	if (split > call_len)
		split = call_len;
	reply = call + split;
	reply_len = call_len - split;
	call_len = split;
	/*
	 * A frame with len_bytes 0 may have no payload buffer at all: the
	 * decoders must take (NULL, 0) without computing NULL + 0 (issue 10).
	 */
	if (!call_len)
		call = NULL;
	if (!reply_len)
		reply = NULL;
	fuzz_hello(call, call_len);
	target %= api->n_fns + api->n_callbacks;

	if (target < api->n_fns) {
		const struct ava_abi_fn *fn = &api->fns[target];

		if (ava_abi_check_args(api, fn->n_args, fn->args, 0, call, call_len, views, err,
				       sizeof(err)) != 0)
			return 0;
		unsigned n_streamed = 0;
		uint64_t streamed_bytes = 0;
		for (uint16_t i = 0; i < fn->n_args; i++) {
			check_view(&fn->args[i], &views[i], 0, call, call_len);
			n_streamed += views[i].streamed;
		}
		/* at most one streamed value, and the lookup finds it */
		ORACLE(n_streamed <= 1);
		ORACLE((ava_abi_streamed_arg(fn, views, &streamed_bytes) >= 0) ==
		       (n_streamed == 1));
		ORACLE(n_streamed == 0 || streamed_bytes >= 1);
		if (ava_abi_check_reply(api, fn, views, flags, reply, reply_len, rviews, &dfn,
					&dview, err, sizeof(err)) != 0)
			return 0;
		check_view(&fn->ret, &rviews[0], 1, reply, reply_len);
		for (uint16_t i = 0; i < fn->n_args; i++) {
			if (fn->args[i].kind == AVA_ABI_BUFFER) {
				check_view(&fn->args[i], &rviews[1 + i], 1, reply, reply_len);
				ORACLE(!rviews[1 + i].present ||
				       rviews[1 + i].count == views[i].count);
			}
		}
		if (flags) {
			ORACLE(dfn < api->n_fns);
			ORACLE(api->fns[dfn].flags & AVA_ABI_FN_MAY_ASYNC);
			check_view(&api->fns[dfn].ret, &dview, 1, reply, reply_len);
		}
	} else {
		const struct ava_abi_callback *cb = &api->callbacks[target - api->n_fns];

		if (ava_abi_check_args(api, cb->n_args, cb->args, 1, call, call_len, views, err,
				       sizeof(err)) != 0)
			return 0;
		ORACLE(call_len >= 8);
		for (uint16_t i = 0; i < cb->n_args; i++)
			check_view(&cb->args[i], &views[i], 0, call, call_len);
		if (ava_abi_check_result(api, &cb->ret, reply, reply_len, &rviews[0], err,
					 sizeof(err)) != 0)
			return 0;
		check_view(&cb->ret, &rviews[0], 1, reply, reply_len);
	}
	return 0;
}
