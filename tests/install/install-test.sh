#!/usr/bin/env bash
# The install, as a project outside this tree uses it:
#  1. DESTDIR=<tmp>/stage cmake --install BUILD_DIR;
#  2. the staged CMake package and pkg-config files name nothing in the source
#     or build tree;
#  3. the avatest API (spec/avatest.spec, tests/avatest/avatest.c and its two
#     programs, copied with tests/install/project/CMakeLists.txt into a temp
#     folder) configures with find_package(ava) pointed at the staged prefix
#     only, builds (its ava_add_api() runs the staged avagen on the staged
#     spec.h), and its abi-avatest test passes;
#  4. the same spec compiles and links by hand with pkg-config's flags
#     (ava-guest, ava-server);
#  5. the staged ava-run, with the staged avarouterd, runs the out-of-tree
#     avatest-demo remoted (stdout identical to native) and avatest-remote-only
#     (which fails unless the calls reach the out-of-tree API server).
#
#   install-test.sh BUILD_DIR SOURCE_DIR CC
# Exit 77 (skipped, with the reason) when $AVA_INSTALL_TEST_SKIP says why.
set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 BUILD_DIR SOURCE_DIR CC" >&2
	exit 2
fi
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) cc=$3
if [ -n "${AVA_INSTALL_TEST_SKIP:-}" ]; then
	echo "skipped: $AVA_INSTALL_TEST_SKIP" >&2
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ava-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
# run LOG CMD...: runs CMD with its output in LOG, shown only when it fails.
run() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		echo "FAIL: $*:" >&2
		cat "$log" >&2
		exit 1
	fi
}

# 1. The staged install.
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
stage=$tmp/stage
run "$tmp/install.log" env DESTDIR="$stage" cmake --install "$build"
p=$stage$prefix
for f in bin/avagen bin/avarouterd bin/avactl bin/ava-run include/ava/spec.h \
	include/ava/guestlib.h include/ava/apiserver.h; do
	[ -e "$p/$f" ] || fail "cmake --install did not install $prefix/$f"
done
cmake_dir=$(dirname "$(find "$p" -name avaConfig.cmake -print -quit)")
[ -f "$cmake_dir/avaConfig.cmake" ] || fail "no avaConfig.cmake under $p"
pc_dir=$(dirname "$(find "$p" -name ava.pc -print -quit)")
[ -f "$pc_dir/ava.pc" ] || fail "no ava.pc under $p"

# 2. Nothing installed points back into this tree.
if grep -rlF -e "$src" -e "$build" "$cmake_dir" "$pc_dir"; then
	fail "the installed CMake package or pkg-config files above name $src or $build"
fi

# 3. The out-of-tree project on find_package(ava).
proj=$tmp/avatest-outside
mkdir -p "$proj/spec"
cp "$src/spec/avatest.spec" "$src/spec/avatest.abi" "$proj/spec/" &&
	cp "$src/tests/install/project/CMakeLists.txt" "$src/tests/avatest/avatest.c" "$src/tests/avatest/avatest.h" \
	"$src/tests/avatest/avatest-icd.h" "$src/tests/avatest/avatest-wire.h" "$src/tests/avatest/avatest.map" \
	"$src/tests/avatest/avatest-check.h" \
	"$src/tests/avatest/avatest-guest.c" "$src/tests/avatest/avatest-server.c" \
	"$src/tests/avatest/avatest-rect.c" "$src/tests/avatest/avatest-rect.h" \
	"$src/tests/avatest/avatest-demo.c" "$src/tests/avatest/avatest-remote-only.c" "$proj/" ||
	fail "cannot copy the avatest sources"
out=$tmp/out
run "$tmp/configure.log" cmake -S "$proj" -B "$out" -DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_PREFIX_PATH="$p" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
found=$(sed -n 's/^ava_DIR:PATH=//p' "$out/CMakeCache.txt")
[ "$found" = "$cmake_dir" ] || fail "find_package(ava) found '$found', not the staged $cmake_dir"
run "$tmp/build.log" cmake --build "$out" --parallel 2
grep -q "avagen: generating the avatest" "$tmp/build.log" || fail "the build ran no avagen"
grep -rqF "$p/bin/avagen" "$out" || fail "the build did not use the staged avagen"
for f in lib/ava/guest/avatest/libava-guest-avatest.so lib/ava/guest/avatest/libavatest.so.1 \
	lib/ava/apis/ava-server-avatest lib/ava/apis/avatest.abi avatest-demo avatest-remote-only; do
	[ -e "$out/$f" ] || fail "the out-of-tree build made no $f"
done
run "$tmp/ctest.log" ctest --test-dir "$out" --output-on-failure

# 4. pkg-config's flags suffice to build both halves by hand.
export PKG_CONFIG_PATH=$pc_dir PKG_CONFIG_LIBDIR=$pc_dir
pc=$tmp/pc
mkdir -p "$pc"
includedir=$(pkg-config --variable=includedir ava) || fail "pkg-config knows no ava"
[ -f "$includedir/ava/spec.h" ] || fail "pkg-config's includedir $includedir holds no ava/spec.h"
avagen=$(pkg-config --variable=avagen ava)
run "$tmp/pc-avagen.log" "$avagen" -o "$pc" --spec-include "$includedir" -I "$proj" \
	"$proj/spec/avatest.spec"
# Run by hand with no --spec-include, the installed avagen reads the installed
# spec.h (<bindir>/../include), never the source tree it was built from.
run "$tmp/bare-avagen.log" "$avagen" -o "$tmp/bare" --depfile "$tmp/bare.d" -I "$proj" \
	"$proj/spec/avatest.spec"
grep -q "$stage.*/include/ava/spec.h" "$tmp/bare.d" ||
	fail "avagen without --spec-include did not read the installed spec.h: $(grep -o '[^ ]*spec.h' "$tmp/bare.d")"
# shellcheck disable=SC2046 # the flags are words
run "$tmp/pc-guest.log" "$cc" -shared -fPIC -fvisibility=hidden -o "$pc/libava-guest-avatest.so" \
	"$pc/avatest_guest.c" "$proj/avatest-guest.c" "$proj/avatest-rect.c" -I "$pc" -I "$proj" \
	$(pkg-config --cflags --libs ava-guest) \
	-Wl,--version-script="$pc/avatest.map" -Wl,--no-undefined
# shellcheck disable=SC2046
run "$tmp/pc-server.log" "$cc" -o "$pc/ava-server-avatest" "$pc/avatest_server.c" \
	"$proj/avatest-server.c" "$proj/avatest-rect.c" -I "$pc" -I "$proj" \
	$(pkg-config --cflags --libs ava-server) -L "$out" -lavatest
nm -D --defined-only "$pc/libava-guest-avatest.so" | grep -q ' avatest_' ||
	fail "the guest library built with pkg-config's flags exports no avatest_ function"

# 5. Remoted through the staged ava-run and avarouterd, with the out-of-tree API.
launch=(env AVA_GUEST_DIR="$out/lib/ava/guest" AVA_ROUTER_SOCKET= "$p/bin/ava-run"
	--api-dir "$out/lib/ava/apis" --)
timeout -k 5 100 "$out/avatest-demo" >"$tmp/native.out" 2>"$tmp/native.err" ||
	fail "avatest-demo fails natively: $(cat "$tmp/native.err")"
timeout -k 5 100 "${launch[@]}" "$out/avatest-demo" >"$tmp/remote.out" 2>"$tmp/remote.err" ||
	fail "avatest-demo fails remoted: $(cat "$tmp/remote.err")"
if ! cmp -s "$tmp/native.out" "$tmp/remote.out"; then
	diff -u --label native --label remoted "$tmp/native.out" "$tmp/remote.out" >&2
	fail "the out-of-tree avatest-demo's remoted output differs from native"
fi
AVATEST_EXPECT_REMOTE=1 timeout -k 5 100 "${launch[@]}" "$out/avatest-remote-only" \
	>"$tmp/only.out" 2>&1 || fail "avatest-remote-only was not remoted: $(cat "$tmp/only.out")"

echo "installed to DESTDIR=$stage (prefix $prefix); avatest built outside the tree on it"
echo "(find_package and pkg-config) and run remoted through the staged ava-run and avarouterd:"
echo "avatest-demo identical to native ($(wc -l <"$tmp/native.out") lines), avatest-remote-only passed"
exit 0
