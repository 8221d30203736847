/* SPDX-License-Identifier: MIT */
/*
 * Transports: one ops table, several channels. The Unix-socket transport is
 * the default; shared-memory rings, vsock and TCP come later behind the same
 * table. Transports here are blocking and used by the guest and API server
 * runtimes from their own threads; daemons with event loops use the fd.
 */
#ifndef AVA_TRANSPORT_H
#define AVA_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ava_transport ava_transport;

struct ava_transport_ops {
	const char *name;
	/* Sends all of iov or fails: 0, or -EPIPE / negative errno. */
	int (*send)(ava_transport *t, const struct iovec *iov, int n_iov);
	/* Receives exactly len bytes: 0, -EPIPE on orderly EOF, or negative errno. */
	int (*recv)(ava_transport *t, void *buf, size_t len);
	/* Shuts the channel down for both directions (wakes a blocked recv). */
	int (*shutdown)(ava_transport *t);
	/* Releases the transport and its fd. */
	void (*close)(ava_transport *t);
};

/* Connects to a Unix stream socket at path. Returns 0 or negative errno. */
int ava_transport_unix_connect(const char *path, ava_transport **ret_t)
    __attribute__((warn_unused_result));
/* Wraps a connected Unix stream socket; takes ownership of fd. */
int ava_transport_unix_from_fd(int fd, ava_transport **ret_t) __attribute__((warn_unused_result));

/* The fd under the transport (for poll), or -1. */
int ava_transport_fd(const ava_transport *t);

/*
 * Sends one frame (header + payload) atomically with respect to other
 * senders on the same transport (internal lock). hdr->len_bytes must equal
 * payload_len. Returns 0 or negative errno.
 */
int ava_transport_send_frame(ava_transport *t, const struct ava_wire_header *hdr,
			     const void *payload, size_t payload_len)
    __attribute__((warn_unused_result));

/*
 * Receives one frame: reads and validates the header (ava_wire_header_decode
 * with max_payload_bytes), then allocates and reads the payload. The caller
 * frees *ret_payload (never NULL, also for an empty payload). Returns 0, -EPIPE on
 * EOF, -EPROTO/-EMSGSIZE with *ret_reason set, or negative errno.
 * Not for concurrent use by several receivers.
 */
int ava_transport_recv_frame(ava_transport *t, uint32_t max_payload_bytes,
			     struct ava_wire_header *ret_hdr, uint8_t **ret_payload,
			     const char **ret_reason) __attribute__((warn_unused_result));

/* Shuts the transport down (wakes a receiver blocked in another thread). */
void ava_transport_shutdown(ava_transport *t);
/* Closes and frees the transport. Accepts NULL. */
void ava_transport_free(ava_transport *t);

#ifdef __cplusplus
}
#endif

#endif /* AVA_TRANSPORT_H */
