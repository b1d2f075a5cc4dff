#!/usr/bin/env python3
"""calib64's command line against coreutils base64 and peer CLIs, whole-process wall time.

Every tool is run on the same input in the page cache, for each output mode
(/dev/null; a new regular file, as a shell's `>` makes it; a pipe into `cat`) and
operation (encode -w 0, encode -w 76, decode of 76-column text, and start-up: encoding
an empty file), in interleaved rounds: each round runs every tool once per cell, in an
order that rotates by one each round, so drifts of a shared machine hit all tools
alike. Prints one compact table:

    mode  operation  tool  ms median [95% interval of the median]  ratio to the fastest other tool [95%]

plus each tool's median context switches (voluntary + involuntary) and CPU time
(user + system, all threads), from wait4's rusage: they depend far less on the
machine's load than wall time does. With --syscalls it also runs every cell once
under `strace -f -c` and prints the system calls that matter (read, write, futex,
sched_yield, openat, clone). Peer binaries are passed in, never built here; each is
called with coreutils' flags (`-w N FILE`, `-d FILE`), which aklomp/base64's
bin/base64 and simdutf's fastbase64 accept.

    bench/cli_vs_coreutils.py [--calib64 build/src/cli/calib64] \\
        [--peer aklomp=/path/to/base64/bin/base64] [--peer fastbase64=/path/to/fastbase64] \\
        [--mib 100] [--rounds 41] [--modes null,file,pipe] [--ops w0,w76,decode,startup] [--syscalls]
"""
import argparse
import math
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MODES = {"null": "/dev/null", "file": "a new file (>)", "pipe": "a pipe into cat"}
OPS = {"w0": "encode -w 0", "w76": "encode -w 76", "decode": "decode -d", "startup": "empty input"}


def op_args(op, files):
    if op == "w0":
        return ["-w", "0", files["raw"]]
    if op == "w76":
        return ["-w", "76", files["raw"]]
    if op == "decode":
        return ["-d", files["text"]]
    return [files["empty"]]


def run_once(argv, mode, out_path):
    """Wall seconds and the rusage of one run of argv with stdout in `mode`."""
    consumer = None
    if mode == "null":
        out_fd = os.open(os.devnull, os.O_WRONLY)
    elif mode == "file":
        if os.path.exists(out_path):
            os.unlink(out_path)
        out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    else:
        read_end, out_fd = os.pipe()
        null = os.open(os.devnull, os.O_WRONLY)
    start = time.perf_counter()
    if mode == "pipe":
        consumer = subprocess.Popen(["cat"], stdin=read_end, stdout=null)
        os.close(read_end)
        os.close(null)
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, out_fd, 1)])
    os.close(out_fd)
    _, status, usage = os.wait4(pid, 0)
    if consumer is not None:
        consumer.wait()
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({os.waitstatus_to_exitcode(status)})")
    return wall, usage.ru_nvcsw + usage.ru_nivcsw, usage.ru_utime + usage.ru_stime


def median_interval(xs, level=0.95):
    """Median and a distribution-free interval for it (order statistics, binomial ranks)."""
    xs = sorted(xs)
    n = len(xs)
    # Normal approximation to Binomial(n, 1/2) for the ranks around the median.
    z = 1.959963984540054 if level == 0.95 else 2.5758293035489
    half = z * math.sqrt(n) / 2
    lo = max(0, int(math.floor(n / 2 - half)))
    hi = min(n - 1, int(math.ceil(n / 2 + half)) - 1)
    return statistics.median(xs), xs[lo], xs[hi]


def ratio_interval(a, b, rng, resamples=2000):
    """Bootstrap 95% interval of median(a) / median(b)."""
    rs = sorted(statistics.median(rng.choices(a, k=len(a))) / statistics.median(rng.choices(b, k=len(b)))
                for _ in range(resamples))
    return rs[int(0.025 * resamples)], rs[int(0.975 * resamples) - 1]


def measure_cell(tools, mode, op, files, rounds, workdir):
    argvs = {name: [path] + op_args(op, files) for name, path in tools.items()}
    walls = {name: [] for name in tools}
    switches = {name: [] for name in tools}
    cpu = {name: [] for name in tools}
    names = list(tools)
    out_path = os.path.join(workdir, "out")
    for name in names:  # warm-up: binaries, page cache, the output file system
        run_once(argvs[name], mode, out_path)
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            wall, cs, cpu_s = run_once(argvs[name], mode, out_path)
            walls[name].append(wall)
            switches[name].append(cs)
            cpu[name].append(cpu_s)
    if os.path.exists(out_path):
        os.unlink(out_path)
    return walls, switches, cpu


STRACE_LINE = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$")


def syscall_counts(argv, mode, workdir):
    """Calls per system call of one run under strace -f -c (stdout as in `mode`)."""
    summary = os.path.join(workdir, "strace.txt")
    out_path = os.path.join(workdir, "out")
    cmd = ["strace", "-f", "-c", "-o", summary] + argv
    if mode == "pipe":
        shell = " ".join(map(shlex.quote, cmd)) + " | cat > /dev/null"
        subprocess.run(shell, shell=True, check=True)
    else:
        with open(os.devnull if mode == "null" else out_path, "wb") as out:
            subprocess.run(cmd, stdout=out, check=True)
    counts = {}
    with open(summary) as f:
        for line in f:
            m = STRACE_LINE.match(line)
            if m:
                counts[m.group(2)] = int(m.group(1))
    os.unlink(summary)
    if os.path.exists(out_path):
        os.unlink(out_path)
    return counts


def make_inputs(d, mib):
    files = {"raw": os.path.join(d, "random.bin"), "text": os.path.join(d, "random.b64"),
             "empty": os.path.join(d, "empty")}
    with open(files["raw"], "wb") as f:
        f.write(os.urandom(mib << 20))
    with open(files["text"], "wb") as f:
        subprocess.run(["base64", files["raw"]], stdout=f, check=True)
    open(files["empty"], "wb").close()
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calib64", default="build/src/cli/calib64")
    ap.add_argument("--coreutils", default=shutil.which("base64") or "/usr/bin/base64")
    ap.add_argument("--peer", action="append", default=[], metavar="NAME=PATH",
                    help="another CLI that takes coreutils' flags (repeatable)")
    ap.add_argument("--mib", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=41)
    ap.add_argument("--startup-rounds", type=int, default=201)
    ap.add_argument("--modes", default="null,file,pipe")
    ap.add_argument("--ops", default="w0,w76,decode,startup")
    ap.add_argument("--dir", default=None, help="where the inputs and the output file go (default: a temp dir)")
    ap.add_argument("--syscalls", action="store_true", help="also count system calls once per cell (strace -f -c)")
    args = ap.parse_args()

    tools = {"calib64": os.path.abspath(args.calib64), "coreutils": args.coreutils}
    for spec in args.peer:
        name, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"--peer wants NAME=PATH, got {spec!r}")
        tools[name] = os.path.abspath(path)
    for name, path in tools.items():
        if not os.access(path, os.X_OK):
            raise SystemExit(f"{name}: {path} is not executable")
    modes = args.modes.split(",")
    ops = args.ops.split(",")
    rng = random.Random(1)

    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        files = make_inputs(d, args.mib)
        print(f"{args.mib} MiB random input (decode: its 76-column base64), {args.rounds} interleaved rounds "
              f"({args.startup_rounds} for start-up), load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
        print(f"{'mode':<6} {'operation':<13} {'tool':<11} {'ms median [95% CI]':<24} "
              f"{'ratio to fastest other [95%]':<30} {'ctx sw':>6} {'CPU ms':>7}")
        for mode in modes:
            for op in ops:
                if op == "startup" and mode != "null":
                    continue
                rounds = args.startup_rounds if op == "startup" else args.rounds
                walls, switches, cpu = measure_cell(tools, mode, op, files, rounds, d)
                medians = {n: statistics.median(w) for n, w in walls.items()}
                for name in tools:
                    med, lo, hi = median_interval(walls[name])
                    others = [o for o in tools if o != name]
                    best = min(others, key=lambda o: medians[o])
                    ratio = medians[name] / medians[best]
                    rlo, rhi = ratio_interval(walls[name], walls[best], rng)
                    cell = f"{med * 1e3:7.2f} [{lo * 1e3:.2f}-{hi * 1e3:.2f}]"
                    rcell = f"{ratio:5.2f} [{rlo:.2f}-{rhi:.2f}] vs {best}"
                    print(f"{mode:<6} {OPS[op]:<13} {name:<11} {cell:<24} {rcell:<30} "
                          f"{statistics.median(switches[name]):6.0f} {statistics.median(cpu[name]) * 1e3:7.1f}", flush=True)
        if args.syscalls:
            if not shutil.which("strace"):
                raise SystemExit("--syscalls needs strace (apt-get install strace)")
            keys = ["read", "write", "writev", "futex", "sched_yield", "openat", "clone3", "clone", "poll", "total"]
            print(f"\nsystem calls, one run each under strace -f -c\n{'mode':<6} {'operation':<13} {'tool':<11} " +
                  " ".join(f"{k:>11}" for k in keys))
            for mode in modes:
                for op in ops:
                    if op == "startup" and mode != "null":
                        continue
                    for name, path in tools.items():
                        c = syscall_counts([path] + op_args(op, files), mode, d)
                        print(f"{mode:<6} {OPS[op]:<13} {name:<11} " + " ".join(f"{c.get(k, 0):>11}" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
