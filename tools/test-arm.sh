#!/usr/bin/env bash
# Cross-builds the kernel tests for 64-bit Arm (the NEON kernel against scalar)
# and runs them under qemu-user. Needs Debian's g++-aarch64-linux-gnu and
# qemu-user; no Arm hardware and no arm64 -dev packages.
#
#   tools/test-arm.sh [build dir, default build-arm] [extra doctest arguments...]
#
# Exits non-zero if the configure, the build or any test fails.
set -euo pipefail
trap 'echo "test-arm: FAILED (line $LINENO: $BASH_COMMAND)" >&2' ERR

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build-arm}
shift || true
cd "$root"

for tool in aarch64-linux-gnu-g++ qemu-aarch64 meson ninja; do
    command -v "$tool" >/dev/null || {
        echo "test-arm: '$tool' not found (apt install g++-aarch64-linux-gnu qemu-user meson ninja-build)" >&2
        exit 2
    }
done

start_s=$EPOCHREALTIME
if [[ ! -f "$build/build.ninja" ]]; then
    meson setup "$build" --cross-file tools/cross/aarch64-linux-gnu.ini -Dbenchmarks=false
fi
# Only the kernel tests: the rest of the project needs Arm builds of hwloc and TBB.
ninja -C "$build" tests/kernels_tests
built_s=$EPOCHREALTIME

echo "test-arm: running $build/tests/kernels_tests under qemu-aarch64"
status=0
qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/tests/kernels_tests" "$@" || status=$?
end_s=$EPOCHREALTIME

awk -v a="$start_s" -v b="$built_s" -v c="$end_s" \
    'BEGIN { printf "test-arm: configure+build %.1f s, tests under qemu %.1f s\n", b - a, c - b }'
if [[ $status -ne 0 ]]; then
    echo "test-arm: FAILED (kernels_tests exited with $status)" >&2
    exit "$status"
fi
echo "test-arm: passed"
