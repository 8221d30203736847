/* SPDX-License-Identifier: MIT */
/*
 * Tenants and the operator policy in force (docs/router.md, "Policy"): a
 * tenant record per name, its limits and filters recomputed from the policy
 * at every (re)load, and the load and reload of the policy itself.
 */
#ifndef AVA_ROUTER_TENANT_H
#define AVA_ROUTER_TENANT_H

#include "model.h"

/* The tenant named name, created (with the current policy applied) if new; NULL if out of memory. */
struct ava_router_tenant *ava_tenant_get(struct ava_router *r, const char *name);
/* (Re)computes t's entry, limits and filters from r->policy. Returns 0 or -ENOMEM. */
int ava_tenant_apply(struct ava_router *r, struct ava_router_tenant *t)
    __attribute__((warn_unused_result));
/* How t was recognised, for status: "policy", "default" or "refused". */
const char *ava_tenant_matched(const struct ava_router_tenant *t);
/*
 * Loads the policy at start-up: path NULL gives ava_policy_default. Problems
 * are printed on stderr. Returns 0, or the number of problems (> 0), or -ENOMEM.
 */
int ava_tenant_policy_init(struct ava_router *r, const char *path)
    __attribute__((warn_unused_result));
/*
 * Reloads: path NULL re-reads the current file (or re-applies the built-in
 * default); else switches to path. A policy with problems changes nothing:
 * returns their number (> 0) with one "FILE:LINE:COL: error: ..." line each
 * in *ret_errors (malloc'd; also kept in r->policy_error and logged).
 * Returns 0 when the new policy is in force, -ENOMEM when memory ran out.
 */
int ava_tenant_policy_reload(struct ava_router *r, const char *path, char **ret_errors)
    __attribute__((warn_unused_result));
/* Frees the policy and every tenant. */
void ava_tenant_policy_fini(struct ava_router *r);

#endif /* AVA_ROUTER_TENANT_H */
