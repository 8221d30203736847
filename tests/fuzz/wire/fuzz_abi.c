/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the ABI manifest parser. Beyond the sanitizers: an
 * accepted manifest passes ava_abi_api_check, its canonical text parses
 * again to the same text and hash, and the hash is FNV-1a of that text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ava/abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORACLE(cond)                                                                              \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "%s:%d: oracle failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

static char *format(const struct ava_abi_api *api, size_t *ret_len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, ret_len);

	ORACLE(f != NULL);
	ORACLE(ava_abi_format(api, NULL, f) == 0);
	ORACLE(fclose(f) == 0);
	return text;
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ava_abi_api *api, *again;
	char err[256];
	char *text, *text2;
	size_t len, len2;

	err[0] = '\0';
	if (ava_abi_parse((const char *)data, size, "fuzz.abi", &api, err, sizeof(err)) != 0) {
		ORACLE(api == NULL);
		ORACLE(strncmp(err, "fuzz.abi:", 9) == 0);
		return 0;
	}
	ORACLE(ava_abi_api_check(api, err, sizeof(err)) == 0);
	text = format(api, &len);
	ORACLE(api->hash == fnv1a(text, len));
	ORACLE(ava_abi_hash(api) == api->hash);
	ORACLE(ava_abi_parse(text, len, "again.abi", &again, err, sizeof(err)) == 0);
	text2 = format(again, &len2);
	ORACLE(len == len2 && memcmp(text, text2, len) == 0);
	ORACLE(again->hash == api->hash);
	for (uint32_t i = 0; i < api->n_fns; i++)
		ORACLE(ava_abi_find_fn(again, api->fns[i].name) == &again->fns[i]);
	free(text);
	free(text2);
	ava_abi_api_free(again);
	ava_abi_api_free(api);
	return 0;
}
