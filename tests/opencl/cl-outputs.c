/* SPDX-License-Identifier: MIT */
/*
 * cl-outputs: a call that fails leaves its outputs as they were.
 *
 * Every function of the OpenCL ABI manifest (spec/opencl.abi, or the file
 * named by the first argument) with an event output is called with a wait
 * list holding an invalid event (NULL) and *event preset to (cl_event)1:
 * natively the call fails (CL_INVALID_EVENT_WAIT_LIST) and *event stays 1,
 * and so must it remoted. clEnqueueMarker, which takes no wait list, fails
 * on a NULL queue instead, and the kernel launches, whose wait list PoCL
 * does not check, on a kernel whose argument is unset. The manifest is walked, so a function with an
 * event output that this program has no case for fails it, unless the
 * implementation does not offer it (the wire-only avacl* functions).
 *
 * Then the other kinds of outputs of failed calls: counts, handle arrays,
 * info values and their sizes, a mapping's pitches, a command buffer's
 * sync point and mutable handle, and the one output OpenCL writes on
 * failure, clCreateProgramWithBinary's binary_status.
 *
 * Each line names the call, the error it returned and whether its outputs
 * were left alone; each is also checked, so the program fails on its own
 * (after trying them all, so that a diff shows every overwritten output).
 */
#define CL_USE_DEPRECATED_OPENCL_1_1_APIS
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include "clt.h"

#include <CL/cl_ext.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Under AddressSanitizer a remoted process can reserve no SVM range (the
 * sanitizer's allocator region holds the server's allocations: cl-svm.c),
 * so the SVM cases are left out there, natively and remoted alike.
 */
#if defined(__SANITIZE_ADDRESS__)
#define CL_OUTPUTS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CL_OUTPUTS_ASAN 1
#endif
#endif
#ifndef CL_OUTPUTS_ASAN
#define CL_OUTPUTS_ASAN 0
#endif

#ifndef CL_OUTPUTS_ABI
#define CL_OUTPUTS_ABI "spec/opencl.abi"
#endif

#define PRESET_EVENT ((cl_event)1)

static const char kernel_src[] = "__kernel void k(__global int *x) { x[get_global_id(0)] = 1; }\n";

static struct {
	cl_platform_id platform;
	cl_device_id device;
	cl_context ctx;
	cl_command_queue q;
	cl_mem buf, buf2, img, img2;
	cl_kernel kernel, unset;      /* unset: its argument was never set */
	void *svm, *svm2;	      /* NULL: the device has no SVM */
	cl_command_buffer_khr cmdbuf; /* NULL: no cl_khr_command_buffer */
	clEnqueueCommandBufferKHR_fn enqueue_cmdbuf;
	clCommandBarrierWithWaitListKHR_fn cmd_barrier;
} s;

/* The invalid wait list every call gets. */
static const cl_event bad_list[1] = { NULL };

static int n_tried;
static int n_overwritten; /* failed calls that wrote an output: the program fails at the end */

/* An output of a failed call must be as it was; the others are still tried. */
static void expect_kept(bool kept, const char *what)
{
	if (!kept) {
		fprintf(stderr, "cl-outputs: FAIL: %s\n", what);
		n_overwritten++;
	}
}

/* ---- the functions with an event output ---- */

static cl_int t_read_buffer(cl_event *ev)
{
	char host[16];
	memset(host, 'h', sizeof(host));
	cl_int err = clEnqueueReadBuffer(s.q, s.buf, CL_TRUE, 0, 16, host, 1, bad_list, ev);
	expect_kept(host[0] == 'h' && host[15] == 'h', "clEnqueueReadBuffer: the host memory");
	return err;
}

static cl_int t_write_buffer(cl_event *ev)
{
	char host[16] = { 0 };
	return clEnqueueWriteBuffer(s.q, s.buf, CL_TRUE, 0, 16, host, 1, bad_list, ev);
}

static const size_t zero3[3] = { 0, 0, 0 }, region3[3] = { 4, 4, 1 };

static cl_int t_read_buffer_rect(cl_event *ev)
{
	char host[64];
	memset(host, 'h', sizeof(host));
	cl_int err = clEnqueueReadBufferRect(s.q, s.buf, CL_TRUE, zero3, zero3, region3, 0, 0, 0, 0,
					     host, 1, bad_list, ev);
	expect_kept(host[0] == 'h' && host[63] == 'h', "clEnqueueReadBufferRect: the host memory");
	return err;
}

static cl_int t_write_buffer_rect(cl_event *ev)
{
	char host[64] = { 0 };
	return clEnqueueWriteBufferRect(s.q, s.buf, CL_TRUE, zero3, zero3, region3, 0, 0, 0, 0,
					host, 1, bad_list, ev);
}

static cl_int t_fill_buffer(cl_event *ev)
{
	cl_int pattern = 7;
	return clEnqueueFillBuffer(s.q, s.buf, &pattern, sizeof(pattern), 0, 16, 1, bad_list, ev);
}

static cl_int t_copy_buffer(cl_event *ev)
{
	return clEnqueueCopyBuffer(s.q, s.buf, s.buf2, 0, 0, 16, 1, bad_list, ev);
}

static cl_int t_copy_buffer_rect(cl_event *ev)
{
	return clEnqueueCopyBufferRect(s.q, s.buf, s.buf2, zero3, zero3, region3, 0, 0, 0, 0, 1,
				       bad_list, ev);
}

static cl_int t_read_image(cl_event *ev)
{
	unsigned char host[64];
	memset(host, 'h', sizeof(host));
	cl_int err =
	    clEnqueueReadImage(s.q, s.img, CL_TRUE, zero3, region3, 0, 0, host, 1, bad_list, ev);
	expect_kept(host[0] == 'h' && host[63] == 'h', "clEnqueueReadImage: the host memory");
	return err;
}

static cl_int t_write_image(cl_event *ev)
{
	unsigned char host[64] = { 0 };
	return clEnqueueWriteImage(s.q, s.img, CL_TRUE, zero3, region3, 0, 0, host, 1, bad_list,
				   ev);
}

static cl_int t_fill_image(cl_event *ev)
{
	cl_float color[4] = { 0.5f, 0.5f, 0.5f, 1.0f };
	return clEnqueueFillImage(s.q, s.img, color, zero3, region3, 1, bad_list, ev);
}

static cl_int t_copy_image(cl_event *ev)
{
	return clEnqueueCopyImage(s.q, s.img, s.img2, zero3, zero3, region3, 1, bad_list, ev);
}

static cl_int t_copy_image_to_buffer(cl_event *ev)
{
	return clEnqueueCopyImageToBuffer(s.q, s.img, s.buf, zero3, region3, 0, 1, bad_list, ev);
}

static cl_int t_copy_buffer_to_image(cl_event *ev)
{
	return clEnqueueCopyBufferToImage(s.q, s.buf, s.img, 0, zero3, region3, 1, bad_list, ev);
}

/* The issue's own case: the mapping result is NULL, *event stays. */
static cl_int t_map_buffer(cl_event *ev)
{
	cl_int err = CL_SUCCESS;
	void *p =
	    clEnqueueMapBuffer(s.q, s.buf, CL_TRUE, CL_MAP_READ, 0, 16, 1, bad_list, ev, &err);
	CLT_ASSERT(p == NULL, "a failed map returned a pointer");
	return err;
}

static cl_int t_map_image(cl_event *ev)
{
	cl_int err = CL_SUCCESS;
	size_t row_pitch = 12345, slice_pitch = 12345;
	void *p = clEnqueueMapImage(s.q, s.img, CL_TRUE, CL_MAP_READ, zero3, region3, &row_pitch,
				    &slice_pitch, 1, bad_list, ev, &err);
	CLT_ASSERT(p == NULL, "a failed image map returned a pointer");
	expect_kept(row_pitch == 12345 && slice_pitch == 12345, "clEnqueueMapImage: the pitches");
	return err;
}

static cl_int t_unmap_mem_object(cl_event *ev)
{
	cl_int err;
	void *p = clEnqueueMapBuffer(s.q, s.buf, CL_TRUE, CL_MAP_READ, 0, 16, 0, NULL, NULL, &err);
	CLT_CHECK(err);
	cl_int r = clEnqueueUnmapMemObject(s.q, s.buf, p, 1, bad_list, ev);
	CLT_CHECK(clEnqueueUnmapMemObject(s.q, s.buf, p, 0, NULL, NULL));
	CLT_CHECK(clFinish(s.q));
	return r;
}

static cl_int t_migrate_mem_objects(cl_event *ev)
{
	return clEnqueueMigrateMemObjects(s.q, 1, &s.buf, 0, 1, bad_list, ev);
}

/*
 * PoCL 3.1 checks no kernel launch's wait list (it runs after a NULL, or
 * another context's event): these fail on a kernel whose argument is unset.
 */
static cl_int t_ndrange_kernel(cl_event *ev)
{
	size_t global = 1;
	return clEnqueueNDRangeKernel(s.q, s.unset, 1, NULL, &global, NULL, 1, bad_list, ev);
}

static cl_int t_task(cl_event *ev)
{
	return clEnqueueTask(s.q, s.unset, 1, bad_list, ev);
}

static cl_int t_marker_with_wait_list(cl_event *ev)
{
	return clEnqueueMarkerWithWaitList(s.q, 1, bad_list, ev);
}

static cl_int t_barrier_with_wait_list(cl_event *ev)
{
	return clEnqueueBarrierWithWaitList(s.q, 1, bad_list, ev);
}

/* No wait list: a NULL queue. */
static cl_int t_marker(cl_event *ev)
{
	return clEnqueueMarker(NULL, ev);
}

static cl_int t_svm_free(cl_event *ev)
{
	void *ptrs[1] = { s.svm2 };
	return clEnqueueSVMFree(s.q, 1, ptrs, NULL, NULL, 1, bad_list, ev);
}

static cl_int t_svm_memcpy(cl_event *ev)
{
	char host[16] = { 0 };
	return clEnqueueSVMMemcpy(s.q, CL_TRUE, s.svm, host, sizeof(host), 1, bad_list, ev);
}

static cl_int t_svm_mem_fill(cl_event *ev)
{
	cl_int pattern = 7;
	return clEnqueueSVMMemFill(s.q, s.svm, &pattern, sizeof(pattern), 16, 1, bad_list, ev);
}

static cl_int t_svm_map(cl_event *ev)
{
	return clEnqueueSVMMap(s.q, CL_TRUE, CL_MAP_READ, s.svm, 16, 1, bad_list, ev);
}

static cl_int t_svm_unmap(cl_event *ev)
{
	CLT_CHECK(clEnqueueSVMMap(s.q, CL_TRUE, CL_MAP_READ, s.svm, 16, 0, NULL, NULL));
	cl_int r = clEnqueueSVMUnmap(s.q, s.svm, 1, bad_list, ev);
	CLT_CHECK(clEnqueueSVMUnmap(s.q, s.svm, 0, NULL, NULL));
	CLT_CHECK(clFinish(s.q));
	return r;
}

static cl_int t_svm_migrate_mem(cl_event *ev)
{
	const void *ptrs[1] = { s.svm };
	return clEnqueueSVMMigrateMem(s.q, 1, ptrs, NULL, 0, 1, bad_list, ev);
}

static cl_int t_command_buffer(cl_event *ev)
{
	return s.enqueue_cmdbuf(0, NULL, s.cmdbuf, 1, bad_list, ev);
}

enum needs { NEEDS_NOTHING, NEEDS_SVM, NEEDS_CMDBUF };

static const struct test {
	const char *name;
	cl_int (*run)(cl_event *ev);
	enum needs needs;
} tests[] = {
	{ "clEnqueueReadBuffer", t_read_buffer, NEEDS_NOTHING },
	{ "clEnqueueReadBufferRect", t_read_buffer_rect, NEEDS_NOTHING },
	{ "clEnqueueWriteBuffer", t_write_buffer, NEEDS_NOTHING },
	{ "clEnqueueWriteBufferRect", t_write_buffer_rect, NEEDS_NOTHING },
	{ "clEnqueueFillBuffer", t_fill_buffer, NEEDS_NOTHING },
	{ "clEnqueueCopyBuffer", t_copy_buffer, NEEDS_NOTHING },
	{ "clEnqueueCopyBufferRect", t_copy_buffer_rect, NEEDS_NOTHING },
	{ "clEnqueueReadImage", t_read_image, NEEDS_NOTHING },
	{ "clEnqueueWriteImage", t_write_image, NEEDS_NOTHING },
	{ "clEnqueueFillImage", t_fill_image, NEEDS_NOTHING },
	{ "clEnqueueCopyImage", t_copy_image, NEEDS_NOTHING },
	{ "clEnqueueCopyImageToBuffer", t_copy_image_to_buffer, NEEDS_NOTHING },
	{ "clEnqueueCopyBufferToImage", t_copy_buffer_to_image, NEEDS_NOTHING },
	{ "clEnqueueMapBuffer", t_map_buffer, NEEDS_NOTHING },
	{ "clEnqueueMapImage", t_map_image, NEEDS_NOTHING },
	{ "clEnqueueUnmapMemObject", t_unmap_mem_object, NEEDS_NOTHING },
	{ "clEnqueueMigrateMemObjects", t_migrate_mem_objects, NEEDS_NOTHING },
	{ "clEnqueueNDRangeKernel", t_ndrange_kernel, NEEDS_NOTHING },
	{ "clEnqueueTask", t_task, NEEDS_NOTHING },
	{ "clEnqueueMarkerWithWaitList", t_marker_with_wait_list, NEEDS_NOTHING },
	{ "clEnqueueBarrierWithWaitList", t_barrier_with_wait_list, NEEDS_NOTHING },
	{ "clEnqueueMarker", t_marker, NEEDS_NOTHING },
	{ "clEnqueueSVMFree", t_svm_free, NEEDS_SVM },
	{ "clEnqueueSVMMemcpy", t_svm_memcpy, NEEDS_SVM },
	{ "clEnqueueSVMMemFill", t_svm_mem_fill, NEEDS_SVM },
	{ "clEnqueueSVMMap", t_svm_map, NEEDS_SVM },
	{ "clEnqueueSVMUnmap", t_svm_unmap, NEEDS_SVM },
	{ "clEnqueueSVMMigrateMem", t_svm_migrate_mem, NEEDS_SVM },
	{ "clEnqueueCommandBufferKHR", t_command_buffer, NEEDS_CMDBUF },
};

static const struct test *test_of(const char *name)
{
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (strcmp(tests[i].name, name) == 0)
			return &tests[i];
	return NULL;
}

/* Calls t with *event preset: it must fail and leave *event alone. */
static void try_event_output(const struct test *t)
{
	if ((t->needs == NEEDS_SVM && !s.svm) || (t->needs == NEEDS_CMDBUF && !s.cmdbuf)) {
		printf("%s: not tried (no %s)\n", t->name,
		       t->needs == NEEDS_SVM ? "SVM here" : "cl_khr_command_buffer");
		return;
	}
	cl_event ev = PRESET_EVENT;
	cl_int err = t->run(&ev);
	printf("%s: %s, event %s\n", t->name, clt_err_name(err),
	       ev == PRESET_EVENT ? "untouched" : "overwritten");
	CLT_ASSERT(err != CL_SUCCESS, "%s succeeded with an invalid wait list", t->name);
	expect_kept(ev == PRESET_EVENT, t->name);
	n_tried++;
}

/* Is name a function this implementation offers the application? */
static bool offered(const char *name)
{
	return dlsym(RTLD_DEFAULT, name) != NULL ||
	       clGetExtensionFunctionAddressForPlatform(s.platform, name) != NULL;
}

/*
 * Every function of the manifest with an out buffer of cl_event handles
 * ("buffer:out:handle:<cl_event's tag>"), in manifest order.
 */
static void walk_manifest(const char *path)
{
	FILE *f = fopen(path, "r");
	CLT_ASSERT(f != NULL, "cannot open the ABI manifest %s", path);
	char line[4096], pattern[64] = "";
	unsigned n_fns = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned tag;
		char name[128];
		if (sscanf(line, "handle %u %127s", &tag, name) == 2 &&
		    strcmp(name, "cl_event") == 0)
			snprintf(pattern, sizeof(pattern), "buffer:out:handle:%u:", tag);
		if (!pattern[0] || sscanf(line, "fn %*u %127s", name) != 1 ||
		    !strstr(line, pattern))
			continue;
		n_fns++;
		const struct test *t = test_of(name);
		if (t) {
			try_event_output(t);
		} else {
			CLT_ASSERT(!offered(name),
				   "%s has an event output in %s but no case in cl-outputs", name,
				   path);
			fprintf(stderr, "cl-outputs: %s: not offered to applications, not tried\n",
				name);
		}
	}
	fclose(f);
	CLT_ASSERT(pattern[0], "%s names no cl_event handle type", path);
	CLT_ASSERT(n_fns >= sizeof(tests) / sizeof(tests[0]),
		   "%s lists %u functions with an event output, cl-outputs has %zu cases", path,
		   n_fns, sizeof(tests) / sizeof(tests[0]));
	printf("%d functions with an event output tried\n", n_tried);
}

/* ---- the other outputs ---- */

static void other_outputs(void)
{
	cl_int err;

	cl_uint n = 77;
	cl_device_id dev = (cl_device_id)1;
	err = clGetDeviceIDs(s.platform, CL_DEVICE_TYPE_CUSTOM, 1, &dev, &n);
	printf("clGetDeviceIDs(CUSTOM): %s, count %s, devices %s\n", clt_err_name(err),
	       n == 77 ? "untouched" : "overwritten",
	       dev == (cl_device_id)1 ? "untouched" : "overwritten");
	CLT_ASSERT(err != CL_SUCCESS, "clGetDeviceIDs(CUSTOM) succeeded");
	expect_kept(n == 77 && dev == (cl_device_id)1, "clGetDeviceIDs");

	cl_uint v = 5;
	size_t size = 99;
	err = clGetDeviceInfo(s.device, 0x7fff, sizeof(v), &v, &size);
	printf("clGetDeviceInfo(unknown): %s, value %s, size %s\n", clt_err_name(err),
	       v == 5 ? "untouched" : "overwritten", size == 99 ? "untouched" : "overwritten");
	CLT_ASSERT(err != CL_SUCCESS, "clGetDeviceInfo(unknown) succeeded");
	expect_kept(v == 5 && size == 99, "clGetDeviceInfo");

	char name[4] = "xyz";
	size = 99;
	err = clGetPlatformInfo(s.platform, CL_PLATFORM_NAME, 2, name, &size);
	printf("clGetPlatformInfo(NAME into 2 bytes): %s, value %s, size %s\n", clt_err_name(err),
	       strcmp(name, "xyz") == 0 ? "untouched" : "overwritten",
	       size == 99 ? "untouched" : "overwritten");
	CLT_ASSERT(err != CL_SUCCESS, "clGetPlatformInfo(too small) succeeded");
	expect_kept(strcmp(name, "xyz") == 0 && size == 99, "clGetPlatformInfo");

	const char *src = kernel_src;
	cl_program unbuilt = clCreateProgramWithSource(s.ctx, 1, &src, NULL, &err);
	CLT_CHECK(err);
	cl_kernel ks[2] = { (cl_kernel)1, (cl_kernel)1 };
	n = 77;
	err = clCreateKernelsInProgram(unbuilt, 2, ks, &n);
	printf("clCreateKernelsInProgram(unbuilt): %s, kernels %s, count %s\n", clt_err_name(err),
	       ks[0] == (cl_kernel)1 ? "untouched" : "overwritten",
	       n == 77 ? "untouched" : "overwritten");
	CLT_ASSERT(err != CL_SUCCESS, "clCreateKernelsInProgram(unbuilt) succeeded");
	expect_kept(ks[0] == (cl_kernel)1 && n == 77, "clCreateKernelsInProgram");
	CLT_CHECK(clReleaseProgram(unbuilt));

	cl_device_partition_property props[] = { CL_DEVICE_PARTITION_EQUALLY, 100000, 0 };
	cl_device_id subs[2] = { (cl_device_id)1, (cl_device_id)1 };
	n = 77;
	err = clCreateSubDevices(s.device, props, 2, subs, &n);
	printf("clCreateSubDevices(too many units): %s, devices %s, count %s\n", clt_err_name(err),
	       subs[0] == (cl_device_id)1 ? "untouched" : "overwritten",
	       n == 77 ? "untouched" : "overwritten");
	CLT_ASSERT(err != CL_SUCCESS, "clCreateSubDevices(too many units) succeeded");
	expect_kept(subs[0] == (cl_device_id)1 && n == 77, "clCreateSubDevices");

	cl_image_format formats[2];
	memset(formats, 0x5a, sizeof(formats));
	n = 77;
	err = clGetSupportedImageFormats(s.ctx, CL_MEM_READ_WRITE, 0x7777, 2, formats, &n);
	printf("clGetSupportedImageFormats(unknown type): %s, formats %s, count %s\n",
	       clt_err_name(err),
	       formats[0].image_channel_order == 0x5a5a5a5a ? "untouched" : "overwritten",
	       n == 77 ? "untouched" : "overwritten");
	CLT_ASSERT(err != CL_SUCCESS, "clGetSupportedImageFormats(unknown type) succeeded");
	expect_kept(formats[0].image_channel_order == 0x5a5a5a5a && n == 77,
		    "clGetSupportedImageFormats");

	/* binary_status says which binary failed: written on failure, natively too. */
	const unsigned char *bins[1] = { (const unsigned char *)"not a binary" };
	size_t lengths[1] = { 12 };
	cl_int status[1] = { 12345 };
	cl_program p = clCreateProgramWithBinary(s.ctx, 1, &s.device, lengths, bins, status, &err);
	printf("clCreateProgramWithBinary(corrupt): %s, binary_status %s\n", clt_err_name(err),
	       clt_err_name(status[0]));
	CLT_ASSERT(p == NULL && err != CL_SUCCESS && status[0] != 12345,
		   "a corrupt binary's status was not written");
	/* ... but what the library leaves alone stays so (PoCL: a 0 length). */
	lengths[0] = 0;
	status[0] = 12345;
	p = clCreateProgramWithBinary(s.ctx, 1, &s.device, lengths, bins, status, &err);
	printf("clCreateProgramWithBinary(length 0): %s, binary_status %s\n", clt_err_name(err),
	       status[0] == 12345 ? "untouched" : clt_err_name(status[0]));
	CLT_ASSERT(p == NULL && err != CL_SUCCESS, "a 0-length binary made a program");
	expect_kept(status[0] == 12345, "clCreateProgramWithBinary(length 0): binary_status");

	if (s.cmdbuf) {
		cl_command_buffer_khr rec = NULL;
		/* a recording command buffer: the executable one cannot take commands */
		const cl_command_buffer_properties_khr none[] = { 0 };
		clCreateCommandBufferKHR_fn create =
		    (clCreateCommandBufferKHR_fn)clGetExtensionFunctionAddressForPlatform(
			s.platform, "clCreateCommandBufferKHR");
		CLT_ASSERT(create != NULL, "clCreateCommandBufferKHR missing");
		rec = create(1, &s.q, none, &err);
		CLT_CHECK(err);
		cl_sync_point_khr bad_sync[1] = { 999 }, sp = 777;
		cl_mutable_command_khr mh = (cl_mutable_command_khr)1;
		err = s.cmd_barrier(rec, NULL, 1, bad_sync, &sp, &mh);
		printf("clCommandBarrierWithWaitListKHR(bad sync point): %s, sync point %s, "
		       "mutable handle %s\n",
		       clt_err_name(err), sp == 777 ? "untouched" : "overwritten",
		       mh == (cl_mutable_command_khr)1 ? "untouched" : "overwritten");
		CLT_ASSERT(err != CL_SUCCESS, "clCommandBarrierWithWaitListKHR succeeded");
		expect_kept(sp == 777 && mh == (cl_mutable_command_khr)1,
			    "clCommandBarrierWithWaitListKHR");
		clReleaseCommandBufferKHR_fn release =
		    (clReleaseCommandBufferKHR_fn)clGetExtensionFunctionAddressForPlatform(
			s.platform, "clReleaseCommandBufferKHR");
		CLT_ASSERT(release != NULL, "clReleaseCommandBufferKHR missing");
		CLT_CHECK(release(rec));
	}
}

/* ---- set-up ---- */

static bool has_word(const char *list, const char *word)
{
	size_t len = strlen(word);
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}

static void set_up(void)
{
	cl_int err;
	clt_pick_device(&s.platform, &s.device);
	s.ctx = clt_context_new(s.platform, s.device);
	s.q = clCreateCommandQueueWithProperties(s.ctx, s.device, NULL, &err);
	CLT_CHECK(err);
	s.buf = clCreateBuffer(s.ctx, CL_MEM_READ_WRITE, 256, NULL, &err);
	CLT_CHECK(err);
	s.buf2 = clCreateBuffer(s.ctx, CL_MEM_READ_WRITE, 256, NULL, &err);
	CLT_CHECK(err);
	const cl_image_format fmt = { CL_RGBA, CL_UNORM_INT8 };
	const cl_image_desc desc = { .image_type = CL_MEM_OBJECT_IMAGE2D,
				     .image_width = 8,
				     .image_height = 8 };
	s.img = clCreateImage(s.ctx, CL_MEM_READ_WRITE, &fmt, &desc, NULL, &err);
	CLT_CHECK(err);
	s.img2 = clCreateImage(s.ctx, CL_MEM_READ_WRITE, &fmt, &desc, NULL, &err);
	CLT_CHECK(err);
	cl_program prog = clt_program_build(s.ctx, s.device, kernel_src, NULL);
	s.kernel = clCreateKernel(prog, "k", &err);
	CLT_CHECK(err);
	CLT_CHECK(clSetKernelArg(s.kernel, 0, sizeof(s.buf), &s.buf));
	s.unset = clCreateKernel(prog, "k", &err);
	CLT_CHECK(err);
	CLT_CHECK(clReleaseProgram(prog));

	cl_device_svm_capabilities svm = 0;
	if (!CL_OUTPUTS_ASAN &&
	    clGetDeviceInfo(s.device, CL_DEVICE_SVM_CAPABILITIES, sizeof(svm), &svm, NULL) ==
		CL_SUCCESS &&
	    (svm & CL_DEVICE_SVM_COARSE_GRAIN_BUFFER)) {
		s.svm = clSVMAlloc(s.ctx, CL_MEM_READ_WRITE, 256, 0);
		s.svm2 = clSVMAlloc(s.ctx, CL_MEM_READ_WRITE, 256, 0);
		CLT_ASSERT(s.svm && s.svm2, "clSVMAlloc failed on a device with SVM");
	}

	char *exts = clt_device_string(s.device, CL_DEVICE_EXTENSIONS);
	if (has_word(exts, "cl_khr_command_buffer")) {
		clCreateCommandBufferKHR_fn create =
		    (clCreateCommandBufferKHR_fn)clGetExtensionFunctionAddressForPlatform(
			s.platform, "clCreateCommandBufferKHR");
		clFinalizeCommandBufferKHR_fn finalize =
		    (clFinalizeCommandBufferKHR_fn)clGetExtensionFunctionAddressForPlatform(
			s.platform, "clFinalizeCommandBufferKHR");
		s.enqueue_cmdbuf =
		    (clEnqueueCommandBufferKHR_fn)clGetExtensionFunctionAddressForPlatform(
			s.platform, "clEnqueueCommandBufferKHR");
		s.cmd_barrier =
		    (clCommandBarrierWithWaitListKHR_fn)clGetExtensionFunctionAddressForPlatform(
			s.platform, "clCommandBarrierWithWaitListKHR");
		CLT_ASSERT(create && finalize && s.enqueue_cmdbuf && s.cmd_barrier,
			   "cl_khr_command_buffer is reported but its functions are missing");
		const cl_command_buffer_properties_khr none[] = { 0 };
		s.cmdbuf = create(1, &s.q, none, &err);
		CLT_CHECK(err);
		CLT_CHECK(s.cmd_barrier(s.cmdbuf, NULL, 0, NULL, NULL, NULL));
		CLT_CHECK(finalize(s.cmdbuf));
	}
	free(exts);
}

static void tear_down(void)
{
	if (s.cmdbuf) {
		clReleaseCommandBufferKHR_fn release =
		    (clReleaseCommandBufferKHR_fn)clGetExtensionFunctionAddressForPlatform(
			s.platform, "clReleaseCommandBufferKHR");
		CLT_CHECK(release(s.cmdbuf));
	}
	CLT_CHECK(clFinish(s.q));
	if (s.svm) {
		clSVMFree(s.ctx, s.svm);
		clSVMFree(s.ctx, s.svm2);
	}
	CLT_CHECK(clReleaseKernel(s.unset));
	CLT_CHECK(clReleaseKernel(s.kernel));
	CLT_CHECK(clReleaseMemObject(s.img2));
	CLT_CHECK(clReleaseMemObject(s.img));
	CLT_CHECK(clReleaseMemObject(s.buf2));
	CLT_CHECK(clReleaseMemObject(s.buf));
	CLT_CHECK(clReleaseCommandQueue(s.q));
	CLT_CHECK(clReleaseContext(s.ctx));
}

int main(int argc, char **argv)
{
	clt_init(120);
	set_up();
	printf("== functions with an event output, an invalid wait list, *event preset\n");
	walk_manifest(argc > 1 ? argv[1] : CL_OUTPUTS_ABI);
	printf("== other outputs of failed calls\n");
	other_outputs();
	tear_down();
	CLT_ASSERT(n_overwritten == 0, "%d failed calls wrote outputs", n_overwritten);
	printf("all outputs of failed calls as native leaves them\n");
	return 0;
}
