#!/usr/bin/env python3
"""calib64 vs coreutils base64: whole-process wall time, output to /dev/null.

Runs the two commands alternately (so drifts in machine load and CPU clock hit both
alike), from a file in the page cache, and prints per command the median and
interquartile range of the wall time, then the ratio of medians with a bootstrap 95%
interval. Usage:

    bench/cli_vs_coreutils.py [--calib64 build/src/cli/calib64] [--mib 100] [--runs 30]
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time


def wall_seconds(cmd):
    with open(os.devnull, "wb") as null:
        start = time.perf_counter()
        subprocess.run(cmd, stdout=null, check=True)
        return time.perf_counter() - start


def quartiles(xs):
    q = statistics.quantiles(xs, n=4)
    return q[0], statistics.median(xs), q[2]


def ratio_interval(slow, fast, rng, resamples=2000):
    ratios = []
    for _ in range(resamples):
        s = statistics.median(rng.choices(slow, k=len(slow)))
        f = statistics.median(rng.choices(fast, k=len(fast)))
        ratios.append(s / f)
    ratios.sort()
    return ratios[int(0.025 * resamples)], ratios[int(0.975 * resamples) - 1]


def compare(label, ours, theirs, runs, rng):
    for _ in range(2):  # warm-up: page cache, binaries
        wall_seconds(ours)
        wall_seconds(theirs)
    t_ours, t_theirs = [], []
    for _ in range(runs):
        t_ours.append(wall_seconds(ours))
        t_theirs.append(wall_seconds(theirs))
    for name, ts in ((" ".join(theirs), t_theirs), (" ".join(ours), t_ours)):
        lo, med, hi = quartiles(ts)
        print(f"  {name:<48} median {med * 1e3:7.1f} ms  IQR {lo * 1e3:.1f}-{hi * 1e3:.1f} ms")
    ratio = statistics.median(t_theirs) / statistics.median(t_ours)
    lo, hi = ratio_interval(t_theirs, t_ours, rng)
    print(f"  {label}: calib64 is {ratio:.2f}x faster (95% CI {lo:.2f}-{hi:.2f}, {runs} alternating runs)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calib64", default="build/src/cli/calib64")
    ap.add_argument("--mib", type=int, default=100)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as d:
        raw = os.path.join(d, "random.bin")
        text = os.path.join(d, "random.b64")
        with open(raw, "wb") as f:
            f.write(os.urandom(args.mib << 20))
        with open(text, "wb") as f:
            subprocess.run(["base64", raw], stdout=f, check=True)
        print(f"{args.mib} MiB random input, output to /dev/null, load average {os.getloadavg()[0]:.2f}")
        compare("encode", [args.calib64, raw], ["base64", raw], args.runs, rng)
        compare("decode", [args.calib64, "-d", text], ["base64", "-d", text], args.runs, rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
