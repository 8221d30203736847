/* SPDX-License-Identifier: MIT */
/* A tiny assertion kit for the common/ tests: a failed check prints where and exits 1. */
#ifndef AVA_TEST_CHECK_H
#define AVA_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

/* Compares two integers and prints both on failure. */
#define CHECK_INT(a, b)                                                                   \
	do {                                                                              \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);           \
		if (check_a_ != check_b_) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", \
				__FILE__, __LINE__, #a, #b, check_a_, check_b_);          \
			exit(1);                                                          \
		}                                                                         \
	} while (0)

/* Checks that string s contains sub. */
#define CHECK_HAS(s, sub)                                                                        \
	do {                                                                                     \
		const char *check_s_ = (s), *check_sub_ = (sub);                                 \
		if (!check_s_ || !strstr(check_s_, check_sub_)) {                                \
			fprintf(stderr, "%s:%d: check failed: \"%s\" does not contain \"%s\"\n", \
				__FILE__, __LINE__, check_s_ ? check_s_ : "(null)", check_sub_); \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

#endif /* AVA_TEST_CHECK_H */
