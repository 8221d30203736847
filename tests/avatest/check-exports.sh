#!/usr/bin/env bash
# Fails unless a shared library's dynamic symbol table defines each +SYM and
# none of the -SYM (an ava_private function of the spec must not be exported;
# the +SYM make sure the table was read at all):
#
#   check-exports.sh LIB [+SYM | -SYM]...
set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 LIB [+SYM | -SYM]..." >&2
	exit 2
fi
lib=$1
shift
if ! command -v nm >/dev/null; then
	echo "skipped: nm is not installed" >&2
	exit 77
fi
if ! syms=$(nm -D --defined-only "$lib" | awk '{ print $NF }'); then
	echo "FAIL: nm -D cannot read $lib" >&2
	exit 1
fi
failed=0
for arg in "$@"; do
	sym=${arg#[+-]}
	if printf '%s\n' "$syms" | grep -qx -- "$sym"; then
		exported=1
	else
		exported=0
	fi
	case $arg in
	+*) [ $exported = 1 ] || { echo "FAIL: $lib does not export $sym" >&2; failed=1; } ;;
	-*) [ $exported = 0 ] || { echo "FAIL: $lib exports $sym" >&2; failed=1; } ;;
	*) echo "usage: $0 LIB [+SYM | -SYM]... ($arg)" >&2; exit 2 ;;
	esac
done
[ $failed = 0 ] && echo "$lib: exports as expected ($*)"
exit $failed
