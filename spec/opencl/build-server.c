/* SPDX-License-Identifier: MIT */
/*
 * The files a session's builds read, on the server: avaclPutBuildFiles
 * (spec/opencl/build-wire.h) writes the application's headers into a
 * build directory, which spec/opencl/build.c names in the build options it
 * sends instead of the application's directories.
 *
 * Where: under $TMPDIR (else /tmp) in ava-build-<uid>, a folder of this
 * user's only (mode 0700, refused if someone else owns it), one directory
 * per set of files, named by a hash of the tenant and the records: the same
 * headers give the same directory, so the same build options, and PoCL's
 * kernel cache (keyed by source and options) still hits across runs; a
 * changed header gives another. A directory is made in a temporary name
 * and renamed into place complete, holds the records that made it (which a
 * user compares before it reuses one: a hash collision gets a directory of
 * its own, ava-build-<uid>/p-XXXXXX) and a lock file, which every session
 * using the directory holds shared (flock), also from other server
 * processes. When a session ends (or the server exits, as a server does
 * with sessions open once its router is gone) it lets go of its
 * directories; the last user of one (the exclusive lock is free) removes
 * it, so nothing stays once no session builds with it. A server killed
 * before it could (the router stops servers with SIGTERM) leaves its
 * directories: the next build of any server of the user removes those
 * whose lock nobody holds.
 *
 * Names come from the peer: every record is checked before anything is
 * written (absolute names, no empty, "." or ".." component, lengths inside
 * the buffer) and created under the directory's root/ component by
 * component (openat/mkdirat relative to it, O_NOFOLLOW), so nothing is
 * ever written outside it. Thread-safe: one lock over the table of
 * sessions' directories, held while files are written or removed (builds
 * are rare).
 */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 300
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CL/cl.h>

#include <ava/apiserver.h>

#include "ava_opencl.h"
#include "opencl/build-wire.h"
#include "opencl/server.h"

/* One directory a session builds with (it holds the directory's lock shared). */
struct build_dir {
	struct build_dir *next;
	uint32_t session;
	int lock_fd;
	char path[PATH_MAX]; /* <base>/<hash> or <base>/p-XXXXXX; the files are in root/ */
};

static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;
static struct build_dir *build_dirs;

static int build_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

/* $TMPDIR/ava-build-<uid>, made if needed; this user's alone. Returns 0 or a negative errno. */
static int build_base(char *out, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	struct stat st;

	if (!tmp || tmp[0] != '/')
		tmp = "/tmp";
	int n = snprintf(out, size, "%s/ava-build-%u", tmp, (unsigned)geteuid());
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (mkdir(out, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(out, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

/* dir/name into out (PATH_MAX bytes). Returns 0, or -ENAMETOOLONG. */
static int path_join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t len_bytes)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < len_bytes; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* Whether fd is the file at dir/name (not replaced or removed meanwhile). */
static bool same_file(int fd, const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat a, b;

	return path_join(path, dir, name) == 0 && fstat(fd, &a) == 0 && lstat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Removes dir and everything in it, first renamed out of the way (no user finds it half gone). */
static void build_remove(const char *base, const char *dir)
{
	char trash[PATH_MAX];

	if (path_join(trash, base, "d-XXXXXX") == 0 && mkdtemp(trash)) {
		if (rename(dir, trash) == 0) {
			(void)nftw(trash, build_rm_one, 16, FTW_DEPTH | FTW_PHYS);
			return;
		}
		rmdir(trash);
	}
	(void)nftw(dir, build_rm_one, 16, FTW_DEPTH | FTW_PHYS);
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

/* Checks every record (nothing written yet). Returns CL_SUCCESS or CL_INVALID_VALUE. */
static cl_int build_check(const unsigned char *files, size_t files_size)
{
	size_t off = 0;
	while (off < files_size) {
		if (files_size - off < 16)
			return CL_INVALID_VALUE;
		uint64_t kind = get_le(files + off, 4), name_len = get_le(files + off + 4, 4),
			 data_len = get_le(files + off + 8, 8);
		off += 16;
		if ((kind != 'd' && kind != 'f') || name_len > files_size - off ||
		    data_len > files_size - off - name_len || (kind == 'd' && data_len != 0) ||
		    !build_name_ok((const char *)files + off, name_len))
			return CL_INVALID_VALUE;
		off += name_len + data_len;
	}
	return CL_SUCCESS;
}

static int write_all(int fd, const void *data, size_t len_bytes)
{
	const char *p = data;
	while (len_bytes > 0) {
		ssize_t w = write(fd, p, len_bytes);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		len_bytes -= (size_t)w;
	}
	return 0;
}

/*
 * Fills the new directory dir: root/ with the records' files, the records
 * themselves, and the lock file, opened and locked shared into *ret_lock_fd.
 * Returns 0 or a negative errno (dir is left for the caller to remove).
 */
static int build_fill(const char *dir, const unsigned char *files, size_t files_size,
		      int *ret_lock_fd)
{
	char path[PATH_MAX];
	int ret = 0;

	if (path_join(path, dir, "root") < 0)
		return -ENAMETOOLONG;
	if (mkdir(path, 0700) < 0)
		return -errno;
	int root_fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root_fd < 0)
		return -errno;
	for (size_t off = 0; off < files_size && ret == 0;) {
		char name[PATH_MAX];
		uint64_t kind = get_le(files + off, 4), name_len = get_le(files + off + 4, 4),
			 data_len = get_le(files + off + 8, 8);
		memcpy(name, files + off + 16, name_len);
		name[name_len] = '\0';
		off += 16 + name_len;
		ret = build_put(root_fd, (char)kind, name, files + off, data_len);
		off += data_len;
	}
	close(root_fd);
	if (ret < 0)
		return ret;
	if (path_join(path, dir, "records") < 0)
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, files, files_size);
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret < 0)
		return ret;
	if (path_join(path, dir, "lock") < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_SH) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	*ret_lock_fd = fd;
	return 0;
}

/* Whether dir/records holds exactly files. */
static bool build_same_records(const char *dir, const unsigned char *files, size_t files_size)
{
	char path[PATH_MAX], buf[65536];
	size_t off = 0;
	bool same = true;

	if (path_join(path, dir, "records") < 0)
		return false;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (size_t)n > files_size - off ||
		    (n > 0 && memcmp(buf, files + off, (size_t)n) != 0)) {
			same = false;
			break;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	return same && off == files_size;
}

static struct build_dir *build_dir_new(uint32_t session, const char *path, int lock_fd)
{
	struct build_dir *d = calloc(1, sizeof(*d));
	if (!d) {
		close(lock_fd);
		return NULL;
	}
	d->session = session;
	d->lock_fd = lock_fd;
	snprintf(d->path, sizeof(d->path), "%s", path);
	d->next = build_dirs;
	build_dirs = d;
	return d;
}

/* A new directory of files: made under base/<tmpl>, renamed to path (if path) once complete. */
static int build_make(const char *base, const char *tmpl, const char *path,
		      const unsigned char *files, size_t files_size, char *ret_path,
		      int *ret_lock_fd)
{
	char tmp[PATH_MAX];
	int lock_fd = -1;

	if (path_join(tmp, base, tmpl) < 0)
		return -ENAMETOOLONG;
	if (!mkdtemp(tmp))
		return -errno;
	int ret = build_fill(tmp, files, files_size, &lock_fd);
	if (ret == 0 && path && rename(tmp, path) < 0)
		ret = errno == EEXIST || errno == ENOTEMPTY ? -EEXIST : -errno;
	if (ret < 0) {
		if (lock_fd >= 0)
			close(lock_fd);
		build_remove(base, tmp);
		return ret;
	}
	snprintf(ret_path, PATH_MAX, "%s", path ? path : tmp);
	*ret_lock_fd = lock_fd;
	return 0;
}

/* A directory being made (t-) for longer than this is a dead server's. */
#define BUILD_STALE_S 600

/*
 * Removes what servers killed meanwhile left in base (a server the router
 * stops with SIGTERM runs no clean-up): directories nobody holds the lock
 * of, those renamed away for removal (d-), and ones being made (t-) for
 * longer than BUILD_STALE_S. Under build_lock.
 */
static void build_gc(const char *base)
{
	DIR *dir = opendir(base);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		char path[PATH_MAX];
		struct stat st;
		if (e->d_name[0] == '.' || path_join(path, base, e->d_name) < 0 ||
		    lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		bool old = time(NULL) - st.st_mtime > BUILD_STALE_S;
		/* <hash> names are hexadecimal digits only, these have a '-' */
		if (strncmp(e->d_name, "d-", 2) == 0) { /* renamed away to be removed: nobody's */
			(void)nftw(path, build_rm_one, 16, FTW_DEPTH | FTW_PHYS);
			continue;
		}
		if (strncmp(e->d_name, "t-", 2) == 0) {
			if (old)
				build_remove(base, path);
			continue;
		}
		char lock[PATH_MAX];
		if (path_join(lock, path, "lock") < 0)
			continue;
		int fd = open(lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (old)
				build_remove(base, path);
			continue;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && same_file(fd, path, "lock"))
			build_remove(base, path);
		close(fd);
	}
	closedir(dir);
}

/*
 * The directory of these files for session, found or made (under
 * build_lock); NULL with *ret_err when it cannot be.
 */
static struct build_dir *build_acquire(uint32_t session, const unsigned char *files,
				       size_t files_size, cl_int *ret_err)
{
	char base[PATH_MAX], path[PATH_MAX], made[PATH_MAX];
	const char *tenant = getenv("AVA_TENANT");
	int lock_fd = -1, r;

	*ret_err = CL_OUT_OF_RESOURCES;
	if (build_base(base, sizeof(base)) < 0)
		return NULL;
	build_gc(base);
	uint64_t h =
	    fnv1a(0xcbf29ce484222325ull, tenant ? tenant : "", tenant ? strlen(tenant) + 1 : 1);
	h = fnv1a(h, files, files_size);
	char hex[17];
	snprintf(hex, sizeof(hex), "%016" PRIx64, h);
	if (path_join(path, base, hex) < 0)
		return NULL;
	for (int tries = 0; tries < 8; tries++) {
		int fd = -1;
		struct build_dir *held = NULL;
		for (struct build_dir *d = build_dirs; d && !held; d = d->next)
			if (d->session == session && strcmp(d->path, path) == 0)
				held = d;
		if (held && build_same_records(path, files, files_size))
			return held;
		if (held)
			break; /* another set of files with this hash: one of our own */
		char lock[PATH_MAX];
		if (path_join(lock, path, "lock") < 0)
			break;
		fd = open(lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			if (flock(fd, LOCK_SH) < 0 || !same_file(fd, path, "lock")) {
				close(fd); /* removed meanwhile: look again */
				continue;
			}
			if (build_same_records(path, files, files_size))
				return build_dir_new(session, path, fd);
			close(fd);
			break; /* another set of files with this hash: one of our own */
		}
		if (errno != ENOENT)
			break;
		r = build_make(base, "t-XXXXXX", path, files, files_size, made, &lock_fd);
		if (r == 0)
			return build_dir_new(session, made, lock_fd);
		if (r != -EEXIST)
			return NULL; /* cannot write: CL_OUT_OF_RESOURCES */
	}
	if (build_make(base, "p-XXXXXX", NULL, files, files_size, made, &lock_fd) < 0)
		return NULL;
	return build_dir_new(session, made, lock_fd);
}

/* Lets go of d (under build_lock); its last user removes the directory. */
static void build_release(struct build_dir *d)
{
	char base[PATH_MAX];

	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) == 0 && same_file(d->lock_fd, d->path, "lock")) {
		snprintf(base, sizeof(base), "%s", d->path);
		*strrchr(base, '/') = '\0';
		build_remove(base, d->path);
	}
	close(d->lock_fd);
	free(d);
}

static cl_int build_put_files(uint32_t session, size_t files_size, const unsigned char *files,
			      size_t root_size, char *root)
{
	cl_int err;

	if (!root || (files_size > 0 && !files))
		return CL_INVALID_VALUE;
	err = build_check(files, files_size);
	if (err != CL_SUCCESS)
		return err;
	pthread_mutex_lock(&build_lock);
	struct build_dir *d = build_acquire(session, files, files_size, &err);
	if (d) {
		int n = snprintf(root, root_size, "%s/root", d->path);
		err = n < 0 || (size_t)n >= root_size ? CL_INVALID_VALUE : CL_SUCCESS;
	}
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
	while (*link) {
		struct build_dir *d = *link;
		if (d->session != session_id) {
			link = &d->next;
			continue;
		}
		*link = d->next;
		build_release(d);
	}
	pthread_mutex_unlock(&build_lock);
}

/*
 * A server whose router went away exits with sessions still open: it lets
 * go of their directories too. A session's end runs on a worker thread;
 * the lock makes an exit wait for it instead of leaving a directory half
 * removed.
 */
__attribute__((destructor)) static void build_fini(void)
{
	pthread_mutex_lock(&build_lock);
	while (build_dirs) {
		struct build_dir *d = build_dirs;
		build_dirs = d->next;
		build_release(d);
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
