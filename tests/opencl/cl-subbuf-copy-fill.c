/* SPDX-License-Identifier: MIT */
/*
 * cl-subbuf-copy-fill: sub-buffers, buffer copies and fills, kernel argument info.
 *
 * Every device-side operation is mirrored on a host copy of the buffer; after
 * each step the device buffer is read back and compared byte for byte, and
 * its FNV-1a hash printed. Sub-buffers start at multiples of the device's
 * base address alignment; their info (parent, offset, size, inherited flags)
 * and their effect on the parent's reference count are printed. The kernel
 * argument info of a kernel with every kind of qualifier comes from a build
 * with -cl-kernel-arg-info.
 */
#include "clt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUF_BYTES ((size_t)64 << 10)

static const char kernel_src[] =
    "__kernel void add_index(__global int *x, int k)\n"
    "{\n"
    "\tsize_t i = get_global_id(0);\n"
    "\tx[i] += k + (int)i;\n"
    "}\n"
    "\n"
    "__kernel void qualifiers(__global const float4 *restrict in, __global int *out,\n"
    "                         __local uchar *tmp, const uint n, __constant float *coef,\n"
    "                         volatile __global int *flag, __private long s)\n"
    "{\n"
    "\tsize_t i = get_global_id(0);\n"
    "\ttmp[get_local_id(0)] = (uchar)i;\n"
    "\tif (i < n)\n"
    "\t\tout[i] = (int)(in[i].x * coef[0]) + tmp[get_local_id(0)] + (int)s;\n"
    "\tif (i == 0)\n"
    "\t\t*flag = 1;\n"
    "}\n";

struct ctx {
	cl_context ctx;
	cl_command_queue q;
	cl_kernel add_index;
};

static unsigned char *host_a, *host_b; /* what buffers a and b must hold */

/* Reads buf back whole, compares it with want, prints its hash. */
static void verify(struct ctx *c, cl_mem buf, const unsigned char *want, const char *step)
{
	unsigned char *got = malloc(BUF_BYTES);
	size_t first_bad = BUF_BYTES;

	CLT_ASSERT(got != NULL, "out of memory");
	CLT_CHECK(clEnqueueReadBuffer(c->q, buf, CL_TRUE, 0, BUF_BYTES, got, 0, NULL, NULL));
	for (size_t i = 0; i < BUF_BYTES; i++) {
		if (got[i] != want[i]) {
			first_bad = i;
			break;
		}
	}
	printf("%s: matches the host model %s, fnv1a %016" PRIx64 "\n", step,
	       clt_yes(first_bad == BUF_BYTES), clt_fnv1a(got, BUF_BYTES));
	CLT_ASSERT(first_bad == BUF_BYTES, "%s: byte %zu is 0x%02x, want 0x%02x", step, first_bad,
		   got[first_bad], want[first_bad]);
	free(got);
}

static void fill_host(unsigned char *dst, const void *pattern, size_t pattern_size, size_t offset,
		      size_t size)
{
	for (size_t i = 0; i < size; i += pattern_size)
		memcpy(dst + offset + i, pattern, pattern_size);
}

static cl_uint mem_refs_once(cl_mem m)
{
	cl_uint refs = 0;

	CLT_CHECK(clGetMemObjectInfo(m, CL_MEM_REFERENCE_COUNT, sizeof(refs), &refs, NULL));
	return refs;
}

/*
 * The reference count once it has settled. The count is racy by the
 * specification: PoCL keeps a reference per finished command until it
 * cleans the command up, asynchronously. So: the count that three reads
 * 2 ms apart agree on (at most a second of trying).
 */
static cl_uint mem_refs(cl_mem m)
{
	const struct timespec pause = { 0, 2000000 };
	cl_uint last = mem_refs_once(m);
	int same = 0;

	for (int i = 0; i < 500 && same < 2; i++) {
		cl_uint now;

		nanosleep(&pause, NULL);
		now = mem_refs_once(m);
		same = now == last ? same + 1 : 0;
		last = now;
	}
	return last;
}

static cl_mem sub_buffer(cl_mem parent, cl_mem_flags flags, size_t origin, size_t size,
			 const char *label)
{
	cl_buffer_region region = { .origin = origin, .size = size };
	cl_mem sub, assoc = NULL;
	size_t got_offset = 0, got_size = 0;
	cl_mem_flags got_flags = 0;
	cl_int err;

	sub = clCreateSubBuffer(parent, flags, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
	CLT_CHECK(err);
	CLT_CHECK(
	    clGetMemObjectInfo(sub, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof(assoc), &assoc, NULL));
	CLT_CHECK(clGetMemObjectInfo(sub, CL_MEM_OFFSET, sizeof(got_offset), &got_offset, NULL));
	CLT_CHECK(clGetMemObjectInfo(sub, CL_MEM_SIZE, sizeof(got_size), &got_size, NULL));
	CLT_CHECK(clGetMemObjectInfo(sub, CL_MEM_FLAGS, sizeof(got_flags), &got_flags, NULL));
	CLT_ASSERT(assoc == parent, "%s: CL_MEM_ASSOCIATED_MEMOBJECT is not the parent", label);
	CLT_ASSERT(got_offset == origin && got_size == size, "%s: offset %zu size %zu", label,
		   got_offset, got_size);
	printf("%s: parent is the parent %s, offset %zu, size %zu, flags 0x%" PRIx64 "\n", label,
	       clt_yes(assoc == parent), got_offset, got_size, (uint64_t)got_flags);
	return sub;
}

static void print_arg_info(cl_kernel k)
{
	cl_uint n_args = 0;

	CLT_CHECK(clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, sizeof(n_args), &n_args, NULL));
	printf("kernel qualifiers: %u arguments\n", n_args);
	for (cl_uint i = 0; i < n_args; i++) {
		cl_kernel_arg_address_qualifier addr = 0;
		cl_kernel_arg_access_qualifier access = 0;
		cl_kernel_arg_type_qualifier type_q = 0;
		char name[64], type[64];
		size_t name_len = 0;

		CLT_CHECK(
		    clGetKernelArgInfo(k, i, CL_KERNEL_ARG_NAME, sizeof(name), name, &name_len));
		CLT_ASSERT(name_len == strlen(name) + 1, "arg %u: name size %zu", i, name_len);
		CLT_CHECK(
		    clGetKernelArgInfo(k, i, CL_KERNEL_ARG_TYPE_NAME, sizeof(type), type, NULL));
		CLT_CHECK(clGetKernelArgInfo(k, i, CL_KERNEL_ARG_ADDRESS_QUALIFIER, sizeof(addr),
					     &addr, NULL));
		CLT_CHECK(clGetKernelArgInfo(k, i, CL_KERNEL_ARG_ACCESS_QUALIFIER, sizeof(access),
					     &access, NULL));
		CLT_CHECK(clGetKernelArgInfo(k, i, CL_KERNEL_ARG_TYPE_QUALIFIER, sizeof(type_q),
					     &type_q, NULL));
		printf(
		    "  arg %u: name %s, type %s, address %s, access %s, type qualifiers%s%s%s%s\n",
		    i, name, type,
		    addr == CL_KERNEL_ARG_ADDRESS_GLOBAL     ? "global"
		    : addr == CL_KERNEL_ARG_ADDRESS_LOCAL    ? "local"
		    : addr == CL_KERNEL_ARG_ADDRESS_CONSTANT ? "constant"
		    : addr == CL_KERNEL_ARG_ADDRESS_PRIVATE  ? "private"
							     : "?",
		    access == CL_KERNEL_ARG_ACCESS_NONE ? "none" : "image",
		    type_q & CL_KERNEL_ARG_TYPE_CONST ? " const" : "",
		    type_q & CL_KERNEL_ARG_TYPE_RESTRICT ? " restrict" : "",
		    type_q & CL_KERNEL_ARG_TYPE_VOLATILE ? " volatile" : "",
		    type_q == CL_KERNEL_ARG_TYPE_NONE ? " none" : "");
	}
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* clCreateKernelsInProgram: every kernel, printed by name in sorted order. */
static void print_all_kernels(cl_program prog)
{
	cl_kernel ks[8];
	char names[8][64];
	const char *sorted[8];
	cl_uint n = 0;

	CLT_CHECK(clCreateKernelsInProgram(prog, 0, NULL, &n));
	CLT_ASSERT(n >= 1 && n <= 8, "%u kernels", n);
	CLT_CHECK(clCreateKernelsInProgram(prog, n, ks, NULL));
	for (cl_uint i = 0; i < n; i++) {
		CLT_CHECK(clGetKernelInfo(ks[i], CL_KERNEL_FUNCTION_NAME, sizeof(names[i]),
					  names[i], NULL));
		sorted[i] = names[i];
	}
	qsort(sorted, n, sizeof(sorted[0]), compare_names);
	printf("clCreateKernelsInProgram: %u kernels:", n);
	for (cl_uint i = 0; i < n; i++)
		printf(" %s", sorted[i]);
	printf("\n");
	for (cl_uint i = 0; i < n; i++)
		CLT_CHECK(clReleaseKernel(ks[i]));
}

int main(void)
{
	static const cl_uchar byte_pattern = 0xa5;
	static const cl_int int_pattern = 0x01020304;
	static const cl_float float4_pattern[4] = { 1.5f, -2.25f, 1e10f, 0.0f };
	cl_platform_id platform;
	cl_device_id device;
	cl_program prog;
	cl_kernel k_qual;
	struct ctx c;
	cl_mem a, b, sub_a, sub_a2, sub_b;
	cl_uint align_bits = 0, refs_before;
	size_t align, off1, off2, len1, n_ints;
	cl_int err, k;

	clt_init(120);
	clt_pick_device(&platform, &device);
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof(align_bits),
				  &align_bits, NULL));
	align = align_bits / 8;
	CLT_ASSERT(align >= 4 && 10 * align <= BUF_BYTES, "base address alignment %zu bytes",
		   align);
	off1 = align;
	len1 = 4 * align;
	off2 = 6 * align;

	host_a = malloc(BUF_BYTES);
	host_b = malloc(BUF_BYTES);
	CLT_ASSERT(host_a && host_b, "out of memory");
	for (size_t i = 0; i < BUF_BYTES; i++)
		host_a[i] = (unsigned char)(i * 31 + 7);
	memset(host_b, 0, BUF_BYTES);

	c.ctx = clt_context_new(platform, device);
	c.q = clCreateCommandQueueWithProperties(c.ctx, device, NULL, &err);
	CLT_CHECK(err);
	prog = clt_program_build(c.ctx, device, kernel_src, "-cl-kernel-arg-info");
	c.add_index = clCreateKernel(prog, "add_index", &err);
	CLT_CHECK(err);
	k_qual = clCreateKernel(prog, "qualifiers", &err);
	CLT_CHECK(err);
	print_arg_info(k_qual);
	print_all_kernels(prog);

	a = clCreateBuffer(c.ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, BUF_BYTES, host_a,
			   &err);
	CLT_CHECK(err);
	b = clCreateBuffer(c.ctx, CL_MEM_READ_WRITE, BUF_BYTES, NULL, &err);
	CLT_CHECK(err);
	verify(&c, a, host_a, "a after create with COPY_HOST_PTR");

	/* Fills: one byte over all of b, an int pattern and a float4 pattern over parts of a. */
	CLT_CHECK(clEnqueueFillBuffer(c.q, b, &byte_pattern, 1, 0, BUF_BYTES, 0, NULL, NULL));
	fill_host(host_b, &byte_pattern, 1, 0, BUF_BYTES);
	verify(&c, b, host_b, "b after 1-byte fill");
	CLT_CHECK(clEnqueueFillBuffer(c.q, a, &int_pattern, sizeof(int_pattern), 4096, 8192, 0,
				      NULL, NULL));
	fill_host(host_a, &int_pattern, sizeof(int_pattern), 4096, 8192);
	CLT_CHECK(clEnqueueFillBuffer(c.q, a, float4_pattern, sizeof(float4_pattern), 32768, 1024,
				      0, NULL, NULL));
	fill_host(host_a, float4_pattern, sizeof(float4_pattern), 32768, 1024);
	verify(&c, a, host_a, "a after 4-byte and 16-byte fills");

	/* Copies: a region of a to b, then within b without overlap. */
	CLT_CHECK(clEnqueueCopyBuffer(c.q, a, b, 1000, 20000, 5000, 0, NULL, NULL));
	memcpy(host_b + 20000, host_a + 1000, 5000);
	CLT_CHECK(clEnqueueCopyBuffer(c.q, b, b, 20000, 40000, 5000, 0, NULL, NULL));
	memcpy(host_b + 40000, host_b + 20000, 5000);
	verify(&c, b, host_b, "b after copies from a and within b");

	/* Sub-buffers of a: inherited flags, parent reference count, kernel on a window. */
	refs_before = mem_refs(a);
	sub_a = sub_buffer(a, 0, off1, len1, "sub-buffer of a (flags inherited)");
	sub_a2 = sub_buffer(a, CL_MEM_READ_ONLY, off2, align, "sub-buffer of a (READ_ONLY)");
	/*
	 * Absolute counts are racy by the specification (PoCL keeps a reference
	 * per finished command until it cleans the command up, asynchronously),
	 * so what is printed is what the sub-buffers add and give back.
	 */
	printf("parent reference count: the sub-buffers add %d\n",
	       (int)mem_refs(a) - (int)refs_before);
	n_ints = len1 / sizeof(cl_int);
	k = 1000;
	CLT_CHECK(clSetKernelArg(c.add_index, 0, sizeof(cl_mem), &sub_a));
	CLT_CHECK(clSetKernelArg(c.add_index, 1, sizeof(cl_int), &k));
	CLT_CHECK(clEnqueueNDRangeKernel(c.q, c.add_index, 1, NULL, &n_ints, NULL, 0, NULL, NULL));
	for (size_t i = 0; i < n_ints; i++) {
		cl_int v;

		memcpy(&v, host_a + off1 + i * sizeof(v), sizeof(v));
		v = (cl_int)((uint32_t)v + (uint32_t)k + (uint32_t)i);
		memcpy(host_a + off1 + i * sizeof(v), &v, sizeof(v));
	}
	verify(&c, a, host_a, "a after a kernel on its sub-buffer");

	/* A fill and copies through sub-buffers land at their offsets in the parents. */
	CLT_CHECK(clEnqueueFillBuffer(c.q, sub_a, &int_pattern, sizeof(int_pattern), 8, 16, 0, NULL,
				      NULL));
	fill_host(host_a + off1, &int_pattern, sizeof(int_pattern), 8, 16);
	sub_b = sub_buffer(b, CL_MEM_WRITE_ONLY, off2, len1, "sub-buffer of b (WRITE_ONLY)");
	CLT_CHECK(clEnqueueCopyBuffer(c.q, sub_a, sub_b, 0, 4, len1 - 4, 0, NULL, NULL));
	memcpy(host_b + off2 + 4, host_a + off1, len1 - 4);
	CLT_CHECK(clEnqueueCopyBuffer(c.q, sub_a2, b, 0, 0, align, 0, NULL, NULL));
	memcpy(host_b, host_a + off2, align);
	verify(&c, a, host_a, "a after a fill of its sub-buffer");
	verify(&c, b, host_b, "b after copies between sub-buffers");
	{
		unsigned char window[64];

		CLT_CHECK(clEnqueueReadBuffer(c.q, sub_b, CL_TRUE, 4, sizeof(window), window, 0,
					      NULL, NULL));
		printf("read through sub-buffer of b matches: %s\n",
		       clt_yes(memcmp(window, host_b + off2 + 4, sizeof(window)) == 0));
		CLT_ASSERT(memcmp(window, host_b + off2 + 4, sizeof(window)) == 0,
			   "read through a sub-buffer");
	}

	CLT_CHECK(clFinish(c.q));
	CLT_CHECK(clReleaseMemObject(sub_b));
	CLT_CHECK(clReleaseMemObject(sub_a2));
	CLT_CHECK(clReleaseMemObject(sub_a));
	printf("parent reference count after releasing the sub-buffers: %s\n",
	       mem_refs(a) == refs_before ? "back to what it was" : "different");
	CLT_CHECK(clReleaseMemObject(b));
	CLT_CHECK(clReleaseMemObject(a));
	CLT_CHECK(clReleaseKernel(k_qual));
	CLT_CHECK(clReleaseKernel(c.add_index));
	CLT_CHECK(clReleaseProgram(prog));
	CLT_CHECK(clReleaseCommandQueue(c.q));
	CLT_CHECK(clReleaseContext(c.ctx));
	free(host_b);
	free(host_a);
	return 0;
}
