/* SPDX-License-Identifier: MIT */
/*
 * avactl: the operator's command line for avarouterd (docs/router.md,
 * "avactl"; docs/operator-guide.md).
 *
 *   avactl policy check FILE [--api-dir DIR]
 *   avactl [--admin PATH] policy reload [FILE]
 *   avactl [--admin PATH] status [--json]
 *
 * Exit status: 0 done; 1 the command failed (problems in a policy, the
 * router rejected a reload, the router could not be reached); 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include <ava/abi.h>
#include <ava/policy.h>

#include "admin-proto.h"

#define AVACTL_TIMEOUT_MS 30000

static const char *prog = "avactl";

static void usage(FILE *out)
{
	fprintf(out,
		"usage: avactl policy check FILE [--api-dir DIR]\n"
		"       avactl [--admin PATH] policy reload [FILE]\n"
		"       avactl [--admin PATH] status [--json]\n"
		"\n"
		"  policy check FILE   validate a policy file; every problem is printed as\n"
		"                      FILE:LINE:COL: error: ...; --api-dir DIR also checks API\n"
		"                      and function names against DIR's <api>.abi manifests\n"
		"  policy reload       make the router re-read its policy file, or switch to\n"
		"                      FILE; a file with errors is rejected and changes nothing\n"
		"  status              tenants, API servers and devices; --json for programs\n"
		"  --admin PATH        the router's admin socket (default $AVA_ADMIN_SOCKET,\n"
		"                      else %s)\n",
		AVA_ADMIN_DEFAULT_SOCKET);
}

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- talking to the router ---- */

static int connect_admin(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path))
		die("admin socket path too long: %s", path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;
		if (e == EACCES)
			die("cannot connect to the router's admin socket %s: %s (it serves only "
			    "root and the router's own user)",
			    path, strerror(e));
		die("cannot connect to the router's admin socket %s: %s (is avarouterd running? "
		    "use --admin PATH or $AVA_ADMIN_SOCKET)",
		    path, strerror(e));
	}
	return fd;
}

/* Moves len bytes in direction out (1) or in (0) before the deadline. */
static int xfer(int fd, void *buf, size_t len, int out, int64_t deadline)
{
	size_t done = 0;
	while (done < len) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = fd, .events = out ? POLLOUT : POLLIN };
		int p = poll(&pfd, 1, (int)left);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			return -errno;
		if (p == 0)
			return -ETIMEDOUT;
		ssize_t n = out ? send(fd, (uint8_t *)buf + done, len - done, MSG_NOSIGNAL)
				: recv(fd, (uint8_t *)buf + done, len - done, 0);
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return errno == ECONNRESET ? -EPIPE : -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Sends req and returns the router's Response (caller frees); exits on failure. */
static Ava__Admin__Response *transact(const char *path, Ava__Admin__Request *req)
{
	int fd = connect_admin(path);
	int64_t deadline = now_ms() + AVACTL_TIMEOUT_MS;
	size_t n = ava__admin__request__get_packed_size(req);
	uint8_t *buf = malloc(AVA_ADMIN_LEN_BYTES + n);
	if (!buf)
		die("out of memory");
	ava_admin_put_len(buf, (uint32_t)n);
	ava__admin__request__pack(req, buf + AVA_ADMIN_LEN_BYTES);
	int r = xfer(fd, buf, AVA_ADMIN_LEN_BYTES + n, 1, deadline);
	free(buf);
	/* A refusal is sent on connect: read it even if the request could not be written. */
	uint8_t len_buf[AVA_ADMIN_LEN_BYTES];
	int rr = xfer(fd, len_buf, sizeof(len_buf), 0, deadline);
	if (rr < 0) {
		close(fd);
		if (r < 0 && r != -EPIPE)
			die("sending to the router at %s: %s", path, strerror(-r));
		die("no answer from the router at %s: %s", path,
		    rr == -EPIPE ? "it closed the connection" : strerror(-rr));
	}
	uint32_t len = ava_admin_get_len(len_buf);
	if (len > AVA_ADMIN_MAX_RESPONSE_BYTES)
		die("the router at %s sent a response of %" PRIu32 " bytes (limit %u)", path, len,
		    AVA_ADMIN_MAX_RESPONSE_BYTES);
	uint8_t *body = malloc(len ? len : 1);
	if (!body)
		die("out of memory");
	rr = xfer(fd, body, len, 0, deadline);
	close(fd);
	if (rr < 0)
		die("reading the router's answer from %s: %s", path,
		    rr == -EPIPE ? "connection closed mid-message" : strerror(-rr));
	Ava__Admin__Response *resp = ava__admin__response__unpack(NULL, len, body);
	free(body);
	if (!resp)
		die("the router at %s sent a response that does not decode", path);
	if (resp->code == AVA__ADMIN__CODE__CODE_DENIED)
		die("the router refused: %s", resp->error);
	return resp;
}

static const char *code_name(Ava__Admin__Code code)
{
	switch (code) {
	case AVA__ADMIN__CODE__CODE_OK:
		return "ok";
	case AVA__ADMIN__CODE__CODE_BAD_REQUEST:
		return "bad request";
	case AVA__ADMIN__CODE__CODE_UNKNOWN_COMMAND:
		return "unknown command (the router is older than avactl?)";
	case AVA__ADMIN__CODE__CODE_REJECTED:
		return "rejected";
	case AVA__ADMIN__CODE__CODE_DENIED:
		return "denied";
	case AVA__ADMIN__CODE__CODE_INTERNAL:
		return "internal error";
	default:
		return "unknown code";
	}
}

/* ---- JSON ---- */

/* Writes s as a JSON string: escapes, and U+FFFD for bytes that are not UTF-8. */
static void json_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', out);
	while (*p) {
		unsigned char ch = *p;
		if (ch == '"' || ch == '\\') {
			fputc('\\', out);
			fputc(ch, out);
			p++;
		} else if (ch == '\n') {
			fputs("\\n", out);
			p++;
		} else if (ch == '\t') {
			fputs("\\t", out);
			p++;
		} else if (ch == '\r') {
			fputs("\\r", out);
			p++;
		} else if (ch < 0x20 || ch == 0x7f) {
			fprintf(out, "\\u%04x", ch);
			p++;
		} else if (ch < 0x80) {
			fputc(ch, out);
			p++;
		} else {
			/* A well-formed UTF-8 sequence passes; anything else is replaced. */
			int n = ch >= 0xf0 && ch <= 0xf4 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc2 ? 2 : 0;
			if (ch > 0xf4)
				n = 0;
			int ok = n > 0;
			for (int i = 1; ok && i < n; i++)
				ok = (p[i] & 0xc0) == 0x80;
			if (ok && n == 3 &&
			    ((ch == 0xe0 && p[1] < 0xa0) || (ch == 0xed && p[1] >= 0xa0)))
				ok = 0; /* overlong, or a surrogate */
			if (ok && n == 4 &&
			    ((ch == 0xf0 && p[1] < 0x90) || (ch == 0xf4 && p[1] >= 0x90)))
				ok = 0; /* overlong, or past U+10FFFF */
			if (ok) {
				fwrite(p, 1, (size_t)n, out);
				p += n;
			} else {
				fputs("\\ufffd", out);
				p++;
			}
		}
	}
	fputc('"', out);
}

/* A limit: a number, or null for unlimited. */
static void json_limit(FILE *out, uint64_t v)
{
	if (v == UINT64_MAX)
		fputs("null", out);
	else
		fprintf(out, "%" PRIu64, v);
}

static void status_json(FILE *out, const Ava__Admin__StatusReply *st)
{
	fputs("{\n  \"policy\": {\"file\": ", out);
	json_str(out, st->policy_file);
	fprintf(out,
		", \"generation\": %" PRIu64 ", \"refuse_unknown\": %s, \"last_reload_error\": ",
		st->policy_generation, st->refuse_unknown ? "true" : "false");
	json_str(out, st->last_reload_error);
	fprintf(out, "},\n  \"uptime_ms\": %" PRIu64 ",\n  \"tenants\": [", st->uptime_ms);
	for (size_t i = 0; i < st->n_tenants; i++) {
		const Ava__Admin__TenantStatus *t = st->tenants[i];
		fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
		json_str(out, t->name);
		fputs(", \"matched\": ", out);
		json_str(out, t->matched);
		fprintf(out,
			", \"policy_line\": %" PRIu32 ", \"weight\": %" PRIu32
			", \"sessions\": %" PRIu32 ", \"calls\": %" PRIu64
			", \"bytes_in\": %" PRIu64 ", \"bytes_out\": %" PRIu64 ", \"refusals\": {",
			t->policy_line, t->weight, t->sessions, t->calls, t->bytes_in,
			t->bytes_out);
		for (size_t k = 0; k < t->n_refusals; k++) {
			if (k)
				fputs(", ", out);
			json_str(out, t->refusals[k]->reason);
			fprintf(out, ": %" PRIu64, t->refusals[k]->count);
		}
		fprintf(out,
			"}, \"device_time_ns\": %" PRIu64 ", \"memory_used\": %" PRIu64
			", \"memory_quota\": ",
			t->device_time_ns, t->memory_used);
		json_limit(out, t->memory_quota);
		fprintf(out, ", \"objects\": %" PRIu64 ", \"max_objects\": ", t->objects);
		json_limit(out, t->max_objects);
		fprintf(out,
			", \"memory_peak\": %" PRIu64 ", \"delayed\": %" PRIu64
			", \"delay_ns\": %" PRIu64 ", \"held\": %" PRIu64,
			t->memory_peak, t->delayed, t->delay_ns, t->held);
		fputc('}', out);
	}
	fputs(st->n_tenants ? "\n  ],\n  \"servers\": [" : "],\n  \"servers\": [", out);
	for (size_t i = 0; i < st->n_servers; i++) {
		const Ava__Admin__ServerStatus *s = st->servers[i];
		fputs(i ? ",\n    {\"tenant\": " : "\n    {\"tenant\": ", out);
		json_str(out, s->tenant);
		fputs(", \"api\": ", out);
		json_str(out, s->api);
		fprintf(out,
			", \"pid\": %" PRId32 ", \"sessions\": %" PRIu32
			", \"queue_bytes\": %" PRIu64 ", \"device\": ",
			s->pid, s->sessions, s->queue_bytes);
		json_str(out, s->device);
		fprintf(out, ", \"shared\": %s, \"exiting\": %s, \"applications\": [",
			s->shared ? "true" : "false", s->exiting ? "true" : "false");
		/* guest_pid, not pid: scripts take a server's "pid" from its line */
		for (size_t k = 0; k < s->n_applications; k++)
			fprintf(out,
				"%s{\"session\": %" PRIu32 ", \"guest_pid\": %" PRId32
				", \"uid\": %" PRIu32 "}",
				k ? ", " : "", s->applications[k]->session, s->applications[k]->pid,
				s->applications[k]->uid);
		fputs("]}", out);
	}
	fputs(st->n_servers ? "\n  ],\n  \"devices\": [" : "],\n  \"devices\": [", out);
	for (size_t i = 0; i < st->n_devices; i++) {
		const Ava__Admin__DeviceStatus *d = st->devices[i];
		fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
		json_str(out, d->name);
		fprintf(out,
			", \"max_inflight\": %" PRIu32 ", \"inflight\": %" PRIu32
			", \"queued\": %" PRIu32 "}",
			d->max_inflight, d->inflight, d->queued);
	}
	fputs(st->n_devices ? "\n  ]\n}\n" : "]\n}\n", out);
}

/* ---- tables ---- */

#define TABLE_MAX_COLS 16

struct table {
	size_t n_cols;
	const char *head[TABLE_MAX_COLS];
	int right[TABLE_MAX_COLS]; /* right-aligned (numbers) */
	char **cells;		   /* n_rows * n_cols, malloc'd strings */
	size_t n_rows;
};

static void table_row(struct table *t, ...)
{
	char **cells = realloc(t->cells, (t->n_rows + 1) * t->n_cols * sizeof(*cells));
	if (!cells)
		die("out of memory");
	t->cells = cells;
	va_list ap;
	va_start(ap, t);
	for (size_t c = 0; c < t->n_cols; c++) {
		const char *v = va_arg(ap, const char *);
		char *dup = strdup(v);
		if (!dup)
			die("out of memory");
		/* Keep the table readable whatever a name holds. */
		for (char *p = dup; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		t->cells[t->n_rows * t->n_cols + c] = dup;
	}
	va_end(ap);
	t->n_rows++;
}

static void table_print(FILE *out, struct table *t)
{
	size_t w[TABLE_MAX_COLS];
	for (size_t c = 0; c < t->n_cols; c++) {
		w[c] = strlen(t->head[c]);
		for (size_t r = 0; r < t->n_rows; r++) {
			size_t l = strlen(t->cells[r * t->n_cols + c]);
			if (l > w[c])
				w[c] = l;
		}
	}
	for (size_t r = 0; r <= t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *v = r == 0 ? t->head[c] : t->cells[(r - 1) * t->n_cols + c];
			int last = c + 1 == t->n_cols;
			if (t->right[c])
				fprintf(out, "%*s", (int)w[c], v);
			else if (last)
				fputs(v, out); /* no trailing blanks */
			else
				fprintf(out, "%-*s", (int)w[c], v);
			if (last)
				fputc('\n', out);
			else
				fputs("  ", out);
		}
	}
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->n_rows = 0;
}

static const char *fmt_u64(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

/* Bytes as B, KiB, MiB, ... with one decimal above 1 KiB. */
static const char *fmt_bytes(char *buf, size_t len, uint64_t v)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", v);
		return buf;
	}
	double d = (double)v / 1024.0;
	size_t u = 0;
	while (d >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		d /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%.1f %s", d, units[u]);
	return buf;
}

static void status_human(FILE *out, const Ava__Admin__StatusReply *st)
{
	fprintf(out, "policy: %s (generation %" PRIu64 "), unknown tenants %s\n",
		*st->policy_file ? st->policy_file : "built-in default", st->policy_generation,
		st->refuse_unknown ? "refused" : "allowed with the defaults");
	if (*st->last_reload_error)
		fprintf(out, "last reload rejected:\n%s%s", st->last_reload_error,
			st->last_reload_error[strlen(st->last_reload_error) - 1] == '\n' ? ""
											 : "\n");
	fprintf(out, "uptime: %" PRIu64 ".%01" PRIu64 " s\n", st->uptime_ms / 1000,
		st->uptime_ms % 1000 / 100);

	struct table t = { .n_cols = 12,
			   .head = { "TENANT", "MATCHED", "WEIGHT", "SESSIONS", "CALLS", "IN",
				     "OUT", "REFUSED", "DEVICE-TIME", "MEMORY", "QUOTA",
				     "OBJECTS" },
			   .right = { 0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1 } };
	for (size_t i = 0; i < st->n_tenants; i++) {
		const Ava__Admin__TenantStatus *x = st->tenants[i];
		char matched[64], weight[16], sessions[16], calls[24], in[24], out_b[24];
		char refused[256], dtime[32], mem[24], quota[24], objects[48];
		if (x->policy_line)
			snprintf(matched, sizeof(matched), "%s (line %" PRIu32 ")", x->matched,
				 x->policy_line);
		else
			snprintf(matched, sizeof(matched), "%s", x->matched);
		snprintf(weight, sizeof(weight), "%" PRIu32, x->weight);
		snprintf(sessions, sizeof(sessions), "%" PRIu32, x->sessions);
		size_t used = 0;
		refused[0] = '\0';
		for (size_t k = 0; k < x->n_refusals; k++) {
			if (!x->refusals[k]->count || used >= sizeof(refused))
				continue;
			int n = snprintf(refused + used, sizeof(refused) - used, "%s%s=%" PRIu64,
					 used ? "," : "", x->refusals[k]->reason,
					 x->refusals[k]->count);
			if (n > 0)
				used += (size_t)n;
		}
		if (!used)
			snprintf(refused, sizeof(refused), "-");
		snprintf(dtime, sizeof(dtime), "%" PRIu64 ".%03" PRIu64 " s",
			 x->device_time_ns / 1000000000u, x->device_time_ns / 1000000u % 1000u);
		if (x->max_objects == UINT64_MAX)
			snprintf(objects, sizeof(objects), "%" PRIu64, x->objects);
		else
			snprintf(objects, sizeof(objects), "%" PRIu64 "/%" PRIu64, x->objects,
				 x->max_objects);
		table_row(&t, x->name, matched, weight, sessions,
			  fmt_u64(calls, sizeof(calls), x->calls),
			  fmt_bytes(in, sizeof(in), x->bytes_in),
			  fmt_bytes(out_b, sizeof(out_b), x->bytes_out), refused, dtime,
			  fmt_bytes(mem, sizeof(mem), x->memory_used),
			  x->memory_quota == UINT64_MAX
			      ? "unlimited"
			      : fmt_bytes(quota, sizeof(quota), x->memory_quota),
			  objects);
	}
	fputc('\n', out);
	table_print(out, &t);

	struct table s = { .n_cols = 8,
			   .head = { "TENANT", "API", "PID", "MODE", "SESSIONS", "QUEUED", "DEVICE",
				     "APPLICATIONS" },
			   .right = { 0, 0, 1, 0, 1, 1, 0, 0 } };
	for (size_t i = 0; i < st->n_servers; i++) {
		const Ava__Admin__ServerStatus *x = st->servers[i];
		char pid[16], sessions[16], queued[24], apps[256];
		snprintf(pid, sizeof(pid), "%" PRId32, x->pid);
		snprintf(sessions, sizeof(sessions), "%" PRIu32, x->sessions);
		/* "session 3 (pid 4711), ...": the guest process of each application */
		size_t used = 0;
		apps[0] = '\0';
		for (size_t k = 0; k < x->n_applications && used < sizeof(apps); k++) {
			const Ava__Admin__ApplicationStatus *a = x->applications[k];
			int n = a->pid ? snprintf(apps + used, sizeof(apps) - used,
						  "%ssession %" PRIu32 " (pid %" PRId32 ")",
						  k ? ", " : "", a->session, a->pid)
				       : snprintf(apps + used, sizeof(apps) - used,
						  "%ssession %" PRIu32, k ? ", " : "", a->session);
			if (n > 0)
				used += (size_t)n;
		}
		if (!used)
			snprintf(apps, sizeof(apps), "-");
		table_row(&s, x->tenant, x->api, pid,
			  x->exiting  ? "exiting"
			  : x->shared ? "shared"
				      : "per-application",
			  sessions, fmt_bytes(queued, sizeof(queued), x->queue_bytes), x->device,
			  apps);
	}
	fputc('\n', out);
	table_print(out, &s);

	struct table d = { .n_cols = 4,
			   .head = { "DEVICE", "MAX-INFLIGHT", "INFLIGHT", "QUEUED" },
			   .right = { 0, 1, 1, 1 } };
	for (size_t i = 0; i < st->n_devices; i++) {
		const Ava__Admin__DeviceStatus *x = st->devices[i];
		char maxi[16], infl[16], queued[16];
		snprintf(maxi, sizeof(maxi), "%" PRIu32, x->max_inflight);
		snprintf(infl, sizeof(infl), "%" PRIu32, x->inflight);
		snprintf(queued, sizeof(queued), "%" PRIu32, x->queued);
		table_row(&d, x->name, maxi, infl, queued);
	}
	fputc('\n', out);
	table_print(out, &d);
}

/* ---- commands ---- */

static int cmd_status(const char *admin, int argc, char **argv)
{
	bool json = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else {
			fprintf(stderr, "%s: status: unexpected argument '%s'\n", prog, argv[i]);
			usage(stderr);
			return 2;
		}
	}
	Ava__Admin__Request req = AVA__ADMIN__REQUEST__INIT;
	Ava__Admin__StatusRequest sreq = AVA__ADMIN__STATUS_REQUEST__INIT;
	req.id = 1;
	req.command_case = AVA__ADMIN__REQUEST__COMMAND_STATUS;
	req.status = &sreq;
	Ava__Admin__Response *resp = transact(admin, &req);
	if (resp->code != AVA__ADMIN__CODE__CODE_OK ||
	    resp->reply_case != AVA__ADMIN__RESPONSE__REPLY_STATUS) {
		fprintf(stderr, "%s: status: %s%s%s\n", prog, code_name(resp->code),
			*resp->error ? ": " : "", resp->error);
		ava__admin__response__free_unpacked(resp, NULL);
		return 1;
	}
	if (json)
		status_json(stdout, resp->status);
	else
		status_human(stdout, resp->status);
	ava__admin__response__free_unpacked(resp, NULL);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Loads every <api>.abi of dir; exits on an unreadable folder. Returns the count. */
static size_t load_apis(const char *dir, struct ava_abi_api ***ret_apis)
{
	DIR *d = opendir(dir);
	if (!d)
		die("cannot open API directory %s: %s", dir, strerror(errno));
	struct ava_abi_api **apis = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len <= 4 || strcmp(de->d_name + len - 4, ".abi") != 0)
			continue;
		char path[PATH_MAX], err[512];
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		struct ava_abi_api *abi = NULL;
		if (ava_abi_load(path, &abi, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: skipping API manifest %s: %s\n", prog, path, err);
			continue;
		}
		struct ava_abi_api **more = realloc(apis, (n + 1) * sizeof(*apis));
		if (!more)
			die("out of memory");
		apis = more;
		apis[n++] = abi;
	}
	closedir(d);
	if (n == 0)
		die("no API manifests (*.abi) in %s", dir);
	*ret_apis = apis;
	return n;
}

static int cmd_policy_check(int argc, char **argv)
{
	const char *file = NULL, *api_dir = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--api-dir") && i + 1 < argc) {
			api_dir = argv[++i];
		} else if (!strncmp(argv[i], "--api-dir=", 10)) {
			api_dir = argv[i] + 10;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "%s: policy check: unknown option '%s'\n", prog, argv[i]);
			usage(stderr);
			return 2;
		} else if (!file) {
			file = argv[i];
		} else {
			fprintf(stderr, "%s: policy check: unexpected argument '%s'\n", prog,
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!file) {
		fprintf(stderr, "%s: policy check needs a FILE\n", prog);
		usage(stderr);
		return 2;
	}
	struct ava_policy *pol = NULL;
	char *errors = NULL;
	int ret = ava_policy_load(file, &pol, &errors);
	if (ret < 0)
		die("out of memory");
	if (ret == 0 && api_dir) {
		struct ava_abi_api **apis = NULL;
		size_t n = load_apis(api_dir, &apis);
		ret =
		    ava_policy_check_apis(pol, (const struct ava_abi_api *const *)apis, n, &errors);
		for (size_t i = 0; i < n; i++)
			ava_abi_api_free(apis[i]);
		free(apis);
		if (ret < 0)
			die("out of memory");
	}
	if (ret > 0) {
		if (errors) {
			fputs(errors, stderr);
			if (*errors && errors[strlen(errors) - 1] != '\n')
				fputc('\n', stderr);
		}
		fprintf(stderr, "%s: %s: %d problem%s\n", prog, file, ret, ret == 1 ? "" : "s");
	} else {
		printf("%s: ok (%zu tenant entr%s, %zu device%s%s)\n", file, pol->n_tenants,
		       pol->n_tenants == 1 ? "y" : "ies", pol->n_devices,
		       pol->n_devices == 1 ? "" : "s",
		       api_dir ? ", names checked against the served APIs" : "");
	}
	free(errors);
	ava_policy_free(pol);
	return ret > 0 ? 1 : 0;
}

static int cmd_policy_reload(const char *admin, int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "%s: policy reload: unexpected argument '%s'\n", prog, argv[1]);
		usage(stderr);
		return 2;
	}
	char abs_path[PATH_MAX];
	Ava__Admin__Request req = AVA__ADMIN__REQUEST__INIT;
	Ava__Admin__PolicyReloadRequest rreq = AVA__ADMIN__POLICY_RELOAD_REQUEST__INIT;
	if (argc == 1) {
		/* The router has another working directory: send an absolute path. */
		if (!realpath(argv[0], abs_path))
			die("policy reload: %s: %s", argv[0], strerror(errno));
		rreq.file = abs_path;
	}
	req.id = 1;
	req.command_case = AVA__ADMIN__REQUEST__COMMAND_POLICY_RELOAD;
	req.policy_reload = &rreq;
	Ava__Admin__Response *resp = transact(admin, &req);
	int ret = 0;
	if (resp->code == AVA__ADMIN__CODE__CODE_OK &&
	    resp->reply_case == AVA__ADMIN__RESPONSE__REPLY_POLICY_RELOAD) {
		printf("policy %s loaded (generation %" PRIu64 ")\n",
		       *resp->policy_reload->file ? resp->policy_reload->file : "built-in default",
		       resp->policy_reload->generation);
	} else if (resp->code == AVA__ADMIN__CODE__CODE_REJECTED) {
		/* The router's problems, one FILE:LINE:COL: error: line each. */
		fputs(resp->error, stderr);
		if (*resp->error && resp->error[strlen(resp->error) - 1] != '\n')
			fputc('\n', stderr);
		fprintf(stderr, "%s: policy reload rejected; the router keeps its current policy\n",
			prog);
		ret = 1;
	} else {
		fprintf(stderr, "%s: policy reload: %s%s%s\n", prog, code_name(resp->code),
			*resp->error ? ": " : "", resp->error);
		ret = 1;
	}
	ava__admin__response__free_unpacked(resp, NULL);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "admin", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *admin = getenv("AVA_ADMIN_SOCKET");
	if (!admin || !*admin)
		admin = AVA_ADMIN_DEFAULT_SOCKET;
	int c;
	/* '+': options after the command belong to the command. */
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			admin = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[0], "status"))
		return cmd_status(admin, argc - 1, argv + 1);
	if (!strcmp(argv[0], "policy") && argc >= 2) {
		if (!strcmp(argv[1], "reload"))
			return cmd_policy_reload(admin, argc - 2, argv + 2);
		if (!strcmp(argv[1], "check"))
			return cmd_policy_check(argc - 2, argv + 2);
	}
	fprintf(stderr, "%s: unknown command '%s%s%s'\n", prog, argv[0], argc >= 2 ? " " : "",
		argc >= 2 ? argv[1] : "");
	usage(stderr);
	return 2;
}
