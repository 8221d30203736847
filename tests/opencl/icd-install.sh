#!/usr/bin/env bash
# cmake --install with DESTDIR: the OpenCL guest library is installed, the
# system registration (<vendors>/ava-opencl.icd) and ava-run's private vendors
# folder name the installed library, and the installed tree runs a program
# through the ICD route.
#
#   icd-install.sh BUILD_DIR
set -u

[ $# -eq 1 ] || {
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
}
build=$1
if [ ! -e "$build/etc/OpenCL/vendors/ava-opencl.icd" ]; then
	echo "skipped: the OpenCL guest library is not built" >&2
	exit 77
fi
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
vendors=$(sed -n 's/^AVA_OPENCL_VENDORS_DIR:PATH=//p' "$build/CMakeCache.txt")
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build/CMakeCache.txt")
datadir=$(sed -n 's/^CMAKE_INSTALL_DATADIR:PATH=//p' "$build/CMakeCache.txt")
datadir=${datadir:-$(sed -n 's/^CMAKE_INSTALL_DATAROOTDIR:PATH=//p' "$build/CMakeCache.txt")}
datadir=${datadir:-share}
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
case $datadir in /*) ;; *) datadir=$prefix/$datadir ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/icd-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
if ! DESTDIR=$dest cmake --install "$build" >"$tmp/install.log" 2>&1; then
	echo "FAIL: DESTDIR=$dest cmake --install $build:" >&2
	cat "$tmp/install.log" >&2
	exit 1
fi
fail=0
lib=$libdir/ava/guest/opencl/libava-guest-opencl.so
if [ ! -f "$dest$lib" ]; then
	echo "FAIL: $dest$lib was not installed" >&2
	fail=1
fi
for icd in "$vendors/ava-opencl.icd" "$datadir/ava/OpenCL/vendors/ava-opencl.icd"; do
	if [ ! -f "$dest$icd" ]; then
		echo "FAIL: $dest$icd was not written (DESTDIR ignored?)" >&2
		fail=1
	elif [ "$(cat "$dest$icd")" != "$lib" ]; then
		echo "FAIL: $icd names '$(cat "$dest$icd")', not the installed $lib" >&2
		fail=1
	else
		echo "$icd -> $lib"
	fi
done
[ $fail -eq 0 ] || exit 1

# The installed tree at work: its ava-run --icd, with a vendors folder that
# names the library where DESTDIR put it.
probe=$build/bin/cl-probe
if [ ! -x "$probe" ] || ! timeout -k 5 30 "$probe" 2>/dev/null; then
	echo "installed; no OpenCL device to run the installed tree on (not run)"
	exit 0
fi
mkdir "$tmp/vendors"
echo "$dest$lib" >"$tmp/vendors/ava-opencl.icd"
if ! AVA_ICD_VENDORS=$tmp/vendors timeout -k 5 60 "$dest$prefix/bin/ava-run" --icd -- \
	"$probe" --expect-remote >"$tmp/run.log" 2>&1; then
	echo "FAIL: the installed ava-run --icd did not remote cl-probe:" >&2
	cat "$tmp/run.log" >&2
	exit 1
fi
echo "the installed ava-run --icd remotes cl-probe through the installed ICD"
exit 0
