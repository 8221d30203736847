/* SPDX-License-Identifier: MIT */
/*
 * The AvA wire: frame header, frame kinds, flags and the status enum.
 * docs/wire-protocol.md is the normative description; this header mirrors it.
 *
 * Every frame is a 40-byte little-endian header followed by `len_bytes` of
 * payload. The header is encoded and decoded field by field (never by casting
 * a struct over received bytes), so the in-memory struct below has no wire
 * layout of its own.
 */
#ifndef AVA_WIRE_H
#define AVA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVA_WIRE_MAGIC	      0x31415641u /* "AVA1" little-endian */
#define AVA_WIRE_VERSION      1u
#define AVA_WIRE_HEADER_BYTES 40u
/* Largest payload any peer accepts; checked before reading or allocating. */
#define AVA_WIRE_MAX_PAYLOAD_BYTES (65u * 1024u * 1024u) /* 64 MiB of data + arguments */
/* Largest API name in a HELLO. */
#define AVA_WIRE_MAX_API_NAME 64u

/* Frame kinds. Direction is given as guest(G) / router(R) / server(S). */
enum ava_wire_kind {
	AVA_WIRE_HELLO = 1,	     /* G->R: payload u32 name_len, name, u64 abi_hash */
	AVA_WIRE_HELLO_REPLY = 2,    /* R->G: status; payload empty */
	AVA_WIRE_CALL = 3,	     /* G->R->S: call_id = function id; payload = arguments */
	AVA_WIRE_REPLY = 4,	     /* S->R->G: seq = the call's seq; payload = results */
	AVA_WIRE_CALLBACK = 5,	     /* S->R->G: call_id = callback id; payload = arguments */
	AVA_WIRE_CALLBACK_REPLY = 6, /* G->R->S: seq = the callback's seq; payload = result */
	AVA_WIRE_SESSION_OPEN = 7,   /* R->S: session = new session id; payload empty */
	AVA_WIRE_SESSION_CLOSE = 8,  /* R->S: session ends; payload empty */
	AVA_WIRE_BYE = 9,	     /* R->G: session ended; status says why; payload = text */
	/*
	 * S->R: seq = a device_time CALL's seq, session = its session; payload
	 * u64 device_ns. One per such CALL the server received, after its REPLY.
	 */
	AVA_WIRE_USAGE = 10,
	/*
	 * S->R->G: the contents of a late out buffer (AVA_ABI_V_LATE), sent once
	 * its call's event completed and before any later frame of the session
	 * that could show the completion. Payload: u64 transfer id (from the
	 * CALL), then the next 1..AVA_WIRE_CHUNK_MAX_BYTES bytes when status is
	 * OK (several frames, in order, until the transfer's size has come; one
	 * frame with just the id for a 0-byte transfer); just the id when the
	 * transfer failed (status not OK, before any of its bytes).
	 * call_id = the function id.
	 */
	AVA_WIRE_DATA = 11,
	/*
	 * S->R->G: bytes the API server's process wrote to its stdout (kernel
	 * printf), for the guest to write to its own stdout. Payload: 1 to
	 * AVA_WIRE_OUTPUT_MAX_BYTES bytes; call_id, seq, thread_id, flags and
	 * status 0. Sent before any later REPLY or CALLBACK of the session.
	 */
	AVA_WIRE_OUTPUT = 12,
	/*
	 * G->R->S: a piece of the one streamed argument of the CALL that came
	 * before it (the CALL has AVA_WIRE_F_STREAM). call_id and seq are the
	 * CALL's; thread_id, flags and status 0. Payload: 1 to
	 * AVA_WIRE_CHUNK_MAX_BYTES bytes, in order, until the argument's
	 * count x element size bytes have come. Nothing else of the session
	 * comes between the CALL and its last CHUNK.
	 */
	AVA_WIRE_CHUNK = 13,
};
#define AVA_WIRE_KIND_MAX 13

/* The largest OUTPUT payload; longer output travels as several frames. */
#define AVA_WIRE_OUTPUT_MAX_BYTES 65536u
/*
 * Bulk data travels in pieces of at most this many bytes: a streamed CALL
 * argument's CHUNK frames, and the DATA frames of one late transfer (a DATA
 * payload is the u64 transfer id and at most this many bytes).
 */
#define AVA_WIRE_CHUNK_MAX_BYTES (8u * 1024u * 1024u)

/* Whether kind is one of the frame kinds above (a kind without a name is unknown). */
bool ava_wire_kind_known(unsigned kind);

/* Header flags. Unknown bits are a protocol error. */
#define AVA_WIRE_F_ASYNC	  0x0001u /* CALL: no REPLY will be sent */
#define AVA_WIRE_F_DEFERRED_ERROR 0x0002u /* REPLY: trailer carries an earlier async failure */
#define AVA_WIRE_F_STREAM	  0x0004u /* CALL: one argument's bytes follow in CHUNK frames */
#define AVA_WIRE_F_KNOWN	  0x0007u

/*
 * Status carried in the header of HELLO_REPLY, REPLY, BYE and DATA. Explicit
 * numbers; errno never crosses the wire. The guest stub maps each to the
 * API's native error from the spec (ava_failure, ava_unsupported_error, ...).
 */
enum ava_wire_status {
	AVA_STATUS_OK = 0,
	AVA_STATUS_UNSUPPORTED = 1,  /* function not supported by the spec or server */
	AVA_STATUS_BAD_HANDLE = 2,   /* a handle names no live object of this session */
	AVA_STATUS_REFUSED = 3,	     /* refused by the operator's policy */
	AVA_STATUS_SERVER_GONE = 4,  /* API server died or is unreachable */
	AVA_STATUS_MALFORMED = 5,    /* a frame failed validation; session ended */
	AVA_STATUS_NO_MEMORY = 6,    /* the remote side could not allocate */
	AVA_STATUS_UNKNOWN_API = 7,  /* HELLO named an API the router does not serve */
	AVA_STATUS_ABI_MISMATCH = 8, /* HELLO's abi_hash differs from the router's */
	AVA_STATUS_INTERNAL = 9,
	AVA_STATUS_OVER_QUOTA =
	    10, /* refused: the tenant's quota (device memory, objects) is used up */
};
#define AVA_STATUS_COUNT 11

/* In-memory form of a frame header. */
struct ava_wire_header {
	uint32_t magic;
	uint16_t version;
	uint16_t kind;	    /* enum ava_wire_kind */
	uint32_t len_bytes; /* payload length */
	uint32_t call_id;   /* function or callback id; 0 otherwise */
	uint64_t seq;	    /* sender's sequence number; replies echo it */
	uint32_t thread_id; /* guest thread (CALL); 0 otherwise */
	uint16_t flags;	    /* AVA_WIRE_F_* */
	uint16_t status;    /* enum ava_wire_status */
	uint32_t session;   /* router<->server only: session id; must be 0 on guest links */
	uint32_t reserved;  /* must be 0 */
};

/* Writes hdr into out[AVA_WIRE_HEADER_BYTES] in wire order. */
void ava_wire_header_encode(const struct ava_wire_header *hdr, uint8_t *out);

/*
 * Decodes and validates a header: magic, version, kind in range, no unknown
 * flags, reserved zero, status in range, len_bytes <= max_payload_bytes.
 * Returns 0, or -EPROTO / -EMSGSIZE with a reason in *ret_reason (static string).
 */
int ava_wire_header_decode(const uint8_t *in, uint32_t max_payload_bytes,
			   struct ava_wire_header *ret_hdr, const char **ret_reason)
    __attribute__((warn_unused_result));

/* Name of a status value ("bad handle", ...), for messages. */
const char *ava_wire_status_name(unsigned status);
/* Name of a frame kind ("CALL", ...), for messages. */
const char *ava_wire_kind_name(unsigned kind);

/*
 * Little-endian cursor over a received payload. Every read checks the
 * remaining length first (`n > end - cur` style) and fails without moving.
 */
struct ava_wire_cursor {
	const uint8_t *cur;
	const uint8_t *end;
};

/*
 * The cursor over [p, p + len). An empty payload may come as p == NULL, and
 * NULL + 0 is undefined behaviour: build cursors with this, never by hand.
 */
static inline struct ava_wire_cursor ava_wire_cursor_of(const uint8_t *p, size_t len)
{
	struct ava_wire_cursor c = { p, len ? p + len : p };
	return c;
}

int ava_wire_get_u8(struct ava_wire_cursor *c, uint8_t *ret) __attribute__((warn_unused_result));
int ava_wire_get_u32(struct ava_wire_cursor *c, uint32_t *ret) __attribute__((warn_unused_result));
int ava_wire_get_u64(struct ava_wire_cursor *c, uint64_t *ret) __attribute__((warn_unused_result));
/* Points *ret at the next n bytes (no copy). */
int ava_wire_get_bytes(struct ava_wire_cursor *c, size_t n, const uint8_t **ret)
    __attribute__((warn_unused_result));

/*
 * Decodes a HELLO payload (u32 name_len, name_len bytes of API name, u64
 * ABI hash) with 1 <= name_len <= AVA_WIRE_MAX_API_NAME and nothing after.
 * payload may be NULL when len is 0. *ret_name points into payload.
 * Returns 0 or -EPROTO.
 */
int ava_wire_hello_decode(const uint8_t *payload, size_t len, const uint8_t **ret_name,
			  uint32_t *ret_name_len, uint64_t *ret_hash)
    __attribute__((warn_unused_result));

/* Growable output buffer for building payloads. */
struct ava_wire_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void ava_wire_buf_init(struct ava_wire_buf *b);
void ava_wire_buf_fini(struct ava_wire_buf *b);
/* Each returns 0 or -ENOMEM (then the buffer is unchanged). */
int ava_wire_put_u8(struct ava_wire_buf *b, uint8_t v) __attribute__((warn_unused_result));
int ava_wire_put_u32(struct ava_wire_buf *b, uint32_t v) __attribute__((warn_unused_result));
int ava_wire_put_u64(struct ava_wire_buf *b, uint64_t v) __attribute__((warn_unused_result));
int ava_wire_put_bytes(struct ava_wire_buf *b, const void *p, size_t n)
    __attribute__((warn_unused_result));
/* Reserves n bytes at the end and returns a pointer to them in *ret. */
int ava_wire_reserve(struct ava_wire_buf *b, size_t n, uint8_t **ret)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif

#endif /* AVA_WIRE_H */
