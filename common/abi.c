/* SPDX-License-Identifier: MIT */
/*
 * ABI descriptions: the rules a description must follow, the canonical text
 * manifest (format, hash, parse) and the payload validators.
 *
 * One set of rules (check_value and friends) serves both ava_abi_api_check,
 * for descriptions built in memory, and the parser, which applies them to each
 * value as soon as it is read so errors point at the offending column. The
 * rules also require fields a kind does not use to be zero, so a description
 * parsed from the manifest is field-for-field equal to the static data avagen
 * emits for the same API.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ava/abi.h"
#include "ava/wire.h"

#define NAME_MAX_BYTES	   255
#define MANIFEST_MAX_BYTES (16u * 1024u * 1024u)

static const char *const kind_names[] = {
	"void", "scalar", "handle", "string", "buffer", "callback", "userdata", "map", "unmap",
};

static const char *kind_name(unsigned kind)
{
	return kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

static void __attribute__((format(printf, 3, 0)))
vput_err(char *errbuf, size_t errbuf_len, const char *fmt, va_list ap)
{
	if (errbuf && errbuf_len)
		vsnprintf(errbuf, errbuf_len, fmt, ap);
}

static void __attribute__((format(printf, 3, 4)))
put_err(char *errbuf, size_t errbuf_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput_err(errbuf, errbuf_len, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Rules                                                                    */

enum role { ROLE_FN_RET, ROLE_FN_ARG, ROLE_CB_RET, ROLE_CB_ARG };

/* What check_value needs to know of the enclosing description. */
struct scope {
	uint16_t n_handle_types;
	uint32_t n_callbacks;
};

static bool is_ident(const char *s)
{
	size_t i;

	if (!s || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (i = 1; s[i]; i++) {
		char c = s[i];

		if (i >= NAME_MAX_BYTES)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

/* Checks one value in its role. Returns true, or false with the reason in why. */
static bool check_value(const struct scope *sc, const struct ava_abi_value *v, enum role role,
			char *why, size_t why_len)
{
	bool is_ret = role == ROLE_FN_RET || role == ROLE_CB_RET;
	uint16_t allowed_flags = 0;
	uint16_t i;

#define FAIL(...)                                   \
	do {                                        \
		put_err(why, why_len, __VA_ARGS__); \
		return false;                       \
	} while (0)

	if (is_ret && v->kind != AVA_ABI_VOID && v->kind != AVA_ABI_SCALAR &&
	    v->kind != AVA_ABI_HANDLE && !(role == ROLE_FN_RET && v->kind == AVA_ABI_MAP))
		FAIL("a result must be void, scalar or handle, not %s", kind_name(v->kind));
	if (!is_ret && v->kind == AVA_ABI_MAP)
		FAIL("map is a function result only");
	if (v->kind == AVA_ABI_UNMAP && role != ROLE_FN_ARG)
		FAIL("unmap is a function argument only");
	if (!is_ret && v->kind == AVA_ABI_VOID)
		FAIL("an argument cannot be void");
	if (role == ROLE_CB_ARG && v->kind == AVA_ABI_CALLBACK)
		FAIL("a callback argument cannot be a callback");

	/* Fields a kind does not use must be zero, and the ones it uses in range. */
	switch (v->kind) {
	case AVA_ABI_VOID:
	case AVA_ABI_USERDATA:
		if (v->dir || v->elem || v->handle_type || v->callback_id || v->size_bytes ||
		    v->max_count || v->n_fields)
			FAIL("%s value with non-zero unused fields", kind_name(v->kind));
		break;
	case AVA_ABI_SCALAR:
		if (v->size_bytes < 1 || v->size_bytes > AVA_ABI_MAX_SCALAR_BYTES)
			FAIL("scalar size %" PRIu32 " out of range (1..%d)", v->size_bytes,
			     AVA_ABI_MAX_SCALAR_BYTES);
		if (v->dir || v->elem || v->handle_type || v->callback_id || v->max_count ||
		    v->n_fields)
			FAIL("scalar value with non-zero unused fields");
		break;
	case AVA_ABI_HANDLE:
		if (v->handle_type < 1 || v->handle_type > sc->n_handle_types)
			FAIL("handle type %u not declared (have %u)", v->handle_type,
			     sc->n_handle_types);
		if (v->dir || v->elem || v->callback_id || v->size_bytes || v->max_count ||
		    v->n_fields)
			FAIL("handle value with non-zero unused fields");
		allowed_flags = is_ret
				    ? AVA_ABI_V_ALLOCATES
				    : AVA_ABI_V_DEALLOCATES | AVA_ABI_V_RETAINS | AVA_ABI_V_PARENT;
		if ((v->flags & AVA_ABI_V_DEALLOCATES) && (v->flags & AVA_ABI_V_RETAINS))
			FAIL("a handle cannot be both released and retained by one call");
		if (role == ROLE_CB_RET || role == ROLE_CB_ARG)
			allowed_flags = 0;
		break;
	case AVA_ABI_STRING:
		if (v->dir != AVA_ABI_DIR_IN)
			FAIL("a string is always an input");
		if (v->max_count < 1)
			FAIL("string max must be at least 1");
		if (v->elem || v->handle_type || v->callback_id || v->size_bytes || v->n_fields)
			FAIL("string value with non-zero unused fields");
		break;
	case AVA_ABI_BUFFER:
		if (v->dir != AVA_ABI_DIR_IN && v->dir != AVA_ABI_DIR_OUT &&
		    v->dir != AVA_ABI_DIR_INOUT)
			FAIL("buffer direction %u invalid", v->dir);
		if (role == ROLE_CB_ARG && v->dir != AVA_ABI_DIR_IN)
			FAIL("a callback's buffer arguments must be inputs");
		if (v->max_count < 1)
			FAIL("buffer max must be at least 1");
		if (v->callback_id)
			FAIL("buffer value with non-zero unused fields");
		switch (v->elem) {
		case AVA_ABI_ELEM_BYTES:
			if (v->size_bytes < 1)
				FAIL("element size must be at least 1");
			if (v->handle_type || v->n_fields)
				FAIL("bytes buffer with non-zero unused fields");
			break;
		case AVA_ABI_ELEM_HANDLE:
			if (v->size_bytes != 8)
				FAIL("handle elements are 8 bytes, not %" PRIu32, v->size_bytes);
			if (v->handle_type < 1 || v->handle_type > sc->n_handle_types)
				FAIL("handle type %u not declared (have %u)", v->handle_type,
				     sc->n_handle_types);
			if (v->n_fields)
				FAIL("handle buffer with non-zero unused fields");
			break;
		case AVA_ABI_ELEM_STRUCT:
			if (v->size_bytes < 1)
				FAIL("element size must be at least 1");
			if (v->handle_type)
				FAIL("struct buffer with non-zero unused fields");
			if (v->n_fields > AVA_ABI_MAX_FIELDS)
				FAIL("%u handle fields, at most %d", v->n_fields,
				     AVA_ABI_MAX_FIELDS);
			if (v->n_fields && !v->fields)
				FAIL("struct fields missing");
			for (i = 0; i < v->n_fields; i++) {
				const struct ava_abi_field *f = &v->fields[i];

				if ((uint64_t)f->offset_bytes + 8 > v->size_bytes)
					FAIL("field %u at offset %" PRIu32
					     " does not fit a struct of %" PRIu32 " bytes",
					     i, f->offset_bytes, v->size_bytes);
				if (i > 0 && f->offset_bytes < v->fields[i - 1].offset_bytes + 8u)
					FAIL("field %u at offset %" PRIu32
					     " overlaps or precedes the field before it",
					     i, f->offset_bytes);
				if (f->handle_type < 1 || f->handle_type > sc->n_handle_types)
					FAIL("field %u: handle type %u not declared (have %u)", i,
					     f->handle_type, sc->n_handle_types);
			}
			break;
		case AVA_ABI_ELEM_STRING:
			if (v->size_bytes != 8)
				FAIL("string elements are 8 bytes, not %" PRIu32, v->size_bytes);
			if (v->dir != AVA_ABI_DIR_IN)
				FAIL("a buffer of strings is always an input");
			if (v->handle_type || v->n_fields)
				FAIL("string buffer with non-zero unused fields");
			break;
		default:
			FAIL("unknown element kind %u", v->elem);
		}
		if (role == ROLE_FN_ARG) {
			allowed_flags = AVA_ABI_V_ERRCODE;
			if (v->elem == AVA_ABI_ELEM_BYTES && v->dir == AVA_ABI_DIR_IN)
				allowed_flags |= AVA_ABI_V_SCAN | AVA_ABI_V_PROPS;
			if (v->elem == AVA_ABI_ELEM_BYTES && v->dir == AVA_ABI_DIR_OUT)
				allowed_flags |= AVA_ABI_V_BLOBS;
			if (v->elem == AVA_ABI_ELEM_HANDLE || v->elem == AVA_ABI_ELEM_STRUCT)
				allowed_flags |= AVA_ABI_V_ALLOCATES | AVA_ABI_V_DEALLOCATES;
			if (v->elem == AVA_ABI_ELEM_BYTES && v->dir != AVA_ABI_DIR_INOUT)
				allowed_flags |= AVA_ABI_V_LATE;
			if (v->elem == AVA_ABI_ELEM_BYTES && v->dir != AVA_ABI_DIR_INOUT &&
			    v->size_bytes == 1)
				allowed_flags |= AVA_ABI_V_RECT;
			if (v->elem == AVA_ABI_ELEM_HANDLE && v->dir == AVA_ABI_DIR_OUT)
				allowed_flags |= AVA_ABI_V_EVENT;
		}
		if ((v->flags & AVA_ABI_V_LATE) &&
		    (v->flags & ~(uint16_t)(AVA_ABI_V_LATE | AVA_ABI_V_RECT)))
			FAIL("late takes no other flag but rect");
		if ((v->flags & AVA_ABI_V_RECT) && v->dir == AVA_ABI_DIR_OUT &&
		    !(v->flags & AVA_ABI_V_LATE))
			FAIL("an output rect must be late");
		if ((v->flags & AVA_ABI_V_ALLOCATES) && !(v->dir & AVA_ABI_DIR_OUT))
			FAIL("alloc needs an output buffer");
		if ((v->flags & AVA_ABI_V_DEALLOCATES) && !(v->dir & AVA_ABI_DIR_IN))
			FAIL("dealloc needs an input buffer");
		if ((v->flags & AVA_ABI_V_ERRCODE) &&
		    (!(v->dir & AVA_ABI_DIR_OUT) || v->elem != AVA_ABI_ELEM_BYTES ||
		     v->max_count != 1))
			FAIL("errcode needs an output bytes buffer of max 1");
		break;
	case AVA_ABI_MAP:
	case AVA_ABI_UNMAP:
		if (v->max_count < 1)
			FAIL("%s max must be at least 1", kind_name(v->kind));
		if (v->size_bytes != 1)
			FAIL("%s counts bytes (size 1), not %" PRIu32, kind_name(v->kind),
			     v->size_bytes);
		if (v->dir || v->elem || v->handle_type || v->callback_id || v->n_fields)
			FAIL("%s value with non-zero unused fields", kind_name(v->kind));
		if (v->kind == AVA_ABI_MAP)
			allowed_flags = AVA_ABI_V_RECT; /* laid out as the rect shape says */
		break;
	case AVA_ABI_CALLBACK:
		if (v->callback_id >= sc->n_callbacks)
			FAIL("callback %u not declared (have %" PRIu32 ")", v->callback_id,
			     sc->n_callbacks);
		if (v->dir || v->elem || v->handle_type || v->size_bytes || v->max_count ||
		    v->n_fields)
			FAIL("callback value with non-zero unused fields");
		break;
	default:
		FAIL("unknown value kind %u", v->kind);
	}
	if (v->flags & ~allowed_flags)
		FAIL("flags 0x%x not allowed on this %s %s", v->flags & ~allowed_flags,
		     kind_name(v->kind), is_ret ? "result" : "argument");
	return true;
#undef FAIL
}

/* Rules on a function or callback as a whole, after each value passed check_value. */
static bool check_fn_extra(const struct ava_abi_fn *fn, char *why, size_t why_len)
{
	const uint32_t known = AVA_ABI_FN_UNSUPPORTED | AVA_ABI_FN_MAY_ASYNC |
			       AVA_ABI_FN_DEVICE_TIME | AVA_ABI_FN_DEVICE_TIME_UNTIL;
	unsigned n_errcode = 0, n_alloc = 0, n_late = 0, n_event = 0, n_unmap = 0;
	bool alloc_ok = false;
	uint16_t i;

#define FAIL(...)                                   \
	do {                                        \
		put_err(why, why_len, __VA_ARGS__); \
		return false;                       \
	} while (0)

	if (fn->flags & ~known)
		FAIL("unknown function flags 0x%" PRIx32, fn->flags & ~known);
	for (i = 0; i < fn->n_args; i++) {
		n_errcode += !!(fn->args[i].flags & AVA_ABI_V_ERRCODE);
		n_late += !!(fn->args[i].flags & AVA_ABI_V_LATE);
		n_event += !!(fn->args[i].flags & AVA_ABI_V_EVENT);
	}
	if (n_errcode > 1)
		FAIL("more than one errcode argument");
	if (n_event > 1)
		FAIL("more than one event argument");
	for (i = 0; i < fn->n_args; i++) {
		bool makes = (fn->ret.flags & AVA_ABI_V_ALLOCATES) != 0;
		if (!(fn->args[i].flags & AVA_ABI_V_PARENT))
			continue;
		for (uint16_t k = 0; k < fn->n_args; k++)
			makes = makes || (fn->args[k].flags & AVA_ABI_V_ALLOCATES);
		if (!makes)
			FAIL("argument %u is a :parent, but the function creates no object", i);
	}
	if (n_late && (!n_event || (fn->flags & AVA_ABI_FN_MAY_ASYNC)))
		FAIL("late buffers need an event argument and a synchronous call");
	if (fn->ret.kind == AVA_ABI_MAP && (!n_event || (fn->flags & AVA_ABI_FN_MAY_ASYNC)))
		FAIL("a map result needs an event argument and a synchronous call");
	for (i = 0; i < fn->n_args; i++) {
		if (fn->args[i].kind == AVA_ABI_UNMAP && (fn->flags & AVA_ABI_FN_MAY_ASYNC))
			FAIL("an unmap argument needs a synchronous call");
		if (fn->args[i].kind == AVA_ABI_UNMAP && ++n_unmap > 1)
			FAIL("more than one unmap argument");
	}

	/* device_memory */
	if ((fn->flags & AVA_ABI_FN_UNSUPPORTED) &&
	    (fn->mem_from != AVA_ABI_AMOUNT_NONE ||
	     (fn->flags & (AVA_ABI_FN_DEVICE_TIME | AVA_ABI_FN_DEVICE_TIME_UNTIL))))
		FAIL("an unsupported function uses no resources");
	switch (fn->mem_from) {
	case AVA_ABI_AMOUNT_NONE:
		if (fn->mem_arg || fn->mem_bytes)
			FAIL("no device_memory amount, but non-zero amount fields");
		break;
	case AVA_ABI_AMOUNT_ARG:
		if (fn->mem_arg >= fn->n_args)
			FAIL("device_memory argument %u out of range (have %u)", fn->mem_arg,
			     fn->n_args);
		if (fn->args[fn->mem_arg].kind != AVA_ABI_SCALAR ||
		    fn->args[fn->mem_arg].size_bytes > 8)
			FAIL("device_memory argument %u is not a scalar of at most 8 bytes",
			     fn->mem_arg);
		if (fn->mem_bytes)
			FAIL("device_memory from an argument, but non-zero constant");
		break;
	case AVA_ABI_AMOUNT_CONST:
		if (fn->mem_arg)
			FAIL("device_memory constant, but non-zero argument index");
		break;
	default:
		FAIL("unknown device_memory amount kind %u", fn->mem_from);
	}
	if (fn->mem_from != AVA_ABI_AMOUNT_NONE) {
		if (fn->ret.flags & AVA_ABI_V_ALLOCATES) {
			n_alloc++;
			alloc_ok = true;
		}
		for (i = 0; i < fn->n_args; i++) {
			const struct ava_abi_value *v = &fn->args[i];

			if (!(v->flags & AVA_ABI_V_ALLOCATES))
				continue;
			n_alloc++;
			alloc_ok = v->elem == AVA_ABI_ELEM_HANDLE && v->max_count == 1;
		}
		/* none: an allocation the router cannot account (refused under a quota) */
		if (n_alloc > 1 || (n_alloc == 1 && !alloc_ok))
			FAIL("device_memory needs at most one :alloc value, a handle result or an "
			     "out buffer of max 1 handle");
	}

	/* device_time */
	if (!(fn->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL)) {
		if (fn->until_fn || fn->until_arg)
			FAIL("no device_time completion, but non-zero completion fields");
	} else {
		if (!(fn->flags & AVA_ABI_FN_DEVICE_TIME))
			FAIL("a device_time completion without device_time");
		if (fn->until_arg >= fn->n_args)
			FAIL("device_time completion argument %u out of range (have %u)",
			     fn->until_arg, fn->n_args);
		if (fn->args[fn->until_arg].kind != AVA_ABI_HANDLE ||
		    (fn->args[fn->until_arg].flags & AVA_ABI_V_DEALLOCATES))
			FAIL("device_time completion argument %u is not a handle the call keeps",
			     fn->until_arg);
	}
	return true;
#undef FAIL
}

/* The completion function of a device_time call, against the whole api. */
static bool check_fn_until(const struct ava_abi_api *api, const struct ava_abi_fn *fn, char *why,
			   size_t why_len)
{
	const struct ava_abi_fn *u;

	if (!(fn->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL))
		return true;
	if (fn->until_fn >= api->n_fns || fn->until_fn == fn->id) {
		put_err(why, why_len, "device_time completion fn %" PRIu32 " is not another fn",
			fn->until_fn);
		return false;
	}
	u = &api->fns[fn->until_fn];
	if ((u->flags & AVA_ABI_FN_UNSUPPORTED) || u->n_args != 1 ||
	    u->args[0].kind != AVA_ABI_HANDLE ||
	    u->args[0].handle_type != fn->args[fn->until_arg].handle_type ||
	    (u->args[0].flags & AVA_ABI_V_DEALLOCATES)) {
		put_err(why, why_len,
			"device_time completion fn %" PRIu32
			" (%s) must be supported and take only a handle of type %u",
			fn->until_fn, u->name, fn->args[fn->until_arg].handle_type);
		return false;
	}
	return true;
}

static bool check_cb_extra(const struct ava_abi_callback *cb, char *why, size_t why_len)
{
	if (cb->userdata_arg >= cb->n_args || cb->args[cb->userdata_arg].kind != AVA_ABI_USERDATA) {
		put_err(why, why_len, "userdata=%u does not name a userdata argument",
			cb->userdata_arg);
		return false;
	}
	return true;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Finds a duplicate among n names (all valid identifiers). Returns it or NULL. */
static const char *find_duplicate(const char **names, size_t n)
{
	size_t i;

	if (n < 2)
		return NULL;
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 1; i < n; i++) {
		if (strcmp(names[i - 1], names[i]) == 0)
			return names[i];
	}
	return NULL;
}

static int check_api(const struct ava_abi_api *api, char *errbuf, size_t errbuf_len)
{
	struct scope sc = { api->n_handle_types, api->n_callbacks };
	const char **names = NULL, *dup;
	char why[192];
	size_t n_names;
	uint32_t i;
	uint16_t j;
	int r = -EINVAL;

	if (!is_ident(api->name)) {
		put_err(errbuf, errbuf_len, "api name is not an identifier");
		return -EINVAL;
	}
	if (api->n_handle_types > AVA_ABI_MAX_HANDLE_TYPES ||
	    (api->n_handle_types && !api->handle_type_names) || (api->n_fns && !api->fns) ||
	    (api->n_callbacks && !api->callbacks) || api->n_callbacks > UINT16_MAX + 1u) {
		put_err(errbuf, errbuf_len, "api counts or arrays invalid");
		return -EINVAL;
	}
	n_names = (size_t)api->n_handle_types;
	if ((size_t)api->n_fns > n_names)
		n_names = api->n_fns;
	if ((size_t)api->n_callbacks > n_names)
		n_names = api->n_callbacks;
	names = malloc((n_names ? n_names : 1) * sizeof(*names));
	if (!names) {
		put_err(errbuf, errbuf_len, "out of memory");
		return -ENOMEM;
	}

	for (i = 1; i <= api->n_handle_types; i++) {
		if (!is_ident(api->handle_type_names[i])) {
			put_err(errbuf, errbuf_len, "handle %" PRIu32 ": name is not an identifier",
				i);
			goto out;
		}
		names[i - 1] = api->handle_type_names[i];
	}
	dup = find_duplicate(names, api->n_handle_types);
	if (dup) {
		put_err(errbuf, errbuf_len, "handle type '%s' declared twice", dup);
		goto out;
	}

	for (i = 0; i < api->n_callbacks; i++) {
		const struct ava_abi_callback *cb = &api->callbacks[i];

		if (cb->id != i || !is_ident(cb->name)) {
			put_err(errbuf, errbuf_len, "callback %" PRIu32 ": bad id or name", i);
			goto out;
		}
		if (cb->n_args > AVA_ABI_MAX_ARGS || (cb->n_args && !cb->args)) {
			put_err(errbuf, errbuf_len, "callback %" PRIu32 " (%s): bad argument list",
				i, cb->name);
			goto out;
		}
		if (!check_value(&sc, &cb->ret, ROLE_CB_RET, why, sizeof(why))) {
			put_err(errbuf, errbuf_len, "callback %" PRIu32 " (%s): result: %s", i,
				cb->name, why);
			goto out;
		}
		for (j = 0; j < cb->n_args; j++) {
			if (!check_value(&sc, &cb->args[j], ROLE_CB_ARG, why, sizeof(why))) {
				put_err(errbuf, errbuf_len,
					"callback %" PRIu32 " (%s): argument %u: %s", i, cb->name,
					j, why);
				goto out;
			}
		}
		if (!check_cb_extra(cb, why, sizeof(why))) {
			put_err(errbuf, errbuf_len, "callback %" PRIu32 " (%s): %s", i, cb->name,
				why);
			goto out;
		}
		names[i] = cb->name;
	}
	dup = find_duplicate(names, api->n_callbacks);
	if (dup) {
		put_err(errbuf, errbuf_len, "callback '%s' declared twice", dup);
		goto out;
	}

	for (i = 0; i < api->n_fns; i++) {
		const struct ava_abi_fn *fn = &api->fns[i];

		if (fn->id != i || !is_ident(fn->name)) {
			put_err(errbuf, errbuf_len, "fn %" PRIu32 ": bad id or name", i);
			goto out;
		}
		if (fn->n_args > AVA_ABI_MAX_ARGS || (fn->n_args && !fn->args)) {
			put_err(errbuf, errbuf_len, "fn %" PRIu32 " (%s): bad argument list", i,
				fn->name);
			goto out;
		}
		if (!check_value(&sc, &fn->ret, ROLE_FN_RET, why, sizeof(why))) {
			put_err(errbuf, errbuf_len, "fn %" PRIu32 " (%s): result: %s", i, fn->name,
				why);
			goto out;
		}
		for (j = 0; j < fn->n_args; j++) {
			if (!check_value(&sc, &fn->args[j], ROLE_FN_ARG, why, sizeof(why))) {
				put_err(errbuf, errbuf_len, "fn %" PRIu32 " (%s): argument %u: %s",
					i, fn->name, j, why);
				goto out;
			}
		}
		if (!check_fn_extra(fn, why, sizeof(why))) {
			put_err(errbuf, errbuf_len, "fn %" PRIu32 " (%s): %s", i, fn->name, why);
			goto out;
		}
		names[i] = fn->name;
	}
	for (i = 0; i < api->n_fns; i++) {
		if (!check_fn_until(api, &api->fns[i], why, sizeof(why))) {
			put_err(errbuf, errbuf_len, "fn %" PRIu32 " (%s): %s", i, api->fns[i].name,
				why);
			goto out;
		}
	}
	dup = find_duplicate(names, api->n_fns);
	if (dup) {
		put_err(errbuf, errbuf_len, "fn '%s' declared twice", dup);
		goto out;
	}
	r = 0;
out:
	free(names);
	return r;
}

int ava_abi_api_check(const struct ava_abi_api *api, char *errbuf, size_t errbuf_len)
{
	uint64_t h;
	int r;

	if (!api) {
		put_err(errbuf, errbuf_len, "no description");
		return -EINVAL;
	}
	r = check_api(api, errbuf, errbuf_len);
	if (r < 0)
		return r;
	/* A zero hash means "not computed"; any other must match the text. */
	h = ava_abi_hash(api);
	if (api->hash != 0 && api->hash != h) {
		put_err(errbuf, errbuf_len,
			"hash 0x%016" PRIx64 " does not match the description (0x%016" PRIx64 ")",
			api->hash, h);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Canonical text                                                           */

/* Where canonical text goes: a FILE, or an FNV-1a 64 accumulator. */
struct sink {
	FILE *f;
	uint64_t hash;
	int err;
};

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME  UINT64_C(0x100000001b3)

static void emit(struct sink *s, const char *p, size_t n)
{
	size_t i;

	if (s->f) {
		if (n && fwrite(p, 1, n, s->f) != n)
			s->err = -EIO;
		return;
	}
	for (i = 0; i < n; i++) {
		s->hash ^= (uint8_t)p[i];
		s->hash *= FNV_PRIME;
	}
}

static void emit_str(struct sink *s, const char *p)
{
	emit(s, p, strlen(p));
}

static void emit_u64(struct sink *s, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	emit(s, tmp, (size_t)n);
}

static const char *dir_name(uint8_t dir)
{
	return dir == AVA_ABI_DIR_IN ? "in" : dir == AVA_ABI_DIR_OUT ? "out" : "inout";
}

static void emit_value(struct sink *s, const struct ava_abi_value *v)
{
	uint16_t i;

	emit_str(s, kind_name(v->kind));
	switch (v->kind) {
	case AVA_ABI_SCALAR:
		emit_str(s, ":");
		emit_u64(s, v->size_bytes);
		break;
	case AVA_ABI_HANDLE:
		emit_str(s, ":");
		emit_u64(s, v->handle_type);
		break;
	case AVA_ABI_STRING:
		emit_str(s, ":max=");
		emit_u64(s, v->max_count);
		break;
	case AVA_ABI_BUFFER:
		emit_str(s, ":");
		emit_str(s, dir_name(v->dir));
		if (v->elem == AVA_ABI_ELEM_BYTES) {
			emit_str(s, ":bytes:");
			emit_u64(s, v->size_bytes);
		} else if (v->elem == AVA_ABI_ELEM_HANDLE) {
			emit_str(s, ":handle:");
			emit_u64(s, v->handle_type);
		} else if (v->elem == AVA_ABI_ELEM_STRING) {
			emit_str(s, ":string");
		} else {
			emit_str(s, ":struct:");
			emit_u64(s, v->size_bytes);
			emit_str(s, ":fields=");
			for (i = 0; i < v->n_fields; i++) {
				if (i)
					emit_str(s, "+");
				emit_u64(s, v->fields[i].offset_bytes);
				emit_str(s, "@");
				emit_u64(s, v->fields[i].handle_type);
			}
		}
		emit_str(s, ":max=");
		emit_u64(s, v->max_count);
		break;
	case AVA_ABI_CALLBACK:
		emit_str(s, ":");
		emit_u64(s, v->callback_id);
		break;
	case AVA_ABI_MAP:
	case AVA_ABI_UNMAP:
		emit_str(s, ":max=");
		emit_u64(s, v->max_count);
		break;
	default:
		break;
	}
	if (v->flags & AVA_ABI_V_ALLOCATES)
		emit_str(s, ":alloc");
	if (v->flags & AVA_ABI_V_DEALLOCATES)
		emit_str(s, ":dealloc");
	if (v->flags & AVA_ABI_V_ERRCODE)
		emit_str(s, ":errcode");
	if (v->flags & AVA_ABI_V_RETAINS)
		emit_str(s, ":retain");
	if (v->flags & AVA_ABI_V_SCAN)
		emit_str(s, ":scan");
	if (v->flags & AVA_ABI_V_PROPS)
		emit_str(s, ":props");
	if (v->flags & AVA_ABI_V_LATE)
		emit_str(s, ":late");
	if (v->flags & AVA_ABI_V_RECT)
		emit_str(s, ":rect");
	if (v->flags & AVA_ABI_V_EVENT)
		emit_str(s, ":event");
	if (v->flags & AVA_ABI_V_BLOBS)
		emit_str(s, ":blobs");
	if (v->flags & AVA_ABI_V_PARENT)
		emit_str(s, ":parent");
}

static void emit_sig(struct sink *s, const struct ava_abi_value *ret, uint16_t n_args,
		     const struct ava_abi_value *args)
{
	uint16_t i;

	emit_str(s, " ret=");
	emit_value(s, ret);
	emit_str(s, " args=");
	for (i = 0; i < n_args; i++) {
		if (i)
			emit_str(s, ",");
		emit_value(s, &args[i]);
	}
}

/* The canonical text without banner. The description must have passed check_api. */
static void emit_api(struct sink *s, const struct ava_abi_api *api)
{
	uint32_t i;

	emit_str(s, "ava-abi ");
	emit_u64(s, AVA_ABI_FORMAT_VERSION);
	emit_str(s, "\napi ");
	emit_str(s, api->name);
	emit_str(s, "\n");
	for (i = 1; i <= api->n_handle_types; i++) {
		emit_str(s, "handle ");
		emit_u64(s, i);
		emit_str(s, " ");
		emit_str(s, api->handle_type_names[i]);
		emit_str(s, "\n");
	}
	for (i = 0; i < api->n_callbacks; i++) {
		const struct ava_abi_callback *cb = &api->callbacks[i];

		emit_str(s, "callback ");
		emit_u64(s, i);
		emit_str(s, " ");
		emit_str(s, cb->name);
		emit_sig(s, &cb->ret, cb->n_args, cb->args);
		emit_str(s, " userdata=");
		emit_u64(s, cb->userdata_arg);
		emit_str(s, "\n");
	}
	for (i = 0; i < api->n_fns; i++) {
		const struct ava_abi_fn *fn = &api->fns[i];

		emit_str(s, "fn ");
		emit_u64(s, i);
		emit_str(s, " ");
		emit_str(s, fn->name);
		emit_sig(s, &fn->ret, fn->n_args, fn->args);
		if (fn->flags & AVA_ABI_FN_MAY_ASYNC)
			emit_str(s, " async");
		if (fn->flags & AVA_ABI_FN_UNSUPPORTED)
			emit_str(s, " unsupported");
		if (fn->mem_from == AVA_ABI_AMOUNT_ARG) {
			emit_str(s, " device_memory=arg:");
			emit_u64(s, fn->mem_arg);
		} else if (fn->mem_from == AVA_ABI_AMOUNT_CONST) {
			emit_str(s, " device_memory=const:");
			emit_u64(s, fn->mem_bytes);
		}
		if (fn->flags & AVA_ABI_FN_DEVICE_TIME_UNTIL) {
			emit_str(s, " device_time=until:");
			emit_u64(s, fn->until_fn);
			emit_str(s, ":");
			emit_u64(s, fn->until_arg);
		} else if (fn->flags & AVA_ABI_FN_DEVICE_TIME) {
			emit_str(s, " device_time");
		}
		emit_str(s, "\n");
	}
}

int ava_abi_format(const struct ava_abi_api *api, const char *spec_path, FILE *out)
{
	struct sink s = { .f = out };

	if (!api || !out || check_api(api, NULL, 0) < 0)
		return -EINVAL;
	if (spec_path) {
		if (strchr(spec_path, '\n'))
			return -EINVAL;
		emit_str(&s, "# Generated by avagen from ");
		emit_str(&s, spec_path);
		emit_str(&s, "; do not edit.\n");
	}
	emit_api(&s, api);
	if (!s.err && fflush(out) != 0)
		s.err = -EIO;
	return s.err;
}

uint64_t ava_abi_hash(const struct ava_abi_api *api)
{
	struct sink s = { .f = NULL, .hash = FNV_OFFSET };

	if (!api || check_api(api, NULL, 0) < 0)
		return 0;
	emit_api(&s, api);
	return s.hash;
}

/* ------------------------------------------------------------------------ */
/* Parser                                                                   */

/* A parsed description and everything it owns, freed as one. */
struct holder {
	struct ava_abi_api api; /* first: ava_abi_api_free casts back */
	void **blocks;		/* every other allocation */
	size_t n_blocks, cap_blocks;
	struct ava_abi_fn *fns;
	size_t cap_fns;
	struct ava_abi_callback *cbs;
	size_t cap_cbs;
	const char **handle_names; /* [0] NULL */
};

/* Open-addressing set of names, to report a duplicate at its own line. */
struct name_set {
	const char **slots;
	size_t cap, n;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	while (*s) {
		h ^= (uint8_t)*s++;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* Adds name. Returns 1 if added, 0 if already present, -ENOMEM. */
static int name_set_add(struct name_set *set, const char *name)
{
	size_t i;

	if ((set->n + 1) * 2 > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64, j;
		const char **slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		for (j = 0; j < set->cap; j++) {
			if (!set->slots[j])
				continue;
			i = (size_t)fnv1a(set->slots[j]) & (cap - 1);
			while (slots[i])
				i = (i + 1) & (cap - 1);
			slots[i] = set->slots[j];
		}
		free(set->slots);
		set->slots = slots;
		set->cap = cap;
	}
	i = (size_t)fnv1a(name) & (set->cap - 1);
	while (set->slots[i]) {
		if (strcmp(set->slots[i], name) == 0)
			return 0;
		i = (i + 1) & (set->cap - 1);
	}
	set->slots[i] = name;
	set->n++;
	return 1;
}

/* Where a fn line named its device_time completion. */
struct until_ref {
	uint32_t fn_id;
	unsigned line, col;
};

struct parser {
	struct name_set names[3]; /* handle types, callbacks, fns */
	struct until_ref *untils;
	size_t n_untils, cap_untils;
	const char *file;
	const char *pos, *end; /* unread text */
	const char *line_start, *line_end, *p;
	unsigned line;
	char *errbuf;
	size_t errbuf_len;
	struct holder *h;
	struct scope sc;
	int stage; /* 0: want ava-abi, 1: want api, 2: handles, 3: callbacks, 4: fns */
};

static void __attribute__((format(printf, 3, 4)))
perr(struct parser *ps, const char *at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	put_err(ps->errbuf, ps->errbuf_len, "%s:%u:%zu: %s", ps->file, ps->line,
		(size_t)(at - ps->line_start) + 1, msg);
}

static bool is_delim(char c)
{
	return c == ' ' || c == ':' || c == ',' || c == '=' || c == '+' || c == '@';
}

/* The token at `at` for messages: up to a delimiter, at most 32 bytes, printable. */
static const char *token_at(const struct parser *ps, const char *at, char *buf, size_t buf_len)
{
	size_t n = 0;

	while (at < ps->line_end && n + 1 < buf_len && n < 32 && !is_delim(*at)) {
		buf[n++] = (*at >= 0x20 && *at < 0x7f) ? *at : '?';
		at++;
	}
	buf[n] = '\0';
	return buf;
}

static void *halloc(struct holder *h, size_t n)
{
	void *p;

	if (h->n_blocks == h->cap_blocks) {
		size_t cap = h->cap_blocks ? h->cap_blocks * 2 : 32;
		void **b = realloc(h->blocks, cap * sizeof(*b));

		if (!b)
			return NULL;
		h->blocks = b;
		h->cap_blocks = cap;
	}
	p = calloc(1, n ? n : 1);
	if (p)
		h->blocks[h->n_blocks++] = p;
	return p;
}

static int oom(struct parser *ps)
{
	put_err(ps->errbuf, ps->errbuf_len, "%s: out of memory", ps->file);
	return -ENOMEM;
}

/* Consumes literal s or fails with "expected 's'". */
static int expect(struct parser *ps, const char *s)
{
	size_t n = strlen(s);

	if (n > (size_t)(ps->line_end - ps->p) || memcmp(ps->p, s, n) != 0) {
		char tok[40];

		if (ps->p == ps->line_end) {
			perr(ps, ps->p, "expected '%s' before end of line", s);
		} else if (is_delim(*ps->p)) {
			perr(ps, ps->p, "expected '%s', found '%c'", s, *ps->p);
		} else {
			perr(ps, ps->p, "expected '%s', found '%s'", s,
			     token_at(ps, ps->p, tok, sizeof(tok)));
		}
		return -EINVAL;
	}
	ps->p += n;
	return 0;
}

static bool accept(struct parser *ps, const char *s)
{
	size_t n = strlen(s);

	if (n > (size_t)(ps->line_end - ps->p) || memcmp(ps->p, s, n) != 0)
		return false;
	ps->p += n;
	return true;
}

/* Reads a canonical decimal number in [min, max]; what names it in messages. */
static int parse_uint(struct parser *ps, const char *what, uint64_t min, uint64_t max,
		      uint64_t *ret)
{
	const char *start = ps->p;
	uint64_t v = 0;

	if (ps->p == ps->line_end || *ps->p < '0' || *ps->p > '9') {
		perr(ps, start, "expected %s (a number)", what);
		return -EINVAL;
	}
	if (*ps->p == '0' && ps->p + 1 < ps->line_end && ps->p[1] >= '0' && ps->p[1] <= '9') {
		perr(ps, start, "%s has a leading zero", what);
		return -EINVAL;
	}
	while (ps->p < ps->line_end && *ps->p >= '0' && *ps->p <= '9') {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*ps->p - '0'), &v)) {
			perr(ps, start, "%s too large", what);
			return -EINVAL;
		}
		ps->p++;
	}
	if (v < min || v > max) {
		perr(ps, start, "%s %" PRIu64 " out of range (%" PRIu64 "..%" PRIu64 ")", what, v,
		     min, max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* Reads an identifier into the holder. */
static int parse_ident(struct parser *ps, const char *what, const char **ret)
{
	const char *start = ps->p;
	size_t n;
	char *s;

	while (ps->p < ps->line_end &&
	       ((*ps->p >= 'A' && *ps->p <= 'Z') || (*ps->p >= 'a' && *ps->p <= 'z') ||
		*ps->p == '_' || (ps->p > start && *ps->p >= '0' && *ps->p <= '9')))
		ps->p++;
	n = (size_t)(ps->p - start);
	if (n == 0) {
		perr(ps, start, "expected %s (an identifier)", what);
		return -EINVAL;
	}
	if (n > NAME_MAX_BYTES) {
		perr(ps, start, "%s longer than %d bytes", what, NAME_MAX_BYTES);
		return -EINVAL;
	}
	s = halloc(ps->h, n + 1);
	if (!s)
		return oom(ps);
	memcpy(s, start, n);
	*ret = s;
	return 0;
}

/* Reads a lower-case word ([a-z]+) and returns its length; *ret points at it. */
static size_t parse_word(struct parser *ps, const char **ret)
{
	const char *start = ps->p;

	while (ps->p < ps->line_end && *ps->p >= 'a' && *ps->p <= 'z')
		ps->p++;
	*ret = start;
	return (size_t)(ps->p - start);
}

static bool word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(w, s, n) == 0;
}

static int end_of_line(struct parser *ps)
{
	char tok[40];

	if (ps->p != ps->line_end) {
		perr(ps, ps->p, "unexpected '%s' at end of line",
		     *ps->p == ' ' ? " " : token_at(ps, ps->p, tok, sizeof(tok)));
		return -EINVAL;
	}
	return 0;
}

static int parse_tag(struct parser *ps, uint16_t *ret)
{
	const char *start = ps->p;
	uint64_t v;
	int r = parse_uint(ps, "handle type", 1, AVA_ABI_MAX_HANDLE_TYPES, &v);

	if (r < 0)
		return r;
	if (v > ps->sc.n_handle_types) {
		perr(ps, start, "handle type %" PRIu64 " not declared (have %u)", v,
		     ps->sc.n_handle_types);
		return -EINVAL;
	}
	*ret = (uint16_t)v;
	return 0;
}

/* Parses the ":alloc", ":dealloc", ":errcode", ":retain" suffixes, in that order, each at most once. */
static int parse_flags(struct parser *ps, uint16_t *ret)
{
	static const struct {
		const char *name;
		uint16_t bit;
	} order[] = {
		{ "alloc", AVA_ABI_V_ALLOCATES }, { "dealloc", AVA_ABI_V_DEALLOCATES },
		{ "errcode", AVA_ABI_V_ERRCODE }, { "retain", AVA_ABI_V_RETAINS },
		{ "scan", AVA_ABI_V_SCAN },	  { "props", AVA_ABI_V_PROPS },
		{ "late", AVA_ABI_V_LATE },	  { "rect", AVA_ABI_V_RECT },
		{ "event", AVA_ABI_V_EVENT },	  { "blobs", AVA_ABI_V_BLOBS },
		{ "parent", AVA_ABI_V_PARENT },
	};
	size_t next = 0, i;

	while (ps->p < ps->line_end && *ps->p == ':') {
		const char *w;
		size_t n;
		char tok[40];

		ps->p++;
		n = parse_word(ps, &w);
		for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			if (word_is(w, n, order[i].name))
				break;
		}
		if (i == sizeof(order) / sizeof(order[0])) {
			perr(ps, w, "unknown flag '%s'", token_at(ps, w, tok, sizeof(tok)));
			return -EINVAL;
		}
		if (i < next) {
			perr(ps, w, "flag '%s' repeated or out of order", order[i].name);
			return -EINVAL;
		}
		*ret |= order[i].bit;
		next = i + 1;
	}
	return 0;
}

static int parse_elem(struct parser *ps, struct ava_abi_value *v)
{
	struct ava_abi_field fields[AVA_ABI_MAX_FIELDS];
	const char *w;
	size_t n = parse_word(ps, &w);
	uint64_t x;
	char tok[40];
	int r;

	if (word_is(w, n, "bytes")) {
		v->elem = AVA_ABI_ELEM_BYTES;
		if ((r = expect(ps, ":")) < 0 ||
		    (r = parse_uint(ps, "element size", 1, UINT32_MAX, &x)) < 0)
			return r;
		v->size_bytes = (uint32_t)x;
		return 0;
	}
	if (word_is(w, n, "handle")) {
		v->elem = AVA_ABI_ELEM_HANDLE;
		v->size_bytes = 8;
		if ((r = expect(ps, ":")) < 0 || (r = parse_tag(ps, &v->handle_type)) < 0)
			return r;
		return 0;
	}
	if (word_is(w, n, "string")) {
		v->elem = AVA_ABI_ELEM_STRING;
		v->size_bytes = 8;
		return 0;
	}
	if (!word_is(w, n, "struct")) {
		perr(ps, w, "unknown element kind '%s'", token_at(ps, w, tok, sizeof(tok)));
		return -EINVAL;
	}
	v->elem = AVA_ABI_ELEM_STRUCT;
	if ((r = expect(ps, ":")) < 0 ||
	    (r = parse_uint(ps, "struct size", 1, UINT32_MAX, &x)) < 0 ||
	    (r = expect(ps, ":fields=")) < 0)
		return r;
	v->size_bytes = (uint32_t)x;
	if (ps->p < ps->line_end && *ps->p != ':') {
		for (;;) {
			const char *at = ps->p;

			if (v->n_fields == AVA_ABI_MAX_FIELDS) {
				perr(ps, at, "more than %d handle fields", AVA_ABI_MAX_FIELDS);
				return -EINVAL;
			}
			if ((r = parse_uint(ps, "field offset", 0, UINT32_MAX, &x)) < 0 ||
			    (r = expect(ps, "@")) < 0 ||
			    (r = parse_tag(ps, &fields[v->n_fields].handle_type)) < 0)
				return r;
			fields[v->n_fields].offset_bytes = (uint32_t)x;
			v->n_fields++;
			if (!accept(ps, "+"))
				break;
		}
	}
	if (v->n_fields) {
		struct ava_abi_field *f = halloc(ps->h, v->n_fields * sizeof(*f));

		if (!f)
			return oom(ps);
		memcpy(f, fields, v->n_fields * sizeof(*f));
		v->fields = f;
	}
	return 0;
}

/* Parses one value and checks it in its role; errors point at its first column. */
static int parse_value(struct parser *ps, enum role role, struct ava_abi_value *v)
{
	const char *start = ps->p, *w;
	size_t n = parse_word(ps, &w);
	uint64_t x;
	char tok[40], why[192];
	int r = 0;

	memset(v, 0, sizeof(*v));
	if (word_is(w, n, "void")) {
		v->kind = AVA_ABI_VOID;
	} else if (word_is(w, n, "scalar")) {
		v->kind = AVA_ABI_SCALAR;
		if ((r = expect(ps, ":")) < 0 ||
		    (r = parse_uint(ps, "scalar size", 1, AVA_ABI_MAX_SCALAR_BYTES, &x)) < 0)
			return r;
		v->size_bytes = (uint32_t)x;
	} else if (word_is(w, n, "handle")) {
		v->kind = AVA_ABI_HANDLE;
		if ((r = expect(ps, ":")) < 0 || (r = parse_tag(ps, &v->handle_type)) < 0)
			return r;
	} else if (word_is(w, n, "string")) {
		v->kind = AVA_ABI_STRING;
		v->dir = AVA_ABI_DIR_IN;
		if ((r = expect(ps, ":max=")) < 0 ||
		    (r = parse_uint(ps, "string max", 1, UINT64_MAX, &v->max_count)) < 0)
			return r;
	} else if (word_is(w, n, "buffer")) {
		const char *d;
		size_t dn;

		v->kind = AVA_ABI_BUFFER;
		if ((r = expect(ps, ":")) < 0)
			return r;
		dn = parse_word(ps, &d);
		if (word_is(d, dn, "in")) {
			v->dir = AVA_ABI_DIR_IN;
		} else if (word_is(d, dn, "out")) {
			v->dir = AVA_ABI_DIR_OUT;
		} else if (word_is(d, dn, "inout")) {
			v->dir = AVA_ABI_DIR_INOUT;
		} else {
			perr(ps, d, "unknown direction '%s'", token_at(ps, d, tok, sizeof(tok)));
			return -EINVAL;
		}
		if ((r = expect(ps, ":")) < 0 || (r = parse_elem(ps, v)) < 0 ||
		    (r = expect(ps, ":max=")) < 0 ||
		    (r = parse_uint(ps, "buffer max", 1, UINT64_MAX, &v->max_count)) < 0)
			return r;
	} else if (word_is(w, n, "callback")) {
		v->kind = AVA_ABI_CALLBACK;
		if ((r = expect(ps, ":")) < 0)
			return r;
		start = ps->p;
		if ((r = parse_uint(ps, "callback id", 0, UINT16_MAX, &x)) < 0)
			return r;
		v->callback_id = (uint16_t)x;
	} else if (word_is(w, n, "userdata")) {
		v->kind = AVA_ABI_USERDATA;
	} else if (word_is(w, n, "map") || word_is(w, n, "unmap")) {
		v->kind = word_is(w, n, "map") ? AVA_ABI_MAP : AVA_ABI_UNMAP;
		v->size_bytes = 1;
		if ((r = expect(ps, ":max=")) < 0 ||
		    (r = parse_uint(ps, "map max", 1, UINT64_MAX, &v->max_count)) < 0)
			return r;
	} else {
		perr(ps, w, "unknown value kind '%s'", token_at(ps, w, tok, sizeof(tok)));
		return -EINVAL;
	}
	if ((r = parse_flags(ps, &v->flags)) < 0)
		return r;
	if (!check_value(&ps->sc, v, role, why, sizeof(why))) {
		perr(ps, start, "%s", why);
		return -EINVAL;
	}
	return 0;
}

/* Parses " ret=V args=V,V,..." into ret and a new args array. */
static int parse_sig(struct parser *ps, bool is_cb, struct ava_abi_value *ret, uint16_t *ret_n,
		     const struct ava_abi_value **ret_args)
{
	struct ava_abi_value args[AVA_ABI_MAX_ARGS];
	uint16_t n = 0;
	int r;

	if ((r = expect(ps, " ret=")) < 0 ||
	    (r = parse_value(ps, is_cb ? ROLE_CB_RET : ROLE_FN_RET, ret)) < 0 ||
	    (r = expect(ps, " args=")) < 0)
		return r;
	if (ps->p < ps->line_end && *ps->p != ' ') {
		for (;;) {
			if (n == AVA_ABI_MAX_ARGS) {
				perr(ps, ps->p, "more than %d arguments", AVA_ABI_MAX_ARGS);
				return -EINVAL;
			}
			r = parse_value(ps, is_cb ? ROLE_CB_ARG : ROLE_FN_ARG, &args[n]);
			if (r < 0)
				return r;
			n++;
			if (!accept(ps, ","))
				break;
		}
	}
	*ret_n = n;
	*ret_args = NULL;
	if (n) {
		struct ava_abi_value *a = halloc(ps->h, n * sizeof(*a));

		if (!a)
			return oom(ps);
		memcpy(a, args, n * sizeof(*a));
		*ret_args = a;
	}
	return 0;
}

/* Reads the line's id and checks it equals the line's index among its kind. */
static int parse_id(struct parser *ps, const char *what, uint64_t expected, uint64_t max)
{
	const char *start = ps->p;
	uint64_t v;
	int r = parse_uint(ps, what, 0, max, &v);

	if (r < 0)
		return r;
	if (v != expected) {
		perr(ps, start, "%s %" PRIu64 " out of order (expected %" PRIu64 ")", what, v,
		     expected);
		return -EINVAL;
	}
	return 0;
}

/* Records a new name of one kind; a duplicate is an error at its column. */
static int add_name(struct parser *ps, int set, const char *what, const char *at, const char *name)
{
	int r = name_set_add(&ps->names[set], name);

	if (r < 0)
		return oom(ps);
	if (r == 0) {
		perr(ps, at, "%s '%s' declared twice", what, name);
		return -EINVAL;
	}
	return 0;
}

static int parse_handle_line(struct parser *ps)
{
	struct holder *h = ps->h;
	const char *name, *at;
	int r;

	if ((r = parse_id(ps, "handle type", (uint64_t)ps->sc.n_handle_types + 1,
			  AVA_ABI_MAX_HANDLE_TYPES)) < 0 ||
	    (r = expect(ps, " ")) < 0)
		return r;
	at = ps->p;
	if ((r = parse_ident(ps, "handle type name", &name)) < 0 ||
	    (r = add_name(ps, 0, "handle type", at, name)) < 0 || (r = end_of_line(ps)) < 0)
		return r;
	h->handle_names[++ps->sc.n_handle_types] = name;
	return 0;
}

static int parse_callback_line(struct parser *ps)
{
	struct holder *h = ps->h;
	struct ava_abi_callback cb = { .id = ps->sc.n_callbacks };
	const char *at;
	char why[192];
	uint64_t x;
	int r;

	if ((r = parse_id(ps, "callback id", ps->sc.n_callbacks, UINT16_MAX)) < 0 ||
	    (r = expect(ps, " ")) < 0)
		return r;
	at = ps->p;
	if ((r = parse_ident(ps, "callback name", &cb.name)) < 0 ||
	    (r = add_name(ps, 1, "callback", at, cb.name)) < 0 ||
	    (r = parse_sig(ps, true, &cb.ret, &cb.n_args, &cb.args)) < 0 ||
	    (r = expect(ps, " userdata=")) < 0)
		return r;
	at = ps->p;
	if ((r = parse_uint(ps, "userdata index", 0, AVA_ABI_MAX_ARGS - 1, &x)) < 0)
		return r;
	cb.userdata_arg = (uint16_t)x;
	if ((r = end_of_line(ps)) < 0)
		return r;
	if (!check_cb_extra(&cb, why, sizeof(why))) {
		perr(ps, at, "%s", why);
		return -EINVAL;
	}
	if (ps->sc.n_callbacks == h->cap_cbs) {
		size_t cap = h->cap_cbs ? h->cap_cbs * 2 : 8;
		struct ava_abi_callback *p = realloc(h->cbs, cap * sizeof(*p));

		if (!p)
			return oom(ps);
		h->cbs = p;
		h->cap_cbs = cap;
	}
	h->cbs[ps->sc.n_callbacks++] = cb;
	return 0;
}

/*
 * Parses the resources after a fn's signature and flags:
 * [" device_memory=arg:" num | " device_memory=const:" num]
 * [" device_time" ["=until:" num ":" num]]. *ret_until_at points at the
 * completion's fn id, checked against the whole api once every fn is read.
 */
static int parse_resources(struct parser *ps, struct ava_abi_fn *fn, const char **ret_until_at)
{
	uint64_t x;
	int r;

	if (accept(ps, " device_memory=")) {
		if (accept(ps, "arg:")) {
			fn->mem_from = AVA_ABI_AMOUNT_ARG;
			if ((r = parse_uint(ps, "device_memory argument", 0, AVA_ABI_MAX_ARGS - 1,
					    &x)) < 0)
				return r;
			fn->mem_arg = (uint16_t)x;
		} else if (accept(ps, "const:")) {
			fn->mem_from = AVA_ABI_AMOUNT_CONST;
			if ((r = parse_uint(ps, "device_memory bytes", 0, UINT64_MAX,
					    &fn->mem_bytes)) < 0)
				return r;
		} else {
			char tok[40];

			perr(ps, ps->p,
			     "expected 'arg:' or 'const:' after device_memory=, found '%s'",
			     token_at(ps, ps->p, tok, sizeof(tok)));
			return -EINVAL;
		}
	}
	if (accept(ps, " device_time")) {
		fn->flags |= AVA_ABI_FN_DEVICE_TIME;
		if (accept(ps, "=")) {
			fn->flags |= AVA_ABI_FN_DEVICE_TIME_UNTIL;
			if ((r = expect(ps, "until:")) < 0)
				return r;
			*ret_until_at = ps->p;
			if ((r = parse_uint(ps, "completion fn id", 0, UINT32_MAX - 1, &x)) < 0)
				return r;
			fn->until_fn = (uint32_t)x;
			if ((r = expect(ps, ":")) < 0 ||
			    (r = parse_uint(ps, "completion argument", 0, AVA_ABI_MAX_ARGS - 1,
					    &x)) < 0)
				return r;
			fn->until_arg = (uint16_t)x;
		}
	}
	return 0;
}

/* Remembers where fn's completion was written, for check_until_refs. */
static int note_until(struct parser *ps, uint32_t fn_id, const char *at)
{
	if (ps->n_untils == ps->cap_untils) {
		size_t cap = ps->cap_untils ? ps->cap_untils * 2 : 16;
		struct until_ref *p = realloc(ps->untils, cap * sizeof(*p));

		if (!p)
			return oom(ps);
		ps->untils = p;
		ps->cap_untils = cap;
	}
	ps->untils[ps->n_untils++] = (struct until_ref){
		.fn_id = fn_id,
		.line = ps->line,
		.col = (unsigned)(at - ps->line_start) + 1,
	};
	return 0;
}

/* Completion functions may come later in the file: check them once all are read. */
static int check_until_refs(struct parser *ps)
{
	char why[192];
	size_t i;

	for (i = 0; i < ps->n_untils; i++) {
		const struct until_ref *u = &ps->untils[i];

		if (!check_fn_until(&ps->h->api, &ps->h->fns[u->fn_id], why, sizeof(why))) {
			put_err(ps->errbuf, ps->errbuf_len, "%s:%u:%u: %s", ps->file, u->line,
				u->col, why);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_fn_line(struct parser *ps)
{
	struct holder *h = ps->h;
	struct ava_abi_fn fn = { .id = h->api.n_fns };
	const char *start = ps->p, *until_at = NULL;
	char why[192];
	int r;

	if ((r = parse_id(ps, "fn id", h->api.n_fns, UINT32_MAX - 1)) < 0 ||
	    (r = expect(ps, " ")) < 0)
		return r;
	start = ps->p;
	if ((r = parse_ident(ps, "fn name", &fn.name)) < 0 ||
	    (r = add_name(ps, 2, "fn", start, fn.name)) < 0 ||
	    (r = parse_sig(ps, false, &fn.ret, &fn.n_args, &fn.args)) < 0)
		return r;
	if (accept(ps, " async"))
		fn.flags |= AVA_ABI_FN_MAY_ASYNC;
	if (accept(ps, " unsupported"))
		fn.flags |= AVA_ABI_FN_UNSUPPORTED;
	if ((r = parse_resources(ps, &fn, &until_at)) < 0 || (r = end_of_line(ps)) < 0)
		return r;
	if (!check_fn_extra(&fn, why, sizeof(why))) {
		perr(ps, start, "%s", why);
		return -EINVAL;
	}
	if (until_at && (r = note_until(ps, fn.id, until_at)) < 0)
		return r;
	if (h->api.n_fns == h->cap_fns) {
		size_t cap = h->cap_fns ? h->cap_fns * 2 : 16;
		struct ava_abi_fn *p = realloc(h->fns, cap * sizeof(*p));

		if (!p)
			return oom(ps);
		h->fns = p;
		h->cap_fns = cap;
	}
	h->fns[h->api.n_fns++] = fn;
	return 0;
}

static int parse_line(struct parser *ps)
{
	static const char *const stage_word[] = { "ava-abi", "api", "handle", "callback", "fn" };
	const char *kw = ps->p;
	char tok[40];
	int stage, r;
	uint64_t x;

	for (stage = 0; stage < 5; stage++) {
		size_t n = strlen(stage_word[stage]);

		if (n < (size_t)(ps->line_end - ps->p) &&
		    memcmp(ps->p, stage_word[stage], n) == 0 && ps->p[n] == ' ')
			break;
	}
	if (stage == 5) {
		perr(ps, kw, "unknown line kind '%s'",
		     *kw == ' ' ? " " : token_at(ps, kw, tok, sizeof(tok)));
		return -EINVAL;
	}
	if (ps->stage < 2 && stage != ps->stage) {
		perr(ps, kw, "expected '%s' line", stage_word[ps->stage]);
		return -EINVAL;
	}
	if (stage < ps->stage || (stage < 2 && stage != ps->stage)) {
		perr(ps, kw, "'%s' line out of order (order: ava-abi, api, handle, callback, fn)",
		     stage_word[stage]);
		return -EINVAL;
	}
	ps->p += strlen(stage_word[stage]) + 1;
	switch (stage) {
	case 0:
		kw = ps->p;
		if ((r = parse_uint(ps, "manifest version", 0, UINT32_MAX, &x)) < 0)
			return r;
		if (x != AVA_ABI_FORMAT_VERSION) {
			perr(ps, kw, "unsupported manifest version %" PRIu64 " (want %d)", x,
			     AVA_ABI_FORMAT_VERSION);
			return -EINVAL;
		}
		r = end_of_line(ps);
		ps->stage = 1;
		return r;
	case 1:
		if ((r = parse_ident(ps, "api name", &ps->h->api.name)) < 0)
			return r;
		r = end_of_line(ps);
		ps->stage = 2;
		return r;
	case 2:
		ps->stage = 2;
		return parse_handle_line(ps);
	case 3:
		ps->stage = 3;
		return parse_callback_line(ps);
	default:
		ps->stage = 4;
		return parse_fn_line(ps);
	}
}

static int parse_all(struct parser *ps)
{
	int r;

	while (ps->pos < ps->end) {
		const char *nl = memchr(ps->pos, '\n', (size_t)(ps->end - ps->pos));

		ps->line++;
		ps->line_start = ps->p = ps->pos;
		ps->line_end = nl ? nl : ps->end;
		ps->pos = nl ? nl + 1 : ps->end;
		if (ps->line_start == ps->line_end || *ps->line_start == '#')
			continue;
		r = parse_line(ps);
		if (r < 0)
			return r;
	}
	if (ps->stage < 2) {
		/* Point just past the last line. */
		ps->line++;
		ps->line_start = ps->end;
		perr(ps, ps->end, "missing '%s' line", ps->stage == 0 ? "ava-abi" : "api");
		return -EINVAL;
	}
	return 0;
}

void ava_abi_api_free(struct ava_abi_api *api)
{
	struct holder *h = (struct holder *)api;
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n_blocks; i++)
		free(h->blocks[i]);
	free(h->blocks);
	free(h->fns);
	free(h->cbs);
	free(h->handle_names);
	free(h);
}

int ava_abi_parse(const char *text, size_t len, const char *file_name, struct ava_abi_api **ret_api,
		  char *errbuf, size_t errbuf_len)
{
	struct parser ps = {
		.file = file_name ? file_name : "<abi>",
		.pos = text ? text : "",
		.errbuf = errbuf,
		.errbuf_len = errbuf_len,
	};
	struct holder *h;
	int r, i;

	*ret_api = NULL;
	if (!text && len) {
		put_err(errbuf, errbuf_len, "%s: no text", ps.file);
		return -EINVAL;
	}
	ps.end = text ? text + len : ps.pos;
	h = calloc(1, sizeof(*h));
	if (!h)
		return oom(&ps);
	h->handle_names = calloc(AVA_ABI_MAX_HANDLE_TYPES + 1, sizeof(*h->handle_names));
	if (!h->handle_names) {
		free(h);
		return oom(&ps);
	}
	ps.h = h;
	r = parse_all(&ps);
	h->api.fns = h->fns;
	if (r == 0)
		r = check_until_refs(&ps);
	for (i = 0; i < 3; i++)
		free(ps.names[i].slots);
	free(ps.untils);
	if (r < 0)
		goto fail;
	h->api.callbacks = h->cbs;
	h->api.n_callbacks = ps.sc.n_callbacks;
	h->api.n_handle_types = ps.sc.n_handle_types;
	h->api.handle_type_names = h->handle_names;
	/* Every rule was applied line by line; this catches duplicate names. */
	r = check_api(&h->api, errbuf, errbuf_len);
	if (r < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", errbuf && errbuf_len ? errbuf : "invalid");
		put_err(errbuf, errbuf_len, "%s:%u:1: %s", ps.file, ps.line, why);
		goto fail;
	}
	h->api.hash = ava_abi_hash(&h->api);
	*ret_api = &h->api;
	return 0;
fail:
	ava_abi_api_free(&h->api);
	return r == -ENOMEM ? r : -EINVAL;
}

int ava_abi_load(const char *path, struct ava_abi_api **ret_api, char *errbuf, size_t errbuf_len)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int r;

	*ret_api = NULL;
	if (!f) {
		r = -errno;
		put_err(errbuf, errbuf_len, "%s: %s", path, strerror(-r));
		return r;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *p;

			if (cap >= MANIFEST_MAX_BYTES) {
				put_err(errbuf, errbuf_len, "%s: larger than %u bytes", path,
					MANIFEST_MAX_BYTES);
				r = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 16384;
			p = realloc(text, cap);
			if (!p) {
				put_err(errbuf, errbuf_len, "%s: out of memory", path);
				r = -ENOMEM;
				goto out;
			}
			text = p;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		put_err(errbuf, errbuf_len, "%s: read error", path);
		r = -EIO;
		goto out;
	}
	r = ava_abi_parse(text, len, path, ret_api, errbuf, errbuf_len);
out:
	free(text);
	fclose(f);
	return r;
}

const struct ava_abi_fn *ava_abi_find_fn(const struct ava_abi_api *api, const char *name)
{
	uint32_t i;

	if (!api || !name)
		return NULL;
	for (i = 0; i < api->n_fns; i++) {
		if (api->fns[i].name && strcmp(api->fns[i].name, name) == 0)
			return &api->fns[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Payload validation                                                       */

/*
 * Why the order: every read is preceded by a length check in the cursor, so a
 * truncated payload fails at the first missing byte; counts are compared with
 * the description's maximum before they are multiplied (with an overflow
 * check) by the element size, so no size derived from the peer exceeds what
 * the spec allows; handle tags are checked here, before any translation, so
 * the table lookup later only sees well-typed ids. The checker never
 * allocates: views point into the payload.
 */

/* Names the value being decoded in error messages. */
struct label {
	const char *what; /* "argument", "result", ... */
	int index;	  /* argument number, or -1 */
	const struct ava_abi_value *v;
	char *errbuf;
	size_t errbuf_len;
	int may_stream;	      /* a CALL's argument: presence 2 / unmap mode 1 allowed */
	unsigned *n_streamed; /* with may_stream: streamed values so far */
};

static int __attribute__((format(printf, 2, 3))) bad(const struct label *l, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->index >= 0)
		put_err(l->errbuf, l->errbuf_len, "%s %d (%s): %s", l->what, l->index,
			kind_name(l->v->kind), msg);
	else
		put_err(l->errbuf, l->errbuf_len, "%s (%s): %s", l->what, kind_name(l->v->kind),
			msg);
	return -EPROTO;
}

/* Checks a handle id's type tag; elem and field (or -1) locate it inside a buffer. */
static int check_tag(const struct label *l, uint64_t id, uint16_t want, int64_t elem, int field)
{
	if (id == 0 || AVA_HANDLE_TYPE_OF(id) == want)
		return 0;
	if (field >= 0)
		return bad(l, "element %" PRId64 " field %d: handle type tag %u, expected %u", elem,
			   field, AVA_HANDLE_TYPE_OF(id), want);
	if (elem >= 0)
		return bad(l, "element %" PRId64 ": handle type tag %u, expected %u", elem,
			   AVA_HANDLE_TYPE_OF(id), want);
	return bad(l, "handle type tag %u, expected %u", AVA_HANDLE_TYPE_OF(id), want);
}

static uint64_t load_u64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Reads count elements of buffer v and checks the handles inside them. */
static int decode_elements(const struct label *l, struct ava_wire_cursor *c, uint64_t count,
			   const uint8_t **ret_data)
{
	const struct ava_abi_value *v = l->v;
	const uint8_t *data;
	uint64_t n_bytes, i;
	uint16_t f;
	int r;

	if (v->elem == AVA_ABI_ELEM_STRING) {
		const uint8_t *start = c->cur;

		for (i = 0; i < count; i++) {
			uint32_t n;
			const uint8_t *str;

			if (ava_wire_get_u32(c, &n) < 0)
				return bad(l, "element %" PRIu64 ": truncated length", i);
			if (n == 0)
				continue;
			if (ava_wire_get_bytes(c, n, &str) < 0)
				return bad(l,
					   "element %" PRIu64 ": truncated: %" PRIu32
					   " bytes, %zu left",
					   i, n, (size_t)(c->end - c->cur));
			if (str[n - 1] != 0)
				return bad(l, "element %" PRIu64 ": string not NUL-terminated", i);
		}
		*ret_data = count ? start : NULL;
		return 0;
	}
	if (__builtin_mul_overflow(count, (uint64_t)v->size_bytes, &n_bytes) || n_bytes > SIZE_MAX)
		return bad(l, "count %" PRIu64 " times element size %" PRIu32 " overflows", count,
			   v->size_bytes);
	if (ava_wire_get_bytes(c, (size_t)n_bytes, &data) < 0)
		return bad(l, "truncated: %" PRIu64 " element bytes, %zu left", n_bytes,
			   (size_t)(c->end - c->cur));
	if (v->elem == AVA_ABI_ELEM_HANDLE) {
		for (i = 0; i < count; i++) {
			r = check_tag(l, load_u64(data + i * 8), v->handle_type, (int64_t)i, -1);
			if (r < 0)
				return r;
		}
	} else if (v->elem == AVA_ABI_ELEM_STRUCT && v->n_fields) {
		for (i = 0; i < count; i++) {
			const uint8_t *e = data + i * v->size_bytes;

			for (f = 0; f < v->n_fields; f++) {
				r = check_tag(l, load_u64(e + v->fields[f].offset_bytes),
					      v->fields[f].handle_type, (int64_t)i, f);
				if (r < 0)
					return r;
			}
		}
	}
	if (v->flags & AVA_ABI_V_PROPS) {
		if (count % 2 == 0)
			return bad(l,
				   "property list of %" PRIu64 " elements: not key/value pairs "
				   "and a terminator",
				   count);
		for (i = 0; i < v->size_bytes; i++)
			if (data[(count - 1) * v->size_bytes + i])
				return bad(l, "property list does not end with a zero key");
	}
	*ret_data = count ? data : NULL;
	return 0;
}

/* A SCALAR or HANDLE (or nothing, for VOID): the forms results take. */
static int decode_plain(const struct label *l, struct ava_wire_cursor *c, struct ava_abi_view *view)
{
	const struct ava_abi_value *v = l->v;

	memset(view, 0, sizeof(*view));
	switch (v->kind) {
	case AVA_ABI_VOID:
		return 0;
	case AVA_ABI_SCALAR:
		if (ava_wire_get_bytes(c, v->size_bytes, &view->data) < 0)
			return bad(l, "truncated");
		view->present = 1;
		return 0;
	case AVA_ABI_HANDLE:
	case AVA_ABI_CALLBACK:
	case AVA_ABI_USERDATA:
	case AVA_ABI_MAP:
		if (ava_wire_get_bytes(c, 8, &view->data) < 0)
			return bad(l, "truncated");
		view->u64 = load_u64(view->data);
		view->present = 1;
		if (v->kind == AVA_ABI_HANDLE)
			return check_tag(l, view->u64, v->handle_type, -1, -1);
		return 0;
	default:
		return bad(l, "kind not allowed here");
	}
}

/* Bytes in count elements of v, saturating. */
static uint64_t sat_bytes(const struct ava_abi_value *v, uint64_t count)
{
	uint64_t n;

	return __builtin_mul_overflow(count, (uint64_t)v->size_bytes, &n) ? UINT64_MAX : n;
}

/* Pointers in a blobs buffer of count elements: whole 8-byte words. */
static uint64_t blob_pointers(const struct ava_abi_value *v, uint64_t count)
{
	return sat_bytes(v, count) / 8;
}

/*
 * A blobs buffer's mode byte and, in mode 1, its capacities; together they
 * may not exceed what the buffer itself could hold.
 */
static int decode_blob_sizes(const struct label *l, struct ava_wire_cursor *c,
			     struct ava_abi_view *view)
{
	const struct ava_abi_value *v = l->v;
	uint64_t n = blob_pointers(v, view->count), total = 0, cap, i;
	uint8_t mode;

	if (ava_wire_get_u8(c, &mode) < 0)
		return bad(l, "truncated blobs mode");
	if (mode > 1)
		return bad(l, "blobs mode %u is neither 0 nor 1", mode);
	view->u64 = mode;
	if (!mode)
		return 0;
	if (n > (uint64_t)(c->end - c->cur) / 8)
		return bad(l, "truncated: %" PRIu64 " blob sizes", n);
	view->data = n ? c->cur : NULL;
	for (i = 0; i < n; i++) {
		if (ava_wire_get_u64(c, &cap) < 0)
			return bad(l, "truncated blob size");
		if (cap > sat_bytes(v, v->max_count) - total)
			return bad(l, "blob sizes exceed max %" PRIu64 " bytes",
				   sat_bytes(v, v->max_count));
		total += cap;
	}
	return 0;
}

/* The reply's blobs: per pointer u64 n and n bytes, within the buffer's max in all. */
static int decode_blobs(const struct label *l, struct ava_wire_cursor *c, uint64_t count,
			const uint8_t **ret_data)
{
	const struct ava_abi_value *v = l->v;
	uint64_t n = blob_pointers(v, count), total = 0, len, i;
	const uint8_t *bytes;

	*ret_data = n ? c->cur : NULL;
	for (i = 0; i < n; i++) {
		if (ava_wire_get_u64(c, &len) < 0)
			return bad(l, "blob %" PRIu64 ": truncated length", i);
		if (len > sat_bytes(v, v->max_count) - total)
			return bad(l, "blobs exceed max %" PRIu64 " bytes",
				   sat_bytes(v, v->max_count));
		total += len;
		if (ava_wire_get_bytes(c, (size_t)len, &bytes) < 0)
			return bad(l, "blob %" PRIu64 ": truncated: %" PRIu64 " bytes, %zu left", i,
				   len, (size_t)(c->end - c->cur));
	}
	return 0;
}

static int decode_arg(const struct label *l, struct ava_wire_cursor *c, struct ava_abi_view *view)
{
	const struct ava_abi_value *v = l->v;
	uint32_t n32;
	uint8_t present;

	switch (v->kind) {
	case AVA_ABI_STRING:
		memset(view, 0, sizeof(*view));
		if (ava_wire_get_u32(c, &n32) < 0)
			return bad(l, "truncated length");
		if (n32 == 0)
			return 0;
		if (n32 > v->max_count)
			return bad(l, "length %" PRIu32 " exceeds max %" PRIu64, n32, v->max_count);
		if (ava_wire_get_bytes(c, n32, &view->data) < 0)
			return bad(l, "truncated: %" PRIu32 " bytes, %zu left", n32,
				   (size_t)(c->end - c->cur));
		if (view->data[n32 - 1] != 0)
			return bad(l, "not NUL-terminated");
		view->present = 1;
		view->count = n32;
		return 0;
	case AVA_ABI_BUFFER:
		memset(view, 0, sizeof(*view));
		if (ava_wire_get_u8(c, &present) < 0)
			return bad(l, "truncated presence byte");
		if (present > 2)
			return bad(l, "presence byte %u is not 0, 1 or 2", present);
		if (!present)
			return 0;
		view->present = 1;
		if (ava_wire_get_u64(c, &view->count) < 0)
			return bad(l, "truncated count");
		if (view->count > v->max_count)
			return bad(l, "count %" PRIu64 " exceeds max %" PRIu64, view->count,
				   v->max_count);
		if (present == 2) {
			/* streamed: plain input bytes only, at least one, sent after the CALL */
			if (!l->may_stream || v->dir != AVA_ABI_DIR_IN ||
			    v->elem != AVA_ABI_ELEM_BYTES ||
			    (v->flags & (AVA_ABI_V_SCAN | AVA_ABI_V_PROPS | AVA_ABI_V_BLOBS)))
				return bad(l, "this value may not be streamed");
			if (*l->n_streamed)
				return bad(l, "a second streamed value");
			uint64_t n_bytes;
			if (__builtin_mul_overflow(view->count, (uint64_t)v->size_bytes,
						   &n_bytes) ||
			    n_bytes == 0 || n_bytes >= SIZE_MAX)
				return bad(l, "streamed count %" PRIu64 " is not a usable size",
					   view->count);
			(*l->n_streamed)++;
			view->streamed = 1;
			return 0;
		}
		if ((v->flags & AVA_ABI_V_LATE) && v->dir == AVA_ABI_DIR_OUT) {
			if (ava_wire_get_u64(c, &view->u64) < 0)
				return bad(l, "truncated transfer id");
			if (view->u64 == 0)
				return bad(l, "transfer id 0");
		}
		if (v->flags & AVA_ABI_V_BLOBS)
			return decode_blob_sizes(l, c, view);
		if (!(v->dir & AVA_ABI_DIR_IN))
			return 0;
		return decode_elements(l, c, view->count, &view->data);
	case AVA_ABI_UNMAP:
		memset(view, 0, sizeof(*view));
		if (ava_wire_get_u64(c, &view->u64) < 0 || ava_wire_get_u64(c, &view->count) < 0)
			return bad(l, "truncated mapping id or count");
		if (view->u64 == 0)
			return bad(l, "mapping id 0");
		if (view->count > v->max_count)
			return bad(l, "count %" PRIu64 " exceeds max %" PRIu64, view->count,
				   v->max_count);
		view->present = 1;
		if (!view->count)
			return 0;
		if (ava_wire_get_u8(c, &present) < 0)
			return bad(l, "truncated mode");
		if (present > 1)
			return bad(l, "mode %u is neither 0 nor 1", present);
		if (present == 1) {
			if (!l->may_stream || *l->n_streamed)
				return bad(l, "this value may not be streamed");
			(*l->n_streamed)++;
			view->streamed = 1;
			return 0;
		}
		if (ava_wire_get_bytes(c, (size_t)view->count, &view->data) < 0)
			return bad(l, "truncated: %" PRIu64 " bytes, %zu left", view->count,
				   (size_t)(c->end - c->cur));
		return 0;
	case AVA_ABI_SCALAR:
	case AVA_ABI_HANDLE:
	case AVA_ABI_CALLBACK:
	case AVA_ABI_USERDATA:
		return decode_plain(l, c, view);
	default:
		memset(view, 0, sizeof(*view));
		return bad(l, "kind not allowed here");
	}
}

static int at_end(const struct ava_wire_cursor *c, char *errbuf, size_t errbuf_len)
{
	if (c->cur != c->end) {
		put_err(errbuf, errbuf_len, "%zu trailing bytes after the last value",
			(size_t)(c->end - c->cur));
		return -EPROTO;
	}
	return 0;
}

int ava_abi_check_args(const struct ava_abi_api *api, uint16_t n_args,
		       const struct ava_abi_value *args, int has_token, const uint8_t *payload,
		       size_t len, struct ava_abi_view *views, char *errbuf, size_t errbuf_len)
{
	struct ava_wire_cursor c = ava_wire_cursor_of(payload, len);
	struct ava_abi_view scratch;
	unsigned n_streamed = 0;
	uint16_t i;
	int r;

	(void)api;
	if ((n_args && !args) || (!payload && len) || n_args > AVA_ABI_MAX_ARGS) {
		put_err(errbuf, errbuf_len, "invalid checker arguments");
		return -EINVAL;
	}
	if (has_token) {
		uint64_t token;

		if (ava_wire_get_u64(&c, &token) < 0) {
			put_err(errbuf, errbuf_len, "callback token: truncated");
			return -EPROTO;
		}
	}
	for (i = 0; i < n_args; i++) {
		struct label l = { "argument", i,	   &args[i],   errbuf,
				   errbuf_len, !has_token, &n_streamed };

		r = decode_arg(&l, &c, views ? &views[i] : &scratch);
		if (r < 0)
			return r;
	}
	return at_end(&c, errbuf, errbuf_len);
}

int ava_abi_streamed_arg(const struct ava_abi_fn *fn, const struct ava_abi_view *views,
			 uint64_t *ret_bytes)
{
	for (uint16_t i = 0; fn && views && i < fn->n_args; i++) {
		if (!views[i].streamed)
			continue;
		*ret_bytes = sat_bytes(&fn->args[i], views[i].count);
		return i;
	}
	*ret_bytes = 0;
	return -1;
}

int ava_abi_check_call(const struct ava_abi_api *api, const struct ava_abi_fn *fn,
		       const uint8_t *payload, size_t len, struct ava_abi_view *views, char *errbuf,
		       size_t errbuf_len)
{
	struct ava_wire_cursor c;
	struct ava_abi_view scratch;
	struct ava_abi_view *t = views ? &views[fn ? fn->n_args : 0] : &scratch;
	const uint8_t *start;
	size_t n = 0;
	int r;

	if (!fn) {
		put_err(errbuf, errbuf_len, "invalid checker arguments");
		return -EINVAL;
	}
	memset(t, 0, sizeof(*t));
	if (fn->ret.kind != AVA_ABI_MAP)
		return ava_abi_check_args(api, fn->n_args, fn->args, 0, payload, len, views, errbuf,
					  errbuf_len);
	/*
	 * The trailer (u64 count, for READ a u64 transfer id, then the u8
	 * access) is 9 or 17 bytes: its last byte says which.
	 */
	if (!payload || len < 9) {
		put_err(errbuf, errbuf_len, "map trailer: truncated");
		return -EPROTO;
	}
	t->access = payload[len - 1];
	if (t->access & ~(AVA_ABI_MAP_READ | AVA_ABI_MAP_WRITE)) {
		put_err(errbuf, errbuf_len, "map trailer: unknown access bits 0x%x", t->access);
		return -EPROTO;
	}
	n = (t->access & AVA_ABI_MAP_READ) ? 17 : 9;
	if (len < n) {
		put_err(errbuf, errbuf_len, "map trailer: truncated");
		return -EPROTO;
	}
	start = payload + len - n;
	c.cur = start;
	c.end = payload + len - 1;
	if (ava_wire_get_u64(&c, &t->count) < 0) {
		put_err(errbuf, errbuf_len, "map trailer: truncated");
		return -EPROTO;
	}
	if (t->count > fn->ret.max_count) {
		put_err(errbuf, errbuf_len, "map trailer: count %" PRIu64 " exceeds max %" PRIu64,
			t->count, fn->ret.max_count);
		return -EPROTO;
	}
	if ((t->access & AVA_ABI_MAP_READ) && (ava_wire_get_u64(&c, &t->u64) < 0 || t->u64 == 0)) {
		put_err(errbuf, errbuf_len, "map trailer: transfer id 0");
		return -EPROTO;
	}
	if (c.cur != c.end) {
		put_err(errbuf, errbuf_len, "map trailer: malformed");
		return -EPROTO;
	}
	t->present = 1;
	r = ava_abi_check_args(api, fn->n_args, fn->args, 0, payload, len - n, views, errbuf,
			       errbuf_len);
	if (r < 0)
		memset(t, 0, sizeof(*t));
	return r;
}

int ava_abi_check_reply(const struct ava_abi_api *api, const struct ava_abi_fn *fn,
			const struct ava_abi_view *call_views, uint16_t flags,
			const uint8_t *payload, size_t len, struct ava_abi_view *ret_views,
			uint32_t *ret_deferred_fn, struct ava_abi_view *ret_deferred, char *errbuf,
			size_t errbuf_len)
{
	struct ava_wire_cursor c = ava_wire_cursor_of(payload, len);
	struct ava_abi_view scratch;
	uint16_t i;
	int r;

	if (!api || !fn || (fn->n_args && !fn->args) || (!payload && len) ||
	    fn->n_args > AVA_ABI_MAX_ARGS) {
		put_err(errbuf, errbuf_len, "invalid checker arguments");
		return -EINVAL;
	}
	for (i = 0; i < fn->n_args && !call_views; i++) {
		if (fn->args[i].kind == AVA_ABI_BUFFER && (fn->args[i].dir & AVA_ABI_DIR_OUT)) {
			put_err(errbuf, errbuf_len, "call views needed for output buffers");
			return -EINVAL;
		}
	}
	if (ret_deferred_fn)
		*ret_deferred_fn = UINT32_MAX;
	if (ret_deferred)
		memset(ret_deferred, 0, sizeof(*ret_deferred));

	{
		struct label l = { "result", -1, &fn->ret, errbuf, errbuf_len, 0, NULL };

		r = decode_plain(&l, &c, ret_views ? &ret_views[0] : &scratch);
		if (r < 0)
			return r;
	}
	for (i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *v = &fn->args[i];
		struct ava_abi_view *view = ret_views ? &ret_views[1 + i] : &scratch;
		struct label l = { "argument", i, v, errbuf, errbuf_len, 0, NULL };

		memset(view, 0, sizeof(*view));
		if (v->kind != AVA_ABI_BUFFER || !(v->dir & AVA_ABI_DIR_OUT) ||
		    !call_views[i].present || (v->flags & AVA_ABI_V_LATE))
			continue; /* a late buffer's data comes in a DATA frame */
		view->present = 1;
		if (ava_wire_get_u64(&c, &view->count) < 0)
			return bad(&l, "truncated count");
		if (view->count != call_views[i].count)
			return bad(&l, "count %" PRIu64 " differs from the %" PRIu64 " requested",
				   view->count, call_views[i].count);
		view->u64 = call_views[i].u64;
		if ((v->flags & AVA_ABI_V_BLOBS) && call_views[i].u64 == 1)
			r = decode_blobs(&l, &c, view->count, &view->data);
		else
			r = decode_elements(&l, &c, view->count, &view->data);
		if (r < 0)
			return r;
	}
	if (flags & AVA_WIRE_F_DEFERRED_ERROR) {
		const struct ava_abi_fn *dfn;
		uint32_t id;

		if (ava_wire_get_u32(&c, &id) < 0) {
			put_err(errbuf, errbuf_len, "deferred error: truncated fn id");
			return -EPROTO;
		}
		if (id >= api->n_fns) {
			put_err(errbuf, errbuf_len,
				"deferred error: fn id %" PRIu32 " out of range", id);
			return -EPROTO;
		}
		dfn = &api->fns[id];
		if (!(dfn->flags & AVA_ABI_FN_MAY_ASYNC)) {
			put_err(errbuf, errbuf_len,
				"deferred error: fn %" PRIu32 " (%s) is not async", id, dfn->name);
			return -EPROTO;
		}
		{
			struct label l = { "deferred result", -1, &dfn->ret, errbuf,
					   errbuf_len,	      0,  NULL };

			r = decode_plain(&l, &c, ret_deferred ? ret_deferred : &scratch);
			if (r < 0)
				return r;
		}
		if (ret_deferred_fn)
			*ret_deferred_fn = id;
	}
	return at_end(&c, errbuf, errbuf_len);
}

int ava_abi_check_result(const struct ava_abi_api *api, const struct ava_abi_value *ret,
			 const uint8_t *payload, size_t len, struct ava_abi_view *ret_view,
			 char *errbuf, size_t errbuf_len)
{
	struct ava_wire_cursor c = ava_wire_cursor_of(payload, len);
	struct ava_abi_view scratch;
	struct label l = { "result", -1, ret, errbuf, errbuf_len, 0, NULL };
	int r;

	(void)api;
	if (!ret || (!payload && len)) {
		put_err(errbuf, errbuf_len, "invalid checker arguments");
		return -EINVAL;
	}
	r = decode_plain(&l, &c, ret_view ? ret_view : &scratch);
	if (r < 0)
		return r;
	return at_end(&c, errbuf, errbuf_len);
}

/* ------------------------------------------------------------------------ */
/* Resources                                                                */

int ava_abi_mem_amount(const struct ava_abi_fn *fn, const struct ava_abi_view *call_views,
		       uint64_t *ret_bytes)
{
	const struct ava_abi_view *v;
	uint64_t x = 0;
	uint32_t i;

	*ret_bytes = 0;
	if (!fn)
		return -EINVAL;
	switch (fn->mem_from) {
	case AVA_ABI_AMOUNT_CONST:
		*ret_bytes = fn->mem_bytes;
		return 0;
	case AVA_ABI_AMOUNT_ARG:
		if (!call_views || fn->mem_arg >= fn->n_args ||
		    fn->args[fn->mem_arg].kind != AVA_ABI_SCALAR ||
		    fn->args[fn->mem_arg].size_bytes > 8)
			return -EINVAL;
		v = &call_views[fn->mem_arg];
		if (!v->data)
			return -EINVAL;
		for (i = fn->args[fn->mem_arg].size_bytes; i > 0; i--)
			x = x << 8 | v->data[i - 1];
		*ret_bytes = x;
		return 0;
	default:
		return -ENOENT;
	}
}

int ava_abi_new_handle(const struct ava_abi_fn *fn, const struct ava_abi_view *reply_views,
		       uint64_t *ret_id)
{
	uint16_t i;

	*ret_id = 0;
	if (!fn || !reply_views)
		return -EINVAL;
	if (fn->ret.kind == AVA_ABI_HANDLE && (fn->ret.flags & AVA_ABI_V_ALLOCATES)) {
		*ret_id = reply_views[0].u64;
		return 0;
	}
	for (i = 0; i < fn->n_args; i++) {
		const struct ava_abi_value *a = &fn->args[i];
		const struct ava_abi_view *v = &reply_views[1 + i];

		if (a->kind != AVA_ABI_BUFFER || !(a->flags & AVA_ABI_V_ALLOCATES) ||
		    a->elem != AVA_ABI_ELEM_HANDLE)
			continue;
		if (v->present && v->count >= 1 && v->data)
			*ret_id = load_u64(v->data);
		return 0;
	}
	return -ENOENT;
}
