/* SPDX-License-Identifier: MIT */
/*
 * Malformed guest frames (docs/router.md, "Validation"): each class sent by
 * tenant B on a fresh connection must end only that session, with
 * BYE(MALFORMED) or EOF and a log line naming the reason, while tenant A's
 * session on the same router keeps working and the router keeps accepting.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static const struct ava_abi_api *g_abi;
static struct rt_router g_r;
static uint64_t g_seq_a = 100;

enum { SOCK_A = 0, SOCK_B = 1 };

/* One malformed class: writes its bytes to fd (after HELLO unless no_hello). */
struct bad_case {
	const char *name;
	const char *log_reason; /* a part of the router's reason */
	int no_hello;
	void (*send)(int fd);
};

static void send_hdr(int fd, struct ava_wire_header h, const void *payload, size_t len)
{
	h.len_bytes = (uint32_t)len;
	RT_CHECK(rt_send_frame(fd, &h, payload, len) == 0, "send");
}

static struct ava_wire_buf add_one_args(int32_t x)
{
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_i32(&b, x);
	rt_put_out_buffer(&b, 1);
	return b;
}

static struct ava_wire_header call_hdr(const char *fn_name, uint64_t seq)
{
	struct ava_wire_header h = {
		.kind = AVA_WIRE_CALL,
		.call_id = rt_fn(g_abi, fn_name)->id,
		.seq = seq,
		.thread_id = 1,
	};
	return h;
}

static void bad_truncated(int fd)
{
	struct ava_wire_buf b = add_one_args(1);
	send_hdr(fd, call_hdr("avatest_add_one", 1), b.data, b.len - 3); /* count cut short */
	ava_wire_buf_fini(&b);
}

static void bad_oversized(int fd)
{
	/* Header only: the router must reject it without waiting for the payload. */
	struct ava_wire_header h = call_hdr("avatest_add_one", 1);
	h.magic = AVA_WIRE_MAGIC;
	h.version = AVA_WIRE_VERSION;
	h.len_bytes = AVA_WIRE_MAX_PAYLOAD_BYTES + 1;
	uint8_t buf[AVA_WIRE_HEADER_BYTES];
	ava_wire_header_encode(&h, buf);
	RT_CHECK(rt_send_raw(fd, buf, sizeof(buf)) == 0, "send");
}

static void bad_call_id(int fd)
{
	struct ava_wire_buf b = add_one_args(1);
	struct ava_wire_header h = call_hdr("avatest_add_one", 1);
	h.call_id = g_abi->n_fns + 7;
	send_hdr(fd, h, b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_handle_tag(int fd)
{
	const struct ava_abi_fn *fn = rt_fn(g_abi, "avatest_device_close");
	RT_CHECK(fn->n_args == 1 && fn->args[0].kind == AVA_ABI_HANDLE, "device_close layout");
	uint64_t tag = fn->args[0].handle_type % g_abi->n_handle_types + 1; /* another type */
	if (tag == fn->args[0].handle_type)
		tag = 0xff;
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_u64(&b, (tag << 48) | 1);
	send_hdr(fd, call_hdr("avatest_device_close", 1), b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_magic(int fd)
{
	struct ava_wire_buf b = add_one_args(1);
	struct ava_wire_header h = call_hdr("avatest_add_one", 1);
	h.magic = 0xdeadbeef;
	send_hdr(fd, h, b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_session(int fd)
{
	struct ava_wire_buf b = add_one_args(1);
	struct ava_wire_header h = call_hdr("avatest_add_one", 1);
	h.session = 1; /* tries to name (say) tenant A's first session */
	send_hdr(fd, h, b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_trailing(int fd)
{
	struct ava_wire_buf b = add_one_args(1);
	RT_CHECK(ava_wire_put_u8(&b, 0x5a) == 0, "oom");
	send_hdr(fd, call_hdr("avatest_add_one", 1), b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_callback_reply(int fd)
{
	struct ava_wire_header h = { .kind = AVA_WIRE_CALLBACK_REPLY, .seq = 12345 };
	send_hdr(fd, h, NULL, 0);
}

static void bad_before_hello(int fd)
{
	struct ava_wire_buf b = add_one_args(1);
	send_hdr(fd, call_hdr("avatest_add_one", 1), b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_async(int fd)
{
	RT_CHECK(!(rt_fn(g_abi, "avatest_add_one")->flags & AVA_ABI_FN_MAY_ASYNC),
		 "add_one must be sync in the spec");
	struct ava_wire_buf b = add_one_args(1);
	struct ava_wire_header h = call_hdr("avatest_add_one", 1);
	h.flags = AVA_WIRE_F_ASYNC;
	send_hdr(fd, h, b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_version(int fd)
{
	struct ava_wire_header h = call_hdr("avatest_null", 1);
	h.version = 7;
	send_hdr(fd, h, NULL, 0);
}

static void bad_reserved(int fd)
{
	struct ava_wire_header h = call_hdr("avatest_null", 1);
	h.reserved = 1;
	send_hdr(fd, h, NULL, 0);
}

static void bad_kind(int fd)
{
	struct ava_wire_header h = { .kind = AVA_WIRE_SESSION_OPEN, .session = 0 };
	send_hdr(fd, h, NULL, 0);
}

static void bad_second_hello(int fd)
{
	uint8_t payload[4 + 7 + 8];
	uint32_t n = 7;
	memcpy(payload, &n, 4); /* little-endian hosts only; fine for a test of rejection */
	memcpy(payload + 4, "avatest", 7);
	memcpy(payload + 11, &g_abi->hash, 8);
	struct ava_wire_header h = { .kind = AVA_WIRE_HELLO };
	send_hdr(fd, h, payload, sizeof(payload));
}

static void bad_unsupported(int fd)
{
	const struct ava_abi_fn *fn = NULL;
	for (uint32_t i = 0; i < g_abi->n_fns; i++) {
		if (g_abi->fns[i].flags & AVA_ABI_FN_UNSUPPORTED)
			fn = &g_abi->fns[i];
	}
	RT_CHECK(fn != NULL, "manifest has no unsupported function (avatest_unspecced)");
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	for (uint16_t i = 0; i < fn->n_args; i++) {
		RT_CHECK(fn->args[i].kind == AVA_ABI_SCALAR, "unspecced layout");
		for (uint32_t k = 0; k < fn->args[i].size_bytes; k++)
			RT_CHECK(ava_wire_put_u8(&b, 0) == 0, "oom");
	}
	struct ava_wire_header h = call_hdr(fn->name, 1);
	send_hdr(fd, h, b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_seq_reuse(int fd)
{
	/* A sync call still running (sleep 3 s), then another with the same seq. */
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_u32(&b, 3000);
	send_hdr(fd, call_hdr("avatest_sleep_ms", 77), b.data, b.len);
	send_hdr(fd, call_hdr("avatest_sleep_ms", 77), b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_string_unterminated(int fd)
{
	/* avatest_device_set_label(dev = 0, label = "abc" without its NUL). */
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_u64(&b, 0);
	rt_put_u32(&b, 3);
	RT_CHECK(ava_wire_put_bytes(&b, "abc", 3) == 0, "oom");
	send_hdr(fd, call_hdr("avatest_device_set_label", 1), b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_count_over_max(int fd)
{
	/* avatest_add_one with its out buffer claiming 2^60 elements (max is 1). */
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_i32(&b, 1);
	rt_put_out_buffer(&b, 1ull << 60);
	send_hdr(fd, call_hdr("avatest_add_one", 1), b.data, b.len);
	ava_wire_buf_fini(&b);
}

/*
 * avatest_scale(dev = 0, in = 4 elements, out = 4, n = 4, factor = 2) with
 * its input buffer streamed (presence 2, 16 bytes to follow in CHUNKs).
 */
static struct ava_wire_buf scale_streamed_args(uint8_t presence)
{
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_u64(&b, 0);
	RT_CHECK(ava_wire_put_u8(&b, presence) == 0, "put");
	rt_put_u64(&b, 4);
	if (presence == 1)
		RT_CHECK(ava_wire_put_bytes(&b, "0123456789abcdef", 16) == 0, "put");
	rt_put_out_buffer(&b, 4);
	rt_put_u64(&b, 4);
	rt_put_i32(&b, 2);
	return b;
}

static struct ava_wire_header chunk_hdr(uint64_t seq)
{
	struct ava_wire_header h = {
		.kind = AVA_WIRE_CHUNK,
		.call_id = rt_fn(g_abi, "avatest_scale")->id,
		.seq = seq,
	};
	return h;
}

static void send_streamed_scale(int fd, uint64_t seq)
{
	struct ava_wire_buf b = scale_streamed_args(2);
	struct ava_wire_header h = call_hdr("avatest_scale", seq);
	h.flags = AVA_WIRE_F_STREAM;
	send_hdr(fd, h, b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_chunk_alone(int fd)
{
	send_hdr(fd, chunk_hdr(5), "abcd", 4);
}

static void bad_stream_flag_only(int fd)
{
	struct ava_wire_buf b = scale_streamed_args(1);
	struct ava_wire_header h = call_hdr("avatest_scale", 5);
	h.flags = AVA_WIRE_F_STREAM;
	send_hdr(fd, h, b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_streamed_no_flag(int fd)
{
	struct ava_wire_buf b = scale_streamed_args(2);
	send_hdr(fd, call_hdr("avatest_scale", 5), b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_stream_interleaved(int fd)
{
	send_streamed_scale(fd, 5);
	send_hdr(fd, chunk_hdr(5), "01234567", 8);
	send_hdr(fd, call_hdr("avatest_null", 6), NULL, 0); /* 8 bytes still to come */
}

static void bad_chunk_too_long(int fd)
{
	send_streamed_scale(fd, 5);
	send_hdr(fd, chunk_hdr(5), "0123456789", 10);
	send_hdr(fd, chunk_hdr(5), "0123456789", 10); /* 20 of 16 bytes */
}

static void bad_chunk_other_seq(int fd)
{
	send_streamed_scale(fd, 5);
	send_hdr(fd, chunk_hdr(6), "0123456789abcdef", 16);
}

static void bad_chunk_empty(int fd)
{
	send_streamed_scale(fd, 5);
	send_hdr(fd, chunk_hdr(5), NULL, 0);
}

static void bad_chunk_flags(int fd)
{
	send_streamed_scale(fd, 5);
	struct ava_wire_header h = chunk_hdr(5);
	h.thread_id = 1;
	send_hdr(fd, h, "0123456789abcdef", 16);
}

static void bad_streamed_out_buffer(int fd)
{
	/* avatest_add_one(x, y) with its out buffer marked streamed */
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_i32(&b, 1);
	RT_CHECK(ava_wire_put_u8(&b, 2) == 0, "put");
	rt_put_u64(&b, 1);
	struct ava_wire_header h = call_hdr("avatest_add_one", 5);
	h.flags = AVA_WIRE_F_STREAM;
	send_hdr(fd, h, b.data, b.len);
	ava_wire_buf_fini(&b);
}

static void bad_hello_payload(int fd)
{
	uint8_t payload[4] = { 200, 0, 0, 0 }; /* name_len 200, nothing after */
	struct ava_wire_header h = { .kind = AVA_WIRE_HELLO };
	send_hdr(fd, h, payload, sizeof(payload));
}

/*
 * Empty payloads (issue 10): a frame with len_bytes 0 has no payload buffer;
 * no path may offset or copy from it (NULL + 0 is undefined behaviour, fatal
 * in the sanitizer build).
 */
static void bad_hello_empty(int fd)
{
	struct ava_wire_header h = { .kind = AVA_WIRE_HELLO };
	send_hdr(fd, h, NULL, 0);
}

static void bad_call_empty(int fd)
{
	send_hdr(fd, call_hdr("avatest_add_one", 1), NULL, 0);
}

static void bad_callback_reply_empty(int fd)
{
	struct ava_wire_header h = { .kind = AVA_WIRE_CALLBACK_REPLY, .seq = 9 };
	send_hdr(fd, h, NULL, 0);
}

#define EMPTY_KIND(fn, k)                                 \
	static void fn(int fd)                            \
	{                                                 \
		struct ava_wire_header h = { .kind = k }; \
		send_hdr(fd, h, NULL, 0);                 \
	}
EMPTY_KIND(bad_empty_hello_reply, AVA_WIRE_HELLO_REPLY)
EMPTY_KIND(bad_empty_reply, AVA_WIRE_REPLY)
EMPTY_KIND(bad_empty_callback, AVA_WIRE_CALLBACK)
EMPTY_KIND(bad_empty_session_close, AVA_WIRE_SESSION_CLOSE)
EMPTY_KIND(bad_empty_bye, AVA_WIRE_BYE)
EMPTY_KIND(bad_empty_usage, AVA_WIRE_USAGE)
EMPTY_KIND(bad_empty_data, AVA_WIRE_DATA)
EMPTY_KIND(bad_empty_output, AVA_WIRE_OUTPUT)
EMPTY_KIND(bad_empty_chunk, AVA_WIRE_CHUNK)

/* Number of open fds of pid (from /proc). */
static int count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static const struct bad_case cases[] = {
	{ "truncated arguments", "CALL of avatest_add_one", 0, bad_truncated },
	{ "oversized length", "bad frame header", 0, bad_oversized },
	{ "bad call id", "bad call id", 0, bad_call_id },
	{ "wrong handle type tag", "CALL of avatest_device_close", 0, bad_handle_tag },
	{ "bad magic", "bad frame header", 0, bad_magic },
	{ "nonzero session field", "nonzero session field", 0, bad_session },
	{ "trailing bytes", "CALL of avatest_add_one", 0, bad_trailing },
	{ "CALLBACK_REPLY with unknown seq", "no outstanding callback", 0, bad_callback_reply },
	{ "call before HELLO", "before HELLO", 1, bad_before_hello },
	{ "ASYNC on a sync function", "ASYNC CALL of avatest_add_one", 0, bad_async },
	{ "bad version", "bad frame header", 0, bad_version },
	{ "reserved field set", "bad frame header", 0, bad_reserved },
	{ "router-only frame kind", "unexpected SESSION_OPEN", 0, bad_kind },
	{ "second HELLO", "second HELLO", 0, bad_second_hello },
	{ "unsupported function", "does not support", 0, bad_unsupported },
	{ "seq of an outstanding call", "reuses seq 77", 0, bad_seq_reuse },
	{ "string without NUL", "CALL of avatest_device_set_label", 0, bad_string_unterminated },
	{ "count over max", "CALL of avatest_add_one", 0, bad_count_over_max },
	{ "malformed HELLO", "malformed HELLO", 1, bad_hello_payload },
	{ "CHUNK without a streamed CALL", "CHUNK with no streamed CALL", 0, bad_chunk_alone },
	{ "STREAM flag, nothing streamed", "the STREAM flag without a streamed", 0,
	  bad_stream_flag_only },
	{ "streamed value without the flag", "a streamed argument without the STREAM", 0,
	  bad_streamed_no_flag },
	{ "CALL inside a stream", "CALL while the CALL of avatest_scale", 0,
	  bad_stream_interleaved },
	{ "CHUNKs past the streamed size", "CHUNK of avatest_scale with 10 bytes", 0,
	  bad_chunk_too_long },
	{ "CHUNK of another seq", "CHUNK for seq 6", 0, bad_chunk_other_seq },
	{ "empty CHUNK", "CHUNK of avatest_scale with 0 bytes", 0, bad_chunk_empty },
	{ "CHUNK with a thread id", "CHUNK of avatest_scale with flags", 0, bad_chunk_flags },
	{ "streamed out buffer", "may not be streamed", 0, bad_streamed_out_buffer },
	{ "empty HELLO", "malformed HELLO", 1, bad_hello_empty },
	{ "empty CALL", "CALL of avatest_add_one", 0, bad_call_empty },
	{ "empty CALLBACK_REPLY", "no outstanding callback", 0, bad_callback_reply_empty },
	{ "empty HELLO_REPLY", "unexpected HELLO_REPLY", 0, bad_empty_hello_reply },
	{ "empty REPLY", "unexpected REPLY", 0, bad_empty_reply },
	{ "empty CALLBACK", "unexpected CALLBACK", 0, bad_empty_callback },
	{ "empty SESSION_CLOSE", "unexpected SESSION_CLOSE", 0, bad_empty_session_close },
	{ "empty BYE", "unexpected BYE", 0, bad_empty_bye },
	{ "empty USAGE", "unexpected USAGE", 0, bad_empty_usage },
	{ "empty DATA", "unexpected DATA", 0, bad_empty_data },
	{ "empty OUTPUT", "unexpected OUTPUT", 0, bad_empty_output },
	{ "empty CHUNK, no stream", "CHUNK with no streamed CALL", 0, bad_empty_chunk },
};

int main(int argc, char **argv)
{
	const char *router, *api_dir;
	struct ava_abi_api *abi;
	rt_init(argc, argv, &router, &api_dir, &abi);
	g_abi = abi;

	const char *tenants[] = { "tenantA", "tenantB" };
	rt_router_start(&g_r, router, api_dir, tenants, 2, NULL);

	/* The healthy client. */
	int a = rt_connect(&g_r, SOCK_A);
	RT_CHECK(rt_hello(a, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO on A");
	RT_CHECK(rt_add_one(a, abi, 41, g_seq_a++) == 0, "add_one on A");
	pid_t server_a = rt_server_pid_of_last_session(&g_r, "tenantA");
	RT_CHECK(server_a > 0, "no server pid for tenant A in the log");

	/* Refused HELLOs are not violations of the frame format but still end the session. */
	{
		int fd = rt_connect(&g_r, SOCK_B);
		RT_CHECK(rt_hello(fd, "nosuchapi", 1) == AVA_STATUS_UNKNOWN_API, "unknown API");
		int st = rt_wait_bye(fd, RT_TIMEOUT_MS, NULL, 0);
		RT_CHECK(st == AVA_STATUS_UNKNOWN_API || st == -EPIPE, "BYE after unknown API: %d",
			 st);
		close(fd);
		fd = rt_connect(&g_r, SOCK_B);
		RT_CHECK(rt_hello(fd, "avatest", abi->hash ^ 1) == AVA_STATUS_ABI_MISMATCH,
			 "ABI mismatch");
		close(fd);
	}

	/* Baseline fds once tenant B's server exists (its first session spawns it). */
	{
		int fd = rt_connect(&g_r, SOCK_B);
		RT_CHECK(rt_hello(fd, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO on B");
		close(fd);
	}
	usleep(200 * 1000);
	int fds_before = count_fds(g_r.pid);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		int before = rt_log_count(&g_r, "; ending session");
		int fd = rt_connect(&g_r, SOCK_B);
		if (!c->no_hello)
			RT_CHECK(rt_hello(fd, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO on B");
		c->send(fd);
		char why[512];
		int st = rt_wait_bye(fd, RT_TIMEOUT_MS, why, sizeof(why));
		RT_CHECK(st == AVA_STATUS_MALFORMED || st == -EPIPE,
			 "case '%s': expected BYE(MALFORMED) or EOF, got %d", c->name, st);
		/* The router said why, in one line naming tenant B. */
		char line[1024];
		RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, line, sizeof(line),
				     "tenant tenantB session ", c->log_reason, "; ending session",
				     NULL),
			 "case '%s': no log line with '%s'", c->name, c->log_reason);
		RT_CHECK(rt_log_count(&g_r, "; ending session") == before + 1,
			 "case '%s': expected exactly one violation line", c->name);
		if (st == AVA_STATUS_MALFORMED)
			RT_CHECK(strstr(line, why) != NULL, "case '%s': BYE text '%s' not in log",
				 c->name, why);
		close(fd);

		/* Nothing else is affected. */
		RT_CHECK(rt_router_alive(&g_r), "case '%s': router died", c->name);
		RT_CHECK(rt_add_one(a, abi, (int32_t)i, g_seq_a++) == 0,
			 "case '%s': tenant A's call failed afterwards", c->name);
		RT_CHECK(kill(server_a, 0) == 0, "case '%s': tenant A's server died", c->name);
		int fresh = rt_connect(&g_r, SOCK_B);
		RT_CHECK(rt_hello(fresh, "avatest", abi->hash) == AVA_STATUS_OK,
			 "case '%s': router stopped accepting", c->name);
		RT_CHECK(rt_add_one(fresh, abi, 5, 1) == 0, "case '%s': fresh B session failed",
			 c->name);
		close(fresh);
		fprintf(stderr, "ok: %s -> %s (%s)\n", c->name,
			st == -EPIPE ? "EOF" : "BYE(MALFORMED)", why);
	}

	/* A well-formed stream goes through: the CALL, two CHUNKs, its REPLY. */
	{
		int fd = rt_connect(&g_r, SOCK_B);
		RT_CHECK(rt_hello(fd, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO on B");
		send_streamed_scale(fd, 5);
		send_hdr(fd, chunk_hdr(5), "01234567", 8);
		send_hdr(fd, chunk_hdr(5), "89abcdef", 8);
		struct ava_wire_header h;
		uint8_t *p = NULL;
		RT_CHECK(rt_recv_frame(fd, RT_TIMEOUT_MS, &h, &p) == 0 &&
			     h.kind == AVA_WIRE_REPLY && h.seq == 5 && h.status == AVA_STATUS_OK,
			 "streamed CALL got no REPLY");
		free(p);
		RT_CHECK(rt_add_one(fd, abi, 7, 6) == 0, "a call after the stream failed");
		close(fd);
	}

	/* A guest that disconnects mid-stream: only its session ends, with a line saying so. */
	{
		int fd = rt_connect(&g_r, SOCK_B);
		RT_CHECK(rt_hello(fd, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO on B");
		send_streamed_scale(fd, 5);
		send_hdr(fd, chunk_hdr(5), "01234567", 8);
		close(fd);
		char line[1024];
		RT_CHECK(rt_log_find(
			     &g_r, RT_TIMEOUT_MS, line, sizeof(line), "tenant tenantB session ",
			     "disconnected with 8 bytes of a streamed CALL of avatest_scale", NULL),
			 "no log line for the disconnect mid-stream");
		RT_CHECK(rt_add_one(a, abi, 3, g_seq_a++) == 0,
			 "tenant A's call failed after B disconnected mid-stream");
		fprintf(stderr, "ok: disconnect mid-stream (%s)\n", line);
	}

	/* A frame split into single bytes is still one frame (incremental reads). */
	{
		struct ava_wire_buf b = add_one_args(9);
		struct ava_wire_header h = call_hdr("avatest_add_one", g_seq_a);
		h.magic = AVA_WIRE_MAGIC;
		h.version = AVA_WIRE_VERSION;
		h.len_bytes = (uint32_t)b.len;
		uint8_t frame[AVA_WIRE_HEADER_BYTES + 64];
		ava_wire_header_encode(&h, frame);
		memcpy(frame + AVA_WIRE_HEADER_BYTES, b.data, b.len);
		for (size_t k = 0; k < AVA_WIRE_HEADER_BYTES + b.len; k++) {
			RT_CHECK(rt_send_raw(a, frame + k, 1) == 0, "send");
			usleep(1000);
		}
		ava_wire_buf_fini(&b);
		uint8_t *p;
		RT_CHECK(rt_recv_frame(a, RT_TIMEOUT_MS, &h, &p) == 0 && h.kind == AVA_WIRE_REPLY &&
			     h.seq == g_seq_a && h.status == AVA_STATUS_OK,
			 "byte-by-byte CALL got no REPLY");
		free(p);
		g_seq_a++;
	}

	/* Every ended session's fd is closed (lingering ones within 5 s). */
	int fds_after = -1;
	for (int k = 0; k < 100; k++) {
		fds_after = count_fds(g_r.pid);
		if (fds_after <= fds_before)
			break;
		usleep(100 * 1000);
	}
	RT_CHECK(fds_after == fds_before, "router fds: %d before the malformed frames, %d after",
		 fds_before, fds_after);

	close(a);
	rt_router_stop(&g_r);
	ava_abi_api_free(abi);
	fprintf(stderr, "test_router_malformed: %zu malformed classes rejected\n",
		sizeof(cases) / sizeof(cases[0]));
	return 0;
}
