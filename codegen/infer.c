/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "codegen.h"

int ava_codegen_infer(const struct ava_codegen_options *opts, const char *header_path, FILE *out)
{
	(void)opts;
	(void)header_path;
	(void)out;
	return -ENOSYS;
}
