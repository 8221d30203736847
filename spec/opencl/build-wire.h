/* SPDX-License-Identifier: MIT */
/*
 * A wire-only function of the OpenCL spec: how the files a program's
 * build reads on the application's side (its -I directories, PoCL's
 * implicit -I. of the working directory, the headers its sources include)
 * reach the compiler on the server. spec/opencl/build.c calls it before
 * clBuildProgram / clCompileProgram; spec/opencl/build-server.c writes the
 * files into the session's private build directory. Applications do not
 * call it: its spec entry is ava_private.
 *
 * files (files_size bytes) is a sequence of records, each a 16-byte header
 * (kind: 'd' a directory, 'f' a file; name_len; data_len; little-endian
 * u32, u32, u64) followed by name_len bytes of an absolute name on the
 * application's side ("/home/u/app/inc/a.h", no "." or ".." component) and
 * data_len bytes of contents (0 for a directory). The server creates each
 * under its private directory R ("/home/u/app/inc/a.h" becomes
 * R/home/u/app/inc/a.h) and writes R, NUL-terminated, into root
 * (root_size bytes). Returns CL_SUCCESS; CL_INVALID_VALUE for a malformed
 * record or a root too small; CL_OUT_OF_RESOURCES when the files cannot be
 * written.
 */
#ifndef AVA_OPENCL_BUILD_WIRE_H
#define AVA_OPENCL_BUILD_WIRE_H

#include <stddef.h>

#include <CL/cl.h>

cl_int avaclPutBuildFiles(size_t files_size, const void *files, size_t root_size, char *root);

#endif /* AVA_OPENCL_BUILD_WIRE_H */
