/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for avagen's spec front end: each input is written to a
 * temporary .spec file and read by ava_codegen_parse, exactly as avagen
 * reads a spec (libclang, then our checks); accepted specs also go through
 * every emitter. Errors are expected and go to /dev/null; what must never
 * happen is a crash, a sanitizer report or a hang. Beyond the sanitizers: an
 * accepted spec yields non-empty output for every file.
 *
 * Inputs naming /dev or /proc are skipped: `#include "/dev/zero"` would hang
 * clang, not us, and a spec author can read any file anyway.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <clang-c/Index.h>

#include "codegen.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORACLE(cond)                                                                              \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "%s:%d: oracle failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

static FILE *devnull;
static char tmpdir[] = "/tmp/ava-fuzz-spec-XXXXXX";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* libclang's crash recovery installs signal handlers that fight the sanitizers. */
	clang_toggleCrashRecovery(0);
	devnull = fopen("/dev/null", "w");
	ORACLE(devnull != NULL);
	ORACLE(mkdtemp(tmpdir) != NULL);
	return 0;
}

static void emit_all(const struct ava_codegen_api *api)
{
	int (*const emitters[])(const struct ava_codegen_api *, FILE *) = {
		ava_codegen_emit_guest,
		ava_codegen_emit_server,
		ava_codegen_emit_abi,
		ava_codegen_emit_map,
	};
	size_t i;

	for (i = 0; i < sizeof(emitters) / sizeof(emitters[0]); i++) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		ORACLE(f != NULL);
		ORACLE(emitters[i](api, f) == 0);
		ORACLE(fclose(f) == 0);
		ORACLE(len > 0);
		free(text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const includes[] = { FUZZ_SPEC_INCLUDE_0, FUZZ_SPEC_INCLUDE_1 };
	struct ava_codegen_options opts = {
		.include_dirs = includes,
		.n_include_dirs = 2,
		.err = devnull,
	};
	struct ava_codegen_api *api = NULL;
	char path[sizeof(tmpdir) + 32];
	FILE *f;

	if (memmem(data, size, "/dev", 4) || memmem(data, size, "/proc", 5) ||
	    memmem(data, size, "/sys", 4))
		return 0;
	snprintf(path, sizeof(path), "%s/input.spec", tmpdir);
	f = fopen(path, "wb");
	ORACLE(f != NULL);
	ORACLE(fwrite(data, 1, size, f) == size);
	ORACLE(fclose(f) == 0);

	if (ava_codegen_parse(&opts, path, &api) == 0) {
		ORACLE(api != NULL);
		ORACLE(api->abi.hash == ava_abi_hash(&api->abi));
		emit_all(api);
	} else {
		ORACLE(api == NULL);
	}
	ava_codegen_api_free(api);
	unlink(path);
	return 0;
}
