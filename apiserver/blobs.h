/* SPDX-License-Identifier: MIT */
/*
 * Blobs buffers (private to apiserver/): AVA_ABI_V_BLOBS, an array of
 * pointers to byte blocks (OpenCL's program binaries). In mode 1
 * (ava_blobs_sized_by) the guest sends each block's capacity and the server
 * allocates the blocks; the reply carries each block's bytes.
 */
#ifndef AVA_APISERVER_BLOBS_H
#define AVA_APISERVER_BLOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ava/wire.h>

/*
 * Mode 1: the array of n pointers at ptrs gets one block cut into the
 * guest's capacities (u64 each at caps, checked by ava_abi_check_args to fit
 * the buffer's max); a 0 capacity is a NULL pointer. *ret_block is the block
 * to free (NULL if none). Returns a wire status.
 */
uint16_t ava_apiserver_blobs_alloc(void *ptrs, size_t n, const uint8_t *caps, void **ret_block);

/*
 * The reply of a mode 1 buffer: its count, then per pointer u64 n and n
 * bytes (none on failure). Returns 0 or < 0 (ava_wire_put_*).
 */
int ava_apiserver_blobs_put(struct ava_wire_buf *out, const void *ptrs, uint64_t count, size_t n,
			    const uint8_t *caps, bool success) __attribute__((warn_unused_result));

#endif /* AVA_APISERVER_BLOBS_H */
