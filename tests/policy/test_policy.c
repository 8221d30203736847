/* SPDX-License-Identifier: MIT */
/*
 * Tests of the policy parser (policies/policy.c) and its lookups:
 *  - every example in policies/examples parses;
 *  - the values of policies/examples/reference.yaml, inheritance from
 *    defaults, units, match order, function filters and placement;
 *  - every bad fixture in tests/policy/bad reports exactly the problems its
 *    "# expect: LINE:COL: substring" lines name, and nothing else;
 *  - size limits, unreadable files, the message cap;
 *  - ava_policy_check_apis against spec/avatest.abi.
 *
 * Usage: test_policy EXAMPLES_DIR BAD_DIR AVATEST_ABI
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ava/abi.h"
#include "ava/policy.h"

static int failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                              \
		}                                                                                \
	} while (0)

static const char *examples_dir, *bad_dir, *avatest_abi;

/* Parses text that must be good; NULL (and a failure) if it is not. */
static struct ava_policy *parse_ok(const char *text)
{
	struct ava_policy *p = NULL;
	char *errors = NULL;
	int r = ava_policy_parse(text, strlen(text), "inline.yaml", &p, &errors);

	if (r != 0) {
		fprintf(stderr, "unexpected problems (%d) in:\n%s\n%s", r, text,
			errors ? errors : "");
		failures++;
	}
	free(errors);
	return p;
}

/* Parses text that must be bad; returns the problem count, *ret_errors the text. */
static int parse_bad(const char *text, char **ret_errors)
{
	struct ava_policy *p = NULL;
	int r = ava_policy_parse(text, strlen(text), "inline.yaml", &p, ret_errors);

	CHECK(p == NULL);
	CHECK(r > 0);
	CHECK(*ret_errors != NULL);
	ava_policy_free(p);
	return r;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* The .yaml files of a directory, sorted; returns how many (names malloc'd). */
static size_t list_yaml(const char *dir, char ***ret_names)
{
	struct dirent **ents = NULL;
	char **names;
	int n = scandir(dir, &ents, NULL, alphasort), i;
	size_t count = 0;

	if (n < 0) {
		fprintf(stderr, "cannot list %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	names = calloc((size_t)n + 1, sizeof(*names));
	if (!names)
		exit(1);
	for (i = 0; i < n; i++) {
		if (has_suffix(ents[i]->d_name, ".yaml") &&
		    asprintf(&names[count], "%s/%s", dir, ents[i]->d_name) >= 0)
			count++;
		free(ents[i]);
	}
	free(ents);
	*ret_names = names;
	return count;
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void test_examples_parse(void)
{
	char **names;
	size_t n = list_yaml(examples_dir, &names), i;

	CHECK(n >= 7);
	for (i = 0; i < n; i++) {
		struct ava_policy *p = NULL;
		char *errors = NULL;
		int r = ava_policy_load(names[i], &p, &errors);

		if (r != 0)
			fprintf(stderr, "%s: %d problems:\n%s", names[i], r, errors ? errors : "");
		CHECK(r == 0);
		CHECK(p != NULL);
		CHECK(errors == NULL);
		free(errors);
		ava_policy_free(p);
	}
	free_names(names, n);
}

static const struct ava_policy_device *device(const struct ava_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_devices; i++) {
		if (strcmp(p->devices[i].name, name) == 0)
			return &p->devices[i];
	}
	return NULL;
}

static void test_reference(void)
{
	char path[4096];
	struct ava_policy *p = NULL;
	char *errors = NULL;
	const struct ava_policy_tenant *alice, *bob, *vm;
	const struct ava_policy_limits *d;
	int r;

	snprintf(path, sizeof(path), "%s/reference.yaml", examples_dir);
	r = ava_policy_load(path, &p, &errors);
	CHECK(r == 0);
	free(errors);
	if (r != 0)
		return;
	CHECK(strcmp(p->file_name, path) == 0);
	CHECK(p->refuse_unknown == 0);

	/* defaults */
	d = &p->defaults;
	CHECK(d->weight == 2);
	CHECK(d->memory_quota == 4ull << 30);
	CHECK(d->max_objects == 5000);
	CHECK(d->call_rate.per_sec == 1000 && d->call_rate.burst == 200 &&
	      d->call_rate.over == AVA_POLICY_OVER_DELAY);
	CHECK(d->byte_rate.per_sec == 200ull << 20 && d->byte_rate.burst == 64ull << 20 &&
	      d->byte_rate.over == AVA_POLICY_OVER_REFUSE);
	CHECK(d->n_apis == 2 && strcmp(d->apis[0], "opencl") == 0 &&
	      strcmp(d->apis[1], "avatest") == 0);
	CHECK(d->apis_pos[1].line == 12 && d->apis_pos[1].col == 18);
	CHECK(d->n_filters == 1 && strcmp(d->filters[0].api, "opencl") == 0 &&
	      d->filters[0].allow == NULL && d->filters[0].n_deny == 1 &&
	      strcmp(d->filters[0].deny[0], "clCreateProgramWithBinary") == 0);
	CHECK(d->filters[0].pos.line == 14 && d->filters[0].pos.col == 5);
	CHECK(d->n_placements == 1 && strcmp(d->placements[0].api, "avatest") == 0 &&
	      strcmp(d->placements[0].device, "cpu") == 0);

	/* devices: the two given, then the built-in default */
	CHECK(p->n_devices == 3);
	CHECK(device(p, "pocl0") && device(p, "pocl0")->max_inflight == 1 &&
	      device(p, "pocl0")->lease_ms == 100 && device(p, "pocl0")->pos.line == 18);
	CHECK(device(p, "cpu") && device(p, "cpu")->max_inflight == 4 &&
	      device(p, "cpu")->lease_ms == 250 && device(p, "cpu")->idle_us == 0);
	CHECK(device(p, "pocl0")->idle_us == 2000);
	CHECK(device(p, "default") && device(p, "default")->max_inflight == 1 &&
	      device(p, "default")->lease_ms == 100 && device(p, "default")->pos.line == 0 &&
	      device(p, "default")->idle_us == 2000);

	/* tenants, in file order */
	CHECK(p->n_tenants == 3);
	alice = ava_policy_find_tenant(p, "alice");
	bob = ava_policy_find_tenant(p, "bob");
	vm = ava_policy_find_tenant(p, "vm-17");
	CHECK(alice == &p->tenants[0] && bob == &p->tenants[1] && vm == &p->tenants[2]);
	CHECK(ava_policy_find_tenant(p, "carol") == NULL);
	if (!alice || !bob || !vm)
		goto out;
	CHECK(alice->pos.line == 26 && alice->pos.col == 5);
	CHECK(strcmp(alice->match_socket, "/run/ava/alice.sock") == 0 && !alice->match_label &&
	      !alice->has_match_uid);
	CHECK(alice->limits.weight == 3 && alice->limits.memory_quota == 2ull << 30);
	/* inherited from defaults */
	CHECK(alice->limits.max_objects == 5000 && alice->limits.call_rate.per_sec == 1000 &&
	      alice->limits.n_apis == 2 && alice->limits.n_placements == 1);
	CHECK(alice->limits.n_filters == 1 && alice->limits.filters[0].n_deny == 2);

	CHECK(strcmp(bob->match_socket, "/run/ava/bob.sock") == 0 && bob->has_match_uid &&
	      bob->match_uid == 1001);
	CHECK(bob->limits.weight == 2); /* inherited */
	CHECK(bob->limits.max_objects == AVA_POLICY_UNLIMITED);
	CHECK(bob->limits.memory_quota == 1500000000ull);
	CHECK(bob->limits.call_rate.per_sec == 50 && bob->limits.call_rate.burst == 50 &&
	      bob->limits.call_rate.over == AVA_POLICY_OVER_DELAY);
	CHECK(bob->limits.byte_rate.per_sec == 200ull << 20); /* inherited */
	CHECK(bob->limits.n_apis == 1 && strcmp(bob->limits.apis[0], "avatest") == 0);
	CHECK(bob->limits.n_filters == 1 && bob->limits.filters[0].n_allow == 2 &&
	      bob->limits.filters[0].deny == NULL);

	CHECK(strcmp(vm->match_label, "vm-17") == 0 && !vm->match_socket && !vm->has_match_uid);
	CHECK(vm->limits.byte_rate.per_sec == AVA_POLICY_UNLIMITED &&
	      vm->limits.byte_rate.burst == AVA_POLICY_UNLIMITED);
	CHECK(vm->limits.weight == 2 && vm->limits.memory_quota == 4ull << 30);
	/* servers: per-application unless a tenant asks to share */
	CHECK(d->servers == AVA_POLICY_SERVERS_PER_APPLICATION);
	CHECK(alice->limits.servers == AVA_POLICY_SERVERS_PER_APPLICATION);
	CHECK(vm->limits.servers == AVA_POLICY_SERVERS_SHARED);

	/* lookups */
	CHECK(ava_policy_api_allowed(&alice->limits, "opencl"));
	CHECK(!ava_policy_api_allowed(&bob->limits, "opencl"));
	CHECK(ava_policy_api_allowed(&bob->limits, "avatest"));
	CHECK(!ava_policy_api_allowed(&alice->limits, "cuda"));
	CHECK(!ava_policy_fn_allowed(&alice->limits, "opencl", "clLinkProgram"));
	CHECK(!ava_policy_fn_allowed(&alice->limits, "opencl", "clCreateProgramWithBinary"));
	CHECK(ava_policy_fn_allowed(&alice->limits, "opencl", "clFinish"));
	CHECK(ava_policy_fn_allowed(&alice->limits, "avatest", "avatest_scale"));
	CHECK(ava_policy_fn_allowed(&bob->limits, "avatest", "avatest_null"));
	CHECK(!ava_policy_fn_allowed(&bob->limits, "avatest", "avatest_scale"));
	CHECK(!ava_policy_fn_allowed(&bob->limits, "opencl", "clFinish"));
	CHECK(!ava_policy_fn_allowed(&vm->limits, "opencl", "clCreateProgramWithBinary"));
	CHECK(ava_policy_fn_allowed(&vm->limits, "opencl", "clLinkProgram"));

	CHECK(strcmp(ava_policy_placement(p, &alice->limits, "opencl")->name, "pocl0") == 0);
	/* alice's own placement replaces the defaults' (avatest: cpu) */
	CHECK(strcmp(ava_policy_placement(p, &alice->limits, "avatest")->name, "default") == 0);
	CHECK(strcmp(ava_policy_placement(p, &bob->limits, "avatest")->name, "cpu") == 0);
	CHECK(strcmp(ava_policy_placement(p, &bob->limits, "opencl")->name, "default") == 0);

	/* match: first tenant in file order whose every condition holds */
	CHECK(ava_policy_match(p, "/run/ava/alice.sock", NULL, 5) == alice);
	CHECK(ava_policy_match(p, "/run/ava/alice.sock", "vm-17", 5) == alice);
	CHECK(ava_policy_match(p, "/run/ava/bob.sock", NULL, 1001) == bob);
	CHECK(ava_policy_match(p, "/run/ava/bob.sock", NULL, 1000) == NULL);
	CHECK(ava_policy_match(p, "/run/ava/bob.sock", "vm-17", 1000) == vm);
	CHECK(ava_policy_match(p, "/run/ava/other.sock", "vm-17", 0) == vm);
	CHECK(ava_policy_match(p, "/run/ava/other.sock", "vm-18", 0) == NULL);
	CHECK(ava_policy_match(p, NULL, NULL, 0) == NULL);
out:
	ava_policy_free(p);
}

static void test_inheritance(void)
{
	struct ava_policy *p = parse_ok("version: 1\n"
					"defaults:\n"
					"  action: refuse\n"
					"  weight: 7\n"
					"  max_objects: 10\n"
					"  call_rate: { rate: 100/s, over: refuse }\n"
					"  apis: [opencl]\n"
					"  functions: { opencl: { allow: [clFinish] } }\n"
					"tenants:\n"
					"  - name: a\n"
					"    match: { uid: 1 }\n"
					"  - name: b\n"
					"    match: { uid: 2 }\n"
					"    weight: 1\n"
					"    call_rate: 5/s\n"
					"    apis: []\n"
					"    functions: {}\n");
	const struct ava_policy_tenant *a, *b;

	if (!p)
		return;
	CHECK(p->refuse_unknown == 1);
	a = ava_policy_find_tenant(p, "a");
	b = ava_policy_find_tenant(p, "b");
	CHECK(a && b);
	if (!a || !b)
		goto out;
	CHECK(a->limits.weight == 7 && a->limits.max_objects == 10);
	CHECK(a->limits.memory_quota == AVA_POLICY_UNLIMITED); /* built-in default */
	CHECK(a->limits.call_rate.per_sec == 100 && a->limits.call_rate.burst == 100 &&
	      a->limits.call_rate.over == AVA_POLICY_OVER_REFUSE);
	CHECK(a->limits.byte_rate.per_sec == AVA_POLICY_UNLIMITED);
	CHECK(ava_policy_fn_allowed(&a->limits, "opencl", "clFinish"));
	CHECK(!ava_policy_fn_allowed(&a->limits, "opencl", "clFlush"));
	CHECK(b->limits.weight == 1 && b->limits.max_objects == 10);
	/* a rate given replaces the defaults' whole: over is delay again */
	CHECK(b->limits.call_rate.per_sec == 5 &&
	      b->limits.call_rate.over == AVA_POLICY_OVER_DELAY);
	/* apis: [] allows no API at all */
	CHECK(b->limits.apis != NULL && b->limits.n_apis == 0);
	CHECK(!ava_policy_api_allowed(&b->limits, "opencl"));
	CHECK(!ava_policy_fn_allowed(&b->limits, "opencl", "clFinish"));
	CHECK(b->limits.n_filters == 0);
out:
	ava_policy_free(p);
}

/* servers: inherited from defaults like every limit, and overridden per tenant. */
static void test_servers(void)
{
	struct ava_policy *p = parse_ok("version: 1\n"
					"defaults:\n"
					"  servers: shared\n"
					"tenants:\n"
					"  - name: a\n"
					"    match: { uid: 1 }\n"
					"  - name: b\n"
					"    match: { uid: 2 }\n"
					"    servers: per-application\n");
	const struct ava_policy_tenant *a, *b;

	if (!p)
		return;
	a = ava_policy_find_tenant(p, "a");
	b = ava_policy_find_tenant(p, "b");
	CHECK(p->defaults.servers == AVA_POLICY_SERVERS_SHARED);
	CHECK(a && a->limits.servers == AVA_POLICY_SERVERS_SHARED);
	CHECK(b && b->limits.servers == AVA_POLICY_SERVERS_PER_APPLICATION);
	ava_policy_free(p);
}

static void test_units(void)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} sizes[] = {
		{ "0", 0 },
		{ "5", 5 },
		{ "5B", 5 },
		{ "1KB", 1000 },
		{ "1KiB", 1024 },
		{ "3 MiB", 3ull << 20 },
		{ "3MB", 3000000 },
		{ "2GiB", 2ull << 30 },
		{ "2GB", 2000000000ull },
		{ "1TiB", 1ull << 40 },
		{ "1TB", 1000000000000ull },
		{ "16777215TiB", 16777215ull << 40 },
		{ "18446744073709551614", UINT64_MAX - 1 },
		{ "unlimited", AVA_POLICY_UNLIMITED },
	};
	static const char *const bad_sizes[] = {
		"",    "-1",	 "1.0GiB", "1 GiB/s", "1gib", "16777216TiB", "18446744073709551615",
		"GiB", "1  GiB", "0x10",   "1e9",     "1Gi",  "\"\"",	     "[1]",
	};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct ava_policy *p;

		snprintf(text, sizeof(text), "version: 1\ndefaults: { memory_quota: %s }\n",
			 sizes[i].text);
		p = parse_ok(text);
		if (!p)
			continue;
		if (p->defaults.memory_quota != sizes[i].bytes)
			fprintf(stderr, "size %s: got %llu\n", sizes[i].text,
				(unsigned long long)p->defaults.memory_quota);
		CHECK(p->defaults.memory_quota == sizes[i].bytes);
		ava_policy_free(p);
	}
	for (i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		char *errors = NULL;

		snprintf(text, sizeof(text), "version: 1\ndefaults: { memory_quota: %s }\n",
			 bad_sizes[i]);
		CHECK(parse_bad(text, &errors) == 1);
		CHECK(errors && strstr(errors, "inline.yaml:2:") &&
		      strstr(errors, "defaults.memory_quota: expected a size"));
		free(errors);
	}
	/* byte rates take size units; the burst defaults to one second's worth */
	{
		struct ava_policy *p =
		    parse_ok("version: 1\ndefaults:\n"
			     "  byte_rate: 100MiB/s\n"
			     "  call_rate: { rate: 18446744073709551614/s, burst: 1 }\n");

		if (p) {
			CHECK(p->defaults.byte_rate.per_sec == 100ull << 20);
			CHECK(p->defaults.byte_rate.burst == 100ull << 20);
			CHECK(p->defaults.call_rate.per_sec == UINT64_MAX - 1);
			CHECK(p->defaults.call_rate.burst == 1);
			ava_policy_free(p);
		}
	}
}

static void test_match_order(void)
{
	/* more specific entries first; the general one after them is reachable */
	struct ava_policy *p = parse_ok("version: 1\n"
					"tenants:\n"
					"  - name: root-on-a\n"
					"    match: { socket: /a.sock, uid: 0 }\n"
					"  - name: a\n"
					"    match: { socket: /a.sock }\n"
					"  - name: vm\n"
					"    match: { label: vm-1 }\n"
					"  - name: uid7\n"
					"    match: { uid: 7 }\n");
	char *errors = NULL;

	if (!p)
		return;
	CHECK(p->n_tenants == 4);
	CHECK(ava_policy_match(p, "/a.sock", NULL, 0) == &p->tenants[0]);
	CHECK(ava_policy_match(p, "/a.sock", NULL, 7) == &p->tenants[1]);
	CHECK(ava_policy_match(p, "/a.sock", "vm-1", 7) == &p->tenants[1]);
	CHECK(ava_policy_match(p, "/b.sock", "vm-1", 7) == &p->tenants[2]);
	CHECK(ava_policy_match(p, "/c.sock", NULL, 7) == &p->tenants[3]);
	CHECK(ava_policy_match(p, "/c.sock", "vm-2", 8) == NULL);
	ava_policy_free(p);

	/* a more specific entry after a general one is shadowed, and the parser says so */
	CHECK(parse_bad("version: 1\n"
			"tenants:\n"
			"  - name: vm\n"
			"    match: { label: vm-1 }\n"
			"  - name: vm-on-b\n"
			"    match: { label: vm-1, socket: /b.sock }\n",
			&errors) == 1);
	CHECK(errors && strstr(errors, "inline.yaml:6:12: error: tenants[1].match: can never"));
	free(errors);
}

static void test_default_policy(void)
{
	struct ava_policy *p = NULL;
	const struct ava_policy_device *dev;

	CHECK(ava_policy_default(&p) == 0);
	if (!p)
		return;
	CHECK(p->n_tenants == 0 && p->refuse_unknown == 0);
	CHECK(p->defaults.servers == AVA_POLICY_SERVERS_PER_APPLICATION);
	CHECK(p->defaults.weight == 1 && p->defaults.memory_quota == AVA_POLICY_UNLIMITED &&
	      p->defaults.max_objects == AVA_POLICY_UNLIMITED &&
	      p->defaults.call_rate.per_sec == AVA_POLICY_UNLIMITED &&
	      p->defaults.byte_rate.per_sec == AVA_POLICY_UNLIMITED && p->defaults.apis == NULL);
	CHECK(ava_policy_match(p, "/run/ava/router.sock", NULL, 1000) == NULL);
	CHECK(ava_policy_fn_allowed(&p->defaults, "opencl", "clFinish"));
	dev = ava_policy_placement(p, &p->defaults, "opencl");
	CHECK(dev && strcmp(dev->name, AVA_POLICY_DEFAULT_DEVICE) == 0 && dev->max_inflight == 1 &&
	      dev->lease_ms == 100);
	ava_policy_free(p);
	ava_policy_free(NULL);

	/* a redefined default device replaces the built-in one */
	p = parse_ok("version: 1\ndevices:\n  - { name: default, max_inflight: 8 }\n");
	if (p) {
		CHECK(p->n_devices == 1);
		dev = ava_policy_placement(p, &p->defaults, "opencl");
		CHECK(dev && dev->max_inflight == 8 && dev->lease_ms == 100);
		ava_policy_free(p);
	}
}

/*
 * Each fixture starts with one "# expect: LINE:COL: substring" line per
 * problem. The parser must report exactly that many problems, each expected
 * one as "FILE:LINE:COL: error: ...substring...".
 */
static void test_bad_fixtures(void)
{
	char **names;
	size_t n = list_yaml(bad_dir, &names), i;

	CHECK(n >= 20);
	for (i = 0; i < n; i++) {
		struct ava_policy *p = NULL;
		char *errors = NULL, line[1024];
		size_t n_expect = 0;
		int r = ava_policy_load(names[i], &p, &errors);
		FILE *f = fopen(names[i], "r");
		int ok = r > 0 && p == NULL && errors != NULL;

		if (!f) {
			fprintf(stderr, "%s: %s\n", names[i], strerror(errno));
			failures++;
			continue;
		}
		while (fgets(line, sizeof(line), f) && strncmp(line, "# expect: ", 10) == 0) {
			unsigned l, c;
			int used = 0;
			char want[1200];
			const char *sub, *at;

			line[strcspn(line, "\n")] = '\0';
			if (sscanf(line + 10, "%u:%u: %n", &l, &c, &used) != 2 || used == 0) {
				fprintf(stderr, "%s: bad expect line: %s\n", names[i], line);
				ok = 0;
				break;
			}
			sub = line + 10 + used;
			n_expect++;
			snprintf(want, sizeof(want), "%s:%u:%u: error: ", names[i], l, c);
			/* some line of the output starts with want and contains sub */
			for (at = errors ? strstr(errors, want) : NULL; at;
			     at = strstr(at + 1, want)) {
				const char *eol = strchr(at, '\n');
				const char *hit = strstr(at, sub);

				if ((at == errors || at[-1] == '\n') && hit && eol && hit < eol)
					break;
			}
			if (!at) {
				fprintf(stderr, "%s: expected %u:%u: %s\n", names[i], l, c, sub);
				ok = 0;
			}
		}
		fclose(f);
		if (n_expect == 0 || (size_t)r != n_expect || count_lines(errors) != n_expect)
			ok = 0;
		if (!ok) {
			fprintf(stderr, "%s: %d problems (expected %zu):\n%s", names[i], r,
				n_expect, errors ? errors : "");
			failures++;
		}
		free(errors);
		ava_policy_free(p);
	}
	free_names(names, n);
}

static void test_three_problems(void)
{
	char *errors = NULL;
	/* every problem is reported, sorted by position, not only the first */
	int r = parse_bad("version: 1\n"
			  "tenants:\n"
			  "  - name: a\n"
			  "    match: { uid: 1 }\n"
			  "    weight: 0\n"
			  "defaults:\n"
			  "  memory_quota: lots\n"
			  "  color: blue\n",
			  &errors);

	CHECK(r == 3);
	CHECK(count_lines(errors) == 3);
	CHECK(errors && strncmp(errors, "inline.yaml:5:13: error: tenants[0].weight: ", 44) == 0);
	CHECK(errors && strstr(errors, "\ninline.yaml:7:17: error: defaults.memory_quota: "));
	CHECK(errors &&
	      strstr(errors, "\ninline.yaml:8:3: error: defaults: unknown key \"color\""));
	free(errors);
}

static void test_limits(void)
{
	struct ava_policy *p = NULL;
	char *errors = NULL, *big, tmpl[] = "/tmp/test-policy-XXXXXX";
	size_t big_len = 1024 * 1024 + 1, i, off;
	int r, fd;

	/* text over 1 MiB: one problem, at line 0 */
	big = malloc(big_len + 64);
	if (!big)
		exit(1);
	memcpy(big, "version: 1\n", 11);
	memset(big + 11, '#', big_len - 11);
	r = ava_policy_parse(big, big_len, "big.yaml", &p, &errors);
	CHECK(r == 1 && p == NULL);
	CHECK(errors && strncmp(errors, "big.yaml:0:0: error: ", 21) == 0 &&
	      strstr(errors, "at most 1 MiB"));
	free(errors);
	errors = NULL;
	/* exactly 1 MiB is fine (a comment) */
	r = ava_policy_parse(big, big_len - 1, "big.yaml", &p, &errors);
	CHECK(r == 0 && p != NULL);
	ava_policy_free(p);
	p = NULL;
	free(errors);
	errors = NULL;

	/* the same through a file */
	fd = mkstemp(tmpl);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, big, big_len) == (ssize_t)big_len);
		close(fd);
		r = ava_policy_load(tmpl, &p, &errors);
		CHECK(r == 1 && p == NULL && errors && strstr(errors, ":0:0: error: ") &&
		      strstr(errors, "1 MiB"));
		free(errors);
		errors = NULL;
		unlink(tmpl);
	}

	/* a missing file: one problem at line 0 naming the reason */
	r = ava_policy_load("/nonexistent/policy.yaml", &p, &errors);
	CHECK(r == 1 && p == NULL);
	CHECK(errors && strcmp(errors, "/nonexistent/policy.yaml:0:0: error: cannot open: No such "
				       "file or directory\n") == 0);
	free(errors);
	errors = NULL;

	/* errors may be NULL: the count is still returned */
	CHECK(ava_policy_parse("version: 3\n", 11, "x.yaml", &p, NULL) == 1 && p == NULL);

	/* text need not be NUL-terminated: only len bytes are read */
	CHECK(ava_policy_parse("version: 1\nweight", 11, "x.yaml", &p, &errors) == 0 && p);
	ava_policy_free(p);
	p = NULL;
	free(errors);
	errors = NULL;

	/* 1500 bad tenant names: 1500 problems, the first 1000 shown and one line more */
	off = (size_t)snprintf(big, big_len, "version: 1\ntenants:\n");
	for (i = 0; i < 1500; i++)
		off += (size_t)snprintf(big + off, big_len - off,
					"  - { name: \"t %zu\", match: { uid: %zu } }\n", i, i);
	r = ava_policy_parse(big, off, "many.yaml", &p, &errors);
	CHECK(r == 1500 && p == NULL);
	CHECK(count_lines(errors) == 1001);
	CHECK(errors && strstr(errors, "many.yaml:0:0: error: 500 more problems not shown\n"));
	free(errors);
	free(big);
}

static void test_check_apis(void)
{
	struct ava_abi_api *avatest = NULL;
	const struct ava_abi_api *apis[1];
	struct ava_policy *p;
	char errbuf[256], *errors = NULL;
	int r;

	if (ava_abi_load(avatest_abi, &avatest, errbuf, sizeof(errbuf)) != 0) {
		fprintf(stderr, "cannot load %s: %s\n", avatest_abi, errbuf);
		failures++;
		return;
	}
	apis[0] = avatest;

	/* every name known: no problem */
	p = parse_ok("version: 1\n"
		     "defaults:\n"
		     "  apis: [avatest]\n"
		     "  functions: { avatest: { deny: [avatest_sleep_ms] } }\n"
		     "  placement: { avatest: default }\n");
	if (p) {
		CHECK(ava_policy_check_apis(p, apis, 1, &errors) == 0);
		CHECK(errors == NULL);
		ava_policy_free(p);
	}

	p = parse_ok("version: 1\n"
		     "defaults:\n"
		     "  apis: [avatest, cuda]\n"
		     "  functions:\n"
		     "    avatest: { deny: [avatest_nul, avatest_null, avatest_bogus_function] }\n"
		     "tenants:\n"
		     "  - name: a\n" /* inherits the defaults: reported once, there */
		     "    match: { uid: 1 }\n"
		     "  - name: b\n"
		     "    match: { uid: 2 }\n"
		     "    apis: [opencl]\n"
		     "    functions: { opencl: { allow: [clFinish] } }\n"
		     "    placement: { opencl: default }\n");
	if (!p)
		goto out;
	r = ava_policy_check_apis(p, apis, 1, &errors);
	CHECK(r == 6);
	CHECK(count_lines(errors) == 6);
	CHECK(errors && strstr(errors, "inline.yaml:3:19: error: defaults.apis[1]: unknown API "
				       "\"cuda\" (this router serves: avatest)\n"));
	CHECK(errors &&
	      strstr(errors,
		     "inline.yaml:5:23: error: defaults.functions.avatest.deny[0]: API "
		     "avatest has no function \"avatest_nul\" (did you mean avatest_null?)\n"));
	CHECK(errors &&
	      strstr(errors, "inline.yaml:5:50: error: defaults.functions.avatest.deny[2]: API "
			     "avatest has no function \"avatest_bogus_function\"\n"));
	CHECK(errors && strstr(errors, "inline.yaml:11:12: error: tenants[1].apis[0]: unknown API "
				       "\"opencl\""));
	CHECK(errors && strstr(errors, "inline.yaml:12:18: error: tenants[1].functions.opencl: "
				       "unknown API \"opencl\""));
	CHECK(errors && strstr(errors, "inline.yaml:13:18: error: tenants[1].placement.opencl: "
				       "unknown API \"opencl\""));
	free(errors);
	errors = NULL;
	/* no API served at all */
	r = ava_policy_check_apis(p, NULL, 0, &errors);
	CHECK(r == 6 && errors && strstr(errors, "(this router serves no API)"));
	free(errors);
	ava_policy_free(p);
out:
	ava_abi_api_free(avatest);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s EXAMPLES_DIR BAD_DIR AVATEST_ABI\n", argv[0]);
		return 2;
	}
	examples_dir = argv[1];
	bad_dir = argv[2];
	avatest_abi = argv[3];

	test_examples_parse();
	test_reference();
	test_inheritance();
	test_servers();
	test_units();
	test_match_order();
	test_default_policy();
	test_bad_fixtures();
	test_three_problems();
	test_limits();
	test_check_apis();
	if (failures) {
		fprintf(stderr, "test_policy: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_policy: all checks passed\n");
	return 0;
}
