/* SPDX-License-Identifier: MIT */
/*
 * A library's exit() or abort(): the server's last words (lastwords.h).
 *
 * exit: the server executable defines exit() and exports it (the link
 * option in apiserver/CMakeLists.txt), so a library loaded into the server
 * (the ICD loader's vendor library) that calls exit() binds to this one
 * first. A call from the server's own code is a plain exit. A library's is
 * logged (with the call it ended, if one runs); with no call running it is
 * a plain exit then, with one it ends the process with _exit(status): the
 * library gave up inside a call, with its own locks held and other calls
 * inside it, so its exit handlers and destructors may wait forever on the
 * state it left; what the server wrote is flushed first.
 *
 * abort: a SIGABRT handler (abort() raises it, assertions too) logs the same
 * (snprintf into a stack buffer and write(2): nothing that locks or
 * allocates), then dies of the signal as it would have.
 *
 * The call is this thread's (enter/leave around the invoke); a library that
 * exits from a thread of its own gets the call running most recently
 * entered, said so.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lastwords.h"
#include "server.h"

static _Thread_local const char *this_fn;
static _Thread_local uint32_t this_session;
static _Atomic(const char *) last_fn; /* the most recent enter, for other threads */
static atomic_uint n_running;

void ava_apiserver_lastwords_enter(const char *fn_name, uint32_t session_id)
{
	this_fn = fn_name;
	this_session = session_id;
	atomic_store(&last_fn, fn_name);
	atomic_fetch_add(&n_running, 1);
}

void ava_apiserver_lastwords_leave(void)
{
	this_fn = NULL;
	atomic_fetch_sub(&n_running, 1);
}

/*
 * "during clX (session N)" for this thread's call, "while clX ran (from a
 * thread of the library's)" for another's, or "" when none runs.
 */
static void describe_call(char *buf, size_t len)
{
	const char *other = atomic_load(&last_fn);

	if (this_fn)
		snprintf(buf, len, "during %s (session %u)", this_fn, this_session);
	else if (atomic_load(&n_running) > 0 && other)
		snprintf(buf, len, "while %s ran (from a thread of the library's)", other);
	else
		buf[0] = '\0';
}

/* Is addr code of the server executable itself (not of a library it loaded)? */
static bool is_server_code(const void *addr)
{
	Dl_info caller, self;

	if (!dladdr(addr, &caller) || !dladdr((const void *)is_server_code, &self))
		return true; /* unknown: a plain exit */
	return caller.dli_fbase == self.dli_fbase;
}

__attribute__((visibility("default"), noreturn)) void exit(int status)
{
	void (*real_exit)(int) = NULL;
	char what[160];

	if (!is_server_code(__builtin_return_address(0))) {
		describe_call(what, sizeof(what));
		ava_apiserver_log("the library called exit(%d)%s%s; the server ends with it",
				  status, what[0] ? " " : "", what);
		if (what[0]) {
			fflush(NULL);
			_exit(status);
		}
	}
	*(void **)&real_exit = dlsym(RTLD_NEXT, "exit");
	if (real_exit)
		real_exit(status);
	_exit(status);
}

static void on_abort(int sig)
{
	char what[160], line[384];

	describe_call(what, sizeof(what));
	if (what[0]) {
		const struct ava_server *srv = &ava_apiserver_server;
		int n = snprintf(line, sizeof(line),
				 "ava-server-%s[%d] tenant %s: the library called abort() %s; the "
				 "server ends with it\n",
				 srv->api->abi->name, (int)getpid(), srv->tenant, what);
		if (n > 0)
			(void)!write(2, line,
				     (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void ava_apiserver_lastwords_start(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_abort;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGABRT, &sa, NULL);
}
