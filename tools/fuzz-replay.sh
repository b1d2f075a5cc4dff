#!/usr/bin/env bash
# Builds the libFuzzer target (clang, ASan + UBSan) and replays a fixed corpus
# through it, then a short fuzzing run with a fixed seed: what CI runs
# (tools/test.sh --ci or --fuzz). docs/fuzzing.md has the long runs.
#
#   tools/fuzz-replay.sh [RUNS]     RUNS: fuzzing executions after the replay (default 2000)
#
# The corpus is fuzz/seeds.py's output plus whatever is in fuzz-corpus/codec (kept
# out of git), so a local corpus is replayed too. Exit status 0: no check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-2000}
dir=build-fuzz
if [[ ! -d $dir ]]; then
  CXX=clang++ meson setup "$dir" -Dfuzzer=true -Dbenchmarks=false -Dtests=false >"$dir.setup.log" 2>&1 ||
    { cat "$dir.setup.log"; exit 1; }
fi
ninja -C "$dir" fuzz/fuzz_codec
python3 fuzz/seeds.py "$dir/seeds" >/dev/null
corpora=("$dir/seeds")
[[ -d fuzz-corpus/codec ]] && corpora+=(fuzz-corpus/codec)
export ASAN_OPTIONS=max_malloc_fill_size=0:quarantine_size_mb=8
start=$(date +%s)
# Replay: every file once (libFuzzer runs the given files and stops).
"$dir/fuzz/fuzz_codec" -artifact_prefix="$dir/" -runs=0 "${corpora[@]}" 2>"$dir/replay.log" || { tail -20 "$dir/replay.log"; exit 1; }
# Then a short, reproducible search from that corpus, into a scratch directory.
rm -rf "$dir/found" && mkdir -p "$dir/found"
"$dir/fuzz/fuzz_codec" -artifact_prefix="$dir/" -seed=1 -runs="$runs" -max_len=16384 -dict=fuzz/codec.dict \
  "$dir/found" "${corpora[@]}" 2>"$dir/fuzz.log" || { tail -20 "$dir/fuzz.log"; exit 1; }
echo "fuzz-replay: $(ls "${corpora[@]}" | wc -l) corpus files replayed, $runs executions, no failure ($(( $(date +%s) - start )) s)"
