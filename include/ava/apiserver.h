/* SPDX-License-Identifier: MIT */
/*
 * The API server runtime: main loop, per-session handle tables, one worker
 * thread per guest thread, callbacks, clean-up at session end. Linked with
 * the generated server dispatch source and the real vendor library.
 *
 * Command line of a generated server: ava-server-<api> --fd N
 *   (N: connected socket to the router; started by avarouterd)
 *   ava-server-<api> --print-abi   prints the compiled-in ABI manifest.
 */
#ifndef AVA_APISERVER_H
#define AVA_APISERVER_H

#include "gen.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Calls the real function with args (args[i] points at argument i); writes the result to ret. */
typedef void (*ava_apiserver_invoke_fn)(void *const *args, void *ret);
/* Destroys one object at session end (the spec's ava_deallocates function for its type). */
typedef void (*ava_apiserver_release_fn)(void *obj);

struct ava_apiserver_fn {
	const struct ava_abi_fn *abi;
	ava_gen_plan_fn plan;		/* NULL: no buffers */
	ava_apiserver_invoke_fn invoke; /* NULL for unsupported functions */
	struct ava_gen_fn_errors errors;
	/*
	 * AVA_ABI_FN_DEVICE_TIME_UNTIL: returns once the device work of a call
	 * is done (ava_device_time_until's function, called with the object of
	 * argument abi->until_arg). Runs on the server's completion thread.
	 */
	ava_apiserver_release_fn device_wait;
};

struct ava_apiserver_callback {
	const struct ava_abi_callback *abi;
	void (*trampoline)(void); /* generated function of the callback's C type, cast */
	/*
	 * Element counts of the callback's buffers, from its scalar arguments
	 * (plan->count only); NULL: no buffers.
	 */
	ava_gen_plan_fn plan;
};

struct ava_apiserver_ops;

struct ava_apiserver_api {
	const struct ava_abi_api *abi;
	const struct ava_apiserver_fn *fns;		/* abi->n_fns entries */
	const struct ava_apiserver_callback *callbacks; /* abi->n_callbacks entries */
	const ava_apiserver_release_fn
	    *release; /* [handle type], 1 + n_handle_types; may hold NULL */
	/*
	 * Adds a library reference ([handle type], like release; may be NULL):
	 * keeps an object a completion waits on alive until release drops it.
	 */
	const ava_apiserver_release_fn *retain;
	const char *spec_path; /* for --print-abi banners */
	/* The API's hand code (ava_<api>_server_ops), or NULL when it has none. */
	const struct ava_apiserver_ops *ops;
};

/*
 * An API's completion events, which late buffers (AVA_ABI_V_LATE, the spec's
 * ava_late_data) wait for. Hand-written per API next to its spec
 * (spec/opencl/events.c), reached through the API's ops table. Every
 * function may be called from any thread.
 */
struct ava_apiserver_event_ops {
	/* 1: the event completed; 0: not yet; -1: it ended in an error. */
	int (*status)(void *event);
	/*
	 * Arranges for notify() to be called, on any thread, once the event
	 * completes or fails (at once if it already has). Returns 0 or < 0.
	 */
	int (*on_complete)(void *event, void (*notify)(void));
	void (*retain)(void *event);
	void (*release)(void *event);
};

/*
 * Runs each call of a session in place of the function's invoke (state an
 * API keeps per session that no handle holds: OpenCL's SVM allocations,
 * spec/opencl/svm-server.c). fn->id is the call's id (AVA_<API>_FN_<name>
 * in the generated ava_<api>.h, whose ava_<api>_args_<name>(args) gives the
 * arguments typed). It may check args and answer in ret itself, or call
 * invoke(args, ret), possibly with arguments of its own; what it leaves in
 * args and ret is what the reply says. Called on the session's worker
 * thread.
 */
typedef void (*ava_apiserver_call_wrapper_fn)(uint32_t session_id, const struct ava_abi_fn *fn,
					      ava_apiserver_invoke_fn invoke, void *const *args,
					      void *ret);

/*
 * Told when a session has ended and none of its calls runs any more, before
 * the objects it still holds are released (so state kept per session can be
 * let go while they live).
 */
typedef void (*ava_apiserver_session_end_fn)(uint32_t session_id);

/*
 * An API's hand-written server code, as the runtime calls it: one table per
 * API, defined once by that code as ava_<api>_server_ops (declared in the
 * generated ava_<api>.h, whose descriptor points at it; it lives forever).
 * An API with several modules composes them in its table's functions
 * (spec/opencl/server.c). Every member may be NULL: the runtime then does
 * what the spec alone says.
 */
struct ava_apiserver_ops {
	/* Completion events, which late buffers wait for; NULL: no late buffers. */
	const struct ava_apiserver_event_ops *events;
	/*
	 * Rect shapes (ava_rect buffers; needs pack). Without them every rect
	 * call gets a NULL pointer.
	 */
	const struct ava_gen_rect_ops *rect;
	ava_apiserver_call_wrapper_fn call_wrapper; /* NULL: each call runs invoke */
	ava_apiserver_session_end_fn session_end;
};

/* Entry point of a generated server's main(). Returns the process exit code. */
int ava_apiserver_main(const struct ava_apiserver_api *api, int argc, char **argv);

/*
 * Called by generated callback trampolines on whatever thread the vendor
 * library runs the callback: forwards it to the guest and waits for its
 * result. args[i] points at callback argument i; input buffers travel with
 * the element counts the callback's plan computes. ret (may be NULL)
 * receives the guest's result, or zeroes if the session is gone.
 */
void ava_apiserver_callback(const struct ava_apiserver_api *api, uint32_t cb_id, void *const *args,
			    void *ret);

#ifdef __cplusplus
}
#endif

#endif /* AVA_APISERVER_H */
