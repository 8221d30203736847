#!/usr/bin/env bash
# The API server's environment comes from the router, not from the
# application (docs/router.md, "The server's environment").
#
#   server-env.sh BUILD_DIR PROBE
#
# PROBE is cl-probe: `cl-probe --expect-remote` exits 0 only when it finds a
# platform and runs on the AvA guest library. Each case runs it remoted with
# OCL_ICD_VENDORS already pointing at the AvA ICD's folder in the caller's
# environment (as after `export OCL_ICD_VENDORS=...` for an earlier ava-run
# --icd): inherited by the server, that made the server's own ICD loader load
# the guest library instead of PoCL, and the application found no platform.
#   1. ava-run (default route, private router)
#   2. ava-run with AVA_RUN_ROUTE=soname (private router)
#   3. a router started from that environment itself, ava-run --router
#   4. AVA_SERVER_ENV_OCL_ICD_VENDORS=<empty folder> on that router's command
#      line does reach the server: its loader finds no platform, so the
#      remoted probe finds none (exit 77).
# Exit 77 (skipped), with the reason, when the pieces are not built or there
# is no OpenCL device natively.
set -u

[ $# -eq 2 ] || {
	echo "usage: $0 BUILD_DIR PROBE" >&2
	exit 2
}
build=$1 probe=$2
ava_run=$build/bin/ava-run
router=$build/bin/avarouterd
api_dir=$build/lib/ava/apis
vendors=$build/etc/OpenCL/vendors
for need in "$ava_run" "$router" "$api_dir/ava-server-opencl" "$vendors/ava-opencl.icd" "$probe"; do
	if [ ! -e "$need" ]; then
		echo "skipped: $need is not built" >&2
		exit 77
	fi
done
if ! timeout -k 5 30 env -u OCL_ICD_VENDORS "$probe" 2>/dev/null; then
	echo "skipped: no OpenCL device natively" >&2
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ava-server-env.XXXXXX") || exit 1
router_pid=
stop_router() {
	if [ -n "$router_pid" ]; then
		kill "$router_pid" 2>/dev/null
		wait "$router_pid" 2>/dev/null
		router_pid=
	fi
}
trap 'stop_router; rm -rf "$work"' EXIT
fail=0

# start_router NAME ENV...: a router with ENV added to this environment.
start_router() {
	local name=$1
	shift
	rm -f "$work/ready"
	mkfifo "$work/ready"
	env "$@" "$router" --api-dir "$api_dir" --listen "$work/$name.sock" --ready-fd 3 \
		3>"$work/ready" 2>"$work/$name.log" &
	router_pid=$!
	local line=
	read -r line <"$work/ready"
	if [ "$line" != ready ]; then
		echo "FAIL: the router ($name) did not start:" >&2
		cat "$work/$name.log" >&2
		exit 1
	fi
}

# expect RC WHAT COMMAND...: runs COMMAND with the AvA ICD's folder in OCL_ICD_VENDORS.
expect() {
	local want=$1 what=$2
	shift 2
	OCL_ICD_VENDORS=$vendors AVA_ROUTER_SOCKET= timeout -k 5 60 "$@" >"$work/out" 2>&1
	local rc=$?
	if [ $rc -ne "$want" ]; then
		echo "FAIL: $what: exit $rc, expected $want:" >&2
		sed 's/^/  | /' "$work/out" >&2
		fail=1
	else
		echo "ok: $what (exit $rc): $(tail -n 1 "$work/out")"
	fi
}

expect 0 "ava-run (default route) with OCL_ICD_VENDORS=$vendors" \
	"$ava_run" -- "$probe" --expect-remote
expect 0 "ava-run (soname route) with OCL_ICD_VENDORS=$vendors" \
	env AVA_RUN_ROUTE=soname "$ava_run" -- "$probe" --expect-remote

start_router inherit OCL_ICD_VENDORS="$vendors" OCL_ICD_FILENAMES="$build/lib/ava/guest/opencl/libOpenCL.so.1"
expect 0 "a router started with OCL_ICD_VENDORS=$vendors" \
	"$ava_run" --router "$work/inherit.sock" -- "$probe" --expect-remote
stop_router

mkdir "$work/no-vendors"
start_router deliberate AVA_SERVER_ENV_OCL_ICD_VENDORS="$work/no-vendors"
expect 77 "AVA_SERVER_ENV_OCL_ICD_VENDORS=<empty folder> reaches the server" \
	"$ava_run" --router "$work/deliberate.sock" -- "$probe" --expect-remote
stop_router
exit $fail
