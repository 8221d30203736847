/* SPDX-License-Identifier: MIT */
/*
 * Drives the OpenCL API server (ava-server-opencl) directly over a
 * socketpair with hand-built frames, as a hostile guest could: the size of
 * a rect (ava_rect: clEnqueueReadBufferRect's ptr, ...) is the server's own
 * computation from the arguments, never the guest's word.
 *  - a rect whose byte count is not the packed size of its region is
 *    refused (MALFORMED) before the library runs;
 *  - arguments that describe no rect (a host pitch below the region, a
 *    region whose size overflows, an image the server cannot size) must
 *    come with no bytes; with none, the library answers them itself;
 *  - a late read that does not run reports its transfer failed (DATA)
 *    before the REPLY;
 *  - a forged avaclCreateBufferOnSVM (a range that is none of the
 *    session's SVM allocations) is refused before the library runs.
 * The command queue is NULL throughout, so the library refuses every call
 * that reaches it (CL_INVALID_COMMAND_QUEUE) and touches no memory.
 *
 * usage: test_apiserver_rect API_DIR   (exits 77 if the server is not built)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ava/abi.h>
#include <ava/transport.h>
#include <ava/wire.h>

#include "check.h"

#define CL_INVALID_COMMAND_QUEUE (-36)
#define CL_INVALID_HOST_PTR	 (-37)
#define CL_INVALID_VALUE	 (-30)
#define CL_MEM_USE_HOST_PTR	 (UINT64_C(1) << 3)
#define CL_MEM_COPY_HOST_PTR	 (UINT64_C(1) << 5)

static ava_transport *t;
static struct ava_abi_api *abi;
static uint64_t seq = 100;

static uint32_t fn_id(const char *name)
{
	const struct ava_abi_fn *fn = ava_abi_find_fn(abi, name);
	if (!fn) {
		fprintf(stderr, "manifest has no %s\n", name);
		exit(1);
	}
	return fn->id;
}

static void send_frame(uint16_t kind, uint32_t call_id, const struct ava_wire_buf *b)
{
	struct ava_wire_header h = {
		.magic = AVA_WIRE_MAGIC,
		.version = AVA_WIRE_VERSION,
		.kind = kind,
		.len_bytes = b ? (uint32_t)b->len : 0,
		.call_id = call_id,
		.seq = ++seq,
		.thread_id = 1,
		.session = 1,
	};
	CHECK(ava_transport_send_frame(t, &h, b ? b->data : NULL, b ? b->len : 0) == 0);
}

static int32_t le32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * Sends the CALL in b, then reads frames up to its REPLY: a DATA frame for
 * transfer (0: none may come) must say the transfer failed. Returns the
 * REPLY's status; *ret_result gets its cl_int result when it is OK.
 */
static uint16_t call(const char *name, struct ava_wire_buf *b, uint64_t transfer,
		     int32_t *ret_result)
{
	bool data_seen = false;
	send_frame(AVA_WIRE_CALL, fn_id(name), b);
	for (;;) {
		struct ava_wire_header h;
		uint8_t *p = NULL;
		const char *reason = NULL;
		CHECK(ava_transport_recv_frame(t, AVA_WIRE_MAX_PAYLOAD_BYTES, &h, &p, &reason) ==
		      0);
		if (h.kind == AVA_WIRE_USAGE) {
			free(p);
			continue;
		}
		if (h.kind == AVA_WIRE_DATA) {
			CHECK(transfer && !data_seen);
			CHECK(h.len_bytes == 8 && le64(p) == transfer);
			CHECK(h.status != AVA_STATUS_OK);
			data_seen = true;
			free(p);
			continue;
		}
		CHECK(h.kind == AVA_WIRE_REPLY && h.seq == seq);
		if (h.status == AVA_STATUS_OK) {
			CHECK(h.len_bytes >= 4);
			*ret_result = le32(p);
			/* a call that ran sends its late transfer's DATA first */
			CHECK(!transfer || data_seen);
		}
		free(p);
		return h.status;
	}
}

static void put_sizes(struct ava_wire_buf *b, const uint64_t v[3])
{
	CHECK(ava_wire_put_u8(b, 1) == 0);
	CHECK(ava_wire_put_u64(b, 3) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(ava_wire_put_u64(b, v[i]) == 0);
}

/*
 * clEnqueue{Read,Write}BufferRect(NULL, NULL, CL_TRUE, {0,0,0}, {0,0,0},
 * region, 0, 0, host_row_pitch, 0, ptr of n bytes, 0, NULL, NULL).
 */
static uint16_t buffer_rect(bool read, const uint64_t region[3], uint64_t host_row_pitch,
			    uint64_t n, int32_t *ret_result)
{
	static const uint64_t zero[3] = { 0, 0, 0 };
	const uint32_t blocking = 1, no_events = 0;
	const uint64_t pitches[4] = { 0, 0, host_row_pitch, 0 };
	uint64_t transfer = read ? seq + 1000 : 0;
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	CHECK(ava_wire_put_u64(&b, 0) == 0); /* command_queue */
	CHECK(ava_wire_put_u64(&b, 0) == 0); /* buffer */
	CHECK(ava_wire_put_bytes(&b, &blocking, 4) == 0);
	put_sizes(&b, zero);
	put_sizes(&b, zero);
	put_sizes(&b, region);
	for (int i = 0; i < 4; i++)
		CHECK(ava_wire_put_u64(&b, pitches[i]) == 0);
	CHECK(ava_wire_put_u8(&b, 1) == 0); /* ptr */
	CHECK(ava_wire_put_u64(&b, n) == 0);
	if (read) {
		CHECK(ava_wire_put_u64(&b, transfer) == 0);
	} else {
		for (uint64_t i = 0; i < n; i++)
			CHECK(ava_wire_put_u8(&b, (uint8_t)i) == 0);
	}
	CHECK(ava_wire_put_bytes(&b, &no_events, 4) == 0);
	CHECK(ava_wire_put_u8(&b, 0) == 0); /* event_wait_list */
	CHECK(ava_wire_put_u8(&b, 0) == 0); /* event */
	uint16_t st = call(read ? "clEnqueueReadBufferRect" : "clEnqueueWriteBufferRect", &b,
			   transfer, ret_result);
	ava_wire_buf_fini(&b);
	return st;
}

/* clEnqueueReadImage(NULL, NULL image, CL_TRUE, {0,0,0}, region, 0, 0, ptr of n bytes, ...). */
static uint16_t read_image(const uint64_t region[3], uint64_t n, int32_t *ret_result)
{
	static const uint64_t zero[3] = { 0, 0, 0 };
	const uint32_t blocking = 1, no_events = 0;
	uint64_t transfer = seq + 1000;
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	CHECK(ava_wire_put_u64(&b, 0) == 0);
	CHECK(ava_wire_put_u64(&b, 0) == 0);
	CHECK(ava_wire_put_bytes(&b, &blocking, 4) == 0);
	put_sizes(&b, zero);
	put_sizes(&b, region);
	CHECK(ava_wire_put_u64(&b, 0) == 0);
	CHECK(ava_wire_put_u64(&b, 0) == 0);
	CHECK(ava_wire_put_u8(&b, 1) == 0);
	CHECK(ava_wire_put_u64(&b, n) == 0);
	CHECK(ava_wire_put_u64(&b, transfer) == 0);
	CHECK(ava_wire_put_bytes(&b, &no_events, 4) == 0);
	CHECK(ava_wire_put_u8(&b, 0) == 0);
	CHECK(ava_wire_put_u8(&b, 0) == 0);
	uint16_t st = call("clEnqueueReadImage", &b, transfer, ret_result);
	ava_wire_buf_fini(&b);
	return st;
}

/*
 * avaclCreateBufferOnSVM(NULL, NULL, flags, size, svm_ptr, &errcode): the
 * wire-only creator of a USE_HOST_PTR buffer on the session's SVM memory,
 * which the guest library sends only for a range inside one of the
 * session's allocations. A forged one must be refused by the server's
 * check, before the library runs (which would answer CL_INVALID_CONTEXT).
 * Returns the frame status; *ret_errcode gets errcode_ret's value.
 */
static uint16_t create_buffer_on_svm(uint64_t flags, uint64_t size, uint64_t svm_ptr,
				     int32_t *ret_errcode)
{
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	CHECK(ava_wire_put_u64(&b, 0) == 0); /* context */
	CHECK(ava_wire_put_u8(&b, 0) == 0);  /* properties: NULL */
	CHECK(ava_wire_put_u64(&b, flags) == 0);
	CHECK(ava_wire_put_u64(&b, size) == 0);
	CHECK(ava_wire_put_u64(&b, svm_ptr) == 0);
	CHECK(ava_wire_put_u8(&b, 1) == 0); /* errcode_ret: one cl_int */
	CHECK(ava_wire_put_u64(&b, 1) == 0);
	send_frame(AVA_WIRE_CALL, fn_id("avaclCreateBufferOnSVM"), &b);
	ava_wire_buf_fini(&b);
	for (;;) {
		struct ava_wire_header h;
		uint8_t *p = NULL;
		const char *reason = NULL;
		CHECK(ava_transport_recv_frame(t, AVA_WIRE_MAX_PAYLOAD_BYTES, &h, &p, &reason) ==
		      0);
		if (h.kind == AVA_WIRE_USAGE) {
			free(p);
			continue;
		}
		CHECK(h.kind == AVA_WIRE_REPLY && h.seq == seq);
		if (h.status == AVA_STATUS_OK) {
			/* the result (a handle id: none), then errcode_ret's one cl_int */
			CHECK(h.len_bytes >= 8 + 4);
			CHECK(le64(p) == 0);
			*ret_errcode = le32(p + h.len_bytes - 4);
		}
		free(p);
		return h.status;
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s API_DIR\n", argv[0]);
		return 2;
	}
	char path[4096], err[256];
	snprintf(path, sizeof(path), "%s/opencl.abi", argv[1]);
	if (ava_abi_load(path, &abi, err, sizeof(err)) < 0) {
		fprintf(stderr, "skipped: no OpenCL manifest (%s)\n", err);
		return 77;
	}
	char server[4096];
	snprintf(server, sizeof(server), "%s/ava-server-opencl", argv[1]);
	if (access(server, X_OK) != 0) {
		fprintf(stderr, "skipped: %s is not built\n", server);
		return 77;
	}
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(sv[1], 3);
		execl(server, server, "--fd", "3", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	CHECK(ava_transport_unix_from_fd(sv[0], &t) == 0);
	send_frame(AVA_WIRE_SESSION_OPEN, 0, NULL);

	const uint64_t region[3] = { 4, 2, 1 }; /* 8 bytes packed */
	int32_t res = 0;

	/* The packed size or nothing: 5 or 9 bytes for an 8-byte rect are refused. */
	CHECK(buffer_rect(true, region, 0, 5, &res) == AVA_STATUS_MALFORMED);
	CHECK(buffer_rect(true, region, 0, 9, &res) == AVA_STATUS_MALFORMED);
	CHECK(buffer_rect(false, region, 0, 5, &res) == AVA_STATUS_MALFORMED);
	CHECK(buffer_rect(false, region, 6, 0, &res) == AVA_STATUS_MALFORMED);
	/* host row pitch 6 of 4-byte rows: 6 + 4 bytes of application memory, 8 packed */
	CHECK(buffer_rect(false, region, 6, 8, &res) == AVA_STATUS_OK);
	CHECK(res == CL_INVALID_COMMAND_QUEUE);
	CHECK(buffer_rect(true, region, 0, 8, &res) == AVA_STATUS_OK);
	CHECK(res == CL_INVALID_COMMAND_QUEUE);

	/* A host row pitch below a row is no rect: no bytes, and the library answers. */
	CHECK(buffer_rect(false, region, 2, 8, &res) == AVA_STATUS_MALFORMED);
	CHECK(buffer_rect(false, region, 2, 0, &res) == AVA_STATUS_OK);
	CHECK(res == CL_INVALID_COMMAND_QUEUE);

	/* A region whose size overflows is no rect either, whatever the count claims. */
	const uint64_t huge[3] = { UINT64_C(1) << 62, 8, 1 };
	CHECK(buffer_rect(true, huge, 0, 8, &res) == AVA_STATUS_MALFORMED);
	CHECK(buffer_rect(true, huge, 0, 0, &res) == AVA_STATUS_OK);
	CHECK(res == CL_INVALID_COMMAND_QUEUE);

	/* An empty region is 0 bytes. */
	const uint64_t empty[3] = { 4, 0, 1 };
	CHECK(buffer_rect(true, empty, 0, 1, &res) == AVA_STATUS_MALFORMED);
	CHECK(buffer_rect(true, empty, 0, 0, &res) == AVA_STATUS_OK);

	/* The server cannot size an image it does not have: no bytes. */
	CHECK(read_image(region, 32, &res) == AVA_STATUS_MALFORMED);
	CHECK(read_image(region, 0, &res) == AVA_STATUS_OK);
	CHECK(res == CL_INVALID_COMMAND_QUEUE);

	/*
	 * A USE_HOST_PTR buffer "on SVM memory" the session never allocated: the
	 * server refuses it (CL_INVALID_HOST_PTR), as it does other flags
	 * (CL_INVALID_VALUE), and never hands the library that address.
	 */
	int32_t errcode = 0;
	CHECK(create_buffer_on_svm(CL_MEM_USE_HOST_PTR, 4096, UINT64_C(0x7f0000000000), &errcode) ==
	      AVA_STATUS_OK);
	CHECK(errcode == CL_INVALID_HOST_PTR);
	CHECK(create_buffer_on_svm(CL_MEM_USE_HOST_PTR, 4096, 0, &errcode) == AVA_STATUS_OK);
	CHECK(errcode == CL_INVALID_HOST_PTR);
	CHECK(create_buffer_on_svm(CL_MEM_COPY_HOST_PTR, 4096, UINT64_C(0x7f0000000000),
				   &errcode) == AVA_STATUS_OK);
	CHECK(errcode == CL_INVALID_VALUE);

	send_frame(AVA_WIRE_SESSION_CLOSE, 0, NULL);
	ava_transport_free(t);
	int wst = 0;
	CHECK(waitpid(pid, &wst, 0) == pid);
	CHECK(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
	ava_abi_api_free(abi);
	printf("test_apiserver_rect: ok\n");
	return 0;
}
