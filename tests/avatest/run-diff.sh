#!/usr/bin/env bash
# Runs avatest-demo natively and remoted through ava-run, and diffs stdout byte for byte.
#
#   run-diff.sh AVA_RUN SERVER MODE DEMO [PROBE]
#
# MODE is "soname" (ava-run -- DEMO: the guest library replaces libavatest.so.1
# by soname) or "preload" (ava-run --preload -- DEMO). PROBE (optional) is
# avatest-remote-only: run the same way, it proves the library really was
# remoted, so a launcher that silently runs the app natively cannot pass.
# Exit 77 (skipped) when ava-run or the API server is not built.
set -u

if [ $# -lt 4 ]; then
	echo "usage: $0 AVA_RUN SERVER soname|preload DEMO [PROBE]" >&2
	exit 2
fi
ava_run=$1 server=$2 mode=$3 demo=$4 probe=${5:-}

if [ ! -x "$ava_run" ]; then
	echo "skipped: ava-run is not built ($ava_run)" >&2
	exit 77
fi
if [ ! -x "$server" ]; then
	echo "skipped: the avatest API server is not built ($server)" >&2
	exit 77
fi
case $mode in
soname) launch=("$ava_run" --) ;;
preload) launch=("$ava_run" --preload --) ;;
*)
	echo "$0: unknown mode '$mode'" >&2
	exit 2
	;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/avatest-diff.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

if ! timeout -k 10 200 "$demo" >"$tmp/native.out" 2>"$tmp/native.err"; then
	echo "FAIL: the demo fails natively:" >&2
	cat "$tmp/native.out" "$tmp/native.err" >&2
	exit 1
fi

timeout -k 10 200 "${launch[@]}" "$demo" >"$tmp/remote.out" 2>"$tmp/remote.err"
rc=$?
if ! cmp -s "$tmp/native.out" "$tmp/remote.out"; then
	echo "FAIL: remoted output ($mode) differs from native output:" >&2
	diff -u --label native --label "remoted ($mode)" "$tmp/native.out" "$tmp/remote.out" >&2
	echo "--- stderr of the remoted run (exit $rc):" >&2
	cat "$tmp/remote.err" >&2
	exit 1
fi
if [ $rc -ne 0 ]; then
	echo "FAIL: the remoted run ($mode) exited $rc with identical output; its stderr:" >&2
	cat "$tmp/remote.err" >&2
	exit 1
fi

if [ -n "$probe" ]; then
	AVATEST_EXPECT_REMOTE=1 timeout -k 10 100 "${launch[@]}" "$probe" \
		>"$tmp/probe.out" 2>"$tmp/probe.err"
	prc=$?
	if [ $prc -ne 0 ]; then
		echo "FAIL: '${launch[*]} $(basename "$probe")' exited $prc: the library was not remoted" >&2
		cat "$tmp/probe.out" "$tmp/probe.err" >&2
		exit 1
	fi
fi

echo "remoted output ($mode) is identical to native: $(wc -l <"$tmp/native.out") lines"
if [ -s "$tmp/remote.err" ]; then
	echo "--- stderr of the remoted run:"
	cat "$tmp/remote.err"
fi
exit 0
