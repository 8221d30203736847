/* SPDX-License-Identifier: MIT */
/*
 * apiserver/devtime.c's accounting on its own: what each completion is
 * charged (ava_apiserver_devtime_charge). A tenant is charged busy time that
 * does not overlap: never twice for the same nanoseconds, nothing for a call
 * that failed, and a completion that ends before the previous one adds
 * nothing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "devtime.h"

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

int main(void)
{
	uint64_t prev = 0;

	/* Alone: its whole span. */
	CHECK(ava_apiserver_devtime_charge(&prev, 100, 250, true) == 150);
	CHECK(prev == 250);
	/* Overlapping the previous one: only what lies past its end. */
	CHECK(ava_apiserver_devtime_charge(&prev, 200, 300, true) == 50);
	CHECK(prev == 300);
	/* Inside the previous one's span: nothing, and the end does not move back. */
	CHECK(ava_apiserver_devtime_charge(&prev, 220, 280, true) == 0);
	CHECK(prev == 300);
	/* Failed: nothing, and it does not count as busy time. */
	CHECK(ava_apiserver_devtime_charge(&prev, 400, 900, false) == 0);
	CHECK(prev == 300);
	/* After a gap: its whole span again. */
	CHECK(ava_apiserver_devtime_charge(&prev, 1000, 1010, true) == 10);
	CHECK(prev == 1010);

	printf("devtime: all checks passed\n");
	return 0;
}
