#!/usr/bin/env bash
# The main job, for a newcomer: builds AvA into build/ and runs an unmodified
# program (avatest-demo, linked against libavatest.so.1) with its API calls
# remoted: ava-run swaps in the generated guest stub library, and with no
# router running starts its embedded default (a private router and the
# avatest API server), which executes the calls on the real library.
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

echo
echo "== running avatest-demo remoted: build/bin/ava-run --verbose -- build/bin/avatest-demo"
echo "   (lines starting 'ava-run:' and 'avarouterd:' show the remoting being set up;"
echo "    the rest is the program's own output, the same as a native run)"
echo
cd "$root"
exec build/bin/ava-run --verbose -- build/bin/avatest-demo
