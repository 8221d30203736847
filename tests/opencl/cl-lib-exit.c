/* SPDX-License-Identifier: MIT */
/*
 * cl-lib-exit: runs on exit-icd (lib-exit.sh) and makes its library give up
 * inside a call: `cl-lib-exit exit` asks for accelerators (the library calls
 * exit(3)), `cl-lib-exit abort` for custom devices (abort()). The call must
 * come back with an error, and so must the next, without hanging (the
 * watchdog fails the run after 30 s).
 */
#include "clt.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_uint n = 0;

	if (argc != 2 || (strcmp(argv[1], "exit") != 0 && strcmp(argv[1], "abort") != 0)) {
		fprintf(stderr, "usage: cl-lib-exit exit|abort\n");
		return 2;
	}
	clt_init(30);
	CLT_CHECK(clGetPlatformIDs(1, &platform, &n));
	CLT_ASSERT(n == 1, "no platform");
	cl_device_type type =
	    strcmp(argv[1], "exit") == 0 ? CL_DEVICE_TYPE_ACCELERATOR : CL_DEVICE_TYPE_CUSTOM;
	cl_int err = clGetDeviceIDs(platform, type, 1, &device, &n);
	printf("clGetDeviceIDs: %s\n", clt_err_name(err));
	CLT_ASSERT(err != CL_SUCCESS, "the call succeeded");
	err = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, &n);
	printf("the next call: %s\n", clt_err_name(err));
	CLT_ASSERT(err != CL_SUCCESS, "the next call succeeded");
	return 0;
}
