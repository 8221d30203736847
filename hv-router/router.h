/* SPDX-License-Identifier: MIT */
/* avarouterd's entry: its configuration, from the command line (main.c) to the event loop (router.c). */
#ifndef AVA_ROUTER_ROUTER_H
#define AVA_ROUTER_ROUTER_H

#include <stddef.h>

#define AVA_ROUTER_DEFAULT_SOCKET "/run/ava/router.sock"

struct ava_router_listen {
	char *path;
	char *tenant; /* NULL: uid:<peer uid> */
};

struct ava_router_config {
	const char *api_dir;
	struct ava_router_listen *listen;
	size_t n_listen;
	const char *admin_path;	 /* NULL: admin.sock beside the first listen socket */
	const char *policy_path; /* NULL: the built-in default policy */
	int ready_fd;		 /* -1: none */
	int verbose;
};

/* Runs the router until SIGTERM/SIGINT. Returns the process exit code (2: bad policy). */
int ava_router_main(const struct ava_router_config *cfg);

#endif /* AVA_ROUTER_ROUTER_H */
