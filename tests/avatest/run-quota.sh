#!/usr/bin/env bash
# Runs avatest-quota remoted through a private router whose policy gives the
# tenant a 64 KiB memory quota, or skips (77) when the stack is not built.
#
#   run-quota.sh AVAROUTERD AVA_RUN API_DIR PROGRAM
set -u

if [ $# -ne 4 ]; then
	echo "usage: $0 AVAROUTERD AVA_RUN API_DIR PROGRAM" >&2
	exit 2
fi
router=$1 ava_run=$2 api_dir=$3 prog=$4

for f in "$router" "$ava_run" "$api_dir/ava-server-avatest"; do
	if [ ! -x "$f" ]; then
		echo "skipped: $f is not built" >&2
		exit 77
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/avatest-quota.XXXXXX") || exit 1
router_pid=
cleanup() {
	if [ -n "$router_pid" ]; then
		kill "$router_pid" 2>/dev/null
		wait "$router_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT

printf 'version: 1\ndefaults:\n  memory_quota: 64KiB\n' >"$work/policy.yaml"
mkfifo "$work/ready"
"$router" --api-dir "$api_dir" --listen "$work/router.sock=quota" --policy "$work/policy.yaml" \
	--ready-fd 3 3>"$work/ready" 2>"$work/router.log" &
router_pid=$!
if ! read -r line <"$work/ready" || [ "$line" != ready ]; then
	echo "FAIL: the router did not start:" >&2
	cat "$work/router.log" >&2
	exit 1
fi

AVATEST_EXPECT_REMOTE=1 AVA_ROUTER_SOCKET= timeout -k 10 120 \
	"$ava_run" --router "$work/router.sock" -- "$prog"
rc=$?
if [ $rc -ne 0 ]; then
	echo "--- router log:" >&2
	tail -n 40 "$work/router.log" >&2
fi
exit $rc
