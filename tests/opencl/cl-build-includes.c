/* SPDX-License-Identifier: MIT */
/*
 * cl-build-includes: builds whose headers are the application's files.
 *
 * Run in tests/opencl/build-data (build-includes.sh does, with the API
 * server started from another directory): builds programs with -I DIR,
 * -IDIR, relative and absolute directories, nested includes found
 * relative to the including file (also through ".."), <...> includes,
 * PoCL's implicit -I. (a header in the working directory), a header that
 * exists nowhere (CL_BUILD_PROGRAM_FAILURE and the build log naming it), a
 * header that does not compile and a missing one included from a header
 * (the log names those headers by the path the application's options
 * give), and clCompileProgram with an input header beside -I. Each build
 * prints its result, the value its kernel computes from the headers'
 * macros, CL_PROGRAM_BUILD_OPTIONS and the build log (PoCL's temporary
 * name of the source, different on every build, printed as <source>).
 * With --limits: more headers than the guest ships (see limits()).
 */
#include "clt.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct env {
	cl_device_id dev;
	cl_context ctx;
	cl_command_queue q;
	cl_mem out;
};

/* Prints a build log line by line. */
static void print_text(const char *what, const char *text)
{
	printf("  %s:%s\n", what, text[0] ? "" : " (empty)");
	const char *p = text;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		printf("    | %.*s\n", (int)n, p);
		p += n + (eol ? 1 : 0);
	}
}

/* text with every "<dir>/tempfile_XXXXXX.cl" as "<source>"; malloc'd. */
static char *normalize(const char *text)
{
	char *out = malloc(strlen(text) + 1);
	size_t o = 0;

	CLT_ASSERT(out, "out of memory");
	for (const char *p = text; *p;) {
		const char *t = strstr(p, "tempfile_");
		const char *cl = t ? strstr(t, ".cl") : NULL;
		if (!t || !cl) {
			strcpy(out + o, p);
			return out;
		}
		const char *start = t;
		while (start > p && start[-1] != ' ' && start[-1] != '\n')
			start--;
		memcpy(out + o, p, (size_t)(start - p));
		o += (size_t)(start - p);
		memcpy(out + o, "<source>", 8);
		o += 8;
		p = cl + 3;
	}
	out[o] = '\0';
	return out;
}

/* CL_PROGRAM_BUILD_LOG or _OPTIONS: its size must be the string's, NUL included. */
static char *build_info(struct env *e, cl_program prog, cl_program_build_info what)
{
	size_t n = 0, n2 = 0;
	CLT_CHECK(clGetProgramBuildInfo(prog, e->dev, what, 0, NULL, &n));
	char *s = malloc(n + 1);
	CLT_ASSERT(s, "out of memory");
	CLT_CHECK(clGetProgramBuildInfo(prog, e->dev, what, n, s, &n2));
	CLT_ASSERT(n2 == n && n >= 1 && strlen(s) + 1 == n, "size %zu, then %zu, string %zu", n, n2,
		   strlen(s));
	if (n > 1)
		CLT_EXPECT_ERR(CL_INVALID_VALUE,
			       clGetProgramBuildInfo(prog, e->dev, what, n - 1, s, NULL));
	char *norm = normalize(s);
	free(s);
	return norm;
}

/* Runs the program's kernel k(out) and returns out[0]. */
static int run(struct env *e, cl_program prog)
{
	cl_int err;
	int v = -1;
	cl_kernel k = clCreateKernel(prog, "k", &err);
	CLT_CHECK(err);
	CLT_CHECK(clSetKernelArg(k, 0, sizeof(cl_mem), &e->out));
	size_t one = 1;
	CLT_CHECK(clEnqueueNDRangeKernel(e->q, k, 1, NULL, &one, NULL, 0, NULL, NULL));
	CLT_CHECK(clEnqueueReadBuffer(e->q, e->out, CL_TRUE, 0, sizeof(v), &v, 0, NULL, NULL));
	CLT_CHECK(clReleaseKernel(k));
	return v;
}

static void report(struct env *e, cl_program prog, cl_int err, const char *shown_options)
{
	printf("  result: %s\n", clt_err_name(err));
	if (err == CL_SUCCESS)
		printf("  value: %d\n", run(e, prog));
	char *log = build_info(e, prog, CL_PROGRAM_BUILD_LOG);
	printf("  options: %s\n", shown_options);
	print_text("log", log);
	free(log);
}

/* Builds src with options and prints what the build gives; want is the expected result. */
static void build(struct env *e, const char *name, const char *src, const char *options,
		  cl_int want)
{
	cl_int err;
	cl_program prog = clCreateProgramWithSource(e->ctx, 1, &src, NULL, &err);
	CLT_CHECK(err);
	printf("%s\n", name);
	err = clBuildProgram(prog, 1, &e->dev, options, NULL, NULL);
	CLT_ASSERT(err == want, "%s: clBuildProgram: %s, want %s", name, clt_err_name(err),
		   clt_err_name(want));
	char *opts = build_info(e, prog, CL_PROGRAM_BUILD_OPTIONS);
	CLT_ASSERT(strcmp(opts, options) == 0, "%s: CL_PROGRAM_BUILD_OPTIONS \"%s\", passed \"%s\"",
		   name, opts, options);
	free(opts);
	/* an absolute directory is this checkout's: printed as <cwd> */
	report(e, prog, err, strncmp(options, "-I/", 3) == 0 ? "-I<cwd>/inc" : options);
	CLT_CHECK(clReleaseProgram(prog));
}

#define KERNEL(expr) "kernel void k(global int *o) { o[0] = " expr "; }\n"

/*
 * --limits: a program including more headers than the guest ships
 * (1100 > AVA_OPENCL_BUILD_MAX_FILES, spec/opencl/build.c), made in a new
 * folder under /tmp. Natively it builds; remoted the guest refuses it with
 * CL_OUT_OF_RESOURCES and says why on stderr. Prints the result.
 */
static int limits(struct env *e)
{
	char dir[] = "/tmp/cl-build-includes.XXXXXX", path[PATH_MAX + 32], opt[PATH_MAX + 8];
	enum { N_HEADERS = 1100 };

	CLT_ASSERT(mkdtemp(dir), "mkdtemp");
	snprintf(path, sizeof(path), "%s/all.h", dir);
	FILE *all = fopen(path, "w");
	CLT_ASSERT(all, "%s", path);
	for (int i = 0; i < N_HEADERS; i++) {
		snprintf(path, sizeof(path), "%s/h%d.h", dir, i);
		FILE *h = fopen(path, "w");
		CLT_ASSERT(h, "%s", path);
		fprintf(h, "#define H%d %d\n", i, i);
		fclose(h);
		fprintf(all, "#include \"h%d.h\"\n", i);
	}
	fclose(all);
	snprintf(opt, sizeof(opt), "-I%s", dir);
	const char *src = "#include \"all.h\"\n" KERNEL("H1099");
	cl_int err;
	cl_program prog = clCreateProgramWithSource(e->ctx, 1, &src, NULL, &err);
	CLT_CHECK(err);
	err = clBuildProgram(prog, 1, &e->dev, opt, NULL, NULL);
	printf("%d headers: %s\n", N_HEADERS, clt_err_name(err));
	if (err == CL_SUCCESS)
		printf("value: %d\n", run(e, prog));
	CLT_CHECK(clReleaseProgram(prog));
	for (int i = 0; i < N_HEADERS; i++) {
		snprintf(path, sizeof(path), "%s/h%d.h", dir, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/all.h", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

int main(int argc, char **argv)
{
	cl_platform_id platform;
	struct env e;
	cl_int err;
	char cwd[PATH_MAX], abs_opt[PATH_MAX + 8];

	clt_init(120);
	clt_pick_device(&platform, &e.dev);
	e.ctx = clt_context_new(platform, e.dev);
	e.q = clCreateCommandQueueWithProperties(e.ctx, e.dev, NULL, &err);
	CLT_CHECK(err);
	e.out = clCreateBuffer(e.ctx, CL_MEM_READ_WRITE, sizeof(int), NULL, &err);
	CLT_CHECK(err);
	CLT_ASSERT(getcwd(cwd, sizeof(cwd)), "getcwd");
	CLT_ASSERT(access("inc/a.h", R_OK) == 0,
		   "run in tests/opencl/build-data (inc/a.h is not here)");
	snprintf(abs_opt, sizeof(abs_opt), "-I%s/inc", cwd);
	if (argc > 1 && strcmp(argv[1], "--limits") == 0)
		return limits(&e);

	const char *nested = "#include \"a.h\"\n" KERNEL("A_VAL");
	build(&e, "-I./inc, nested includes", nested, "-I./inc", CL_SUCCESS);
	build(&e, "-I DIR with a space and more options", nested, "-I inc -DEXTRA=1", CL_SUCCESS);
	build(&e, "-IDIR absolute", nested, abs_opt, CL_SUCCESS);
	build(&e, "-I with .. in the directory", nested, "-I../build-data/inc", CL_SUCCESS);
	build(&e, "<...> include", "#include <a.h>\n" KERNEL("A_VAL"), "-Iinc", CL_SUCCESS);
	build(&e, "include through .. from a header", "#include \"up.h\"\n" KERNEL("UP_VAL"),
	      "-I inc", CL_SUCCESS);
	build(&e, "a header in the working directory, no options",
	      "#include \"top.h\"\n" KERNEL("TOP_VAL"), "", CL_SUCCESS);
	build(&e, "a path relative to the working directory",
	      "#include \"inc/sub/c.h\"\n" KERNEL("C_VAL"), "-DUNUSED", CL_SUCCESS);
	build(&e, "a missing header", "#include \"missing.h\"\n" KERNEL("1"), "-I./inc",
	      CL_BUILD_PROGRAM_FAILURE);
	build(&e, "a missing header without -I", "#include <missing.h>\n" KERNEL("1"), "",
	      CL_BUILD_PROGRAM_FAILURE);
	build(&e, "a missing header included by a header",
	      "#include \"nested-missing.h\"\n" KERNEL("1"), "-I ./inc", CL_BUILD_PROGRAM_FAILURE);
	build(&e, "a header that does not compile", "#include \"bad.h\"\n" KERNEL("1"), "-Iinc",
	      CL_BUILD_PROGRAM_FAILURE);
	build(&e, "a header that does not compile, absolute -I", "#include \"bad.h\"\n" KERNEL("1"),
	      abs_opt, CL_BUILD_PROGRAM_FAILURE);

	/* clCompileProgram: an input header program beside a -I directory, then link */
	printf("clCompileProgram: input header and -I./inc\n");
	const char *hdr_src = "#define HDR_VAL 9\n";
	const char *main_src = "#include \"hdr.h\"\n#include \"a.h\"\n" KERNEL("HDR_VAL + A_VAL");
	const char *hdr_name = "hdr.h";
	cl_program hdr = clCreateProgramWithSource(e.ctx, 1, &hdr_src, NULL, &err);
	CLT_CHECK(err);
	cl_program obj = clCreateProgramWithSource(e.ctx, 1, &main_src, NULL, &err);
	CLT_CHECK(err);
	CLT_CHECK(clCompileProgram(obj, 1, &e.dev, "-I./inc", 1, &hdr, &hdr_name, NULL, NULL));
	char *opts = build_info(&e, obj, CL_PROGRAM_BUILD_OPTIONS);
	printf("  compile options: %s\n", opts);
	free(opts);
	cl_program linked = clLinkProgram(e.ctx, 1, &e.dev, "", 1, &obj, NULL, NULL, &err);
	CLT_CHECK(err);
	report(&e, linked, err, "");
	CLT_CHECK(clReleaseProgram(linked));
	CLT_CHECK(clReleaseProgram(obj));
	CLT_CHECK(clReleaseProgram(hdr));

	CLT_CHECK(clReleaseMemObject(e.out));
	CLT_CHECK(clReleaseCommandQueue(e.q));
	CLT_CHECK(clReleaseContext(e.ctx));
	printf("done\n");
	return 0;
}
