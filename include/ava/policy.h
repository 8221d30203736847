/* SPDX-License-Identifier: MIT */
/*
 * Operator policy: the parsed form of a policy file (policies/README.md has
 * the YAML schema and examples), and the lookups the router makes on it.
 *
 * A policy is immutable once parsed: the router swaps the whole object on
 * reload (SIGHUP or `avactl policy reload`) and frees the old one when no
 * session refers to it any more. Parsing never stops at the first problem:
 * every problem is reported as "FILE:LINE:COL: error: message", one per
 * line, so an operator can fix a file in one pass.
 *
 * Units in the file: sizes take B, KiB, MiB, GiB, TiB (or KB, MB, GB, TB as
 * powers of ten), rates take "/s" ("1000/s", "100MiB/s"). In this struct all
 * sizes are bytes and all rates are per second; "unlimited" is
 * AVA_POLICY_UNLIMITED.
 */
#ifndef AVA_POLICY_H
#define AVA_POLICY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVA_POLICY_UNLIMITED	  UINT64_MAX
#define AVA_POLICY_MAX_WEIGHT	  10000u
#define AVA_POLICY_DEFAULT_DEVICE "default"

struct ava_abi_api;

/* Where a value came from in the file, for messages. */
struct ava_policy_pos {
	uint32_t line; /* 1-based; 0 when built in */
	uint32_t col;  /* 1-based */
};

/* What happens to a call over a rate limit. */
enum ava_policy_over {
	AVA_POLICY_OVER_DELAY = 0, /* hold the call until the bucket has tokens */
	AVA_POLICY_OVER_REFUSE,	   /* answer REFUSED (the spec's ava_refuse_with error) */
};

/* A token bucket's parameters: `rate` tokens per second, at most `burst` stored. */
struct ava_policy_rate {
	uint64_t per_sec; /* AVA_POLICY_UNLIMITED: no limit */
	uint64_t burst;	  /* defaults to per_sec (one second's worth) */
	enum ava_policy_over over;
};

/* Per-API function filter: at most one of allow / deny is non-empty. */
struct ava_policy_fn_filter {
	char *api;
	char **allow; /* only these functions; NULL = not an allow list */
	struct ava_policy_pos *allow_pos;
	size_t n_allow;
	char **deny; /* every function except these */
	struct ava_policy_pos *deny_pos;
	size_t n_deny;
	struct ava_policy_pos pos;
};

/* Which device (a `devices:` entry) a tenant's server for an API is placed on. */
struct ava_policy_placement {
	char *api;
	char *device;
	struct ava_policy_pos pos;
};

/*
 * How a tenant's guest applications map onto API server processes. An
 * application is one guest session: one connection of one process for one
 * API (a process that forks opens its own session from the child).
 */
enum ava_policy_servers {
	AVA_POLICY_SERVERS_PER_APPLICATION = 0, /* one API server per session (the default) */
	AVA_POLICY_SERVERS_SHARED,		/* one API server per API for all its sessions */
};

/* The limits of one tenant (or of the defaults). */
struct ava_policy_limits {
	uint32_t weight;       /* share of device time, 1..AVA_POLICY_MAX_WEIGHT; default 1 */
	uint64_t memory_quota; /* bytes of device memory (all APIs); default unlimited */
	uint64_t max_objects;  /* live API objects (handles) at once; default unlimited */
	struct ava_policy_rate call_rate; /* calls per second */
	struct ava_policy_rate byte_rate; /* payload bytes per second, both directions */
	char **apis;			  /* allowed APIs; NULL = every API the router serves */
	struct ava_policy_pos *apis_pos;
	size_t n_apis;
	struct ava_policy_fn_filter *filters;
	size_t n_filters;
	struct ava_policy_placement *placements;
	size_t n_placements;
	enum ava_policy_servers servers; /* default AVA_POLICY_SERVERS_PER_APPLICATION */
};

/*
 * A tenant and how its channels are recognised. A connection matches when
 * every given condition holds; the first matching tenant in file order wins.
 */
struct ava_policy_tenant {
	char *name;	    /* unique; [A-Za-z0-9._:@-], at most 64 characters */
	char *match_socket; /* listener path, or NULL */
	char *match_label;  /* the listener's label (--listen PATH=LABEL, e.g. a VM id), or NULL */
	int has_match_uid;
	uint32_t match_uid;
	struct ava_policy_limits limits;
	struct ava_policy_pos pos;
};

/* A device that tenants share: one weighted fair queue in the router. */
struct ava_policy_device {
	char *name;
	uint32_t max_inflight; /* device-time calls running at once; default 1 */
	uint32_t lease_ms;     /* a call stops holding its slot after this long; default 100 */
	uint32_t idle_us;      /* how long a free slot may wait for an owed tenant; default 2000 */
	struct ava_policy_pos pos;
};

struct ava_policy {
	char *file_name;
	int refuse_unknown; /* defaults.action: refuse */
	struct ava_policy_limits defaults;
	struct ava_policy_tenant *tenants;
	size_t n_tenants;
	struct ava_policy_device *devices; /* always includes AVA_POLICY_DEFAULT_DEVICE */
	size_t n_devices;
};

/*
 * Parses a policy from text (len bytes, need not be NUL-terminated).
 * file_name is used in messages. On success returns 0 and *ret_policy.
 * On failure returns the number of problems (> 0) and, if ret_errors is not
 * NULL, a malloc'd string with one "FILE:LINE:COL: error: ..." line per
 * problem (the caller frees it); *ret_policy is then NULL. Returns -ENOMEM
 * if memory ran out.
 */
int ava_policy_parse(const char *text, size_t len, const char *file_name,
		     struct ava_policy **ret_policy, char **ret_errors)
    __attribute__((warn_unused_result));
/* Same, reading the file at path (an unreadable file is one problem, at line 0). */
int ava_policy_load(const char *path, struct ava_policy **ret_policy, char **ret_errors)
    __attribute__((warn_unused_result));
/* The built-in policy used without a file: allow every tenant, no limits, weight 1. */
int ava_policy_default(struct ava_policy **ret_policy) __attribute__((warn_unused_result));
void ava_policy_free(struct ava_policy *policy);

/*
 * Checks the names a policy uses against the APIs a router serves: API names
 * in apis/functions/placement, and function names in allow/deny lists.
 * Returns the number of problems (0 = fine), with messages as for
 * ava_policy_parse (positions from the file), or -ENOMEM.
 */
int ava_policy_check_apis(const struct ava_policy *policy, const struct ava_abi_api *const *apis,
			  size_t n_apis, char **ret_errors) __attribute__((warn_unused_result));

/*
 * The tenant entry a new connection belongs to: listener path, listener
 * label (NULL if the listener has none) and peer uid. Returns NULL when no
 * entry matches; the caller then refuses the connection if
 * policy->refuse_unknown, else applies policy->defaults under the channel's
 * own tenant name.
 */
const struct ava_policy_tenant *ava_policy_match(const struct ava_policy *policy,
						 const char *socket_path, const char *label,
						 uint32_t uid);
/* Finds a tenant entry by name, or NULL. */
const struct ava_policy_tenant *ava_policy_find_tenant(const struct ava_policy *policy,
						       const char *name);
/* Whether limits allow the API at all. */
int ava_policy_api_allowed(const struct ava_policy_limits *limits, const char *api);
/* Whether limits allow calling fn of api (api allowed and fn not filtered out). */
int ava_policy_fn_allowed(const struct ava_policy_limits *limits, const char *api, const char *fn);
/* The device the tenant's api server is placed on (AVA_POLICY_DEFAULT_DEVICE if none given). */
const struct ava_policy_device *ava_policy_placement(const struct ava_policy *policy,
						     const struct ava_policy_limits *limits,
						     const char *api);

#ifdef __cplusplus
}
#endif

#endif /* AVA_POLICY_H */
