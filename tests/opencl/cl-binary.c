/* SPDX-License-Identifier: MIT */
/*
 * cl-binary: the program functions beyond building from source.
 *
 * Builds a kernel from source, fetches its binaries (CL_PROGRAM_BINARY_SIZES,
 * then CL_PROGRAM_BINARIES into buffers of those sizes, as applications that
 * cache kernels do), creates a new program from them and runs the kernel of
 * both, which must compute the same. Then compiles a program that includes a
 * header program and links it; clones a kernel; and asks the functions whose
 * answer depends on the implementation (IL, built-in kernels, specialization
 * constants, sub-groups) for their result, printed by name so the native and
 * the remoted run must agree. Binary bytes are not printed (they may hold
 * paths); that two fetches agree byte for byte is checked.
 */
#include "clt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 4096

static const char scale_src[] =
    "__kernel void scale(__global const int *in, __global int *out, int k)\n"
    "{\n"
    "\tsize_t i = get_global_id(0);\n"
    "\tout[i] = in[i] * k + (int)i;\n"
    "}\n";

static const char header_src[] = "#define OFFSET 7\n"
				 "static inline int twice(int x) { return 2 * x; }\n";

static const char main_src[] =
    "#include \"offset.h\"\n"
    "__kernel void twice_plus(__global const int *in, __global int *out,\n"
    "                         int unused)\n"
    "{\n"
    "\tsize_t i = get_global_id(0);\n"
    "\tout[i] = twice(in[i]) + OFFSET;\n"
    "}\n";

struct env {
	cl_device_id dev;
	cl_context ctx;
	cl_command_queue q;
	cl_mem in, out;
	int host_in[N];
};

/* Runs kernel(in, out, k) over N items and returns a checksum of out; checks want(i). */
static uint64_t run(struct env *e, cl_kernel kernel, int k, int mul, int add, const char *what)
{
	static int out[N];
	size_t global = N;

	CLT_CHECK(clSetKernelArg(kernel, 0, sizeof(cl_mem), &e->in));
	CLT_CHECK(clSetKernelArg(kernel, 1, sizeof(cl_mem), &e->out));
	CLT_CHECK(clSetKernelArg(kernel, 2, sizeof(int), &k));
	CLT_CHECK(clEnqueueNDRangeKernel(e->q, kernel, 1, NULL, &global, NULL, 0, NULL, NULL));
	CLT_CHECK(clEnqueueReadBuffer(e->q, e->out, CL_TRUE, 0, sizeof(out), out, 0, NULL, NULL));
	for (int i = 0; i < N; i++) {
		int want = mul < 0 ? e->host_in[i] * k + i : e->host_in[i] * mul + add;
		CLT_ASSERT(out[i] == want, "%s: out[%d] = %d, want %d", what, i, out[i], want);
	}
	uint64_t h = clt_fnv1a(out, sizeof(out));
	printf("%s: %d items correct, checksum %016" PRIx64 "\n", what, N, h);
	return h;
}

/* Fetches the program's binaries; *ret_sizes and the buffers are malloc'd. */
static unsigned char **fetch_binaries(cl_program prog, cl_uint *ret_n, size_t **ret_sizes)
{
	cl_uint n = 0;
	CLT_CHECK(clGetProgramInfo(prog, CL_PROGRAM_NUM_DEVICES, sizeof(n), &n, NULL));
	CLT_ASSERT(n >= 1, "CL_PROGRAM_NUM_DEVICES is %u", n);
	size_t *sizes = calloc(n, sizeof(*sizes));
	unsigned char **bins = calloc(n, sizeof(*bins));
	CLT_ASSERT(sizes && bins, "out of memory");
	size_t ret = 0;
	CLT_CHECK(clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, n * sizeof(*sizes), sizes, &ret));
	CLT_ASSERT(ret == n * sizeof(*sizes), "CL_PROGRAM_BINARY_SIZES size %zu", ret);
	for (cl_uint i = 0; i < n; i++) {
		CLT_ASSERT(sizes[i] > 0, "binary %u is empty", i);
		bins[i] = malloc(sizes[i]);
		CLT_ASSERT(bins[i], "out of memory");
		memset(bins[i], 0xa5, sizes[i]);
	}
	ret = 0;
	CLT_CHECK(clGetProgramInfo(prog, CL_PROGRAM_BINARIES, n * sizeof(*bins), bins, &ret));
	CLT_ASSERT(ret == n * sizeof(*bins), "CL_PROGRAM_BINARIES size %zu", ret);
	*ret_n = n;
	*ret_sizes = sizes;
	return bins;
}

static void binaries(struct env *e)
{
	cl_program src_prog = clt_program_build(e->ctx, e->dev, scale_src, NULL);
	cl_int err;
	cl_kernel k_src = clCreateKernel(src_prog, "scale", &err);
	CLT_CHECK(err);
	uint64_t h_src = run(e, k_src, 3, -1, 0, "kernel from source");

	cl_uint n;
	size_t *sizes, *sizes2;
	unsigned char **bins = fetch_binaries(src_prog, &n, &sizes);
	unsigned char **bins2 = fetch_binaries(src_prog, &n, &sizes2);
	for (cl_uint i = 0; i < n; i++) {
		CLT_ASSERT(sizes[i] == sizes2[i] && memcmp(bins[i], bins2[i], sizes[i]) == 0,
			   "binary %u differs between two fetches", i);
		free(bins2[i]);
	}
	free(bins2);
	free(sizes2);
	printf("binaries: %u device(s), each non-empty, two fetches identical\n", n);

	/* Too small an array is the caller's error (PoCL does not skip NULL entries). */
	err = clGetProgramInfo(src_prog, CL_PROGRAM_BINARIES, 1, bins, NULL);
	printf("binaries into a 1-byte array: %s\n", clt_err_name(err));

	cl_int status[8];
	for (cl_uint i = 0; i < n && i < 8; i++)
		status[i] = 12345;
	cl_program bin_prog = clCreateProgramWithBinary(e->ctx, 1, &e->dev, sizes,
							(const unsigned char **)bins, status, &err);
	CLT_CHECK(err);
	printf("program from binary: binary_status %s\n", clt_err_name(status[0]));
	CLT_CHECK(clBuildProgram(bin_prog, 1, &e->dev, NULL, NULL, NULL));
	cl_program_binary_type bt = 0;
	CLT_CHECK(
	    clGetProgramBuildInfo(bin_prog, e->dev, CL_PROGRAM_BINARY_TYPE, sizeof(bt), &bt, NULL));
	printf("program from binary: binary type %s\n",
	       bt == CL_PROGRAM_BINARY_TYPE_EXECUTABLE ? "executable" : "other");
	cl_kernel k_bin = clCreateKernel(bin_prog, "scale", &err);
	CLT_CHECK(err);
	uint64_t h_bin = run(e, k_bin, 3, -1, 0, "kernel from binary");
	CLT_ASSERT(h_src == h_bin, "the binary's kernel computes something else");
	printf("source and binary kernels agree: yes\n");

	/* A corrupt binary: the library's own verdict, per device and overall. */
	unsigned char junk[64];
	memset(junk, 0x5a, sizeof(junk));
	const unsigned char *junkp = junk;
	size_t junk_len = sizeof(junk);
	status[0] = 12345;
	cl_program bad =
	    clCreateProgramWithBinary(e->ctx, 1, &e->dev, &junk_len, &junkp, status, &err);
	printf("program from a corrupt binary: %s, binary_status %s\n", clt_err_name(err),
	       clt_err_name(status[0]));
	if (bad)
		CLT_CHECK(clReleaseProgram(bad));

	/* clCloneKernel: same code, its own arguments. */
	cl_kernel k_clone = clCloneKernel(k_bin, &err);
	CLT_CHECK(err);
	run(e, k_clone, 5, -1, 0, "cloned kernel");
	char name[64] = "";
	CLT_CHECK(clGetKernelInfo(k_clone, CL_KERNEL_FUNCTION_NAME, sizeof(name), name, NULL));
	printf("cloned kernel name: %s\n", name);

	CLT_CHECK(clReleaseKernel(k_clone));
	CLT_CHECK(clReleaseKernel(k_bin));
	CLT_CHECK(clReleaseKernel(k_src));
	CLT_CHECK(clReleaseProgram(bin_prog));
	CLT_CHECK(clReleaseProgram(src_prog));
	for (cl_uint i = 0; i < n; i++)
		free(bins[i]);
	free(bins);
	free(sizes);
}

static void compile_link(struct env *e)
{
	cl_int err;
	const char *hs = header_src, *ms = main_src;
	cl_program header = clCreateProgramWithSource(e->ctx, 1, &hs, NULL, &err);
	CLT_CHECK(err);
	cl_program main_prog = clCreateProgramWithSource(e->ctx, 1, &ms, NULL, &err);
	CLT_CHECK(err);
	const char *names[1] = { "offset.h" };
	err = clCompileProgram(main_prog, 1, &e->dev, "-cl-kernel-arg-info", 1, &header, names,
			       NULL, NULL);
	if (err != CL_SUCCESS) {
		char log[4096] = "";
		clGetProgramBuildInfo(main_prog, e->dev, CL_PROGRAM_BUILD_LOG, sizeof(log), log,
				      NULL);
		clt_die(__FILE__, __LINE__, log, err);
	}
	cl_program_binary_type bt = 0;
	CLT_CHECK(clGetProgramBuildInfo(main_prog, e->dev, CL_PROGRAM_BINARY_TYPE, sizeof(bt), &bt,
					NULL));
	printf("compiled: binary type %s\n",
	       bt == CL_PROGRAM_BINARY_TYPE_COMPILED_OBJECT ? "compiled object" : "other");
	cl_program linked =
	    clLinkProgram(e->ctx, 1, &e->dev, NULL, 1, &main_prog, NULL, NULL, &err);
	CLT_CHECK(err);
	cl_kernel k = clCreateKernel(linked, "twice_plus", &err);
	CLT_CHECK(err);
	run(e, k, 0, 2, 7, "compiled and linked kernel");

	/* Linking a program that is not compiled: the library's error. */
	const char *ss = scale_src;
	cl_program raw = clCreateProgramWithSource(e->ctx, 1, &ss, NULL, &err);
	CLT_CHECK(err);
	cl_program none = clLinkProgram(e->ctx, 1, &e->dev, NULL, 1, &raw, NULL, NULL, &err);
	printf("link of an uncompiled program: %s, program %s\n", clt_err_name(err),
	       none ? "returned" : "NULL");
	if (none)
		CLT_CHECK(clReleaseProgram(none));

	/* clSetProgramSpecializationConstant on a program not made from IL (PoCL asserts on an unbuilt one). */
	int v = 1;
	err = clSetProgramSpecializationConstant(linked, 0, sizeof(v), &v);
	printf("specialization constant on a linked source program: %s\n", clt_err_name(err));

	size_t max_sg = 0, local = 64;
	err = clGetKernelSubGroupInfo(k, e->dev, CL_KERNEL_MAX_SUB_GROUP_SIZE_FOR_NDRANGE,
				      sizeof(local), &local, sizeof(max_sg), &max_sg, NULL);
	if (err == CL_SUCCESS)
		printf("max sub-group size for 64 items: %zu\n", max_sg);
	else
		printf("max sub-group size for 64 items: %s\n", clt_err_name(err));

	CLT_CHECK(clReleaseKernel(k));
	CLT_CHECK(clReleaseProgram(raw));
	CLT_CHECK(clReleaseProgram(linked));
	CLT_CHECK(clReleaseProgram(main_prog));
	CLT_CHECK(clReleaseProgram(header));
}

static void others(struct env *e, cl_platform_id platform)
{
	cl_int err;
	static const unsigned char il[16] = { 0x03, 0x02, 0x23, 0x07 }; /* a truncated SPIR-V */
	cl_program p = clCreateProgramWithIL(e->ctx, il, sizeof(il), &err);
	printf("program from a truncated IL: %s, program %s\n", clt_err_name(err),
	       p ? "returned" : "NULL");
	if (p)
		CLT_CHECK(clReleaseProgram(p));
	p = clCreateProgramWithBuiltInKernels(e->ctx, 1, &e->dev, "no_such_builtin_kernel", &err);
	printf("built-in kernel that does not exist: %s, program %s\n", clt_err_name(err),
	       p ? "returned" : "NULL");
	if (p)
		CLT_CHECK(clReleaseProgram(p));
	printf("clUnloadPlatformCompiler: %s\n", clt_err_name(clUnloadPlatformCompiler(platform)));
}

int main(void)
{
	clt_init(120);
	cl_platform_id platform;
	struct env e;
	cl_int err;

	clt_pick_device(&platform, &e.dev);
	e.ctx = clt_context_new(platform, e.dev);
	e.q = clCreateCommandQueueWithProperties(e.ctx, e.dev, NULL, &err);
	CLT_CHECK(err);
	for (int i = 0; i < N; i++)
		e.host_in[i] = (i * 37) % 1001 - 500;
	e.in = clCreateBuffer(e.ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof(e.host_in),
			      e.host_in, &err);
	CLT_CHECK(err);
	e.out = clCreateBuffer(e.ctx, CL_MEM_WRITE_ONLY, sizeof(e.host_in), NULL, &err);
	CLT_CHECK(err);

	binaries(&e);
	compile_link(&e);
	others(&e, platform);

	CLT_CHECK(clReleaseMemObject(e.out));
	CLT_CHECK(clReleaseMemObject(e.in));
	CLT_CHECK(clReleaseCommandQueue(e.q));
	CLT_CHECK(clReleaseContext(e.ctx));
	printf("cl-binary: ok\n");
	return 0;
}
