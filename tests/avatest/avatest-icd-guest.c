/* SPDX-License-Identifier: MIT */
/*
 * The guest library of avatest_icd (spec/avatest_icd.spec) as an ICD-style
 * library: the export that hands a loader the dispatch table every proxy
 * handle starts with (ava_guest_export). avagen defines the table itself
 * (ava_handle_proxy_table), each member pointing to the guest library's
 * function of its name. The library is linked with -Bsymbolic, so those are
 * its own stubs even where the native library defines the same names.
 */
#include "avatest-icd.h"

/* Generated (avatest_icd_guest.c). */
extern const struct avatest_icd_dispatch ava_avatest_icd_dispatch;

__attribute__((visibility("default"))) const struct avatest_icd_dispatch *
avatest_icd_get_dispatch(void)
{
	return &ava_avatest_icd_dispatch;
}
