/* SPDX-License-Identifier: MIT */
/* ABI descriptions: rules, manifest round trip, parse errors, payload validators. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "ava/abi.h"
#include "ava/gen.h"
#include "ava/wire.h"
#include "check.h"

/* ------------------------------------------------------------------------ */
/* A description with every value kind, as avagen would emit it.           */

static const char *const handle_names[] = { NULL, "dev_t", "gate_t", "event_t" };

static const struct ava_abi_value cb_args[] = {
	{ .kind = AVA_ABI_SCALAR, .size_bytes = 4 },
	{ .kind = AVA_ABI_STRING, .dir = AVA_ABI_DIR_IN, .max_count = 64 },
	{ .kind = AVA_ABI_BUFFER, .dir = AVA_ABI_DIR_IN, .size_bytes = 4, .max_count = 8 },
	{ .kind = AVA_ABI_HANDLE, .handle_type = 1 },
	{ .kind = AVA_ABI_USERDATA },
};

static const struct ava_abi_callback callbacks[] = {
	{ .id = 0,
	  .name = "visit_cb",
	  .ret = { .kind = AVA_ABI_VOID },
	  .n_args = 5,
	  .args = cb_args,
	  .userdata_arg = 4 },
};

static const struct ava_abi_value a_scalar[] = {
	{ .kind = AVA_ABI_SCALAR, .size_bytes = 1 },
	{ .kind = AVA_ABI_SCALAR, .size_bytes = 64 },
};
static const struct ava_abi_value a_handles[] = {
	{ .kind = AVA_ABI_HANDLE, .handle_type = 2 },
	{ .kind = AVA_ABI_HANDLE, .handle_type = 1, .flags = AVA_ABI_V_DEALLOCATES },
};
static const struct ava_abi_value a_string[] = {
	{ .kind = AVA_ABI_STRING, .dir = AVA_ABI_DIR_IN, .max_count = 16 },
};
static const struct ava_abi_value a_buffers[] = {
	{ .kind = AVA_ABI_BUFFER, .dir = AVA_ABI_DIR_IN, .size_bytes = 4, .max_count = 64 },
	{ .kind = AVA_ABI_BUFFER, .dir = AVA_ABI_DIR_OUT, .size_bytes = 2, .max_count = 100 },
	{ .kind = AVA_ABI_BUFFER, .dir = AVA_ABI_DIR_INOUT, .size_bytes = 1, .max_count = 10 },
};
static const struct ava_abi_value a_handle_bufs[] = {
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_IN,
	  .elem = AVA_ABI_ELEM_HANDLE,
	  .handle_type = 1,
	  .size_bytes = 8,
	  .max_count = 8 },
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_OUT,
	  .elem = AVA_ABI_ELEM_HANDLE,
	  .flags = AVA_ABI_V_ALLOCATES,
	  .handle_type = 2,
	  .size_bytes = 8,
	  .max_count = 4 },
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_IN,
	  .elem = AVA_ABI_ELEM_HANDLE,
	  .flags = AVA_ABI_V_DEALLOCATES,
	  .handle_type = 3,
	  .size_bytes = 8,
	  .max_count = 2 },
};
static const struct ava_abi_field struct_fields[] = {
	{ .offset_bytes = 8, .handle_type = 1 },
	{ .offset_bytes = 24, .handle_type = 3 },
};
static const struct ava_abi_value a_struct[] = {
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_INOUT,
	  .elem = AVA_ABI_ELEM_STRUCT,
	  .size_bytes = 40,
	  .max_count = 4,
	  .n_fields = 2,
	  .fields = struct_fields },
};
static const struct ava_abi_value a_cb[] = {
	{ .kind = AVA_ABI_CALLBACK, .callback_id = 0 },
	{ .kind = AVA_ABI_USERDATA },
};
static const struct ava_abi_value a_errcode[] = {
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_OUT,
	  .flags = AVA_ABI_V_ERRCODE,
	  .size_bytes = 4,
	  .max_count = 1 },
};
static const struct ava_abi_value a_async[] = {
	{ .kind = AVA_ABI_HANDLE, .handle_type = 1 },
	{ .kind = AVA_ABI_SCALAR, .size_bytes = 4 },
};
static const struct ava_abi_value a_one_scalar[] = {
	{ .kind = AVA_ABI_SCALAR, .size_bytes = 4 },
};
static const struct ava_abi_value a_huge[] = {
	{ .kind = AVA_ABI_BUFFER, .dir = AVA_ABI_DIR_IN, .size_bytes = 8, .max_count = UINT64_MAX },
};
static const struct ava_abi_value a_mem_arg[] = {
	{ .kind = AVA_ABI_HANDLE, .handle_type = 1 },
	{ .kind = AVA_ABI_SCALAR, .size_bytes = 8 },
};
static const struct ava_abi_value a_mem_const[] = {
	{ .kind = AVA_ABI_BUFFER,
	  .dir = AVA_ABI_DIR_OUT,
	  .elem = AVA_ABI_ELEM_HANDLE,
	  .flags = AVA_ABI_V_ALLOCATES,
	  .handle_type = 2,
	  .size_bytes = 8,
	  .max_count = 1 },
};
static const struct ava_abi_value a_busy[] = {
	{ .kind = AVA_ABI_SCALAR, .size_bytes = 4 },
	{ .kind = AVA_ABI_HANDLE, .handle_type = 1 },
};
static const struct ava_abi_value a_finish[] = {
	{ .kind = AVA_ABI_HANDLE, .handle_type = 1 },
};

#define S4                                              \
	{                                               \
		.kind = AVA_ABI_SCALAR, .size_bytes = 4 \
	}
#define FN(i, n, r, a, f)                                                                     \
	{                                                                                     \
		.id = i, .name = n, .flags = f, .ret = r, .n_args = sizeof(a) / sizeof(a[0]), \
		.args = a                                                                     \
	}

static const struct ava_abi_fn fns[] = {
	{ .id = 0, .name = "f_null", .ret = { .kind = AVA_ABI_VOID } },
	FN(1, "f_scalar", ((struct ava_abi_value){ .kind = AVA_ABI_SCALAR, .size_bytes = 8 }),
	   a_scalar, 0),
	FN(2, "f_handles",
	   ((struct ava_abi_value){
	       .kind = AVA_ABI_HANDLE, .handle_type = 1, .flags = AVA_ABI_V_ALLOCATES }),
	   a_handles, 0),
	FN(3, "f_string", ((struct ava_abi_value)S4), a_string, 0),
	FN(4, "f_buffers", ((struct ava_abi_value)S4), a_buffers, 0),
	FN(5, "f_handle_bufs", ((struct ava_abi_value)S4), a_handle_bufs, 0),
	FN(6, "f_struct", ((struct ava_abi_value)S4), a_struct, 0),
	FN(7, "f_cb", ((struct ava_abi_value)S4), a_cb, 0),
	FN(8, "f_errcode", ((struct ava_abi_value){ .kind = AVA_ABI_HANDLE, .handle_type = 3 }),
	   a_errcode, 0),
	FN(9, "f_async", ((struct ava_abi_value)S4), a_async, AVA_ABI_FN_MAY_ASYNC),
	FN(10, "f_unsup", ((struct ava_abi_value)S4), a_one_scalar, AVA_ABI_FN_UNSUPPORTED),
	FN(11, "f_huge", ((struct ava_abi_value){ .kind = AVA_ABI_VOID }), a_huge, 0),
	{ .id = 12,
	  .name = "f_async_void",
	  .ret = { .kind = AVA_ABI_VOID },
	  .flags = AVA_ABI_FN_MAY_ASYNC | AVA_ABI_FN_UNSUPPORTED },
	{ .id = 13,
	  .name = "f_mem_arg",
	  .ret = { .kind = AVA_ABI_HANDLE, .handle_type = 3, .flags = AVA_ABI_V_ALLOCATES },
	  .n_args = 2,
	  .args = a_mem_arg,
	  .mem_from = AVA_ABI_AMOUNT_ARG,
	  .mem_arg = 1 },
	{ .id = 14,
	  .name = "f_mem_const",
	  .ret = S4,
	  .n_args = 1,
	  .args = a_mem_const,
	  .mem_from = AVA_ABI_AMOUNT_CONST,
	  .mem_bytes = 4096 },
	{ .id = 15,
	  .name = "f_busy",
	  .flags = AVA_ABI_FN_DEVICE_TIME | AVA_ABI_FN_DEVICE_TIME_UNTIL,
	  .ret = S4,
	  .n_args = 2,
	  .args = a_busy,
	  .until_fn = 16,
	  .until_arg = 1 },
	FN(16, "f_finish", ((struct ava_abi_value)S4), a_finish, 0),
	FN(17, "f_timed", ((struct ava_abi_value)S4), a_one_scalar,
	   AVA_ABI_FN_MAY_ASYNC | AVA_ABI_FN_DEVICE_TIME),
};

static const struct ava_abi_api sample = {
	.name = "sample",
	.n_fns = sizeof(fns) / sizeof(fns[0]),
	.fns = fns,
	.n_callbacks = 1,
	.callbacks = callbacks,
	.n_handle_types = 3,
	.handle_type_names = handle_names,
};

static const char sample_text[] =
    "ava-abi 2\n"
    "api sample\n"
    "handle 1 dev_t\n"
    "handle 2 gate_t\n"
    "handle 3 event_t\n"
    "callback 0 visit_cb ret=void "
    "args=scalar:4,string:max=64,buffer:in:bytes:4:max=8,handle:1,userdata userdata=4\n"
    "fn 0 f_null ret=void args=\n"
    "fn 1 f_scalar ret=scalar:8 args=scalar:1,scalar:64\n"
    "fn 2 f_handles ret=handle:1:alloc args=handle:2,handle:1:dealloc\n"
    "fn 3 f_string ret=scalar:4 args=string:max=16\n"
    "fn 4 f_buffers ret=scalar:4 "
    "args=buffer:in:bytes:4:max=64,buffer:out:bytes:2:max=100,buffer:inout:bytes:1:max=10\n"
    "fn 5 f_handle_bufs ret=scalar:4 args=buffer:in:handle:1:max=8,"
    "buffer:out:handle:2:max=4:alloc,buffer:in:handle:3:max=2:dealloc\n"
    "fn 6 f_struct ret=scalar:4 args=buffer:inout:struct:40:fields=8@1+24@3:max=4\n"
    "fn 7 f_cb ret=scalar:4 args=callback:0,userdata\n"
    "fn 8 f_errcode ret=handle:3 args=buffer:out:bytes:4:max=1:errcode\n"
    "fn 9 f_async ret=scalar:4 args=handle:1,scalar:4 async\n"
    "fn 10 f_unsup ret=scalar:4 args=scalar:4 unsupported\n"
    "fn 11 f_huge ret=void args=buffer:in:bytes:8:max=18446744073709551615\n"
    "fn 12 f_async_void ret=void args= async unsupported\n"
    "fn 13 f_mem_arg ret=handle:3:alloc args=handle:1,scalar:8 device_memory=arg:1\n"
    "fn 14 f_mem_const ret=scalar:4 args=buffer:out:handle:2:max=1:alloc "
    "device_memory=const:4096\n"
    "fn 15 f_busy ret=scalar:4 args=scalar:4,handle:1 device_time=until:16:1\n"
    "fn 16 f_finish ret=scalar:4 args=handle:1\n"
    "fn 17 f_timed ret=scalar:4 args=scalar:4 async device_time\n";

static char *format_to_string(const struct ava_abi_api *api, const char *spec_path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(f != NULL);
	CHECK_INT(ava_abi_format(api, spec_path, f), 0);
	CHECK_INT(fclose(f), 0);
	return text;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static void same_value(const struct ava_abi_value *a, const struct ava_abi_value *b)
{
	CHECK_INT(a->kind, b->kind);
	CHECK_INT(a->dir, b->dir);
	CHECK_INT(a->elem, b->elem);
	CHECK_INT(a->flags, b->flags);
	CHECK_INT(a->handle_type, b->handle_type);
	CHECK_INT(a->callback_id, b->callback_id);
	CHECK_INT(a->size_bytes, b->size_bytes);
	CHECK(a->max_count == b->max_count);
	CHECK_INT(a->n_fields, b->n_fields);
	for (uint16_t i = 0; i < a->n_fields; i++) {
		CHECK_INT(a->fields[i].offset_bytes, b->fields[i].offset_bytes);
		CHECK_INT(a->fields[i].handle_type, b->fields[i].handle_type);
	}
}

static void test_round_trip(void)
{
	char err[256] = "";
	struct ava_abi_api *parsed, *again;
	char *text, *text2, *banner;

	CHECK_INT(ava_abi_api_check(&sample, err, sizeof(err)), 0);
	text = format_to_string(&sample, NULL);
	CHECK(strcmp(text, sample_text) == 0);
	CHECK(ava_abi_hash(&sample) == fnv1a(sample_text));

	CHECK_INT(ava_abi_parse(text, strlen(text), "sample.abi", &parsed, err, sizeof(err)), 0);
	CHECK(parsed->hash == ava_abi_hash(&sample));
	CHECK(strcmp(parsed->name, "sample") == 0);
	CHECK_INT(parsed->n_fns, sample.n_fns);
	CHECK_INT(parsed->n_callbacks, 1);
	CHECK_INT(parsed->n_handle_types, 3);
	CHECK(parsed->handle_type_names[0] == NULL);
	for (int i = 1; i <= 3; i++)
		CHECK(strcmp(parsed->handle_type_names[i], handle_names[i]) == 0);
	/* Field for field equal to the static data. */
	for (uint32_t i = 0; i < sample.n_fns; i++) {
		CHECK_INT(parsed->fns[i].id, i);
		CHECK(strcmp(parsed->fns[i].name, fns[i].name) == 0);
		CHECK_INT(parsed->fns[i].flags, fns[i].flags);
		same_value(&parsed->fns[i].ret, &fns[i].ret);
		CHECK_INT(parsed->fns[i].n_args, fns[i].n_args);
		for (uint16_t j = 0; j < fns[i].n_args; j++)
			same_value(&parsed->fns[i].args[j], &fns[i].args[j]);
		CHECK_INT(parsed->fns[i].mem_from, fns[i].mem_from);
		CHECK_INT(parsed->fns[i].mem_arg, fns[i].mem_arg);
		CHECK(parsed->fns[i].mem_bytes == fns[i].mem_bytes);
		CHECK_INT(parsed->fns[i].until_fn, fns[i].until_fn);
		CHECK_INT(parsed->fns[i].until_arg, fns[i].until_arg);
	}
	CHECK(strcmp(parsed->callbacks[0].name, "visit_cb") == 0);
	CHECK_INT(parsed->callbacks[0].userdata_arg, 4);
	for (uint16_t j = 0; j < 5; j++)
		same_value(&parsed->callbacks[0].args[j], &cb_args[j]);
	CHECK_INT(ava_abi_api_check(parsed, err, sizeof(err)), 0);

	text2 = format_to_string(parsed, NULL);
	CHECK(strcmp(text, text2) == 0);

	/* The banner is a comment: same description, same hash. */
	banner = format_to_string(parsed, "spec/sample.spec");
	CHECK(strncmp(banner, "# Generated by avagen from spec/sample.spec; do not edit.\n", 58) ==
	      0);
	CHECK(strcmp(banner + 58, text) == 0);
	CHECK_INT(ava_abi_parse(banner, strlen(banner), "b.abi", &again, err, sizeof(err)), 0);
	CHECK(again->hash == parsed->hash);
	ava_abi_api_free(again);

	/* Not NUL-terminated, no final newline, comments and blank lines anywhere. */
	{
		size_t n = strlen(text);
		char *copy = malloc(n + 64);

		CHECK(copy);
		memcpy(copy, "\n# a comment\n\n", 14);
		memcpy(copy + 14, text, n - 1); /* drop the last '\n' */
		memset(copy + 14 + n - 1, 'Z', 8);
		CHECK_INT(ava_abi_parse(copy, 14 + n - 1, "c.abi", &again, err, sizeof(err)), 0);
		CHECK(again->hash == parsed->hash);
		ava_abi_api_free(again);
		free(copy);
	}

	/* Lookup by name. */
	CHECK(ava_abi_find_fn(parsed, "f_struct") == &parsed->fns[6]);
	CHECK(ava_abi_find_fn(parsed, "nope") == NULL);
	CHECK(ava_abi_find_fn(&sample, "f_null") == &fns[0]);

	/* The hash is what it says: changing one number changes it. */
	{
		char *mod = strdup(text);
		char *p = strstr(mod, "max=64,");

		CHECK(mod && p);
		p[5] = '5';
		CHECK_INT(ava_abi_parse(mod, strlen(mod), "m.abi", &again, err, sizeof(err)), 0);
		CHECK(again->hash != parsed->hash);
		CHECK(again->hash == fnv1a(mod));
		ava_abi_api_free(again);
		free(mod);
	}

	free(text);
	free(text2);
	free(banner);
	ava_abi_api_free(parsed);
	ava_abi_api_free(NULL);
}

static void test_load(void)
{
	char path[] = "/tmp/ava-test-abi-XXXXXX";
	struct ava_abi_api *api;
	char err[256];
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK_INT(write(fd, sample_text, strlen(sample_text)), (long long)strlen(sample_text));
	close(fd);
	CHECK_INT(ava_abi_load(path, &api, err, sizeof(err)), 0);
	CHECK(api->hash == fnv1a(sample_text));
	ava_abi_api_free(api);

	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, "fn 18 bad ret=void args=scalar:0\n", 33), 33);
	close(fd);
	CHECK_INT(ava_abi_load(path, &api, err, sizeof(err)), -EINVAL);
	CHECK(api == NULL);
	{
		char want[512];

		snprintf(want, sizeof(want), "%s:25:32: scalar size 0 out of range", path);
		CHECK_HAS(err, want);
	}
	unlink(path);
	CHECK_INT(ava_abi_load(path, &api, err, sizeof(err)), -ENOENT);
	CHECK_HAS(err, path);
}

/* ------------------------------------------------------------------------ */
/* Parse errors: file:line:col and the reason.                             */

struct bad_case {
	const char *line; /* appended as line 4 after the prefix */
	const char *where;
	const char *reason;
};

static void test_parse_errors(void)
{
	static const char prefix[] = "ava-abi 2\napi t\n# comment\nhandle 1 dev\n";
	static const struct bad_case cases[] = {
		{ "fn 0 f ret=scalar:4 args=buffer:in:byts:4:max=1",
		  "t.abi:5:36:", "unknown element kind 'byts'" },
		{ "fn 0 f ret=scalar:65 args=", "t.abi:5:19:", "scalar size 65 out of range" },
		{ "fn 1 f ret=void args=", "t.abi:5:4:", "fn id 1 out of order (expected 0)" },
		{ "fn 0 f ret=handle:2 args=", "t.abi:5:19:", "handle type 2 not declared" },
		{ "fn 0 f ret=void args=scalar:4,buffer:in:struct:16:fields=12@1:max=1",
		  "t.abi:5:31:", "does not fit a struct of 16 bytes" },
		{ "fn 0 f ret=void args=buffer:in:struct:16:fields=0@1+4@1:max=1",
		  "t.abi:5:22:", "overlaps" },
		{ "fn 0 f ret=void args=string:max=0", "t.abi:5:33:", "string max 0 out of range" },
		{ "fn 0 f ret=void args=scalar:4 ", "t.abi:5:30:", "unexpected ' '" },
		{ "fn 0 f ret=void args=scalar:04", "t.abi:5:29:", "leading zero" },
		{ "fn 0 f ret=void args=buffer:in:bytes:1:max=99999999999999999999",
		  "t.abi:5:44:", "too large" },
		{ "fn 0 f ret=buffer:in:bytes:1:max=1 args=", "t.abi:5:12:",
		  "a result must be void, scalar or handle" },
		{ "fn 0 f ret=void args=callback:0", "t.abi:5:31:", "callback 0 not declared" },
		{ "fn 0 f ret=void args=buffer:in:bytes:4:max=1:errcode",
		  "t.abi:5:22:", "errcode needs an output" },
		{ "fn 0 f ret=void args=buffer:out:bytes:4:max=1:errcode:alloc",
		  "t.abi:5:55:", "flag 'alloc' repeated or out of order" },
		{ "fn 0 f ret=void args=handle:1:alloc", "t.abi:5:22:", "not allowed" },
		{ "fn 0 f ret=void args=scalar:4 async async", "t.abi:5:36:", "unexpected ' '" },
		{ "fn 0 f ret=void args=scalar:4 unsupported async",
		  "t.abi:5:42:", "unexpected ' '" },
		{ "callback 0 cb ret=void args=scalar:4,userdata userdata=0",
		  "t.abi:5:56:", "does not name a userdata argument" },
		{ "callback 0 cb ret=void args=buffer:out:bytes:1:max=1,userdata userdata=1",
		  "t.abi:5:29:", "callback's buffer arguments must be inputs" },
		{ "handle 1 dev2", "t.abi:5:8:", "handle type 1 out of order (expected 2)" },
		{ "handle 2 dev", "t.abi:5:10:", "handle type 'dev' declared twice" },
		{ "handle 2 9lives", "t.abi:5:10:", "expected handle type name" },
		{ "api again", "t.abi:5:1:", "out of order" },
		{ " fn 0 f ret=void args=", "t.abi:5:1:", "unknown line kind ' '" },
		{ "fn 0 f ret=void args=scalar:4\r", "t.abi:5:30:", "unexpected" },
		{ "fn 0 f ret=void args=sclar:4", "t.abi:5:22:", "unknown value kind 'sclar'" },
		{ "fn 0 f ret=void args=buffer:up:bytes:1:max=1",
		  "t.abi:5:29:", "unknown direction 'up'" },
		{ "fn 0 f ret=void args=buffer:in:bytes:1",
		  "t.abi:5:39:", "expected ':max=' before end of line" },
		{ "fn 0 f ret=void", "t.abi:5:16:", "expected ' args='" },
		{ "fn 0 f ret=void args=handle:1:frob", "t.abi:5:31:", "unknown flag 'frob'" },
		{ "fn 0 f ret=void args=scalar:4,", "t.abi:5:31:", "unknown value kind ''" },
		{ "fn 0 f ret=void args=\nfn 1 f ret=void args=", "t.abi:6:6:",
		  "fn 'f' declared twice" },
		{ "fn 0 f ret=void args=\nhandle 2 late",
		  "t.abi:6:1:", "'handle' line out of order" },
		{ "fn 0 f ret=void args=buffer:in:handle:1:max=1:errcode",
		  "t.abi:5:22:", "errcode needs an output bytes buffer" },
		{ "fn 0 f ret=void args=buffer:out:bytes:4:max=1:alloc",
		  "t.abi:5:22:", "not allowed" },
		{ "fn 0 f ret=void args=buffer:out:bytes:4:max=1:errcode,"
		  "buffer:out:bytes:4:max=1:errcode",
		  "t.abi:5:6:", "more than one errcode argument" },
		/* Resources. */
		{ "fn 0 f ret=handle:1:alloc args=scalar:8 device_memory=arg:1",
		  "t.abi:5:6:", "device_memory argument 1 out of range" },
		{ "fn 0 f ret=handle:1:alloc args=handle:1 device_memory=arg:0",
		  "t.abi:5:6:", "is not a scalar of at most 8 bytes" },
		{ "fn 0 f ret=handle:1:alloc args=scalar:16 device_memory=arg:0",
		  "t.abi:5:6:", "is not a scalar of at most 8 bytes" },
		{ "fn 0 f ret=handle:1:alloc args=buffer:out:handle:1:max=1:alloc "
		  "device_memory=const:1",
		  "t.abi:5:6:", "at most one :alloc value" },
		{ "fn 0 f ret=scalar:4 args=buffer:out:handle:1:max=2:alloc device_memory=const:1",
		  "t.abi:5:6:", "at most one :alloc value" },
		{ "fn 0 f ret=handle:1:alloc args=scalar:8 device_memory=size:0",
		  "t.abi:5:55:", "expected 'arg:' or 'const:'" },
		{ "fn 0 f ret=handle:1:alloc args=scalar:8 device_memory=const:", "t.abi:5:61:",
		  "expected device_memory bytes" },
		{ "fn 0 f ret=handle:1:alloc args=scalar:8 device_memory=arg:32",
		  "t.abi:5:59:", "device_memory argument 32 out of range" },
		{ "fn 0 f ret=handle:1:alloc args=scalar:8 device_memory=const:1 "
		  "device_memory=arg:0",
		  "t.abi:5:62:", "unexpected" },
		{ "fn 0 f ret=void args=scalar:4 unsupported device_time",
		  "t.abi:5:6:", "an unsupported function uses no resources" },
		{ "fn 0 f ret=void args=scalar:4 device_time async", "t.abi:5:42:", "unexpected" },
		{ "fn 0 f ret=void args=scalar:4 device_time=after:1:0",
		  "t.abi:5:43:", "expected 'until:'" },
		{ "fn 0 f ret=void args=handle:1 device_time=until:1",
		  "t.abi:5:50:", "expected ':' before end of line" },
		{ "fn 0 f ret=void args=scalar:4 device_time=until:1:0",
		  "t.abi:5:6:", "completion argument 0 is not a handle the call keeps" },
		{ "fn 0 f ret=void args=handle:1:dealloc device_time=until:1:0",
		  "t.abi:5:6:", "completion argument 0 is not a handle the call keeps" },
		{ "fn 0 f ret=void args=handle:1 device_time=until:1:1",
		  "t.abi:5:6:", "completion argument 1 out of range" },
		{ "fn 0 f ret=void args=handle:1 device_time=until:7:0",
		  "t.abi:5:49:", "completion fn 7 is not another fn" },
		{ "fn 0 f ret=void args=handle:1 device_time=until:0:0",
		  "t.abi:5:49:", "completion fn 0 is not another fn" },
		{ "fn 0 f ret=void args=handle:1 device_time=until:1:0\n"
		  "fn 1 g ret=void args=handle:1,scalar:4",
		  "t.abi:5:49:", "fn 1 (g) must be supported and take only a handle of type 1" },
		{ "fn 0 f ret=void args=handle:1 device_time=until:1:0\n"
		  "fn 1 g ret=void args= unsupported",
		  "t.abi:5:49:", "must be supported" },
	};
	char text[4096], err[256];
	struct ava_abi_api *api;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(text, sizeof(text), "%s%s\n", prefix, cases[i].line);

		err[0] = '\0';
		api = (struct ava_abi_api *)1;
		if (ava_abi_parse(text, (size_t)n, "t.abi", &api, err, sizeof(err)) != -EINVAL ||
		    strncmp(err, cases[i].where, strlen(cases[i].where)) != 0 ||
		    !strstr(err, cases[i].reason)) {
			fprintf(stderr, "case %zu: '%s'\n  got:  %s\n  want: %s ... %s\n", i,
				cases[i].line, err, cases[i].where, cases[i].reason);
			exit(1);
		}
		CHECK(api == NULL);
	}

	/* 33 arguments. */
	{
		int n = snprintf(text, sizeof(text), "%sfn 0 f ret=void args=scalar:1", prefix);

		for (int i = 1; i < 33; i++)
			n += snprintf(text + n, sizeof(text) - (size_t)n, ",scalar:1");
		CHECK_INT(ava_abi_parse(text, (size_t)n, "t.abi", &api, err, sizeof(err)), -EINVAL);
		CHECK_HAS(err, "t.abi:5:310: more than 32 arguments");
	}

	/* Header lines. */
	CHECK_INT(ava_abi_parse("", 0, "e.abi", &api, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "e.abi:1:1: missing 'ava-abi' line");
	CHECK_INT(ava_abi_parse(NULL, 0, "e.abi", &api, err, sizeof(err)), -EINVAL);
	CHECK_INT(ava_abi_parse("ava-abi 2\n", 10, "e.abi", &api, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "e.abi:2:1: missing 'api' line");
	CHECK_INT(ava_abi_parse("ava-abi 2\nfn 0 f ret=void args=\n", 32, "e.abi", &api, err,
				sizeof(err)),
		  -EINVAL);
	CHECK_HAS(err, "e.abi:2:1: expected 'api' line");
	/* Version 1 manifests had no resources; a reader of those would miss them. */
	CHECK_INT(ava_abi_parse("ava-abi 1\n", 10, "e.abi", &api, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "e.abi:1:9: unsupported manifest version 1 (want 2)");
	CHECK_INT(ava_abi_parse("ava-abi 3\n", 10, "e.abi", &api, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "e.abi:1:9: unsupported manifest version 3");
	CHECK_INT(ava_abi_parse("ava-abi 2\napi a\0b\n", 18, "e.abi", &api, err, sizeof(err)),
		  -EINVAL);
	CHECK_HAS(err, "e.abi:2:6: unexpected '?b'");
	/* A tiny buffer and a NULL one are fine. */
	CHECK_INT(ava_abi_parse("x", 1, "e.abi", &api, err, 4), -EINVAL);
	CHECK(strlen(err) == 3);
	CHECK_INT(ava_abi_parse("x", 1, "e.abi", &api, NULL, 0), -EINVAL);
	/* The smallest valid manifest. */
	CHECK_INT(ava_abi_parse("ava-abi 2\napi a\n", 16, "e.abi", &api, err, sizeof(err)), 0);
	CHECK_INT(api->n_fns, 0);
	CHECK(api->hash == fnv1a("ava-abi 2\napi a\n"));
	ava_abi_api_free(api);
}

/* ------------------------------------------------------------------------ */
/* ava_abi_api_check on broken in-memory descriptions.                     */

static void expect_bad_api(const struct ava_abi_api *api, const char *reason)
{
	char err[256] = "";

	if (ava_abi_api_check(api, err, sizeof(err)) != -EINVAL || !strstr(err, reason)) {
		fprintf(stderr, "api_check: got '%s', want '%s'\n", err, reason);
		exit(1);
	}
}

static void test_api_check(void)
{
	struct ava_abi_fn f[sizeof(fns) / sizeof(fns[0])];
	struct ava_abi_value args[AVA_ABI_MAX_ARGS + 1];
	struct ava_abi_api api;
	struct ava_abi_field fl[2];
	char err[256];

#define RESET()                            \
	do {                               \
		memcpy(f, fns, sizeof(f)); \
		api = sample;              \
		api.fns = f;               \
	} while (0)

	RESET();
	CHECK_INT(ava_abi_api_check(&api, err, sizeof(err)), 0);
	api.hash = ava_abi_hash(&sample);
	CHECK_INT(ava_abi_api_check(&api, err, sizeof(err)), 0);
	api.hash ^= 1;
	expect_bad_api(&api, "does not match");

	RESET();
	f[3].id = 4;
	expect_bad_api(&api, "fn 3: bad id or name");
	RESET();
	f[3].name = "f_null";
	expect_bad_api(&api, "fn 'f_null' declared twice");
	RESET();
	f[3].name = "has space";
	expect_bad_api(&api, "fn 3: bad id or name");
	RESET();
	f[1].ret.size_bytes = 65;
	expect_bad_api(&api, "fn 1 (f_scalar): result: scalar size 65 out of range");
	RESET();
	f[2].ret.handle_type = 4;
	expect_bad_api(&api, "handle type 4 not declared (have 3)");
	RESET();
	f[5].flags = 0x80;
	expect_bad_api(&api, "unknown function flags");
	RESET();
	api.n_handle_types = 256;
	expect_bad_api(&api, "counts");
	RESET();
	api.name = NULL;
	expect_bad_api(&api, "api name");

	/* Fields a kind does not use must be zero. */
	RESET();
	memcpy(args, a_string, sizeof(a_string));
	args[0].dir = AVA_ABI_DIR_OUT;
	f[3].args = args;
	expect_bad_api(&api, "argument 0: a string is always an input");
	memcpy(args, a_scalar, sizeof(a_scalar));
	args[0].dir = AVA_ABI_DIR_IN;
	f[3].args = args;
	expect_bad_api(&api, "non-zero unused fields");
	memcpy(args, a_handles, sizeof(a_handles));
	args[0].size_bytes = 8;
	f[3].args = args;
	expect_bad_api(&api, "non-zero unused fields");
	memcpy(args, a_handle_bufs, sizeof(a_handle_bufs));
	args[0].size_bytes = 4;
	f[3].args = args;
	expect_bad_api(&api, "handle elements are 8 bytes");

	/* Struct fields in order, inside, declared. */
	RESET();
	memcpy(args, a_struct, sizeof(a_struct));
	memcpy(fl, struct_fields, sizeof(fl));
	args[0].fields = fl;
	f[6].args = args;
	fl[1].offset_bytes = 33;
	expect_bad_api(&api, "does not fit");
	fl[1].offset_bytes = 12;
	expect_bad_api(&api, "overlaps");
	fl[1].offset_bytes = 32;
	CHECK_INT(ava_abi_api_check(&api, err, sizeof(err)), 0);
	fl[1].handle_type = 0;
	expect_bad_api(&api, "field 1: handle type 0 not declared");
	args[0].n_fields = 17;
	expect_bad_api(&api, "at most 16");

	/* Argument count. */
	RESET();
	for (int i = 0; i <= AVA_ABI_MAX_ARGS; i++)
		args[i] = a_one_scalar[0];
	f[0].args = args;
	f[0].n_args = AVA_ABI_MAX_ARGS;
	CHECK_INT(ava_abi_api_check(&api, err, sizeof(err)), 0);
	f[0].n_args = AVA_ABI_MAX_ARGS + 1;
	expect_bad_api(&api, "bad argument list");

	/* Callback rules. */
	{
		struct ava_abi_callback cb = callbacks[0];

		RESET();
		api.callbacks = &cb;
		cb.userdata_arg = 3;
		expect_bad_api(&api, "does not name a userdata argument");
		cb.userdata_arg = 5;
		expect_bad_api(&api, "does not name a userdata argument");
		cb = callbacks[0];
		cb.id = 1;
		expect_bad_api(&api, "callback 0: bad id");
		RESET();
		api.n_callbacks = 0;
		expect_bad_api(&api, "callback 0 not declared");
	}

	/* Resources: amounts, the charged handle, completions. */
	RESET();
	f[13].mem_arg = 0;
	expect_bad_api(&api, "fn 13 (f_mem_arg): device_memory argument 0 is not a scalar");
	RESET();
	f[13].mem_bytes = 1;
	expect_bad_api(&api, "non-zero constant");
	RESET();
	f[13].mem_from = 3;
	expect_bad_api(&api, "unknown device_memory amount kind 3");
	RESET();
	f[14].mem_arg = 1;
	expect_bad_api(&api, "non-zero argument index");
	RESET();
	f[1].mem_bytes = 5;
	expect_bad_api(&api, "no device_memory amount, but non-zero amount fields");
	RESET();
	f[5].mem_from = AVA_ABI_AMOUNT_CONST; /* its :alloc buffer holds up to 4 handles */
	expect_bad_api(&api, "fn 5 (f_handle_bufs): device_memory needs at most one :alloc value");
	RESET();
	f[10].flags |= AVA_ABI_FN_DEVICE_TIME;
	expect_bad_api(&api, "fn 10 (f_unsup): an unsupported function uses no resources");
	RESET();
	f[15].flags = AVA_ABI_FN_DEVICE_TIME_UNTIL;
	expect_bad_api(&api, "a device_time completion without device_time");
	RESET();
	f[15].flags = AVA_ABI_FN_DEVICE_TIME;
	expect_bad_api(&api, "no device_time completion, but non-zero completion fields");
	RESET();
	f[15].until_arg = 0;
	expect_bad_api(&api, "completion argument 0 is not a handle the call keeps");
	RESET();
	f[15].until_fn = 18;
	expect_bad_api(&api, "fn 15 (f_busy): device_time completion fn 18 is not another fn");
	RESET();
	f[15].until_fn = 2;
	expect_bad_api(&api,
		       "completion fn 2 (f_handles) must be supported and take only a handle");
	RESET();
	f[15].until_fn = 10;
	expect_bad_api(&api, "completion fn 10 (f_unsup) must be supported");

	/* format and hash refuse an invalid description. */
	RESET();
	f[1].ret.size_bytes = 0;
	CHECK(ava_abi_hash(&api) == 0);
	CHECK_INT(ava_abi_format(&api, NULL, stderr), -EINVAL);
	RESET();
	CHECK_INT(ava_abi_format(&api, "two\nlines", stderr), -EINVAL);
	CHECK_INT(ava_abi_api_check(NULL, err, sizeof(err)), -EINVAL);
#undef RESET
}

/* ------------------------------------------------------------------------ */
/* Payload validators.                                                     */

#define ID(tag, index) ((uint64_t)(tag) << 48 | (uint64_t)1 << 24 | (index))

static void put8(struct ava_wire_buf *b, uint8_t v)
{
	CHECK_INT(ava_wire_put_u8(b, v), 0);
}
static void put32(struct ava_wire_buf *b, uint32_t v)
{
	CHECK_INT(ava_wire_put_u32(b, v), 0);
}
static void put64(struct ava_wire_buf *b, uint64_t v)
{
	CHECK_INT(ava_wire_put_u64(b, v), 0);
}
static void putn(struct ava_wire_buf *b, const void *p, size_t n)
{
	CHECK_INT(ava_wire_put_bytes(b, p, n), 0);
}
static void putfill(struct ava_wire_buf *b, uint8_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(b, v);
}

static int args_of(uint32_t fn, const struct ava_wire_buf *b, struct ava_abi_view *views, char *err)
{
	return ava_abi_check_args(&sample, fns[fn].n_args, fns[fn].args, 0, b->data, b->len, views,
				  err, 256);
}

/* A valid payload must pass, every proper prefix fail, and one extra byte fail. */
static void accept_strictly(uint32_t fn, struct ava_wire_buf *b, struct ava_abi_view *views)
{
	char err[256];

	for (size_t n = 0; n < b->len; n++) {
		int r = ava_abi_check_args(&sample, fns[fn].n_args, fns[fn].args, 0, b->data, n,
					   NULL, err, sizeof(err));

		if (r != -EPROTO) {
			fprintf(stderr, "fn %u: prefix of %zu bytes accepted (%d)\n", fn, n, r);
			exit(1);
		}
	}
	put8(b, 0);
	CHECK_INT(args_of(fn, b, NULL, err), -EPROTO);
	CHECK_HAS(err, "1 trailing bytes");
	b->len--;
	if (args_of(fn, b, views, err) != 0) {
		fprintf(stderr, "fn %u rejected: %s\n", fn, err);
		exit(1);
	}
}

static void expect_args_error(uint32_t fn, const struct ava_wire_buf *b, const char *reason)
{
	char err[256] = "";
	int r = args_of(fn, b, NULL, err);

	if (r != -EPROTO || !strstr(err, reason)) {
		fprintf(stderr, "fn %u: got %d '%s', want '%s'\n", fn, r, err, reason);
		exit(1);
	}
}

static void test_check_args(void)
{
	struct ava_abi_view v[AVA_ABI_MAX_ARGS];
	struct ava_wire_buf b;
	char err[256];

	/* Scalars. */
	ava_wire_buf_init(&b);
	put8(&b, 0x7f);
	putfill(&b, 0xee, 64);
	accept_strictly(1, &b, v);
	CHECK(v[0].data == b.data && v[0].present == 1);
	CHECK(v[1].data == b.data + 1);

	/* Handles: tag must match the declared type, 0 is NULL. */
	b.len = 0;
	put64(&b, ID(2, 5));
	put64(&b, 0);
	accept_strictly(2, &b, v);
	CHECK(v[0].u64 == ID(2, 5));
	CHECK(v[0].data == b.data);
	CHECK(v[1].u64 == 0);
	b.len = 0;
	put64(&b, ID(1, 5));
	put64(&b, ID(1, 6));
	expect_args_error(2, &b, "argument 0 (handle): handle type tag 1, expected 2");

	/* Strings. */
	b.len = 0;
	put32(&b, 6);
	putn(&b, "hello", 6);
	accept_strictly(3, &b, v);
	CHECK(v[0].present && v[0].count == 6 && strcmp((const char *)v[0].data, "hello") == 0);
	b.len = 0;
	put32(&b, 0); /* NULL */
	accept_strictly(3, &b, v);
	CHECK(!v[0].present && v[0].data == NULL);
	b.len = 0;
	put32(&b, 16);
	putfill(&b, 'a', 15);
	put8(&b, 0);
	accept_strictly(3, &b, v);
	b.len = 0;
	put32(&b, 5);
	putn(&b, "hello", 5);
	expect_args_error(3, &b, "argument 0 (string): not NUL-terminated");
	b.len = 0;
	put32(&b, 17);
	putfill(&b, 0, 17);
	expect_args_error(3, &b, "length 17 exceeds max 16");
	b.len = 0;
	put32(&b, UINT32_MAX);
	expect_args_error(3, &b, "exceeds max");

	/* Buffers of bytes in every direction; out buffers carry only the count. */
	b.len = 0;
	put8(&b, 1);
	put64(&b, 3);
	putfill(&b, 0x11, 12);
	put8(&b, 1);
	put64(&b, 50);
	put8(&b, 1);
	put64(&b, 2);
	putn(&b, "xy", 2);
	accept_strictly(4, &b, v);
	CHECK(v[0].present && v[0].count == 3 && v[0].data == b.data + 9);
	CHECK(v[1].present && v[1].count == 50 && v[1].data == NULL);
	CHECK(v[2].present && v[2].count == 2 && memcmp(v[2].data, "xy", 2) == 0);
	b.len = 0;
	put8(&b, 0);
	put8(&b, 0);
	put8(&b, 1);
	put64(&b, 0);
	accept_strictly(4, &b, v);
	CHECK(!v[0].present && !v[1].present && v[2].present && v[2].count == 0);
	b.len = 0;
	put8(&b, 1);
	put64(&b, 65);
	putfill(&b, 0, 65 * 4);
	put8(&b, 0);
	put8(&b, 0);
	expect_args_error(4, &b, "argument 0 (buffer): count 65 exceeds max 64");
	b.len = 0;
	put8(&b, 0);
	put8(&b, 1);
	put64(&b, 101);
	put8(&b, 0);
	expect_args_error(4, &b, "argument 1 (buffer): count 101 exceeds max 100");
	b.len = 0;
	put8(&b, 3);
	expect_args_error(4, &b, "argument 0 (buffer): presence byte 3");

	/* Streamed (presence 2): plain IN bytes only, a count and no elements. */
	b.len = 0;
	put8(&b, 2);
	put64(&b, 3);
	put8(&b, 0);
	put8(&b, 0);
	accept_strictly(4, &b, v);
	CHECK(v[0].present && v[0].streamed && v[0].count == 3 && v[0].data == NULL);
	CHECK(!v[1].streamed && !v[2].streamed);
	{
		uint64_t bytes = 0;
		CHECK(ava_abi_streamed_arg(&fns[4], v, &bytes) == 0 && bytes == 12);
		v[0].streamed = 0;
		CHECK(ava_abi_streamed_arg(&fns[4], v, &bytes) == -1 && bytes == 0);
	}
	b.len = 0;
	put8(&b, 2);
	put64(&b, 0);
	put8(&b, 0);
	put8(&b, 0);
	expect_args_error(4, &b, "argument 0 (buffer): streamed count 0 is not a usable size");
	b.len = 0;
	put8(&b, 2);
	put64(&b, 65);
	expect_args_error(4, &b, "argument 0 (buffer): count 65 exceeds max 64");
	b.len = 0;
	put8(&b, 0);
	put8(&b, 0);
	put8(&b, 2);
	put64(&b, 1);
	expect_args_error(4, &b, "argument 2 (buffer): this value may not be streamed");
	b.len = 0;
	put8(&b, 0);
	put8(&b, 2);
	put64(&b, 1);
	expect_args_error(4, &b, "argument 1 (buffer): this value may not be streamed");
	b.len = 0;
	put8(&b, 2);
	put64(&b, UINT64_MAX / 4);
	expect_args_error(11, &b, "not a usable size");

	/* count * size overflow, and a huge count that does not overflow but is not there. */
	b.len = 0;
	put8(&b, 1);
	put64(&b, UINT64_C(1) << 61);
	expect_args_error(11, &b, "overflows");
	b.len = 0;
	put8(&b, 1);
	put64(&b, UINT64_MAX);
	expect_args_error(11, &b, "overflows");
	b.len = 0;
	put8(&b, 1);
	put64(&b, UINT64_C(1) << 60);
	expect_args_error(11, &b, "truncated");

	/* Handle elements. */
	b.len = 0;
	put8(&b, 1);
	put64(&b, 3);
	put64(&b, ID(1, 1));
	put64(&b, 0);
	put64(&b, ID(1, 2));
	put8(&b, 1);
	put64(&b, 4);
	put8(&b, 1);
	put64(&b, 1);
	put64(&b, ID(3, 9));
	accept_strictly(5, &b, v);
	CHECK(v[0].count == 3 && v[1].count == 4 && v[1].data == NULL && v[2].count == 1);
	b.data[9 + 16 + 6] = 2; /* tag of element 2 of argument 0 */
	expect_args_error(5, &b, "argument 0 (buffer): element 2: handle type tag 2, expected 1");

	/* Struct elements: the listed fields are handles. */
	b.len = 0;
	put8(&b, 1);
	put64(&b, 2);
	for (int e = 0; e < 2; e++) {
		putfill(&b, 0xaa, 8);
		put64(&b, ID(1, 1));
		putfill(&b, 0xbb, 8);
		put64(&b, e ? 0 : ID(3, 1));
		putfill(&b, 0xcc, 8);
	}
	accept_strictly(6, &b, v);
	b.data[9 + 40 + 24 + 6] = 1; /* element 1, field 1 (offset 24) gets tag 1 */
	expect_args_error(6, &b, "element 1 field 1: handle type tag 1, expected 3");

	/* Callback tokens and userdata: any value. */
	b.len = 0;
	put64(&b, UINT64_MAX);
	put64(&b, 0x1234);
	accept_strictly(7, &b, v);
	CHECK(v[0].u64 == UINT64_MAX && v[1].u64 == 0x1234);

	/* A CALLBACK frame: the token first, then the callback's arguments. */
	b.len = 0;
	put64(&b, 0xfeed);
	putn(&b, "\1\2\3\4", 4);
	put32(&b, 3);
	putn(&b, "ab", 3);
	put8(&b, 1);
	put64(&b, 2);
	putfill(&b, 9, 8);
	put64(&b, ID(1, 3));
	put64(&b, 77);
	CHECK_INT(ava_abi_check_args(&sample, 5, cb_args, 1, b.data, b.len, v, err, sizeof(err)),
		  0);
	CHECK(v[4].u64 == 77 && v[1].count == 3 && v[2].count == 2);
	CHECK_INT(ava_abi_check_args(&sample, 5, cb_args, 0, b.data, b.len, v, err, sizeof(err)),
		  -EPROTO);
	CHECK_INT(ava_abi_check_args(&sample, 5, cb_args, 1, b.data, 7, v, err, sizeof(err)),
		  -EPROTO);
	CHECK_HAS(err, "token");

	/* Empty payloads: a function without arguments. */
	CHECK_INT(ava_abi_check_args(&sample, 0, NULL, 0, NULL, 0, NULL, err, sizeof(err)), 0);
	CHECK_INT(ava_abi_check_args(&sample, 0, NULL, 0, (const uint8_t *)"x", 1, NULL, err,
				     sizeof(err)),
		  -EPROTO);
	CHECK_INT(ava_abi_check_args(&sample, 1, NULL, 0, NULL, 0, NULL, err, sizeof(err)),
		  -EINVAL);
	ava_wire_buf_fini(&b);
}

static int reply_of(uint32_t fn, const struct ava_abi_view *call, uint16_t flags,
		    const struct ava_wire_buf *b, struct ava_abi_view *rv, uint32_t *dfn,
		    struct ava_abi_view *dv, char *err)
{
	return ava_abi_check_reply(&sample, &fns[fn], call, flags, b->data, b->len, rv, dfn, dv,
				   err, 256);
}

static void expect_reply_error(uint32_t fn, const struct ava_abi_view *call, uint16_t flags,
			       const struct ava_wire_buf *b, const char *reason)
{
	char err[256] = "";
	int r = reply_of(fn, call, flags, b, NULL, NULL, NULL, err);

	if (r != -EPROTO || !strstr(err, reason)) {
		fprintf(stderr, "reply fn %u: got %d '%s', want '%s'\n", fn, r, err, reason);
		exit(1);
	}
}

static void test_check_reply(void)
{
	struct ava_abi_view call[AVA_ABI_MAX_ARGS], rv[1 + AVA_ABI_MAX_ARGS], dv;
	struct ava_wire_buf b, c;
	uint32_t dfn;
	char err[256];

	ava_wire_buf_init(&b);
	ava_wire_buf_init(&c);

	/* f_buffers: out buffer of 50 and inout of 2 were sent; in buffer absent. */
	put8(&c, 0);
	put8(&c, 1);
	put64(&c, 50);
	put8(&c, 1);
	put64(&c, 2);
	putn(&c, "xy", 2);
	CHECK_INT(args_of(4, &c, call, err), 0);

	put32(&b, 0);
	put64(&b, 50);
	putfill(&b, 0x42, 100);
	put64(&b, 2);
	putn(&b, "XY", 2);
	CHECK_INT(reply_of(4, call, 0, &b, rv, &dfn, &dv, err), 0);
	CHECK(rv[0].present && rv[0].data == b.data);
	CHECK(!rv[1].present);
	CHECK(rv[2].present && rv[2].count == 50 && rv[2].data == b.data + 12);
	CHECK(rv[3].present && rv[3].count == 2 && memcmp(rv[3].data, "XY", 2) == 0);
	CHECK(dfn == UINT32_MAX);
	for (size_t n = 0; n < b.len; n++)
		CHECK_INT(ava_abi_check_reply(&sample, &fns[4], call, 0, b.data, n, NULL, NULL,
					      NULL, err, sizeof(err)),
			  -EPROTO);
	put8(&b, 0);
	expect_reply_error(4, call, 0, &b, "trailing");
	b.len--;

	/* The count must be the one the call asked for. */
	b.data[4] = 49;
	expect_reply_error(4, call, 0, &b, "argument 1 (buffer): count 49 differs from the 50");
	b.data[4] = 50;

	/* An out buffer the call did not send must not come back. */
	call[1].present = 0;
	expect_reply_error(4, call, 0, &b, "argument 2 (buffer): count 50 differs from the 2");
	call[1].present = 1;
	CHECK_INT(ava_abi_check_reply(&sample, &fns[4], NULL, 0, b.data, b.len, NULL, NULL, NULL,
				      err, sizeof(err)),
		  -EINVAL);

	/* Deferred error trailer: fn id of an async function and its result. */
	put32(&b, 9);
	put32(&b, (uint32_t)-1);
	CHECK_INT(reply_of(4, call, AVA_WIRE_F_DEFERRED_ERROR, &b, rv, &dfn, &dv, err), 0);
	CHECK_INT(dfn, 9);
	CHECK(dv.present && dv.data == b.data + b.len - 4);
	expect_reply_error(4, call, 0, &b, "trailing"); /* trailer without the flag */
	b.len -= 8;
	expect_reply_error(4, call, AVA_WIRE_F_DEFERRED_ERROR, &b, "truncated fn id");
	put32(&b, 10); /* f_unsup is not async */
	put32(&b, 0);
	expect_reply_error(4, call, AVA_WIRE_F_DEFERRED_ERROR, &b, "is not async");
	b.len -= 8;
	put32(&b, 18);
	put32(&b, 0);
	expect_reply_error(4, call, AVA_WIRE_F_DEFERRED_ERROR, &b, "fn id 18 out of range");
	b.len -= 8;
	put32(&b, 12); /* async, void result: nothing follows the id */
	CHECK_INT(reply_of(4, call, AVA_WIRE_F_DEFERRED_ERROR, &b, rv, &dfn, &dv, err), 0);
	CHECK_INT(dfn, 12);
	CHECK(!dv.present);

	/* A void function's reply is empty (or just the trailer). */
	b.len = 0;
	CHECK_INT(reply_of(0, NULL, 0, &b, rv, &dfn, &dv, err), 0);
	put32(&b, 9);
	put32(&b, 7);
	CHECK_INT(reply_of(0, NULL, AVA_WIRE_F_DEFERRED_ERROR, &b, rv, &dfn, &dv, err), 0);

	/* Handle results and returned handle arrays are tag-checked. */
	b.len = 0;
	c.len = 0;
	put64(&c, ID(2, 1));
	put64(&c, 0);
	CHECK_INT(args_of(2, &c, call, err), 0);
	put64(&b, ID(1, 4));
	CHECK_INT(reply_of(2, call, 0, &b, rv, NULL, NULL, err), 0);
	CHECK(rv[0].u64 == ID(1, 4));
	b.len = 0;
	put64(&b, ID(3, 4));
	expect_reply_error(2, call, 0, &b, "result (handle): handle type tag 3, expected 1");

	c.len = 0;
	put8(&c, 0);
	put8(&c, 1);
	put64(&c, 2);
	put8(&c, 0);
	CHECK_INT(args_of(5, &c, call, err), 0);
	b.len = 0;
	put32(&b, 0);
	put64(&b, 2);
	put64(&b, ID(2, 1));
	put64(&b, ID(2, 2));
	CHECK_INT(reply_of(5, call, 0, &b, rv, NULL, NULL, err), 0);
	CHECK(rv[2].count == 2 && rv[2].data == b.data + 12);
	b.data[12 + 8 + 6] = 1;
	expect_reply_error(5, call, 0, &b, "argument 1 (buffer): element 1: handle type tag 1");

	/* Struct inout: fields checked on the way back too. */
	c.len = 0;
	put8(&c, 1);
	put64(&c, 1);
	putfill(&c, 0, 40);
	CHECK_INT(args_of(6, &c, call, err), 0);
	b.len = 0;
	put32(&b, 0);
	put64(&b, 1);
	putfill(&b, 0, 40);
	CHECK_INT(reply_of(6, call, 0, &b, rv, NULL, NULL, err), 0);
	b.data[12 + 8 + 6] = 2;
	b.data[12 + 8] = 1;
	expect_reply_error(6, call, 0, &b, "element 0 field 0: handle type tag 2, expected 1");

	ava_wire_buf_fini(&b);
	ava_wire_buf_fini(&c);
}

static void test_check_result(void)
{
	static const struct ava_abi_value v_void = { .kind = AVA_ABI_VOID };
	static const struct ava_abi_value v_s2 = { .kind = AVA_ABI_SCALAR, .size_bytes = 2 };
	static const struct ava_abi_value v_h = { .kind = AVA_ABI_HANDLE, .handle_type = 2 };
	static const uint8_t bytes[9] = { 1, 2, 3, 4, 5, 6, 2, 0, 9 };
	struct ava_abi_view v;
	char err[256];

	CHECK_INT(ava_abi_check_result(&sample, &v_void, NULL, 0, &v, err, sizeof(err)), 0);
	CHECK(!v.present);
	CHECK_INT(ava_abi_check_result(&sample, &v_void, bytes, 1, &v, err, sizeof(err)), -EPROTO);
	CHECK_INT(ava_abi_check_result(&sample, &v_s2, bytes, 2, &v, err, sizeof(err)), 0);
	CHECK(v.data == bytes);
	CHECK_INT(ava_abi_check_result(&sample, &v_s2, bytes, 1, &v, err, sizeof(err)), -EPROTO);
	CHECK_HAS(err, "result (scalar): truncated");
	CHECK_INT(ava_abi_check_result(&sample, &v_s2, bytes, 3, &v, err, sizeof(err)), -EPROTO);
	CHECK_INT(ava_abi_check_result(&sample, &v_h, bytes, 8, &v, err, sizeof(err)), 0);
	CHECK(v.u64 == UINT64_C(0x0002060504030201));
	CHECK_INT(ava_abi_check_result(&sample, &v_h, bytes + 1, 8, &v, err, sizeof(err)), -EPROTO);
	CHECK_HAS(err, "handle type tag 0, expected 2");
}

/* Buffers of strings (clCreateProgramWithSource): layout, round trip, rejections. */
static void test_string_elements(void)
{
	static const char text[] = "ava-abi 2\n"
				   "api s\n"
				   "fn 0 f ret=scalar:4 args=scalar:4,buffer:in:string:max=8\n";
	struct ava_abi_api *api;
	struct ava_abi_view views[2];
	char err[256];
	uint8_t p[64];
	size_t n = 0;

	CHECK_INT(ava_abi_parse(text, strlen(text), "s.abi", &api, err, sizeof(err)), 0);
	CHECK_INT(api->fns[0].args[1].elem, AVA_ABI_ELEM_STRING);
	CHECK_INT(api->fns[0].args[1].size_bytes, 8);
	{
		char *out = NULL;
		size_t out_len = 0;
		FILE *f = open_memstream(&out, &out_len);

		CHECK_INT(ava_abi_format(api, NULL, f), 0);
		fclose(f);
		CHECK(strcmp(out, text) == 0);
		free(out);
	}
	/* x = 2; strings { "ab", NULL } */
	memset(p, 0, sizeof(p));
	p[n++] = 2, n += 3;
	p[n++] = 1;
	p[n++] = 2, n += 7;
	p[n++] = 3, n += 3;
	memcpy(p + n, "ab", 3), n += 3;
	n += 4; /* NULL element */
	CHECK_INT(ava_abi_check_args(api, 2, api->fns[0].args, 0, p, n, views, err, sizeof(err)),
		  0);
	CHECK_INT(views[1].count, 2);
	CHECK(views[1].data == p + 13);
	/* The string's last byte must be its NUL. */
	p[n - 5] = 'x';
	CHECK_INT(ava_abi_check_args(api, 2, api->fns[0].args, 0, p, n, views, err, sizeof(err)),
		  -EPROTO);
	CHECK_HAS(err, "not NUL-terminated");
	p[n - 5] = 0;
	/* A length running past the payload. */
	p[13] = 40;
	CHECK_INT(ava_abi_check_args(api, 2, api->fns[0].args, 0, p, n, views, err, sizeof(err)),
		  -EPROTO);
	CHECK_HAS(err, "truncated");
	ava_abi_api_free(api);
	/* Strings are inputs only. */
	static const char out_text[] =
	    "ava-abi 2\napi s\nfn 0 f ret=void args=buffer:out:string:max=8\n";
	CHECK_INT(ava_abi_parse(out_text, strlen(out_text), "s.abi", &api, err, sizeof(err)),
		  -EINVAL);
	CHECK_HAS(err, "always an input");
}

/* Blobs buffers: the mode byte, capacities in the call, sized blobs in the reply. */
static void test_blobs(void)
{
	static const char text[] = "ava-abi 2\n"
				   "api b\n"
				   "fn 0 f ret=void args=buffer:out:bytes:1:max=64:blobs\n";
	struct ava_abi_api *api;
	struct ava_abi_view views[1], rv[2];
	char err[256];
	struct ava_wire_buf b;

	CHECK_INT(ava_abi_parse(text, strlen(text), "b.abi", &api, err, sizeof(err)), 0);
	CHECK(api->fns[0].args[0].flags == AVA_ABI_V_BLOBS);
	/* Mode 1 with 16 bytes: two pointers, capacities 3 and 0. */
	ava_wire_buf_init(&b);
	CHECK_INT(ava_wire_put_u8(&b, 1), 0);
	CHECK_INT(ava_wire_put_u64(&b, 16), 0);
	CHECK_INT(ava_wire_put_u8(&b, 1), 0);
	CHECK_INT(ava_wire_put_u64(&b, 3), 0);
	CHECK_INT(ava_wire_put_u64(&b, 0), 0);
	CHECK_INT(
	    ava_abi_check_args(api, 1, api->fns[0].args, 0, b.data, b.len, views, err, sizeof(err)),
	    0);
	CHECK(views[0].u64 == 1 && views[0].count == 16 && views[0].data);
	/* Capacities beyond the buffer's max bytes are refused before any allocation. */
	b.len -= 16;
	CHECK_INT(ava_wire_put_u64(&b, 60), 0);
	CHECK_INT(ava_wire_put_u64(&b, 5), 0);
	CHECK_INT(
	    ava_abi_check_args(api, 1, api->fns[0].args, 0, b.data, b.len, views, err, sizeof(err)),
	    -EPROTO);
	CHECK_HAS(err, "exceed max");
	b.len = 0;
	/* The reply: per pointer u64 n and n bytes. */
	views[0] = (struct ava_abi_view){ .present = 1, .count = 16, .u64 = 1 };
	CHECK_INT(ava_wire_put_u64(&b, 16), 0);
	CHECK_INT(ava_wire_put_u64(&b, 3), 0);
	CHECK_INT(ava_wire_put_bytes(&b, "abc", 3), 0);
	CHECK_INT(ava_wire_put_u64(&b, 0), 0);
	CHECK_INT(ava_abi_check_reply(api, &api->fns[0], views, 0, b.data, b.len, rv, NULL, NULL,
				      err, sizeof(err)),
		  0);
	CHECK(rv[1].u64 == 1 && rv[1].data);
	/* A truncated blob is caught. */
	CHECK_INT(ava_abi_check_reply(api, &api->fns[0], views, 0, b.data, b.len - 9, rv, NULL,
				      NULL, err, sizeof(err)),
		  -EPROTO);
	CHECK_HAS(err, "truncated");
	/* :parent needs a function that creates an object. */
	{
		static const char no_alloc[] = "ava-abi 2\napi p\nhandle 1 h\n"
					       "fn 0 f ret=void args=handle:1:parent\n";
		static const char with_alloc[] = "ava-abi 2\napi p\nhandle 1 h\n"
						 "fn 0 f ret=handle:1:alloc args=handle:1:parent\n";
		struct ava_abi_api *pa = NULL;
		CHECK_INT(ava_abi_parse(no_alloc, strlen(no_alloc), "p.abi", &pa, err, sizeof(err)),
			  -EINVAL);
		CHECK_HAS(err, "creates no object");
		CHECK_INT(
		    ava_abi_parse(with_alloc, strlen(with_alloc), "p.abi", &pa, err, sizeof(err)),
		    0);
		CHECK(pa->fns[0].args[0].flags == AVA_ABI_V_PARENT);
		ava_abi_api_free(pa);
	}
	/* A blobs flag on an input buffer is not a valid manifest. */
	static const char bad[] = "ava-abi 2\n"
				  "api b\n"
				  "fn 0 f ret=void args=buffer:in:bytes:1:max=64:blobs\n";
	struct ava_abi_api *api2 = NULL;
	CHECK_INT(ava_abi_parse(bad, strlen(bad), "b.abi", &api2, err, sizeof(err)), -EINVAL);
	ava_wire_buf_fini(&b);
	ava_abi_api_free(api);
}

/* Property lists: odd count, zero final key; the count helper. */
static void test_props(void)
{
	static const char text[] = "ava-abi 2\n"
				   "api p\n"
				   "fn 0 f ret=void args=buffer:in:bytes:8:max=64:scan:props\n";
	struct ava_abi_api *api;
	struct ava_abi_view views[1];
	char err[256];
	uint8_t p[1 + 8 + 5 * 8];
	const int64_t list[] = { 0x1084, 77, 0x1085, 0, 0 };

	CHECK_INT(ava_abi_parse(text, strlen(text), "p.abi", &api, err, sizeof(err)), 0);
	CHECK(api->fns[0].args[0].flags == (AVA_ABI_V_SCAN | AVA_ABI_V_PROPS));
	/* A value of 0 does not end the list; the first zero key does. */
	CHECK(ava_gen_props_count(list, 8) == 5);
	CHECK(ava_gen_props_count(NULL, 8) == AVA_GEN_COUNT_FROM_WIRE);
	p[0] = 1;
	memset(p + 1, 0, 8);
	p[1] = 5;
	memcpy(p + 9, list, sizeof(list));
	CHECK_INT(
	    ava_abi_check_args(api, 1, api->fns[0].args, 0, p, sizeof(p), views, err, sizeof(err)),
	    0);
	/* Without its terminator the library would read past the buffer. */
	p[9 + 32] = 1;
	CHECK_INT(
	    ava_abi_check_args(api, 1, api->fns[0].args, 0, p, sizeof(p), views, err, sizeof(err)),
	    -EPROTO);
	CHECK_HAS(err, "zero key");
	/* An even count is not pairs plus a terminator. */
	p[1] = 4;
	CHECK_INT(ava_abi_check_args(api, 1, api->fns[0].args, 0, p, sizeof(p) - 8, views, err,
				     sizeof(err)),
		  -EPROTO);
	CHECK_HAS(err, "not key/value pairs");
	ava_abi_api_free(api);
}

/* ------------------------------------------------------------------------ */
/* Rects: the :rect flag, and the packing both runtimes share.             */

static void test_rect(void)
{
	static const char text[] = "ava-abi 2\n"
				   "api r\n"
				   "handle 1 ev\n"
				   "fn 0 rd ret=void args=buffer:out:bytes:1:max=64:late:rect,"
				   "buffer:out:handle:1:max=1:event\n"
				   "fn 1 wr ret=void args=buffer:in:bytes:1:max=64:rect\n";
	static const char out_not_late[] = "ava-abi 2\n"
					   "api r\n"
					   "fn 0 rd ret=void args=buffer:out:bytes:1:max=64:rect\n";
	static const char wide[] = "ava-abi 2\n"
				   "api r\n"
				   "fn 0 wr ret=void args=buffer:in:bytes:4:max=64:rect\n";
	struct ava_abi_api *api;
	char err[256];

	CHECK_INT(ava_abi_parse(text, strlen(text), "r.abi", &api, err, sizeof(err)), 0);
	CHECK(api->fns[0].args[0].flags == (AVA_ABI_V_LATE | AVA_ABI_V_RECT));
	CHECK(api->fns[1].args[0].flags == AVA_ABI_V_RECT);
	ava_abi_api_free(api);
	CHECK_INT(
	    ava_abi_parse(out_not_late, strlen(out_not_late), "r.abi", &api, err, sizeof(err)),
	    -EINVAL);
	CHECK_HAS(err, "output rect must be late");
	CHECK_INT(ava_abi_parse(wide, strlen(wide), "r.abi", &api, err, sizeof(err)), -EINVAL);
	static const char map[] =
	    "ava-abi 2\n"
	    "api r\n"
	    "handle 1 ev\n"
	    "fn 0 m ret=map:max=64:rect args=buffer:out:handle:1:max=1:event\n";
	CHECK_INT(ava_abi_parse(map, strlen(map), "r.abi", &api, err, sizeof(err)), 0);
	CHECK(api->fns[0].ret.kind == AVA_ABI_MAP && api->fns[0].ret.flags == AVA_ABI_V_RECT);
	ava_abi_api_free(api);

	/* 3 x 2 x 2 at offset 5, pitches 4 and 10: packed, then back around a pattern */
	const struct ava_gen_rect r = { .offset_bytes = 5,
					.row_bytes = 3,
					.rows = 2,
					.slices = 2,
					.row_pitch = 4,
					.slice_pitch = 10 };
	uint8_t app[32], packed[12], back[32];
	uint64_t bytes = 0;
	for (unsigned i = 0; i < sizeof(app); i++)
		app[i] = (uint8_t)i;
	CHECK_INT(ava_gen_rect_bytes(&r, &bytes), 0);
	CHECK(bytes == 12);
	ava_gen_rect_pack(&r, app, packed);
	static const uint8_t want[12] = { 5, 6, 7, 9, 10, 11, 15, 16, 17, 19, 20, 21 };
	CHECK(memcmp(packed, want, sizeof(want)) == 0);
	memset(back, 0xee, sizeof(back));
	ava_gen_rect_unpack(&r, packed, back);
	for (unsigned i = 0; i < sizeof(back); i++) {
		bool in = i >= 5 && (i - 5) % 10 < 7 && (i - 5) % 10 % 4 < 3 && i < 22;
		CHECK(back[i] == (in ? app[i] : 0xee));
	}
	/* an empty rect is 0 bytes; one whose last byte overflows is refused */
	struct ava_gen_rect e = r;
	e.rows = 0;
	CHECK_INT(ava_gen_rect_bytes(&e, &bytes), 0);
	CHECK(bytes == 0);
	e = r;
	e.slice_pitch = UINT64_MAX / 2 + 1;
	e.slices = 3;
	CHECK_INT(ava_gen_rect_bytes(&e, &bytes), -EINVAL);
	e = r;
	e.offset_bytes = UINT64_MAX - 10;
	CHECK_INT(ava_gen_rect_bytes(&e, &bytes), -EINVAL);
	e = r;
	e.row_bytes = UINT64_MAX / 2;
	CHECK_INT(ava_gen_rect_bytes(&e, &bytes), -EINVAL);
	/* the extent: from the pointer to one past the last byte */
	CHECK_INT(ava_gen_rect_extent(&r, &bytes), 0);
	CHECK(bytes == 22);
}

/* ------------------------------------------------------------------------ */
/* What the router reads of an allocating call.                            */

static void test_resources(void)
{
	struct ava_abi_view call[AVA_ABI_MAX_ARGS], reply[1 + AVA_ABI_MAX_ARGS];
	struct ava_wire_buf b;
	char err[256];
	uint64_t bytes, id;

	/* f_mem_arg(dev, size): the amount is the scalar argument; the handle is the result. */
	ava_wire_buf_init(&b);
	CHECK_INT(ava_wire_put_u64(&b, ID(1, 5)), 0);
	CHECK_INT(ava_wire_put_u64(&b, UINT64_C(0x0102030405060708)), 0);
	CHECK_INT(ava_abi_check_args(&sample, fns[13].n_args, fns[13].args, 0, b.data, b.len, call,
				     err, sizeof(err)),
		  0);
	CHECK_INT(ava_abi_mem_amount(&fns[13], call, &bytes), 0);
	CHECK(bytes == UINT64_C(0x0102030405060708));
	ava_wire_buf_fini(&b);
	ava_wire_buf_init(&b);
	CHECK_INT(ava_wire_put_u64(&b, ID(3, 9)), 0);
	CHECK_INT(ava_abi_check_reply(&sample, &fns[13], call, 0, b.data, b.len, reply, NULL, NULL,
				      err, sizeof(err)),
		  0);
	CHECK_INT(ava_abi_new_handle(&fns[13], reply, &id), 0);
	CHECK(id == ID(3, 9));
	ava_wire_buf_fini(&b);

	/* f_mem_const(&buf): a constant; the handle is the out buffer's one element. */
	ava_wire_buf_init(&b);
	CHECK_INT(ava_wire_put_u8(&b, 1), 0);
	CHECK_INT(ava_wire_put_u64(&b, 1), 0);
	CHECK_INT(ava_abi_check_args(&sample, fns[14].n_args, fns[14].args, 0, b.data, b.len, call,
				     err, sizeof(err)),
		  0);
	CHECK_INT(ava_abi_mem_amount(&fns[14], call, &bytes), 0);
	CHECK(bytes == 4096);
	ava_wire_buf_fini(&b);
	ava_wire_buf_init(&b);
	CHECK_INT(ava_wire_put_bytes(&b, "\0\0\0\0", 4), 0);
	CHECK_INT(ava_wire_put_u64(&b, 1), 0);
	CHECK_INT(ava_wire_put_u64(&b, ID(2, 4)), 0);
	CHECK_INT(ava_abi_check_reply(&sample, &fns[14], call, 0, b.data, b.len, reply, NULL, NULL,
				      err, sizeof(err)),
		  0);
	CHECK_INT(ava_abi_new_handle(&fns[14], reply, &id), 0);
	CHECK(id == ID(2, 4));
	ava_wire_buf_fini(&b);
	/* No buffer sent: nothing was created. */
	ava_wire_buf_init(&b);
	CHECK_INT(ava_wire_put_u8(&b, 0), 0);
	CHECK_INT(ava_abi_check_args(&sample, fns[14].n_args, fns[14].args, 0, b.data, b.len, call,
				     err, sizeof(err)),
		  0);
	ava_wire_buf_fini(&b);
	ava_wire_buf_init(&b);
	CHECK_INT(ava_wire_put_bytes(&b, "\0\0\0\0", 4), 0);
	CHECK_INT(ava_abi_check_reply(&sample, &fns[14], call, 0, b.data, b.len, reply, NULL, NULL,
				      err, sizeof(err)),
		  0);
	CHECK_INT(ava_abi_new_handle(&fns[14], reply, &id), 0);
	CHECK(id == 0);
	ava_wire_buf_fini(&b);

	/* Functions that allocate no metered memory, or create nothing. */
	CHECK_INT(ava_abi_mem_amount(&fns[1], call, &bytes), -ENOENT);
	CHECK_INT(ava_abi_new_handle(&fns[1], reply, &id), -ENOENT);
	CHECK_INT(ava_abi_mem_amount(&fns[13], NULL, &bytes), -EINVAL);
}

int main(void)
{
	test_round_trip();
	test_load();
	test_parse_errors();
	test_api_check();
	test_check_args();
	test_check_reply();
	test_check_result();
	test_string_elements();
	test_props();
	test_rect();
	test_resources();
	test_blobs();
	printf("test_abi: ok\n");
	return 0;
}
