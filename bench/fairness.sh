#!/usr/bin/env bash
# bench/fairness: what the router's policy enforcement (hv-router/enforce.c)
# gives tenants that share a device, measured end to end through avarouterd,
# ava-run and `avactl status --json`.
#
#   fairness.sh BUILD_DIR [--smoke] [--window SECONDS] [--no-opencl]
#
# (a) shares: 2 tenants (weights 1:1, 3:1) and 4 tenants (1:1:1:1, 1:2:3:4),
#     each running avatest_busy(dev, 2000) in a loop (and, when the OpenCL API
#     server and a device are there, cl-spin: 8 kernels + clFinish in a loop,
#     and 3:1 with 1 kernel + clFinish, which the work-conserving fair queue
#     cannot weight: the tenant is never waiting in it when the slot frees;
#     the same shown without PoCL by avatest_busy + avatest_sync, 3:1).
#     device_time_ns is sampled for every tenant at two instants while all are
#     backlogged; per tenant: its share of the device time in the window, the
#     ideal weight share, the relative error; per run: Jain's fairness index of
#     share/ideal (1 = exactly proportional) and how busy the device was.
# (b) flood isolation: tenant B times avatest_null calls alone (the baseline,
#     same router), then while tenant A floods (threads hammering avatest_null
#     and avatest_busy). Once with the built-in policy (no --policy), once with
#     A call-rate limited (over: delay) and B weighted 4. Prints B's p99 (and
#     p50) with the flood over the baseline.
#
# --smoke: one 2-tenant share and a short flood, a few seconds: only checks that
# the benchmark works. Exits 77 (skipped) when ava-run, avarouterd, avactl, the
# avatest API server or the client is not built; 1 if a step fails.
set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [--smoke] [--window SECONDS] [--no-opencl]" >&2
	exit 2
fi
build=$1
shift
smoke=0 window=3 opencl=1
while [ $# -gt 0 ]; do
	case $1 in
	--smoke)
		smoke=1
		shift
		;;
	--window)
		window=$2
		shift 2
		;;
	--no-opencl)
		opencl=0
		shift
		;;
	*)
		echo "fairness.sh: unknown argument '$1'" >&2
		exit 2
		;;
	esac
done

bin=$build/bin
api_dir=$build/lib/ava/apis
client=$bin/bench-fairness-client
spin=$bin/cl-spin
for need in "$bin/avarouterd" "$bin/avactl" "$bin/ava-run" "$api_dir/ava-server-avatest" \
	"$client"; do
	if [ ! -x "$need" ]; then
		echo "skipped: $need is not built" >&2
		exit 77
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ava-fairness-XXXXXX") || exit 1
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
	echo "fairness.sh: FAIL: $*" >&2
	[ -f "$work/router.log" ] && tail -n 20 "$work/router.log" | sed 's/^/  router: /' >&2
	exit 1
}

# start_router N [POLICY-TEXT]: a router listening on $work/tI.sock (label tI)
# for I = 1..N; with no POLICY-TEXT, the built-in policy (no --policy).
start_router() {
	local n=$1 policy=${2-} i line
	local args=(--api-dir "$api_dir")
	stop_router
	rm -f "$work"/*.sock "$work/ready"
	for i in $(seq 1 "$n"); do
		args+=(--listen "$work/t$i.sock=t$i")
	done
	if [ -n "$policy" ]; then
		printf '%s\n' "$policy" >"$work/policy.yaml"
		args+=(--policy "$work/policy.yaml")
	fi
	mkfifo "$work/ready"
	"$bin/avarouterd" "${args[@]}" --ready-fd 3 3>"$work/ready" 2>"$work/router.log" &
	router_pid=$!
	read -r line <"$work/ready" || fail "router did not start"
	[ "$line" = ready ] || fail "router said '$line'"
}

# run I PROG ARGS...: PROG remoted through the router as tenant tI.
run() {
	local i=$1
	shift
	AVA_ROUTER_SOCKET= timeout -k 10 120 "$bin/ava-run" --router "$work/t$i.sock" -- "$@"
}

# sample FILE: "NAME DEVICE_TIME_NS" per tenant, from one status snapshot.
sample() {
	"$bin/avactl" --admin "$work/admin.sock" status --json >"$work/status.json" ||
		fail "avactl status: $(cat "$work/status.json")"
	sed -n 's/.*{"name": "\([^"]*\)".*"device_time_ns": \([0-9]*\).*/\1 \2/p' \
		"$work/status.json" >"$1"
}

# share KIND WEIGHT...: KIND avatest, avatest:sync (avatest_sync after every
# call) or opencl:BATCH (cl-spin, BATCH kernels per clFinish); one tenant per
# weight, all busy.
share() {
	local kind=${1%%:*} batch=${1#*:}
	shift
	local weights=("$@") n=$# i policy warm=1 tail=1
	[ $smoke -eq 1 ] && warm=0.3
	local run_s
	run_s=$(awk -v a="$warm" -v b="$window" -v c="$tail" 'BEGIN { print a + b + c }')
	policy="version: 1
tenants:"
	for i in $(seq 1 "$n"); do
		policy="$policy
  - name: t$i
    match: { label: t$i }
    weight: ${weights[$((i - 1))]}"
	done
	start_router "$n" "$policy"
	local pids=()
	for i in $(seq 1 "$n"); do
		if [ "$kind" = opencl ]; then
			run "$i" "$spin" "$run_s" 4096 2048 "$batch" >"$work/c$i.out" 2>&1 &
		else
			local mode=busy
			[ "$batch" = sync ] && mode=busy-sync
			run "$i" "$client" "$mode" "$run_s" 2000 >"$work/c$i.out" 2>&1 &
		fi
		pids+=($!)
	done
	sleep "$warm"
	local t0 t1
	t0=$(date +%s%N)
	sample "$work/s0"
	sleep "$window"
	t1=$(date +%s%N)
	sample "$work/s1"
	for i in $(seq 1 "$n"); do
		wait "${pids[$((i - 1))]}" || fail "share $kind: tenant t$i: $(cat "$work/c$i.out")"
	done
	stop_router
	local label="avatest_busy(dev, 2000 us)"
	[ "$kind" = avatest ] && [ "$batch" = sync ] &&
		label="avatest_busy(dev, 2000 us) + avatest_sync each call"
	[ "$kind" = opencl ] && label="OpenCL on PoCL: cl-spin, $batch kernel(s) + clFinish"
	local wl
	wl=$(
		IFS=:
		echo "${weights[*]}"
	)
	echo
	echo "share: $label, $n tenants, weights $wl, window $window s"
	awk -v weights="${weights[*]}" -v wall_ns=$((t1 - t0)) '
		FNR == NR { before[$1] = $2; next }
		{ after[$1] = $2 }
		END {
			n = split(weights, w, " ")
			for (i = 1; i <= n; i++) {
				name = "t" i
				if (!(name in after) || !(name in before)) {
					printf "  tenant %s missing from avactl status\n", name
					exit 1
				}
				d[i] = after[name] - before[name]
				total += d[i]
				wsum += w[i]
			}
			if (total <= 0) { print "  no device time in the window"; exit 1 }
			printf "  %-6s %6s %12s %8s %8s %8s\n", "tenant", "weight", "device_ms",
			       "share%", "ideal%", "error%"
			for (i = 1; i <= n; i++) {
				s = d[i] / total
				ideal = w[i] / wsum
				x[i] = s / ideal
				err = 100 * (s - ideal) / ideal
				if (err < 0 ? -err > maxerr : err > maxerr)
					maxerr = err < 0 ? -err : err
				printf "  t%-5d %6d %12.1f %8.1f %8.1f %+8.1f\n", i, w[i], d[i] / 1e6,
				       100 * s, 100 * ideal, err
				sx += x[i]
				sxx += x[i] * x[i]
			}
			printf "  Jain index of share/ideal: %.4f   max |error|: %.1f %%   " \
			       "device busy: %.0f %% of the window\n", sx * sx / (n * sxx), maxerr,
			       100 * total / wall_ns
		}' "$work/s0" "$work/s1" || fail "share $kind $wl: $(cat "$work/status.json")"
}

# flood LABEL [POLICY-TEXT]: B's avatest_null latency alone, then while A floods.
flood() {
	local label=$1 policy=${2-} calls=3000 flood_s=5 threads=8
	if [ $smoke -eq 1 ]; then
		calls=200 flood_s=1.5 threads=4
	fi
	start_router 2 "$policy"
	# t1 is A (the flood), t2 is B (latency). B's session warms up first.
	run 2 "$client" latency 100 5 >/dev/null 2>"$work/b.err" || fail "flood $label: $(cat "$work/b.err")"
	local alone with
	alone=$(run 2 "$client" latency "$calls" 10 2>"$work/b.err") ||
		fail "flood $label: B alone: $(cat "$work/b.err")"
	run 1 "$client" flood "$flood_s" "$threads" 2000 >"$work/a.out" 2>&1 &
	local pa=$!
	sleep 0.5
	local left
	left=$(awk -v f="$flood_s" 'BEGIN { print f - 1 }')
	with=$(run 2 "$client" latency "$calls" "$left" 2>"$work/b.err") ||
		fail "flood $label: B with flood: $(cat "$work/b.err")"
	wait $pa || fail "flood $label: A: $(cat "$work/a.out")"
	local delayed
	"$bin/avactl" --admin "$work/admin.sock" status --json >"$work/status.json"
	delayed=$(sed -n 's/.*{"name": "t1".*"delayed": \([0-9]*\).*/\1/p' "$work/status.json")
	stop_router
	echo "  policy $label: A ($threads threads): $(cat "$work/a.out"), delayed ${delayed:-?}"
	echo "$alone" "$with" | awk -v label="$label" '{
		# latency n N p50_ns X p99_ns Y (alone) then the same with the flood
		printf "    B alone: n %d p50 %.1f us p99 %.1f us; with flood: n %d p50 %.1f us " \
		       "p99 %.1f us\n", $3, $5 / 1e3, $7 / 1e3, $10, $12 / 1e3, $14 / 1e3
		printf "    B p99 with flood / alone = %.2f   p50 with flood / alone = %.2f\n",
		       $14 / $7, $12 / $5
	}'
}

echo "bench/fairness: $(nproc) CPUs; device-time calls through the router's fair queue" \
	"(max_inflight 1)"
if [ $smoke -eq 1 ]; then
	window=0.7
	share avatest 3 1
else
	share avatest 1 1
	share avatest 3 1
	share avatest 1 1 1 1
	share avatest 1 2 3 4
	# One call in flight per tenant: never queued when the slot frees.
	share avatest:sync 3 1
	if [ $opencl -eq 1 ]; then
		if [ ! -x "$spin" ] || [ ! -x "$api_dir/ava-server-opencl" ]; then
			echo
			echo "share: OpenCL skipped (cl-spin or the OpenCL API server is not built)"
		elif ! "$spin" 0.01 >/dev/null 2>&1; then
			echo
			echo "share: OpenCL skipped (cl-spin finds no OpenCL device natively)"
		else
			share opencl:8 1 1
			share opencl:8 3 1
			share opencl:8 1 2 3 4
			# One kernel in flight per tenant: never queued when the slot frees.
			share opencl:1 3 1
		fi
	fi
fi

echo
echo "flood: B = avatest_null one at a time; A = threads on avatest_null and avatest_busy"
flood "off (built-in)"
flood "on (A: 500 calls/s, delay; B weight 4)" 'version: 1
tenants:
  - name: t1
    match: { label: t1 }
    weight: 1
    call_rate: { rate: 500/s, burst: 50, over: delay }
  - name: t2
    match: { label: t2 }
    weight: 4'
echo
echo "bench/fairness: done"
