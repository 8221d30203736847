/*
 * The dispatch test API (test codegen-golden-dispatch): handles that start
 * with a table of function pointers (ava_handle_proxy_table), and extension
 * functions the server finds through a lookup (ava_resolve_via).
 */
#ifndef DISPATCH_H
#define DISPATCH_H

typedef enum disp_err {
	DISP_OK = 0,
	DISP_ERR = 1,
	DISP_UNSUPPORTED = 2,
} disp_err;

typedef struct disp_obj_s *disp_obj;

disp_err disp_open(disp_obj *ret_obj);
disp_err disp_close(disp_obj obj);
disp_err disp_legacy(int x) __attribute__((deprecated));
/* Extension functions: the vendor library does not export them. */
disp_obj disp_ext_create(int x, disp_err *err);
void disp_ext_poke(disp_obj obj);
disp_err disp_ext_wait(disp_obj obj, unsigned long long timeout_ns);

/* What every handle points at first. */
struct disp_table {
	disp_err (*disp_open)(disp_obj *);
	disp_err (*disp_close)(disp_obj);
	void *reserved;			      /* not a function pointer: NULL */
	disp_err (*disp_legacy)(int);	      /* deprecated, still a member */
	disp_err (*disp_hello)(const char *); /* a guest source's (ava_guest_export) */
	disp_err (*disp_gone)(void);	      /* names no function: NULL */
	disp_obj (*disp_ext_create)(int, disp_err *);
};

#endif /* DISPATCH_H */
