"""The documented install: an offline pip install into a virtual environment.

About a minute on the 2-core development VM (it compiles libcalib64 again), so it
runs when CALIB64_TEST_PIP_INSTALL=1 (tools/test.sh --ci sets it) and is reported
as skipped otherwise."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

SOURCE_ROOT = pathlib.Path(os.environ.get("CALIB64_TEST_SOURCE_ROOT", pathlib.Path(__file__).parents[2]))

pytestmark = pytest.mark.skipif(os.environ.get("CALIB64_TEST_PIP_INSTALL") != "1",
                                reason="set CALIB64_TEST_PIP_INSTALL=1 to run the offline pip install (~1 min)")

CHECK = r"""
import base64, calib64, os, sys
assert calib64.__file__.startswith(sys.prefix), calib64.__file__
raw = os.urandom(1 << 20)
assert calib64.b64encode(raw) == base64.b64encode(raw)
assert calib64.b64decode(base64.encodebytes(raw)) == raw
print("installed ok")
"""


def test_offline_pip_install_into_a_venv_installs_only_the_python_package(tmp_path):
    # From a copy, so the build leaves nothing in the checkout.
    src = tmp_path / "src"
    shutil.copytree(SOURCE_ROOT, src, ignore=shutil.ignore_patterns(".git", "build*", "results", ".mesonpy-*"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    pip = subprocess.run([venv / "bin" / "pip", "install", "--no-build-isolation", "--no-index", "--no-cache-dir", src],
                         env=env, capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    run = subprocess.run([venv / "bin" / "python", "-c", CHECK], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert "installed ok" in run.stdout, run.stdout + run.stderr
    shown = subprocess.run([venv / "bin" / "pip", "show", "-f", "calib64"], env=env, capture_output=True, text=True,
                           timeout=120).stdout
    files = [line.strip() for line in shown.split("Files:")[1].splitlines() if line.strip()]
    assert all(f.startswith(("calib64/", "calib64-")) for f in files), files
    assert "calib64/_calib64.pyi" in files and "calib64/py.typed" in files
