"""choose_encode / choose_decode / settings, the package surface, stubs and docstrings."""
import ast
import inspect
import json
import os
import pathlib
import subprocess
import sys

import pytest

import calib64

PACKAGE = pathlib.Path(calib64.__file__).parent
BUILD_ROOT = PACKAGE.parent.parent  # <build>/python/calib64 in a meson build


def test_choose_encode_says_which_backend_and_kernel_would_run():
    c = calib64.choose_encode(16)
    assert set(c) == {"backend", "kernel", "threads", "chunk_bytes", "pin_threads"}
    assert c["backend"] in ("serial", "work_stealing", "pipeline")
    assert c["kernel"] in ("scalar", "avx2", "avx512", "neon")
    assert calib64.choose_decode(n=10 ** 9)["backend"] in ("serial", "work_stealing", "pipeline")


def test_choose_follows_the_environment_overrides():
    script = "import calib64, json; print(json.dumps([calib64.choose_encode(10), calib64.choose_decode(10)]))"
    env = dict(os.environ, CALIB64_BACKEND="pipeline", CALIB64_THREADS="3", CALIB64_KERNEL="scalar")
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    enc, dec = json.loads(run.stdout)
    assert enc["backend"] == dec["backend"] == "pipeline"
    assert enc["threads"] == 3 and enc["kernel"] == "scalar"


def test_choose_rejects_negative_and_non_integer_sizes():
    with pytest.raises(ValueError):
        calib64.choose_encode(-1)
    with pytest.raises(TypeError):
        calib64.choose_decode(1.5)
    with pytest.raises(TypeError):
        calib64.choose_encode()


def test_settings_are_what_profile_show_prints():
    s = calib64.settings()
    assert set(s) == {"profile", "status", "rows", "messages"}
    names = [row["name"] for row in s["rows"]]
    assert "encode.kernel" in names and "decode.kernel" in names
    for row in s["rows"]:
        assert row["origin"] in ("default", "topology", "profile", "environment")
    cli = BUILD_ROOT / "src" / "cli" / "calib64"
    if not cli.exists():
        pytest.fail(f"no calib64 tool at {cli} to compare with (build the whole meson project)")
    shown = subprocess.run([cli, "profile", "show"], capture_output=True, text=True, timeout=60).stdout.splitlines()
    assert shown[0] == "profile: " + s["status"]
    for line, row in zip(shown[1:], s["rows"], strict=True):
        assert line.split()[:2] == [row["name"], row["value"].split()[0]], line


def test_settings_name_the_environment_when_it_overrides():
    script = "import calib64, json; print(json.dumps(calib64.settings()))"
    env = dict(os.environ, CALIB64_THREADS="3", CALIB64_BAKEND="x")
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    s = json.loads(run.stdout)
    assert any(r["origin"] == "environment" and r["value"] == "3" for r in s["rows"])
    assert any("CALIB64_BAKEND" in m for m in s["messages"])


def test_every_public_function_has_a_docstring_and_a_signature():
    for name in calib64.__all__:
        obj = getattr(calib64, name)
        assert obj.__doc__, name
        if callable(obj) and not isinstance(obj, type):
            inspect.signature(obj)  # from the text signature in the docstring


def test_the_stubs_name_exactly_what_the_module_has():
    stubs = ast.parse((PACKAGE / "_calib64.pyi").read_text())
    stubbed = {n.name for n in stubs.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {t.id for n in stubs.body if isinstance(n, ast.AnnAssign) for t in [n.target]}
    helper_types = {"Choice", "SettingRow", "Settings"}
    module = {n for n in dir(calib64._calib64) if not n.startswith("__") or n == "__version__"}
    assert stubbed - helper_types == module
    assert (PACKAGE / "py.typed").exists()


def test_the_stub_signatures_match_the_runtime_signatures():
    stubs = ast.parse((PACKAGE / "_calib64.pyi").read_text())
    for node in stubs.body:
        if isinstance(node, ast.FunctionDef):
            runtime = inspect.signature(getattr(calib64._calib64, node.name))
            stub_params = [a.arg for a in node.args.posonlyargs + node.args.args]
            assert stub_params == list(runtime.parameters), node.name


def test_version_is_the_meson_project_version():
    meson_build = pathlib.Path(os.environ.get("CALIB64_TEST_SOURCE_ROOT", BUILD_ROOT.parent)) / "meson.build"
    if meson_build.exists():
        assert f"version : '{calib64.__version__}'" in meson_build.read_text()
    assert calib64.__version__.count(".") == 2
