/* SPDX-License-Identifier: MIT */
/*
 * ABI descriptions: the wire layout of every function and callback of one API.
 *
 * The same description exists in three forms that must agree:
 *  - static C data emitted by avagen into the guest stub and the API server;
 *  - the text manifest spec/<api>.abi (committed; format in docs/wire-protocol.md),
 *    written by ava_abi_format() and read back by ava_abi_parse();
 *  - the router's copy, parsed from the manifest at start-up. The router never
 *    loads generated or vendor code; the manifest is all it knows of an API.
 *
 * The payload checkers below are the one place where argument layouts are
 * validated; the router (both directions), the API server and the guest all
 * call them, so no generated function can skip a check.
 */
#ifndef AVA_ABI_H
#define AVA_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVA_ABI_FORMAT_VERSION	 2 /* 2: resources on fn lines */
#define AVA_ABI_MAX_ARGS	 32
#define AVA_ABI_MAX_FIELDS	 16
#define AVA_ABI_MAX_SCALAR_BYTES 64
#define AVA_ABI_MAX_HANDLE_TYPES 255 /* type tags 1..255; 0 is never valid */

/* How one value (argument or result) travels. */
enum ava_abi_kind {
	AVA_ABI_VOID = 0,   /* results only: nothing */
	AVA_ABI_SCALAR = 1, /* size_bytes raw little-endian bytes */
	AVA_ABI_HANDLE = 2, /* u64 handle id (0 = NULL) */
	AVA_ABI_STRING = 3, /* in: u32 n (0 = NULL pointer), then n bytes, the last one NUL */
	/*
	 * u8 present; if 1: u64 count, then (if dir has IN) the elements; if 2
	 * (a streamed IN bytes buffer, at most one per CALL): u64 count, and the
	 * elements follow the CALL in CHUNK frames.
	 */
	AVA_ABI_BUFFER = 4,
	AVA_ABI_CALLBACK = 5, /* u64 guest token of a function pointer (0 = NULL) */
	AVA_ABI_USERDATA = 6, /* u64 guest token of a user_data pointer (opaque) */
	/*
	 * Results only: a mapping (OpenCL's clEnqueueMapBuffer). The function
	 * returns a pointer to max_count-bounded bytes the application may use
	 * until it unmaps them; the guest owns memory for them. The CALL ends
	 * with a trailer: u64 count (bytes, <= max_count), for READ a u64
	 * transfer id (non-zero) whose DATA frame carries the bytes once the
	 * function's :event completes, then u8 access (AVA_ABI_MAP_READ |
	 * AVA_ABI_MAP_WRITE). The REPLY's result is a u64 mapping id (0: none).
	 */
	AVA_ABI_MAP = 7,
	/*
	 * Arguments only: the pointer a MAP result returned, given back
	 * (clEnqueueUnmapMemObject's mapped_ptr): u64 mapping id (non-zero),
	 * u64 count (<= max_count), then, when count is not 0, u8 mode and (mode
	 * 0) count bytes: the mapping's contents when it was mapped for writing
	 * (else count is 0); in mode 1 the bytes are streamed like a buffer's.
	 */
	AVA_ABI_UNMAP = 8,
};

/* Access bits of a mapping (the MAP trailer's u8). */
#define AVA_ABI_MAP_READ  0x1u
#define AVA_ABI_MAP_WRITE 0x2u

/* Element kind of a BUFFER. */
enum ava_abi_elem {
	AVA_ABI_ELEM_BYTES = 0,	 /* size_bytes plain bytes per element */
	AVA_ABI_ELEM_HANDLE = 1, /* one u64 handle id per element (size_bytes = 8) */
	AVA_ABI_ELEM_STRUCT = 2, /* size_bytes bytes; u64 handle ids at the listed field offsets */
	/*
	 * Strings (in only; size_bytes = 8, a char * each): per element u32 n
	 * (0 = NULL pointer), then n bytes whose last is NUL. OpenCL's
	 * clCreateProgramWithSource(count, strings, lengths).
	 */
	AVA_ABI_ELEM_STRING = 3,
};

#define AVA_ABI_DIR_IN	  0x1u
#define AVA_ABI_DIR_OUT	  0x2u
#define AVA_ABI_DIR_INOUT 0x3u

/* Value flags. */
#define AVA_ABI_V_ALLOCATES 0x01u /* handles in this value name newly created objects */
#define AVA_ABI_V_DEALLOCATES \
	0x02u			/* a successful call drops a reference (destroys at none left) */
#define AVA_ABI_V_ERRCODE 0x04u /* out buffer of one element receiving the native error */
#define AVA_ABI_V_RETAINS 0x08u /* a successful call adds a guest reference to this handle */
/*
 * An opaque input bytes buffer whose aligned 8-byte words may be handle ids
 * (clSetKernelArg's value, property lists): the server translates every word
 * that names a live object of the session and leaves the rest alone.
 */
#define AVA_ABI_V_SCAN 0x10u
/*
 * A key/value property list (in bytes buffer, cl_context_properties and
 * kin): the count is odd and the last element is all zero bytes, so a
 * reader walking keys stops inside the buffer. Its length comes from its
 * content, so the server takes the count from the wire.
 */
#define AVA_ABI_V_PROPS 0x20u
/*
 * Late data (bytes buffer of a function with an :event argument): the
 * library may use the buffer until the call's event completes. An OUT late
 * buffer's contents travel in one DATA frame, not in the REPLY: the CALL
 * carries a guest-chosen transfer id after the count. An IN late buffer is
 * kept alive by the server until the event completes (a non-blocking write).
 */
#define AVA_ABI_V_LATE 0x40u
/*
 * The call's completion event (an out buffer of handles whose plan count is
 * 1, OpenCL's cl_event *event): what late buffers of the same function wait
 * for.
 */
#define AVA_ABI_V_EVENT 0x80u
/*
 * An output bytes buffer that a call may turn into an array of pointers to
 * the caller's byte buffers ("blobs": OpenCL's CL_PROGRAM_BINARIES). After
 * its count the call carries a u8 mode: 0, the buffer as usual; 1, one u64
 * capacity per pointer (count * size_bytes / 8 of them, 0 for a NULL
 * pointer), and the reply then carries, per pointer, u64 n and n bytes in
 * place of the buffer's elements. The view's u64 is the mode.
 */
#define AVA_ABI_V_BLOBS 0x100u
/*
 * A rect (in or out bytes buffer, ava_rect): the application's memory holds
 * the bytes as rows and slices at pitches the API's rect shape computes from
 * the other arguments (OpenCL's clEnqueueReadBufferRect host_ptr). The wire
 * carries them packed, so the count is the packed size; both runtimes
 * compute it and the server checks it. An OUT rect is also :late.
 */
#define AVA_ABI_V_RECT 0x200u
/*
 * A handle argument the object the call creates keeps alive until it is
 * released (ava_parent: clCreateSubBuffer's buffer). Only on a function with
 * an :alloc value. The router keeps the parent's memory charged meanwhile.
 */
#define AVA_ABI_V_PARENT 0x8000u

/* Function flags. */
#define AVA_ABI_FN_UNSUPPORTED 0x01u /* no spec entry: never sent; stub returns the error */
#define AVA_ABI_FN_MAY_ASYNC   0x02u /* the spec lets this call be asynchronous */
/*
 * ava_consumes_resource(device_time, 1): the router queues the call fairly
 * per device, and the server answers every CALL of it that reaches it with
 * one USAGE frame (after its REPLY, if any) carrying the measured device time.
 */
#define AVA_ABI_FN_DEVICE_TIME 0x04u
/*
 * ava_device_time_until(FN, PARAM) (needs DEVICE_TIME): the call's device
 * work is finished once fn until_fn, called with argument until_arg's
 * handle, returns (clFinish(command_queue)). The server waits for it off the
 * guest's thread; until_fn and until_arg are valid only with this flag.
 */
#define AVA_ABI_FN_DEVICE_TIME_UNTIL 0x08u

/* Where the device_memory amount of an allocating function comes from. */
enum ava_abi_amount {
	AVA_ABI_AMOUNT_NONE = 0,  /* the call allocates no metered memory */
	AVA_ABI_AMOUNT_ARG = 1,	  /* the unsigned scalar argument mem_arg (1..8 bytes), in bytes */
	AVA_ABI_AMOUNT_CONST = 2, /* mem_bytes */
};

struct ava_abi_field {
	uint32_t offset_bytes; /* offset of a handle (8 bytes) inside the element */
	uint16_t handle_type;
};

struct ava_abi_value {
	uint8_t kind;	      /* enum ava_abi_kind */
	uint8_t dir;	      /* STRING, BUFFER: AVA_ABI_DIR_*; STRING is always IN */
	uint8_t elem;	      /* BUFFER: enum ava_abi_elem */
	uint16_t flags;	      /* AVA_ABI_V_* */
	uint16_t handle_type; /* HANDLE, or BUFFER of ELEM_HANDLE: type tag 1..n_handle_types */
	uint16_t callback_id; /* CALLBACK: index into api->callbacks */
	uint32_t size_bytes;  /* SCALAR: bytes (1..64); BUFFER: bytes per element */
	uint64_t max_count;   /* BUFFER: most elements; STRING: most bytes including the NUL */
	uint16_t n_fields;    /* ELEM_STRUCT: handle fields */
	const struct ava_abi_field *fields;
};

struct ava_abi_fn {
	uint32_t id; /* index in api->fns */
	const char *name;
	uint32_t flags; /* AVA_ABI_FN_* */
	struct ava_abi_value ret;
	uint16_t n_args;
	const struct ava_abi_value *args;
	/*
	 * ava_allocates_resource(device_memory, EXPR): the amount a successful
	 * call adds to the tenant's memory; the object it is charged to is the
	 * handle of the function's one :alloc value (a handle result, or an out
	 * buffer of one handle). Unused fields are 0.
	 */
	uint8_t mem_from;   /* enum ava_abi_amount */
	uint16_t mem_arg;   /* AMOUNT_ARG: index of the scalar argument */
	uint64_t mem_bytes; /* AMOUNT_CONST: bytes */
	/* AVA_ABI_FN_DEVICE_TIME_UNTIL: fn id and the handle argument it gets; else 0. */
	uint32_t until_fn;
	uint16_t until_arg;
};

struct ava_abi_callback {
	uint32_t id; /* index in api->callbacks */
	const char *name;
	struct ava_abi_value ret;
	uint16_t n_args;
	const struct ava_abi_value *args;
	uint16_t userdata_arg; /* index of the USERDATA argument */
};

struct ava_abi_api {
	const char *name; /* the spec's ava_identifier */
	uint32_t n_fns;
	const struct ava_abi_fn *fns;
	uint32_t n_callbacks;
	const struct ava_abi_callback *callbacks;
	uint16_t n_handle_types;	      /* valid tags are 1..n_handle_types */
	const char *const *handle_type_names; /* [0] is NULL, [tag] is the C type name */
	uint64_t hash;			      /* ava_abi_hash() of this description */
};

/*
 * Writes the canonical manifest text of api to out (banner comment first when
 * spec_path is not NULL). Deterministic. Returns 0 or -EIO.
 */
int ava_abi_format(const struct ava_abi_api *api, const char *spec_path, FILE *out)
    __attribute__((warn_unused_result));

/* FNV-1a 64 of the canonical text without comments; what HELLO carries. */
uint64_t ava_abi_hash(const struct ava_abi_api *api);

/*
 * Parses manifest text (not necessarily NUL-terminated). On success *ret_api
 * is a new description (free with ava_abi_api_free) with hash filled in. On
 * failure returns -EINVAL and writes "file:line:col: reason" into errbuf.
 * Never trusts the text: every number is range-checked.
 */
int ava_abi_parse(const char *text, size_t len, const char *file_name, struct ava_abi_api **ret_api,
		  char *errbuf, size_t errbuf_len) __attribute__((warn_unused_result));
/* Reads and parses a manifest file. */
int ava_abi_load(const char *path, struct ava_abi_api **ret_api, char *errbuf, size_t errbuf_len)
    __attribute__((warn_unused_result));
/* Frees a description returned by ava_abi_parse/ava_abi_load. Accepts NULL. */
void ava_abi_api_free(struct ava_abi_api *api);

/* Validates an api description itself (ids match indexes, tags in range, ...). */
int ava_abi_api_check(const struct ava_abi_api *api, char *errbuf, size_t errbuf_len)
    __attribute__((warn_unused_result));

/* Decoded view of one value in a payload; pointers point into the payload. */
struct ava_abi_view {
	uint8_t present;     /* 0 for NULL strings/buffers, else 1 */
	uint64_t count;	     /* BUFFER: elements; STRING: bytes including the NUL */
	const uint8_t *data; /* SCALAR bytes; STRING bytes; BUFFER elements (NULL if not sent) */
	uint64_t u64;	     /* HANDLE, CALLBACK, USERDATA: the id or token; late OUT BUFFER:
				the transfer id; UNMAP: the mapping id; MAP (in a CALL): the
				transfer id, 0 without READ; MAP (in a REPLY): the mapping id */
	uint8_t access;	     /* MAP in a CALL: AVA_ABI_MAP_* */
	/*
	 * BUFFER, UNMAP in a CALL: the bytes (count x size, >= 1) follow the
	 * CALL in CHUNK frames; data is NULL. At most one value per CALL.
	 */
	uint8_t streamed;
};

/* Handle ids: bits 0-23 index, 24-47 generation, 48-55 type tag, 56-63 epoch. */
#define AVA_HANDLE_TYPE_OF(id) ((uint16_t)(((id) >> 48) & 0xffu))

/*
 * Validates the argument payload of a CALL (or, with the u64 function token
 * first, a CALLBACK: set has_token). Checks, in order, for each value: length
 * available before every read, count <= max_count, count * size without
 * overflow, strings NUL-terminated at their last byte, handle tags equal to the
 * declared type (0 allowed), callback tokens' ids; then that the cursor ends
 * exactly at the payload end. views (n_args entries, may be NULL) receive the
 * decoded values. Returns 0, or -EPROTO with the reason in errbuf.
 */
int ava_abi_check_args(const struct ava_abi_api *api, uint16_t n_args,
		       const struct ava_abi_value *args, int has_token, const uint8_t *payload,
		       size_t len, struct ava_abi_view *views, char *errbuf, size_t errbuf_len)
    __attribute__((warn_unused_result));

/*
 * The streamed value of a CALL whose views ava_abi_check_call (or
 * ava_abi_check_args) filled: its index, with its bytes in *ret_bytes, or -1
 * when no value is streamed.
 */
int ava_abi_streamed_arg(const struct ava_abi_fn *fn, const struct ava_abi_view *views,
			 uint64_t *ret_bytes);

/*
 * Validates the payload of a CALL of fn: ava_abi_check_args over its
 * arguments, then, when fn's result is an AVA_ABI_MAP, the mapping trailer.
 * views (may be NULL) has n_args + 1 entries: [n_args] is the trailer
 * (count, access, u64 = transfer id). Returns 0, or -EPROTO with the reason.
 */
int ava_abi_check_call(const struct ava_abi_api *api, const struct ava_abi_fn *fn,
		       const uint8_t *payload, size_t len, struct ava_abi_view *views, char *errbuf,
		       size_t errbuf_len) __attribute__((warn_unused_result));

/*
 * Validates a REPLY payload for fn, given the views of the CALL it answers
 * (presence and counts of out buffers must match those sent). Layout: the
 * result, then for each present argument with DIR_OUT, u64 count + elements;
 * then, if flags has AVA_WIRE_F_DEFERRED_ERROR, u32 fn id + that fn's result.
 * ret_views gets 1 + n_args entries ([0] the result, [1+i] argument i) and
 * *ret_deferred_fn / ret_deferred the trailer (may be NULL).
 */
int ava_abi_check_reply(const struct ava_abi_api *api, const struct ava_abi_fn *fn,
			const struct ava_abi_view *call_views, uint16_t flags,
			const uint8_t *payload, size_t len, struct ava_abi_view *ret_views,
			uint32_t *ret_deferred_fn, struct ava_abi_view *ret_deferred, char *errbuf,
			size_t errbuf_len) __attribute__((warn_unused_result));

/* Validates a CALLBACK_REPLY payload (the callback's result only). */
int ava_abi_check_result(const struct ava_abi_api *api, const struct ava_abi_value *ret,
			 const uint8_t *payload, size_t len, struct ava_abi_view *ret_view,
			 char *errbuf, size_t errbuf_len) __attribute__((warn_unused_result));

/*
 * The device_memory amount of one call of fn (AVA_ABI_AMOUNT_*), from the
 * views ava_abi_check_args gave for its payload: the constant, or the scalar
 * argument read as an unsigned little-endian integer. Returns 0 with
 * *ret_bytes set, or -ENOENT when fn allocates no metered memory.
 */
int ava_abi_mem_amount(const struct ava_abi_fn *fn, const struct ava_abi_view *call_views,
		       uint64_t *ret_bytes) __attribute__((warn_unused_result));

/*
 * The handle id a successful call of an allocating fn created, from the
 * views ava_abi_check_reply gave for its REPLY ([0] the result, [1+i]
 * argument i): the :alloc handle result, or the first element of the :alloc
 * out buffer. Returns 0 with *ret_id set (0 when the call created nothing,
 * e.g. it failed), or -ENOENT when fn has no :alloc value.
 */
int ava_abi_new_handle(const struct ava_abi_fn *fn, const struct ava_abi_view *reply_views,
		       uint64_t *ret_id) __attribute__((warn_unused_result));

/* Looks up a function by name; NULL if absent. */
const struct ava_abi_fn *ava_abi_find_fn(const struct ava_abi_api *api, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* AVA_ABI_H */
