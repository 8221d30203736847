#!/usr/bin/env bash
# Installs every Debian 12 (bookworm) package needed to build and test AvA.
# Idempotent: installs only what is missing, and does nothing (no network)
# when everything is there. Needs root, or sudo.
#
#   sudo scripts/install-deps.sh
set -euo pipefail

packages=(
	# build
	build-essential cmake ninja-build pkg-config git
	# avagen parses specs and vendor headers through libclang's C API (libclang-14-dev
	# brings clang's resource headers; llvm-14-dev is not needed)
	libclang-14-dev
	# the sanitizer build (ASan+UBSan) and the libFuzzer harnesses; formatting
	clang-14 libclang-rt-14-dev clang-format-14
	# runtimes: calling functions by descriptor, the control plane, policy files
	libffi-dev libprotobuf-c-dev protobuf-c-compiler libyaml-dev
	# OpenCL: ICD loader, headers, a CPU implementation (PoCL) to remote, tools
	ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo clpeak
	# a real OpenCL application for the tests (tests/opencl/pyopencl.sh)
	python3-pyopencl
)

if [ -r /etc/os-release ]; then
	. /etc/os-release
	if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ]; then
		echo "install-deps.sh: warning: written for Debian 12, this is ${PRETTY_NAME:-unknown}" >&2
	fi
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps.sh: all ${#packages[@]} packages are installed"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	echo "install-deps.sh: need root (or sudo) to install: ${missing[*]}" >&2
	exit 1
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps.sh: done"
