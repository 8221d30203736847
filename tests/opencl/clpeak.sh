#!/usr/bin/env bash
# clpeak (the Debian package) through `ava-run`: it must complete with exit
# status 0 and print a result, not an error.
#
#   clpeak.sh BUILD_DIR PROBE [CLPEAK-OPTIONS...]
#
# Without options it runs `clpeak --kernel-latency --use-event-timer`: one
# short test (clpeak has no size or iteration options), timed with event
# profiling so clGetEventProfilingInfo is remoted too. clpeak builds all its
# kernels first whichever test runs, so this also covers its whole program.
# A full default run takes minutes on a CPU device; run it by hand with
# `clpeak.sh BUILD_DIR PROBE --all-tests`.
#
# AVA_TEST_PRELOAD (sanitizer builds: the sanitizer runtime) is preloaded into
# clpeak, which is not instrumented but loads this build's instrumented guest
# library. PROBE is cl-probe: natively it says whether there is an OpenCL device at
# all. Exit 77 (skipped), with the reason, when clpeak is not installed, the
# AvA pieces are not built or there is no device.
set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 BUILD_DIR PROBE [CLPEAK-OPTIONS...]" >&2
	exit 2
fi
build=$1 probe=$2
shift 2
opts=("$@")
[ ${#opts[@]} -eq 0 ] && opts=(--kernel-latency --use-event-timer)

if ! command -v clpeak >/dev/null; then
	echo "skipped: clpeak is not installed (Debian package clpeak)" >&2
	exit 77
fi
for need in "$build/bin/ava-run" "$build/lib/ava/apis/ava-server-opencl" \
	"$build/lib/ava/guest/opencl/libOpenCL.so.1"; do
	if [ ! -e "$need" ]; then
		echo "skipped: $need is not built" >&2
		exit 77
	fi
done
timeout -k 5 30 "$probe" >/dev/null 2>&1
rc=$?
if [ $rc -eq 77 ]; then
	echo "skipped: no OpenCL device natively" >&2
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/clpeak.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

clpeak=(clpeak)
if [ -n "${AVA_TEST_PRELOAD:-}" ]; then
	clpeak=(env LD_PRELOAD="$AVA_TEST_PRELOAD" ASAN_OPTIONS=detect_leaks=0 clpeak)
fi
timeout -k 5 280 "$build/bin/ava-run" -- "${clpeak[@]}" "${opts[@]}" >"$tmp/out" 2>"$tmp/err"
rc=$?
fail=0
if [ $rc -ne 0 ]; then
	echo "FAIL: ava-run -- clpeak ${opts[*]} exited $rc" >&2
	fail=1
fi
# What clpeak prints when it gives up: a caught cl::Error ("what (code)"), a
# failed build, or a test it abandoned ("Tests skipped"). "No half precision
# support! Skipped" is the device's answer, not an error.
if grep -E -n '\(-[0-9]+\)|Build Log|Tests skipped|[Ee]rror' "$tmp/out" >&2; then
	echo "FAIL: clpeak reported the errors above" >&2
	fail=1
fi
if ! grep -q '^Platform: ' "$tmp/out" || ! grep -q 'Device: ' "$tmp/out"; then
	echo "FAIL: clpeak found no remote platform or device" >&2
	fail=1
fi
# Every result line is "name : number" (a unit may follow); at least one
# besides the device description.
results=$(grep -E ': [0-9]+(\.[0-9]+)?( [A-Za-z]+)?$' "$tmp/out" |
	grep -c -v -E 'Compute units|Clock frequency')
if [ "$results" -eq 0 ]; then
	echo "FAIL: clpeak printed no result" >&2
	fail=1
fi
if [ $fail -ne 0 ]; then
	echo "--- stdout:" >&2
	cat "$tmp/out" >&2
	echo "--- stderr:" >&2
	cat "$tmp/err" >&2
	exit 1
fi
cat "$tmp/out"
echo "clpeak ${opts[*]} completed through ava-run: $results result lines"
