/* SPDX-License-Identifier: MIT */
/* Blobs buffers in mode 1: the server allocates the blocks the guest sized. */
#include <stdlib.h>
#include <string.h>

#include "blobs.h"

uint16_t ava_apiserver_blobs_alloc(void *ptrs, size_t n, const uint8_t *caps, void **ret_block)
{
	uint64_t total = 0, off = 0;
	*ret_block = NULL;
	for (size_t k = 0; k < n; k++) {
		uint64_t cap;
		memcpy(&cap, caps + 8 * k, 8);
		total += cap;
	}
	uint8_t *block = malloc(total ? (size_t)total : 1);
	if (!block)
		return AVA_STATUS_NO_MEMORY;
	*ret_block = block;
	for (size_t k = 0; k < n; k++) {
		uint64_t cap;
		memcpy(&cap, caps + 8 * k, 8);
		void *q = cap ? block + off : NULL;
		memcpy((uint8_t *)ptrs + k * sizeof(void *), &q, sizeof(q));
		off += cap;
	}
	return AVA_STATUS_OK;
}

int ava_apiserver_blobs_put(struct ava_wire_buf *out, const void *ptrs, uint64_t count, size_t n,
			    const uint8_t *caps, bool success)
{
	int r = ava_wire_put_u64(out, count);
	for (size_t k = 0; k < n && r == 0; k++) {
		uint64_t cap = 0;
		void *q;
		if (success)
			memcpy(&cap, caps + 8 * k, 8);
		memcpy(&q, (const uint8_t *)ptrs + k * sizeof(void *), sizeof(q));
		if (!q)
			cap = 0;
		r = ava_wire_put_u64(out, cap);
		if (r == 0 && cap)
			r = ava_wire_put_bytes(out, q, (size_t)cap);
	}
	return r;
}
