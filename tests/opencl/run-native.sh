#!/usr/bin/env bash
# Runs one OpenCL test program natively, or skips (77) when there is no OpenCL device.
#
#   run-native.sh PROBE PROG [ARGS...]
#
# PROBE is cl-probe: it exits 77 with the reason on stderr when no platform has a device.
set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 PROBE PROG [ARGS...]" >&2
	exit 2
fi
probe=$1
shift

timeout -k 5 30 "$probe"
rc=$?
if [ $rc -ne 0 ]; then
	[ $rc -eq 77 ] || echo "FAIL: $(basename "$probe") exited $rc" >&2
	exit $rc
fi
exec timeout -k 5 250 "$@"
