/* SPDX-License-Identifier: MIT */
/*
 * cl-probe: is there an OpenCL device to test on, and is it remoted?
 *
 *   cl-probe                 exit 0 if some platform has a device, 77 (skipped) with the
 *                            reason on stderr if none does, 1 on any other error
 *   cl-probe --expect-remote also exit 1 unless this process runs on the AvA guest library:
 *                            libava-guest-opencl is mapped and no vendor library (PoCL) is.
 *                            run-diff.sh runs it under ava-run, so a launcher that silently
 *                            runs the application natively cannot pass a diff test.
 */
#define _GNU_SOURCE
#include "clt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Does some line of /proc/self/maps name a file whose path contains needle? */
static bool mapped(const char *needle)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[4096];
	bool found = false;

	CLT_ASSERT(maps != NULL, "cannot open /proc/self/maps");
	while (fgets(line, sizeof(line), maps)) {
		if (strstr(line, needle)) {
			found = true;
			break;
		}
	}
	fclose(maps);
	return found;
}

int main(int argc, char **argv)
{
	bool expect_remote = argc > 1 && strcmp(argv[1], "--expect-remote") == 0;
	cl_platform_id platform;
	cl_device_id device;
	char *name;

	if (argc > 2 || (argc == 2 && !expect_remote)) {
		fprintf(stderr, "usage: cl-probe [--expect-remote]\n");
		return 2;
	}
	clt_init(60);
	/* Exits 77 when there is nothing to test on. */
	clt_pick_device(&platform, &device);
	name = clt_device_string(device, CL_DEVICE_NAME);
	fprintf(stderr, "cl-probe: OpenCL device: %s\n", name);
	free(name);

	if (expect_remote) {
		/* After clGetPlatformIDs a native ICD loader has loaded the vendor library. */
		CLT_ASSERT(mapped("libava-guest-opencl"),
			   "the AvA OpenCL guest library is not loaded: not remoted");
		CLT_ASSERT(!mapped("libpocl"), "the vendor library (PoCL) is loaded in the "
					       "application: not remoted");
		fprintf(stderr, "cl-probe: remoted through libava-guest-opencl\n");
	}
	return 0;
}
