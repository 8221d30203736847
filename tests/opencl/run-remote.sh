#!/usr/bin/env bash
# Runs one program remoted (no native comparison): its own checks decide.
#
#   run-remote.sh BUILD_DIR soname|preload|icd PROG [ARGS...]
#
# For programs whose behaviour exists only remoted (what the guest library
# answers for stray pointers) or that check the route themselves
# (cl-dlopen --expect-remote). Exit 77 (skipped), with the reason, when
# ava-run, the OpenCL API server or guest library is not built.
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 BUILD_DIR soname|preload|icd PROG [ARGS...]" >&2
	exit 2
fi
build=$1 mode=$2
shift 2
ava_run=$build/bin/ava-run
for need in "$ava_run" "$build/lib/ava/apis/ava-server-opencl" \
	"$build/lib/ava/guest/opencl/libava-guest-opencl.so"; do
	if [ ! -e "$need" ]; then
		echo "skipped: $need is not built" >&2
		exit 77
	fi
done
case $mode in
soname) launch=("$ava_run" --) ;;
preload) launch=("$ava_run" --preload --) ;;
icd) launch=("$ava_run" --icd --) ;;
*)
	echo "$0: unknown route $mode" >&2
	exit 2
	;;
esac
exec timeout -k 5 120 "${launch[@]}" "$@"
