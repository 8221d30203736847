/* SPDX-License-Identifier: MIT */
/* libclang conveniences shared by the front end and --infer (see cx.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cx.h"

#ifndef AVAGEN_RESOURCE_DIR
#define AVAGEN_RESOURCE_DIR ""
#endif
#ifndef AVAGEN_SPEC_INCLUDE_DIR
#define AVAGEN_SPEC_INCLUDE_DIR ""
#endif

#define xcalloc	  ava_codegen_xcalloc
#define xstrdup	  ava_codegen_xstrdup
#define xasprintf ava_codegen_xasprintf

char *ava_codegen_cx_str_take(CXString s)
{
	const char *c = clang_getCString(s);
	char *r = xstrdup(c ? c : "");

	clang_disposeString(s);
	return r;
}

char *ava_codegen_cx_cursor_name(CXCursor c)
{
	return ava_codegen_cx_str_take(clang_getCursorSpelling(c));
}

char *ava_codegen_cx_type_name(CXType t)
{
	return ava_codegen_cx_str_take(clang_getTypeSpelling(t));
}

bool ava_codegen_cx_name_is(CXCursor c, const char *name)
{
	CXString s = clang_getCursorSpelling(c);
	const char *n = clang_getCString(s);
	bool r = n && strcmp(n, name) == 0;

	clang_disposeString(s);
	return r;
}

bool ava_codegen_cx_is_pointer(CXType t)
{
	return clang_getCanonicalType(t).kind == CXType_Pointer;
}

/* The pointed-to type as written (typedef names kept), looking through typedefs of t. */
CXType ava_codegen_cx_pointee(CXType t)
{
	for (;;) {
		if (t.kind == CXType_Pointer)
			return clang_getPointeeType(t);
		if (t.kind == CXType_Typedef)
			t = clang_getTypedefDeclUnderlyingType(clang_getTypeDeclaration(t));
		else if (t.kind == CXType_Elaborated)
			t = clang_Type_getNamedType(t);
		else
			return clang_getPointeeType(clang_getCanonicalType(t));
	}
}

bool ava_codegen_cx_is_function_pointer(CXType t)
{
	CXType pt;

	if (!ava_codegen_cx_is_pointer(t))
		return false;
	pt = clang_getCanonicalType(ava_codegen_cx_pointee(t));
	return pt.kind == CXType_FunctionProto || pt.kind == CXType_FunctionNoProto;
}

/* A pointer to a struct or union whose body is never seen. */
bool ava_codegen_cx_is_opaque_pointer(CXType t)
{
	CXType pt;

	if (!ava_codegen_cx_is_pointer(t))
		return false;
	pt = clang_getCanonicalType(ava_codegen_cx_pointee(t));
	return pt.kind == CXType_Record && clang_Type_getSizeOf(pt) == CXTypeLayoutError_Incomplete;
}

/*
 * The typedef that names an opaque pointer, looking through typedefs of
 * typedefs: for `typedef struct s *dev; typedef dev dev2;` both give dev.
 */
bool ava_codegen_cx_opaque_typedef(CXType t, CXCursor *ret_decl)
{
	CXCursor decl;

	if (t.kind != CXType_Typedef || !ava_codegen_cx_is_opaque_pointer(t))
		return false;
	for (;;) {
		CXType under;

		decl = clang_getTypeDeclaration(t);
		under = clang_getTypedefDeclUnderlyingType(decl);
		if (under.kind != CXType_Typedef)
			break;
		t = under;
	}
	*ret_decl = decl;
	return true;
}

bool ava_codegen_cx_is_char(CXType t)
{
	switch (clang_getCanonicalType(t).kind) {
	case CXType_Char_S:
	case CXType_Char_U:
	case CXType_SChar:
	case CXType_UChar:
		return true;
	default:
		return false;
	}
}

/* Integer, enum, float, bool: a value that travels as its bytes. */
bool ava_codegen_cx_is_arithmetic(CXType t)
{
	enum CXTypeKind k = clang_getCanonicalType(t).kind;

	return (k >= CXType_FirstBuiltin && k <= CXType_LastBuiltin && k != CXType_Void) ||
	       k == CXType_Enum;
}

bool ava_codegen_cx_is_record(CXType t)
{
	return clang_getCanonicalType(t).kind == CXType_Record;
}

long long ava_codegen_cx_type_size(CXType t)
{
	return clang_Type_getSizeOf(t);
}

/* Type spelling without top-level const, for locals that copy the value. */
char *ava_codegen_cx_unqualified_name(CXType t)
{
	char *s = ava_codegen_cx_type_name(t);
	size_t n;

	if (!clang_isConstQualifiedType(t))
		return s;
	if (strncmp(s, "const ", 6) == 0) {
		memmove(s, s + 6, strlen(s + 6) + 1);
		return s;
	}
	n = strlen(s);
	if (n >= 5 && strcmp(s + n - 5, "const") == 0) {
		n -= 5;
		while (n && s[n - 1] == ' ')
			n--;
		s[n] = '\0';
	}
	return s;
}

/* The clang resource directory: option, environment, or build-time default. */
static const char *resource_dir(const struct ava_codegen_options *opts)
{
	const char *env = getenv("AVAGEN_RESOURCE_DIR");

	if (opts->resource_dir && *opts->resource_dir)
		return opts->resource_dir;
	if (env && *env)
		return env;
	return *AVAGEN_RESOURCE_DIR ? AVAGEN_RESOURCE_DIR : NULL;
}

/*
 * <bindir>/../include when it holds ava/spec.h: an installed avagen finds
 * the installed spec.h, not the source tree it was built from. Returns a
 * static buffer or NULL.
 */
static const char *installed_include_dir(void)
{
	static char dir[4096];
	char exe[4096], probe[4096 + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	struct stat st;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	if (snprintf(dir, sizeof(dir), "%s/../include", exe) >= (int)sizeof(dir))
		return NULL;
	snprintf(probe, sizeof(probe), "%s/ava/spec.h", dir);
	return stat(probe, &st) == 0 ? dir : NULL;
}

static const char *spec_include_dir(const struct ava_codegen_options *opts)
{
	const char *env = getenv("AVAGEN_SPEC_INCLUDE_DIR");
	const char *installed;

	if (opts->spec_include_dir && *opts->spec_include_dir)
		return opts->spec_include_dir;
	if (env && *env)
		return env;
	installed = installed_include_dir();
	if (installed)
		return installed;
	return *AVAGEN_SPEC_INCLUDE_DIR ? AVAGEN_SPEC_INCLUDE_DIR : NULL;
}

void ava_codegen_cx_verror(FILE *err, CXSourceLocation loc, const char *fmt, va_list ap)
{
	CXString file;
	CXFile f;
	unsigned line, col;
	const char *name;

	clang_getExpansionLocation(loc, &f, &line, &col, NULL);
	file = clang_getFileName(f);
	name = clang_getCString(file);
	fprintf(err, "%s:%u:%u: error: ", name ? name : "<unknown>", line, col);
	vfprintf(err, fmt, ap);
	fputc('\n', err);
	clang_disposeString(file);
}

static void __attribute__((format(printf, 3, 4)))
error_loc(FILE *err, CXSourceLocation loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ava_codegen_cx_verror(err, loc, fmt, ap);
	va_end(ap);
}

CXTranslationUnit ava_codegen_cx_parse(const struct ava_codegen_options *opts, CXIndex index,
				       const char *path, FILE *err, unsigned *n_errors,
				       int *ret_err)
{
	size_t n_args = 0, cap = 16 + 2 * (opts->n_include_dirs + opts->n_defines);
	const char **args = xcalloc(cap, sizeof(*args));
	char **owned = xcalloc(cap, sizeof(*owned));
	size_t n_owned = 0, i;
	CXTranslationUnit tu = NULL;
	enum CXErrorCode rc;
	unsigned n_diags, d;
	struct stat st;
	const char *dir;

	*ret_err = 0;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(err, "%s: error: cannot read: %s\n", path,
			errno ? strerror(errno) : "not a regular file");
		*ret_err = -ENOENT;
		goto out;
	}
	args[n_args++] = "-x";
	args[n_args++] = "c";
	args[n_args++] = "-std=gnu11";
	args[n_args++] = "-D__AVAGEN__";
	args[n_args++] = "-Werror=implicit-function-declaration";
	args[n_args++] = "-ferror-limit=0";
	dir = spec_include_dir(opts);
	if (dir)
		args[n_args++] = owned[n_owned++] = xasprintf("-I%s", dir);
	for (i = 0; i < opts->n_include_dirs; i++)
		args[n_args++] = owned[n_owned++] = xasprintf("-I%s", opts->include_dirs[i]);
	for (i = 0; i < opts->n_defines; i++)
		args[n_args++] = owned[n_owned++] = xasprintf("-D%s", opts->defines[i]);
	dir = resource_dir(opts);
	if (dir) {
		args[n_args++] = "-resource-dir";
		args[n_args++] = dir;
	}
	rc = clang_parseTranslationUnit2(index, path, args, (int)n_args, NULL, 0,
					 CXTranslationUnit_DetailedPreprocessingRecord, &tu);
	if (rc != CXError_Success || !tu) {
		fprintf(err, "%s: error: libclang could not parse it (error %d)\n", path, (int)rc);
		*ret_err = -EIO;
		tu = NULL;
		goto out;
	}
	n_diags = clang_getNumDiagnostics(tu);
	for (d = 0; d < n_diags; d++) {
		CXDiagnostic diag = clang_getDiagnostic(tu, d);

		if (clang_getDiagnosticSeverity(diag) >= CXDiagnostic_Error) {
			CXString msg = clang_getDiagnosticSpelling(diag);
			CXSourceLocation loc = clang_getDiagnosticLocation(diag);
			CXFile file;

			clang_getExpansionLocation(loc, &file, NULL, NULL, NULL);
			if (file)
				error_loc(err, loc, "%s", clang_getCString(msg));
			else
				fprintf(err, "%s: error: %s\n", path, clang_getCString(msg));
			(*n_errors)++;
			*ret_err = -EINVAL;
			clang_disposeString(msg);
		}
		clang_disposeDiagnostic(diag);
	}
out:
	for (i = 0; i < n_owned; i++)
		free(owned[i]);
	free(owned);
	free(args);
	return tu;
}
