#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   build/       gcc,   -DAVA_WERROR=ON
#   build-asan/  clang, -DAVA_SANITIZE=ON (ASan+UBSan) -DAVA_FUZZ=ON -DAVA_WERROR=ON
# configures and builds both, runs `ctest --output-on-failure` in each, checks
# formatting of the C sources, prints a summary and exits non-zero if
# anything failed. Uses all cores.
#
#   scripts/test.sh            both trees
#   scripts/test.sh gcc        only build/
#   scripts/test.sh asan       only build-asan/
#   scripts/test.sh format     only the clang-format check
# AVA_BUILD / AVA_BUILD_ASAN override the two build directories.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
which=("$@")
[ ${#which[@]} -eq 0 ] && which=(gcc asan format)

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

for w in "${which[@]}"; do
	case $w in
	gcc) tree gcc "${AVA_BUILD:-$root/build}" gcc -DAVA_WERROR=ON ;;
	asan)
		tree asan "${AVA_BUILD_ASAN:-$root/build-asan}" clang-14 -DAVA_SANITIZE=ON -DAVA_FUZZ=ON \
			-DAVA_WERROR=ON
		;;
	format) step "format (clang-format-14)" "$root/scripts/check-format.sh" ;;
	*)
		echo "scripts/test.sh: unknown part '$w' (gcc, asan, format)" >&2
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
