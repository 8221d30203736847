/* SPDX-License-Identifier: MIT */
/*
 * The guest runtime: linked into every generated guest stub library.
 *
 * Environment: AVA_ROUTER_SOCKET names the router's Unix socket (default
 * /run/ava/router.sock). AVA_DEBUG=1 prints one line per failed call.
 */
#ifndef AVA_GUESTLIB_H
#define AVA_GUESTLIB_H

#include "gen.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AVA_GUESTLIB_DEFAULT_SOCKET "/run/ava/router.sock"

struct ava_guestlib_fn {
	const struct ava_abi_fn *abi;
	ava_gen_plan_fn plan; /* NULL: no buffers, sync unless AVA_ABI_FN_MAY_ASYNC */
	struct ava_gen_fn_errors errors;
};

/* Calls fn (a pointer of the callback's C type) with args; writes its result to ret. */
typedef void (*ava_guestlib_invoke_fn)(void *fn, void *const *args, void *ret);

struct ava_guestlib_callback {
	const struct ava_abi_callback *abi;
	ava_guestlib_invoke_fn invoke;
};

struct ava_guestlib_ops;

struct ava_guestlib_api {
	const struct ava_abi_api *abi;
	const struct ava_guestlib_fn *fns;	       /* abi->n_fns entries */
	const struct ava_guestlib_callback *callbacks; /* abi->n_callbacks entries */
	/*
	 * The spec's ava_handle_proxy(symbol): &symbol, or NULL. When set, every
	 * handle the application sees is a pointer to a guest-allocated proxy
	 * whose first member is this pointer (an ICD dispatch table), and every
	 * handle it passes is looked up among the live proxies before use.
	 */
	const void *proxy_dispatch;
	/* The API's hand code (ava_<api>_guest_ops), or NULL when it has none. */
	const struct ava_guestlib_ops *ops;
};

/*
 * Runs api->fns[fn_id] remotely. args[i] points at argument i; ret (NULL for
 * void) receives the result. Connects on first use. Never aborts: on any
 * failure (unsupported function, router unreachable, server gone, refused)
 * ret and the errcode argument get the spec's native error, and one line on
 * stderr says why. Thread-safe; a call blocked in one thread does not stall
 * calls from others.
 */
void ava_guestlib_call(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
		       void *ret);

/*
 * Connects api's session now if it is not up yet (ava_guestlib_call does so
 * on its first call). Returns 0 when the session is up, else a negative
 * errno (-ECONNREFUSED: no router, or the router refused). With quiet, an
 * unreachable router is not reported on stderr (an ICD enumerated on a
 * machine without AvA). Never connects from inside an AvA API server or
 * router process, where the guest library may be loaded as a system-wide ICD:
 * -ENOTCONN there.
 */
int ava_guestlib_connect(const struct ava_guestlib_api *api, int quiet)
    __attribute__((warn_unused_result));

/*
 * The hooks of an API's hand-written guest code (spec/<api>/), in one table
 * per API (struct ava_guestlib_ops below). fn_id is the call's id (the
 * generated ava_<api>.h names them AVA_<API>_FN_<name>); args[i] points at
 * argument i and ret at the result, which ava_<api>.h's
 * ava_<api>_args_<name>(args) and ava_<api>_ret_<name>(ret) give typed.
 */

/*
 * Where a mapping's memory goes (ava_mapping results): returns memory the
 * application owns for the len_bytes of this call of fn_id (OpenCL: a
 * CL_MEM_USE_HOST_PTR buffer's host_ptr + offset), or NULL to let the
 * runtime allocate page-aligned memory of its own. Called on the calling
 * thread, before the call is sent.
 */
typedef void *(*ava_guestlib_map_placer_fn)(const struct ava_guestlib_api *api, uint32_t fn_id,
					    void *const *args, size_t len_bytes);

/*
 * Sees each call of a supported function before the runtime sends it, on the
 * calling thread, with the application's arguments: returns 0 to let the
 * runtime make the call as it is, or 1 when it answered the call itself
 * (ret and the out buffers hold what the application gets). It may make
 * calls of the API meanwhile, with arguments of its own (ava_guestlib_call
 * or the API's functions), which it does not see again. OpenCL's SVM
 * (spec/opencl/svm.c) decides there which of a call's pointers are the
 * session's shared memory.
 */
typedef int (*ava_guestlib_call_filter_fn)(const struct ava_guestlib_api *api, uint32_t fn_id,
					   void *const *args, void *ret);

/*
 * Sees each call of the API that left the guest, on the calling thread,
 * once it is over: a synchronous call after its reply was applied (ret and
 * the out buffers hold what the application gets, a failure's native error
 * included), an asynchronous one once sent (ret: ava_success). args are the
 * application's arguments, scalars as it passed them (before any
 * ava_override). It may change what the application gets (ret, out
 * buffers) and may call the API itself. Calls answered in the guest without
 * leaving it (unsupported, a stale handle, no router, the call filter) are
 * not seen.
 */
typedef void (*ava_guestlib_call_observer_fn)(const struct ava_guestlib_api *api, uint32_t fn_id,
					      void *const *args, void *ret);

/*
 * Told when a handle the application held means nothing any more: with
 * ava_handle_proxy, when the guest's last reference to the object is gone
 * (an ava_deallocates call dropped the count the ava_allocates results and
 * ava_retains calls built to zero), or when the session ended. handle is
 * the pointer the application held; it may be handed out again for a new
 * object later. Called on the thread that made that happen, with no lock
 * of the runtime held; never for handles without proxies.
 */
typedef void (*ava_guestlib_handle_gone_fn)(const struct ava_guestlib_api *api,
					    uint16_t handle_type, const void *handle);

/*
 * An API's hand-written guest code, as the runtime calls it: one table per
 * API, defined once by that code as ava_<api>_guest_ops (declared in the
 * generated ava_<api>.h, whose descriptor points at it). An API with
 * several modules composes them in its table's functions, in an order it
 * chooses (spec/opencl/guest.c). Every member may be NULL: the runtime
 * then does what the spec alone says.
 */
struct ava_guestlib_ops {
	ava_guestlib_map_placer_fn map_placer;
	ava_guestlib_call_filter_fn call_filter;
	ava_guestlib_call_observer_fn call_observer;
	ava_guestlib_handle_gone_fn handle_gone;
	/*
	 * The API's rect shapes (ava_rect buffers; lives forever). Without
	 * them a rect travels empty and the library answers the call.
	 */
	const struct ava_gen_rect_ops *rect;
};

#ifdef __cplusplus
}
#endif

#endif /* AVA_GUESTLIB_H */
