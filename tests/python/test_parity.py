"""calib64's base64 functions against the standard library's, input by input.

Every length 0..4096 for every function and every buffer kind, random valid and
invalid inputs, garbage inserted for validate=False, a brute force over short
strings, some inputs of tens of MiB, and the same under the parallel backends."""
import base64
import json
import os
import random
import subprocess
import sys

import pytest

import calib64
from support import (B64DECODE_VARIANTS, BUFFER_KINDS, DECODE_KINDS, ENCODERS, SPECIAL, assert_no_mismatches,
                     decode_calls, encoded_forms, insert_garbage, mismatch, mutate, raw_of_length)

LENGTHS = range(0, 4097)


@pytest.mark.parametrize("name", ENCODERS)
def test_encoder_matches_stdlib_for_every_length_and_buffer_kind(name):
    problems = []
    for n in LENGTHS:
        raw = raw_of_length(n)
        for make in BUFFER_KINDS.values():
            x = make(raw)
            if x is not None:
                problems.append(mismatch(name, (x,)))
    assert_no_mismatches(problems)


@pytest.mark.parametrize("altchars", [b"-_", b"+/", b"*!", bytearray(b"._"), memoryview(b"~~")])
def test_b64encode_altchars_match_stdlib_for_every_length(altchars):
    assert_no_mismatches(mismatch("b64encode", (raw_of_length(n), altchars)) for n in LENGTHS)


@pytest.mark.parametrize("kind", list(DECODE_KINDS))
def test_decoders_match_stdlib_on_valid_text_of_every_length(kind):
    make = DECODE_KINDS[kind]
    # Every b64decode variant for bytes; for the other kinds (how the input is taken,
    # not how it is decoded) each function and both validate modes.
    variants = B64DECODE_VARIANTS if kind == "bytes" else [(None, False), (None, True)]
    problems = []
    for n in LENGTHS:
        for text in encoded_forms(n):
            x = make(text)
            if x is None:
                continue
            for name, args, kwargs in decode_calls(x, variants):
                problems.append(mismatch(name, args, kwargs, compare_messages=True))
    assert_no_mismatches(problems)


def test_decoders_match_stdlib_on_mutated_text_of_every_length():
    rng = random.Random(12)
    problems = []
    for n in LENGTHS:
        for text in encoded_forms(n)[:3]:
            bad = mutate(rng, text, rng.randrange(1, 4))
            for name, args, kwargs in decode_calls(bad):
                problems.append(mismatch(name, args, kwargs, compare_messages=True))
    assert_no_mismatches(problems)


def test_validate_false_discards_inserted_garbage_like_stdlib():
    rng = random.Random(13)
    problems = []
    for n in LENGTHS:
        raw = raw_of_length(n)
        for text in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            bad = insert_garbage(rng, text, rng.randrange(1, 9))
            for name, args, kwargs in decode_calls(bad):
                problems.append(mismatch(name, args, kwargs, compare_messages=True))
            # Garbage that is the other alphabet's '+' '/' or '-' '_', and stray '='.
            bad = mutate(rng, text, 2)
            problems.append(mismatch("b64decode", (bad,), {}, compare_messages=True))
    assert_no_mismatches(problems)


def test_decoders_match_stdlib_on_every_short_string_pattern():
    # Random strings over the alphabet's edges and everything special: short inputs
    # are where the padding and stopping rules live.
    rng = random.Random(14)
    symbols = b"AQgw" + b"+/" + SPECIAL
    problems = []
    for _ in range(40_000):
        text = bytes(rng.choice(symbols) for _ in range(rng.randrange(0, 13)))
        for name, args, kwargs in decode_calls(text):
            problems.append(mismatch(name, args, kwargs, compare_messages=True))
    assert_no_mismatches(problems)


def test_non_canonical_trailing_bits_decode_like_stdlib():
    # 'AR==' and 'ABD=' carry bits the encoder would have left zero: the standard
    # library ignores them (calib64's own decoder refuses them).
    problems = []
    for prefix in (b"", b"QUJD" * 100, b"QUJD" * 20000):
        for tail in (b"AR==", b"AB/=", b"ABD=", b"A/==", b"ARR="):
            for name, args, kwargs in decode_calls(prefix + tail):
                problems.append(mismatch(name, args, kwargs, compare_messages=True))
    assert_no_mismatches(problems)


@pytest.fixture(scope="module")
def large():
    raw = random.Random(15).randbytes(24 << 20)
    return raw, base64.b64encode(raw)


def test_large_inputs_encode_like_stdlib(large):
    raw, _ = large
    assert_no_mismatches(mismatch(name, (x,)) for name in ENCODERS
                         for x in (raw, bytearray(raw), memoryview(raw)[1:]))
    assert_no_mismatches([mismatch("b64encode", (raw, b"-_")), mismatch("b64encode", (raw, b"*!"))])


def test_large_inputs_decode_like_stdlib(large):
    raw, text = large
    mid = len(text) // 2 // 4 * 4
    texts = [
        text,
        text + b"\n",                           # a file's trailing newline
        base64.encodebytes(raw),                # MIME lines
        text[:mid] + b"*" + text[mid:],         # one garbage byte in the middle
        text[:mid] + b"=" + text[mid:],         # a stray '='
        text[:-4] + b"AR==",                    # non-canonical last quantum
        text[:-1],                              # missing padding
        text[:mid] + b"==" + text[mid:],        # padding in the middle: stops there
        text.replace(b"+", b"-").replace(b"/", b"_"),
    ]
    # At this size each stdlib call takes a while: every function on the plain text,
    # both validate modes (and the function made for it) on the others.
    problems = [mismatch(name, args, kwargs, compare_messages=True)
                for name, args, kwargs in decode_calls(text, [(None, False), (None, True), (b"-_", False)])]
    for t in texts[1:]:
        problems.append(mismatch("b64decode", (t,), {}, compare_messages=True))
        problems.append(mismatch("b64decode", (t,), {"validate": True}, compare_messages=True))
    problems.append(mismatch("decodebytes", (texts[2],), {}, compare_messages=True))
    problems.append(mismatch("urlsafe_b64decode", (texts[-1],), {}, compare_messages=True))
    problems.append(mismatch("b64decode", (text.decode(),), {}))
    assert_no_mismatches(problems)


def tiny_chunk_profile(tmp_path, backend):
    """A profile that sends every size to `backend` with 12-byte chunks on 3 threads,
    so that the parallel paths run even for short inputs."""
    tuning = {"threads": 3, "chunk_bytes": 12}
    op = {"kernel": "auto", "switch_points": [{"from_bytes": 0, "backend": backend}],
          "tuning": {"work_stealing": tuning, "pipeline": tuning}}
    profile = {"schema_version": 1, "tool_version": calib64.__version__, "created_utc": "2026-01-01T00:00:00Z",
               "host": {"fingerprint": "0000000000000000"}, "encode": op, "decode": op}
    path = tmp_path / f"{backend}.json"
    path.write_text(json.dumps(profile))
    return path


PARALLEL_CHECK = r"""
import base64, random, sys
import calib64
from support import decode_calls, encoded_forms, mismatch, mutate, insert_garbage, assert_no_mismatches
expected = sys.argv[1]
assert calib64.choose_encode(100)["backend"] == expected, calib64.choose_encode(100)
assert calib64.choose_decode(100)["backend"] == expected, calib64.choose_decode(100)
rng = random.Random(16)
problems = []
for n in range(0, 700):
    raw = rng.randbytes(n)
    problems.append(mismatch("b64encode", (raw,)))
    problems.append(mismatch("encodebytes", (raw,)))
    for text in encoded_forms(n):
        for bad in (text, mutate(rng, text, 1), insert_garbage(rng, text, 2)):
            for name, args, kwargs in decode_calls(bad):
                problems.append(mismatch(name, args, kwargs, compare_messages=True))
assert_no_mismatches(problems)
print("parity ok")
"""


@pytest.mark.parametrize("backend", ["work_stealing", "pipeline"])
def test_parity_holds_when_the_parallel_backends_run(tmp_path, backend):
    env = dict(os.environ, CALIB64_PROFILE=str(tiny_chunk_profile(tmp_path, backend)), CALIB64_TRUST_PROFILE="1")
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(__file__), env.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-c", PARALLEL_CHECK, backend], env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0 and "parity ok" in run.stdout, run.stdout + run.stderr
