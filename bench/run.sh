#!/usr/bin/env bash
# Runs the benchmarks remoted through ava-run (with no router running, ava-run
# starts its embedded default) and prints their ratios against in-run baselines.
#
#   bench/run.sh [--build DIR] [--smoke] [-- BENCH-ARGS...]
#
#   --build DIR   build tree (default: build/ at the repository root)
#   --smoke       tiny iteration counts: only checks that the benchmark works
#   BENCH-ARGS    passed to bench-null-call (--iters N, --big-iters N)
# Exit 77 (skipped) when ava-run or the avatest API server is not built.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build
smoke=0
extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--build)
		build=$2
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
		sed -n '2,10p' "$0"
		exit 0
		;;
	*)
		echo "bench/run.sh: unknown argument '$1' (see --help)" >&2
		exit 2
		;;
	esac
done

bench=$build/bin/bench-null-call
ava_run=$build/bin/ava-run
server=$build/lib/ava/apis/ava-server-avatest
if [ ! -x "$bench" ]; then
	echo "bench/run.sh: $bench is not built (cmake --build $build)" >&2
	exit 1
fi
if [ ! -x "$ava_run" ]; then
	echo "skipped: ava-run is not built ($ava_run)" >&2
	exit 77
fi
if [ ! -x "$server" ]; then
	echo "skipped: the avatest API server is not built ($server)" >&2
	exit 77
fi
# The real file, by its full versioned name: under ava-run the name
# libavatest.so.1 resolves to the guest stub.
native=$(readlink -f "$build/lib/libavatest.so.1")

args=(--native-lib "$native" --require-remote)
if [ $smoke -eq 1 ]; then
	args+=(--iters 200 --big-iters 5)
fi
exec "$ava_run" -- "$bench" "${args[@]}" "${extra[@]}"
