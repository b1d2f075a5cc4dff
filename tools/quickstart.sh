#!/usr/bin/env bash
# The main job on a fresh Debian machine: install what is missing, build,
# calibrate this host and show where the report is.
#   tools/quickstart.sh [calibrate options, e.g. --quick or --thorough]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
if [[ -d build ]]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build
log=$(mktemp)
trap 'rm -f "$log"' EXIT
build/src/cli/calib64 calibrate "$@" | tee "$log"
report=$(sed -n 's/^report: *//p' "$log" | tail -1)
if [[ -n $report && -f $report ]]; then
  echo
  # The decisions and how well they hold: the report's switch points and validation.
  sed -n '/^## Switch points/,/^## Stability/p' "$report" | sed '$d'
  echo "Full report: $report"
fi
