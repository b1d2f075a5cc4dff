#!/usr/bin/env bash
# Installs what calib64 needs from Debian's packages, skipping what is there.
# Extra package sets: `--fuzz` (clang + libFuzzer runtime), `--arm` (cross g++ + qemu-user).
set -euo pipefail

packages=(meson ninja-build g++ pkg-config libhwloc-dev libbenchmark-dev nlohmann-json3-dev
          libboost-dev libfmt-dev doctest-dev libtbb-dev python3
          python3-dev python3-pytest python3-mesonpy python3-venv)  # the last four: python/ (docs/python.md)
for arg in "$@"; do
  case "$arg" in
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    --arm) packages+=(g++-aarch64-linux-gnu qemu-user) ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
