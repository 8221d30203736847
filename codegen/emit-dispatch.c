/* SPDX-License-Identifier: MIT */
/*
 * Generated pieces that name the API's functions by name rather than
 * describe them: the dispatch table the guest's handle proxies start with
 * (ava_handle_proxy_table: OpenCL's ICD table, as the Khronos loader
 * generates its own), and the server's forwarders for functions it finds
 * through the vendor library's lookup instead of linking them
 * (ava_resolve_via: OpenCL's extension functions).
 *
 * Both used to be hand-written, one line or one function per API function,
 * and went stale whenever the spec remoted one more.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"

#define xasprintf ava_codegen_xasprintf

/*
 * Column the assignments of a table line would end at; members whose
 * `.m = m,` line would not fit in 100 columns put the value on the next.
 */
#define TABLE_LINE_MAX 100

void ava_codegen_emit_proxy_table(const struct ava_codegen_api *api, FILE *out)
{
	size_t i;

	if (!api->proxy_table_ctype)
		return;
	fprintf(out, "/*\n"
		     " * The dispatch table every handle proxy starts with "
		     "(ava_handle_proxy_table):\n"
		     " * each member named like a function of the API points to it, deprecated\n"
		     " * or not.\n"
		     " */\n");
	fprintf(out, "#pragma GCC diagnostic push\n");
	fprintf(out, "#pragma GCC diagnostic ignored \"-Wdeprecated-declarations\"\n");
	for (i = 0; i < api->n_proxy_table; i++) {
		const struct ava_codegen_table_entry *t = &api->proxy_table[i];

		/* A guest source defines it; the headers do not declare it. */
		if (t->extern_type)
			fprintf(out, "extern __typeof__(*(%s)0) %s;\n", t->extern_type, t->member);
	}
	fprintf(out, "extern const %s %s;\n", api->proxy_table_ctype, api->handle_proxy);
	fprintf(out, "const %s %s = {\n", api->proxy_table_ctype, api->handle_proxy);
	for (i = 0; i < api->n_proxy_table; i++) {
		const char *m = api->proxy_table[i].member;

		if (8 + 2 * strlen(m) + 5 <= TABLE_LINE_MAX)
			fprintf(out, "\t.%s = %s,\n", m, m);
		else
			fprintf(out, "\t.%s =\n\t\t%s,\n", m, m);
	}
	fprintf(out, "};\n");
	fprintf(out, "#pragma GCC diagnostic pop\n\n");
}

/* What fn returns when no library offers it: as if it were unsupported. */
static char *unsupported_value(const struct ava_codegen_api *api, const struct ava_codegen_fn *fn)
{
	const struct ava_codegen_type *t = fn->ret_type >= 0 ? &api->types[fn->ret_type] : NULL;

	if (t && t->values[AVA_CODEGEN_UNSUPPORTED_ERROR])
		return ava_codegen_xstrdup(t->values[AVA_CODEGEN_UNSUPPORTED_ERROR]);
	if (t && t->values[AVA_CODEGEN_FAILURE])
		return ava_codegen_xstrdup(t->values[AVA_CODEGEN_FAILURE]);
	if (fn->ret.abi.kind == AVA_ABI_HANDLE || strchr(fn->ret.ctype, '*'))
		return ava_codegen_xstrdup("NULL");
	return xasprintf("(%s){ 0 }", fn->ret.ctype);
}

static void emit_forwarder(const struct ava_codegen_api *api, const struct ava_codegen_fn *fn,
			   FILE *out)
{
	const char *id = api->identifier;
	bool is_void = strcmp(fn->ret.ctype, "void") == 0;
	char **params = ava_codegen_xcalloc(fn->n_args ? fn->n_args : 1, sizeof(*params));
	char **names = ava_codegen_xcalloc(fn->n_args ? fn->n_args : 1, sizeof(*names));
	char *sig = xasprintf("%s(\x01)", fn->name);
	char *decl = ava_codegen_decl(fn->ret.ctype, sig);
	char *mark = strchr(decl, '\x01');
	char *head, *call;
	uint16_t i;

	for (i = 0; i < fn->n_args; i++) {
		params[i] = ava_codegen_decl(fn->args[i].ctype, fn->args[i].name);
		names[i] = fn->args[i].name;
	}
	if (!fn->n_args)
		params[0] = ava_codegen_xstrdup("void");
	*mark = '\0';
	ava_codegen_emit_wrap(out, 0, decl, params, fn->n_args ? fn->n_args : 1, mark + 1);
	fprintf(out, "{\n");
	fprintf(out, "\tstatic void *found;\n");
	{
		char *items[4] = { xasprintf("&found"), xasprintf("%s", fn->resolve_via),
				   xasprintf("\"%s\"", fn->name),
				   xasprintf("(void *)%s", fn->name) };
		char *rhead = xasprintf("void *p = ava_gen__%s__resolve(", id);
		char *fdecl = xasprintf("__typeof__(&%s) f", fn->name);
		char *fval = xasprintf("(__typeof__(&%s))p", fn->name);

		ava_codegen_emit_wrap(out, 1, rhead, items, 4, ");");
		if (8 + strlen(fdecl) + strlen(fval) + 4 <= TABLE_LINE_MAX)
			fprintf(out, "\t%s = %s;\n", fdecl, fval);
		else
			fprintf(out, "\t%s =\n\t\t%s;\n", fdecl, fval);
		for (i = 0; i < 4; i++)
			free(items[i]);
		free(rhead);
		free(fdecl);
		free(fval);
	}
	{
		const char *err =
		    fn->errcode_arg >= 0
			? api->types[fn->errcode_type].values[AVA_CODEGEN_UNSUPPORTED_ERROR]
			: NULL;
		char *v = is_void ? NULL : unsupported_value(api, fn);

		fprintf(out, "\n\tif (!f)%s\n", err ? " {" : "");
		if (err)
			fprintf(out, "\t\tif (%s)\n\t\t\t*%s = %s;\n",
				fn->args[fn->errcode_arg].name, fn->args[fn->errcode_arg].name,
				err);
		fprintf(out, "\t\treturn%s%s;\n", v ? " " : "", v ? v : "");
		if (err)
			fprintf(out, "\t}\n");
		free(v);
	}
	head = xasprintf("%sf(", is_void ? "" : "return ");
	call = xasprintf(");");
	ava_codegen_emit_wrap(out, 1, head, names, fn->n_args, call);
	fprintf(out, "}\n");
	free(head);
	free(call);
	for (i = 0; i < (fn->n_args ? fn->n_args : 1); i++)
		free(params[i]);
	free(params);
	free(names);
	free(sig);
	free(decl);
}

void ava_codegen_emit_forwarders(const struct ava_codegen_api *api, FILE *out)
{
	const char *id = api->identifier;
	uint32_t i, k;
	bool any = false;

	for (i = 0; i < api->n_fns; i++) {
		const struct ava_codegen_fn *fn = &api->fns[i];

		if (!fn->resolve_via || (fn->flags & AVA_ABI_FN_UNSUPPORTED))
			continue;
		if (!any) {
			fprintf(out,
				"/*\n"
				" * Functions the server finds through a lookup rather than "
				"links\n"
				" * (ava_resolve_via): each is defined here, with the header's\n"
				" * prototype, as a forwarder to what its resolver answers.\n"
				" */\n");
		}
		/* One declaration per resolver, at its first function. */
		for (k = 0; k < i; k++) {
			const struct ava_codegen_fn *g = &api->fns[k];

			if (g->resolve_via && !(g->flags & AVA_ABI_FN_UNSUPPORTED) &&
			    strcmp(g->resolve_via, fn->resolve_via) == 0)
				break;
		}
		if (k == i)
			fprintf(out, "void *%s(const char *name, void *self);\n", fn->resolve_via);
		any = true;
	}
	if (!any)
		return;
	fprintf(out, "\n");
	fprintf(
	    out,
	    "/* The function name resolves to, looked up until found, then kept in *found. */\n");
	{
		char *head = xasprintf("static void *ava_gen__%s__resolve(", id);
		char *params[4] = { "void **found",
				    "void *(*resolve)(const char *name, void *self)",
				    "const char *name", "void *self" };

		ava_codegen_emit_wrap(out, 0, head, params, 4, ")");
		free(head);
	}
	fprintf(out, "{\n");
	fprintf(out, "\tvoid *fn = __atomic_load_n(found, __ATOMIC_ACQUIRE);\n");
	fprintf(out, "\n");
	fprintf(out, "\tif (fn)\n\t\treturn fn;\n");
	fprintf(out, "\tfn = resolve(name, self);\n");
	fprintf(out, "\t/* Racing first calls find the same pointer: storing it twice is "
		     "harmless. */\n");
	fprintf(out, "\tif (fn)\n");
	fprintf(out, "\t\t__atomic_store_n(found, fn, __ATOMIC_RELEASE);\n");
	fprintf(out, "\treturn fn;\n");
	fprintf(out, "}\n");
	for (i = 0; i < api->n_fns; i++) {
		const struct ava_codegen_fn *fn = &api->fns[i];

		if (!fn->resolve_via || (fn->flags & AVA_ABI_FN_UNSUPPORTED))
			continue;
		fprintf(out, "\n");
		emit_forwarder(api, fn, out);
	}
	fprintf(out, "\n");
}
