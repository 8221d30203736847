/* SPDX-License-Identifier: MIT */
/*
 * cl-dlopen: an application that does not link OpenCL at all. It dlopens
 * libOpenCL.so.1 and takes every entry point with dlsym, as plugin hosts and
 * language bindings do, then copies a buffer through a device.
 *
 *   cl-dlopen                  deterministic stdout (platform and device name,
 *                              checksums); exit 77 without an OpenCL device
 *   cl-dlopen --expect-remote  also exit 1 unless the library dlopen gave it is
 *                              the AvA guest library and no vendor library is mapped
 *
 * Through ava-run's soname route and the ICD route it is remoted; LD_PRELOAD
 * cannot catch it: dlsym on the handle of libOpenCL.so.1 looks only in that
 * library (and its dependencies), never in a preloaded object.
 *
 * Built a second time as cl-dlopen-dev (CL_DLOPEN_DEV), it dlopens the
 * development name "libOpenCL.so" (no ".1"), as many real applications do
 * when they pick the loader themselves. The soname route of old (only a
 * libOpenCL.so.1 in front) missed it: the system loader came, and the program
 * ran on the local device without a word. ava-run's default (the ICD route:
 * "libOpenCL.so" is the system ICD loader, which loads only the AvA ICD) and
 * its soname route (the guest folder has a libOpenCL.so link) both remote it.
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

#ifdef CL_DLOPEN_DEV
#define PROG "cl-dlopen-dev"
#define LIB  "libOpenCL.so"
#else
#define PROG "cl-dlopen"
#define LIB  "libOpenCL.so.1"
#endif

#define N_WORDS 4096

static void *lib;

__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *fmt, ...);

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(PROG ": FAIL: ", stderr);
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

static uint64_t fnv1a(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

int main(int argc, char **argv)
{
	bool expect_remote = argc == 2 && strcmp(argv[1], "--expect-remote") == 0;
	if (argc > 2 || (argc == 2 && !expect_remote)) {
		fprintf(stderr, "usage: " PROG " [--expect-remote]\n");
		return 2;
	}
	lib = dlopen(LIB, RTLD_NOW | RTLD_LOCAL);
#ifdef CL_DLOPEN_DEV
	if (!lib) {
		/* libOpenCL.so comes with the loader's development package. */
		fprintf(stderr, PROG ": skipped: dlopen(" LIB "): %s\n", dlerror());
		return 77;
	}
#endif
	if (!lib)
		fail("dlopen(" LIB "): %s", dlerror());

	ENTRY(clGetPlatformIDs);
	ENTRY(clGetPlatformInfo);
	ENTRY(clGetDeviceIDs);
	ENTRY(clGetDeviceInfo);
	ENTRY(clCreateContext);
	ENTRY(clCreateCommandQueueWithProperties);
	ENTRY(clCreateBuffer);
	ENTRY(clEnqueueWriteBuffer);
	ENTRY(clEnqueueCopyBuffer);
	ENTRY(clEnqueueReadBuffer);
	ENTRY(clGetMemObjectInfo);
	ENTRY(clFinish);
	ENTRY(clReleaseMemObject);
	ENTRY(clReleaseCommandQueue);
	ENTRY(clReleaseContext);

	cl_platform_id platforms[16];
	cl_uint n_platforms = 0;
	cl_int err = p_clGetPlatformIDs(16, platforms, &n_platforms);
	if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && n_platforms == 0)) {
		fprintf(stderr, PROG ": skipped: no OpenCL platform\n");
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
		fprintf(stderr, PROG ": skipped: no OpenCL device\n");
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
	cl_mem a = p_clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof(in), NULL, &err);
	CHECK(err);
	cl_mem b = p_clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof(in), NULL, &err);
	CHECK(err);
	CHECK(p_clEnqueueWriteBuffer(q, a, CL_TRUE, 0, sizeof(in), in, 0, NULL, NULL));
	CHECK(p_clEnqueueCopyBuffer(q, a, b, 0, 0, sizeof(in), 0, NULL, NULL));
	CHECK(p_clEnqueueReadBuffer(q, b, CL_TRUE, 0, sizeof(out), out, 0, NULL, NULL));
	CHECK(p_clFinish(q));
	cl_context mem_ctx = NULL;
	CHECK(p_clGetMemObjectInfo(b, CL_MEM_CONTEXT, sizeof(mem_ctx), &mem_ctx, NULL));
	printf("buffer's context is the context: %s\n", mem_ctx == ctx ? "yes" : "no");
	printf("copied %zu bytes, identical: %s, checksum %016llx\n", sizeof(out),
	       memcmp(in, out, sizeof(in)) == 0 ? "yes" : "no",
	       (unsigned long long)fnv1a(out, sizeof(out)));

	CHECK(p_clReleaseMemObject(b));
	CHECK(p_clReleaseMemObject(a));
	CHECK(p_clReleaseCommandQueue(q));
	CHECK(p_clReleaseContext(ctx));

	if (expect_remote) {
		if (!mapped("libava-guest-opencl"))
			fail("the AvA OpenCL guest library is not loaded: not remoted");
		if (mapped("libpocl"))
			fail("the vendor library (PoCL) is loaded in the application: not remoted");
		fprintf(stderr, PROG ": remoted through libava-guest-opencl\n");
	}
	if (memcmp(in, out, sizeof(in)) != 0 || mem_ctx != ctx)
		return 1;
	/*
	 * No dlclose: OpenCL libraries keep their platform lists until exit, and
	 * unmapping them would turn that memory into leaks for LeakSanitizer.
	 */
	return 0;
}
