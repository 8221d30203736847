/* SPDX-License-Identifier: MIT */
/*
 * Runs what avagen generates for dispatch.spec against stand-ins for the
 * runtimes and the real library (below):
 *  - guest (DISPATCH_GUEST): the proxies' dispatch table points each member
 *    named like an API function (deprecated too) or a guest export to it,
 *    leaves the rest NULL, and is what the API description hands the
 *    runtime;
 *  - server (DISPATCH_SERVER): an ava_resolve_via forwarder asks its own
 *    resolver with its name and its own address, until the resolver answers,
 *    then keeps the answer; without one it returns the type's unsupported
 *    error and writes it to the errcode argument; with one it passes the
 *    arguments and the result through.
 * The generated server's main() calls ava_apiserver_main, which here is the
 * server test; the guest test has a main of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"

static int failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                              \
		}                                                                                \
	} while (0)

#ifdef DISPATCH_GUEST
#include <ava/guestlib.h>

extern const struct disp_table disp_proxy_table;
extern const struct ava_guestlib_api ava_gen__dispatch__guest_api;

/* Stand-in for the guest runtime: the stubs are not called here. */
void ava_guestlib_call(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
		       void *ret)
{
	(void)api;
	(void)fn_id;
	(void)args;
	(void)ret;
}

/* The guest source's function (ava_guest_export). */
disp_err disp_hello(const char *who);
disp_err disp_hello(const char *who)
{
	(void)who;
	return DISP_OK;
}

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
int main(void)
{
	const struct disp_table *t = &disp_proxy_table;

	CHECK(t->disp_open == disp_open);
	CHECK(t->disp_close == disp_close);
	CHECK(t->disp_legacy == disp_legacy);
	CHECK(t->disp_hello == disp_hello);
	CHECK(t->disp_ext_create == disp_ext_create);
	CHECK(t->reserved == NULL);
	CHECK(t->disp_gone == NULL);
	CHECK(ava_gen__dispatch__guest_api.proxy_dispatch == (const void *)t);
	if (failures)
		return 1;
	printf("dispatch guest: table ok\n");
	return 0;
}
#endif

#ifdef DISPATCH_SERVER
#include <ava/apiserver.h>

/* ---- stand-ins for the real library: what the server links by name ---- */

disp_err disp_open(disp_obj *ret_obj)
{
	*ret_obj = (disp_obj)(uintptr_t)0x10;
	return DISP_OK;
}

disp_err disp_close(disp_obj obj)
{
	(void)obj;
	return DISP_OK;
}

disp_err disp_legacy(int x)
{
	(void)x;
	return DISP_OK;
}

/* ---- what the resolvers find: the library's extension functions ---- */

static int real_x;
static disp_obj real_poked;

static disp_obj real_ext_create(int x, disp_err *err)
{
	real_x = x;
	*err = DISP_OK;
	return (disp_obj)(uintptr_t)0x20;
}

static void real_ext_poke(disp_obj obj)
{
	real_poked = obj;
}

static disp_err real_ext_wait(disp_obj obj, unsigned long long timeout_ns)
{
	return obj == (disp_obj)(uintptr_t)0x20 && timeout_ns == 7 ? DISP_OK : DISP_ERR;
}

static struct {
	int calls, other_calls;
	int answer; /* 0: NULL, 1: the real function, 2: the forwarder itself */
	const char *name;
	void *self;
} lookup;

void *disp_lookup(const char *name, void *self);
void *disp_lookup(const char *name, void *self)
{
	lookup.calls++;
	lookup.name = name;
	lookup.self = self;
	if (lookup.answer == 0)
		return NULL;
	if (strcmp(name, "disp_ext_create") == 0)
		return (void *)real_ext_create;
	if (strcmp(name, "disp_ext_poke") == 0)
		return (void *)real_ext_poke;
	return NULL;
}

void *disp_lookup_other(const char *name, void *self);
void *disp_lookup_other(const char *name, void *self)
{
	lookup.other_calls++;
	return strcmp(name, "disp_ext_wait") == 0 && self == (void *)disp_ext_wait
		   ? (void *)real_ext_wait
		   : NULL;
}

int ava_apiserver_main(const struct ava_apiserver_api *api, int argc, char **argv)
{
	disp_err err = DISP_OK;
	disp_obj obj;

	(void)api;
	(void)argc;
	(void)argv;

	/* No library function yet: the unsupported error, also in *err. */
	obj = disp_ext_create(3, &err);
	CHECK(obj == NULL && err == DISP_UNSUPPORTED);
	CHECK(lookup.calls == 1 && strcmp(lookup.name, "disp_ext_create") == 0);
	CHECK(lookup.self == (void *)disp_ext_create);
	CHECK(disp_ext_create(3, NULL) == NULL); /* a NULL errcode is not written */
	CHECK(lookup.calls == 2);		 /* not found: asked again */

	/* Found: forwarded, and kept. */
	lookup.answer = 1;
	err = DISP_ERR;
	obj = disp_ext_create(5, &err);
	CHECK(obj == (disp_obj)(uintptr_t)0x20 && err == DISP_OK && real_x == 5);
	CHECK(lookup.calls == 3);
	obj = disp_ext_create(6, &err);
	CHECK(real_x == 6 && lookup.calls == 3);

	/* A void function, through the same resolver. */
	disp_ext_poke(obj);
	CHECK(real_poked == obj && lookup.calls == 4 && lookup.self == (void *)disp_ext_poke);

	/* Another resolver. */
	CHECK(disp_ext_wait(obj, 7) == DISP_OK && lookup.other_calls == 1);
	CHECK(disp_ext_wait(obj, 8) == DISP_ERR && lookup.other_calls == 1);
	if (failures)
		return 1;
	printf("dispatch server: forwarders ok\n");
	return 0;
}
#endif
