#!/usr/bin/env bash
# Runs the benchmarks remoted through ava-run (with no router running, ava-run
# starts its embedded default) and prints their ratios against in-run baselines.
#
#   bench/run.sh [--build DIR] [--bench NAME] [--smoke] [-- BENCH-ARGS...]
#
#   --build DIR   build tree (default: build/ at the repository root)
#   --bench NAME  null-call, opencl, fairness or all (default: all)
#   --smoke       tiny sizes and iteration counts: only checks that the benchmark works
#   BENCH-ARGS    passed to the benchmark; needs --bench NAME
#                 null-call: --iters N, --big-iters N
#                 fairness:  --window SECONDS, --no-opencl (bench/fairness.sh)
#                 opencl:    --iters N, --xfer-iters N, --xfer-mib N, --large-mib N,
#                            --large-iters N, --work-items N,
#                            --fmas N, --enqueues N, --native-lib PATH
# Exits 77 (skipped) when ava-run or the benchmark's API server or guest library
# is not built (with --bench all: when every benchmark skipped), 1 if any failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build
which=all
smoke=0
extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--build)
		build=$2
		shift 2
		;;
	--bench)
		which=$2
		shift 2
		;;
	--smoke)
		smoke=1
		shift
		;;
	--)
		shift
		extra=("$@")
		break
		;;
	-h | --help)
		sed -n '2,16p' "$0"
		exit 0
		;;
	*)
		echo "bench/run.sh: unknown argument '$1' (see --help)" >&2
		exit 2
		;;
	esac
done
case $which in
null-call | opencl | fairness) ;;
all)
	if [ ${#extra[@]} -gt 0 ]; then
		echo "bench/run.sh: BENCH-ARGS need --bench NAME" >&2
		exit 2
	fi
	;;
*)
	echo "bench/run.sh: unknown benchmark '$which' (null-call, opencl, fairness or all)" >&2
	exit 2
	;;
esac

ava_run=$build/bin/ava-run

run_null_call() {
	local bench=$build/bin/bench-null-call
	local server=$build/lib/ava/apis/ava-server-avatest
	local native args
	if [ ! -x "$bench" ]; then
		echo "bench/run.sh: $bench is not built (cmake --build $build)" >&2
		return 1
	fi
	if [ ! -x "$ava_run" ]; then
		echo "skipped: ava-run is not built ($ava_run)" >&2
		return 77
	fi
	if [ ! -x "$server" ]; then
		echo "skipped: the avatest API server is not built ($server)" >&2
		return 77
	fi
	# The real file, by its full versioned name: under ava-run the name
	# libavatest.so.1 resolves to the guest stub.
	native=$(readlink -f "$build/lib/libavatest.so.1")
	args=(--native-lib "$native" --require-remote)
	if [ $smoke -eq 1 ]; then
		args+=(--iters 200 --big-iters 5)
	fi
	"$ava_run" -- "$bench" "${args[@]}" "${extra[@]}"
}

# The system's libOpenCL.so.1 (the ICD loader) as a real file: from the ld cache,
# else the multiarch directory. Prints nothing if neither has it.
native_opencl() {
	local path
	path=$(/sbin/ldconfig -p 2>/dev/null |
		awk '$1 == "libOpenCL.so.1" && /x86-64/ { print $NF; exit }') || true
	if [ -z "$path" ] && [ -e /usr/lib/x86_64-linux-gnu/libOpenCL.so.1 ]; then
		path=/usr/lib/x86_64-linux-gnu/libOpenCL.so.1
	fi
	[ -n "$path" ] && readlink -f "$path"
	return 0
}

run_opencl() {
	local bench=$build/bin/bench-opencl
	local server=$build/lib/ava/apis/ava-server-opencl
	local guest=$build/lib/ava/guest/opencl/libOpenCL.so.1
	local native args=(--require-remote)
	if [ ! -x "$bench" ]; then
		echo "skipped: bench-opencl is not built (OpenCL not found at configure time?)" >&2
		return 77
	fi
	if [ ! -x "$ava_run" ]; then
		echo "skipped: ava-run is not built ($ava_run)" >&2
		return 77
	fi
	if [ ! -x "$server" ]; then
		echo "skipped: the OpenCL API server is not built ($server)" >&2
		return 77
	fi
	if [ ! -e "$guest" ]; then
		echo "skipped: the OpenCL guest library is not built ($guest)" >&2
		return 77
	fi
	# The real loader, by its full versioned name: under ava-run the name
	# libOpenCL.so.1 resolves to the guest stub. Without one, the path
	# bench-opencl was configured with.
	native=$(native_opencl)
	if [ -n "$native" ]; then
		args+=(--native-lib "$native")
	fi
	if [ $smoke -eq 1 ]; then
		args+=(--iters 50 --xfer-iters 2 --xfer-mib 1 --large-mib 80 --large-iters 1
			--work-items 4096 --fmas 64
			--enqueues 3)
	fi
	# --soname: the benchmark's native baseline opens the real loader by its
	# full path, which the default ICD route would remote as well.
	"$ava_run" --soname -- "$bench" "${args[@]}" "${extra[@]}"
}

# Several tenants through one avarouterd with policies (bench/fairness.sh).
run_fairness() {
	local args=()
	if [ $smoke -eq 1 ]; then
		args+=(--smoke)
	fi
	"$root/bench/fairness.sh" "$build" "${args[@]}" "${extra[@]}"
}

if [ "$which" != all ]; then
	rc=0
	"run_${which//-/_}" || rc=$?
	exit $rc
fi
failed=0 ran=0
for b in null_call opencl fairness; do
	rc=0
	"run_$b" || rc=$?
	case $rc in
	0) ran=1 ;;
	77) ;;
	*)
		echo "bench/run.sh: ${b//_/-} failed (exit $rc)" >&2
		failed=1
		;;
	esac
done
[ $failed -eq 0 ] || exit 1
[ $ran -eq 1 ] || exit 77
exit 0
