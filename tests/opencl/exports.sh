#!/bin/sh
# exports.sh SYSTEM_LIB GUEST_LIB: the guest library exports every function
# the system's libOpenCL.so.1 (the ICD loader) does, so that a program linked
# against any of them loads through the soname route. Skips (77) without nm
# or the system library.
sys=$1 guest=$2
command -v nm >/dev/null 2>&1 || { echo "skipped: no nm" >&2; exit 77; }
[ -e "$sys" ] || { echo "skipped: no system library $sys" >&2; exit 77; }
[ -e "$guest" ] || { echo "skipped: the guest library is not built ($guest)" >&2; exit 77; }
syms() { nm -D --defined-only "$1" | awk '$2 == "T" || $2 == "W" { sub(/@.*/, "", $3); print $3 }' | sort -u; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ava-exports.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
syms "$sys" >"$tmp/sys"
syms "$guest" >"$tmp/guest"
missing=$(comm -23 "$tmp/sys" "$tmp/guest")
if [ -n "$missing" ]; then
	echo "FAIL: the guest library does not export what $sys does:" >&2
	echo "$missing" >&2
	exit 1
fi
echo "exports.sh: $(wc -l <"$tmp/sys") functions of $sys, all exported by the guest library"
