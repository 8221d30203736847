/* SPDX-License-Identifier: MIT */
/*
 * The shape of avatest's host memory rects (spec/avatest.spec: ava_rect on
 * the ptr of avatest_buffer_read_rect and avatest_buffer_write_rect):
 * region[1] rows of region[0] bytes from ptr, host_row_pitch apart (0: a
 * row's size). The same source is in the guest library (registered by
 * avatest-guest.c) and in the API server (registered by avatest-server.c).
 */
#include <errno.h>
#include <string.h>

#include "avatest.h"
#include "avatest-rect.h"

/* Argument positions, from avatest.h (the same for both functions). */
enum {
	RECT_REGION = 4,
	RECT_HOST_ROW_PITCH = 5,
};

static int is_rect_fn(const struct ava_abi_fn *fn)
{
	return strcmp(fn->name, "avatest_buffer_read_rect") == 0 ||
	       strcmp(fn->name, "avatest_buffer_write_rect") == 0;
}

/*
 * A NULL region or a pitch smaller than a row is the library's to refuse
 * (AVATEST_ERR_INVALID): the call goes with no bytes and a NULL pointer,
 * which the library refuses the same way.
 */
static int avatest_rect_shape(const struct ava_abi_fn *fn, unsigned arg, void *const *args,
			      struct ava_gen_rect *ret)
{
	const size_t *region = *(const size_t *const *)args[RECT_REGION];
	uint64_t pitch = *(const size_t *)args[RECT_HOST_ROW_PITCH];

	(void)arg;
	memset(ret, 0, sizeof(*ret));
	if (!is_rect_fn(fn))
		return -ENOENT;
	if (!region)
		return -EINVAL;
	if (pitch == 0)
		pitch = region[0];
	if (pitch < region[0])
		return -EINVAL;
	ret->row_bytes = region[0];
	ret->rows = region[1];
	ret->slices = 1;
	ret->row_pitch = pitch;
	ret->slice_pitch = pitch * region[1];
	return 0;
}

/* Packed rows at ptr: a host row pitch of 0 says so. */
static void avatest_rect_pack(const struct ava_abi_fn *fn, unsigned arg, void *const *args)
{
	(void)arg;
	if (is_rect_fn(fn))
		*(size_t *)args[RECT_HOST_ROW_PITCH] = 0;
}

const struct ava_gen_rect_ops ava_avatest_rect_ops = {
	.shape = avatest_rect_shape,
	.pack = avatest_rect_pack,
};
