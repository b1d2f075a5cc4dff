# Type stubs for calib64._calib64 (re-exported by the package calib64).
import binascii
import mmap
import array
from os import PathLike
from typing import Literal, TypedDict, Union


# Anything with the buffer protocol: bytes, bytearray, memoryview, array.array, mmap, ...
ReadableBuffer = Union[bytes, bytearray, memoryview, array.array, mmap.mmap]
StrOrBuffer = Union[str, ReadableBuffer]
StrPath = Union[str, bytes, PathLike[str], PathLike[bytes]]

__version__: str

class Error(binascii.Error):
    """Invalid Base64 input: a binascii.Error with .offset and .reason."""
    offset: int | None
    reason: str | None

def b64encode(s: ReadableBuffer, altchars: ReadableBuffer | None = None) -> bytes: ...
def b64decode(s: StrOrBuffer, altchars: StrOrBuffer | None = None, validate: bool = False) -> bytes: ...
def standard_b64encode(s: ReadableBuffer) -> bytes: ...
def standard_b64decode(s: StrOrBuffer) -> bytes: ...
def urlsafe_b64encode(s: ReadableBuffer) -> bytes: ...
def urlsafe_b64decode(s: StrOrBuffer) -> bytes: ...
def encodebytes(s: ReadableBuffer) -> bytes: ...
def decodebytes(s: ReadableBuffer) -> bytes: ...

class Choice(TypedDict):
    backend: Literal["serial", "work_stealing", "pipeline"]
    kernel: Literal["scalar", "avx2", "avx512", "neon"]
    threads: int       # 0: every CPU this process may use
    chunk_bytes: int   # 0: the backend's default
    pin_threads: bool

def choose_encode(n: int) -> Choice: ...
def choose_decode(n: int) -> Choice: ...

class SettingRow(TypedDict):
    name: str
    value: str
    origin: Literal["default", "topology", "profile", "environment"]
    note: str | None

class Settings(TypedDict):
    profile: str | None
    status: str
    rows: list[SettingRow]
    messages: list[str]

def settings() -> Settings: ...

def encode_file(src: StrPath, dst: StrPath, urlsafe: bool = False, wrap: int = 0) -> tuple[int, int]: ...
def decode_file(
    src: StrPath,
    dst: StrPath,
    urlsafe: bool = False,
    ignore: Literal["none", "whitespace", "non_alphabet"] = "whitespace",
) -> tuple[int, int]: ...
def _gil_threshold(n: int | None = None, /) -> int: ...
