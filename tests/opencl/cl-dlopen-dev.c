/* SPDX-License-Identifier: MIT */
/*
 * cl-dlopen-dev: an application that links no OpenCL and dlopens the
 * development name "libOpenCL.so" (no ".1"), as many real applications do
 * when they pick the loader themselves. The soname route of old (only a
 * libOpenCL.so.1 in front) missed it: the system loader came, and the program
 * ran on the local device without a word.
 *
 *   cl-dlopen-dev                  deterministic stdout (platform, device, a buffer
 *                                  round trip); exit 77 without an OpenCL device
 *   cl-dlopen-dev --expect-remote  also exit 1 unless the AvA guest library is
 *                                  loaded and no vendor library (PoCL) is mapped,
 *                                  so a native run cannot pass
 *
 * ava-run's default (the ICD route: "libOpenCL.so" is the system ICD loader,
 * which loads only the AvA ICD) and its soname route (the guest folder has a
 * libOpenCL.so link) both remote it.
 */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>
#include <CL/cl_ext.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_WORDS 1024

static void *lib;

__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *fmt, ...);

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cl-dlopen-dev: FAIL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *sym(const char *name)
{
	void *p = dlsym(lib, name);
	if (!p)
		fail("dlsym(%s): %s", name, dlerror());
	return p;
}

/* Declares a pointer named after the entry point, of its type, taken with dlsym. */
#define ENTRY(name) __typeof__(&name) p_##name = (__typeof__(&name))sym(#name)

#define CHECK(call)                                                                     \
	do {                                                                            \
		cl_int err_ = (call);                                                   \
		if (err_ != CL_SUCCESS)                                                 \
			fail("%s:%d: %s returned %d", __FILE__, __LINE__, #call, err_); \
	} while (0)

/* Does some line of /proc/self/maps name a file whose path contains needle? */
static bool mapped(const char *needle)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[4096];
	bool found = false;

	if (!maps)
		fail("cannot open /proc/self/maps");
	while (!found && fgets(line, sizeof(line), maps))
		found = strstr(line, needle) != NULL;
	fclose(maps);
	return found;
}

int main(int argc, char **argv)
{
	bool expect_remote = argc == 2 && strcmp(argv[1], "--expect-remote") == 0;
	if (argc > 2 || (argc == 2 && !expect_remote)) {
		fprintf(stderr, "usage: cl-dlopen-dev [--expect-remote]\n");
		return 2;
	}
	lib = dlopen("libOpenCL.so", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		/* libOpenCL.so comes with the loader's development package. */
		fprintf(stderr, "cl-dlopen-dev: skipped: dlopen(libOpenCL.so): %s\n", dlerror());
		return 77;
	}

	ENTRY(clGetPlatformIDs);
	ENTRY(clGetPlatformInfo);
	ENTRY(clGetDeviceIDs);
	ENTRY(clGetDeviceInfo);
	ENTRY(clCreateContext);
	ENTRY(clCreateCommandQueueWithProperties);
	ENTRY(clCreateBuffer);
	ENTRY(clEnqueueWriteBuffer);
	ENTRY(clEnqueueReadBuffer);
	ENTRY(clReleaseMemObject);
	ENTRY(clReleaseCommandQueue);
	ENTRY(clReleaseContext);

	cl_platform_id platforms[16];
	cl_uint n_platforms = 0;
	cl_int err = p_clGetPlatformIDs(16, platforms, &n_platforms);
	if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && n_platforms == 0)) {
		fprintf(stderr, "cl-dlopen-dev: skipped: no OpenCL platform\n");
		return 77;
	}
	CHECK(err);
	cl_platform_id platform = NULL;
	cl_device_id device = NULL;
	for (cl_uint i = 0; i < n_platforms && i < 16 && !device; i++) {
		cl_uint n = 0;
		if (p_clGetDeviceIDs(platforms[i], CL_DEVICE_TYPE_ALL, 1, &device, &n) ==
			CL_SUCCESS &&
		    n > 0)
			platform = platforms[i];
		else
			device = NULL;
	}
	if (!device) {
		fprintf(stderr, "cl-dlopen-dev: skipped: no OpenCL device\n");
		return 77;
	}
	char name[256];
	CHECK(p_clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof(name), name, NULL));
	printf("platform: %s\n", name);
	CHECK(p_clGetPlatformInfo(platform, CL_PLATFORM_VENDOR, sizeof(name), name, NULL));
	printf("vendor: %s\n", name);
	CHECK(p_clGetDeviceInfo(device, CL_DEVICE_NAME, sizeof(name), name, NULL));
	printf("device: %s\n", name);

	cl_context_properties props[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0 };
	cl_context ctx = p_clCreateContext(props, 1, &device, NULL, NULL, &err);
	CHECK(err);
	cl_command_queue q = p_clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CHECK(err);
	static uint32_t in[N_WORDS], out[N_WORDS];
	for (uint32_t i = 0; i < N_WORDS; i++)
		in[i] = i * 2654435761u;
	cl_mem buf = p_clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof(in), NULL, &err);
	CHECK(err);
	CHECK(p_clEnqueueWriteBuffer(q, buf, CL_TRUE, 0, sizeof(in), in, 0, NULL, NULL));
	CHECK(p_clEnqueueReadBuffer(q, buf, CL_TRUE, 0, sizeof(out), out, 0, NULL, NULL));
	bool same = memcmp(in, out, sizeof(in)) == 0;
	printf("round trip of %zu bytes through the device: %s\n", sizeof(in),
	       same ? "identical" : "DIFFERENT");
	CHECK(p_clReleaseMemObject(buf));
	CHECK(p_clReleaseCommandQueue(q));
	CHECK(p_clReleaseContext(ctx));

	if (expect_remote) {
		/* After clGetPlatformIDs a native loader has loaded the vendor library. */
		if (!mapped("libava-guest-opencl"))
			fail("the AvA OpenCL guest library is not loaded: not remoted");
		if (mapped("libpocl"))
			fail("the vendor library (PoCL) is loaded in the application: not remoted");
		fprintf(stderr, "cl-dlopen-dev: remoted through libava-guest-opencl\n");
	}
	/* No dlclose: OpenCL libraries keep their platform lists until exit (LeakSanitizer). */
	return same ? 0 : 1;
}
