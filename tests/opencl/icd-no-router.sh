#!/usr/bin/env bash
# The AvA ICD registered beside the machine's other OpenCL platforms, with no
# AvA router reachable: the loader gets no platform from it, at once, and the
# other platforms are listed as before.
#
#   icd-no-router.sh BUILD_DIR
#
# Needs clinfo and a native ICD registered in /etc/OpenCL/vendors (PoCL in
# CI); skips (77) without them. ICD_TEST_PRELOAD (sanitizer builds: the
# sanitizer runtime) is preloaded into clinfo, which is not instrumented but
# loads this build's instrumented guest library.
set -u

[ $# -eq 1 ] || {
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
}
build=$1
icd=$build/etc/OpenCL/vendors/ava-opencl.icd
if [ ! -e "$icd" ]; then
	echo "skipped: the OpenCL guest library is not built ($icd)" >&2
	exit 77
fi
if ! command -v clinfo >/dev/null; then
	echo "skipped: clinfo is not installed" >&2
	exit 77
fi
shopt -s nullglob
native=(/etc/OpenCL/vendors/*.icd)
if [ ${#native[@]} -eq 0 ]; then
	echo "skipped: no native ICD in /etc/OpenCL/vendors" >&2
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/icd-no-router.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/vendors" "$tmp/only-ava"
cp "${native[@]}" "$icd" "$tmp/vendors/"
cp "$icd" "$tmp/only-ava/"
lister=(clinfo -l)
if [ -n "${ICD_TEST_PRELOAD:-}" ]; then
	lister=(env LD_PRELOAD="$ICD_TEST_PRELOAD" ASAN_OPTIONS=detect_leaks=0 clinfo -l)
fi

# First, that this clinfo loads the AvA ICD at all: with a router, through
# ava-run --icd, it lists the remote platform. Otherwise the checks below
# would pass without the ICD ever being asked.
if ! timeout -k 5 60 "$build/bin/ava-run" --icd -- "${lister[@]}" >"$tmp/with-router.out" \
	2>"$tmp/with-router.err" || [ ! -s "$tmp/with-router.out" ]; then
	echo "FAIL: with a router, clinfo -l through the AvA ICD lists nothing:" >&2
	cat "$tmp/with-router.out" "$tmp/with-router.err" >&2
	exit 1
fi

# No router: a socket path where nothing listens, and no system router used.
export AVA_ROUTER_SOCKET=$tmp/no-router.sock

fail=0
timeout -k 5 30 env -u OCL_ICD_VENDORS clinfo -l >"$tmp/native.out" 2>"$tmp/native.err"
rc=$?
if [ $rc -ne 0 ] || [ ! -s "$tmp/native.out" ]; then
	echo "skipped: clinfo -l lists nothing natively (exit $rc)" >&2
	exit 77
fi
timeout -k 5 30 env OCL_ICD_VENDORS="$tmp/vendors" "${lister[@]}" >"$tmp/both.out" 2>"$tmp/both.err"
rc=$?
if [ $rc -ne 0 ]; then
	echo "FAIL: clinfo -l with both vendors files exited $rc:" >&2
	cat "$tmp/both.out" "$tmp/both.err" >&2
	fail=1
elif ! cmp -s "$tmp/native.out" "$tmp/both.out"; then
	echo "FAIL: with the AvA ICD registered and no router, clinfo -l differs:" >&2
	diff -u --label native --label "native + AvA ICD" "$tmp/native.out" "$tmp/both.out" >&2
	fail=1
else
	echo "native platforms still listed with the AvA ICD registered:"
	cat "$tmp/both.out"
fi
if [ -s "$tmp/both.err" ]; then
	echo "FAIL: the AvA ICD wrote to stderr with no router (it must stay quiet):" >&2
	cat "$tmp/both.err" >&2
	fail=1
fi

# Only the AvA ICD, no router: no platform at all, and the loader says so.
timeout -k 5 30 env OCL_ICD_VENDORS="$tmp/only-ava" "${lister[@]}" >"$tmp/ava.out" 2>"$tmp/ava.err"
rc=$?
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	echo "FAIL: clinfo -l with only the AvA ICD and no router hung" >&2
	fail=1
elif [ -s "$tmp/ava.out" ]; then
	echo "FAIL: with no router the AvA ICD still yields a platform:" >&2
	cat "$tmp/ava.out" >&2
	fail=1
else
	echo "only the AvA ICD, no router: no platform (clinfo exit $rc)"
fi
exit $fail
