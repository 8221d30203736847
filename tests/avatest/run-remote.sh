#!/usr/bin/env bash
# Runs a program remoted through ava-run, or skips (77) when the stack is not built.
#
#   run-remote.sh AVA_RUN SERVER PROGRAM [ARGS...]
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 AVA_RUN SERVER PROGRAM [ARGS...]" >&2
	exit 2
fi
ava_run=$1 server=$2
shift 2

if [ ! -x "$ava_run" ]; then
	echo "skipped: ava-run is not built ($ava_run)" >&2
	exit 77
fi
if [ ! -x "$server" ]; then
	echo "skipped: the avatest API server is not built ($server)" >&2
	exit 77
fi
# Set: the program must find itself remoted (avatest-remote-only fails instead of skipping).
export AVATEST_EXPECT_REMOTE=1
exec timeout -k 10 200 "$ava_run" -- "$@"
