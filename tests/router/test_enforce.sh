#!/usr/bin/env bash
# Policy enforcement end to end (docs/operator-guide.md): avarouterd with a
# policy, avatest-enforce through ava-run, `avactl status --json` for what the
# router counted. Scenarios:
#   quota      memory quota hit exactly at the boundary; freeing gives room back
#   objects    the object cap
#   threads    16 threads allocating at once never pass the quota; all of it
#              comes back when the process exits holding it
#   server     the tenant's API server dies: what it held comes back
#   refuse     call rate with over: refuse
#   delay      call rate with over: delay: every call succeeds, some waited
#   share      two tenants on one device, weights 3:1 then 1:1: device time in
#              that proportion (generous bounds; bench/fairness has the figures)
#   share-opencl the same with two OpenCL tenants on PoCL (cl-spin: 8 kernels
#              + clFinish in a loop); needs CL_SPIN=path/to/cl-spin in the
#              environment, the OpenCL API server and an OpenCL device (else 77)
#   quota-opencl an OpenCL program under a memory quota (cl-quota), buffers,
#              buffers with properties, images, pipes and SVM
#   crash-opencl an OpenCL program SIGKILLs itself holding objects of every
#              kind, a kernel gated on an unset user event, a pending read
#              and an open map (cl-crash): its API server releases them all,
#              nothing stays counted, and the same server serves the next run
#
#   test_enforce.sh AVAROUTERD AVACTL AVA_RUN API_DIR AVATEST_ENFORCE [SCENARIO...]
set -u

router=$1 avactl=$2 ava_run=$3 api_dir=$4 prog=$5
shift 5
scenarios=("$@")
[ ${#scenarios[@]} -eq 0 ] && scenarios=(quota objects threads server refuse delay share)
case "${scenarios[*]}" in
share-opencl | quota-opencl | crash-opencl) opencl=1 ;;
*) opencl=0 ;;
esac
if [ $opencl -eq 1 ]; then
	spin=${CL_SPIN-}
	if [ -z "$spin" ] || [ ! -x "$spin" ]; then
		echo "skipped: CL_SPIN does not name the cl-spin program ('$spin')" >&2
		exit 77
	fi
	if [ ! -x "$api_dir/ava-server-opencl" ]; then
		echo "skipped: the OpenCL API server is not built ($api_dir/ava-server-opencl)" >&2
		exit 77
	fi
	# Natively, on the vendor library: exits 77 itself when there is no device.
	out=$("$spin" 0.01 2>&1)
	rc=$?
	if [ $rc -eq 77 ]; then
		echo "skipped: no OpenCL device (PoCL) natively: $out" >&2
		exit 77
	fi
	[ $rc -eq 0 ] || {
		echo "test_enforce: FAIL: cl-spin natively: $out" >&2
		exit 1
	}
elif [ ! -x "$api_dir/ava-server-avatest" ]; then
	echo "skipped: the avatest API server is not built ($api_dir/ava-server-avatest)" >&2
	exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ava-enforce-XXXXXX") || exit 1
router_pid=
stop_router() {
	if [ -n "$router_pid" ]; then
		kill "$router_pid" 2>/dev/null
		wait "$router_pid" 2>/dev/null
	fi
	router_pid=
}
cleanup() {
	stop_router
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "test_enforce: FAIL: $*" >&2
	[ -f "$work/router.log" ] && tail -n 40 "$work/router.log" | sed 's/^/  router: /' >&2
	exit 1
}

# start_router POLICY-TEXT: a router on $work/a.sock (label alice) and
# $work/b.sock (label bob).
start_router() {
	stop_router
	rm -f "$work"/*.sock "$work/ready"
	printf '%s\n' "$1" >"$work/policy.yaml"
	mkfifo "$work/ready"
	"$router" --api-dir "$api_dir" --listen "$work/a.sock=alice" --listen "$work/b.sock=bob" \
		--policy "$work/policy.yaml" --ready-fd 3 3>"$work/ready" 2>"$work/router.log" &
	router_pid=$!
	local line
	read -r line <"$work/ready" || fail "router did not start"
	[ "$line" = ready ] || fail "router said '$line'"
}

# run SOCKET ARGS...: avatest-enforce remoted through the router.
run() {
	local sock=$1
	shift
	run_prog "$sock" "$prog" "$@"
}

# run_prog SOCKET PROG ARGS...: any program remoted through the router.
run_prog() {
	local sock=$1
	shift
	AVA_ROUTER_SOCKET= timeout -k 10 120 "$ava_run" --router "$work/$sock" -- "$@"
}

# field TENANT NAME: a number from the tenant's object in avactl status --json.
field() {
	local json
	json=$("$avactl" --admin "$work/admin.sock" status --json) || fail "avactl status: $json"
	echo "$json" | grep "{\"name\": \"$1\"" | sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p"
}

# refusal TENANT REASON: how many calls of the tenant were refused for REASON (0 if none).
refusal() {
	local json n
	json=$("$avactl" --admin "$work/admin.sock" status --json) || fail "avactl status: $json"
	n=$(echo "$json" | grep "{\"name\": \"$1\"" | sed -n 's/.*"refusals": {\([^}]*\)}.*/\1/p' |
		sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p")
	echo "${n:-0}"
}

# wait_field TENANT NAME VALUE: until the router has processed a disconnect (at most 10 s).
wait_field() {
	local i v
	for i in $(seq 1 100); do
		v=$(field "$1" "$2")
		[ "$v" = "$3" ] && return 0
		sleep 0.1
	done
	fail "tenant $1: $2 is '$v', expected $3"
}

scenario_quota() {
	start_router 'version: 1
defaults:
  memory_quota: 1MiB'
	# 4 x 256 KiB fit exactly (the boundary passes); the fifth byte does not.
	out=$(run a.sock quota 262144) || fail "quota: $out"
	[ "$(echo "$out" | head -1)" = "allocated 4" ] || fail "quota: expected 4 buffers: $out"
	echo "$out" | grep -q "reallocated 1" || fail "quota: $out"
	[ "$(field alice memory_used)" = 0 ] || fail "quota: memory not released at the end"
	[ "$(field alice memory_peak)" = 1048576 ] || fail "quota: peak $(field alice memory_peak)"
	json=$("$avactl" --admin "$work/admin.sock" status --json)
	echo "$json" | grep "\"alice\"" | grep -q '"memory_quota": 2' ||
		fail "quota: refusals not counted: $json"
	# One byte less than the quota in one buffer: fits; then nothing more does.
	out=$(run a.sock quota 1048575) || fail "quota (1 MiB - 1): $out"
	[ "$(echo "$out" | head -1)" = "allocated 1" ] || fail "quota (1 MiB - 1): $out"
}

scenario_objects() {
	start_router 'version: 1
defaults:
  max_objects: 6'
	# The device handle is one object: 5 buffers fit.
	out=$(run a.sock quota 16) || fail "objects: $out"
	[ "$(echo "$out" | head -1)" = "allocated 5" ] || fail "objects: expected 5 buffers: $out"
	wait_field alice objects 0
}

scenario_threads() {
	start_router 'version: 1
defaults:
  memory_quota: 4MiB'
	out=$(run a.sock threads 16 65536) || fail "threads: $out"
	[ "$out" = "allocated 64" ] || fail "threads: expected exactly 64 x 64 KiB: $out"
	# The process exited holding 4 MiB: the router gives it back.
	wait_field alice memory_used 0
	wait_field alice objects 0
	out=$(run a.sock threads 4 1048576) || fail "threads after disconnect: $out"
	[ "$out" = "allocated 4" ] || fail "threads after disconnect: $out"
}

# field_server TENANT: the pid of the tenant's API server (avactl status --json).
field_server() {
	"$avactl" --admin "$work/admin.sock" status --json |
		grep "{\"tenant\": \"$1\"" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p'
}

scenario_server() {
	start_router 'version: 1
defaults:
  memory_quota: 1MiB'
	run a.sock hold 524288 30 >"$work/hold.out" 2>&1 &
	local holder=$!
	wait_field alice memory_used 524288
	local json pid
	pid=$(field_server alice)
	[ -n "$pid" ] || fail "server: no server pid for alice"
	kill -9 "$pid"
	wait_field alice memory_used 0
	wait_field alice objects 0
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	# The tenant's next session gets a new server and the whole quota.
	out=$(run a.sock quota 262144) || fail "server: after the crash: $out"
	[ "$(echo "$out" | head -1)" = "allocated 4" ] || fail "server: after the crash: $out"
}

# An OpenCL program under a 1 MiB quota: CL_MEM_OBJECT_ALLOCATION_FAILURE past
# it, and a sub-buffer keeps its parent's storage charged after the parent is
# released (cl-quota, next to cl-spin).
scenario_quota-opencl() {
	start_router 'version: 1
defaults:
  memory_quota: 1MiB'
	local prog=${spin%/*}/cl-quota
	out=$(run a.sock "$prog") || fail "quota-opencl: $out"
	expect="first 768 KiB buffer: CL_SUCCESS
second 768 KiB buffer: CL_MEM_OBJECT_ALLOCATION_FAILURE (no buffer)
sub-buffer of the first: CL_SUCCESS
release the first: CL_SUCCESS
768 KiB while the sub-buffer lives: CL_MEM_OBJECT_ALLOCATION_FAILURE (no buffer)
release the sub-buffer: CL_SUCCESS
768 KiB after the sub-buffer went: CL_SUCCESS"
	[ "$out" = "$expect" ] || fail "quota-opencl: got
$out
expected
$expect"
	wait_field alice memory_used 0
	# The other memory-object creators (issue 10): a buffer with properties
	# is charged its size; images and pipes, which the router cannot size,
	# are refused under the quota.
	out=$(run_prog a.sock "$prog" kinds) || fail "quota-opencl kinds: $out"
	expect="768 KiB buffer: CL_SUCCESS
768 KiB buffer with properties: CL_MEM_OBJECT_ALLOCATION_FAILURE (no object)
128 KiB buffer with properties: CL_SUCCESS
64x64 RGBA8 image: CL_MEM_OBJECT_ALLOCATION_FAILURE (no object)
64x64 RGBA8 image with properties: CL_MEM_OBJECT_ALLOCATION_FAILURE (no object)
16 x 16-byte pipe: CL_MEM_OBJECT_ALLOCATION_FAILURE (no object)"
	[ "$out" = "$expect" ] || fail "quota-opencl kinds: got
$out
expected
$expect"
	wait_field alice memory_used 0
	wait_field alice objects 0
	# SVM cannot be accounted: refused under the quota (counted as a
	# memory_quota refusal), not refused without one.
	local before after
	before=$(refusal alice memory_quota)
	out=$(run_prog a.sock "$prog" svm) || fail "quota-opencl svm: $out"
	[ "$out" = "64 KiB SVM allocation: NULL" ] || fail "quota-opencl svm under a quota: $out"
	after=$(refusal alice memory_quota)
	[ "$after" = $((before + 1)) ] ||
		fail "quota-opencl svm: memory_quota refusals $before, then $after"
	start_router 'version: 1'
	out=$(run_prog a.sock "$prog" svm) || fail "quota-opencl svm without a quota: $out"
	[ "$(refusal alice memory_quota)" = 0 ] ||
		fail "quota-opencl svm: refused without a quota ($out)"
	# Without a quota images are made (the pipe is PoCL's own refusal).
	out=$(run_prog a.sock "$prog" kinds) || fail "quota-opencl kinds without a quota: $out"
	expect="768 KiB buffer: CL_SUCCESS
768 KiB buffer with properties: CL_SUCCESS
128 KiB buffer with properties: CL_SUCCESS
64x64 RGBA8 image: CL_SUCCESS
64x64 RGBA8 image with properties: CL_SUCCESS
16 x 16-byte pipe: CL_INVALID_OPERATION (no object)"
	[ "$out" = "$expect" ] || fail "quota-opencl kinds without a quota: got
$out
expected
$expect"
}

# cl-crash is built next to cl-spin.
scenario_crash-opencl() {
	# One server for both runs: servers: shared (the default gives each run its own).
	start_router 'version: 1
defaults:
  servers: shared'
	local crash=${spin%/*}/cl-crash pid pid2 n
	[ -x "$crash" ] || fail "crash-opencl: no $crash"
	out=$(run_prog a.sock "$crash" kill 2>&1)
	[ $? -eq 137 ] || fail "crash-opencl: expected death by SIGKILL (137): $out"
	echo "$out" | grep -q "^holding 11 objects" || fail "crash-opencl: $out"
	wait_field alice objects 0
	wait_field alice memory_used 0
	# The server logs what it released for the session (the 11 objects the
	# program created, and the device they were created on).
	for _ in $(seq 1 100); do
		n=$(sed -n 's/.*session 1 closed; released \([0-9]*\) objects.*/\1/p' "$work/router.log")
		[ -n "$n" ] && break
		sleep 0.1
	done
	[ -n "$n" ] && [ "$n" -ge 11 ] ||
		fail "crash-opencl: the server did not release the dead session's objects"
	pid=$(field_server alice)
	out=$(run_prog a.sock "$crash" clean 2>&1) || fail "crash-opencl: clean run after the crash: $out"
	echo "$out" | grep -q "^clean: sum" || fail "crash-opencl: $out"
	pid2=$(field_server alice)
	[ -n "$pid" ] && [ "$pid" = "$pid2" ] ||
		fail "crash-opencl: the API server changed ($pid, then $pid2): the crash took it down"
	wait_field alice objects 0
	# A program that releases everything itself leaves nothing to release.
	grep -q "session 2 closed; released" "$work/router.log" &&
		fail "crash-opencl: a clean session left objects behind"
	return 0
}

scenario_refuse() {
	start_router 'version: 1
defaults:
  call_rate: { rate: 20/s, burst: 5, over: refuse }'
	out=$(run a.sock calls 60) || fail "refuse: $out"
	ok=$(echo "$out" | sed -n 's/^ok \([0-9]*\) refused \([0-9]*\)$/\1/p')
	refused=$(echo "$out" | sed -n 's/^ok \([0-9]*\) refused \([0-9]*\)$/\2/p')
	[ -n "$ok" ] && [ "$refused" -gt 0 ] && [ "$ok" -ge 4 ] ||
		fail "refuse: expected refusals: $out"
	json=$("$avactl" --admin "$work/admin.sock" status --json)
	echo "$json" | grep "\"alice\"" | grep -q "\"call_rate\": $refused" ||
		fail "refuse: router did not count $refused call_rate refusals: $json"
}

scenario_delay() {
	start_router 'version: 1
defaults:
  call_rate: { rate: 200/s, burst: 1, over: delay }'
	out=$(run a.sock calls 40) || fail "delay: $out"
	[ "$out" = "ok 40 refused 0" ] || fail "delay: $out"
	delayed=$(field alice delayed)
	[ -n "$delayed" ] && [ "$delayed" -gt 0 ] || fail "delay: no call was delayed ($delayed)"
}

# share WA WB LOW HIGH [PROG ARGS...]: alice:bob device time ratio within
# [LOW, HIGH] (x100) while both run PROG ARGS (default: avatest-enforce busy).
share() {
	local wa=$1 wb=$2 low=$3 high=$4
	shift 4
	local load=("$@")
	[ ${#load[@]} -eq 0 ] && load=("$prog" busy 4 2000)
	start_router "version: 1
tenants:
  - name: alice
    match: { label: alice }
    weight: $wa
  - name: bob
    match: { label: bob }
    weight: $wb"
	run_prog a.sock "${load[@]}" >"$work/a.out" 2>&1 &
	local pa=$!
	run_prog b.sock "${load[@]}" >"$work/b.out" 2>&1 &
	local pb=$!
	sleep 1
	local a0 b0 a1 b1
	a0=$(field alice device_time_ns)
	b0=$(field bob device_time_ns)
	sleep 2
	a1=$(field alice device_time_ns)
	b1=$(field bob device_time_ns)
	wait $pa || fail "share: alice: $(cat "$work/a.out")"
	wait $pb || fail "share: bob: $(cat "$work/b.out")"
	local da=$((a1 - a0)) db=$((b1 - b0))
	[ "$db" -gt 0 ] || fail "share $wa:$wb: bob got no device time ($da vs $db)"
	local ratio=$((da * 100 / db))
	echo "share $wa:$wb: alice $da ns, bob $db ns, ratio x100 = $ratio"
	[ "$ratio" -ge "$low" ] && [ "$ratio" -le "$high" ] ||
		fail "share $wa:$wb: ratio x100 $ratio not in [$low, $high]"
}

scenario_share() {
	share 3 1 200 450
	share 1 1 60 165
}

# PoCL runs each kernel on the host CPUs, which the two API servers and the
# clients also share: wider bounds than for avatest_busy. cl-spin enqueues 8
# kernels per clFinish: the router's fair queue is work-conserving, so a
# tenant with one kernel in flight at a time (enqueue, clFinish, enqueue...)
# is never waiting in it when the slot frees and the two simply alternate
# (1:1 whatever the weights; bench/fairness shows it).
scenario_share-opencl() {
	share 3 1 180 450 "$spin" 4 4096 2048 8
	share 1 1 55 180 "$spin" 4 4096 2048 8
}

for s in "${scenarios[@]}"; do
	echo "--- $s"
	"scenario_$s"
done
stop_router
echo "test_enforce: all passed"
