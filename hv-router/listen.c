/* SPDX-License-Identifier: MIT */
/* Listening Unix sockets (listen.h). */
#include "listen.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	char *slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0;
	*slash = '\0';
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ava_listen_unix(const char *path, unsigned mode)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "avarouterd: socket path too long (max %zu bytes): %s\n",
			sizeof(addr.sun_path) - 1, path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int r = mkdir_parents(path);
	if (r < 0) {
		fprintf(stderr, "avarouterd: cannot create the directory of %s: %s\n", path,
			strerror(-r));
		return -1;
	}

	/* A stale socket file is removed, but only if nothing answers on it. */
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "avarouterd: %s exists and is not a socket\n", path);
			return -1;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0) {
			fprintf(stderr, "avarouterd: socket: %s\n", strerror(errno));
			return -1;
		}
		int c = connect(probe, (struct sockaddr *)&addr, sizeof(addr));
		int e = errno;
		close(probe);
		if (c == 0) {
			fprintf(stderr, "avarouterd: another router is already listening on %s\n",
				path);
			return -1;
		}
		if (e != ECONNREFUSED) {
			fprintf(stderr, "avarouterd: cannot probe existing socket %s: %s\n", path,
				strerror(e));
			return -1;
		}
		if (unlink(path) < 0) {
			fprintf(stderr, "avarouterd: cannot remove stale socket %s: %s\n", path,
				strerror(errno));
			return -1;
		}
		ava_log_line("avarouterd: removed stale socket %s", path);
	}

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "avarouterd: socket: %s\n", strerror(errno));
		return -1;
	}
	/* The file is created with no more than mode (the loop is single-threaded). */
	mode_t old_umask = umask((mode_t)(~mode & 0777));
	int b = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	int e = errno;
	umask(old_umask);
	if (b < 0) {
		fprintf(stderr, "avarouterd: cannot bind %s: %s\n", path, strerror(e));
		close(fd);
		return -1;
	}
	if (chmod(path, (mode_t)mode) < 0 || listen(fd, 128) < 0) {
		fprintf(stderr, "avarouterd: chmod/listen %s: %s\n", path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}
