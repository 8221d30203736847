/* SPDX-License-Identifier: MIT */
/*
 * avarouterd --api-dir DIR [--listen PATH[=TENANT]]... [--admin PATH] [--policy FILE]
 *            [--ready-fd N] [--verbose]
 *
 * The host-side router: accepts guest channels, derives each one's tenant
 * from the channel, validates every frame in both directions and relays it
 * to the tenant's API server. docs/router.md describes it for operators.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h" /* AVA_ROUTER_MAX_TENANT_NAME */
#include "router.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: avarouterd --api-dir DIR [--listen PATH[=TENANT]]... [--admin PATH] "
		"[--policy FILE] [--ready-fd N] [--verbose]\n"
		"  --api-dir DIR       directory with <api>.abi manifests and ava-server-<api>\n"
		"  --listen PATH[=T]   Unix socket to listen on (repeatable; default %s);\n"
		"                      with =T every connection on it belongs to tenant T,\n"
		"                      else the tenant is uid:<peer uid>\n"
		"  --admin PATH        admin socket for avactl (mode 0600; default admin.sock\n"
		"                      in the folder of the first --listen socket)\n"
		"  --policy FILE       operator policy (YAML, policies/README.md); without it\n"
		"                      every tenant may use every API, with no limits.\n"
		"                      SIGHUP or `avactl policy reload` re-reads it\n"
		"  --ready-fd N        write \"ready\\n\" to fd N once listening, then close it\n"
		"  --verbose           log every frame\n",
		AVA_ROUTER_DEFAULT_SOCKET);
}

/* Tenant names go into logs and the server's environment: keep them plain. */
static int tenant_name_ok(const char *t)
{
	size_t len = strlen(t);
	if (len == 0 || len > AVA_ROUTER_MAX_TENANT_NAME)
		return 0;
	for (const char *p = t; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == ':' || c == '@'))
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-dir", required_argument, NULL, 'a' },
		{ "listen", required_argument, NULL, 'l' },
		{ "admin", required_argument, NULL, 'A' },
		{ "policy", required_argument, NULL, 'p' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ava_router_config cfg = { .ready_fd = -1 };
	struct ava_router_listen *listen = calloc((size_t)argc + 1, sizeof(*listen));
	if (!listen) {
		fprintf(stderr, "avarouterd: out of memory\n");
		return 1;
	}
	cfg.listen = listen;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			cfg.api_dir = optarg;
			break;
		case 'l': {
			char *eq = strchr(optarg, '=');
			if (eq) {
				*eq = '\0';
				if (!tenant_name_ok(eq + 1)) {
					fprintf(stderr,
						"avarouterd: bad tenant name '%s' (1-%d characters "
						"from A-Z a-z 0-9 . _ - : @)\n",
						eq + 1, AVA_ROUTER_MAX_TENANT_NAME);
					return 2;
				}
				listen[cfg.n_listen].tenant = eq + 1;
			}
			if (optarg[0] == '\0') {
				fprintf(stderr, "avarouterd: --listen needs a path\n");
				return 2;
			}
			for (size_t i = 0; i < cfg.n_listen; i++) {
				if (!strcmp(listen[i].path, optarg)) {
					fprintf(stderr, "avarouterd: %s given twice\n", optarg);
					return 2;
				}
			}
			listen[cfg.n_listen++].path = optarg;
			break;
		}
		case 'r': {
			char *end;
			errno = 0;
			long fd = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || fd < 0 || fd > 1 << 20 ||
			    fcntl((int)fd, F_GETFD) < 0) {
				fprintf(stderr, "avarouterd: --ready-fd %s is not an open fd\n",
					optarg);
				return 2;
			}
			cfg.ready_fd = (int)fd;
			break;
		}
		case 'A':
			if (optarg[0] == '\0') {
				fprintf(stderr, "avarouterd: --admin needs a path\n");
				return 2;
			}
			cfg.admin_path = optarg;
			break;
		case 'p':
			if (optarg[0] == '\0') {
				fprintf(stderr, "avarouterd: --policy needs a file\n");
				return 2;
			}
			cfg.policy_path = optarg;
			break;
		case 'v':
			cfg.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "avarouterd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!cfg.api_dir) {
		fprintf(stderr, "avarouterd: --api-dir is required\n");
		usage(stderr);
		return 2;
	}
	if (cfg.n_listen == 0)
		listen[cfg.n_listen++].path = (char *)AVA_ROUTER_DEFAULT_SOCKET;
	int ret = ava_router_main(&cfg);
	free(listen);
	return ret;
}
