/* SPDX-License-Identifier: MIT */
/*
 * mini: a made-up API whose spec (mini.spec) uses every annotation avagen
 * knows. The golden files in ../golden are what avagen makes of it; the
 * behaviour test (../mini_test.c) implements it and calls it through the
 * generated stubs and server dispatch.
 */
#ifndef MINI_H
#define MINI_H

#include <stddef.h>
#include <stdint.h>

typedef enum mini_err {
	MINI_OK = 0,
	MINI_ERR_REMOTE = 1,
	MINI_ERR_UNSUPPORTED = 2,
	MINI_ERR_BAD_HANDLE = 3,
	MINI_ERR_REFUSED = 4,
} mini_err;

typedef enum mini_mode {
	MINI_MODE_SYNC = 0,
	MINI_MODE_ASYNC = 1,
	MINI_MODE_AUTO = 2,
} mini_mode;

#define MINI_NAME_MAX 32

typedef int32_t mini_count_t;
typedef struct mini_ctx_s *mini_ctx;
typedef struct mini_buf_s *mini_buf;
typedef struct mini_ctx_s *mini_ctx_alias;

typedef struct mini_pair {
	uint32_t tag;
	mini_buf first;		   /* annotated with ava_field */
	struct mini_buf_s *second; /* annotated with ava_field, no typedef */
	double weight;
	mini_buf third; /* inferred: an opaque typedef */
} mini_pair;

typedef struct mini_point {
	int32_t x, y;
} mini_point;

/* Too big to travel by value: its function stays unsupported. */
typedef struct mini_big {
	char bytes[100];
} mini_big;

typedef int (*mini_event_fn)(mini_buf buf, int32_t status, const char *msg, void *user);

/* A global of the library: specs cannot refer to it (see ../bad). */
extern int mini_verbosity;

mini_err mini_open(const char *name, mini_ctx *ret_ctx);
mini_err mini_close(mini_ctx ctx);
mini_buf mini_buf_new(mini_ctx ctx, size_t size, mini_err *err);
mini_err mini_buf_free(mini_buf buf);
mini_err mini_buf_retain(mini_buf buf);
mini_err mini_write(mini_buf buf, mini_mode mode, const void *data, size_t size);
mini_err mini_read(mini_buf buf, void *data, size_t offset, size_t size);
mini_err mini_copy(mini_ctx ctx, int32_t mode, const uint8_t *src, size_t n, uint8_t *dst,
		   size_t m);
mini_err mini_pairs(mini_ctx ctx, const mini_pair *pairs, uint32_t count);
mini_err mini_points(mini_point *pts, size_t n);
mini_err mini_on_event(mini_ctx ctx, mini_event_fn fn, void *user);
mini_err mini_flush(mini_ctx ctx);
mini_err mini_submit(mini_ctx ctx, size_t bytes);
int64_t mini_clock(void);
void mini_log(const char *msg);
mini_err mini_format(char *out, size_t len, const char *fmt, ...);
mini_err mini_legacy(int x);
mini_err mini_missing(mini_ctx ctx);
uintptr_t mini_device_ptr(mini_buf buf);
void *mini_map(mini_buf buf);
mini_err mini_set_name(mini_ctx_alias ctx, const char *name, const int32_t flags);
mini_err mini_bufs(const mini_buf *bufs, uint32_t n, mini_buf *ret_bufs);
mini_err mini_release_all(mini_buf *bufs, uint32_t n);
mini_err mini_poke(mini_ctx ctx, void *device_ptr);
mini_count_t mini_count(mini_ctx ctx);
mini_err mini_clash(int args, int ret, int plan, int32_t *out);
mini_ctx mini_current(void);
mini_big mini_big_get(void);
/* Deprecated, still part of the API: the server must call it without warnings. */
mini_err mini_old(mini_ctx ctx) __attribute__((deprecated));
mini_err mini_on_error(mini_ctx ctx, void (*fn)(int32_t code, void *user), void *user);
/*
 * An extension: the library does not export it, the server finds it
 * through a lookup (ava_resolve_via). Declared amid the others: the call
 * ids the manifest froze stay (ava_call_ids), and it gets the next free one.
 */
mini_err mini_ext_tune(mini_ctx ctx, int32_t level);

/*
 * What every handle proxy starts with: avagen fills it (ava_handle_proxy_table),
 * each member named like a function of the API pointing to it.
 */
struct mini_table {
	mini_err (*mini_close)(mini_ctx);
	mini_err (*mini_buf_free)(mini_buf);
	void *reserved;				/* not a function pointer: NULL */
	mini_err (*mini_missing)(mini_ctx);	/* unsupported: its (weak) stub */
	const void *(*mini_get_dispatch)(void); /* a guest source's (ava_guest_export) */
	mini_err (*mini_ext_tune)(mini_ctx, int32_t);
	mini_err (*mini_nothing)(void); /* names no function: NULL */
};

/* An info query: what the value holds depends on what is asked. */
typedef enum mini_info {
	MINI_INFO_SIZE = 1,
	MINI_INFO_CTX = 2,
	MINI_INFO_BUFS = 3,
	MINI_INFO_SECRET = 4,
} mini_info;
mini_err mini_get_info(mini_buf buf, mini_info what, size_t size, void *value, size_t *size_ret);

/* Key/value properties ending with a zero key; a value may be a handle. */
typedef intptr_t mini_prop;
#define MINI_PROP_PEER	1
#define MINI_FLAG_SHARE 0x1u
#define MINI_FLAG_COPY	0x2u
mini_ctx mini_create(const mini_prop *props, uint32_t flags, mini_err *err);
/* value: plain bytes that may hold a handle. */
mini_err mini_set_arg(mini_ctx ctx, uint32_t index, size_t size, const void *value);
/* count strings, each NUL-terminated or as long as lengths says. */
mini_err mini_compile(mini_ctx ctx, uint32_t count, const char **sources, const size_t *lengths);
mini_err mini_wait(mini_ctx ctx, int32_t blocking);
typedef void (*mini_notify_fn)(const char *info, const void *data, size_t size, void *user);
mini_err mini_on_notify(mini_ctx ctx, mini_notify_fn fn, void *user);
/* No spec entry, but an error out-parameter of the name ava_errcode_param gives. */
mini_buf mini_import(mini_ctx ctx, int32_t fd, mini_err *err);
/* Returns once the device work queued on buf is done (mini_read's completion). */
mini_err mini_buf_finish(mini_buf buf);

/*
 * Late data, rects, mappings, sub-buffers, blobs and cleared bits. mini's
 * completion events are buffers (a fence is a mini_buf), so the handle types
 * stay two.
 */
mini_err mini_read_late(mini_buf buf, size_t size, void *data, mini_buf *ret_fence);
mini_err mini_write_late(mini_buf buf, size_t size, const void *data, mini_buf *ret_fence);
/* region: {row bytes, rows}; rows pitch bytes apart at data. */
mini_err mini_write_rect(mini_buf buf, const size_t *region, size_t pitch, const void *data);
mini_err mini_read_rect(mini_buf buf, const size_t *region, size_t pitch, void *data,
			mini_buf *ret_fence);
#define MINI_MAP_READ  0x1u
#define MINI_MAP_WRITE 0x2u
void *mini_map_bytes(mini_buf buf, uint32_t flags, size_t size, mini_buf *ret_fence, mini_err *err);
mini_err mini_unmap(mini_buf buf, void *mapped);
mini_buf mini_sub(mini_buf parent, size_t offset, size_t size, mini_err *err);
#define MINI_CAP_SHARED 0x4u
typedef enum mini_prog_info {
	MINI_PROG_SIZES = 1, /* size_t per blob */
	MINI_PROG_BLOBS = 2, /* a pointer per blob */
	MINI_PROG_CAPS = 3,  /* uint16_t */
} mini_prog_info;
mini_err mini_prog_info_get(mini_ctx ctx, mini_prog_info what, size_t size, void *value);

/* A status of its own, whose ava_type has an over-quota value. */
typedef enum mini_qerr {
	MINI_Q_OK = 0,
	MINI_Q_FAILED = 1,
	MINI_Q_OVER_QUOTA = 2,
} mini_qerr;
mini_qerr mini_reserve(mini_ctx ctx, size_t bytes);

#endif /* MINI_H */
