/* SPDX-License-Identifier: MIT */
/*
 * A wire-only function of the avatest spec: how avatest_log_values, which
 * is variadic and so cannot travel, reaches the server. The guest library
 * implements avatest_log_values with it (avatest-guest.c); the server source
 * runs it (avatest-server.c). Applications do not call it: its spec entry
 * is ava_private, so the guest library does not export it.
 */
#ifndef AVATEST_WIRE_H
#define AVATEST_WIRE_H

#include "avatest.h"

/* avatest_log_values(dev, n, values[0], ..., values[n - 1]). */
avatest_status avatest_wire_log_values(avatest_device dev, const int32_t *values, size_t n);

#endif /* AVATEST_WIRE_H */
