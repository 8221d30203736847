/* SPDX-License-Identifier: MIT */
/*
 * Writing generated files: all or nothing.
 *
 * Every file is rendered in memory first; then each is written to a
 * temporary file beside its final name, and only when all of them are on
 * disk are they renamed into place. A build interrupted or failing half way
 * therefore never sees a mix of old and new output, and a spec error leaves
 * the output directory as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen.h"

struct gen_file {
	const char *prefix, *suffix; /* the file is <prefix><api identifier><suffix> */
	int (*emit)(const struct ava_codegen_api *api, FILE *out);
	char *data;
	size_t len;
	char *path;
	char *tmp; /* NULL: nothing to rename (unchanged) */
};

static int render(const struct ava_codegen_api *api, struct gen_file *g)
{
	FILE *f = open_memstream(&g->data, &g->len);
	int r;

	if (!f)
		return -errno;
	r = g->emit(api, f);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	return r;
}

/* Whether path already holds exactly data. */
static bool same_content(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "rb");
	bool same = false;
	char *buf;
	size_t n;

	if (!f)
		return false;
	buf = ava_codegen_xmalloc(len + 1);
	n = fread(buf, 1, len + 1, f);
	same = n == len && memcmp(buf, data, len) == 0;
	free(buf);
	fclose(f);
	return same;
}

static int write_tmp(struct gen_file *g, const char *dir)
{
	const char *base = strrchr(g->path, '/');
	size_t off = 0;
	int fd, r = 0;

	g->tmp = ava_codegen_xasprintf("%s/.%s.XXXXXX", dir, base ? base + 1 : g->path);
	fd = mkstemp(g->tmp);
	if (fd < 0) {
		r = -errno;
		free(g->tmp);
		g->tmp = NULL;
		return r;
	}
	while (off < g->len) {
		ssize_t n = write(fd, g->data + off, g->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	/* Generated files are ordinary files: rw-r--r-- less the umask. */
	if (r == 0 && fchmod(fd, 0644 & ~umask(umask(0))) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		unlink(g->tmp);
		free(g->tmp);
		g->tmp = NULL;
	}
	return r;
}

int ava_codegen_write_all(const struct ava_codegen_api *api, const char *dir, FILE *err)
{
	struct gen_file files[] = {
		{ "", "_guest.c", ava_codegen_emit_guest, NULL, 0, NULL, NULL },
		{ "", "_server.c", ava_codegen_emit_server, NULL, 0, NULL, NULL },
		{ "", ".abi", ava_codegen_emit_abi, NULL, 0, NULL, NULL },
		{ "", ".map", ava_codegen_emit_map, NULL, 0, NULL, NULL },
		{ "ava_", ".h", ava_codegen_emit_header, NULL, 0, NULL, NULL },
	};
	size_t n = sizeof(files) / sizeof(files[0]), i;
	struct stat st;
	int r = 0;

	if (!err)
		err = stderr;
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT || mkdir(dir, 0777) < 0) {
			r = -errno;
			fprintf(err, "avagen: error: cannot create %s: %s\n", dir, strerror(-r));
			return r;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		fprintf(err, "avagen: error: %s is not a directory\n", dir);
		return -ENOTDIR;
	}
	for (i = 0; i < n; i++) {
		files[i].path = ava_codegen_xasprintf("%s/%s%s%s", dir, files[i].prefix,
						      api->identifier, files[i].suffix);
		r = render(api, &files[i]);
		if (r < 0) {
			fprintf(err, "avagen: error: cannot render %s: %s\n", files[i].path,
				strerror(-r));
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (same_content(files[i].path, files[i].data, files[i].len))
			continue;
		r = write_tmp(&files[i], dir);
		if (r < 0) {
			fprintf(err, "avagen: error: cannot write into %s: %s\n", dir,
				strerror(-r));
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (files[i].tmp && rename(files[i].tmp, files[i].path) < 0) {
			r = -errno;
			fprintf(err, "avagen: error: cannot rename to %s: %s\n", files[i].path,
				strerror(-r));
			goto out;
		}
		free(files[i].tmp);
		files[i].tmp = NULL;
	}
out:
	for (i = 0; i < n; i++) {
		if (files[i].tmp) {
			unlink(files[i].tmp);
			free(files[i].tmp);
		}
		free(files[i].data);
		free(files[i].path);
	}
	return r;
}

static void put_escaped(FILE *f, const char *path)
{
	for (; *path; path++) {
		if (*path == ' ' || *path == '#' || *path == '\\')
			fputc('\\', f);
		else if (*path == '$')
			fputc('$', f);
		fputc(*path, f);
	}
}

int ava_codegen_write_depfile(const struct ava_codegen_api *api, const char *path,
			      const char *target, FILE *err)
{
	char *tmp = ava_codegen_xasprintf("%s.XXXXXX", path);
	int fd = mkstemp(tmp), r = 0;
	FILE *f;
	size_t i;

	if (!err)
		err = stderr;
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		r = -errno;
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		fprintf(err, "avagen: error: cannot write %s: %s\n", path, strerror(-r));
		free(tmp);
		return r;
	}
	put_escaped(f, target);
	fputc(':', f);
	for (i = 0; i < api->n_deps; i++) {
		fputs(" \\\n  ", f);
		put_escaped(f, api->deps[i]);
	}
	fputc('\n', f);
	if (fchmod(fd, 0644 & ~umask(umask(0))) < 0)
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		fprintf(err, "avagen: error: cannot write %s: %s\n", path, strerror(-r));
	}
	free(tmp);
	return r;
}
