#!/usr/bin/env bash
# A refused call as the application sees it (docs/operator-guide.md, "What a
# refused tenant sees"): starts avarouterd with a policy that denies
# avatest_add_one and avatest_log_value, runs avatest-policy through ava-run
# against it, and checks the router counted the refusals (avactl status).
#
#   test_policy_guest.sh AVAROUTERD AVACTL AVA_RUN API_DIR AVATEST_POLICY
set -u

router=$1 avactl=$2 ava_run=$3 api_dir=$4 prog=$5
if [ ! -x "$api_dir/ava-server-avatest" ]; then
	echo "skipped: the avatest API server is not built ($api_dir/ava-server-avatest)" >&2
	exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ava-policy-guest-XXXXXX") || exit 1
router_pid=
cleanup() {
	[ -n "$router_pid" ] && kill "$router_pid" 2>/dev/null && wait "$router_pid"
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "test_policy_guest: FAIL: $*" >&2
	[ -f "$work/router.log" ] && sed 's/^/  router: /' "$work/router.log" >&2
	exit 1
}

cat >"$work/policy.yaml" <<'YAML'
version: 1
defaults:
  functions:
    avatest: { deny: [avatest_add_one, avatest_log_value] }
YAML

# --ready-fd through a fifo: no polling for the socket.
mkfifo "$work/ready"
"$router" --api-dir "$api_dir" --listen "$work/router.sock" --policy "$work/policy.yaml" \
	--ready-fd 3 3>"$work/ready" 2>"$work/router.log" &
router_pid=$!
read -r line <"$work/ready" || fail "router did not start"
[ "$line" = ready ] || fail "router said '$line'"
[ -S "$work/admin.sock" ] || fail "no admin socket beside router.sock"

out=$(timeout -k 10 120 "$ava_run" --router "$work/router.sock" -- "$prog" 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "avatest-policy exited $rc: $out"

json=$("$avactl" --admin "$work/admin.sock" status --json) || fail "avactl status: $json"
tenant=$(echo "$json" | grep "{\"name\": \"uid:$(id -u)\"") || fail "no tenant uid:$(id -u): $json"
# add_one, blocking log_value and non-blocking log_value.
echo "$tenant" | grep -q '"function": 3' || fail "refusals not counted: $tenant"
grep -q "avatest_add_one refused: its function filter denies it" "$work/router.log" ||
	fail "refusal not logged"

# A policy that refuses unknown tenants: the whole session is refused, and the
# application is told which channel and why.
cat >"$work/refuse.yaml" <<'YAML'
version: 1
defaults:
  action: refuse
YAML
out=$("$avactl" --admin "$work/admin.sock" policy reload "$work/refuse.yaml") ||
	fail "reload: $out"
out=$(timeout -k 10 120 "$ava_run" --router "$work/router.sock" -- "$prog" refused-session 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "avatest-policy refused-session exited $rc: $out"
echo "$out" | grep -q "refused the avatest session: refused by policy: channel $work/router.sock (uid $(id -u)) matches no tenant" ||
	fail "the application was not told why: $out"

kill "$router_pid"
wait "$router_pid"
rc=$?
router_pid=
[ $rc -eq 0 ] || fail "router exit status $rc"
[ ! -e "$work/admin.sock" ] || fail "admin socket left behind"
echo "test_policy_guest: ok"
