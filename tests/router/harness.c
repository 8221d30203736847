/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* pipe2 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct rt_router *g_router; /* stopped on failure */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rt_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%d: check failed: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (g_router) {
		struct rt_router *r = g_router;
		g_router = NULL;
		rt_log_dump(r);
		if (r->pid > 0) {
			kill(r->pid, SIGKILL);
			waitpid(r->pid, NULL, 0);
		}
		for (int i = 0; i < r->n_sock; i++)
			unlink(r->sock[i]);
		unlink(r->log_path);
		unlink(r->admin);
		rmdir(r->dir);
	}
	exit(1);
}

void rt_init(int argc, char **argv, const char **ret_router, const char **ret_api_dir,
	     struct ava_abi_api **ret_abi)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s AVAROUTERD API_DIR [ARGS...]\n", argv[0]);
		exit(2);
	}
	*ret_router = argv[1];
	*ret_api_dir = argv[2];
	signal(SIGPIPE, SIG_IGN);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/ava-server-avatest", argv[2]);
	if (access(path, X_OK) < 0) {
		fprintf(stderr, "skipped: no avatest API server at %s (%s)\n", path,
			strerror(errno));
		exit(77);
	}
	snprintf(path, sizeof(path), "%s/avatest.abi", argv[2]);
	char err[512];
	if (access(path, R_OK) < 0) {
		fprintf(stderr, "skipped: no avatest manifest at %s (%s)\n", path, strerror(errno));
		exit(77);
	}
	if (ava_abi_load(path, ret_abi, err, sizeof(err)) < 0) {
		fprintf(stderr, "cannot load %s: %s\n", path, err);
		exit(1);
	}
	if (access(argv[1], X_OK) < 0) {
		fprintf(stderr, "no avarouterd at %s: %s\n", argv[1], strerror(errno));
		exit(1);
	}
}

void rt_router_start(struct rt_router *r, const char *router, const char *api_dir,
		     const char *const *tenants, int n, const char *extra_arg)
{
	const char *extra[2] = { extra_arg, NULL };
	rt_router_start_args(r, router, api_dir, tenants, n, extra);
}

void rt_router_start_policy(struct rt_router *r, const char *router, const char *api_dir,
			    const char *const *tenants, int n, const char *policy_text)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX], arg[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/ava-rt-policy-XXXXXX.yaml", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemps(path, 5);
	RT_CHECK(fd >= 0, "mkstemps: %s", strerror(errno));
	size_t len = strlen(policy_text);
	RT_CHECK(write(fd, policy_text, len) == (ssize_t)len, "writing %s: %s", path,
		 strerror(errno));
	close(fd);
	snprintf(arg, sizeof(arg), "--policy=%s", path);
	const char *extra[2] = { arg, NULL };
	rt_router_start_args(r, router, api_dir, tenants, n, extra);
	snprintf(r->policy, sizeof(r->policy), "%s", path);
}

void rt_router_start_args(struct rt_router *r, const char *router, const char *api_dir,
			  const char *const *tenants, int n, const char *const *extra)
{
	memset(r, 0, sizeof(*r));
	RT_CHECK(n <= RT_MAX_LISTEN, "too many sockets");
	const char *tmp = getenv("TMPDIR");
	snprintf(r->dir, sizeof(r->dir), "%s/ava-rt-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	RT_CHECK(mkdtemp(r->dir) != NULL, "mkdtemp: %s", strerror(errno));
	RT_CHECK(snprintf(r->log_path, sizeof(r->log_path), "%s/router.log", r->dir) <
		     (int)sizeof(r->log_path),
		 "path too long");
	RT_CHECK(snprintf(r->admin, sizeof(r->admin), "%s/admin.sock", r->dir) <
		     (int)sizeof(r->admin),
		 "path too long");
	char *argv[8 + RT_MAX_EXTRA_ARGS + 2 * RT_MAX_LISTEN];
	char listen_args[RT_MAX_LISTEN][PATH_MAX + 80];
	int argc = 0;
	argv[argc++] = (char *)router;
	argv[argc++] = (char *)"--api-dir";
	argv[argc++] = (char *)api_dir;
	for (int i = 0; i < n; i++) {
		RT_CHECK(snprintf(r->sock[i], sizeof(r->sock[i]), "%s/s%d.sock", r->dir, i) <
			     (int)sizeof(r->sock[i]),
			 "path too long");
		if (tenants[i])
			snprintf(listen_args[i], sizeof(listen_args[i]), "%s=%s", r->sock[i],
				 tenants[i]);
		else
			snprintf(listen_args[i], sizeof(listen_args[i]), "%s", r->sock[i]);
		argv[argc++] = (char *)"--listen";
		argv[argc++] = listen_args[i];
	}
	r->n_sock = n;
	int ready[2];
	RT_CHECK(pipe2(ready, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	char fd_arg[16];
	argv[argc++] = (char *)"--ready-fd";
	argv[argc++] = fd_arg;
	for (int i = 0; extra && extra[i]; i++) {
		RT_CHECK(i < RT_MAX_EXTRA_ARGS, "too many router arguments");
		argv[argc++] = (char *)extra[i];
	}
	argv[argc] = NULL;
	pid_t pid = fork();
	RT_CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int log_fd = open(r->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
		if (log_fd < 0 || dup2(log_fd, 2) < 0)
			_exit(127);
		int fd = dup(ready[1]);
		if (fd < 0)
			_exit(127);
		snprintf(fd_arg, sizeof(fd_arg), "%d", fd);
		execv(router, argv);
		_exit(127);
	}
	r->pid = pid;
	g_router = r;
	close(ready[1]);
	char buf[8] = { 0 };
	size_t got = 0;
	int64_t deadline = now_ms() + RT_TIMEOUT_MS;
	while (got < 6 && now_ms() < deadline) {
		struct pollfd pfd = { .fd = ready[0], .events = POLLIN };
		if (poll(&pfd, 1, (int)(deadline - now_ms())) <= 0)
			break;
		ssize_t k = read(ready[0], buf + got, 6 - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(ready[0]);
	RT_CHECK(got == 6 && !memcmp(buf, "ready\n", 6), "avarouterd did not report ready");
}

int rt_router_alive(struct rt_router *r)
{
	if (r->pid <= 0)
		return 0;
	int status;
	pid_t w = waitpid(r->pid, &status, WNOHANG);
	if (w == r->pid) {
		fprintf(stderr, "router exited: status 0x%x\n", (unsigned)status);
		r->pid = 0;
		return 0;
	}
	return w == 0;
}

void rt_router_stop(struct rt_router *r)
{
	RT_CHECK(rt_router_alive(r), "router died before the end of the test");
	RT_CHECK(kill(r->pid, SIGTERM) == 0, "kill: %s", strerror(errno));
	int status = 0;
	int64_t deadline = now_ms() + 3 * RT_TIMEOUT_MS;
	pid_t w;
	while ((w = waitpid(r->pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
		usleep(10000);
	RT_CHECK(w == r->pid, "router did not exit within %d s of SIGTERM",
		 3 * RT_TIMEOUT_MS / 1000);
	r->pid = 0;
	RT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "router exit status 0x%x",
		 (unsigned)status);
	for (int i = 0; i < r->n_sock; i++) {
		struct stat st;
		RT_CHECK(lstat(r->sock[i], &st) < 0, "router left %s behind", r->sock[i]);
	}
	struct stat st;
	RT_CHECK(lstat(r->admin, &st) < 0, "router left %s behind", r->admin);
	g_router = NULL;
	unlink(r->log_path);
	rmdir(r->dir);
	if (r->policy[0])
		unlink(r->policy);
}

int rt_connect(struct rt_router *r, int i)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	RT_CHECK(snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", r->sock[i]) <
		     (int)sizeof(addr.sun_path),
		 "socket path too long: %s", r->sock[i]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	RT_CHECK(fd >= 0, "socket: %s", strerror(errno));
	RT_CHECK(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0, "connect %s: %s",
		 r->sock[i], strerror(errno));
	return fd;
}

int rt_send_raw(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int rt_send_frame(int fd, const struct ava_wire_header *hdr, const void *payload, size_t len)
{
	struct ava_wire_header h = *hdr;
	if (!h.magic)
		h.magic = AVA_WIRE_MAGIC;
	if (!h.version)
		h.version = AVA_WIRE_VERSION;
	uint8_t *buf = malloc(AVA_WIRE_HEADER_BYTES + len);
	if (!buf)
		return -ENOMEM;
	ava_wire_header_encode(&h, buf);
	if (len)
		memcpy(buf + AVA_WIRE_HEADER_BYTES, payload, len);
	int r = rt_send_raw(fd, buf, AVA_WIRE_HEADER_BYTES + len);
	free(buf);
	return r;
}

/* Reads exactly len bytes before the deadline. */
static int recv_exact(int fd, void *buf, size_t len, int64_t deadline)
{
	uint8_t *p = buf;
	while (len) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ETIMEDOUT;
		ssize_t k = recv(fd, p, len, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == ECONNRESET)
			return -EPIPE;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EPIPE;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

int rt_recv_frame(int fd, int timeout_ms, struct ava_wire_header *ret_hdr, uint8_t **ret_payload)
{
	int64_t deadline = now_ms() + timeout_ms;
	uint8_t hb[AVA_WIRE_HEADER_BYTES];
	*ret_payload = NULL;
	int r = recv_exact(fd, hb, sizeof(hb), deadline);
	if (r < 0)
		return r;
	const char *reason = NULL;
	if (ava_wire_header_decode(hb, AVA_WIRE_MAX_PAYLOAD_BYTES, ret_hdr, &reason) < 0) {
		fprintf(stderr, "bad header from the router: %s\n", reason ? reason : "?");
		return -EPROTO;
	}
	if (ret_hdr->len_bytes) {
		*ret_payload = malloc(ret_hdr->len_bytes + 1);
		if (!*ret_payload)
			return -ENOMEM;
		r = recv_exact(fd, *ret_payload, ret_hdr->len_bytes, deadline);
		if (r < 0) {
			free(*ret_payload);
			*ret_payload = NULL;
			return r;
		}
		(*ret_payload)[ret_hdr->len_bytes] = 0;
	}
	return 0;
}

int rt_hello(int fd, const char *api, uint64_t hash)
{
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_u32(&b, (uint32_t)strlen(api));
	RT_CHECK(ava_wire_put_bytes(&b, api, strlen(api)) == 0, "oom");
	rt_put_u64(&b, hash);
	struct ava_wire_header h = { .kind = AVA_WIRE_HELLO, .len_bytes = (uint32_t)b.len };
	int r = rt_send_frame(fd, &h, b.data, b.len);
	ava_wire_buf_fini(&b);
	if (r < 0)
		return r;
	uint8_t *p;
	r = rt_recv_frame(fd, RT_TIMEOUT_MS, &h, &p);
	if (r < 0)
		return r;
	free(p);
	if (h.kind != AVA_WIRE_HELLO_REPLY)
		return -EPROTO;
	return h.status;
}

int rt_wait_bye(int fd, int timeout_ms, char *why, size_t why_len)
{
	int64_t deadline = now_ms() + timeout_ms;
	if (why && why_len)
		why[0] = '\0';
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct ava_wire_header h;
		uint8_t *p;
		int r = rt_recv_frame(fd, (int)left, &h, &p);
		if (r < 0)
			return r;
		if (h.kind == AVA_WIRE_BYE) {
			if (why && why_len)
				snprintf(why, why_len, "%s", p ? (char *)p : "");
			free(p);
			return h.status;
		}
		free(p);
	}
}

int rt_call(int fd, const struct ava_abi_fn *fn, uint64_t seq, const void *payload, size_t len,
	    struct ava_wire_header *ret_hdr, uint8_t **ret_payload)
{
	struct ava_wire_header h = {
		.kind = AVA_WIRE_CALL,
		.len_bytes = (uint32_t)len,
		.call_id = fn->id,
		.seq = seq,
		.thread_id = 1,
	};
	int r = rt_send_frame(fd, &h, payload, len);
	if (r < 0)
		return r;
	for (;;) {
		r = rt_recv_frame(fd, RT_TIMEOUT_MS, ret_hdr, ret_payload);
		if (r < 0)
			return r;
		if (ret_hdr->kind == AVA_WIRE_REPLY && ret_hdr->seq == seq)
			return ret_hdr->status;
		if (ret_hdr->kind == AVA_WIRE_BYE) {
			fprintf(stderr, "BYE (%s): %s\n", ava_wire_status_name(ret_hdr->status),
				*ret_payload ? (char *)*ret_payload : "");
			free(*ret_payload);
			*ret_payload = NULL;
			return -ECONNABORTED;
		}
		free(*ret_payload);
		*ret_payload = NULL;
	}
}

int rt_add_one(int fd, const struct ava_abi_api *abi, int32_t x, uint64_t seq)
{
	const struct ava_abi_fn *fn = rt_fn(abi, "avatest_add_one");
	struct ava_wire_buf b;
	ava_wire_buf_init(&b);
	rt_put_i32(&b, x);
	rt_put_out_buffer(&b, 1);
	struct ava_wire_header h;
	uint8_t *p = NULL;
	int r = rt_call(fd, fn, seq, b.data, b.len, &h, &p);
	ava_wire_buf_fini(&b);
	if (r != AVA_STATUS_OK) {
		free(p);
		return r < 0 ? r : -EIO;
	}
	/* Result (i32 status), then the out buffer: u64 count, i32 y. */
	struct ava_wire_cursor c = { p, p + h.len_bytes };
	const uint8_t *st, *y;
	uint64_t count;
	int ok = ava_wire_get_bytes(&c, 4, &st) == 0 && ava_wire_get_u64(&c, &count) == 0 &&
		 count == 1 && ava_wire_get_bytes(&c, 4, &y) == 0 && c.cur == c.end;
	int32_t status = 0, yv = 0;
	if (ok) {
		memcpy(&status, st, 4);
		memcpy(&yv, y, 4);
	}
	free(p);
	if (!ok || status != 0 || yv != x + 1) {
		fprintf(stderr, "add_one(%d): bad reply (ok %d, status %d, y %d)\n", x, ok, status,
			yv);
		return -EIO;
	}
	return 0;
}

void rt_put_i32(struct ava_wire_buf *b, int32_t v)
{
	RT_CHECK(ava_wire_put_u32(b, (uint32_t)v) == 0, "oom");
}

void rt_put_u32(struct ava_wire_buf *b, uint32_t v)
{
	RT_CHECK(ava_wire_put_u32(b, v) == 0, "oom");
}

void rt_put_u64(struct ava_wire_buf *b, uint64_t v)
{
	RT_CHECK(ava_wire_put_u64(b, v) == 0, "oom");
}

void rt_put_out_buffer(struct ava_wire_buf *b, uint64_t count)
{
	RT_CHECK(ava_wire_put_u8(b, 1) == 0 && ava_wire_put_u64(b, count) == 0, "oom");
}

const struct ava_abi_fn *rt_fn(const struct ava_abi_api *abi, const char *name)
{
	const struct ava_abi_fn *fn = ava_abi_find_fn(abi, name);
	RT_CHECK(fn != NULL, "manifest has no %s", name);
	return fn;
}

static char *read_log(struct rt_router *r)
{
	FILE *f = fopen(r->log_path, "r");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

int rt_log_find(struct rt_router *r, int timeout_ms, char *line, size_t line_len, ...)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		char *log = read_log(r);
		int found = 0;
		for (char *s = log, *e; s && *s; s = e + 1) {
			e = strchr(s, '\n');
			if (!e)
				break; /* an incomplete last line */
			*e = '\0';
			va_list ap;
			va_start(ap, line_len);
			int all = 1;
			const char *needle;
			while ((needle = va_arg(ap, const char *)))
				all &= strstr(s, needle) != NULL;
			va_end(ap);
			if (all) {
				found = 1;
				if (line && line_len)
					snprintf(line, line_len, "%s", s);
			}
		}
		free(log);
		if (found)
			return 1;
		if (now_ms() >= deadline)
			return 0;
		usleep(20000);
	}
}

int rt_log_count(struct rt_router *r, const char *needle)
{
	char *log = read_log(r);
	int n = 0;
	for (char *s = log; s && (s = strstr(s, needle)); s += strlen(needle))
		n++;
	free(log);
	return n;
}

pid_t rt_server_pid_of_last_session(struct rt_router *r, const char *tenant)
{
	char needle[128], line[1024];
	snprintf(needle, sizeof(needle), "tenant %s session ", tenant);
	if (!rt_log_find(r, RT_TIMEOUT_MS, line, sizeof(line), needle, "open, server pid ", NULL))
		return -1;
	const char *p = strstr(line, "open, server pid ");
	return (pid_t)strtol(p + strlen("open, server pid "), NULL, 10);
}

void rt_log_dump(struct rt_router *r)
{
	char *log = read_log(r);
	fprintf(stderr, "---- router log (%s) ----\n%s---- end of router log ----\n", r->log_path,
		log ? log : "(unreadable)\n");
	free(log);
}

int rt_run(char *out, size_t out_len, const char *const *argv)
{
	int pipefd[2];
	RT_CHECK(pipe2(pipefd, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	RT_CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(pipefd[1], 1) < 0 || dup2(pipefd[1], 2) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	size_t got = 0;
	int64_t deadline = now_ms() + 3 * RT_TIMEOUT_MS;
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		int64_t left = deadline - now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		char buf[4096];
		ssize_t k = read(pipefd[0], buf, sizeof(buf));
		if (k <= 0)
			break;
		size_t take = (size_t)k;
		if (out_len && take > out_len - 1 - got)
			take = out_len - 1 - got;
		if (out_len)
			memcpy(out + got, buf, take);
		got += take;
	}
	close(pipefd[0]);
	if (out_len)
		out[got] = '\0';
	int status = 0;
	pid_t w;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
		usleep(10000);
	if (w != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		RT_CHECK(0, "%s did not finish within %d s", argv[0], 3 * RT_TIMEOUT_MS / 1000);
	}
	RT_CHECK(WIFEXITED(status), "%s killed by signal %d", argv[0], WTERMSIG(status));
	return WEXITSTATUS(status);
}
