#!/bin/sh
# The router's modules form no cycle (docs/router.md, "Modules"): an edge
# X -> Y for every `#include "Y.h"` in X.c or X.h of hv-router/ (X != Y);
# tsort fails on a loop and names the modules in it. Prints the graph.
#
#   check-module-graph.sh HV_ROUTER_DIR
set -eu
dir=$1
edges=$(mktemp "${TMPDIR:-/tmp}/ava-graph-XXXXXX")
trap 'rm -f "$edges"' EXIT
for f in "$dir"/*.c "$dir"/*.h; do
	base=${f##*/}
	mod=${base%.*}
	sed -n 's/^#include "\([^"/]*\)\.h".*/\1/p' "$f" | while read -r dep; do
		[ "$dep" = "$mod" ] || echo "$mod $dep"
	done
done | sort -u >"$edges"
[ -s "$edges" ] || { echo "check-module-graph: no includes found in $dir" >&2; exit 1; }
if ! tsort "$edges" >/dev/null 2>"$edges.err"; then
	echo "check-module-graph: the router's modules form a cycle:" >&2
	cat "$edges.err" >&2
	rm -f "$edges.err"
	exit 1
fi
rm -f "$edges.err"
awk '{ deps[$1] = deps[$1] " " $2 } END { for (m in deps) print m ":" deps[m] }' "$edges" | sort
