/* SPDX-License-Identifier: MIT */
/*
 * avarouterd's private model: listeners, tenants, guest sessions and API
 * servers, and the functions the event loop (router.c), the guest side
 * (session.c) and the server side (server.c) call on each other.
 *
 * Ownership: the router owns everything. A guest or server that ends is
 * unlinked at once (so no later frame reaches it) and freed only at the end
 * of the event-loop iteration, because the current epoll batch may still
 * name it.
 */
#ifndef AVA_ROUTER_ROUTER_H
#define AVA_ROUTER_ROUTER_H

#include <stdint.h>
#include <sys/types.h>

#include <ava/abi.h>
#include <ava/policy.h>
#include <ava/wire.h>

#include "clock.h"
#include "conn.h"
#include "enforce.h"
#include "listen.h"
#include "log.h"
#include "map.h"
#include "poller.h"

/* Limits (docs/router.md, "Limits"). */
#define AVA_ROUTER_MAX_TENANT_NAME	 64
#define AVA_ROUTER_MAX_OUTSTANDING	 4096	       /* sync calls / callbacks per session */
#define AVA_ROUTER_GUEST_OUT_CAP	 (256u << 20)  /* server -> guest queue */
#define AVA_ROUTER_GUEST_OUT_HIGH	 (64u << 20)   /* stop reading its server above this */
#define AVA_ROUTER_GUEST_OUT_LOW	 (16u << 20)   /* read it again below this */
#define AVA_ROUTER_SERVER_OUT_CAP	 (1024u << 20) /* guest -> server queue, hard cap */
#define AVA_ROUTER_SERVER_OUT_HIGH	 (64u << 20)   /* pause reading guests above this */
#define AVA_ROUTER_SERVER_OUT_LOW	 (16u << 20)   /* resume below this */
#define AVA_ROUTER_MAX_GUESTS_PER_TENANT 1024
#define AVA_ROUTER_HELLO_TIMEOUT_MS	 30000
#define AVA_ROUTER_STALL_TIMEOUT_MS	 60000 /* a partial frame with no progress */
#define AVA_ROUTER_BACKLOG_STALL_MS	 10000 /* a backlogged guest reading nothing */
#define AVA_ROUTER_LINGER_MS		 5000  /* flushing a BYE to a closing guest */
#define AVA_ROUTER_SHUTDOWN_GRACE_MS	 5000  /* SIGTERM to SIGKILL for servers at exit */
#define AVA_ROUTER_RETIRE_GRACE_MS	 5000  /* a retired server's EOF to SIGKILL */
#define AVA_ROUTER_FRAMES_PER_WAKEUP	 64

enum ava_router_ev_type {
	AVA_ROUTER_EV_LISTENER = 1,
	AVA_ROUTER_EV_GUEST,
	AVA_ROUTER_EV_SERVER,
	AVA_ROUTER_EV_SIGNAL,
	AVA_ROUTER_EV_ADMIN_LISTENER,
	AVA_ROUTER_EV_ADMIN,
};

extern const char *const ava_router_refusal_names[AVA_REFUSAL_COUNT];

/*
 * A tenant's counters since the router started (never reset; a tenant is
 * never freed while the router runs). docs/router.md, "avactl status".
 */
struct ava_router_tenant_stats {
	uint64_t calls;	    /* CALLs forwarded to an API server (sync and async); session.c */
	uint64_t bytes_in;  /* payload bytes of every guest frame read; session.c */
	uint64_t bytes_out; /* payload bytes of every frame queued to a guest; session.c */
	uint64_t refusals[AVA_REFUSAL_COUNT];
	/* Filled by the enforcement work (resource reports of the API servers); 0 until then. */
	uint64_t device_time_ns; /* device time used, total */
	uint64_t memory_used;	 /* bytes of device memory held now */
	uint64_t objects;	 /* live API objects now */
};

struct ava_router;

struct ava_router_api {
	char *name;
	struct ava_abi_api *abi;
	char *server_path;
};

struct ava_router_listener {
	int ev_type; /* first member: epoll data points here */
	int fd;
	char *path;
	char *tenant; /* NULL: tenant is uid:<peer uid> */
	int bound;    /* we created the socket file */
	int paused;   /* accept failed (out of fds): not polled until the next tick */
};

struct ava_router_server;

/*
 * A tenant, by name. Its policy is looked up by that name in the current
 * policy (tenant.c: ava_router_tenant_apply, again after every reload), so
 * existing sessions follow a reload; a tenant without an entry has the
 * policy's defaults.
 */
struct ava_router_tenant {
	struct ava_router_tenant *next;
	char name[AVA_ROUTER_MAX_TENANT_NAME + 8];
	struct ava_router_server **servers; /* [n_apis]: the shared server per API, or NULL */
	uint32_t n_guests;
	struct ava_router_tenant_stats stats;
	/* Policy, into r->policy (valid until the next reload re-applies it). */
	const struct ava_policy_tenant *entry;	/* the entry named like the tenant, or NULL */
	const struct ava_policy_limits *limits; /* entry's limits, or the defaults; never NULL */
	uint8_t *api_allowed;			/* [n_apis]: 1 if the tenant may open the API */
	uint8_t **fn_denied; /* [n_apis]: NULL (none denied) or [n_fns], 1 = refused */
	int refused_only;    /* created for a refused channel; no default session since */
	struct ava_enforce_tenant enforce; /* enforce.c */
};

enum ava_router_guest_state {
	AVA_GUEST_AWAIT_HELLO = 0,
	AVA_GUEST_OPEN,
	AVA_GUEST_CLOSING, /* flushing a BYE, then closed */
	AVA_GUEST_DEAD,
};

struct ava_router_guest {
	int ev_type;
	struct ava_conn conn;
	struct ava_router_guest *prev, *next; /* router->guests */
	struct ava_router_guest *grave_next;  /* router->guest_graveyard */
	struct ava_router_tenant *tenant;
	uint32_t session;
	enum ava_router_guest_state state;
	struct ava_router_api *api;	  /* after HELLO */
	struct ava_router_server *server; /* after HELLO, while the server lives */
	struct ava_map calls;		  /* seq -> struct ava_router_call */
	struct ava_map callbacks;	  /* seq -> (void *)(uintptr_t)(callback id + 1) */
	struct ava_map transfers;	  /* transfer id -> struct ava_router_transfer */
	int64_t deadline_ms;		  /* HELLO or linger deadline; 0 none */
	int64_t progress_ms;		  /* last input progress */
	uint32_t ep_events;		  /* registered epoll mask */
	int registered;
	int refused;		    /* no policy entry matched and unknown tenants are refused */
	uint32_t uid;		    /* peer uid (SO_PEERCRED) */
	pid_t pid;		    /* peer pid (SO_PEERCRED): the guest process; 0 unknown */
	const char *listener_path;  /* the socket it connected to (the listener's string) */
	const char *listener_label; /* its label (--listen PATH=LABEL), or NULL */
	uint32_t refusals_logged;   /* refused calls logged for this session */
	struct ava_enforce_guest enforce; /* enforce.c: held frames, device calls in flight */
	/*
	 * Its output queue passed AVA_ROUTER_GUEST_OUT_HIGH: its server is not
	 * read until the queue drains below AVA_ROUTER_GUEST_OUT_LOW (bulk DATA
	 * comes faster than a guest takes it). out_progress_ms: the last write.
	 */
	int backlogged;
	int64_t out_progress_ms;
	/*
	 * A streamed CALL argument still arriving (docs/wire-protocol.md 7.7):
	 * until left_bytes reach 0 the guest may send only its CHUNKs.
	 */
	struct {
		int active;
		int discard; /* the CALL was refused: its CHUNKs go nowhere */
		uint64_t seq;
		uint32_t fn_id;
		uint64_t left_bytes;
	} stream;
};

/*
 * A late out buffer (AVA_ABI_V_LATE) named by a CALL: what its one DATA frame
 * is validated against. Dropped at the DATA, or at a REPLY whose status is
 * not OK (the call never ran, so no DATA follows).
 */
struct ava_router_transfer {
	uint64_t seq; /* of the CALL */
	uint64_t len_bytes;
	uint64_t done_bytes; /* delivered so far: DATA comes in pieces */
	uint32_t fn_id;
};

/* An outstanding sync call: what the REPLY is validated against. */
struct ava_router_call {
	uint32_t fn_id;
	uint16_t n_args;
	struct ava_quota_resv *resv; /* memory/object reservation until the REPLY (enforce.c) */
	/* n_args + 1 entries: [n_args] is the MAP trailer (u64: its transfer id, 0: none) */
	struct {
		uint8_t present;
		uint64_t count;
		uint64_t u64;
	} args[];
};

struct ava_router_server {
	int ev_type;
	struct ava_conn conn;
	struct ava_router_server *next; /* router->servers */
	struct ava_router_tenant *tenant;
	struct ava_router_api *api;
	pid_t pid;
	int conn_open; /* the socket is open and the server serves sessions */
	int reaped;
	int shared;   /* spawned as its tenant's shared server (servers: shared) */
	int retiring; /* serves no session and never will: exits on EOF (server.c) */
	int shut_wr;  /* retiring: the channel is half-closed */
	int killed;   /* retiring: SIGKILLed after AVA_ROUTER_RETIRE_GRACE_MS */
	int64_t retire_deadline_ms;
	int throttled;		 /* guests paused: the queue to this server is past the high mark */
	struct ava_map sessions; /* session id -> guest */
	uint32_t n_backlogged;	 /* its guests with a backlogged output queue: not read */
	uint32_t ep_events;
	int registered;
};

struct ava_router {
	int epfd;
	int sigfd;
	int ev_signal; /* epoll data for sigfd */
	int verbose;
	int stopping;
	const char *api_dir;
	struct ava_router_api *apis;
	size_t n_apis;
	struct ava_router_listener *listeners;
	size_t n_listeners;
	struct ava_router_tenant *tenants;
	struct ava_router_guest *guests;
	struct ava_router_server *servers;
	struct ava_router_guest *guest_graveyard; /* freed after the epoll batch */
	uint32_t next_session;
	struct ava_map sessions; /* session id -> guest, every live id (for uniqueness) */
	int resume_guests;	 /* a server was unthrottled: run ava_session_resume */
	int resume_servers;	 /* a guest drained: read what servers left staged */
	int64_t now_ms;
	int64_t start_ms;
	struct ava_admin *admin; /* the admin socket (admin.c); NULL before it is open */
	/* Operator policy (tenant.c). */
	struct ava_policy *policy;  /* in force; never NULL once running */
	char *policy_path;	    /* its file; NULL: the built-in default */
	uint64_t policy_generation; /* 1 for the first policy, +1 per successful reload */
	char *policy_error;	    /* problems of the last rejected reload, or NULL */
	/* Enforcement (enforce.c). */
	struct ava_quota quota;		   /* every tenant's objects by (session, handle) */
	struct ava_router_device *devices; /* fair queues, one per device */
	int64_t enforce_wake_ms;	   /* when ava_enforce_tick must run next; 0: not needed */
	struct ava_enforce_release *enforce_released; /* released frames, oldest first */
	struct ava_enforce_release **enforce_released_tail;
	int forwarding_released; /* ava_session_forward_released is running */
};

/* router.c: the event loop (the leaves it used to hold: log.h, clock.h, poller.h, listen.h) */
/* Re-registers the connection's epoll interest from its state. */
void ava_router_guest_update_events(struct ava_router *r, struct ava_router_guest *g);
void ava_router_server_update_events(struct ava_router *r, struct ava_router_server *s);

/* tenant.c: tenants and the operator policy */
/* The tenant named name, created (with the current policy applied) if new; NULL if out of memory. */
struct ava_router_tenant *ava_router_tenant_get(struct ava_router *r, const char *name);
/* (Re)computes t's entry, limits and filters from r->policy. Returns 0 or -ENOMEM. */
int ava_router_tenant_apply(struct ava_router *r, struct ava_router_tenant *t)
    __attribute__((warn_unused_result));
/*
 * Loads the policy at start-up: path NULL gives ava_policy_default. Problems
 * are printed on stderr. Returns 0, or the number of problems (> 0), or -ENOMEM.
 */
int ava_router_policy_init(struct ava_router *r, const char *path)
    __attribute__((warn_unused_result));
/*
 * Reloads: path NULL re-reads the current file (or re-applies the built-in
 * default); else switches to path. A policy with problems changes nothing:
 * returns their number (> 0) with one "FILE:LINE:COL: error: ..." line each
 * in *ret_errors (malloc'd; also kept in r->policy_error and logged).
 * Returns 0 when the new policy is in force, -ENOMEM when memory ran out.
 */
int ava_router_policy_reload(struct ava_router *r, const char *path, char **ret_errors)
    __attribute__((warn_unused_result));
/* Frees the policy and every tenant. */
void ava_router_policy_fini(struct ava_router *r);
/* How t was recognised, for status: "policy", "default" or "refused". */
const char *ava_router_tenant_matched(const struct ava_router_tenant *t);

/* session.c: the guest side */
/*
 * Accepts one connection on l; returns 0, -EAGAIN when none is pending, or
 * another negative errno (EMFILE, ...) after which the caller pauses l.
 */
int ava_session_accept(struct ava_router *r, struct ava_router_listener *l);
void ava_session_on_events(struct ava_router *r, struct ava_router_guest *g, uint32_t events);
/*
 * Ends g's session: queues BYE(status, reason) if status is not OK, sends
 * SESSION_CLOSE to the server, and lets the connection linger until the BYE
 * is written. log_reason (may be NULL) is logged as a violation line.
 */
void ava_session_end(struct ava_router *r, struct ava_router_guest *g, unsigned status,
		     const char *reason, int is_violation);
/* Forwards a server frame to g (session field cleared). Takes payload. */
/* Forgets the late transfers of call (its REPLY's status is not OK: no DATA follows). */
void ava_session_drop_transfers(struct ava_router_guest *g, const struct ava_abi_fn *fn,
				const struct ava_router_call *call);
void ava_session_deliver(struct ava_router *r, struct ava_router_guest *g,
			 const struct ava_wire_header *hdr, uint8_t *payload);
/*
 * Answers a CALL the policy refuses (counted under why, logged with reason)
 * without forwarding it: REPLY(REFUSED), with DEFERRED_ERROR for an async
 * call. The caller still owns (and frees) the CALL's payload.
 */
void ava_session_refuse_call(struct ava_router *r, struct ava_router_guest *g,
			     const struct ava_wire_header *hdr, const struct ava_abi_fn *fn,
			     enum ava_router_refusal why, const char *reason);
/*
 * Re-evaluates whether g's output queue holds its server back (above the high
 * mark: the server is not read; below the low mark again: it is).
 */
void ava_session_check_backlog(struct ava_router *r, struct ava_router_guest *g);
/*
 * Forwards the frames enforcement released (ava_enforce_next_release) to
 * their sessions' servers, and re-arms those guests. Called after every
 * enforcement entry point that can release.
 */
void ava_session_forward_released(struct ava_router *r);
/* Reads frames a throttled server left staged in its guests' connections. */
void ava_session_resume(struct ava_router *r);
/* Periodic deadlines (HELLO, stalled frames, linger). */
void ava_session_tick(struct ava_router *r);
/* Frees guests ended in this iteration. */
void ava_session_reap_graveyard(struct ava_router *r);
const char *ava_session_api_name(const struct ava_router_guest *g);

/* server.c: the API server side */
/*
 * The server for a new session of t for api: a fresh one (servers:
 * per-application), or the tenant's shared one, spawned if needed (servers:
 * shared). NULL on failure (logged).
 */
struct ava_router_server *ava_server_get(struct ava_router *r, struct ava_router_tenant *t,
					 struct ava_router_api *api);
/*
 * A session left s: if s now serves none and is not its tenant's shared
 * server, retires it (it exits on EOF; killed if it does not).
 */
void ava_server_release(struct ava_router *r, struct ava_router_server *s);
/*
 * Periodic: retires idle shared servers of tenants that no longer share (a
 * policy reload) and kills retired servers that did not exit in time.
 */
void ava_server_tick(struct ava_router *r);
/* Queues a router->server frame; on failure the server is declared gone. */
int ava_server_send(struct ava_router *r, struct ava_router_server *s,
		    const struct ava_wire_header *hdr, uint8_t *payload, size_t len);
void ava_server_on_events(struct ava_router *r, struct ava_router_server *s, uint32_t events);
/* Handles SIGCHLD: reaps exited servers. */
void ava_server_reap(struct ava_router *r);
/* Ends every session of s with BYE(SERVER_GONE), closes its socket, kills it if alive. */
void ava_server_fail(struct ava_router *r, struct ava_router_server *s, const char *reason);
/* Frees reaped servers. */
void ava_server_collect(struct ava_router *r);
/* At exit: SIGTERM all servers, wait up to the grace period, SIGKILL the rest. */
void ava_server_stop_all(struct ava_router *r);
/* Reads what servers no longer held back by a guest's backlog left staged. */
void ava_server_resume(struct ava_router *r);
/* Re-evaluates throttling of s's guests after its queue changed. */
void ava_server_check_throttle(struct ava_router *r, struct ava_router_server *s);

/* admin.c: the admin socket (docs/router.md, "Admin socket") */
/* Opens the admin socket at path (mode 0600). At start-up; errors on stderr; 0 or -1. */
int ava_admin_open(struct ava_router *r, const char *path);
/* Handles readiness of the admin listener or of one admin client (ptr from epoll). */
void ava_admin_on_events(struct ava_router *r, void *ptr, uint32_t events);
/* Periodic deadlines: closes admin clients that made no progress for a while. */
void ava_admin_tick(struct ava_router *r);
/* Frees admin clients closed in this iteration. */
void ava_admin_collect(struct ava_router *r);
/* Closes every admin connection and the socket, and unlinks it. */
void ava_admin_close(struct ava_router *r);

#endif /* AVA_ROUTER_ROUTER_H */
