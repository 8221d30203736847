/* SPDX-License-Identifier: MIT */
/*
 * Built into every API server of the sanitizer build (AVA_SANITIZE) only.
 *
 * Vendor libraries may install their own per-thread alternate signal stack:
 * LLVM, which PoCL uses to compile kernels, replaces the one AddressSanitizer
 * gives each thread with a malloc'd one of its own size. When such a thread
 * exits, ASan unmaps "its" stack, which is now a heap block, fails and aborts
 * the process: an API server died whenever a worker thread that had built a
 * program ended with its session. Without ASan's stacks there is nothing of
 * ASan's to replace. ASAN_OPTIONS in the environment still overrides this.
 */
const char *__asan_default_options(void);

__attribute__((used, visibility("default"))) const char *__asan_default_options(void)
{
	return "use_sigaltstack=0";
}
