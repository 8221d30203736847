/* SPDX-License-Identifier: MIT */
/*
 * The guest library of avatest_icd (spec/avatest_icd.spec) as an ICD-style
 * library: the dispatch table every proxy handle starts with
 * (ava_handle_proxy) and the export that hands it to a loader
 * (ava_guest_export). The library is linked with -Bsymbolic, so the
 * table's entries are its own stubs even where the native library defines
 * the same names.
 */
#include "avatest-icd.h"

/* What every handle the application holds points at first. */
extern const struct avatest_icd_dispatch ava_avatest_icd_dispatch;
const struct avatest_icd_dispatch ava_avatest_icd_dispatch = {
	.device_close = avatest_device_close,
	.device_retain = avatest_device_retain,
	.device_name = avatest_device_name,
	.device_get_info = avatest_device_get_info,
	.buffer_size = avatest_buffer_size,
	.buffer_release = avatest_buffer_release,
	.event_status = avatest_event_status,
	.event_release = avatest_event_release,
};

__attribute__((visibility("default"))) const struct avatest_icd_dispatch *
avatest_icd_get_dispatch(void)
{
	return &ava_avatest_icd_dispatch;
}
