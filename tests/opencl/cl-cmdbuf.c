/* SPDX-License-Identifier: MIT */
/*
 * cl-cmdbuf: cl_khr_command_buffer, found the way applications find it.
 *
 * The entry points come from clGetExtensionFunctionAddressForPlatform (the
 * ICD loader exports none of them). A command buffer records a fill, a copy,
 * a kernel, a barrier and a copy after it, linked by sync points; it is
 * finalized and enqueued twice (the kernel accumulates, so both runs show),
 * and its info (queues, reference count, state, properties) is printed at
 * each stage. A second one records the rectangle and image commands. Error
 * paths print the library's own codes: enqueue before finalize, record and
 * finalize after finalize, a bad sync point, a NULL command buffer.
 *
 * Exits 77 when the device does not report cl_khr_command_buffer.
 */
#include "clt.h"

#include <CL/cl_ext.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 1024 /* ints per buffer */

static const char kernel_src[] =
    "__kernel void acc(__global const int *b, __global int *c, int k)\n"
    "{\n"
    "\tsize_t i = get_global_id(0);\n"
    "\tc[i] += b[i] * 2 + k + (int)i;\n"
    "}\n";

/* The extension's entry points, as the application fetches them. */
static struct {
	clCreateCommandBufferKHR_fn create;
	clFinalizeCommandBufferKHR_fn finalize;
	clRetainCommandBufferKHR_fn retain;
	clReleaseCommandBufferKHR_fn release;
	clEnqueueCommandBufferKHR_fn enqueue;
	clCommandBarrierWithWaitListKHR_fn barrier;
	clCommandCopyBufferKHR_fn copy;
	clCommandCopyBufferRectKHR_fn copy_rect;
	clCommandCopyBufferToImageKHR_fn copy_to_image;
	clCommandCopyImageKHR_fn copy_image;
	clCommandCopyImageToBufferKHR_fn copy_from_image;
	clCommandFillBufferKHR_fn fill;
	clCommandFillImageKHR_fn fill_image;
	clCommandNDRangeKernelKHR_fn ndrange;
	clGetCommandBufferInfoKHR_fn info;
} kc;

/* The extension's error codes by name; clt_err_name knows the core ones. */
static const char *err_name(cl_int err)
{
	switch (err) {
	case CL_INVALID_COMMAND_BUFFER_KHR:
		return "CL_INVALID_COMMAND_BUFFER_KHR";
	case CL_INVALID_SYNC_POINT_WAIT_LIST_KHR:
		return "CL_INVALID_SYNC_POINT_WAIT_LIST_KHR";
	case CL_INCOMPATIBLE_COMMAND_QUEUE_KHR:
		return "CL_INCOMPATIBLE_COMMAND_QUEUE_KHR";
	default:
		return clt_err_name(err);
	}
}

static const char *state_name(cl_command_buffer_state_khr s)
{
	switch (s) {
	case CL_COMMAND_BUFFER_STATE_RECORDING_KHR:
		return "RECORDING";
	case CL_COMMAND_BUFFER_STATE_EXECUTABLE_KHR:
		return "EXECUTABLE";
	case CL_COMMAND_BUFFER_STATE_PENDING_KHR:
		return "PENDING";
	case CL_COMMAND_BUFFER_STATE_INVALID_KHR:
		return "INVALID";
	default:
		return "unknown";
	}
}

static bool has_word(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += len) {
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return true;
	}
	return false;
}

/* Fetches one entry point by name, printing whether it was found. */
static void *fetch(cl_platform_id platform, const char *name)
{
	void *fn = clGetExtensionFunctionAddressForPlatform(platform, name);

	printf("%s: %s\n", name, fn ? "found" : "NULL");
	return fn;
}

static void print_info(cl_command_buffer_khr cb, cl_command_queue q, const char *when)
{
	cl_uint nq = 0, refs = 0;
	cl_command_buffer_state_khr state = 0;
	cl_command_queue queues[4] = { NULL };
	cl_command_buffer_properties_khr props[8];
	size_t n_bytes = 0;
	cl_int err;

	CLT_CHECK(kc.info(cb, CL_COMMAND_BUFFER_NUM_QUEUES_KHR, sizeof(nq), &nq, NULL));
	CLT_CHECK(kc.info(cb, CL_COMMAND_BUFFER_REFERENCE_COUNT_KHR, sizeof(refs), &refs, NULL));
	CLT_CHECK(kc.info(cb, CL_COMMAND_BUFFER_STATE_KHR, sizeof(state), &state, NULL));
	/*
	 * PoCL 3.1 answers CL_COMMAND_BUFFER_QUEUES_KHR with the address of its
	 * own array of queues, not the queues: printed, not required.
	 */
	err = kc.info(cb, CL_COMMAND_BUFFER_QUEUES_KHR, sizeof(queues), queues, &n_bytes);
	printf("%s: %u queue(s) (the queue listed: %s), %u reference(s), state %s\n", when, nq,
	       clt_yes(err == CL_SUCCESS && n_bytes == sizeof(q) && queues[0] == q), refs,
	       state_name(state));
	CLT_ASSERT(nq == 1, "%s: %u queues", when, nq);
	/*
	 * PoCL 3.1 answers CL_COMMAND_BUFFER_PROPERTIES_ARRAY_KHR with a wrong
	 * size and its own pointer: whether the answer is the list passed at
	 * creation is printed, not required.
	 */
	err = kc.info(cb, CL_COMMAND_BUFFER_PROPERTIES_ARRAY_KHR, sizeof(props), props, &n_bytes);
	bool same = err == CL_SUCCESS && n_bytes == 3 * sizeof(props[0]) &&
		    props[0] == CL_COMMAND_BUFFER_FLAGS_KHR && props[1] == 0 && props[2] == 0;
	printf("%s: properties array is the list passed: %s\n", when, clt_yes(same));
}

static void check_ints(cl_command_queue q, cl_mem buf, const int *want, const char *what)
{
	int *got = malloc(N * sizeof(int));

	CLT_ASSERT(got != NULL, "out of memory");
	CLT_CHECK(clEnqueueReadBuffer(q, buf, CL_TRUE, 0, N * sizeof(int), got, 0, NULL, NULL));
	size_t bad = N;
	for (size_t i = 0; i < N && bad == N; i++)
		if (got[i] != want[i])
			bad = i;
	printf("%s: as expected %s, fnv1a %016" PRIx64 "\n", what, clt_yes(bad == N),
	       clt_fnv1a(got, N * sizeof(int)));
	CLT_ASSERT(bad == N, "%s: [%zu] is %d, want %d", what, bad, got[bad], want[bad]);
	free(got);
}

/* Records and runs the rectangle and image commands on their own buffer. */
static void image_commands(cl_context ctx, cl_command_queue q)
{
	enum { W = 16, H = 8 };
	cl_image_format fmt = { CL_RGBA, CL_UNSIGNED_INT8 };
	cl_image_desc desc = { .image_type = CL_MEM_OBJECT_IMAGE2D,
			       .image_width = W,
			       .image_height = H };
	cl_int err;
	cl_mem img1 = clCreateImage(ctx, CL_MEM_READ_WRITE, &fmt, &desc, NULL, &err);
	CLT_CHECK(err);
	cl_mem img2 = clCreateImage(ctx, CL_MEM_READ_WRITE, &fmt, &desc, NULL, &err);
	CLT_CHECK(err);
	cl_mem src = clCreateBuffer(ctx, CL_MEM_READ_WRITE, W * H * 4, NULL, &err);
	CLT_CHECK(err);
	cl_mem rect = clCreateBuffer(ctx, CL_MEM_READ_WRITE, W * H * 4, NULL, &err);
	CLT_CHECK(err);
	cl_mem out = clCreateBuffer(ctx, CL_MEM_READ_WRITE, W * H * 4, NULL, &err);
	CLT_CHECK(err);
	unsigned char host[W * H * 4], got[W * H * 4], want[W * H * 4];
	for (size_t i = 0; i < sizeof(host); i++)
		host[i] = (unsigned char)(i * 7 + 3);
	CLT_CHECK(clEnqueueWriteBuffer(q, src, CL_TRUE, 0, sizeof(host), host, 0, NULL, NULL));
	memset(got, 0, sizeof(got));
	CLT_CHECK(clEnqueueWriteBuffer(q, rect, CL_TRUE, 0, sizeof(got), got, 0, NULL, NULL));

	cl_command_buffer_khr cb = kc.create(1, &q, NULL, &err);
	CLT_CHECK(err);
	cl_sync_point_khr s[5] = { 0 };
	const cl_uint color[4] = { 1, 2, 3, 4 };
	const size_t zero[3] = { 0, 0, 0 }, all[3] = { W, H, 1 };
	const size_t quarter[3] = { W / 2, H / 2, 1 };
	/* img1 = color; its top-left quarter = src's first rows; img2 = img1 */
	CLT_CHECK(kc.fill_image(cb, NULL, img1, color, zero, all, 0, NULL, &s[0], NULL));
	CLT_CHECK(kc.copy_to_image(cb, NULL, src, img1, 0, zero, quarter, 1, &s[0], &s[1], NULL));
	CLT_CHECK(kc.copy_image(cb, NULL, img1, img2, zero, zero, all, 1, &s[1], &s[2], NULL));
	CLT_CHECK(kc.copy_from_image(cb, NULL, img2, out, zero, all, 0, 1, &s[2], &s[3], NULL));
	/* rect's rows 0..H/2-1, bytes W*2..W*4-1 = src's same rectangle */
	const size_t rorigin[3] = { W * 2, 0, 0 }, rregion[3] = { W * 2, H / 2, 1 };
	CLT_CHECK(kc.copy_rect(cb, NULL, src, rect, rorigin, rorigin, rregion, W * 4, 0, W * 4, 0,
			       0, NULL, &s[4], NULL));
	printf("image commands: sync points %u %u %u %u %u\n", s[0], s[1], s[2], s[3], s[4]);
	CLT_CHECK(kc.finalize(cb));
	CLT_CHECK(kc.enqueue(0, NULL, cb, 0, NULL, NULL));
	CLT_CHECK(clFinish(q));

	CLT_CHECK(clEnqueueReadBuffer(q, out, CL_TRUE, 0, sizeof(got), got, 0, NULL, NULL));
	for (size_t y = 0; y < H; y++) {
		for (size_t x = 0; x < W; x++) {
			unsigned char *w = &want[(y * W + x) * 4];
			if (x < W / 2 && y < H / 2) {
				/* the quarter region packed from src's start */
				memcpy(w, &host[(y * (W / 2) + x) * 4], 4);
			} else {
				for (int c = 0; c < 4; c++)
					w[c] = (unsigned char)color[c];
			}
		}
	}
	printf("image fill, copies and image to buffer: as expected %s, fnv1a %016" PRIx64 "\n",
	       clt_yes(memcmp(got, want, sizeof(got)) == 0), clt_fnv1a(got, sizeof(got)));
	CLT_ASSERT(memcmp(got, want, sizeof(got)) == 0, "image commands: wrong bytes");

	CLT_CHECK(clEnqueueReadBuffer(q, rect, CL_TRUE, 0, sizeof(got), got, 0, NULL, NULL));
	memset(want, 0, sizeof(want));
	for (size_t y = 0; y < H / 2; y++)
		memcpy(&want[y * W * 4 + W * 2], &host[y * W * 4 + W * 2], W * 2);
	printf("rectangle copy: as expected %s, fnv1a %016" PRIx64 "\n",
	       clt_yes(memcmp(got, want, sizeof(got)) == 0), clt_fnv1a(got, sizeof(got)));
	CLT_ASSERT(memcmp(got, want, sizeof(got)) == 0, "rectangle copy: wrong bytes");

	CLT_CHECK(kc.release(cb));
	CLT_CHECK(clReleaseMemObject(out));
	CLT_CHECK(clReleaseMemObject(rect));
	CLT_CHECK(clReleaseMemObject(src));
	CLT_CHECK(clReleaseMemObject(img2));
	CLT_CHECK(clReleaseMemObject(img1));
}

int main(void)
{
	cl_platform_id platform;
	cl_device_id device;
	cl_int err;

	clt_init(120);
	clt_pick_device(&platform, &device);

	char *dev_exts = clt_device_string(device, CL_DEVICE_EXTENSIONS);
	bool has = has_word(dev_exts, "cl_khr_command_buffer");
	free(dev_exts);
	if (!has) {
		fprintf(stderr, "cl-cmdbuf: skipped: the device does not report "
				"cl_khr_command_buffer\n");
		return CLT_SKIP;
	}
	char *plat_exts = clt_platform_string(platform, CL_PLATFORM_EXTENSIONS);
	printf("device reports cl_khr_command_buffer: yes; platform: %s\n",
	       clt_yes(has_word(plat_exts, "cl_khr_command_buffer")));
	free(plat_exts);

	size_t n_bytes = 0;
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS_WITH_VERSION, 0, NULL, &n_bytes));
	cl_name_version *nv = malloc(n_bytes);
	CLT_ASSERT(nv != NULL, "out of memory");
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS_WITH_VERSION, n_bytes, nv, NULL));
	for (size_t i = 0; i < n_bytes / sizeof(*nv); i++) {
		if (strncmp(nv[i].name, "cl_khr_command_buffer", 21) == 0)
			printf("%s version %u.%u.%u\n", nv[i].name, CL_VERSION_MAJOR(nv[i].version),
			       CL_VERSION_MINOR(nv[i].version), CL_VERSION_PATCH(nv[i].version));
	}
	free(nv);
	cl_device_command_buffer_capabilities_khr caps = 0;
	cl_command_queue_properties req = 0;
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_COMMAND_BUFFER_CAPABILITIES_KHR, sizeof(caps),
				  &caps, NULL));
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_COMMAND_BUFFER_REQUIRED_QUEUE_PROPERTIES_KHR,
				  sizeof(req), &req, NULL));
	printf("capabilities 0x%" PRIx64 ", required queue properties 0x%" PRIx64 "\n",
	       (uint64_t)caps, (uint64_t)req);

	kc.create = (clCreateCommandBufferKHR_fn)fetch(platform, "clCreateCommandBufferKHR");
	kc.finalize = (clFinalizeCommandBufferKHR_fn)fetch(platform, "clFinalizeCommandBufferKHR");
	kc.retain = (clRetainCommandBufferKHR_fn)fetch(platform, "clRetainCommandBufferKHR");
	kc.release = (clReleaseCommandBufferKHR_fn)fetch(platform, "clReleaseCommandBufferKHR");
	kc.enqueue = (clEnqueueCommandBufferKHR_fn)fetch(platform, "clEnqueueCommandBufferKHR");
	kc.barrier =
	    (clCommandBarrierWithWaitListKHR_fn)fetch(platform, "clCommandBarrierWithWaitListKHR");
	kc.copy = (clCommandCopyBufferKHR_fn)fetch(platform, "clCommandCopyBufferKHR");
	kc.copy_rect = (clCommandCopyBufferRectKHR_fn)fetch(platform, "clCommandCopyBufferRectKHR");
	kc.copy_to_image =
	    (clCommandCopyBufferToImageKHR_fn)fetch(platform, "clCommandCopyBufferToImageKHR");
	kc.copy_image = (clCommandCopyImageKHR_fn)fetch(platform, "clCommandCopyImageKHR");
	kc.copy_from_image =
	    (clCommandCopyImageToBufferKHR_fn)fetch(platform, "clCommandCopyImageToBufferKHR");
	kc.fill = (clCommandFillBufferKHR_fn)fetch(platform, "clCommandFillBufferKHR");
	kc.fill_image = (clCommandFillImageKHR_fn)fetch(platform, "clCommandFillImageKHR");
	kc.ndrange = (clCommandNDRangeKernelKHR_fn)fetch(platform, "clCommandNDRangeKernelKHR");
	kc.info = (clGetCommandBufferInfoKHR_fn)fetch(platform, "clGetCommandBufferInfoKHR");
	void **all = (void **)&kc;
	for (size_t i = 0; i < sizeof(kc) / sizeof(void *); i++)
		CLT_ASSERT(all[i] != NULL, "entry point %zu missing", i);
	/* cl_khr_command_buffer_mutable_dispatch: not reported by the device */
	(void)fetch(platform, "clUpdateMutableCommandsKHR");
	(void)fetch(platform, "clGetMutableCommandInfoKHR");

	cl_context ctx = clt_context_new(platform, device);
	cl_queue_properties qprops[] = { CL_QUEUE_PROPERTIES, (cl_queue_properties)req, 0 };
	cl_command_queue q = clCreateCommandQueueWithProperties(ctx, device, qprops, &err);
	CLT_CHECK(err);
	cl_program prog = clt_program_build(ctx, device, kernel_src, NULL);
	cl_kernel kern = clCreateKernel(prog, "acc", &err);
	CLT_CHECK(err);
	cl_mem a = clCreateBuffer(ctx, CL_MEM_READ_WRITE, N * sizeof(int), NULL, &err);
	CLT_CHECK(err);
	cl_mem b = clCreateBuffer(ctx, CL_MEM_READ_WRITE, N * sizeof(int), NULL, &err);
	CLT_CHECK(err);
	cl_mem c = clCreateBuffer(ctx, CL_MEM_READ_WRITE, N * sizeof(int), NULL, &err);
	CLT_CHECK(err);
	cl_mem d = clCreateBuffer(ctx, CL_MEM_READ_WRITE, N * sizeof(int), NULL, &err);
	CLT_CHECK(err);
	int *host = calloc(N, sizeof(int));
	CLT_ASSERT(host != NULL, "out of memory");
	for (int i = 0; i < N; i++)
		host[i] = i * 3 - 100;
	CLT_CHECK(clEnqueueWriteBuffer(q, b, CL_TRUE, 0, N * sizeof(int), host, 0, NULL, NULL));
	memset(host, 0, N * sizeof(int));
	CLT_CHECK(clEnqueueWriteBuffer(q, c, CL_TRUE, 0, N * sizeof(int), host, 0, NULL, NULL));
	const int k = 5;
	CLT_CHECK(clSetKernelArg(kern, 0, sizeof(cl_mem), &b));
	CLT_CHECK(clSetKernelArg(kern, 1, sizeof(cl_mem), &c));
	CLT_CHECK(clSetKernelArg(kern, 2, sizeof(int), &k));

	/* The NULL command buffer and a queue list that does not match. */
	CLT_ASSERT(kc.create(0, NULL, NULL, &err) == NULL, "a command buffer of no queues");
	printf("create with no queues: %s\n", err_name(err));
	err = kc.finalize(NULL);
	printf("finalize NULL: %s\n", err_name(err));

	const cl_command_buffer_properties_khr cbprops[] = { CL_COMMAND_BUFFER_FLAGS_KHR, 0, 0 };
	cl_command_buffer_khr cb = kc.create(1, &q, cbprops, &err);
	CLT_CHECK(err);
	CLT_ASSERT(cb != NULL, "no command buffer");
	print_info(cb, q, "created");

	/* a = 7s; b = a (after the fill); c += b * 2 + k + i; barrier; d = c */
	const int seven = 7;
	cl_sync_point_khr s_fill = 0, s_copy = 0, s_kern = 0, s_bar = 0, s_out = 0;
	cl_mutable_command_khr mh = NULL;
	CLT_CHECK(kc.fill(cb, NULL, a, &seven, sizeof(seven), 0, N * sizeof(int), 0, NULL, &s_fill,
			  NULL));
	/* The device has no mutable dispatch: a mutable handle to fill in is refused. */
	err = kc.copy(cb, NULL, a, b, 0, 0, N * sizeof(int), 1, &s_fill, &s_copy, &mh);
	printf("copy asking for a mutable handle: %s, handle %s\n", err_name(err),
	       mh ? "set" : "NULL");
	CLT_CHECK(kc.copy(cb, NULL, a, b, 0, 0, N * sizeof(int), 1, &s_fill, &s_copy, NULL));
	const size_t gws = N, lws = 64;
	CLT_CHECK(kc.ndrange(cb, NULL, NULL, kern, 1, NULL, &gws, &lws, 1, &s_copy, &s_kern, NULL));
	CLT_CHECK(kc.barrier(cb, NULL, 1, &s_kern, &s_bar, NULL));
	err = kc.copy(cb, q, c, d, 0, 0, N * sizeof(int), 0, NULL, NULL, NULL);
	printf("copy naming a queue: %s\n", err_name(err));
	CLT_CHECK(kc.copy(cb, NULL, c, d, 0, 0, N * sizeof(int), 1, &s_bar, &s_out, NULL));
	printf("sync points: fill %u copy %u kernel %u barrier %u copy %u\n", s_fill, s_copy,
	       s_kern, s_bar, s_out);
	const cl_sync_point_khr bogus = 999;
	err = kc.barrier(cb, NULL, 1, &bogus, NULL, NULL);
	printf("barrier waiting on an unknown sync point: %s\n", err_name(err));
	err = kc.barrier(cb, NULL, 1, NULL, NULL, NULL);
	printf("barrier with a NULL sync point list of 1: %s\n", err_name(err));
	print_info(cb, q, "recorded");

	err = kc.enqueue(0, NULL, cb, 0, NULL, NULL);
	printf("enqueue before finalize: %s\n", err_name(err));

	CLT_CHECK(kc.finalize(cb));
	print_info(cb, q, "finalized");
	err = kc.finalize(cb);
	printf("finalize again: %s\n", err_name(err));
	err = kc.fill(cb, NULL, a, &seven, sizeof(seven), 0, N * sizeof(int), 0, NULL, NULL, NULL);
	printf("record after finalize: %s\n", err_name(err));
	err = kc.barrier(cb, NULL, 0, NULL, NULL, NULL);
	printf("barrier after finalize: %s\n", err_name(err));

	cl_event ev1 = NULL, ev2 = NULL;
	CLT_CHECK(kc.enqueue(0, NULL, cb, 0, NULL, &ev1));
	/* Without CL_COMMAND_BUFFER_SIMULTANEOUS_USE_KHR, run it again once done. */
	CLT_CHECK(clWaitForEvents(1, &ev1));
	CLT_CHECK(kc.enqueue(1, &q, cb, 1, &ev1, &ev2));
	CLT_CHECK(clWaitForEvents(1, &ev2));
	cl_command_type type = 0;
	cl_int status = 0;
	CLT_CHECK(clGetEventInfo(ev2, CL_EVENT_COMMAND_TYPE, sizeof(type), &type, NULL));
	CLT_CHECK(
	    clGetEventInfo(ev2, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(status), &status, NULL));
	printf("second run's event: command type 0x%x (CL_COMMAND_COMMAND_BUFFER_KHR %s), %s\n",
	       (unsigned)type, clt_yes(type == CL_COMMAND_COMMAND_BUFFER_KHR),
	       clt_status_name(status));
	CLT_CHECK(clReleaseEvent(ev1));
	CLT_CHECK(clReleaseEvent(ev2));
	CLT_CHECK(clFinish(q));
	print_info(cb, q, "after two runs");

	for (int i = 0; i < N; i++)
		host[i] = 7;
	check_ints(q, a, host, "a (filled)");
	check_ints(q, b, host, "b (copied from a)");
	for (int i = 0; i < N; i++)
		host[i] = 2 * (7 * 2 + k + i);
	check_ints(q, c, host, "c (kernel ran twice)");
	check_ints(q, d, host, "d (copied after the barrier)");

	CLT_CHECK(kc.retain(cb));
	print_info(cb, q, "retained");
	CLT_CHECK(kc.release(cb));
	print_info(cb, q, "released once");
	CLT_CHECK(kc.release(cb));
	printf("released: done\n");

	cl_bool images = CL_FALSE;
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_IMAGE_SUPPORT, sizeof(images), &images, NULL));
	if (images)
		image_commands(ctx, q);
	else
		printf("image commands: the device has no images\n");

	/* One left for the end of the session (natively: of the process) to release. */
	cl_command_buffer_khr left = kc.create(1, &q, NULL, &err);
	CLT_CHECK(err);
	CLT_CHECK(
	    kc.fill(left, NULL, a, &seven, sizeof(seven), 0, sizeof(int), 0, NULL, NULL, NULL));
	printf("a command buffer left unreleased: %s\n", clt_yes(left != NULL));

	free(host);
	CLT_CHECK(clReleaseMemObject(d));
	CLT_CHECK(clReleaseMemObject(c));
	CLT_CHECK(clReleaseMemObject(b));
	CLT_CHECK(clReleaseMemObject(a));
	CLT_CHECK(clReleaseKernel(kern));
	CLT_CHECK(clReleaseProgram(prog));
	CLT_CHECK(clReleaseCommandQueue(q));
	CLT_CHECK(clReleaseContext(ctx));
	printf("done\n");
	return 0;
}
