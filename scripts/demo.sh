#!/usr/bin/env bash
# The main job, for a newcomer: builds AvA into build/ and runs unmodified
# programs with their API calls remoted: ava-run puts the generated guest
# library in front (for OpenCL through the system ICD loader, which loads it
# as its only driver), and with no router running starts its embedded default
# (a private router and the API server), which executes the calls on the real
# library. First a real OpenCL program (cl-vecadd, linked against the system's
# libOpenCL.so.1) on PoCL, then clinfo's platform list (through the loader,
# then with the guest library in the loader's place), then avatest-demo,
# which exercises every remoting feature on the project's own test API.
#
#   scripts/demo.sh            (after: sudo scripts/install-deps.sh)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build
jobs=$(nproc 2>/dev/null || echo 2)

gen=()
[ -f "$build/CMakeCache.txt" ] || gen=(-G Ninja -DCMAKE_C_COMPILER=gcc)
echo "== building AvA into $build"
cmake -S "$root" -B "$build" "${gen[@]}" >/dev/null
cmake --build "$build" --parallel "$jobs"

for f in bin/ava-run bin/avatest-demo lib/ava/apis/ava-server-avatest; do
	if [ ! -x "$build/$f" ]; then
		echo "demo.sh: $build/$f was not built; the remoting stack is incomplete" >&2
		exit 1
	fi
done

cd "$root"
if [ -x "$build/lib/ava/apis/ava-server-opencl" ] && [ -x "$build/bin/cl-vecadd" ]; then
	echo
	echo "== running an OpenCL program remoted: build/bin/ava-run --verbose -- build/bin/cl-vecadd"
	echo "   (its OpenCL calls run in the API server on PoCL, the CPU OpenCL device)"
	echo
	build/bin/ava-run --verbose -- build/bin/cl-vecadd
	if command -v clinfo >/dev/null; then
		echo
		echo "== clinfo -l remoted: build/bin/ava-run -- clinfo -l"
		echo "   (the system ICD loader, ocl-icd, loads the AvA guest library as its"
		echo "    only ICD, from build/etc/OpenCL/vendors: only the remote platform is visible)"
		build/bin/ava-run -- clinfo -l
		echo
		echo "== clinfo -l by soname: build/bin/ava-run --soname -- clinfo -l"
		echo "   (the guest library stands in for libOpenCL.so.1 itself)"
		build/bin/ava-run --soname -- clinfo -l
	fi
else
	echo
	echo "demo.sh: the OpenCL API was not built (no OpenCL headers or library); skipping it" >&2
fi

echo
echo "== running avatest-demo remoted: build/bin/ava-run --verbose -- build/bin/avatest-demo"
echo "   (lines starting 'ava-run:' and 'avarouterd:' show the remoting being set up;"
echo "    the rest is the program's own output, the same as a native run)"
echo
exec build/bin/ava-run --verbose -- build/bin/avatest-demo
