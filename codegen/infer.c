/* SPDX-License-Identifier: MIT */
/*
 * avagen --infer HEADER: a starter spec for every function of a header.
 *
 * The spec language already infers scalars, opaque handles and input
 * strings, so a starter spec only has to write down what avagen cannot
 * decide alone, and say where it guessed: pointers get a direction and a
 * size (a `const T *` with a count parameter is an input buffer of that
 * count; a non-const pointer to a value is one output element; `T *` of an
 * opaque type is a new handle), and destructors and constructors get
 * ava_deallocates / ava_allocates by their names. Every guess carries an
 * "inferred" comment. What it cannot guess (callbacks, void buffers of
 * unknown size, double pointers, variadic functions, pointer results) is
 * written as ava_unsupported with a TODO, and listed at the end and on the
 * error stream, so the output is a spec avagen accepts from the start.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"
#include "cx.h"

#define xasprintf	    ava_codegen_xasprintf
#define xstrdup		    ava_codegen_xstrdup
#define cursor_name	    ava_codegen_cx_cursor_name
#define type_name	    ava_codegen_cx_type_name
#define is_pointer	    ava_codegen_cx_is_pointer
#define pointee		    ava_codegen_cx_pointee
#define is_function_pointer ava_codegen_cx_is_function_pointer
#define opaque_typedef	    ava_codegen_cx_opaque_typedef
#define is_char		    ava_codegen_cx_is_char
#define is_arithmetic	    ava_codegen_cx_is_arithmetic
#define is_record	    ava_codegen_cx_is_record
#define type_size	    ava_codegen_cx_type_size

struct infer {
	CXTranslationUnit tu;
	CXFile main_file;
	CXCursor *fns;
	size_t n_fns;
	char *status_type; /* the most common scalar result type, or NULL */
	struct {
		char *fn, *why;
	} * human;
	size_t n_human;
};

static enum CXChildVisitResult collect_fn(CXCursor c, CXCursor parent, CXClientData data)
{
	struct infer *in = data;
	CXFile file;
	size_t i;

	(void)parent;
	if (clang_getCursorKind(c) != CXCursor_FunctionDecl || clang_isCursorDefinition(c) ||
	    clang_Cursor_getStorageClass(c) == CX_SC_Static)
		return CXChildVisit_Continue;
	clang_getExpansionLocation(clang_getCursorLocation(c), &file, NULL, NULL, NULL);
	if (!file || !clang_File_isEqual(file, in->main_file))
		return CXChildVisit_Continue;
	for (i = 0; i < in->n_fns; i++) {
		if (clang_equalCursors(clang_getCanonicalCursor(in->fns[i]),
				       clang_getCanonicalCursor(c)))
			return CXChildVisit_Continue;
	}
	in->fns = ava_codegen_xrealloc(in->fns, in->n_fns + 1, sizeof(*in->fns));
	in->fns[in->n_fns++] = c;
	return CXChildVisit_Continue;
}

/* The result type most functions share (cl_int, CUresult, avatest_status). */
static char *common_status_type(struct infer *in)
{
	char *best = NULL;
	size_t best_n = 0, i, k;

	for (i = 0; i < in->n_fns; i++) {
		CXType t = clang_getCursorResultType(in->fns[i]);
		char *name;
		size_t n = 0;

		if (!is_arithmetic(t))
			continue;
		name = type_name(t);
		for (k = 0; k < in->n_fns; k++) {
			char *other = type_name(clang_getCursorResultType(in->fns[k]));

			n += strcmp(other, name) == 0;
			free(other);
		}
		if (n > best_n) {
			free(best);
			best = name;
			best_n = n;
		} else {
			free(name);
		}
	}
	if (best_n < 2) {
		free(best);
		best = NULL;
	}
	return best;
}

struct zero_enum {
	char *name;
};

static enum CXChildVisitResult find_zero(CXCursor c, CXCursor parent, CXClientData data)
{
	struct zero_enum *z = data;

	(void)parent;
	if (clang_getCursorKind(c) == CXCursor_EnumConstantDecl && !z->name &&
	    clang_getEnumConstantDeclValue(c) == 0)
		z->name = cursor_name(c);
	return CXChildVisit_Continue;
}

/* The enumerator equal to 0 of an enum type, if any: the usual success value. */
static char *zero_enumerator(CXType t)
{
	CXType ct = clang_getCanonicalType(t);
	struct zero_enum z = { NULL };

	if (ct.kind == CXType_Enum)
		clang_visitChildren(clang_getTypeDeclaration(ct), find_zero, &z);
	return z.name;
}

static bool contains_any(const char *s, const char *const *words)
{
	for (; *words; words++) {
		if (strstr(s, *words))
			return true;
	}
	return false;
}

static char *lower(const char *s)
{
	char *r = xstrdup(s);
	char *p;

	for (p = r; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return r;
}

static bool is_integer(CXType t)
{
	enum CXTypeKind k = clang_getCanonicalType(t).kind;

	return is_arithmetic(t) && k != CXType_Float && k != CXType_Double &&
	       k != CXType_LongDouble && k != CXType_Bool;
}

/* Whether a parameter name reads like an element count. */
static bool count_like(const char *name)
{
	static const char *const words[] = { "n", "len", "size", "count", "num", "cb", NULL };
	char *l = lower(name);
	bool r = strcmp(l, "n") == 0 || contains_any(l, words + 1) || (strncmp(l, "n_", 2) == 0);

	free(l);
	return r;
}

/*
 * The parameter that counts the elements of parameter i, or -1: the next
 * parameter if it is an integer that reads like a count; for inputs (any
 * that may be read), also any other such parameter.
 */
static int count_param(CXCursor fn, int i, int n, bool anywhere)
{
	int k;

	/* The next parameter, if it is an integer. */
	if (i + 1 < n && is_integer(clang_getCursorType(clang_Cursor_getArgument(fn, i + 1)))) {
		char *name = cursor_name(clang_Cursor_getArgument(fn, (unsigned)i + 1));
		bool ok = count_like(name);

		free(name);
		if (ok)
			return i + 1;
	}
	/* Else any integer parameter that reads like a count. */
	for (k = 0; anywhere && k < n; k++) {
		CXCursor p = clang_Cursor_getArgument(fn, (unsigned)k);
		char *name;
		bool ok;

		if (k == i || !is_integer(clang_getCursorType(p)))
			continue;
		name = cursor_name(p);
		ok = count_like(name);
		free(name);
		if (ok)
			return k;
	}
	return -1;
}

/* Prints text as comment lines, words wrapped within 100 columns after prefix. */
static void print_wrapped(FILE *out, const char *prefix, size_t prefix_cols, const char *text)
{
	size_t col = prefix_cols;
	const char *p = text;

	fputs(prefix, out);
	while (*p) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (col > prefix_cols && col + 1 + len > 100) {
			fprintf(out, "\n%s", prefix);
			col = prefix_cols;
		} else if (col > prefix_cols) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, len, out);
		col += len;
		p += len;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void need_human(struct infer *in, const char *fn, char *why)
{
	in->human = ava_codegen_xrealloc(in->human, in->n_human + 1, sizeof(*in->human));
	in->human[in->n_human].fn = xstrdup(fn);
	in->human[in->n_human].why = why;
	in->n_human++;
}

static char *param_name(CXCursor p, unsigned i)
{
	char *n = cursor_name(p);

	if (!*n) {
		free(n);
		n = xasprintf("arg%u", i);
	}
	return n;
}

/* Writes one function's starter entry; records it if it needs a human. */
static void infer_fn(struct infer *in, CXCursor fn, FILE *out)
{
	static const char *const dealloc_words[] = { "free",   "release", "destroy",
						     "delete", "close",	  NULL };
	static const char *const alloc_words[] = { "create", "new", "alloc", "open", NULL };
	CXType ft = clang_getCursorType(fn);
	CXType rt = clang_getResultType(ft);
	int n = clang_Cursor_getNumArguments(fn), i;
	char *name = cursor_name(fn), *lname = lower(name);
	char *why = NULL;
	char *params = xstrdup(""), *body = xstrdup("");
	char *decl, *sig;
	CXCursor tdecl;
	bool has_callback = false;

#define APPEND(buf, ...)                                          \
	do {                                                      \
		char *piece_ = xasprintf(__VA_ARGS__);            \
		char *joined_ = xasprintf("%s%s", (buf), piece_); \
		free(piece_);                                     \
		free(buf);                                        \
		(buf) = joined_;                                  \
	} while (0)
#define HUMAN(...)                                    \
	do {                                          \
		if (!why)                             \
			why = xasprintf(__VA_ARGS__); \
	} while (0)

	for (i = 0; i < n; i++) {
		if (is_function_pointer(
			clang_getCursorType(clang_Cursor_getArgument(fn, (unsigned)i))))
			has_callback = true;
	}
	if (clang_isFunctionTypeVariadic(ft))
		HUMAN("it is variadic");
	if (n > AVA_ABI_MAX_ARGS)
		HUMAN("it has more than %d parameters", AVA_ABI_MAX_ARGS);

	for (i = 0; i < n; i++) {
		CXCursor p = clang_Cursor_getArgument(fn, (unsigned)i);
		CXType t = clang_getCursorType(p);
		char *pn = param_name(p, (unsigned)i);
		char *pdecl;
		char *ctype = type_name(t);

		pdecl = ava_codegen_decl(ctype, pn);
		APPEND(params, "%s%s", i ? ", " : "", pdecl);
		free(pdecl);
		free(ctype);

		if (!is_pointer(t) || opaque_typedef(t, &tdecl)) {
			if (n == 1 && opaque_typedef(t, &tdecl) &&
			    contains_any(lname, dealloc_words))
				APPEND(body,
				       "\tava_argument(%s)\n\t{\n\t\tava_deallocates; /* inferred: "
				       "destroys its argument */\n\t}\n",
				       pn);
			free(pn);
			continue;
		}
		if (is_function_pointer(t)) {
			char *tn = type_name(t);

			HUMAN("argument '%s' is a callback: declare its shape with "
			      "ava_callback_decl (like %s) and annotate it ava_callback(decl)",
			      pn, tn);
			free(tn);
			free(pn);
			continue;
		}
		{
			CXType pt = pointee(t);
			CXType cpt = clang_getCanonicalType(pt);
			bool is_const = clang_isConstQualifiedType(pt);
			bool is_void = cpt.kind == CXType_Void;
			char *lpn = lower(pn);
			bool single = strncmp(lpn, "ret", 3) == 0 || strncmp(lpn, "out", 3) == 0;
			int cnt = single ? -1 : count_param(fn, i, n, is_const || is_void);
			char *cnt_name =
			    cnt >= 0 ? param_name(clang_Cursor_getArgument(fn, (unsigned)cnt),
						  (unsigned)cnt)
				     : NULL;

			if (is_char(pt) && is_const) {
				/* An input string: inferred by avagen itself. */
			} else if (is_void && has_callback && !is_const) {
				APPEND(body,
				       "\tava_argument(%s)\n\t{\n\t\tava_userdata; /* inferred: "
				       "handed back to the callback */\n\t}\n",
				       pn);
			} else if (is_pointer(pt) && !opaque_typedef(pt, &tdecl)) {
				HUMAN("argument '%s' is a pointer to a pointer", pn);
			} else if (opaque_typedef(pt, &tdecl)) {
				if (is_const || cnt >= 0)
					APPEND(
					    body,
					    "\tava_argument(%s)\n\t{\n\t\tava_in; /* inferred */\n"
					    "\t\tava_buffer(%s);\n\t\tava_element\n\t\t{\n"
					    "\t\t\tava_handle;\n\t\t}\n\t}\n",
					    pn, cnt_name ? cnt_name : "1");
				else
					APPEND(body,
					       "\tava_argument(%s)\n\t{\n\t\tava_out; /* inferred: "
					       "returns a new object */\n\t\tava_buffer(1);\n"
					       "\t\tava_element\n\t\t{\n\t\t\tava_handle;\n"
					       "\t\t\tava_allocates;\n\t\t}\n\t}\n",
					       pn);
			} else if (is_void && cnt < 0) {
				HUMAN("argument '%s' is a void * buffer of unknown size", pn);
			} else if (!is_void && type_size(pt) <= 0) {
				HUMAN("argument '%s' points to a type of unknown size", pn);
			} else if (is_const) {
				APPEND(body,
				       "\tava_argument(%s)\n\t{\n\t\tava_in; /* inferred: %s */\n"
				       "\t\tava_buffer(%s);\n\t}\n",
				       pn,
				       cnt_name ? "const pointer with a count"
						: "const pointer, one element",
				       cnt_name ? cnt_name : "1");
			} else {
				char *lp = lower(pn), *ptn = type_name(pt);
				bool errcode = strstr(lp, "errcode") && in->status_type &&
					       !cnt_name && strcmp(in->status_type, ptn) == 0;

				APPEND(body,
				       "\tava_argument(%s)\n\t{\n\t\tava_out; /* inferred: %s */\n"
				       "\t\tava_buffer(%s);\n%s\t}\n",
				       pn,
				       cnt_name ? "pointer with a count; add ava_in if it is read"
						: "non-const pointer to one value",
				       cnt_name ? cnt_name : "1",
				       errcode ? "\t\tava_errcode;\n" : "");
				free(lp);
				free(ptn);
			}
			free(cnt_name);
			free(lpn);
		}
		free(pn);
	}

	/* The result. */
	if (opaque_typedef(rt, &tdecl)) {
		if (contains_any(lname, alloc_words))
			APPEND(body, "\tava_return_value\n\t{\n\t\tava_allocates; /* inferred: "
				     "returns a new "
				     "object */\n\t}\n");
	} else if (is_pointer(rt)) {
		HUMAN("it returns a pointer (ava_handle or ava_opaque?)");
	} else if (is_record(rt) &&
		   (type_size(rt) <= 0 || type_size(rt) > AVA_ABI_MAX_SCALAR_BYTES)) {
		HUMAN("it returns a struct of more than %d bytes", AVA_ABI_MAX_SCALAR_BYTES);
	}

	if (clang_isFunctionTypeVariadic(ft))
		APPEND(params, "%s...", n ? ", " : "");
	if (!n && !clang_isFunctionTypeVariadic(ft))
		APPEND(params, "void");
	sig = xasprintf("%s(%s)", name, params);
	{
		char *rtn = type_name(rt);

		decl = ava_codegen_decl(rtn, sig);
		free(rtn);
	}
	fprintf(out, "\n%s\n{\n", decl);
	if (why) {
		char *todo = xasprintf("TODO(avagen --infer): %s.", why);

		fputs("\t/*\n", out);
		print_wrapped(out, "\t * ", 11, todo);
		fprintf(out, "\t */\n%s\tava_unsupported;\n", body);
		free(todo);
		need_human(in, name, why);
	} else {
		fputs(body, out);
	}
	fputs("}\n", out);
	free(decl);
	free(sig);
	free(params);
	free(body);
	free(name);
	free(lname);
#undef APPEND
#undef HUMAN
}

/*
 * How the spec includes the header: relative to the first -I directory it
 * lies under ("CL/cl.h" for -I /usr/include), else its file name.
 */
static char *include_name(const struct ava_codegen_options *opts, const char *header_path)
{
	char *real = realpath(header_path, NULL);
	const char *base = strrchr(header_path, '/');
	char *r = NULL;
	size_t i;

	for (i = 0; real && !r && i < opts->n_include_dirs; i++) {
		char *dir = realpath(opts->include_dirs[i], NULL);
		size_t n = dir ? strlen(dir) : 0;

		if (dir && strncmp(real, dir, n) == 0 && real[n] == '/')
			r = xstrdup(real + n + 1);
		free(dir);
	}
	free(real);
	return r ? r : xstrdup(base ? base + 1 : header_path);
}

int ava_codegen_infer(const struct ava_codegen_options *opts, const char *header_path, FILE *out)
{
	struct infer in = { 0 };
	FILE *err = opts->err ? opts->err : stderr;
	CXIndex index = clang_createIndex(0, 0);
	const char *base = strrchr(header_path, '/');
	char *id, *p, *inc = NULL;
	unsigned n_errors = 0;
	int r;
	size_t i;

	base = base ? base + 1 : header_path;
	inc = include_name(opts, header_path);
	in.tu = ava_codegen_cx_parse(opts, index, header_path, err, &n_errors, &r);
	if (!in.tu || r < 0)
		goto out;
	in.main_file = clang_getFile(in.tu, header_path);
	clang_visitChildren(clang_getTranslationUnitCursor(in.tu), collect_fn, &in);
	in.status_type = common_status_type(&in);

	/* An identifier from the file name: "CL/cl.h" -> "cl". */
	id = xstrdup(base);
	p = strchr(id, '.');
	if (p)
		*p = '\0';
	p = ava_codegen_ident_of(id);
	free(id);
	id = lower(*p ? p : "api");
	free(p);

	fprintf(out, "/* Starter spec for %s, written by avagen --infer. */\n", base);
	fputs("/*\n"
	      " * Review every entry: annotations marked \"inferred\" are guesses, and the\n"
	      " * functions listed at the end still need a human (they are ava_unsupported\n"
	      " * until then). docs/spec-language.md describes the annotations.\n"
	      " */\n",
	      out);
	fprintf(out, "#include <ava/spec.h>\n#include \"%s\"\n\n", inc);
	fprintf(out, "ava_name(\"%s\");\nava_identifier(%s%s);\nava_version(\"0.1\");\n", id,
		(id[0] >= '0' && id[0] <= '9') ? "api_" : "", id);
	fprintf(out,
		"/* ava_soname(lib%s.so.1); the library names the guest library stands in for */\n",
		id);
	fprintf(out, "ava_header(\"%s\");\n", inc);
	if (in.status_type) {
		CXType st = clang_getCursorResultType(in.fns[0]);
		char *zero;

		for (i = 0; i < in.n_fns; i++) {
			char *tn = type_name(clang_getCursorResultType(in.fns[i]));

			if (strcmp(tn, in.status_type) == 0)
				st = clang_getCursorResultType(in.fns[i]);
			free(tn);
		}
		zero = zero_enumerator(st);
		fprintf(out, "\nava_type(%s)\n{\n", in.status_type);
		fprintf(out, "\tava_success(%s); /* inferred: the value 0 */\n", zero ? zero : "0");
		fputs("\t/* ava_failure(...); ava_unsupported_error(...); "
		      "ava_invalid_handle_error(...);\n"
		      "\t   ava_refuse_with(...); the values a failed remote call returns */\n}\n",
		      out);
		free(zero);
	}
	for (i = 0; i < in.n_fns; i++)
		infer_fn(&in, in.fns[i], out);
	if (in.n_human) {
		fputs(
		    "\n/*\n * These functions still need a human (generated as ava_unsupported):\n",
		    out);
		for (i = 0; i < in.n_human; i++) {
			char *line = xasprintf("%s: %s", in.human[i].fn, in.human[i].why);

			print_wrapped(out, " *   ", 5, line);
			free(line);
			fprintf(err, "avagen: %s needs a human: %s\n", in.human[i].fn,
				in.human[i].why);
		}
		fputs(" */\n", out);
	} else {
		fputs("\n/* avagen --infer found nothing that needs a human. */\n", out);
	}
	free(id);
	if (fflush(out) != 0 || ferror(out))
		r = -EIO;
out:
	free(inc);
	for (i = 0; i < in.n_human; i++) {
		free(in.human[i].fn);
		free(in.human[i].why);
	}
	free(in.human);
	free(in.fns);
	free(in.status_type);
	if (in.tu)
		clang_disposeTranslationUnit(in.tu);
	clang_disposeIndex(index);
	return r;
}
