#!/usr/bin/env bash
# Cross-tenant isolation end to end: three tenants on one router, each on its
# own socket; "quiet" runs avatest-demo (handles, in/out buffers, callbacks
# with user data, async calls, a gate) three times at once, while "noisy"
# keeps hitting a tight memory quota and "hasty" a call rate. Every run
# of both must pass its own checks: callbacks reach only their own tenant
# with their own user data, buffers come back with their own bytes, and one
# tenant's refusals never show in the other's results or counters.
#
#   test_isolation.sh AVAROUTERD AVACTL AVA_RUN API_DIR AVATEST_DEMO AVATEST_ENFORCE
set -u

router=$1 avactl=$2 ava_run=$3 api_dir=$4 demo=$5 enforce=$6
if [ ! -x "$api_dir/ava-server-avatest" ]; then
	echo "skipped: the avatest API server is not built ($api_dir/ava-server-avatest)" >&2
	exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ava-isolation-XXXXXX") || exit 1
router_pid=
cleanup() {
	[ -n "$router_pid" ] && kill "$router_pid" 2>/dev/null && wait "$router_pid"
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "test_isolation: FAIL: $*" >&2
	tail -n 30 "$work/router.log" 2>/dev/null | sed 's/^/  router: /' >&2
	exit 1
}

cat >"$work/policy.yaml" <<'YAML'
version: 1
tenants:
  - name: noisy
    match: { label: noisy }
    memory_quota: 64KiB
  - name: hasty
    match: { label: hasty }
    call_rate: { rate: 2000/s, burst: 50, over: refuse }
  - name: quiet
    match: { label: quiet }
YAML
mkfifo "$work/ready"
"$router" --api-dir "$api_dir" --listen "$work/n.sock=noisy" --listen "$work/q.sock=quiet" \
	--listen "$work/h.sock=hasty" \
	--policy "$work/policy.yaml" --ready-fd 3 3>"$work/ready" 2>"$work/router.log" &
router_pid=$!
read -r line <"$work/ready" || fail "router did not start"
[ "$line" = ready ] || fail "router said '$line'"

run() {
	AVA_ROUTER_SOCKET= timeout -k 10 120 "$ava_run" --router "$work/$1" -- "${@:2}"
}

pids=()
for i in 1 2 3; do
	run q.sock "$demo" >"$work/quiet$i.out" 2>&1 &
	pids+=($!)
	run n.sock "$enforce" threads 2 4096 >"$work/noisy$i.out" 2>&1 &
	pids+=($!)
	run h.sock "$enforce" calls 400 >"$work/hastycalls$i.out" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
for i in 1 2 3; do
	grep -q "checks, 0 failed" "$work/quiet$i.out" ||
		fail "quiet run $i: $(tail -5 "$work/quiet$i.out")"
done
[ $rc -eq 0 ] || fail "a run failed: $(tail -n 3 "$work"/*.out)"

json=$("$avactl" --admin "$work/admin.sock" status --json) || fail "avactl: $json"
quiet=$(echo "$json" | grep '{"name": "quiet"') || fail "no quiet tenant: $json"
noisy=$(echo "$json" | grep '{"name": "noisy"') || fail "no noisy tenant: $json"
hasty=$(echo "$json" | grep '{"name": "hasty"') || fail "no hasty tenant: $json"
echo "$noisy" | grep -q '"memory_quota": [1-9]' || fail "noisy was never refused: $noisy"
echo "$hasty" | grep -q '"call_rate": [1-9]' || fail "hasty was never refused: $hasty"
echo "$quiet" | grep -q '"refusals": {[^}]*[1-9]' &&
	fail "quiet tenant has refusals: $quiet"
echo "$quiet" | grep -q '"memory_used": 0' || fail "quiet holds memory after exit: $quiet"
echo "test_isolation: ok"
