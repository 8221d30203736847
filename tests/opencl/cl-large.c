/* SPDX-License-Identifier: MIT */
/*
 * cl-large: transfers larger than one wire frame (64 MiB) behave as natively.
 *
 *  - a 200 MiB buffer written and read back blocking, then non-blocking
 *    (the read waits on the write's event; its bytes are all in place once
 *    clWaitForEvents returns), then gated on a user event (nothing moves
 *    until it is set; clFinish then sees every byte), and beside a second
 *    queue whose gated write has the device;
 *  - a 100 MiB buffer created with CL_MEM_COPY_HOST_PTR;
 *  - a 96 MiB region mapped for reading, and an 80 MiB region mapped for
 *    writing whose bytes reach the buffer at the unmap;
 *  - reads, writes and maps past the buffer's end give the library's
 *    CL_INVALID_VALUE and leave the destination untouched.
 *
 * Memory: two 200 MiB host buffers here, plus the device's (PoCL: host
 * memory) and, remoted, the API server's copies.
 */
#include "clt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB	     (1024u * 1024u)
#define BIG_BYTES    ((size_t)200 * MIB)
#define COPY_BYTES   ((size_t)100 * MIB)
#define MAP_R_OFFSET ((size_t)50 * MIB)
#define MAP_R_BYTES  ((size_t)96 * MIB)
#define MAP_W_OFFSET ((size_t)13 * MIB + 4096)
#define MAP_W_BYTES  ((size_t)80 * MIB)

/* A pattern that differs per seed and per 32-bit word. */
static void fill(void *p, size_t bytes, uint32_t seed)
{
	uint32_t *w = p;

	for (size_t i = 0; i < bytes / 4; i++)
		w[i] = (uint32_t)(i * 2654435761u) ^ seed;
}

/* Whether p holds fill(seed)'s pattern for the bytes from byte offset 'at' on. */
static bool holds(const void *p, size_t bytes, size_t at, uint32_t seed)
{
	const uint32_t *w = p;

	for (size_t i = 0; i < bytes / 4; i++)
		if (w[i] != ((uint32_t)((i + at / 4) * 2654435761u) ^ seed))
			return false;
	return true;
}

static void report(const char *what, const void *p, size_t bytes, bool ok)
{
	printf("%s: %zu MiB, fnv1a %016llx, %s\n", what, bytes / MIB,
	       (unsigned long long)clt_fnv1a(p, bytes), ok ? "as written" : "WRONG");
	CLT_ASSERT(ok, "%s: bytes differ from what was written", what);
}

/*
 * A rect read whose packed bytes (3000 rows of 10000 bytes, 28.6 MiB) come
 * back in several DATA pieces, each unpacked at the host pitch (12288) with
 * rows split across pieces, the bytes between rows untouched; then a rect
 * write of 6000 x 10000 bytes (57 MiB, one frame) read back whole.
 */
static void rect_in_pieces(cl_command_queue q, cl_mem big, uint8_t *src, uint8_t *dst)
{
	const size_t row = 10000, pitch = 12288, rows = 3000, buf_pitch = 16384;
	const size_t zero[3] = { 0, 0, 0 }, region[3] = { row, rows, 1 };
	const size_t host_origin[3] = { 8, 1, 0 }, buf_origin[3] = { 100, 2, 0 };
	cl_event ev;

	fill(src, BIG_BYTES, 0x8888u);
	CLT_CHECK(clEnqueueWriteBuffer(q, big, CL_TRUE, 0, BIG_BYTES, src, 0, NULL, NULL));
	memset(dst, 0x5a, pitch * (rows + 2));
	CLT_CHECK(clEnqueueReadBufferRect(q, big, CL_FALSE, buf_origin, host_origin, region,
					  buf_pitch, 0, pitch, 0, dst, 0, NULL, &ev));
	CLT_CHECK(clWaitForEvents(1, &ev));
	CLT_CHECK(clReleaseEvent(ev));
	bool ok = true;
	for (size_t r = 0; r < rows + 2 && ok; r++) {
		for (size_t b = 0; b < pitch && ok; b++) {
			uint8_t got = dst[r * pitch + b];
			bool in = r >= 1 && r < rows + 1 && b >= 8 && b < 8 + row;
			uint8_t want =
			    in ? src[(r - 1 + 2) * buf_pitch + 100 + (b - 8)] : (uint8_t)0x5a;
			ok = got == want;
		}
	}
	printf("rect read of %zu rows x %zu bytes into pitch %zu: %s\n", rows, row, pitch,
	       ok ? "rows in place, gaps untouched" : "WRONG");
	CLT_ASSERT(ok, "the rect read in pieces put bytes in the wrong place");

	const size_t wrows = 6000, wregion[3] = { row, wrows, 1 };
	fill(dst, BIG_BYTES, 0x9999u);
	CLT_CHECK(clEnqueueWriteBufferRect(q, big, CL_TRUE, zero, zero, wregion, row, 0, pitch, 0,
					   dst, 0, NULL, NULL));
	CLT_CHECK(clEnqueueReadBuffer(q, big, CL_TRUE, 0, row * wrows, src, 0, NULL, NULL));
	ok = true;
	for (size_t r = 0; r < wrows && ok; r++)
		ok = memcmp(src + r * row, dst + r * pitch, row) == 0;
	printf("rect write of %zu rows x %zu bytes from pitch %zu: %s\n", wrows, row, pitch,
	       ok ? "as written" : "WRONG");
	CLT_ASSERT(ok, "the rect write did not land row by row");
}

int main(void)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_int err;

	clt_init(600);
	clt_pick_device(&platform, &device);
	cl_ulong max_alloc = 0;
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(max_alloc),
				  &max_alloc, NULL));
	if (max_alloc < BIG_BYTES) {
		fprintf(stderr, "cl-large: skipped: the device allocates at most %llu bytes\n",
			(unsigned long long)max_alloc);
		return CLT_SKIP;
	}
	cl_context ctx = clt_context_new(platform, device);
	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	uint8_t *src = malloc(BIG_BYTES), *dst = malloc(BIG_BYTES);
	CLT_ASSERT(src && dst, "no memory for two %zu-byte buffers", BIG_BYTES);
	cl_mem big = clCreateBuffer(ctx, CL_MEM_READ_WRITE, BIG_BYTES, NULL, &err);
	CLT_CHECK(err);

	/* Blocking write and read. */
	fill(src, BIG_BYTES, 0x1111u);
	memset(dst, 0, BIG_BYTES);
	CLT_CHECK(clEnqueueWriteBuffer(q, big, CL_TRUE, 0, BIG_BYTES, src, 0, NULL, NULL));
	CLT_CHECK(clEnqueueReadBuffer(q, big, CL_TRUE, 0, BIG_BYTES, dst, 0, NULL, NULL));
	report("blocking write + read", dst, BIG_BYTES, holds(dst, BIG_BYTES, 0, 0x1111u));

	/* Non-blocking: the read waits on the write; its event's completion means every byte. */
	cl_event wev, rev;
	bool ok;
	fill(src, BIG_BYTES, 0x2222u);
	memset(dst, 0, BIG_BYTES);
	CLT_CHECK(clEnqueueWriteBuffer(q, big, CL_FALSE, 0, BIG_BYTES, src, 0, NULL, &wev));
	CLT_CHECK(clEnqueueReadBuffer(q, big, CL_FALSE, 0, BIG_BYTES, dst, 1, &wev, &rev));
	CLT_CHECK(clWaitForEvents(1, &rev));
	cl_int st = 0;
	CLT_CHECK(clGetEventInfo(rev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(st), &st, NULL));
	printf("non-blocking read event: %s\n", clt_status_name(st));
	report("non-blocking write + read", dst, BIG_BYTES, holds(dst, BIG_BYTES, 0, 0x2222u));
	CLT_CHECK(clReleaseEvent(wev));
	CLT_CHECK(clReleaseEvent(rev));

	/* Gated on a user event: nothing moves until it is set. */
	cl_event gate = clCreateUserEvent(ctx, &err);
	CLT_CHECK(err);
	fill(src, BIG_BYTES, 0x3333u);
	memset(dst, 0, BIG_BYTES);
	CLT_CHECK(clEnqueueWriteBuffer(q, big, CL_FALSE, 0, BIG_BYTES, src, 1, &gate, NULL));
	CLT_CHECK(clEnqueueReadBuffer(q, big, CL_FALSE, 0, BIG_BYTES, dst, 0, NULL, &rev));
	CLT_CHECK(clGetEventInfo(rev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(st), &st, NULL));
	printf("gated read before the gate: %s\n", st == CL_COMPLETE ? "complete" : "not complete");
	CLT_CHECK(clSetUserEventStatus(gate, CL_COMPLETE));
	CLT_CHECK(clFinish(q));
	report("gated write + read", dst, BIG_BYTES, holds(dst, BIG_BYTES, 0, 0x3333u));
	CLT_CHECK(clReleaseEvent(rev));
	CLT_CHECK(clReleaseEvent(gate));

	/*
	 * A blocking write on a second queue while a gated write on the first
	 * has the device (remoted: the router holds the big write, and the
	 * CHUNKs that follow it, until the device slot frees).
	 */
	cl_command_queue q2 = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
	CLT_CHECK(err);
	cl_mem small = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 4096, NULL, &err);
	CLT_CHECK(err);
	static uint8_t small_src[4096];
	gate = clCreateUserEvent(ctx, &err);
	CLT_CHECK(err);
	CLT_CHECK(clEnqueueWriteBuffer(q2, small, CL_FALSE, 0, sizeof(small_src), small_src, 1,
				       &gate, NULL));
	fill(src, BIG_BYTES, 0x4444u);
	memset(dst, 0, BIG_BYTES);
	CLT_CHECK(clEnqueueWriteBuffer(q, big, CL_TRUE, 0, BIG_BYTES, src, 0, NULL, NULL));
	CLT_CHECK(clSetUserEventStatus(gate, CL_COMPLETE));
	CLT_CHECK(clFinish(q2));
	CLT_CHECK(clEnqueueReadBuffer(q, big, CL_TRUE, 0, BIG_BYTES, dst, 0, NULL, NULL));
	report("write beside a gated queue", dst, BIG_BYTES, holds(dst, BIG_BYTES, 0, 0x4444u));
	CLT_CHECK(clReleaseEvent(gate));
	CLT_CHECK(clReleaseMemObject(small));
	CLT_CHECK(clReleaseCommandQueue(q2));

	/* CL_MEM_COPY_HOST_PTR of 100 MiB. */
	fill(src, COPY_BYTES, 0x5555u);
	cl_mem copy =
	    clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, COPY_BYTES, src, &err);
	CLT_CHECK(err);
	memset(src, 0, COPY_BYTES); /* the buffer has its own copy */
	memset(dst, 0, COPY_BYTES);
	CLT_CHECK(clEnqueueReadBuffer(q, copy, CL_TRUE, 0, COPY_BYTES, dst, 0, NULL, NULL));
	report("CL_MEM_COPY_HOST_PTR", dst, COPY_BYTES, holds(dst, COPY_BYTES, 0, 0x5555u));
	/* A size that is no multiple of a chunk, at an odd offset, non-blocking. */
	const size_t odd_at = 4096 + 4, odd_bytes = COPY_BYTES - 8192 - 12;
	memset(dst, 0, COPY_BYTES);
	CLT_CHECK(clEnqueueReadBuffer(q, copy, CL_FALSE, odd_at, odd_bytes, dst, 0, NULL, &rev));
	CLT_CHECK(clWaitForEvents(1, &rev));
	CLT_CHECK(clReleaseEvent(rev));
	ok = holds(dst, odd_bytes, odd_at, 0x5555u);
	for (size_t i = odd_bytes; i < COPY_BYTES; i++)
		ok = ok && dst[i] == 0;
	report("odd-sized read", dst, COPY_BYTES, ok);
	CLT_CHECK(clReleaseMemObject(copy));

	/* Mapping for reading: the region's current contents. */
	fill(src, BIG_BYTES, 0x6666u);
	CLT_CHECK(clEnqueueWriteBuffer(q, big, CL_TRUE, 0, BIG_BYTES, src, 0, NULL, NULL));
	void *m = clEnqueueMapBuffer(q, big, CL_TRUE, CL_MAP_READ, MAP_R_OFFSET, MAP_R_BYTES, 0,
				     NULL, NULL, &err);
	CLT_CHECK(err);
	report("map for reading", m, MAP_R_BYTES, holds(m, MAP_R_BYTES, MAP_R_OFFSET, 0x6666u));
	CLT_CHECK(clEnqueueUnmapMemObject(q, big, m, 0, NULL, NULL));

	/* Mapping for writing: its bytes reach the buffer at the unmap. */
	m = clEnqueueMapBuffer(q, big, CL_TRUE, CL_MAP_WRITE_INVALIDATE_REGION, MAP_W_OFFSET,
			       MAP_W_BYTES, 0, NULL, NULL, &err);
	CLT_CHECK(err);
	fill(m, MAP_W_BYTES, 0x7777u);
	CLT_CHECK(clEnqueueUnmapMemObject(q, big, m, 0, NULL, NULL));
	CLT_CHECK(clEnqueueReadBuffer(q, big, CL_TRUE, 0, BIG_BYTES, dst, 0, NULL, NULL));
	ok = holds(dst, MAP_W_OFFSET, 0, 0x6666u) &&
	     holds(dst + MAP_W_OFFSET, MAP_W_BYTES, 0, 0x7777u) &&
	     holds(dst + MAP_W_OFFSET + MAP_W_BYTES, BIG_BYTES - MAP_W_OFFSET - MAP_W_BYTES,
		   MAP_W_OFFSET + MAP_W_BYTES, 0x6666u);
	report("map for writing, then read", dst, BIG_BYTES, ok);

	/* Past the end: the library's error, nothing moved. */
	memset(dst, 0xa5, BIG_BYTES);
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueReadBuffer(q, big, CL_TRUE, BIG_BYTES / 2,
							     BIG_BYTES, dst, 0, NULL, NULL));
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueReadBuffer(q, big, CL_FALSE, BIG_BYTES / 2,
							     BIG_BYTES, dst, 0, NULL, NULL));
	size_t untouched = 0;
	while (untouched < BIG_BYTES && dst[untouched] == 0xa5)
		untouched++;
	printf("read past the end: CL_INVALID_VALUE, destination %s\n",
	       untouched == BIG_BYTES ? "untouched" : "CHANGED");
	CLT_ASSERT(untouched == BIG_BYTES, "a failed read wrote byte %zu", untouched);
	CLT_EXPECT_ERR(CL_INVALID_VALUE, clEnqueueWriteBuffer(q, big, CL_TRUE, BIG_BYTES / 2,
							      BIG_BYTES, src, 0, NULL, NULL));
	m = clEnqueueMapBuffer(q, big, CL_TRUE, CL_MAP_READ, BIG_BYTES / 2, BIG_BYTES, 0, NULL,
			       NULL, &err);
	printf("write and map past the end: %s, %s, map %s\n", clt_err_name(CL_INVALID_VALUE),
	       clt_err_name(err), m ? "non-NULL" : "NULL");
	CLT_ASSERT(err == CL_INVALID_VALUE && !m, "map past the end: %s", clt_err_name(err));
	CLT_CHECK(clEnqueueReadBuffer(q, big, CL_TRUE, 0, BIG_BYTES, dst, 0, NULL, NULL));
	ok = holds(dst, MAP_W_OFFSET, 0, 0x6666u) &&
	     holds(dst + MAP_W_OFFSET, MAP_W_BYTES, 0, 0x7777u) &&
	     holds(dst + MAP_W_OFFSET + MAP_W_BYTES, BIG_BYTES - MAP_W_OFFSET - MAP_W_BYTES,
		   MAP_W_OFFSET + MAP_W_BYTES, 0x6666u);
	report("after the failed calls", dst, BIG_BYTES, ok);

	rect_in_pieces(q, big, src, dst);

	CLT_CHECK(clReleaseMemObject(big));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	free(src);
	free(dst);
	printf("done\n");
	return 0;
}
