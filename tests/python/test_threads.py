"""Many Python threads at once, the GIL released for large calls only, and fork."""
import base64
import os
import random
import subprocess
import sys
import threading
import time

import calib64


def test_many_threads_encoding_and_decoding_at_once_get_the_stdlib_answers():
    rng = random.Random(21)
    # Sizes below and above the GIL threshold and the parallel backends' switch points.
    sizes = [0, 1, 16, 1000, 40_000, 300_000, 3 << 20]
    cases = []
    for n in sizes:
        raw = rng.randbytes(n)
        text = base64.b64encode(raw)
        cases.append((raw, text, base64.encodebytes(raw), base64.urlsafe_b64encode(raw)))
    errors = []

    def work(seed):
        r = random.Random(seed)
        try:
            for _ in range(30):
                raw, text, mime, url = r.choice(cases)
                assert calib64.b64encode(raw) == text
                assert calib64.b64decode(text, validate=True) == raw
                assert calib64.decodebytes(mime) == raw
                assert calib64.urlsafe_b64decode(url) == raw
                assert calib64.encodebytes(memoryview(raw)) == mime
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


class Ticker:
    """A thread that counts while it holds the GIL and gives it up at once (sleep(0)).
    With a huge switch interval it can only run while another thread releases the GIL."""

    def __init__(self):
        self.count = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run)

    def run(self):
        while not self.stop:
            self.count += 1
            time.sleep(0)


def test_the_gil_is_released_during_large_calls_and_kept_during_small_ones():
    calib64.b64encode(b"warm up")  # the first call resolves the settings without the GIL
    big = bytes(8 << 20)
    big_text = calib64.b64encode(big)
    small = b"x" * 1000
    small_text = calib64.b64encode(small)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000)
    ticker = Ticker()
    try:
        ticker.thread.start()
        time.sleep(0.05)
        before = ticker.count
        for _ in range(2000):
            calib64.b64encode(small)
            calib64.b64decode(small_text)
        during_small = ticker.count - before
        before = ticker.count
        calib64.b64encode(big)
        calib64.b64decode(big_text)
        calib64.encodebytes(big)
        during_large = ticker.count - before
    finally:
        ticker.stop = True
        ticker.thread.join()
        sys.setswitchinterval(old)
    assert during_small == 0
    assert during_large > 0


def test_a_bytearray_being_decoded_in_one_thread_cannot_be_resized_by_another():
    raw = bytes(range(256)) * 8192
    data = bytearray(base64.b64encode(raw))
    refused = 0
    stop = False
    errors = []

    def resize():
        nonlocal refused
        while not stop:
            try:
                data.extend(b"AAAA")
                del data[-4:]
            except BufferError:  # an export is held: exactly what keeps the decoder safe
                refused += 1

    t = threading.Thread(target=resize)
    t.start()
    try:
        for _ in range(50):
            out = calib64.b64decode(data)
            if out != raw and out != raw + bytes(3):
                errors.append(len(out))
    finally:
        stop = True
        t.join()
    assert errors == []


FORK_CHECK = r"""
import os, calib64, base64
big = os.urandom(8 << 20)
text = calib64.b64encode(big)  # parallel backend: starts worker threads
assert calib64.choose_encode(len(big))["backend"] != "serial" or os.cpu_count() == 1
pid = os.fork()
if pid == 0:
    ok = calib64.b64encode(big) == text and calib64.b64decode(text, validate=True) == big
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status))
"""


def test_a_forked_child_can_still_encode_after_the_parent_used_the_parallel_backends():
    for backend in ("work_stealing", "pipeline"):
        env = dict(os.environ, CALIB64_BACKEND=backend)
        run = subprocess.run([sys.executable, "-c", FORK_CHECK], env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and "child exit 0" in run.stdout, backend + run.stdout + run.stderr
