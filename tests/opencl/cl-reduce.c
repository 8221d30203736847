/* SPDX-License-Identifier: MIT */
/*
 * cl-reduce: a work-group tree reduction in __local memory.
 *
 * The scratch array is a kernel argument set with clSetKernelArg(k, i, size,
 * NULL); a second kernel uses a fixed __local array instead. The program is
 * built with a notify callback that must see the program and the user_data
 * it was given. Work-group info of both kernels is printed, and the sums
 * (integers, so exact) are compared with a CPU reduction, for a size that
 * fills whole work-groups and one that does not.
 */
#include "clt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define FIXED_WG 64

static const char kernel_src[] =
    "__kernel void reduce_arg(__global const uint *in, __global ulong *partial,\n"
    "                         __local ulong *scratch, uint n)\n"
    "{\n"
    "\tsize_t gid = get_global_id(0), lid = get_local_id(0);\n"
    "\tscratch[lid] = gid < n ? in[gid] : 0;\n"
    "\tbarrier(CLK_LOCAL_MEM_FENCE);\n"
    "\tfor (size_t s = get_local_size(0) / 2; s > 0; s >>= 1) {\n"
    "\t\tif (lid < s)\n"
    "\t\t\tscratch[lid] += scratch[lid + s];\n"
    "\t\tbarrier(CLK_LOCAL_MEM_FENCE);\n"
    "\t}\n"
    "\tif (lid == 0)\n"
    "\t\tpartial[get_group_id(0)] = scratch[0];\n"
    "}\n"
    "\n"
    "__kernel __attribute__((reqd_work_group_size(64, 1, 1)))\n"
    "void reduce_fixed(__global const uint *in, __global ulong *partial, uint n)\n"
    "{\n"
    "\t__local ulong scratch[64];\n"
    "\tsize_t gid = get_global_id(0), lid = get_local_id(0);\n"
    "\tscratch[lid] = gid < n ? in[gid] : 0;\n"
    "\tbarrier(CLK_LOCAL_MEM_FENCE);\n"
    "\tfor (size_t s = 32; s > 0; s >>= 1) {\n"
    "\t\tif (lid < s)\n"
    "\t\t\tscratch[lid] += scratch[lid + s];\n"
    "\t\tbarrier(CLK_LOCAL_MEM_FENCE);\n"
    "\t}\n"
    "\tif (lid == 0)\n"
    "\t\tpartial[get_group_id(0)] = scratch[0];\n"
    "}\n";

struct build_note {
	int tag;
	cl_program program;
	struct clt_waiter *done;
	int calls;
	bool program_matches;
	int tag_seen;
};

static void CL_CALLBACK on_built(cl_program program, void *user_data)
{
	struct build_note *note = user_data;

	note->calls++;
	note->program_matches = program == note->program;
	note->tag_seen = note->tag;
	clt_waiter_signal(note->done);
}

/* Builds with a notify callback: clBuildProgram may return before the build ends. */
static cl_program build_with_callback(cl_context ctx, cl_device_id device)
{
	const char *src = kernel_src;
	struct build_note note = { .tag = 42 };
	cl_build_status status = CL_BUILD_NONE;
	cl_int err;

	note.program = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
	CLT_CHECK(err);
	note.done = clt_waiter_new();
	err = clBuildProgram(note.program, 1, &device, "-cl-std=CL1.2", on_built, &note);
	printf("clBuildProgram with callback: %s\n", clt_err_name(err));
	CLT_CHECK(err);
	CLT_ASSERT(clt_waiter_wait(note.done, 1, 60) == 1, "the build callback never came");
	printf("build callback: calls %d, program matches %s, user_data tag %d\n", note.calls,
	       clt_yes(note.program_matches), note.tag_seen);
	CLT_ASSERT(note.program_matches && note.tag_seen == 42, "build callback saw wrong values");
	CLT_CHECK(clGetProgramBuildInfo(note.program, device, CL_PROGRAM_BUILD_STATUS,
					sizeof(status), &status, NULL));
	printf("build status: %s\n", status == CL_BUILD_SUCCESS ? "CL_BUILD_SUCCESS" : "other");
	CLT_ASSERT(status == CL_BUILD_SUCCESS, "build status %d", (int)status);
	clt_waiter_free(note.done);
	return note.program;
}

struct wg_info {
	size_t wg_size, multiple, compile[3];
	cl_ulong local_mem, private_mem;
};

static struct wg_info work_group_info(cl_kernel k, cl_device_id device)
{
	struct wg_info w = { 0 };

	CLT_CHECK(clGetKernelWorkGroupInfo(k, device, CL_KERNEL_WORK_GROUP_SIZE, sizeof(w.wg_size),
					   &w.wg_size, NULL));
	CLT_CHECK(clGetKernelWorkGroupInfo(k, device, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
					   sizeof(w.multiple), &w.multiple, NULL));
	CLT_CHECK(clGetKernelWorkGroupInfo(k, device, CL_KERNEL_COMPILE_WORK_GROUP_SIZE,
					   sizeof(w.compile), w.compile, NULL));
	CLT_CHECK(clGetKernelWorkGroupInfo(k, device, CL_KERNEL_LOCAL_MEM_SIZE, sizeof(w.local_mem),
					   &w.local_mem, NULL));
	CLT_CHECK(clGetKernelWorkGroupInfo(k, device, CL_KERNEL_PRIVATE_MEM_SIZE,
					   sizeof(w.private_mem), &w.private_mem, NULL));
	return w;
}

static void print_wg_info(const char *name, const struct wg_info *w)
{
	printf("%s: work group size %zu, preferred multiple %zu, compile size %zu %zu %zu, "
	       "local mem %" PRIu64 ", private mem %" PRIu64 "\n",
	       name, w->wg_size, w->multiple, w->compile[0], w->compile[1], w->compile[2],
	       (uint64_t)w->local_mem, (uint64_t)w->private_mem);
}

/* Runs k over in[0..n) in groups of wg items; returns the sum of the partial sums. */
static uint64_t run_reduce(cl_context ctx, cl_command_queue q, cl_kernel k, bool local_arg,
			   cl_mem in, cl_uint n, size_t wg)
{
	size_t groups = (n + wg - 1) / wg, global = groups * wg;
	cl_ulong *partial = calloc(groups, sizeof(cl_ulong));
	uint64_t sum = 0;
	cl_mem dpartial;
	cl_uint arg = 2;
	cl_int err;

	CLT_ASSERT(partial != NULL, "out of memory");
	dpartial = clCreateBuffer(ctx, CL_MEM_READ_WRITE, groups * sizeof(cl_ulong), NULL, &err);
	CLT_CHECK(err);
	CLT_CHECK(clSetKernelArg(k, 0, sizeof(cl_mem), &in));
	CLT_CHECK(clSetKernelArg(k, 1, sizeof(cl_mem), &dpartial));
	if (local_arg)
		CLT_CHECK(clSetKernelArg(k, arg++, wg * sizeof(cl_ulong), NULL));
	CLT_CHECK(clSetKernelArg(k, arg, sizeof(cl_uint), &n));
	CLT_CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &wg, 0, NULL, NULL));
	CLT_CHECK(clEnqueueReadBuffer(q, dpartial, CL_TRUE, 0, groups * sizeof(cl_ulong), partial,
				      0, NULL, NULL));
	for (size_t i = 0; i < groups; i++)
		sum += partial[i];
	CLT_CHECK(clReleaseMemObject(dpartial));
	free(partial);
	return sum;
}

int main(void)
{
	static const cl_uint sizes[] = { 1u << 20, 1000003 };
	cl_platform_id platform;
	cl_device_id device;
	cl_context ctx;
	cl_command_queue q;
	cl_program prog;
	cl_kernel k_arg, k_fixed;
	struct wg_info w_arg, w_fixed;
	size_t wg;
	cl_uint *data;
	cl_mem din;
	cl_int err;

	clt_init(120);
	clt_pick_device(&platform, &device);
	ctx = clt_context_new(platform, device);
	q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	prog = build_with_callback(ctx, device);
	k_arg = clCreateKernel(prog, "reduce_arg", &err);
	CLT_CHECK(err);
	k_fixed = clCreateKernel(prog, "reduce_fixed", &err);
	CLT_CHECK(err);

	/* The largest power of two up to 256 that the kernel allows. */
	w_arg = work_group_info(k_arg, device);
	wg = 256;
	while (wg > w_arg.wg_size)
		wg /= 2;
	CLT_ASSERT(wg >= 1, "kernel work group size %zu", w_arg.wg_size);
	printf("work group size used: %zu\n", wg);

	data = malloc(sizes[0] * sizeof(cl_uint));
	CLT_ASSERT(data != NULL, "out of memory");
	for (cl_uint i = 0; i < sizes[0]; i++)
		data[i] = (i * 2654435761u) % 100003u;
	din = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
			     sizes[0] * sizeof(cl_uint), data, &err);
	CLT_CHECK(err);

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		cl_uint n = sizes[s];
		uint64_t cpu = 0, gpu_arg, gpu_fixed;

		for (cl_uint i = 0; i < n; i++)
			cpu += data[i];
		gpu_arg = run_reduce(ctx, q, k_arg, true, din, n, wg);
		gpu_fixed = run_reduce(ctx, q, k_fixed, false, din, n, FIXED_WG);
		printf("n %u: cpu sum %" PRIu64 ", __local arg sum %" PRIu64
		       ", fixed __local sum %" PRIu64 ", match %s\n",
		       n, cpu, gpu_arg, gpu_fixed, clt_yes(cpu == gpu_arg && cpu == gpu_fixed));
		CLT_ASSERT(cpu == gpu_arg && cpu == gpu_fixed,
			   "n %u: sums differ (cpu %" PRIu64 ", arg %" PRIu64 ", fixed %" PRIu64
			   ")",
			   n, cpu, gpu_arg, gpu_fixed);
	}

	/* After the arguments are set, the local memory includes the __local argument. */
	w_arg = work_group_info(k_arg, device);
	w_fixed = work_group_info(k_fixed, device);
	print_wg_info("reduce_arg", &w_arg);
	print_wg_info("reduce_fixed", &w_fixed);
	CLT_ASSERT(w_fixed.compile[0] == FIXED_WG && w_fixed.compile[1] == 1 &&
		       w_fixed.compile[2] == 1,
		   "reduce_fixed: compile work group size %zu %zu %zu", w_fixed.compile[0],
		   w_fixed.compile[1], w_fixed.compile[2]);
	CLT_ASSERT(w_arg.local_mem >= wg * sizeof(cl_ulong), "reduce_arg: local mem %" PRIu64,
		   (uint64_t)w_arg.local_mem);

	CLT_CHECK(clFinish(q));
	CLT_CHECK(clReleaseMemObject(din));
	CLT_CHECK(clReleaseKernel(k_fixed));
	CLT_CHECK(clReleaseKernel(k_arg));
	CLT_CHECK(clReleaseProgram(prog));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	free(data);
	return 0;
}
