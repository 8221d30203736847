#!/usr/bin/env bash
# Many short OpenCL programs in a row against ONE router, as a test suite
# runs them: each must pass (stdout identical to its native run), none may
# hang (each has its own timeout), each gets an API server of its own, and
# afterwards nothing is left: `avactl status --json` shows no server, no
# session, no object, no memory and no device call, and no API server
# process of that router remains (every one started exited with status 0).
#
#   many-programs.sh BUILD_DIR N PROG...
#
# The PROGs run in turn, cycling, N runs in all, each through plain `ava-run
# --router SOCKET --` (the default route); a run that exits 77 skipped itself
# (its stderr says why) and counts as neither pass nor failure. Exit 77 (skipped), with the
# reason, when the pieces are not built, python3 is missing (it reads the
# JSON) or there is no OpenCL device natively.
set -u

[ $# -ge 3 ] || {
	echo "usage: $0 BUILD_DIR N PROG..." >&2
	exit 2
}
build=$1 n=$2
shift 2
progs=("$@")
ava_run=$build/bin/ava-run
router=$build/bin/avarouterd
avactl=$build/bin/avactl
api_dir=$build/lib/ava/apis
per_program_s=60
for need in "$ava_run" "$router" "$avactl" "$api_dir/ava-server-opencl" "${progs[@]}"; do
	if [ ! -e "$need" ]; then
		echo "skipped: $need is not built" >&2
		exit 77
	fi
done
if ! command -v python3 >/dev/null; then
	echo "skipped: python3 (to read avactl's JSON) is not installed" >&2
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ava-many-programs.XXXXXX") || exit 1
router_pid=
cleanup() {
	if [ -n "$router_pid" ]; then
		kill "$router_pid" 2>/dev/null
		wait "$router_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "many-programs: FAIL: $*" >&2
	tail -n 30 "$work/router.log" 2>/dev/null | sed 's/^/  router: /' >&2
	exit 1
}

# The natives first: the reference each remoted run is diffed against.
for i in "${!progs[@]}"; do
	if ! timeout -k 5 "$per_program_s" env -u OCL_ICD_VENDORS "${progs[$i]}" \
		>"$work/native.$i" 2>"$work/native.$i.err"; then
		if [ "$i" -eq 0 ] && grep -q "no OpenCL" "$work/native.$i.err"; then
			echo "skipped: no OpenCL device natively:" >&2
			cat "$work/native.$i.err" >&2
			exit 77
		fi
		fail "$(basename "${progs[$i]}") fails natively: $(tail -n 5 "$work/native.$i.err")"
	fi
done

# The router's children (API servers) still in the process table, zombies included.
children() {
	local f rest
	for f in /proc/[0-9]*/stat; do
		# pid (comm) state ppid ...: comm may hold spaces, so cut after the last ')'
		rest=$(sed 's/.*) //' "$f" 2>/dev/null) || continue
		set -- $rest
		[ "${2:-}" = "$router_pid" ] && echo "${f#/proc/}"
	done
}

mkfifo "$work/ready"
"$router" --api-dir "$api_dir" --listen "$work/r.sock" --ready-fd 3 3>"$work/ready" \
	2>"$work/router.log" &
router_pid=$!
read -r line <"$work/ready" || fail "router did not start"
[ "$line" = ready ] || fail "router said '$line'"

start=$(date +%s)
failed=0 skipped=0
for i in $(seq 0 $((n - 1))); do
	k=$((i % ${#progs[@]}))
	name=$(basename "${progs[$k]}")
	env -u AVA_RUN_ROUTE -u OCL_ICD_VENDORS AVA_ROUTER_SOCKET= \
		timeout -k 5 "$per_program_s" "$ava_run" --router "$work/r.sock" -- "${progs[$k]}" \
		>"$work/remote.out" 2>"$work/remote.err"
	rc=$?
	if [ $rc -eq 77 ]; then
		# the program found the remoted run cannot test it here (its stderr says why),
		# as run-diff.sh counts it: cl-svm in the sanitizer build
		skipped=$((skipped + 1))
		[ $skipped -le ${#progs[@]} ] && echo "run $((i + 1)) ($name) skipped itself:" \
			"$(tail -n 1 "$work/remote.err")" >&2
	elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "run $((i + 1)) ($name): did not finish within $per_program_s s (hung)" >&2
		failed=$((failed + 1))
	elif [ $rc -ne 0 ] || ! cmp -s "$work/native.$k" "$work/remote.out"; then
		echo "run $((i + 1)) ($name): exit $rc, output differs from native:" >&2
		diff -u --label native --label remoted "$work/native.$k" "$work/remote.out" |
			head -n 20 >&2
		tail -n 5 "$work/remote.err" | sed 's/^/  stderr: /' >&2
		failed=$((failed + 1))
	fi
done
elapsed=$(($(date +%s) - start))
[ $failed -eq 0 ] || fail "$failed of $n runs failed"

# Nothing left behind. A server's exit is reaped asynchronously: poll a while.
status_ok() {
	python3 - "$1" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
bad = []
if s["servers"]:
    bad.append("%d server(s) listed" % len(s["servers"]))
for t in s["tenants"]:
    for key in ("sessions", "objects", "memory_used", "held"):
        if t[key]:
            bad.append("tenant %s: %s %s" % (t["name"], key, t[key]))
for d in s["devices"]:
    for key in ("inflight", "queued"):
        if d[key]:
            bad.append("device %s: %s %s" % (d["name"], key, d[key]))
print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
}
for _ in $(seq 1 100); do
	started=$(grep -c "api opencl: server pid [0-9]* started" "$work/router.log")
	exited=$(grep -c "api opencl: server pid [0-9]* exited with status 0" "$work/router.log")
	"$avactl" --admin "$work/admin.sock" status --json >"$work/status.json" ||
		fail "avactl: $(cat "$work/status.json")"
	[ "$exited" = "$n" ] && status_ok "$work/status.json" >/dev/null && [ -z "$(children)" ] &&
		break
	sleep 0.1
done
[ "$started" = "$n" ] || fail "$n programs, $started API servers started"
[ "$exited" = "$n" ] || fail "$n servers started, $exited exited with status 0"
left=$(status_ok "$work/status.json") || fail "left behind in avactl status: $left"
[ -z "$(children)" ] || fail "API server processes left behind: $(children)"
if grep -q "killing it\|; ending session\|killing server" "$work/router.log"; then
	fail "a server was killed or a session violated the protocol"
fi
echo "many-programs: $n programs (${#progs[@]} different) in a row in ${elapsed} s, all" \
	"identical to native ($skipped skipped themselves); $n servers, none left, no object" \
	"or memory held"
exit 0
