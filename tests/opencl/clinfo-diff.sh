#!/usr/bin/env bash
# clinfo natively and remoted through plain `ava-run -- clinfo` (no route
# flag, no AVA_RUN_ROUTE: the default route, the system ICD loader), compared
# as a whole, its "ICD loader properties" section included: the remoted output
# must equal the native output edited by the explained differences below, and
# nothing else may differ.
#
#   clinfo-diff.sh BUILD_DIR
#
# Two views are compared: clinfo's default (human-readable) output and
# `clinfo --raw` (every value as the library returned it). Each is remoted
# twice: from a clean environment, and with OCL_ICD_VENDORS already exported
# pointing at AvA's own vendors folder (what a shell keeps after `export
# OCL_ICD_VENDORS=...` for the ICD route): the application's environment must
# not reach the API server (docs/router.md, "The server's environment").
# ICD_TEST_PRELOAD (sanitizer builds: the sanitizer runtime) is preloaded into
# the remoted clinfo, which is not instrumented but loads this build's
# instrumented guest library.
#
# Exit 77 (skipped), with the reason, when clinfo is not installed, ava-run or
# the ICD is not built, or clinfo finds no platform natively.
set -u

[ $# -eq 1 ] || {
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
}
build=$1
ava_run=$build/bin/ava-run
for need in "$ava_run" "$build/lib/ava/apis/ava-server-opencl" \
	"$build/etc/OpenCL/vendors/ava-opencl.icd"; do
	if [ ! -e "$need" ]; then
		echo "skipped: $need is not built" >&2
		exit 77
	fi
done
if ! command -v clinfo >/dev/null; then
	echo "skipped: clinfo is not installed" >&2
	exit 77
fi
remote_clinfo=(clinfo)
views=(default raw)
if [ -n "${ICD_TEST_PRELOAD:-}" ]; then
	remote_clinfo=(env LD_PRELOAD="$ICD_TEST_PRELOAD" ASAN_OPTIONS=detect_leaks=0 clinfo)
	# clinfo 3.0's --raw sprintf()s one byte past a buffer of its own
	# (natively too, with the sanitizer runtime preloaded): its bug, which
	# ASan's sprintf check reports, so sanitizer runs compare the default view.
	views=(default)
fi

# The explained differences (docs/opencl.md, "Differences from a native run"),
# as sed edits of the NATIVE output into what the remoted one must be; the
# remoted output is compared unedited. Each edit must apply (a native line it
# changes must exist), so a stale entry fails instead of passing silently.
explained=(
	# Coarse-grained buffer SVM only: fine-grained sharing would need memory
	# coherent across the guest and the server, so the remote device's
	# CL_DEVICE_SVM_CAPABILITIES lacks the fine-grained buffer and atomics
	# bits (ava_clear_bits in spec/opencl.spec). clinfo shows each bit on a
	# line of its own; "Coarse-grained buffer sharing" (Yes) and "Fine-grained
	# system sharing" (No natively too) stay as they are.
	'default:s/^(    Fine-grained buffer sharing  +)Yes$/\1No/'
	'default:s/^(    Atomics  +)Yes$/\1No/'
	# The same in --raw, where the set is one line: only those two bits go.
	'raw:s/^(\[[^]]*\]  +CL_DEVICE_SVM_CAPABILITIES .*) \| CL_DEVICE_SVM_FINE_GRAIN_BUFFER \| CL_DEVICE_SVM_ATOMICS$/\1/'
	# No native kernels: a native kernel is a guest function, so the remote
	# device's CL_DEVICE_EXECUTION_CAPABILITIES lacks CL_EXEC_NATIVE_KERNEL.
	'default:s/^(    Run native kernels  +)Yes$/\1No/'
	# In --raw only that bit goes; CL_EXEC_KERNEL is still compared.
	'raw:s/^(\[[^]]*\]  +CL_DEVICE_EXECUTION_CAPABILITIES .*) \| CL_EXEC_NATIVE_KERNEL$/\1/'
)
# Both sides must have the ICD loader's section: the route compared is the
# one through the system loader, whose own answers clinfo prints.
must_both=(
	'default:^ICD loader properties$'
	'default:^  ICD loader Name  '
	'raw:^\[OCLICD/\*\]  *CL_ICDL_NAME  '
)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/clinfo-diff.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

fail=0
for view in "${views[@]}"; do
	opts=()
	[ $view = raw ] && opts=(--raw)
	timeout -k 5 60 env -u OCL_ICD_VENDORS -u OCL_ICD_FILENAMES clinfo "${opts[@]}" \
		>"$tmp/native.$view" 2>"$tmp/native.$view.err"
	rc=$?
	if [ $rc -ne 0 ] || grep -q '^Number of platforms  *0$' "$tmp/native.$view"; then
		echo "skipped: clinfo finds no OpenCL platform natively (exit $rc)" >&2
		cat "$tmp/native.$view.err" >&2
		exit 77
	fi
	# The native output as the remoted one must be, each edit applied at least once.
	cp "$tmp/native.$view" "$tmp/expected.$view"
	for e in "${explained[@]}"; do
		[ "${e%%:*}" = $view ] || continue
		sed -E "${e#*:}" "$tmp/expected.$view" >"$tmp/edited"
		if cmp -s "$tmp/edited" "$tmp/expected.$view"; then
			echo "FAIL: clinfo ${opts[*]}: the explained difference '${e#*:}' matches no" \
				"native line (stale list, or the native output changed)" >&2
			fail=1
		fi
		mv "$tmp/edited" "$tmp/expected.$view"
	done
	for re in "${must_both[@]}"; do
		[ "${re%%:*}" = $view ] || continue
		if ! grep -q -- "${re#*:}" "$tmp/native.$view"; then
			echo "FAIL: native clinfo ${opts[*]} has no line matching '${re#*:}'" >&2
			fail=1
		fi
	done
	for env_case in clean exported; do
		envs=(-u AVA_RUN_ROUTE -u OCL_ICD_VENDORS -u OCL_ICD_FILENAMES -u AVA_ROUTER_SOCKET)
		[ $env_case = exported ] && envs+=(OCL_ICD_VENDORS="$build/etc/OpenCL/vendors")
		out=$tmp/remote.$view.$env_case
		timeout -k 5 120 env "${envs[@]}" "$ava_run" -- "${remote_clinfo[@]}" "${opts[@]}" \
			>"$out" 2>"$out.err"
		rc=$?
		what="ava-run -- clinfo ${opts[*]} ($env_case environment)"
		if [ $rc -ne 0 ]; then
			echo "FAIL: $what exited $rc:" >&2
			cat "$out" "$out.err" >&2
			fail=1
			continue
		fi
		if ! cmp -s "$tmp/expected.$view" "$out"; then
			echo "FAIL: $what differs from native beyond the explained differences:" >&2
			diff -u --label "native, explained differences applied" --label remoted \
				"$tmp/expected.$view" "$out" >&2
			echo "--- stderr of the remoted run:" >&2
			cat "$out.err" >&2
			fail=1
			continue
		fi
		echo "$what: all $(wc -l <"$out") lines equal native with the" \
			"$(diff "$tmp/native.$view" "$out" | grep -c '^>') explained differences"
	done
done
exit $fail
