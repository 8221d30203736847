/* SPDX-License-Identifier: MIT */
/* clt: the shared kit of the OpenCL test programs (see clt.h). */
#define _GNU_SOURCE /* program_invocation_short_name */
#include "clt.h"

#include <CL/cl_ext.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void clt_die(const char *file, int line, const char *what, cl_int err)
{
	fprintf(stderr, "%s: FAIL %s:%d: %s: %s (%d)\n", program_invocation_short_name, file, line,
		what, clt_err_name(err), (int)err);
	exit(1);
}

void clt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: FAIL %s:%d: ", program_invocation_short_name, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

struct code_name {
	cl_int code;
	const char *name;
};

/* clang-format off */
#define CODE(c) { c, #c }
/* clang-format on */

static const struct code_name err_names[] = {
	CODE(CL_SUCCESS),
	CODE(CL_DEVICE_NOT_FOUND),
	CODE(CL_DEVICE_NOT_AVAILABLE),
	CODE(CL_COMPILER_NOT_AVAILABLE),
	CODE(CL_MEM_OBJECT_ALLOCATION_FAILURE),
	CODE(CL_OUT_OF_RESOURCES),
	CODE(CL_OUT_OF_HOST_MEMORY),
	CODE(CL_PROFILING_INFO_NOT_AVAILABLE),
	CODE(CL_MEM_COPY_OVERLAP),
	CODE(CL_IMAGE_FORMAT_MISMATCH),
	CODE(CL_IMAGE_FORMAT_NOT_SUPPORTED),
	CODE(CL_BUILD_PROGRAM_FAILURE),
	CODE(CL_MAP_FAILURE),
	CODE(CL_MISALIGNED_SUB_BUFFER_OFFSET),
	CODE(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST),
	CODE(CL_COMPILE_PROGRAM_FAILURE),
	CODE(CL_LINKER_NOT_AVAILABLE),
	CODE(CL_LINK_PROGRAM_FAILURE),
	CODE(CL_DEVICE_PARTITION_FAILED),
	CODE(CL_KERNEL_ARG_INFO_NOT_AVAILABLE),
	CODE(CL_INVALID_VALUE),
	CODE(CL_INVALID_DEVICE_TYPE),
	CODE(CL_INVALID_PLATFORM),
	CODE(CL_INVALID_DEVICE),
	CODE(CL_INVALID_CONTEXT),
	CODE(CL_INVALID_QUEUE_PROPERTIES),
	CODE(CL_INVALID_COMMAND_QUEUE),
	CODE(CL_INVALID_HOST_PTR),
	CODE(CL_INVALID_MEM_OBJECT),
	CODE(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR),
	CODE(CL_INVALID_IMAGE_SIZE),
	CODE(CL_INVALID_SAMPLER),
	CODE(CL_INVALID_BINARY),
	CODE(CL_INVALID_BUILD_OPTIONS),
	CODE(CL_INVALID_PROGRAM),
	CODE(CL_INVALID_PROGRAM_EXECUTABLE),
	CODE(CL_INVALID_KERNEL_NAME),
	CODE(CL_INVALID_KERNEL_DEFINITION),
	CODE(CL_INVALID_KERNEL),
	CODE(CL_INVALID_ARG_INDEX),
	CODE(CL_INVALID_ARG_VALUE),
	CODE(CL_INVALID_ARG_SIZE),
	CODE(CL_INVALID_KERNEL_ARGS),
	CODE(CL_INVALID_WORK_DIMENSION),
	CODE(CL_INVALID_WORK_GROUP_SIZE),
	CODE(CL_INVALID_WORK_ITEM_SIZE),
	CODE(CL_INVALID_GLOBAL_OFFSET),
	CODE(CL_INVALID_EVENT_WAIT_LIST),
	CODE(CL_INVALID_EVENT),
	CODE(CL_INVALID_OPERATION),
	CODE(CL_INVALID_GL_OBJECT),
	CODE(CL_INVALID_BUFFER_SIZE),
	CODE(CL_INVALID_MIP_LEVEL),
	CODE(CL_INVALID_GLOBAL_WORK_SIZE),
	CODE(CL_INVALID_PROPERTY),
	CODE(CL_INVALID_IMAGE_DESCRIPTOR),
	CODE(CL_INVALID_COMPILER_OPTIONS),
	CODE(CL_INVALID_LINKER_OPTIONS),
	CODE(CL_INVALID_DEVICE_PARTITION_COUNT),
	CODE(CL_INVALID_PIPE_SIZE),
	CODE(CL_INVALID_DEVICE_QUEUE),
	CODE(CL_INVALID_SPEC_ID),
	CODE(CL_MAX_SIZE_RESTRICTION_EXCEEDED),
	CODE(CL_PLATFORM_NOT_FOUND_KHR),
};

/* Looks code up in a table of n entries; NULL if it is not there. */
static const char *lookup(const struct code_name *table, size_t n, cl_int code)
{
	for (size_t i = 0; i < n; i++) {
		if (table[i].code == code)
			return table[i].name;
	}
	return NULL;
}

const char *clt_err_name(cl_int err)
{
	static __thread char unknown[32];
	const char *name = lookup(err_names, sizeof(err_names) / sizeof(err_names[0]), err);

	if (name)
		return name;
	snprintf(unknown, sizeof(unknown), "CL_ERROR(%d)", (int)err);
	return unknown;
}

const char *clt_status_name(cl_int status)
{
	switch (status) {
	case CL_COMPLETE:
		return "CL_COMPLETE";
	case CL_RUNNING:
		return "CL_RUNNING";
	case CL_SUBMITTED:
		return "CL_SUBMITTED";
	case CL_QUEUED:
		return "CL_QUEUED";
	default:
		return clt_err_name(status);
	}
}

static const struct code_name command_names[] = {
	CODE(CL_COMMAND_NDRANGE_KERNEL),   CODE(CL_COMMAND_READ_BUFFER),
	CODE(CL_COMMAND_WRITE_BUFFER),	   CODE(CL_COMMAND_COPY_BUFFER),
	CODE(CL_COMMAND_FILL_BUFFER),	   CODE(CL_COMMAND_MARKER),
	CODE(CL_COMMAND_BARRIER),	   CODE(CL_COMMAND_USER),
	CODE(CL_COMMAND_READ_BUFFER_RECT), CODE(CL_COMMAND_WRITE_BUFFER_RECT),
	CODE(CL_COMMAND_READ_IMAGE),	   CODE(CL_COMMAND_WRITE_IMAGE),
	CODE(CL_COMMAND_MAP_IMAGE),	   CODE(CL_COMMAND_SVM_FREE),
	CODE(CL_COMMAND_SVM_MEMCPY),	   CODE(CL_COMMAND_SVM_MEMFILL),
	CODE(CL_COMMAND_SVM_MAP),	   CODE(CL_COMMAND_SVM_UNMAP),
	CODE(CL_COMMAND_SVM_MIGRATE_MEM),
};

const char *clt_command_name(cl_command_type type)
{
	static __thread char unknown[48];
	const char *name =
	    lookup(command_names, sizeof(command_names) / sizeof(command_names[0]), (cl_int)type);

	if (name)
		return name;
	snprintf(unknown, sizeof(unknown), "CL_COMMAND(0x%x)", (unsigned)type);
	return unknown;
}

const char *clt_yes(bool b)
{
	return b ? "yes" : "no";
}

static void on_alarm(int sig)
{
	static const char msg[] = "FAIL: watchdog: the program hung (SIGALRM)\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do: exiting is the report */
	}
	_exit(1);
}

void clt_init(unsigned watchdog_s)
{
	struct sigaction sa = { .sa_handler = on_alarm };

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(watchdog_s);
}

void clt_pick_device(cl_platform_id *ret_platform, cl_device_id *ret_device)
{
	cl_platform_id platforms[16];
	cl_uint n_platforms = 0;
	cl_int err;

	err = clGetPlatformIDs(16, platforms, &n_platforms);
	if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && n_platforms == 0)) {
		fprintf(stderr, "skipped: no OpenCL platform (clGetPlatformIDs: %s)\n",
			clt_err_name(err));
		exit(CLT_SKIP);
	}
	if (err != CL_SUCCESS)
		clt_die(__FILE__, __LINE__, "clGetPlatformIDs", err);
	if (n_platforms > 16)
		n_platforms = 16;
	for (cl_uint i = 0; i < n_platforms; i++) {
		cl_device_id device;
		cl_uint n_devices = 0;

		err = clGetDeviceIDs(platforms[i], CL_DEVICE_TYPE_ALL, 1, &device, &n_devices);
		if (err == CL_DEVICE_NOT_FOUND || (err == CL_SUCCESS && n_devices == 0))
			continue;
		if (err != CL_SUCCESS)
			clt_die(__FILE__, __LINE__, "clGetDeviceIDs", err);
		*ret_platform = platforms[i];
		*ret_device = device;
		return;
	}
	fprintf(stderr, "skipped: no OpenCL device on any of %u platforms\n", n_platforms);
	exit(CLT_SKIP);
}

cl_context clt_context_new(cl_platform_id platform, cl_device_id device)
{
	cl_context_properties props[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0 };
	cl_context ctx;
	cl_int err;

	ctx = clCreateContext(props, 1, &device, NULL, NULL, &err);
	if (err != CL_SUCCESS)
		clt_die(__FILE__, __LINE__, "clCreateContext", err);
	CLT_ASSERT(ctx != NULL, "clCreateContext returned NULL with CL_SUCCESS");
	return ctx;
}

cl_program clt_program_build(cl_context ctx, cl_device_id device, const char *src,
			     const char *options)
{
	cl_program program;
	cl_int err;

	program = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
	if (err != CL_SUCCESS)
		clt_die(__FILE__, __LINE__, "clCreateProgramWithSource", err);
	err = clBuildProgram(program, 1, &device, options, NULL, NULL);
	if (err != CL_SUCCESS) {
		size_t len = 0;
		char *log;

		fprintf(stderr, "%s: clBuildProgram: %s (%d); build log:\n",
			program_invocation_short_name, clt_err_name(err), (int)err);
		if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) ==
			CL_SUCCESS &&
		    (log = calloc(1, len + 1)) != NULL) {
			if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, len, log,
						  NULL) == CL_SUCCESS)
				fprintf(stderr, "%s\n", log);
			free(log);
		}
		exit(1);
	}
	return program;
}

char *clt_platform_string(cl_platform_id platform, cl_platform_info param)
{
	size_t len = 0;
	char *s;

	CLT_CHECK(clGetPlatformInfo(platform, param, 0, NULL, &len));
	CLT_ASSERT(len >= 1, "platform string 0x%x: size %zu", (unsigned)param, len);
	s = malloc(len);
	CLT_ASSERT(s != NULL, "out of memory");
	CLT_CHECK(clGetPlatformInfo(platform, param, len, s, NULL));
	CLT_ASSERT(s[len - 1] == '\0' && strlen(s) == len - 1,
		   "platform string 0x%x: size %zu but length %zu", (unsigned)param, len,
		   strnlen(s, len));
	return s;
}

char *clt_device_string(cl_device_id device, cl_device_info param)
{
	size_t len = 0;
	char *s;

	CLT_CHECK(clGetDeviceInfo(device, param, 0, NULL, &len));
	CLT_ASSERT(len >= 1, "device string 0x%x: size %zu", (unsigned)param, len);
	s = malloc(len);
	CLT_ASSERT(s != NULL, "out of memory");
	CLT_CHECK(clGetDeviceInfo(device, param, len, s, NULL));
	CLT_ASSERT(s[len - 1] == '\0' && strlen(s) == len - 1,
		   "device string 0x%x: size %zu but length %zu", (unsigned)param, len,
		   strnlen(s, len));
	return s;
}

uint64_t clt_fnv1a(const void *data, size_t len_bytes)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len_bytes; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

struct clt_waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int count;
};

struct clt_waiter *clt_waiter_new(void)
{
	struct clt_waiter *w = calloc(1, sizeof(*w));
	pthread_condattr_t attr;

	CLT_ASSERT(w != NULL, "out of memory");
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	return w;
}

void clt_waiter_free(struct clt_waiter *w)
{
	if (!w)
		return;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

void clt_waiter_signal(struct clt_waiter *w)
{
	pthread_mutex_lock(&w->lock);
	w->count++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int clt_waiter_wait(struct clt_waiter *w, int want, unsigned timeout_s)
{
	struct timespec deadline;
	int count;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_s;
	pthread_mutex_lock(&w->lock);
	while (w->count < want) {
		if (pthread_cond_timedwait(&w->cond, &w->lock, &deadline) == ETIMEDOUT)
			break;
	}
	count = w->count;
	pthread_mutex_unlock(&w->lock);
	return count;
}
