/* SPDX-License-Identifier: MIT */
/*
 * Emitters: the model to C (guest stubs, API server dispatch), to the ABI
 * manifest and to the linker version script.
 *
 * Generated C reads like hand code in the project's style (tabs, 100
 * columns, kernel braces): lists that do not fit on a line are wrapped after
 * a comma and aligned under the opening bracket, the way clang-format
 * aligns them. Both C files share the ABI tables, the error values and the
 * plan functions, emitted by the same code so they cannot drift apart.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ava/wire.h"
#include "codegen.h"

#define xasprintf ava_codegen_xasprintf
#define xstrdup	  ava_codegen_xstrdup

#define LINE_MAX_COLUMNS 100

struct emitter {
	FILE *f;
	const struct ava_codegen_api *api;
	const char *id;
};

/* ---- text helpers ---- */

static void __attribute__((format(printf, 3, 4)))
put(struct emitter *e, int indent, const char *fmt, ...)
{
	va_list ap;
	int i;

	for (i = 0; i < indent; i++)
		fputc('\t', e->f);
	va_start(ap, fmt);
	vfprintf(e->f, fmt, ap);
	va_end(ap);
	fputc('\n', e->f);
}

static void blank(struct emitter *e)
{
	fputc('\n', e->f);
}

/* Whitespace that reaches column col: tabs as far as they go, then spaces. */
static void pad_to(FILE *f, size_t col)
{
	size_t i;

	for (i = 0; i < col / 8; i++)
		fputc('\t', f);
	for (i = 0; i < col % 8; i++)
		fputc(' ', f);
}

/*
 * Lays out items from column col (continuations at column align) with
 * lines of at most LINE_MAX_COLUMNS; prints them when f is not NULL.
 * Returns the number of line breaks taken.
 */
static size_t fill(FILE *f, char **items, size_t n, const char *tail, size_t col, size_t align)
{
	size_t breaks = 0, i;

	for (i = 0; i < n; i++) {
		size_t len = strlen(items[i]);
		/* what must follow this item on the same line: "," or the tail */
		size_t after = i + 1 < n ? 1 : strlen(tail);

		if (i > 0) {
			if (col + 2 + len + after > LINE_MAX_COLUMNS) {
				if (f) {
					fputs(",\n", f);
					pad_to(f, align);
				}
				col = align;
				breaks++;
			} else {
				if (f)
					fputs(", ", f);
				col += 2;
			}
		}
		if (f)
			fputs(items[i], f);
		col += len;
	}
	if (f)
		fprintf(f, "%s\n", tail);
	return breaks;
}

/*
 * Prints head, the items separated by ", ", then tail, on one line when it
 * fits. Else the items fill lines greedily, continuations aligned under the
 * first item (the column just after head); when head is a call or function
 * name so long that this takes more lines than starting the items on a line
 * of their own one tab further in, that is done instead.
 */
static void wrap(struct emitter *e, int indent, const char *head, char **items, size_t n,
		 const char *tail)
{
	size_t start = (size_t)indent * 8, align = start + strlen(head), total = align, i;
	size_t hlen = strlen(head), inner = start + 8;
	int k;

	for (i = 0; i < n; i++)
		total += strlen(items[i]) + (i ? 2 : 0);
	total += strlen(tail);
	for (k = 0; k < indent; k++)
		fputc('\t', e->f);
	fputs(head, e->f);
	if (total <= LINE_MAX_COLUMNS) {
		for (i = 0; i < n; i++)
			fprintf(e->f, "%s%s", i ? ", " : "", items[i]);
		fprintf(e->f, "%s\n", tail);
		return;
	}
	if (hlen && head[hlen - 1] == '(' && n &&
	    fill(NULL, items, n, tail, inner, inner) + 1 <
		fill(NULL, items, n, tail, align, align)) {
		fputc('\n', e->f);
		pad_to(e->f, inner);
		fill(e->f, items, n, tail, inner, inner);
		return;
	}
	fill(e->f, items, n, tail, align, align);
}

void ava_codegen_emit_wrap(FILE *out, int indent, const char *head, char **items, size_t n,
			   const char *tail)
{
	struct emitter e = { out, NULL, NULL };

	wrap(&e, indent, head, items, n, tail);
}

struct strs {
	char **v;
	size_t n;
};

/*
 * An array initializer: `decl = { a, b };` when it fits on one line, else
 * one item per line.
 */
static void emit_array(struct emitter *e, const char *decl, const struct strs *items)
{
	size_t len = strlen(decl) + 7, i;

	for (i = 0; i < items->n; i++)
		len += strlen(items->v[i]) + 2;
	if (len <= LINE_MAX_COLUMNS) {
		char *head = ava_codegen_xasprintf("%s = { ", decl);

		wrap(e, 0, head, items->v, items->n, " };");
		free(head);
		return;
	}
	put(e, 0, "%s = {", decl);
	for (i = 0; i < items->n; i++)
		put(e, 1, "%s,", items->v[i]);
	put(e, 0, "};");
}

/* `decl = value;`, the value on its own continuation line when too long. */
static void emit_assign(struct emitter *e, int indent, const char *decl, const char *value)
{
	if ((size_t)indent * 8 + strlen(decl) + strlen(value) + 4 <= LINE_MAX_COLUMNS) {
		put(e, indent, "%s = %s;", decl, value);
		return;
	}
	put(e, indent, "%s =", decl);
	put(e, indent + 1, "%s;", value);
}

static void __attribute__((format(printf, 2, 3))) add(struct strs *s, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	p = ava_codegen_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->v = ava_codegen_xrealloc(s->v, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = p;
}

/* Appends an allocated string, taking ownership. */
static void push(struct strs *s, char *owned)
{
	s->v = ava_codegen_xrealloc(s->v, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = owned;
}

static void strs_free(struct strs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static bool str_in(char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return true;
	}
	return false;
}

/* A local name that no parameter of values[] uses: base, else ava_base, ... */
static char *local_name(const struct ava_codegen_value *values, uint16_t n, const char *base)
{
	char *name = xstrdup(base);
	bool clash = true;
	uint16_t i;

	while (clash) {
		clash = false;
		for (i = 0; i < n; i++) {
			if (strcmp(values[i].name, name) == 0)
				clash = true;
		}
		if (clash) {
			char *next = xasprintf("ava_%s", name);

			free(name);
			name = next;
		}
	}
	return name;
}

/* s as a C string literal. */
static char *c_string(const char *s)
{
	char *out = ava_codegen_xmalloc(4 * strlen(s) + 3);
	char *q = out;

	*q++ = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			*q++ = '\\';
			*q++ = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			q += sprintf(q, "\\%03o", c);
		} else {
			*q++ = (char)c;
		}
	}
	*q++ = '"';
	*q = '\0';
	return out;
}

static bool is_simple_expr(const char *s)
{
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	}
	return true;
}

static bool is_void(const char *ctype)
{
	return strcmp(ctype, "void") == 0;
}

/* "R (*)(A0, A1)" for a function taking values[] and returning ret. */
static char *fn_ptr_type(const struct ava_codegen_value *ret, const struct ava_codegen_value *args,
			 uint16_t n)
{
	size_t len = strlen(ret->ctype) + 16, i;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(args[i].ctype) + 2;
	s = ava_codegen_xmalloc(len);
	snprintf(s, len, "%s (*)(", ret->ctype);
	if (!n)
		strcat(s, "void");
	for (i = 0; i < n; i++) {
		if (i)
			strcat(s, ", ");
		strcat(s, args[i].ctype);
	}
	strcat(s, ")");
	return s;
}

/* "*(T *)args[i]": argument i of its declared type. */
static char *arg_deref(const struct ava_codegen_value *v, const char *args, uint16_t i)
{
	char *ptr = ava_codegen_ptr_to(v->ctype);
	char *s = xasprintf("*(%s)%s[%u]", ptr, args, i);

	free(ptr);
	return s;
}

/* "&x", or "(void *)&x" when x is const-qualified. */
static char *addr_of(const struct ava_codegen_value *v)
{
	return v->top_const ? xasprintf("(void *)&%s", v->name) : xasprintf("&%s", v->name);
}

/* AVA_<ID>_<kind>_<name>: a call or callback id as ava_<id>.h names it. */
static char *fn_id_const(const struct emitter *e, const char *kind, const char *name)
{
	char *upper = xstrdup(e->id), *s;

	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	s = xasprintf("AVA_%s_%s_%s", upper, kind, name);
	free(upper);
	return s;
}

/* The `void *const args[] = { &a, &b };` line of stubs and trampolines. */
static void emit_args_array(struct emitter *e, const char *name,
			    const struct ava_codegen_value *values, uint16_t n)
{
	struct strs items = { NULL, 0 };
	char *head = xasprintf("void *const %s[] = { ", name);
	uint16_t i;

	for (i = 0; i < n; i++)
		push(&items, addr_of(&values[i]));
	wrap(e, 1, head, items.v, items.n, " };");
	free(head);
	strs_free(&items);
}

static void banner(struct emitter *e, const char *comment_open, const char *comment_close)
{
	char *path = xstrdup(e->api->spec_path);
	char *p;

	/* A path cannot end the comment early. */
	while ((p = strstr(path, "*/")))
		p[1] = '_';
	fprintf(e->f, "%sGenerated by avagen from %s; do not edit.%s\n", comment_open, path,
		comment_close);
	free(path);
}

/* ---- ABI tables ---- */

static const char *kind_const(uint8_t kind)
{
	static const char *const names[] = {
		"AVA_ABI_VOID",	    "AVA_ABI_SCALAR", "AVA_ABI_HANDLE",
		"AVA_ABI_STRING",   "AVA_ABI_BUFFER", "AVA_ABI_CALLBACK",
		"AVA_ABI_USERDATA", "AVA_ABI_MAP",    "AVA_ABI_UNMAP",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "0";
}

static const char *dir_const(uint8_t dir)
{
	return dir == AVA_ABI_DIR_IN	? "AVA_ABI_DIR_IN"
	       : dir == AVA_ABI_DIR_OUT ? "AVA_ABI_DIR_OUT"
					: "AVA_ABI_DIR_INOUT";
}

static const char *elem_const(uint8_t elem)
{
	return elem == AVA_ABI_ELEM_HANDLE   ? "AVA_ABI_ELEM_HANDLE"
	       : elem == AVA_ABI_ELEM_STRUCT ? "AVA_ABI_ELEM_STRUCT"
	       : elem == AVA_ABI_ELEM_STRING ? "AVA_ABI_ELEM_STRING"
					     : "AVA_ABI_ELEM_BYTES";
}

/* The designated initializers of one value, zero fields left out. */
static void value_items(struct strs *s, const struct ava_abi_value *v, const char *fields_name)
{
	add(s, ".kind = %s", kind_const(v->kind));
	if (v->dir)
		add(s, ".dir = %s", dir_const(v->dir));
	if (v->kind == AVA_ABI_BUFFER)
		add(s, ".elem = %s", elem_const(v->elem));
	if (v->flags) {
		char buf[192] = "";

		if (v->flags & AVA_ABI_V_ALLOCATES)
			strcat(buf, " | AVA_ABI_V_ALLOCATES");
		if (v->flags & AVA_ABI_V_DEALLOCATES)
			strcat(buf, " | AVA_ABI_V_DEALLOCATES");
		if (v->flags & AVA_ABI_V_ERRCODE)
			strcat(buf, " | AVA_ABI_V_ERRCODE");
		if (v->flags & AVA_ABI_V_RETAINS)
			strcat(buf, " | AVA_ABI_V_RETAINS");
		if (v->flags & AVA_ABI_V_SCAN)
			strcat(buf, " | AVA_ABI_V_SCAN");
		if (v->flags & AVA_ABI_V_PROPS)
			strcat(buf, " | AVA_ABI_V_PROPS");
		if (v->flags & AVA_ABI_V_LATE)
			strcat(buf, " | AVA_ABI_V_LATE");
		if (v->flags & AVA_ABI_V_RECT)
			strcat(buf, " | AVA_ABI_V_RECT");
		if (v->flags & AVA_ABI_V_EVENT)
			strcat(buf, " | AVA_ABI_V_EVENT");
		if (v->flags & AVA_ABI_V_BLOBS)
			strcat(buf, " | AVA_ABI_V_BLOBS");
		if (v->flags & AVA_ABI_V_PARENT)
			strcat(buf, " | AVA_ABI_V_PARENT");
		add(s, ".flags = %s", buf + 3);
	}
	if (v->handle_type)
		add(s, ".handle_type = %u", v->handle_type);
	if (v->kind == AVA_ABI_CALLBACK)
		add(s, ".callback_id = %u", v->callback_id);
	if (v->size_bytes)
		add(s, ".size_bytes = %" PRIu32, v->size_bytes);
	if (v->max_count)
		add(s, ".max_count = %" PRIu64, v->max_count);
	if (v->n_fields) {
		add(s, ".n_fields = %u", v->n_fields);
		add(s, ".fields = %s", fields_name);
	}
}

static void emit_value(struct emitter *e, int indent, const char *head,
		       const struct ava_abi_value *v, const char *fields_name, const char *tail)
{
	struct strs s = { NULL, 0 };

	value_items(&s, v, fields_name);
	wrap(e, indent, head, s.v, s.n, tail);
	strs_free(&s);
}

static char *fields_name(const struct emitter *e, const char *owner, const char *arg)
{
	return xasprintf("ava_gen__%s__fields__%s__%s", e->id, owner, arg);
}

/* Compile-time checks that this compiler lays types out as avagen's clang did. */
static void emit_layout_checks(struct emitter *e)
{
	const struct ava_codegen_api *api = e->api;
	struct strs seen = { NULL, 0 };
	uint32_t i;
	uint16_t j, k;
	bool any = false;

	for (i = 0; i < api->n_fns; i++) {
		const struct ava_codegen_fn *fn = &api->fns[i];

		if (fn->flags & AVA_ABI_FN_UNSUPPORTED)
			continue;
		for (j = 0; j < fn->n_args; j++) {
			const struct ava_codegen_value *v = &fn->args[j];
			const char *t = v->abi.kind == AVA_ABI_SCALAR	? v->bind_ctype
					: v->abi.kind == AVA_ABI_BUFFER ? v->elem_ctype
									: NULL;

			if (!t || str_in(seen.v, seen.n, t))
				continue;
			if (!any)
				put(e, 0,
				    "/* Sizes and offsets below are avagen's; this compiler must "
				    "agree. */");
			any = true;
			add(&seen, "%s", t);
			{
				struct strs sa = { NULL, 0 };

				add(&sa, "sizeof(%s) == %" PRIu32, t, v->abi.size_bytes);
				add(&sa, "\"layout of %s differs from avagen's\"", t);
				wrap(e, 0, "_Static_assert(", sa.v, sa.n, ");");
				strs_free(&sa);
			}
			for (k = 0; k < v->abi.n_fields; k++) {
				struct strs sa = { NULL, 0 };

				add(&sa, "offsetof(%s, %s) == %" PRIu32, t, v->field_names[k],
				    v->fields[k].offset_bytes);
				add(&sa, "\"layout of %s differs from avagen's\"", t);
				wrap(e, 0, "_Static_assert(", sa.v, sa.n, ");");
				strs_free(&sa);
			}
		}
	}
	if (any)
		blank(e);
	strs_free(&seen);
}

static void emit_abi_tables(struct emitter *e)
{
	const struct ava_codegen_api *api = e->api;
	const char *id = e->id;
	uint32_t i;
	uint16_t j, k;

	put(e, 0, "/* ---- ABI: how each value travels (%s.abi says the same, as text) ---- */",
	    id);
	blank(e);
	emit_layout_checks(e);
	{
		struct strs names = { NULL, 0 };
		char *decl =
		    xasprintf("static const char *const ava_gen__%s__handle_type_names[]", id);

		add(&names, "NULL");
		for (j = 0; j < api->n_handles; j++)
			add(&names, "\"%s\"", api->handles[j].name);
		emit_array(e, decl, &names);
		free(decl);
		strs_free(&names);
		blank(e);
	}

	for (i = 0; i < api->n_callbacks; i++) {
		const struct ava_codegen_callback *cb = &api->callbacks[i];

		if (!cb->n_args)
			continue;
		put(e, 0, "static const struct ava_abi_value ava_gen__%s__cb_args__%s[] = {", id,
		    cb->name);
		for (j = 0; j < cb->n_args; j++)
			emit_value(e, 1, "{ ", &cb->args[j].abi, NULL, " },");
		put(e, 0, "};");
		blank(e);
	}
	if (api->n_callbacks) {
		put(e, 0, "static const struct ava_abi_callback ava_gen__%s__callbacks[] = {", id);
		for (i = 0; i < api->n_callbacks; i++) {
			const struct ava_codegen_callback *cb = &api->callbacks[i];

			put(e, 1, "{");
			put(e, 2, ".id = %" PRIu32 ",", cb->id);
			put(e, 2, ".name = \"%s\",", cb->name);
			emit_value(e, 2, ".ret = { ", &cb->ret.abi, NULL, " },");
			if (cb->n_args) {
				put(e, 2, ".n_args = %u,", cb->n_args);
				put(e, 2, ".args = ava_gen__%s__cb_args__%s,", id, cb->name);
			}
			put(e, 2, ".userdata_arg = %u,", cb->userdata_arg);
			put(e, 1, "},");
		}
		put(e, 0, "};");
		blank(e);
	}

	for (i = 0; i < api->n_fns; i++) {
		const struct ava_codegen_fn *fn = &api->fns[i];

		if ((fn->flags & AVA_ABI_FN_UNSUPPORTED) || !fn->n_args)
			continue;
		for (j = 0; j < fn->n_args; j++) {
			const struct ava_codegen_value *v = &fn->args[j];

			if (!v->abi.n_fields)
				continue;
			put(e, 0,
			    "static const struct ava_abi_field ava_gen__%s__fields__%s__%s[] = {",
			    id, fn->name, v->name);
			for (k = 0; k < v->abi.n_fields; k++)
				put(e, 1,
				    "{ .offset_bytes = %" PRIu32 ", .handle_type = %u }, /* %s */",
				    v->fields[k].offset_bytes, v->fields[k].handle_type,
				    v->field_names[k]);
			put(e, 0, "};");
			blank(e);
		}
		put(e, 0, "static const struct ava_abi_value ava_gen__%s__args__%s[] = {", id,
		    fn->name);
		for (j = 0; j < fn->n_args; j++) {
			char *fname = fields_name(e, fn->name, fn->args[j].name);

			emit_value(e, 1, "{ ", &fn->args[j].abi, fname, " },");
			free(fname);
		}
		put(e, 0, "};");
		blank(e);
	}

	put(e, 0, "static const struct ava_abi_fn ava_gen__%s__fns[] = {", id);
	for (i = 0; i < api->n_fns; i++) {
		const struct ava_codegen_fn *fn = &api->fns[i];
		const struct ava_abi_fn *af = &api->abi_fns[i];

		put(e, 1, "{");
		put(e, 2, ".id = %" PRIu32 ",", fn->id);
		put(e, 2, ".name = \"%s\",", fn->name);
		if (af->flags) {
			char buf[160] = "";

			if (af->flags & AVA_ABI_FN_UNSUPPORTED)
				strcat(buf, " | AVA_ABI_FN_UNSUPPORTED");
			if (af->flags & AVA_ABI_FN_MAY_ASYNC)
				strcat(buf, " | AVA_ABI_FN_MAY_ASYNC");
			if (af->flags & AVA_ABI_FN_DEVICE_TIME)
				strcat(buf, " | AVA_ABI_FN_DEVICE_TIME");
			if (af->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL)
				strcat(buf, " | AVA_ABI_FN_DEVICE_TIME_UNTIL");
			put(e, 2, ".flags = %s,", buf + 3);
		}
		emit_value(e, 2, ".ret = { ", &af->ret, NULL, " },");
		if (af->n_args) {
			put(e, 2, ".n_args = %u,", af->n_args);
			put(e, 2, ".args = ava_gen__%s__args__%s,", id, fn->name);
		}
		if (af->mem_from == AVA_ABI_AMOUNT_ARG) {
			put(e, 2, ".mem_from = AVA_ABI_AMOUNT_ARG,");
			put(e, 2, ".mem_arg = %u, /* %s */", af->mem_arg,
			    fn->args[af->mem_arg].name);
		} else if (af->mem_from == AVA_ABI_AMOUNT_CONST) {
			put(e, 2, ".mem_from = AVA_ABI_AMOUNT_CONST,");
			put(e, 2, ".mem_bytes = UINT64_C(%" PRIu64 "),", af->mem_bytes);
		}
		if (af->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL) {
			put(e, 2, ".until_fn = %" PRIu32 ", /* %s */", af->until_fn,
			    api->fns[af->until_fn].name);
			put(e, 2, ".until_arg = %u, /* %s */", af->until_arg,
			    fn->args[af->until_arg].name);
		}
		put(e, 1, "},");
	}
	put(e, 0, "};");
	blank(e);

	put(e, 0, "static const struct ava_abi_api ava_gen__%s__abi = {", id);
	put(e, 1, ".name = \"%s\",", id);
	put(e, 1, ".n_fns = %" PRIu32 ",", api->n_fns);
	put(e, 1, ".fns = ava_gen__%s__fns,", id);
	if (api->n_callbacks) {
		put(e, 1, ".n_callbacks = %" PRIu32 ",", api->n_callbacks);
		put(e, 1, ".callbacks = ava_gen__%s__callbacks,", id);
	}
	put(e, 1, ".n_handle_types = %u,", api->n_handles);
	put(e, 1, ".handle_type_names = ava_gen__%s__handle_type_names,", id);
	put(e, 1, ".hash = UINT64_C(0x%016" PRIx64 "),", api->abi.hash);
	put(e, 0, "};");
	blank(e);
}

/* ---- native error values ---- */

static bool type_used(const struct ava_codegen_api *api, size_t t)
{
	uint32_t i;

	for (i = 0; i < api->n_fns; i++) {
		if (api->fns[i].ret_type == (int)t || api->fns[i].errcode_type == (int)t)
			return true;
	}
	return false;
}

static const char *const value_names[AVA_CODEGEN_TYPE_VALUE_COUNT] = {
	"success",     "failure",	   "unsupported_error", "invalid_handle_error",
	"refuse_with", "over_quota_error",
};

static void emit_errors(struct emitter *e)
{
	const struct ava_codegen_api *api = e->api;
	static const struct {
		const char *status;
		enum ava_codegen_type_value value;
	} map[] = {
		{ "AVA_STATUS_UNSUPPORTED", AVA_CODEGEN_UNSUPPORTED_ERROR },
		{ "AVA_STATUS_BAD_HANDLE", AVA_CODEGEN_INVALID_HANDLE_ERROR },
		{ "AVA_STATUS_REFUSED", AVA_CODEGEN_REFUSE_WITH },
		{ "AVA_STATUS_SERVER_GONE", AVA_CODEGEN_FAILURE },
		{ "AVA_STATUS_MALFORMED", AVA_CODEGEN_FAILURE },
		{ "AVA_STATUS_NO_MEMORY", AVA_CODEGEN_FAILURE },
		{ "AVA_STATUS_UNKNOWN_API", AVA_CODEGEN_FAILURE },
		{ "AVA_STATUS_ABI_MISMATCH", AVA_CODEGEN_FAILURE },
		{ "AVA_STATUS_INTERNAL", AVA_CODEGEN_FAILURE },
		{ "AVA_STATUS_OVER_QUOTA", AVA_CODEGEN_OVER_QUOTA_ERROR },
	};
	size_t t, m;
	bool header = false;
	int v;

	for (t = 0; t < api->n_types; t++) {
		const struct ava_codegen_type *ty = &api->types[t];

		if (!type_used(api, t))
			continue;
		if (!header)
			put(e, 0,
			    "/* ---- native values the stubs return when a call cannot run ---- "
			    "*/");
		header = true;
		blank(e);
		for (v = 0; v < AVA_CODEGEN_TYPE_VALUE_COUNT; v++) {
			char *name, *decl;

			if (!ty->values[v])
				continue;
			name = xasprintf("ava_gen__%s__%s__%s", e->id, value_names[v], ty->ident);
			decl = ava_codegen_decl(ty->ctype, name);
			{
				char *full = xasprintf("static const %s", decl);

				emit_assign(e, 0, full, ty->values[v]);
				free(full);
			}
			free(decl);
			free(name);
		}
		uint16_t n_tags = 0;
		for (m = 0; m < ty->n_handle_values; m++) {
			const struct ava_codegen_handle_value *hv = &ty->handle_values[m];
			char *name = xasprintf("ava_gen__%s__bad_handle__%s__%u", e->id, ty->ident,
					       (unsigned)hv->handle_type);
			char *decl = ava_codegen_decl(ty->ctype, name);
			char *full = xasprintf("static const %s", decl);

			emit_assign(e, 0, full, hv->value);
			free(full);
			free(decl);
			free(name);
			if (hv->handle_type >= n_tags)
				n_tags = (uint16_t)(hv->handle_type + 1);
		}
		if (n_tags) {
			put(e, 0, "static const void *const ava_gen__%s__bad_handles__%s[%u] = {",
			    e->id, ty->ident, (unsigned)n_tags);
			for (uint16_t tag = 1; tag < n_tags; tag++)
				for (m = 0; m < ty->n_handle_values; m++)
					if (ty->handle_values[m].handle_type == tag)
						put(e, 1,
						    "[%u] = &ava_gen__%s__bad_handle__%s__%u,",
						    (unsigned)tag, e->id, ty->ident, (unsigned)tag);
			put(e, 0, "};");
		}
		put(e, 0, "static const struct ava_gen_errors ava_gen__%s__errors__%s = {", e->id,
		    ty->ident);
		put(e, 1, ".size_bytes = sizeof(%s),", ty->ctype);
		if (ty->values[AVA_CODEGEN_SUCCESS])
			put(e, 1, ".success = &ava_gen__%s__success__%s,", e->id, ty->ident);
		put(e, 1, ".on_status = {");
		for (m = 0; m < sizeof(map) / sizeof(map[0]); m++) {
			enum ava_codegen_type_value val = map[m].value;

			/* Over quota is a refusal: without its own value it falls back to ava_refuse_with. */
			if (val == AVA_CODEGEN_OVER_QUOTA_ERROR && !ty->values[val])
				val = AVA_CODEGEN_REFUSE_WITH;
			if (!ty->values[val])
				val = AVA_CODEGEN_FAILURE;
			if (!ty->values[val])
				continue;
			put(e, 2, "[%s] = &ava_gen__%s__%s__%s,", map[m].status, e->id,
			    value_names[val], ty->ident);
		}
		put(e, 1, "},");
		if (n_tags) {
			put(e, 1, ".on_bad_handle = ava_gen__%s__bad_handles__%s,", e->id,
			    ty->ident);
			put(e, 1, ".n_bad_handle = %u,", (unsigned)n_tags);
		}
		put(e, 0, "};");
	}
	if (header)
		blank(e);
}

/*
 * A function's arguments with their own ava_invalid_handle_error: the value
 * as the result type and as the errcode type, and one array of each per
 * function (ava_gen__<id>__bad_arg_<ret|errcode>__<fn>).
 */
static void emit_fn_bad_handles(struct emitter *e, const struct ava_codegen_fn *fn)
{
	const struct ava_codegen_api *api = e->api;
	const struct {
		const char *what;
		int type;
	} kinds[2] = { { "ret", fn->ret_type }, { "errcode", fn->errcode_type } };
	uint16_t i;
	int k;
	bool any = false;

	for (i = 0; i < fn->n_args; i++)
		any = any || fn->args[i].bad_handle_expr;
	if (!any)
		return;
	for (k = 0; k < 2; k++) {
		const struct ava_codegen_type *ty;

		if (kinds[k].type < 0)
			continue;
		ty = &api->types[kinds[k].type];
		for (i = 0; i < fn->n_args; i++) {
			char *name, *decl, *full;

			if (!fn->args[i].bad_handle_expr)
				continue;
			name = xasprintf("ava_gen__%s__bad_arg_%s__%s__%u", e->id, kinds[k].what,
					 fn->name, (unsigned)i);
			decl = ava_codegen_decl(ty->ctype, name);
			full = xasprintf("static const %s", decl);
			emit_assign(e, 0, full, fn->args[i].bad_handle_expr);
			free(full);
			free(decl);
			free(name);
		}
		put(e, 0, "static const void *const ava_gen__%s__bad_args_%s__%s[%u] = {", e->id,
		    kinds[k].what, fn->name, (unsigned)fn->n_args);
		for (i = 0; i < fn->n_args; i++)
			if (fn->args[i].bad_handle_expr)
				put(e, 1, "[%u] = &ava_gen__%s__bad_arg_%s__%s__%u,", (unsigned)i,
				    e->id, kinds[k].what, fn->name, (unsigned)i);
		put(e, 0, "};");
	}
	blank(e);
}

/* ".errors = { ... }" of one function. */
static void emit_fn_errors(struct emitter *e, int indent, const struct ava_codegen_fn *fn)
{
	const struct ava_codegen_api *api = e->api;
	struct strs s = { NULL, 0 };

	if (fn->ret_type >= 0)
		add(&s, ".ret = &ava_gen__%s__errors__%s", e->id, api->types[fn->ret_type].ident);
	add(&s, ".errcode_arg = %d", fn->errcode_arg);
	if (fn->errcode_type >= 0)
		add(&s, ".errcode = &ava_gen__%s__errors__%s", e->id,
		    api->types[fn->errcode_type].ident);
	for (uint16_t i = 0; i < fn->n_args; i++) {
		if (!fn->args[i].bad_handle_expr)
			continue;
		if (fn->ret_type >= 0)
			add(&s, ".arg_bad_handle_ret = ava_gen__%s__bad_args_ret__%s", e->id,
			    fn->name);
		if (fn->errcode_type >= 0)
			add(&s, ".arg_bad_handle_errcode = ava_gen__%s__bad_args_errcode__%s",
			    e->id, fn->name);
		break;
	}
	uint32_t written = 0;
	for (uint16_t i = 0; i < fn->n_args; i++)
		if (fn->args[i].written_on_failure)
			written |= UINT32_C(1) << i;
	if (written)
		add(&s, ".written_on_failure = 0x%" PRIx32 "u", written);
	wrap(e, indent, ".errors = { ", s.v, s.n, " },");
	strs_free(&s);
}

/* ---- plan functions ---- */

/* What a plan statement needs: the values planned for and the names of the plan's parameters. */
struct plan_ctx {
	const struct ava_codegen_value *values;
	const char *args;
	const char *plan;
};

/*
 * What one plan function is made of. A function's plan has a call mode and
 * may have statements; a callback's has neither (a callback decl allows no
 * conditions or overrides), only its buffers' counts.
 */
struct plan_src {
	const char *kind; /* middle of the generated name: "plan", "cbplan" */
	const char *name;
	const struct ava_codegen_value *args;
	uint16_t n_args;
	uint64_t referenced; /* bit i: bind argument i as a local */
	bool has_async;
	uint8_t async;
	const struct ava_codegen_stmt_list *overrides, *cond; /* NULL: none */
	const struct ava_codegen_fn *map; /* a function with ava_mapping, else NULL */
};

static void emit_stmts(struct emitter *e, int indent, const struct ava_codegen_stmt_list *l,
		       const struct plan_ctx *pc);

static void emit_if(struct emitter *e, int indent, const struct ava_codegen_stmt *s,
		    const struct plan_ctx *pc, bool is_else_if)
{
	const char *kw = is_else_if ? "} else if" : "if";
	const struct ava_codegen_stmt_list *then = &s->then_stmts, *other = &s->else_stmts;

	/* Only the else branch has work (its statements went to the other plan list). */
	if (!then->n) {
		put(e, indent, "%s (!(%s)) {", kw, s->expr);
		emit_stmts(e, indent + 1, other, pc);
		put(e, indent, "}");
		return;
	}
	put(e, indent, "%s (%s) {", kw, s->expr);
	emit_stmts(e, indent + 1, then, pc);
	if (other->n == 1 && other->v[0]->kind == AVA_CODEGEN_STMT_IF) {
		emit_if(e, indent, other->v[0], pc, true);
		return;
	}
	if (other->n) {
		put(e, indent, "} else {");
		emit_stmts(e, indent + 1, other, pc);
	}
	put(e, indent, "}");
}

static void emit_count(struct emitter *e, int indent, const char *plan, uint16_t arg,
		       const char *expr)
{
	if (is_simple_expr(expr))
		put(e, indent, "%s->count[%u] = %s;", plan, arg, expr);
	else
		put(e, indent, "%s->count[%u] = (%s);", plan, arg, expr);
}

/* `*(T *)args[i] = (T)(v);`: the argument the call will carry. */
static void emit_override(struct emitter *e, int indent, const struct plan_ctx *pc,
			  const struct ava_codegen_stmt *s)
{
	const struct ava_codegen_value *v = &pc->values[s->arg];
	char *ptr = ava_codegen_ptr_to(v->bind_ctype);
	char *lhs = xasprintf("*(%s)%s[%u]", ptr, pc->args, s->arg);
	char *rhs = is_simple_expr(s->expr) ? xasprintf("(%s)%s", v->bind_ctype, s->expr)
					    : xasprintf("(%s)(%s)", v->bind_ctype, s->expr);

	emit_assign(e, indent, lhs, rhs);
	free(rhs);
	free(lhs);
	free(ptr);
}

static void emit_stmts(struct emitter *e, int indent, const struct ava_codegen_stmt_list *l,
		       const struct plan_ctx *pc)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct ava_codegen_stmt *s = l->v[i];

		switch (s->kind) {
		case AVA_CODEGEN_STMT_COUNT:
			emit_count(e, indent, pc->plan, s->arg, s->expr);
			break;
		case AVA_CODEGEN_STMT_ASYNC:
			put(e, indent, "%s->async = %u;", pc->plan, s->async);
			break;
		case AVA_CODEGEN_STMT_IF:
			emit_if(e, indent, s, pc, false);
			break;
		case AVA_CODEGEN_STMT_HANDLES:
			put(e, indent, "%s->handle_type[%u] = %u; /* %s */", pc->plan, s->arg,
			    s->handle_type, e->api->handles[s->handle_type - 1].name);
			break;
		case AVA_CODEGEN_STMT_OVERRIDE:
			emit_override(e, indent, pc, s);
			break;
		case AVA_CODEGEN_STMT_BLOBS:
			put(e, indent, "%s->blobs_arg[%u] = %u; /* %s */", pc->plan, s->arg,
			    s->ref_arg + 1u, pc->values[s->ref_arg].name);
			put(e, indent, "%s->blobs_value[%u] = (uint64_t)(%s);", pc->plan, s->arg,
			    s->expr);
			break;
		case AVA_CODEGEN_STMT_CLEAR:
			put(e, indent, "%s->clear_bits[%u] = (uint64_t)(%s)(%s);", pc->plan, s->arg,
			    s->type, s->expr);
			put(e, indent, "%s->clear_width[%u] = sizeof(%s);", pc->plan, s->arg,
			    s->type);
			break;
		}
	}
}

/*
 * The plan of one function or callback. Order matters: the bindings copy
 * the application's values first, so the overrides that follow write the
 * arguments the call carries while every condition and count still sees
 * what the application passed.
 */
static void emit_plan(struct emitter *e, const struct plan_src *src)
{
	static const struct ava_codegen_stmt_list none = { NULL, 0 };
	const struct ava_codegen_stmt_list *overrides = src->overrides ? src->overrides : &none;
	const struct ava_codegen_stmt_list *cond = src->cond ? src->cond : &none;
	char *args = local_name(src->args, src->n_args, "args");
	char *plan = local_name(src->args, src->n_args, "plan");
	struct plan_ctx pc = { src->args, args, plan };
	bool bound = false;
	uint16_t j;

	{
		struct strs params = { NULL, 0 };
		char *head =
		    xasprintf("static void ava_gen__%s__%s__%s(", e->id, src->kind, src->name);

		add(&params, "void *const *%s", args);
		add(&params, "struct ava_gen_plan *%s", plan);
		wrap(e, 0, head, params.v, params.n, ")");
		free(head);
		strs_free(&params);
	}
	put(e, 0, "{");
	for (j = 0; j < src->n_args; j++) {
		const struct ava_codegen_value *v = &src->args[j];
		char *qual, *decl, *ptr, *lhs;
		size_t len;

		if (!(src->referenced & (UINT64_C(1) << j)) || !v->bind_ctype)
			continue;
		len = strlen(v->bind_ctype);
		qual = len && v->bind_ctype[len - 1] == '*' ? xasprintf("%sconst", v->bind_ctype)
							    : xasprintf("const %s", v->bind_ctype);
		decl = ava_codegen_decl(qual, v->name);
		ptr = ava_codegen_ptr_to(qual);
		lhs = xasprintf("*(%s)%s[%u]", ptr, args, j);
		emit_assign(e, 1, decl, lhs);
		free(lhs);
		free(ptr);
		free(decl);
		free(qual);
		bound = true;
	}
	if (bound)
		blank(e);
	else if (!overrides->n)
		put(e, 1, "(void)%s;", args);
	if (overrides->n) {
		emit_stmts(e, 1, overrides, &pc);
		blank(e);
	}
	if (src->has_async)
		put(e, 1, "%s->async = %u;", plan, src->async);
	for (j = 0; j < src->n_args; j++) {
		const struct ava_codegen_value *v = &src->args[j];

		if (v->abi.kind != AVA_ABI_BUFFER)
			continue;
		if (v->abi.flags & AVA_ABI_V_PROPS) {
			char *lhs = xasprintf("%s->count[%u]", plan, j);
			char *rhs = xasprintf("ava_gen_props_count(%s, sizeof(%s))", v->name,
					      v->elem_ctype);

			emit_assign(e, 1, lhs, rhs);
			free(rhs);
			free(lhs);
			continue;
		}
		if (v->abi.flags & AVA_ABI_V_RECT) {
			/* the runtimes compute it from the API's rect shape */
			put(e, 1, "%s->count[%u] = AVA_GEN_COUNT_FROM_WIRE;", plan, j);
			continue;
		}
		emit_count(e, 1, plan, j, v->count_expr ? v->count_expr : "0");
		if (v->str_lengths_arg >= 0)
			put(e, 1, "%s->str_lengths[%u] = %s;", plan, j,
			    src->args[v->str_lengths_arg].name);
	}
	if (src->map) {
		char *lhs = xasprintf("%s->map_count", plan);

		if (src->map->ret.abi.flags & AVA_ABI_V_RECT)
			put(e, 1, "%s = AVA_GEN_COUNT_FROM_WIRE; /* the rect shape's */", lhs);
		else
			emit_assign(e, 1, lhs, src->map->map_count);
		free(lhs);
		put(e, 1, "%s->map_access = (uint8_t)(((%s) ? AVA_ABI_MAP_READ : 0) |", plan,
		    src->map->map_read);
		put(e, 1, "				((%s) ? AVA_ABI_MAP_WRITE : 0));",
		    src->map->map_write);
	}
	emit_stmts(e, 1, cond, &pc);
	put(e, 0, "}");
	free(args);
	free(plan);
}

static void emit_plans(struct emitter *e)
{
	const struct ava_codegen_api *api = e->api;
	bool header = false;
	uint32_t i;

	for (i = 0; i < api->n_fns; i++) {
		const struct ava_codegen_fn *fn = &api->fns[i];

		if (!fn->has_plan || (fn->flags & AVA_ABI_FN_UNSUPPORTED))
			continue;
		if (!header)
			put(e, 0,
			    "/* ---- plans: buffer sizes and call mode from the scalar arguments "
			    "---- */");
		header = true;
		blank(e);
		{
			struct plan_src src = {
				.kind = "plan",
				.name = fn->name,
				.args = fn->args,
				.n_args = fn->n_args,
				.referenced = fn->referenced,
				.has_async = true,
				.async = fn->async,
				.overrides = &fn->overrides,
				.cond = &fn->cond,
				.map = fn->map_count ? fn : NULL,
			};

			emit_plan(e, &src);
		}
	}
	if (header)
		blank(e);
}

/*
 * Server only: the counts of callback buffers, from the callback's scalar
 * arguments, for ava_apiserver_callback to send (the guest reads them off
 * the wire).
 */
static void emit_cb_plans(struct emitter *e)
{
	const struct ava_codegen_api *api = e->api;
	bool header = false;
	uint32_t i;

	for (i = 0; i < api->n_callbacks; i++) {
		const struct ava_codegen_callback *cb = &api->callbacks[i];
		struct plan_src src = {
			.kind = "cbplan",
			.name = cb->name,
			.args = cb->args,
			.n_args = cb->n_args,
			.referenced = cb->referenced,
		};

		if (!cb->has_plan)
			continue;
		if (!header)
			put(e, 0,
			    "/* ---- callback plans: buffer sizes from the callback's scalar "
			    "arguments ---- */");
		header = true;
		blank(e);
		emit_plan(e, &src);
	}
	if (header)
		blank(e);
}

static void emit_prologue(struct emitter *e, const char *runtime_header)
{
	const struct ava_codegen_api *api = e->api;
	bool need_string = false;
	size_t i;
	uint32_t f;

	for (f = 0; f < api->n_fns; f++) {
		const struct ava_codegen_fn *fn = &api->fns[f];

		if (fn->ret.abi.kind == AVA_ABI_VOID && !is_void(fn->ret.ctype))
			need_string = true;
	}
	banner(e, "/* ", " */");
	put(e, 0, "#include <stddef.h>");
	put(e, 0, "#include <stdint.h>");
	if (need_string)
		put(e, 0, "#include <string.h>");
	blank(e);
	put(e, 0, "#include <%s>", runtime_header);
	blank(e);
	for (i = 0; i < api->n_includes; i++)
		put(e, 0, "%s", api->includes[i]);
	if (api->n_includes)
		blank(e);
	/* Declares the descriptors defined here, so that hand code sees them as they are. */
	put(e, 0, "#include \"ava_%s.h\"", e->id);
	blank(e);
	emit_abi_tables(e);
	emit_errors(e);
	for (uint32_t fi = 0; fi < api->n_fns; fi++)
		emit_fn_bad_handles(e, &api->fns[fi]);
	emit_plans(e);
}

/* ".plan = ..." of a function table entry, if it has one. */
static void emit_plan_ref(struct emitter *e, int indent, const struct ava_codegen_fn *fn)
{
	if (fn->has_plan && !(fn->flags & AVA_ABI_FN_UNSUPPORTED))
		put(e, indent, ".plan = ava_gen__%s__plan__%s,", e->id, fn->name);
}

/* ---- guest ---- */

static void emit_stub(struct emitter *e, const struct ava_codegen_fn *fn)
{
	struct strs params = { NULL, 0 };
	char *ret = local_name(fn->args, fn->n_args, "ret");
	char *args = local_name(fn->args, fn->n_args, "args");
	bool has_ret = !is_void(fn->ret.ctype);
	char *head, *sig, *decl;
	uint16_t i;

	for (i = 0; i < fn->n_args; i++)
		push(&params, ava_codegen_decl(fn->args[i].ctype, fn->args[i].name));
	if (fn->variadic)
		add(&params, "...");
	if (!params.n)
		add(&params, "void");
	/* The function's declarator with a placeholder for its parameter list. */
	sig = xasprintf("%s(\x01)", fn->name);
	decl = ava_codegen_decl(fn->ret.ctype, sig);
	{
		char *mark = strchr(decl, '\x01');
		char *tail = xstrdup(mark + 1);

		*mark = '\0';
		head = xstrdup(decl);
		/*
		 * An unsupported function's stub is weak: a guest source of the
		 * API (GUEST_SOURCES) may implement it in the guest instead.
		 */
		if (fn->guest_private)
			put(e, 0, "/* ava_private: for the API's guest sources, not exported */");
		else if (fn->flags & AVA_ABI_FN_UNSUPPORTED)
			put(e, 0, "__attribute__((visibility(\"default\"), weak))");
		else
			put(e, 0, "__attribute__((visibility(\"default\")))");
		wrap(e, 0, head, params.v, params.n, tail);
		free(tail);
	}
	put(e, 0, "{");
	if (has_ret) {
		char *rdecl = ava_codegen_decl(fn->ret.ctype, ret);

		put(e, 1, "%s;", rdecl);
		free(rdecl);
	}
	if (fn->n_args)
		emit_args_array(e, args, fn->args, fn->n_args);
	if (has_ret && fn->ret.abi.kind == AVA_ABI_VOID)
		put(e, 1, "memset(&%s, 0, sizeof(%s));", ret, ret);
	{
		/* The call id by its name in ava_<id>.h, as hand code spells it. */
		struct strs call = { NULL, 0 };

		add(&call, "&ava_gen__%s__guest_api", e->id);
		push(&call, fn_id_const(e, "FN", fn->name));
		add(&call, "%s", fn->n_args ? args : "NULL");
		add(&call, "%s%s", has_ret ? "&" : "", has_ret ? ret : "NULL");
		wrap(e, 1, "ava_guestlib_call(", call.v, call.n, ");");
		strs_free(&call);
	}
	if (has_ret)
		put(e, 1, "return %s;", ret);
	put(e, 0, "}");
	free(head);
	free(sig);
	free(decl);
	free(ret);
	free(args);
	strs_free(&params);
}

/* Guest side of a callback: calls the application's function pointer. */
static void emit_invoker(struct emitter *e, const struct ava_codegen_callback *cb)
{
	struct strs call_args = { NULL, 0 };
	char *fp = fn_ptr_type(&cb->ret, cb->args, cb->n_args);
	bool has_ret = !is_void(cb->ret.ctype);
	char *head;
	uint16_t i;

	put(e, 0, "static void ava_gen__%s__invoke__%s(void *fn, void *const *args, void *ret)",
	    e->id, cb->name);
	put(e, 0, "{");
	if (!cb->n_args)
		put(e, 1, "(void)args;");
	if (!has_ret)
		put(e, 1, "(void)ret;");
	for (i = 0; i < cb->n_args; i++)
		push(&call_args, arg_deref(&cb->args[i], "args", i));
	if (has_ret) {
		char *rp = ava_codegen_ptr_to(cb->ret.ctype);

		head = xasprintf("*(%s)ret = ((%s)fn)(", rp, fp);
		free(rp);
	} else {
		head = xasprintf("((%s)fn)(", fp);
	}
	wrap(e, 1, head, call_args.v, call_args.n, ");");
	put(e, 0, "}");
	free(head);
	free(fp);
	strs_free(&call_args);
}

int ava_codegen_emit_guest(const struct ava_codegen_api *api, FILE *out)
{
	struct emitter e = { out, api, api->identifier };
	const char *id = api->identifier;
	uint32_t i;

	emit_prologue(&e, "ava/guestlib.h");

	put(&e, 0,
	    "/* ---- the guest runtime's view: descriptors, then one stub per function ---- */");
	blank(&e);
	for (i = 0; i < api->n_callbacks; i++) {
		emit_invoker(&e, &api->callbacks[i]);
		blank(&e);
	}
	put(&e, 0, "static const struct ava_guestlib_fn ava_gen__%s__guest_fns[] = {", id);
	for (i = 0; i < api->n_fns; i++) {
		const struct ava_codegen_fn *fn = &api->fns[i];

		put(&e, 1, "{");
		put(&e, 2, ".abi = &ava_gen__%s__fns[%" PRIu32 "],", id, i);
		emit_plan_ref(&e, 2, fn);
		emit_fn_errors(&e, 2, fn);
		put(&e, 1, "},");
	}
	put(&e, 0, "};");
	blank(&e);
	if (api->n_callbacks) {
		put(&e, 0,
		    "static const struct ava_guestlib_callback ava_gen__%s__guest_callbacks[] = {",
		    id);
		for (i = 0; i < api->n_callbacks; i++) {
			put(&e, 1, "{");
			put(&e, 2, ".abi = &ava_gen__%s__callbacks[%" PRIu32 "],", id, i);
			put(&e, 2, ".invoke = ava_gen__%s__invoke__%s,", id,
			    api->callbacks[i].name);
			put(&e, 1, "},");
		}
		put(&e, 0, "};");
		blank(&e);
	}
	if (api->handle_proxy) {
		/*
		 * Defined by a guest source of the API; only its address is used,
		 * so its type does not matter here.
		 */
		if (api->proxy_table_ctype) {
			ava_codegen_emit_proxy_table(api, out);
		} else {
			put(&e, 0, "extern const char %s[];", api->handle_proxy);
			blank(&e);
		}
	}
	put(&e, 0, "/* The API's hand code, if it has any: NULL without it. */");
	put(&e, 0, "extern const struct ava_guestlib_ops ava_%s_guest_ops __attribute__((weak));",
	    id);
	blank(&e);
	/* Visible to the API's hand code (hidden: the version script keeps it local). */
	put(&e, 0, "const struct ava_guestlib_api ava_gen__%s__guest_api = {", id);
	put(&e, 1, ".abi = &ava_gen__%s__abi,", id);
	put(&e, 1, ".fns = ava_gen__%s__guest_fns,", id);
	if (api->n_callbacks)
		put(&e, 1, ".callbacks = ava_gen__%s__guest_callbacks,", id);
	if (api->handle_proxy)
		put(&e, 1, ".proxy_dispatch = %s%s,", api->proxy_table_ctype ? "&" : "",
		    api->handle_proxy);
	put(&e, 1, ".ops = &ava_%s_guest_ops,", id);
	put(&e, 0, "};");
	for (i = 0; i < api->n_fns; i++) {
		blank(&e);
		emit_stub(&e, &api->fns[i]);
	}
	return ferror(out) ? -EIO : 0;
}

/* ---- server ---- */

static void emit_call(struct emitter *e, const struct ava_codegen_fn *fn)
{
	struct strs call_args = { NULL, 0 };
	bool has_ret = !is_void(fn->ret.ctype);
	char *head;
	uint16_t i;

	put(e, 0, "static void ava_gen__%s__call__%s(void *const *args, void *ret)", e->id,
	    fn->name);
	put(e, 0, "{");
	if (!fn->n_args)
		put(e, 1, "(void)args;");
	if (!has_ret)
		put(e, 1, "(void)ret;");
	for (i = 0; i < fn->n_args; i++)
		push(&call_args, arg_deref(&fn->args[i], "args", i));
	if (has_ret) {
		char *rp = ava_codegen_ptr_to(fn->ret.ctype);

		head = xasprintf("*(%s)ret = %s(", rp, fn->name);
		free(rp);
	} else {
		head = xasprintf("%s(", fn->name);
	}
	wrap(e, 1, head, call_args.v, call_args.n, ");");
	put(e, 0, "}");
	free(head);
	strs_free(&call_args);
}

/* Server side of a callback: has the callback's C type; forwards to the guest. */
static void emit_trampoline(struct emitter *e, const struct ava_codegen_callback *cb)
{
	struct strs params = { NULL, 0 };
	char *ret = local_name(cb->args, cb->n_args, "ret");
	char *args = local_name(cb->args, cb->n_args, "args");
	bool has_ret = !is_void(cb->ret.ctype);
	char *name = xasprintf("ava_gen__%s__callback__%s(\x01)", e->id, cb->name);
	char *decl = ava_codegen_decl(cb->ret.ctype, name);
	char *mark = strchr(decl, '\x01');
	char *tail = xstrdup(mark + 1);
	char *head;
	uint16_t i;

	*mark = '\0';
	head = xasprintf("static %s", decl);
	for (i = 0; i < cb->n_args; i++)
		push(&params, ava_codegen_decl(cb->args[i].ctype, cb->args[i].name));
	if (!params.n)
		add(&params, "void");
	wrap(e, 0, head, params.v, params.n, tail);
	put(e, 0, "{");
	if (has_ret) {
		char *rdecl = ava_codegen_decl(cb->ret.ctype, ret);

		put(e, 1, "%s;", rdecl);
		free(rdecl);
	}
	if (cb->n_args)
		emit_args_array(e, args, cb->args, cb->n_args);
	{
		struct strs call = { NULL, 0 };

		add(&call, "&ava_gen__%s__server_api", e->id);
		push(&call, fn_id_const(e, "CB", cb->name));
		add(&call, "%s", cb->n_args ? args : "NULL");
		add(&call, "%s%s", has_ret ? "&" : "", has_ret ? ret : "NULL");
		wrap(e, 1, "ava_apiserver_callback(", call.v, call.n, ");");
		strs_free(&call);
	}
	if (has_ret)
		put(e, 1, "return %s;", ret);
	put(e, 0, "}");
	free(head);
	free(tail);
	free(decl);
	free(name);
	free(ret);
	free(args);
	strs_free(&params);
}

/* Whether some device_time function waits on objects of handle type tag. */
static bool handle_waited_on(const struct ava_codegen_api *api, uint16_t tag)
{
	uint32_t i;

	for (i = 0; i < api->n_fns; i++) {
		const struct ava_codegen_fn *fn = &api->fns[i];

		if ((fn->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL) &&
		    fn->args[fn->until_arg].abi.handle_type == tag)
			return true;
	}
	return false;
}

static bool any_waited_on(const struct ava_codegen_api *api)
{
	uint16_t h;

	for (h = 0; h < api->n_handles; h++) {
		if (handle_waited_on(api, (uint16_t)(h + 1)))
			return true;
	}
	return false;
}

int ava_codegen_emit_server(const struct ava_codegen_api *api, FILE *out)
{
	struct emitter e = { out, api, api->identifier };
	const char *id = api->identifier;
	uint32_t i;
	uint16_t h;

	emit_prologue(&e, "ava/apiserver.h");
	emit_cb_plans(&e);

	put(&e, 0, "/* ---- the API server's view: calls into the real library ---- */");
	blank(&e);
	for (i = 0; i < api->n_fns; i++) {
		if (api->fns[i].deprecated && !(api->fns[i].flags & AVA_ABI_FN_UNSUPPORTED)) {
			put(&e, 0,
			    "/* The server calls what the API offers, deprecated or not. */");
			put(&e, 0, "#pragma GCC diagnostic ignored \"-Wdeprecated-declarations\"");
			blank(&e);
			break;
		}
	}
	for (i = 0; i < api->n_fns; i++) {
		if (api->fns[i].flags & AVA_ABI_FN_UNSUPPORTED)
			continue;
		emit_call(&e, &api->fns[i]);
		blank(&e);
	}
	ava_codegen_emit_forwarders(api, out);
	for (i = 0; i < api->n_callbacks; i++) {
		emit_trampoline(&e, &api->callbacks[i]);
		blank(&e);
	}
	for (h = 0; h < api->n_handles; h++) {
		const struct ava_codegen_handle *ht = &api->handles[h];

		if (ht->release_fn < 0)
			continue;
		put(&e, 0, "static void ava_gen__%s__release__%s(void *obj)", id, ht->name);
		put(&e, 0, "{");
		put(&e, 1, "%s%s((%s)obj);", ht->release_void ? "" : "(void)",
		    api->fns[ht->release_fn].name, ht->ctype);
		put(&e, 0, "}");
		blank(&e);
	}
	for (h = 0; h < api->n_handles; h++) {
		const struct ava_codegen_handle *ht = &api->handles[h];

		if (ht->retain_fn < 0 || !handle_waited_on(api, (uint16_t)(h + 1)))
			continue;
		put(&e, 0, "static void ava_gen__%s__retain__%s(void *obj)", id, ht->name);
		put(&e, 0, "{");
		put(&e, 1, "%s%s((%s)obj);", ht->retain_void ? "" : "(void)",
		    api->fns[ht->retain_fn].name, ht->ctype);
		put(&e, 0, "}");
		blank(&e);
	}
	for (i = 0; i < api->n_fns; i++) {
		const struct ava_codegen_fn *fn = &api->fns[i];
		const struct ava_codegen_fn *uf;

		if (!(fn->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL))
			continue;
		uf = &api->fns[fn->until_fn];
		put(&e, 0, "/* %s's device work has finished once this returns. */", fn->name);
		put(&e, 0, "static void ava_gen__%s__device_wait__%s(void *obj)", id, fn->name);
		put(&e, 0, "{");
		put(&e, 1, "%s%s((%s)obj);", is_void(uf->ret.ctype) ? "" : "(void)", uf->name,
		    uf->args[0].ctype);
		put(&e, 0, "}");
		blank(&e);
	}

	put(&e, 0, "static const struct ava_apiserver_fn ava_gen__%s__server_fns[] = {", id);
	for (i = 0; i < api->n_fns; i++) {
		const struct ava_codegen_fn *fn = &api->fns[i];

		put(&e, 1, "{");
		put(&e, 2, ".abi = &ava_gen__%s__fns[%" PRIu32 "],", id, i);
		emit_plan_ref(&e, 2, fn);
		if (!(fn->flags & AVA_ABI_FN_UNSUPPORTED))
			put(&e, 2, ".invoke = ava_gen__%s__call__%s,", id, fn->name);
		if (fn->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL)
			put(&e, 2, ".device_wait = ava_gen__%s__device_wait__%s,", id, fn->name);
		emit_fn_errors(&e, 2, fn);
		put(&e, 1, "},");
	}
	put(&e, 0, "};");
	blank(&e);
	if (api->n_callbacks) {
		put(&e, 0,
		    "static const struct ava_apiserver_callback ava_gen__%s__server_callbacks[] = "
		    "{",
		    id);
		for (i = 0; i < api->n_callbacks; i++) {
			put(&e, 1, "{");
			put(&e, 2, ".abi = &ava_gen__%s__callbacks[%" PRIu32 "],", id, i);
			put(&e, 2, ".trampoline = (void (*)(void))ava_gen__%s__callback__%s,", id,
			    api->callbacks[i].name);
			if (api->callbacks[i].has_plan)
				put(&e, 2, ".plan = ava_gen__%s__cbplan__%s,", id,
				    api->callbacks[i].name);
			put(&e, 1, "},");
		}
		put(&e, 0, "};");
		blank(&e);
	}
	{
		struct strs rel = { NULL, 0 };
		char *decl =
		    xasprintf("static const ava_apiserver_release_fn ava_gen__%s__release[]", id);

		add(&rel, "NULL");
		for (h = 0; h < api->n_handles; h++) {
			if (api->handles[h].release_fn < 0)
				add(&rel, "NULL");
			else
				add(&rel, "ava_gen__%s__release__%s", id, api->handles[h].name);
		}
		emit_array(&e, decl, &rel);
		free(decl);
		strs_free(&rel);
		blank(&e);
	}
	if (any_waited_on(api)) {
		struct strs ret = { NULL, 0 };
		char *decl =
		    xasprintf("static const ava_apiserver_release_fn ava_gen__%s__retain[]", id);

		add(&ret, "NULL");
		for (h = 0; h < api->n_handles; h++) {
			if (api->handles[h].retain_fn < 0 ||
			    !handle_waited_on(api, (uint16_t)(h + 1)))
				add(&ret, "NULL");
			else
				add(&ret, "ava_gen__%s__retain__%s", id, api->handles[h].name);
		}
		emit_array(&e, decl, &ret);
		free(decl);
		strs_free(&ret);
		blank(&e);
	}
	put(&e, 0, "/* The API's hand code, if it has any: NULL without it. */");
	put(&e, 0, "extern const struct ava_apiserver_ops ava_%s_server_ops __attribute__((weak));",
	    id);
	blank(&e);
	put(&e, 0, "const struct ava_apiserver_api ava_gen__%s__server_api = {", id);
	put(&e, 1, ".abi = &ava_gen__%s__abi,", id);
	put(&e, 1, ".fns = ava_gen__%s__server_fns,", id);
	if (api->n_callbacks)
		put(&e, 1, ".callbacks = ava_gen__%s__server_callbacks,", id);
	put(&e, 1, ".release = ava_gen__%s__release,", id);
	if (any_waited_on(api))
		put(&e, 1, ".retain = ava_gen__%s__retain,", id);
	{
		char *path = c_string(api->spec_path);

		put(&e, 1, ".spec_path = %s,", path);
		free(path);
	}
	put(&e, 1, ".ops = &ava_%s_server_ops,", id);
	put(&e, 0, "};");
	blank(&e);
	put(&e, 0, "int main(int argc, char **argv)");
	put(&e, 0, "{");
	put(&e, 1, "return ava_apiserver_main(&ava_gen__%s__server_api, argc, argv);", id);
	put(&e, 0, "}");
	return ferror(out) ? -EIO : 0;
}

/* ---- manifest and version script ---- */

int ava_codegen_emit_abi(const struct ava_codegen_api *api, FILE *out)
{
	int r = ava_abi_format(&api->abi, api->spec_path, out);

	return r < 0 ? r : ferror(out) ? -EIO : 0;
}

int ava_codegen_emit_map(const struct ava_codegen_api *api, FILE *out)
{
	struct emitter e = { out, api, api->identifier };
	uint32_t i;

	banner(&e, "/* ", " */");
	put(&e, 0, "/* The guest library exports exactly the API's functions. */");
	put(&e, 0, "{");
	if (api->n_fns || api->n_guest_exports) {
		put(&e, 0, "global:");
		for (i = 0; i < api->n_fns; i++) {
			if (!api->fns[i].guest_private)
				put(&e, 1, "%s;", api->fns[i].name);
		}
		for (i = 0; i < api->n_guest_exports; i++)
			put(&e, 1, "%s;", api->guest_exports[i]);
	}
	put(&e, 0, "local:");
	put(&e, 1, "*;");
	put(&e, 0, "};");
	return ferror(out) ? -EIO : 0;
}
