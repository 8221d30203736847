/* SPDX-License-Identifier: MIT */
/*
 * cl-printf-app: kernel printf output that names the application printing it.
 *
 *   cl-printf-app APP LAUNCHES SPIN
 *
 * Launches a one-work-item kernel LAUNCHES times; each spins SPIN rounds
 * (so that two such programs' kernels overlap on the device) and prints
 * "app APP launch L: kernel, hash H" with printf; the host prints a line
 * before each launch and one after clFinish. Natively the output is
 * deterministic, so two of these run at once remoted, sharing one API
 * server (tests/opencl/printf-shared.sh), must each print exactly what
 * it prints alone natively: kernel output reaches the application that
 * launched the kernel, never another one.
 */
#include "clt.h"

#include <stdio.h>
#include <stdlib.h>

static const char kernel_src[] =
    "__kernel void say(__global uint *out, int app, int launch, "
    "int spin)\n"
    "{\n"
    "\tuint h = (uint)launch;\n"
    "\tfor (int i = 0; i < spin; i++)\n"
    "\t\th = h * 1664525u + 1013904223u + (uint)(i >> 3);\n"
    "\tout[0] = h;\n"
    "\tprintf(\"app %d launch %d: kernel, hash %08x\\n\", app, launch, h);\n"
    "}\n";

int main(int argc, char **argv)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_context ctx;
	cl_command_queue q;
	cl_program prog;
	cl_kernel k;
	cl_mem out;
	cl_int err;
	size_t global = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: %s APP LAUNCHES SPIN\n", argv[0]);
		return 2;
	}
	cl_int app = atoi(argv[1]), launches = atoi(argv[2]), spin = atoi(argv[3]);

	clt_init(120);
	clt_pick_device(&platform, &device);
	ctx = clt_context_new(platform, device);
	q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	prog = clt_program_build(ctx, device, kernel_src, NULL);
	k = clCreateKernel(prog, "say", &err);
	CLT_CHECK(err);
	out = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, sizeof(cl_uint), NULL, &err);
	CLT_CHECK(err);
	CLT_CHECK(clSetKernelArg(k, 0, sizeof(cl_mem), &out));
	CLT_CHECK(clSetKernelArg(k, 1, sizeof(app), &app));
	CLT_CHECK(clSetKernelArg(k, 3, sizeof(spin), &spin));

	for (cl_int launch = 0; launch < launches; launch++) {
		printf("host: app %d launch %d\n", (int)app, (int)launch);
		fflush(stdout);
		CLT_CHECK(clSetKernelArg(k, 2, sizeof(launch), &launch));
		CLT_CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 0, NULL, NULL));
		CLT_CHECK(clFinish(q));
		printf("host: app %d launch %d done\n", (int)app, (int)launch);
		fflush(stdout);
	}

	CLT_CHECK(clReleaseMemObject(out));
	CLT_CHECK(clReleaseKernel(k));
	CLT_CHECK(clReleaseProgram(prog));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	return 0;
}
