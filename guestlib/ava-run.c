/* SPDX-License-Identifier: MIT */
/*
 * ava-run [--preload | --icd] [--router SOCKET] [--api-dir DIR] [--verbose] [--] APP [ARGS...]
 *
 * Runs one unmodified application with its accelerator API calls remoted:
 * puts the generated guest libraries in front of the real ones (soname
 * replacement through LD_LIBRARY_PATH, or LD_PRELOAD with --preload), points
 * them at a router, and, when no router is given or running, starts a
 * private one for the lifetime of the application (the "embedded default").
 * With --icd the application keeps the system's OpenCL ICD loader, which is
 * pointed (OCL_ICD_VENDORS) at a vendors folder naming only the guest library.
 *
 * Layout, relative to this executable (build tree and install alike):
 *   <bin>/avarouterd              the router started privately
 *   <bin>/../lib/ava/guest/<api>/ guest libraries (AVA_GUEST_DIR overrides the parent)
 *   <bin>/../lib/ava/apis/        API servers and manifests (AVA_API_DIR, --api-dir)
 *   <bin>/../etc/OpenCL/vendors/  (build tree) or <bin>/../share/ava/OpenCL/vendors/
 *                                 (installed): the vendors folder for --icd
 *                                 (AVA_ICD_VENDORS overrides)
 */
#define _GNU_SOURCE /* setenv, pipe2, SI_KERNEL */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
	    "usage: ava-run [--preload | --icd] [--router SOCKET] [--api-dir DIR] [--verbose] [--] "
	    "APP [ARGS...]\n"
	    "  --preload        LD_PRELOAD the guest libraries instead of putting them first\n"
	    "                   on LD_LIBRARY_PATH (soname replacement)\n"
	    "  --icd            keep the system OpenCL loader; point it (OCL_ICD_VENDORS) at a\n"
	    "                   vendors folder holding only the AvA ICD ($AVA_ICD_VENDORS, else\n"
	    "                   <bin>/../etc/OpenCL/vendors, else "
	    "<bin>/../share/ava/OpenCL/vendors)\n"
	    "  --router SOCKET  use the router at SOCKET (default: $AVA_ROUTER_SOCKET, else\n"
	    "                   %s if a router answers there, else a private router)\n"
	    "  --api-dir DIR    API servers and manifests for a private router\n"
	    "                   (default: $AVA_API_DIR, else <bin>/../lib/ava/apis)\n"
	    "  --verbose        say what is set up; show the private router's log\n"
	    "Guest libraries: $AVA_GUEST_DIR, else <bin>/../lib/ava/guest (one folder per API).\n",
	    SYSTEM_ROUTER_SOCKET);
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
		{ "preload", no_argument, NULL, 'p' },
		{ "icd", no_argument, NULL, 'i' },
		{ "router", required_argument, NULL, 'r' },
		{ "api-dir", required_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int preload = 0, icd = 0;
	const char *router_opt = NULL;
	const char *api_dir_opt = NULL;
	int c;
	/* '+': stop at the first non-option, so the application's options stay its own. */
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			preload = 1;
			break;
		case 'i':
			icd = 1;
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
	if (preload && icd) {
		say("--preload and --icd are two different routes; give one");
		usage(stderr);
		return 2;
	}
	if (optind >= argc) {
		say("no application given");
		usage(stderr);
		return 2;
	}
	char **app_argv = argv + optind;

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

	char guest_root[PATH_MAX], api_dir[PATH_MAX], router_exe[PATH_MAX];
	const char *env_guest = getenv("AVA_GUEST_DIR");
	if (env_guest && *env_guest)
		snprintf(guest_root, sizeof(guest_root), "%s", env_guest);
	else if (path_join(guest_root, bin, "../lib/ava/guest") < 0)
		return 1;
	canonicalize(guest_root);
	const char *env_api = getenv("AVA_API_DIR");
	if (api_dir_opt)
		snprintf(api_dir, sizeof(api_dir), "%s", api_dir_opt);
	else if (env_api && *env_api)
		snprintf(api_dir, sizeof(api_dir), "%s", env_api);
	else if (path_join(api_dir, bin, "../lib/ava/apis") < 0)
		return 1;
	canonicalize(api_dir);
	if (path_join(router_exe, bin, "avarouterd") < 0)
		return 1;

	/* Guest libraries. */
	struct strlist dirs = { 0 }, libs = { 0 };
	if (find_guest_libs(guest_root, &dirs, &libs) < 0)
		return 1;
	if (dirs.n == 0) {
		say("no guest libraries in %s (expected one folder per API)", guest_root);
		return 1;
	}
	/*
	 * Only the application gets the guest libraries: the private router's API
	 * servers must load the real vendor library, so nothing is set here in
	 * ava-run's own environment (which the router inherits).
	 */
	const char *lib_var = preload ? "LD_PRELOAD" : "LD_LIBRARY_PATH";
	if (preload && libs.n == 0) {
		say("no libava-guest-*.so to preload in the folders under %s", guest_root);
		return 1;
	}
	char *lib_value = NULL;
	if (icd) {
		/* The loader finds the guest library through the vendors folder. */
		char vendors[PATH_MAX];
		const char *env_vendors = getenv("AVA_ICD_VENDORS");
		lib_var = "OCL_ICD_VENDORS";
		if (env_vendors && *env_vendors) {
			snprintf(vendors, sizeof(vendors), "%s", env_vendors);
		} else {
			if (path_join(vendors, bin, "../etc/OpenCL/vendors") < 0)
				return 1;
			if (!is_dir(vendors) &&
			    path_join(vendors, bin, "../share/ava/OpenCL/vendors") < 0)
				return 1;
		}
		canonicalize(vendors);
		if (!is_dir(vendors)) {
			say("no ICD vendors folder at %s (build the OpenCL guest library, or set "
			    "AVA_ICD_VENDORS)",
			    vendors);
			return 1;
		}
		lib_value = strdup(vendors);
	} else {
		lib_value = strlist_join(preload ? &libs : &dirs, ':', getenv(lib_var));
	}
	if (!lib_value) {
		say("out of memory");
		return 1;
	}
	if (g_verbose)
		say("%s=%s", lib_var, lib_value);
	strlist_free(&dirs);
	strlist_free(&libs);

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
		if (setenv(lib_var, lib_value, 1) < 0 ||
		    setenv("AVA_ROUTER_SOCKET", router_sock, 1) < 0) {
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
	free(lib_value);
	stop_private_router(&pr);

	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		say("%s killed by signal %d (%s)", app_argv[0], sig, strsignal(sig));
		return 128 + sig;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
fail:
	free(lib_value);
	stop_private_router(&pr);
	return 1;
}
