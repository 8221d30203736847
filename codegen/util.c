/* SPDX-License-Identifier: MIT */
/* Small helpers: allocation that cannot fail, strings, C declarators. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"

static void __attribute__((noreturn)) out_of_memory(void)
{
	fputs("avagen: out of memory\n", stderr);
	abort();
}

void *ava_codegen_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *ava_codegen_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *ava_codegen_xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		out_of_memory();
	p = realloc(p, n && size ? n * size : 1);
	if (!p)
		out_of_memory();
	return p;
}

char *ava_codegen_xstrdup(const char *s)
{
	return ava_codegen_xstrndup(s, strlen(s));
}

char *ava_codegen_xstrndup(const char *s, size_t n)
{
	char *p = ava_codegen_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *ava_codegen_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory();
	p = ava_codegen_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void ava_codegen_strv_push(char ***v, size_t *n, const char *s)
{
	*v = ava_codegen_xrealloc(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = ava_codegen_xstrdup(s);
}

/*
 * Where a name goes inside a type spelling: after the innermost "(*" of a
 * function pointer, before the first "[" of an array, else at the end.
 */
static size_t name_position(const char *ctype)
{
	const char *p = strstr(ctype, "(*");

	if (p) {
		p += 2;
		while (*p == '*' || *p == ' ' || strncmp(p, "const", 5) == 0)
			p += *p == '*' || *p == ' ' ? 1 : 5;
		return (size_t)(p - ctype);
	}
	p = strchr(ctype, '[');
	if (p) {
		while (p > ctype && p[-1] == ' ')
			p--;
		return (size_t)(p - ctype);
	}
	return strlen(ctype);
}

char *ava_codegen_decl(const char *ctype, const char *name)
{
	size_t at = name_position(ctype);
	const char *sep = "";

	if (!name || !*name)
		return ava_codegen_xstrdup(ctype);
	if (at > 0 && ctype[at - 1] != '*' && ctype[at - 1] != '(' && ctype[at - 1] != ' ')
		sep = " ";
	return ava_codegen_xasprintf("%.*s%s%s%s", (int)at, ctype, sep, name, ctype + at);
}

char *ava_codegen_ptr_to(const char *ctype)
{
	const char *p = strstr(ctype, "(*");
	size_t len = strlen(ctype);

	if (p)
		return ava_codegen_xasprintf("%.*s*%s", (int)(p - ctype + 1), ctype, p + 1);
	if (len && ctype[len - 1] == '*')
		return ava_codegen_xasprintf("%s*", ctype);
	return ava_codegen_xasprintf("%s *", ctype);
}

char *ava_codegen_ident_of(const char *ctype)
{
	char *s = ava_codegen_xmalloc(strlen(ctype) + 1);
	size_t n = 0;
	const char *p;

	for (p = ctype; *p; p++) {
		char c = *p;
		bool ok =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (ok)
			s[n++] = c;
		else if (n && s[n - 1] != '_' && c != '_' && p[1])
			s[n++] = '_';
		else if (c == '_' && (n == 0 || s[n - 1] != '_'))
			s[n++] = '_';
	}
	while (n && s[n - 1] == '_')
		n--;
	s[n] = '\0';
	return s;
}

void ava_codegen_stmts_free(struct ava_codegen_stmt_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct ava_codegen_stmt *s = l->v[i];

		ava_codegen_stmts_free(&s->then_stmts);
		ava_codegen_stmts_free(&s->else_stmts);
		free(s->expr);
		free(s->type);
		free(s);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
