/* SPDX-License-Identifier: MIT */
/*
 * The API server runtime: executes one tenant's calls on the real library
 * (the modules and the lock order: server.h).
 *
 * The main thread only reads frames and hands them out: CALLs to workers
 * (through stream.c when an argument is streamed), CALLBACK_REPLYs to the
 * trampoline waiting for them, session open/close.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "callback.h"
#include "devtime.h"
#include "lastwords.h"
#include "output.h"
#include "server.h"
#include "session.h"
#include "stream.h"
#include "worker.h"

struct ava_server ava_apiserver_server = {
	.tenant = "?",
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

void ava_apiserver_log(const char *fmt, ...)
{
	const struct ava_server *srv = &ava_apiserver_server;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ava-server-%s[%d] tenant %s: %s\n", srv->api->abi->name, (int)getpid(),
		srv->tenant, line);
}

uint64_t ava_apiserver_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ava_apiserver_release_retained(void *obj, uint16_t type)
{
	if (obj)
		ava_apiserver_server.api->release[type](obj);
}

static int usage(FILE *f, int code)
{
	const char *name = ava_apiserver_server.api->abi->name;
	fprintf(f,
		"usage: ava-server-%s --fd N      serve the router on connected socket N\n"
		"       ava-server-%s --print-abi print the compiled-in ABI manifest\n"
		"API servers are started by avarouterd; see docs/router.md.\n",
		name, name);
	return code;
}

/* Reads frames until the router goes and hands each to its module. */
static void serve(ava_transport *router)
{
	for (;;) {
		struct ava_wire_header hdr;
		uint8_t *payload = NULL;
		const char *reason = NULL;
		int r = ava_transport_recv_frame(router, AVA_WIRE_MAX_PAYLOAD_BYTES, &hdr, &payload,
						 &reason);
		if (r == -EPIPE)
			break;
		if (r < 0) {
			ava_apiserver_log("bad frame from the router (%s); exiting",
					  reason ? reason : strerror(-r));
			break;
		}
		switch (hdr.kind) {
		case AVA_WIRE_SESSION_OPEN:
			free(payload);
			if (ava_apiserver_session_open(hdr.session) < 0)
				ava_apiserver_log("could not open session %u", hdr.session);
			break;
		case AVA_WIRE_SESSION_CLOSE:
			free(payload);
			ava_apiserver_stream_drop(hdr.session);
			ava_apiserver_session_close(hdr.session);
			break;
		case AVA_WIRE_CALL:
			if (hdr.flags & AVA_WIRE_F_STREAM)
				ava_apiserver_stream_begin(&hdr, payload);
			else
				ava_apiserver_worker_dispatch(&hdr, payload, NULL);
			break;
		case AVA_WIRE_CHUNK:
			ava_apiserver_stream_chunk(&hdr, payload);
			break;
		case AVA_WIRE_CALLBACK_REPLY:
			ava_apiserver_callback_complete(&hdr, payload);
			break;
		default:
			free(payload);
			ava_apiserver_log("unexpected %s frame from the router; ignored",
					  ava_wire_kind_name(hdr.kind));
			break;
		}
	}
}

int ava_apiserver_main(const struct ava_apiserver_api *api, int argc, char **argv)
{
	struct ava_server *srv = &ava_apiserver_server;
	int fd = -1;
	char err[256];

	srv->api = api;
	if (ava_abi_api_check(api->abi, err, sizeof(err)) < 0) {
		fprintf(stderr, "ava-server-%s: compiled-in ABI is inconsistent: %s\n",
			api->abi->name, err);
		return 70;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 0 || v > 65535) {
				fprintf(stderr, "ava-server-%s: --fd needs a descriptor number\n",
					api->abi->name);
				return 64;
			}
			fd = (int)v;
		} else if (strcmp(argv[i], "--print-abi") == 0) {
			return ava_abi_format(api->abi, api->spec_path, stdout) < 0 ? 1 : 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			return usage(stdout, 0);
		} else {
			fprintf(stderr, "ava-server-%s: unknown argument '%s'\n", api->abi->name,
				argv[i]);
			return usage(stderr, 64);
		}
	}
	if (fd < 0)
		return usage(stderr, 64);
	const char *tenant = getenv("AVA_TENANT");
	if (tenant && *tenant)
		srv->tenant = tenant;
	signal(SIGPIPE, SIG_IGN);
	ava_apiserver_lastwords_start();
	if (ava_transport_unix_from_fd(fd, &srv->router) < 0) {
		fprintf(stderr, "ava-server-%s: descriptor %d is not a usable socket\n",
			api->abi->name, fd);
		return 66;
	}
	int out_r = ava_apiserver_output_start(srv->router);
	if (out_r < 0)
		ava_apiserver_log("stdout stays the server's, not forwarded to guests: %s",
				  strerror(-out_r));
	if (ava_apiserver_devtime_start() < 0) {
		fprintf(stderr, "ava-server-%s: cannot start the completion thread\n",
			api->abi->name);
		return 71;
	}

	serve(srv->router);

	/* Router gone: nothing can reach the guests any more. */
	pthread_mutex_lock(&srv->lock);
	srv->router_gone = true;
	ava_apiserver_callback_wake_locked(0);
	pthread_mutex_unlock(&srv->lock);
	ava_apiserver_devtime_stop();
	return 0;
}
