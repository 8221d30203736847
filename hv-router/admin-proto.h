/* SPDX-License-Identifier: MIT */
/*
 * The admin socket's framing, shared by avarouterd (admin.c) and avactl:
 * each message is a u32 little-endian length, then that many bytes of one
 * protobuf-c message (admin.proto: Request from the client, Response from
 * the router). docs/router.md, "Admin socket", is the description.
 */
#ifndef AVA_ROUTER_ADMIN_PROTO_H
#define AVA_ROUTER_ADMIN_PROTO_H

#include <stdint.h>

#include "admin.pb-c.h"

#define AVA_ADMIN_DEFAULT_SOCKET "/run/ava/admin.sock"
#define AVA_ADMIN_SOCKET_NAME	 "admin.sock" /* beside the first --listen socket */
/* Largest Request the router reads; a longer length ends the connection. */
#define AVA_ADMIN_MAX_REQUEST_BYTES (64u << 10)
/* Largest Response the router sends and avactl accepts. */
#define AVA_ADMIN_MAX_RESPONSE_BYTES (16u << 20)
#define AVA_ADMIN_LEN_BYTES	     4u

static inline void ava_admin_put_len(uint8_t *out, uint32_t len)
{
	out[0] = (uint8_t)len;
	out[1] = (uint8_t)(len >> 8);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 24);
}

static inline uint32_t ava_admin_get_len(const uint8_t *in)
{
	return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
	       (uint32_t)in[3] << 24;
}

#endif /* AVA_ROUTER_ADMIN_PROTO_H */
