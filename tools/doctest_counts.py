#!/usr/bin/env python3
"""Prints '<passed> <failed>' doctest test cases summed over a meson testlog.json.

A test executable that crashed or printed no doctest summary counts as one failure,
so a broken binary can never look green."""
import json
import re
import sys

SUMMARY = re.compile(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")
passed = failed = 0
with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
    for line in log:
        entry = json.loads(line)
        found = SUMMARY.findall(entry.get("stdout", "") or "")
        if found:
            _, p, f = map(int, found[-1])
            passed += p
            failed += f
            if entry.get("result") != "OK" and f == 0:
                failed += 1  # crashed after its summary, or a sanitizer report at exit
        else:
            failed += entry.get("result") != "OK"
            passed += entry.get("result") == "OK"
print(passed, failed)
