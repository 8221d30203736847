/* SPDX-License-Identifier: MIT */
/*
 * avarouterd's process shell: API manifests, listening sockets, signals and
 * the single-threaded epoll loop that drives every other module (guest.c,
 * backend.c, admin.c, and the periodic work of enforce.c). The top of the
 * module graph: nothing calls into this file (docs/router.md, "Modules").
 */
#include "router.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "admin-proto.h"
#include "admin.h"
#include "backend.h"
#include "clock.h"
#include "enforce.h"
#include "guest.h"
#include "listen.h"
#include "log.h"
#include "model.h"
#include "poller.h"
#include "relay.h"
#include "tenant.h"

#define TICK_MS	   1000
#define MAX_EVENTS 64

/* ---- API manifests ---- */

static int load_apis(struct ava_router *r, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "avarouterd: cannot open API directory %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	int ret = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len <= 4 || strcmp(de->d_name + len - 4, ".abi") != 0)
			continue;
		char path[PATH_MAX], server[PATH_MAX], err[512];
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		struct ava_abi_api *abi = NULL;
		if (ava_abi_load(path, &abi, err, sizeof(err)) < 0) {
			fprintf(stderr, "avarouterd: skipping API manifest %s: %s\n", path, err);
			continue;
		}
		size_t name_len = len - 4;
		if (strlen(abi->name) != name_len || memcmp(abi->name, de->d_name, name_len)) {
			fprintf(stderr,
				"avarouterd: skipping API manifest %s: it describes API '%s', not "
				"'%.*s'\n",
				path, abi->name, (int)name_len, de->d_name);
			ava_abi_api_free(abi);
			continue;
		}
		if (snprintf(server, sizeof(server), "%s/ava-server-%s", dir, abi->name) >=
		    (int)sizeof(server)) {
			ava_abi_api_free(abi);
			continue;
		}
		if (access(server, X_OK) < 0)
			fprintf(stderr,
				"avarouterd: warning: API %s has no executable server %s (%s); its "
				"sessions will fail\n",
				abi->name, server, strerror(errno));
		struct ava_router_api *apis = realloc(r->apis, (r->n_apis + 1) * sizeof(*apis));
		char *name = strdup(abi->name);
		char *server_path = strdup(server);
		if (!apis || !name || !server_path) {
			if (apis)
				r->apis = apis;
			free(name);
			free(server_path);
			ava_abi_api_free(abi);
			fprintf(stderr, "avarouterd: out of memory\n");
			ret = -1;
			break;
		}
		r->apis = apis;
		r->apis[r->n_apis].name = name;
		r->apis[r->n_apis].abi = abi;
		r->apis[r->n_apis].server_path = server_path;
		r->n_apis++;
		ava_log_line("avarouterd: API %s: %u functions, %u callbacks, ABI hash %016llx "
			     "(%s)",
			     abi->name, abi->n_fns, abi->n_callbacks, (unsigned long long)abi->hash,
			     path);
	}
	closedir(d);
	if (ret == 0 && r->n_apis == 0) {
		fprintf(stderr, "avarouterd: no API manifests (*.abi) in %s\n", dir);
		ret = -1;
	}
	return ret;
}

/* ---- listening sockets ---- */

static int open_listener(struct ava_router_listener *l)
{
	/* Tenancy comes from which socket (or the peer's uid), not from file permissions. */
	l->fd = ava_listen_unix(l->path, 0666);
	if (l->fd < 0)
		return -1;
	l->bound = 1;
	if (l->tenant)
		ava_log_line("avarouterd: listening on %s (tenant %s)", l->path, l->tenant);
	else
		ava_log_line("avarouterd: listening on %s (tenant uid:<peer uid>)", l->path);
	return 0;
}

static void close_listeners(struct ava_router *r)
{
	for (size_t i = 0; i < r->n_listeners; i++) {
		struct ava_router_listener *l = &r->listeners[i];
		if (l->fd >= 0) {
			ava_poller_del(r->epfd, l->fd);
			close(l->fd);
			l->fd = -1;
		}
		if (l->bound)
			unlink(l->path);
		l->bound = 0;
	}
}

/* ---- the loop ---- */

/* Returns 1 when a stop signal arrived. */
static int on_signal(struct ava_router *r)
{
	int stop = 0;
	struct signalfd_siginfo si;
	while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			ava_log_line("avarouterd: %s received; shutting down",
				     si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			stop = 1;
		} else if (si.ssi_signo == SIGHUP && !stop) {
			ava_log_line("avarouterd: SIGHUP received; reloading the policy");
			char *errors = NULL;
			int ret = ava_tenant_policy_reload(r, NULL, &errors);
			(void)ret; /* logged either way */
			free(errors);
		}
	}
	ava_backend_reap(r);
	return stop;
}

static void shutdown_all(struct ava_router *r)
{
	close_listeners(r);
	ava_admin_close(r);
	/* Best effort: tell each guest why, without waiting for slow readers. */
	struct ava_router_guest *next;
	for (struct ava_router_guest *g = r->guests; g; g = next) {
		next = g->next;
		if (g->state == AVA_GUEST_AWAIT_HELLO || g->state == AVA_GUEST_OPEN) {
			struct ava_router_server *s = g->server;
			if (s) {
				ava_map_del(&s->sessions, g->session);
				g->server = NULL;
			}
			ava_relay_end(r, g, AVA_STATUS_SERVER_GONE, "router shutting down", 0);
		}
	}
	ava_backend_stop_all(r);
	for (struct ava_router_guest *g = r->guests; g; g = next) {
		next = g->next;
		ava_conn_fini(&g->conn);
		free(g);
	}
	r->guests = NULL;
	ava_guest_collect(r);
}

/*
 * Accepts up to 16 connections. When accept fails for lack of fds the socket
 * stays readable, so it is taken out of the poll set until the next tick
 * instead of spinning.
 */
static void accept_some(struct ava_router *r, struct ava_router_listener *l)
{
	for (int k = 0; k < 16; k++) {
		int ret = ava_guest_accept(r, l);
		if (ret == -EAGAIN)
			return;
		if (ret < 0) {
			struct epoll_event ev = { .events = 0, .data.ptr = l };
			if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, l->fd, &ev) == 0)
				l->paused = 1;
			return;
		}
	}
}

static void resume_listeners(struct ava_router *r)
{
	for (size_t i = 0; i < r->n_listeners; i++) {
		struct ava_router_listener *l = &r->listeners[i];
		if (!l->paused || l->fd < 0)
			continue;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
		if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, l->fd, &ev) == 0)
			l->paused = 0;
	}
}

static int run(struct ava_router *r, int ready_fd)
{
	if (ready_fd >= 0) {
		ssize_t n = write(ready_fd, "ready\n", 6);
		if (n != 6)
			ava_log_line("avarouterd: writing to --ready-fd %d failed", ready_fd);
		close(ready_fd);
	}
	int64_t next_tick = ava_clock_now_ms() + TICK_MS;
	while (!r->stopping) {
		struct epoll_event events[MAX_EVENTS];
		int64_t wake = next_tick;
		if (r->enforce_wake_ms && r->enforce_wake_ms < wake)
			wake = r->enforce_wake_ms;
		int64_t wait_ms = wake - ava_clock_now_ms();
		int n = epoll_wait(r->epfd, events, MAX_EVENTS, wait_ms > 0 ? (int)wait_ms : 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ava_log_line("avarouterd: epoll_wait: %s", strerror(errno));
			return 1;
		}
		r->now_ms = ava_clock_now_ms();
		for (int i = 0; i < n; i++) {
			int type = *(int *)events[i].data.ptr;
			uint32_t ev = events[i].events;
			switch (type) {
			case AVA_ROUTER_EV_LISTENER:
				accept_some(r, events[i].data.ptr);
				break;
			case AVA_ROUTER_EV_GUEST:
				ava_guest_on_events(r, events[i].data.ptr, ev);
				break;
			case AVA_ROUTER_EV_SERVER:
				ava_backend_on_events(r, events[i].data.ptr, ev);
				break;
			case AVA_ROUTER_EV_SIGNAL:
				if (on_signal(r))
					r->stopping = 1;
				break;
			case AVA_ROUTER_EV_ADMIN_LISTENER:
			case AVA_ROUTER_EV_ADMIN:
				ava_admin_on_events(r, events[i].data.ptr, ev);
				break;
			default:
				break;
			}
		}
		if (r->enforce_wake_ms && r->now_ms >= r->enforce_wake_ms) {
			(void)ava_enforce_tick(r);
			ava_relay_forward_released(r);
		}
		if (r->resume_guests)
			ava_guest_resume(r);
		if (r->resume_servers)
			ava_backend_resume(r);
		if (r->now_ms >= next_tick) {
			resume_listeners(r);
			ava_guest_tick(r);
			ava_backend_tick(r);
			ava_admin_tick(r);
			next_tick = r->now_ms + TICK_MS;
		}
		ava_guest_collect(r);
		ava_backend_collect(r);
		ava_admin_collect(r);
	}
	return 0;
}

int ava_router_main(const struct ava_router_config *cfg)
{
	struct ava_router router;
	struct ava_router *r = &router;
	memset(r, 0, sizeof(*r));
	r->epfd = -1;
	r->sigfd = -1;
	r->verbose = cfg->verbose;
	r->api_dir = cfg->api_dir;
	r->next_session = 1;
	r->now_ms = ava_clock_now_ms();
	r->start_ms = r->now_ms;
	r->ev_signal = AVA_ROUTER_EV_SIGNAL;
	ava_map_init(&r->sessions);
	int ret = 1;

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		fprintf(stderr, "avarouterd: sigprocmask: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* One fd per guest and per server: allow as many as the hard limit does. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &nofile);
	}

	if (load_apis(r, cfg->api_dir) < 0)
		goto out;
	int pret = ava_tenant_policy_init(r, cfg->policy_path);
	if (pret != 0) {
		if (pret < 0)
			fprintf(stderr, "avarouterd: out of memory loading the policy\n");
		else
			ret = 2;
		goto out;
	}

	r->listeners = calloc(cfg->n_listen, sizeof(*r->listeners));
	if (!r->listeners) {
		fprintf(stderr, "avarouterd: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < cfg->n_listen; i++) {
		r->listeners[i].ev_type = AVA_ROUTER_EV_LISTENER;
		r->listeners[i].fd = -1;
		r->listeners[i].path = cfg->listen[i].path;
		r->listeners[i].tenant = cfg->listen[i].tenant;
	}
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->epfd < 0 || r->sigfd < 0) {
		fprintf(stderr, "avarouterd: epoll/signalfd: %s\n", strerror(errno));
		goto out;
	}
	if (ava_poller_add(r->epfd, r->sigfd, EPOLLIN, &r->ev_signal) < 0) {
		fprintf(stderr, "avarouterd: epoll: %s\n", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < cfg->n_listen; i++) {
		r->n_listeners = i + 1;
		if (open_listener(&r->listeners[i]) < 0)
			goto out;
		if (ava_poller_add(r->epfd, r->listeners[i].fd, EPOLLIN, &r->listeners[i]) < 0) {
			fprintf(stderr, "avarouterd: epoll: %s\n", strerror(errno));
			goto out;
		}
	}
	char admin_path[PATH_MAX];
	if (cfg->admin_path) {
		snprintf(admin_path, sizeof(admin_path), "%s", cfg->admin_path);
	} else {
		/* Beside the first listening socket: /run/ava/admin.sock by default. */
		const char *first = cfg->listen[0].path;
		const char *slash = strrchr(first, '/');
		int dir_len = slash ? (int)(slash - first) : 0;
		if (snprintf(admin_path, sizeof(admin_path), "%.*s%s%s", dir_len, first,
			     slash ? "/" : "", AVA_ADMIN_SOCKET_NAME) >= (int)sizeof(admin_path)) {
			fprintf(stderr, "avarouterd: admin socket path too long\n");
			goto out;
		}
	}
	if (ava_admin_open(r, admin_path) < 0)
		goto out;
	ret = run(r, cfg->ready_fd);
out:
	shutdown_all(r);
	if (r->epfd >= 0)
		ava_log_line("avarouterd: exiting with status %d", ret);
	ava_tenant_policy_fini(r);
	for (size_t i = 0; i < r->n_apis; i++) {
		free(r->apis[i].name);
		free(r->apis[i].server_path);
		ava_abi_api_free(r->apis[i].abi);
	}
	free(r->apis);
	free(r->listeners);
	ava_map_fini(&r->sessions);
	if (r->sigfd >= 0)
		close(r->sigfd);
	if (r->epfd >= 0)
		close(r->epfd);
	return ret;
}
