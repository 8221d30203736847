#!/usr/bin/env bash
# A program whose builds read the application's header files, run natively
# and remoted through a router (and so an API server) started in another
# working directory (/): stdout must be identical, and the server's build
# directories must be gone once the program ended.
#
#   build-includes.sh BUILD_DIR PROBE PROG DATA_DIR
#
# Then `PROG --limits` (more headers than the guest ships) must build
# natively and fail remoted with CL_OUT_OF_RESOURCES and a message.
# PROG (cl-build-includes) runs in DATA_DIR (tests/opencl/build-data), both
# times. The remoted runs go through the soname route and the ICD route
# (ava-run --soname / --icd --router SOCKET). Exit 77 (skipped), with the
# reason, when ava-run or the OpenCL API server is not built or there is no
# OpenCL device natively.
set -u

if [ $# -ne 4 ]; then
	echo "usage: $0 BUILD_DIR PROBE PROG DATA_DIR" >&2
	exit 2
fi
build=$1 probe=$2 prog=$3 data=$4
ava_run=$build/bin/ava-run
router=$build/bin/avarouterd
api_dir=$build/lib/ava/apis

for f in "$ava_run" "$router" "$api_dir/ava-server-opencl"; do
	if [ ! -x "$f" ]; then
		echo "skipped: $f is not built" >&2
		exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/build-includes.XXXXXX") || exit 1
router_pid=
cleanup() {
	if [ -n "$router_pid" ]; then
		kill "$router_pid" 2>/dev/null
		wait "$router_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

timeout -k 5 30 "$probe" 2>"$tmp/probe.err"
rc=$?
if [ $rc -eq 77 ]; then
	echo "skipped: no OpenCL device natively:" >&2
	cat "$tmp/probe.err" >&2
	exit 77
elif [ $rc -ne 0 ]; then
	echo "FAIL: $(basename "$probe") exited $rc natively:" >&2
	cat "$tmp/probe.err" >&2
	exit 1
fi

cd "$data" || exit 1
if ! timeout -k 5 100 "$prog" >"$tmp/native.out" 2>"$tmp/native.err"; then
	echo "FAIL: $(basename "$prog") fails natively:" >&2
	cat "$tmp/native.out" "$tmp/native.err" >&2
	exit 1
fi

# The router, and so the API server it starts, runs in /, where no -I
# directory of the program exists; its servers make their build
# directories under $tmp/server-tmp.
mkdir "$tmp/server-tmp"
sock=$tmp/router.sock
(cd / && TMPDIR=$tmp/server-tmp exec "$router" --api-dir "$api_dir" --listen "$sock" \
	>"$tmp/router.log" 2>&1) &
router_pid=$!
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	sleep 0.1
done
if [ ! -S "$sock" ]; then
	echo "FAIL: the router did not listen on $sock:" >&2
	cat "$tmp/router.log" >&2
	exit 1
fi

fail=0
for route in soname icd; do
	timeout -k 5 120 "$ava_run" --$route --router "$sock" -- "$prog" \
		>"$tmp/remote-$route.out" 2>"$tmp/remote-$route.err"
	rc=$?
	if ! cmp -s "$tmp/native.out" "$tmp/remote-$route.out"; then
		echo "FAIL: remoted output ($route) differs from native output:" >&2
		diff -u --label native --label "remoted ($route)" "$tmp/native.out" \
			"$tmp/remote-$route.out" >&2
		echo "--- stderr of the remoted run (exit $rc):" >&2
		cat "$tmp/remote-$route.err" >&2
		fail=1
	elif [ $rc -ne 0 ]; then
		echo "FAIL: the remoted run ($route) exited $rc; its stderr:" >&2
		cat "$tmp/remote-$route.err" >&2
		fail=1
	fi
	timeout -k 5 30 "$ava_run" --$route --router "$sock" -- "$probe" --expect-remote \
		>"$tmp/probe.out" 2>&1 || {
		echo "FAIL: $(basename "$probe") --expect-remote ($route): not remoted" >&2
		cat "$tmp/probe.out" >&2
		fail=1
	}
done

# More headers than the guest ships: natively a build, remoted the
# guest's CL_OUT_OF_RESOURCES and a line on stderr saying why.
"$prog" --limits >"$tmp/limits-native.out" 2>&1
"$ava_run" --soname --router "$sock" -- "$prog" --limits >"$tmp/limits-remote.out" 2>&1
if ! grep -q '^1100 headers: CL_SUCCESS$' "$tmp/limits-native.out"; then
	echo "FAIL: cl-build-includes --limits natively:" >&2
	cat "$tmp/limits-native.out" >&2
	fail=1
fi
if ! grep -q '^1100 headers: CL_OUT_OF_RESOURCES$' "$tmp/limits-remote.out" ||
	! grep -q "ava: clBuildProgram: the program's headers are more than 1024 files" \
		"$tmp/limits-remote.out"; then
	echo "FAIL: cl-build-includes --limits remoted: want CL_OUT_OF_RESOURCES and why:" >&2
	cat "$tmp/limits-remote.out" >&2
	fail=1
fi

# Each application's server ends with it; its build directories go with it
# (the per-user folder that holds them, ava-build-<uid>, stays).
left=
for _ in $(seq 50); do
	left=$(find "$tmp/server-tmp" -mindepth 2)
	[ -z "$left" ] && break
	sleep 0.1
done
if [ -n "$left" ]; then
	echo "FAIL: the API server left its build directories behind: $left" >&2
	fail=1
fi
if [ $fail -ne 0 ]; then
	echo "--- router log:" >&2
	cat "$tmp/router.log" >&2
	exit 1
fi
echo "remoted output (soname, icd; server in /) is identical to native: $(wc -l <"$tmp/native.out") lines"
exit 0
