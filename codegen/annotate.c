/* SPDX-License-Identifier: MIT */
/*
 * Annotations: one row per word of the spec language (the intrinsic it
 * expands to, where it may be written, whether it may be conditional, and
 * what records it), and the one function that checks a statement against
 * its row in a fixed order before handing it to the row's handler.
 *
 * The order of the checks is part of the language's diagnostics (the
 * bad-spec fixtures of tests/codegen/bad assert them): a scope word used as
 * a statement; a condition around a word that cannot be conditional; type
 * defaults; anything else inside ava_type; call words outside a function's
 * own scope; value words outside a value, in ava_field, in ava_element.
 */
#include <stdlib.h>
#include <string.h>

#include "parse-private.h"

/* ---- words with more to check: type defaults, handles, resources, ... ---- */

/* One ava_type value (ava_success, ...). */
static void type_value(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	static const char *const names[AVA_CODEGEN_TYPE_VALUE_COUNT] = {
		"__ava_success",	   "__ava_failure",
		"__ava_unsupported_error", "__ava_invalid_handle_error",
		"__ava_refuse_with",	   "__ava_over_quota_error",
	};
	int i;

	(void)sc;
	for (i = 0; i < AVA_CODEGEN_TYPE_VALUE_COUNT; i++) {
		if (strcmp(name, names[i]) == 0)
			break;
	}
	if (b->kind != BODY_TYPE) {
		error_at(b->p, c, "%s belongs inside ava_type(T) { ... }", pretty(name));
		return;
	}
	if (b->type->values[i]) {
		error_at(b->p, c, "duplicate %s for %s", pretty(name), b->owner);
		return;
	}
	b->type->values[i] = string_literal(call_arg(c, 0));
	if (!b->type->values[i] || !*b->type->values[i]) {
		free(b->type->values[i]);
		b->type->values[i] = NULL;
		error_at(b->p, c, "%s needs a value", pretty(name));
	}
}

/*
 * ava_invalid_handle_error_of(H, v) inside ava_type(T): T's value when a
 * handle of type H names no live object. H arrives as the cast `(H)0`.
 */
static void invalid_handle_error_of(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ava_codegen_type *t = b->type;
	char *hn = string_literal(call_arg(c, 0));
	char *value = string_literal(call_arg(c, 1));
	CXType ht = clang_getCursorType(call_arg(c, 2));
	CXCursor decl;
	uint16_t ref;
	size_t i;

	(void)sc;
	(void)name;
	if (b->kind != BODY_TYPE) {
		error_at(b->p, c, "ava_invalid_handle_error_of belongs inside ava_type(T) { ... }");
		goto out;
	}
	if (!opaque_typedef(ht, &decl) || !is_opaque_pointer(ht)) {
		error_at(b->p, c,
			 "ava_invalid_handle_error_of(%s, ...): '%s' is not a handle type (a "
			 "typedef of a pointer to an incomplete struct)",
			 hn ? hn : "?", hn ? hn : "?");
		goto out;
	}
	if (!value || !*value) {
		error_at(b->p, c, "ava_invalid_handle_error_of(%s, ...) needs a value",
			 hn ? hn : "?");
		goto out;
	}
	ref = handle_ref(b->p, ht);
	for (i = 0; i < t->n_handle_values; i++) {
		if (t->handle_values[i].handle_type == ref) {
			error_at(b->p, c, "duplicate ava_invalid_handle_error_of(%s, ...) for %s",
				 hn ? hn : "?", b->owner);
			goto out;
		}
	}
	t->handle_values =
	    xrealloc(t->handle_values, t->n_handle_values + 1, sizeof(*t->handle_values));
	t->handle_values[t->n_handle_values].handle_type = ref;
	t->handle_values[t->n_handle_values].value = value;
	t->n_handle_values++;
	value = NULL;
out:
	free(hn);
	free(value);
}

/*
 * ava_handles_of(T): this time the bytes buffer holds handles of type T. The
 * type arrives as the cast `(T)0`, so libclang has already resolved it.
 */
static void handles_of(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;
	CXCursor cast = call_arg(c, 1);
	CXType t = clang_getCursorType(cast);
	char *tn = string_literal(call_arg(c, 0));
	struct ava_codegen_stmt *s;
	CXCursor decl;

	(void)name;
	if (sc.arg < 0 || b->kind != BODY_FN) {
		error_at(b->p, c, "ava_handles_of applies to function arguments only");
		goto out;
	}
	if (!opaque_typedef(t, &decl) || !is_opaque_pointer(t)) {
		error_at(b->p, c,
			 "ava_handles_of(%s): '%s' is not a handle type (a typedef of a pointer to "
			 "an incomplete struct)",
			 tn ? tn : "?", tn ? tn : "?");
		goto out;
	}
	if (!v->has_handles_of) {
		v->has_handles_of = true;
		v->handles_of_where = clang_getCursorLocation(c);
	}
	s = xcalloc(1, sizeof(*s));
	s->kind = AVA_CODEGEN_STMT_HANDLES;
	s->arg = (uint16_t)sc.arg;
	s->handle_type = handle_ref(b->p, t);
	stmt_push(sc.cond_depth > 0 ? sc.target : &b->cond, s);
out:
	free(tn);
}

/* ava_override(v): the scalar argument travels as v (the plan writes it). */
static void override(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;
	char *src = string_literal(call_arg(c, 0));
	struct ava_codegen_stmt *s;
	char *what, *pname;

	(void)name;
	if (sc.arg < 0 || b->kind != BODY_FN) {
		error_at(b->p, c, "ava_override applies to function arguments only");
		free(src);
		return;
	}
	pname = cursor_name(b->params[sc.arg]);
	what = xasprintf("override of '%s'", pname);
	free(pname);
	if (!src || !*src || !check_expr(b, call_arg(c, 1), what, true)) {
		if (src && !*src)
			error_at(b->p, c, "ava_override needs a value");
		free(src);
		free(what);
		return;
	}
	free(what);
	if (!v->has_override) {
		v->has_override = true;
		v->override_where = clang_getCursorLocation(c);
	}
	s = xcalloc(1, sizeof(*s));
	s->kind = AVA_CODEGEN_STMT_OVERRIDE;
	s->arg = (uint16_t)sc.arg;
	s->expr = src;
	stmt_push(sc.cond_depth > 0 ? sc.otarget : &b->overrides, s);
}

/* c without parentheses, implicit conversions and C casts. */
static CXCursor strip_casts(CXCursor c)
{
	for (;;) {
		struct children ch;

		c = strip(c);
		if (clang_getCursorKind(c) != CXCursor_CStyleCastExpr)
			return c;
		ch = children_of(c);
		if (ch.n == 0) {
			free(ch.v);
			return c;
		}
		c = ch.v[ch.n - 1];
		free(ch.v);
	}
}

/* The parameter index an expression names by itself, or -1. */
static int param_of(struct body *b, CXCursor expr)
{
	CXCursor e = strip_casts(expr);

	if (clang_getCursorKind(e) != CXCursor_DeclRefExpr)
		return -1;
	return param_index(b, clang_getCursorReferenced(e));
}

static bool is_integer_type(CXType t)
{
	t = clang_getCanonicalType(t);
	return ((t.kind >= CXType_Bool && t.kind <= CXType_Int128) || t.kind == CXType_Enum) &&
	       clang_Type_getSizeOf(t) >= 1 && clang_Type_getSizeOf(t) <= 8;
}

/*
 * ava_consumes_resource, ava_allocates_resource, ava_deallocates_resource
 * and ava_device_time_until: what the router's policy and the server's
 * device-time measurement need, checked here and carried in the manifest.
 */
static void resource(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	char *res = string_literal(call_arg(c, 0));
	char *src = string_literal(call_arg(c, 1));
	CXCursor amount = call_arg(c, 2);

	(void)sc;
	if (strcmp(name, "__ava_device_time_until") == 0) {
		CXCursor f = strip_casts(call_arg(c, 2));
		int arg = param_of(b, call_arg(c, 3));

		if (b->has_until) {
			error_at(b->p, c, "a second ava_device_time_until for %s", b->owner);
			goto out;
		}
		if (clang_getCursorKind(f) != CXCursor_DeclRefExpr ||
		    clang_getCursorKind(clang_getCursorReferenced(f)) != CXCursor_FunctionDecl) {
			error_at(b->p, c,
				 "ava_device_time_until(%s, %s) in %s: '%s' is not a function of "
				 "the API",
				 res ? res : "?", src ? src : "?", b->owner, res ? res : "?");
			goto out;
		}
		if (arg < 0) {
			error_at(
			    b->p, c,
			    "ava_device_time_until(%s, %s) in %s: '%s' is not a parameter of %s",
			    res ? res : "?", src ? src : "?", b->owner, src ? src : "?", b->owner);
			goto out;
		}
		b->has_until = true;
		b->until_where = clang_getCursorLocation(c);
		b->until_arg = (uint16_t)arg;
		b->until_name = cursor_name(clang_getCursorReferenced(f));
		goto out;
	}
	if (strcmp(name, "__ava_consumes_resource") == 0) {
		CXEvalResult ev;
		bool one = false;

		if (!res || strcmp(res, "device_time") != 0) {
			error_at(b->p, c,
				 "ava_consumes_resource(%s, ...) in %s: unknown resource (the one "
				 "a call consumes is device_time)",
				 res ? res : "?", b->owner);
			goto out;
		}
		ev = clang_Cursor_Evaluate(amount);
		if (ev) {
			one = clang_EvalResult_getKind(ev) == CXEval_Int &&
			      clang_EvalResult_getAsLongLong(ev) == 1;
			clang_EvalResult_dispose(ev);
		}
		if (!one) {
			error_at(
			    b->p, c,
			    "ava_consumes_resource(device_time, %s) in %s: the amount must be 1 "
			    "(the server measures the device time)",
			    src ? src : "?", b->owner);
			goto out;
		}
		if (b->device_time) {
			error_at(b->p, c, "a second ava_consumes_resource(device_time, 1) for %s",
				 b->owner);
			goto out;
		}
		b->device_time = true;
		b->device_time_where = clang_getCursorLocation(c);
		goto out;
	}
	if (!res || strcmp(res, "device_memory") != 0) {
		error_at(b->p, c,
			 "%s(%s, ...) in %s: unknown resource (the one a call allocates or frees "
			 "is device_memory)",
			 pretty(name), res ? res : "?", b->owner);
		goto out;
	}
	if (strcmp(name, "__ava_deallocates_resource") == 0) {
		check_expr(b, amount, "resource amount", false);
		b->has_mem_release = true;
		b->mem_release_where = clang_getCursorLocation(c);
		goto out;
	}
	if (b->has_mem) {
		error_at(b->p, c, "a second ava_allocates_resource for %s", b->owner);
		goto out;
	}
	{
		int arg = param_of(b, amount);
		CXEvalResult ev;

		if (arg >= 0) {
			if (!is_integer_type(clang_getCursorType(b->params[arg]))) {
				error_at(b->p, c,
					 "ava_allocates_resource(device_memory, %s) in %s: '%s' is "
					 "not an integer parameter of at most 8 bytes",
					 src ? src : "?", b->owner, src ? src : "?");
				goto out;
			}
			b->mem_from = AVA_ABI_AMOUNT_ARG;
			b->mem_arg = (uint16_t)arg;
		} else {
			ev = clang_Cursor_Evaluate(amount);
			if (!ev || clang_EvalResult_getKind(ev) != CXEval_Int ||
			    (!clang_EvalResult_isUnsignedInt(ev) &&
			     clang_EvalResult_getAsLongLong(ev) < 0)) {
				if (ev)
					clang_EvalResult_dispose(ev);
				error_at(
				    b->p, c,
				    "ava_allocates_resource(device_memory, %s) in %s: the amount "
				    "must be a scalar parameter or an integer constant (the "
				    "router evaluates it from the wire)",
				    src ? src : "?", b->owner);
				goto out;
			}
			b->mem_from = AVA_ABI_AMOUNT_CONST;
			b->mem_bytes = clang_EvalResult_getAsUnsigned(ev);
			clang_EvalResult_dispose(ev);
		}
		b->has_mem = true;
		b->mem_where = clang_getCursorLocation(c);
	}
out:
	free(res);
	free(src);
}

/*
 * ava_blobs_sized_by(arg, v): this time the bytes buffer is an array of
 * pointers to byte buffers, sized by the same call with scalar arg set to v.
 */
static void blobs_sized_by(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;
	CXCursor arg = strip(call_arg(c, 2));
	char *src = string_literal(call_arg(c, 1));
	struct ava_codegen_stmt *s;
	int i = clang_getCursorKind(arg) == CXCursor_DeclRefExpr
		    ? param_index(b, clang_getCursorReferenced(arg))
		    : -1;

	(void)name;
	if (sc.arg < 0 || b->kind != BODY_FN) {
		error_at(b->p, c, "ava_blobs_sized_by applies to function arguments only");
		goto out;
	}
	if (i < 0 || i == sc.arg) {
		char *text = string_literal(call_arg(c, 0));

		error_at(b->p, c,
			 "ava_blobs_sized_by(%s, ...): '%s' is not another parameter of %s",
			 text ? text : "?", text ? text : "?", b->owner);
		free(text);
		goto out;
	}
	if (!src || !*src || !check_expr(b, call_arg(c, 3), "sizing value", true))
		goto out;
	b->refs = xrealloc(b->refs, b->n_refs + 1, sizeof(*b->refs));
	b->refs[b->n_refs++] = (struct ref){
		.arg = (uint16_t)i,
		.where = clang_getCursorLocation(c),
		.what = xstrdup("ava_blobs_sized_by's argument"),
	};
	if (!v->has_blobs) {
		v->has_blobs = true;
		v->blobs_where = clang_getCursorLocation(c);
	}
	s = xcalloc(1, sizeof(*s));
	s->kind = AVA_CODEGEN_STMT_BLOBS;
	s->arg = (uint16_t)sc.arg;
	s->ref_arg = (uint16_t)i;
	s->expr = src;
	src = NULL;
	stmt_push(sc.cond_depth > 0 ? sc.target : &b->cond, s);
out:
	free(src);
}

/* ava_clear_bits(T, mask): the server clears mask in the T the buffer holds. */
static void clear_bits(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;
	CXType t = clang_getCursorType(call_arg(c, 2));
	char *tn = string_literal(call_arg(c, 0));
	char *src = string_literal(call_arg(c, 1));
	long long size = clang_Type_getSizeOf(t);
	struct ava_codegen_stmt *s;

	(void)name;
	if (sc.arg < 0 || b->kind != BODY_FN) {
		error_at(b->p, c, "ava_clear_bits applies to function arguments only");
		goto out;
	}
	if (!tn || !is_integer_type(t) || (size != 1 && size != 2 && size != 4 && size != 8)) {
		error_at(b->p, c,
			 "ava_clear_bits(%s, ...): '%s' is not an integer type of 1, 2, 4 "
			 "or 8 bytes",
			 tn ? tn : "?", tn ? tn : "?");
		goto out;
	}
	if (!src || !*src || !check_expr(b, call_arg(c, 3), "bit mask", true))
		goto out;
	if (!v->has_clear) {
		v->has_clear = true;
		v->clear_where = clang_getCursorLocation(c);
	}
	s = xcalloc(1, sizeof(*s));
	s->kind = AVA_CODEGEN_STMT_CLEAR;
	s->arg = (uint16_t)sc.arg;
	s->expr = src;
	s->type = tn;
	src = tn = NULL;
	stmt_push(sc.cond_depth > 0 ? sc.target : &b->cond, s);
out:
	free(src);
	free(tn);
}

/* An annotation statement: a call to an intrinsic. */

/* ---- value words ---- */

static void ann_handle(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;
	size_t i;

	(void)b;
	(void)name;
	if (!sc.field) {
		if (sc.element)
			v->elem_handle = true;
		else
			v->handle = true;
		return;
	}
	for (i = 0; i < v->n_fields; i++) {
		if (strcmp(v->fields[i], sc.field) == 0)
			return;
	}
	v->fields = xrealloc(v->fields, v->n_fields + 1, sizeof(*v->fields));
	v->field_where = xrealloc(v->field_where, v->n_fields + 1, sizeof(*v->field_where));
	v->fields[v->n_fields] = xstrdup(sc.field);
	v->field_where[v->n_fields++] = clang_getCursorLocation(c);
}

static void ann_opaque(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	(void)b;
	(void)c;
	(void)name;
	if (sc.element)
		sc.value->elem_opaque = true;
	else
		sc.value->opaque = true;
}

static void ann_zero_terminated(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	(void)b;
	(void)c;
	(void)name;
	if (sc.element)
		sc.value->elem_zero_terminated = true;
	else
		sc.value->zero_terminated = true;
}

/* The words that only set a flag of the value (ava_allocates, ...). */
static void ann_flag(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;

	(void)b;
	(void)c;
	if (strcmp(name, "__ava_allocates") == 0)
		v->allocates = true;
	else if (strcmp(name, "__ava_deallocates") == 0)
		v->deallocates = true;
	else if (strcmp(name, "__ava_retains") == 0)
		v->retains = true;
	else if (strcmp(name, "__ava_parent") == 0)
		v->parent = true;
	else if (strcmp(name, "__ava_unmaps") == 0)
		v->unmaps = true;
}

/* Words of arguments, not results: false (with the error) on a result. */
static bool on_argument(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	if (sc.arg >= 0)
		return true;
	error_at(b->p, c, "%s applies to arguments, not to the result", pretty(name));
	return false;
}

/* Words of a function's arguments: false (with the error) elsewhere. */
static bool on_fn_argument(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	if (sc.arg >= 0 && b->kind == BODY_FN)
		return true;
	error_at(b->p, c, "%s applies to function arguments only", pretty(name));
	return false;
}

static void ann_direction(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	if (!on_argument(b, c, sc, name))
		return;
	if (strcmp(name, "__ava_in") == 0)
		sc.value->in = true;
	else
		sc.value->out = true;
}

static void ann_buffer(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;
	CXCursor expr = call_arg(c, 1);
	char *src = string_literal(call_arg(c, 0));
	char *what, *pname;

	if (!on_argument(b, c, sc, name)) {
		free(src);
		return;
	}
	/* Even a size that fails its check makes the value a buffer (no more errors). */
	v->has_buffer = true;
	pname = cursor_name(b->params[sc.arg]);
	what = xasprintf("size expression of '%s'", pname);
	if (!src || !check_expr(b, expr, what, true)) {
		free(src);
		free(what);
		free(pname);
		return;
	}
	free(what);
	v->buffer_where = clang_getCursorLocation(c);
	if (sc.cond_depth > 0) {
		struct ava_codegen_stmt *s = xcalloc(1, sizeof(*s));

		s->kind = AVA_CODEGEN_STMT_COUNT;
		s->arg = (uint16_t)sc.arg;
		s->expr = src;
		stmt_push(sc.target, s);
	} else if (v->count) {
		error_at(b->p, c, "duplicate ava_buffer for '%s'", pname);
		free(src);
	} else {
		v->count = src;
	}
	free(pname);
}

static void ann_max(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;
	CXEvalResult r = clang_Cursor_Evaluate(call_arg(c, 1));

	(void)name;
	if (!r || clang_EvalResult_getKind(r) != CXEval_Int) {
		error_at(b->p, c, "ava_max needs a constant");
	} else if (clang_EvalResult_getAsUnsigned(r) == 0 ||
		   (!clang_EvalResult_isUnsignedInt(r) && clang_EvalResult_getAsLongLong(r) < 0)) {
		error_at(b->p, c, "ava_max must be at least 1");
	} else if (v->has_max) {
		error_at(b->p, c, "duplicate ava_max");
	} else {
		v->has_max = true;
		v->max = clang_EvalResult_getAsUnsigned(r);
	}
	if (r)
		clang_EvalResult_dispose(r);
}

static void ann_userdata(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	if (on_argument(b, c, sc, name))
		sc.value->userdata = true;
}

static void ann_errcode(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	(void)name;
	if (sc.arg < 0 || b->kind != BODY_FN) {
		error_at(b->p, c, "ava_errcode applies to function arguments only");
		return;
	}
	sc.value->errcode = true;
}

static void ann_written_on_failure(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	if (!on_fn_argument(b, c, sc, name))
		return;
	sc.value->written_on_failure = true;
	sc.value->written_on_failure_where = clang_getCursorLocation(c);
}

static void ann_callback(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;
	CXCursor ref = strip(call_arg(c, 1));
	CXCursor decl = clang_getCursorReferenced(ref);
	char *what = string_literal(call_arg(c, 0));
	size_t i;

	if (!on_fn_argument(b, c, sc, name)) {
		free(what);
		return;
	}
	for (i = 0; i < b->p->n_cb_decls; i++) {
		if (clang_equalCursors(clang_getCanonicalCursor(b->p->cb_decls[i]),
				       clang_getCanonicalCursor(decl)))
			break;
	}
	if (i == b->p->n_cb_decls) {
		error_at(b->p, c, "ava_callback(%s): '%s' is not an ava_callback_decl",
			 what ? what : "?", what ? what : "?");
	} else if (v->callback >= 0) {
		error_at(b->p, c, "duplicate ava_callback");
	} else {
		v->callback = (int)i;
		v->callback_where = clang_getCursorLocation(c);
	}
	free(what);
}

static void ann_property_list(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	if (!on_fn_argument(b, c, sc, name))
		return;
	sc.value->props = true;
	sc.value->props_where = clang_getCursorLocation(c);
}

static void ann_scan_handles(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	if (!on_fn_argument(b, c, sc, name))
		return;
	sc.value->scan = true;
	sc.value->scan_where = clang_getCursorLocation(c);
}

static void ann_unmaps(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	if (on_fn_argument(b, c, sc, name))
		ann_flag(b, c, sc, name);
}

static void ann_mapping(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;
	CXCursor arg = strip(call_arg(c, 3));
	int i = clang_getCursorKind(arg) == CXCursor_DeclRefExpr
		    ? param_index(b, clang_getCursorReferenced(arg))
		    : -1;
	static const int expr_at[3] = { 1, 5, 7 }; /* count, readable, writable */
	char *srcs[3] = { string_literal(call_arg(c, 0)), string_literal(call_arg(c, 4)),
			  string_literal(call_arg(c, 6)) };
	bool ok = true;

	(void)name;
	if (sc.arg >= 0 || b->kind != BODY_FN) {
		error_at(b->p, c, "ava_mapping applies to a function's result only");
		ok = false;
	} else if (i < 0) {
		error_at(b->p, c, "ava_mapping: the event is not a parameter of %s", b->owner);
		ok = false;
	} else if (v->mapping) {
		error_at(b->p, c, "duplicate ava_mapping");
		ok = false;
	}
	for (int k = 0; ok && k < 3; k++) {
		if (!srcs[k] || !check_expr(b, call_arg(c, expr_at[k]), "mapping expression", true))
			ok = false;
	}
	if (ok) {
		v->mapping = true;
		v->map_count = srcs[0];
		v->map_read = srcs[1];
		v->map_write = srcs[2];
		v->map_event = i;
		v->map_where = clang_getCursorLocation(c);
	} else {
		for (int k = 0; k < 3; k++)
			free(srcs[k]);
	}
}

static void ann_rect(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	(void)name;
	if (b->kind != BODY_FN) {
		error_at(b->p, c, "ava_rect applies to function arguments and results only");
		return;
	}
	sc.value->rect = true;
	sc.value->rect_where = clang_getCursorLocation(c);
}

/* The parameter an annotation's argument i names (a DeclRefExpr), or -1. */
static int named_param(struct body *b, CXCursor c, int i, CXCursor *ret_arg)
{
	CXCursor arg = strip(call_arg(c, i));

	*ret_arg = arg;
	return clang_getCursorKind(arg) == CXCursor_DeclRefExpr
		   ? param_index(b, clang_getCursorReferenced(arg))
		   : -1;
}

static void ann_late_data(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;
	CXCursor arg;
	int i = named_param(b, c, 1, &arg);

	(void)name;
	if (sc.arg < 0 || b->kind != BODY_FN) {
		error_at(b->p, c, "ava_late_data applies to function arguments only");
		return;
	}
	if (i < 0 || i == sc.arg) {
		char *text = source_text(b->p, arg);

		error_at(b->p, c, "ava_late_data(%s): '%s' is not another parameter of %s",
			 text ? text : "?", text ? text : "?", b->owner);
		free(text);
		return;
	}
	if (v->late_event >= 0) {
		error_at(b->p, c, "duplicate ava_late_data");
		return;
	}
	v->late_event = i;
	v->late_where = clang_getCursorLocation(c);
}

static void ann_string_lengths(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;
	CXCursor arg;
	int i = named_param(b, c, 1, &arg);

	(void)name;
	if (sc.arg < 0 || b->kind != BODY_FN) {
		error_at(b->p, c, "ava_string_lengths applies to function arguments only");
		return;
	}
	if (i < 0) {
		char *text = source_text(b->p, arg);

		error_at(b->p, c, "ava_string_lengths(%s): '%s' is not a parameter of %s",
			 text ? text : "?", text ? text : "?", b->owner);
		free(text);
		return;
	}
	if (v->str_lengths >= 0) {
		error_at(b->p, c, "duplicate ava_string_lengths");
		return;
	}
	v->str_lengths = i;
	v->str_lengths_where = clang_getCursorLocation(c);
}

static void ann_unknown(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	(void)sc;
	error_at(b->p, c, "unknown annotation %s", pretty(name));
}

/* ---- type and call words ---- */

/* Inside ava_argument(p) of a function: that argument's dead-handle error; else a type default. */
static void ann_invalid_handle_error(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	struct ann *v = sc.value;

	if (b->kind != BODY_FN || !v || sc.arg < 0 || sc.element) {
		type_value(b, c, sc, name);
		return;
	}
	if (v->bad_handle) {
		char *pn = cursor_name(b->params[sc.arg]);

		error_at(b->p, c, "duplicate ava_invalid_handle_error for '%s' of %s",
			 pn ? pn : "?", b->owner);
		free(pn);
		return;
	}
	v->bad_handle = string_literal(call_arg(c, 0));
	v->bad_handle_where = clang_getCursorLocation(c);
}

/* ava_sync / ava_async: the call mode, or a conditional statement choosing it. */
static void ann_call_mode(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	bool is_async = strcmp(name, "__ava_async") == 0;

	if (sc.cond_depth > 0) {
		struct ava_codegen_stmt *s = xcalloc(1, sizeof(*s));

		s->kind = AVA_CODEGEN_STMT_ASYNC;
		s->async = is_async;
		stmt_push(sc.target, s);
		if (is_async && !b->has_cond_async) {
			b->has_cond_async = true;
			if (!b->has_async)
				b->async_where = clang_getCursorLocation(c);
		}
		return;
	}
	if ((is_async && b->has_sync) || (!is_async && b->has_async)) {
		error_at(b->p, c, "%s conflicts with an earlier %s for %s", pretty(name),
			 is_async ? "ava_sync" : "ava_async", b->owner);
		return;
	}
	if (is_async) {
		b->has_async = true;
		b->async_where = clang_getCursorLocation(c);
	} else {
		b->has_sync = true;
	}
}

static void ann_unsupported(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	(void)c;
	(void)sc;
	(void)name;
	b->unsupported = true;
}

static void ann_private(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	(void)c;
	(void)sc;
	(void)name;
	b->private_fn = true;
}

static void ann_resolve_via(struct body *b, CXCursor c, struct scope sc, const char *name)
{
	char *r = string_literal(call_arg(c, 0));

	(void)sc;
	(void)name;
	if (!is_c_identifier(r))
		error_at(b->p, c, "ava_resolve_via(%s) must name a function", r ? r : "?");
	else if (b->resolve_via)
		error_at(b->p, c, "duplicate ava_resolve_via for %s", b->owner);
	else
		b->resolve_via = xstrdup(r);
	free(r);
}

/* ---- the table ---- */

enum ann_kind {
	ANN_SCOPE, /* opens a scope (ava_argument, ...): `if (...) { }`, not a statement */
	ANN_TYPE, /* a type default: inside ava_type(T) (ava_invalid_handle_error also in a value) */
	ANN_CALL,  /* about the call: at a function's own scope */
	ANN_VALUE, /* about a value: inside ava_argument(p) or ava_return_value */
};

struct ann_rule {
	const char *name; /* the intrinsic the word expands to */
	enum ann_kind kind;
	bool conditional; /* may stand under a plain C if */
	bool in_element;  /* ANN_VALUE: may stand in ava_element */
	bool in_field;	  /* ANN_VALUE: may stand in ava_field */
	void (*handle)(struct body *b, CXCursor c, struct scope sc, const char *name);
};

/*
 * In the order the conditional ones are listed in messages. Callback decls
 * take the value words and no call words; what else each word allows
 * (results, callbacks) its handler checks.
 */
static const struct ann_rule rules[] = {
	{ "__ava_argument", ANN_SCOPE, false, false, false, NULL },
	{ "__ava_return_value", ANN_SCOPE, false, false, false, NULL },
	{ "__ava_element", ANN_SCOPE, false, false, false, NULL },
	{ "__ava_field", ANN_SCOPE, false, false, false, NULL },

	{ "__ava_success", ANN_TYPE, false, false, false, type_value },
	{ "__ava_failure", ANN_TYPE, false, false, false, type_value },
	{ "__ava_unsupported_error", ANN_TYPE, false, false, false, type_value },
	{ "__ava_invalid_handle_error", ANN_TYPE, false, false, false, ann_invalid_handle_error },
	{ "__ava_invalid_handle_error_of", ANN_TYPE, false, false, false, invalid_handle_error_of },
	{ "__ava_refuse_with", ANN_TYPE, false, false, false, type_value },
	{ "__ava_over_quota_error", ANN_TYPE, false, false, false, type_value },

	{ "__ava_sync", ANN_CALL, true, false, false, ann_call_mode },
	{ "__ava_async", ANN_CALL, true, false, false, ann_call_mode },
	{ "__ava_unsupported", ANN_CALL, false, false, false, ann_unsupported },
	{ "__ava_private", ANN_CALL, false, false, false, ann_private },
	{ "__ava_resolve_via", ANN_CALL, false, false, false, ann_resolve_via },
	{ "__ava_consumes_resource", ANN_CALL, false, false, false, resource },
	{ "__ava_allocates_resource", ANN_CALL, false, false, false, resource },
	{ "__ava_deallocates_resource", ANN_CALL, false, false, false, resource },
	{ "__ava_device_time_until", ANN_CALL, false, false, false, resource },

	{ "__ava_handle", ANN_VALUE, false, true, true, ann_handle },
	{ "__ava_opaque", ANN_VALUE, false, true, false, ann_opaque },
	{ "__ava_allocates", ANN_VALUE, false, true, false, ann_flag },
	{ "__ava_deallocates", ANN_VALUE, false, true, false, ann_flag },
	{ "__ava_retains", ANN_VALUE, false, true, false, ann_flag },
	{ "__ava_parent", ANN_VALUE, false, true, false, ann_flag },
	{ "__ava_zero_terminated", ANN_VALUE, false, true, false, ann_zero_terminated },
	{ "__ava_in", ANN_VALUE, false, false, false, ann_direction },
	{ "__ava_out", ANN_VALUE, false, false, false, ann_direction },
	{ "__ava_buffer", ANN_VALUE, true, false, false, ann_buffer },
	{ "__ava_max", ANN_VALUE, false, false, false, ann_max },
	{ "__ava_userdata", ANN_VALUE, false, false, false, ann_userdata },
	{ "__ava_errcode", ANN_VALUE, false, false, false, ann_errcode },
	{ "__ava_written_on_failure", ANN_VALUE, false, false, false, ann_written_on_failure },
	{ "__ava_callback", ANN_VALUE, false, false, false, ann_callback },
	{ "__ava_property_list", ANN_VALUE, false, false, false, ann_property_list },
	{ "__ava_scan_handles", ANN_VALUE, false, false, false, ann_scan_handles },
	{ "__ava_handles_of", ANN_VALUE, true, false, false, handles_of },
	{ "__ava_override", ANN_VALUE, true, false, false, override },
	{ "__ava_mapping", ANN_VALUE, false, false, false, ann_mapping },
	{ "__ava_unmaps", ANN_VALUE, false, false, false, ann_unmaps },
	{ "__ava_rect", ANN_VALUE, false, false, false, ann_rect },
	{ "__ava_late_data", ANN_VALUE, false, false, false, ann_late_data },
	{ "__ava_blobs_sized_by", ANN_VALUE, true, false, false, blobs_sized_by },
	{ "__ava_clear_bits", ANN_VALUE, true, false, false, clear_bits },
	{ "__ava_string_lengths", ANN_VALUE, false, false, false, ann_string_lengths },
};

/* What an intrinsic of no row is checked as: a value word no scope allows. */
static const struct ann_rule unknown_rule = { NULL, ANN_VALUE, false, false, false, ann_unknown };

static const struct ann_rule *rule_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (strcmp(rules[i].name, name) == 0)
			return &rules[i];
	}
	return &unknown_rule;
}

/* "ava_sync, ava_async, ... and ava_clear_bits": the words that may be conditional. */
static char *conditional_words(void)
{
	char *s = xstrdup("");
	size_t i, n = 0, k = 0;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		n += rules[i].conditional;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		char *next;

		if (!rules[i].conditional)
			continue;
		k++;
		next = xasprintf("%s%s%s", s,
				 k == 1	  ? ""
				 : k == n ? " and "
					  : ", ",
				 pretty(rules[i].name));
		free(s);
		s = next;
	}
	return s;
}

void ava_codegen_annotate(struct body *b, CXCursor c, struct scope sc)
{
	char *name = intrinsic_name(c);
	const struct ann_rule *r;
	struct ann *v = sc.value;

	if (!name) {
		char *callee = cursor_name(c);

		error_at(b->p, c,
			 "unexpected call to '%s' in a spec body: only annotations belong here",
			 callee);
		free(callee);
		return;
	}
	r = rule_of(name);
	if (r->kind == ANN_SCOPE) {
		error_at(b->p, c, "%s opens a scope: write %s { ... }", pretty(name), pretty(name));
		goto out;
	}
	if (sc.cond_depth > 0 && !r->conditional) {
		char *words = conditional_words();

		error_at(b->p, c, "%s cannot be conditional (only %s can)", pretty(name), words);
		free(words);
		goto out;
	}
	if (r->kind == ANN_TYPE) {
		r->handle(b, c, sc, name);
		goto out;
	}
	if (b->kind == BODY_TYPE) {
		error_at(b->p, c, "%s does not belong in ava_type(T) { ... }", pretty(name));
		goto out;
	}
	if (r->kind == ANN_CALL) {
		if (b->kind != BODY_FN)
			error_at(b->p, c, "%s does not belong in a callback decl", pretty(name));
		else if (v)
			error_at(b->p, c, "%s applies to the call, not to an argument",
				 pretty(name));
		else
			r->handle(b, c, sc, name);
		goto out;
	}
	if (!v) {
		error_at(b->p, c, "%s belongs inside ava_argument(x) { ... } or ava_return_value",
			 pretty(name));
		goto out;
	}
	if (sc.field && !r->in_field) {
		error_at(b->p, c, "%s does not belong in ava_field (only ava_handle does)",
			 pretty(name));
		goto out;
	}
	note_seen(v, c);
	if (sc.element && !r->in_element)
		error_at(b->p, c, "%s does not belong in ava_element", pretty(name));
	else
		r->handle(b, c, sc, name);
out:
	free(name);
}
