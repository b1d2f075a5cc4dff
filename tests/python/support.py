"""Shared helpers for the calib64 Python tests: input kinds and stdlib comparison.

The standard library is the specification: every check runs the same call through
base64 and calib64 and compares the results, or the exception types (calib64 may
raise a subclass, e.g. calib64.Error for binascii.Error)."""
import array
import base64
import mmap
import random

import calib64

FUNCTIONS = [
    "b64encode", "b64decode", "standard_b64encode", "standard_b64decode",
    "urlsafe_b64encode", "urlsafe_b64decode", "encodebytes", "decodebytes",
]
ENCODERS = [f for f in FUNCTIONS if "encode" in f]
DECODERS = [f for f in FUNCTIONS if "decode" in f]


def strided(raw: bytes) -> memoryview:
    """A non-contiguous 1-D memoryview over `raw` (every other byte of a bigger buffer)."""
    base = bytearray(2 * len(raw))
    base[::2] = raw
    return memoryview(base)[::2]


def anonymous_mmap(raw: bytes):
    if not raw:
        return None  # an anonymous mmap cannot be empty
    m = mmap.mmap(-1, len(raw))
    m.write(raw)
    m.seek(0)
    return m


# Every bytes-like layout the buffer protocol offers, plus str (decoders take ASCII str).
BUFFER_KINDS = {
    "bytes": bytes,
    "bytearray": bytearray,
    "memoryview": memoryview,
    "memoryview_of_bytearray": lambda raw: memoryview(bytearray(raw)),
    "array_B": lambda raw: array.array("B", raw),
    "array_b": lambda raw: array.array("b", raw),
    "mmap": anonymous_mmap,
    "strided_memoryview": strided,
}
DECODE_KINDS = dict(BUFFER_KINDS, str=lambda raw: raw.decode("latin-1"))


def call(module, name, *args, **kwargs):
    """('ok', result) or ('raised', exception type, message)."""
    try:
        return ("ok", getattr(module, name)(*args, **kwargs))
    except Exception as e:  # noqa: BLE001 - comparing exactly what each raises
        return ("raised", type(e), str(e))


def mismatch(name, args, kwargs=None, compare_messages=False):
    """None when calib64.<name>(*args) behaves as base64.<name>(*args), else a description."""
    kwargs = kwargs or {}
    theirs = call(base64, name, *args, **kwargs)
    ours = call(calib64, name, *args, **kwargs)
    if theirs[0] == "ok":
        if ours[0] == "ok" and type(ours[1]) is bytes and ours[1] == theirs[1]:
            return None
    elif ours[0] == "raised" and issubclass(ours[1], theirs[1]):
        if not compare_messages or ours[2] == theirs[2]:
            return None
    shown = [a[:80] if isinstance(a, (bytes, str)) and len(a) > 80 else a for a in args]
    return f"{name}({shown!r}, {kwargs}): base64 gave {summary(theirs)}, calib64 gave {summary(ours)}"


def summary(outcome):
    if outcome[0] == "ok":
        r = outcome[1]
        return f"{type(r).__name__} of {len(r)} bytes {r[:40]!r}"
    return f"{outcome[1].__name__}({outcome[2]!r})"


def assert_no_mismatches(problems, limit=10):
    problems = [p for p in problems if p]
    assert not problems, f"{len(problems)} mismatches, first {limit}:\n" + "\n".join(problems[:limit])


STANDARD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# What the standard library treats specially somewhere: padding, whitespace, the URL
# characters, bytes outside ASCII, NUL.
SPECIAL = b"= \t\n\r\x0b\x0c-_+/*.\x00\x7f\x80\xff"


def mutate(rng: random.Random, text: bytes, edits: int) -> bytes:
    """`text` with `edits` random insertions, deletions or replacements, biased towards
    the characters that matter."""
    s = bytearray(text)
    for _ in range(edits):
        pos = rng.randrange(len(s) + 1)
        op = rng.randrange(4)
        byte = rng.choice(SPECIAL) if rng.random() < 0.7 else rng.randrange(256)
        if op == 0 or not s:
            s.insert(pos, byte)
        elif op == 1:
            del s[min(pos, len(s) - 1)]
        elif op == 2:
            s[min(pos, len(s) - 1)] = byte
        else:
            s.insert(pos, ord("="))
    return bytes(s)


def insert_garbage(rng: random.Random, text: bytes, count: int) -> bytes:
    """`text` with `count` bytes that are neither alphabet nor '=' inserted anywhere:
    b64decode(validate=False) discards them."""
    garbage = [b for b in range(256) if b not in STANDARD and b != ord("=")]
    s = bytearray(text)
    for _ in range(count):
        s.insert(rng.randrange(len(s) + 1), rng.choice(garbage))
    return bytes(s)


def raw_of_length(n: int) -> bytes:
    return random.Random(n).randbytes(n)


def encoded_forms(n: int):
    """Text the decoders meet: plain, URL-safe, MIME lines, with a trailing newline."""
    raw = raw_of_length(n)
    return [base64.b64encode(raw), base64.urlsafe_b64encode(raw), base64.encodebytes(raw),
            base64.b64encode(raw) + b"\n"]


# b64decode's argument combinations: (altchars, validate).
B64DECODE_VARIANTS = [(None, False), (None, True), (b"-_", False), (b"-_", True), (b"*!", False), (b"*!", True)]


def decode_calls(text, variants=B64DECODE_VARIANTS):
    """(name, args, kwargs) of every decoder call worth comparing on `text`."""
    calls = [(name, (text,), {}) for name in DECODERS if name != "b64decode"]
    calls += [("b64decode", (text, alt, validate), {}) for alt, validate in variants]
    return calls
