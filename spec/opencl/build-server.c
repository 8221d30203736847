/* SPDX-License-Identifier: MIT */
/*
 * The files a session's builds read, on the server: avaclPutBuildFiles
 * (spec/opencl/build-wire.h) writes the application's headers into the
 * session's private build directory, which spec/opencl/build.c names in
 * the build options it sends instead of the application's directories.
 *
 * Each session gets its own directory, made on its first
 * avaclPutBuildFiles (mkdtemp under $TMPDIR, else /tmp: ava-build-XXXXXX)
 * and removed with everything in it when the session ends (or the server
 * exits, which a server does with sessions open once its router is gone).
 * Names come from
 * the peer: every one must be absolute, with no empty, "." or ".."
 * component, and is created under the directory component by component
 * (openat/mkdirat relative to the directory, O_NOFOLLOW), so nothing is
 * ever written outside it. Thread-safe: one lock over the table of
 * sessions, held while a session's files are written or removed (builds
 * are rare).
 */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 300
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CL/cl.h>

#include <ava/apiserver.h>

#include "ava_opencl.h"
#include "opencl/build-wire.h"
#include "opencl/server.h"

struct build_dir {
	struct build_dir *next;
	uint32_t session;
	int fd; /* the directory, O_DIRECTORY */
	char path[PATH_MAX];
};

static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;
static struct build_dir *build_dirs;

static struct build_dir *build_dir_find(uint32_t session)
{
	for (struct build_dir *d = build_dirs; d; d = d->next)
		if (d->session == session)
			return d;
	return NULL;
}

/* The session's directory, made on first use; NULL when it cannot be. */
static struct build_dir *build_dir_get(uint32_t session)
{
	struct build_dir *d = build_dir_find(session);
	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || tmp[0] != '/')
		tmp = "/tmp";
	int n = snprintf(d->path, sizeof(d->path), "%s/ava-build-XXXXXX", tmp);
	if (n < 0 || (size_t)n >= sizeof(d->path) || !mkdtemp(d->path)) {
		free(d);
		return NULL;
	}
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0) {
		rmdir(d->path);
		free(d);
		return NULL;
	}
	d->session = session;
	d->next = build_dirs;
	build_dirs = d;
	return d;
}

static int build_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

/*
 * Removes d's directory and frees d, under build_lock: a session's end
 * runs on a worker thread, and a server exiting meanwhile waits for it in
 * build_fini instead of leaving the directory half removed.
 */
static void build_dir_remove(struct build_dir *d)
{
	close(d->fd);
	(void)nftw(d->path, build_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(d);
}

static uint64_t get_le(const unsigned char *p, int n_bytes)
{
	uint64_t v = 0;
	for (int i = n_bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * Creates name (absolute, already checked) under dir_fd: its directories,
 * then a file with data (kind 'f') or one more directory (kind 'd').
 * Returns 0 or a negative errno.
 */
static int build_put(int dir_fd, char kind, const char *name, const void *data, size_t len_bytes)
{
	char buf[PATH_MAX];
	int fd = dup(dir_fd), ret = 0;

	if (fd < 0)
		return -errno;
	snprintf(buf, sizeof(buf), "%s", name + 1);
	char *comp = buf;
	while (*comp) {
		char *slash = strchr(comp, '/');
		int last = slash == NULL;
		if (slash)
			*slash = '\0';
		if (last && kind == 'f') {
			int f = openat(fd, comp,
				       O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (f < 0) {
				ret = -errno;
				break;
			}
			const char *p = data;
			size_t left = len_bytes;
			while (left > 0) {
				ssize_t w = write(f, p, left);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					ret = w < 0 ? -errno : -EIO;
					break;
				}
				p += w;
				left -= (size_t)w;
			}
			if (close(f) < 0 && ret == 0)
				ret = -errno;
			break;
		}
		if (mkdirat(fd, comp, 0700) < 0 && errno != EEXIST) {
			ret = -errno;
			break;
		}
		int sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			ret = -errno;
			break;
		}
		close(fd);
		fd = sub;
		if (last)
			break;
		comp = slash + 1;
	}
	close(fd);
	return ret;
}

/* An absolute name of name_len bytes, components neither empty, "." nor "..", no NUL. */
static int build_name_ok(const char *name, size_t name_len)
{
	if (name_len < 2 || name_len >= PATH_MAX || name[0] != '/' || memchr(name, '\0', name_len))
		return 0;
	const char *p = name + 1, *end = name + name_len;
	while (p <= end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t n = (size_t)((slash ? slash : end) - p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!slash)
			break;
		p = slash + 1;
	}
	return 1;
}

static cl_int build_put_files(uint32_t session, size_t files_size, const unsigned char *files,
			      size_t root_size, char *root)
{
	cl_int err = CL_SUCCESS;

	pthread_mutex_lock(&build_lock);
	struct build_dir *d = build_dir_get(session);
	if (!d) {
		err = CL_OUT_OF_RESOURCES;
		goto out;
	}
	if (!root || root_size <= strlen(d->path) || (files_size > 0 && !files)) {
		err = CL_INVALID_VALUE;
		goto out;
	}
	size_t off = 0;
	while (off < files_size) {
		if (files_size - off < 16) {
			err = CL_INVALID_VALUE;
			goto out;
		}
		uint64_t kind = get_le(files + off, 4), name_len = get_le(files + off + 4, 4),
			 data_len = get_le(files + off + 8, 8);
		off += 16;
		if ((kind != 'd' && kind != 'f') || name_len > files_size - off ||
		    data_len > files_size - off - name_len || (kind == 'd' && data_len != 0)) {
			err = CL_INVALID_VALUE;
			goto out;
		}
		char name[PATH_MAX];
		if (!build_name_ok((const char *)files + off, name_len)) {
			err = CL_INVALID_VALUE;
			goto out;
		}
		memcpy(name, files + off, name_len);
		name[name_len] = '\0';
		off += name_len;
		if (build_put(d->fd, (char)kind, name, files + off, data_len) < 0) {
			err = CL_OUT_OF_RESOURCES;
			goto out;
		}
		off += data_len;
	}
	memcpy(root, d->path, strlen(d->path) + 1);
out:
	pthread_mutex_unlock(&build_lock);
	return err;
}

int ava_opencl_build_call(uint32_t session_id, const struct ava_abi_fn *fn, void *const *args,
			  void *ret)
{
	if (fn->id != AVA_OPENCL_FN_avaclPutBuildFiles)
		return 0;
	struct ava_opencl_args_avaclPutBuildFiles a = ava_opencl_args_avaclPutBuildFiles(args);
	*ava_opencl_ret_avaclPutBuildFiles(ret) =
	    build_put_files(session_id, *a.files_size, *a.files, *a.root_size, *a.root);
	return 1;
}

void ava_opencl_build_session_end(uint32_t session_id)
{
	pthread_mutex_lock(&build_lock);
	struct build_dir **link = &build_dirs;
	while (*link && (*link)->session != session_id)
		link = &(*link)->next;
	struct build_dir *d = *link;
	if (d) {
		*link = d->next;
		build_dir_remove(d);
	}
	pthread_mutex_unlock(&build_lock);
}

/*
 * A server whose router went away exits with sessions still open: their
 * directories go with it.
 */
__attribute__((destructor)) static void build_fini(void)
{
	pthread_mutex_lock(&build_lock);
	while (build_dirs) {
		struct build_dir *d = build_dirs;
		build_dirs = d->next;
		build_dir_remove(d);
	}
	pthread_mutex_unlock(&build_lock);
}

/* Only ever run through ava_opencl_build_call, which knows the session. */
cl_int avaclPutBuildFiles(size_t files_size, const void *files, size_t root_size, char *root)
{
	(void)files_size;
	(void)files;
	(void)root_size;
	(void)root;
	return CL_INVALID_OPERATION;
}
