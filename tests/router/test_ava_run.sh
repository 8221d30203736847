#!/usr/bin/env bash
# ava-run's contract (docs/router.md, "ava-run"): private router lifecycle,
# environment, exit status and signal forwarding, and errors that name what
# failed. Uses its own tiny API manifest, so it needs no generated code.
#
#   test_ava_run.sh AVA_RUN
set -u

ava_run=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/ava-run-test-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() {
	echo "test_ava_run: FAIL: $*" >&2
	exit 1
}

mkdir -p "$work/apis" "$work/guest/rtest" "$work/tmp" "$work/empty"
cat >"$work/apis/rtest.abi" <<'EOF'
ava-abi 2
api rtest
fn 0 rtest_add_one ret=scalar:4 args=scalar:4,buffer:out:bytes:4:max=1
EOF
: >"$work/guest/rtest/libava-guest-rtest.so"
ln -s libava-guest-rtest.so "$work/guest/rtest/librtest.so.1"
export AVA_GUEST_DIR=$work/guest AVA_API_DIR=$work/apis TMPDIR=$work/tmp
unset AVA_ROUTER_SOCKET LD_PRELOAD

# A private router is running for the application, with the socket exported,
# and the guest folder is first on LD_LIBRARY_PATH.
out=$("$ava_run" sh -c 'test -S "$AVA_ROUTER_SOCKET" && echo "sock=$AVA_ROUTER_SOCKET" &&
	echo "ld=$LD_LIBRARY_PATH"' 2>&1) || fail "app in private router: $out"
echo "$out" | grep -q "^sock=$work/tmp/ava-run-" || fail "AVA_ROUTER_SOCKET not private: $out"
echo "$out" | grep -q "^ld=$work/guest/rtest" || fail "LD_LIBRARY_PATH: $out"
[ -z "$(ls -A "$work/tmp")" ] || fail "private router folder left behind: $(ls "$work/tmp")"

# --preload puts the guest library into LD_PRELOAD instead (checked with env, not loaded).
out=$("$ava_run" --preload sh -c 'echo "pre=$LD_PRELOAD"' 2>&1)
echo "$out" | grep -q "pre=$work/guest/rtest/libava-guest-rtest.so" || fail "LD_PRELOAD: $out"

# Exit status passes through; a signal becomes 128+N with a message.
"$ava_run" sh -c 'exit 7' 2>/dev/null
[ $? -eq 7 ] || fail "exit status not passed through"
out=$("$ava_run" sh -c 'kill -KILL $$' 2>&1)
rc=$?
[ $rc -eq 137 ] || fail "killed app: status $rc, want 137"
echo "$out" | grep -q "killed by signal 9" || fail "no signal message: $out"

# SIGTERM to ava-run reaches the application; the private router is cleaned up.
"$ava_run" sleep 30 2>/dev/null &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 143 ] || fail "SIGTERM forwarding: status $rc, want 143"
[ -z "$(ls -A "$work/tmp")" ] || fail "private router folder left behind after SIGTERM"

# --router is used as given, and no private router is started.
out=$("$ava_run" --router /nonexistent/router.sock sh -c 'echo "sock=$AVA_ROUTER_SOCKET"' 2>&1)
echo "$out" | grep -q "^sock=/nonexistent/router.sock$" || fail "--router: $out"

# Errors name what failed.
out=$(AVA_API_DIR=$work/empty "$ava_run" true 2>&1)
[ $? -eq 1 ] || fail "empty API folder should fail"
echo "$out" | grep -q "no API manifests in $work/empty" || fail "message: $out"
out=$(AVA_GUEST_DIR=$work/empty "$ava_run" true 2>&1)
[ $? -eq 1 ] || fail "empty guest folder should fail"
echo "$out" | grep -q "no guest libraries in $work/empty" || fail "message: $out"
echo 'ava-abi 2' >"$work/empty/broken.abi"
out=$(AVA_API_DIR=$work/empty "$ava_run" true 2>&1)
[ $? -eq 1 ] || fail "broken manifest should fail"
echo "$out" | grep -q "private router .* failed to start" || fail "message: $out"
echo "$out" | grep -q "no API manifests" || fail "router log not shown: $out"
out=$("$ava_run" /nonexistent/app 2>&1)
[ $? -eq 127 ] || fail "missing app should give 127"
echo "$out" | grep -q "cannot run /nonexistent/app" || fail "message: $out"
[ -z "$(ls -A "$work/tmp")" ] || fail "private router folder left behind after errors"

echo "test_ava_run: ok"
