/* SPDX-License-Identifier: MIT */
/*
 * Streamed CALL arguments (private to apiserver/): a CALL with
 * AVA_WIRE_F_STREAM waits, on the main thread only, until its CHUNK frames
 * have brought every byte of its streamed argument; then it goes to its
 * worker with them. See stream.c for the cap.
 */
#ifndef AVA_APISERVER_STREAM_H
#define AVA_APISERVER_STREAM_H

#include <stdint.h>

#include <ava/wire.h>

/* A CALL with AVA_WIRE_F_STREAM (takes payload). */
void ava_apiserver_stream_begin(const struct ava_wire_header *hdr, uint8_t *payload);

/* A CHUNK of the session's streamed CALL (takes payload); the last one dispatches the CALL. */
void ava_apiserver_stream_chunk(const struct ava_wire_header *hdr, uint8_t *payload);

/* A session closed: its half-streamed CALL never runs. */
void ava_apiserver_stream_drop(uint32_t session_id);

#endif /* AVA_APISERVER_STREAM_H */
