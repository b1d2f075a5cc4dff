"""encode_file / decode_file: bounded-memory streaming through the library."""
import base64
import os
import random

import pytest

import calib64


@pytest.fixture
def data(tmp_path):
    raw = random.Random(31).randbytes(3 << 20 | 5)
    src = tmp_path / "raw.bin"
    src.write_bytes(raw)
    return raw, src


def test_encode_file_writes_what_b64encode_returns(data, tmp_path):
    raw, src = data
    dst = tmp_path / "out.b64"
    assert calib64.encode_file(src, dst) == (len(raw), len(base64.b64encode(raw)))
    assert dst.read_bytes() == base64.b64encode(raw)


def test_encode_file_with_wrap_76_writes_what_encodebytes_returns(data, tmp_path):
    raw, src = data
    dst = tmp_path / "out.b64"
    calib64.encode_file(str(src), str(dst), wrap=76)
    assert dst.read_bytes() == base64.encodebytes(raw)


def test_urlsafe_files_round_trip(data, tmp_path):
    raw, src = data
    mid, back = tmp_path / "u.b64", tmp_path / "back.bin"
    calib64.encode_file(src, mid, urlsafe=True)
    assert mid.read_bytes() == base64.urlsafe_b64encode(raw)
    assert calib64.decode_file(mid, back, urlsafe=True) == (len(base64.urlsafe_b64encode(raw)), len(raw))
    assert back.read_bytes() == raw


def test_decode_file_skips_line_breaks_by_default_and_paths_may_be_bytes(data, tmp_path):
    raw, _ = data
    src, dst = tmp_path / "mime.b64", tmp_path / "back.bin"
    src.write_bytes(base64.encodebytes(raw))
    calib64.decode_file(os.fsencode(src), os.fsencode(dst))
    assert dst.read_bytes() == raw
    with pytest.raises(calib64.Error):
        calib64.decode_file(src, dst, ignore="none")


def test_invalid_input_raises_binascii_error_with_the_absolute_offset_and_keeps_dst(tmp_path):
    src, dst = tmp_path / "bad.b64", tmp_path / "out.bin"
    text = bytearray(base64.b64encode(bytes(1 << 20)))
    text[700_001] = ord("*")
    src.write_bytes(bytes(text))
    dst.write_bytes(b"old content")
    with pytest.raises(calib64.Error) as e:
        calib64.decode_file(src, dst)
    assert e.value.offset == 700_001 and e.value.reason == "invalid character"
    assert dst.read_bytes() == b"old content"  # replaced only on success


def test_io_errors_raise_oserror_subclasses_naming_the_file(tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(FileNotFoundError) as e:
        calib64.encode_file(missing, tmp_path / "out")
    assert e.value.filename == missing
    (tmp_path / "in").write_bytes(b"abc")
    with pytest.raises(OSError) as e:
        calib64.encode_file(tmp_path / "in", tmp_path / "no-such-dir" / "out")
    assert e.value.errno is not None


def test_bad_arguments_raise_type_or_value_errors(tmp_path):
    with pytest.raises(TypeError):
        calib64.encode_file(5, tmp_path / "x")
    with pytest.raises(ValueError):
        calib64.encode_file("a\0b", tmp_path / "x")
    with pytest.raises(ValueError):
        calib64.decode_file(tmp_path / "x", tmp_path / "y", ignore="everything")
    with pytest.raises(ValueError):
        calib64.encode_file(tmp_path / "x", tmp_path / "y", wrap=-1)
    with pytest.raises(TypeError):
        calib64.encode_file(tmp_path / "x")
