/* SPDX-License-Identifier: MIT */
/*
 * avatest's hand-written guest source: what the guest library needs beyond
 * the spec. Its ops table (ava_avatest_guest_ops) gives the rect shapes;
 * two functions the spec cannot remote are implemented here, in the guest,
 * in place of their unsupported stubs (which are weak):
 *
 * - avatest_log_values is variadic: its values travel as an array, through
 *   the wire-only avatest_wire_log_values (ava_private, not exported);
 * - avatest_get_extension_address answers pointers to functions, and the
 *   server's would mean nothing here: it answers the guest library's own
 *   stubs, whose calls the server runs through its resolver
 *   (ava_resolve_via).
 */
#include <ava/guestlib.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ava_avatest.h"
#include "avatest-rect.h"
#include "avatest-wire.h"

const struct ava_guestlib_ops ava_avatest_guest_ops = {
	.rect = &ava_avatest_rect_ops, /* avatest-rect.c */
};

#define LOG_VALUES_MAX 4096 /* what one call may carry, as ava_buffer's limits would */

__attribute__((visibility("default"))) avatest_status avatest_log_values(avatest_device dev,
									 int32_t count, ...)
{
	avatest_status st;
	int32_t *values;
	va_list ap;

	if (count < 0 || count > LOG_VALUES_MAX)
		return AVATEST_ERR_INVALID;
	values = malloc(((size_t)count ? (size_t)count : 1) * sizeof(*values));
	if (!values)
		return AVATEST_ERR_NO_MEMORY;
	va_start(ap, count);
	for (int32_t i = 0; i < count; i++)
		values[i] = va_arg(ap, int32_t);
	va_end(ap);
	st = avatest_wire_log_values(dev, values, (size_t)count);
	free(values);
	return st;
}

__attribute__((visibility("default"))) void *avatest_get_extension_address(const char *name)
{
	if (name && strcmp(name, "avatest_ext_triple") == 0)
		return (void *)avatest_ext_triple;
	return NULL;
}
