/* SPDX-License-Identifier: MIT */
/*
 * The operator policy parser (include/ava/policy.h, schema in
 * policies/README.md).
 *
 * How it reads a file, and why:
 *  1. Byte checks first: size (1 MiB at most), NUL bytes and UTF-8. libyaml
 *     would stop at the first bad byte; we report every bad line instead.
 *  2. libyaml's event API builds a small tree of our own (struct ynode). The
 *     event API, not the document API, because it shows anchors and aliases,
 *     which we refuse outright (an alias makes one node reachable many times:
 *     the "billion laughs" bomb), and because it keeps duplicate keys, which
 *     we report. The tree is built with an explicit stack and a depth limit,
 *     and all of it lives in one arena, so nothing here recurses on the input.
 *  3. A schema walk over the tree fills struct ava_policy. Every check
 *     records its problem and goes on with the next field, so one run reports
 *     every problem of the file; the messages are sorted by position.
 *  4. Cross checks that need the whole file: duplicate names, placement on
 *     devices that exist, tenants that can never match.
 *
 * The parsed policy lives in one arena too: tenants share the defaults'
 * lists they inherit (no copies, so inheritance costs nothing however many
 * tenants there are) and ava_policy_free frees everything at once.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "ava/abi.h"
#include "ava/policy.h"

#define MAX_FILE_BYTES	 (1024u * 1024u)
#define MAX_DEPTH	 64
#define MAX_NODES	 200000u
#define MAX_MESSAGES	 1000u
#define MAX_TENANTS	 4096u
#define MAX_DEVICES	 256u
#define MAX_APIS	 64u   /* entries of apis:, functions:, placement: */
#define MAX_FN_NAMES	 4096u /* entries of one allow/deny list */
#define MAX_NAME_LEN	 64u   /* tenant, device and label names */
#define MAX_IDENT_LEN	 128u  /* API and function names */
#define MAX_SOCKET_LEN	 107u  /* sun_path less its NUL */
#define MAX_INFLIGHT	 4096u
#define MAX_LEASE_MS	 3600000u
#define MAX_UID		 4294967294u /* (uid_t)-1 is "no uid" */
#define DEFAULT_INFLIGHT 1u
#define DEFAULT_LEASE_MS 100u
#define DEFAULT_IDLE_US	 2000u
#define MAX_IDLE_US	 1000000u

/* ------------------------------------------------------------------------ */
/* Arena                                                                    */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used;
	size_t cap;
	max_align_t data[];
};

struct arena {
	struct arena_chunk *head;
};

/* Zeroed memory that lives until arena_free; NULL when out of memory. */
static void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *chunk = a->head;
	void *p;

	if (n > SIZE_MAX / 2)
		return NULL;
	n = (n + 15u) & ~(size_t)15u;
	if (n == 0)
		n = 16;
	if (!chunk || chunk->cap - chunk->used < n) {
		size_t cap = n > 16384u ? n : 16384u;

		chunk = malloc(sizeof(*chunk) + cap);
		if (!chunk)
			return NULL;
		chunk->used = 0;
		chunk->cap = cap;
		chunk->next = a->head;
		a->head = chunk;
	}
	p = (char *)chunk->data + chunk->used;
	chunk->used += n;
	memset(p, 0, n);
	return p;
}

static void *arena_array(struct arena *a, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / 4 / size)
		return NULL;
	return arena_alloc(a, n * size);
}

static char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	if (p)
		memcpy(p, s, len);
	return p;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_chunk *next = a->head->next;

		free(a->head);
		a->head = next;
	}
}

struct policy_impl {
	struct ava_policy pub; /* first: the public pointer is the impl pointer */
	struct arena arena;
};

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */

struct problem {
	uint32_t line;
	uint32_t col;
	size_t seq;
	char *text; /* the whole line, without the newline */
};

struct msgs {
	const char *file;
	struct problem *items;
	size_t n_items;
	size_t cap_items;
	size_t n_problems; /* all of them, also those over MAX_MESSAGES */
	int oom;
};

static void msgs_fini(struct msgs *m)
{
	size_t i;

	for (i = 0; i < m->n_items; i++)
		free(m->items[i].text);
	free(m->items);
	m->items = NULL;
	m->n_items = 0;
}

__attribute__((format(printf, 3, 0))) static void
msgs_vadd(struct msgs *m, struct ava_policy_pos pos, const char *fmt, va_list ap)
{
	char *body = NULL;
	char *line = NULL;

	m->n_problems++;
	if (m->oom || m->n_items >= MAX_MESSAGES)
		return;
	if (m->n_items == m->cap_items) {
		size_t cap = m->cap_items ? m->cap_items * 2 : 16;
		struct problem *items = realloc(m->items, cap * sizeof(*items));

		if (!items) {
			m->oom = 1;
			return;
		}
		m->items = items;
		m->cap_items = cap;
	}
	if (vasprintf(&body, fmt, ap) < 0) {
		m->oom = 1;
		return;
	}
	if (asprintf(&line, "%s:%u:%u: error: %s", m->file, pos.line, pos.col, body) < 0) {
		free(body);
		m->oom = 1;
		return;
	}
	free(body);
	m->items[m->n_items].line = pos.line;
	m->items[m->n_items].col = pos.col;
	m->items[m->n_items].seq = m->n_items;
	m->items[m->n_items].text = line;
	m->n_items++;
}

__attribute__((format(printf, 3, 4))) static void
msgs_add(struct msgs *m, struct ava_policy_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msgs_vadd(m, pos, fmt, ap);
	va_end(ap);
}

static int problem_cmp(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/*
 * Turns the problems into the caller's string (sorted by position; a last
 * line counts those over MAX_MESSAGES) and returns the count, or -ENOMEM.
 */
static int msgs_finish(struct msgs *m, char **ret_errors)
{
	size_t total = 1, i, off = 0;
	char *out, *tail = NULL;

	if (m->oom)
		return -ENOMEM;
	if (!ret_errors)
		goto out;
	if (m->n_problems > m->n_items &&
	    asprintf(&tail, "%s:0:0: error: %zu more problems not shown\n", m->file,
		     m->n_problems - m->n_items) < 0)
		return -ENOMEM;
	qsort(m->items, m->n_items, sizeof(m->items[0]), problem_cmp);
	for (i = 0; i < m->n_items; i++)
		total += strlen(m->items[i].text) + 1;
	if (tail)
		total += strlen(tail);
	out = malloc(total);
	if (!out) {
		free(tail);
		return -ENOMEM;
	}
	for (i = 0; i < m->n_items; i++) {
		size_t len = strlen(m->items[i].text);

		memcpy(out + off, m->items[i].text, len);
		off += len;
		out[off++] = '\n';
	}
	if (tail) {
		memcpy(out + off, tail, strlen(tail));
		off += strlen(tail);
		free(tail);
	}
	out[off] = '\0';
	*ret_errors = out;
out:
	return m->n_problems > (size_t)INT32_MAX ? INT32_MAX : (int)m->n_problems;
}

/*
 * snprintf for message paths and parts: a path cut short by the buffer is
 * still a fine message, so truncation is intended here.
 */
__attribute__((format(printf, 3, 4))) static void fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, size, f, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* The YAML tree                                                            */

enum ynode_kind {
	Y_SCALAR,
	Y_MAP, /* kids: key, value, key, value, ... */
	Y_SEQ,
	Y_BAD, /* an alias: already reported, every check skips it quietly */
};

struct ynode {
	enum ynode_kind kind;
	struct ava_policy_pos pos;
	int is_null; /* plain "", "~", "null", "Null", "NULL" */
	const char *value;
	size_t len;
	struct ynode **kids;
	size_t n_kids;
};

struct frame {
	struct ynode *node;
	struct ynode **kids;
	size_t n, cap;
};

struct ctx {
	struct msgs msgs;
	struct arena tree; /* ynodes, freed after parsing */
	struct arena *pa;  /* the policy's arena */
	struct ava_policy *pol;
	int oom;
};

#define OOM(c) ((c)->oom = 1)

static struct ava_policy_pos mark_pos(yaml_mark_t mark)
{
	struct ava_policy_pos pos;

	pos.line = mark.line >= UINT32_MAX ? UINT32_MAX : (uint32_t)mark.line + 1;
	pos.col = mark.column >= UINT32_MAX ? UINT32_MAX : (uint32_t)mark.column + 1;
	return pos;
}

/* Line and column (in characters) of a byte offset, for reader errors. */
static struct ava_policy_pos offset_pos(const char *text, size_t len, size_t offset)
{
	struct ava_policy_pos pos = { 1, 1 };
	size_t i;

	for (i = 0; i < offset && i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == '\n' || (ch == '\r' && (i + 1 >= len || text[i + 1] != '\n'))) {
			pos.line++;
			pos.col = 1;
		} else if ((ch & 0xc0u) != 0x80u && ch != '\r') {
			pos.col++;
		}
	}
	return pos;
}

static int frame_push_kid(struct frame *f, struct ynode *kid)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct ynode **kids = realloc(f->kids, cap * sizeof(*kids));

		if (!kids)
			return -ENOMEM;
		f->kids = kids;
		f->cap = cap;
	}
	f->kids[f->n++] = kid;
	return 0;
}

static int is_null_text(const char *s, size_t len)
{
	return len == 0 || (len == 1 && s[0] == '~') ||
	       (len == 4 && (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 ||
			     memcmp(s, "NULL", 4) == 0));
}

/* Reports an anchor or tag on a node; both are refused, the node is kept. */
static void check_props(struct ctx *c, struct ava_policy_pos pos, const yaml_char_t *anchor,
			const yaml_char_t *tag)
{
	if (anchor)
		msgs_add(
		    &c->msgs, pos,
		    "YAML anchors (&%.40s) are not allowed in policy files; write the value out",
		    (const char *)anchor);
	if (tag)
		msgs_add(&c->msgs, pos, "YAML tags (!...) are not allowed in policy files");
}

/*
 * Reads the YAML stream into a tree. Returns 0 with *ret_root (NULL for an
 * empty stream), 1 when the text is not YAML (reported), or -ENOMEM.
 */
static int build_tree(struct ctx *c, const char *text, size_t len, struct ynode **ret_root)
{
	yaml_parser_t parser;
	yaml_event_t event;
	struct frame stack[MAX_DEPTH + 1];
	size_t depth = 0, n_nodes = 0, n_docs = 0, i;
	struct ynode *root = NULL;
	int ret = 0, done = 0;

	memset(stack, 0, sizeof(stack));
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!done) {
		struct ynode *node = NULL;
		struct ava_policy_pos pos;
		int opens = 0, closes = 0;

		if (!yaml_parser_parse(&parser, &event)) {
			struct ava_policy_pos ppos = mark_pos(parser.problem_mark);

			if (parser.error == YAML_MEMORY_ERROR) {
				ret = -ENOMEM;
				goto out;
			}
			if (parser.error == YAML_READER_ERROR)
				ppos = offset_pos(text, len, parser.problem_offset);
			if (parser.context)
				msgs_add(&c->msgs, ppos,
					 "YAML syntax: %s (%s at line %zu, column %zu)",
					 parser.problem ? parser.problem : "error", parser.context,
					 (size_t)parser.context_mark.line + 1,
					 (size_t)parser.context_mark.column + 1);
			else
				msgs_add(&c->msgs, ppos, "YAML syntax: %s",
					 parser.problem ? parser.problem : "error");
			ret = 1;
			goto out;
		}
		pos = mark_pos(event.start_mark);
		switch (event.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++n_docs == 2)
				msgs_add(&c->msgs, pos,
					 "a policy file holds one YAML document; remove this '---' "
					 "and what follows, or merge it into the first");
			break;
		case YAML_ALIAS_EVENT:
			if (n_docs > 1)
				break;
			msgs_add(&c->msgs, pos,
				 "YAML aliases (*%.40s) are not allowed in policy files; write the "
				 "value out",
				 (const char *)event.data.alias.anchor);
			node = arena_alloc(&c->tree, sizeof(*node));
			if (!node)
				goto oom;
			node->kind = Y_BAD;
			break;
		case YAML_SCALAR_EVENT:
			if (n_docs > 1)
				break;
			check_props(c, pos, event.data.scalar.anchor, event.data.scalar.tag);
			node = arena_alloc(&c->tree, sizeof(*node));
			if (!node)
				goto oom;
			node->kind = Y_SCALAR;
			node->len = event.data.scalar.length;
			node->value = arena_strndup(&c->tree, (const char *)event.data.scalar.value,
						    node->len);
			if (!node->value)
				goto oom;
			node->is_null = event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
					is_null_text(node->value, node->len);
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (n_docs > 1)
				break;
			if (event.type == YAML_MAPPING_START_EVENT)
				check_props(c, pos, event.data.mapping_start.anchor,
					    event.data.mapping_start.tag);
			else
				check_props(c, pos, event.data.sequence_start.anchor,
					    event.data.sequence_start.tag);
			if (depth == MAX_DEPTH) {
				msgs_add(&c->msgs, pos,
					 "nesting deeper than %d levels; a policy needs at most 6",
					 MAX_DEPTH);
				ret = 1;
				goto out;
			}
			node = arena_alloc(&c->tree, sizeof(*node));
			if (!node)
				goto oom;
			node->kind = event.type == YAML_MAPPING_START_EVENT ? Y_MAP : Y_SEQ;
			opens = 1;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (n_docs > 1)
				break;
			closes = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&event);
		if (node) {
			node->pos = pos;
			if (++n_nodes > MAX_NODES) {
				msgs_add(&c->msgs, pos,
					 "more than %u YAML nodes; this is not a policy",
					 MAX_NODES);
				ret = 1;
				goto out;
			}
			if (depth > 0) {
				if (frame_push_kid(&stack[depth - 1], node) < 0)
					goto oom;
			} else {
				root = node;
			}
			if (opens) {
				stack[depth].node = node;
				depth++;
			}
		}
		if (closes && depth > 0) {
			struct frame *f = &stack[--depth];

			f->node->n_kids = f->n;
			f->node->kids = arena_array(&c->tree, f->n ? f->n : 1, sizeof(*f->kids));
			if (!f->node->kids)
				goto oom;
			if (f->n)
				memcpy(f->node->kids, f->kids, f->n * sizeof(*f->kids));
			free(f->kids);
			memset(f, 0, sizeof(*f));
		}
	}
	*ret_root = root;
	goto out;
oom:
	ret = -ENOMEM;
out:
	for (i = 0; i <= MAX_DEPTH; i++)
		free(stack[i].kids);
	yaml_parser_delete(&parser);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Reading values                                                           */

/* A value for messages: the scalar quoted and escaped, or what the node is. */
static const char *describe(const struct ynode *n, char *buf, size_t size)
{
	size_t i, off = 0;

	if (!n)
		return "nothing";
	if (n->kind == Y_MAP)
		return "a mapping";
	if (n->kind == Y_SEQ)
		return "a list";
	if (n->kind == Y_BAD)
		return "an alias";
	if (n->is_null)
		return "nothing (null)";
	buf[off++] = '"';
	for (i = 0; i < n->len && off + 8 < size; i++) {
		unsigned char ch = (unsigned char)n->value[i];

		if (i >= 60 && (ch & 0xc0u) != 0x80u) {
			memcpy(buf + off, "...", 3);
			off += 3;
			break;
		}
		if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\')
			off += (size_t)snprintf(buf + off, size - off, "\\x%02x", ch);
		else
			buf[off++] = (char)ch;
	}
	buf[off++] = '"';
	buf[off] = '\0';
	return buf;
}

#define DESC_LEN 300

static int text_is(const struct ynode *n, const char *s)
{
	return n && n->kind == Y_SCALAR && n->len == strlen(s) && memcmp(n->value, s, n->len) == 0;
}

/*
 * Checks the node kind. Returns 1 if it is `kind`; 0 (reported unless it is
 * an alias, which was reported where it stands) if not.
 */
static int want_kind(struct ctx *c, const struct ynode *n, enum ynode_kind kind, const char *path,
		     const char *what)
{
	char buf[DESC_LEN];

	if (n->kind == kind)
		return 1;
	if (n->kind != Y_BAD)
		msgs_add(&c->msgs, n->pos, "%s: expected %s, got %s", path, what,
			 describe(n, buf, sizeof(buf)));
	return 0;
}

/* Parses decimal digits; returns digits consumed (0: none), -ERANGE on overflow. */
static int parse_digits(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
		if (i > 30)
			return -ERANGE;
	}
	*out = v;
	return (int)i;
}

/* An integer min..max (plain digits); 1 and *out, or 0 (reported). */
static int get_uint(struct ctx *c, const struct ynode *n, const char *path, uint64_t min,
		    uint64_t max, uint64_t *out)
{
	char buf[DESC_LEN];
	uint64_t v = 0;
	int r;

	if (n->kind == Y_BAD)
		return 0;
	if (n->kind == Y_SCALAR && !n->is_null) {
		r = parse_digits(n->value, n->len, &v);
		if (r > 0 && (size_t)r == n->len && v >= min && v <= max) {
			*out = v;
			return 1;
		}
	}
	msgs_add(&c->msgs, n->pos, "%s: expected an integer %llu..%llu, got %s", path,
		 (unsigned long long)min, (unsigned long long)max, describe(n, buf, sizeof(buf)));
	return 0;
}

struct unit {
	const char *name;
	uint64_t factor;
};

static const struct unit size_units[] = {
	{ "B", 1ull },	       { "KiB", 1ull << 10 },	{ "MiB", 1ull << 20 },
	{ "GiB", 1ull << 30 }, { "TiB", 1ull << 40 },	{ "KB", 1000ull },
	{ "MB", 1000000ull },  { "GB", 1000000000ull }, { "TB", 1000000000000ull },
};

#define UNIT_LIST "B, KiB, MiB, GiB, TiB, KB, MB, GB or TB"

/*
 * A size: digits, an optional space and an optional unit (plain digits are
 * bytes). Returns 0 with *out, or a message into why (no path).
 */
static int parse_size(const char *s, size_t len, uint64_t *out, char *why, size_t why_len)
{
	uint64_t v = 0;
	size_t i, unit_len;
	int r = parse_digits(s, len, &v);

	if (r == -ERANGE) {
		fmt(why, why_len, "number too large");
		return -ERANGE;
	}
	if (r == 0) {
		fmt(why, why_len, "expected a number");
		return -EINVAL;
	}
	s += r;
	len -= (size_t)r;
	if (len > 0 && s[0] == '.') {
		fmt(why, why_len, "expected a whole number (use a smaller unit)");
		return -EINVAL;
	}
	if (len > 0 && s[0] == ' ') {
		s++;
		len--;
	}
	if (len == 0) {
		if (v == AVA_POLICY_UNLIMITED) {
			fmt(why, why_len, "too large (at most 16 EiB)");
			return -ERANGE;
		}
		*out = v;
		return 0;
	}
	for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		unit_len = strlen(size_units[i].name);
		if (unit_len == len && memcmp(size_units[i].name, s, len) == 0) {
			if (__builtin_mul_overflow(v, size_units[i].factor, out) ||
			    *out == AVA_POLICY_UNLIMITED) {
				fmt(why, why_len, "too large (at most 16 EiB)");
				return -ERANGE;
			}
			return 0;
		}
	}
	for (i = 0; i < len && i < 16 && isalpha((unsigned char)s[i]); i++)
		;
	if (i == len)
		fmt(why, why_len, "unknown unit \"%.*s\" (use " UNIT_LIST ")", (int)len, s);
	else
		fmt(why, why_len, "unknown unit (use " UNIT_LIST ")");
	return -EINVAL;
}

/* A size in bytes, or "unlimited" when allowed; 1 and *out, or 0 (reported). */
static int get_size(struct ctx *c, const struct ynode *n, const char *path, int unlimited_ok,
		    uint64_t min, uint64_t *out)
{
	char buf[DESC_LEN], why[128];
	uint64_t v;

	if (n->kind == Y_BAD)
		return 0;
	if (n->kind == Y_SCALAR && !n->is_null) {
		if (unlimited_ok && text_is(n, "unlimited")) {
			*out = AVA_POLICY_UNLIMITED;
			return 1;
		}
		if (parse_size(n->value, n->len, &v, why, sizeof(why)) == 0) {
			if (v >= min) {
				*out = v;
				return 1;
			}
			fmt(why, sizeof(why), "at least %llu bytes", (unsigned long long)min);
		}
		msgs_add(&c->msgs, n->pos, "%s: expected a size like 2GiB%s, got %s: %s", path,
			 unlimited_ok ? " or unlimited" : "", describe(n, buf, sizeof(buf)), why);
		return 0;
	}
	msgs_add(&c->msgs, n->pos, "%s: expected a size like 2GiB%s, got %s", path,
		 unlimited_ok ? " or unlimited" : "", describe(n, buf, sizeof(buf)));
	return 0;
}

/* A count or "unlimited"; 1 and *out, or 0 (reported). */
static int get_count(struct ctx *c, const struct ynode *n, const char *path, uint64_t *out)
{
	char buf[DESC_LEN];
	uint64_t v = 0;
	int r;

	if (n->kind == Y_BAD)
		return 0;
	if (n->kind == Y_SCALAR && !n->is_null) {
		if (text_is(n, "unlimited")) {
			*out = AVA_POLICY_UNLIMITED;
			return 1;
		}
		r = parse_digits(n->value, n->len, &v);
		if (r > 0 && (size_t)r == n->len && v != AVA_POLICY_UNLIMITED) {
			*out = v;
			return 1;
		}
	}
	msgs_add(&c->msgs, n->pos, "%s: expected an integer or unlimited, got %s", path,
		 describe(n, buf, sizeof(buf)));
	return 0;
}

/*
 * A rate: "N/s" (bytes: "N[unit]/s") or "unlimited". 1 and *out, or 0
 * (reported).
 */
static int get_rate_value(struct ctx *c, const struct ynode *n, const char *path, int bytes,
			  uint64_t *out)
{
	char buf[DESC_LEN], why[128] = "";
	const char *example = bytes ? "100MiB/s" : "1000/s";
	uint64_t v = 0;
	int r;

	if (n->kind == Y_BAD)
		return 0;
	if (n->kind != Y_SCALAR || n->is_null)
		goto bad;
	if (text_is(n, "unlimited")) {
		*out = AVA_POLICY_UNLIMITED;
		return 1;
	}
	if (n->len < 2 || memcmp(n->value + n->len - 2, "/s", 2) != 0) {
		fmt(why, sizeof(why), ": a rate ends in /s");
		goto bad;
	}
	if (bytes) {
		if (parse_size(n->value, n->len - 2, &v, why + 2, sizeof(why) - 2) < 0) {
			memcpy(why, ": ", 2);
			goto bad;
		}
	} else {
		r = parse_digits(n->value, n->len - 2, &v);
		if (r <= 0 || (size_t)r != n->len - 2 || v == AVA_POLICY_UNLIMITED) {
			fmt(why, sizeof(why), ": calls per second are a plain integer");
			goto bad;
		}
	}
	if (v == 0) {
		fmt(why, sizeof(why), ": at least 1/s (to forbid an API, leave it out of apis)");
		goto bad;
	}
	*out = v;
	return 1;
bad:
	msgs_add(&c->msgs, n->pos, "%s: expected a rate like %s or unlimited, got %s%s", path,
		 example, describe(n, buf, sizeof(buf)), why);
	return 0;
}

/* A string without NUL bytes, copied into the policy; NULL when bad (reported). */
static char *get_string(struct ctx *c, const struct ynode *n, const char *path, const char *what)
{
	char buf[DESC_LEN];
	char *s;

	if (n->kind == Y_BAD)
		return NULL;
	if (n->kind != Y_SCALAR || n->is_null || n->len == 0) {
		msgs_add(&c->msgs, n->pos, "%s: expected %s, got %s", path, what,
			 describe(n, buf, sizeof(buf)));
		return NULL;
	}
	if (memchr(n->value, '\0', n->len)) {
		msgs_add(&c->msgs, n->pos, "%s: %s contains a NUL character", path, what);
		return NULL;
	}
	s = arena_strndup(c->pa, n->value, n->len);
	if (!s)
		OOM(c);
	return s;
}

static int name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '.' || ch == '_' || ch == '-' || ch == ':' ||
	       ch == '@';
}

/* A tenant, device or label name: [A-Za-z0-9._:@-], 1..64 characters. */
static char *get_name(struct ctx *c, const struct ynode *n, const char *path, const char *what)
{
	char buf[DESC_LEN];
	size_t i;

	if (n->kind == Y_SCALAR && !n->is_null) {
		for (i = 0; i < n->len && name_char(n->value[i]); i++)
			;
		if (i == n->len && n->len >= 1 && n->len <= MAX_NAME_LEN)
			return get_string(c, n, path, what);
	}
	if (n->kind != Y_BAD)
		msgs_add(&c->msgs, n->pos,
			 "%s: expected %s of 1 to %u characters from A-Z a-z 0-9 . _ - : @, got %s",
			 path, what, MAX_NAME_LEN, describe(n, buf, sizeof(buf)));
	return NULL;
}

static int ident_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > MAX_IDENT_LEN || isdigit((unsigned char)s[0]))
		return 0;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	}
	return 1;
}

/* An API or function name (what: "API" or "function"): a C identifier. */
static char *get_ident(struct ctx *c, const struct ynode *n, const char *path, const char *what)
{
	char buf[DESC_LEN];

	if (n->kind == Y_SCALAR && !n->is_null && ident_ok(n->value, n->len))
		return get_string(c, n, path, what);
	if (n->kind != Y_BAD)
		msgs_add(&c->msgs, n->pos, "%s: expected %s %s name (a C identifier), got %s", path,
			 what[0] == 'A' ? "an" : "a", what, describe(n, buf, sizeof(buf)));
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Mappings with a fixed set of keys                                        */

struct slot {
	const char *key;
	const struct ynode *key_node;
	const struct ynode *val;
};

/* Edit distance of two short strings, for "did you mean". */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t row[33], i, j;

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/*
 * Sorts the pairs of a mapping into slots by key: reports keys that are not
 * strings, unknown keys (with the list of known ones) and duplicates.
 */
static void take_map(struct ctx *c, const struct ynode *map, const char *path, struct slot *slots,
		     size_t n_slots)
{
	char buf[DESC_LEN], known[512], hint[96];
	size_t i, j, off;

	for (i = 0; i + 1 < map->n_kids; i += 2) {
		const struct ynode *k = map->kids[i];
		struct slot *s = NULL;

		if (k->kind == Y_BAD)
			continue;
		if (k->kind != Y_SCALAR) {
			msgs_add(&c->msgs, k->pos, "%s%skeys must be strings, got %s", path,
				 path[0] ? ": " : "", describe(k, buf, sizeof(buf)));
			continue;
		}
		for (j = 0; j < n_slots; j++) {
			if (text_is(k, slots[j].key)) {
				s = &slots[j];
				break;
			}
		}
		if (!s) {
			size_t best = SIZE_MAX;

			known[0] = hint[0] = '\0';
			for (j = 0, off = 0; j < n_slots && off < sizeof(known); j++) {
				size_t d = edit_distance(k->value, k->len, slots[j].key,
							 strlen(slots[j].key));

				off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s",
							j ? ", " : "", slots[j].key);
				if (d <= 2 && d < best) {
					best = d;
					fmt(hint, sizeof(hint), "did you mean \"%s\"? ",
					    slots[j].key);
				}
			}
			msgs_add(&c->msgs, k->pos, "%s%sunknown key %s (%sknown keys: %s)",
				 path[0] ? path : "top level", ": ", describe(k, buf, sizeof(buf)),
				 hint, known);
			continue;
		}
		if (s->val) {
			msgs_add(&c->msgs, k->pos,
				 "%s%s%s: duplicate key (first given at line %u, column %u)", path,
				 path[0] ? "." : "", s->key, s->key_node->pos.line,
				 s->key_node->pos.col);
			continue;
		}
		s->key_node = k;
		s->val = map->kids[i + 1];
	}
}

/*
 * For mappings keyed by API name (functions:, placement:): reports keys
 * that are not API names and duplicates; returns how many pairs are usable
 * (their key indexes in keep[]).
 */
static size_t take_api_map(struct ctx *c, const struct ynode *map, const char *path, size_t *keep)
{
	char buf[DESC_LEN], kpath[256];
	size_t i, j, n = 0;

	if (map->n_kids / 2 > MAX_APIS) {
		msgs_add(&c->msgs, map->pos, "%s: more than %u APIs", path, MAX_APIS);
		return 0;
	}
	for (i = 0; i + 1 < map->n_kids; i += 2) {
		const struct ynode *k = map->kids[i];
		int dup = 0;

		if (k->kind == Y_BAD)
			continue;
		fmt(kpath, sizeof(kpath), "%s", path);
		if (k->kind != Y_SCALAR || k->is_null || !ident_ok(k->value, k->len)) {
			msgs_add(&c->msgs, k->pos,
				 "%s: expected an API name (a C identifier), got %s", kpath,
				 describe(k, buf, sizeof(buf)));
			continue;
		}
		for (j = 0; j < n; j++) {
			const struct ynode *prev = map->kids[keep[j]];

			if (prev->len == k->len && memcmp(prev->value, k->value, k->len) == 0) {
				msgs_add(
				    &c->msgs, k->pos,
				    "%s.%.*s: duplicate key (first given at line %u, column %u)",
				    path, (int)k->len, k->value, prev->pos.line, prev->pos.col);
				dup = 1;
				break;
			}
		}
		if (!dup)
			keep[n++] = i;
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* Schema                                                                   */

enum limit_key {
	L_WEIGHT,
	L_MEMORY_QUOTA,
	L_MAX_OBJECTS,
	L_CALL_RATE,
	L_BYTE_RATE,
	L_APIS,
	L_FUNCTIONS,
	L_PLACEMENT,
	L_SERVERS,
	N_LIMIT_KEYS,
};

#define LIMIT_SLOTS                                                               \
	{ .key = "weight" }, { .key = "memory_quota" }, { .key = "max_objects" }, \
	    { .key = "call_rate" }, { .key = "byte_rate" }, { .key = "apis" },    \
	    { .key = "functions" }, { .key = "placement" },                       \
	{                                                                         \
		.key = "servers"                                                  \
	}

static void parse_rate(struct ctx *c, const struct ynode *n, const char *path, int bytes,
		       struct ava_policy_rate *out)
{
	struct slot slots[] = { { .key = "rate" }, { .key = "burst" }, { .key = "over" } };
	char buf[DESC_LEN], sub[300];
	struct ava_policy_rate r = { AVA_POLICY_UNLIMITED, AVA_POLICY_UNLIMITED,
				     AVA_POLICY_OVER_DELAY };
	uint64_t burst = 0;
	int have_burst = 0;

	if (n->kind == Y_SCALAR) {
		/* shorthand: call_rate: 1000/s */
		if (get_rate_value(c, n, path, bytes, &r.per_sec)) {
			r.burst = r.per_sec;
			*out = r;
		}
		return;
	}
	if (!want_kind(c, n, Y_MAP, path,
		       bytes
			   ? "a rate like 100MiB/s or { rate: 100MiB/s, burst: 64MiB, over: delay }"
			   : "a rate like 1000/s or { rate: 1000/s, burst: 200, over: delay }"))
		return;
	take_map(c, n, path, slots, 3);
	if (!slots[0].val) {
		msgs_add(&c->msgs, n->pos, "%s: missing rate (e.g. rate: %s)", path,
			 bytes ? "100MiB/s" : "1000/s");
	} else {
		fmt(sub, sizeof(sub), "%s.rate", path);
		get_rate_value(c, slots[0].val, sub, bytes, &r.per_sec);
	}
	if (slots[1].val) {
		fmt(sub, sizeof(sub), "%s.burst", path);
		if (bytes)
			have_burst = get_size(c, slots[1].val, sub, 0, 1, &burst);
		else
			have_burst =
			    get_uint(c, slots[1].val, sub, 1, AVA_POLICY_UNLIMITED - 1, &burst);
	}
	if (slots[2].val) {
		fmt(sub, sizeof(sub), "%s.over", path);
		if (text_is(slots[2].val, "delay"))
			r.over = AVA_POLICY_OVER_DELAY;
		else if (text_is(slots[2].val, "refuse"))
			r.over = AVA_POLICY_OVER_REFUSE;
		else if (slots[2].val->kind != Y_BAD)
			msgs_add(&c->msgs, slots[2].val->pos,
				 "%s: expected delay or refuse, got %s", sub,
				 describe(slots[2].val, buf, sizeof(buf)));
	}
	r.burst = r.per_sec == AVA_POLICY_UNLIMITED ? AVA_POLICY_UNLIMITED
						    : (have_burst ? burst : r.per_sec);
	*out = r;
}

/* A list of identifiers (apis:, allow:, deny:); 1 and the arrays, or 0. */
static int parse_ident_list(struct ctx *c, const struct ynode *n, const char *path,
			    const char *what, size_t max, char ***ret_names,
			    struct ava_policy_pos **ret_pos, size_t *ret_n)
{
	char sub[300];
	char **names;
	struct ava_policy_pos *pos;
	size_t i, j, count = 0, n_items;
	int ok = 1;

	if (n->is_null) {
		n_items = 0;
	} else {
		if (!want_kind(c, n, Y_SEQ, path, "a list like [a, b]"))
			return 0;
		n_items = n->n_kids;
	}
	if (n_items > max) {
		msgs_add(&c->msgs, n->pos, "%s: more than %zu entries", path, max);
		return 0;
	}
	names = arena_array(c->pa, n_items ? n_items : 1, sizeof(*names));
	pos = arena_array(c->pa, n_items ? n_items : 1, sizeof(*pos));
	if (!names || !pos) {
		OOM(c);
		return 0;
	}
	for (i = 0; i < n_items; i++) {
		const struct ynode *k = n->kids[i];
		char *name;

		fmt(sub, sizeof(sub), "%s[%zu]", path, i);
		name = get_ident(c, k, sub, what);
		if (!name) {
			ok = 0;
			continue;
		}
		for (j = 0; j < count; j++) {
			if (strcmp(names[j], name) == 0) {
				msgs_add(&c->msgs, k->pos,
					 "%s: duplicate %s \"%s\" (first at line %u, column %u)",
					 sub, what, name, pos[j].line, pos[j].col);
				ok = 0;
				break;
			}
		}
		if (j < count)
			continue;
		names[count] = name;
		pos[count] = k->pos;
		count++;
	}
	*ret_names = names;
	*ret_pos = pos;
	*ret_n = count;
	return ok;
}

static int limits_has_api(const struct ava_policy_limits *l, const char *api)
{
	size_t i;

	if (!l->apis)
		return 1;
	for (i = 0; i < l->n_apis; i++) {
		if (strcmp(l->apis[i], api) == 0)
			return 1;
	}
	return 0;
}

static void parse_functions(struct ctx *c, const struct ynode *n, const char *path,
			    struct ava_policy_limits *l)
{
	size_t keep[MAX_APIS];
	size_t n_keep, i;
	struct ava_policy_fn_filter *filters;
	char sub[300], sub2[320];

	if (n->is_null) {
		l->filters = NULL;
		l->n_filters = 0;
		return;
	}
	if (!want_kind(c, n, Y_MAP, path, "a mapping like { opencl: { deny: [...] } }"))
		return;
	n_keep = take_api_map(c, n, path, keep);
	filters = arena_array(c->pa, n_keep ? n_keep : 1, sizeof(*filters));
	if (!filters) {
		OOM(c);
		return;
	}
	l->filters = filters;
	l->n_filters = 0;
	for (i = 0; i < n_keep; i++) {
		const struct ynode *k = n->kids[keep[i]], *v = n->kids[keep[i] + 1];
		struct ava_policy_fn_filter *f = &filters[l->n_filters];
		struct slot slots[] = { { .key = "allow" }, { .key = "deny" } };

		memset(f, 0, sizeof(*f)); /* may hold a rejected entry's leftovers */
		fmt(sub, sizeof(sub), "%s.%.*s", path, (int)k->len, k->value);
		if (!want_kind(c, v, Y_MAP, sub, "{ allow: [...] } or { deny: [...] }"))
			continue;
		take_map(c, v, sub, slots, 2);
		if (slots[0].val && slots[1].val) {
			msgs_add(&c->msgs, k->pos,
				 "%s: give allow or deny, not both (allow: only the listed "
				 "functions; deny: all but the listed ones)",
				 sub);
			continue;
		}
		if (!slots[0].val && !slots[1].val) {
			if (v->n_kids == 0)
				msgs_add(&c->msgs, v->pos,
					 "%s: expected allow: [...] or deny: [...]", sub);
			continue;
		}
		f->api = arena_strndup(c->pa, k->value, k->len);
		if (!f->api) {
			OOM(c);
			return;
		}
		f->pos = k->pos;
		if (slots[0].val) {
			fmt(sub2, sizeof(sub2), "%s.allow", sub);
			if (!parse_ident_list(c, slots[0].val, sub2, "function", MAX_FN_NAMES,
					      &f->allow, &f->allow_pos, &f->n_allow))
				continue;
		} else {
			fmt(sub2, sizeof(sub2), "%s.deny", sub);
			if (!parse_ident_list(c, slots[1].val, sub2, "function", MAX_FN_NAMES,
					      &f->deny, &f->deny_pos, &f->n_deny))
				continue;
		}
		if (!limits_has_api(l, f->api))
			msgs_add(&c->msgs, k->pos,
				 "%s: API \"%s\" is not in apis, so it is refused whatever this "
				 "filter says",
				 sub, f->api);
		l->n_filters++;
	}
}

static const struct ava_policy_device *find_device(const struct ava_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_devices; i++) {
		if (p->devices[i].name && strcmp(p->devices[i].name, name) == 0)
			return &p->devices[i];
	}
	return NULL;
}

static void parse_placement(struct ctx *c, const struct ynode *n, const char *path,
			    struct ava_policy_limits *l)
{
	size_t keep[MAX_APIS];
	size_t n_keep, i, j, off;
	struct ava_policy_placement *pl;
	char sub[300], list[512];

	if (n->is_null) {
		l->placements = NULL;
		l->n_placements = 0;
		return;
	}
	if (!want_kind(c, n, Y_MAP, path, "a mapping like { opencl: pocl0 }"))
		return;
	n_keep = take_api_map(c, n, path, keep);
	pl = arena_array(c->pa, n_keep ? n_keep : 1, sizeof(*pl));
	if (!pl) {
		OOM(c);
		return;
	}
	l->placements = pl;
	l->n_placements = 0;
	for (i = 0; i < n_keep; i++) {
		const struct ynode *k = n->kids[keep[i]], *v = n->kids[keep[i] + 1];
		struct ava_policy_placement *p = &pl[l->n_placements];

		memset(p, 0, sizeof(*p));
		fmt(sub, sizeof(sub), "%s.%.*s", path, (int)k->len, k->value);
		p->device = get_name(c, v, sub, "a device name");
		if (!p->device)
			continue;
		if (!find_device(c->pol, p->device)) {
			for (j = 0, off = 0; j < c->pol->n_devices && off < sizeof(list); j++)
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
							j ? ", " : "", c->pol->devices[j].name);
			msgs_add(&c->msgs, v->pos,
				 "%s: unknown device \"%s\" (devices: %s; add it under devices:)",
				 sub, p->device, list);
			continue;
		}
		p->api = arena_strndup(c->pa, k->value, k->len);
		if (!p->api) {
			OOM(c);
			return;
		}
		p->pos = k->pos;
		if (!limits_has_api(l, p->api))
			msgs_add(&c->msgs, k->pos, "%s: API \"%s\" is not in apis", sub, p->api);
		l->n_placements++;
	}
}

/* Fills *l (which holds the inherited values) from the limit slots. */
static void parse_limits(struct ctx *c, struct slot *slots, const char *path,
			 struct ava_policy_limits *l)
{
	char sub[300];
	uint64_t v;

	if (slots[L_WEIGHT].val) {
		fmt(sub, sizeof(sub), "%s.weight", path);
		if (get_uint(c, slots[L_WEIGHT].val, sub, 1, AVA_POLICY_MAX_WEIGHT, &v))
			l->weight = (uint32_t)v;
	}
	if (slots[L_MEMORY_QUOTA].val) {
		fmt(sub, sizeof(sub), "%s.memory_quota", path);
		get_size(c, slots[L_MEMORY_QUOTA].val, sub, 1, 0, &l->memory_quota);
	}
	if (slots[L_MAX_OBJECTS].val) {
		fmt(sub, sizeof(sub), "%s.max_objects", path);
		get_count(c, slots[L_MAX_OBJECTS].val, sub, &l->max_objects);
	}
	if (slots[L_CALL_RATE].val) {
		fmt(sub, sizeof(sub), "%s.call_rate", path);
		parse_rate(c, slots[L_CALL_RATE].val, sub, 0, &l->call_rate);
	}
	if (slots[L_BYTE_RATE].val) {
		fmt(sub, sizeof(sub), "%s.byte_rate", path);
		parse_rate(c, slots[L_BYTE_RATE].val, sub, 1, &l->byte_rate);
	}
	/* apis first: functions and placement are checked against it */
	if (slots[L_APIS].val) {
		fmt(sub, sizeof(sub), "%s.apis", path);
		if (!parse_ident_list(c, slots[L_APIS].val, sub, "API", MAX_APIS, &l->apis,
				      &l->apis_pos, &l->n_apis)) {
			l->apis = NULL; /* reported; don't add follow-on problems */
			l->n_apis = 0;
		}
	}
	if (slots[L_FUNCTIONS].val) {
		fmt(sub, sizeof(sub), "%s.functions", path);
		parse_functions(c, slots[L_FUNCTIONS].val, sub, l);
	}
	if (slots[L_PLACEMENT].val) {
		fmt(sub, sizeof(sub), "%s.placement", path);
		parse_placement(c, slots[L_PLACEMENT].val, sub, l);
	}
	if (slots[L_SERVERS].val) {
		const struct ynode *sv = slots[L_SERVERS].val;
		char buf[DESC_LEN];

		if (text_is(sv, "per-application"))
			l->servers = AVA_POLICY_SERVERS_PER_APPLICATION;
		else if (text_is(sv, "shared"))
			l->servers = AVA_POLICY_SERVERS_SHARED;
		else if (sv->kind != Y_BAD)
			msgs_add(&c->msgs, sv->pos,
				 "%s.servers: expected per-application or shared, got %s", path,
				 describe(sv, buf, sizeof(buf)));
	}
}

static void builtin_defaults(struct ava_policy_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->weight = 1;
	l->memory_quota = AVA_POLICY_UNLIMITED;
	l->max_objects = AVA_POLICY_UNLIMITED;
	l->call_rate.per_sec = AVA_POLICY_UNLIMITED;
	l->call_rate.burst = AVA_POLICY_UNLIMITED;
	l->call_rate.over = AVA_POLICY_OVER_DELAY;
	l->byte_rate = l->call_rate;
	l->servers = AVA_POLICY_SERVERS_PER_APPLICATION;
}

static void parse_defaults(struct ctx *c, const struct ynode *n)
{
	struct slot slots[N_LIMIT_KEYS + 1] = { LIMIT_SLOTS, { .key = "action" } };
	char buf[DESC_LEN];

	if (n->is_null)
		return;
	if (!want_kind(c, n, Y_MAP, "defaults", "a mapping"))
		return;
	take_map(c, n, "defaults", slots, N_LIMIT_KEYS + 1);
	parse_limits(c, slots, "defaults", &c->pol->defaults);
	if (slots[N_LIMIT_KEYS].val) {
		const struct ynode *v = slots[N_LIMIT_KEYS].val;

		if (text_is(v, "allow"))
			c->pol->refuse_unknown = 0;
		else if (text_is(v, "refuse"))
			c->pol->refuse_unknown = 1;
		else if (v->kind != Y_BAD)
			msgs_add(&c->msgs, v->pos,
				 "defaults.action: expected allow or refuse, got %s",
				 describe(v, buf, sizeof(buf)));
	}
}

static void parse_devices(struct ctx *c, const struct ynode *n)
{
	struct ava_policy *p = c->pol;
	size_t i, j, n_items = n->is_null ? 0 : n->n_kids;
	int have_default = 0;
	char path[64], sub[96];
	uint64_t v;

	if (!n->is_null && !want_kind(c, n, Y_SEQ, "devices", "a list of devices"))
		n_items = 0;
	if (n_items > MAX_DEVICES) {
		msgs_add(&c->msgs, n->pos, "devices: more than %u devices", MAX_DEVICES);
		n_items = 0;
	}
	p->devices = arena_array(c->pa, n_items + 1, sizeof(*p->devices));
	if (!p->devices) {
		OOM(c);
		return;
	}
	for (i = 0; i < n_items; i++) {
		const struct ynode *d = n->kids[i];
		struct ava_policy_device *dev = &p->devices[p->n_devices];
		struct slot slots[] = { { .key = "name" },
					{ .key = "max_inflight" },
					{ .key = "lease_ms" },
					{ .key = "idle_us" } };

		memset(dev, 0, sizeof(*dev));
		fmt(path, sizeof(path), "devices[%zu]", i);
		if (!want_kind(c, d, Y_MAP, path, "a mapping like { name: gpu0 }"))
			continue;
		take_map(c, d, path, slots, 4);
		dev->max_inflight = DEFAULT_INFLIGHT;
		dev->lease_ms = DEFAULT_LEASE_MS;
		dev->idle_us = DEFAULT_IDLE_US;
		dev->pos = d->pos;
		if (slots[1].val) {
			fmt(sub, sizeof(sub), "%s.max_inflight", path);
			if (get_uint(c, slots[1].val, sub, 1, MAX_INFLIGHT, &v))
				dev->max_inflight = (uint32_t)v;
		}
		if (slots[2].val) {
			fmt(sub, sizeof(sub), "%s.lease_ms", path);
			if (get_uint(c, slots[2].val, sub, 1, MAX_LEASE_MS, &v))
				dev->lease_ms = (uint32_t)v;
		}
		if (slots[3].val) {
			fmt(sub, sizeof(sub), "%s.idle_us", path);
			if (get_uint(c, slots[3].val, sub, 0, MAX_IDLE_US, &v))
				dev->idle_us = (uint32_t)v;
		}
		if (!slots[0].val) {
			msgs_add(&c->msgs, d->pos, "%s: missing name", path);
			continue;
		}
		fmt(sub, sizeof(sub), "%s.name", path);
		dev->name = get_name(c, slots[0].val, sub, "a device name");
		if (!dev->name)
			continue;
		for (j = 0; j < p->n_devices; j++) {
			if (strcmp(p->devices[j].name, dev->name) == 0) {
				msgs_add(&c->msgs, slots[0].val->pos,
					 "%s: duplicate device name \"%s\" (first at line %u)", sub,
					 dev->name, p->devices[j].pos.line);
				break;
			}
		}
		if (j < p->n_devices) {
			dev->name = NULL;
			continue;
		}
		if (strcmp(dev->name, AVA_POLICY_DEFAULT_DEVICE) == 0)
			have_default = 1;
		p->n_devices++;
	}
	if (!have_default) {
		struct ava_policy_device *dev = &p->devices[p->n_devices++];

		dev->name = arena_strndup(c->pa, AVA_POLICY_DEFAULT_DEVICE,
					  strlen(AVA_POLICY_DEFAULT_DEVICE));
		if (!dev->name)
			OOM(c);
		dev->max_inflight = DEFAULT_INFLIGHT;
		dev->lease_ms = DEFAULT_LEASE_MS;
		dev->idle_us = DEFAULT_IDLE_US;
	}
}

/* Every connection b matches, a matches too (a has at least one condition). */
static int match_covers(const struct ava_policy_tenant *a, const struct ava_policy_tenant *b)
{
	if (a->match_socket && (!b->match_socket || strcmp(a->match_socket, b->match_socket) != 0))
		return 0;
	if (a->match_label && (!b->match_label || strcmp(a->match_label, b->match_label) != 0))
		return 0;
	if (a->has_match_uid && (!b->has_match_uid || a->match_uid != b->match_uid))
		return 0;
	return 1;
}

/* Returns 1 when the tenant's match parsed and has at least one condition. */
static int parse_match(struct ctx *c, const struct ynode *n, const char *path,
		       struct ava_policy_tenant *t)
{
	struct slot slots[] = { { .key = "socket" }, { .key = "label" }, { .key = "uid" } };
	char sub[96];
	uint64_t v;
	int ok = 1;

	if (!n->is_null && !want_kind(c, n, Y_MAP, path, "a mapping like { socket: PATH }"))
		return 0;
	if (!n->is_null)
		take_map(c, n, path, slots, 3);
	if (!slots[0].val && !slots[1].val && !slots[2].val) {
		msgs_add(&c->msgs, n->pos,
			 "%s: no conditions; give socket, label and/or uid (a tenant that matched "
			 "every connection would hide the defaults)",
			 path);
		return 0;
	}
	if (slots[0].val) {
		fmt(sub, sizeof(sub), "%s.socket", path);
		t->match_socket = get_string(c, slots[0].val, sub, "a socket path");
		if (t->match_socket && strlen(t->match_socket) > MAX_SOCKET_LEN) {
			msgs_add(
			    &c->msgs, slots[0].val->pos,
			    "%s: socket path longer than %u bytes (the limit of a Unix socket)",
			    sub, MAX_SOCKET_LEN);
			t->match_socket = NULL;
		}
		ok &= t->match_socket != NULL;
	}
	if (slots[1].val) {
		fmt(sub, sizeof(sub), "%s.label", path);
		t->match_label = get_name(c, slots[1].val, sub, "a label");
		ok &= t->match_label != NULL;
	}
	if (slots[2].val) {
		fmt(sub, sizeof(sub), "%s.uid", path);
		if (get_uint(c, slots[2].val, sub, 0, MAX_UID, &v)) {
			t->has_match_uid = 1;
			t->match_uid = (uint32_t)v;
		} else {
			ok = 0;
		}
	}
	return ok;
}

static void parse_tenants(struct ctx *c, const struct ynode *n)
{
	struct ava_policy *p = c->pol;
	size_t i, j, n_items = n->is_null ? 0 : n->n_kids;
	unsigned char *match_ok;
	char path[64], sub[96];

	if (!n->is_null && !want_kind(c, n, Y_SEQ, "tenants", "a list of tenants"))
		return;
	if (n_items > MAX_TENANTS) {
		msgs_add(&c->msgs, n->pos, "tenants: more than %u tenants", MAX_TENANTS);
		return;
	}
	p->tenants = arena_array(c->pa, n_items ? n_items : 1, sizeof(*p->tenants));
	match_ok = arena_array(&c->tree, n_items ? n_items : 1, 1);
	if (!p->tenants || !match_ok) {
		OOM(c);
		return;
	}
	for (i = 0; i < n_items; i++) {
		const struct ynode *tn = n->kids[i];
		struct ava_policy_tenant *t = &p->tenants[p->n_tenants];
		struct slot slots[N_LIMIT_KEYS + 2] = { LIMIT_SLOTS,
							{ .key = "name" },
							{ .key = "match" } };
		const struct ynode *name = NULL;

		fmt(path, sizeof(path), "tenants[%zu]", i);
		if (!want_kind(c, tn, Y_MAP, path, "a mapping like { name: alice, match: {...} }"))
			continue;
		take_map(c, tn, path, slots, N_LIMIT_KEYS + 2);
		t->pos = tn->pos;
		t->limits = p->defaults; /* shares the defaults' lists; see the file comment */
		name = slots[N_LIMIT_KEYS].val;
		if (!name) {
			msgs_add(&c->msgs, tn->pos, "%s: missing name", path);
		} else {
			fmt(sub, sizeof(sub), "%s.name", path);
			t->name = get_name(c, name, sub, "a tenant name");
		}
		if (t->name) {
			for (j = 0; j < p->n_tenants; j++) {
				if (p->tenants[j].name &&
				    strcmp(p->tenants[j].name, t->name) == 0) {
					msgs_add(&c->msgs, name->pos,
						 "%s.name: duplicate tenant name \"%s\" (first at "
						 "line %u)",
						 path, t->name, p->tenants[j].pos.line);
					break;
				}
			}
		}
		fmt(sub, sizeof(sub), "%s.match", path);
		if (!slots[N_LIMIT_KEYS + 1].val)
			msgs_add(&c->msgs, tn->pos,
				 "%s: missing match (give socket, label and/or uid)", path);
		else
			match_ok[p->n_tenants] =
			    (unsigned char)parse_match(c, slots[N_LIMIT_KEYS + 1].val, sub, t);
		parse_limits(c, slots, path, &t->limits);
		/* a tenant that hides behind an earlier one is a mistake: report it */
		if (match_ok[p->n_tenants]) {
			for (j = 0; j < p->n_tenants; j++) {
				const struct ava_policy_tenant *a = &p->tenants[j];

				if (!match_ok[j] || !match_covers(a, t))
					continue;
				if (match_covers(t, a))
					msgs_add(
					    &c->msgs, slots[N_LIMIT_KEYS + 1].val->pos,
					    "%s: same match conditions as tenant \"%s\" (line "
					    "%u), which comes first; this entry can never match",
					    sub, a->name ? a->name : "?", a->pos.line);
				else
					msgs_add(
					    &c->msgs, slots[N_LIMIT_KEYS + 1].val->pos,
					    "%s: can never match: tenant \"%s\" (line %u) comes "
					    "first and matches every connection this one does",
					    sub, a->name ? a->name : "?", a->pos.line);
				break;
			}
		}
		p->n_tenants++;
	}
}

static void parse_root(struct ctx *c, const struct ynode *root)
{
	struct slot slots[] = { { .key = "version" },
				{ .key = "defaults" },
				{ .key = "devices" },
				{ .key = "tenants" } };
	struct ava_policy_pos first = { 1, 1 };
	char buf[DESC_LEN];
	struct ynode none;
	int is_map = root && root->kind == Y_MAP;

	memset(&none, 0, sizeof(none));
	none.kind = Y_SCALAR;
	none.is_null = 1;
	if (!root || root->is_null)
		msgs_add(&c->msgs, root ? root->pos : first,
			 "the policy is empty; it needs at least \"version: 1\"");
	else if (!is_map && root->kind != Y_BAD)
		msgs_add(
		    &c->msgs, root->pos,
		    "the top level must be a mapping (version:, defaults:, devices:, tenants:), "
		    "got %s",
		    describe(root, buf, sizeof(buf)));
	if (is_map) {
		take_map(c, root, "", slots, 4);
		if (!slots[0].val) {
			msgs_add(&c->msgs, root->pos,
				 "missing \"version: 1\" (put it on the first line)");
		} else if (slots[0].val->kind != Y_BAD) {
			const struct ynode *v = slots[0].val;
			uint64_t ver = 0;
			int r = v->kind == Y_SCALAR ? parse_digits(v->value, v->len, &ver) : 0;

			if (r <= 0 || (size_t)r != v->len || ver != 1)
				msgs_add(
				    &c->msgs, v->pos,
				    "version: expected 1 (the only version this router reads), "
				    "got %s",
				    describe(v, buf, sizeof(buf)));
		}
	}
	/* devices before defaults and tenants: placement names them */
	parse_devices(c, slots[2].val ? slots[2].val : &none);
	if (slots[1].val)
		parse_defaults(c, slots[1].val);
	if (slots[3].val)
		parse_tenants(c, slots[3].val);
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                             */

/*
 * Byte checks: NUL and UTF-8 (no overlong forms, no surrogates, at most
 * U+10FFFF). One problem per bad line. Returns how many were found.
 */
static size_t check_bytes(struct msgs *m, const char *text, size_t len)
{
	struct ava_policy_pos pos = { 1, 1 };
	uint32_t bad_line = 0;
	size_t i = 0, found = 0;

	while (i < len) {
		const unsigned char *s = (const unsigned char *)text + i;
		size_t left = len - i, need = 0;
		uint32_t cp = 0, min = 0;
		const char *why = NULL;

		if (s[0] == '\n' || (s[0] == '\r' && (left < 2 || s[1] != '\n'))) {
			pos.line++;
			pos.col = 1;
			i++;
			continue;
		}
		if (s[0] == 0) {
			why = "a NUL byte (policy files are UTF-8 text)";
		} else if (s[0] < 0x80) {
			need = 0;
		} else if ((s[0] & 0xe0) == 0xc0) {
			need = 1;
			cp = s[0] & 0x1fu;
			min = 0x80;
		} else if ((s[0] & 0xf0) == 0xe0) {
			need = 2;
			cp = s[0] & 0x0fu;
			min = 0x800;
		} else if ((s[0] & 0xf8) == 0xf0) {
			need = 3;
			cp = s[0] & 0x07u;
			min = 0x10000;
		} else {
			why = "invalid UTF-8";
		}
		if (!why && need) {
			size_t k;

			for (k = 1; k <= need; k++) {
				if (k >= left || (s[k] & 0xc0) != 0x80)
					break;
				cp = (cp << 6) | (s[k] & 0x3fu);
			}
			if (k <= need || cp < min || cp > 0x10ffff ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				why = "invalid UTF-8";
		}
		if (why) {
			if (bad_line != pos.line) {
				bad_line = pos.line;
				if (s[0] == 0)
					msgs_add(m, pos, "%s", why);
				else
					msgs_add(m, pos, "%s (byte 0x%02x)", why, s[0]);
				found++;
			}
			i++;
			pos.col++;
			continue;
		}
		i += need + 1;
		pos.col++;
	}
	return found;
}

static struct policy_impl *policy_new(const char *file_name)
{
	struct policy_impl *impl = calloc(1, sizeof(*impl));

	if (!impl)
		return NULL;
	impl->pub.file_name = arena_strndup(&impl->arena, file_name, strlen(file_name));
	if (!impl->pub.file_name) {
		free(impl);
		return NULL;
	}
	builtin_defaults(&impl->pub.defaults);
	return impl;
}

void ava_policy_free(struct ava_policy *policy)
{
	struct policy_impl *impl = (struct policy_impl *)policy;

	if (!impl)
		return;
	arena_free(&impl->arena);
	free(impl);
}

int ava_policy_parse(const char *text, size_t len, const char *file_name,
		     struct ava_policy **ret_policy, char **ret_errors)
{
	struct ctx c;
	struct policy_impl *impl = NULL;
	struct ynode *root = NULL;
	int ret;

	memset(&c, 0, sizeof(c));
	*ret_policy = NULL;
	if (ret_errors)
		*ret_errors = NULL;
	c.msgs.file = file_name ? file_name : "(policy)";
	if (len > MAX_FILE_BYTES) {
		struct ava_policy_pos none = { 0, 0 };

		msgs_add(&c.msgs, none, "%zu bytes; a policy file is at most 1 MiB", len);
		goto finish;
	}
	if (check_bytes(&c.msgs, text, len) > 0)
		goto finish;
	impl = policy_new(c.msgs.file);
	if (!impl) {
		c.oom = 1;
		goto finish;
	}
	c.pol = &impl->pub;
	c.pa = &impl->arena;
	ret = build_tree(&c, text, len, &root);
	if (ret < 0) {
		c.oom = 1;
		goto finish;
	}
	if (ret == 0)
		parse_root(&c, root);
finish:
	arena_free(&c.tree);
	if (c.oom) {
		msgs_fini(&c.msgs);
		ava_policy_free(impl ? &impl->pub : NULL);
		return -ENOMEM;
	}
	if (c.msgs.n_problems == 0) {
		msgs_fini(&c.msgs);
		*ret_policy = &impl->pub;
		return 0;
	}
	ava_policy_free(impl ? &impl->pub : NULL);
	ret = msgs_finish(&c.msgs, ret_errors);
	msgs_fini(&c.msgs);
	return ret;
}

int ava_policy_load(const char *path, struct ava_policy **ret_policy, char **ret_errors)
{
	struct msgs m;
	struct ava_policy_pos none = { 0, 0 };
	char *text = NULL;
	size_t len = 0;
	int fd, ret;

	memset(&m, 0, sizeof(m));
	m.file = path;
	*ret_policy = NULL;
	if (ret_errors)
		*ret_errors = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		msgs_add(&m, none, "cannot open: %s", strerror(errno));
		goto fail;
	}
	/* one byte more than the limit, so an oversized file is seen as one */
	text = malloc(MAX_FILE_BYTES + 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	while (len < MAX_FILE_BYTES + 1) {
		ssize_t n = read(fd, text + len, MAX_FILE_BYTES + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			msgs_add(&m, none, "cannot read: %s", strerror(errno));
			close(fd);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > MAX_FILE_BYTES) {
		msgs_add(&m, none, "larger than 1 MiB; a policy file is at most 1 MiB");
		goto fail;
	}
	ret = ava_policy_parse(text, len, path, ret_policy, ret_errors);
	free(text);
	return ret;
fail:
	free(text);
	ret = msgs_finish(&m, ret_errors);
	msgs_fini(&m);
	return ret;
}

int ava_policy_default(struct ava_policy **ret_policy)
{
	struct policy_impl *impl = policy_new("(built-in policy)");
	struct ava_policy_device *dev;

	*ret_policy = NULL;
	if (!impl)
		return -ENOMEM;
	dev = arena_alloc(&impl->arena, sizeof(*dev));
	if (!dev)
		goto oom;
	dev->name = arena_strndup(&impl->arena, AVA_POLICY_DEFAULT_DEVICE,
				  strlen(AVA_POLICY_DEFAULT_DEVICE));
	if (!dev->name)
		goto oom;
	dev->max_inflight = DEFAULT_INFLIGHT;
	dev->lease_ms = DEFAULT_LEASE_MS;
	dev->idle_us = DEFAULT_IDLE_US;
	impl->pub.devices = dev;
	impl->pub.n_devices = 1;
	*ret_policy = &impl->pub;
	return 0;
oom:
	ava_policy_free(&impl->pub);
	return -ENOMEM;
}

/* ------------------------------------------------------------------------ */
/* Checking names against the served APIs                                   */

static const struct ava_abi_api *served_api(const struct ava_abi_api *const *apis, size_t n,
					    const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (apis[i] && apis[i]->name && strcmp(apis[i]->name, name) == 0)
			return apis[i];
	}
	return NULL;
}

static void unknown_api(struct msgs *m, struct ava_policy_pos pos, const char *path,
			const char *name, const struct ava_abi_api *const *apis, size_t n)
{
	char list[512];
	size_t i, off = 0;

	list[0] = '\0';
	for (i = 0; i < n && off < sizeof(list); i++) {
		if (apis[i] && apis[i]->name)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
						off ? ", " : "", apis[i]->name);
	}
	if (off)
		msgs_add(m, pos, "%s: unknown API \"%s\" (this router serves: %s)", path, name,
			 list);
	else
		msgs_add(m, pos, "%s: unknown API \"%s\" (this router serves no API)", path, name);
}

static void check_fn_list(struct msgs *m, const char *path, const struct ava_abi_api *api,
			  char **names, const struct ava_policy_pos *pos, size_t n)
{
	size_t i;
	uint32_t j;

	for (i = 0; i < n; i++) {
		const char *hint = NULL;
		size_t best = 3;

		if (ava_abi_find_fn(api, names[i]))
			continue;
		for (j = 0; j < api->n_fns; j++) {
			const char *fn = api->fns[j].name;
			size_t d;

			if (!fn)
				continue;
			d = edit_distance(names[i], strlen(names[i]), fn, strlen(fn));
			if (d < best) {
				best = d;
				hint = fn;
			}
		}
		if (hint)
			msgs_add(m, pos[i],
				 "%s[%zu]: API %s has no function \"%s\" (did you mean %s?)", path,
				 i, api->name, names[i], hint);
		else
			msgs_add(m, pos[i], "%s[%zu]: API %s has no function \"%s\"", path, i,
				 api->name, names[i]);
	}
}

static void check_limits(struct msgs *m, const struct ava_policy_limits *l,
			 const struct ava_policy_limits *inherited, const char *path,
			 const struct ava_abi_api *const *apis, size_t n_apis)
{
	char sub[300], sub2[320];
	size_t i;

	if (l->apis && (!inherited || l->apis != inherited->apis)) {
		for (i = 0; i < l->n_apis; i++) {
			fmt(sub, sizeof(sub), "%s.apis[%zu]", path, i);
			if (!served_api(apis, n_apis, l->apis[i]))
				unknown_api(m, l->apis_pos[i], sub, l->apis[i], apis, n_apis);
		}
	}
	if (!inherited || l->filters != inherited->filters) {
		for (i = 0; i < l->n_filters; i++) {
			const struct ava_policy_fn_filter *f = &l->filters[i];
			const struct ava_abi_api *api = served_api(apis, n_apis, f->api);

			fmt(sub, sizeof(sub), "%s.functions.%s", path, f->api);
			if (!api) {
				unknown_api(m, f->pos, sub, f->api, apis, n_apis);
				continue;
			}
			fmt(sub2, sizeof(sub2), "%s.%s", sub, f->allow ? "allow" : "deny");
			if (f->allow)
				check_fn_list(m, sub2, api, f->allow, f->allow_pos, f->n_allow);
			else
				check_fn_list(m, sub2, api, f->deny, f->deny_pos, f->n_deny);
		}
	}
	if (!inherited || l->placements != inherited->placements) {
		for (i = 0; i < l->n_placements; i++) {
			const struct ava_policy_placement *p = &l->placements[i];

			fmt(sub, sizeof(sub), "%s.placement.%s", path, p->api);
			if (!served_api(apis, n_apis, p->api))
				unknown_api(m, p->pos, sub, p->api, apis, n_apis);
		}
	}
}

int ava_policy_check_apis(const struct ava_policy *policy, const struct ava_abi_api *const *apis,
			  size_t n_apis, char **ret_errors)
{
	struct msgs m;
	char path[64];
	size_t i;
	int ret;

	memset(&m, 0, sizeof(m));
	m.file = policy->file_name ? policy->file_name : "(policy)";
	if (ret_errors)
		*ret_errors = NULL;
	/* inherited lists are shared with the defaults: report them once, there */
	check_limits(&m, &policy->defaults, NULL, "defaults", apis, n_apis);
	for (i = 0; i < policy->n_tenants; i++) {
		fmt(path, sizeof(path), "tenants[%zu]", i);
		check_limits(&m, &policy->tenants[i].limits, &policy->defaults, path, apis, n_apis);
	}
	if (m.n_problems == 0 && !m.oom) {
		msgs_fini(&m);
		return 0;
	}
	ret = msgs_finish(&m, ret_errors);
	msgs_fini(&m);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Lookups                                                                  */

const struct ava_policy_tenant *ava_policy_match(const struct ava_policy *policy,
						 const char *socket_path, const char *label,
						 uint32_t uid)
{
	size_t i;

	for (i = 0; i < policy->n_tenants; i++) {
		const struct ava_policy_tenant *t = &policy->tenants[i];

		if (!t->match_socket && !t->match_label && !t->has_match_uid)
			continue; /* never in a parsed policy; never match everything */
		if (t->match_socket && (!socket_path || strcmp(t->match_socket, socket_path) != 0))
			continue;
		if (t->match_label && (!label || strcmp(t->match_label, label) != 0))
			continue;
		if (t->has_match_uid && t->match_uid != uid)
			continue;
		return t;
	}
	return NULL;
}

const struct ava_policy_tenant *ava_policy_find_tenant(const struct ava_policy *policy,
						       const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < policy->n_tenants; i++) {
		if (policy->tenants[i].name && strcmp(policy->tenants[i].name, name) == 0)
			return &policy->tenants[i];
	}
	return NULL;
}

int ava_policy_api_allowed(const struct ava_policy_limits *limits, const char *api)
{
	return api && limits_has_api(limits, api);
}

static int in_list(char **names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return 1;
	}
	return 0;
}

int ava_policy_fn_allowed(const struct ava_policy_limits *limits, const char *api, const char *fn)
{
	size_t i;

	if (!fn || !ava_policy_api_allowed(limits, api))
		return 0;
	for (i = 0; i < limits->n_filters; i++) {
		const struct ava_policy_fn_filter *f = &limits->filters[i];

		if (strcmp(f->api, api) != 0)
			continue;
		if (f->allow)
			return in_list(f->allow, f->n_allow, fn);
		return !in_list(f->deny, f->n_deny, fn);
	}
	return 1;
}

const struct ava_policy_device *ava_policy_placement(const struct ava_policy *policy,
						     const struct ava_policy_limits *limits,
						     const char *api)
{
	const struct ava_policy_device *dev = NULL;
	size_t i;

	for (i = 0; api && i < limits->n_placements; i++) {
		if (strcmp(limits->placements[i].api, api) == 0) {
			dev = find_device(policy, limits->placements[i].device);
			break;
		}
	}
	return dev ? dev : find_device(policy, AVA_POLICY_DEFAULT_DEVICE);
}
