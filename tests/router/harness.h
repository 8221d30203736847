/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the router tests: start avarouterd on temporary
 * sockets, talk raw frames to it, and read its log. Every test program takes
 *   argv[1] = path of avarouterd, argv[2] = API directory (build's lib/ava/apis)
 * and exits 77 with a reason when the avatest API server or manifest is missing.
 */
#ifndef AVA_TEST_ROUTER_HARNESS_H
#define AVA_TEST_ROUTER_HARNESS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ava/abi.h>
#include <ava/wire.h>

#define RT_MAX_LISTEN	  32
#define RT_TIMEOUT_MS	  10000
#define RT_MAX_EXTRA_ARGS 8

struct rt_router {
	pid_t pid;
	char dir[PATH_MAX];
	char log_path[PATH_MAX];
	char sock[RT_MAX_LISTEN][PATH_MAX];
	int n_sock;
	char admin[PATH_MAX];  /* the router's default admin socket (dir/admin.sock) */
	char policy[PATH_MAX]; /* the policy file rt_router_start_policy wrote, or "" */
};

/* A policy under which a tenant's sessions share one API server per API (servers: shared). */
#define RT_POLICY_SHARED "version: 1\ndefaults:\n  servers: shared\n"

/* Failure: prints file:line and the message, stops the router if any, exits 1. */
#define RT_CHECK(cond, ...)                                              \
	do {                                                             \
		if (!(cond))                                             \
			rt_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

void rt_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));

/*
 * Parses argv (see above); exits 77 if the avatest server or manifest is
 * missing, 2 on usage errors. Loads the avatest manifest into *ret_abi.
 */
void rt_init(int argc, char **argv, const char **ret_router, const char **ret_api_dir,
	     struct ava_abi_api **ret_abi);

/*
 * Starts avarouterd with one --listen per entry of tenants (NULL entry:
 * no =TENANT, so uid:<peer uid>), sockets in a fresh temp folder, log in
 * r->log_path. Waits for --ready-fd. extra_arg (may be NULL) is added.
 * The router is stopped (and checked) by rt_router_stop and on rt_fail.
 */
void rt_router_start(struct rt_router *r, const char *router, const char *api_dir,
		     const char *const *tenants, int n, const char *extra_arg);
/* Same, with a NULL-terminated list of extra arguments (at most RT_MAX_EXTRA_ARGS). */
void rt_router_start_args(struct rt_router *r, const char *router, const char *api_dir,
			  const char *const *tenants, int n, const char *const *extra);
/*
 * Same as rt_router_start with no extra argument, under a policy file with
 * the text policy_text (written to a temporary file, named in r->policy and
 * removed by rt_router_stop).
 */
void rt_router_start_policy(struct rt_router *r, const char *router, const char *api_dir,
			    const char *const *tenants, int n, const char *policy_text);
/*
 * SIGTERMs the router, checks it exits 0 and removed its sockets (the admin
 * socket too); removes the folder.
 */
void rt_router_stop(struct rt_router *r);
/* Whether the router process is still running. */
int rt_router_alive(struct rt_router *r);

/* Connects to r->sock[i]; returns a blocking fd. */
int rt_connect(struct rt_router *r, int i);
/* Writes all bytes; 0 or -errno. */
int rt_send_raw(int fd, const void *buf, size_t len);
/* Sends one frame with the given fields (magic/version filled in). */
int rt_send_frame(int fd, const struct ava_wire_header *hdr, const void *payload, size_t len);
/*
 * Receives one frame within timeout_ms. Returns 0 (caller frees *ret_payload),
 * -EPIPE on EOF/reset, -ETIMEDOUT, or -EPROTO for a header that fails to decode.
 */
int rt_recv_frame(int fd, int timeout_ms, struct ava_wire_header *ret_hdr, uint8_t **ret_payload);
/* HELLO for api with hash; returns the HELLO_REPLY status, or negative errno. */
int rt_hello(int fd, const char *api, uint64_t hash);
/*
 * Waits for the end of a session: a BYE (returns its status, reason copied to
 * why) or EOF (returns -EPIPE). Other frames are skipped. -ETIMEDOUT if neither.
 */
int rt_wait_bye(int fd, int timeout_ms, char *why, size_t why_len);

/* A CALL with a sync REPLY: returns the REPLY status (>= 0) or negative errno. */
int rt_call(int fd, const struct ava_abi_fn *fn, uint64_t seq, const void *payload, size_t len,
	    struct ava_wire_header *ret_hdr, uint8_t **ret_payload);
/* avatest_add_one(x) over fd; returns 0 if the reply is status OK with y == x + 1. */
int rt_add_one(int fd, const struct ava_abi_api *abi, int32_t x, uint64_t seq);

/* Payload building. */
void rt_put_i32(struct ava_wire_buf *b, int32_t v);
void rt_put_u32(struct ava_wire_buf *b, uint32_t v);
void rt_put_u64(struct ava_wire_buf *b, uint64_t v);
/* An out buffer: present = 1, count. */
void rt_put_out_buffer(struct ava_wire_buf *b, uint64_t count);

/* The function named name (checked to exist). */
const struct ava_abi_fn *rt_fn(const struct ava_abi_api *abi, const char *name);

/*
 * Searches the router log for the last line containing every one of the
 * needles (NULL-terminated), copying it to line. Waits up to timeout_ms.
 * Returns 1 if found.
 */
int rt_log_find(struct rt_router *r, int timeout_ms, char *line, size_t line_len, ...)
    __attribute__((sentinel));
/* Counts log lines containing needle. */
int rt_log_count(struct rt_router *r, const char *needle);
/* Pid from the last "tenant T session ... open, server pid P" line for tenant T. */
pid_t rt_server_pid_of_last_session(struct rt_router *r, const char *tenant);
/*
 * Runs argv (argv[0] a path) to completion, its stdout and stderr together
 * in out (NUL-terminated, truncated to out_len). Returns its exit status;
 * fails the test if it is killed or takes over 30 s.
 */
int rt_run(char *out, size_t out_len, const char *const *argv);
/* Prints the router log to stderr (for failures). */
void rt_log_dump(struct rt_router *r);

#endif /* AVA_TEST_ROUTER_HARNESS_H */
