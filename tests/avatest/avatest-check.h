/* SPDX-License-Identifier: MIT */
/*
 * What avatest's programs (avatest-demo, avatest-features, avatest-icd)
 * share: status names, and checks that count failures and print the
 * result of each call, so a program's output can be diffed native against
 * remoted. Each program includes it once and ends with n_failed ? 1 : 0.
 */
#ifndef AVATEST_CHECK_H
#define AVATEST_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "avatest.h"

static int n_checks;
static int n_failed;

static inline const char *status_name(avatest_status st)
{
	switch (st) {
	case AVATEST_OK:
		return "OK";
	case AVATEST_ERR_INVALID:
		return "ERR_INVALID";
	case AVATEST_ERR_INVALID_HANDLE:
		return "ERR_INVALID_HANDLE";
	case AVATEST_ERR_NO_MEMORY:
		return "ERR_NO_MEMORY";
	case AVATEST_ERR_UNSUPPORTED:
		return "ERR_UNSUPPORTED";
	case AVATEST_ERR_REFUSED:
		return "ERR_REFUSED";
	case AVATEST_ERR_REMOTE:
		return "ERR_REMOTE";
	case AVATEST_ERR_TOO_SMALL:
		return "ERR_TOO_SMALL";
	case AVATEST_ERR_OVER_QUOTA:
		return "ERR_OVER_QUOTA";
	case AVATEST_ERR_INVALID_EVENT:
		return "ERR_INVALID_EVENT";
	}
	return "unknown";
}

/* Counts a check; a failed one prints "FAIL: what". */
static inline void check(bool ok, const char *what)
{
	n_checks++;
	if (!ok) {
		n_failed++;
		printf("FAIL: %s\n", what);
	}
}

/* Prints "label -> STATUS" and checks it against want. */
static inline avatest_status expect(const char *label, avatest_status got, avatest_status want)
{
	printf("%s -> %s\n", label, status_name(got));
	check(got == want, label);
	return got;
}

#endif /* AVATEST_CHECK_H */
