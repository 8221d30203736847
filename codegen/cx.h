/* SPDX-License-Identifier: MIT */
/*
 * libclang conveniences shared by the spec front end (parse.c) and the
 * starter-spec writer (infer.c). Internal to the ava_codegen library.
 *
 * Strings returned as char * are new allocations the caller frees.
 */
#ifndef AVA_CODEGEN_CX_H
#define AVA_CODEGEN_CX_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include <clang-c/Index.h>

#include "codegen.h"

/* Returns a copy of s and disposes of it. */
char *ava_codegen_cx_str_take(CXString s);
char *ava_codegen_cx_cursor_name(CXCursor c);
char *ava_codegen_cx_type_name(CXType t);
bool ava_codegen_cx_name_is(CXCursor c, const char *name);

bool ava_codegen_cx_is_pointer(CXType t);
/* The pointed-to type as written (typedef names kept). */
CXType ava_codegen_cx_pointee(CXType t);
bool ava_codegen_cx_is_function_pointer(CXType t);
/* A pointer to a struct or union whose body is never seen. */
bool ava_codegen_cx_is_opaque_pointer(CXType t);
/* A typedef of an opaque pointer; *ret_decl gets the typedef that names the pointer. */
bool ava_codegen_cx_opaque_typedef(CXType t, CXCursor *ret_decl);
bool ava_codegen_cx_is_char(CXType t);
/* Integer, enum, float, bool: a value that travels as its bytes. */
bool ava_codegen_cx_is_arithmetic(CXType t);
bool ava_codegen_cx_is_record(CXType t);
long long ava_codegen_cx_type_size(CXType t);
/* Type spelling without top-level const. */
char *ava_codegen_cx_unqualified_name(CXType t);

/* Prints "file:line:col: error: " + message at loc's expansion location. */
void ava_codegen_cx_verror(FILE *err, CXSourceLocation loc, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/*
 * Parses path as C with avagen's arguments (-D__AVAGEN__, the spec include
 * directory, opts' -I and -D, the clang resource directory). Prints every
 * error diagnostic to err and counts them in *n_errors. Returns the unit
 * (dispose of it) or NULL; *ret_err is 0, -ENOENT (cannot read), -EIO
 * (libclang failed) or -EINVAL (the file has errors; the unit is returned).
 */
CXTranslationUnit ava_codegen_cx_parse(const struct ava_codegen_options *opts, CXIndex index,
				       const char *path, FILE *err, unsigned *n_errors,
				       int *ret_err);

#endif /* AVA_CODEGEN_CX_H */
