/* SPDX-License-Identifier: MIT */
/*
 * avagen's library (ava_codegen): the spec front end, the model it builds and
 * the emitters that turn the model into the guest stub source, the API server
 * source, the ABI manifest and the linker version script.
 *
 * The front end (parse.c, with annotate.c for the annotation words) is the
 * only part that talks to libclang. It reads a spec into a struct
 * ava_codegen_api, reporting every problem as "file:line:col: error: reason"
 * on the error stream it is given. The model holds no libclang objects, so
 * the emitters are plain string work.
 *
 * Memory: allocation failures abort (avagen is a build tool; the fuzz harness
 * runs it in-process and does not hit that path).
 */
#ifndef AVA_CODEGEN_H
#define AVA_CODEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ava/abi.h"

#define AVA_CODEGEN_VERSION "0.1.0"
/* Default most bytes of an ava_zero_terminated string, NUL included. */
#define AVA_CODEGEN_STRING_MAX (1024u * 1024u)
/* Default most bytes of a buffer: the count limit is this over the element size. */
#define AVA_CODEGEN_BUFFER_MAX_BYTES (64u * 1024u * 1024u)

/* ---- options ---- */

struct ava_codegen_options {
	const char *const *include_dirs; /* -I, in order */
	size_t n_include_dirs;
	const char *const *defines; /* -D, in order ("X" or "X=1") */
	size_t n_defines;
	const char *spec_include_dir; /* directory holding ava/spec.h (NULL: built-in) */
	const char *resource_dir; /* clang resource dir (NULL: built-in or $AVAGEN_RESOURCE_DIR) */
	const char *source_root;  /* paths in banners are relative to it (may be NULL) */
	FILE *err;		  /* diagnostics; NULL: stderr */
};

/* ---- the model ---- */

/*
 * One statement of a plan function: a buffer count, the call mode, the
 * handle type of a bytes buffer, an argument override, or an if.
 */
enum ava_codegen_stmt_kind {
	AVA_CODEGEN_STMT_COUNT,	   /* plan->count[arg] = expr */
	AVA_CODEGEN_STMT_ASYNC,	   /* plan->async = async */
	AVA_CODEGEN_STMT_IF,	   /* if (expr) then else */
	AVA_CODEGEN_STMT_HANDLES,  /* plan->handle_type[arg] = handle_type */
	AVA_CODEGEN_STMT_OVERRIDE, /* *(T *)args[arg] = (T)(expr) */
	AVA_CODEGEN_STMT_BLOBS,	   /* plan->blobs_arg[arg] = ref_arg + 1, blobs_value = expr */
	AVA_CODEGEN_STMT_CLEAR,	   /* plan->clear_bits[arg] = expr, clear_width = sizeof(type) */
};

struct ava_codegen_stmt;

struct ava_codegen_stmt_list {
	struct ava_codegen_stmt **v;
	size_t n;
};

struct ava_codegen_stmt {
	enum ava_codegen_stmt_kind kind;
	uint16_t arg;
	uint8_t async;
	/* HANDLES: the type tag (while parsing: index in api->handles plus one) */
	uint16_t handle_type;
	char *expr;	  /* COUNT: count source; IF: condition source; OVERRIDE: the value */
	uint16_t ref_arg; /* BLOBS: the argument of the sizing call */
	char *type;	  /* CLEAR: the C type of the value whose bits are cleared */
	struct ava_codegen_stmt_list then_stmts, else_stmts;
};

/* An argument or result of a function or callback. */
struct ava_codegen_value {
	char *name;  /* parameter name (results: NULL) */
	char *ctype; /* C spelling of its type, as declared */
	/* The wire description. During parsing handle_type fields hold an index into
	 * api->handles plus one; ava_codegen_parse rewrites them into tags. */
	struct ava_abi_value abi;
	struct ava_abi_field *fields; /* ELEM_STRUCT: abi.fields points here */
	char **field_names;	      /* ELEM_STRUCT: C names of the fields, same order */
	char *elem_ctype;	      /* BUFFER of bytes or structs: element type, unqualified */
	char *count_expr;	      /* BUFFER: unconditional element count, C source */
	bool top_const;		      /* declared with a top-level const: `&x` needs a cast */
	/*
	 * Type spelling without top-level qualifiers, for binding the value as a
	 * plan local: scalars, and the pointers a plan reads (property lists,
	 * string lengths).
	 */
	char *bind_ctype;
	int str_lengths_arg; /* ELEM_STRING buffer: the ava_string_lengths argument, -1: none */
	/* A function's handle argument: its ava_invalid_handle_error, C source, or NULL. */
	char *bad_handle_expr;
	/* A function's out buffer the library writes also when the call fails. */
	bool written_on_failure;
};

/* Type defaults from ava_type(T) { ... }. */
enum ava_codegen_type_value {
	AVA_CODEGEN_SUCCESS,
	AVA_CODEGEN_FAILURE,
	AVA_CODEGEN_UNSUPPORTED_ERROR,
	AVA_CODEGEN_INVALID_HANDLE_ERROR,
	AVA_CODEGEN_REFUSE_WITH,
	AVA_CODEGEN_OVER_QUOTA_ERROR,
	AVA_CODEGEN_TYPE_VALUE_COUNT,
};

struct ava_codegen_type {
	char *ctype;				    /* as written in ava_type(T) */
	char *ident;				    /* ctype made into an identifier part */
	char *values[AVA_CODEGEN_TYPE_VALUE_COUNT]; /* C source, or NULL */
	/* ava_invalid_handle_error_of(H, v): handle type (tag once parsed), C source of v */
	struct ava_codegen_handle_value {
		uint16_t handle_type;
		char *value;
	} * handle_values;
	size_t n_handle_values;
	bool used; /* some function refers to it */
};

struct ava_codegen_callback {
	char *name;
	uint32_t id;
	struct ava_codegen_value ret; /* ctype "void" for void */
	struct ava_codegen_value *args;
	uint16_t n_args;
	uint16_t userdata_arg;
	/*
	 * Plan (server only): exists when the callback has buffers, whose
	 * counts come from its scalar arguments.
	 */
	bool has_plan;
	uint64_t referenced; /* bit i: argument i is bound as a plan local */
};

struct ava_codegen_fn {
	char *name;
	uint32_t id;	/* index in api->fns: the call id (ava_call_ids, else header order) */
	uint32_t flags; /* AVA_ABI_FN_* */
	bool variadic;
	bool deprecated;    /* the header marks it deprecated; the server calls it anyway */
	bool guest_private; /* ava_private: on the wire, not exported by the guest library */
	char *resolve_via;  /* ava_resolve_via: the server's resolver for it, or NULL */
	struct ava_codegen_value ret; /* ctype "void" for void */
	/* All parameters (for the stub's signature). Unsupported functions
	 * describe none of them on the wire. */
	struct ava_codegen_value *args;
	uint16_t n_args;
	/* Plan: exists when the function has buffers or a conditional call mode. */
	bool has_plan;
	uint8_t async; /* the call mode before any conditional statement */
	struct ava_codegen_stmt_list cond;
	/* ava_override statements, run before everything else but the bindings */
	struct ava_codegen_stmt_list overrides;
	uint64_t referenced; /* bit i: argument i is bound as a plan local */
	int ret_type;	     /* index in api->types for the result, -1: none */
	int errcode_arg;     /* -1: none */
	int errcode_type;    /* index in api->types for the errcode element, -1: none */
	/* Resources, as in struct ava_abi_fn (device_time is AVA_ABI_FN_DEVICE_TIME). */
	uint8_t mem_from; /* enum ava_abi_amount */
	uint16_t mem_arg;
	uint64_t mem_bytes;
	uint32_t until_fn; /* with AVA_ABI_FN_DEVICE_TIME_UNTIL */
	uint16_t until_arg;
	/* ava_mapping on the result: byte count, readable and writable, C source; else NULL. */
	char *map_count, *map_read, *map_write;
};

struct ava_codegen_handle {
	char *name;	   /* ABI name (the typedef) */
	char *ctype;	   /* C type to cast to */
	char *key;	   /* identity: USR of the struct pointed to */
	uint64_t order;	   /* position of its declaration: tags follow it */
	int release_fn;	   /* index in api->fns of its ava_deallocates function, -1: none */
	bool release_void; /* that function returns void */
	int retain_fn;	   /* index in api->fns of its ava_retains function, -1: none */
	bool retain_void;  /* that function returns void */
};

struct ava_codegen_api {
	char *spec_path; /* as shown in banners: relative to the source root */
	char *name, *identifier, *version;
	char *errcode_param; /* ava_errcode_param: unsupported functions' error out-parameter */
	char *handle_proxy;  /* ava_handle_proxy: the proxies' dispatch symbol, or NULL */
	char *call_ids;	     /* ava_call_ids: the manifest whose call ids are kept, or NULL */
	/*
	 * ava_handle_proxy_table(T): the C type of the handle_proxy symbol avagen
	 * defines (NULL: a guest source defines it), and its non-NULL members in
	 * declaration order.
	 */
	char *proxy_table_ctype;
	struct ava_codegen_table_entry {
		char *member; /* also the function it points to */
		/* A guest export the headers do not declare: the member's type, else NULL. */
		char *extern_type;
	} * proxy_table;
	size_t n_proxy_table;
	char **sonames;
	size_t n_sonames;
	char **guest_exports; /* ava_guest_export: more symbols the guest library exports */
	size_t n_guest_exports;
	char **headers;
	size_t n_headers;
	/* the spec's own #include and #define lines, in order (not ava/spec.h) */
	char **includes;
	size_t n_includes;
	char **deps; /* every file the spec read (itself and all headers), for depfiles */
	size_t n_deps;

	struct ava_codegen_fn *fns;
	uint32_t n_fns;
	struct ava_codegen_callback *callbacks;
	uint32_t n_callbacks;
	struct ava_codegen_handle *handles; /* [tag - 1] once parsing is done */
	uint16_t n_handles;
	struct ava_codegen_type *types;
	size_t n_types;

	/* The description in abi.h form; arrays point into the model. */
	struct ava_abi_api abi;
	struct ava_abi_fn *abi_fns;
	struct ava_abi_callback *abi_callbacks;
	const char **handle_names;
	struct ava_abi_value **abi_args; /* per fn, then per callback */
};

/*
 * Parses the spec at spec_path into a new model (*ret_api; free with
 * ava_codegen_api_free). Every error is printed to opts->err; returns 0, or
 * -EINVAL when the spec has errors (nothing in *ret_api), -ENOENT when the
 * file cannot be read, -EIO for a libclang failure.
 */
int ava_codegen_parse(const struct ava_codegen_options *opts, const char *spec_path,
		      struct ava_codegen_api **ret_api) __attribute__((warn_unused_result));

/* Frees a model. Accepts NULL. */
void ava_codegen_api_free(struct ava_codegen_api *api);

/*
 * Prints a starter spec for the functions of header_path to out, and the
 * functions that still need a human to out (as a trailing comment) and to
 * opts->err. Returns 0, or a negative errno like ava_codegen_parse.
 */
int ava_codegen_infer(const struct ava_codegen_options *opts, const char *header_path, FILE *out)
    __attribute__((warn_unused_result));

/* ---- emitters (emit.c): each writes one whole file; return 0 or -EIO ---- */

int ava_codegen_emit_guest(const struct ava_codegen_api *api, FILE *out)
    __attribute__((warn_unused_result));
int ava_codegen_emit_server(const struct ava_codegen_api *api, FILE *out)
    __attribute__((warn_unused_result));
int ava_codegen_emit_abi(const struct ava_codegen_api *api, FILE *out)
    __attribute__((warn_unused_result));
int ava_codegen_emit_map(const struct ava_codegen_api *api, FILE *out)
    __attribute__((warn_unused_result));
/* ava_<api>.h, for the API's hand code (emit-header.c). */
int ava_codegen_emit_header(const struct ava_codegen_api *api, FILE *out)
    __attribute__((warn_unused_result));

/*
 * Generates all five files of api into dir: each is written to a temporary
 * file first, and only when all of them are complete are they renamed into
 * place (a file whose content is unchanged is left alone, so its timestamp
 * does not trigger rebuilds). On failure nothing new is left in dir.
 * Returns 0 or a negative errno, with the reason on err.
 */
int ava_codegen_write_all(const struct ava_codegen_api *api, const char *dir, FILE *err)
    __attribute__((warn_unused_result));

/*
 * Writes a Makefile-style depfile: "target: <every file the spec read>".
 * Returns 0 or a negative errno, with the reason on err.
 */
int ava_codegen_write_depfile(const struct ava_codegen_api *api, const char *path,
			      const char *target, FILE *err) __attribute__((warn_unused_result));

/*
 * Generated pieces that name functions by name (emit-dispatch.c), called by
 * the guest and server emitters: the handle proxies' dispatch table
 * (ava_handle_proxy_table), and the server's forwarders of ava_resolve_via
 * functions. Each writes nothing when the spec asks for none.
 */
void ava_codegen_emit_proxy_table(const struct ava_codegen_api *api, FILE *out);
void ava_codegen_emit_forwarders(const struct ava_codegen_api *api, FILE *out);
/*
 * emit.c's layout of a list (emit-dispatch.c uses it): head, the items
 * separated by ", ", then tail, wrapped at 100 columns under the first item.
 */
void ava_codegen_emit_wrap(FILE *out, int indent, const char *head, char **items, size_t n,
			   const char *tail);

/* ---- small helpers shared by the library (util.c) ---- */

void *ava_codegen_xmalloc(size_t n);
void *ava_codegen_xcalloc(size_t n, size_t size);
void *ava_codegen_xrealloc(void *p, size_t n, size_t size);
char *ava_codegen_xstrdup(const char *s);
char *ava_codegen_xstrndup(const char *s, size_t n);
char *ava_codegen_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Appends s to the string vector *v of *n entries (s is copied). */
void ava_codegen_strv_push(char ***v, size_t *n, const char *s);
/*
 * The C declarator of a variable called name of type ctype: "int x",
 * "const char *s", "void (*fn)(int)". name may be NULL for an abstract one.
 */
char *ava_codegen_decl(const char *ctype, const char *name);
/* The spelling of a pointer to ctype: "int *", "char **", "void (**)(int)". */
char *ava_codegen_ptr_to(const char *ctype);
/* ctype turned into a string usable inside an identifier ("unsigned int" -> "unsigned_int"). */
char *ava_codegen_ident_of(const char *ctype);
/* Frees a statement list's statements (not the list head). */
void ava_codegen_stmts_free(struct ava_codegen_stmt_list *l);

#endif /* AVA_CODEGEN_H */
