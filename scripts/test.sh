#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   build/       gcc,   -DAVA_WERROR=ON
#   build-asan/  clang, -DAVA_SANITIZE=ON (ASan+UBSan) -DAVA_FUZZ=ON -DAVA_WERROR=ON
#   build-make/  gcc,   -DAVA_WERROR=ON with CMake's default generator (Unix
#                Makefiles; the other two use Ninja): built, not tested
# configures and builds the three, runs `ctest --output-on-failure` in the first
# two, checks formatting of the C sources, prints a summary and exits non-zero
# if anything failed. Uses all cores.
#
#   scripts/test.sh            all of them
#   scripts/test.sh gcc        only build/
#   scripts/test.sh asan       only build-asan/
#   scripts/test.sh make       only build-make/
#   scripts/test.sh format     only the clang-format check
# AVA_BUILD / AVA_BUILD_ASAN / AVA_BUILD_MAKE override the build directories.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
which=("$@")
[ ${#which[@]} -eq 0 ] && which=(gcc asan make format)

summary=()
failed=0

# step NAME COMMAND...: runs a step, records its result and time.
step() {
	local name=$1 start rc
	shift
	echo
	echo "=== $name"
	start=$(date +%s)
	"$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		summary+=("$(printf '%-28s ok      (%ds)' "$name" $(($(date +%s) - start)))")
	else
		summary+=("$(printf '%-28s FAILED  (%ds, exit %d)' "$name" $(($(date +%s) - start)) $rc)")
		failed=1
	fi
	return $rc
}

configure() {
	local dir=$1 cc=$2
	shift 2
	local gen=()
	# Keep the generator of an existing tree; Ninja for a new one.
	[ -f "$dir/CMakeCache.txt" ] || gen=(-G Ninja)
	cmake -S "$root" -B "$dir" "${gen[@]}" -DCMAKE_C_COMPILER="$cc" "$@"
}

# tree NAME DIR CC CMAKE-ARGS...
tree() {
	local name=$1 dir=$2 cc=$3
	shift 3
	step "$name: configure" configure "$dir" "$cc" "$@" &&
		step "$name: build" cmake --build "$dir" --parallel "$jobs" &&
		step "$name: ctest" ctest --test-dir "$dir" --output-on-failure --parallel "$jobs"
}

# The Makefile generator writes a custom command's rule only into the targets
# that list its outputs, so a generated file without one owning target fails
# there while Ninja builds it (issue 9). In a new tree, each spec's avagen
# must also have run exactly once; more jobs than cores, because targets that
# each run a shared custom command only show it when they build at once.
make_build() {
	local dir=$1 fresh=$2 log rc
	log=$(mktemp "${TMPDIR:-/tmp}/ava-make-build.XXXXXX") || return 1
	cmake --build "$dir" --parallel $((jobs * 4)) 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	if [ $rc -eq 0 ] && [ "$fresh" = 1 ]; then
		local twice
		twice=$(grep -o 'avagen: generating the [A-Za-z0-9_]*' "$log" | sort | uniq -d)
		if [ -n "$twice" ]; then
			echo "scripts/test.sh: avagen ran more than once in one build for: $twice" >&2
			rc=1
		fi
	fi
	rm -f "$log"
	return $rc
}

make_tree() {
	local dir=$1 fresh=0
	[ -f "$dir/CMakeCache.txt" ] || fresh=1
	step "make: configure" cmake -S "$root" -B "$dir" -G "Unix Makefiles" -DCMAKE_C_COMPILER=gcc \
		-DAVA_WERROR=ON &&
		step "make: build" make_build "$dir" $fresh
}

for w in "${which[@]}"; do
	case $w in
	gcc) tree gcc "${AVA_BUILD:-$root/build}" gcc -DAVA_WERROR=ON ;;
	asan)
		tree asan "${AVA_BUILD_ASAN:-$root/build-asan}" clang-14 -DAVA_SANITIZE=ON -DAVA_FUZZ=ON \
			-DAVA_WERROR=ON
		;;
	make) make_tree "${AVA_BUILD_MAKE:-$root/build-make}" ;;
	format) step "format (clang-format-14)" "$root/scripts/check-format.sh" ;;
	*)
		echo "scripts/test.sh: unknown part '$w' (gcc, asan, make, format)" >&2
		exit 2
		;;
	esac
done

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
if [ $failed -ne 0 ]; then
	echo "scripts/test.sh: FAILED"
	exit 1
fi
echo "scripts/test.sh: all passed"
