#!/usr/bin/env bash
# ava-run's ways in (guestlib/ava-run.c, docs/router.md "ava-run"):
#  1. with no flag, OpenCL goes through the system ICD loader (OCL_ICD_VENDORS
#     names the build's vendors folder, the OpenCL guest folder is not on
#     LD_LIBRARY_PATH) and the other APIs by soname; --soname and
#     AVA_RUN_ROUTE=soname put every guest folder on LD_LIBRARY_PATH instead;
#     an unknown AVA_RUN_ROUTE is an error; OCL_ICD_FILENAMES (native drivers
#     beside the AvA ICD) is unset for the application, saying so;
#  2. a program that dlopens "libOpenCL.so", run with no flag, is remoted: it
#     fails natively with --expect-remote, passes through ava-run, and the
#     private router's log shows its OpenCL session;
#  3. what no route can catch is refused with a message, and not run: a static
#     program, a script whose interpreter is static, a set-user-ID program (as
#     root, on a file system that honours set-user-ID); --allow-native runs it,
#     with the message.
#
#   ava-run-ways.sh BUILD_DIR CC CL_DLOPEN_DEV
# Exit 77 (skipped, with the reason) when the OpenCL guest library, its server
# or ICD registration is not built, or there is no OpenCL device natively.
set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 BUILD_DIR CC CL_DLOPEN_DEV" >&2
	exit 2
fi
build=$(cd "$1" && pwd) cc=$2 dev=$3
ava_run=$build/bin/ava-run
guest=$build/lib/ava/guest/opencl
for need in "$ava_run" "$build/lib/ava/apis/ava-server-opencl" "$guest/libava-guest-opencl.so" \
	"$build/etc/OpenCL/vendors/ava-opencl.icd"; do
	if [ ! -e "$need" ]; then
		echo "skipped: $need is not built" >&2
		exit 77
	fi
done
vendors=$(cd "$build/etc/OpenCL/vendors" && pwd -P)
guest=$(cd "$guest" && pwd -P)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ava-run-ways.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
unset AVA_ROUTER_SOCKET AVA_RUN_ROUTE OCL_ICD_VENDORS OCL_ICD_FILENAMES
show_env='printf "icd=%s\nld=%s\nfilenames=%s\n" "${OCL_ICD_VENDORS-}" "${LD_LIBRARY_PATH-}" "${OCL_ICD_FILENAMES-unset}"'

# 1. Routes.
out=$("$ava_run" --verbose -- sh -c "$show_env" 2>"$tmp/err") || fail "ava-run -- sh: $(cat "$tmp/err")"
if grep -q "is no ICD loader" "$tmp/err"; then
	echo "note: the system libOpenCL.so.1 is no ICD loader; the default used the soname route:"
	grep "is no ICD loader" "$tmp/err"
	echo "$out" | grep -q "^ld=.*$guest" || fail "no ICD loader, and OpenCL not by soname: $out"
else
	echo "$out" | grep -qx "icd=$vendors" || fail "default route: OCL_ICD_VENDORS is not $vendors: $out"
	echo "$out" | grep "^ld=" | grep -qF "$guest" &&
		fail "default route: the OpenCL guest folder is on LD_LIBRARY_PATH: $out"
fi
for how in --soname env; do
	if [ $how = env ]; then
		out=$(AVA_RUN_ROUTE=soname "$ava_run" -- sh -c "$show_env" 2>&1)
	else
		out=$("$ava_run" --soname -- sh -c "$show_env" 2>&1)
	fi
	echo "$out" | grep -qx "icd=" || fail "soname route ($how) set OCL_ICD_VENDORS: $out"
	echo "$out" | grep "^ld=" | grep -qF "$guest" ||
		fail "soname route ($how): the OpenCL guest folder is not on LD_LIBRARY_PATH: $out"
done
[ -e "$guest/libOpenCL.so" ] || fail "$guest has no libOpenCL.so link (soname route for dlopen)"
out=$(AVA_RUN_ROUTE=nonsense "$ava_run" -- true 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "AVA_RUN_ROUTE=nonsense: exit $rc, want 2"
echo "$out" | grep -q "AVA_RUN_ROUTE=nonsense is no route" || fail "AVA_RUN_ROUTE message: $out"
out=$(OCL_ICD_FILENAMES=/nonexistent/libvendor.so "$ava_run" --icd -- sh -c "$show_env" 2>&1)
echo "$out" | grep -qx "filenames=unset" || fail "OCL_ICD_FILENAMES reached the application: $out"
echo "$out" | grep -q "unsetting OCL_ICD_FILENAMES=/nonexistent/libvendor.so" ||
	fail "OCL_ICD_FILENAMES unset without a word: $out"
echo "routes: ok"

# 2. dlopen("libOpenCL.so"), no flag.
"$dev" --expect-remote >"$tmp/native.out" 2>"$tmp/native.err"
rc=$?
if [ $rc -eq 77 ]; then
	echo "skipped: $(cat "$tmp/native.err")" >&2
	exit 77
fi
[ $rc -eq 1 ] || fail "$(basename "$dev") --expect-remote natively: exit $rc, want 1 (it must not pass natively)"
timeout -k 5 120 "$ava_run" --verbose -- "$dev" --expect-remote >"$tmp/remote.out" 2>"$tmp/remote.err"
rc=$?
[ $rc -eq 0 ] || fail "ava-run -- $(basename "$dev") --expect-remote: exit $rc: $(cat "$tmp/remote.err")"
grep -Eq '^avarouterd: .*session [0-9]+ \(api opencl\): open' "$tmp/remote.err" ||
	fail "the router's log shows no OpenCL session: $(cat "$tmp/remote.err")"
echo "dlopen(libOpenCL.so) with no flag: remoted, the router served its session"

# 3. What no route can catch.
cat >"$tmp/marker.c" <<'EOF'
#include <stdio.h>
int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "w") : NULL;
	return f && fclose(f) == 0 ? 0 : 3;
}
EOF
if "$cc" -static -o "$tmp/static" "$tmp/marker.c" 2>"$tmp/cc.err"; then
	out=$("$ava_run" -- "$tmp/static" "$tmp/ran" 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "static program: exit $rc, want 1: $out"
	[ -e "$tmp/ran" ] && fail "static program: refused, yet it ran"
	echo "$out" | grep -q "cannot remote .*: it is statically linked" || fail "static message: $out"
	out=$("$ava_run" --allow-native -- "$tmp/static" "$tmp/ran" 2>&1) ||
		fail "static program with --allow-native: $out"
	[ -e "$tmp/ran" ] || fail "static program with --allow-native did not run"
	echo "$out" | grep -q "cannot remote .*: it is statically linked" ||
		fail "--allow-native ran it without a word: $out"
	rm -f "$tmp/ran"
	printf '#!%s\n' "$tmp/static" >"$tmp/script"
	chmod +x "$tmp/script"
	out=$("$ava_run" -- "$tmp/script" "$tmp/ran" 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "script with a static interpreter: exit $rc, want 1: $out"
	echo "$out" | grep -q "its interpreter $tmp/static is statically linked" ||
		fail "script message: $out"
	echo "static program and script: refused, with the reason"
else
	echo "note: $cc -static fails here (no static libc?); static cases not checked:"
	cat "$tmp/cc.err"
fi
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 &&
	! findmnt -no OPTIONS -T "$tmp" 2>/dev/null | grep -qw nosuid; then
	"$cc" -o "$tmp/suid" "$tmp/marker.c" || fail "cannot build the set-user-ID probe"
	chmod 755 "$tmp"
	chown nobody "$tmp/suid" && chmod 4755 "$tmp/suid" || fail "cannot make $tmp/suid set-user-ID"
	out=$("$ava_run" -- "$tmp/suid" "$tmp/ran" 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "set-user-ID program: exit $rc, want 1: $out"
	[ -e "$tmp/ran" ] && fail "set-user-ID program: refused, yet it ran"
	echo "$out" | grep -q "cannot remote .*: it is set-user-ID" || fail "set-user-ID message: $out"
	echo "set-user-ID program: refused, with the reason"
else
	echo "note: not root or $tmp is nosuid; the set-user-ID case is not checked"
fi
echo "ava-run-ways: ok"
exit 0
