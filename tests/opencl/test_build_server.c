/* SPDX-License-Identifier: MIT */
/*
 * test_build_server: the server side of avaclPutBuildFiles
 * (spec/opencl/build-server.c), called as the server's call wrapper calls
 * it, with records a peer could send.
 *
 *  - good records create the application's names under a build directory
 *    (absolute names mapped under it), and the reply names that directory;
 *    the same files give the same directory, changed ones another;
 *  - names with "..", ".", empty components, relative names, records that
 *    run past the buffer or have an unknown kind are refused with
 *    CL_INVALID_VALUE, and nothing is written outside the directory;
 *  - sessions with the same files share a directory; the last one to end
 *    removes it; what a killed server left is removed by the next call.
 */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 300
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CL/cl.h>

#include <ava/apiserver.h>

#include "ava_opencl.h"
#include "opencl/server.h"

static int failures;

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                     \
		}                                                                       \
	} while (0)

struct recs {
	unsigned char buf[4096];
	size_t len;
};

static void put_le(unsigned char *p, uint64_t v, int n_bytes)
{
	for (int i = 0; i < n_bytes; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static void rec(struct recs *r, char kind, const char *name, const char *data)
{
	size_t n = strlen(name), d = data ? strlen(data) : 0;
	put_le(r->buf + r->len, (unsigned char)kind, 4);
	put_le(r->buf + r->len + 4, n, 4);
	put_le(r->buf + r->len + 8, d, 8);
	r->len += 16;
	memcpy(r->buf + r->len, name, n);
	r->len += n;
	if (d)
		memcpy(r->buf + r->len, data, d);
	r->len += d;
}

/* avaclPutBuildFiles as session session runs it; root gets the directory. */
static cl_int put(uint32_t session, const struct recs *r, char *root, size_t root_size)
{
	struct ava_abi_fn fn = { .id = AVA_OPENCL_FN_avaclPutBuildFiles };
	size_t files_size = r->len, rs = root_size;
	const void *files = r->buf;
	void *args[] = { &files_size, &files, &rs, &root };
	cl_int ret = 1;

	CHECK(ava_opencl_build_call(session, &fn, args, &ret) == 1);
	return ret;
}

static char *slurp(const char *dir, const char *name)
{
	static char buf[256];
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* How many entries dir holds (-1: it does not exist). */
static int n_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

int main(void)
{
	char tmpl[] = "/tmp/test_build_server.XXXXXX";
	char *top = mkdtemp(tmpl);
	char base[PATH_MAX], root[PATH_MAX], root2[PATH_MAX], root3[PATH_MAX], small[8];
	struct recs r;

	if (!top) {
		perror("mkdtemp");
		return 1;
	}
	setenv("TMPDIR", top, 1);
	snprintf(base, sizeof(base), "%s/ava-build-%u", top, (unsigned)geteuid());

	/* a directory, files in it and below */
	r.len = 0;
	rec(&r, 'd', "/home/u/app", NULL);
	rec(&r, 'f', "/home/u/app/inc/a.h", "#define A 1\n");
	rec(&r, 'f', "/home/u/app/inc/sub/b.h", "#define B 2\n");
	CHECK(put(1, &r, root, sizeof(root)) == CL_SUCCESS);
	CHECK(strncmp(root, base, strlen(base)) == 0 && root[strlen(base)] == '/');
	CHECK(n_entries(top) == 1);
	CHECK(n_entries(base) == 1);
	char *s = slurp(root, "/home/u/app/inc/a.h");
	CHECK(s && strcmp(s, "#define A 1\n") == 0);
	s = slurp(root, "/home/u/app/inc/sub/b.h");
	CHECK(s && strcmp(s, "#define B 2\n") == 0);
	struct stat st;
	CHECK(stat(strcat(strcpy(root2, root), "/home/u/app"), &st) == 0 && S_ISDIR(st.st_mode));
	CHECK(put(1, &r, small, sizeof(small)) == CL_INVALID_VALUE);
	/* the same files again: the same directory (the same build options) */
	CHECK(put(1, &r, root2, sizeof(root2)) == CL_SUCCESS);
	CHECK(strcmp(root, root2) == 0);
	CHECK(n_entries(base) == 1);
	/* a changed header: a directory of its own, the first one unchanged */
	struct recs r2 = { .len = 0 };
	rec(&r2, 'f', "/home/u/app/inc/a.h", "#define A 3\n");
	CHECK(put(1, &r2, root2, sizeof(root2)) == CL_SUCCESS);
	CHECK(strcmp(root, root2) != 0);
	s = slurp(root2, "/home/u/app/inc/a.h");
	CHECK(s && strcmp(s, "#define A 3\n") == 0);
	s = slurp(root, "/home/u/app/inc/a.h");
	CHECK(s && strcmp(s, "#define A 1\n") == 0);
	CHECK(n_entries(base) == 2);

	/* names a peer must not use: nothing is written anywhere */
	static const char *const bad[] = {
		"/../escape.h",
		"/a/../../escape.h",
		"/a/./b.h",
		"/a//b.h",
		"relative.h",
		"/a/b/",
		"/",
		"/..",
		"/.",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.len = 0;
		rec(&r, 'f', bad[i], "x");
		CHECK(put(1, &r, root3, sizeof(root3)) == CL_INVALID_VALUE);
		r.len = 0;
		rec(&r, 'd', bad[i], NULL);
		CHECK(put(1, &r, root3, sizeof(root3)) == CL_INVALID_VALUE);
		/* a good record first changes nothing */
		r.len = 0;
		rec(&r, 'f', "/good.h", "x");
		rec(&r, 'f', bad[i], "x");
		CHECK(put(1, &r, root3, sizeof(root3)) == CL_INVALID_VALUE);
	}
	CHECK(n_entries(top) == 1);
	CHECK(n_entries(base) == 2);
	char esc[PATH_MAX];
	snprintf(esc, sizeof(esc), "%s/escape.h", top);
	CHECK(access(esc, F_OK) != 0);
	snprintf(esc, sizeof(esc), "%s/escape.h", base);
	CHECK(access(esc, F_OK) != 0);

	/* malformed records: unknown kind, lengths past the end, data on a directory */
	r.len = 0;
	rec(&r, 'x', "/k.h", "x");
	CHECK(put(1, &r, root3, sizeof(root3)) == CL_INVALID_VALUE);
	r.len = 0;
	rec(&r, 'f', "/k.h", "xyz");
	r.len -= 1;
	CHECK(put(1, &r, root3, sizeof(root3)) == CL_INVALID_VALUE);
	r.len = 0;
	rec(&r, 'f', "/k.h", "x");
	put_le(r.buf + 4, 1u << 31, 4);
	CHECK(put(1, &r, root3, sizeof(root3)) == CL_INVALID_VALUE);
	r.len = 0;
	rec(&r, 'f', "/k.h", "x");
	put_le(r.buf + 8, UINT64_MAX, 8);
	CHECK(put(1, &r, root3, sizeof(root3)) == CL_INVALID_VALUE);
	r.len = 0;
	rec(&r, 'd', "/k", "x");
	CHECK(put(1, &r, root3, sizeof(root3)) == CL_INVALID_VALUE);
	r.len = 10; /* a header cut short */
	CHECK(put(1, &r, root3, sizeof(root3)) == CL_INVALID_VALUE);
	/* a file below a file, a file where a directory is: nothing is left behind */
	r.len = 0;
	rec(&r, 'f', "/app/a.h", "x");
	rec(&r, 'f', "/app/a.h/c.h", "x");
	CHECK(put(1, &r, root3, sizeof(root3)) == CL_OUT_OF_RESOURCES);
	r.len = 0;
	rec(&r, 'd', "/app/inc", NULL);
	rec(&r, 'f', "/app/inc", "x");
	CHECK(put(1, &r, root3, sizeof(root3)) == CL_OUT_OF_RESOURCES);
	CHECK(n_entries(base) == 2);

	/* another session with the first files shares their directory; the last user removes it */
	r.len = 0;
	rec(&r, 'd', "/home/u/app", NULL);
	rec(&r, 'f', "/home/u/app/inc/a.h", "#define A 1\n");
	rec(&r, 'f', "/home/u/app/inc/sub/b.h", "#define B 2\n");
	CHECK(put(2, &r, root3, sizeof(root3)) == CL_SUCCESS);
	CHECK(strcmp(root, root3) == 0);
	ava_opencl_build_session_end(1);
	CHECK(n_entries(base) == 1); /* root2 was session 1's alone */
	CHECK(access(root2, F_OK) != 0);
	s = slurp(root, "/home/u/app/inc/a.h");
	CHECK(s && strcmp(s, "#define A 1\n") == 0);
	ava_opencl_build_session_end(2);
	ava_opencl_build_session_end(3); /* none: nothing happens */
	CHECK(n_entries(base) == 0);

	/* what killed servers left: removed by the next put, what a session holds stays */
	char stale[PATH_MAX];
	snprintf(stale, sizeof(stale), "%s/d-dead01", base); /* renamed away, not yet removed */
	CHECK(mkdir(stale, 0700) == 0);
	snprintf(stale, sizeof(stale), "%s/dead0000beef0000", base); /* a hash dir nobody holds */
	CHECK(mkdir(stale, 0700) == 0);
	strcat(stale, "/lock");
	FILE *lf = fopen(stale, "w");
	CHECK(lf != NULL);
	if (lf)
		fclose(lf);
	CHECK(put(4, &r, root, sizeof(root)) == CL_SUCCESS);
	CHECK(n_entries(base) == 1);
	CHECK(put(5, &r2, root2, sizeof(root2)) == CL_SUCCESS);
	CHECK(n_entries(base) == 2);
	CHECK(access(root, F_OK) == 0);
	ava_opencl_build_session_end(4);
	ava_opencl_build_session_end(5);
	CHECK(n_entries(base) == 0);

	/* other calls are not its */
	struct ava_abi_fn other = { .id = AVA_OPENCL_FN_clBuildProgram };
	CHECK(ava_opencl_build_call(1, &other, NULL, NULL) == 0);

	rmdir(base);
	rmdir(top);
	if (failures)
		return 1;
	printf("test_build_server: ok\n");
	return 0;
}
