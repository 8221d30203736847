/* SPDX-License-Identifier: MIT */
/*
 * bench-opencl: what remoting costs a real OpenCL program, against the vendor
 * library measured in the same run.
 *
 *   native   cl* of the real ICD loader (libOpenCL.so.1.0.0), dlopen()ed by its
 *            full path (under ava-run the name libOpenCL.so.1 is the guest stub)
 *   remote   cl* as linked: the guest stub when run under ava-run
 *
 * Each side makes its own platform, device, context and queue; no object ever
 * crosses from one side to the other. Three measurements:
 *
 *   small call   clGetDeviceInfo(CL_DEVICE_NAME): median and p99 ns per call
 *   transfer     a blocking 64 MiB clEnqueueWriteBuffer, then a blocking 64 MiB
 *                clEnqueueReadBuffer: GiB/s, beside a 64 MiB memcpy
 *   large        a blocking 256 MiB write then read of one buffer (more than one
 *                frame: remoted, streamed in CHUNK frames and DATA pieces), time
 *                of the pair
 *   kernel loop  a kernel of many fused multiply-adds per work-item, enqueued
 *                repeatedly, then clFinish: total time. The remote overhead is per
 *                call, not per FLOP, so this ratio should be near 1.
 *
 * The transfer and the kernel results are checked on both sides (byte compare,
 * host-computed samples and a checksum that must match across the sides); any
 * mismatch exits 1. Run it through bench/run.sh (which uses ava-run).
 */
#define _GNU_SOURCE
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 300
#endif
#include <CL/cl.h>

#include <dlfcn.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

#ifndef AVA_BENCH_OPENCL_NATIVE_LIB
#define AVA_BENCH_OPENCL_NATIVE_LIB "/usr/lib/x86_64-linux-gnu/libOpenCL.so.1.0.0"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_UNDER_ASAN 1
#endif
#endif

#define NATIVE_BATCH 64 /* native small calls are timed in batches; a clock read costs more */
#define N_CHAINS     4	/* independent FMA chains per work-item, so the loop is not latency bound */
#define N_CHECKED    64 /* work-items whose kernel result the host recomputes */
#define FMA_B	     0.999f
#define FMA_C	     0.001f

static const char kernel_src[] =
    "__kernel void fma_loop(__global float *x, const int n)\n"
    "{\n"
    "	size_t i = get_global_id(0);\n"
    "	float a0 = x[i], a1 = a0 + 1.0f, a2 = a0 + 2.0f, a3 = a0 + 3.0f;\n"
    "	for (int k = 0; k < n; k++) {\n"
    "		a0 = fma(a0, 0.999f, 0.001f);\n"
    "		a1 = fma(a1, 0.999f, 0.001f);\n"
    "		a2 = fma(a2, 0.999f, 0.001f);\n"
    "		a3 = fma(a3, 0.999f, 0.001f);\n"
    "	}\n"
    "	x[i] = ((a0 + a1) + a2) + a3;\n"
    "}\n";

/* One side's entry points: the linked ones (remote) or the real loader's (native). */
struct cl_api {
	__typeof__(clGetPlatformIDs) *GetPlatformIDs;
	__typeof__(clGetDeviceIDs) *GetDeviceIDs;
	__typeof__(clGetDeviceInfo) *GetDeviceInfo;
	__typeof__(clCreateContext) *CreateContext;
	__typeof__(clCreateCommandQueueWithProperties) *CreateCommandQueueWithProperties;
	__typeof__(clCreateBuffer) *CreateBuffer;
	__typeof__(clCreateProgramWithSource) *CreateProgramWithSource;
	__typeof__(clBuildProgram) *BuildProgram;
	__typeof__(clCreateKernel) *CreateKernel;
	__typeof__(clSetKernelArg) *SetKernelArg;
	__typeof__(clEnqueueNDRangeKernel) *EnqueueNDRangeKernel;
	__typeof__(clEnqueueWriteBuffer) *EnqueueWriteBuffer;
	__typeof__(clEnqueueReadBuffer) *EnqueueReadBuffer;
	__typeof__(clFinish) *Finish;
	__typeof__(clReleaseMemObject) *ReleaseMemObject;
	__typeof__(clReleaseKernel) *ReleaseKernel;
	__typeof__(clReleaseProgram) *ReleaseProgram;
	__typeof__(clReleaseCommandQueue) *ReleaseCommandQueue;
	__typeof__(clReleaseContext) *ReleaseContext;
};

/* One side's objects. */
struct side {
	const char *name;
	const struct cl_api *cl;
	cl_device_id device;
	cl_context context;
	cl_command_queue queue;
	cl_mem big;
	cl_mem vec;
	cl_program program;
	cl_kernel kernel;
	char device_name[256];
};

struct params {
	size_t call_iters;
	size_t xfer_iters;
	size_t xfer_bytes;
	size_t large_iters;
	size_t large_bytes; /* 0: no large-transfer case */
	size_t work_items;
	int fmas; /* per work-item per enqueue, a multiple of N_CHAINS */
	int enqueues;
};

struct results {
	struct stats call, write, read;
	struct stats large; /* write + read of large_bytes */
	double kernel_ns;
	uint64_t kernel_sum;
	bool ok;
};

static bool cl_ok(const struct side *s, cl_int err, const char *what)
{
	if (err == CL_SUCCESS)
		return true;
	fprintf(stderr, "bench-opencl: %s: %s failed: %d\n", s->name, what, (int)err);
	return false;
}

#define LOAD(lib, api, fn)                                               \
	do {                                                             \
		*(void **)&(api)->fn = dlsym((lib), "cl" #fn);           \
		if (!(api)->fn) {                                        \
			fprintf(stderr, "bench-opencl: no cl%s\n", #fn); \
			return -1;                                       \
		}                                                        \
	} while (0)

/*
 * Is fn defined in the AvA guest library? The library is loaded under its soname
 * (libOpenCL.so.1, a link), so the file's real name is what tells.
 */
static bool in_guest_lib(void *fn)
{
	Dl_info info;
	char *real;
	bool guest;

	if (!dladdr(fn, &info) || !info.dli_fname)
		return false;
	real = realpath(info.dli_fname, NULL);
	guest = strstr(real ? real : info.dli_fname, "libava-guest") != NULL;
	free(real);
	return guest;
}

static int load_native(const char *path, struct cl_api *api)
{
	int flags = RTLD_NOW | RTLD_LOCAL;
	void *lib;

#ifndef BENCH_UNDER_ASAN
	flags |= RTLD_DEEPBIND; /* the loader binds to itself, never to the stub's symbols */
#endif
	lib = dlopen(path, flags);
	if (!lib) {
		fprintf(stderr, "bench-opencl: cannot load the native library: %s\n", dlerror());
		return -1;
	}
	LOAD(lib, api, GetPlatformIDs);
	LOAD(lib, api, GetDeviceIDs);
	LOAD(lib, api, GetDeviceInfo);
	LOAD(lib, api, CreateContext);
	LOAD(lib, api, CreateCommandQueueWithProperties);
	LOAD(lib, api, CreateBuffer);
	LOAD(lib, api, CreateProgramWithSource);
	LOAD(lib, api, BuildProgram);
	LOAD(lib, api, CreateKernel);
	LOAD(lib, api, SetKernelArg);
	LOAD(lib, api, EnqueueNDRangeKernel);
	LOAD(lib, api, EnqueueWriteBuffer);
	LOAD(lib, api, EnqueueReadBuffer);
	LOAD(lib, api, Finish);
	LOAD(lib, api, ReleaseMemObject);
	LOAD(lib, api, ReleaseKernel);
	LOAD(lib, api, ReleaseProgram);
	LOAD(lib, api, ReleaseCommandQueue);
	LOAD(lib, api, ReleaseContext);
	if (in_guest_lib(*(void **)&api->GetPlatformIDs)) {
		fprintf(stderr, "bench-opencl: %s is the AvA guest library, not the native one\n",
			path);
		return -1;
	}
	return 0;
}

static const struct cl_api linked_api = {
	.GetPlatformIDs = clGetPlatformIDs,
	.GetDeviceIDs = clGetDeviceIDs,
	.GetDeviceInfo = clGetDeviceInfo,
	.CreateContext = clCreateContext,
	.CreateCommandQueueWithProperties = clCreateCommandQueueWithProperties,
	.CreateBuffer = clCreateBuffer,
	.CreateProgramWithSource = clCreateProgramWithSource,
	.BuildProgram = clBuildProgram,
	.CreateKernel = clCreateKernel,
	.SetKernelArg = clSetKernelArg,
	.EnqueueNDRangeKernel = clEnqueueNDRangeKernel,
	.EnqueueWriteBuffer = clEnqueueWriteBuffer,
	.EnqueueReadBuffer = clEnqueueReadBuffer,
	.Finish = clFinish,
	.ReleaseMemObject = clReleaseMemObject,
	.ReleaseKernel = clReleaseKernel,
	.ReleaseProgram = clReleaseProgram,
	.ReleaseCommandQueue = clReleaseCommandQueue,
	.ReleaseContext = clReleaseContext,
};

/*
 * Picks the first device of the first platform that has one. Returns 0, 77 when
 * there is no platform or device, 1 on any other error.
 */
static int side_pick_device(struct side *s)
{
	cl_platform_id platforms[16];
	cl_uint n_platforms = 0;
	cl_int err;

	err = s->cl->GetPlatformIDs(16, platforms, &n_platforms);
	if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ ||
	    (err == CL_SUCCESS && n_platforms == 0)) {
		fprintf(stderr, "bench-opencl: %s: no OpenCL platform\n", s->name);
		return 77;
	}
	if (!cl_ok(s, err, "clGetPlatformIDs"))
		return 1;
	if (n_platforms > 16)
		n_platforms = 16;
	for (cl_uint i = 0; i < n_platforms; i++) {
		cl_uint n_devices = 0;

		err = s->cl->GetDeviceIDs(platforms[i], CL_DEVICE_TYPE_ALL, 1, &s->device,
					  &n_devices);
		if (err == CL_SUCCESS && n_devices > 0)
			return 0;
	}
	fprintf(stderr, "bench-opencl: %s: no OpenCL device\n", s->name);
	return 77;
}

/* Creates the side's context, queue, buffers and kernel. Returns 0, 77 or 1. */
static int side_init(struct side *s, const struct params *p)
{
	const char *src = kernel_src;
	cl_int err;
	int ret;

	ret = side_pick_device(s);
	if (ret != 0)
		return ret;
	err = s->cl->GetDeviceInfo(s->device, CL_DEVICE_NAME, sizeof(s->device_name),
				   s->device_name, NULL);
	if (!cl_ok(s, err, "clGetDeviceInfo(CL_DEVICE_NAME)"))
		return 1;
	s->context = s->cl->CreateContext(NULL, 1, &s->device, NULL, NULL, &err);
	if (!cl_ok(s, err, "clCreateContext"))
		return 1;
	s->queue = s->cl->CreateCommandQueueWithProperties(s->context, s->device, NULL, &err);
	if (!cl_ok(s, err, "clCreateCommandQueueWithProperties"))
		return 1;
	s->big = s->cl->CreateBuffer(s->context, CL_MEM_READ_WRITE, p->xfer_bytes, NULL, &err);
	if (!cl_ok(s, err, "clCreateBuffer(transfer)"))
		return 1;
	s->vec = s->cl->CreateBuffer(s->context, CL_MEM_READ_WRITE, p->work_items * sizeof(float),
				     NULL, &err);
	if (!cl_ok(s, err, "clCreateBuffer(kernel)"))
		return 1;
	s->program = s->cl->CreateProgramWithSource(s->context, 1, &src, NULL, &err);
	if (!cl_ok(s, err, "clCreateProgramWithSource"))
		return 1;
	err = s->cl->BuildProgram(s->program, 1, &s->device, "", NULL, NULL);
	if (!cl_ok(s, err, "clBuildProgram"))
		return 1;
	s->kernel = s->cl->CreateKernel(s->program, "fma_loop", &err);
	if (!cl_ok(s, err, "clCreateKernel"))
		return 1;
	return 0;
}

/* Releases whatever side_init created; safe on a partly initialized side. */
static void side_fini(struct side *s)
{
	if (s->kernel)
		s->cl->ReleaseKernel(s->kernel);
	if (s->program)
		s->cl->ReleaseProgram(s->program);
	if (s->vec)
		s->cl->ReleaseMemObject(s->vec);
	if (s->big)
		s->cl->ReleaseMemObject(s->big);
	if (s->queue)
		s->cl->ReleaseCommandQueue(s->queue);
	if (s->context)
		s->cl->ReleaseContext(s->context);
}

static struct stats bench_small_call(struct side *s, size_t iters, size_t batch, double *samples)
{
	struct stats none = { 0 };
	char name[256];
	cl_int err = CL_SUCCESS;

	for (size_t i = 0; i < iters / 10 + 1 && err == CL_SUCCESS; i++)
		err = s->cl->GetDeviceInfo(s->device, CL_DEVICE_NAME, sizeof(name), name, NULL);
	for (size_t i = 0; i < iters && err == CL_SUCCESS; i++) {
		uint64_t t0 = now_ns();

		for (size_t b = 0; b < batch; b++)
			err |= s->cl->GetDeviceInfo(s->device, CL_DEVICE_NAME, sizeof(name), name,
						    NULL);
		samples[i] = (double)(now_ns() - t0) / (double)batch;
	}
	if (!cl_ok(s, err, "clGetDeviceInfo(CL_DEVICE_NAME)"))
		return none;
	if (strcmp(name, s->device_name) != 0) {
		fprintf(stderr, "bench-opencl: %s: device name changed: '%s' vs '%s'\n", s->name,
			name, s->device_name);
		return none;
	}
	return summarize(samples, iters);
}

static void fill_pattern(unsigned char *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i + 4 <= len; i += 4) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		memcpy(buf + i, &x, 4);
	}
}

/*
 * Each iteration writes a fresh pattern and reads it back into a cleared buffer;
 * the read must equal what was written. Returns false on any error or mismatch.
 */
static bool bench_transfer(struct side *s, const struct params *p, unsigned char *src,
			   unsigned char *dst, double *wsamples, double *rsamples,
			   struct results *r)
{
	for (size_t i = 0; i < p->xfer_iters + 1; i++) {
		uint64_t t0, t1, t2;
		cl_int err;

		fill_pattern(src, p->xfer_bytes, (uint32_t)i + 1);
		memset(dst, 0, p->xfer_bytes);
		t0 = now_ns();
		err = s->cl->EnqueueWriteBuffer(s->queue, s->big, CL_TRUE, 0, p->xfer_bytes, src, 0,
						NULL, NULL);
		t1 = now_ns();
		if (!cl_ok(s, err, "clEnqueueWriteBuffer"))
			return false;
		err = s->cl->EnqueueReadBuffer(s->queue, s->big, CL_TRUE, 0, p->xfer_bytes, dst, 0,
					       NULL, NULL);
		t2 = now_ns();
		if (!cl_ok(s, err, "clEnqueueReadBuffer"))
			return false;
		if (memcmp(src, dst, p->xfer_bytes) != 0) {
			fprintf(stderr,
				"bench-opencl: %s: read-back differs from what was written\n",
				s->name);
			return false;
		}
		if (i == 0)
			continue; /* warm-up: first touch of the buffer's pages */
		wsamples[i - 1] = (double)(t1 - t0);
		rsamples[i - 1] = (double)(t2 - t1);
	}
	r->write = summarize(wsamples, p->xfer_iters);
	r->read = summarize(rsamples, p->xfer_iters);
	return true;
}

/*
 * The large case: a buffer of its own (created and released here, so it is
 * not held through the rest), written and read back blocking per iteration,
 * checked like bench_transfer; the pair is timed.
 */
static bool bench_large(struct side *s, const struct params *p, unsigned char *src,
			unsigned char *dst, double *samples, struct results *r)
{
	cl_int err;
	bool ok = false;
	cl_mem m;

	if (!p->large_bytes)
		return true;
	m = s->cl->CreateBuffer(s->context, CL_MEM_READ_WRITE, p->large_bytes, NULL, &err);
	if (!cl_ok(s, err, "clCreateBuffer(large)"))
		return false;
	for (size_t i = 0; i < p->large_iters + 1; i++) {
		uint64_t t0, t1;

		fill_pattern(src, p->large_bytes, (uint32_t)i + 7);
		memset(dst, 0, p->large_bytes);
		t0 = now_ns();
		err = s->cl->EnqueueWriteBuffer(s->queue, m, CL_TRUE, 0, p->large_bytes, src, 0,
						NULL, NULL);
		if (!cl_ok(s, err, "clEnqueueWriteBuffer(large)"))
			goto out;
		err = s->cl->EnqueueReadBuffer(s->queue, m, CL_TRUE, 0, p->large_bytes, dst, 0,
					       NULL, NULL);
		t1 = now_ns();
		if (!cl_ok(s, err, "clEnqueueReadBuffer(large)"))
			goto out;
		if (memcmp(src, dst, p->large_bytes) != 0) {
			fprintf(stderr, "bench-opencl: %s: large read-back differs\n", s->name);
			goto out;
		}
		if (i > 0) /* iteration 0 warms up: first touch of the pages */
			samples[i - 1] = (double)(t1 - t0);
	}
	r->large = summarize(samples, p->large_iters);
	ok = true;
out:
	s->cl->ReleaseMemObject(m);
	return ok;
}

static float kernel_input(size_t i)
{
	return (float)(i % 1000) * 0.001f;
}

/* What fma_loop leaves in x[i] after enqueues runs of n FMAs per chain. */
static float kernel_expected(size_t i, int n, int enqueues)
{
	float x = kernel_input(i);

	for (int e = 0; e < enqueues; e++) {
		float a[N_CHAINS];

		for (int c = 0; c < N_CHAINS; c++)
			a[c] = x + (float)c;
		for (int k = 0; k < n; k++) {
			for (int c = 0; c < N_CHAINS; c++)
				a[c] = fmaf(a[c], FMA_B, FMA_C);
		}
		x = ((a[0] + a[1]) + a[2]) + a[3];
	}
	return x;
}

static bool run_kernels(struct side *s, const struct params *p, float *host, int enqueues,
			uint64_t *ret_ns)
{
	cl_int n = p->fmas / N_CHAINS;
	size_t global = p->work_items;
	uint64_t t0;
	cl_int err;

	for (size_t i = 0; i < p->work_items; i++)
		host[i] = kernel_input(i);
	err = s->cl->EnqueueWriteBuffer(s->queue, s->vec, CL_TRUE, 0, p->work_items * sizeof(float),
					host, 0, NULL, NULL);
	if (!cl_ok(s, err, "clEnqueueWriteBuffer(kernel input)"))
		return false;
	err = s->cl->SetKernelArg(s->kernel, 0, sizeof(s->vec), &s->vec);
	err |= s->cl->SetKernelArg(s->kernel, 1, sizeof(n), &n);
	if (!cl_ok(s, err, "clSetKernelArg"))
		return false;
	t0 = now_ns();
	for (int e = 0; e < enqueues; e++) {
		err = s->cl->EnqueueNDRangeKernel(s->queue, s->kernel, 1, NULL, &global, NULL, 0,
						  NULL, NULL);
		if (!cl_ok(s, err, "clEnqueueNDRangeKernel"))
			return false;
	}
	err = s->cl->Finish(s->queue);
	*ret_ns = now_ns() - t0;
	if (!cl_ok(s, err, "clFinish"))
		return false;
	err = s->cl->EnqueueReadBuffer(s->queue, s->vec, CL_TRUE, 0, p->work_items * sizeof(float),
				       host, 0, NULL, NULL);
	return cl_ok(s, err, "clEnqueueReadBuffer(kernel output)");
}

/*
 * One untimed enqueue first (PoCL compiles the work-group function on first
 * launch), then the timed loop. Checks sampled work-items against the host and
 * returns a checksum of the output bits for comparison across the sides.
 */
static bool bench_kernel(struct side *s, const struct params *p, float *host, struct results *r)
{
	uint64_t ns, sum = 1469598103934665603u;

	if (!run_kernels(s, p, host, 1, &ns) || !run_kernels(s, p, host, p->enqueues, &ns))
		return false;
	for (size_t k = 0; k < N_CHECKED; k++) {
		size_t i = k * (p->work_items / N_CHECKED) + k % 7;
		float want;

		if (i >= p->work_items)
			break;
		want = kernel_expected(i, p->fmas / N_CHAINS, p->enqueues);
		if (memcmp(&want, &host[i], sizeof(want)) != 0) {
			fprintf(stderr,
				"bench-opencl: %s: kernel result x[%zu] = %.9g, want %.9g\n",
				s->name, i, (double)host[i], (double)want);
			return false;
		}
	}
	for (size_t i = 0; i < p->work_items; i++) {
		uint32_t bits;

		memcpy(&bits, &host[i], sizeof(bits));
		sum = (sum ^ bits) * 1099511628211u;
	}
	r->kernel_ns = (double)ns;
	r->kernel_sum = sum;
	return true;
}

static struct stats bench_memcpy(const struct params *p, unsigned char *src, unsigned char *dst,
				 double *samples)
{
	for (size_t i = 0; i < p->xfer_iters + 1; i++) {
		uint64_t t0 = now_ns();

		memcpy(dst, src, p->xfer_bytes);
		__asm__ __volatile__("" : : "r"(dst) : "memory");
		if (i > 0)
			samples[i - 1] = (double)(now_ns() - t0);
	}
	return summarize(samples, p->xfer_iters);
}

static double gib_per_s(size_t bytes, struct stats s)
{
	return s.valid && s.median_ns > 0 ? (double)bytes / s.median_ns * 1e9 / (1u << 30) : 0.0;
}

static void print_call_row(const char *name, struct stats s)
{
	printf("  %-28s median %12.1f ns   p99 %12.1f ns\n", name, s.median_ns, s.p99_ns);
}

static void print_xfer_row(const char *name, size_t bytes, struct stats s)
{
	printf("  %-28s median %12.3f ms   %8.2f GiB/s\n", name, s.median_ns / 1e6,
	       gib_per_s(bytes, s));
}

static void print_side(const struct side *s, const struct params *p, const struct results *r)
{
	char label[64];

	printf("  %-28s %s\n", "device", s->device_name);
	print_call_row("clGetDeviceInfo(NAME)", r->call);
	snprintf(label, sizeof(label), "write %zu MiB (blocking)", p->xfer_bytes >> 20);
	print_xfer_row(label, p->xfer_bytes, r->write);
	snprintf(label, sizeof(label), "read %zu MiB (blocking)", p->xfer_bytes >> 20);
	print_xfer_row(label, p->xfer_bytes, r->read);
	if (p->large_bytes) {
		snprintf(label, sizeof(label), "write+read %zu MiB", p->large_bytes >> 20);
		print_xfer_row(label, 2 * p->large_bytes, r->large);
	}
	printf("  %-28s total  %12.3f ms   checksum %016" PRIx64 "\n", "kernel loop",
	       r->kernel_ns / 1e6, r->kernel_sum);
}

static bool run_side(struct side *s, const struct params *p, unsigned char *src, unsigned char *dst,
		     unsigned char *lsrc, unsigned char *ldst, float *host, double *samples,
		     double *samples2, struct results *r)
{
	size_t batch = s->cl == &linked_api ? 1 : NATIVE_BATCH;

	memset(r, 0, sizeof(*r));
	r->call = bench_small_call(s, p->call_iters, batch, samples);
	r->ok = r->call.valid && bench_transfer(s, p, src, dst, samples, samples2, r) &&
		bench_large(s, p, lsrc, ldst, samples, r) && bench_kernel(s, p, host, r);
	return r->ok;
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: bench-opencl [--native-lib PATH] [--iters N] [--xfer-iters N]\n"
	       "                    [--xfer-mib N] [--large-mib N] [--large-iters N]\n"
	       "                    [--work-items N] [--fmas N] [--enqueues N] [--require-remote]\n"
	       "  --large-mib 0 leaves out the large-transfer case (default 256 MiB)\n"
	       "  run remoted: ava-run -- bench-opencl --native-lib "
	       "/usr/lib/x86_64-linux-gnu/libOpenCL.so.1.0.0\n");
}

static bool parse_size(const char *s, size_t *ret)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0)
		return false;
	*ret = (size_t)v;
	return true;
}

int main(int argc, char **argv)
{
	const char *native_path = AVA_BENCH_OPENCL_NATIVE_LIB;
	struct params p = {
		.call_iters = 20000,
		.xfer_iters = 10,
		.xfer_bytes = (size_t)64 << 20,
		.large_iters = 3,
		.work_items = (size_t)1 << 20,
		.fmas = 4096,
		.enqueues = 20,
	};
	size_t mib = 64, large_mib = 256, fmas = 4096, enqueues = 20;
	bool require_remote = false, remoted;
	struct cl_api native_api;
	struct side native = { .name = "native", .cl = &native_api };
	struct side remote = { .name = "remote", .cl = &linked_api };
	struct results rn, rr;
	struct stats mc;
	unsigned char *src = NULL, *dst = NULL, *lsrc = NULL, *ldst = NULL;
	double *samples = NULL, *samples2 = NULL;
	float *host = NULL;
	int ret = 1, rc;

	for (int i = 1; i < argc; i++) {
		bool ok = true;

		if (!strcmp(argv[i], "--native-lib") && i + 1 < argc) {
			native_path = argv[++i];
		} else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
			ok = parse_size(argv[++i], &p.call_iters);
		} else if (!strcmp(argv[i], "--xfer-iters") && i + 1 < argc) {
			ok = parse_size(argv[++i], &p.xfer_iters);
		} else if (!strcmp(argv[i], "--xfer-mib") && i + 1 < argc) {
			ok = parse_size(argv[++i], &mib) && mib <= 1024;
		} else if (!strcmp(argv[i], "--large-mib") && i + 1 < argc) {
			char *end;
			large_mib = strtoull(argv[++i], &end, 10);
			ok = *argv[i] && !*end && large_mib <= 2048;
		} else if (!strcmp(argv[i], "--large-iters") && i + 1 < argc) {
			ok = parse_size(argv[++i], &p.large_iters);
		} else if (!strcmp(argv[i], "--work-items") && i + 1 < argc) {
			ok = parse_size(argv[++i], &p.work_items);
		} else if (!strcmp(argv[i], "--fmas") && i + 1 < argc) {
			ok = parse_size(argv[++i], &fmas) && fmas % N_CHAINS == 0 &&
			     fmas <= (1u << 30);
		} else if (!strcmp(argv[i], "--enqueues") && i + 1 < argc) {
			ok = parse_size(argv[++i], &enqueues) && enqueues <= 100000;
		} else if (!strcmp(argv[i], "--require-remote")) {
			require_remote = true;
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			ok = false;
		}
		if (!ok) {
			usage(stderr);
			return 2;
		}
	}
	p.xfer_bytes = mib << 20;
	p.large_bytes = large_mib << 20;
	p.fmas = (int)fmas;
	p.enqueues = (int)enqueues;

	/* Before the native loader is loaded: is the linked clGetPlatformIDs the stub? */
	remoted = in_guest_lib(*(void **)&linked_api.GetPlatformIDs);
	if (!remoted) {
		fprintf(stderr,
			"bench-opencl: OpenCL is not remoted (run it under ava-run, "
			"see bench/run.sh)%s\n",
			require_remote ? "; skipped" : "; remote rows left out");
		if (require_remote)
			return 77;
	}
	if (load_native(native_path, &native_api) != 0)
		return 1;

	src = malloc(p.xfer_bytes);
	dst = malloc(p.xfer_bytes);
	host = malloc(p.work_items * sizeof(float));
	if (p.large_bytes) {
		lsrc = malloc(p.large_bytes);
		ldst = malloc(p.large_bytes);
	}
	size_t n_samples = p.call_iters > p.xfer_iters ? p.call_iters : p.xfer_iters;
	if (p.large_iters > n_samples)
		n_samples = p.large_iters;
	samples = malloc(n_samples * sizeof(*samples));
	samples2 = malloc(p.xfer_iters * sizeof(*samples2));
	if (!src || !dst || !host || !samples || !samples2 || (p.large_bytes && (!lsrc || !ldst))) {
		fprintf(stderr, "bench-opencl: out of memory\n");
		goto out;
	}
	memset(src, 1, p.xfer_bytes);
	memset(dst, 0, p.xfer_bytes);
	mc = bench_memcpy(&p, src, dst, samples);

	rc = side_init(&native, &p);
	if (rc == 0 && remoted)
		rc = side_init(&remote, &p);
	if (rc != 0) {
		ret = rc;
		goto out;
	}
	ret = 1;
	if (!run_side(&native, &p, src, dst, lsrc, ldst, host, samples, samples2, &rn))
		goto out;
	if (remoted && !run_side(&remote, &p, src, dst, lsrc, ldst, host, samples, samples2, &rr))
		goto out;

	printf("bench-opencl: %zu small calls (native timed in batches of %d), %zu x %zu MiB "
	       "transfers,\n"
	       "  kernel: %zu work-items x %d FMAs, %d enqueues then clFinish\n",
	       p.call_iters, NATIVE_BATCH, p.xfer_iters, mib, p.work_items, p.fmas, p.enqueues);
#ifdef BENCH_UNDER_ASAN
	printf("note: built with AddressSanitizer; numbers are not representative\n");
#endif
	printf("baseline: memcpy\n");
	print_xfer_row("memcpy", p.xfer_bytes, mc);
	printf("native (%s)\n", native_path);
	print_side(&native, &p, &rn);
	if (!remoted) {
		ret = 0;
		goto out;
	}
	printf("remote (guest stub -> router -> API server)\n");
	print_side(&remote, &p, &rr);

	printf("RATIO small-call remote/native = %.1f (median), %.1f (p99)\n",
	       rr.call.median_ns / rn.call.median_ns, rr.call.p99_ns / rn.call.p99_ns);
	printf("RATIO write-%zuMiB remote/native = %.2f (time, median); remote %.2f GiB/s, "
	       "native %.2f GiB/s, memcpy %.2f GiB/s\n",
	       mib, rr.write.median_ns / rn.write.median_ns, gib_per_s(p.xfer_bytes, rr.write),
	       gib_per_s(p.xfer_bytes, rn.write), gib_per_s(p.xfer_bytes, mc));
	printf("RATIO read-%zuMiB remote/native = %.2f (time, median); remote %.2f GiB/s, "
	       "native %.2f GiB/s, memcpy %.2f GiB/s\n",
	       mib, rr.read.median_ns / rn.read.median_ns, gib_per_s(p.xfer_bytes, rr.read),
	       gib_per_s(p.xfer_bytes, rn.read), gib_per_s(p.xfer_bytes, mc));
	printf("RATIO write-%zuMiB remote/memcpy = %.2f (time, median)\n", mib,
	       rr.write.median_ns / mc.median_ns);
	if (p.large_bytes)
		printf("RATIO write+read-%zuMiB remote/native = %.2f (time, median); remote %.2f "
		       "GiB/s, native %.2f GiB/s\n",
		       large_mib, rr.large.median_ns / rn.large.median_ns,
		       gib_per_s(2 * p.large_bytes, rr.large),
		       gib_per_s(2 * p.large_bytes, rn.large));
	printf("RATIO kernel-loop remote/native = %.3f (total)\n", rr.kernel_ns / rn.kernel_ns);
	if (rr.kernel_sum != rn.kernel_sum) {
		fprintf(stderr,
			"bench-opencl: kernel checksums differ: native %016" PRIx64
			", remote %016" PRIx64 "\n",
			rn.kernel_sum, rr.kernel_sum);
		goto out;
	}
	ret = 0;
out:
	if (remoted)
		side_fini(&remote);
	side_fini(&native);
	free(src);
	free(dst);
	free(lsrc);
	free(ldst);
	free(host);
	free(samples);
	free(samples2);
	return ret;
}
