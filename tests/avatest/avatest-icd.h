/* SPDX-License-Identifier: MIT */
/*
 * avatest as an ICD-style library: every object it hands out starts with a
 * pointer to the library's dispatch table, the way an OpenCL vendor library
 * serves the ICD loader, so that a loader can call the library that made a
 * handle through the handle alone. Remoted (spec/avatest_icd.spec:
 * ava_handle_proxy), the guest library's proxies start with its own table.
 */
#ifndef AVATEST_ICD_H
#define AVATEST_ICD_H

#include "avatest.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Each member is named after the function it points to, as in OpenCL's ICD
 * table, so that avagen fills the guest library's table from the spec
 * (ava_handle_proxy_table).
 */
struct avatest_icd_dispatch {
	avatest_status (*avatest_device_close)(avatest_device dev);
	avatest_status (*avatest_device_retain)(avatest_device dev);
	avatest_status (*avatest_device_name)(avatest_device dev, char *buf, size_t buf_len,
					      size_t *ret_len);
	avatest_status (*avatest_device_get_info)(avatest_device dev, int32_t what, size_t size,
						  void *value, size_t *ret_size);
	avatest_status (*avatest_buffer_size)(avatest_buffer buf, size_t *ret_size);
	avatest_status (*avatest_buffer_release)(avatest_buffer buf);
	avatest_status (*avatest_event_status)(avatest_event ev, int32_t *ret_status);
	avatest_status (*avatest_event_release)(avatest_event ev);
};

/* The dispatch table of this library (what a loader asks a vendor library for). */
const struct avatest_icd_dispatch *avatest_icd_get_dispatch(void);

/* The table a handle of an ICD-style library starts with. */
#define AVATEST_ICD_DISPATCH(handle) (*(const struct avatest_icd_dispatch *const *)(handle))

#ifdef __cplusplus
}
#endif

#endif /* AVATEST_ICD_H */
