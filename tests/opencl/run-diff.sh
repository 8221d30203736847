#!/usr/bin/env bash
# Runs an OpenCL program natively and remoted through ava-run, and diffs stdout byte for byte.
#
#   run-diff.sh [--preload | --icd] [--probe PROBE] BUILD_DIR PROG [ARGS...]
#
# BUILD_DIR is the AvA build tree (bin/ava-run, lib/ava/apis/ava-server-opencl,
# lib/ava/guest/opencl/). --preload runs `ava-run --preload -- PROG` instead of
# `ava-run -- PROG` (soname replacement of libOpenCL.so.1); --icd runs
# `ava-run --icd -- PROG`: the system ICD loader with OCL_ICD_VENDORS naming a
# folder that holds only the AvA ICD (BUILD_DIR/etc/OpenCL/vendors). PROBE (default
# BUILD_DIR/bin/cl-probe) is cl-probe: run natively it says whether there is an
# OpenCL device at all; run remoted with --expect-remote it proves the library
# really was remoted, so a launcher that silently runs PROG natively cannot pass.
# A PROG without a slash is looked up on PATH (clinfo) and skips when absent.
#
# Exit 77 (skipped), with the reason, when ava-run, the OpenCL API server or the
# OpenCL guest library is not built, PROG is not installed, there is no OpenCL
# device natively, or the remoted PROG exits 77 itself (saying why).
set -u

usage() {
	echo "usage: $0 [--preload | --icd] [--probe PROBE] BUILD_DIR PROG [ARGS...]" >&2
	exit 2
}

mode=soname probe=
while [ $# -gt 0 ]; do
	case $1 in
	--preload)
		mode=preload
		shift
		;;
	--icd)
		mode=icd
		shift
		;;
	--probe)
		[ $# -ge 2 ] || usage
		probe=$2
		shift 2
		;;
	--)
		shift
		break
		;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || usage
build=$1 prog=$2
shift 2
probe=${probe:-$build/bin/cl-probe}

ava_run=$build/bin/ava-run
server=$build/lib/ava/apis/ava-server-opencl
guest=$build/lib/ava/guest/opencl

if [ ! -x "$ava_run" ]; then
	echo "skipped: ava-run is not built ($ava_run)" >&2
	exit 77
fi
if [ ! -x "$server" ]; then
	echo "skipped: the OpenCL API server is not built ($server)" >&2
	exit 77
fi
if [ ! -d "$guest" ]; then
	echo "skipped: the OpenCL guest library is not built ($guest)" >&2
	exit 77
fi
if [ ! -e "$guest/libOpenCL.so.1" ]; then
	# Built but unusable: ava-run would run the program on the native loader.
	echo "FAIL: $guest has no libOpenCL.so.1 (the guest library's soname link)" >&2
	exit 1
fi
if [ $mode = icd ] && [ ! -e "$build/etc/OpenCL/vendors/ava-opencl.icd" ]; then
	echo "FAIL: $build/etc/OpenCL/vendors/ava-opencl.icd (the ICD registration) is missing" >&2
	exit 1
fi
case $prog in
*/*) ;;
*)
	if ! path=$(command -v "$prog"); then
		echo "skipped: $prog is not installed" >&2
		exit 77
	fi
	prog=$path
	;;
esac
if [ ! -x "$probe" ]; then
	echo "FAIL: the probe $probe is not built" >&2
	exit 1
fi
case $mode in
soname) launch=("$ava_run" --) ;;
preload) launch=("$ava_run" --preload --) ;;
icd) launch=("$ava_run" --icd --) ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/opencl-diff.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

timeout -k 5 30 "$probe" 2>"$tmp/probe.err"
rc=$?
if [ $rc -eq 77 ]; then
	echo "skipped: no OpenCL device natively, nothing to compare with:" >&2
	cat "$tmp/probe.err" >&2
	exit 77
elif [ $rc -ne 0 ]; then
	echo "FAIL: $(basename "$probe") exited $rc natively:" >&2
	cat "$tmp/probe.err" >&2
	exit 1
fi

name=$(basename "$prog")
if ! timeout -k 5 100 "$prog" "$@" >"$tmp/native.out" 2>"$tmp/native.err"; then
	echo "FAIL: $name fails natively:" >&2
	cat "$tmp/native.out" "$tmp/native.err" >&2
	exit 1
fi

timeout -k 5 120 "${launch[@]}" "$prog" "$@" >"$tmp/remote.out" 2>"$tmp/remote.err"
rc=$?
if [ $rc -eq 77 ]; then
	# the program itself found the remoted run cannot test it (its stderr says why)
	echo "skipped: the remoted run of $name ($mode) skipped itself:" >&2
	cat "$tmp/remote.err" >&2
	exit 77
fi
if ! cmp -s "$tmp/native.out" "$tmp/remote.out"; then
	echo "FAIL: remoted output of $name ($mode) differs from native output:" >&2
	diff -u --label native --label "remoted ($mode)" "$tmp/native.out" "$tmp/remote.out" >&2
	echo "--- stderr of the remoted run (exit $rc):" >&2
	cat "$tmp/remote.err" >&2
	exit 1
fi
if [ $rc -ne 0 ]; then
	echo "FAIL: the remoted run of $name ($mode) exited $rc with identical output; its stderr:" >&2
	cat "$tmp/remote.err" >&2
	exit 1
fi

timeout -k 5 30 "${launch[@]}" "$probe" --expect-remote >"$tmp/probe.out" 2>"$tmp/probe.err"
rc=$?
if [ $rc -ne 0 ]; then
	echo "FAIL: '${launch[*]} $(basename "$probe") --expect-remote' exited $rc: not remoted" >&2
	cat "$tmp/probe.out" "$tmp/probe.err" >&2
	exit 1
fi

echo "remoted output of $name ($mode) is identical to native: $(wc -l <"$tmp/native.out") lines"
if [ -s "$tmp/remote.err" ]; then
	echo "--- stderr of the remoted run:"
	cat "$tmp/remote.err"
fi
exit 0
