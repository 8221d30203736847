#!/bin/sh
# pyopencl.sh MODE BUILD_DIR PROBE: pyopencl-demo.py natively and remoted
# (MODE: soname or icd), diffed by run-diff.sh. Skips (77) without Debian's
# python3-pyopencl.
mode=$1 build=$2 probe=$3
here=$(dirname "$0")
if ! /usr/bin/python3 -c 'import pyopencl' 2>/dev/null; then
	echo "skipped: python3-pyopencl is not installed (/usr/bin/python3 cannot import pyopencl)" >&2
	exit 77
fi
export PYOPENCL_CTX=0 PYOPENCL_NO_CACHE=1
case $mode in
icd) exec "$here/run-diff.sh" --icd --probe "$probe" "$build" "$here/pyopencl-demo.py" ;;
*) exec "$here/run-diff.sh" --probe "$probe" "$build" "$here/pyopencl-demo.py" ;;
esac
