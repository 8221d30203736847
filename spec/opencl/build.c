/* SPDX-License-Identifier: MIT */
/*
 * The files a build reads, in the guest. Natively, clBuildProgram and
 * clCompileProgram read headers from the application's file system: the
 * -I directories of the options (relative ones against the working
 * directory), PoCL's own -I. (the working directory, searched first), and
 * for #include "x.h" the including file's directory. On the server those
 * names would mean the server's files. So before such a call the guest
 * (through the call filter):
 *
 *  - finds the files the preprocessor would read: the program's source
 *    (CL_PROGRAM_SOURCE) and, transitively, every header it names in an
 *    #include "..." or <...> that resolves here the way clang resolves it
 *    (the includer's directory for "...", then the working directory, then
 *    the -I directories in order; the first existing file wins). Include
 *    lines are found without preprocessing, so a header behind a false
 *    #if is shipped too (harmless), and a macro-named or absolute include
 *    is not;
 *  - ships them, with the working directory and each -I directory, in one
 *    avaclPutBuildFiles (spec/opencl/build-wire.h) into the session's
 *    private build directory R on the server, which mirrors the guest's
 *    names under R (/home/u/app/inc/a.h is R/home/u/app/inc/a.h); at most
 *    AVA_OPENCL_BUILD_MAX_FILES files and AVA_OPENCL_BUILD_MAX_BYTES bytes,
 *    beyond which the call answers CL_OUT_OF_RESOURCES and says why on
 *    stderr;
 *  - makes the call with the options rewritten: a relative -I DIR / -IDIR
 *    becomes R<cwd>/./DIR, an absolute one R/DIR, and -IR<cwd>/./. comes
 *    first for PoCL's -I.; clang names a header by the directory's text
 *    and the include's, so the "/./" tells a relative directory's headers
 *    from an absolute one's in the same place;
 *  - answers clGetProgramBuildInfo(CL_PROGRAM_BUILD_LOG,
 *    CL_PROGRAM_BUILD_OPTIONS) itself once a build was rewritten: the
 *    server's answer with R<cwd>/./ and then R taken out again (and the
 *    leading -I), so the log names the headers as the application wrote
 *    them and the options are the application's.
 *
 * A build whose options name no -I directory and whose sources include no
 * file found here goes as it is. clCompileProgram's input_headers are the
 * library's own mechanism: include names among header_include_names are
 * not looked up here. Thread-safe: the names of the build directories
 * used are kept under a lock.
 */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 300
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CL/cl.h>

#include <ava/guestlib.h>

#include "ava_opencl.h"
#include "opencl/build-wire.h"
#include "opencl/guest.h"

/* The most files, and bytes of them, one build ships to the server. */
#define AVA_OPENCL_BUILD_MAX_FILES 1024
#define AVA_OPENCL_BUILD_MAX_BYTES (16u << 20)

/* A growing byte string. */
struct sbuf {
	char *data;
	size_t len, cap;
	int err; /* 0, or -ENOMEM once a growth failed */
};

static void sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d) {
			b->err = -ENOMEM;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	if (n) /* p may be NULL then */
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void sbuf_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/*
 * The absolute name, without "." or ".." components or repeated slashes,
 * of path (relative ones against dir, itself such a name): what the
 * server's mirror resolves path to. Returns a malloc'd string, or NULL.
 */
static char *path_norm(const char *dir, const char *path)
{
	struct sbuf in = { 0 }, out = { 0 };

	if (path[0] != '/') {
		sbuf_str(&in, dir);
		sbuf_str(&in, "/");
	}
	sbuf_str(&in, path);
	sbuf_str(&out, "");
	if (in.err || out.err)
		goto fail;
	char *save = NULL;
	for (char *c = strtok_r(in.data, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			char *slash = strrchr(out.data, '/');
			out.len = slash ? (size_t)(slash - out.data) : 0;
			out.data[out.len] = '\0';
			continue;
		}
		sbuf_str(&out, "/");
		sbuf_str(&out, c);
	}
	if (out.len == 0)
		sbuf_str(&out, "/");
	if (out.err)
		goto fail;
	free(in.data);
	return out.data;
fail:
	free(in.data);
	free(out.data);
	return NULL;
}

/* The files of one build: names shipped (in order) and the records. */
struct ship {
	char **names;
	size_t n_names, cap_names;
	size_t n_files, n_bytes;
	struct sbuf records;
	int err; /* 0, -ENOMEM, or -E2BIG past the limits */
};

static bool ship_has(const struct ship *s, const char *name)
{
	for (size_t i = 0; i < s->n_names; i++)
		if (strcmp(s->names[i], name) == 0)
			return true;
	return false;
}

static void put_le(unsigned char *p, uint64_t v, int n_bytes)
{
	for (int i = 0; i < n_bytes; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

/* Adds one record; takes ownership of name. */
static void ship_add(struct ship *s, char kind, char *name, const void *data, size_t len_bytes)
{
	if (s->err) {
		free(name);
		return;
	}
	if (s->n_names == s->cap_names) {
		size_t cap = s->cap_names ? 2 * s->cap_names : 16;
		char **n = realloc(s->names, cap * sizeof(*n));
		if (!n) {
			s->err = -ENOMEM;
			free(name);
			return;
		}
		s->names = n;
		s->cap_names = cap;
	}
	s->names[s->n_names++] = name;
	unsigned char hdr[16];
	put_le(hdr, (unsigned char)kind, 4);
	put_le(hdr + 4, strlen(name), 4);
	put_le(hdr + 8, len_bytes, 8);
	sbuf_add(&s->records, hdr, sizeof(hdr));
	sbuf_add(&s->records, name, strlen(name));
	sbuf_add(&s->records, data, len_bytes);
	if (s->records.err)
		s->err = s->records.err;
}

/* A directory's name (normalized, absolute), shipped once so that the mirror has it. */
static void ship_dir(struct ship *s, char *name)
{
	if (!name) {
		s->err = s->err ? s->err : -ENOMEM;
		return;
	}
	if (strcmp(name, "/") == 0 || ship_has(s, name)) {
		free(name);
		return;
	}
	ship_add(s, 'd', name, NULL, 0);
}

/* Reads a whole regular file; NULL if it is none or unreadable. */
static char *read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rbe");
	struct sbuf b = { 0 };
	char chunk[8192];
	size_t n;

	if (!f)
		return NULL;
	sbuf_str(&b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && !b.err)
		sbuf_add(&b, chunk, n);
	bool bad = ferror(f) || b.err;
	fclose(f);
	if (bad) {
		free(b.data);
		return NULL;
	}
	*ret_len = b.len;
	return b.data;
}

/* What one build searches: the working directory, then the -I directories. */
struct search {
	char *cwd;
	char **dirs; /* normalized absolute; dirs[0] is cwd (PoCL's -I.) */
	size_t n_dirs;
	const char **skip; /* header_include_names (clCompileProgram) */
	size_t n_skip;
};

/* Where the include name (quoted: "name") resolves, from a file in includer_dir (or NULL). */
static char *resolve(const struct search *se, const char *includer_dir, const char *name,
		     bool quoted)
{
	struct stat st;

	if (name[0] == '/')
		return NULL; /* the server looks for the name as it is */
	for (size_t i = quoted && includer_dir ? 0 : 1; i <= se->n_dirs; i++) {
		const char *dir = i == 0 ? includer_dir : se->dirs[i - 1];
		char *p = path_norm(dir, name);
		if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode))
			return p;
		free(p);
	}
	return NULL;
}

/*
 * Ships every file text includes (transitively; text is in includer_dir,
 * or the program's source for NULL). Recursive: at most one level per
 * file shipped, AVA_OPENCL_BUILD_MAX_FILES, each a small frame.
 */
static void ship_includes(struct ship *s, const struct search *se, const char *text,
			  size_t len_bytes, const char *includer_dir)
{
	const char *p = text, *end = text + len_bytes;

	while (p < end && !s->err) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol ? eol : end, *q = p;
		p = eol ? eol + 1 : end;
		while (q < line_end && (*q == ' ' || *q == '\t'))
			q++;
		if (q == line_end || *q != '#')
			continue;
		q++;
		while (q < line_end && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(line_end - q) < 7 || memcmp(q, "include", 7) != 0)
			continue;
		q += 7;
		while (q < line_end && (*q == ' ' || *q == '\t'))
			q++;
		if (q == line_end || (*q != '"' && *q != '<'))
			continue;
		bool quoted = *q == '"';
		const char *close = memchr(q + 1, quoted ? '"' : '>', (size_t)(line_end - q - 1));
		if (!close || close == q + 1 || (size_t)(close - q) >= PATH_MAX)
			continue;
		char *name = strndup(q + 1, (size_t)(close - q - 1));
		if (!name) {
			s->err = -ENOMEM;
			return;
		}
		bool skip = false;
		for (size_t i = 0; i < se->n_skip && !skip; i++)
			skip = se->skip[i] && strcmp(se->skip[i], name) == 0;
		char *path = skip ? NULL : resolve(se, includer_dir, name, quoted);
		free(name);
		if (!path)
			continue;
		if (ship_has(s, path)) {
			free(path);
			continue;
		}
		size_t n;
		char *data = read_file(path, &n);
		if (!data) {
			free(path);
			continue;
		}
		if (s->n_files + 1 > AVA_OPENCL_BUILD_MAX_FILES ||
		    n > AVA_OPENCL_BUILD_MAX_BYTES - s->n_bytes) {
			s->err = -E2BIG;
			free(path);
			free(data);
			return;
		}
		s->n_files++;
		s->n_bytes += n;
		char *dir = strdup(path);
		if (dir)
			*strrchr(dir, '/') = '\0';
		ship_add(s, 'f', path, data, n);
		if (dir)
			ship_includes(s, se, data, n, dir[0] ? dir : "/");
		free(dir);
		free(data);
	}
}

/*
 * The names a build directory R has in the options and logs the server
 * answers: R, R<cwd>/./ (relative names' prefix) and -IR<cwd>/./. with a
 * space (the options' first token), one entry per R and working directory
 * a build used. Entries are added under build_lock and never change or go
 * (few: one per set of headers), so readers walk the list from its head.
 */
struct build_names {
	struct build_names *next;
	char *root, *cwd_root, *prefix;
};

static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;
static struct build_names *build_names;

/* The entry of root and cwd, added if new; NULL when out of memory. */
static const struct build_names *build_names_of(const char *root, const char *cwd)
{
	struct sbuf cr = { 0 }, op = { 0 };

	sbuf_str(&cr, root);
	if (strcmp(cwd, "/") != 0)
		sbuf_str(&cr, cwd);
	sbuf_str(&cr, "/./");
	sbuf_str(&op, "-I");
	sbuf_str(&op, cr.data ? cr.data : "");
	sbuf_str(&op, ". ");
	if (cr.err || op.err)
		goto fail;
	pthread_mutex_lock(&build_lock);
	for (struct build_names *e = build_names; e; e = e->next) {
		if (strcmp(e->cwd_root, cr.data) == 0) {
			pthread_mutex_unlock(&build_lock);
			free(cr.data);
			free(op.data);
			return e;
		}
	}
	struct build_names *e = calloc(1, sizeof(*e));
	char *r = strdup(root);
	if (!e || !r) {
		pthread_mutex_unlock(&build_lock);
		free(e);
		free(r);
		goto fail;
	}
	*e = (struct build_names){ build_names, r, cr.data, op.data };
	build_names = e;
	pthread_mutex_unlock(&build_lock);
	return e;
fail:
	free(cr.data);
	free(op.data);
	return NULL;
}

/* The application's -I directory in options at [*pos, ...): its text, or NULL. */
struct opt_dir {
	size_t start, len; /* of the directory's text in options */
};

/* Finds every -I directory in options (whitespace-separated, as PoCL splits them). */
static size_t find_dirs(const char *options, struct opt_dir *dirs, size_t max)
{
	size_t n = 0, i = 0, len = strlen(options);

	while (i < len) {
		while (i < len && isspace((unsigned char)options[i]))
			i++;
		size_t tok = i;
		while (i < len && !isspace((unsigned char)options[i]))
			i++;
		if (i - tok < 2 || options[tok] != '-' || options[tok + 1] != 'I')
			continue;
		size_t start = tok + 2, end = i;
		if (start == end) { /* -I DIR */
			while (i < len && isspace((unsigned char)options[i]))
				i++;
			start = i;
			while (i < len && !isspace((unsigned char)options[i]))
				i++;
			end = i;
			if (start == end)
				continue; /* a trailing -I: the library's answer */
		}
		if (n < max)
			dirs[n] = (struct opt_dir){ start, end - start };
		n++;
	}
	return n;
}

/* The application's working directory, or NULL. */
static char *cwd_name(void)
{
	char *c = getcwd(NULL, 0);
	if (!c)
		return NULL;
	char *n = path_norm("/", c);
	free(c);
	return n;
}

/* The program's source (CL_PROGRAM_SOURCE; "" for none), malloc'd, or NULL. */
static char *program_source(cl_program program, size_t *ret_len)
{
	size_t n = 0;
	if (clGetProgramInfo(program, CL_PROGRAM_SOURCE, 0, NULL, &n) != CL_SUCCESS || n == 0)
		return strdup("");
	char *src = malloc(n + 1);
	if (!src)
		return NULL;
	if (clGetProgramInfo(program, CL_PROGRAM_SOURCE, n, src, NULL) != CL_SUCCESS)
		n = 0;
	src[n] = '\0';
	*ret_len = strlen(src);
	return src;
}

/*
 * The options to send in place of options, with the files shipped:
 * *ret_options is NULL when the call goes as it is. Returns CL_SUCCESS or
 * the error the application gets.
 */
static cl_int build_prepare(cl_program program, const char *options, const char **skip,
			    size_t n_skip, const char *who, char **ret_options)
{
	struct opt_dir odirs[256];
	struct search se = { .skip = skip, .n_skip = n_skip };
	struct ship s = { 0 };
	struct sbuf out = { 0 };
	size_t src_len = 0;
	char *src = NULL;
	cl_int err = CL_SUCCESS;

	*ret_options = NULL;
	if (!options)
		options = "";
	size_t n_odirs = find_dirs(options, odirs, sizeof(odirs) / sizeof(odirs[0]));
	if (n_odirs > sizeof(odirs) / sizeof(odirs[0])) {
		fprintf(stderr, "ava: %s: more than %zu -I options\n", who,
			sizeof(odirs) / sizeof(odirs[0]));
		return CL_OUT_OF_RESOURCES;
	}
	se.cwd = cwd_name();
	se.dirs = calloc(n_odirs + 1, sizeof(*se.dirs));
	src = program_source(program, &src_len);
	if (!se.cwd || !se.dirs || !src) {
		err = CL_OUT_OF_HOST_MEMORY;
		goto out;
	}
	se.dirs[se.n_dirs++] = strdup(se.cwd);
	for (size_t i = 0; i < n_odirs; i++) {
		char *text = strndup(options + odirs[i].start, odirs[i].len);
		se.dirs[se.n_dirs++] = text ? path_norm(se.cwd, text) : NULL;
		/* the mirror needs each directory the name passes through */
		for (char *sl = text ? strchr(text + 1, '/') : NULL; sl; sl = strchr(sl + 1, '/')) {
			*sl = '\0';
			ship_dir(&s, path_norm(se.cwd, text));
			*sl = '/';
		}
		free(text);
	}
	for (size_t i = 0; i < se.n_dirs; i++) {
		if (!se.dirs[i]) {
			err = CL_OUT_OF_HOST_MEMORY;
			goto out;
		}
		ship_dir(&s, strdup(se.dirs[i]));
	}
	ship_includes(&s, &se, src, src_len, NULL);
	if (s.err == -E2BIG) {
		fprintf(stderr,
			"ava: %s: the program's headers are more than %d files or %u bytes, "
			"more than the guest sends to the API server\n",
			who, AVA_OPENCL_BUILD_MAX_FILES, AVA_OPENCL_BUILD_MAX_BYTES);
		err = CL_OUT_OF_RESOURCES;
		goto out;
	}
	if (s.err) {
		err = CL_OUT_OF_HOST_MEMORY;
		goto out;
	}
	if (n_odirs == 0 && s.n_files == 0)
		goto out; /* nothing of the application's file system is read */

	char root[PATH_MAX];
	err = avaclPutBuildFiles(s.records.len, s.records.data, sizeof(root), root);
	if (err != CL_SUCCESS)
		goto out;
	root[sizeof(root) - 1] = '\0';

	const struct build_names *names = build_names_of(root, se.cwd);
	if (!names) {
		err = CL_OUT_OF_HOST_MEMORY;
		goto out;
	}
	sbuf_str(&out, names->prefix);
	size_t done = 0;
	for (size_t i = 0; i < n_odirs; i++) {
		sbuf_add(&out, options + done, odirs[i].start - done);
		sbuf_str(&out, options[odirs[i].start] == '/' ? names->root : names->cwd_root);
		done = odirs[i].start;
	}
	sbuf_str(&out, options + done);
	if (out.err) {
		free(out.data);
		err = CL_OUT_OF_HOST_MEMORY;
		goto out;
	}
	*ret_options = out.data;
out:
	for (size_t i = 0; se.dirs && i < se.n_dirs; i++)
		free(se.dirs[i]);
	free(se.dirs);
	free(se.cwd);
	free(src);
	for (size_t i = 0; i < s.n_names; i++)
		free(s.names[i]);
	free(s.names);
	free(s.records.data);
	return err;
}

/* text with every from taken out; malloc'd. */
static char *strip_all(const char *text, const char *from)
{
	struct sbuf b = { 0 };
	size_t n = strlen(from);

	sbuf_str(&b, "");
	for (const char *p = text;;) {
		const char *hit = n ? strstr(p, from) : NULL;
		if (!hit) {
			sbuf_str(&b, p);
			break;
		}
		sbuf_add(&b, p, (size_t)(hit - p));
		p = hit + n;
	}
	if (b.err) {
		free(b.data);
		return NULL;
	}
	return b.data;
}

/*
 * clGetProgramBuildInfo(CL_PROGRAM_BUILD_LOG / _OPTIONS) once a build
 * went through the build directory: the server's string, with the
 * directory's names taken out. Returns 0 when the call goes as it is.
 */
static int build_info(struct ava_opencl_args_clGetProgramBuildInfo a, cl_int *ret)
{
	cl_program_build_info what = *a.param_name;
	if (what != CL_PROGRAM_BUILD_LOG && what != CL_PROGRAM_BUILD_OPTIONS)
		return 0;
	pthread_mutex_lock(&build_lock);
	const struct build_names *names = build_names;
	pthread_mutex_unlock(&build_lock);
	char *value = NULL, *a1 = NULL, *a2 = NULL;
	if (!names)
		return 0;

	size_t n = 0;
	cl_int err = clGetProgramBuildInfo(*a.program, *a.device, what, 0, NULL, &n);
	if (err == CL_SUCCESS && !(value = calloc(1, n + 1)))
		err = CL_OUT_OF_HOST_MEMORY;
	if (err == CL_SUCCESS)
		err = clGetProgramBuildInfo(*a.program, *a.device, what, n, value, NULL);
	if (err != CL_SUCCESS) {
		*ret = err;
		goto out;
	}
	const char *v = value;
	for (const struct build_names *e = names; e && what == CL_PROGRAM_BUILD_OPTIONS;
	     e = e->next) {
		size_t n_prefix = strlen(e->prefix);
		if (strncmp(v, e->prefix, n_prefix) == 0) {
			v += n_prefix;
			break;
		}
		if (strncmp(v, e->prefix, n_prefix - 1) == 0 && v[n_prefix - 1] == '\0') {
			v += n_prefix - 1; /* empty options: PoCL trims the space */
			break;
		}
	}
	/* every R<cwd>/./ first: each starts with its R */
	a1 = strdup(v);
	for (const struct build_names *e = names; e && a1; e = e->next) {
		a2 = strip_all(a1, e->cwd_root);
		free(a1);
		a1 = a2;
	}
	for (const struct build_names *e = names; e && a1; e = e->next) {
		a2 = strip_all(a1, e->root);
		free(a1);
		a1 = a2;
	}
	a1 = NULL; /* a2 holds the answer */
	if (!a2) {
		*ret = CL_OUT_OF_HOST_MEMORY;
		goto out;
	}
	size_t len = strlen(a2) + 1;
	if (*a.param_value && *a.param_value_size < len) {
		*ret = CL_INVALID_VALUE;
		goto out;
	}
	if (*a.param_value)
		memcpy(*a.param_value, a2, len);
	if (*a.param_value_size_ret)
		**a.param_value_size_ret = len;
	*ret = CL_SUCCESS;
out:
	free(value);
	free(a2);
	return 1;
}

int ava_opencl_build_filter(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
			    void *ret)
{
	(void)api;
	char *options = NULL;
	cl_int err;

	switch (fn_id) {
	case AVA_OPENCL_FN_clBuildProgram: {
		struct ava_opencl_args_clBuildProgram a = ava_opencl_args_clBuildProgram(args);
		err = build_prepare(*a.program, *a.options, NULL, 0, "clBuildProgram", &options);
		if (err == CL_SUCCESS && !options)
			return 0;
		if (err == CL_SUCCESS)
			err = clBuildProgram(*a.program, *a.num_devices, *a.device_list, options,
					     *a.pfn_notify, *a.user_data);
		*ava_opencl_ret_clBuildProgram(ret) = err;
		free(options);
		return 1;
	}
	case AVA_OPENCL_FN_clCompileProgram: {
		struct ava_opencl_args_clCompileProgram a = ava_opencl_args_clCompileProgram(args);
		const char **names = (const char **)*a.header_include_names;
		err = build_prepare(*a.program, *a.options, names, names ? *a.num_input_headers : 0,
				    "clCompileProgram", &options);
		if (err == CL_SUCCESS && !options)
			return 0;
		if (err == CL_SUCCESS)
			err =
			    clCompileProgram(*a.program, *a.num_devices, *a.device_list, options,
					     *a.num_input_headers, *a.input_headers,
					     *a.header_include_names, *a.pfn_notify, *a.user_data);
		*ava_opencl_ret_clCompileProgram(ret) = err;
		free(options);
		return 1;
	}
	case AVA_OPENCL_FN_clGetProgramBuildInfo:
		return build_info(ava_opencl_args_clGetProgramBuildInfo(args),
				  ava_opencl_ret_clGetProgramBuildInfo(ret));
	default:
		return 0;
	}
}
