#!/usr/bin/env bash
# A vendor library that calls exit() or abort() inside a call: the API server
# says so in the router's log, naming the call, and the application gets the
# API's error instead of a hang.
#
#   lib-exit.sh BUILD_DIR EXIT_ICD_LIB CL_LIB_EXIT
#
# Starts a router of its own whose servers' ICD loader sees only exit-icd
# (AVA_SERVER_ENV_OCL_ICD_VENDORS: the router gives its servers OCL_ICD_VENDORS),
# runs `cl-lib-exit exit` and `cl-lib-exit abort` through it (soname route)
# and checks the router's log: "the library called exit(3) during
# clGetDeviceIDs" with the server's exit status 3, and "the library called
# abort() during clGetDeviceIDs" with SIGABRT. Exit 77 when the router, the
# OpenCL API server or the guest library is not built.
set -u
[ $# -eq 3 ] || {
	echo "usage: $0 BUILD_DIR EXIT_ICD_LIB CL_LIB_EXIT" >&2
	exit 2
}
build=$1 icd_lib=$2 app=$3
for need in "$build/bin/ava-run" "$build/bin/avarouterd" "$build/lib/ava/apis/ava-server-opencl" \
	"$build/lib/ava/guest/opencl/libOpenCL.so.1"; do
	if [ ! -e "$need" ]; then
		echo "skipped: $need is not built" >&2
		exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lib-exit.XXXXXX") || exit 1
router_pid=
cleanup() {
	[ -n "$router_pid" ] && kill "$router_pid" 2>/dev/null && wait "$router_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/vendors"
echo "$icd_lib" >"$tmp/vendors/exit-icd.icd"

AVA_SERVER_ENV_OCL_ICD_VENDORS=$tmp/vendors "$build/bin/avarouterd" --api-dir "$build/lib/ava/apis" \
	--listen "$tmp/router.sock" 2>"$tmp/router.log" &
router_pid=$!
for _ in $(seq 100); do
	[ -S "$tmp/router.sock" ] && break
	sleep 0.05
done
if [ ! -S "$tmp/router.sock" ]; then
	echo "FAIL: the router did not start:" >&2
	cat "$tmp/router.log" >&2
	exit 1
fi

fail=0
check() { # MODE LOG_LINE_ERE DEATH_ERE
	local mode=$1 rc
	timeout -k 5 60 "$build/bin/ava-run" --soname --router "$tmp/router.sock" -- "$app" "$mode" \
		>"$tmp/$mode.out" 2>"$tmp/$mode.err"
	rc=$?
	sleep 0.5 # the router logs the server's end when it reaps it
	if [ $rc -ne 0 ]; then
		echo "FAIL: cl-lib-exit $mode exited $rc:" >&2
		cat "$tmp/$mode.out" "$tmp/$mode.err" >&2
		fail=1
	fi
	if ! grep -Eq "$2" "$tmp/router.log"; then
		echo "FAIL: the router's log does not say /$2/" >&2
		fail=1
	fi
	if ! grep -Eq "$3" "$tmp/router.log"; then
		echo "FAIL: the router's log does not say /$3/" >&2
		fail=1
	fi
	cat "$tmp/$mode.out"
}
check exit 'ava-server-opencl\[[0-9]+\] .*: the library called exit\(3\) during clGetDeviceIDs \(session [0-9]+\)' \
	'server pid [0-9]+ exited with status 3'
check abort 'ava-server-opencl\[[0-9]+\] .*: the library called abort\(\) during clGetDeviceIDs \(session [0-9]+\)' \
	'server pid [0-9]+ killed by signal 6'
if [ $fail -ne 0 ]; then
	echo "--- the router's log:" >&2
	cat "$tmp/router.log" >&2
	exit 1
fi
echo "both deaths named in the router's log:"
grep -E "the library called|server pid" "$tmp/router.log"
