#!/usr/bin/env bash
# Kernel printf output belongs to the application that launched the kernel,
# also when a tenant's applications share one API server (`servers:
# shared`): two cl-printf-app programs run at once through one router with
# that policy and a device that takes several calls at once (max_inflight 4),
# their kernels overlapping on the device, and each one's stdout
# must be exactly what it prints alone natively (its own kernel lines, in
# order, and none of the other's).
#
#   printf-shared.sh BUILD_DIR CL_PRINTF_APP [LAUNCHES [SPIN]]
#
# Exit 77 (skipped), with the reason, when the pieces are not built or there
# is no OpenCL device natively.
set -u

[ $# -ge 2 ] || {
	echo "usage: $0 BUILD_DIR CL_PRINTF_APP [LAUNCHES [SPIN]]" >&2
	exit 2
}
build=$1 prog=$2 launches=${3:-20} spin=${4:-2000000}
ava_run=$build/bin/ava-run
router=$build/bin/avarouterd
api_dir=$build/lib/ava/apis
for need in "$ava_run" "$router" "$api_dir/ava-server-opencl" "$prog"; do
	if [ ! -e "$need" ]; then
		echo "skipped: $need is not built" >&2
		exit 77
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ava-printf-shared.XXXXXX") || exit 1
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
	echo "printf-shared: FAIL: $*" >&2
	tail -n 20 "$work/router.log" 2>/dev/null | sed 's/^/  router: /' >&2
	exit 1
}

for app in 1 2; do
	timeout -k 5 60 env -u OCL_ICD_VENDORS "$prog" $app "$launches" "$spin" \
		>"$work/native.$app" 2>"$work/native.$app.err"
	rc=$?
	if [ $rc -eq 77 ]; then
		echo "skipped: no OpenCL device natively:" >&2
		cat "$work/native.$app.err" >&2
		exit 77
	fi
	[ $rc -eq 0 ] || fail "app $app fails natively: $(cat "$work/native.$app.err")"
done

# A device that runs several device calls at once (max_inflight, as for a GPU
# with several queues): the two applications' kernels overlap on it.
printf 'version: 1\ndefaults:\n  servers: shared\ndevices:\n  - name: default\n    max_inflight: 4\n' \
	>"$work/policy.yaml"
mkfifo "$work/ready"
"$router" --api-dir "$api_dir" --listen "$work/r.sock" --policy "$work/policy.yaml" \
	--ready-fd 3 3>"$work/ready" 2>"$work/router.log" &
router_pid=$!
read -r line <"$work/ready" || fail "router did not start"
[ "$line" = ready ] || fail "router said '$line'"

# The server first (so both applications find it), then both at once.
env -u OCL_ICD_VENDORS AVA_ROUTER_SOCKET= timeout -k 5 60 "$ava_run" --router "$work/r.sock" \
	-- "$prog" 0 1 0 >/dev/null 2>"$work/warm.err" || fail "warm-up: $(cat "$work/warm.err")"
pids=()
for app in 1 2; do
	env -u OCL_ICD_VENDORS AVA_ROUTER_SOCKET= timeout -k 5 120 "$ava_run" \
		--router "$work/r.sock" -- "$prog" $app "$launches" "$spin" \
		>"$work/remote.$app" 2>"$work/remote.$app.err" &
	pids+=($!)
done
bad=0
for i in 0 1; do
	app=$((i + 1))
	wait "${pids[$i]}"
	rc=$?
	if [ $rc -ne 0 ] || ! cmp -s "$work/native.$app" "$work/remote.$app"; then
		echo "app $app (exit $rc): its stdout remoted differs from its stdout natively:" >&2
		diff -u --label "app $app native" --label "app $app remoted" "$work/native.$app" \
			"$work/remote.$app" >&2
		sed 's/^/  stderr: /' "$work/remote.$app.err" >&2
		bad=1
	fi
done
started=$(grep -c "api opencl: server pid [0-9]* started.*shared" "$work/router.log")
[ "$started" = 1 ] || fail "expected one shared server, the log shows $started started"
[ $bad -eq 0 ] || fail "kernel output reached the wrong application"
echo "printf-shared: two applications on one shared server, $launches launches each:" \
	"each one's stdout is its own ($(wc -l <"$work/native.1") lines)"
exit 0
