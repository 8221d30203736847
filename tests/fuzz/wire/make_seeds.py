#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the wire fuzzers (run from this folder).

fuzz_frame input: byte 0 = target (fn id, or n_fns + callback id; bit 7 =
deferred-error flag), bytes 1-2 = call payload length (LE), call payload,
reply payload. Payloads follow docs/wire-protocol.md for the description in
avatest_abi.h. Seeds are valid frames for every function, so the fuzzer
starts from accepted inputs and mutates outward.
"""
import os
import struct

u8 = lambda v: struct.pack("<B", v)
u32 = lambda v: struct.pack("<I", v)
u64 = lambda v: struct.pack("<Q", v)
DEV = lambda i: u64(1 << 48 | 1 << 24 | i)
GATE = lambda i: u64(2 << 48 | 1 << 24 | i)
S4 = u32(0)
S8 = u64(0)


def string(s):
    b = s.encode() + b"\0"
    return u32(len(b)) + b


def buf_in(elems):
    return u8(1) + u64(len(elems)) + b"".join(elems)


def buf_out(count):
    return u8(1) + u64(count)


def reply_out(elems):
    return u64(len(elems)) + b"".join(elems)


NULL_BUF = u8(0)
CFG = lambda dev: u32(1) + u32(2) + dev + b"\0" * 8 + b"tag".ljust(16, b"\0")

# (name, target, call payload, reply payload)
seeds = [
    ("null", 0, b"", S4),
    ("add_one", 1, S4 + buf_out(1), S4 + reply_out([u32(42)])),
    ("device_open", 2, S4 + buf_out(1), S4 + reply_out([DEV(1)])),
    ("device_create", 3, S4 + buf_out(1), DEV(1) + reply_out([u32(0)])),
    ("device_create_noerr", 3, S4 + NULL_BUF, DEV(2)),
    ("device_close", 4, DEV(1), S4),
    ("device_name", 5, DEV(1) + buf_out(8) + u64(8) + buf_out(1),
     S4 + reply_out([bytes([c]) for c in b"devname\0"]) + reply_out([u64(8)])),
    ("set_label", 6, DEV(1) + string("label"), S4),
    ("set_label_null", 6, DEV(1) + u32(0), S4),
    ("scale", 7, DEV(1) + buf_in([b"\0\0\x80\x3f"] * 4) + buf_out(4) + u64(4) + u32(0x40000000),
     S4 + reply_out([b"\0\0\0\x40"] * 4)),
    ("scale_streamed", 7, DEV(1) + u8(2) + u64(4) + buf_out(4) + u64(4) + u32(0x40000000),
     S4 + reply_out([b"\0\0\0\x40"] * 4)),
    ("increment", 8, buf_in([u32(i) for i in range(3)]) + u64(3) + u32(1),
     S4 + reply_out([u32(i + 1) for i in range(3)])),
    ("sum_indices", 9, buf_in([DEV(1), DEV(2), u64(0)]) + u64(3) + buf_out(1),
     S4 + reply_out([u64(3)])),
    ("configure", 10, DEV(1) + buf_in([CFG(DEV(2))]), S4),
    ("get_config", 11, DEV(1) + buf_out(1), S4 + reply_out([CFG(u64(0))])),
    ("visit", 12, DEV(1) + u32(3) + u64(0x401000) + u64(0x7ffd0000), S4),
    ("sleep", 13, u32(10), S4),
    ("log_value", 14, DEV(1) + u32(5) + u32(0), S4),
    ("log_sum_deferred", 15 | 0x80, DEV(1) + buf_out(1),
     S4 + reply_out([u64(5)]) + u32(14) + u32(0xffffffff)),
    ("gate_new", 16, buf_out(1), S4 + reply_out([GATE(1)])),
    ("gate_wait", 17, GATE(1), S4),
    ("gate_open", 18, GATE(1), S4),
    ("gate_free", 19, GATE(1), S4),
    ("unspecced", 20, u32(1), S4),
    ("visit_cb", 21, u64(0x401000) + u32(0) + string("item0") + u64(0x7ffd0000), b""),
    # Empty payloads (issue 10): the harness passes them as (NULL, 0), as a
    # receiver may see them; the call payload is also decoded as a HELLO.
    ("hello", 0, u32(7) + b"avatest" + u64(0x1234), S4),
    ("hello_empty", 0, b"", b""),
    ("add_one_empty", 1, b"", b""),
    ("add_one_reply_empty", 1, S4 + buf_out(1), b""),
    ("visit_cb_empty", 21, b"", b""),
]

os.makedirs("corpus/fuzz_frame", exist_ok=True)
for name, target, call, reply in seeds:
    data = u8(target) + struct.pack("<H", len(call)) + call + reply
    with open(os.path.join("corpus/fuzz_frame", name), "wb") as f:
        f.write(data)

# A valid frame header (CALL of fn 7 with a 64-byte payload) as its own seed.
hdr = struct.pack("<IHHIIQIHHII", 0x31415641, 1, 3, 64, 7, 1, 1, 0, 0, 0, 0)
with open("corpus/fuzz_frame/header_call", "wb") as f:
    f.write(hdr + b"\0" * 8)

# A CHUNK header (kind 13, 8 bytes of a streamed argument of fn 7's seq 1).
hdr = struct.pack("<IHHIIQIHHII", 0x31415641, 1, 13, 8, 7, 1, 0, 0, 0, 0, 0)
with open("corpus/fuzz_frame/header_chunk", "wb") as f:
    f.write(hdr + b"\0" * 8)

# Empty frames of every kind (issue 10): the bare 40-byte header, len_bytes 0.
KINDS = [("hello", 1), ("hello_reply", 2), ("call", 3), ("reply", 4), ("callback", 5),
         ("callback_reply", 6), ("session_open", 7), ("session_close", 8), ("bye", 9),
         ("usage", 10), ("data", 11), ("output", 12), ("chunk", 13)]
for name, kind in KINDS:
    hdr = struct.pack("<IHHIIQIHHII", 0x31415641, 1, kind, 0, 0, 1, 0, 0, 0, 1, 0)
    with open("corpus/fuzz_frame/header_%s_empty" % name, "wb") as f:
        f.write(hdr)
