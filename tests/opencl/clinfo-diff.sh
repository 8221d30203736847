#!/usr/bin/env bash
# clinfo natively and remoted through the system ICD loader (`ava-run --icd`),
# compared line by line: every line must be identical except the few that
# differ by design, listed (and explained) below and removed from both sides.
#
#   clinfo-diff.sh BUILD_DIR
#
# Two views are compared: clinfo's default (human-readable) output and
# `clinfo --raw` (every value as the library returned it). The ICD route is
# the one compared because the real loader is present there, so clinfo's
# "ICD loader properties" section is there too; through soname replacement
# (`ava-run -- clinfo`) there is no loader and that section is missing by
# design. ICD_TEST_PRELOAD (sanitizer builds: the sanitizer runtime) is
# preloaded into the remoted clinfo, which is not instrumented but loads this
# build's instrumented guest library.
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

# The allow-list: sed expressions applied to both sides. Each one is a
# difference the remoting makes on purpose (docs/opencl.md); nothing else may
# differ.
allow=(
	# Coarse-grained buffer SVM only: fine-grained sharing would need memory
	# coherent across the guest and the server, so the remote device's
	# CL_DEVICE_SVM_CAPABILITIES lacks the fine-grained buffer and atomics
	# bits (ava_clear_bits in spec/opencl.spec). clinfo shows each
	# capability bit on its own line; "Coarse-grained buffer sharing" (Yes)
	# and "Fine-grained system sharing" (No natively too) are compared.
	-e '/^    Fine-grained buffer sharing  *[A-Za-z]*$/d'
	-e '/^    Atomics  *[A-Za-z]*$/d'
	# The same in --raw, where the set is one line: only those two bits go.
	-e '/^\[[^]]*\]  *CL_DEVICE_SVM_CAPABILITIES /s/ | CL_DEVICE_SVM_FINE_GRAIN_BUFFER | CL_DEVICE_SVM_ATOMICS$//'
	# No native kernels: a native kernel is a guest function, so the remote
	# device's CL_DEVICE_EXECUTION_CAPABILITIES lacks CL_EXEC_NATIVE_KERNEL.
	-e '/^    Run native kernels  *[A-Za-z]*$/d'
	# In --raw only that bit is dropped; CL_EXEC_KERNEL is still compared.
	-e '/CL_DEVICE_EXECUTION_CAPABILITIES/s/ | CL_EXEC_NATIVE_KERNEL//'
)
# Remoted, these lines must be there as shown: they prove the remote platform
# (not a native one) answered, and that the allow-list still names real lines.
must_remote=(
	'^    Fine-grained buffer sharing  *No$'
	'^    Run native kernels  *No$'
)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/clinfo-diff.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

fail=0
for view in "${views[@]}"; do
	opts=()
	[ $view = raw ] && opts=(--raw)
	timeout -k 5 60 env -u OCL_ICD_VENDORS clinfo "${opts[@]}" >"$tmp/native.$view" \
		2>"$tmp/native.$view.err"
	rc=$?
	if [ $rc -ne 0 ] || grep -q '^Number of platforms  *0$' "$tmp/native.$view"; then
		echo "skipped: clinfo finds no OpenCL platform natively (exit $rc)" >&2
		cat "$tmp/native.$view.err" >&2
		exit 77
	fi
	timeout -k 5 120 "$ava_run" --icd -- "${remote_clinfo[@]}" "${opts[@]}" \
		>"$tmp/remote.$view" 2>"$tmp/remote.$view.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL: ava-run --icd -- clinfo ${opts[*]} exited $rc:" >&2
		cat "$tmp/remote.$view" "$tmp/remote.$view.err" >&2
		fail=1
		continue
	fi
	if [ $view = default ]; then
		for re in "${must_remote[@]}"; do
			if ! grep -q -- "$re" "$tmp/remote.$view"; then
				echo "FAIL: remoted clinfo has no line matching '$re'" \
					"(not remoted, or the allow-list is stale)" >&2
				fail=1
			fi
		done
	fi
	sed "${allow[@]}" "$tmp/native.$view" >"$tmp/native.$view.f"
	sed "${allow[@]}" "$tmp/remote.$view" >"$tmp/remote.$view.f"
	if ! cmp -s "$tmp/native.$view.f" "$tmp/remote.$view.f"; then
		echo "FAIL: clinfo ${opts[*]} remoted (ICD route) differs from native" \
			"beyond the allow-list:" >&2
		diff -u --label native --label remoted "$tmp/native.$view.f" "$tmp/remote.$view.f" >&2
		echo "--- stderr of the remoted run:" >&2
		cat "$tmp/remote.$view.err" >&2
		fail=1
		continue
	fi
	echo "clinfo ${opts[*]:-(default)}: $(wc -l <"$tmp/native.$view.f") lines identical," \
		"$(($(wc -l <"$tmp/native.$view") - $(wc -l <"$tmp/native.$view.f"))) allowed to differ"
done
exit $fail
