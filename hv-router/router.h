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
#include <ava/wire.h>

#include "conn.h"
#include "map.h"

/* Limits (docs/router.md, "Limits"). */
#define AVA_ROUTER_MAX_TENANT_NAME	 64
#define AVA_ROUTER_MAX_OUTSTANDING	 4096	       /* sync calls / callbacks per session */
#define AVA_ROUTER_GUEST_OUT_CAP	 (256u << 20)  /* server -> guest queue */
#define AVA_ROUTER_SERVER_OUT_CAP	 (1024u << 20) /* guest -> server queue, hard cap */
#define AVA_ROUTER_SERVER_OUT_HIGH	 (64u << 20)   /* pause reading guests above this */
#define AVA_ROUTER_SERVER_OUT_LOW	 (16u << 20)   /* resume below this */
#define AVA_ROUTER_MAX_GUESTS_PER_TENANT 1024
#define AVA_ROUTER_HELLO_TIMEOUT_MS	 30000
#define AVA_ROUTER_STALL_TIMEOUT_MS	 60000 /* a partial frame with no progress */
#define AVA_ROUTER_LINGER_MS		 5000  /* flushing a BYE to a closing guest */
#define AVA_ROUTER_SHUTDOWN_GRACE_MS	 5000  /* SIGTERM to SIGKILL for servers at exit */
#define AVA_ROUTER_FRAMES_PER_WAKEUP	 64

enum ava_router_ev_type {
	AVA_ROUTER_EV_LISTENER = 1,
	AVA_ROUTER_EV_GUEST,
	AVA_ROUTER_EV_SERVER,
	AVA_ROUTER_EV_SIGNAL,
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

struct ava_router_tenant {
	struct ava_router_tenant *next;
	char name[AVA_ROUTER_MAX_TENANT_NAME + 8];
	struct ava_router_server **servers; /* [n_apis]: the live server per API, or NULL */
	uint32_t n_guests;
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
};

/*
 * A late out buffer (AVA_ABI_V_LATE) named by a CALL: what its one DATA frame
 * is validated against. Dropped at the DATA, or at a REPLY whose status is
 * not OK (the call never ran, so no DATA follows).
 */
struct ava_router_transfer {
	uint64_t seq; /* of the CALL */
	uint64_t len_bytes;
	uint32_t fn_id;
};

/* An outstanding sync call: what the REPLY is validated against. */
struct ava_router_call {
	uint32_t fn_id;
	uint16_t n_args;
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
	int throttled;		 /* guests paused: the queue to this server is past the high mark */
	struct ava_map sessions; /* session id -> guest */
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
	int64_t now_ms;
};

/* router.c */
void ava_router_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t ava_router_now_ms(void);
/* Re-registers the connection's epoll interest from its state. */
void ava_router_guest_update_events(struct ava_router *r, struct ava_router_guest *g);
void ava_router_server_update_events(struct ava_router *r, struct ava_router_server *s);
int ava_router_epoll_add(struct ava_router *r, int fd, uint32_t events, void *ptr)
    __attribute__((warn_unused_result));
void ava_router_epoll_del(struct ava_router *r, int fd);

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
/* Reads frames a throttled server left staged in its guests' connections. */
void ava_session_resume(struct ava_router *r);
/* Periodic deadlines (HELLO, stalled frames, linger). */
void ava_session_tick(struct ava_router *r);
/* Frees guests ended in this iteration. */
void ava_session_reap_graveyard(struct ava_router *r);
const char *ava_session_api_name(const struct ava_router_guest *g);

/* server.c: the API server side */
/* The tenant's live server for api, spawning one if needed. NULL on failure (logged). */
struct ava_router_server *ava_server_get(struct ava_router *r, struct ava_router_tenant *t,
					 struct ava_router_api *api);
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
/* Re-evaluates throttling of s's guests after its queue changed. */
void ava_server_check_throttle(struct ava_router *r, struct ava_router_server *s);

#endif /* AVA_ROUTER_ROUTER_H */
