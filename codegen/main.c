/* SPDX-License-Identifier: MIT */
/*
 * avagen: generates the guest stub library source, the API server source,
 * the ABI manifest and the linker version script of an API from its spec.
 *
 *   avagen [-o DIR] [-I DIR]... [-D X]... [--source-root DIR] FILE.spec
 *   avagen --infer HEADER [-I DIR]... [-D X]...
 *
 * Exit status: 0 success, 1 errors in the spec (each printed as
 * "file:line:col: error: reason"), 2 usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"

static void usage(FILE *f)
{
	fputs("Usage: avagen [OPTIONS] FILE.spec\n"
	      "       avagen --infer HEADER [-I DIR]... [-D X]...\n"
	      "\n"
	      "Generates, from an AvA spec, into DIR:\n"
	      "  <id>_guest.c   guest stub library source (exports the API's functions)\n"
	      "  <id>_server.c  API server source (main() calls the real library)\n"
	      "  <id>.abi       ABI manifest (commit it as spec/<id>.abi)\n"
	      "  <id>.map       linker version script for the guest library\n"
	      "\n"
	      "Options:\n"
	      "  -o, --output DIR        where to write (default: .)\n"
	      "  -I DIR                  add DIR to the header search path\n"
	      "  -D NAME[=VALUE]         define a macro while reading the spec\n"
	      "      --source-root DIR   show the spec path relative to DIR in banners\n"
	      "      --depfile FILE      also write a Makefile-style list of files read\n"
	      "      --infer HEADER      print a starter spec for HEADER on stdout\n"
	      "      --resource-dir DIR  clang resource directory (also $AVAGEN_RESOURCE_DIR)\n"
	      "      --spec-include DIR  directory holding ava/spec.h (also "
	      "$AVAGEN_SPEC_INCLUDE_DIR)\n"
	      "  -h, --help              show this help\n"
	      "      --version           show the version\n"
	      "\n"
	      "docs/spec-language.md describes the spec language.\n",
	      f);
}

enum {
	OPT_SOURCE_ROOT = 256,
	OPT_INFER,
	OPT_RESOURCE_DIR,
	OPT_SPEC_INCLUDE,
	OPT_DEPFILE,
	OPT_VERSION,
};

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "avagen: %s%s%s\nTry 'avagen --help'.\n", what, arg ? ": " : "",
		arg ? arg : "");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "source-root", required_argument, NULL, OPT_SOURCE_ROOT },
		{ "infer", required_argument, NULL, OPT_INFER },
		{ "resource-dir", required_argument, NULL, OPT_RESOURCE_DIR },
		{ "spec-include", required_argument, NULL, OPT_SPEC_INCLUDE },
		{ "depfile", required_argument, NULL, OPT_DEPFILE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct ava_codegen_options opts = { 0 };
	const char **includes = ava_codegen_xcalloc((size_t)argc, sizeof(*includes));
	const char **defines = ava_codegen_xcalloc((size_t)argc, sizeof(*defines));
	const char *out_dir = ".", *infer = NULL, *depfile = NULL;
	struct ava_codegen_api *api = NULL;
	int c, r, status = 0;

	opts.include_dirs = includes;
	opts.defines = defines;
	opts.err = stderr;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:I:D:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out_dir = optarg;
			break;
		case 'I':
			includes[opts.n_include_dirs++] = optarg;
			break;
		case 'D':
			defines[opts.n_defines++] = optarg;
			break;
		case OPT_SOURCE_ROOT:
			opts.source_root = optarg;
			break;
		case OPT_INFER:
			infer = optarg;
			break;
		case OPT_RESOURCE_DIR:
			opts.resource_dir = optarg;
			break;
		case OPT_SPEC_INCLUDE:
			opts.spec_include_dir = optarg;
			break;
		case OPT_DEPFILE:
			depfile = optarg;
			break;
		case 'h':
			usage(stdout);
			goto out;
		case OPT_VERSION:
			printf("avagen %s\n", AVA_CODEGEN_VERSION);
			goto out;
		case ':':
			status = usage_error("option needs an argument", argv[optind - 1]);
			goto out;
		default:
			status = usage_error("unknown option", argv[optind - 1]);
			goto out;
		}
	}

	if (infer) {
		if (optind != argc) {
			status = usage_error("--infer takes no spec file", argv[optind]);
			goto out;
		}
		r = ava_codegen_infer(&opts, infer, stdout);
		status = r < 0 ? 1 : 0;
		goto out;
	}
	if (optind == argc) {
		status = usage_error("no spec file given", NULL);
		goto out;
	}
	if (optind + 1 != argc) {
		status = usage_error("one spec file at a time; extra argument", argv[optind + 1]);
		goto out;
	}
	r = ava_codegen_parse(&opts, argv[optind], &api);
	if (r < 0) {
		status = 1;
		goto out;
	}
	r = ava_codegen_write_all(api, out_dir, stderr);
	if (r == 0 && depfile) {
		char *target = ava_codegen_xasprintf("%s/%s_guest.c", out_dir, api->identifier);

		r = ava_codegen_write_depfile(api, depfile, target, stderr);
		free(target);
	}
	if (r < 0)
		status = 1;
out:
	ava_codegen_api_free(api);
	free(includes);
	free(defines);
	return status;
}
