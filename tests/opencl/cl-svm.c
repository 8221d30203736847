/* SPDX-License-Identifier: MIT */
/*
 * cl-svm: coarse-grained buffer SVM keeps OpenCL's semantics.
 *
 * Cases: a linked list of separately allocated SVM nodes, built by the host
 * through maps and walked by a kernel (the nodes' next pointers are SVM
 * pointers inside SVM memory; clSetKernelExecInfo names them); a kernel
 * writing SVM that the host reads through a blocking and a non-blocking
 * map; clEnqueueSVMMemcpy host to SVM, SVM to host and SVM to SVM,
 * blocking and non-blocking with events; clEnqueueSVMMemFill;
 * clEnqueueSVMMigrateMem; clEnqueueSVMFree with a callback (its arguments,
 * as equalities) and without; an allocation where the application has just
 * mapped memory of its own goes elsewhere; the errors the library gives for NULL
 * pointers, empty sizes, bad patterns, overlaps, bad indexes and bad flags;
 * an allocation left at exit. The capability query prints only the
 * coarse-grained buffer bit: remoted, the device reports no fine-grained
 * SVM or atomics, natively PoCL does. Exits 77 without coarse-grained SVM.
 *
 * cl-svm --remote (run remoted only) also checks what the server refuses
 * where PoCL checks nothing: pointers that are none of the session's SVM
 * allocations, fine-grained SVM.
 */
#include "clt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CLT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLT_ASAN 1
#endif
#endif
#ifndef CLT_ASAN
#define CLT_ASAN 0
#endif

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define N_NODES 24
#define N	4096 /* ints of the kernel-written region */

struct node {
	cl_int value;
	cl_int pad;
	struct node *next;
};

static const char *src = "struct node { int value; int pad; global struct node *next; };\n"
			 "kernel void walk(global struct node *head, global int *out)\n"
			 "{\n"
			 "	int sum = 0, count = 0;\n"
			 "	for (global struct node *n = head; n; n = n->next) {\n"
			 "		sum += n->value;\n"
			 "		count++;\n"
			 "	}\n"
			 "	out[0] = sum;\n"
			 "	out[1] = count;\n"
			 "}\n"
			 "kernel void fill(global int *p)\n"
			 "{\n"
			 "	size_t i = get_global_id(0);\n"
			 "	p[i] = (int)i * 3 + 1;\n"
			 "}\n";

static int bad_ints(const cl_int *p, size_t n, int mul, int add)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += p[i] != (cl_int)i * mul + add;
	return bad;
}

static void report(const char *what, int bad)
{
	printf("%s: mismatches %d\n", what, bad);
	CLT_ASSERT(bad == 0, "%s: %d ints wrong", what, bad);
}

static void print_type(const char *what, cl_event ev)
{
	cl_command_type type = 0;

	CLT_CHECK(clGetEventInfo(ev, CL_EVENT_COMMAND_TYPE, sizeof(type), &type, NULL));
	printf("%s: %s\n", what, clt_command_name(type));
}

/* What clEnqueueSVMFree's callback saw. */
static struct {
	struct clt_waiter *done;
	cl_context ctx;
	cl_command_queue queue;
	void *ptrs[2];
	int calls;
	cl_uint n;
	bool queue_ok, ptrs_ok, user_data_ok;
} freed;

static void CL_CALLBACK free_notify(cl_command_queue queue, cl_uint n, void *ptrs[], void *ud)
{
	freed.calls++;
	freed.n = n;
	freed.queue_ok = queue == freed.queue;
	freed.ptrs_ok = n == 2 && ptrs[0] == freed.ptrs[0] && ptrs[1] == freed.ptrs[1];
	freed.user_data_ok = ud == &freed;
	for (cl_uint i = 0; i < n; i++)
		clSVMFree(freed.ctx, ptrs[i]);
	clt_waiter_signal(freed.done);
}

static void linked_list(cl_context ctx, cl_command_queue q, cl_kernel walk)
{
	struct node *nodes[N_NODES];
	cl_int *out = clSVMAlloc(ctx, CL_MEM_READ_WRITE, 2 * sizeof(cl_int), 0);

	CLT_ASSERT(out, "clSVMAlloc of the result failed");
	for (int i = 0; i < N_NODES; i++) {
		nodes[i] = clSVMAlloc(ctx, CL_MEM_READ_WRITE, sizeof(struct node), 0);
		CLT_ASSERT(nodes[i], "clSVMAlloc of node %d failed", i);
	}
	/* built back to front, each node through a write map of its own */
	int want = 0;
	for (int i = N_NODES - 1; i >= 0; i--) {
		CLT_CHECK(clEnqueueSVMMap(q, CL_TRUE, CL_MAP_WRITE, nodes[i], sizeof(struct node),
					  0, NULL, NULL));
		nodes[i]->value = i * 5 + 2;
		nodes[i]->pad = 0;
		nodes[i]->next = i + 1 < N_NODES ? nodes[i + 1] : NULL;
		want += i * 5 + 2;
		CLT_CHECK(clEnqueueSVMUnmap(q, nodes[i], 0, NULL, NULL));
	}
	CLT_CHECK(clSetKernelArgSVMPointer(walk, 0, nodes[0]));
	CLT_CHECK(clSetKernelArgSVMPointer(walk, 1, out));
	CLT_CHECK(clSetKernelExecInfo(walk, CL_KERNEL_EXEC_INFO_SVM_PTRS, sizeof(nodes), nodes));
	cl_bool no = CL_FALSE;
	CLT_CHECK(
	    clSetKernelExecInfo(walk, CL_KERNEL_EXEC_INFO_SVM_FINE_GRAIN_SYSTEM, sizeof(no), &no));
	size_t one = 1;
	CLT_CHECK(clEnqueueNDRangeKernel(q, walk, 1, NULL, &one, NULL, 0, NULL, NULL));
	CLT_CHECK(clEnqueueSVMMap(q, CL_TRUE, CL_MAP_READ, out, 2 * sizeof(cl_int), 0, NULL, NULL));
	printf("linked list: %d nodes, sum %d (want %d)\n", out[1], out[0], want);
	CLT_ASSERT(out[1] == N_NODES && out[0] == want, "the kernel walked the list wrong");
	CLT_CHECK(clEnqueueSVMUnmap(q, out, 0, NULL, NULL));
	CLT_CHECK(clFinish(q));

	/* the same list read back by the host, one map for all its nodes in turn */
	int count = 0;
	for (struct node *n = nodes[0]; n && count <= N_NODES; count++) {
		CLT_CHECK(clEnqueueSVMMap(q, CL_TRUE, CL_MAP_READ, n, sizeof(*n), 0, NULL, NULL));
		struct node *next = n->next;
		CLT_CHECK(clEnqueueSVMUnmap(q, n, 0, NULL, NULL));
		n = next;
	}
	printf("linked list walked by the host: %d nodes\n", count);
	for (int i = 0; i < N_NODES; i++)
		clSVMFree(ctx, nodes[i]);
	clSVMFree(ctx, out);
}

static void kernel_writes(cl_context ctx, cl_command_queue q, cl_kernel fill)
{
	cl_int *p = clSVMAlloc(ctx, CL_MEM_READ_WRITE, N * sizeof(cl_int), 0);
	size_t n = N;
	cl_event ev;

	CLT_ASSERT(p, "clSVMAlloc failed");
	CLT_CHECK(clSetKernelArgSVMPointer(fill, 0, p));
	CLT_CHECK(clEnqueueNDRangeKernel(q, fill, 1, NULL, &n, NULL, 0, NULL, NULL));
	CLT_CHECK(clEnqueueSVMMap(q, CL_TRUE, CL_MAP_READ, p, N * sizeof(cl_int), 0, NULL, NULL));
	report("kernel write, blocking read map", bad_ints(p, N, 3, 1));
	CLT_CHECK(clEnqueueSVMUnmap(q, p, 0, NULL, NULL));

	/* a read-write map changed in place, then a non-blocking map of part of it */
	CLT_CHECK(clEnqueueSVMMap(q, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, p, N * sizeof(cl_int), 0,
				  NULL, NULL));
	for (size_t i = 0; i < N; i++)
		p[i] = p[i] * 2; /* i * 6 + 2 */
	CLT_CHECK(clEnqueueSVMUnmap(q, p, 0, NULL, &ev));
	print_type("unmap event", ev);
	CLT_CHECK(clReleaseEvent(ev));
	CLT_CHECK(clEnqueueSVMMap(q, CL_FALSE, CL_MAP_READ, p + 100, 1000 * sizeof(cl_int), 0, NULL,
				  &ev));
	CLT_CHECK(clWaitForEvents(1, &ev));
	print_type("non-blocking map event", ev);
	CLT_CHECK(clReleaseEvent(ev));
	int bad = 0;
	for (size_t i = 100; i < 1100; i++)
		bad += p[i] != (cl_int)i * 6 + 2;
	report("read-write map, then non-blocking map", bad);
	CLT_CHECK(clEnqueueSVMUnmap(q, p + 100, 0, NULL, NULL));

	/* a write-invalidate map: what the host writes is what the device has */
	CLT_CHECK(clEnqueueSVMMap(q, CL_TRUE, CL_MAP_WRITE_INVALIDATE_REGION, p,
				  64 * sizeof(cl_int), 0, NULL, NULL));
	for (int i = 0; i < 64; i++)
		p[i] = -i;
	CLT_CHECK(clEnqueueSVMUnmap(q, p, 0, NULL, NULL));
	cl_int back[64];
	CLT_CHECK(clEnqueueSVMMemcpy(q, CL_TRUE, back, p, sizeof(back), 0, NULL, NULL));
	report("write-invalidate map", bad_ints(back, 64, -1, 0));
	CLT_CHECK(clFinish(q));
	clSVMFree(ctx, p);
}

static void copies(cl_context ctx, cl_command_queue q)
{
	static cl_int host[N], back[N];
	cl_int *a = clSVMAlloc(ctx, CL_MEM_READ_WRITE, N * sizeof(cl_int), 0);
	cl_int *b = clSVMAlloc(ctx, CL_MEM_READ_WRITE, N * sizeof(cl_int), 64);
	cl_event ev[3];

	CLT_ASSERT(a && b, "clSVMAlloc failed");
	for (int i = 0; i < N; i++)
		host[i] = i * 9 + 4;
	CLT_CHECK(clEnqueueSVMMemcpy(q, CL_TRUE, a, host, sizeof(host), 0, NULL, NULL));
	CLT_CHECK(clEnqueueSVMMemcpy(q, CL_TRUE, back, a, sizeof(back), 0, NULL, NULL));
	report("memcpy host to SVM to host, blocking", bad_ints(back, N, 9, 4));
	CLT_CHECK(clEnqueueSVMMemcpy(q, CL_TRUE, b, a, sizeof(host), 0, NULL, NULL));
	memset(back, 0, sizeof(back));
	CLT_CHECK(clEnqueueSVMMemcpy(q, CL_TRUE, back, b, sizeof(back), 0, NULL, NULL));
	report("memcpy SVM to SVM, blocking", bad_ints(back, N, 9, 4));

	/* non-blocking, each waiting for the one before */
	for (int i = 0; i < N; i++)
		host[i] = i * 11 - 3;
	memset(back, 0, sizeof(back));
	CLT_CHECK(clEnqueueSVMMemcpy(q, CL_FALSE, a, host, sizeof(host), 0, NULL, &ev[0]));
	CLT_CHECK(
	    clEnqueueSVMMemcpy(q, CL_FALSE, b + 1, a, (N - 1) * sizeof(cl_int), 1, &ev[0], &ev[1]));
	CLT_CHECK(clEnqueueSVMMemcpy(q, CL_FALSE, back, b + 1, (N - 1) * sizeof(cl_int), 1, &ev[1],
				     &ev[2]));
	CLT_CHECK(clWaitForEvents(1, &ev[2]));
	report("memcpy non-blocking with events", bad_ints(back, N - 1, 11, -3));
	for (int i = 0; i < 3; i++) {
		print_type("memcpy event", ev[i]);
		CLT_CHECK(clReleaseEvent(ev[i]));
	}

	/* fill: a 4-byte and a 16-byte pattern, read back through a copy */
	cl_int four = 0x01020304, sixteen[4] = { 1, 2, 3, 4 };
	CLT_CHECK(
	    clEnqueueSVMMemFill(q, a, &four, sizeof(four), N * sizeof(cl_int), 0, NULL, &ev[0]));
	CLT_CHECK(clEnqueueSVMMemFill(q, a + 8, sixteen, sizeof(sixteen), 16 * sizeof(cl_int), 1,
				      &ev[0], &ev[1]));
	print_type("fill event", ev[1]);
	CLT_CHECK(clEnqueueSVMMemcpy(q, CL_TRUE, back, a, sizeof(back), 2, ev, NULL));
	int bad = 0;
	for (int i = 0; i < N; i++)
		bad += back[i] != (i >= 8 && i < 24 ? (i - 8) % 4 + 1 : four);
	report("fill", bad);
	CLT_CHECK(clReleaseEvent(ev[0]));
	CLT_CHECK(clReleaseEvent(ev[1]));

	/* migration: to the host and back, whole allocations and parts */
	const void *ptrs[2] = { a, b + 16 };
	size_t sizes[2] = { 0, 64 };
	CLT_CHECK(
	    clEnqueueSVMMigrateMem(q, 2, ptrs, sizes, CL_MIGRATE_MEM_OBJECT_HOST, 0, NULL, &ev[0]));
	CLT_CHECK(clEnqueueSVMMigrateMem(q, 2, ptrs, NULL, 0, 1, &ev[0], &ev[1]));
	CLT_CHECK(clWaitForEvents(1, &ev[1]));
	print_type("migrate event", ev[1]);
	CLT_CHECK(clReleaseEvent(ev[0]));
	CLT_CHECK(clReleaseEvent(ev[1]));

	/* clEnqueueSVMFree without a callback: the library frees them */
	void *both[2] = { a, b };
	CLT_CHECK(clEnqueueSVMFree(q, 2, both, NULL, NULL, 0, NULL, &ev[0]));
	CLT_CHECK(clWaitForEvents(1, &ev[0]));
	print_type("free event", ev[0]);
	CLT_CHECK(clReleaseEvent(ev[0]));
}

static void free_with_callback(cl_context ctx, cl_command_queue q)
{
	cl_event ev;

	freed.done = clt_waiter_new();
	freed.ctx = ctx;
	freed.queue = q;
	freed.ptrs[0] = clSVMAlloc(ctx, CL_MEM_READ_WRITE, 4096, 0);
	freed.ptrs[1] = clSVMAlloc(ctx, CL_MEM_READ_ONLY, 100, 0);
	CLT_ASSERT(freed.ptrs[0] && freed.ptrs[1], "clSVMAlloc failed");
	CLT_CHECK(clEnqueueSVMFree(q, 2, freed.ptrs, free_notify, &freed, 0, NULL, &ev));
	CLT_CHECK(clWaitForEvents(1, &ev));
	int got = clt_waiter_wait(freed.done, 1, 20);
	printf("free callback: calls %d, num_svm_pointers %u, queue %s, pointers %s, user_data "
	       "%s\n",
	       got, freed.n, clt_yes(freed.queue_ok), clt_yes(freed.ptrs_ok),
	       clt_yes(freed.user_data_ok));
	CLT_ASSERT(got == 1 && freed.queue_ok && freed.ptrs_ok && freed.user_data_ok,
		   "the free callback got the wrong arguments");
	print_type("free event", ev);
	CLT_CHECK(clReleaseEvent(ev));
	clt_waiter_free(freed.done);
}

/*
 * An allocation never lands on memory the application uses: a big one
 * (mapped apart by the library) is freed and the application maps its
 * range itself, so the library's next allocation of that size, which is
 * likely to come back there, must go elsewhere (remoted: the guest finds
 * the range taken and tries another).
 */
static void beside_own_mapping(cl_context ctx)
{
	size_t size = (size_t)40 << 20;
	char *a = clSVMAlloc(ctx, CL_MEM_READ_WRITE, size, 0);

	CLT_ASSERT(a, "clSVMAlloc of 40 MiB failed");
	clSVMFree(ctx, a);
	long page = sysconf(_SC_PAGESIZE);
	char *lo = (char *)((uintptr_t)a & ~(uintptr_t)(page - 1));
	size_t len = (size_t)(a + size - lo);
	void *own = mmap(lo, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (own != lo) {
		if (own != MAP_FAILED)
			munmap(own, len);
		own = NULL; /* the range is in use already: what follows still holds */
	}
	if (own)
		memset(own, 0x5a, len);
	char *b = clSVMAlloc(ctx, CL_MEM_READ_WRITE, size, 0);
	bool apart = b && (b + size <= lo || b >= lo + len);
	printf("allocation beside the application's own mapping: %s\n",
	       b ? (apart ? "apart" : "overlapping") : "NULL");
	CLT_ASSERT(b && apart, "the allocation overlaps the application's memory");
	bool intact = true;
	for (size_t i = 0; own && i < len; i += (size_t)page)
		intact = intact && lo[i] == 0x5a;
	printf("the application's own mapping intact: %s\n", clt_yes(intact));
	CLT_ASSERT(intact, "the application's memory changed");
	clSVMFree(ctx, b);
	if (own)
		munmap(own, len);
}

static void errors(cl_context ctx, cl_command_queue q, cl_kernel walk)
{
	cl_int *p = clSVMAlloc(ctx, CL_MEM_READ_WRITE, 256, 0);
	cl_int host[16] = { 0 }, pat = 7;
	char big[256] = { 0 };
	void *null_ptr = NULL;

	CLT_ASSERT(p, "clSVMAlloc failed");
	printf("clSVMAlloc size 0: %s\n",
	       clSVMAlloc(ctx, CL_MEM_READ_WRITE, 0, 0) ? "memory" : "NULL");
	printf("clSVMAlloc alignment 3: %s\n",
	       clSVMAlloc(ctx, CL_MEM_READ_WRITE, 64, 3) ? "memory" : "NULL");
	printf("clSVMAlloc READ_ONLY | WRITE_ONLY: %s\n",
	       clSVMAlloc(ctx, CL_MEM_READ_ONLY | CL_MEM_WRITE_ONLY, 64, 0) ? "memory" : "NULL");
	printf("clSVMAlloc SVM_ATOMICS alone: %s\n",
	       clSVMAlloc(ctx, CL_MEM_SVM_ATOMICS, 64, 0) ? "memory" : "NULL");
	clSVMFree(ctx, NULL);

	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueSVMMemcpy(q, CL_TRUE, NULL, p, 16, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueSVMMemcpy(q, CL_TRUE, host, NULL, 16, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueSVMMemcpy(q, CL_TRUE, host, p, 0, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_MEM_COPY_OVERLAP,
		       clEnqueueSVMMemcpy(q, CL_TRUE, p + 1, p, 16, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueSVMMemFill(q, NULL, &pat, 4, 16, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueSVMMemFill(q, p, &pat, 3, 12, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueSVMMemFill(q, p, &pat, 4, 10, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueSVMMemFill(q, (char *)p + 2, &pat, 4, 8, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueSVMMemFill(q, p, &pat, 4, 0, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueSVMMemFill(q, p, big, sizeof(big), sizeof(big), 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueSVMMap(q, CL_TRUE, CL_MAP_READ, NULL, 16, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueSVMMap(q, CL_TRUE, CL_MAP_READ, p, 0, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueSVMUnmap(q, NULL, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueSVMFree(q, 1, NULL, NULL, NULL, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueSVMFree(q, 0, NULL, NULL, NULL, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueSVMFree(q, 1, &null_ptr, NULL, NULL, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_ARG_INDEX, clSetKernelArgSVMPointer(walk, 9, p));
	CLT_CHECK(clSetKernelArgSVMPointer(walk, 0, NULL));
	CLT_CHECK(clSetKernelArgSVMPointer(walk, 0, p + 4));
	const void *mp[1] = { p };
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueSVMMigrateMem(q, 0, mp, NULL, 0, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueSVMMigrateMem(q, 1, NULL, NULL, 0, 0, NULL, NULL));
	CLT_EXPECT_ERR(
	    CL_INVALID_VALUE,
	    clEnqueueSVMMigrateMem(q, 1, mp, NULL, (cl_mem_migration_flags)1 << 9, 0, NULL, NULL));
	printf("error answers: as expected\n");
	CLT_CHECK(clFinish(q));
	clSVMFree(ctx, p);
}

/*
 * --remote: what the remoting answers where PoCL natively does not check
 * (a tenant must not point the server's library at memory that is not one
 * of its SVM allocations), and the capabilities it does not offer.
 */
static void remote_guards(cl_context ctx, cl_command_queue q, cl_kernel walk,
			  cl_device_svm_capabilities caps)
{
	cl_int *p = clSVMAlloc(ctx, CL_MEM_READ_WRITE, 256, 0);
	cl_int host[64] = { 0 }, other[64], pat = 1;
	void *host_ptr = host;
	cl_bool yes = CL_TRUE;

	CLT_ASSERT(p, "clSVMAlloc failed");
	CLT_ASSERT(!(caps & (CL_DEVICE_SVM_FINE_GRAIN_BUFFER | CL_DEVICE_SVM_FINE_GRAIN_SYSTEM |
			     CL_DEVICE_SVM_ATOMICS)),
		   "the remote device reports fine-grained SVM or atomics");
	CLT_ASSERT(!clSVMAlloc(ctx, CL_MEM_READ_WRITE | CL_MEM_SVM_FINE_GRAIN_BUFFER, 64, 0),
		   "a fine-grained allocation succeeded");
	CLT_EXPECT_ERR(CL_INVALID_ARG_VALUE, clSetKernelArgSVMPointer(walk, 0, host));
	CLT_EXPECT_ERR(CL_INVALID_ARG_VALUE, clSetKernelArgSVMPointer(walk, 0, p + 64));
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clSetKernelExecInfo(walk, CL_KERNEL_EXEC_INFO_SVM_PTRS,
							     sizeof(host_ptr), &host_ptr));
	CLT_EXPECT_ERR(CL_INVALID_OPERATION,
		       clSetKernelExecInfo(walk, CL_KERNEL_EXEC_INFO_SVM_FINE_GRAIN_SYSTEM,
					   sizeof(yes), &yes));
	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueSVMMap(q, CL_TRUE, CL_MAP_READ, host, 16, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueSVMMap(q, CL_TRUE, CL_MAP_READ, p + 60, 32, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueSVMMemFill(q, host, &pat, 4, 16, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueSVMMemcpy(q, CL_TRUE, host, p + 32, 256, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE,
		       clEnqueueSVMFree(q, 1, &host_ptr, NULL, NULL, 0, NULL, NULL));
	const void *mp[1] = { host };
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueSVMMigrateMem(q, 1, mp, NULL, 0, 0, NULL, NULL));
	/* host to host: done in the guest */
	for (int i = 0; i < 64; i++)
		other[i] = i;
	CLT_CHECK(clEnqueueSVMMemcpy(q, CL_TRUE, host, other, sizeof(host), 0, NULL, NULL));
	CLT_ASSERT(memcmp(host, other, sizeof(host)) == 0, "host to host memcpy");
	/* a freed allocation is no SVM pointer any more */
	clSVMFree(ctx, p);
	CLT_EXPECT_ERR(CL_INVALID_ARG_VALUE, clSetKernelArgSVMPointer(walk, 0, p));
	fprintf(stderr, "cl-svm: remote guards: as expected\n");
}

int main(int argc, char **argv)
{
	bool remote = argc > 1 && strcmp(argv[1], "--remote") == 0;
	cl_platform_id platform;
	cl_device_id device;
	cl_int err;

	clt_init(120);
	clt_pick_device(&platform, &device);
	cl_device_svm_capabilities caps = 0;
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_SVM_CAPABILITIES, sizeof(caps), &caps, NULL));
	printf("CL_DEVICE_SVM_COARSE_GRAIN_BUFFER: %s\n",
	       clt_yes(caps & CL_DEVICE_SVM_COARSE_GRAIN_BUFFER));
	if (!(caps & CL_DEVICE_SVM_COARSE_GRAIN_BUFFER)) {
		fprintf(stderr, "cl-svm: skipped: the device has no coarse-grained buffer SVM\n");
		return CLT_SKIP;
	}

	cl_context ctx = clt_context_new(platform, device);
	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
#if CLT_ASAN
	/*
	 * Under AddressSanitizer the library's allocations lie in the
	 * sanitizer's allocator region, at the same fixed addresses in every
	 * instrumented process: remoted, the application has that region
	 * reserved for its own allocator, and no SVM range can be mapped there.
	 */
	void *first = clSVMAlloc(ctx, CL_MEM_READ_WRITE, 64, 0);
	if (!first) {
		fprintf(stderr,
			"cl-svm: skipped: no SVM allocation can be reserved in this "
			"process (AddressSanitizer's allocator region holds the server's)\n");
		return CLT_SKIP;
	}
	clSVMFree(ctx, first);
#endif
	cl_program prog = clt_program_build(ctx, device, src, "-cl-std=CL2.0");
	cl_kernel walk = clCreateKernel(prog, "walk", &err);
	CLT_CHECK(err);
	cl_kernel fill = clCreateKernel(prog, "fill", &err);
	CLT_CHECK(err);

	linked_list(ctx, q, walk);
	kernel_writes(ctx, q, fill);
	copies(ctx, q);
	free_with_callback(ctx, q);
	beside_own_mapping(ctx);
	errors(ctx, q, walk);
	if (remote)
		remote_guards(ctx, q, walk, caps);

	/* left at exit: the server frees what a session leaves */
	void *left = clSVMAlloc(ctx, CL_MEM_READ_WRITE, 1 << 20, 0);
	printf("allocation left at exit: %s\n", clt_yes(left != NULL));

	CLT_CHECK(clReleaseKernel(walk));
	CLT_CHECK(clReleaseKernel(fill));
	CLT_CHECK(clReleaseProgram(prog));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	return 0;
}
