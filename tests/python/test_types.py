"""What each function accepts and what it raises for everything else: the same as
the standard library (calib64 may raise a subclass), and never a crash."""
import array
import base64
import binascii
import ctypes
import mmap
import subprocess
import sys

import pytest

import calib64
from support import FUNCTIONS, assert_no_mismatches, mismatch, strided

TEXT = base64.b64encode(b"hello, world!")
RAW = b"hello, world!"


class Index:
    def __index__(self):
        return 1


class Bytes(bytes):
    pass


class Str(str):
    pass


def odd_inputs(raw: bytes):
    """Every kind of argument a caller might pass, well-formed or not."""
    return {
        "bytes_subclass": Bytes(raw),
        "str": raw.decode("latin-1"),
        "str_subclass": Str(raw.decode("latin-1")),
        "non_ascii_str": raw.decode("latin-1") + "\u00e9",
        "array_i": array.array("i", raw[: len(raw) // 4 * 4]),
        "array_d": array.array("d", [1.5, 2.5]),
        "memoryview_cast_H": memoryview(raw[: len(raw) // 2 * 2]).cast("H"),
        "memoryview_cast_c": memoryview(raw).cast("c"),
        "memoryview_2d": memoryview(raw[:12]).cast("B", [3, 4]),
        "memoryview_0d": memoryview(bytes(8)).cast("Q", []),
        "strided": strided(raw),
        "strided_1": strided(raw[:1]),
        "strided_empty": strided(b""),
        "reversed": memoryview(raw)[::-1],
        "readonly_mmap": None,  # filled below
        "ctypes_array": (ctypes.c_ubyte * len(raw)).from_buffer_copy(raw),
        "ctypes_char_array": ctypes.create_string_buffer(raw, len(raw)),
        "int": 5,
        "none": None,
        "float": 1.5,
        "list": list(raw),
        "tuple": tuple(raw),
        "dict": {},
        "object": object(),
        "type": bytes,
    }


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_kind_of_argument_behaves_like_stdlib(name):
    raw = TEXT if "decode" in name else RAW
    problems = []
    for kind, x in odd_inputs(raw).items():
        if x is None and kind != "none":
            continue
        problem = mismatch(name, (x,))
        problems.append(problem and f"[{kind}] {problem}")
    assert_no_mismatches(problems)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_mmap_inputs_behave_like_stdlib(name, tmp_path):
    raw = TEXT if "decode" in name else RAW
    path = tmp_path / "data"
    path.write_bytes(raw)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        assert mismatch(name, (m,)) is None


ALTCHARS = [b"-_", "-_", b"+/", b"ab", b"abc", b"a", "abc", "\u00e9x", 5, 1.5, None, bytearray(b"-_"), memoryview(b"-_"),
            array.array("H", [1]), array.array("B", [45, 95]), [1, 2], (45, 95), strided(b"-_"), b"=="]


@pytest.mark.parametrize("name,data", [("b64encode", RAW), ("b64decode", TEXT)])
def test_altchars_of_every_kind_behave_like_stdlib(name, data):
    assert_no_mismatches(mismatch(name, (data, alt)) for alt in ALTCHARS)


def test_validate_of_every_kind_behaves_like_stdlib():
    values = [True, False, 0, 1, 2, -1, None, 1.5, "x", "", b"", 2 ** 40, Index(), [], [1]]
    assert_no_mismatches(mismatch("b64decode", (TEXT,), {"validate": v}) for v in values)


CALLS = [
    ("b64encode", (), {}),
    ("b64encode", (RAW, None, 1), {}),
    ("b64encode", (), {"s": RAW}),
    ("b64encode", (RAW,), {"s": RAW}),
    ("b64encode", (RAW,), {"altchars": b"-_"}),
    ("b64encode", (RAW,), {"foo": 1}),
    ("b64decode", (), {"s": TEXT, "validate": True}),
    ("b64decode", (TEXT,), {"altchars": b"-_", "validate": True}),
    ("b64decode", (TEXT, None, False, 4), {}),
    ("b64decode", (TEXT, None), {"altchars": None}),
    ("encodebytes", (), {"s": RAW}),
    ("decodebytes", (TEXT, 1), {}),
    ("urlsafe_b64decode", (), {}),
    ("standard_b64encode", (RAW,), {"x": 1}),
]


def test_argument_errors_are_stdlib_type_errors_with_its_words():
    assert_no_mismatches(mismatch(name, args, kwargs, compare_messages=True) for name, args, kwargs in CALLS)


def test_altchars_length_is_an_assertion_like_stdlib_and_a_value_error_under_python_O():
    # base64.py checks the length with `assert`, which python -O removes; then
    # bytes.maketrans refuses the length instead.
    with pytest.raises(AssertionError):
        calib64.b64encode(RAW, b"abc")
    script = ("import base64, calib64\n"
              "for f, d in ((base64.b64encode, b'x'), (base64.b64decode, b'eA==')):\n"
              "    for m in (base64, calib64):\n"
              "        try: getattr(m, f.__name__)(d, b'abc')\n"
              "        except Exception as e: print(type(e).__name__)\n")
    run = subprocess.run([sys.executable, "-O", "-c", script], capture_output=True, text=True, timeout=60)
    assert run.stdout.split() == ["ValueError"] * 4, run.stdout + run.stderr


def test_non_ascii_str_raises_value_error_with_the_stdlib_message():
    with pytest.raises(ValueError, match="only ASCII characters"):
        calib64.b64decode("YWJj\u00e9")
    with pytest.raises(ValueError, match="only ASCII characters"):
        calib64.urlsafe_b64decode("\u20ac")


def test_no_buffer_export_outlives_a_call():
    # Each call holds an export only while it runs (a bytearray cannot be resized
    # meanwhile, see test_threads.py); afterwards the object is free again.
    data = bytearray(base64.b64encode(bytes(3 << 18)))
    for f in (calib64.b64decode, calib64.decodebytes, calib64.b64encode, calib64.encodebytes):
        f(data)
        data.extend(b"AAAA")
        del data[-4:]
    m = mmap.mmap(-1, 16)
    calib64.b64encode(m)
    calib64.b64decode(m)
    m.close()  # refused with BufferError while an export exists


def test_results_are_new_bytes_objects_even_for_empty_input():
    for name in FUNCTIONS:
        for x in (b"", bytearray(), memoryview(b"")):
            out = getattr(calib64, name)(x)
            assert type(out) is bytes and out == b"", name


def test_decode_errors_are_binascii_errors_with_offset_and_reason():
    with pytest.raises(binascii.Error) as e:
        calib64.b64decode(b"QUJD*EFG", validate=True)
    assert isinstance(e.value, calib64.Error)
    assert (e.value.offset, e.value.reason) == (4, "invalid character")
    assert str(e.value) == "Only base64 data is allowed"
    with pytest.raises(calib64.Error) as e:
        calib64.b64decode(b"QUJDRA")
    assert (e.value.offset, e.value.reason, str(e.value)) == (6, "truncated input", "Incorrect padding")
    assert calib64.Error.offset is None and calib64.Error.reason is None  # class defaults
