/* SPDX-License-Identifier: MIT */
/*
 * avatest-features: one section per feature of the spec language that
 * avatest-demo does not need (the end of avatest.h), each with the results
 * printed and checked.
 *
 * Like avatest-demo, the output is the same natively and remoted, and
 * tests/avatest/run-diff.sh diffs the two byte for byte. Where the remoting
 * must differ on purpose (ava_override, ava_clear_bits, ava_unsupported),
 * the line printed is the same and the check is the mode's: the program
 * finds out whether it is remoted from avatest_unspecced, which only the
 * guest library answers with AVATEST_ERR_UNSUPPORTED.
 */
#define _GNU_SOURCE
#include "avatest-check.h"
#include "avatest.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WATCHDOG_S 120 /* a deadlock fails the run instead of hanging it */

static bool remoted;

static void section(const char *name)
{
	printf("\n== %s\n", name);
}

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

static void feature_override(void)
{
	int32_t y = 0;

	section("ava_override: a negative x arrives as 0 when remoted");
	expect("echo(7)", avatest_echo(7, &y), AVATEST_OK);
	printf("  y = %" PRId32 "\n", y);
	check(y == 7, "echo(7) gives 7");
	y = 1;
	expect("echo(-5)", avatest_echo(-5, &y), AVATEST_OK);
	printf("  y is what this mode gives (-5 native, 0 remoted): %s\n",
	       yes(y == (remoted ? 0 : -5)));
	check(y == (remoted ? 0 : -5), "echo(-5) gives -5 natively, 0 remoted");
}

static void print_ints(const char *label, const int32_t *v, size_t n)
{
	printf("  %s =", label);
	for (size_t i = 0; i < n; i++)
		printf(" %" PRId32, v[i]);
	printf("\n");
}

static void feature_defaults(void)
{
	/* One more than the calls' n: the last must stay as it is. */
	int32_t data[5] = { -1, -1, -1, -1, 99 };

	section("ava_defaults: fill and iota share data's default, increment has its own");
	expect("fill(data, 4, 7)", avatest_fill(data, 4, 7), AVATEST_OK);
	print_ints("data", data, 5);
	check(data[0] == 7 && data[1] == 7 && data[2] == 7 && data[3] == 7 && data[4] == 99,
	      "fill writes n values (out, ava_buffer(n))");
	expect("iota(data, 4, 10)", avatest_iota(data, 4, 10), AVATEST_OK);
	print_ints("data", data, 5);
	check(data[0] == 10 && data[1] == 11 && data[2] == 12 && data[3] == 13 && data[4] == 99,
	      "iota writes n values (out, ava_buffer(n))");
	/* Out only, as the default says, increment would start from what is not data. */
	expect("increment(data, 4, 5)", avatest_increment(data, 4, 5), AVATEST_OK);
	print_ints("data", data, 5);
	check(data[0] == 15 && data[1] == 16 && data[2] == 17 && data[3] == 18 && data[4] == 99,
	      "increment reads data too (its own block: in and out)");
}

static void feature_private(avatest_device dev)
{
	int64_t before = -1, after = -1;

	section("ava_private: a variadic call, carried by a wire-only function when remoted");
	expect("log_sum", avatest_log_sum(dev, &before), AVATEST_OK);
	expect("log_values(dev, 3, 1, 2, 3)", avatest_log_values(dev, 3, 1, 2, 3), AVATEST_OK);
	expect("log_sum", avatest_log_sum(dev, &after), AVATEST_OK);
	printf("  logged %" PRId64 "\n", after - before);
	check(after - before == 6, "log_values logs its values");
	before = after;
	expect("log_values(dev, 3, 4, -1, 5) (stops at -1)", avatest_log_values(dev, 3, 4, -1, 5),
	       AVATEST_ERR_INVALID);
	expect("log_sum", avatest_log_sum(dev, &after), AVATEST_OK);
	printf("  logged %" PRId64 "\n", after - before);
	check(after - before == 4, "log_values stops at the first value that fails");
	expect("log_values(dev, 0)", avatest_log_values(dev, 0), AVATEST_OK);
}

static void feature_resolve_via(void)
{
	avatest_ext_triple_fn triple = NULL;
	void *none;
	int32_t y = 0;

	section("ava_resolve_via: an extension the server finds through the library's lookup");
	triple = (avatest_ext_triple_fn)avatest_get_extension_address("avatest_ext_triple");
	none = avatest_get_extension_address("avatest_ext_none");
	printf("get_extension_address(\"avatest_ext_triple\") found: %s, "
	       "(\"avatest_ext_none\") found: %s\n",
	       yes(triple != NULL), yes(none != NULL));
	check(triple && !none, "the extension is found, and only it");
	if (!triple)
		return;
	expect("ext_triple(14)", triple(14, &y), AVATEST_OK);
	printf("  y = %" PRId32 "\n", y);
	check(y == 42, "ext_triple(14) gives 42");
	expect("ext_triple(-3)", triple(-3, &y), AVATEST_OK);
	printf("  y = %" PRId32 "\n", y);
	check(y == -9, "ext_triple(-3) gives -9");
}

static void feature_info(avatest_device devs[2])
{
	avatest_config cfg = { .flags = 0, .priority = 0, .peer = devs[1], .gain = 1.0 };
	const char *parts[] = { "label", "-of-", "dev0" };
	avatest_device peer = NULL;
	unsigned char *blobs[2] = { NULL, NULL };
	size_t sizes[2] = { 0, 0 }, ret_size = 0;
	uint32_t caps = 0;
	int32_t index = -1;

	section("ava_handles_of: an info value that is a handle");
	expect("configure(dev0, peer dev1)", avatest_configure(devs[0], &cfg), AVATEST_OK);
	expect("get_info(dev0, PEER)",
	       avatest_device_get_info(devs[0], AVATEST_DEVICE_INFO_PEER, sizeof(peer), &peer,
				       &ret_size),
	       AVATEST_OK);
	printf("  peer is dev1: %s, ret_size = %zu\n", yes(peer == devs[1]), ret_size);
	check(peer == devs[1] && ret_size == sizeof(peer), "the peer comes back as dev1's handle");
	expect(
	    "get_info(dev1, PEER) (none)",
	    avatest_device_get_info(devs[1], AVATEST_DEVICE_INFO_PEER, sizeof(peer), &peer, NULL),
	    AVATEST_OK);
	printf("  peer is NULL: %s\n", yes(peer == NULL));
	check(peer == NULL, "no peer reads back as NULL");
	expect("get_info(dev1, INDEX)",
	       avatest_device_get_info(devs[1], AVATEST_DEVICE_INFO_INDEX, sizeof(index), &index,
				       NULL),
	       AVATEST_OK);
	printf("  index = %" PRId32 "\n", index);
	check(index == 1, "dev1's index");
	expect("get_info(dev1, INDEX, size 1) (too small)",
	       avatest_device_get_info(devs[1], AVATEST_DEVICE_INFO_INDEX, 1, &index, &ret_size),
	       AVATEST_ERR_TOO_SMALL);
	printf("  ret_size = %zu\n", ret_size);
	expect("get_info(dev1, 99) (unknown)",
	       avatest_device_get_info(devs[1], 99, sizeof(index), &index, NULL),
	       AVATEST_ERR_INVALID);

	section("ava_clear_bits: a capability the remoting cannot offer is not reported");
	expect(
	    "get_info(dev0, CAPS)",
	    avatest_device_get_info(devs[0], AVATEST_DEVICE_INFO_CAPS, sizeof(caps), &caps, NULL),
	    AVATEST_OK);
	printf("  caps without SHARED_MEMORY = 0x%x\n",
	       (unsigned)(caps & ~AVATEST_CAP_SHARED_MEMORY));
	printf("  SHARED_MEMORY as this mode reports it (native: set, remoted: clear): %s\n",
	       yes(!!(caps & AVATEST_CAP_SHARED_MEMORY) == !remoted));
	check(!!(caps & AVATEST_CAP_SHARED_MEMORY) == !remoted,
	      "SHARED_MEMORY is reported natively only");

	section("ava_string_lengths: a label from parts");
	{
		const size_t lengths[] = { 0, 3, 4 };
		char label[64];
		size_t len = 0;

		expect("set_label_parts(3 parts, lengths {0, 3, 4})",
		       avatest_device_set_label_parts(devs[0], 3, parts, lengths), AVATEST_OK);
		memset(label, 0, sizeof(label));
		expect("  get_label", avatest_device_get_label(devs[0], label, sizeof(label), &len),
		       AVATEST_OK);
		printf("  label = \"%s\", ret_len = %zu\n", label, len);
		check(strcmp(label, "label-ofdev0") == 0, "lengths pick each part's bytes");
		expect("set_label_parts(3 parts, NULL lengths)",
		       avatest_device_set_label_parts(devs[0], 3, parts, NULL), AVATEST_OK);
		expect("  get_label", avatest_device_get_label(devs[0], label, sizeof(label), &len),
		       AVATEST_OK);
		printf("  label = \"%s\", ret_len = %zu\n", label, len);
		check(strcmp(label, "label-of-dev0") == 0, "NULL lengths: NUL-terminated parts");
	}

	section("ava_blobs_sized_by: the name and the label into the caller's buffers");
	expect("get_info(dev0, BLOB_SIZES)",
	       avatest_device_get_info(devs[0], AVATEST_DEVICE_INFO_BLOB_SIZES, sizeof(sizes),
				       sizes, NULL),
	       AVATEST_OK);
	printf("  sizes = %zu, %zu\n", sizes[0], sizes[1]);
	check(sizes[0] == strlen("avatest-device-0") && sizes[1] == strlen("label-of-dev0"),
	      "blob sizes");
	blobs[0] = calloc(1, sizes[0] + 1);
	blobs[1] = calloc(1, sizes[1] + 1);
	if (!blobs[0] || !blobs[1]) {
		check(false, "calloc");
		goto out;
	}
	expect("get_info(dev0, BLOBS)",
	       avatest_device_get_info(devs[0], AVATEST_DEVICE_INFO_BLOBS, sizeof(blobs), blobs,
				       &ret_size),
	       AVATEST_OK);
	printf("  blobs = \"%s\", \"%s\", ret_size = %zu\n", (char *)blobs[0], (char *)blobs[1],
	       ret_size);
	check(strcmp((char *)blobs[0], "avatest-device-0") == 0 &&
		  strcmp((char *)blobs[1], "label-of-dev0") == 0 && ret_size == sizeof(blobs),
	      "blob contents");
	{
		unsigned char *only_label[2] = { NULL, blobs[1] };

		memset(blobs[1], 0, sizes[1] + 1);
		expect("get_info(dev0, BLOBS) (the name's pointer NULL)",
		       avatest_device_get_info(devs[0], AVATEST_DEVICE_INFO_BLOBS,
					       sizeof(only_label), only_label, NULL),
		       AVATEST_OK);
		printf("  label blob = \"%s\"\n", (char *)blobs[1]);
		check(strcmp((char *)blobs[1], "label-of-dev0") == 0, "a NULL blob is skipped");
	}
out:
	free(blobs[0]);
	free(blobs[1]);
}

/*
 * A failed call leaves its outputs as they were, as the library does, but
 * for the ones it writes anyway (ava_written_on_failure: the size needed).
 */
static void feature_failure(avatest_device dev)
{
	char name[4] = "xyz";
	size_t len = 0, ret_size = 77;
	int32_t index = -5;

	section("ava_written_on_failure: a failed call's outputs stay, but the size needed");
	expect("device_name(dev0, buf_len=4) (too small)",
	       avatest_device_name(dev, name, sizeof(name), &len), AVATEST_ERR_TOO_SMALL);
	printf("  name = \"%s\", ret_len = %zu\n", name, len);
	check(strcmp(name, "xyz") == 0, "a too-small name buffer stays as it was");
	check(len == strlen("avatest-device-0") + 1, "the length needed is written anyway");
	expect("get_info(dev0, 99) (unknown)",
	       avatest_device_get_info(dev, 99, sizeof(index), &index, &ret_size),
	       AVATEST_ERR_INVALID);
	printf("  index = %" PRId32 ", ret_size = %zu\n", index, ret_size);
	check(index == -5 && ret_size == 77,
	      "an unknown query leaves value and ret_size as they were");
	expect("get_info(dev0, INDEX, size 1) (too small)",
	       avatest_device_get_info(dev, AVATEST_DEVICE_INFO_INDEX, 1, &index, &ret_size),
	       AVATEST_ERR_TOO_SMALL);
	printf("  index = %" PRId32 ", ret_size = %zu\n", index, ret_size);
	check(index == -5 && ret_size == sizeof(index),
	      "a too-small value stays as it was; the size needed is written");
}

static void feature_properties(avatest_device devs[2])
{
	int64_t props[] = {
		AVATEST_PROP_INDEX,	    2, AVATEST_PROP_BIAS_MILLI, 250, AVATEST_PROP_PEER,
		(int64_t)(intptr_t)devs[0], 0
	};
	const int64_t no_index[] = { AVATEST_PROP_BIAS_MILLI, 250, 0 };
	const int64_t bad_key[] = { AVATEST_PROP_INDEX, 1, 77, 1, 0 };
	avatest_status err = AVATEST_ERR_REMOTE;
	avatest_device dev, peer = NULL;
	float in = 1.0f, out = 0.0f;
	int32_t index = -1;

	section("ava_property_list + ava_scan_handles: a device from properties");
	dev = avatest_device_create_with_properties(props, &err);
	printf("create_with_properties(index 2, bias 0.25, peer dev0): err = %s, NULL: %s\n",
	       status_name(err), yes(!dev));
	check(err == AVATEST_OK && dev, "create_with_properties");
	if (!dev)
		return;
	expect("  get_info(INDEX)",
	       avatest_device_get_info(dev, AVATEST_DEVICE_INFO_INDEX, sizeof(index), &index, NULL),
	       AVATEST_OK);
	printf("  index = %" PRId32 "\n", index);
	check(index == 2, "index from the properties");
	expect("  scale(1.0, factor 1)", avatest_scale(dev, &in, &out, 1, 1.0f), AVATEST_OK);
	printf("  out = %.3f\n", (double)out);
	check(out == 1.25f, "bias from the properties");
	expect("  get_info(PEER)",
	       avatest_device_get_info(dev, AVATEST_DEVICE_INFO_PEER, sizeof(peer), &peer, NULL),
	       AVATEST_OK);
	printf("  peer is dev0: %s\n", yes(peer == devs[0]));
	check(peer == devs[0], "a handle inside a property list");
	expect("  device_close", avatest_device_close(dev), AVATEST_OK);

	dev = avatest_device_create_with_properties(no_index, &err);
	printf("create_with_properties(no index): err = %s, NULL: %s\n", status_name(err),
	       yes(!dev));
	check(err == AVATEST_ERR_INVALID && !dev, "no index is refused");
	dev = avatest_device_create_with_properties(bad_key, &err);
	printf("create_with_properties(unknown key): err = %s, NULL: %s\n", status_name(err),
	       yes(!dev));
	check(err == AVATEST_ERR_INVALID && !dev, "an unknown key is refused");
}

static void feature_buffers(avatest_device dev)
{
	avatest_status err = AVATEST_ERR_REMOTE;
	avatest_buffer parent, sub, imported;
	size_t size = 0;
	void *addr;

	section("ava_opaque: a device address passed as it is");
	parent = avatest_buffer_new(dev, 4096, &err);
	check(err == AVATEST_OK && parent, "buffer_new(4096)");
	addr = avatest_buffer_address(parent);
	printf("buffer_address(4096-byte buffer) = 0x%" PRIxPTR "\n", (uintptr_t)addr);
	check((uintptr_t)addr == AVATEST_BUFFER_ADDRESS_BASE, "a buffer's address");

	section("ava_parent: a sub-buffer keeps its parent");
	sub = avatest_buffer_new_sub(parent, 1024, 512, &err);
	printf("buffer_new_sub(parent, 1024, 512): err = %s, NULL: %s\n", status_name(err),
	       yes(!sub));
	check(err == AVATEST_OK && sub, "buffer_new_sub");
	addr = avatest_buffer_address(sub);
	printf("  buffer_address(sub) = 0x%" PRIxPTR "\n", (uintptr_t)addr);
	check((uintptr_t)addr == AVATEST_BUFFER_ADDRESS_BASE + 1024, "a sub-buffer's address");
	{
		avatest_buffer bad = avatest_buffer_new_sub(parent, 4000, 512, &err);
		printf(
		    "  buffer_new_sub(parent, 4000, 512) (beyond the parent): err = %s, NULL: %s\n",
		    status_name(err), yes(!bad));
		check(err == AVATEST_ERR_INVALID && !bad, "a sub-buffer must fit");
	}
	expect("  buffer_release(parent)", avatest_buffer_release(parent), AVATEST_OK);
	expect("  buffer_size(parent) (released)", avatest_buffer_size(parent, &size),
	       AVATEST_ERR_INVALID_HANDLE);
	size = 0;
	expect("  buffer_parent_size(sub)", avatest_buffer_parent_size(sub, &size), AVATEST_OK);
	printf("  parent size = %zu\n", size);
	check(size == 4096, "the parent lives on in its sub-buffer");
	expect("  buffer_release(sub)", avatest_buffer_release(sub), AVATEST_OK);

	section("ava_unsupported + ava_errcode_param: buffer_import");
	err = AVATEST_OK;
	imported = avatest_buffer_import(3, &err);
	printf("buffer_import(3): NULL: %s, err as this mode gives it (native: ERR_INVALID, "
	       "remoted: ERR_UNSUPPORTED): %s\n",
	       yes(!imported),
	       yes(err == (remoted ? AVATEST_ERR_UNSUPPORTED : AVATEST_ERR_INVALID)));
	check(!imported && err == (remoted ? AVATEST_ERR_UNSUPPORTED : AVATEST_ERR_INVALID),
	      "buffer_import's error");
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static void print_bytes(const char *label, const unsigned char *p, size_t n)
{
	printf("  %s =", label);
	for (size_t i = 0; i < n; i++)
		printf(" %02x", p[i]);
	printf("\n");
}

static int32_t event_state(avatest_event ev)
{
	int32_t st = -1;

	if (avatest_event_status(ev, &st) != AVATEST_OK)
		return -1;
	return st;
}

static void feature_events(avatest_device dev)
{
	avatest_event user = NULL, ev = NULL, ev2 = NULL;
	avatest_event forged = (avatest_event)(uintptr_t)0x7ead0003u;
	unsigned char src[32], dst[32];
	avatest_status err = AVATEST_ERR_REMOTE;
	avatest_buffer buf;

	section("ava_late_data: reads and writes that finish with their event");
	buf = avatest_buffer_new(dev, 256, &err);
	check(err == AVATEST_OK && buf, "buffer_new(256)");
	fill(src, sizeof(src), 1);
	expect("write(32 bytes, blocking)",
	       avatest_buffer_write(buf, 1, 0, sizeof(src), src, NULL, NULL), AVATEST_OK);
	memset(dst, 0xaa, sizeof(dst));
	expect("read(32 bytes, blocking, no event)",
	       avatest_buffer_read(buf, 1, 0, sizeof(dst), dst, NULL, NULL), AVATEST_OK);
	check(memcmp(dst, src, sizeof(src)) == 0, "a blocking read");
	print_bytes("bytes 0..7", dst, 8);

	expect("user_event_new", avatest_user_event_new(&user), AVATEST_OK);
	printf("  status = %" PRId32 "\n", event_state(user));
	memset(dst, 0xaa, sizeof(dst));
	expect("read(32 bytes, non-blocking, after the user event)",
	       avatest_buffer_read(buf, 0, 0, sizeof(dst), dst, user, &ev), AVATEST_OK);
	printf("  read's status before the user event = %" PRId32 "\n", event_state(ev));
	check(event_state(ev) == AVATEST_EVENT_QUEUED, "the read waits for the user event");
	printf("  destination untouched: %s\n", yes(dst[0] == 0xaa && dst[31] == 0xaa));
	check(dst[0] == 0xaa && dst[31] == 0xaa, "no bytes before the event completes");
	fill(src, sizeof(src), 100);
	expect("write(32 bytes at 64, non-blocking, after the user event)",
	       avatest_buffer_write(buf, 0, 64, sizeof(src), src, user, &ev2), AVATEST_OK);
	expect("user_event_complete", avatest_user_event_complete(user), AVATEST_OK);
	expect("user_event_complete again", avatest_user_event_complete(user), AVATEST_ERR_INVALID);
	expect("event_wait(read)", avatest_event_wait(ev), AVATEST_OK);
	printf("  read's status = %" PRId32 "\n", event_state(ev));
	fill(src, sizeof(src), 1);
	check(memcmp(dst, src, sizeof(src)) == 0, "the bytes are there once the read completed");
	print_bytes("bytes 0..7", dst, 8);
	expect("event_wait(write)", avatest_event_wait(ev2), AVATEST_OK);
	memset(dst, 0, sizeof(dst));
	expect("read(32 bytes at 64, blocking)",
	       avatest_buffer_read(buf, 1, 64, sizeof(dst), dst, NULL, NULL), AVATEST_OK);
	fill(src, sizeof(src), 100);
	check(memcmp(dst, src, sizeof(src)) == 0, "the deferred write's bytes");
	print_bytes("bytes 64..71", dst, 8);
	expect("event_retain(read)", avatest_event_retain(ev), AVATEST_OK);
	expect("event_release(read)", avatest_event_release(ev), AVATEST_OK);
	expect("event_release(read)", avatest_event_release(ev), AVATEST_OK);
	expect("event_release(write)", avatest_event_release(ev2), AVATEST_OK);
	expect("event_release(user)", avatest_event_release(user), AVATEST_OK);
	expect("read(0 bytes, non-blocking)", avatest_buffer_read(buf, 0, 0, 0, dst, NULL, &ev),
	       AVATEST_OK);
	expect("  event_wait", avatest_event_wait(ev), AVATEST_OK);
	expect("  event_release", avatest_event_release(ev), AVATEST_OK);
	expect("read(beyond the buffer)",
	       avatest_buffer_read(buf, 1, 250, sizeof(dst), dst, NULL, NULL), AVATEST_ERR_INVALID);

	/*
	 * Handles the guest itself sees are no live event's (a forged value).
	 * A released event's id reaches the server, whose BAD_HANDLE reply
	 * names no argument: the guest then answers the type's generic
	 * AVATEST_ERR_INVALID_HANDLE, so that case is not checked here.
	 */
	section("ava_invalid_handle_error_of: an event that names no live event");
	expect("event_wait(forged event)", avatest_event_wait(forged), AVATEST_ERR_INVALID_EVENT);
	expect("read(after a forged event)",
	       avatest_buffer_read(buf, 1, 0, sizeof(dst), dst, forged, NULL),
	       AVATEST_ERR_INVALID_EVENT);
	expect("buffer_release", avatest_buffer_release(buf), AVATEST_OK);
}

/* Rows of 16 bytes, 8 of them. */
#define RECT_PITCH 16
#define RECT_ROWS  8

static void feature_rects(avatest_device dev)
{
	unsigned char all[RECT_PITCH * RECT_ROWS], host[64], want[64];
	const size_t region[2] = { 4, 3 }, empty[2] = { 0, 3 };
	avatest_status err = AVATEST_ERR_REMOTE;
	avatest_event user = NULL, ev = NULL;
	avatest_buffer buf;

	section("ava_rect: rows at pitches, packed on the wire");
	buf = avatest_buffer_new(dev, sizeof(all), &err);
	check(err == AVATEST_OK && buf, "buffer_new(128)");
	memset(all, 0, sizeof(all));
	expect("write(zeroes, blocking)",
	       avatest_buffer_write(buf, 1, 0, sizeof(all), all, NULL, NULL), AVATEST_OK);
	/* 3 rows of 4 bytes, 10 apart in host, to column 2 of rows 1..3. */
	fill(host, sizeof(host), 40);
	expect("write_rect(4x3, host pitch 10, to row 1 column 2)",
	       avatest_buffer_write_rect(buf, 1, RECT_PITCH + 2, RECT_PITCH, region, 10, host, NULL,
					 NULL),
	       AVATEST_OK);
	expect("read(all, blocking)", avatest_buffer_read(buf, 1, 0, sizeof(all), all, NULL, NULL),
	       AVATEST_OK);
	for (int r = 0; r < 5; r++) {
		char label[16];
		snprintf(label, sizeof(label), "row %d", r);
		print_bytes(label, all + r * RECT_PITCH, 8);
	}
	memset(want, 0, sizeof(want));
	for (int r = 0; r < 3; r++)
		check(memcmp(all + (r + 1) * RECT_PITCH + 2, host + r * 10, 4) == 0 &&
			  all[(r + 1) * RECT_PITCH + 1] == 0 && all[(r + 1) * RECT_PITCH + 6] == 0,
		      "write_rect's rows, and nothing around them");

	/* Read them back to pitch 12, late: after a user event. */
	expect("user_event_new", avatest_user_event_new(&user), AVATEST_OK);
	memset(host, 0xee, sizeof(host));
	expect("read_rect(4x3, host pitch 12, non-blocking, after the user event)",
	       avatest_buffer_read_rect(buf, 0, RECT_PITCH + 2, RECT_PITCH, region, 12, host, user,
					&ev),
	       AVATEST_OK);
	printf("  status before the user event = %" PRId32 ", host untouched: %s\n",
	       event_state(ev), yes(host[0] == 0xee));
	check(event_state(ev) == AVATEST_EVENT_QUEUED && host[0] == 0xee,
	      "the rect read waits for its event");
	expect("user_event_complete", avatest_user_event_complete(user), AVATEST_OK);
	expect("event_wait", avatest_event_wait(ev), AVATEST_OK);
	print_bytes("host", host, 36);
	memset(want, 0xee, sizeof(want));
	for (int r = 0; r < 3; r++)
		memcpy(want + r * 12, all + (r + 1) * RECT_PITCH + 2, 4);
	check(memcmp(host, want, sizeof(want)) == 0,
	      "read_rect's rows at the host pitch, the bytes between them untouched");
	expect("event_release", avatest_event_release(ev), AVATEST_OK);
	expect("event_release(user)", avatest_event_release(user), AVATEST_OK);

	expect("read_rect(blocking, host pitch 0: packed)",
	       avatest_buffer_read_rect(buf, 1, RECT_PITCH + 2, RECT_PITCH, region, 0, host, NULL,
					NULL),
	       AVATEST_OK);
	print_bytes("host", host, 12);
	expect("read_rect(NULL region)",
	       avatest_buffer_read_rect(buf, 1, 0, RECT_PITCH, NULL, 0, host, NULL, NULL),
	       AVATEST_ERR_INVALID);
	expect("read_rect(host pitch 2 < 4 bytes)",
	       avatest_buffer_read_rect(buf, 1, 0, RECT_PITCH, region, 2, host, NULL, NULL),
	       AVATEST_ERR_INVALID);
	expect("read_rect(rows beyond the buffer)",
	       avatest_buffer_read_rect(buf, 1, RECT_PITCH * 6, RECT_PITCH, region, 0, host, NULL,
					NULL),
	       AVATEST_ERR_INVALID);
	expect("write_rect(empty region)",
	       avatest_buffer_write_rect(buf, 1, 0, RECT_PITCH, empty, 0, host, NULL, NULL),
	       AVATEST_OK);
	expect("buffer_release", avatest_buffer_release(buf), AVATEST_OK);
}

static void feature_mappings(avatest_device dev)
{
	avatest_status err = AVATEST_ERR_REMOTE;
	avatest_event user = NULL, ev = NULL;
	unsigned char bytes[64], back[64];
	unsigned char *m;
	avatest_buffer buf;

	section("ava_mapping + ava_unmaps: the buffer's bytes in the application's memory");
	buf = avatest_buffer_new(dev, sizeof(bytes), &err);
	check(err == AVATEST_OK && buf, "buffer_new(64)");
	fill(bytes, sizeof(bytes), 3);
	expect("write(64 bytes, blocking)",
	       avatest_buffer_write(buf, 1, 0, sizeof(bytes), bytes, NULL, NULL), AVATEST_OK);

	expect("user_event_new", avatest_user_event_new(&user), AVATEST_OK);
	m = avatest_buffer_map(buf, AVATEST_MAP_READ | AVATEST_MAP_WRITE, 16, 32, user, &ev, &err);
	printf("map(READ|WRITE, 16, 32, after the user event): err = %s, NULL: %s\n",
	       status_name(err), yes(!m));
	check(err == AVATEST_OK && m, "map");
	if (!m)
		goto out;
	printf("  status before the user event = %" PRId32 "\n", event_state(ev));
	check(event_state(ev) == AVATEST_EVENT_QUEUED, "the map waits for its event");
	expect("user_event_complete", avatest_user_event_complete(user), AVATEST_OK);
	expect("event_wait", avatest_event_wait(ev), AVATEST_OK);
	print_bytes("mapped 0..7", m, 8);
	check(memcmp(m, bytes + 16, 32) == 0, "the mapping holds the buffer's bytes");
	for (int i = 0; i < 32; i++)
		m[i] = (unsigned char)(0xf0 ^ i);
	expect("unmap", avatest_buffer_unmap(buf, m), AVATEST_OK);
	expect("event_release", avatest_event_release(ev), AVATEST_OK);
	expect("event_release(user)", avatest_event_release(user), AVATEST_OK);
	expect("read(64 bytes, blocking)",
	       avatest_buffer_read(buf, 1, 0, sizeof(back), back, NULL, NULL), AVATEST_OK);
	print_bytes("bytes 14..21", back + 14, 8);
	for (int i = 0; i < 32; i++)
		bytes[16 + i] = (unsigned char)(0xf0 ^ i);
	check(memcmp(back, bytes, sizeof(bytes)) == 0, "a writable mapping's bytes after unmap");

	m = avatest_buffer_map(buf, AVATEST_MAP_WRITE_INVALIDATE, 0, 8, NULL, NULL, &err);
	printf("map(WRITE_INVALIDATE, 0, 8, no event): err = %s, NULL: %s\n", status_name(err),
	       yes(!m));
	check(err == AVATEST_OK && m, "map write-invalidate");
	if (!m)
		goto out;
	memset(m, 0x5a, 8);
	expect("unmap", avatest_buffer_unmap(buf, m), AVATEST_OK);
	m = avatest_buffer_map(buf, AVATEST_MAP_READ, 0, 16, NULL, &ev, &err);
	printf("map(READ, 0, 16): err = %s, NULL: %s\n", status_name(err), yes(!m));
	check(err == AVATEST_OK && m, "map read");
	if (!m)
		goto out;
	expect("event_wait", avatest_event_wait(ev), AVATEST_OK);
	print_bytes("mapped 0..15", m, 16);
	check(m[0] == 0x5a && m[7] == 0x5a && m[8] == bytes[8], "the invalidating map's bytes");
	expect("unmap", avatest_buffer_unmap(buf, m), AVATEST_OK);
	expect("event_release", avatest_event_release(ev), AVATEST_OK);

	m = avatest_buffer_map(buf, AVATEST_MAP_READ, 60, 8, NULL, NULL, &err);
	printf("map(READ, 60, 8) (beyond the buffer): err = %s, NULL: %s\n", status_name(err),
	       yes(!m));
	check(err == AVATEST_ERR_INVALID && !m, "a mapping must fit");
out:
	expect("buffer_release", avatest_buffer_release(buf), AVATEST_OK);
}

int main(void)
{
	avatest_device devs[2] = { NULL, NULL };

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(WATCHDOG_S);
	remoted = avatest_unspecced(0) == AVATEST_ERR_UNSUPPORTED;
	printf("avatest-features: the spec language's features, with their results\n");

	expect("device_open(0)", avatest_device_open(0, &devs[0]), AVATEST_OK);
	expect("device_open(1)", avatest_device_open(1, &devs[1]), AVATEST_OK);
	if (!devs[0] || !devs[1])
		return 1;
	feature_override();
	feature_defaults();
	feature_private(devs[1]);
	feature_resolve_via();
	feature_info(devs);
	feature_failure(devs[0]);
	feature_properties(devs);
	feature_buffers(devs[0]);
	feature_events(devs[0]);
	feature_rects(devs[0]);
	feature_mappings(devs[0]);

	section("clean up");
	expect("device_close(dev0)", avatest_device_close(devs[0]), AVATEST_OK);
	expect("device_close(dev1)", avatest_device_close(devs[1]), AVATEST_OK);
	printf("\n%d checks, %d failed\n", n_checks, n_failed);
	return n_failed ? 1 : 0;
}
