/* SPDX-License-Identifier: MIT */
/*
 * avarouterd's records: listeners, APIs, tenants, guests (one per guest
 * connection: a session), API servers, and the router that holds them.
 * Data only; each module's functions are declared in its own header
 * (docs/router.md, "Modules", has the graph). The field comments say which
 * module writes what; any module may read.
 *
 * Threading: none. avarouterd is one thread running one epoll loop
 * (router.c); every record here is touched only from that thread, so there
 * are no locks and no lock order. A handler runs to completion; the only
 * re-entry is a call that ends a session or a server from inside a handler
 * of another (a failed send), which is why each end is marked first
 * (guest state CLOSING/DEAD, server conn_open = 0) and checked again after
 * every call that can end something. API servers are separate processes;
 * signals arrive through a signalfd in the loop.
 *
 * Ownership: the router owns everything. A guest or server that ends is
 * unlinked at once (so no later frame reaches it) and freed only at the end
 * of the event-loop iteration, because the current epoll batch may still
 * name it.
 */
#ifndef AVA_ROUTER_MODEL_H
#define AVA_ROUTER_MODEL_H

#include <stdint.h>
#include <sys/types.h>

#include <ava/abi.h>
#include <ava/policy.h>
#include <ava/wire.h>

#include "conn.h"
#include "fairq.h"
#include "map.h"
#include "quota.h"
#include "ratelimit.h"

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

/*
 * Why the router refused something a tenant asked for. Counted per tenant
 * (ava_router_tenant_stats.refusals) and shown by `avactl status` under
 * its name (admin.c).
 */
enum ava_router_refusal {
	AVA_REFUSAL_UNKNOWN_TENANT =
	    0,			  /* no policy entry matched and unknown tenants are refused */
	AVA_REFUSAL_API,	  /* HELLO for an API not in the tenant's apis */
	AVA_REFUSAL_FUNCTION,	  /* CALL of a function its filter denies */
	AVA_REFUSAL_CALL_RATE,	  /* over call_rate with over: refuse */
	AVA_REFUSAL_BYTE_RATE,	  /* over byte_rate with over: refuse */
	AVA_REFUSAL_MEMORY_QUOTA, /* an allocation past memory_quota */
	AVA_REFUSAL_OBJECTS,	  /* an object past max_objects */
	AVA_REFUSAL_COUNT,
};

/*
 * A tenant's counters since the router started (never reset; a tenant is
 * never freed while the router runs). docs/router.md, "avactl status".
 */
struct ava_router_tenant_stats {
	uint64_t calls;	   /* CALLs forwarded to an API server (sync and async); guest.c, relay.c */
	uint64_t bytes_in; /* payload bytes of every guest frame read; guest.c */
	uint64_t bytes_out; /* payload bytes of every frame queued to a guest; relay.c */
	uint64_t refusals[AVA_REFUSAL_COUNT];
	/* Filled by the enforcement work (resource reports of the API servers); 0 until then. */
	uint64_t device_time_ns; /* device time used, total */
	uint64_t memory_used;	 /* bytes of device memory held now */
	uint64_t objects;	 /* live API objects now */
};

struct ava_router;
struct ava_router_device; /* enforce.c */
struct ava_router_flow;	  /* enforce.c */
struct ava_enforce_held;  /* enforce.c */
struct ava_enforce_release;

/* Per-tenant enforcement state (embedded in struct ava_router_tenant). */
struct ava_enforce_tenant {
	struct ava_ratelimit call_rl;
	struct ava_ratelimit byte_rl;
	struct ava_quota_account quota;
	struct ava_router_flow *flows;
	struct ava_enforce_held *rate_head, *rate_tail; /* calls waiting for tokens, FIFO */
	uint64_t rate_wake_ns;				/* when the head may pass */
	uint64_t delayed;				/* calls delayed by a rate limit */
	uint64_t delay_ns;				/* total time they waited */
	uint64_t held_now;				/* calls held now (rate or device) */
};

/* Per-session enforcement state (embedded in struct ava_router_guest). */
struct ava_enforce_guest {
	struct ava_enforce_held *held; /* every held frame of the session */
	struct ava_map dispatched;     /* seq -> struct ava_fairq_item (+ device) in flight */
	uint64_t held_bytes;
	uint32_t held_async;
	int paused; /* not read until held frames drain */
};

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
 * policy (tenant.c: ava_tenant_apply, again after every reload), so
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
	int retiring; /* serves no session and never will: exits on EOF (relay.c) */
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
	int resume_guests;	 /* a server was unthrottled: run ava_guest_resume */
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
	struct ava_router_device *devices; /* fair queues, one per device (enforce.c) */
	int64_t enforce_wake_ms;	   /* when ava_enforce_tick must run next; 0: not needed */
	struct ava_enforce_release *enforce_released; /* released frames, oldest first */
	struct ava_enforce_release **enforce_released_tail;
	int forwarding_released; /* ava_relay_forward_released is running */
};

#endif /* AVA_ROUTER_MODEL_H */
