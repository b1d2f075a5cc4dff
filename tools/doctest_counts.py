#!/usr/bin/env python3
"""Prints '<passed> <failed>' doctest test cases summed over a meson testlog.json.

A test executable that crashed or printed no doctest summary counts as one failure,
so a broken binary can never look green. The pytest run (meson test 'python')
contributes the counts of its closing line, e.g. "2 failed, 1210 passed in 41.2s"
(errors count as failures, skips as neither); without that line it counts as one
failure too."""
import json
import re
import sys

SUMMARY = re.compile(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")
PYTEST = re.compile(r"^=*\s*((?:\d+ [a-z]+(?:, )?)+) in [\d.]+s\b", re.M)


def pytest_counts(stdout):
    """(passed, failed) from pytest's closing line, or None."""
    found = PYTEST.findall(stdout)
    if not found:
        return None
    counts = {word: int(n) for n, word in re.findall(r"(\d+) ([a-z]+)", found[-1])}
    return counts.get("passed", 0), counts.get("failed", 0) + counts.get("error", 0) + counts.get("errors", 0)


passed = failed = 0
with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
    for line in log:
        entry = json.loads(line)
        found = SUMMARY.findall(entry.get("stdout", "") or "")
        from_pytest = None if found else pytest_counts(entry.get("stdout", "") or "")
        if from_pytest:
            p, f = from_pytest
            passed += p
            failed += f + (entry.get("result") != "OK" and f == 0)  # crashed, or exited non-zero
        elif found:
            _, p, f = map(int, found[-1])
            passed += p
            failed += f
            if entry.get("result") != "OK" and f == 0:
                failed += 1  # crashed after its summary, or a sanitizer report at exit
        else:
            failed += entry.get("result") != "OK"
            passed += entry.get("result") == "OK"
print(passed, failed)
