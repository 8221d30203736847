/* SPDX-License-Identifier: MIT */
/* Helpers that generated plan functions call, on both the guest and the server. */
#include <string.h>

#include <ava/gen.h>

uint64_t ava_gen_props_count(const void *list, size_t elem_bytes)
{
	static const unsigned char zero[AVA_ABI_MAX_SCALAR_BYTES];
	const unsigned char *p = list;
	uint64_t n = 0;

	if (!p || elem_bytes == 0 || elem_bytes > sizeof(zero))
		return AVA_GEN_COUNT_FROM_WIRE;
	/* Keys at even positions; the list ends at the first zero key. */
	while (memcmp(p + n * elem_bytes, zero, elem_bytes) != 0)
		n += 2;
	return n + 1;
}
