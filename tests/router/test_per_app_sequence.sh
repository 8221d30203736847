#!/usr/bin/env bash
# One API server per application, many times over: N short avatest programs
# (avatest-demo: every call of the test API, no OpenCL needed) run one after
# another through one router. Every run must pass its own checks, each must
# have had a server of its own, and when the last has ended no API server is
# left: none in `avactl status`, no child process of the router, every one
# started was reaped after exiting 0.
#
#   test_per_app_sequence.sh AVAROUTERD AVACTL AVA_RUN API_DIR AVATEST_DEMO N
set -u

router=$1 avactl=$2 ava_run=$3 api_dir=$4 demo=$5 n=$6
if [ ! -x "$api_dir/ava-server-avatest" ]; then
	echo "skipped: the avatest API server is not built ($api_dir/ava-server-avatest)" >&2
	exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ava-per-app-XXXXXX") || exit 1
router_pid=
cleanup() {
	[ -n "$router_pid" ] && kill "$router_pid" 2>/dev/null && wait "$router_pid"
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "test_per_app_sequence: FAIL: $*" >&2
	tail -n 30 "$work/router.log" 2>/dev/null | sed 's/^/  router: /' >&2
	exit 1
}

# The router's children (API servers) still in the process table, zombies included.
children() {
	local f
	for f in /proc/[0-9]*/stat; do
		# pid (comm) state ppid ...: comm may hold spaces, so cut after the last ')'
		local rest
		rest=$(sed 's/.*) //' "$f" 2>/dev/null) || continue
		set -- $rest
		[ "${2:-}" = "$router_pid" ] && echo "${f#/proc/}"
	done
}

mkfifo "$work/ready"
"$router" --api-dir "$api_dir" --listen "$work/a.sock=alice" --ready-fd 3 3>"$work/ready" \
	2>"$work/router.log" &
router_pid=$!
read -r line <"$work/ready" || fail "router did not start"
[ "$line" = ready ] || fail "router said '$line'"

for i in $(seq 1 "$n"); do
	out=$(AVA_ROUTER_SOCKET= timeout -k 10 120 "$ava_run" --router "$work/a.sock" -- "$demo" 2>&1) ||
		fail "run $i exited $?: $(echo "$out" | tail -5)"
	echo "$out" | grep -q "checks, 0 failed" || fail "run $i: $(echo "$out" | tail -5)"
done

started=$(grep -c "api avatest: server pid [0-9]* started" "$work/router.log")
[ "$started" = "$n" ] || fail "$n programs, $started API servers started"
for _ in $(seq 1 100); do
	exited=$(grep -c "api avatest: server pid [0-9]* exited with status 0" "$work/router.log")
	json=$("$avactl" --admin "$work/admin.sock" status --json) || fail "avactl: $json"
	[ "$exited" = "$n" ] && ! echo "$json" | grep -q '{"tenant": ' && [ -z "$(children)" ] && break
	sleep 0.1
done
[ "$exited" = "$n" ] || fail "$n servers started, $exited exited with status 0"
echo "$json" | grep -q '{"tenant": ' && fail "servers left in status: $json"
[ -z "$(children)" ] || fail "processes left behind: $(children)"
grep -q "killing it\|; ending session" "$work/router.log" && fail "a server was killed or a session violated"
echo "test_per_app_sequence: $n programs, $n servers, none left" >&2
exit 0
