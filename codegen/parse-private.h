/* SPDX-License-Identifier: MIT */
/*
 * What the spec front end's files share (parse.c, annotate.c): the parser
 * state, what a body's annotations collect, and the libclang helpers both
 * use. Internal to ava_codegen.
 */
#ifndef AVA_CODEGEN_PARSE_PRIVATE_H
#define AVA_CODEGEN_PARSE_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <clang-c/Index.h>

#include "codegen.h"
#include "cx.h"

#define xmalloc		    ava_codegen_xmalloc
#define xcalloc		    ava_codegen_xcalloc
#define xrealloc	    ava_codegen_xrealloc
#define xstrdup		    ava_codegen_xstrdup
#define xstrndup	    ava_codegen_xstrndup
#define xasprintf	    ava_codegen_xasprintf
#define str_take	    ava_codegen_cx_str_take
#define cursor_name	    ava_codegen_cx_cursor_name
#define type_name	    ava_codegen_cx_type_name
#define name_is		    ava_codegen_cx_name_is
#define is_pointer	    ava_codegen_cx_is_pointer
#define pointee		    ava_codegen_cx_pointee
#define is_function_pointer ava_codegen_cx_is_function_pointer
#define is_opaque_pointer   ava_codegen_cx_is_opaque_pointer
#define opaque_typedef	    ava_codegen_cx_opaque_typedef
#define is_char		    ava_codegen_cx_is_char
#define is_arithmetic	    ava_codegen_cx_is_arithmetic
#define is_record	    ava_codegen_cx_is_record
#define type_size	    ava_codegen_cx_type_size
#define unqualified_name    ava_codegen_cx_unqualified_name

/* ---- parser state ---- */

/* A declaration seen at the top level, for naming and ordering handle types. */
struct decl_pos {
	char *usr;
	uint64_t index;
	CXCursor cursor;
	char *handle_key; /* typedef of an opaque pointer: its struct's USR, else NULL */
};

struct parser {
	const struct ava_codegen_options *opts;
	const char *spec_path; /* as given */
	FILE *err;
	unsigned n_errors;
	CXTranslationUnit tu;
	CXFile main_file;
	struct ava_codegen_api *api;

	/* Top level, in order. */
	CXCursor *settings; /* __ava_* variables */
	size_t n_settings;
	CXCursor *type_decls; /* __ava_type_N functions */
	size_t n_type_decls;
	CXCursor *cb_decls; /* ava_callback_decl functions */
	size_t n_cb_decls;
	struct defaults *dflts; /* ava_defaults functions */
	size_t n_dflts;
	CXCursor *entries; /* spec function definitions */
	size_t n_entries;
	CXCursor *fn_decls; /* every non-static function declaration outside the spec */
	size_t n_fn_decls;
	struct decl_pos *decls;
	size_t n_decls;
	/* ava_device_time_until annotations, resolved once every function is read */
	struct pending_until *untils;
	size_t n_untils;
	CXCursor call_ids_at; /* the ava_call_ids setting, for messages */
	bool has_proxy_table;
	CXCursor proxy_table_at; /* the ava_handle_proxy_table setting */
};

/* One ava_defaults(params) { ava_argument(p) { ... } ... } block. */
struct defaults {
	CXCursor def;
	char *owner; /* "ava_defaults(const cl_event *event_wait_list)", for messages */
	bool ok;     /* its body holds only ava_argument blocks of its parameters */
	bool used;   /* some function entry matched it */
};

struct pending_until {
	uint32_t fn;  /* index in api->fns of the annotated function */
	char *name;   /* the completion function */
	uint16_t arg; /* the parameter whose handle it gets */
	CXSourceLocation where;
};

/* ---- what a body's annotations say ---- */

struct children {
	CXCursor *v;
	size_t n;
};
/* What the annotations said about one value. */
struct ann {
	bool seen;
	CXSourceLocation where; /* first annotation, for messages */
	bool in, out, zero_terminated, handle, opaque, userdata, errcode;
	bool allocates, deallocates, retains, parent;
	bool element, elem_handle, elem_opaque, elem_zero_terminated;
	bool props, scan;
	CXSourceLocation props_where, scan_where;
	bool has_override; /* an ava_override, conditional or not */
	CXSourceLocation override_where;
	bool has_handles_of; /* an ava_handles_of, conditional or not */
	CXSourceLocation handles_of_where;
	bool has_blobs; /* an ava_blobs_sized_by, conditional or not */
	CXSourceLocation blobs_where;
	bool has_clear; /* an ava_clear_bits, conditional or not */
	CXSourceLocation clear_where;
	int str_lengths; /* ava_string_lengths: the argument index, -1: none */
	CXSourceLocation str_lengths_where;
	int late_event; /* ava_late_data: the event argument's index, -1: none */
	CXSourceLocation late_where;
	bool mapping; /* ava_mapping (result): map_* hold its sources */
	char *map_count, *map_read, *map_write;
	int map_event;
	CXSourceLocation map_where;
	bool unmaps; /* ava_unmaps */
	bool rect;   /* ava_rect */
	CXSourceLocation rect_where;
	bool has_max;
	uint64_t max;
	bool has_buffer; /* an ava_buffer, conditional or not */
	char *count;	 /* unconditional ava_buffer */
	CXSourceLocation buffer_where;
	int callback; /* index in the spec's callback decls, -1: none */
	CXSourceLocation callback_where;
	char **fields; /* ava_field(f) { ava_handle; } */
	CXSourceLocation *field_where;
	size_t n_fields;
	char *bad_handle; /* ava_invalid_handle_error in ava_argument: C source */
	CXSourceLocation bad_handle_where;
	bool written_on_failure; /* ava_written_on_failure */
	CXSourceLocation written_on_failure_where;
	bool own;		     /* the function's own ava_argument block names it */
	int dflt;		     /* the ava_defaults (index) that annotated it, -1: none */
	CXSourceLocation dflt_where; /* that default's ava_argument block */
};

/* A parameter named by an expression, checked once kinds are known. */
struct ref {
	uint16_t arg;
	CXSourceLocation where;
	char *what; /* "size expression of 'buf'", "condition", ... */
};

enum body_kind { BODY_FN, BODY_CALLBACK, BODY_TYPE };

struct body {
	struct parser *p;
	enum body_kind kind;
	const char *owner; /* function, callback or type name for messages */
	CXCursor *params;
	uint16_t n_params;
	struct ann *args;
	struct ann ret;
	struct ref *refs;
	size_t n_refs;
	uint64_t referenced;
	/*
	 * While an ava_defaults body is walked for this function: the default
	 * (index), its parameters, and the index of the function's parameter
	 * of the same name and type for each.
	 */
	int dflt;
	const CXCursor *dparams;
	const uint16_t *dmap;
	uint16_t n_dparams;
	/* Call mode. */
	bool has_sync, has_async, has_cond_async, unsupported, private_fn;
	char *resolve_via;
	CXSourceLocation async_where;
	struct ava_codegen_stmt_list cond;
	struct ava_codegen_stmt_list overrides;
	/* ava_type values. */
	struct ava_codegen_type *type;
	/* Resources. */
	bool device_time, has_mem, has_mem_release, has_until;
	CXSourceLocation device_time_where, mem_where, mem_release_where, until_where;
	uint8_t mem_from; /* enum ava_abi_amount */
	uint16_t mem_arg;
	uint64_t mem_bytes;
	uint16_t until_arg;
	char *until_name;
};

/* Where the walk stands: which value, and inside which scopes. */
struct scope {
	struct ann *value; /* NULL: function scope */
	int arg;	   /* argument index, -1: the result */
	bool element;
	const char *field; /* inside ava_field */
	int cond_depth;
	struct ava_codegen_stmt_list *target;  /* conditional statements go here */
	struct ava_codegen_stmt_list *otarget; /* conditional ava_override statements */
};

/* ---- helpers of parse.c ---- */

#define error_at	ava_codegen_parse_error_at
#define error_loc	ava_codegen_parse_error_loc
#define children_of	ava_codegen_parse_children_of
#define strip		ava_codegen_parse_strip
#define intrinsic_name	ava_codegen_parse_intrinsic_name
#define string_literal	ava_codegen_parse_string_literal
#define source_text	ava_codegen_parse_source_text
#define handle_ref	ava_codegen_parse_handle_ref
#define stmt_push	ava_codegen_parse_stmt_push
#define param_index	ava_codegen_parse_param_index
#define check_expr	ava_codegen_parse_check_expr
#define pretty		ava_codegen_parse_pretty
#define call_arg	ava_codegen_parse_call_arg
#define note_seen	ava_codegen_parse_note_seen
#define is_c_identifier ava_codegen_parse_is_c_identifier

/* "file:line:col: error: ..." at a cursor or a location; counts the error. */
void __attribute__((format(printf, 3, 4)))
error_at(struct parser *p, CXCursor c, const char *fmt, ...);
void __attribute__((format(printf, 3, 4)))
error_loc(struct parser *p, CXSourceLocation loc, const char *fmt, ...);
/* The children of c (free the v array). */
struct children children_of(CXCursor c);
/* c without implicit casts and parentheses. */
CXCursor strip(CXCursor c);
/* The intrinsic's name when c calls an __ava_* intrinsic, else NULL (free it). */
char *intrinsic_name(CXCursor c);
/* The text of a string literal (a stringified annotation argument), or NULL. */
char *string_literal(CXCursor c);
/* The spec's source text of c, whitespace squeezed, or NULL. */
char *source_text(struct parser *p, CXCursor c);
/* The handle type of t, registered at first use: index in api->handles plus one. */
uint16_t handle_ref(struct parser *p, CXType t);
void stmt_push(struct ava_codegen_stmt_list *l, struct ava_codegen_stmt *s);
/* The index of the parameter decl names (an ava_defaults' maps to the function's), or -1. */
int param_index(struct body *b, CXCursor decl);
/*
 * Checks what an expression names (what: "size expression of 'x'", for
 * messages); bind: the plan function evaluates it. Returns false on errors.
 */
bool check_expr(struct body *b, CXCursor expr, const char *what, bool bind);
/* "__ava_in" -> "ava_in", for messages. */
const char *pretty(const char *intrinsic);
/* Argument i of the intrinsic call. */
CXCursor call_arg(CXCursor call, int i);
/* Marks a value annotated, remembering where first. */
void note_seen(struct ann *a, CXCursor c);
bool is_c_identifier(const char *s);

/* ---- annotate.c ---- */

/* One annotation statement c of a body, at scope sc: checks it and records it. */
void ava_codegen_annotate(struct body *b, CXCursor c, struct scope sc);

#endif /* AVA_CODEGEN_PARSE_PRIVATE_H */
