"""calib64: fast Base64 for Python, calibrated per host.

A drop-in for the standard library's base64 functions (same results, same
exceptions), running calib64's SIMD kernels and choosing serial or multi-threaded
execution per call from this host's calibration profile. See docs/python.md.

    >>> import calib64
    >>> calib64.b64encode(b"any bytes")
    b'YW55IGJ5dGVz'
    >>> calib64.b64decode("YW55IGJ5dGVz")
    b'any bytes'
"""
from ._calib64 import (
    Error,
    __version__,
    b64decode,
    b64encode,
    choose_decode,
    choose_encode,
    decode_file,
    decodebytes,
    encode_file,
    encodebytes,
    settings,
    standard_b64decode,
    standard_b64encode,
    urlsafe_b64decode,
    urlsafe_b64encode,
)

__all__ = [
    "Error",
    "b64decode",
    "b64encode",
    "choose_decode",
    "choose_encode",
    "decode_file",
    "decodebytes",
    "encode_file",
    "encodebytes",
    "settings",
    "standard_b64decode",
    "standard_b64encode",
    "urlsafe_b64decode",
    "urlsafe_b64encode",
]
