/* SPDX-License-Identifier: MIT */
/*
 * Servers are not trusted either (docs/router.md, "Validation"): a server
 * that sends a malformed frame is killed and only its own sessions get
 * BYE(SERVER_GONE); a server that names another tenant's session reaches
 * nobody. Also: a server that stops reading pauses its own guests only.
 *
 * The API server here is this program itself, started by the router as
 * ava-server-avatest from a temporary API folder (next to a link to the real
 * avatest manifest). It learns which misbehaviour to show from AVA_TENANT,
 * which the router sets to the tenant name: each listening socket's tenant
 * is named after one misbehaviour.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ava/transport.h>

#include "harness.h"

#define SPOOF_SEQ    9
#define SPOOF_RESULT 0x5a5a5a5a
#define USAGE_NS     123456789

/* ---- the fake server ---- */

static ava_transport *g_t;

static void fake_send(const struct ava_wire_header *hdr, const void *payload, size_t len)
{
	struct ava_wire_header h = *hdr;
	h.magic = AVA_WIRE_MAGIC;
	h.version = AVA_WIRE_VERSION;
	h.len_bytes = (uint32_t)len;
	if (ava_transport_send_frame(g_t, &h, payload, len) < 0)
		exit(0);
}

static void fake_send_raw_header(const struct ava_wire_header *hdr)
{
	uint8_t buf[AVA_WIRE_HEADER_BYTES];
	ava_wire_header_encode(hdr, buf);
	if (write(ava_transport_fd(g_t), buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		exit(0);
}

/* REPLY payload of avatest_add_one: i32 result, u64 count, i32 y; extra bytes appended. */
static size_t add_one_reply(uint8_t *out, int32_t result, uint64_t count, int32_t y, int extra)
{
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	int r = ava_wire_put_u32(&b, (uint32_t)result);
	r |= ava_wire_put_u64(&b, count);
	for (uint64_t i = 0; i < count && i < 4; i++)
		r |= ava_wire_put_u32(&b, (uint32_t)y);
	for (int i = 0; i < extra; i++)
		r |= ava_wire_put_u8(&b, 0xee);
	if (r)
		exit(3);
	size_t len = b.len;
	memcpy(out, b.data, len);
	ava_wire_buf_fini(&b);
	return len;
}

static int fake_server(const char *self, const char *fd_str)
{
	const char *mode = getenv("AVA_TENANT");
	if (!mode)
		return 64;
	char abi_path[PATH_MAX];
	snprintf(abi_path, sizeof(abi_path), "%s", self);
	char *slash = strrchr(abi_path, '/');
	if (!slash)
		return 64;
	snprintf(slash + 1, sizeof(abi_path) - (size_t)(slash + 1 - abi_path), "avatest.abi");
	struct ava_abi_api *abi;
	char err[256];
	if (ava_abi_load(abi_path, &abi, err, sizeof(err)) < 0) {
		fprintf(stderr, "fake server: %s: %s\n", abi_path, err);
		return 66;
	}
	uint32_t add_one = ava_abi_find_fn(abi, "avatest_add_one")->id;
	uint32_t sleep_ms = ava_abi_find_fn(abi, "avatest_sleep_ms")->id;
	uint32_t scale = ava_abi_find_fn(abi, "avatest_scale")->id;
	uint32_t device_name = ava_abi_find_fn(abi, "avatest_device_name")->id;
	if (ava_transport_unix_from_fd(atoi(fd_str), &g_t) < 0)
		return 66;
	for (;;) {
		struct ava_wire_header h;
		uint8_t *p = NULL;
		const char *reason;
		if (ava_transport_recv_frame(g_t, AVA_WIRE_MAX_PAYLOAD_BYTES, &h, &p, &reason) < 0)
			return 0;
		if (h.kind == AVA_WIRE_SESSION_OPEN && !strcmp(mode, "slow"))
			sleep(3); /* let the router's queue to us fill up */
		if (h.kind != AVA_WIRE_CALL) {
			free(p);
			continue;
		}
		if (h.call_id == device_name && h.len_bytes >= 17) {
			/* Reply: i32 0, buf: u64 n + n bytes, ret_len: u64 1 + u64 n. */
			uint64_t n = 0;
			memcpy(&n, p + 9, 8); /* dev u64, u8 present, u64 count */
			free(p);
			size_t len = 4 + 8 + (size_t)n + 8 + 8;
			uint8_t *big = calloc(1, len);
			if (!big)
				return 3;
			uint64_t one = 1;
			memcpy(big + 4, &n, 8);
			memcpy(big + 12 + n, &one, 8);
			memcpy(big + 20 + n, &n, 8);
			struct ava_wire_header sr = { .kind = AVA_WIRE_REPLY,
						      .call_id = h.call_id,
						      .seq = h.seq,
						      .session = h.session };
			fake_send(&sr, big, len);
			free(big);
			continue;
		}
		if (h.call_id == scale) {
			/* Reply: i32 0, then the out buffer: u64 n, n floats (zeros). */
			uint64_t n = 0;
			if (h.len_bytes >= 17)
				memcpy(&n, p + 9, 8); /* dev u64, u8 present, u64 count */
			free(p);
			size_t len = 4 + 8 + (size_t)n * 4;
			uint8_t *big = calloc(1, len);
			if (!big)
				return 3;
			memcpy(big + 4, &n, 8);
			struct ava_wire_header sr = { .kind = AVA_WIRE_REPLY,
						      .call_id = h.call_id,
						      .seq = h.seq,
						      .session = h.session };
			fake_send(&sr, big, len);
			free(big);
			continue;
		}
		uint8_t out[64];
		struct ava_wire_header r = { .kind = AVA_WIRE_REPLY,
					     .call_id = h.call_id,
					     .seq = h.seq,
					     .session = h.session };
		int32_t x = 0;
		if (h.len_bytes >= 4)
			memcpy(&x, p, 4); /* little-endian test hosts */
		free(p);
		if (h.call_id == sleep_ms) {
			usleep((useconds_t)x * 1000);
			uint32_t ok = 0;
			fake_send(&r, &ok, 4);
			continue;
		}
		if (h.call_id != add_one) {
			fake_send(&(struct ava_wire_header){ .kind = AVA_WIRE_REPLY,
							     .call_id = h.call_id,
							     .seq = h.seq,
							     .session = h.session,
							     .status = AVA_STATUS_UNSUPPORTED },
				  NULL, 0);
			continue;
		}
		size_t n = add_one_reply(out, 0, 1, x + 1, 0);
		struct ava_wire_header usage = {
			.kind = AVA_WIRE_USAGE, .call_id = scale, .seq = h.seq, .session = h.session
		};
		uint64_t ns = USAGE_NS;
		if (!strcmp(mode, "good")) {
			/* Device time the router keeps to itself; the guest sees only the reply. */
			fake_send(&usage, &ns, 8);
			fake_send(&r, out, n);
		} else if (!strcmp(mode, "slow") || !strcmp(mode, "bigreply")) {
			fake_send(&r, out, n);
		} else if (!strcmp(mode, "usage-len")) {
			fake_send(&usage, &ns, 4);
		} else if (!strcmp(mode, "usage-fn")) {
			usage.call_id = add_one;
			fake_send(&usage, &ns, 8);
		} else if (!strcmp(mode, "usage-session")) {
			usage.session = 0x7fffffff;
			fake_send(&usage, &ns, 8);
		} else if (!strcmp(mode, "spray")) {
			/* Replies for every other session this router may have, then our own. */
			size_t k = add_one_reply(out, SPOOF_RESULT, 1, SPOOF_RESULT, 0);
			for (uint32_t s = 1; s < 64; s++) {
				if (s == h.session)
					continue;
				struct ava_wire_header spoof = r;
				spoof.session = s;
				spoof.seq = SPOOF_SEQ;
				spoof.call_id = sleep_ms;
				fake_send(&spoof, out, 4);
				spoof.call_id = add_one;
				fake_send(&spoof, out, k);
			}
			n = add_one_reply(out, 0, 1, x + 1, 0);
			fake_send(&r, out, n);
		} else if (!strcmp(mode, "trailing")) {
			n = add_one_reply(out, 0, 1, x + 1, 1);
			fake_send(&r, out, n);
		} else if (!strcmp(mode, "unknown-seq")) {
			r.seq += 1000;
			fake_send(&r, out, n);
		} else if (!strcmp(mode, "session-zero")) {
			r.session = 0;
			fake_send(&r, out, n);
		} else if (!strcmp(mode, "count-mismatch")) {
			n = add_one_reply(out, 0, 2, x + 1, 0);
			fake_send(&r, out, n);
		} else if (!strcmp(mode, "bad-magic")) {
			r.magic = 0x12345678;
			r.version = AVA_WIRE_VERSION;
			fake_send_raw_header(&r);
		} else if (!strcmp(mode, "oversized")) {
			r.magic = AVA_WIRE_MAGIC;
			r.version = AVA_WIRE_VERSION;
			r.len_bytes = AVA_WIRE_MAX_PAYLOAD_BYTES + 1;
			fake_send_raw_header(&r);
		} else if (!strcmp(mode, "callback-bad-id")) {
			struct ava_wire_header cb = { .kind = AVA_WIRE_CALLBACK,
						      .call_id = abi->n_callbacks + 3,
						      .seq = 1,
						      .session = h.session };
			fake_send(&cb, NULL, 0);
		} else if (!strcmp(mode, "wrong-kind")) {
			struct ava_wire_header bye = { .kind = AVA_WIRE_BYE, .session = h.session };
			fake_send(&bye, "bye", 3);
		} else if (!strcmp(mode, "wrong-call-id")) {
			r.call_id = sleep_ms;
			fake_send(&r, out, n);
		} else if (!strcmp(mode, "status-payload")) {
			r.status = AVA_STATUS_BAD_HANDLE;
			fake_send(&r, out, n);
		} else if (!strcmp(mode, "data-unknown")) {
			/* DATA naming a transfer no CALL of this session asked for. */
			uint64_t id = 1;
			struct ava_wire_header d = { .kind = AVA_WIRE_DATA,
						     .call_id = h.call_id,
						     .session = h.session };
			uint8_t data[12] = { 0 };
			memcpy(data, &id, 8);
			fake_send(&d, data, sizeof(data));
		} else if (!strcmp(mode, "data-short")) {
			/* DATA too short to hold a transfer id. */
			struct ava_wire_header d = { .kind = AVA_WIRE_DATA,
						     .call_id = h.call_id,
						     .session = h.session };
			fake_send(&d, "abc", 3);
		} else if (!strcmp(mode, "output-seq")) {
			/* OUTPUT carries no seq (or call id, thread, flags, status). */
			struct ava_wire_header o = { .kind = AVA_WIRE_OUTPUT,
						     .seq = h.seq,
						     .session = h.session };
			fake_send(&o, "hello\n", 6);
		} else if (!strcmp(mode, "output-big")) {
			/* OUTPUT over the cap (a server must split longer output). */
			static uint8_t big[AVA_WIRE_OUTPUT_MAX_BYTES + 1];
			struct ava_wire_header o = { .kind = AVA_WIRE_OUTPUT,
						     .session = h.session };
			memset(big, 'x', sizeof(big));
			fake_send(&o, big, sizeof(big));
		} else if (!strncmp(mode, "empty-", 6)) {
			/*
			 * Issue 10: one frame with no payload at all (len_bytes 0, so
			 * the router's payload pointer is NULL on main; NULL + 0 is
			 * undefined behaviour, fatal in the sanitizer build).
			 */
			static const struct {
				const char *name;
				uint16_t kind;
			} kinds[] = {
				{ "empty-reply", AVA_WIRE_REPLY },
				{ "empty-callback", AVA_WIRE_CALLBACK },
				{ "empty-usage", AVA_WIRE_USAGE },
				{ "empty-data", AVA_WIRE_DATA },
				{ "empty-output", AVA_WIRE_OUTPUT },
				{ "empty-hello", AVA_WIRE_HELLO },
				{ "empty-bye", AVA_WIRE_BYE },
				{ "empty-session-open", AVA_WIRE_SESSION_OPEN },
				{ "empty-chunk", AVA_WIRE_CHUNK },
			};
			struct ava_wire_header e = { .session = h.session };
			for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
				if (!strcmp(mode, kinds[k].name))
					e.kind = kinds[k].kind;
			}
			if (e.kind == AVA_WIRE_REPLY) {
				e.call_id = h.call_id;
				e.seq = h.seq;
			} else if (e.kind == AVA_WIRE_USAGE) {
				e.call_id = scale;
				e.seq = h.seq;
			} else if (e.kind == AVA_WIRE_CALLBACK) {
				e.seq = 1; /* callback 0, avatest_visit_cb */
			}
			fake_send(&e, NULL, 0);
		} else if (!strcmp(mode, "async-reply")) {
			r.flags = AVA_WIRE_F_ASYNC;
			fake_send(&r, out, n);
		}
		/* Then idle: the router is expected to kill us. */
	}
}

/* ---- the test ---- */

static struct rt_router g_r;

struct bad_mode {
	const char *tenant;
	const char *log_reason;
};

static const struct bad_mode modes[] = {
	{ "trailing", "REPLY to avatest_add_one" },
	{ "unknown-seq", "no such outstanding call" },
	{ "session-zero", "with session 0" },
	{ "count-mismatch", "REPLY to avatest_add_one" },
	{ "bad-magic", "bad frame header" },
	{ "oversized", "bad frame header" },
	{ "callback-bad-id", "bad callback id" },
	{ "wrong-kind", "unexpected BYE" },
	{ "async-reply", "with flags" },
	{ "wrong-call-id", "REPLY with call id" },
	{ "status-payload", "with status bad handle and a payload" },
	{ "usage-len", "USAGE with a 4-byte payload" },
	{ "usage-fn", "USAGE for fn 1, which is not a device_time call" },
	{ "usage-session", "USAGE for session 2147483647, which was never opened" },
	{ "data-unknown", "no such outstanding transfer" },
	{ "data-short", "no transfer id" },
	{ "output-seq", "OUTPUT with 6 bytes" },
	{ "output-big", "OUTPUT with 65537 bytes" },
	{ "empty-reply", "REPLY to avatest_add_one" },
	{ "empty-callback", "CALLBACK avatest_visit_cb" },
	{ "empty-usage", "USAGE with a 0-byte payload" },
	{ "empty-data", "no transfer id" },
	{ "empty-output", "OUTPUT with 0 bytes" },
	{ "empty-hello", "unexpected HELLO" },
	{ "empty-bye", "unexpected BYE" },
	{ "empty-session-open", "unexpected SESSION_OPEN" },
	{ "empty-chunk", "unexpected CHUNK" },
};
#define N_MODES (sizeof(modes) / sizeof(modes[0]))

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--fd"))
		return fake_server(argv[0], argv[2]);

	const char *router, *real_api_dir;
	struct ava_abi_api *abi;
	rt_init(argc, argv, &router, &real_api_dir, &abi);

	/* A private API folder: the real manifest, this program as the server. */
	char api_dir[PATH_MAX], self[PATH_MAX], path[PATH_MAX + 32], target[PATH_MAX + 32];
	snprintf(api_dir, sizeof(api_dir), "%s/ava-rt-api-XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	RT_CHECK(mkdtemp(api_dir) != NULL, "mkdtemp: %s", strerror(errno));
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	RT_CHECK(n > 0, "readlink /proc/self/exe");
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/ava-server-avatest", api_dir);
	RT_CHECK(symlink(self, path) == 0, "symlink: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/avatest.abi", api_dir);
	RT_CHECK(realpath(real_api_dir, target) != NULL, "realpath %s", real_api_dir);
	strncat(target, "/avatest.abi", sizeof(target) - strlen(target) - 1);
	RT_CHECK(symlink(target, path) == 0, "symlink: %s", strerror(errno));

	const char *tenants[4 + N_MODES];
	tenants[0] = "good";
	tenants[1] = "spray";
	for (size_t i = 0; i < N_MODES; i++)
		tenants[2 + i] = modes[i].tenant;
	tenants[2 + N_MODES] = "slow";
	tenants[3 + N_MODES] = "bigreply";
	rt_router_start(&g_r, router, api_dir, tenants, 4 + (int)N_MODES, "--verbose");

	int good = rt_connect(&g_r, 0);
	RT_CHECK(rt_hello(good, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO good");
	RT_CHECK(rt_add_one(good, abi, 1, 1) == 0, "add_one good");
	pid_t pid_good = rt_server_pid_of_last_session(&g_r, "good");

	for (size_t i = 0; i < N_MODES; i++) {
		int fd = rt_connect(&g_r, 2 + (int)i);
		RT_CHECK(rt_hello(fd, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO %s",
			 modes[i].tenant);
		pid_t pid = rt_server_pid_of_last_session(&g_r, modes[i].tenant);
		RT_CHECK(rt_add_one(fd, abi, 7, 3) == -ECONNABORTED, "%s: call should end in BYE",
			 modes[i].tenant);
		char needle[96];
		snprintf(needle, sizeof(needle),
			 "tenant %s api avatest: server pid %ld: ", modes[i].tenant, (long)pid);
		RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, NULL, 0, needle, modes[i].log_reason,
				     "killing server", NULL),
			 "%s: no log line '%s ... %s ... killing server'", modes[i].tenant, needle,
			 modes[i].log_reason);
		snprintf(needle, sizeof(needle), "server pid %ld killed by signal 9", (long)pid);
		RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, NULL, 0, needle, NULL),
			 "%s: server not killed", modes[i].tenant);
		close(fd);
		RT_CHECK(rt_add_one(good, abi, (int32_t)i, 10 + i) == 0, "%s: good tenant broke",
			 modes[i].tenant);
		fprintf(stderr, "ok: server misbehaviour '%s' killed only its own server\n",
			modes[i].tenant);
	}
	RT_CHECK(kill(pid_good, 0) == 0, "good tenant's server died");
	RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, NULL, 0, "tenant good api avatest: session",
			     "avatest_scale used 123456789 ns of device time", NULL),
		 "good: USAGE not counted");

	/* A server naming other sessions reaches nobody: the good call gets its real reply. */
	{
		const struct ava_abi_fn *fn = rt_fn(abi, "avatest_sleep_ms");
		struct ava_wire_buf b;
		ava_wire_buf_init(&b);
		rt_put_u32(&b, 1500);
		struct ava_wire_header h = { .kind = AVA_WIRE_CALL,
					     .call_id = fn->id,
					     .seq = SPOOF_SEQ,
					     .thread_id = 1,
					     .len_bytes = (uint32_t)b.len };
		RT_CHECK(rt_send_frame(good, &h, b.data, b.len) == 0, "send sleep");
		ava_wire_buf_fini(&b);
		int spray = rt_connect(&g_r, 1);
		RT_CHECK(rt_hello(spray, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO spray");
		RT_CHECK(rt_add_one(spray, abi, 20, SPOOF_SEQ) == 0, "spray's own call");
		uint8_t *p;
		RT_CHECK(rt_recv_frame(good, RT_TIMEOUT_MS, &h, &p) == 0, "good: no reply");
		RT_CHECK(h.kind == AVA_WIRE_REPLY && h.seq == SPOOF_SEQ && h.status == 0 &&
			     h.len_bytes == 4 && p && !memcmp(p, "\0\0\0\0", 4),
			 "good got a foreign frame (kind %u, len %u)", h.kind, h.len_bytes);
		free(p);
		RT_CHECK(rt_add_one(good, abi, 30, 99) == 0, "good after spray");
		RT_CHECK(rt_add_one(spray, abi, 31, 99) == 0, "spray after spray");
		close(spray);
	}

	/*
	 * Backpressure: a server that does not read for 3 s while its guest sends
	 * 4 x 24 MiB. The router pauses the guest past 64 MiB queued, resumes
	 * it when the server drains, and every call completes.
	 */
	{
		const struct ava_abi_fn *fn = rt_fn(abi, "avatest_scale");
		const uint64_t n_floats = 6u << 20; /* 24 MiB */
		int slow = rt_connect(&g_r, 2 + (int)N_MODES);
		RT_CHECK(rt_hello(slow, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO slow");
		struct ava_wire_buf b;
		ava_wire_buf_init(&b);
		rt_put_u64(&b, 0);
		RT_CHECK(ava_wire_put_u8(&b, 1) == 0, "oom");
		rt_put_u64(&b, n_floats);
		uint8_t *in;
		RT_CHECK(ava_wire_reserve(&b, n_floats * 4, &in) == 0, "oom");
		memset(in, 0, n_floats * 4);
		rt_put_out_buffer(&b, n_floats);
		rt_put_u64(&b, n_floats);
		rt_put_u32(&b, 0x40000000u); /* 2.0f */
		for (uint64_t seq = 1; seq <= 4; seq++) {
			struct ava_wire_header h = { .kind = AVA_WIRE_CALL,
						     .call_id = fn->id,
						     .seq = seq,
						     .thread_id = 1,
						     .len_bytes = (uint32_t)b.len };
			RT_CHECK(rt_send_frame(slow, &h, b.data, b.len) == 0, "send scale %llu",
				 (unsigned long long)seq);
		}
		ava_wire_buf_fini(&b);
		for (uint64_t seq = 1; seq <= 4; seq++) {
			struct ava_wire_header h;
			uint8_t *p;
			RT_CHECK(rt_recv_frame(slow, 3 * RT_TIMEOUT_MS, &h, &p) == 0,
				 "scale reply");
			RT_CHECK(h.kind == AVA_WIRE_REPLY && h.seq == seq && h.status == 0 &&
				     h.len_bytes == 12 + n_floats * 4,
				 "scale reply %llu: kind %u seq %llu len %u",
				 (unsigned long long)seq, h.kind, (unsigned long long)h.seq,
				 h.len_bytes);
			free(p);
		}
		RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, NULL, 0, "tenant slow", "pausing guests",
				     NULL),
			 "the router never paused the guest of a server that did not read");
		RT_CHECK(rt_log_find(&g_r, RT_TIMEOUT_MS, NULL, 0, "tenant slow", "resuming guests",
				     NULL),
			 "the router never resumed the guest");
		RT_CHECK(rt_add_one(slow, abi, 1, 5) == 0, "slow after backpressure");
		RT_CHECK(rt_add_one(good, abi, 1, 200) == 0, "good after backpressure");
		close(slow);
		fprintf(stderr, "ok: backpressure paused and resumed the guest of a slow server\n");
	}

	/*
	 * A guest that stops reading: 5 small calls whose replies are 60 MiB each.
	 * Past 64 MiB queued the router stops reading the guest's server; after
	 * 10 s without the guest reading anything it disconnects that guest (and
	 * only it).
	 */
	{
		const struct ava_abi_fn *fn = rt_fn(abi, "avatest_device_name");
		const uint64_t n_bytes = 60u << 20;
		int lazy = rt_connect(&g_r, 3 + (int)N_MODES);
		RT_CHECK(rt_hello(lazy, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO bigreply");
		struct ava_wire_buf b;
		ava_wire_buf_init(&b);
		rt_put_u64(&b, 0);
		rt_put_out_buffer(&b, n_bytes);
		rt_put_u64(&b, n_bytes);
		rt_put_out_buffer(&b, 1);
		for (uint64_t seq = 1; seq <= 5; seq++) {
			struct ava_wire_header h = { .kind = AVA_WIRE_CALL,
						     .call_id = fn->id,
						     .seq = seq,
						     .thread_id = 1,
						     .len_bytes = (uint32_t)b.len };
			RT_CHECK(rt_send_frame(lazy, &h, b.data, b.len) == 0, "send device_name");
		}
		ava_wire_buf_fini(&b);
		RT_CHECK(rt_log_find(&g_r, 6 * RT_TIMEOUT_MS, NULL, 0, "tenant bigreply session",
				     "not reading its replies", "; ending session", NULL),
			 "a guest that does not read was not disconnected");
		close(lazy);
		RT_CHECK(rt_add_one(good, abi, 1, 201) == 0, "good after the lazy reader");
		int again = rt_connect(&g_r, 3 + (int)N_MODES);
		RT_CHECK(rt_hello(again, "avatest", abi->hash) == AVA_STATUS_OK, "HELLO again");
		RT_CHECK(rt_add_one(again, abi, 1, 1) == 0, "a new session of the lazy tenant");
		close(again);
		fprintf(stderr, "ok: a guest that stopped reading was disconnected\n");
	}

	close(good);
	rt_router_stop(&g_r);
	snprintf(path, sizeof(path), "%s/ava-server-avatest", api_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/avatest.abi", api_dir);
	unlink(path);
	rmdir(api_dir);
	ava_abi_api_free(abi);
	fprintf(stderr, "test_router_bad_server: ok\n");
	return 0;
}
