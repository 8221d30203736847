/* SPDX-License-Identifier: MIT */
/*
 * ava-run [--soname | --preload | --icd] [--allow-native] [--router SOCKET] [--api-dir DIR]
 *         [--verbose] [--] APP [ARGS...]
 *
 * Runs one unmodified application with its accelerator API calls remoted:
 * puts the generated guest libraries in front of the real ones, points them
 * at a router, and, when no router is given or running, starts a private one
 * for the lifetime of the application (the "embedded default").
 *
 * Routes (how the guest library gets in front):
 *   default    an API whose guest library is registered as an ICD in the vendors
 *              folder (OpenCL) goes through the system ICD loader (OCL_ICD_VENDORS
 *              names a folder holding only the AvA ICD); every other API by soname
 *              (its guest folder first on LD_LIBRARY_PATH). The ICD route catches
 *              every way a program reaches OpenCL through the system loader: linked,
 *              dlopen("libOpenCL.so.1"), dlopen("libOpenCL.so"), by full path, and
 *              keeps the loader's own behaviour (clinfo's "ICD loader" section).
 *              Where the system's libOpenCL.so.1 is no ICD loader, OpenCL falls
 *              back to the soname route.
 *   --soname   every API by soname (the guest folders hold libOpenCL.so.1 and
 *              libOpenCL.so links), no ICD loader involved
 *   --preload  LD_PRELOAD the guest libraries
 *   --icd      OpenCL through the ICD loader only; other APIs are not remoted
 * $AVA_RUN_ROUTE (default, soname, preload, icd) picks the route when no flag does.
 *
 * Programs no route can catch (statically linked, set-user-ID or set-group-ID
 * or with file capabilities, whose dynamic linker ignores LD_LIBRARY_PATH and
 * LD_PRELOAD) are refused with a message on stderr, never run natively
 * silently; --allow-native runs them anyway, with the same message.
 *
 * Layout, relative to this executable (build tree and install alike):
 *   <bin>/avarouterd              the router started privately
 *   <libdir>/ava/guest/<api>/     guest libraries (AVA_GUEST_DIR overrides the parent)
 *   <libdir>/ava/apis/            API servers and manifests (AVA_API_DIR, --api-dir)
 *   <bin>/../etc/OpenCL/vendors/  (build tree) or <datadir>/ava/OpenCL/vendors/
 *                                 (installed): the vendors folder of the ICD route
 *                                 (AVA_ICD_VENDORS overrides)
 * <libdir> and <datadir> are the install's, relative to <bin> (AVA_INSTALL_LIBDIR,
 * AVA_INSTALL_DATADIR: ../lib and ../share for most prefixes); ../lib and
 * ../share are tried too.
 */
#define _GNU_SOURCE /* setenv, pipe2, SI_KERNEL */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* The install's <libdir> and <datadir> relative to <bindir> (guestlib/ava-run.cmake). */
#ifndef AVA_INSTALL_LIBDIR
#define AVA_INSTALL_LIBDIR "../lib"
#endif
#ifndef AVA_INSTALL_DATADIR
#define AVA_INSTALL_DATADIR "../share"
#endif

#define SYSTEM_ROUTER_SOCKET   "/run/ava/router.sock"
#define READY_TIMEOUT_MS       15000
#define ROUTER_STOP_TIMEOUT_MS 10000

static int g_verbose;
static volatile sig_atomic_t g_app_pid;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ava-run: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: ava-run [--soname | --preload | --icd] [--allow-native] [--router SOCKET]\n"
	    "               [--api-dir DIR] [--verbose] [--] APP [ARGS...]\n"
	    "  (default)        OpenCL through the system ICD loader, pointed (OCL_ICD_VENDORS) "
	    "at\n"
	    "                   a vendors folder holding only the AvA ICD; other APIs by soname\n"
	    "  --soname         every API by soname: its guest folder first on LD_LIBRARY_PATH\n"
	    "  --preload        LD_PRELOAD the guest libraries\n"
	    "  --icd            only OpenCL, through the ICD loader\n"
	    "                   ($AVA_RUN_ROUTE=default|soname|preload|icd when no flag is given)\n"
	    "  --allow-native   run APP even where no route can catch it (static, set-user-ID);\n"
	    "                   it says so, and APP's calls run natively\n"
	    "  --router SOCKET  use the router at SOCKET (default: $AVA_ROUTER_SOCKET, else\n"
	    "                   %s if a router answers there, else a private router)\n"
	    "  --api-dir DIR    API servers and manifests for a private router\n"
	    "                   (default: $AVA_API_DIR, else <bin>/%s/ava/apis)\n"
	    "  --verbose        say what is set up; show the private router's log\n"
	    "Guest libraries: $AVA_GUEST_DIR, else <bin>/%s/ava/guest (one folder per API).\n"
	    "ICD vendors folder: $AVA_ICD_VENDORS, else <bin>/../etc/OpenCL/vendors, else\n"
	    "<bin>/%s/ava/OpenCL/vendors.\n",
	    SYSTEM_ROUTER_SOCKET, AVA_INSTALL_LIBDIR, AVA_INSTALL_LIBDIR, AVA_INSTALL_DATADIR);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Path buffer helpers: every path here fits in PATH_MAX or is an error. */
static int path_join(char *out, const char *a, const char *b)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
	if (n < 0 || n >= PATH_MAX) {
		say("path too long: %s/%s", a, b);
		return -1;
	}
	return 0;
}

/* Canonicalises path in place when it exists (nicer messages); leaves it otherwise. */
static void canonicalize(char *path)
{
	char buf[PATH_MAX];
	if (realpath(path, buf))
		memcpy(path, buf, strlen(buf) + 1);
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Growable list of strings. */
struct strlist {
	char **v;
	size_t n;
};

static int strlist_add(struct strlist *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	l->v = v;
	if (!(l->v[l->n] = strdup(s)))
		return -1;
	l->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Joins l with sep, then (if not empty) sep and tail. Returns malloc'd string or NULL. */
static char *strlist_join(const struct strlist *l, char sep, const char *tail)
{
	size_t len = 1 + (tail ? strlen(tail) + 1 : 0);
	for (size_t i = 0; i < l->n; i++)
		len += strlen(l->v[i]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	size_t pos = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			s[pos++] = sep;
		size_t k = strlen(l->v[i]);
		memcpy(s + pos, l->v[i], k);
		pos += k;
	}
	if (tail && *tail) {
		if (l->n)
			s[pos++] = sep;
		size_t k = strlen(tail);
		memcpy(s + pos, tail, k);
		pos += k;
	}
	s[pos] = '\0';
	return s;
}

static int name_has_prefix_suffix(const char *name, const char *prefix, const char *infix)
{
	return !strncmp(name, prefix, strlen(prefix)) && strstr(name, infix) != NULL;
}

/*
 * Collects the guest library folders under root (each subfolder, and root
 * itself if it directly holds libraries) and, for --preload, the
 * libava-guest-*.so files in them. Sorted, so the environment is deterministic.
 */
static int find_guest_libs(const char *root, struct strlist *dirs, struct strlist *preload)
{
	DIR *d = opendir(root);
	if (!d) {
		say("cannot open guest library folder %s: %s", root, strerror(errno));
		return -1;
	}
	struct strlist candidates = { 0 };
	int root_has_libs = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		if (path_join(path, root, de->d_name) < 0)
			continue;
		if (is_dir(path)) {
			if (strlist_add(&candidates, path) < 0)
				goto oom;
		} else if (name_has_prefix_suffix(de->d_name, "lib", ".so")) {
			root_has_libs = 1;
		}
	}
	closedir(d);
	d = NULL;
	if (root_has_libs && strlist_add(&candidates, root) < 0)
		goto oom;
	if (candidates.n > 1)
		qsort(candidates.v, candidates.n, sizeof(char *), cmp_str);

	for (size_t i = 0; i < candidates.n; i++) {
		DIR *sub = opendir(candidates.v[i]);
		if (!sub)
			continue;
		int has_lib = 0;
		struct strlist libs = { 0 };
		while ((de = readdir(sub))) {
			if (!name_has_prefix_suffix(de->d_name, "lib", ".so"))
				continue;
			has_lib = 1;
			size_t len = strlen(de->d_name);
			/* The real file for LD_PRELOAD: libava-guest-<api>.so (no version suffix). */
			if (!strncmp(de->d_name, "libava-guest-", 13) && len > 16 &&
			    !strcmp(de->d_name + len - 3, ".so")) {
				char path[PATH_MAX];
				if (path_join(path, candidates.v[i], de->d_name) == 0 &&
				    strlist_add(&libs, path) < 0) {
					closedir(sub);
					strlist_free(&libs);
					goto oom;
				}
			}
		}
		closedir(sub);
		if (libs.n > 1)
			qsort(libs.v, libs.n, sizeof(char *), cmp_str);
		for (size_t k = 0; k < libs.n; k++) {
			if (strlist_add(preload, libs.v[k]) < 0) {
				strlist_free(&libs);
				goto oom;
			}
		}
		strlist_free(&libs);
		if (has_lib && strlist_add(dirs, candidates.v[i]) < 0)
			goto oom;
	}
	strlist_free(&candidates);
	return 0;
oom:
	if (d)
		closedir(d);
	strlist_free(&candidates);
	say("out of memory");
	return -1;
}

static int count_manifests(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len > 4 && !strcmp(de->d_name + len - 4, ".abi"))
			n++;
	}
	closedir(d);
	return n;
}

/* Whether something accepts connections on the Unix socket at path. */
static int socket_answers(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path))
		return 0;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int ok = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	close(fd);
	return ok;
}

/* ---- routes ---- */

enum route { ROUTE_DEFAULT, ROUTE_SONAME, ROUTE_PRELOAD, ROUTE_ICD };

static int route_parse(const char *name, enum route *ret_route)
{
	static const char *const names[] = { "default", "soname", "preload", "icd" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*ret_route = (enum route)i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * The ICD vendors folder: $AVA_ICD_VENDORS, else the build tree's
 * <bin>/../etc/OpenCL/vendors, else the install's <bin>/../<datadir>/ava/OpenCL/vendors
 * (or share/). Writes the first candidate that is a folder, else the last tried.
 * Returns 1 if it is a folder, 0 if none is, -1 on a path error.
 */
static int find_vendors(const char *bin, char *out)
{
	const char *env = getenv("AVA_ICD_VENDORS");
	if (env && *env) {
		snprintf(out, PATH_MAX, "%s", env);
		canonicalize(out);
		return is_dir(out);
	}
	const char *rel[] = { "../etc/OpenCL/vendors", AVA_INSTALL_DATADIR "/ava/OpenCL/vendors",
			      "../share/ava/OpenCL/vendors" };
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (path_join(out, bin, rel[i]) < 0)
			return -1;
		if (is_dir(out)) {
			canonicalize(out);
			return 1;
		}
	}
	return 0;
}

/*
 * The folders of the libraries that the .icd files in vendors name (canonical
 * paths): the guest folders the ICD route serves.
 */
static int read_icd_dirs(const char *vendors, struct strlist *ret_dirs)
{
	DIR *d = opendir(vendors);
	if (!d)
		return 0;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".icd"))
			continue;
		char path[PATH_MAX], lib[PATH_MAX];
		if (path_join(path, vendors, de->d_name) < 0)
			continue;
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		char *got = fgets(lib, sizeof(lib), f);
		fclose(f);
		if (!got)
			continue;
		lib[strcspn(lib, "\r\n")] = '\0';
		char *slash = strrchr(lib, '/');
		if (!slash)
			continue; /* a bare name: the loader searches the system paths */
		*slash = '\0';
		canonicalize(lib);
		if (strlist_add(ret_dirs, lib) < 0) {
			r = -1;
			break;
		}
	}
	closedir(d);
	return r;
}

static int strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

/*
 * Whether the libOpenCL.so.1 an application would load (with ava-run's own
 * environment, i.e. the user's) is an ICD loader, one that reads
 * OCL_ICD_VENDORS (ocl-icd, the Khronos loader), rather than a vendor's
 * library installed under the loader's name. The dynamic linker decides, in
 * a child, so that nothing the loader runs stays in this process; writes the
 * library's path to ret_path (empty if there is none).
 */
static int system_opencl_is_icd_loader(char *ret_path, size_t len)
{
	ret_path[0] = '\0';
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return 0;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return 0;
	}
	if (pid == 0) {
		close(fds[0]);
		void *h = dlopen("libOpenCL.so.1", RTLD_LAZY | RTLD_LOCAL);
		struct link_map *map = NULL;
		if (h && dlinfo(h, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name) {
			size_t n = strlen(map->l_name);
			if (write(fds[1], map->l_name, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fds[0], ret_path + got, len - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == len - 1)
			break;
	}
	ret_path[got] = '\0';
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!got)
		return 0;

	/* Both loaders name the variable; a vendor library has no reason to. */
	static const char needle[] = "OCL_ICD_VENDORS";
	FILE *f = fopen(ret_path, "rb");
	if (!f)
		return 0;
	char buf[65536 + sizeof(needle)];
	size_t keep = 0, n;
	int found = 0;
	while (!found && (n = fread(buf + keep, 1, sizeof(buf) - keep, f)) > 0) {
		n += keep;
		found = memmem(buf, n, needle, sizeof(needle) - 1) != NULL;
		keep = n < sizeof(needle) ? n : sizeof(needle) - 1;
		memmove(buf, buf + n - keep, keep);
	}
	fclose(f);
	return found;
}

/* ---- what no route can catch ---- */

/* Whether the ELF file at path has no PT_INTERP (statically linked, static-pie too). */
static int elf_is_static(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int is_static = 0;
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		goto out;
	if (eh.e_ident[EI_CLASS] == ELFCLASS64) {
		is_static = 1;
		for (unsigned i = 0; i < eh.e_phnum && is_static; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof(ph),
				  (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
			    (ssize_t)sizeof(ph)) {
				is_static = 0;
				break;
			}
			if (ph.p_type == PT_INTERP)
				is_static = 0;
		}
	} else if (eh.e_ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh32;
		if (pread(fd, &eh32, sizeof(eh32), 0) != (ssize_t)sizeof(eh32))
			goto out;
		is_static = 1;
		for (unsigned i = 0; i < eh32.e_phnum && is_static; i++) {
			Elf32_Phdr ph;
			if (pread(fd, &ph, sizeof(ph),
				  (off_t)(eh32.e_phoff + (uint32_t)i * eh32.e_phentsize)) !=
			    (ssize_t)sizeof(ph)) {
				is_static = 0;
				break;
			}
			if (ph.p_type == PT_INTERP)
				is_static = 0;
		}
	}
out:
	close(fd);
	return is_static;
}

/* The executable execvp would run for name: written to out; -1 if none is found. */
static int find_app(const char *name, char *out)
{
	if (strchr(name, '/')) {
		snprintf(out, PATH_MAX, "%s", name);
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/bin:/usr/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%.*s", (int)(n ? n : 1), n ? path : ".");
		struct stat st;
		if (path_join(out, dir, name) == 0 && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(out, X_OK) == 0)
			return 0;
		path += n;
		if (*path == ':')
			path++;
	}
	return -1;
}

/*
 * Why no route can put the guest libraries in front of the program at path:
 * writes the reason to why and returns 1, or returns 0 when nothing stands in
 * the way. A "#!" script is judged by its interpreter.
 *
 * Secure-execution mode (set-user-ID or set-group-ID to another user or
 * group, or file capabilities, on a file system that honours them): the
 * dynamic linker ignores LD_LIBRARY_PATH and LD_PRELOAD. A static program:
 * no dynamic linker runs at all.
 */
static int uncatchable(const char *path, char *why, size_t len, int depth)
{
	static const char secure[] = "runs in secure-execution mode, where the dynamic linker "
				     "ignores LD_LIBRARY_PATH and LD_PRELOAD";
	char who[PATH_MAX + 32];
	if (depth == 0)
		snprintf(who, sizeof(who), "it");
	else
		snprintf(who, sizeof(who), "its interpreter %s", path);

	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0; /* execvp reports it */
	struct statvfs vfs;
	int nosuid = statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID);
	if (!nosuid && (st.st_mode & S_ISUID) && st.st_uid != getuid()) {
		snprintf(why, len, "%s is set-user-ID and %s", who, secure);
		return 1;
	}
	if (!nosuid && (st.st_mode & S_ISGID) && st.st_gid != getgid()) {
		snprintf(why, len, "%s is set-group-ID and %s", who, secure);
		return 1;
	}
	if (!nosuid && geteuid() != 0 && getxattr(path, "security.capability", NULL, 0) > 0) {
		snprintf(why, len, "%s has file capabilities and %s", who, secure);
		return 1;
	}

	char head[PATH_MAX + 2];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (n >= 2 && head[0] == '#' && head[1] == '!') {
		if (depth > 0)
			return 0;
		head[n] = '\0';
		char *interp = head + 2;
		interp += strspn(interp, " \t");
		interp[strcspn(interp, " \t\r\n")] = '\0';
		return *interp ? uncatchable(interp, why, len, depth + 1) : 0;
	}
	if (elf_is_static(path)) {
		snprintf(
		    why, len,
		    "%s is statically linked: no dynamic linker runs, so neither LD_LIBRARY_PATH, "
		    "LD_PRELOAD nor an ICD loader can put a guest library in front of the API",
		    who);
		return 1;
	}
	return 0;
}

/* The application's environment changes: value NULL unsets name. */
struct env_change {
	const char *name;
	char *value;
};

/*
 * The application's environment for route: LD_LIBRARY_PATH, LD_PRELOAD and/or
 * OCL_ICD_VENDORS set, OCL_ICD_FILENAMES unset, in env (at most 3 entries,
 * values malloc'd and the caller's to free, also on error). Only the
 * application gets them: the private router's API servers must load the real
 * vendor library, so nothing is set in ava-run's own environment (which the
 * router inherits). Returns 0, or -1 having said why.
 */
static int route_env(enum route route, const char *bin, const char *guest_root, const char *app,
		     struct env_change *env, size_t *ret_n)
{
	struct strlist dirs = { 0 }, libs = { 0 }, icd_dirs = { 0 }, soname_dirs = { 0 };
	size_t n_env = 0;
	char vendors[PATH_MAX], loader[PATH_MAX] = "";
	int r = -1;

	if (find_guest_libs(guest_root, &dirs, &libs) < 0)
		goto out;
	if (dirs.n == 0) {
		say("no guest libraries in %s (expected one folder per API)", guest_root);
		goto out;
	}
	int have_vendors = find_vendors(bin, vendors);
	if (have_vendors < 0)
		goto out;
	if (route == ROUTE_ICD && !have_vendors) {
		say("no ICD vendors folder at %s (build the OpenCL guest library, or set "
		    "AVA_ICD_VENDORS)",
		    vendors);
		goto out;
	}
	if (route == ROUTE_PRELOAD) {
		if (libs.n == 0) {
			say("no libava-guest-*.so to preload in the folders under %s", guest_root);
			goto out;
		}
		env[n_env].name = "LD_PRELOAD";
		env[n_env++].value = strlist_join(&libs, ':', getenv("LD_PRELOAD"));
	} else if (route == ROUTE_ICD) {
		/* The loader finds the guest library through the vendors folder. */
		env[n_env].name = "OCL_ICD_VENDORS";
		env[n_env++].value = strdup(vendors);
	} else {
		/*
		 * Soname, and the default: there, the guest folders an .icd in the
		 * vendors folder names go through the ICD loader (when the system's
		 * libOpenCL.so.1 is one), the rest by soname.
		 */
		int use_icd = 0;
		if (route == ROUTE_DEFAULT && have_vendors) {
			if (read_icd_dirs(vendors, &icd_dirs) < 0)
				goto oom;
			for (size_t i = 0; i < dirs.n && !use_icd; i++)
				use_icd = strlist_has(&icd_dirs, dirs.v[i]);
		}
		if (use_icd && !system_opencl_is_icd_loader(loader, sizeof(loader))) {
			if (g_verbose)
				say("%s is no ICD loader: OpenCL goes by soname",
				    loader[0] ? loader : "libOpenCL.so.1 (not found)");
			use_icd = 0;
		}
		for (size_t i = 0; i < dirs.n; i++) {
			if (use_icd && strlist_has(&icd_dirs, dirs.v[i])) {
				if (g_verbose)
					say("%s: through the ICD loader %s", dirs.v[i], loader);
			} else if (strlist_add(&soname_dirs, dirs.v[i]) < 0) {
				goto oom;
			}
		}
		if (soname_dirs.n) {
			env[n_env].name = "LD_LIBRARY_PATH";
			env[n_env++].value =
			    strlist_join(&soname_dirs, ':', getenv("LD_LIBRARY_PATH"));
		}
		if (use_icd) {
			env[n_env].name = "OCL_ICD_VENDORS";
			env[n_env++].value = strdup(vendors);
		}
	}
	for (size_t i = 0; i < n_env; i++) {
		if (!env[i].value)
			goto oom;
		if (g_verbose)
			say("%s=%s", env[i].name, env[i].value);
	}
	/* The Khronos loader would load these beside the AvA ICD: native platforms. */
	const char *filenames = getenv("OCL_ICD_FILENAMES");
	if (filenames && *filenames && n_env && !strcmp(env[n_env - 1].name, "OCL_ICD_VENDORS")) {
		say("unsetting OCL_ICD_FILENAMES=%s for %s: the ICD loader would load those "
		    "drivers natively beside the AvA ICD",
		    filenames, app);
		env[n_env++].name = "OCL_ICD_FILENAMES"; /* value NULL: unset */
	}
	r = 0;
	goto out;
oom:
	say("out of memory");
out:
	*ret_n = n_env;
	strlist_free(&dirs);
	strlist_free(&libs);
	strlist_free(&icd_dirs);
	strlist_free(&soname_dirs);
	return r;
}

/* ---- the private router ---- */

struct private_router {
	char dir[PATH_MAX];
	char socket[PATH_MAX];
	char log[PATH_MAX];
	pid_t pid;
};

static void print_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[1024];
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  | %s", line);
	fclose(f);
}

static void describe_status(char *buf, size_t len, int status)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "status 0x%x", (unsigned)status);
}

static int start_private_router(struct private_router *pr, const char *router_exe,
				const char *api_dir)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (snprintf(pr->dir, sizeof(pr->dir), "%s/ava-run-XXXXXX", tmp) >= (int)sizeof(pr->dir) ||
	    !mkdtemp(pr->dir)) {
		say("cannot create a folder for the private router in %s: %s", tmp,
		    strerror(errno));
		pr->dir[0] = '\0';
		return -1;
	}
	if (path_join(pr->socket, pr->dir, "router.sock") < 0 ||
	    path_join(pr->log, pr->dir, "router.log") < 0)
		return -1;
	struct sockaddr_un addr;
	if (strlen(pr->socket) >= sizeof(addr.sun_path)) {
		say("private router socket path too long: %s (set TMPDIR to a shorter folder)",
		    pr->socket);
		return -1;
	}

	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		say("pipe: %s", strerror(errno));
		return -1;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	if (pid == 0) {
		/* Own process group: a terminal ^C is the application's to handle, not the router's. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		if (getppid() != parent)
			_exit(127);
		if (!g_verbose) {
			int fd = open(pr->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (fd >= 0)
				dup2(fd, 2);
		}
		/*
		 * Not the application's stdout: like a router on a host, this one
		 * and its servers reach the application's stdout only through the
		 * wire (OUTPUT frames for kernel printf); stray output is logged.
		 */
		dup2(2, 1);
		/*
		 * Nor the application's environment: the router and its servers run
		 * the vendor library, so what steers a program onto the guest side
		 * (the caller's own OCL_ICD_VENDORS pointing at the AvA ICD, say)
		 * stays out. The router builds each server's environment itself
		 * (docs/router.md, "The server's environment") and drops these too;
		 * AVA_SERVER_ENV_<NAME> passes a variable to the servers on purpose.
		 */
		static const char *const app_side[] = { "OCL_ICD_VENDORS",    "OCL_ICD_FILENAMES",
							"OPENCL_VENDOR_PATH", "AVA_ROUTER_SOCKET",
							"AVA_RUN_ROUTE",      "AVA_GUEST_DIR",
							"AVA_ICD_VENDORS" };
		for (size_t i = 0; i < sizeof(app_side) / sizeof(app_side[0]); i++)
			unsetenv(app_side[i]);
		int fd = dup(ready[1]); /* without O_CLOEXEC: the router writes "ready" to it */
		if (fd < 0)
			_exit(127);
		char fd_str[16];
		snprintf(fd_str, sizeof(fd_str), "%d", fd);
		char listen_arg[PATH_MAX + 16];
		snprintf(listen_arg, sizeof(listen_arg), "%s", pr->socket);
		char *argv[] = { (char *)router_exe,
				 (char *)"--api-dir",
				 (char *)api_dir,
				 (char *)"--listen",
				 listen_arg,
				 (char *)"--ready-fd",
				 fd_str,
				 NULL };
		execv(router_exe, argv);
		fprintf(stderr, "ava-run: cannot run %s: %s\n", router_exe, strerror(errno));
		_exit(127);
	}
	pr->pid = pid;
	close(ready[1]);

	/* Wait for "ready\n"; EOF first means the router failed. */
	char buf[16];
	size_t got = 0;
	int64_t deadline = now_ms() + READY_TIMEOUT_MS;
	int ok = 0;
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd pfd = { .fd = ready[0], .events = POLLIN };
		int n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		ssize_t r = read(ready[0], buf + got, sizeof(buf) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "ready\n")) {
			ok = 1;
			break;
		}
		if (got == sizeof(buf) - 1)
			break;
	}
	close(ready[0]);
	if (ok)
		return 0;

	int status;
	char how[96] = "did not report ready";
	if (waitpid(pid, &status, WNOHANG) == pid) {
		describe_status(how, sizeof(how), status);
		pr->pid = 0;
	} else if (now_ms() >= deadline) {
		snprintf(how, sizeof(how), "not ready after %d s", READY_TIMEOUT_MS / 1000);
	}
	say("private router %s failed to start (%s)%s", router_exe, how,
	    g_verbose ? "" : "; its log:");
	if (!g_verbose)
		print_file(pr->log);
	return -1;
}

/* SIGTERMs the private router, waits for it (SIGKILL after a while), removes its folder. */
static void stop_private_router(struct private_router *pr)
{
	if (pr->pid > 0) {
		kill(pr->pid, SIGTERM);
		int64_t deadline = now_ms() + ROUTER_STOP_TIMEOUT_MS;
		int status = 0;
		pid_t r;
		while ((r = waitpid(pr->pid, &status, WNOHANG)) == 0 && now_ms() < deadline) {
			struct timespec ts = { 0, 20 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		if (r == 0) {
			say("private router did not stop; killing it");
			kill(pr->pid, SIGKILL);
			r = waitpid(pr->pid, &status, 0);
		}
		if (r == pr->pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			char how[96];
			describe_status(how, sizeof(how), status);
			say("private router ended with %s%s", how, g_verbose ? "" : "; its log:");
			if (!g_verbose)
				print_file(pr->log);
		}
		pr->pid = 0;
	}
	if (pr->dir[0]) {
		unlink(pr->socket);
		unlink(pr->log);
		if (rmdir(pr->dir) < 0)
			say("could not remove %s: %s", pr->dir, strerror(errno));
		pr->dir[0] = '\0';
	}
}

/* ---- signals ---- */

/*
 * SIGINT/SIGTERM sent to ava-run are passed on to the application. Signals
 * the terminal generates (SI_KERNEL) already reach the application, which
 * shares our process group, so they are not sent twice.
 */
static void on_signal(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	pid_t app = (pid_t)g_app_pid;
	if (app > 0 && !(si && si->si_code == SI_KERNEL))
		kill(app, sig);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "soname", no_argument, NULL, 's' },
		{ "preload", no_argument, NULL, 'p' },
		{ "icd", no_argument, NULL, 'i' },
		{ "allow-native", no_argument, NULL, 'n' },
		{ "router", required_argument, NULL, 'r' },
		{ "api-dir", required_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum route route = ROUTE_DEFAULT;
	int n_routes = 0, allow_native = 0;
	const char *router_opt = NULL;
	const char *api_dir_opt = NULL;
	int c;
	/* '+': stop at the first non-option, so the application's options stay its own. */
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			route = ROUTE_SONAME;
			n_routes++;
			break;
		case 'p':
			route = ROUTE_PRELOAD;
			n_routes++;
			break;
		case 'i':
			route = ROUTE_ICD;
			n_routes++;
			break;
		case 'n':
			allow_native = 1;
			break;
		case 'r':
			router_opt = optarg;
			break;
		case 'a':
			api_dir_opt = optarg;
			break;
		case 'v':
			g_verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (n_routes > 1) {
		say("--soname, --preload and --icd are different routes; give one");
		usage(stderr);
		return 2;
	}
	const char *env_route = getenv("AVA_RUN_ROUTE");
	if (n_routes == 0 && env_route && *env_route && route_parse(env_route, &route) < 0) {
		say("AVA_RUN_ROUTE=%s is no route (default, soname, preload, icd)", env_route);
		return 2;
	}
	if (optind >= argc) {
		say("no application given");
		usage(stderr);
		return 2;
	}
	char **app_argv = argv + optind;

	/* A program no route can catch is not run natively without a word. */
	char app_path[PATH_MAX], why[PATH_MAX + 256];
	if (find_app(app_argv[0], app_path) == 0 && uncatchable(app_path, why, sizeof(why), 0)) {
		say("cannot remote %s: %s; its API calls would run natively on this machine",
		    app_argv[0], why);
		if (!allow_native) {
			say("not started (--allow-native runs it anyway)");
			return 1;
		}
		say("running it natively (--allow-native)");
	}

	/* Where are we installed? */
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		say("cannot read /proc/self/exe: %s", strerror(errno));
		return 1;
	}
	self[n] = '\0';
	char bin[PATH_MAX];
	memcpy(bin, self, (size_t)n + 1);
	char *slash = strrchr(bin, '/');
	if (!slash) {
		say("unexpected executable path %s", self);
		return 1;
	}
	*slash = '\0';

	/* The build tree and a "lib" install have lib/; others their own libdir. */
	char guest_root[PATH_MAX], api_dir[PATH_MAX], router_exe[PATH_MAX], libdir[PATH_MAX];
	if (path_join(libdir, bin, AVA_INSTALL_LIBDIR "/ava") < 0)
		return 1;
	if (!is_dir(libdir) && path_join(libdir, bin, "../lib/ava") < 0)
		return 1;
	const char *env_guest = getenv("AVA_GUEST_DIR");
	if (env_guest && *env_guest)
		snprintf(guest_root, sizeof(guest_root), "%s", env_guest);
	else if (path_join(guest_root, libdir, "guest") < 0)
		return 1;
	canonicalize(guest_root);
	const char *env_api = getenv("AVA_API_DIR");
	if (api_dir_opt)
		snprintf(api_dir, sizeof(api_dir), "%s", api_dir_opt);
	else if (env_api && *env_api)
		snprintf(api_dir, sizeof(api_dir), "%s", env_api);
	else if (path_join(api_dir, libdir, "apis") < 0)
		return 1;
	canonicalize(api_dir);
	if (path_join(router_exe, bin, "avarouterd") < 0)
		return 1;

	/* Guest libraries, and the environment that puts them in front. */
	struct env_change env[3] = { { NULL, NULL } };
	size_t n_env = 0;
	if (route_env(route, bin, guest_root, app_argv[0], env, &n_env) < 0) {
		for (size_t i = 0; i < n_env; i++)
			free(env[i].value);
		return 1;
	}

	/* Router: given, system, or private. */
	struct private_router pr = { .pid = 0 };
	const char *env_router = getenv("AVA_ROUTER_SOCKET");
	const char *router_sock = NULL;
	if (router_opt)
		router_sock = router_opt;
	else if (env_router && *env_router)
		router_sock = env_router;
	else if (socket_answers(SYSTEM_ROUTER_SOCKET))
		router_sock = SYSTEM_ROUTER_SOCKET;
	if (router_sock) {
		if (g_verbose)
			say("using the router at %s", router_sock);
	} else {
		int n_abi = count_manifests(api_dir);
		if (n_abi < 0) {
			say("cannot open API folder %s: %s", api_dir, strerror(errno));
			goto fail;
		}
		if (n_abi == 0) {
			say("no API manifests in %s", api_dir);
			goto fail;
		}
		if (access(router_exe, X_OK) < 0) {
			say("no router at %s (%s), none running at %s, and no --router given",
			    router_exe, strerror(errno), SYSTEM_ROUTER_SOCKET);
			goto fail;
		}
		if (start_private_router(&pr, router_exe, api_dir) < 0) {
			goto fail;
		}
		router_sock = pr.socket;
		if (g_verbose)
			say("started a private router (pid %ld) on %s with APIs from %s",
			    (long)pr.pid, pr.socket, api_dir);
	}
	/* Signals are forwarded from before the fork, so none is lost in between. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	pid_t app = fork();
	if (app < 0) {
		say("fork: %s", strerror(errno));
		goto fail;
	}
	if (app == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		int bad = setenv("AVA_ROUTER_SOCKET", router_sock, 1) < 0;
		for (size_t i = 0; i < n_env && !bad; i++)
			bad = env[i].value ? setenv(env[i].name, env[i].value, 1) < 0
					   : unsetenv(env[i].name) < 0;
		if (bad) {
			fprintf(stderr, "ava-run: cannot set the environment: %s\n",
				strerror(errno));
			_exit(127);
		}
		execvp(app_argv[0], app_argv);
		fprintf(stderr, "ava-run: cannot run %s: %s\n", app_argv[0], strerror(errno));
		_exit(127);
	}
	g_app_pid = app;
	sigprocmask(SIG_SETMASK, &old, NULL);

	int status = 0;
	while (waitpid(app, &status, 0) < 0) {
		if (errno != EINTR) {
			say("waitpid: %s", strerror(errno));
			status = 1 << 8;
			break;
		}
	}
	g_app_pid = 0;
	for (size_t i = 0; i < n_env; i++)
		free(env[i].value);
	stop_private_router(&pr);

	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		say("%s killed by signal %d (%s)", app_argv[0], sig, strsignal(sig));
		return 128 + sig;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
fail:
	for (size_t i = 0; i < n_env; i++)
		free(env[i].value);
	stop_private_router(&pr);
	return 1;
}
