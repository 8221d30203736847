/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the policy parser (policies/policy.c). Each input is
 * a policy file. Beyond the sanitizers, the oracles check the contract of
 * include/ava/policy.h: a parse either succeeds with a policy and no text,
 * or fails with one "FILE:LINE:COL: error: " line per problem; an accepted
 * policy keeps every promise the router relies on (weights in range, the
 * default device present, placement naming devices that exist, every tenant
 * with a match condition, at most one of allow/deny), and its lookups and
 * ava_policy_check_apis run cleanly on it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ava/abi.h"
#include "ava/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORACLE(cond)                                                                              \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "%s:%d: oracle failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

/* A small served API for check_apis: avatest with two functions. */
static const struct ava_abi_fn fns[] = {
	{ .id = 0, .name = "avatest_null" },
	{ .id = 1, .name = "avatest_add_one" },
};
static const struct ava_abi_api avatest = { .name = "avatest", .n_fns = 2, .fns = fns };

static void check_errors(const char *errors, int n)
{
	const char *line = errors;
	int lines = 0;

	ORACLE(errors != NULL);
	while (*line) {
		const char *eol = strchr(line, '\n');
		unsigned l, c;
		int used = 0;

		ORACLE(eol != NULL);
		ORACLE(strncmp(line, "fuzz.yaml:", 10) == 0);
		ORACLE(sscanf(line + 10, "%u:%u: error: %n", &l, &c, &used) == 2 && used > 0);
		ORACLE(memchr(line, '\0', (size_t)(eol - line)) == NULL);
		lines++;
		line = eol + 1;
	}
	/* at most 1000 messages, then one line counting the rest */
	ORACLE(lines == (n > 1000 ? 1001 : n));
}

static void check_limits(const struct ava_policy *p, const struct ava_policy_limits *l)
{
	size_t i;

	ORACLE(l->weight >= 1 && l->weight <= AVA_POLICY_MAX_WEIGHT);
	ORACLE(l->call_rate.per_sec >= 1 && l->call_rate.burst >= 1);
	ORACLE(l->byte_rate.per_sec >= 1 && l->byte_rate.burst >= 1);
	ORACLE(l->call_rate.over == AVA_POLICY_OVER_DELAY ||
	       l->call_rate.over == AVA_POLICY_OVER_REFUSE);
	for (i = 0; i < l->n_apis; i++)
		ORACLE(l->apis[i] && l->apis[i][0]);
	for (i = 0; i < l->n_filters; i++) {
		const struct ava_policy_fn_filter *f = &l->filters[i];

		ORACLE(f->api != NULL);
		ORACLE(!(f->allow && f->deny));
		ORACLE(f->allow || f->deny);
		/* "not a function" can never be listed: it is no C identifier */
		if (f->allow)
			ORACLE(!ava_policy_fn_allowed(l, f->api, "not a function"));
		else
			ORACLE(ava_policy_fn_allowed(l, f->api, "not a function") ==
			       ava_policy_api_allowed(l, f->api));
		if (f->deny && f->n_deny)
			ORACLE(!ava_policy_fn_allowed(l, f->api, f->deny[0]));
		if (f->allow && f->n_allow)
			ORACLE(ava_policy_fn_allowed(l, f->api, f->allow[0]) ==
			       ava_policy_api_allowed(l, f->api));
	}
	for (i = 0; i < l->n_placements; i++) {
		const struct ava_policy_device *d =
		    ava_policy_placement(p, l, l->placements[i].api);

		ORACLE(d != NULL && strcmp(d->name, l->placements[i].device) == 0);
	}
	ORACLE(ava_policy_placement(p, l, "no_such_api") != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ava_policy *p = NULL;
	char *errors = NULL;
	const struct ava_abi_api *apis[] = { &avatest };
	int r = ava_policy_parse((const char *)data, size, "fuzz.yaml", &p, &errors);
	size_t i;
	int have_default = 0;

	if (r < 0)
		return 0; /* -ENOMEM under -malloc_limit_mb: allowed */
	if (r > 0) {
		ORACLE(p == NULL);
		check_errors(errors, r);
		free(errors);
		return 0;
	}
	ORACLE(p != NULL && errors == NULL);
	for (i = 0; i < p->n_devices; i++) {
		ORACLE(p->devices[i].name != NULL);
		ORACLE(p->devices[i].max_inflight >= 1 && p->devices[i].lease_ms >= 1);
		have_default |= strcmp(p->devices[i].name, AVA_POLICY_DEFAULT_DEVICE) == 0;
	}
	ORACLE(have_default);
	check_limits(p, &p->defaults);
	for (i = 0; i < p->n_tenants; i++) {
		const struct ava_policy_tenant *t = &p->tenants[i];
		const struct ava_policy_tenant *m;

		ORACLE(t->name != NULL);
		ORACLE(ava_policy_find_tenant(p, t->name) == t);
		ORACLE(t->match_socket || t->match_label || t->has_match_uid);
		check_limits(p, &t->limits);
		/*
		 * Every tenant is reachable (the parser refuses shadowed ones): a
		 * connection with its conditions, and values no policy can name for
		 * the rest (empty socket, no label, uid -1), matches it.
		 */
		m = ava_policy_match(p, t->match_socket ? t->match_socket : "", t->match_label,
				     t->has_match_uid ? t->match_uid : 4294967295u);
		ORACLE(m == t);
	}
	r = ava_policy_check_apis(p, apis, 1, &errors);
	if (r > 0) {
		check_errors(errors, r);
		free(errors);
	} else {
		ORACLE(r < 0 || errors == NULL);
	}
	ava_policy_free(p);
	return 0;
}
