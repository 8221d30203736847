#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Every function of the OpenCL manifest that creates device memory is metered
# by the router's memory quota (issue 10): a supported fn line whose result,
# or one of whose out buffers, is an :alloc handle of the memory-object type
# (cl_mem), or that is named below as creating memory without a handle, must
# carry a device_memory= amount (docs/wire-protocol.md §8), unless it is
# listed below, with the reason, as allocating nothing new.
#
#   test_abi_memory.sh MANIFEST
set -u
manifest=$1
[ -r "$manifest" ] || {
	echo "test_abi_memory: FAIL: cannot read $manifest" >&2
	exit 1
}
awk -v manifest="$manifest" '
BEGIN {
	memtype = "cl_mem"
	# Device memory that comes without a memory-object handle.
	creates["clSVMAlloc"] = 1
	# Functions that return a cl_mem but allocate nothing new, and why.
	none["clCreateSubBuffer"] = "a view of its parent buffer, whose charge it keeps alive"
	none["avaclCreateBufferOnSVM"] = "a buffer on an SVM allocation that clSVMAlloc already made"
	bad = 0
}
$1 == "handle" && $3 == memtype { tag = $2 }
$1 == "fn" {
	name = $3
	seen[name] = 1
	if ($0 ~ / unsupported( |$)/)
		next
	makes = (name in creates)
	if (tag != "") {
		if ($0 ~ (" ret=handle:" tag ":alloc"))
			makes = 1
		if ($0 ~ ("[=,]buffer:(out|inout):handle:" tag ":max=[0-9]+:alloc"))
			makes = 1
	}
	metered = ($0 ~ / device_memory=/)
	if (name in none) {
		if (metered) {
			printf "test_abi_memory: FAIL: %s is listed as allocating nothing (%s) but is metered\n", name, none[name]
			bad = 1
		}
		next
	}
	if (makes && !metered) {
		printf "test_abi_memory: FAIL: %s creates device memory but has no device_memory amount (ava_allocates_resource)\n", name
		bad = 1
	}
	if (makes)
		n++
}
END {
	if (tag == "") {
		printf "test_abi_memory: FAIL: %s declares no handle type %s\n", manifest, memtype
		exit 1
	}
	for (f in none) if (!(f in seen)) {
		printf "test_abi_memory: FAIL: listed function %s is not in the manifest\n", f
		bad = 1
	}
	for (f in creates) if (!(f in seen)) {
		printf "test_abi_memory: FAIL: listed function %s is not in the manifest\n", f
		bad = 1
	}
	if (!bad)
		printf "test_abi_memory: %d metered allocators, %d listed as allocating nothing\n", n, length(none)
	exit bad
}' "$manifest"
