/* SPDX-License-Identifier: MIT */
/*
 * The spec front end: reads a spec with libclang and builds the model.
 *
 * A spec is C. <ava/spec.h> turns every annotation into something the syntax
 * tree keeps: API settings become file-scope variables (__ava_name_N), type
 * defaults a static function __ava_type_N(T), callback shapes functions with
 * annotate("ava_callback_decl"), and everything inside a function body a call
 * to an __ava_* intrinsic, with scopes (ava_argument, ava_element, ...) as
 * `if (__ava_argument(0, x)) { ... }`. We walk that tree once per body,
 * collecting what each parameter was told, then settle each parameter's wire
 * kind from its annotations and its C type (the inference rules), and check
 * what the expressions in the spec may name.
 *
 * Why expressions are kept as source text: plan functions are compiled into
 * both the guest stub and the API server, so the spec's own expression is the
 * most faithful thing to paste there. We check its syntax tree (what it
 * names) but emit its text (the stringified macro argument).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen.h"
#include "cx.h"
#include "parse-private.h"

/* ------------------------------------------------------------------------ */
/* Parser state and diagnostics                                             */

static void loc_of(CXSourceLocation loc, CXString *ret_file, unsigned *ret_line, unsigned *ret_col)
{
	CXFile file;

	clang_getExpansionLocation(loc, &file, ret_line, ret_col, NULL);
	*ret_file = clang_getFileName(file);
}

static void __attribute__((format(printf, 3, 0)))
verror_at(struct parser *p, CXSourceLocation loc, const char *fmt, va_list ap)
{
	ava_codegen_cx_verror(p->err, loc, fmt, ap);
	p->n_errors++;
}

void __attribute__((format(printf, 3, 4)))
error_at(struct parser *p, CXCursor c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(p, clang_getCursorLocation(c), fmt, ap);
	va_end(ap);
}

void __attribute__((format(printf, 3, 4)))
error_loc(struct parser *p, CXSourceLocation loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(p, loc, fmt, ap);
	va_end(ap);
}

/* Error at the start of the spec file, for what is missing rather than wrong. */
static void __attribute__((format(printf, 2, 3))) error_top(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(p, clang_getLocation(p->tu, p->main_file, 1, 1), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* libclang conveniences                                                    */

static bool name_has_prefix(CXCursor c, const char *prefix)
{
	CXString s = clang_getCursorSpelling(c);
	const char *n = clang_getCString(s);
	bool r = n && strncmp(n, prefix, strlen(prefix)) == 0;

	clang_disposeString(s);
	return r;
}

static bool in_main_file(struct parser *p, CXCursor c)
{
	CXFile file;

	clang_getExpansionLocation(clang_getCursorLocation(c), &file, NULL, NULL, NULL);
	return file && clang_File_isEqual(file, p->main_file);
}

static enum CXChildVisitResult collect_child(CXCursor c, CXCursor parent, CXClientData data)
{
	struct children *ch = data;

	(void)parent;
	ch->v = xrealloc(ch->v, ch->n + 1, sizeof(*ch->v));
	ch->v[ch->n++] = c;
	return CXChildVisit_Continue;
}

struct children children_of(CXCursor c)
{
	struct children ch = { NULL, 0 };

	clang_visitChildren(c, collect_child, &ch);
	return ch;
}

/* Looks through implicit conversions and parentheses. */
CXCursor strip(CXCursor c)
{
	for (;;) {
		enum CXCursorKind k = clang_getCursorKind(c);
		struct children ch;

		if (k != CXCursor_UnexposedExpr && k != CXCursor_ParenExpr)
			return c;
		ch = children_of(c);
		if (ch.n != 1) {
			free(ch.v);
			return c;
		}
		c = ch.v[0];
		free(ch.v);
	}
}

/* The called function's name if c is a call to one of our intrinsics, else NULL. */
char *intrinsic_name(CXCursor c)
{
	c = strip(c);
	if (clang_getCursorKind(c) != CXCursor_CallExpr || !name_has_prefix(c, "__ava_"))
		return NULL;
	return cursor_name(c);
}

/* The text of a string literal (the stringified annotation argument). */
char *string_literal(CXCursor c)
{
	char *lit, *out, *q;
	const char *s;

	c = strip(c);
	if (clang_getCursorKind(c) != CXCursor_StringLiteral)
		return NULL;
	lit = cursor_name(c);
	out = xmalloc(strlen(lit) + 1);
	q = out;
	/* One or more adjacent "..." pieces; the escapes #x and users produce. */
	for (s = lit; *s;) {
		if (*s != '"') {
			s++;
			continue;
		}
		for (s++; *s && *s != '"'; s++) {
			if (*s != '\\') {
				*q++ = *s;
				continue;
			}
			s++;
			switch (*s) {
			case 'n':
				*q++ = '\n';
				break;
			case 't':
				*q++ = '\t';
				break;
			case '\0':
				s--;
				break;
			default:
				*q++ = *s;
				break;
			}
		}
		if (*s)
			s++;
	}
	*q = '\0';
	free(lit);
	return out;
}

/* Whitespace runs (newlines, tabs) become one space; ends trimmed. */
static char *squeeze(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\\') {
			if (k && out[k - 1] != ' ')
				out[k++] = ' ';
			continue;
		}
		out[k++] = c;
	}
	while (k && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
	return out;
}

/* The source text of a cursor's extent, in the file its expansion lies in. */
char *source_text(struct parser *p, CXCursor c)
{
	CXSourceRange r = clang_getCursorExtent(c);
	CXFile f1, f2;
	unsigned o1, o2;
	const char *buf;
	size_t size;

	clang_getExpansionLocation(clang_getRangeStart(r), &f1, NULL, NULL, &o1);
	clang_getExpansionLocation(clang_getRangeEnd(r), &f2, NULL, NULL, &o2);
	if (!f1 || !f2 || !clang_File_isEqual(f1, f2) || o2 < o1)
		return NULL;
	buf = clang_getFileContents(p->tu, f1, &size);
	if (!buf || o2 > size)
		return NULL;
	return squeeze(buf + o1, o2 - o1);
}

/* ------------------------------------------------------------------------ */
/* Handle types                                                             */

static uint64_t decl_order(struct parser *p, CXCursor decl)
{
	char *usr = str_take(clang_getCursorUSR(decl));
	uint64_t r = UINT64_MAX;
	size_t i;

	for (i = 0; i < p->n_decls; i++) {
		if (strcmp(p->decls[i].usr, usr) == 0) {
			r = p->decls[i].index;
			break;
		}
	}
	free(usr);
	return r;
}

/* The identity of an opaque pointer type: the USR of the struct it points to. */
static char *handle_key(CXType t)
{
	CXType rec = clang_getCanonicalType(pointee(t));

	return str_take(clang_getCursorUSR(clang_getTypeDeclaration(rec)));
}

/*
 * Registers the handle type of t (an opaque pointer) and returns its index in
 * api->handles plus one; tags are settled once every type has been seen.
 *
 * A handle type is the struct the pointer points to, whatever typedef names
 * it at the use: an object created as `cl_mem` and passed back through an
 * alias must keep its type tag. It is named after the first typedef of a
 * pointer to that struct, or the struct's tag if there is none.
 */
uint16_t handle_ref(struct parser *p, CXType t)
{
	struct ava_codegen_api *api = p->api;
	char *key = handle_key(t);
	CXType rec = clang_getCanonicalType(pointee(t));
	CXCursor decl = clang_getTypeDeclaration(rec);
	char *name = NULL, *ctype = NULL;
	uint64_t order = UINT64_MAX;
	uint16_t i;
	size_t k;

	for (i = 0; i < api->n_handles; i++) {
		if (strcmp(api->handles[i].key, key) == 0) {
			free(key);
			return (uint16_t)(i + 1);
		}
	}
	for (k = 0; k < p->n_decls; k++) {
		if (p->decls[k].handle_key && strcmp(p->decls[k].handle_key, key) == 0) {
			name = cursor_name(p->decls[k].cursor);
			ctype = xstrdup(name);
			order = p->decls[k].index;
			break;
		}
	}
	if (!name) {
		char *rec_name = type_name(rec);

		name = cursor_name(decl);
		ctype = xasprintf("%s *", rec_name);
		order = decl_order(p, decl);
		free(rec_name);
	}
	if (api->n_handles >= AVA_ABI_MAX_HANDLE_TYPES) {
		error_at(p, decl, "more than %d handle types", AVA_ABI_MAX_HANDLE_TYPES);
		free(name);
		free(ctype);
		free(key);
		return 1;
	}
	api->handles = xrealloc(api->handles, api->n_handles + 1u, sizeof(*api->handles));
	api->handles[api->n_handles] = (struct ava_codegen_handle){
		.name = name,
		.ctype = ctype,
		.key = key,
		.order = order,
		.release_fn = -1,
		.retain_fn = -1,
	};
	return ++api->n_handles;
}

/* ------------------------------------------------------------------------ */
/* Annotation bodies                                                        */

static void walk(struct body *b, CXCursor c, struct scope sc);

static void ann_free(struct ann *a)
{
	size_t i;

	free(a->count);
	free(a->map_count);
	free(a->map_read);
	free(a->map_write);
	for (i = 0; i < a->n_fields; i++)
		free(a->fields[i]);
	free(a->fields);
	free(a->field_where);
	free(a->bad_handle);
}

void stmt_push(struct ava_codegen_stmt_list *l, struct ava_codegen_stmt *s)
{
	l->v = xrealloc(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = s;
}

int param_index(struct body *b, CXCursor decl)
{
	uint16_t i;

	if (b->dparams) {
		for (i = 0; i < b->n_dparams; i++) {
			if (clang_equalCursors(b->dparams[i], decl))
				return b->dmap[i];
		}
		return -1;
	}
	for (i = 0; i < b->n_params; i++) {
		if (clang_equalCursors(b->params[i], decl))
			return i;
	}
	return -1;
}

struct expr_check {
	struct body *b;
	const char *what;
	bool bind; /* the plan function evaluates it: bind the parameters it names */
	bool ok;
};

static enum CXChildVisitResult check_expr_visit(CXCursor c, CXCursor parent, CXClientData data)
{
	struct expr_check *ec = data;
	struct body *b = ec->b;
	CXCursor ref;
	char *name;
	int i;

	(void)parent;
	if (clang_getCursorKind(c) != CXCursor_DeclRefExpr)
		return CXChildVisit_Recurse;
	ref = clang_getCursorReferenced(c);
	name = cursor_name(c);
	switch (clang_getCursorKind(ref)) {
	case CXCursor_EnumConstantDecl:
		break;
	case CXCursor_ParmDecl:
		i = param_index(b, ref);
		if (i < 0) {
			error_at(b->p, c, "%s in %s names '%s', which is not a parameter of %s",
				 ec->what, b->owner, name, b->owner);
			ec->ok = false;
			break;
		}
		b->refs = xrealloc(b->refs, b->n_refs + 1, sizeof(*b->refs));
		b->refs[b->n_refs++] = (struct ref){
			.arg = (uint16_t)i,
			.where = clang_getCursorLocation(c),
			.what = xstrdup(ec->what),
		};
		if (ec->bind)
			b->referenced |= UINT64_C(1) << (i & 63);
		break;
	case CXCursor_FunctionDecl:
		error_at(b->p, c,
			 "%s in %s calls '%s'; it may use only scalar parameters and constants",
			 ec->what, b->owner, name);
		ec->ok = false;
		break;
	default:
		error_at(b->p, c, "%s in %s names '%s', which is not a parameter of %s", ec->what,
			 b->owner, name, b->owner);
		ec->ok = false;
		break;
	}
	free(name);
	return CXChildVisit_Continue;
}

/* Checks what an expression names; parameters are checked for kind later. */
bool check_expr(struct body *b, CXCursor expr, const char *what, bool bind)
{
	struct expr_check ec = { b, what, bind, true };

	if (clang_getCursorKind(strip(expr)) == CXCursor_DeclRefExpr)
		check_expr_visit(strip(expr), expr, &ec);
	else
		clang_visitChildren(expr, check_expr_visit, &ec);
	return ec.ok;
}

const char *pretty(const char *intrinsic)
{
	return intrinsic + 2; /* "__ava_in" -> "ava_in" */
}

CXCursor call_arg(CXCursor call, int i)
{
	return clang_Cursor_getArgument(strip(call), (unsigned)i);
}

void note_seen(struct ann *a, CXCursor c)
{
	if (!a->seen) {
		a->seen = true;
		a->where = clang_getCursorLocation(c);
	}
}

/* `if (__ava_argument(0, x))` and friends: a scope, not a condition. */
static void scope_if(struct body *b, CXCursor c, CXCursor cond, const char *name,
		     struct children *ch, struct scope sc)
{
	if (ch->n > 2) {
		error_at(b->p, ch->v[2], "%s { ... } cannot have an else", pretty(name));
		return;
	}
	if (strcmp(name, "__ava_argument") == 0 || strcmp(name, "__ava_return_value") == 0) {
		if (sc.value) {
			error_at(b->p, c, "%s cannot be nested in another value's annotations",
				 pretty(name));
			return;
		}
		if (b->kind == BODY_TYPE) {
			error_at(b->p, c, "%s does not belong in ava_type(T) { ... }",
				 pretty(name));
			return;
		}
		if (name[6] == 'a') {
			CXCursor arg = strip(call_arg(cond, 1));
			CXCursor decl = clang_getCursorReferenced(arg);
			int i = clang_getCursorKind(arg) == CXCursor_DeclRefExpr
				    ? param_index(b, decl)
				    : -1;

			if (i < 0) {
				char *text = clang_getCursorKind(arg) == CXCursor_DeclRefExpr
						 ? cursor_name(arg)
						 : source_text(b->p, arg);

				error_at(b->p, c, "ava_argument(%s): '%s' is not a parameter of %s",
					 text ? text : "?", text ? text : "?", b->owner);
				free(text);
				return;
			}
			if (b->dparams) {
				struct ann *a = &b->args[i];

				/* The function's own block replaces the default's. */
				if (a->own)
					return;
				if (a->dflt >= 0 && a->dflt != b->dflt) {
					unsigned line, col;
					CXString file;
					char *pn = cursor_name(b->params[i]);

					loc_of(a->dflt_where, &file, &line, &col);
					clang_disposeString(file);
					error_at(
					    b->p, c,
					    "'%s' of %s matches two ava_defaults (the other at "
					    "line %u); give it its own ava_argument(%s) block",
					    pn, b->owner, line, pn);
					free(pn);
					return;
				}
				a->dflt = b->dflt;
				a->dflt_where = clang_getCursorLocation(c);
			} else {
				b->args[i].own = true;
			}
			sc.value = &b->args[i];
			sc.arg = i;
		} else {
			sc.value = &b->ret;
			sc.arg = -1;
		}
		note_seen(sc.value, c);
	} else if (strcmp(name, "__ava_element") == 0) {
		if (!sc.value || sc.element) {
			error_at(b->p, c, "ava_element belongs directly inside ava_argument(x)");
			return;
		}
		if (sc.cond_depth > 0) {
			error_at(b->p, c, "ava_element cannot be conditional");
			return;
		}
		sc.element = true;
		sc.value->element = true;
	} else if (strcmp(name, "__ava_field") == 0) {
		char *field = string_literal(call_arg(cond, 0));

		if (!sc.element || sc.field) {
			error_at(b->p, c, "ava_field belongs directly inside ava_element");
			free(field);
			return;
		}
		if (sc.cond_depth > 0) {
			error_at(b->p, c, "ava_field cannot be conditional");
			free(field);
			return;
		}
		sc.field = field;
		walk(b, ch->v[1], sc);
		free(field);
		return;
	} else {
		error_at(b->p, c, "%s is not a scope", pretty(name));
		return;
	}
	walk(b, ch->v[1], sc);
}

static void walk(struct body *b, CXCursor c, struct scope sc)
{
	enum CXCursorKind k = clang_getCursorKind(c);
	struct children ch;
	size_t i;

	switch (k) {
	case CXCursor_CompoundStmt:
		ch = children_of(c);
		for (i = 0; i < ch.n; i++)
			walk(b, ch.v[i], sc);
		free(ch.v);
		return;
	case CXCursor_NullStmt:
		return;
	case CXCursor_CallExpr:
	case CXCursor_UnexposedExpr:
	case CXCursor_ParenExpr:
		if (clang_getCursorKind(strip(c)) == CXCursor_CallExpr) {
			ava_codegen_annotate(b, strip(c), sc);
			return;
		}
		break;
	case CXCursor_IfStmt: {
		char *name;
		struct ava_codegen_stmt *s, *os;
		char *text;

		ch = children_of(c);
		if (ch.n < 2) {
			free(ch.v);
			break;
		}
		name = intrinsic_name(ch.v[0]);
		if (name) {
			scope_if(b, c, strip(ch.v[0]), name, &ch, sc);
			free(name);
			free(ch.v);
			return;
		}
		/* A plain C condition. */
		if (b->kind != BODY_FN) {
			error_at(b->p, c, "conditions are allowed only in function entries");
			free(ch.v);
			return;
		}
		if (sc.element) {
			error_at(b->p, c, "conditions are not allowed inside ava_element");
			free(ch.v);
			return;
		}
		text = source_text(b->p, ch.v[0]);
		if (!text || !*text) {
			error_at(b->p, ch.v[0], "cannot read the source of this condition");
			free(text);
			free(ch.v);
			return;
		}
		if (!check_expr(b, ch.v[0], "condition", true)) {
			free(text);
			free(ch.v);
			return;
		}
		/*
		 * The same condition in both statement lists: overrides run
		 * before the counts (see emit_plans); empty branches are
		 * pruned once the body is walked.
		 */
		s = xcalloc(1, sizeof(*s));
		s->kind = AVA_CODEGEN_STMT_IF;
		s->expr = text;
		stmt_push(sc.target ? sc.target : &b->cond, s);
		os = xcalloc(1, sizeof(*os));
		os->kind = AVA_CODEGEN_STMT_IF;
		os->expr = xstrdup(text);
		stmt_push(sc.otarget ? sc.otarget : &b->overrides, os);
		sc.cond_depth++;
		sc.target = &s->then_stmts;
		sc.otarget = &os->then_stmts;
		walk(b, ch.v[1], sc);
		if (ch.n > 2) {
			sc.target = &s->else_stmts;
			sc.otarget = &os->else_stmts;
			walk(b, ch.v[2], sc);
		}
		free(ch.v);
		return;
	}
	default:
		break;
	}
	error_at(b->p, c,
		 "unexpected statement in a spec body: only annotations and if belong here");
}

static void body_init(struct body *b, struct parser *p, enum body_kind kind, const char *owner,
		      CXCursor def)
{
	int n = clang_Cursor_getNumArguments(def);
	uint16_t i;

	memset(b, 0, sizeof(*b));
	b->p = p;
	b->kind = kind;
	b->owner = owner;
	b->n_params = n > 0 ? (uint16_t)n : 0;
	b->params = xcalloc(b->n_params, sizeof(*b->params));
	b->args = xcalloc(b->n_params, sizeof(*b->args));
	for (i = 0; i < b->n_params; i++) {
		b->params[i] = clang_Cursor_getArgument(def, i);
		b->args[i].callback = -1;
		b->args[i].str_lengths = -1;
		b->args[i].late_event = -1;
		b->args[i].dflt = -1;
	}
	b->ret.callback = -1;
	b->ret.str_lengths = -1;
	b->ret.late_event = -1;
	b->ret.dflt = -1;
	b->dflt = -1;
}

static void body_walk(struct body *b, CXCursor def)
{
	struct children ch = children_of(def);
	struct scope sc = { .arg = -1 };
	size_t i;

	for (i = 0; i < ch.n; i++) {
		if (clang_getCursorKind(ch.v[i]) == CXCursor_CompoundStmt)
			walk(b, ch.v[i], sc);
	}
	free(ch.v);
}

static void body_fini(struct body *b)
{
	uint16_t i;
	size_t k;

	for (i = 0; i < b->n_params; i++)
		ann_free(&b->args[i]);
	ann_free(&b->ret);
	for (k = 0; k < b->n_refs; k++)
		free(b->refs[k].what);
	free(b->refs);
	free(b->args);
	free(b->params);
	free(b->until_name);
	free(b->resolve_via);
	ava_codegen_stmts_free(&b->cond);
	ava_codegen_stmts_free(&b->overrides);
}

/* Drops if statements left with nothing to do (their other list has it). */
static void prune(struct ava_codegen_stmt_list *l)
{
	size_t i, k = 0;

	for (i = 0; i < l->n; i++) {
		struct ava_codegen_stmt *s = l->v[i];

		if (s->kind == AVA_CODEGEN_STMT_IF) {
			prune(&s->then_stmts);
			prune(&s->else_stmts);
			if (!s->then_stmts.n && !s->else_stmts.n) {
				free(s->expr);
				free(s);
				continue;
			}
		}
		l->v[k++] = s;
	}
	l->n = k;
	if (!k) {
		free(l->v);
		l->v = NULL;
	}
}

/* ------------------------------------------------------------------------ */
/* Settling values: annotations + C type -> wire kind                       */

static CXSourceLocation where_of(const struct ann *a, CXCursor fallback)
{
	return a->seen ? a->where : clang_getCursorLocation(fallback);
}

struct field_scan {
	struct parser *p;
	struct ava_codegen_value *v;
	const struct ann *a;
	CXType rec;
	bool ok;
};

/* Adds a handle field, keeping the fields sorted by offset. */
static void add_field(struct field_scan *fs, const char *name, uint32_t offset, uint16_t handle)
{
	struct ava_codegen_value *v = fs->v;
	uint16_t i, n = v->abi.n_fields;

	for (i = 0; i < n; i++) {
		if (v->fields[i].offset_bytes == offset)
			return;
	}
	v->fields = xrealloc(v->fields, n + 1u, sizeof(*v->fields));
	v->field_names = xrealloc(v->field_names, n + 1u, sizeof(*v->field_names));
	for (i = n; i > 0 && v->fields[i - 1].offset_bytes > offset; i--) {
		v->fields[i] = v->fields[i - 1];
		v->field_names[i] = v->field_names[i - 1];
	}
	v->fields[i] = (struct ava_abi_field){ offset, handle };
	v->field_names[i] = xstrdup(name);
	v->abi.n_fields++;
}

/* Fields of an opaque handle typedef are handles even when not annotated. */
static enum CXVisitorResult infer_field(CXCursor field, CXClientData data)
{
	struct field_scan *fs = data;
	CXType t = clang_getCursorType(field);
	CXCursor decl;
	char *name;
	long long off;

	if (!opaque_typedef(t, &decl))
		return CXVisit_Continue;
	name = cursor_name(field);
	off = clang_Type_getOffsetOf(fs->rec, name);
	if (off >= 0 && off % 8 == 0 && type_size(t) == 8)
		add_field(fs, name, (uint32_t)(off / 8), handle_ref(fs->p, t));
	free(name);
	return CXVisit_Continue;
}

struct field_find {
	const char *name;
	CXCursor found;
	bool ok;
};

static enum CXVisitorResult find_field(CXCursor field, CXClientData data)
{
	struct field_find *ff = data;

	if (name_is(field, ff->name)) {
		ff->found = field;
		ff->ok = true;
		return CXVisit_Break;
	}
	/* A member of an anonymous union or struct is a field of the record too. */
	if (clang_Cursor_isAnonymousRecordDecl(
		clang_getTypeDeclaration(clang_getCursorType(field)))) {
		clang_Type_visitFields(clang_getCursorType(field), find_field, ff);
		if (ff->ok)
			return CXVisit_Break;
	}
	return CXVisit_Continue;
}

/* The element description of a buffer whose elements are of type et. */
static bool settle_element(struct parser *p, struct ava_codegen_value *v, const struct ann *a,
			   CXType et, CXSourceLocation where, const char *what)
{
	CXType ct = clang_getCanonicalType(et);
	CXCursor decl;
	long long size;
	size_t i;

	if (a->elem_zero_terminated) {
		if (!is_pointer(et) || !is_char(pointee(et))) {
			error_loc(p, where,
				  "ava_zero_terminated on the elements of %s, which are not char "
				  "pointers",
				  what);
			return false;
		}
		if (v->abi.dir != AVA_ABI_DIR_IN || a->elem_handle || a->elem_opaque ||
		    a->n_fields) {
			error_loc(p, where,
				  "the elements of %s are strings: the buffer is an input and its "
				  "elements take no other annotation",
				  what);
			return false;
		}
		v->abi.elem = AVA_ABI_ELEM_STRING;
		v->abi.size_bytes = 8;
		return true;
	}
	if (a->elem_handle || (!a->elem_opaque && opaque_typedef(et, &decl))) {
		if (!is_opaque_pointer(et)) {
			error_loc(p, where,
				  "ava_handle on the elements of %s, which are not opaque pointers "
				  "(pointers to an incomplete struct)",
				  what);
			return false;
		}
		v->abi.elem = AVA_ABI_ELEM_HANDLE;
		v->abi.size_bytes = 8;
		v->abi.handle_type = handle_ref(p, et);
		return true;
	}
	size = ct.kind == CXType_Void ? 1 : type_size(et);
	if (size <= 0 || size > UINT32_MAX) {
		error_loc(p, where, "the elements of %s have no known size", what);
		return false;
	}
	v->abi.elem = AVA_ABI_ELEM_BYTES;
	v->abi.size_bytes = (uint32_t)size;
	if (ct.kind != CXType_Void)
		v->elem_ctype = unqualified_name(et);
	if (ct.kind != CXType_Record) {
		if (a->n_fields) {
			error_loc(p, a->field_where[0],
				  "ava_field on %s, whose elements are not structs", what);
			return false;
		}
		return true;
	}
	{
		struct field_scan fs = { p, v, a, ct, true };

		for (i = 0; i < a->n_fields; i++) {
			struct field_find ff = { a->fields[i], clang_getNullCursor(), false };
			CXType ft;
			long long off;

			clang_Type_visitFields(ct, find_field, &ff);
			if (!ff.ok) {
				char *rn = unqualified_name(et);

				error_loc(p, a->field_where[i],
					  "ava_field(%s): %s has no field '%s'", a->fields[i], rn,
					  a->fields[i]);
				free(rn);
				fs.ok = false;
				continue;
			}
			ft = clang_getCursorType(ff.found);
			off = clang_Type_getOffsetOf(ct, a->fields[i]);
			if (!is_opaque_pointer(ft) || type_size(ft) != 8 || off < 0 || off % 8) {
				error_loc(
				    p, a->field_where[i],
				    "ava_handle on field '%s', which is not an opaque pointer "
				    "(pointer to an incomplete struct)",
				    a->fields[i]);
				fs.ok = false;
				continue;
			}
			add_field(&fs, a->fields[i], (uint32_t)(off / 8), handle_ref(p, ft));
		}
		if (!a->elem_opaque)
			clang_Type_visitFields(ct, infer_field, &fs);
		if (!fs.ok)
			return false;
	}
	if (v->abi.n_fields) {
		if (v->abi.n_fields > AVA_ABI_MAX_FIELDS) {
			error_loc(p, where, "%s has more than %d handle fields", what,
				  AVA_ABI_MAX_FIELDS);
			return false;
		}
		v->abi.elem = AVA_ABI_ELEM_STRUCT;
	}
	return true;
}

enum role { ROLE_ARG, ROLE_RET, ROLE_CB_ARG, ROLE_CB_RET };

/*
 * Settles one value's wire description. decl is the parameter (or the
 * function, for results); fn_name names the owner in messages.
 */
static bool settle_value(struct parser *p, struct ava_codegen_value *v, const struct ann *a,
			 CXType t, CXCursor decl, enum role role, const char *fn_name)
{
	bool is_ret = role == ROLE_RET || role == ROLE_CB_RET;
	bool is_cb = role == ROLE_CB_ARG || role == ROLE_CB_RET;
	CXSourceLocation where = where_of(a, decl);
	char *what = is_ret ? xasprintf("the result of %s", fn_name)
			    : xasprintf("argument '%s' of %s", v->name, fn_name);
	CXCursor tdecl;
	bool ok = false;
	long long size;

	v->top_const = clang_isConstQualifiedType(t);
	if (clang_getCanonicalType(t).kind == CXType_Void) {
		if (a->seen) {
			error_loc(p, where, "%s is void and takes no annotations", what);
			goto out;
		}
		v->abi.kind = AVA_ABI_VOID;
		ok = true;
		goto out;
	}
	if (a->rect && is_ret && !a->mapping) {
		error_loc(p, a->rect_where, "ava_rect on %s, a result: it needs ava_mapping", what);
		goto out;
	}
	if (a->mapping || a->unmaps) {
		if (!is_pointer(t) || is_function_pointer(t) || a->has_buffer || a->in || a->out ||
		    a->handle || a->opaque || a->element) {
			error_loc(p, where,
				  "%s on %s: it applies to a plain void * (no other annotations)",
				  a->mapping ? "ava_mapping" : "ava_unmaps", what);
			goto out;
		}
		v->abi.kind = a->mapping ? AVA_ABI_MAP : AVA_ABI_UNMAP;
		v->abi.size_bytes = 1;
		if (a->rect && a->mapping)
			v->abi.flags |= AVA_ABI_V_RECT; /* its count is the rect shape's */
		else if (a->rect)
			error_loc(p, a->rect_where,
				  "ava_rect on %s: it does not apply to ava_unmaps", what);
		v->abi.max_count = a->has_max ? a->max : AVA_CODEGEN_BUFFER_MAX_BYTES;
		ok = true;
		goto out;
	}
	if (a->has_buffer && !a->in && !a->out) {
		error_loc(p, a->buffer_where,
			  "ava_buffer without direction on %s: add ava_in and/or ava_out", what);
		goto out;
	}
	if (a->props) {
		if (!is_pointer(t) || is_function_pointer(t) || !is_arithmetic(pointee(t))) {
			error_loc(p, a->props_where,
				  "ava_property_list on %s, which is not a pointer to integers",
				  what);
			goto out;
		}
		if (a->has_buffer) {
			error_loc(
			    p, a->buffer_where,
			    "ava_buffer on %s, an ava_property_list: its length comes from its "
			    "zero key",
			    what);
			goto out;
		}
		if (!a->in || a->out) {
			error_loc(p, a->props_where,
				  "ava_property_list on %s needs ava_in (and no ava_out)", what);
			goto out;
		}
	}
	if ((a->in || a->out || a->has_buffer) && !is_pointer(t)) {
		error_loc(p, where,
			  "%s is not a pointer: ava_in, ava_out and ava_buffer do not apply", what);
		goto out;
	}

	if (a->callback >= 0) {
		if (!is_function_pointer(t)) {
			error_loc(p, a->callback_where,
				  "ava_callback on %s, which is not a function pointer", what);
			goto out;
		}
		{
			CXCursor cb = p->cb_decls[a->callback];
			CXType want = clang_getCanonicalType(clang_getCursorType(cb));
			CXType have = clang_getCanonicalType(pointee(t));

			if (!clang_equalTypes(want, have)) {
				char *cbn = cursor_name(cb), *tn = type_name(t);

				error_loc(
				    p, a->callback_where,
				    "ava_callback(%s): the decl's signature does not match %s, "
				    "of type %s",
				    cbn, what, tn);
				free(cbn);
				free(tn);
				goto out;
			}
		}
		v->abi.kind = AVA_ABI_CALLBACK;
		v->abi.callback_id = (uint16_t)a->callback;
		ok = true;
	} else if (a->userdata) {
		if (!is_pointer(t)) {
			error_loc(p, where, "ava_userdata on %s, which is not a pointer", what);
			goto out;
		}
		v->abi.kind = AVA_ABI_USERDATA;
		ok = true;
	} else if (a->opaque) {
		size = type_size(t);
		if (size < 1 || size > AVA_ABI_MAX_SCALAR_BYTES) {
			error_loc(p, where, "ava_opaque on %s, whose size is not 1..%d bytes", what,
				  AVA_ABI_MAX_SCALAR_BYTES);
			goto out;
		}
		v->abi.kind = AVA_ABI_SCALAR;
		v->abi.size_bytes = (uint32_t)size;
		ok = true;
	} else if (a->handle ||
		   (!a->has_buffer && !a->in && !a->out && opaque_typedef(t, &tdecl))) {
		if (!is_opaque_pointer(t)) {
			error_loc(p, where,
				  "ava_handle on %s, which is not an opaque pointer (pointer to an "
				  "incomplete struct)",
				  what);
			goto out;
		}
		v->abi.kind = AVA_ABI_HANDLE;
		v->abi.handle_type = handle_ref(p, t);
		ok = true;
	} else if (a->zero_terminated ||
		   (!a->has_buffer && !a->in && !a->out && is_pointer(t) && is_char(pointee(t)) &&
		    clang_isConstQualifiedType(pointee(t)))) {
		if (!is_pointer(t) || !is_char(pointee(t))) {
			error_loc(p, where,
				  "ava_zero_terminated on %s, which is not a char pointer", what);
			goto out;
		}
		if (a->out || a->has_buffer) {
			error_loc(p, where,
				  "ava_zero_terminated strings are inputs: %s cannot be ava_out or "
				  "ava_buffer",
				  what);
			goto out;
		}
		if (is_ret) {
			error_loc(p, where, "%s cannot be a string", what);
			goto out;
		}
		v->abi.kind = AVA_ABI_STRING;
		v->abi.dir = AVA_ABI_DIR_IN;
		v->abi.max_count = a->has_max ? a->max : AVA_CODEGEN_STRING_MAX;
		ok = true;
	} else if (is_function_pointer(t)) {
		error_loc(p, where, "%s is a function pointer: it needs ava_callback", what);
		goto out;
	} else if (is_pointer(t)) {
		if (is_ret) {
			error_loc(p, where, "%s is a pointer: it needs ava_handle or ava_opaque",
				  what);
			goto out;
		}
		if ((!a->has_buffer && !a->props && !a->rect) || (!a->in && !a->out)) {
			error_loc(p, where, "%s: pointer needs ava_in/ava_out and ava_buffer",
				  what);
			goto out;
		}
		if (is_cb && (a->out || a->element)) {
			error_loc(p, where,
				  "%s: a callback's buffers are inputs of plain bytes (ava_in, no "
				  "ava_out or ava_element)",
				  what);
			goto out;
		}
		v->abi.kind = AVA_ABI_BUFFER;
		v->abi.dir =
		    (uint8_t)((a->in ? AVA_ABI_DIR_IN : 0) | (a->out ? AVA_ABI_DIR_OUT : 0));
		if (!settle_element(p, v, a, pointee(t), where, what))
			goto out;
		v->abi.max_count = a->has_max
				       ? a->max
				       : (AVA_CODEGEN_BUFFER_MAX_BYTES / v->abi.size_bytes
					      ? AVA_CODEGEN_BUFFER_MAX_BYTES / v->abi.size_bytes
					      : 1);
		if (is_cb && v->abi.elem != AVA_ABI_ELEM_BYTES) {
			error_loc(p, where, "%s: a callback's buffers carry plain bytes", what);
			goto out;
		}
		v->abi.fields = v->fields;
		v->count_expr = a->count ? xstrdup(a->count) : NULL;
		if (a->props) {
			v->abi.flags |= AVA_ABI_V_PROPS;
			v->bind_ctype = unqualified_name(t);
		}
		if (a->errcode) {
			if (!(v->abi.dir & AVA_ABI_DIR_OUT) || v->abi.elem != AVA_ABI_ELEM_BYTES) {
				error_loc(p, where,
					  "ava_errcode on %s, which is not an out buffer of values",
					  what);
				goto out;
			}
			v->abi.flags |= AVA_ABI_V_ERRCODE;
			v->abi.max_count = 1;
		}
		ok = true;
	} else if (is_arithmetic(t) || is_record(t)) {
		size = type_size(t);
		if (size < 1 || size > AVA_ABI_MAX_SCALAR_BYTES) {
			error_loc(p, where, "%s is %lld bytes; values travel by copy only up to %d",
				  what, size, AVA_ABI_MAX_SCALAR_BYTES);
			goto out;
		}
		v->abi.kind = AVA_ABI_SCALAR;
		v->abi.size_bytes = (uint32_t)size;
		ok = true;
	} else {
		error_loc(p, where, "%s has a type avagen cannot carry", what);
		goto out;
	}

	/* Checks that depend on the settled kind. */
	if (a->errcode && !(v->abi.flags & AVA_ABI_V_ERRCODE)) {
		error_loc(p, where, "ava_errcode on %s, which is not an out buffer", what);
		ok = false;
	}
	if ((a->zero_terminated || a->has_max) && v->abi.kind != AVA_ABI_STRING &&
	    v->abi.kind != AVA_ABI_BUFFER) {
		error_loc(p, where,
			  "ava_max and ava_zero_terminated apply to strings and buffers, not %s",
			  what);
		ok = false;
	}
	if (a->element && v->abi.kind != AVA_ABI_BUFFER) {
		error_loc(p, where, "ava_element applies to buffers, and %s is not one", what);
		ok = false;
	}
	if (a->allocates) {
		if (v->abi.kind == AVA_ABI_HANDLE && role == ROLE_RET) {
			v->abi.flags |= AVA_ABI_V_ALLOCATES;
		} else if (v->abi.kind == AVA_ABI_BUFFER && v->abi.elem != AVA_ABI_ELEM_BYTES &&
			   (v->abi.dir & AVA_ABI_DIR_OUT)) {
			v->abi.flags |= AVA_ABI_V_ALLOCATES;
		} else {
			error_loc(p, where,
				  "ava_allocates on %s: it applies to a returned handle or an out "
				  "buffer of handles",
				  what);
			ok = false;
		}
	}
	if (a->deallocates) {
		if (v->abi.kind == AVA_ABI_HANDLE && role == ROLE_ARG) {
			v->abi.flags |= AVA_ABI_V_DEALLOCATES;
		} else if (v->abi.kind == AVA_ABI_BUFFER && v->abi.elem != AVA_ABI_ELEM_BYTES &&
			   (v->abi.dir & AVA_ABI_DIR_IN)) {
			v->abi.flags |= AVA_ABI_V_DEALLOCATES;
		} else {
			error_loc(p, where,
				  "ava_deallocates on %s: it applies to a handle argument or an in "
				  "buffer of handles",
				  what);
			ok = false;
		}
	}
	if (a->retains) {
		if (v->abi.kind == AVA_ABI_HANDLE && role == ROLE_ARG && !a->deallocates) {
			v->abi.flags |= AVA_ABI_V_RETAINS;
		} else {
			error_loc(p, where,
				  "ava_retains on %s: it applies to a handle argument that is not "
				  "ava_deallocates",
				  what);
			ok = false;
		}
	}
	if (a->parent) {
		if (v->abi.kind == AVA_ABI_HANDLE && role == ROLE_ARG && !a->deallocates &&
		    !a->retains) {
			v->abi.flags |= AVA_ABI_V_PARENT;
		} else {
			error_loc(p, where,
				  "ava_parent on %s: it applies to a handle argument that the call "
				  "neither retains nor releases",
				  what);
			ok = false;
		}
	}
	if (a->scan) {
		if (v->abi.kind == AVA_ABI_BUFFER && v->abi.elem == AVA_ABI_ELEM_BYTES &&
		    v->abi.dir == AVA_ABI_DIR_IN) {
			v->abi.flags |= AVA_ABI_V_SCAN;
		} else {
			error_loc(p, a->scan_where,
				  "ava_scan_handles on %s: it applies to an input buffer of bytes",
				  what);
			ok = false;
		}
	}
	if (a->has_handles_of &&
	    (v->abi.kind != AVA_ABI_BUFFER || v->abi.elem != AVA_ABI_ELEM_BYTES || v->elem_ctype ||
	     (v->abi.flags & (AVA_ABI_V_PROPS | AVA_ABI_V_SCAN)))) {
		error_loc(p, a->handles_of_where,
			  "ava_handles_of on %s: it applies to a void * buffer of bytes", what);
		ok = false;
	}
	if ((a->has_blobs || a->has_clear) &&
	    (v->abi.kind != AVA_ABI_BUFFER || v->abi.elem != AVA_ABI_ELEM_BYTES || v->elem_ctype ||
	     v->abi.dir != AVA_ABI_DIR_OUT)) {
		error_loc(p, a->has_blobs ? a->blobs_where : a->clear_where,
			  "%s on %s: it applies to an output void * buffer of bytes",
			  a->has_blobs ? "ava_blobs_sized_by" : "ava_clear_bits", what);
		ok = false;
	} else if (a->has_blobs) {
		v->abi.flags |= AVA_ABI_V_BLOBS;
	}
	if (a->has_override && (v->abi.kind != AVA_ABI_SCALAR || is_ret || a->opaque)) {
		error_loc(p, a->override_where,
			  "ava_override on %s, which is not a scalar argument", what);
		ok = false;
	}
	if (a->str_lengths >= 0 &&
	    (v->abi.kind != AVA_ABI_BUFFER || v->abi.elem != AVA_ABI_ELEM_STRING)) {
		error_loc(p, a->str_lengths_where,
			  "ava_string_lengths on %s, which is not a buffer of strings (ava_element "
			  "{ ava_zero_terminated; })",
			  what);
		ok = false;
	}
	if (is_cb && v->abi.kind == AVA_ABI_HANDLE)
		v->abi.flags = 0;
	if (v->abi.kind == AVA_ABI_SCALAR)
		v->bind_ctype = unqualified_name(t);
out:
	free(what);
	return ok;
}

/*
 * ava_late_data(event) on argument i: a bytes buffer (in or out, not both)
 * that the library may use until the call's event completes, and an event
 * argument that is an out buffer of one handle.
 */
static void late_data(struct parser *p, struct ava_codegen_fn *fn, const struct body *b, uint16_t i)
{
	struct ava_codegen_value *v = &fn->args[i];
	struct ava_codegen_value *ev = &fn->args[b->args[i].late_event];

	if (v->abi.kind != AVA_ABI_BUFFER || v->abi.elem != AVA_ABI_ELEM_BYTES ||
	    v->abi.dir == AVA_ABI_DIR_INOUT || v->abi.flags) {
		error_loc(p, b->args[i].late_where,
			  "ava_late_data on '%s' of %s: it applies to a plain in or out buffer of "
			  "bytes",
			  v->name, fn->name);
		return;
	}
	if (ev->abi.kind != AVA_ABI_BUFFER || ev->abi.elem != AVA_ABI_ELEM_HANDLE ||
	    ev->abi.dir != AVA_ABI_DIR_OUT || !ev->count_expr || strcmp(ev->count_expr, "1") != 0) {
		error_loc(p, b->args[i].late_where,
			  "ava_late_data(%s) on '%s' of %s: the event must be an out buffer of "
			  "one handle",
			  ev->name, v->name, fn->name);
		return;
	}
	v->abi.flags |= AVA_ABI_V_LATE;
	ev->abi.flags |= AVA_ABI_V_EVENT;
}

/*
 * ava_rect on argument i: a void * bytes buffer, in or out (an out one also
 * ava_late_data), without ava_buffer: the API's rect shape gives its size.
 */
static void rect(struct parser *p, struct ava_codegen_fn *fn, const struct body *b, uint16_t i)
{
	struct ava_codegen_value *v = &fn->args[i];

	if (b->args[i].has_buffer) {
		error_loc(p, b->args[i].buffer_where,
			  "ava_buffer on '%s' of %s, an ava_rect: its size is the rect's", v->name,
			  fn->name);
		return;
	}
	if (v->abi.kind != AVA_ABI_BUFFER || v->abi.elem != AVA_ABI_ELEM_BYTES ||
	    v->abi.size_bytes != 1 || v->abi.dir == AVA_ABI_DIR_INOUT ||
	    (v->abi.flags & ~(uint16_t)AVA_ABI_V_LATE) ||
	    (v->abi.dir == AVA_ABI_DIR_OUT && !(v->abi.flags & AVA_ABI_V_LATE))) {
		error_loc(p, b->args[i].rect_where,
			  "ava_rect on '%s' of %s: it applies to a void * buffer, ava_in, or "
			  "ava_out with ava_late_data",
			  v->name, fn->name);
		return;
	}
	v->abi.flags |= AVA_ABI_V_RECT;
}

/* ------------------------------------------------------------------------ */
/* Top level                                                                */

static void push_cursor(CXCursor **v, size_t *n, CXCursor c)
{
	*v = xrealloc(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = c;
}

static bool has_annotation(CXCursor c, const char *what)
{
	struct children ch = children_of(c);
	bool r = false;
	size_t i;

	for (i = 0; i < ch.n; i++) {
		if (clang_getCursorKind(ch.v[i]) == CXCursor_AnnotateAttr && name_is(ch.v[i], what))
			r = true;
	}
	free(ch.v);
	return r;
}

static enum CXChildVisitResult top_visit(CXCursor c, CXCursor parent, CXClientData data)
{
	struct parser *p = data;
	enum CXCursorKind k = clang_getCursorKind(c);
	bool main = in_main_file(p, c);

	(void)parent;
	if (k == CXCursor_TypedefDecl || k == CXCursor_StructDecl || k == CXCursor_UnionDecl) {
		char *usr = str_take(clang_getCursorUSR(c));

		CXType under = clang_getTypedefDeclUnderlyingType(c);
		char *hkey = NULL;

		if (k == CXCursor_TypedefDecl && is_opaque_pointer(under))
			hkey = handle_key(under);
		p->decls = xrealloc(p->decls, p->n_decls + 1, sizeof(*p->decls));
		p->decls[p->n_decls] = (struct decl_pos){ usr, p->n_decls, c, hkey };
		p->n_decls++;
		return CXChildVisit_Continue;
	}
	if (k == CXCursor_InclusionDirective && main) {
		char *inc = source_text(p, c);

		if (inc) {
			const char *q = strpbrk(inc, "<\"");
			char *name = cursor_name(c);

			if (q && strcmp(name, "ava/spec.h") != 0) {
				char *line = xasprintf("#include %s", q);

				ava_codegen_strv_push(&p->api->includes, &p->api->n_includes, line);
				free(line);
			}
			free(name);
			free(inc);
		}
		return CXChildVisit_Continue;
	}
	if (k == CXCursor_MacroDefinition && main && !clang_Cursor_isMacroBuiltin(c)) {
		/* The spec's own macros (CL_TARGET_OPENCL_VERSION) shape how the headers
		 * read, so the generated files define them too, in the same place. */
		char *def = source_text(p, c);

		if (def) {
			char *line = xasprintf("#define %s", def);

			ava_codegen_strv_push(&p->api->includes, &p->api->n_includes, line);
			free(line);
			free(def);
		}
		return CXChildVisit_Continue;
	}
	if (k == CXCursor_VarDecl && main) {
		if (name_has_prefix(c, "__ava_"))
			push_cursor(&p->settings, &p->n_settings, c);
		else
			error_at(p, c,
				 "unexpected variable in a spec: only annotations belong here");
		return CXChildVisit_Continue;
	}
	if (k != CXCursor_FunctionDecl)
		return CXChildVisit_Continue;
	if (main) {
		if (!clang_isCursorDefinition(c))
			return CXChildVisit_Continue;
		if (name_has_prefix(c, "__ava_type_")) {
			push_cursor(&p->type_decls, &p->n_type_decls, c);
		} else if (name_has_prefix(c, "__ava_defaults_")) {
			p->dflts = xrealloc(p->dflts, p->n_dflts + 1, sizeof(*p->dflts));
			p->dflts[p->n_dflts++] = (struct defaults){ .def = c };
		} else if (has_annotation(c, "ava_callback_decl"))
			push_cursor(&p->cb_decls, &p->n_cb_decls, c);
		else
			push_cursor(&p->entries, &p->n_entries, c);
		return CXChildVisit_Continue;
	}
	if (!clang_isCursorDefinition(c) && clang_Cursor_getStorageClass(c) != CX_SC_Static)
		push_cursor(&p->fn_decls, &p->n_fn_decls, c);
	return CXChildVisit_Continue;
}

bool is_c_identifier(const char *s)
{
	size_t i;

	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (i = 1; s[i]; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

static char *setting_value(CXCursor var)
{
	struct children ch = children_of(var);
	char *r = NULL;
	size_t i;

	for (i = 0; i < ch.n && !r; i++) {
		if (clang_getCursorKind(ch.v[i]) != CXCursor_UnexposedAttr)
			r = string_literal(ch.v[i]);
	}
	free(ch.v);
	return r;
}

static void read_settings(struct parser *p)
{
	struct ava_codegen_api *api = p->api;
	size_t i;

	for (i = 0; i < p->n_settings; i++) {
		CXCursor c = p->settings[i];
		char *value;
		char **slot = NULL;
		const char *what;

		/* A type, not a string: read once the functions are known. */
		if (name_has_prefix(c, "__ava_handle_proxy_table_")) {
			if (p->has_proxy_table)
				error_at(p, c, "duplicate ava_handle_proxy_table");
			p->has_proxy_table = true;
			p->proxy_table_at = c;
			continue;
		}
		value = setting_value(c);
		if (name_has_prefix(c, "__ava_name_")) {
			slot = &api->name;
			what = "ava_name";
		} else if (name_has_prefix(c, "__ava_identifier_")) {
			slot = &api->identifier;
			what = "ava_identifier";
		} else if (name_has_prefix(c, "__ava_version_")) {
			slot = &api->version;
			what = "ava_version";
		} else if (name_has_prefix(c, "__ava_soname_")) {
			what = "ava_soname";
		} else if (name_has_prefix(c, "__ava_header_")) {
			what = "ava_header";
		} else if (name_has_prefix(c, "__ava_errcode_param_")) {
			slot = &api->errcode_param;
			what = "ava_errcode_param";
		} else if (name_has_prefix(c, "__ava_guest_export_")) {
			what = "ava_guest_export";
		} else if (name_has_prefix(c, "__ava_handle_proxy_")) {
			slot = &api->handle_proxy;
			what = "ava_handle_proxy";
		} else if (name_has_prefix(c, "__ava_call_ids_")) {
			slot = &api->call_ids;
			what = "ava_call_ids";
			if (!api->call_ids)
				p->call_ids_at = c;
		} else {
			error_at(p, c, "unknown API setting");
			free(value);
			continue;
		}
		if (!value || !*value || strchr(value, '\n')) {
			error_at(p, c, "%s needs a one-line string", what);
			free(value);
			continue;
		}
		if (slot && *slot) {
			error_at(p, c, "duplicate %s (already \"%s\")", what, *slot);
			free(value);
			continue;
		}
		if (slot == &api->errcode_param && !is_c_identifier(value)) {
			error_at(p, c, "ava_errcode_param(%s) must name a parameter", value);
			free(value);
			continue;
		}
		if (slot == &api->handle_proxy && !is_c_identifier(value)) {
			error_at(p, c, "ava_handle_proxy(%s) must name a symbol", value);
			free(value);
			continue;
		}
		if (slot) {
			*slot = value;
			continue;
		}
		if (strcmp(what, "ava_guest_export") == 0) {
			size_t k;

			if (!is_c_identifier(value))
				error_at(p, c, "ava_guest_export(%s) must name a symbol", value);
			for (k = 0; k < api->n_guest_exports; k++) {
				if (strcmp(api->guest_exports[k], value) == 0)
					error_at(p, c, "duplicate ava_guest_export(%s)", value);
			}
			ava_codegen_strv_push(&api->guest_exports, &api->n_guest_exports, value);
		} else if (what[4] == 's') {
			size_t k;

			for (k = 0; k < api->n_sonames; k++) {
				if (strcmp(api->sonames[k], value) == 0)
					error_at(p, c, "duplicate ava_soname(%s)", value);
			}
			ava_codegen_strv_push(&api->sonames, &api->n_sonames, value);
		} else {
			size_t k;

			for (k = 0; k < api->n_headers; k++) {
				if (strcmp(api->headers[k], value) == 0)
					error_at(p, c, "duplicate ava_header(\"%s\")", value);
			}
			ava_codegen_strv_push(&api->headers, &api->n_headers, value);
		}
		free(value);
	}
	if (!api->identifier) {
		error_top(p,
			  "missing ava_identifier(id): the API needs a name for generated code and "
			  "the wire");
	} else if (!is_c_identifier(api->identifier) || strstr(api->identifier, "__") ||
		   strlen(api->identifier) > 64) {
		for (i = 0; i < p->n_settings; i++) {
			if (name_has_prefix(p->settings[i], "__ava_identifier_"))
				error_at(p, p->settings[i],
					 "ava_identifier(%s) must be a C identifier of at most 64 "
					 "characters without '__'",
					 api->identifier);
		}
	}
	if (!api->n_headers)
		error_top(p, "missing ava_header(\"file.h\"): which header declares the API?");
	if (!api->name && api->identifier)
		api->name = xstrdup(api->identifier);
}

static void read_types(struct parser *p)
{
	struct ava_codegen_api *api = p->api;
	size_t i, k;

	for (i = 0; i < p->n_type_decls; i++) {
		CXCursor def = p->type_decls[i];
		CXCursor param = clang_Cursor_getArgument(def, 0);
		struct ava_codegen_type *t;
		struct body b;

		api->types = xrealloc(api->types, api->n_types + 1, sizeof(*api->types));
		t = &api->types[api->n_types];
		memset(t, 0, sizeof(*t));
		t->ctype = type_name(clang_getCursorType(param));
		for (k = 0; k < api->n_types; k++) {
			if (strcmp(api->types[k].ctype, t->ctype) == 0)
				break;
		}
		if (k < api->n_types) {
			error_at(p, def, "duplicate ava_type(%s)", t->ctype);
			free(t->ctype);
			continue;
		}
		t->ident = ava_codegen_ident_of(t->ctype);
		api->n_types++;
		body_init(&b, p, BODY_TYPE, t->ctype, def);
		b.type = t;
		body_walk(&b, def);
		body_fini(&b);
	}
}

/* The body of a definition: its compound statement, or a null cursor. */
static CXCursor body_of(CXCursor def)
{
	struct children ch = children_of(def);
	CXCursor r = clang_getNullCursor();
	size_t i;

	for (i = 0; i < ch.n; i++) {
		if (clang_getCursorKind(ch.v[i]) == CXCursor_CompoundStmt)
			r = ch.v[i];
	}
	free(ch.v);
	return r;
}

/*
 * Statement c of an ava_defaults body, if it is an ava_argument(x) block
 * (the only thing such a body holds): the index of x among the default's
 * parameters, or -1 (with *ret_arg the cursor of x when there is one).
 */
static int defaults_block(CXCursor def, CXCursor c, CXCursor *ret_arg)
{
	struct children ch;
	char *name;
	int r = -1;

	*ret_arg = clang_getNullCursor();
	if (clang_getCursorKind(c) != CXCursor_IfStmt)
		return -1;
	ch = children_of(c);
	name = ch.n >= 2 ? intrinsic_name(ch.v[0]) : NULL;
	if (name && strcmp(name, "__ava_argument") == 0 && ch.n == 2) {
		CXCursor arg = strip(call_arg(strip(ch.v[0]), 1));
		CXCursor ref = clang_getCursorReferenced(arg);
		int k, n = clang_Cursor_getNumArguments(def);

		*ret_arg = arg;
		for (k = 0; k < n && clang_getCursorKind(arg) == CXCursor_DeclRefExpr; k++) {
			if (clang_equalCursors(clang_Cursor_getArgument(def, (unsigned)k), ref))
				r = k;
		}
	}
	free(name);
	free(ch.v);
	return r;
}

/*
 * ava_defaults: checked once here (their bodies hold only ava_argument
 * blocks of their own parameters); what the blocks say is checked for each
 * function they apply to, as if the function had written them.
 */
static void read_defaults(struct parser *p)
{
	size_t i, k;

	for (i = 0; i < p->n_dflts; i++) {
		struct defaults *d = &p->dflts[i];
		int n = clang_Cursor_getNumArguments(d->def);
		CXCursor body = body_of(d->def);
		struct children ch;
		char *sig = xstrdup("");
		unsigned n_blocks = 0;

		for (int j = 0; j < n; j++) {
			CXCursor prm = clang_Cursor_getArgument(d->def, (unsigned)j);
			char *tn = type_name(clang_getCursorType(prm));
			char *pn = cursor_name(prm);
			char *decl = ava_codegen_decl(tn, pn);
			char *next = xasprintf("%s%s%s", sig, j ? ", " : "", decl);

			if (!*pn)
				error_at(p, prm,
					 "a parameter of ava_defaults needs a name: "
					 "defaults apply to parameters by name and type");
			free(sig);
			sig = next;
			free(decl);
			free(pn);
			free(tn);
		}
		d->owner = xasprintf("ava_defaults(%s)", sig);
		free(sig);
		d->ok = n > 0 && !clang_Cursor_isNull(body);
		if (n <= 0)
			error_at(p, d->def,
				 "ava_defaults() needs the parameters it gives defaults to");
		ch = clang_Cursor_isNull(body) ? (struct children){ NULL, 0 } : children_of(body);
		for (k = 0; k < ch.n; k++) {
			CXCursor arg;

			if (clang_getCursorKind(ch.v[k]) == CXCursor_NullStmt)
				continue;
			if (defaults_block(d->def, ch.v[k], &arg) >= 0) {
				n_blocks++;
				continue;
			}
			d->ok = false;
			if (!clang_Cursor_isNull(arg)) {
				char *text = clang_getCursorKind(arg) == CXCursor_DeclRefExpr
						 ? cursor_name(arg)
						 : source_text(p, arg);

				error_at(
				    p, ch.v[k],
				    "ava_argument(%s) in %s: '%s' is not one of its parameters",
				    text ? text : "?", d->owner, text ? text : "?");
				free(text);
			} else {
				error_at(p, ch.v[k],
					 "%s holds only ava_argument(p) { ... } blocks of its "
					 "parameters",
					 d->owner);
			}
		}
		free(ch.v);
		if (d->ok && !n_blocks) {
			error_at(p, d->def, "%s has no ava_argument(p) { ... } block", d->owner);
			d->ok = false;
		}
	}
}

/*
 * Applies every ava_defaults whose parameters (names and types) are all
 * parameters of the function being read (b), in spec order, to the
 * parameters its own body did not annotate.
 */
static void apply_defaults(struct parser *p, struct body *b)
{
	size_t i, k;

	for (i = 0; i < p->n_dflts; i++) {
		struct defaults *d = &p->dflts[i];
		int n = clang_Cursor_getNumArguments(d->def);
		CXCursor *dparams;
		uint16_t *dmap;
		struct children ch;
		bool match = d->ok && n > 0 && n <= b->n_params;

		if (!match)
			continue;
		dparams = xcalloc((size_t)n, sizeof(*dparams));
		dmap = xcalloc((size_t)n, sizeof(*dmap));
		for (int j = 0; j < n && match; j++) {
			char *dn;
			uint16_t f;

			dparams[j] = clang_Cursor_getArgument(d->def, (unsigned)j);
			dn = cursor_name(dparams[j]);
			for (f = 0; f < b->n_params; f++) {
				if (name_is(b->params[f], dn) &&
				    clang_equalTypes(clang_getCursorType(b->params[f]),
						     clang_getCursorType(dparams[j])))
					break;
			}
			free(dn);
			if (f == b->n_params)
				match = false;
			dmap[j] = f;
		}
		if (match) {
			struct scope sc = { .arg = -1 };

			d->used = true;
			b->dflt = (int)i;
			b->dparams = dparams;
			b->dmap = dmap;
			b->n_dparams = (uint16_t)n;
			ch = children_of(body_of(d->def));
			for (k = 0; k < ch.n; k++) {
				CXCursor arg;

				if (defaults_block(d->def, ch.v[k], &arg) >= 0)
					walk(b, ch.v[k], sc);
			}
			free(ch.v);
			b->dflt = -1;
			b->dparams = NULL;
			b->dmap = NULL;
			b->n_dparams = 0;
		}
		free(dparams);
		free(dmap);
	}
}

/* A default no function entry matches is a typo in a name or a type. */
static void unused_defaults(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->n_dflts; i++) {
		if (p->dflts[i].ok && !p->dflts[i].used)
			error_at(p, p->dflts[i].def,
				 "%s matches no function entry: none has parameters of all "
				 "these names and types",
				 p->dflts[i].owner);
	}
}

static int find_type(const struct ava_codegen_api *api, CXType t)
{
	char *name = type_name(t);
	size_t i;
	int r = -1;

	for (i = 0; i < api->n_types; i++) {
		if (strcmp(api->types[i].ctype, name) == 0) {
			r = (int)i;
			break;
		}
	}
	free(name);
	return r;
}

static char *param_name(CXCursor param, unsigned i)
{
	char *n = cursor_name(param);

	if (!*n) {
		free(n);
		n = xasprintf("arg%u", i);
	}
	return n;
}

/* What the body's expressions named must be scalar parameters (args: the settled values). */
static void check_refs(struct parser *p, const struct body *b, const struct ava_codegen_value *args,
		       const char *owner)
{
	size_t k;

	for (k = 0; k < b->n_refs; k++) {
		const struct ava_codegen_value *v = &args[b->refs[k].arg];

		if (v->abi.kind != AVA_ABI_SCALAR)
			error_loc(p, b->refs[k].where,
				  "%s in %s names '%s', which is not a scalar parameter",
				  b->refs[k].what, owner, v->name);
	}
}

static void read_callbacks(struct parser *p)
{
	struct ava_codegen_api *api = p->api;
	size_t i;

	api->callbacks = xcalloc(p->n_cb_decls, sizeof(*api->callbacks));
	for (i = 0; i < p->n_cb_decls; i++) {
		CXCursor def = p->cb_decls[i];
		struct ava_codegen_callback *cb = &api->callbacks[i];
		CXType ft = clang_getCursorType(def);
		int n_userdata = 0;
		struct body b;
		uint16_t k;

		cb->name = cursor_name(def);
		cb->id = (uint32_t)i;
		api->n_callbacks++;
		body_init(&b, p, BODY_CALLBACK, cb->name, def);
		if (b.n_params > AVA_ABI_MAX_ARGS) {
			error_at(p, def, "callback %s has more than %d parameters", cb->name,
				 AVA_ABI_MAX_ARGS);
			body_fini(&b);
			continue;
		}
		if (clang_isFunctionTypeVariadic(ft)) {
			error_at(p, def, "callback %s is variadic", cb->name);
			body_fini(&b);
			continue;
		}
		body_walk(&b, def);
		cb->n_args = b.n_params;
		cb->args = xcalloc(cb->n_args, sizeof(*cb->args));
		for (k = 0; k < b.n_params; k++) {
			struct ava_codegen_value *v = &cb->args[k];
			CXType t = clang_getCursorType(b.params[k]);

			v->name = param_name(b.params[k], k);
			v->ctype = type_name(t);
			v->str_lengths_arg = -1;
			settle_value(p, v, &b.args[k], t, b.params[k], ROLE_CB_ARG, cb->name);
			if (v->abi.kind == AVA_ABI_USERDATA) {
				cb->userdata_arg = k;
				n_userdata++;
			}
			if (v->abi.kind == AVA_ABI_BUFFER)
				cb->has_plan = true;
		}
		check_refs(p, &b, cb->args, cb->name);
		cb->referenced = b.referenced;
		cb->ret.ctype = type_name(clang_getResultType(ft));
		settle_value(p, &cb->ret, &b.ret, clang_getResultType(ft), def, ROLE_CB_RET,
			     cb->name);
		if (n_userdata != 1)
			error_at(p, def,
				 n_userdata
				     ? "callback decl %s has more than one ava_userdata argument"
				     : "callback decl %s has no ava_userdata argument: the guest "
				       "needs one to find its callback",
				 cb->name);
		body_fini(&b);
	}
}

static bool header_matches(const struct ava_codegen_api *api, const char *path)
{
	size_t i, n = strlen(path);

	for (i = 0; i < api->n_headers; i++) {
		const char *h = api->headers[i];
		size_t m = strlen(h);

		if (m <= n && strcmp(path + n - m, h) == 0 && (m == n || path[n - m - 1] == '/'))
			return true;
	}
	return false;
}

static bool cursor_in_headers(struct parser *p, CXCursor c)
{
	CXString file;
	unsigned line, col;
	bool r;

	loc_of(clang_getCursorLocation(c), &file, &line, &col);
	r = clang_getCString(file) && header_matches(p->api, clang_getCString(file));
	clang_disposeString(file);
	return r;
}

/* The ABI result of a function without a spec entry: what the stub returns. */
static void settle_unsupported_ret(struct parser *p, struct ava_codegen_value *v, CXType t)
{
	CXCursor decl;
	long long size = type_size(t);

	if (clang_getCanonicalType(t).kind == CXType_Void) {
		v->abi.kind = AVA_ABI_VOID;
	} else if (opaque_typedef(t, &decl)) {
		v->abi.kind = AVA_ABI_HANDLE;
		v->abi.handle_type = handle_ref(p, t);
	} else if (size >= 1 && size <= AVA_ABI_MAX_SCALAR_BYTES) {
		v->abi.kind = AVA_ABI_SCALAR;
		v->abi.size_bytes = (uint32_t)size;
	} else {
		v->abi.kind = AVA_ABI_VOID; /* the stub zeroes it */
	}
}

/*
 * A function without a spec entry still writes its error into the API's
 * errcode out-parameter (ava_errcode_param), when it has one of that name
 * whose type has ava_type defaults.
 */
static void unsupported_errcode(struct parser *p, struct ava_codegen_fn *fn, const struct body *b)
{
	uint16_t i;

	if (!p->api->errcode_param)
		return;
	for (i = 0; i < fn->n_args; i++) {
		CXType t = clang_getCursorType(b->params[i]);

		if (strcmp(fn->args[i].name, p->api->errcode_param) != 0 || !is_pointer(t) ||
		    is_function_pointer(t))
			continue;
		fn->errcode_type = find_type(p->api, pointee(t));
		if (fn->errcode_type >= 0)
			fn->errcode_arg = i;
		return;
	}
}

/*
 * ava_string_lengths(arg) on argument i, a buffer of strings: arg must be a
 * pointer to size_t-wide integers. The plan reads that pointer (guest only).
 */
static void string_lengths(struct parser *p, struct ava_codegen_fn *fn, const struct body *b,
			   uint16_t i)
{
	const struct ann *a = &b->args[i];
	uint16_t k = (uint16_t)a->str_lengths;
	CXType t = clang_getCursorType(b->params[k]);

	if (!is_pointer(t) || is_function_pointer(t) || !is_arithmetic(pointee(t)) ||
	    type_size(pointee(t)) != (long long)sizeof(size_t)) {
		char *tn = type_name(t);

		error_loc(p, a->str_lengths_where,
			  "ava_string_lengths(%s): '%s' is %s, not a pointer to lengths "
			  "(const size_t *)",
			  fn->args[k].name, fn->args[k].name, tn);
		free(tn);
		return;
	}
	fn->args[i].str_lengths_arg = k;
	if (!fn->args[k].bind_ctype)
		fn->args[k].bind_ctype = unqualified_name(t);
	fn->referenced |= UINT64_C(1) << k;
}

/* Resources of a supported function, once its values are settled. */
static void read_resources(struct parser *p, struct ava_codegen_fn *fn, struct body *b)
{
	unsigned n_alloc = 0;
	bool alloc_ok = false, releases = false;
	uint16_t i;

	if (fn->ret.abi.flags & AVA_ABI_V_ALLOCATES) {
		n_alloc++;
		alloc_ok = fn->ret.abi.kind == AVA_ABI_HANDLE;
	}
	for (i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i].abi;

		if (v->flags & AVA_ABI_V_DEALLOCATES)
			releases = true;
		if (!(v->flags & AVA_ABI_V_ALLOCATES))
			continue;
		n_alloc++;
		alloc_ok = v->elem == AVA_ABI_ELEM_HANDLE && v->max_count == 1;
	}
	if (b->has_mem) {
		/*
		 * No handle at all (OpenCL's clSVMAlloc: an address) is allowed:
		 * the router cannot account it, and refuses it for a tenant with a
		 * memory quota.
		 */
		if (n_alloc > 1 || (n_alloc == 1 && !alloc_ok))
			error_loc(p, b->mem_where,
				  "ava_allocates_resource on %s, which creates more than one "
				  "handle, or not one it can charge the memory to (an "
				  "ava_allocates result, or an out buffer of one ava_allocates "
				  "handle)",
				  fn->name);
		fn->mem_from = b->mem_from;
		fn->mem_arg = b->mem_arg;
		fn->mem_bytes = b->mem_bytes;
	}
	if (b->has_mem_release && !releases)
		error_loc(p, b->mem_release_where,
			  "ava_deallocates_resource on %s, which releases no handle "
			  "(ava_deallocates): memory returns when a handle's last reference goes",
			  fn->name);
	if (b->device_time)
		fn->flags |= AVA_ABI_FN_DEVICE_TIME;
	if (b->has_until) {
		if (!b->device_time) {
			error_loc(p, b->until_where,
				  "ava_device_time_until on %s, which has no "
				  "ava_consumes_resource(device_time, 1)",
				  fn->name);
			return;
		}
		if (fn->args[b->until_arg].abi.kind != AVA_ABI_HANDLE ||
		    (fn->args[b->until_arg].abi.flags & AVA_ABI_V_DEALLOCATES)) {
			error_loc(p, b->until_where,
				  "ava_device_time_until(%s, %s) on %s: '%s' is not a handle the "
				  "call keeps",
				  b->until_name, fn->args[b->until_arg].name, fn->name,
				  fn->args[b->until_arg].name);
			return;
		}
		p->untils = xrealloc(p->untils, p->n_untils + 1, sizeof(*p->untils));
		p->untils[p->n_untils++] = (struct pending_until){
			.fn = fn->id,
			.name = xstrdup(b->until_name),
			.arg = b->until_arg,
			.where = b->until_where,
		};
	}
}

static void read_fn(struct parser *p, struct ava_codegen_fn *fn, CXCursor hdr, CXCursor entry,
		    bool has_entry)
{
	struct ava_codegen_api *api = p->api;
	CXCursor def = has_entry ? entry : hdr;
	CXType ft = clang_getCursorType(def);
	CXType rt = clang_getResultType(ft);
	struct body b;
	bool supported = has_entry;
	uint16_t i;

	fn->variadic = ft.kind == CXType_FunctionProto && clang_isFunctionTypeVariadic(ft);
	fn->deprecated =
	    clang_getCursorAvailability(hdr) == CXAvailability_Deprecated ||
	    (has_entry && clang_getCursorAvailability(entry) == CXAvailability_Deprecated);
	fn->ret.ctype = type_name(rt);
	fn->ret_type = find_type(api, rt);
	fn->errcode_arg = -1;
	fn->errcode_type = -1;
	body_init(&b, p, BODY_FN, fn->name, def);
	fn->n_args = b.n_params;
	fn->args = xcalloc(fn->n_args, sizeof(*fn->args));
	for (i = 0; i < b.n_params; i++) {
		fn->args[i].name = param_name(b.params[i], i);
		fn->args[i].ctype = type_name(clang_getCursorType(b.params[i]));
		fn->args[i].top_const =
		    clang_isConstQualifiedType(clang_getCursorType(b.params[i]));
		fn->args[i].str_lengths_arg = -1;
	}
	if (has_entry) {
		body_walk(&b, def);
		fn->guest_private = b.private_fn;
		fn->resolve_via = b.resolve_via;
		b.resolve_via = NULL;
		if (b.unsupported)
			supported = false;
		else
			apply_defaults(p, &b);
	}
	if (supported && fn->variadic) {
		error_at(p, def,
			 "%s is variadic: variadic functions cannot be remoted; mark it "
			 "ava_unsupported",
			 fn->name);
		supported = false;
	}
	if (supported && fn->n_args > AVA_ABI_MAX_ARGS) {
		error_at(p, def, "%s has more than %d parameters", fn->name, AVA_ABI_MAX_ARGS);
		supported = false;
	}
	if (!supported) {
		fn->flags |= AVA_ABI_FN_UNSUPPORTED;
		settle_unsupported_ret(p, &fn->ret, rt);
		unsupported_errcode(p, fn, &b);
		goto out;
	}

	/* Arguments and result. */
	for (i = 0; i < b.n_params; i++) {
		struct ava_codegen_value *v = &fn->args[i];
		CXType t = clang_getCursorType(b.params[i]);

		settle_value(p, v, &b.args[i], t, b.params[i], ROLE_ARG, fn->name);
		if (b.args[i].bad_handle) {
			bool holds =
			    v->abi.kind == AVA_ABI_HANDLE ||
			    (v->abi.kind == AVA_ABI_BUFFER && (v->abi.dir & AVA_ABI_DIR_IN) &&
			     (v->abi.elem == AVA_ABI_ELEM_HANDLE ||
			      (v->abi.elem == AVA_ABI_ELEM_STRUCT && v->abi.n_fields > 0)));
			if (!holds)
				error_loc(p, b.args[i].bad_handle_where,
					  "ava_invalid_handle_error on '%s' of %s: only a handle "
					  "argument or an input buffer of handles can name a dead "
					  "object",
					  v->name, fn->name);
			else
				v->bad_handle_expr = xstrdup(b.args[i].bad_handle);
		}
		if (b.args[i].written_on_failure) {
			if (v->abi.kind != AVA_ABI_BUFFER || !(v->abi.dir & AVA_ABI_DIR_OUT) ||
			    (v->abi.flags & (AVA_ABI_V_ERRCODE | AVA_ABI_V_LATE)))
				error_loc(
				    p, b.args[i].written_on_failure_where,
				    "ava_written_on_failure on '%s' of %s: only an out buffer "
				    "that travels in the reply (not the errcode, not late data) "
				    "is written when the call fails",
				    v->name, fn->name);
			else
				v->written_on_failure = true;
		}
		if (v->abi.flags & AVA_ABI_V_ERRCODE) {
			if (fn->errcode_arg >= 0) {
				error_loc(p, b.args[i].where,
					  "%s has more than one ava_errcode argument", fn->name);
				continue;
			}
			fn->errcode_arg = i;
			fn->errcode_type = find_type(api, pointee(t));
			if (fn->errcode_type < 0) {
				char *tn = type_name(pointee(t));

				error_loc(
				    p, b.args[i].where,
				    "ava_errcode on '%s' of %s: its type %s has no ava_type(%s) "
				    "defaults",
				    v->name, fn->name, tn, tn);
				free(tn);
			}
		}
		if (v->abi.kind == AVA_ABI_BUFFER)
			fn->has_plan = true;
		if (v->abi.flags & AVA_ABI_V_PROPS)
			fn->referenced |= UINT64_C(1) << i;
	}
	settle_value(p, &fn->ret, &b.ret, rt, def, ROLE_RET, fn->name);
	if (b.ret.mapping && fn->ret.abi.kind == AVA_ABI_MAP) {
		struct ava_codegen_value *ev = &fn->args[b.ret.map_event];

		if (ev->abi.kind != AVA_ABI_BUFFER || ev->abi.elem != AVA_ABI_ELEM_HANDLE ||
		    ev->abi.dir != AVA_ABI_DIR_OUT || !ev->count_expr ||
		    strcmp(ev->count_expr, "1") != 0) {
			error_loc(
			    p, b.ret.map_where,
			    "ava_mapping(..., %s, ...) on %s: the event must be an out buffer "
			    "of one handle",
			    ev->name, fn->name);
		} else {
			ev->abi.flags |= AVA_ABI_V_EVENT;
			fn->map_count = xstrdup(b.ret.map_count);
			fn->map_read = xstrdup(b.ret.map_read);
			fn->map_write = xstrdup(b.ret.map_write);
			fn->has_plan = true;
		}
	}
	for (i = 0; i < b.n_params; i++) {
		if (b.args[i].str_lengths >= 0 && fn->args[i].abi.elem == AVA_ABI_ELEM_STRING)
			string_lengths(p, fn, &b, i);
		if (b.args[i].late_event >= 0)
			late_data(p, fn, &b, i);
		if (b.args[i].rect)
			rect(p, fn, &b, i);
	}

	check_refs(p, &b, fn->args, fn->name);

	/* Call mode. */
	fn->async = b.has_async;
	if (b.has_async || b.has_cond_async)
		fn->flags |= AVA_ABI_FN_MAY_ASYNC;
	if (b.has_async || b.has_cond_async) {
		for (i = 0; i < fn->n_args; i++) {
			if (fn->args[i].abi.kind == AVA_ABI_BUFFER &&
			    (fn->args[i].abi.dir & AVA_ABI_DIR_OUT)) {
				error_loc(p, b.async_where,
					  "ava_async on %s, which has out buffers ('%s'): an "
					  "asynchronous call returns no data",
					  fn->name, fn->args[i].name);
				break;
			}
		}
	}
	if ((b.has_async || b.has_cond_async) && fn->ret.abi.kind != AVA_ABI_VOID &&
	    (fn->ret_type < 0 || !api->types[fn->ret_type].values[AVA_CODEGEN_SUCCESS]))
		error_loc(p, b.async_where,
			  "ava_async on %s needs ava_success for its result type %s: an "
			  "asynchronous call returns it at once",
			  fn->name, fn->ret.ctype);
	for (i = 0; i < fn->n_args; i++) {
		if (fn->args[i].abi.kind == AVA_ABI_CALLBACK) {
			uint16_t j;

			for (j = 0; j < fn->n_args; j++) {
				if (fn->args[j].abi.kind == AVA_ABI_USERDATA)
					break;
			}
			if (j == fn->n_args)
				error_loc(p, b.args[i].where,
					  "%s takes callback '%s' but has no ava_userdata argument",
					  fn->name, fn->args[i].name);
		}
	}

	read_resources(p, fn, &b);

	prune(&b.cond);
	prune(&b.overrides);
	fn->cond = b.cond;
	b.cond = (struct ava_codegen_stmt_list){ NULL, 0 };
	fn->overrides = b.overrides;
	b.overrides = (struct ava_codegen_stmt_list){ NULL, 0 };
	fn->referenced |= b.referenced;
	if (fn->cond.n || fn->overrides.n)
		fn->has_plan = true;
out:
	body_fini(&b);
}

static enum CXVisitorResult proxy_table_field(CXCursor field, CXClientData data)
{
	struct parser *p = data;
	struct ava_codegen_api *api = p->api;
	CXType ft = clang_getCursorType(field);
	char *name = cursor_name(field);
	bool is_fn = false, is_export = false;
	uint32_t f;
	size_t k;

	for (f = 0; f < api->n_fns && !is_fn; f++)
		is_fn = strcmp(api->fns[f].name, name) == 0;
	for (k = 0; k < api->n_guest_exports && !is_export; k++)
		is_export = strcmp(api->guest_exports[k], name) == 0;
	if ((is_fn || is_export) && is_function_pointer(ft)) {
		api->proxy_table =
		    xrealloc(api->proxy_table, api->n_proxy_table + 1, sizeof(*api->proxy_table));
		api->proxy_table[api->n_proxy_table++] = (struct ava_codegen_table_entry){
			.member = name,
			.extern_type = is_fn ? NULL : type_name(ft),
		};
		return CXVisit_Continue;
	}
	free(name);
	return CXVisit_Continue;
}

/*
 * ava_handle_proxy_table(T): the dispatch table avagen defines as the
 * ava_handle_proxy symbol, filled from T's function-pointer members named
 * like a function of the API or a guest export.
 */
static void read_proxy_table(struct parser *p)
{
	struct ava_codegen_api *api = p->api;
	CXType t = clang_getPointeeType(clang_getCursorType(p->proxy_table_at));
	CXType canon = clang_getCanonicalType(t);
	char *tn = unqualified_name(t);

	if (!api->handle_proxy) {
		error_at(p, p->proxy_table_at,
			 "ava_handle_proxy_table(%s) needs ava_handle_proxy(symbol): the table "
			 "is that symbol",
			 tn);
		free(tn);
		return;
	}
	if (canon.kind != CXType_Record || clang_Type_getSizeOf(canon) <= 0) {
		error_at(p, p->proxy_table_at, "ava_handle_proxy_table(%s): not a complete struct",
			 tn);
		free(tn);
		return;
	}
	api->proxy_table_ctype = tn;
	clang_Type_visitFields(canon, proxy_table_field, p);
	if (!api->n_proxy_table)
		error_at(p, p->proxy_table_at,
			 "ava_handle_proxy_table(%s): no member is a function pointer named like "
			 "a function of the API",
			 tn);
}

/* A function of the API headers, before it has a call id. */
struct fn_decl {
	char *name;
	CXCursor hdr, entry;
	bool has_entry;
	uint32_t id;
};

/*
 * ava_call_ids(manifest): every function the committed manifest lists
 * keeps its call id there; the others get the next free ids, in header
 * order. A manifest function the headers no longer declare would leave
 * its id unused (the wire's ids are dense): an error, since dropping it
 * renumbers the wire and must be done on purpose. Returns false on errors.
 */
static bool frozen_ids(struct parser *p, struct fn_decl *fd, uint32_t n)
{
	struct ava_codegen_api *api = p->api;
	const char *slash = strrchr(p->spec_path, '/');
	char *path =
	    api->call_ids[0] == '/' || !slash
		? xstrdup(api->call_ids)
		: xasprintf("%.*s/%s", (int)(slash - p->spec_path), p->spec_path, api->call_ids);
	struct ava_abi_api *old = NULL;
	char errbuf[256];
	uint32_t i, k, next;
	bool ok = true;

	if (ava_abi_load(path, &old, errbuf, sizeof(errbuf)) < 0) {
		error_at(p, p->call_ids_at, "ava_call_ids(\"%s\"): %s", api->call_ids, errbuf);
		free(path);
		return false;
	}
	ava_codegen_strv_push(&api->deps, &api->n_deps, path);
	next = old->n_fns;
	for (i = 0; i < n; i++)
		fd[i].id = UINT32_MAX;
	for (k = 0; k < old->n_fns; k++) {
		for (i = 0; i < n && strcmp(fd[i].name, old->fns[k].name) != 0; i++)
			;
		if (i == n) {
			error_at(
			    p, p->call_ids_at,
			    "ava_call_ids(\"%s\"): %s (call id %u there) is no longer declared "
			    "in the API headers; its id cannot stay unused (update the manifest "
			    "on purpose: the wire changes)",
			    api->call_ids, old->fns[k].name, old->fns[k].id);
			ok = false;
			continue;
		}
		fd[i].id = old->fns[k].id;
	}
	for (i = 0; i < n; i++) {
		if (fd[i].id == UINT32_MAX)
			fd[i].id = next++;
	}
	ava_abi_api_free(old);
	free(path);
	return ok;
}

static void read_fns(struct parser *p)
{
	struct ava_codegen_api *api = p->api;
	bool *used = xcalloc(p->n_entries, sizeof(*used));
	struct fn_decl *fd = xcalloc(p->n_fn_decls, sizeof(*fd));
	uint32_t n = 0, i;
	size_t k;

	for (k = 0; k < p->n_fn_decls; k++) {
		CXCursor hdr = p->fn_decls[k];
		struct fn_decl *d;
		char *name;
		bool dup = false;
		size_t e;

		if (!cursor_in_headers(p, hdr))
			continue;
		name = cursor_name(hdr);
		for (i = 0; i < n; i++) {
			if (strcmp(fd[i].name, name) == 0)
				dup = true;
		}
		if (dup) {
			free(name);
			continue;
		}
		d = &fd[n];
		d->name = name;
		d->hdr = hdr;
		d->entry = clang_getNullCursor();
		d->id = n++;
		for (e = 0; e < p->n_entries; e++) {
			if (!used[e] && name_is(p->entries[e], name)) {
				used[e] = true;
				d->entry = p->entries[e];
				d->has_entry = true;
				break;
			}
		}
	}
	for (k = 0; k < p->n_entries; k++) {
		if (!used[k]) {
			char *name = cursor_name(p->entries[k]);

			error_at(p, p->entries[k],
				 "spec entry for %s, which is not declared in the API headers "
				 "(ava_header)",
				 name);
			free(name);
		}
	}
	free(used);
	if (api->call_ids && !frozen_ids(p, fd, n)) {
		for (i = 0; i < n; i++)
			free(fd[i].name);
		free(fd);
		return;
	}
	/* The model's functions are in call id order: fns[id]. */
	api->fns = xcalloc(n, sizeof(*api->fns));
	api->n_fns = n;
	for (i = 0; i < n; i++) {
		api->fns[fd[i].id].name = fd[i].name;
		api->fns[fd[i].id].id = fd[i].id;
	}
	for (i = 0; i < n; i++) {
		struct fn_decl *d = NULL;
		uint32_t j;

		for (j = 0; j < n && !d; j++) {
			if (fd[j].id == i)
				d = &fd[j];
		}
		read_fn(p, &api->fns[i], d->hdr, d->entry, d->has_entry);
	}
	free(fd);
}

static void retag_stmts(struct ava_codegen_stmt_list *l, const uint16_t *tag_of)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct ava_codegen_stmt *s = l->v[i];

		if (s->kind == AVA_CODEGEN_STMT_HANDLES)
			s->handle_type = tag_of[s->handle_type];
		retag_stmts(&s->then_stmts, tag_of);
		retag_stmts(&s->else_stmts, tag_of);
	}
}

/* Tags follow declaration order; rewrite every handle reference. */
static void assign_tags(struct parser *p)
{
	struct ava_codegen_api *api = p->api;
	uint16_t *tag_of = xcalloc(api->n_handles + 1u, sizeof(*tag_of));
	struct ava_codegen_handle *sorted = xcalloc(api->n_handles, sizeof(*sorted));
	uint16_t i, j, k;
	uint32_t f, c;

	for (i = 0; i < api->n_handles; i++) {
		/* rank = number of handles before it */
		uint16_t rank = 0;

		for (j = 0; j < api->n_handles; j++) {
			if (api->handles[j].order < api->handles[i].order ||
			    (api->handles[j].order == api->handles[i].order && j < i))
				rank++;
		}
		tag_of[i + 1] = (uint16_t)(rank + 1);
		sorted[rank] = api->handles[i];
	}
	free(api->handles);
	api->handles = sorted;

#define RETAG(v)                                                                       \
	do {                                                                           \
		struct ava_codegen_value *v_ = (v);                                    \
		if (v_->abi.handle_type)                                               \
			v_->abi.handle_type = tag_of[v_->abi.handle_type];             \
		for (k = 0; k < v_->abi.n_fields; k++)                                 \
			v_->fields[k].handle_type = tag_of[v_->fields[k].handle_type]; \
	} while (0)

	for (f = 0; f < api->n_fns; f++) {
		RETAG(&api->fns[f].ret);
		for (j = 0; j < api->fns[f].n_args; j++)
			RETAG(&api->fns[f].args[j]);
		retag_stmts(&api->fns[f].cond, tag_of);
	}
	for (c = 0; c < api->n_types; c++)
		for (k = 0; k < api->types[c].n_handle_values; k++)
			api->types[c].handle_values[k].handle_type =
			    tag_of[api->types[c].handle_values[k].handle_type];
	for (c = 0; c < api->n_callbacks; c++) {
		RETAG(&api->callbacks[c].ret);
		for (j = 0; j < api->callbacks[c].n_args; j++)
			RETAG(&api->callbacks[c].args[j]);
	}
#undef RETAG
	free(tag_of);

	/* Release functions: the first supported ava_deallocates taking only that handle. */
	for (f = 0; f < api->n_fns; f++) {
		const struct ava_codegen_fn *fn = &api->fns[f];
		struct ava_codegen_handle *h;

		if ((fn->flags & AVA_ABI_FN_UNSUPPORTED) || fn->n_args != 1 ||
		    fn->args[0].abi.kind != AVA_ABI_HANDLE ||
		    !(fn->args[0].abi.flags & AVA_ABI_V_DEALLOCATES))
			continue;
		h = &api->handles[fn->args[0].abi.handle_type - 1];
		if (h->release_fn < 0) {
			h->release_fn = (int)f;
			h->release_void =
			    fn->ret.abi.kind == AVA_ABI_VOID && strcmp(fn->ret.ctype, "void") == 0;
		}
	}
	/* Retain functions likewise: the first supported ava_retains taking only that handle. */
	for (f = 0; f < api->n_fns; f++) {
		const struct ava_codegen_fn *fn = &api->fns[f];
		struct ava_codegen_handle *h;

		if ((fn->flags & AVA_ABI_FN_UNSUPPORTED) || fn->n_args != 1 ||
		    fn->args[0].abi.kind != AVA_ABI_HANDLE ||
		    !(fn->args[0].abi.flags & AVA_ABI_V_RETAINS))
			continue;
		h = &api->handles[fn->args[0].abi.handle_type - 1];
		if (h->retain_fn < 0) {
			h->retain_fn = (int)f;
			h->retain_void =
			    fn->ret.abi.kind == AVA_ABI_VOID && strcmp(fn->ret.ctype, "void") == 0;
		}
	}
}

/*
 * ava_device_time_until(FN, PARAM): FN is a supported function taking only
 * PARAM's handle type, and the server can keep that object alive while it
 * waits (the type has an ava_retains and an ava_deallocates function).
 */
static void resolve_untils(struct parser *p)
{
	struct ava_codegen_api *api = p->api;
	size_t i;
	uint32_t f;

	for (i = 0; i < p->n_untils; i++) {
		const struct pending_until *u = &p->untils[i];
		struct ava_codegen_fn *fn = &api->fns[u->fn];
		const struct ava_codegen_value *param = &fn->args[u->arg];
		const struct ava_codegen_handle *h = &api->handles[param->abi.handle_type - 1];
		const struct ava_codegen_fn *uf = NULL;

		for (f = 0; f < api->n_fns; f++) {
			if (strcmp(api->fns[f].name, u->name) == 0)
				uf = &api->fns[f];
		}
		if (!uf || (uf->flags & AVA_ABI_FN_UNSUPPORTED) || uf == fn) {
			error_loc(
			    p, u->where,
			    "ava_device_time_until(%s, %s) on %s: %s is not another supported "
			    "function of the API",
			    u->name, param->name, fn->name, u->name);
			continue;
		}
		if (uf->n_args != 1 || uf->args[0].abi.kind != AVA_ABI_HANDLE ||
		    uf->args[0].abi.handle_type != param->abi.handle_type ||
		    (uf->args[0].abi.flags & AVA_ABI_V_DEALLOCATES)) {
			error_loc(p, u->where,
				  "ava_device_time_until(%s, %s) on %s: %s must take exactly one "
				  "argument, a %s (the type of '%s'), and keep it",
				  u->name, param->name, fn->name, u->name, h->name, param->name);
			continue;
		}
		if (h->retain_fn < 0 || h->release_fn < 0) {
			error_loc(
			    p, u->where,
			    "ava_device_time_until(%s, %s) on %s: handle type %s has no %s "
			    "function (one taking only it with %s), so the server cannot keep "
			    "the object alive while it waits",
			    u->name, param->name, fn->name, h->name,
			    h->retain_fn < 0 ? "ava_retains" : "ava_deallocates",
			    h->retain_fn < 0 ? "ava_retains" : "ava_deallocates");
			continue;
		}
		fn->flags |= AVA_ABI_FN_DEVICE_TIME_UNTIL;
		fn->until_fn = uf->id;
		fn->until_arg = u->arg;
	}
}

/* Builds the abi.h form of the model and checks it with common's rules. */
static int build_abi(struct parser *p)
{
	struct ava_codegen_api *api = p->api;
	struct ava_abi_api *abi = &api->abi;
	char errbuf[256];
	uint32_t i;
	uint16_t j;

	api->abi_fns = xcalloc(api->n_fns, sizeof(*api->abi_fns));
	api->abi_callbacks = xcalloc(api->n_callbacks, sizeof(*api->abi_callbacks));
	api->abi_args = xcalloc(api->n_fns + api->n_callbacks, sizeof(*api->abi_args));
	api->handle_names = xcalloc(api->n_handles + 1u, sizeof(*api->handle_names));
	for (j = 0; j < api->n_handles; j++)
		api->handle_names[j + 1] = api->handles[j].name;
	for (i = 0; i < api->n_fns; i++) {
		struct ava_codegen_fn *fn = &api->fns[i];
		struct ava_abi_fn *af = &api->abi_fns[i];

		af->id = i;
		af->name = fn->name;
		af->flags = fn->flags;
		af->ret = fn->ret.abi;
		af->mem_from = fn->mem_from;
		af->mem_arg = fn->mem_arg;
		af->mem_bytes = fn->mem_bytes;
		af->until_fn = fn->until_fn;
		af->until_arg = fn->until_arg;
		if (fn->flags & AVA_ABI_FN_UNSUPPORTED)
			continue;
		api->abi_args[i] = xcalloc(fn->n_args, sizeof(**api->abi_args));
		for (j = 0; j < fn->n_args; j++) {
			fn->args[j].abi.fields = fn->args[j].fields;
			api->abi_args[i][j] = fn->args[j].abi;
		}
		af->n_args = fn->n_args;
		af->args = fn->n_args ? api->abi_args[i] : NULL;
	}
	for (i = 0; i < api->n_callbacks; i++) {
		struct ava_codegen_callback *cb = &api->callbacks[i];
		struct ava_abi_callback *ac = &api->abi_callbacks[i];
		struct ava_abi_value *args = xcalloc(cb->n_args, sizeof(*args));

		api->abi_args[api->n_fns + i] = args;
		for (j = 0; j < cb->n_args; j++)
			args[j] = cb->args[j].abi;
		ac->id = i;
		ac->name = cb->name;
		ac->ret = cb->ret.abi;
		ac->n_args = cb->n_args;
		ac->args = cb->n_args ? args : NULL;
		ac->userdata_arg = cb->userdata_arg;
	}
	abi->name = api->identifier;
	abi->n_fns = api->n_fns;
	abi->fns = api->n_fns ? api->abi_fns : NULL;
	abi->n_callbacks = api->n_callbacks;
	abi->callbacks = api->n_callbacks ? api->abi_callbacks : NULL;
	abi->n_handle_types = api->n_handles;
	abi->handle_type_names = api->handle_names;
	abi->hash = 0;
	if (ava_abi_api_check(abi, errbuf, sizeof(errbuf)) < 0) {
		error_top(p, "the ABI avagen built breaks the rules of ava_abi_api_check: %s",
			  errbuf);
		return -EINVAL;
	}
	abi->hash = ava_abi_hash(abi);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                             */

static void note_inclusion(CXFile file, CXSourceLocation *stack, unsigned depth, CXClientData data)
{
	struct ava_codegen_api *api = data;
	char *name = str_take(clang_getFileName(file));
	size_t i;

	(void)stack;
	(void)depth;
	for (i = 0; i < api->n_deps; i++) {
		if (strcmp(api->deps[i], name) == 0)
			break;
	}
	if (i == api->n_deps && *name)
		ava_codegen_strv_push(&api->deps, &api->n_deps, name);
	free(name);
}

/* The spec path as banners show it: relative to the source root when under it. */
static char *display_path(const char *path, const char *root)
{
	char *rp, *rr;
	char *r = NULL;
	size_t n;

	if (!root || !*root)
		return xstrdup(path);
	rp = realpath(path, NULL);
	rr = realpath(root, NULL);
	if (rp && rr) {
		n = strlen(rr);
		if (strncmp(rp, rr, n) == 0 && rp[n] == '/')
			r = xstrdup(rp + n + 1);
		else if (strcmp(rr, "/") == 0)
			r = xstrdup(rp + 1);
	}
	free(rp);
	free(rr);
	return r ? r : xstrdup(path);
}

static void parser_fini(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->n_decls; i++) {
		free(p->decls[i].usr);
		free(p->decls[i].handle_key);
	}
	free(p->decls);
	free(p->settings);
	free(p->type_decls);
	free(p->cb_decls);
	for (i = 0; i < p->n_dflts; i++)
		free(p->dflts[i].owner);
	free(p->dflts);
	free(p->entries);
	free(p->fn_decls);
	for (i = 0; i < p->n_untils; i++)
		free(p->untils[i].name);
	free(p->untils);
}

int ava_codegen_parse(const struct ava_codegen_options *opts, const char *spec_path,
		      struct ava_codegen_api **ret_api)
{
	struct parser p = { .opts = opts,
			    .err = opts->err ? opts->err : stderr,
			    .spec_path = spec_path };
	CXIndex index = clang_createIndex(0, 0);
	int r;

	*ret_api = NULL;
	p.api = xcalloc(1, sizeof(*p.api));
	p.tu = ava_codegen_cx_parse(opts, index, spec_path, p.err, &p.n_errors, &r);
	if (!p.tu || r < 0)
		goto out;
	p.main_file = clang_getFile(p.tu, spec_path);
	clang_visitChildren(clang_getTranslationUnitCursor(p.tu), top_visit, &p);
	read_settings(&p);
	if (p.n_errors)
		goto out;
	read_types(&p);
	read_defaults(&p);
	read_callbacks(&p);
	read_fns(&p);
	if (p.api->fns)
		unused_defaults(&p);
	if (p.has_proxy_table)
		read_proxy_table(&p);
	if (p.n_errors)
		goto out;
	assign_tags(&p);
	resolve_untils(&p);
	if (p.n_errors)
		goto out;
	if (build_abi(&p) < 0)
		goto out;
	p.api->spec_path = display_path(spec_path, opts->source_root);
	clang_getInclusions(p.tu, note_inclusion, p.api);
out:
	if (!r && p.n_errors)
		r = -EINVAL;
	if (r == 0) {
		*ret_api = p.api;
		p.api = NULL;
	}
	ava_codegen_api_free(p.api);
	parser_fini(&p);
	if (p.tu)
		clang_disposeTranslationUnit(p.tu);
	clang_disposeIndex(index);
	return r;
}

static void value_fini(struct ava_codegen_value *v)
{
	uint16_t i;

	for (i = 0; i < v->abi.n_fields; i++)
		free(v->field_names[i]);
	free(v->field_names);
	free(v->elem_ctype);
	free(v->name);
	free(v->ctype);
	free(v->fields);
	free(v->count_expr);
	free(v->bind_ctype);
	free(v->bad_handle_expr);
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ava_codegen_api_free(struct ava_codegen_api *api)
{
	uint32_t i;
	uint16_t j;
	size_t k;

	if (!api)
		return;
	for (i = 0; i < api->n_fns; i++) {
		struct ava_codegen_fn *fn = &api->fns[i];

		free(fn->name);
		free(fn->resolve_via);
		free(fn->map_count);
		free(fn->map_read);
		free(fn->map_write);
		value_fini(&fn->ret);
		for (j = 0; j < fn->n_args; j++)
			value_fini(&fn->args[j]);
		free(fn->args);
		ava_codegen_stmts_free(&fn->cond);
		ava_codegen_stmts_free(&fn->overrides);
	}
	free(api->fns);
	for (i = 0; i < api->n_callbacks; i++) {
		struct ava_codegen_callback *cb = &api->callbacks[i];

		free(cb->name);
		value_fini(&cb->ret);
		for (j = 0; j < cb->n_args; j++)
			value_fini(&cb->args[j]);
		free(cb->args);
	}
	free(api->callbacks);
	for (j = 0; j < api->n_handles; j++) {
		free(api->handles[j].name);
		free(api->handles[j].ctype);
		free(api->handles[j].key);
	}
	free(api->handles);
	for (k = 0; k < api->n_types; k++) {
		int v;

		free(api->types[k].ctype);
		free(api->types[k].ident);
		for (v = 0; v < AVA_CODEGEN_TYPE_VALUE_COUNT; v++)
			free(api->types[k].values[v]);
		for (i = 0; i < api->types[k].n_handle_values; i++)
			free(api->types[k].handle_values[i].value);
		free(api->types[k].handle_values);
	}
	free(api->types);
	if (api->abi_args) {
		for (i = 0; i < api->n_fns + api->n_callbacks; i++)
			free(api->abi_args[i]);
	}
	free(api->abi_args);
	free(api->abi_fns);
	free(api->abi_callbacks);
	free(api->handle_names);
	strv_free(api->sonames, api->n_sonames);
	strv_free(api->guest_exports, api->n_guest_exports);
	strv_free(api->headers, api->n_headers);
	strv_free(api->includes, api->n_includes);
	strv_free(api->deps, api->n_deps);
	free(api->spec_path);
	free(api->name);
	free(api->identifier);
	free(api->version);
	free(api->errcode_param);
	free(api->handle_proxy);
	free(api->call_ids);
	for (k = 0; k < api->n_proxy_table; k++) {
		free(api->proxy_table[k].member);
		free(api->proxy_table[k].extern_type);
	}
	free(api->proxy_table);
	free(api->proxy_table_ctype);
	free(api);
}
