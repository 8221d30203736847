/* SPDX-License-Identifier: MIT */
/*
 * The annotation vocabulary of an AvA spec (spec/<api>.spec).
 *
 * A spec is a C file that avagen parses with libclang. It includes this header
 * and the vendor header, names the API, and re-declares API functions with a
 * body made only of annotations. Every annotation is a macro that expands to
 * something plain C can hold: a file-scope variable, a never-called static
 * function, or a call to one of the __ava_* intrinsics below. avagen walks the
 * resulting syntax tree; nothing here is ever compiled into a program.
 *
 * docs/spec-language.md explains each word with an example. The words follow
 * AvA's Lapis where Lapis was good, so people from the field feel at home.
 */
#ifndef AVA_SPEC_H
#define AVA_SPEC_H

#ifndef __AVAGEN__
#error "<ava/spec.h> is read by avagen only; do not include it in programs"
#endif

#define AVA_SPEC_CAT2_(a, b)	 a##b
#define AVA_SPEC_CAT_(a, b)	 AVA_SPEC_CAT2_(a, b)
#define AVA_SPEC_UNIQUE_(prefix) AVA_SPEC_CAT_(prefix, __COUNTER__)
/*
 * AVA_SPEC_STR_ expands its argument before stringifying it. Expressions
 * (sizes, values, overrides) are stringified with # directly instead, so the
 * generated code shows the spec's own spelling (CL_TRUE, not 1).
 */
#define AVA_SPEC_STR_(x) #x

/* ---- intrinsics: declared, never defined; avagen recognises them by name ---- */
int __ava_argument(int, ...);
int __ava_return_value(void);
int __ava_element(void);
int __ava_field(const char *field_name);
void __ava_in(void);
void __ava_out(void);
void __ava_buffer(const char *expr_src, unsigned long long n_elements);
void __ava_max(const char *expr_src, unsigned long long max_elements);
void __ava_zero_terminated(void);
void __ava_handle(void);
void __ava_opaque(void);
void __ava_allocates(void);
void __ava_deallocates(void);
void __ava_sync(void);
void __ava_async(void);
void __ava_callback(const char *decl_name, ...);
void __ava_userdata(void);
void __ava_errcode(void);
void __ava_written_on_failure(void);
void __ava_retains(void);
void __ava_parent(void);
void __ava_handles_of(const char *type_name, ...);
void __ava_scan_handles(void);
void __ava_override(const char *expr_src, ...);
void __ava_property_list(void);
void __ava_string_lengths(const char *arg_name, ...);
void __ava_late_data(const char *arg_name, ...);
void __ava_rect(void);
void __ava_mapping(const char *count_src, unsigned long long count, const char *event_src, ...);
void __ava_unmaps(void);
void __ava_blobs_sized_by(const char *arg_name, const char *expr_src, ...);
void __ava_clear_bits(const char *type_name, const char *expr_src, ...);
void __ava_unsupported(void);
void __ava_private(void);
void __ava_resolve_via(const char *resolver_name);
void __ava_success(const char *expr_src, ...);
void __ava_failure(const char *expr_src, ...);
void __ava_unsupported_error(const char *expr_src, ...);
void __ava_invalid_handle_error(const char *expr_src, ...);
void __ava_invalid_handle_error_of(const char *type_name, const char *expr_src, ...);
void __ava_refuse_with(const char *expr_src, ...);
void __ava_over_quota_error(const char *expr_src, ...);
void __ava_consumes_resource(const char *resource, const char *expr_src, unsigned long long n);
void __ava_allocates_resource(const char *resource, const char *expr_src, unsigned long long n);
void __ava_deallocates_resource(const char *resource, const char *expr_src, unsigned long long n);
void __ava_device_time_until(const char *fn_src, const char *param_src, ...);

/* ---- API-wide settings (file scope) ---- */

/* Human-readable name of the API: ava_name("OpenCL"); */
#define ava_name(str) \
	static const char *const AVA_SPEC_UNIQUE_(__ava_name_) __attribute__((unused)) = (str)
/* Identifier used in generated names and on the wire: ava_identifier(opencl); */
#define ava_identifier(id)                                                                \
	static const char AVA_SPEC_UNIQUE_(__ava_identifier_)[] __attribute__((unused)) = \
	    AVA_SPEC_STR_(id)
/* Version string of the spec: ava_version("1.0"); */
#define ava_version(str) \
	static const char *const AVA_SPEC_UNIQUE_(__ava_version_) __attribute__((unused)) = (str)
/* A soname the guest library stands in for (repeatable): ava_soname(libOpenCL.so.1); */
#define ava_soname(name)                                                              \
	static const char AVA_SPEC_UNIQUE_(__ava_soname_)[] __attribute__((unused)) = \
	    AVA_SPEC_STR_(name)
/*
 * A header whose functions make up the API (repeatable; matched as a suffix of
 * the included file's path): ava_header("CL/cl.h"); Functions declared there
 * with no spec entry become stubs that return the API's "unsupported" error.
 */
#define ava_header(path) \
	static const char *const AVA_SPEC_UNIQUE_(__ava_header_) __attribute__((unused)) = (path)

/*
 * The out-parameter through which the API reports errors, by name:
 * ava_errcode_param(errcode_ret); Functions without a spec entry that have a
 * pointer parameter of this name, whose type has ava_type defaults, write
 * their "unsupported" error there.
 */
#define ava_errcode_param(name)                                                              \
	static const char AVA_SPEC_UNIQUE_(__ava_errcode_param_)[] __attribute__((unused)) = \
	    AVA_SPEC_STR_(name)

/*
 * Every handle the application sees is a pointer to a guest-allocated proxy
 * whose first member is &symbol (an OpenCL ICD dispatch table), symbol being
 * defined in a guest source of the API (ava_add_api GUEST_SOURCES):
 * ava_handle_proxy(ava_opencl_icd_dispatch);
 */
#define ava_handle_proxy(symbol)                                                            \
	static const char AVA_SPEC_UNIQUE_(__ava_handle_proxy_)[] __attribute__((unused)) = \
	    AVA_SPEC_STR_(symbol)

/*
 * avagen defines the ava_handle_proxy symbol itself: a const T (a struct of
 * function pointers, OpenCL's ICD dispatch table) whose members named like
 * a function of the API, or an ava_guest_export, point to it; the other
 * members are NULL. ava_handle_proxy_table(struct _cl_icd_dispatch);
 */
#define ava_handle_proxy_table(T)                                         \
	static const T *const AVA_SPEC_UNIQUE_(__ava_handle_proxy_table_) \
	    __attribute__((unused)) = 0

/*
 * A symbol a guest source of the API defines that the guest library exports
 * besides the API's functions (repeatable): ava_guest_export(clIcdGetPlatformIDsKHR);
 */
#define ava_guest_export(symbol)                                                            \
	static const char AVA_SPEC_UNIQUE_(__ava_guest_export_)[] __attribute__((unused)) = \
	    AVA_SPEC_STR_(symbol)

/*
 * Call ids are frozen by a committed manifest, relative to the spec:
 * ava_call_ids("opencl.abi"); every function it lists keeps its id there,
 * a function it does not list gets the next free id (in header order), so a
 * header that inserts a function does not renumber the wire.
 */
#define ava_call_ids(path) \
	static const char *const AVA_SPEC_UNIQUE_(__ava_call_ids_) __attribute__((unused)) = (path)

/* Defaults for every value of type T: ava_type(cl_int) { ava_success(CL_SUCCESS); } */
#define ava_type(T) \
	static void AVA_SPEC_UNIQUE_(__ava_type_)(T __ava_type_value __attribute__((unused)))

/*
 * Argument defaults, by parameter name and type: written like a function
 * whose parameters are the ones its body talks about, and whose body holds
 * only ava_argument blocks. Every function entry that has parameters of all
 * these names and types gets each block for the parameters it does not
 * annotate itself (its own ava_argument(p) block replaces the default's):
 *   ava_defaults(cl_uint num_events_in_wait_list, const cl_event *event_wait_list) {
 *           ava_argument(event_wait_list) { ava_in; ava_buffer(num_events_in_wait_list); }
 *   }
 */
#define ava_defaults(...) \
	static void __attribute__((unused)) AVA_SPEC_UNIQUE_(__ava_defaults_)(__VA_ARGS__)

/*
 * Declares the shape of a callback. Written like a function whose parameters
 * mirror the callback's; its body annotates them:
 *   ava_callback_decl void my_cb(cl_program p, void *user_data) {
 *           ava_argument(p) { ava_handle; }
 *           ava_argument(user_data) { ava_userdata; }
 *   }
 */
#define ava_callback_decl static __attribute__((unused, annotate("ava_callback_decl")))

/* ---- scopes inside a function body ---- */
#define ava_argument(arg) if (__ava_argument(0, arg))
#define ava_return_value  if (__ava_return_value())
#define ava_element	  if (__ava_element())
#define ava_field(name)	  if (__ava_field(AVA_SPEC_STR_(name)))

/* ---- value annotations ---- */
#define ava_in		    __ava_in()
#define ava_out		    __ava_out()
#define ava_buffer(n)	    __ava_buffer(#n, (unsigned long long)(n))
#define ava_max(n)	    __ava_max(#n, (unsigned long long)(n))
#define ava_zero_terminated __ava_zero_terminated()
#define ava_handle	    __ava_handle()
#define ava_opaque	    __ava_opaque()
#define ava_allocates	    __ava_allocates()
#define ava_deallocates	    __ava_deallocates()
#define ava_callback(decl)  __ava_callback(AVA_SPEC_STR_(decl), decl)
#define ava_userdata	    __ava_userdata()
#define ava_errcode	    __ava_errcode()
/*
 * This out buffer gets what the library wrote even when the call fails
 * (OpenCL's binary_status); every other output of a failed call but the
 * ava_errcode argument stays as the application left it. Where the library
 * may also leave it alone, make it ava_in too, so that the server's copy
 * starts as the application's.
 */
#define ava_written_on_failure __ava_written_on_failure()
/* A successful call adds a guest reference to this handle (clRetainX). */
#define ava_retains __ava_retains()
/*
 * This handle argument is the parent of the object the call creates, which
 * keeps it (and the device memory it holds) alive until the new object is
 * released: clCreateSubBuffer's buffer. The router's memory quota follows it.
 */
#define ava_parent __ava_parent()
/*
 * This void * buffer holds handles of type T this time (may be conditional):
 * if (param_name == CL_CONTEXT_DEVICES) ava_handles_of(cl_device_id);
 */
#define ava_handles_of(T) __ava_handles_of(#T, (T)0)
/*
 * Whatever the application passed, this scalar argument travels and reaches
 * the real function as v. For calls the remote side must complete before it
 * replies: ava_argument(blocking_read) { ava_override(CL_TRUE); }
 */
#define ava_override(v) __ava_override(#v, (v))
/*
 * An input array of key/value pairs ending with a zero key (OpenCL's
 * cl_context_properties *): its length is counted from its content.
 */
#define ava_property_list __ava_property_list()
/* An opaque input blob whose 8-byte words may be handles (clSetKernelArg's value). */
#define ava_scan_handles __ava_scan_handles()
/*
 * For a buffer of strings (ava_element { ava_zero_terminated; } on a
 * const char ** argument): the argument holding each string's byte length;
 * NULL or a 0 entry means NUL-terminated (clCreateProgramWithSource).
 */
#define ava_string_lengths(arg) __ava_string_lengths(AVA_SPEC_STR_(arg), arg)
/*
 * A bytes buffer the library may still use after the call returns, until
 * the call's completion event (an out handle argument) completes: a
 * non-blocking read's destination (its bytes reach the application in a
 * DATA frame no later than the completion can be observed) or a
 * non-blocking write's source (the server keeps its copy until then). The
 * server needs the API's event operations (ava_apiserver_ops.events).
 * ava_argument(ptr) { ava_out; ava_buffer(size); ava_late_data(event); }
 */
#define ava_late_data(event) __ava_late_data(AVA_SPEC_STR_(event), event)
/*
 * A void * bytes buffer (in, or out with ava_late_data) whose bytes lie in
 * rows and slices at pitches (OpenCL's rect and image transfers): the API's
 * rect shape (struct ava_gen_rect_ops) computes them from the other
 * arguments in both runtimes, the wire carries the bytes packed, and the
 * server hands the library a packed buffer. No ava_buffer: its size is the
 * shape's. ava_argument(ptr) { ava_out; ava_rect; ava_late_data(event); }
 */
#define ava_rect __ava_rect()
/*
 * This output void * buffer is, this time, an array of pointers to the
 * caller's byte buffers, each as big as what the same function writes (as a
 * size_t per pointer) when argument arg is v (may be conditional):
 * if (param_name == CL_PROGRAM_BINARIES)
 *	ava_blobs_sized_by(param_name, CL_PROGRAM_BINARY_SIZES);
 */
#define ava_blobs_sized_by(arg, v) __ava_blobs_sized_by(AVA_SPEC_STR_(arg), #v, arg, (v))
/*
 * This output void * buffer holds a T this time, whose bits in mask the
 * server clears after a successful call (may be conditional): a capability
 * the remoting cannot offer is not reported.
 * if (param_name == CL_DEVICE_SVM_CAPABILITIES)
 *	ava_clear_bits(cl_device_svm_capabilities, ~(cl_device_svm_capabilities)0);
 */
#define ava_clear_bits(T, mask) __ava_clear_bits(#T, #mask, (T)0, (mask))

/*
 * On a function's pointer result: the function maps n bytes (OpenCL's
 * clEnqueueMapBuffer). The application gets memory the guest owns for the
 * mapping; when readable is true the bytes are there once event (an out
 * argument, as for ava_late_data) completes; when writable is true the
 * function taking the pointer back (ava_unmaps) sends them to the server.
 * readable and writable follow the rules of size expressions:
 * ava_return_value { ava_mapping(size, event, !(map_flags & X), map_flags & Y); }
 */
#define ava_mapping(n, event, readable, writable)                                          \
	__ava_mapping(#n, (unsigned long long)(n), AVA_SPEC_STR_(event), event, #readable, \
		      (unsigned long long)((readable) != 0), #writable,                    \
		      (unsigned long long)((writable) != 0))
/*
 * On a void * argument: the pointer an ava_mapping result returned, given
 * back (clEnqueueUnmapMemObject's mapped_ptr); a writable mapping's bytes
 * travel with the call, and the guest's memory is freed once it succeeds.
 */
#define ava_unmaps __ava_unmaps()

/* ---- call annotations ---- */
#define ava_sync	__ava_sync()
#define ava_async	__ava_async()
#define ava_unsupported __ava_unsupported()
/*
 * The function travels on the wire, but the guest library does not export
 * it: only the API's hand-written guest sources call it (OpenCL's
 * avaclEnqueueSVMRead, spec/opencl/svm-wire.h).
 */
#define ava_private __ava_private()
/*
 * The server does not link this function by name (an ICD loader exports no
 * extension function): avagen defines it in the server as a forwarder to
 * what resolver, a function of a hand-written server source,
 *	void *resolver(const char *name, void *self);
 * returns for its name (the vendor library's function, never self, the
 * forwarder; NULL: none), looked up once found. Without one, the call
 * returns the result type's ava_unsupported_error (and writes it to the
 * ava_errcode argument). ava_resolve_via(ava_opencl_ext_resolve);
 */
#define ava_resolve_via(resolver) __ava_resolve_via(AVA_SPEC_STR_(resolver))

/* ---- type defaults (inside ava_type) ---- */
#define ava_success(v)		    __ava_success(#v, (v))
#define ava_failure(v)		    __ava_failure(#v, (v))
#define ava_unsupported_error(v)    __ava_unsupported_error(#v, (v))
#define ava_invalid_handle_error(v) __ava_invalid_handle_error(#v, (v))
/*
 * Inside ava_type(T): the value of T when the handle that names no live
 * object is of handle type H (OpenCL: a cl_mem is CL_INVALID_MEM_OBJECT):
 * ava_invalid_handle_error_of(cl_mem, CL_INVALID_MEM_OBJECT); the other
 * handle types keep ava_invalid_handle_error.
 * ava_invalid_handle_error inside ava_argument(p) of a function overrides
 * both for that argument (a wait list of events: CL_INVALID_EVENT_WAIT_LIST).
 */
#define ava_invalid_handle_error_of(H, v) __ava_invalid_handle_error_of(#H, #v, (H)0, (v))
#define ava_refuse_with(v)		  __ava_refuse_with(#v, (v))
#define ava_over_quota_error(v)		  __ava_over_quota_error(#v, (v))

/* ---- resources, for the router's policy ---- */
#define ava_consumes_resource(res, n) \
	__ava_consumes_resource(AVA_SPEC_STR_(res), #n, (unsigned long long)(n))
#define ava_allocates_resource(res, n) \
	__ava_allocates_resource(AVA_SPEC_STR_(res), #n, (unsigned long long)(n))
#define ava_deallocates_resource(res, n) \
	__ava_deallocates_resource(AVA_SPEC_STR_(res), #n, (unsigned long long)(n))
/*
 * The device work of this device_time call has finished once fn(param)
 * returns: ava_device_time_until(clFinish, command_queue).
 */
#define ava_device_time_until(fn, param) \
	__ava_device_time_until(AVA_SPEC_STR_(fn), AVA_SPEC_STR_(param), (fn), (param))

#endif /* AVA_SPEC_H */
