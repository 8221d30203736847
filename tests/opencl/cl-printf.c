/* SPDX-License-Identifier: MIT */
/*
 * cl-printf: printf inside kernels, interleaved with the program's own output.
 *
 * Each launch runs one work-item (so the order of kernel output is fixed) and
 * prints ints, floats, a vector, strings and characters. The program prints a
 * line before and after each launch; the line after comes once the launch is
 * known to be done: after clFinish, after clWaitForEvents on its event, or
 * after a blocking read on the same in-order queue. Natively, PoCL writes the
 * kernel's output to the process's stdout before those calls return; remoted,
 * the output must arrive in the same place and in the same order, so the
 * diff against the native run checks both. stdout is line-buffered and every
 * line the program prints ends in a newline, so its own output is flushed
 * before each launch (the remoted kernel output is written with write(2) and
 * does not pass through the program's stdio buffer).
 */
#include "clt.h"

#include <stdio.h>
#include <string.h>

#define LAUNCHES 6

static const char kernel_src[] =
    "__constant char greeting[] = \"constant string\";\n"
    "__kernel void say(__global int *out, int launch, float x)\n"
    "{\n"
    "\tint id = (int)get_global_id(0);\n"
    "\tfloat4 v = (float4)(x, x * 2.0f, -x, 0.5f);\n"
    "\tprintf(\"kernel launch %d work-item %d: int %d, neg %i, hex %#x, unsigned %u\\n\",\n"
    "\t       launch, id, launch * 1000 + 7, -launch - 1, 0xbeef + launch, 4000000000u);\n"
    "\tprintf(\"kernel launch %d: float %f, %.3f, %e, %g; vector %v4hlf\\n\",\n"
    "\t       launch, x, x / 3.0f, x * 1000.0f, x, v);\n"
    "\tprintf(\"kernel launch %d: string '%s', %s, char %c%c%%\\n\", launch, greeting,\n"
    "\t       \"literal\", 'o', 'k');\n"
    "\tout[id] = launch * 10 + id;\n"
    "}\n";

/* How the program learns that a launch is done. */
enum sync_kind { SYNC_FINISH, SYNC_WAIT_EVENT, SYNC_BLOCKING_READ };

static const char *sync_name(enum sync_kind s)
{
	switch (s) {
	case SYNC_FINISH:
		return "clFinish";
	case SYNC_WAIT_EVENT:
		return "clWaitForEvents";
	case SYNC_BLOCKING_READ:
		return "blocking clEnqueueReadBuffer";
	}
	return "?";
}

int main(void)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_context ctx;
	cl_command_queue q;
	cl_program prog;
	cl_kernel k;
	cl_mem out;
	cl_int err, result;
	size_t global = 1;

	clt_init(120);
	clt_pick_device(&platform, &device);
	ctx = clt_context_new(platform, device);
	q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	prog = clt_program_build(ctx, device, kernel_src, NULL);
	k = clCreateKernel(prog, "say", &err);
	CLT_CHECK(err);
	out = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, sizeof(cl_int), NULL, &err);
	CLT_CHECK(err);
	CLT_CHECK(clSetKernelArg(k, 0, sizeof(cl_mem), &out));

	for (cl_int launch = 0; launch < LAUNCHES; launch++) {
		enum sync_kind sync = (enum sync_kind)(launch % 3);
		cl_float x = 1.25f + (cl_float)launch;
		cl_event ev = NULL;

		printf("host: launch %d, then %s\n", launch, sync_name(sync));
		fflush(stdout);
		CLT_CHECK(clSetKernelArg(k, 1, sizeof(launch), &launch));
		CLT_CHECK(clSetKernelArg(k, 2, sizeof(x), &x));
		CLT_CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 0, NULL,
						 sync == SYNC_WAIT_EVENT ? &ev : NULL));
		switch (sync) {
		case SYNC_FINISH:
			CLT_CHECK(clFinish(q));
			break;
		case SYNC_WAIT_EVENT:
			CLT_CHECK(clWaitForEvents(1, &ev));
			CLT_CHECK(clReleaseEvent(ev));
			break;
		case SYNC_BLOCKING_READ:
			break;
		}
		result = -1;
		CLT_CHECK(clEnqueueReadBuffer(q, out, CL_TRUE, 0, sizeof(result), &result, 0, NULL,
					      NULL));
		CLT_ASSERT(result == launch * 10, "launch %d: the kernel wrote %d, want %d", launch,
			   (int)result, (int)launch * 10);
		printf("host: launch %d done, result %d\n", launch, (int)result);
		fflush(stdout);
	}

	CLT_CHECK(clReleaseMemObject(out));
	CLT_CHECK(clReleaseKernel(k));
	CLT_CHECK(clReleaseProgram(prog));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	printf("host: done\n");
	return 0;
}
