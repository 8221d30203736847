/* SPDX-License-Identifier: MIT */
/*
 * cl-info: info queries of every kind on every object type.
 *
 * Strings (and their sizes), scalars of each width, size_t arrays, bitfields,
 * booleans, handles that must come back as the very handle the application
 * holds (CL_DEVICE_PLATFORM, CL_CONTEXT_DEVICES, CL_QUEUE_CONTEXT, ...) and
 * reference counts across retain/release. Values that may change from one
 * run to the next on the same machine (clock frequency, memory sizes that
 * follow free memory or rlimits) are printed only as relations.
 */
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS /* clCreateCommandQueue is part of the test */
#include "clt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char kernel_src[] = "__kernel void scale(__global float *x, float k)\n"
				 "{\n"
				 "\tx[get_global_id(0)] *= k;\n"
				 "}\n"
				 "\n"
				 "__kernel __attribute__((reqd_work_group_size(8, 1, 1)))\n"
				 "void offset(__global int *x, int k)\n"
				 "{\n"
				 "\tx[get_global_id(0)] += k;\n"
				 "}\n";

struct flag_name {
	cl_bitfield flag;
	const char *name;
};

/* Prints the set flags by name, then any bits left over in hex. */
static void print_flags(const char *label, cl_bitfield v, const struct flag_name *names, size_t n)
{
	bool first = true;

	printf("%s:", label);
	for (size_t i = 0; i < n; i++) {
		if (v & names[i].flag) {
			printf("%s%s", first ? " " : " | ", names[i].name);
			v &= ~names[i].flag;
			first = false;
		}
	}
	if (v)
		printf("%s0x%" PRIx64, first ? " " : " | ", (uint64_t)v);
	else if (first)
		printf(" 0");
	printf("\n");
}

/* clang-format off */
#define FLAG(f) { f, #f }
/* clang-format on */
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct flag_name device_types[] = {
	FLAG(CL_DEVICE_TYPE_DEFAULT),	  FLAG(CL_DEVICE_TYPE_CPU),    FLAG(CL_DEVICE_TYPE_GPU),
	FLAG(CL_DEVICE_TYPE_ACCELERATOR), FLAG(CL_DEVICE_TYPE_CUSTOM),
};

static const struct flag_name fp_configs[] = {
	FLAG(CL_FP_DENORM),	      FLAG(CL_FP_INF_NAN),
	FLAG(CL_FP_ROUND_TO_NEAREST), FLAG(CL_FP_ROUND_TO_ZERO),
	FLAG(CL_FP_ROUND_TO_INF),     FLAG(CL_FP_FMA),
	FLAG(CL_FP_SOFT_FLOAT),	      FLAG(CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT),
};

static const struct flag_name queue_props[] = {
	FLAG(CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE),
	FLAG(CL_QUEUE_PROFILING_ENABLE),
	FLAG(CL_QUEUE_ON_DEVICE),
	FLAG(CL_QUEUE_ON_DEVICE_DEFAULT),
};

static const struct flag_name exec_caps[] = {
	FLAG(CL_EXEC_KERNEL),
	FLAG(CL_EXEC_NATIVE_KERNEL),
};

static const struct flag_name mem_flags[] = {
	FLAG(CL_MEM_READ_WRITE),      FLAG(CL_MEM_WRITE_ONLY),	   FLAG(CL_MEM_READ_ONLY),
	FLAG(CL_MEM_USE_HOST_PTR),    FLAG(CL_MEM_ALLOC_HOST_PTR), FLAG(CL_MEM_COPY_HOST_PTR),
	FLAG(CL_MEM_HOST_WRITE_ONLY), FLAG(CL_MEM_HOST_READ_ONLY), FLAG(CL_MEM_HOST_NO_ACCESS),
};

static const struct flag_name atomic_caps[] = {
	FLAG(CL_DEVICE_ATOMIC_ORDER_RELAXED),	  FLAG(CL_DEVICE_ATOMIC_ORDER_ACQ_REL),
	FLAG(CL_DEVICE_ATOMIC_ORDER_SEQ_CST),	  FLAG(CL_DEVICE_ATOMIC_SCOPE_WORK_ITEM),
	FLAG(CL_DEVICE_ATOMIC_SCOPE_WORK_GROUP),  FLAG(CL_DEVICE_ATOMIC_SCOPE_DEVICE),
	FLAG(CL_DEVICE_ATOMIC_SCOPE_ALL_DEVICES),
};

static void print_version(const char *label, cl_version v)
{
	printf("%s: %u.%u.%u\n", label, (unsigned)CL_VERSION_MAJOR(v),
	       (unsigned)CL_VERSION_MINOR(v), (unsigned)CL_VERSION_PATCH(v));
}

static void platform_string(cl_platform_id platform, cl_platform_info param, const char *label)
{
	char *s = clt_platform_string(platform, param);

	printf("%s: %s\n", label, s);
	free(s);
}

static void device_string(cl_device_id device, cl_device_info param, const char *label)
{
	char *s = clt_device_string(device, param);

	printf("%s: %s\n", label, s);
	free(s);
}

static cl_uint device_uint(cl_device_id device, cl_device_info param)
{
	cl_uint v = 0;
	size_t size = 0;

	CLT_CHECK(clGetDeviceInfo(device, param, sizeof(v), &v, &size));
	CLT_ASSERT(size == sizeof(v), "device info 0x%x: size %zu", (unsigned)param, size);
	return v;
}

static cl_ulong device_ulong(cl_device_id device, cl_device_info param)
{
	cl_ulong v = 0;
	size_t size = 0;

	CLT_CHECK(clGetDeviceInfo(device, param, sizeof(v), &v, &size));
	CLT_ASSERT(size == sizeof(v), "device info 0x%x: size %zu", (unsigned)param, size);
	return v;
}

static size_t device_size(cl_device_id device, cl_device_info param)
{
	size_t v = 0, size = 0;

	CLT_CHECK(clGetDeviceInfo(device, param, sizeof(v), &v, &size));
	CLT_ASSERT(size == sizeof(v), "device info 0x%x: size %zu", (unsigned)param, size);
	return v;
}

static cl_bool device_bool(cl_device_id device, cl_device_info param)
{
	cl_bool v = CL_FALSE;
	size_t size = 0;

	CLT_CHECK(clGetDeviceInfo(device, param, sizeof(v), &v, &size));
	CLT_ASSERT(size == sizeof(v), "device info 0x%x: size %zu", (unsigned)param, size);
	return v;
}

static void print_platform(cl_platform_id platform)
{
	cl_version numeric = 0;
	cl_ulong timer_res = 0;
	size_t size = 0, n_ext;
	cl_name_version *exts;
	char *ext_string;

	platform_string(platform, CL_PLATFORM_PROFILE, "platform profile");
	platform_string(platform, CL_PLATFORM_VERSION, "platform version");
	platform_string(platform, CL_PLATFORM_NAME, "platform name");
	platform_string(platform, CL_PLATFORM_VENDOR, "platform vendor");
	platform_string(platform, CL_PLATFORM_EXTENSIONS, "platform extensions");

	CLT_CHECK(clGetPlatformInfo(platform, CL_PLATFORM_NUMERIC_VERSION, sizeof(numeric),
				    &numeric, NULL));
	print_version("platform numeric version", numeric);
	CLT_CHECK(clGetPlatformInfo(platform, CL_PLATFORM_HOST_TIMER_RESOLUTION, sizeof(timer_res),
				    &timer_res, &size));
	CLT_ASSERT(size == sizeof(timer_res), "CL_PLATFORM_HOST_TIMER_RESOLUTION size %zu", size);
	printf("platform host timer resolution: %" PRIu64 "\n", (uint64_t)timer_res);

	/* An array of structs: each extension of the string, with its version. */
	CLT_CHECK(clGetPlatformInfo(platform, CL_PLATFORM_EXTENSIONS_WITH_VERSION, 0, NULL, &size));
	CLT_ASSERT(size % sizeof(cl_name_version) == 0, "extensions with version: size %zu", size);
	n_ext = size / sizeof(cl_name_version);
	exts = calloc(n_ext + 1, sizeof(*exts));
	CLT_ASSERT(exts != NULL, "out of memory");
	CLT_CHECK(
	    clGetPlatformInfo(platform, CL_PLATFORM_EXTENSIONS_WITH_VERSION, size, exts, NULL));
	ext_string = clt_platform_string(platform, CL_PLATFORM_EXTENSIONS);
	printf("platform extensions with version: %zu\n", n_ext);
	for (size_t i = 0; i < n_ext; i++) {
		printf("  %s %u.%u.%u in extension string: %s\n", exts[i].name,
		       (unsigned)CL_VERSION_MAJOR(exts[i].version),
		       (unsigned)CL_VERSION_MINOR(exts[i].version),
		       (unsigned)CL_VERSION_PATCH(exts[i].version),
		       clt_yes(strstr(ext_string, exts[i].name) != NULL));
	}
	free(ext_string);
	free(exts);
}

static void print_device(cl_platform_id platform, cl_device_id device)
{
	cl_device_type type = 0;
	cl_platform_id dev_platform = NULL;
	cl_device_id parent = (cl_device_id)1;
	cl_bitfield bits = 0;
	cl_device_local_mem_type local_type = 0;
	cl_version numeric = 0;
	size_t sizes[3] = { 0 }, size = 0;
	cl_uint dims;
	cl_ulong global_mem, max_alloc;

	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof(type), &type, NULL));
	print_flags("device type", type, device_types, N_OF(device_types));
	device_string(device, CL_DEVICE_NAME, "device name");
	device_string(device, CL_DEVICE_VENDOR, "device vendor");
	device_string(device, CL_DRIVER_VERSION, "driver version");
	device_string(device, CL_DEVICE_PROFILE, "device profile");
	device_string(device, CL_DEVICE_VERSION, "device version");
	device_string(device, CL_DEVICE_OPENCL_C_VERSION, "device OpenCL C version");
	device_string(device, CL_DEVICE_EXTENSIONS, "device extensions");
	CLT_CHECK(
	    clGetDeviceInfo(device, CL_DEVICE_NUMERIC_VERSION, sizeof(numeric), &numeric, NULL));
	print_version("device numeric version", numeric);
	printf("vendor id: 0x%x\n", device_uint(device, CL_DEVICE_VENDOR_ID));

	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof(dev_platform), &dev_platform,
				  &size));
	CLT_ASSERT(size == sizeof(cl_platform_id), "CL_DEVICE_PLATFORM size %zu", size);
	CLT_ASSERT(dev_platform == platform, "CL_DEVICE_PLATFORM is not the platform");
	printf("same platform: %s\n", clt_yes(dev_platform == platform));
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_PARENT_DEVICE, sizeof(parent), &parent, NULL));
	printf("parent device: %s\n", parent ? "some" : "none");
	printf("device reference count: %u\n", device_uint(device, CL_DEVICE_REFERENCE_COUNT));

	printf("compute units nonzero: %s\n",
	       clt_yes(device_uint(device, CL_DEVICE_MAX_COMPUTE_UNITS) > 0));
	printf("clock frequency nonzero: %s\n",
	       clt_yes(device_uint(device, CL_DEVICE_MAX_CLOCK_FREQUENCY) > 0));
	dims = device_uint(device, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS);
	printf("max work item dimensions: %u\n", dims);
	CLT_ASSERT(dims == 3, "CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS %u", dims);
	CLT_CHECK(
	    clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof(sizes), sizes, &size));
	CLT_ASSERT(size == sizeof(sizes), "CL_DEVICE_MAX_WORK_ITEM_SIZES size %zu", size);
	printf("max work item sizes: %zu %zu %zu\n", sizes[0], sizes[1], sizes[2]);
	printf("max work group size: %zu\n", device_size(device, CL_DEVICE_MAX_WORK_GROUP_SIZE));
	printf("address bits: %u\n", device_uint(device, CL_DEVICE_ADDRESS_BITS));
	printf("mem base addr align (bits): %u\n",
	       device_uint(device, CL_DEVICE_MEM_BASE_ADDR_ALIGN));
	printf("max parameter size: %zu\n", device_size(device, CL_DEVICE_MAX_PARAMETER_SIZE));
	printf("preferred vector width float: %u\n",
	       device_uint(device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT));
	printf("native vector width int: %u\n",
	       device_uint(device, CL_DEVICE_NATIVE_VECTOR_WIDTH_INT));

	global_mem = device_ulong(device, CL_DEVICE_GLOBAL_MEM_SIZE);
	max_alloc = device_ulong(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
	printf("max mem alloc >= 128 MiB: %s\n", clt_yes(max_alloc >= (128u << 20)));
	printf("global mem >= max mem alloc: %s\n", clt_yes(global_mem >= max_alloc));
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_LOCAL_MEM_TYPE, sizeof(local_type), &local_type,
				  NULL));
	printf("local mem type: %s\n", local_type == CL_LOCAL	 ? "CL_LOCAL"
				       : local_type == CL_GLOBAL ? "CL_GLOBAL"
								 : "none");
	printf("local mem size >= 32 KiB: %s\n",
	       clt_yes(device_ulong(device, CL_DEVICE_LOCAL_MEM_SIZE) >= (32u << 10)));
	printf("max constant args: %u\n", device_uint(device, CL_DEVICE_MAX_CONSTANT_ARGS));
	printf("profiling timer resolution: %zu\n",
	       device_size(device, CL_DEVICE_PROFILING_TIMER_RESOLUTION));

	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof(bits), &bits, NULL));
	print_flags("single fp config", bits, fp_configs, N_OF(fp_configs));
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof(bits), &bits, NULL));
	print_flags("double fp config", bits, fp_configs, N_OF(fp_configs));
	CLT_CHECK(
	    clGetDeviceInfo(device, CL_DEVICE_QUEUE_ON_HOST_PROPERTIES, sizeof(bits), &bits, NULL));
	print_flags("queue on host properties", bits, queue_props, N_OF(queue_props));
	CLT_CHECK(
	    clGetDeviceInfo(device, CL_DEVICE_EXECUTION_CAPABILITIES, sizeof(bits), &bits, NULL));
	/*
	 * A remoted device offers no native kernels (guest functions cannot run
	 * on the server); cl-devices checks that. Printed without that bit so
	 * native and remoted output agree.
	 */
	print_flags("execution capabilities",
		    bits & ~(cl_device_exec_capabilities)CL_EXEC_NATIVE_KERNEL, exec_caps,
		    N_OF(exec_caps));
	CLT_CHECK(clGetDeviceInfo(device, CL_DEVICE_ATOMIC_MEMORY_CAPABILITIES, sizeof(bits), &bits,
				  NULL));
	print_flags("atomic memory capabilities", bits, atomic_caps, N_OF(atomic_caps));

	printf("endian little: %s\n", clt_yes(device_bool(device, CL_DEVICE_ENDIAN_LITTLE)));
	printf("available: %s\n", clt_yes(device_bool(device, CL_DEVICE_AVAILABLE)));
	printf("compiler available: %s\n",
	       clt_yes(device_bool(device, CL_DEVICE_COMPILER_AVAILABLE)));
	printf("image support: %s\n", clt_yes(device_bool(device, CL_DEVICE_IMAGE_SUPPORT)));
}

static cl_uint context_refs(cl_context ctx)
{
	cl_uint refs = 0;

	CLT_CHECK(clGetContextInfo(ctx, CL_CONTEXT_REFERENCE_COUNT, sizeof(refs), &refs, NULL));
	return refs;
}

static void check_context_devices(cl_context ctx, cl_device_id device, const char *label)
{
	cl_device_id devices[4] = { NULL };
	cl_uint n = 0;
	size_t size = 0;

	CLT_CHECK(clGetContextInfo(ctx, CL_CONTEXT_NUM_DEVICES, sizeof(n), &n, NULL));
	CLT_CHECK(clGetContextInfo(ctx, CL_CONTEXT_DEVICES, sizeof(devices), devices, &size));
	CLT_ASSERT(size == n * sizeof(cl_device_id), "%s: CL_CONTEXT_DEVICES size %zu for %u",
		   label, size, n);
	CLT_ASSERT(n >= 1 && devices[0] == device, "%s: CL_CONTEXT_DEVICES is not the device",
		   label);
	printf("%s: devices %u, first is the device: %s\n", label, n,
	       clt_yes(devices[0] == device));
}

static cl_context print_context(cl_platform_id platform, cl_device_id device)
{
	cl_context_properties props[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0 };
	cl_context ctx, ctx2;
	cl_int err;

	ctx = clt_context_new(platform, device);
	check_context_devices(ctx, device, "context");
	printf("context reference count: %u\n", context_refs(ctx));
	CLT_CHECK(clRetainContext(ctx));
	printf("context reference count after retain: %u\n", context_refs(ctx));
	CLT_CHECK(clReleaseContext(ctx));
	printf("context reference count after release: %u\n", context_refs(ctx));

	ctx2 = clCreateContextFromType(props, CL_DEVICE_TYPE_ALL, NULL, NULL, &err);
	CLT_CHECK(err);
	check_context_devices(ctx2, device, "context from type ALL");
	CLT_CHECK(clReleaseContext(ctx2));
	ctx2 = clCreateContextFromType(props, CL_DEVICE_TYPE_DEFAULT, NULL, NULL, &err);
	CLT_CHECK(err);
	check_context_devices(ctx2, device, "context from type DEFAULT");
	CLT_CHECK(clReleaseContext(ctx2));
	return ctx;
}

static cl_uint queue_refs(cl_command_queue q)
{
	cl_uint refs = 0;

	CLT_CHECK(clGetCommandQueueInfo(q, CL_QUEUE_REFERENCE_COUNT, sizeof(refs), &refs, NULL));
	return refs;
}

static void print_queue(const char *label, cl_command_queue q, cl_context ctx, cl_device_id device)
{
	cl_context q_ctx = NULL;
	cl_device_id q_dev = NULL;
	cl_command_queue_properties props = 0;

	CLT_CHECK(clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof(q_ctx), &q_ctx, NULL));
	CLT_CHECK(clGetCommandQueueInfo(q, CL_QUEUE_DEVICE, sizeof(q_dev), &q_dev, NULL));
	CLT_CHECK(clGetCommandQueueInfo(q, CL_QUEUE_PROPERTIES, sizeof(props), &props, NULL));
	CLT_ASSERT(q_ctx == ctx, "%s: CL_QUEUE_CONTEXT is not the context", label);
	CLT_ASSERT(q_dev == device, "%s: CL_QUEUE_DEVICE is not the device", label);
	printf("%s: context is the context: %s, device is the device: %s\n", label,
	       clt_yes(q_ctx == ctx), clt_yes(q_dev == device));
	print_flags("  properties", props, queue_props, N_OF(queue_props));
	printf("  reference count: %u\n", queue_refs(q));
}

static void print_queues(cl_context ctx, cl_device_id device)
{
	cl_queue_properties props[] = { CL_QUEUE_PROPERTIES, CL_QUEUE_PROFILING_ENABLE, 0 };
	cl_command_queue q1, q2;
	cl_int err;

	q1 = clCreateCommandQueueWithProperties(ctx, device, props, &err);
	CLT_CHECK(err);
	print_queue("queue with properties", q1, ctx, device);
	CLT_CHECK(clRetainCommandQueue(q1));
	printf("  reference count after retain: %u\n", queue_refs(q1));
	CLT_CHECK(clReleaseCommandQueue(q1));
	printf("  reference count after release: %u\n", queue_refs(q1));

	q2 = clCreateCommandQueue(ctx, device, 0, &err);
	CLT_CHECK(err);
	print_queue("queue (1.2 entry point)", q2, ctx, device);
	CLT_CHECK(clFlush(q1));
	CLT_CHECK(clFinish(q1));
	CLT_CHECK(clFinish(q2));
	CLT_CHECK(clReleaseCommandQueue(q2));
	CLT_CHECK(clReleaseCommandQueue(q1));
}

static cl_uint mem_refs(cl_mem m)
{
	cl_uint refs = 0;

	CLT_CHECK(clGetMemObjectInfo(m, CL_MEM_REFERENCE_COUNT, sizeof(refs), &refs, NULL));
	return refs;
}

static void print_buffer(const char *label, cl_mem m, cl_context ctx)
{
	cl_mem_object_type type = 0;
	cl_mem_flags flags = 0;
	size_t size = 0, offset = 1;
	cl_context m_ctx = NULL;
	cl_mem assoc = (cl_mem)1;
	cl_uint maps = 1;

	CLT_CHECK(clGetMemObjectInfo(m, CL_MEM_TYPE, sizeof(type), &type, NULL));
	CLT_CHECK(clGetMemObjectInfo(m, CL_MEM_FLAGS, sizeof(flags), &flags, NULL));
	CLT_CHECK(clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof(size), &size, NULL));
	CLT_CHECK(clGetMemObjectInfo(m, CL_MEM_CONTEXT, sizeof(m_ctx), &m_ctx, NULL));
	CLT_CHECK(clGetMemObjectInfo(m, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof(assoc), &assoc, NULL));
	CLT_CHECK(clGetMemObjectInfo(m, CL_MEM_OFFSET, sizeof(offset), &offset, NULL));
	CLT_CHECK(clGetMemObjectInfo(m, CL_MEM_MAP_COUNT, sizeof(maps), &maps, NULL));
	CLT_ASSERT(m_ctx == ctx, "%s: CL_MEM_CONTEXT is not the context", label);
	printf("%s: type %s, size %zu, offset %zu, map count %u\n", label,
	       type == CL_MEM_OBJECT_BUFFER ? "CL_MEM_OBJECT_BUFFER" : "other", size, offset, maps);
	print_flags("  flags", flags, mem_flags, N_OF(mem_flags));
	printf("  context is the context: %s, associated memobject: %s\n", clt_yes(m_ctx == ctx),
	       assoc ? "some" : "none");
	printf("  reference count: %u\n", mem_refs(m));
}

static void print_buffers(cl_context ctx)
{
	float init[256];
	void *host_ptr = (void *)1;
	cl_mem a, b;
	cl_int err;

	for (int i = 0; i < 256; i++)
		init[i] = (float)i;
	a = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 4096, NULL, &err);
	CLT_CHECK(err);
	print_buffer("buffer", a, ctx);
	CLT_CHECK(clGetMemObjectInfo(a, CL_MEM_HOST_PTR, sizeof(host_ptr), &host_ptr, NULL));
	printf("  host ptr: %s\n", host_ptr ? "some" : "none");
	CLT_CHECK(clRetainMemObject(a));
	printf("  reference count after retain: %u\n", mem_refs(a));
	CLT_CHECK(clReleaseMemObject(a));
	printf("  reference count after release: %u\n", mem_refs(a));

	b = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR | CL_MEM_HOST_NO_ACCESS,
			   sizeof(init), init, &err);
	CLT_CHECK(err);
	print_buffer("buffer (copy host ptr)", b, ctx);
	CLT_CHECK(clReleaseMemObject(b));
	CLT_CHECK(clReleaseMemObject(a));
}

static cl_uint program_refs(cl_program p)
{
	cl_uint refs = 0;

	CLT_CHECK(clGetProgramInfo(p, CL_PROGRAM_REFERENCE_COUNT, sizeof(refs), &refs, NULL));
	return refs;
}

static char *program_string(cl_program p, cl_program_info param)
{
	size_t len = 0;
	char *s;

	CLT_CHECK(clGetProgramInfo(p, param, 0, NULL, &len));
	CLT_ASSERT(len >= 1, "program string 0x%x: size %zu", (unsigned)param, len);
	s = malloc(len);
	CLT_ASSERT(s != NULL, "out of memory");
	CLT_CHECK(clGetProgramInfo(p, param, len, s, NULL));
	CLT_ASSERT(s[len - 1] == '\0', "program string 0x%x: not terminated", (unsigned)param);
	return s;
}

static char *build_string(cl_program p, cl_device_id device, cl_program_build_info param)
{
	size_t len = 0;
	char *s;

	CLT_CHECK(clGetProgramBuildInfo(p, device, param, 0, NULL, &len));
	CLT_ASSERT(len >= 1, "build string 0x%x: size %zu", (unsigned)param, len);
	s = malloc(len);
	CLT_ASSERT(s != NULL, "out of memory");
	CLT_CHECK(clGetProgramBuildInfo(p, device, param, len, s, NULL));
	CLT_ASSERT(s[len - 1] == '\0', "build string 0x%x: not terminated", (unsigned)param);
	return s;
}

static cl_program print_program(cl_context ctx, cl_device_id device)
{
	const char *src = kernel_src;
	cl_program p;
	cl_context p_ctx = NULL;
	cl_device_id devices[4] = { NULL };
	cl_uint n_devices = 0;
	cl_build_status status = 1;
	cl_program_binary_type bin_type = 0;
	size_t n_kernels = 0, binary_size = 0;
	char *s;
	cl_int err;

	p = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
	CLT_CHECK(err);
	CLT_CHECK(clGetProgramBuildInfo(p, device, CL_PROGRAM_BUILD_STATUS, sizeof(status), &status,
					NULL));
	printf("program build status before build: %s\n",
	       status == CL_BUILD_NONE ? "CL_BUILD_NONE" : "other");
	CLT_CHECK(clBuildProgram(p, 1, &device, "-cl-std=CL1.2 -DUNUSED=1", NULL, NULL));

	CLT_CHECK(clGetProgramInfo(p, CL_PROGRAM_CONTEXT, sizeof(p_ctx), &p_ctx, NULL));
	CLT_CHECK(clGetProgramInfo(p, CL_PROGRAM_NUM_DEVICES, sizeof(n_devices), &n_devices, NULL));
	CLT_CHECK(clGetProgramInfo(p, CL_PROGRAM_DEVICES, sizeof(devices), devices, NULL));
	CLT_ASSERT(p_ctx == ctx, "CL_PROGRAM_CONTEXT is not the context");
	CLT_ASSERT(n_devices == 1 && devices[0] == device, "CL_PROGRAM_DEVICES is not the device");
	printf("program: context is the context: %s, devices %u, first is the device: %s\n",
	       clt_yes(p_ctx == ctx), n_devices, clt_yes(devices[0] == device));
	s = program_string(p, CL_PROGRAM_SOURCE);
	printf("program source matches: %s\n", clt_yes(strcmp(s, kernel_src) == 0));
	free(s);
	CLT_CHECK(clGetProgramInfo(p, CL_PROGRAM_NUM_KERNELS, sizeof(n_kernels), &n_kernels, NULL));
	printf("program kernels: %zu\n", n_kernels);
	s = program_string(p, CL_PROGRAM_KERNEL_NAMES);
	printf("program kernel names: %s\n", s);
	free(s);
	CLT_CHECK(
	    clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof(binary_size), &binary_size, NULL));
	printf("program binary size nonzero: %s\n", clt_yes(binary_size > 0));

	CLT_CHECK(clGetProgramBuildInfo(p, device, CL_PROGRAM_BUILD_STATUS, sizeof(status), &status,
					NULL));
	printf("program build status: %s\n",
	       status == CL_BUILD_SUCCESS ? "CL_BUILD_SUCCESS" : "other");
	s = build_string(p, device, CL_PROGRAM_BUILD_OPTIONS);
	printf("program build options: %s\n", s);
	free(s);
	CLT_CHECK(clGetProgramBuildInfo(p, device, CL_PROGRAM_BINARY_TYPE, sizeof(bin_type),
					&bin_type, NULL));
	printf("program binary type: %s\n", bin_type == CL_PROGRAM_BINARY_TYPE_EXECUTABLE
						? "CL_PROGRAM_BINARY_TYPE_EXECUTABLE"
						: "other");

	printf("program reference count: %u\n", program_refs(p));
	CLT_CHECK(clRetainProgram(p));
	printf("program reference count after retain: %u\n", program_refs(p));
	CLT_CHECK(clReleaseProgram(p));
	printf("program reference count after release: %u\n", program_refs(p));
	return p;
}

static cl_uint kernel_refs(cl_kernel k)
{
	cl_uint refs = 0;

	CLT_CHECK(clGetKernelInfo(k, CL_KERNEL_REFERENCE_COUNT, sizeof(refs), &refs, NULL));
	return refs;
}

static void print_kernel(cl_kernel k, cl_program p, cl_context ctx, cl_device_id device)
{
	cl_program k_prog = NULL;
	cl_context k_ctx = NULL;
	cl_uint n_args = 0;
	size_t len = 0, wg[3] = { 0 };
	char name[64], *attrs;

	CLT_CHECK(clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof(name), name, &len));
	CLT_ASSERT(len == strlen(name) + 1, "CL_KERNEL_FUNCTION_NAME size %zu", len);
	CLT_CHECK(clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, sizeof(n_args), &n_args, NULL));
	CLT_CHECK(clGetKernelInfo(k, CL_KERNEL_PROGRAM, sizeof(k_prog), &k_prog, NULL));
	CLT_CHECK(clGetKernelInfo(k, CL_KERNEL_CONTEXT, sizeof(k_ctx), &k_ctx, NULL));
	CLT_ASSERT(k_prog == p, "CL_KERNEL_PROGRAM is not the program");
	CLT_ASSERT(k_ctx == ctx, "CL_KERNEL_CONTEXT is not the context");
	printf("kernel %s: args %u, program is the program: %s, context is the context: %s\n", name,
	       n_args, clt_yes(k_prog == p), clt_yes(k_ctx == ctx));
	CLT_CHECK(clGetKernelInfo(k, CL_KERNEL_ATTRIBUTES, 0, NULL, &len));
	attrs = malloc(len);
	CLT_ASSERT(attrs != NULL, "out of memory");
	CLT_CHECK(clGetKernelInfo(k, CL_KERNEL_ATTRIBUTES, len, attrs, NULL));
	printf("  attributes: \"%s\"\n", attrs);
	free(attrs);
	CLT_CHECK(clGetKernelWorkGroupInfo(k, device, CL_KERNEL_COMPILE_WORK_GROUP_SIZE, sizeof(wg),
					   wg, NULL));
	printf("  compile work group size: %zu %zu %zu\n", wg[0], wg[1], wg[2]);
	printf("  reference count: %u\n", kernel_refs(k));
}

static void print_kernels(cl_program p, cl_context ctx, cl_device_id device)
{
	cl_kernel scale, offset;
	cl_int err;

	scale = clCreateKernel(p, "scale", &err);
	CLT_CHECK(err);
	offset = clCreateKernel(p, "offset", &err);
	CLT_CHECK(err);
	print_kernel(scale, p, ctx, device);
	print_kernel(offset, p, ctx, device);
	CLT_CHECK(clRetainKernel(scale));
	printf("kernel reference count after retain: %u\n", kernel_refs(scale));
	CLT_CHECK(clReleaseKernel(scale));
	printf("kernel reference count after release: %u\n", kernel_refs(scale));
	CLT_CHECK(clReleaseKernel(offset));
	CLT_CHECK(clReleaseKernel(scale));
}

int main(void)
{
	cl_platform_id platforms[16], platform;
	cl_device_id devices[16], device;
	cl_uint n_platforms = 0, n_devices = 0, n_cpu = 0;
	cl_context ctx;
	cl_program p;

	clt_init(120);
	clt_pick_device(&platform, &device);

	CLT_CHECK(clGetPlatformIDs(0, NULL, &n_platforms));
	printf("platforms: %u\n", n_platforms);
	CLT_ASSERT(n_platforms >= 1 && n_platforms <= 16, "%u platforms", n_platforms);
	CLT_CHECK(clGetPlatformIDs(n_platforms, platforms, NULL));
	CLT_ASSERT(platforms[0] == platform, "clGetPlatformIDs is not stable");
	printf("same handle on a second clGetPlatformIDs: %s\n", clt_yes(platforms[0] == platform));
	print_platform(platform);

	CLT_CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, NULL, &n_devices));
	printf("devices: %u\n", n_devices);
	CLT_ASSERT(n_devices >= 1 && n_devices <= 16, "%u devices", n_devices);
	CLT_CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, n_devices, devices, NULL));
	CLT_ASSERT(devices[0] == device, "clGetDeviceIDs is not stable");
	printf("same handle on a second clGetDeviceIDs: %s\n", clt_yes(devices[0] == device));
	{
		cl_int err = clGetDeviceIDs(platform, CL_DEVICE_TYPE_CPU, 0, NULL, &n_cpu);

		if (err == CL_DEVICE_NOT_FOUND)
			n_cpu = 0;
		else
			CLT_CHECK(err);
		printf("CPU devices: %u\n", n_cpu);
	}
	print_device(platform, device);

	ctx = print_context(platform, device);
	print_queues(ctx, device);
	print_buffers(ctx);
	p = print_program(ctx, device);
	print_kernels(p, ctx, device);
	CLT_CHECK(clReleaseProgram(p));
	printf("context reference count at the end: %u\n", context_refs(ctx));
	CLT_CHECK(clReleaseContext(ctx));
	return 0;
}
