#!/usr/bin/env bash
# Checks that C sources follow .clang-format (CONVENTIONS.md).
#
#   scripts/check-format.sh              every tracked .c/.h file
#   scripts/check-format.sh BASE-REF     only files changed since BASE-REF
#   scripts/check-format.sh --fix [...]  rewrites them instead
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
fix=0
if [ "${1:-}" = --fix ]; then
	fix=1
	shift
fi
cf=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$cf" ]; then
	echo "check-format.sh: clang-format-14 not found (scripts/install-deps.sh)" >&2
	exit 1
fi

if [ $# -gt 0 ]; then
	mapfile -t files < <(git diff --name-only --diff-filter=d "$1" -- '*.c' '*.h')
else
	mapfile -t files < <(git ls-files -- '*.c' '*.h')
fi
if [ ${#files[@]} -eq 0 ]; then
	echo "check-format.sh: no C files to check"
	exit 0
fi

if [ $fix -eq 1 ]; then
	"$cf" -i "${files[@]}"
	exit 0
fi
bad=()
for f in "${files[@]}"; do
	if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
		bad+=("$f")
	fi
done
if [ ${#bad[@]} -ne 0 ]; then
	echo "check-format.sh: not formatted (fix: scripts/check-format.sh --fix):" >&2
	printf '  %s\n' "${bad[@]}" >&2
	exit 1
fi
echo "check-format.sh: ${#files[@]} files formatted"
