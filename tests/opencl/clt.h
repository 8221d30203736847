/* SPDX-License-Identifier: MIT */
/*
 * clt: the small kit the OpenCL test programs share.
 *
 * Every program prints only what is identical on two runs on one machine
 * (no handles, pointers or timings), so run-diff.sh can compare a native run
 * with a remoted one byte for byte. Every check also fails the program on its
 * own: an unexpected result prints where and why on stderr and exits 1.
 */
#ifndef CLT_H
#define CLT_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 300
#endif
#include <CL/cl.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLT_SKIP 77 /* the exit code CTest reads as "skipped" */

/* Prints "PROG: FAIL file:line: what: CL_ERROR_NAME (code)" on stderr and exits 1. */
_Noreturn void clt_die(const char *file, int line, const char *what, cl_int err);

/* Prints "PROG: FAIL file:line: message" on stderr and exits 1. */
_Noreturn void clt_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The call must return CL_SUCCESS. */
#define CLT_CHECK(call)                                               \
	do {                                                          \
		cl_int clt_err_ = (call);                             \
		if (clt_err_ != CL_SUCCESS)                           \
			clt_die(__FILE__, __LINE__, #call, clt_err_); \
	} while (0)

/* The call must return exactly the error code want. */
#define CLT_EXPECT_ERR(want, call)                                                           \
	do {                                                                                 \
		cl_int clt_err_ = (call);                                                    \
		if (clt_err_ != (want))                                                      \
			clt_fail(__FILE__, __LINE__, "%s: got %s (%d), want %s", #call,      \
				 clt_err_name(clt_err_), (int)clt_err_, clt_err_name(want)); \
	} while (0)

/* cond must hold; otherwise fail with the printf-style message. */
#define CLT_ASSERT(cond, ...)                                      \
	do {                                                       \
		if (!(cond))                                       \
			clt_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* The symbolic name of an OpenCL error code ("CL_INVALID_VALUE"), or "CL_ERROR(<n>)". */
const char *clt_err_name(cl_int err);

/* The name of an event execution status ("CL_COMPLETE"), or the error name if negative. */
const char *clt_status_name(cl_int status);

/* The name of an event's command type ("CL_COMMAND_NDRANGE_KERNEL"). */
const char *clt_command_name(cl_command_type type);

/* "yes" or "no". */
const char *clt_yes(bool b);

/*
 * Call first: makes stdout line-buffered (a crash keeps what was printed) and arms a
 * watchdog that exits 1 with a message if the program still runs after watchdog_s.
 */
void clt_init(unsigned watchdog_s);

/*
 * The first device of the first platform that has one, or exits CLT_SKIP
 * with the reason on stderr when there is none (no platform, no device).
 */
void clt_pick_device(cl_platform_id *ret_platform, cl_device_id *ret_device);

/* A context on one device, with {CL_CONTEXT_PLATFORM, platform, 0} as properties. */
cl_context clt_context_new(cl_platform_id platform, cl_device_id device);

/*
 * Builds src for device with options (may be NULL). On failure prints the
 * build log on stderr and exits 1. The caller owns the program.
 */
cl_program clt_program_build(cl_context ctx, cl_device_id device, const char *src,
			     const char *options);

/* A string-valued info query, malloc'd; exits 1 on failure. The caller frees it. */
char *clt_platform_string(cl_platform_id platform, cl_platform_info param);
char *clt_device_string(cl_device_id device, cl_device_info param);

/* FNV-1a 64-bit hash of len_bytes bytes: a checksum that sees every byte and its order. */
uint64_t clt_fnv1a(const void *data, size_t len_bytes);

/* Waits until *counter reaches want under lock/cond; fails after timeout_s seconds. */
struct clt_waiter;
struct clt_waiter *clt_waiter_new(void);
void clt_waiter_free(struct clt_waiter *w);
void clt_waiter_signal(struct clt_waiter *w);
/* Returns how many signals arrived (== want, or fewer when timeout_s passed first). */
int clt_waiter_wait(struct clt_waiter *w, int want, unsigned timeout_s);

#endif /* CLT_H */
