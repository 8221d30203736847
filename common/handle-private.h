/* SPDX-License-Identifier: MIT */
/* Hooks into the handle table for tests in tests/common only. */
#ifndef AVA_HANDLE_PRIVATE_H
#define AVA_HANDLE_PRIVATE_H

#include "ava/handle.h"

/*
 * Sets the generation of slot index (which must exist and not be retired),
 * so tests can reach generation wrap-around without 2^24 removes.
 * Returns 0 or -ENOENT.
 */
int ava_handle_table_set_generation_for_test(ava_handle_table *t, uint32_t index, uint32_t gen)
    __attribute__((warn_unused_result));

#endif /* AVA_HANDLE_PRIVATE_H */
