/* SPDX-License-Identifier: MIT */
/*
 * The guest runtime's call context and pipeline, without a router: what the
 * application gets from calls answered in the guest, the context's
 * ownership rules, and the native errors its finish writes.
 */
#include <errno.h>
#include <stdlib.h>

#include <ava/guestlib.h>

#include "call.h"
#include "check.h"
#include "fake_api.h"

static const struct ava_guestlib_ops ops;
static const struct ava_guestlib_api api_unsupported = { .abi = &fake_abi,
							 .fns = fake_fns,
							 .ops = &ops };
static const struct ava_guestlib_api api_no_router = { .abi = &fake_abi,
						       .fns = fake_fns,
						       .ops = &ops };
static const struct ava_guestlib_api api_filtered = { .abi = &fake_abi,
						      .fns = fake_fns,
						      .ops = &ops };
static const struct ava_guestlib_api api_ctx = { .abi = &fake_abi, .fns = fake_fns, .ops = &ops };

static int n_observed;
static int n_filtered;

static void observer(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args,
		     void *ret)
{
	(void)api, (void)fn_id, (void)args, (void)ret;
	n_observed++;
}

/*
 * Answers f_plain(42, ...) on api_filtered itself, after making a call of
 * its own (f_plain(7, ...)), which it must not see again.
 */
static int filter(const struct ava_guestlib_api *api, uint32_t fn_id, void *const *args, void *ret)
{
	if (api != &api_filtered || fn_id != FN_PLAIN)
		return 0;
	n_filtered++;
	if (*(const int32_t *)args[0] != 42)
		return 0;
	int32_t x = 7, err = 1, r = 1;
	int32_t *errp = &err;
	void *inner[] = { &x, &errp };
	ava_guestlib_call(api, FN_PLAIN, inner, &r);
	CHECK_INT(r, FAKE_ERR(AVA_STATUS_SERVER_GONE)); /* no router: the inner call went out */
	*(int32_t *)ret = 1234;
	return 1;
}

/* The APIs' hand code: the same observer and filter for each. */
static const struct ava_guestlib_ops ops = { .call_filter = filter, .call_observer = observer };

/* An unsupported function gets the spec's error without a connection. */
static void test_unsupported(void)
{
	int32_t r = 1;
	ava_guestlib_call(&api_unsupported, FN_UNSUPPORTED, NULL, &r);
	CHECK_INT(r, FAKE_ERR(AVA_STATUS_UNSUPPORTED));
	CHECK_INT(n_observed, 0);
}

/* No router: SERVER_GONE's native error in ret and errcode; not observed. */
static void test_no_router(void)
{
	int32_t x = 5, err = 1, r = 1;
	int32_t *errp = &err;
	void *args[] = { &x, &errp };
	ava_guestlib_call(&api_no_router, FN_PLAIN, args, &r);
	CHECK_INT(r, FAKE_ERR(AVA_STATUS_SERVER_GONE));
	CHECK_INT(err, FAKE_ERR(AVA_STATUS_SERVER_GONE));
	CHECK_INT(ava_guestlib_connect(&api_no_router, 1), -ECONNREFUSED);
	/* a NULL errcode pointer is left alone */
	errp = NULL;
	r = 1;
	ava_guestlib_call(&api_no_router, FN_PLAIN, args, &r);
	CHECK_INT(r, FAKE_ERR(AVA_STATUS_SERVER_GONE));
	CHECK_INT(n_observed, 0);
}

/* The filter answers; its own calls are made, not filtered again. */
static void test_filter(void)
{
	int32_t x = 42, err = 1, r = 1;
	int32_t *errp = &err;
	void *args[] = { &x, &errp };
	ava_guestlib_call(&api_filtered, FN_PLAIN, args, &r);
	CHECK_INT(r, 1234);
	CHECK_INT(n_filtered, 1);
	CHECK_INT(err, 1); /* the filter's answer is all the application gets */
	/* declined: the runtime makes the call (no router here) */
	x = 3;
	ava_guestlib_call(&api_filtered, FN_PLAIN, args, &r);
	CHECK_INT(n_filtered, 2);
	CHECK_INT(r, FAKE_ERR(AVA_STATUS_SERVER_GONE));
}

/* What a context owns goes with it; what travels is replaced, args stay. */
static void test_context_ownership(void)
{
	int32_t h = 9;
	int64_t hs[2] = { 1, 2 };
	int64_t *hsp = hs;
	void *args[] = { &h, &hsp };
	int32_t r = 0;
	struct ava_guestlib_call *call =
	    ava_guestlib_call_new(&api_ctx, FN_HANDLE, args, &r, false);
	CHECK(call);
	CHECK(call->send_args == (void *const *)args);
	CHECK_INT(call->status, AVA_STATUS_OK);
	CHECK_INT(call->bad.arg, -1);

	ava_guestlib_call_send_arg(call, 0, (void *)(uintptr_t)77);
	CHECK(call->send_args == call->send_buf);
	CHECK_INT((uintptr_t) * (void *const *)call->send_args[0], 77);
	CHECK(call->send_args[1] == args[1]); /* the others still travel as they are */
	CHECK(args[0] == &h && h == 9);

	for (int k = 0; k < 2 * AVA_ABI_MAX_ARGS; k++)
		CHECK_INT(ava_guestlib_call_own(call, malloc(16)), 0);
	/* full (never, by construction): refused, and freed */
	CHECK_INT(ava_guestlib_call_own(call, malloc(16)), -ENOMEM);
	CHECK_INT(ava_guestlib_call_own(call, NULL), -ENOMEM);
	CHECK_INT(call->n_owned, 2 * AVA_ABI_MAX_ARGS);
	call->blob_caps[1] = calloc(4, sizeof(uint64_t));
	CHECK(ava_wire_put_u64(&call->b, 1) == 0);
	ava_guestlib_call_free(call); /* the ASan build checks that nothing leaks */
	ava_guestlib_call_free(NULL);
}

/* finish: the status's native error, a blamed argument's own, or nothing when answered. */
static void test_finish(void)
{
	int32_t h = 0;
	int64_t *hsp = NULL;
	void *args[] = { &h, &hsp };
	int32_t r = 0;

	struct ava_guestlib_call *call =
	    ava_guestlib_call_new(&api_ctx, FN_HANDLE, args, &r, false);
	CHECK(call);
	CHECK_INT(ava_guestlib_call_fail(call, AVA_STATUS_REFUSED), -1);
	ava_guestlib_call_finish(call);
	CHECK_INT(r, FAKE_ERR(AVA_STATUS_REFUSED));
	ava_guestlib_call_free(call);

	call = ava_guestlib_call_new(&api_ctx, FN_HANDLE, args, &r, false);
	call->bad.arg = 0;
	call->bad.type = 1;
	(void)ava_guestlib_call_fail(call, AVA_STATUS_BAD_HANDLE);
	ava_guestlib_call_finish(call);
	CHECK_INT(r, fake_arg0_bad);
	ava_guestlib_call_free(call);

	/* no argument blamed: the type's BAD_HANDLE value */
	call = ava_guestlib_call_new(&api_ctx, FN_HANDLE, args, &r, false);
	(void)ava_guestlib_call_fail(call, AVA_STATUS_BAD_HANDLE);
	ava_guestlib_call_finish(call);
	CHECK_INT(r, FAKE_ERR(AVA_STATUS_BAD_HANDLE));
	ava_guestlib_call_free(call);

	r = 55;
	call = ava_guestlib_call_new(&api_ctx, FN_HANDLE, args, &r, false);
	(void)ava_guestlib_call_fail(call, AVA_STATUS_INTERNAL);
	call->answered = true;
	ava_guestlib_call_finish(call);
	CHECK_INT(r, 55);
	ava_guestlib_call_free(call);
}

int main(void)
{
	/* nothing listens there: every call that leaves the guest fails with SERVER_GONE */
	setenv("AVA_ROUTER_SOCKET", "/nonexistent/ava-test-router.sock", 1);
	test_unsupported();
	test_no_router();
	test_filter();
	test_context_ownership();
	test_finish();
	return 0;
}
