/* SPDX-License-Identifier: MIT */
/*
 * Rect arguments and rect mappings in the guest (guestlib/rect.c): the
 * packed size from the API's shape, an input's packed copy in place of the
 * application's pointer, nothing at all where the arguments describe no
 * rect.
 */
#include <ava/guestlib.h>

#include "call.h"
#include "check.h"
#include "fake_api.h"
#include "rect.h"

static int shape_fails;

/* Two rows of 3 bytes, 5 apart, from offset 1 (a mapping: 2 rows of 4, 8 apart). */
static int shape(const struct ava_abi_fn *fn, unsigned arg, void *const *args,
		 struct ava_gen_rect *ret)
{
	(void)args;
	CHECK(fn == &fake_abi_fns[FN_RECT]);
	if (shape_fails)
		return -1;
	if (arg == fn->n_args)
		*ret =
		    (struct ava_gen_rect){ .row_bytes = 4, .rows = 2, .slices = 1, .row_pitch = 8 };
	else
		*ret = (struct ava_gen_rect){
			.offset_bytes = 1, .row_bytes = 3, .rows = 2, .slices = 1, .row_pitch = 5
		};
	return 0;
}

static const struct ava_gen_rect_ops ops = { .shape = shape };
static const struct ava_guestlib_ops guest_ops = { .rect = &ops };
static const struct ava_guestlib_api api = { .abi = &fake_abi, .fns = fake_fns, .ops = &guest_ops };
/* The same API without hand code */
static const struct ava_guestlib_api api_no_ops = { .abi = &fake_abi, .fns = fake_fns };

static void test_args(void)
{
	unsigned char in[16], out[16];
	for (unsigned k = 0; k < sizeof(in); k++)
		in[k] = (unsigned char)k;
	void *inp = in, *outp = out;
	void *args[] = { &inp, &outp };
	int32_t r = 0;

	struct ava_guestlib_call *call = ava_guestlib_call_new(&api, FN_RECT, args, &r, false);
	CHECK(call);
	CHECK_INT(ava_guestlib_rect_prepare(call), 0);
	CHECK(call->rect_ok[0] && call->rect_ok[1]);
	CHECK_INT(call->plan.count[0], 6);
	CHECK_INT(call->plan.count[1], 6);
	const unsigned char *packed = *(const unsigned char *const *)call->send_args[0];
	CHECK(packed != in);
	const unsigned char want[6] = { 1, 2, 3, 6, 7, 8 };
	CHECK(memcmp(packed, want, 6) == 0);
	CHECK(call->send_args[1] == args[1]); /* an output travels as it is */
	CHECK_INT(call->n_owned, 1);
	ava_guestlib_call_free(call);

	/* no rect described: nothing travels, the library answers */
	shape_fails = 1;
	call = ava_guestlib_call_new(&api, FN_RECT, args, &r, false);
	call->plan.count[0] = 99;
	CHECK_INT(ava_guestlib_rect_prepare(call), 0);
	CHECK(!call->rect_ok[0] && !call->rect_ok[1]);
	CHECK_INT(call->plan.count[0], 0);
	CHECK(call->send_args == (void *const *)args);
	ava_guestlib_call_free(call);
	shape_fails = 0;

	/* a NULL pointer: no shape asked for */
	inp = NULL;
	call = ava_guestlib_call_new(&api, FN_RECT, args, &r, false);
	CHECK_INT(ava_guestlib_rect_prepare(call), 0);
	CHECK(!call->rect_ok[0] && call->rect_ok[1]);
	CHECK_INT(call->plan.count[0], 0);
	ava_guestlib_call_free(call);
}

static void test_map(void)
{
	struct ava_gen_rect rect;
	uint64_t bytes = 0, extent = 0;
	void *args[2] = { NULL, NULL };
	CHECK(ava_guestlib_rect_of_map(&api, &fake_abi_fns[FN_RECT], args, &rect, &bytes, &extent));
	CHECK_INT(bytes, 8);
	CHECK_INT(extent, 12);
	shape_fails = 1;
	CHECK(
	    !ava_guestlib_rect_of_map(&api, &fake_abi_fns[FN_RECT], args, &rect, &bytes, &extent));
	CHECK_INT(extent, 0);
	shape_fails = 0;
}

/* Without rect ops, every rect is "no rect". */
static void test_no_ops(void)
{
	unsigned char in[16] = { 0 };
	void *inp = in, *outp = in;
	void *args[] = { &inp, &outp };
	int32_t r = 0;
	struct ava_guestlib_call *call =
	    ava_guestlib_call_new(&api_no_ops, FN_RECT, args, &r, false);
	CHECK_INT(ava_guestlib_rect_prepare(call), 0);
	CHECK(!call->rect_ok[0] && !call->rect_ok[1]);
	CHECK_INT(call->plan.count[0], 0);
	ava_guestlib_call_free(call);
}

int main(void)
{
	test_no_ops();
	test_args();
	test_map();
	return 0;
}
