#!/usr/bin/env bash
# Builds calib64 and runs its test suite; the README's test command.
#
#   tools/test.sh                  release build, every test (doctest suites and the Python module's pytest)
#   tools/test.sh --sanitize=address,undefined   (or thread) also a full sanitizer build of everything
#   tools/test.sh --arm            also cross-build for aarch64 and run the kernel tests in qemu
#   tools/test.sh --fuzz           also replay the fuzzer's corpus (tools/fuzz-replay.sh; needs clang)
#   tools/test.sh --pip            also the offline `pip install .` into a venv (tests/python/test_pip_install.py)
#   tools/test.sh --ci             what CI runs, within its 8 minutes on 2 cores (below)
#   tools/test.sh --all            release + full ASan/UBSan + TSan + Arm + fuzz replay + pip (~30 min on 2 cores)
#
# --ci: the release suite (benchmarks not built), an ASan+UBSan build of the library,
# the CLI and their suites (kernels, backends, streams_cli, runtime) at -O0 with the
# kernels optimised (calibrate/ and the Python module left out: the compile time of
# Google Benchmark, fmt and nlohmann-json under the sanitizers would double the run;
# --sanitize=address,undefined and --all build them), the Arm kernel tests under qemu,
# and the fuzz corpus replay. The release tests run while the sanitizer build
# compiles: half their time is waiting on pipes, FIFOs and child processes.
#
# Ends with one line `N passed, N failed`: doctest test cases summed over every run,
# plus the pytest tests of the Python module (meson test 'python', release build).
set -uo pipefail
cd "$(dirname "$0")/.."

sanitizers=()
ci_asan=0
arm=0
fuzz=0
benchmarks=true
for arg in "$@"; do
  case "$arg" in
    --sanitize=*) sanitizers+=("${arg#--sanitize=}") ;;
    --arm) arm=1 ;;
    --fuzz) fuzz=1 ;;
    --pip) export CALIB64_TEST_PIP_INSTALL=1 ;;
    --ci) ci_asan=1; arm=1; fuzz=1; benchmarks=false ;;
    --all) sanitizers=(address,undefined thread); arm=1; fuzz=1; export CALIB64_TEST_PIP_INSTALL=1 ;;
    *) echo "test.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

extra=()
[[ $arm == 1 ]] && extra+=(--arm)
[[ $fuzz == 1 ]] && extra+=(--fuzz)
tools/install-deps.sh "${extra[@]}" || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 broken=0
# meson setup (or reconfigure) and build one dir; false when either fails.
build_dir() {
  local dir=$1; shift
  echo "=== $dir: meson setup $*"
  if [[ -d $dir ]]; then
    meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
  else
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
  fi || { cat "$dir.setup.log"; broken=$((broken + 1)); return 1; }
  ninja -C "$dir" || { broken=$((broken + 1)); return 1; }
}
# Runs one built dir's tests (output to DIR.test.log, shown at the end).
test_dir() {
  meson test -C "$1" --print-errorlogs --num-processes 1 >"$1.test.log" 2>&1 || true
}
# Shows a dir's test output and adds its doctest / pytest counts to the totals.
count_dir() {
  cat "$1.test.log"
  read -r p f < <(python3 tools/doctest_counts.py "$1/meson-logs/testlog.json")
  passed=$((passed + p)) failed=$((failed + f))
}
sanitizer_env() {
  local supp=""
  [[ -f tests/tsan.supp ]] && supp=$PWD/tests/tsan.supp
  export TSAN_OPTIONS="halt_on_error=1${supp:+ suppressions=$supp}" UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"
}

# -Dpython=enabled: a missing python3-dev fails the run instead of skipping the module.
release_ok=0
build_dir build-test -Dbuildtype=release -Dpython=enabled -Dbenchmarks=$benchmarks && release_ok=1
# The Arm kernel tests under qemu and the fuzz replay: each writes its log and
# leaves its counts in a file, so they can run beside another suite.
run_arm() {
  if tools/test-arm.sh >build-arm.log 2>&1; then
    grep -Eo 'test cases: *[0-9]+ \| *[0-9]+ passed \| *[0-9]+ failed' build-arm.log | tail -1 |
      awk -F'|' '{gsub(/[^0-9]/,"",$2); gsub(/[^0-9]/,"",$3); print $2, $3}' >build-arm.counts
  else
    echo "0 1" >build-arm.counts
  fi
}
run_fuzz() {
  # One unit in the totals: the replay and a short fixed-seed run, no failed check.
  if tools/fuzz-replay.sh >build-fuzz.log 2>&1; then echo "1 0" >build-fuzz.counts; else echo "0 1" >build-fuzz.counts; fi
}
count_log() {  # NAME: adds build-NAME.counts to the totals, shows the log's end (all of it on failure)
  local p=0 f=1
  [[ -s build-$1.counts ]] && read -r p f <"build-$1.counts"
  passed=$((passed + ${p:-0})) failed=$((failed + ${f:-1}))
  if [[ ${f:-1} == 0 ]]; then tail -3 "build-$1.log"; else cat "build-$1.log"; fi
}
rm -f build-arm.counts build-fuzz.counts

if [[ $ci_asan == 1 ]]; then
  # The release tests in the background while the sanitizer build compiles: half
  # their time is waiting on pipes, FIFOs and child processes.
  tester=""
  if [[ $release_ok == 1 ]]; then
    test_dir build-test &
    tester=$!
  fi
  sanitizer_env
  asan_ok=0
  build_dir build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false \
    -Dcalibrate=disabled -Dpython=disabled && asan_ok=1
  [[ -n $tester ]] && wait "$tester"
  [[ $release_ok == 1 ]] && count_dir build-test
  # The sanitizer suites (mostly one thread) beside the Arm build and qemu run and
  # the fuzz replay.
  tester=""
  if [[ $asan_ok == 1 ]]; then
    test_dir build-asan &
    tester=$!
  fi
  [[ $arm == 1 ]] && run_arm
  [[ $fuzz == 1 ]] && run_fuzz
  [[ -n $tester ]] && wait "$tester"
  [[ $asan_ok == 1 ]] && count_dir build-asan
else
  [[ $release_ok == 1 ]] && { test_dir build-test; count_dir build-test; }
  [[ $arm == 1 ]] && run_arm
  [[ $fuzz == 1 ]] && run_fuzz
fi
for s in "${sanitizers[@]}"; do
  env_name=${s//,/-}
  sanitizer_env
  build_dir "build-$env_name" -Dbuildtype=debugoptimized -Db_sanitize="$s" -Db_lundef=false -Dbenchmarks=false &&
    { test_dir "build-$env_name"; count_dir "build-$env_name"; }
done
[[ $arm == 1 ]] && count_log arm
[[ $fuzz == 1 ]] && count_log fuzz
failed=$((failed + broken))
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
