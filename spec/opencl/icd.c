/* SPDX-License-Identifier: MIT */
/*
 * The OpenCL guest library as an installable client driver (ICD), for a
 * system loader such as ocl-icd: clIcdGetPlatformIDsKHR and the
 * extension-function lookups, which never leave the guest. The dispatch
 * table every proxy handle starts with is generated (spec/opencl.spec:
 * ava_handle_proxy_table), from the guest library's own functions.
 *
 * Compiled into the guest library (ava_add_api GUEST_SOURCES), which is
 * linked with -Bsymbolic: the table's entries are this library's own
 * functions even when the application's libOpenCL.so.1 (the loader) defines
 * the same names earlier in the symbol search order.
 *
 * Routes: an application linked to the loader reaches us through the table
 * (ICD); one that has us as libOpenCL.so.1 (ava-run, soname) or preloaded
 * calls the same functions directly. All three get the same proxies.
 */
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_0_APIS
#define CL_USE_DEPRECATED_OPENCL_1_1_APIS
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#define CL_USE_DEPRECATED_OPENCL_2_0_APIS
#define CL_USE_DEPRECATED_OPENCL_2_1_APIS
#define CL_USE_DEPRECATED_OPENCL_2_2_APIS
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>
#include <CL/cl_ext.h>

#include <ava/guestlib.h>

#include "opencl/pocl-ext.h"

/* The generated API description (spec/opencl.spec), for connecting early. */
#include "ava_opencl.h"

/*
 * The loader's entry into this ICD: our platforms. With no router to reach
 * (AvA not running on this machine), or inside an AvA API server that loaded
 * us as a system-wide ICD, there are none: registering this ICD never hides
 * or breaks the machine's other platforms, and nothing waits.
 */
__attribute__((visibility("default"))) cl_int
clIcdGetPlatformIDsKHR(cl_uint num_entries, cl_platform_id *platforms, cl_uint *num_platforms)
{
	cl_uint n = 0;

	if ((num_entries == 0 && platforms) || (!platforms && !num_platforms))
		return CL_INVALID_VALUE;
	if (ava_guestlib_connect(&ava_gen__opencl__guest_api, 1) < 0) {
		if (num_platforms)
			*num_platforms = 0;
		return CL_PLATFORM_NOT_FOUND_KHR;
	}
	cl_int err = clGetPlatformIDs(num_entries, platforms, &n);
	if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && n == 0)) {
		if (num_platforms)
			*num_platforms = 0;
		return CL_PLATFORM_NOT_FOUND_KHR;
	}
	if (err == CL_SUCCESS && num_platforms)
		*num_platforms = n;
	return err;
}

/*
 * Extension functions this library forwards, and the extension each belongs
 * to. Only those of an extension the remote platform or one of its devices
 * reports are handed out for a platform; cl_khr_icd's is always there, for
 * the loader. Add a row when the spec remotes an extension function.
 */
static const struct {
	const char *extension;
	const char *name;
	void *fn;
} ext_fns[] = {
	{ "cl_khr_icd", "clIcdGetPlatformIDsKHR", (void *)clIcdGetPlatformIDsKHR },
	{ "cl_khr_command_buffer", "clCreateCommandBufferKHR", (void *)clCreateCommandBufferKHR },
	{ "cl_khr_command_buffer", "clFinalizeCommandBufferKHR",
	  (void *)clFinalizeCommandBufferKHR },
	{ "cl_khr_command_buffer", "clRetainCommandBufferKHR", (void *)clRetainCommandBufferKHR },
	{ "cl_khr_command_buffer", "clReleaseCommandBufferKHR", (void *)clReleaseCommandBufferKHR },
	{ "cl_khr_command_buffer", "clEnqueueCommandBufferKHR", (void *)clEnqueueCommandBufferKHR },
	{ "cl_khr_command_buffer", "clCommandBarrierWithWaitListKHR",
	  (void *)clCommandBarrierWithWaitListKHR },
	{ "cl_khr_command_buffer", "clCommandCopyBufferKHR", (void *)clCommandCopyBufferKHR },
	{ "cl_khr_command_buffer", "clCommandCopyBufferRectKHR",
	  (void *)clCommandCopyBufferRectKHR },
	{ "cl_khr_command_buffer", "clCommandCopyBufferToImageKHR",
	  (void *)clCommandCopyBufferToImageKHR },
	{ "cl_khr_command_buffer", "clCommandCopyImageKHR", (void *)clCommandCopyImageKHR },
	{ "cl_khr_command_buffer", "clCommandCopyImageToBufferKHR",
	  (void *)clCommandCopyImageToBufferKHR },
	{ "cl_khr_command_buffer", "clCommandFillBufferKHR", (void *)clCommandFillBufferKHR },
	{ "cl_khr_command_buffer", "clCommandFillImageKHR", (void *)clCommandFillImageKHR },
	{ "cl_khr_command_buffer", "clCommandNDRangeKernelKHR", (void *)clCommandNDRangeKernelKHR },
	{ "cl_khr_command_buffer", "clGetCommandBufferInfoKHR", (void *)clGetCommandBufferInfoKHR },
	{ "cl_pocl_content_size", "clSetContentSizeBufferPoCL",
	  (void *)clSetContentSizeBufferPoCL },
};

/* Does the space-separated list name ext? */
static int list_has_extension(const char *list, const char *ext)
{
	size_t len = strlen(ext);

	for (const char *p = list; (p = strstr(p, ext)) != NULL; p += len) {
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return 1;
	}
	return 0;
}

/* Does platform's CL_PLATFORM_EXTENSIONS (asked remotely) name ext? */
static int platform_has_extension(cl_platform_id platform, const char *ext)
{
	char list[8192];
	size_t n = 0;

	if (clGetPlatformInfo(platform, CL_PLATFORM_EXTENSIONS, sizeof(list), list, &n) !=
		CL_SUCCESS ||
	    n == 0 || n > sizeof(list))
		return 0;
	list[n - 1] = '\0';
	return list_has_extension(list, ext);
}

/* Does a device of platform report ext in CL_DEVICE_EXTENSIONS (asked remotely)? */
static int device_has_extension(cl_platform_id platform, const char *ext)
{
	cl_device_id devices[64];
	cl_uint n = 0;
	int found = 0;

	if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 64, devices, &n) != CL_SUCCESS)
		return 0;
	if (n > 64)
		n = 64;
	for (cl_uint i = 0; i < n && !found; i++) {
		size_t len = 0;
		char *list;

		if (clGetDeviceInfo(devices[i], CL_DEVICE_EXTENSIONS, 0, NULL, &len) !=
			CL_SUCCESS ||
		    len == 0)
			continue;
		list = malloc(len);
		if (!list)
			break;
		if (clGetDeviceInfo(devices[i], CL_DEVICE_EXTENSIONS, len, list, NULL) ==
		    CL_SUCCESS) {
			list[len - 1] = '\0';
			found = list_has_extension(list, ext);
		}
		free(list);
	}
	return found;
}

/*
 * A platform offers an extension's functions when it reports the extension
 * or one of its devices does: cl_khr_command_buffer is a device extension,
 * which PoCL's platform string leaves out, and PoCL hands out its functions
 * for the platform (an application picks a device that reports it).
 */
static int platform_offers_extension(cl_platform_id platform, const char *ext)
{
	return platform_has_extension(platform, ext) || device_has_extension(platform, ext);
}

__attribute__((visibility("default"))) void *
clGetExtensionFunctionAddressForPlatform(cl_platform_id platform, const char *func_name)
{
	if (!func_name)
		return NULL;
	for (size_t i = 0; i < sizeof(ext_fns) / sizeof(ext_fns[0]); i++) {
		if (strcmp(func_name, ext_fns[i].name) != 0)
			continue;
		if (strcmp(ext_fns[i].extension, "cl_khr_icd") == 0 ||
		    platform_offers_extension(platform, ext_fns[i].extension))
			return ext_fns[i].fn;
		return NULL;
	}
	return NULL;
}

/*
 * Deprecated form: the first (only) remote platform answers for extensions.
 * Loaders also ask it for core names (clGetPlatformInfo): those, and every
 * name we do not forward, get NULL without a remote call.
 */
__attribute__((visibility("default"))) void *clGetExtensionFunctionAddress(const char *func_name)
{
	cl_platform_id platform = NULL;
	size_t i;

	if (!func_name)
		return NULL;
	for (i = 0; i < sizeof(ext_fns) / sizeof(ext_fns[0]); i++)
		if (strcmp(func_name, ext_fns[i].name) == 0)
			break;
	if (i == sizeof(ext_fns) / sizeof(ext_fns[0]))
		return NULL;
	if (strcmp(ext_fns[i].extension, "cl_khr_icd") == 0)
		return ext_fns[i].fn;
	if (clGetPlatformIDs(1, &platform, NULL) != CL_SUCCESS || !platform)
		return NULL;
	return clGetExtensionFunctionAddressForPlatform(platform, func_name);
}

/*
 * Deprecated 1.1 command, not remoted (PoCL ends the process on it), done
 * here as what it is: a command that keeps later commands of the queue from
 * running until the events complete, i.e. a barrier with that wait list
 * (whose event the application cannot ask for). Its own errors: an empty
 * list is CL_INVALID_VALUE (a barrier would wait for everything), and an
 * invalid event CL_INVALID_EVENT.
 */
__attribute__((visibility("default"))) cl_int clEnqueueWaitForEvents(cl_command_queue command_queue,
								     cl_uint num_events,
								     const cl_event *event_list)
{
	if (num_events == 0 || !event_list)
		return CL_INVALID_VALUE;
	cl_int err = clEnqueueBarrierWithWaitList(command_queue, num_events, event_list, NULL);
	return err == CL_INVALID_EVENT_WAIT_LIST ? CL_INVALID_EVENT : err;
}

/*
 * Removed in OpenCL 1.1 and not in the spec's headers (CL/cl.h declares it
 * only with CL_USE_DEPRECATED_OPENCL_1_0_APIS, and defining that there
 * would renumber the API), but ocl-icd's libOpenCL.so.1 exports it: done
 * here. A queue's properties cannot change after creation, so a request
 * that would change them is CL_INVALID_OPERATION; one that changes nothing
 * succeeds; old_properties gets the queue's properties either way. (PoCL
 * behind ocl-icd crashes on it natively.)
 */
__attribute__((visibility("default"))) cl_int
clSetCommandQueueProperty(cl_command_queue command_queue, cl_command_queue_properties properties,
			  cl_bool enable, cl_command_queue_properties *old_properties)
{
	cl_command_queue_properties now = 0;
	cl_int err =
	    clGetCommandQueueInfo(command_queue, CL_QUEUE_PROPERTIES, sizeof(now), &now, NULL);

	if (err != CL_SUCCESS)
		return err;
	if (old_properties)
		*old_properties = now;
	if (properties & ~(cl_command_queue_properties)(CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE |
							CL_QUEUE_PROFILING_ENABLE))
		return CL_INVALID_VALUE;
	if ((enable ? (now & properties) == properties : (now & properties) == 0))
		return CL_SUCCESS;
	return CL_INVALID_OPERATION;
}
