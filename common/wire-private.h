/* SPDX-License-Identifier: MIT */
/*
 * Little-endian loads and stores shared by the common/ sources. Written byte
 * by byte so they are correct at any alignment; compilers turn them into
 * single moves on little-endian hosts.
 */
#ifndef AVA_WIRE_PRIVATE_H
#define AVA_WIRE_PRIVATE_H

#include <stdint.h>

static inline uint16_t ava_wire_load_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t ava_wire_load_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ava_wire_load_u64(const uint8_t *p)
{
	return (uint64_t)ava_wire_load_u32(p) | (uint64_t)ava_wire_load_u32(p + 4) << 32;
}

static inline void ava_wire_store_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void ava_wire_store_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void ava_wire_store_u64(uint8_t *p, uint64_t v)
{
	ava_wire_store_u32(p, (uint32_t)v);
	ava_wire_store_u32(p + 4, (uint32_t)(v >> 32));
}

#endif /* AVA_WIRE_PRIVATE_H */
