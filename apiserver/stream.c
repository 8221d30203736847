/* SPDX-License-Identifier: MIT */
/*
 * Streamed CALL arguments. The router lets nothing else of the session come
 * in between a streamed CALL and its last CHUNK, so a session has at most
 * one. Bytes being reassembled count against AVA_APISERVER_STREAM_CAP_BYTES
 * for the whole server (one tenant's): past it, or without memory, the
 * chunks are read and dropped and the call is answered NO_MEMORY once they
 * have all come. Main thread only: no lock.
 */
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "stream.h"
#include "worker.h"

/*
 * Most bytes of streamed CALL arguments being reassembled at once, for all
 * sessions of this server (so per tenant and API); docs/router.md, Limits.
 */
#define AVA_APISERVER_STREAM_CAP_BYTES (4ull << 30)

struct stream {
	struct stream *next;
	struct ava_wire_header hdr; /* the CALL */
	uint8_t *payload;
	uint8_t *buf; /* len_bytes + a zero byte; NULL: dropping */
	uint64_t len_bytes, got_bytes;
};

static struct {
	struct stream *head;
	uint64_t bytes; /* in the bufs of the list */
} g_streams;

static struct stream **stream_find(uint32_t session_id)
{
	struct stream **pp = &g_streams.head;
	while (*pp && (*pp)->hdr.session != session_id)
		pp = &(*pp)->next;
	return pp;
}

static void stream_free(struct stream **pp)
{
	struct stream *st = *pp;
	*pp = st->next;
	if (st->buf)
		g_streams.bytes -= st->len_bytes;
	free(st->buf);
	free(st->payload);
	free(st);
}

void ava_apiserver_stream_drop(uint32_t session_id)
{
	struct stream **pp = stream_find(session_id);
	if (*pp)
		stream_free(pp);
}

void ava_apiserver_stream_begin(const struct ava_wire_header *hdr, uint8_t *payload)
{
	const struct ava_abi_api *abi = ava_apiserver_server.api->abi;
	struct ava_abi_view views[AVA_ABI_MAX_ARGS + 1];
	uint64_t bytes = 0;
	char err[200];
	if (hdr->call_id >= abi->n_fns ||
	    ava_abi_check_call(abi, &abi->fns[hdr->call_id], payload, hdr->len_bytes, views, err,
			       sizeof(err)) < 0 ||
	    ava_abi_streamed_arg(&abi->fns[hdr->call_id], views, &bytes) < 0) {
		/* the worker answers MALFORMED; stray CHUNKs are dropped */
		ava_apiserver_worker_dispatch(hdr, payload, NULL);
		return;
	}
	struct stream **pp = stream_find(hdr->session);
	if (*pp) {
		ava_apiserver_log(
		    "session %u: a second streamed CALL before the first had all its bytes",
		    hdr->session);
		ava_apiserver_worker_dispatch(&(*pp)->hdr, (*pp)->payload, NULL);
		(*pp)->payload = NULL;
		stream_free(pp);
	}
	struct stream *st = calloc(1, sizeof(*st));
	if (!st) {
		ava_apiserver_log("session %u: no memory for a streamed CALL", hdr->session);
		/* answered NO_MEMORY; its CHUNKs are dropped */
		ava_apiserver_worker_dispatch(hdr, payload, NULL);
		return;
	}
	st->hdr = *hdr;
	st->payload = payload;
	st->len_bytes = bytes; /* >= 1, bounded by the manifest's max */
	if (bytes <= AVA_APISERVER_STREAM_CAP_BYTES - g_streams.bytes &&
	    (st->buf = malloc((size_t)bytes + 1))) {
		st->buf[bytes] = 0;
		g_streams.bytes += bytes;
	} else {
		ava_apiserver_log(
		    "session %u: %s: no room for %llu streamed bytes (%llu of %llu in use)",
		    hdr->session, abi->fns[hdr->call_id].name, (unsigned long long)bytes,
		    (unsigned long long)g_streams.bytes,
		    (unsigned long long)AVA_APISERVER_STREAM_CAP_BYTES);
	}
	st->next = g_streams.head;
	g_streams.head = st;
}

void ava_apiserver_stream_chunk(const struct ava_wire_header *hdr, uint8_t *payload)
{
	struct stream **pp = stream_find(hdr->session);
	struct stream *st = *pp;
	if (!st || st->hdr.seq != hdr->seq || hdr->len_bytes > st->len_bytes - st->got_bytes) {
		ava_apiserver_log("session %u: a CHUNK for no streamed CALL (seq %llu); dropped",
				  hdr->session, (unsigned long long)hdr->seq);
		free(payload);
		return;
	}
	if (st->buf && hdr->len_bytes)
		memcpy(st->buf + st->got_bytes, payload, hdr->len_bytes);
	st->got_bytes += hdr->len_bytes;
	free(payload);
	if (st->got_bytes < st->len_bytes)
		return;
	uint8_t *buf = st->buf;
	struct ava_wire_header call = st->hdr;
	uint8_t *call_payload = st->payload;
	if (buf)
		g_streams.bytes -= st->len_bytes;
	st->buf = NULL;
	st->payload = NULL;
	stream_free(pp);
	ava_apiserver_worker_dispatch(&call, call_payload, buf);
}
