/* SPDX-License-Identifier: MIT */
/*
 * avatest-icd: calls avatest the way an ICD loader calls a vendor library,
 * through the dispatch table at the start of every handle, and checks what
 * handle proxies promise (spec/avatest_icd.spec: ava_handle_proxy and
 * ava_guest_export).
 *
 * Linked against libavatest-icd.so.1 (the native library under a name of
 * its own), so `ava-run -- avatest-icd` replaces it with the guest library
 * of avatest_icd. The output is the same natively and remoted
 * (tests/avatest/run-diff.sh); with AVATEST_EXPECT_REMOTE set it also fails
 * unless it was remoted.
 */
#define _GNU_SOURCE
#include "avatest-check.h"
#include "avatest-icd.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WATCHDOG_S 120

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

int main(void)
{
	const struct avatest_icd_dispatch *table = avatest_icd_get_dispatch();
	avatest_device dev0 = NULL, dev1 = NULL, dev2, peer = NULL;
	avatest_config cfg = { .flags = 0, .priority = 0, .peer = NULL, .gain = 1.0 };
	avatest_status err = AVATEST_ERR_REMOTE;
	avatest_event ev = NULL;
	avatest_buffer buf;
	int64_t sum = -1;
	int32_t state = -1;
	size_t len = 0;
	char name[AVATEST_NAME_MAX];
	bool remoted;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(WATCHDOG_S);
	/* Only the guest library answers a function without a spec entry. */
	remoted = avatest_unspecced(0) == AVATEST_ERR_UNSUPPORTED;
	if (getenv("AVATEST_EXPECT_REMOTE") && !remoted) {
		fprintf(stderr, "avatest-icd: FAIL: AVATEST_EXPECT_REMOTE is set but the native "
				"library is loaded\n");
		return 1;
	}
	printf("avatest-icd: avatest through the dispatch table of its handles\n");
	printf("the library has a dispatch table: %s\n", yes(table != NULL));
	check(table != NULL, "avatest_icd_get_dispatch");
	if (!table)
		return 1;

	printf("\n== every handle starts with the library's table\n");
	expect("device_open(0)", avatest_device_open(0, &dev0), AVATEST_OK);
	expect("device_open(1)", avatest_device_open(1, &dev1), AVATEST_OK);
	if (!dev0 || !dev1)
		return 1;
	printf("  dev0 and dev1 start with it: %s\n",
	       yes(AVATEST_ICD_DISPATCH(dev0) == table && AVATEST_ICD_DISPATCH(dev1) == table));
	check(AVATEST_ICD_DISPATCH(dev0) == table && AVATEST_ICD_DISPATCH(dev1) == table,
	      "a device starts with the table");
	memset(name, 0, sizeof(name));
	expect("dev1's table: device_name",
	       AVATEST_ICD_DISPATCH(dev1)->avatest_device_name(dev1, name, sizeof(name), &len),
	       AVATEST_OK);
	printf("  name = \"%s\", ret_len = %zu\n", name, len);
	check(strcmp(name, "avatest-device-1") == 0, "a call through the table");
	buf = avatest_buffer_new(dev0, 64, &err);
	printf("buffer_new(dev0, 64): err = %s, starts with the table: %s\n", status_name(err),
	       yes(buf && AVATEST_ICD_DISPATCH(buf) == table));
	check(err == AVATEST_OK && buf && AVATEST_ICD_DISPATCH(buf) == table,
	      "a buffer starts with the table");
	if (buf) {
		expect("  buf's table: buffer_size",
		       AVATEST_ICD_DISPATCH(buf)->avatest_buffer_size(buf, &len), AVATEST_OK);
		printf("  size = %zu\n", len);
		expect("  buf's table: buffer_release",
		       AVATEST_ICD_DISPATCH(buf)->avatest_buffer_release(buf), AVATEST_OK);
	}

	printf("\n== the same object is the same handle, however it comes back\n");
	cfg.peer = dev1;
	expect("configure(dev0, peer dev1)", avatest_configure(dev0, &cfg), AVATEST_OK);
	memset(&cfg, 0, sizeof(cfg));
	expect("get_config(dev0)", avatest_get_config(dev0, &cfg), AVATEST_OK);
	printf("  peer is dev1: %s\n", yes(cfg.peer == dev1));
	check(cfg.peer == dev1, "a struct field's handle");
	expect("dev0's table: get_info(PEER)",
	       AVATEST_ICD_DISPATCH(dev0)->avatest_device_get_info(dev0, AVATEST_DEVICE_INFO_PEER,
								   sizeof(peer), &peer, NULL),
	       AVATEST_OK);
	printf("  peer is dev1: %s\n", yes(peer == dev1));
	check(peer == dev1, "an info value's handle");
	{
		const avatest_device both[2] = { dev0, dev1 };
		expect("sum_indices(dev0, dev1)", avatest_sum_indices(both, 2, &sum), AVATEST_OK);
		printf("  sum = %" PRId64 "\n", sum);
		check(sum == 1, "an array of handles");
	}
	{
		const int64_t props[] = { AVATEST_PROP_INDEX, 2, AVATEST_PROP_PEER,
					  (int64_t)(intptr_t)dev1, 0 };
		dev2 = avatest_device_create_with_properties(props, &err);
		printf("create_with_properties(index 2, peer dev1): err = %s, starts with the "
		       "table: %s\n",
		       status_name(err), yes(dev2 && AVATEST_ICD_DISPATCH(dev2) == table));
		check(err == AVATEST_OK && dev2 && AVATEST_ICD_DISPATCH(dev2) == table,
		      "create_with_properties");
		peer = NULL;
		if (dev2) {
			expect("  get_info(PEER)",
			       avatest_device_get_info(dev2, AVATEST_DEVICE_INFO_PEER, sizeof(peer),
						       &peer, NULL),
			       AVATEST_OK);
			printf("  peer is dev1: %s\n", yes(peer == dev1));
			check(peer == dev1, "a handle in a property list");
			expect("  device_close", avatest_device_close(dev2), AVATEST_OK);
		}
	}

	printf("\n== references, and handles that name nothing\n");
	expect("device_retain(dev1)", avatest_device_retain(dev1), AVATEST_OK);
	expect("device_close(dev1) (one reference left)", avatest_device_close(dev1), AVATEST_OK);
	expect("dev1's table: device_name",
	       AVATEST_ICD_DISPATCH(dev1)->avatest_device_name(dev1, name, sizeof(name), &len),
	       AVATEST_OK);
	expect("device_close(dev1) (the last one)", table->avatest_device_close(dev1), AVATEST_OK);
	expect("device_name(dev1) (released)", avatest_device_name(dev1, name, sizeof(name), &len),
	       AVATEST_ERR_INVALID_HANDLE);
	expect("device_name(a pointer into the stack)",
	       avatest_device_name((avatest_device)(void *)&cfg, name, sizeof(name), &len),
	       AVATEST_ERR_INVALID_HANDLE);
	expect("user_event_new", avatest_user_event_new(&ev), AVATEST_OK);
	printf("  starts with the table: %s\n", yes(ev && AVATEST_ICD_DISPATCH(ev) == table));
	check(ev && AVATEST_ICD_DISPATCH(ev) == table, "an event starts with the table");
	expect("  event's table: event_status",
	       AVATEST_ICD_DISPATCH(ev)->avatest_event_status(ev, &state), AVATEST_OK);
	printf("  status = %" PRId32 "\n", state);
	expect("  event_release", table->avatest_event_release(ev), AVATEST_OK);
	/* ava_invalid_handle_error_of: a dead event is AVATEST_ERR_INVALID_EVENT, not _HANDLE. */
	expect("event_status(released event)", avatest_event_status(ev, &state),
	       AVATEST_ERR_INVALID_EVENT);
	expect("event_status(a pointer into the stack)",
	       avatest_event_status((avatest_event)(void *)&cfg, &state),
	       AVATEST_ERR_INVALID_EVENT);
	expect("device_close(dev0)", avatest_device_close(dev0), AVATEST_OK);

	printf("\n%d checks, %d failed\n", n_checks, n_failed);
	return n_failed ? 1 : 0;
}
