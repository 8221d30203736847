/* SPDX-License-Identifier: MIT */
/*
 * Tenants and the operator policy (docs/router.md, "Policy"): loading the
 * policy at start, swapping it on reload (SIGHUP or `avactl policy reload`),
 * and what each tenant's entry means for the fast path: whether it may open
 * an API (api_allowed) and which functions it may not call (fn_denied), both
 * computed here once per tenant and policy, so a CALL costs one table
 * lookup.
 *
 * A reload is atomic: the new policy is parsed and checked against the
 * served APIs completely before anything changes; then every tenant is
 * re-applied from it by name and the old policy is freed. If re-applying
 * runs out of memory, the old policy stays (tenants re-applied from it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tenant.h"

#include "enforce.h"
#include "log.h"

const char *ava_tenant_matched(const struct ava_router_tenant *t)
{
	if (t->entry)
		return "policy";
	return t->refused_only ? "refused" : "default";
}

static void tenant_free_filters(struct ava_router *r, struct ava_router_tenant *t)
{
	if (t->fn_denied) {
		for (size_t i = 0; i < r->n_apis; i++)
			free(t->fn_denied[i]);
	}
	free(t->fn_denied);
	free(t->api_allowed);
	t->fn_denied = NULL;
	t->api_allowed = NULL;
}

int ava_tenant_apply(struct ava_router *r, struct ava_router_tenant *t)
{
	const struct ava_policy *p = r->policy;
	const struct ava_policy_tenant *entry = ava_policy_find_tenant(p, t->name);
	const struct ava_policy_limits *limits = entry ? &entry->limits : &p->defaults;
	size_t n = r->n_apis ? r->n_apis : 1;
	uint8_t *api_allowed = calloc(n, 1);
	uint8_t **fn_denied = calloc(n, sizeof(*fn_denied));
	if (!api_allowed || !fn_denied)
		goto oom;
	for (size_t i = 0; i < r->n_apis; i++) {
		const struct ava_router_api *api = &r->apis[i];
		api_allowed[i] = ava_policy_api_allowed(limits, api->name) ? 1 : 0;
		uint8_t *denied = NULL;
		for (uint32_t f = 0; f < api->abi->n_fns; f++) {
			if (ava_policy_fn_allowed(limits, api->name, api->abi->fns[f].name))
				continue;
			if (!denied) {
				denied = calloc(api->abi->n_fns, 1);
				if (!denied)
					goto oom;
				fn_denied[i] = denied;
			}
			denied[f] = 1;
		}
	}
	tenant_free_filters(r, t);
	t->entry = entry;
	t->limits = limits;
	t->api_allowed = api_allowed;
	t->fn_denied = fn_denied;
	return 0;
oom:
	if (fn_denied) {
		for (size_t i = 0; i < r->n_apis; i++)
			free(fn_denied[i]);
	}
	free(fn_denied);
	free(api_allowed);
	return -ENOMEM;
}

struct ava_router_tenant *ava_tenant_get(struct ava_router *r, const char *name)
{
	for (struct ava_router_tenant *t = r->tenants; t; t = t->next) {
		if (!strcmp(t->name, name))
			return t;
	}
	struct ava_router_tenant *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->servers = calloc(r->n_apis ? r->n_apis : 1, sizeof(*t->servers));
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (!t->servers || ava_tenant_apply(r, t) < 0) {
		free(t->servers);
		free(t);
		return NULL;
	}
	ava_enforce_tenant_init(r, t);
	t->next = r->tenants;
	r->tenants = t;
	return t;
}

/* Checks the names p uses against the served APIs. Returns as ava_policy_check_apis. */
static int check_apis(struct ava_router *r, const struct ava_policy *p, char **ret_errors)
{
	const struct ava_abi_api **apis = calloc(r->n_apis ? r->n_apis : 1, sizeof(*apis));
	if (!apis)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_apis; i++)
		apis[i] = r->apis[i].abi;
	int ret = ava_policy_check_apis(p, apis, r->n_apis, ret_errors);
	free(apis);
	return ret;
}

/* Parses and checks path (NULL: the built-in default). As ava_policy_load. */
static int load(struct ava_router *r, const char *path, struct ava_policy **ret_policy,
		char **ret_errors)
{
	*ret_policy = NULL;
	*ret_errors = NULL;
	if (!path)
		return ava_policy_default(ret_policy);
	struct ava_policy *p = NULL;
	int ret = ava_policy_load(path, &p, ret_errors);
	if (ret != 0)
		return ret;
	ret = check_apis(r, p, ret_errors);
	if (ret != 0) {
		ava_policy_free(p);
		return ret;
	}
	*ret_policy = p;
	return 0;
}

static void log_policy(struct ava_router *r, const char *what)
{
	const struct ava_policy *p = r->policy;
	ava_log_line("avarouterd: policy %s %s (generation %" PRIu64 "): %zu tenant entr%s, "
		     "%zu device%s, unknown tenants %s",
		     r->policy_path ? r->policy_path : "(built-in default)", what,
		     r->policy_generation, p->n_tenants, p->n_tenants == 1 ? "y" : "ies",
		     p->n_devices, p->n_devices == 1 ? "" : "s",
		     p->refuse_unknown ? "refused" : "get the defaults");
}

int ava_tenant_policy_init(struct ava_router *r, const char *path)
{
	char *errors = NULL;
	struct ava_policy *p = NULL;
	char *copy = path ? strdup(path) : NULL;
	if (path && !copy)
		return -ENOMEM;
	int ret = load(r, path, &p, &errors);
	if (ret != 0) {
		if (ret > 0 && errors)
			fputs(errors, stderr);
		if (ret > 0)
			fprintf(stderr, "avarouterd: %s: %d problem%s; not starting\n", path, ret,
				ret == 1 ? "" : "s");
		free(errors);
		free(copy);
		return ret;
	}
	r->policy = p;
	r->policy_path = copy;
	r->policy_generation = 1;
	if (ava_enforce_init(r) < 0)
		return -ENOMEM;
	log_policy(r, "loaded");
	return 0;
}

int ava_tenant_policy_reload(struct ava_router *r, const char *path, char **ret_errors)
{
	*ret_errors = NULL;
	const char *file = path ? path : r->policy_path;
	char *copy = file ? strdup(file) : NULL;
	if (file && !copy)
		return -ENOMEM;
	char *errors = NULL;
	struct ava_policy *p = NULL;
	int ret = load(r, file, &p, &errors);
	if (ret != 0) {
		free(copy);
		if (ret < 0) {
			free(errors);
			ava_log_line("avarouterd: policy reload from %s: out of memory; keeping "
				     "the current policy",
				     file ? file : "(built-in default)");
			return ret;
		}
		ava_log_line("avarouterd: policy reload from %s rejected (%d problem%s); "
			     "keeping %s (generation %" PRIu64 "):",
			     file, ret, ret == 1 ? "" : "s",
			     r->policy_path ? r->policy_path : "(built-in default)",
			     r->policy_generation);
		/* One log line per problem. */
		for (char *line = errors; line && *line;) {
			char *nl = strchr(line, '\n');
			int len = nl ? (int)(nl - line) : (int)strlen(line);
			ava_log_line("avarouterd:   %.*s", len, line);
			line = nl ? nl + 1 : line + len;
		}
		free(r->policy_error);
		r->policy_error = errors ? strdup(errors) : NULL;
		*ret_errors = errors;
		return ret;
	}

	struct ava_policy *old = r->policy;
	r->policy = p;
	for (struct ava_router_tenant *t = r->tenants; t; t = t->next) {
		if (ava_tenant_apply(r, t) == 0)
			continue;
		/* Back to the old policy for everyone; what was applied is re-applied. */
		r->policy = old;
		for (struct ava_router_tenant *u = r->tenants; u; u = u->next) {
			if (ava_tenant_apply(r, u) < 0) {
				/* The old tables are still in place for u; keep its pointers valid. */
				u->entry = ava_policy_find_tenant(old, u->name);
				u->limits = u->entry ? &u->entry->limits : &old->defaults;
			}
		}
		ava_policy_free(p);
		free(copy);
		ava_log_line("avarouterd: policy reload from %s: out of memory; keeping the "
			     "current policy",
			     file ? file : "(built-in default)");
		return -ENOMEM;
	}
	ava_policy_free(old);
	free(r->policy_path);
	r->policy_path = copy;
	r->policy_generation++;
	for (struct ava_router_tenant *t = r->tenants; t; t = t->next)
		ava_enforce_tenant_apply(r, t);
	if (ava_enforce_policy_applied(r) < 0)
		ava_log_line("avarouterd: out of memory setting up the devices of the new "
			     "policy; calls for them go unqueued");
	free(r->policy_error);
	r->policy_error = NULL;
	log_policy(r, "loaded");
	return 0;
}

void ava_tenant_policy_fini(struct ava_router *r)
{
	while (r->tenants) {
		struct ava_router_tenant *t = r->tenants;
		r->tenants = t->next;
		tenant_free_filters(r, t);
		ava_enforce_tenant_fini(r, t);
		free(t->servers);
		free(t);
	}
	if (r->policy)
		ava_enforce_fini(r);
	ava_policy_free(r->policy);
	r->policy = NULL;
	free(r->policy_path);
	r->policy_path = NULL;
	free(r->policy_error);
	r->policy_error = NULL;
}
