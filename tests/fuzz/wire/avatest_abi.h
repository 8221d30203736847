/* SPDX-License-Identifier: MIT */
/*
 * The description the wire fuzzers validate against: the avatest API's
 * layout, written out by hand so the harness does not depend on avagen.
 * Also a seed for fuzz_abi (corpus/fuzz_abi/avatest.abi is the same text).
 */
#ifndef AVA_FUZZ_AVATEST_ABI_H
#define AVA_FUZZ_AVATEST_ABI_H

static const char fuzz_avatest_abi[] =
    "ava-abi 2\n"
    "api avatest\n"
    "handle 1 avatest_device\n"
    "handle 2 avatest_gate\n"
    "callback 0 avatest_visit_fn ret=void args=scalar:4,string:max=64,userdata userdata=2\n"
    "fn 0 avatest_null ret=scalar:4 args=\n"
    "fn 1 avatest_add_one ret=scalar:4 args=scalar:4,buffer:out:bytes:4:max=1\n"
    "fn 2 avatest_device_open ret=scalar:4 args=scalar:4,buffer:out:handle:1:max=1:alloc\n"
    "fn 3 avatest_device_create ret=handle:1:alloc "
    "args=scalar:4,buffer:out:bytes:4:max=1:errcode\n"
    "fn 4 avatest_device_close ret=scalar:4 args=handle:1:dealloc\n"
    "fn 5 avatest_device_name ret=scalar:4 "
    "args=handle:1,buffer:out:bytes:1:max=4096,scalar:8,buffer:out:bytes:8:max=1\n"
    "fn 6 avatest_device_set_label ret=scalar:4 args=handle:1,string:max=64\n"
    "fn 7 avatest_scale ret=scalar:4 args=handle:1,buffer:in:bytes:4:max=1048576,"
    "buffer:out:bytes:4:max=1048576,scalar:8,scalar:4\n"
    "fn 8 avatest_increment ret=scalar:4 args=buffer:inout:bytes:4:max=1048576,scalar:8,"
    "scalar:4\n"
    "fn 9 avatest_sum_indices ret=scalar:4 "
    "args=buffer:in:handle:1:max=4,scalar:8,buffer:out:bytes:8:max=1\n"
    "fn 10 avatest_configure ret=scalar:4 args=handle:1,buffer:in:struct:40:fields=8@1:max=1\n"
    "fn 11 avatest_get_config ret=scalar:4 "
    "args=handle:1,buffer:out:struct:40:fields=8@1:max=1\n"
    "fn 12 avatest_visit ret=scalar:4 args=handle:1,scalar:4,callback:0,userdata\n"
    "fn 13 avatest_sleep_ms ret=scalar:4 args=scalar:4\n"
    "fn 14 avatest_log_value ret=scalar:4 args=handle:1,scalar:4,scalar:4 async\n"
    "fn 15 avatest_log_sum ret=scalar:4 args=handle:1,buffer:out:bytes:8:max=1\n"
    "fn 16 avatest_gate_new ret=scalar:4 args=buffer:out:handle:2:max=1:alloc\n"
    "fn 17 avatest_gate_wait ret=scalar:4 args=handle:2\n"
    "fn 18 avatest_gate_open ret=scalar:4 args=handle:2\n"
    "fn 19 avatest_gate_free ret=scalar:4 args=handle:2:dealloc\n"
    "fn 20 avatest_unspecced ret=scalar:4 args=scalar:4 unsupported\n";

#endif /* AVA_FUZZ_AVATEST_ABI_H */
