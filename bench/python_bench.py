#!/usr/bin/env python3
"""calib64 against the standard library's base64 / binascii, as ratios within one run.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py            # the table
    PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py --gil      # GIL release threshold
    ... --quick                                                               # fewer rounds (smoke test)
    ... --instructions                                                        # per-call instructions (callgrind)

Method (docs/python.md): each round times a batch of calls of every contender, in
an order that alternates between rounds, so drift in the machine's speed hits all of
them alike; the reported number is the median over rounds of the per-round ratio,
with a 95% bootstrap interval of that median. Batches last about `--batch-ms`. One
run prints one compact table meant to be pasted as is.
"""
import argparse
import base64
import binascii
import os
import platform
import random
import statistics
import sys
import threading
import time

import calib64

SIZES = [("16 B", 16), ("1 KiB", 1 << 10), ("64 KiB", 64 << 10), ("1 MiB", 1 << 20), ("64 MiB", 64 << 20)]
TARGETS = {("encode", "1 MiB"): 10.0, ("decode", "1 MiB"): 20.0}


def batch_seconds(f, arg, calls):
    t0 = time.perf_counter()
    for _ in range(calls):
        f(arg)
    return (time.perf_counter() - t0) / calls


def calls_per_batch(f, arg, batch_ms):
    calls = 1
    while True:
        t = batch_seconds(f, arg, calls) * calls
        if t * 1e3 >= batch_ms / 4 or calls >= 1 << 22:
            return max(1, int(calls * batch_ms / 1e3 / max(t, 1e-9)))
        calls *= 4


def bootstrap_median_ci(values, rng, resamples=2000):
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples))
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def interleaved(contenders, arg, rounds, batch_ms):
    """Per-call seconds of each contender per round: {name: [s, ...]}."""
    sizes = {name: calls_per_batch(f, arg, batch_ms) for name, f in contenders.items()}
    times = {name: [] for name in contenders}
    order = list(contenders)
    for r in range(rounds):
        for name in (order if r % 2 == 0 else order[::-1]):
            times[name].append(batch_seconds(contenders[name], arg, sizes[name]))
    return times


def ratio_summary(numerator, denominator, rng):
    ratios = [a / b for a, b in zip(numerator, denominator)]
    low, high = bootstrap_median_ci(ratios, rng)
    return statistics.median(ratios), low, high


def fmt_time(seconds):
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    return f"{seconds * 1e3:.1f} ms"


def codec_table(args, rng):
    rows = []
    for label, n in SIZES:
        if args.max_bytes and n > args.max_bytes:
            continue
        raw = random.Random(n).randbytes(n)
        text = base64.b64encode(raw)
        rounds = args.rounds if n < (16 << 20) else max(5, args.rounds // 3)
        enc = interleaved({"calib64": calib64.b64encode, "base64": base64.b64encode,
                           "binascii": lambda b: binascii.b2a_base64(b, newline=False)}, raw, rounds, args.batch_ms)
        dec = interleaved({"calib64": lambda t: calib64.b64decode(t, validate=True),
                           "base64": lambda t: base64.b64decode(t, validate=True),
                           "binascii": lambda t: binascii.a2b_base64(t, strict_mode=True)}, text, rounds, args.batch_ms)
        for op, times in (("encode", enc), ("decode", dec)):
            rows.append((op, label, n, times, ratio_summary(times["base64"], times["calib64"], rng),
                         ratio_summary(times["binascii"], times["calib64"], rng)))
    print("| op | size | base64 | calib64 | calib64 MB/s | x base64 (95% CI) | x binascii (95% CI) | target |")
    print("|---|---|---:|---:|---:|---|---|---|")
    for op, label, n, times, vs_base64, vs_binascii in rows:
        ours = statistics.median(times["calib64"])
        target = TARGETS.get((op, label))
        verdict = "" if target is None else f">= {target:g}x: {'met' if vs_base64[1] >= target else 'NOT met' if vs_base64[0] < target else 'median only'}"
        print(f"| {op} | {label} | {fmt_time(statistics.median(times['base64']))} | {fmt_time(ours)} | {n / ours / 1e6:.0f} "
              f"| {vs_base64[0]:.2f}x ({vs_base64[1]:.2f}-{vs_base64[2]:.2f}) "
              f"| {vs_binascii[0]:.2f}x ({vs_binascii[1]:.2f}-{vs_binascii[2]:.2f}) | {verdict} |")


def call_overhead(args, rng):
    """16 bytes: calib64.b64encode against binascii.b2a_base64 in its cheapest form."""
    raw = bytes(16)
    times = interleaved({"calib64.b64encode": calib64.b64encode, "binascii.b2a_base64": binascii.b2a_base64},
                        raw, args.rounds * 2, args.batch_ms)
    median, low, high = ratio_summary(times["binascii.b2a_base64"], times["calib64.b64encode"], rng)
    print(f"16 B per call: calib64.b64encode {fmt_time(statistics.median(times['calib64.b64encode']))}, "
          f"binascii.b2a_base64(b) {fmt_time(statistics.median(times['binascii.b2a_base64']))}; "
          f"binascii/calib64 = {median:.2f} ({low:.2f}-{high:.2f}); target >= 1: "
          f"{'met' if low >= 1 else 'NOT met' if median < 1 else 'median only'}")


def two_threads(args, rng):
    """Two Python threads each encoding 64 MiB, against the same two calls one after the other."""
    n = 64 << 20
    a, b = os.urandom(n), os.urandom(n)

    def sequential():
        t0 = time.perf_counter()
        calib64.b64encode(a)
        calib64.b64encode(b)
        return time.perf_counter() - t0

    def concurrent():
        start = threading.Barrier(3)
        workers = [threading.Thread(target=lambda d=d: (start.wait(), calib64.b64encode(d))) for d in (a, b)]
        for w in workers:
            w.start()
        start.wait()
        t0 = time.perf_counter()
        for w in workers:
            w.join()
        return time.perf_counter() - t0

    seq, conc = [], []
    sequential(), concurrent()  # warm: pages, thread pools
    for r in range(max(7, args.rounds)):
        for f, out in ((sequential, seq), (concurrent, conc))[:: 1 if r % 2 == 0 else -1]:
            out.append(f())
    median, low, high = ratio_summary(seq, conc, rng)
    backend = calib64.choose_encode(n)["backend"]
    print(f"two threads x 64 MiB encode ({backend}): concurrent {fmt_time(statistics.median(conc))}, one after the other "
          f"{fmt_time(statistics.median(seq))}; sequential/concurrent = {median:.2f} ({low:.2f}-{high:.2f}); "
          f"target > 1: {'met' if low > 1 else 'NOT met' if median <= 1 else 'median only'}")


def fresh_memory(args, rng):
    """What two threads gain when all they do is write fresh memory (ctypes memset
    releases the GIL): a 64 MiB encode writes 85 MiB of new pages, so this bounds the
    two-thread gain above on a host where first-touch page faults dominate."""
    import ctypes
    import mmap
    n = 85 << 20
    libc = ctypes.CDLL(None)
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]

    def touch():
        m = mmap.mmap(-1, n)
        view = (ctypes.c_char * n).from_buffer(m)
        libc.memset(ctypes.addressof(view), 1, n)
        del view
        m.close()

    def sequential():
        t0 = time.perf_counter()
        touch()
        touch()
        return time.perf_counter() - t0

    def concurrent():
        workers = [threading.Thread(target=touch) for _ in range(2)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return time.perf_counter() - t0

    seq, conc = [], []
    for r in range(7):
        for f, out in ((sequential, seq), (concurrent, conc))[:: 1 if r % 2 == 0 else -1]:
            out.append(f())
    median, low, high = ratio_summary(seq, conc, rng)
    print(f"for scale, two threads x 85 MiB memset of fresh pages: concurrent {fmt_time(statistics.median(conc))}, "
          f"one after the other {fmt_time(statistics.median(seq))}; sequential/concurrent = {median:.2f} "
          f"({low:.2f}-{high:.2f})")


def gil_threshold(args, rng):
    """What releasing the GIL costs a call of each size: always release against never."""
    print("| size | encode: release / keep (95% CI) | decode: release / keep (95% CI) |")
    print("|---|---|---|")
    old = calib64._calib64._gil_threshold()
    try:
        for n in [16, 1 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10]:
            raw = bytes(n)
            text = base64.b64encode(raw)
            cells = []
            for f, arg in ((calib64.b64encode, raw), (lambda t: calib64.b64decode(t, validate=True), text)):
                keep_times, release_times = [], []
                calls = calls_per_batch(f, arg, args.batch_ms)
                for r in range(args.rounds * 2):
                    for mode in ((0, release_times), (1 << 62, keep_times))[:: 1 if r % 2 == 0 else -1]:
                        calib64._calib64._gil_threshold(mode[0])
                        mode[1].append(batch_seconds(f, arg, calls))
                median, low, high = ratio_summary(release_times, keep_times, rng)
                extra = statistics.median(release_times) - statistics.median(keep_times)
                cells.append(f"{median:.3f} ({low:.3f}-{high:.3f}), {extra * 1e9:+.0f} ns")
            print(f"| {n} | {cells[0]} | {cells[1]} |")
    finally:
        calib64._calib64._gil_threshold(old)


# Per-call cost as instructions: immune to a busy machine. Each call site runs a loop
# of N and of 2N calls under callgrind; the difference over N is one call (the loop's
# own bytecodes included, the same for every contender).
CALL_SITES = {
    "len(b): the loop and a trivial C call, for scale": ("len", "raw"),
    "calib64.b64encode(b)": ("calib64.b64encode", "raw"),
    "binascii.b2a_base64(b)": ("binascii.b2a_base64", "raw"),
    "binascii.b2a_base64(b, newline=False)": ("lambda b: binascii.b2a_base64(b, newline=False)", "raw"),
    "base64.b64encode(b)": ("base64.b64encode", "raw"),
    "calib64.b64decode(t, validate=True)": ("lambda t: calib64.b64decode(t, validate=True)", "text"),
    "binascii.a2b_base64(t, strict_mode=True)": ("lambda t: binascii.a2b_base64(t, strict_mode=True)", "text"),
    "binascii.a2b_base64(t)": ("binascii.a2b_base64", "text"),
    "calib64.b64decode(t)": ("calib64.b64decode", "text"),
    "base64.b64decode(t, validate=True)": ("lambda t: base64.b64decode(t, validate=True)", "text"),
}
LOOP = """
import base64, binascii, calib64, sys
raw = bytes(range(16)); text = base64.b64encode(raw)
def run(f, x, calls):
    for _ in range(calls):
        f(x)
f = {expr}
run(f, {arg}, 1); calib64.b64encode(b"")
run(f, {arg}, {calls})
"""


def instructions(args):
    import re
    import subprocess
    env = dict(os.environ, CALIB64_KERNEL=os.environ.get("CALIB64_KERNEL", "avx2"))  # valgrind has no AVX-512

    def count(expr, arg, calls):
        run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c",
                              LOOP.format(expr=expr, arg=arg, calls=calls)], env=env, capture_output=True, text=True)
        found = re.findall(r"Collected\s*:\s*(\d+)", run.stderr)
        if run.returncode != 0 or not found:
            raise SystemExit(run.stderr[-2000:])
        return int(found[-1])

    n = 20000
    print(f"| 16 B call (CALIB64_KERNEL={env['CALIB64_KERNEL']}) | instructions per call |")
    print("|---|---:|")
    for label, (expr, arg) in CALL_SITES.items():
        per_call = (count(expr, arg, 2 * n) - count(expr, arg, n)) / n
        print(f"| {label} | {per_call:.0f} |")


def gil_contended(args):
    """A CPU-bound Python thread running beside a thread encoding in a loop: how much
    each gets done when calls release the GIL and when they keep it."""
    print("| size | mode | encodes/s (caller) | Python loop iterations/s (other thread) |")
    print("|---|---|---:|---:|")
    old = calib64._calib64._gil_threshold()
    try:
        for n in (64 << 10, 1 << 20, 16 << 20):
            raw = bytes(n)
            for mode, threshold in (("release", 0), ("keep", 1 << 62)):
                calib64._calib64._gil_threshold(threshold)
                stop = False
                spins = 0

                def spin():
                    nonlocal spins
                    while not stop:
                        spins += 1

                t = threading.Thread(target=spin)
                t.start()
                calls, t0 = 0, time.perf_counter()
                while time.perf_counter() - t0 < 1.0:
                    calib64.b64encode(raw)
                    calls += 1
                elapsed = time.perf_counter() - t0
                stop = True
                t.join()
                print(f"| {n >> 10} KiB | {mode} | {calls / elapsed:.0f} | {spins / elapsed:.0f} |")
    finally:
        calib64._calib64._gil_threshold(old)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--batch-ms", type=float, default=20.0)
    p.add_argument("--max-bytes", type=int, default=0, help="skip sizes above this")
    p.add_argument("--quick", action="store_true", help="3 rounds, 5 ms batches, up to 1 MiB")
    p.add_argument("--gil", action="store_true", help="only the GIL release threshold measurement")
    p.add_argument("--instructions", action="store_true", help="only per-call instruction counts at 16 B (callgrind)")
    p.add_argument("--two-threads-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.rounds, args.batch_ms, args.max_bytes = 3, 5.0, args.max_bytes or (1 << 20)
    rng = random.Random(1)
    calib64.b64encode(b"")  # resolve the settings before timing anything
    c = calib64.choose_encode(64 << 20)
    print(f"calib64 {calib64.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"kernel {c['kernel']}, 64 MiB encode runs {c['backend']}; {args.rounds} rounds, {args.batch_ms:g} ms batches")
    if args.gil:
        gil_threshold(args, rng)
        gil_contended(args)
        return
    if args.instructions:
        instructions(args)
        return
    if args.two_threads_only:
        two_threads(args, rng)
        return
    codec_table(args, rng)
    call_overhead(args, rng)
    if not args.max_bytes or args.max_bytes >= (64 << 20):
        two_threads(args, rng)
        # The same with every call serial: what releasing the GIL alone buys when a
        # call does not already use every core.
        import subprocess
        run = subprocess.run([sys.executable, __file__, "--two-threads-only", "--rounds", str(args.rounds)],
                             env=dict(os.environ, CALIB64_BACKEND="serial"), capture_output=True, text=True)
        print((run.stdout.splitlines() or [run.stderr])[-1])
        fresh_memory(args, rng)


if __name__ == "__main__":
    sys.exit(main())
