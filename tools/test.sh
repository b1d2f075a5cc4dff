#!/usr/bin/env bash
# Builds calib64 and runs its test suite; the README's test command.
#
#   tools/test.sh                  release build, every test
#   tools/test.sh --sanitize=address,undefined   (or thread) also a sanitizer build
#   tools/test.sh --arm            also cross-build for aarch64 and run the kernel tests in qemu
#   tools/test.sh --fuzz           also replay the fuzzer's corpus (tools/fuzz-replay.sh; needs clang)
#   tools/test.sh --ci             release + ASan/UBSan + Arm + fuzz replay + the offline pip install test
#                                  (what CI runs)
#   tools/test.sh --all            release + ASan/UBSan + TSan + Arm + fuzz replay (~30 min on 2 cores)
#
# Ends with one line `N passed, N failed`: doctest test cases summed over every run,
# plus the pytest tests of the Python module (meson test 'python', release build).
set -uo pipefail
cd "$(dirname "$0")/.."

sanitizers=()
arm=0
fuzz=0
for arg in "$@"; do
  case "$arg" in
    --sanitize=*) sanitizers+=("${arg#--sanitize=}") ;;
    --arm) arm=1 ;;
    --fuzz) fuzz=1 ;;
    --ci) sanitizers=(address,undefined); arm=1; fuzz=1; export CALIB64_TEST_PIP_INSTALL=1 ;;
    --all) sanitizers=(address,undefined thread); arm=1; fuzz=1; export CALIB64_TEST_PIP_INSTALL=1 ;;
    *) echo "test.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

extra=()
[[ $arm == 1 ]] && extra+=(--arm)
[[ $fuzz == 1 ]] && extra+=(--fuzz)
tools/install-deps.sh "${extra[@]}" || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 broken=0
# Runs one meson build dir's tests and adds its doctest counts to the totals.
run_suite() {
  local dir=$1; shift
  echo "=== $dir: meson setup $*"
  if [[ -d $dir ]]; then
    meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
  else
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
  fi || { cat "$dir.setup.log"; broken=$((broken + 1)); return; }
  ninja -C "$dir" || { broken=$((broken + 1)); return; }
  meson test -C "$dir" --print-errorlogs --num-processes 1 || true
  read -r p f < <(python3 tools/doctest_counts.py "$dir/meson-logs/testlog.json")
  passed=$((passed + p)) failed=$((failed + f))
}

# -Dpython=enabled: a missing python3-dev fails the run instead of skipping the module.
run_suite build-test -Dbuildtype=release -Dpython=enabled
tsan_supp=""
[[ -f tests/tsan.supp ]] && tsan_supp=$PWD/tests/tsan.supp
for s in "${sanitizers[@]}"; do
  env_name=${s//,/-}
  TSAN_OPTIONS="halt_on_error=1${tsan_supp:+ suppressions=$tsan_supp}" \
  UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1" \
  run_suite "build-$env_name" -Dbuildtype=debugoptimized -Db_sanitize="$s" -Db_lundef=false -Dbenchmarks=false
done
if [[ $arm == 1 ]]; then
  if tools/test-arm.sh >build-arm.log 2>&1; then
    read -r p f < <(grep -Eo 'test cases: *[0-9]+ \| *[0-9]+ passed \| *[0-9]+ failed' build-arm.log | tail -1 |
                    awk -F'|' '{gsub(/[^0-9]/,"",$2); gsub(/[^0-9]/,"",$3); print $2, $3}')
    passed=$((passed + ${p:-0})) failed=$((failed + ${f:-1}))
    tail -3 build-arm.log
  else
    cat build-arm.log; failed=$((failed + 1))
  fi
fi
if [[ $fuzz == 1 ]]; then
  # One unit in the totals: the replay and a short fixed-seed run, no failed check.
  if tools/fuzz-replay.sh >build-fuzz.log 2>&1; then
    passed=$((passed + 1)); tail -1 build-fuzz.log
  else
    cat build-fuzz.log; failed=$((failed + 1))
  fi
fi
failed=$((failed + broken))
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
