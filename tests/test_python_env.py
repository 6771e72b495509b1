"""SPEC 2.3: bundle dependencies are built before sealing, cached, shared safely, read-only.

The wheels come from a local directory (PIP_NO_INDEX + PIP_FIND_LINKS), so the
tests need no network and pin exactly what gets installed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from harness.python_env import COMPLETE_MARKER, EnvBuildError, ensure_env, requirement_problems

REPO = Path(__file__).resolve().parents[1]
REPRO = [sys.executable, "-m", "harness.cli"]


def make_wheel(directory: Path, name: str, version: str, module_source: str) -> Path:
    """A minimal pure-Python wheel, built by hand (no build backend needed)."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": module_source.encode(),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel


@pytest.fixture
def shared_cache(tmp_path):
    """A cache the sandbox user can traverse (pytest's tmp dirs are 0700)."""
    path = Path(tempfile.mkdtemp(prefix="repro-test-cache-"))
    os.chmod(path, 0o755)
    yield path
    subprocess.run(["rm", "-rf", str(path)])


@pytest.fixture
def wheelhouse(tmp_path, monkeypatch):
    house = tmp_path / "wheels"
    house.mkdir()
    make_wheel(house, "reprotoy", "1.2.0", "VALUE = 42\n")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(house))
    return house


def test_requirement_options_and_urls_are_refused():
    problems = requirement_problems("numpy==2.0\n--index-url http://evil\n-r other.txt\n"
                                    "pkg @ https://x/y.whl\n./local\n# comment\n\n")
    assert [line for line, _ in problems] == [2, 3, 4, 5]
    assert "--index-url" in problems[0][1]


def test_env_is_built_once_and_reused(tmp_path, wheelhouse):
    req = tmp_path / "requirements.txt"
    req.write_text("reprotoy==1.2.0\n")
    cache = tmp_path / "cache"
    first = ensure_env(req, "/usr/bin/python3", "3.11", cache)
    assert (first / "reprotoy.py").read_text() == "VALUE = 42\n"
    assert (first / COMPLETE_MARKER).exists()
    marker = (first / "reprotoy.py").stat().st_mtime_ns
    assert ensure_env(req, "/usr/bin/python3", "3.11", cache) == first
    assert (first / "reprotoy.py").stat().st_mtime_ns == marker, "a cached env was rebuilt"
    # another interpreter version is another key
    assert ensure_env(req, "/usr/bin/python3", "3.12", cache) != first


def test_concurrent_builders_share_one_build(tmp_path, wheelhouse):
    req = tmp_path / "requirements.txt"
    req.write_text("reprotoy==1.2.0\n")
    cache = tmp_path / "cache"
    results, errors = [], []

    def build():
        try:
            results.append(ensure_env(req, "/usr/bin/python3", "3.11", cache))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(results)) == 1
    assert not list(cache.glob("*.building")), "a temporary build directory was left behind"


def test_failed_build_leaves_nothing_a_later_run_would_trust(tmp_path, wheelhouse):
    req = tmp_path / "requirements.txt"
    req.write_text("does-not-exist-anywhere==9.9\n")
    cache = tmp_path / "cache"
    with pytest.raises(EnvBuildError) as info:
        ensure_env(req, "/usr/bin/python3", "3.11", cache)
    assert "does-not-exist-anywhere" in str(info.value) or "No matching distribution" in str(info.value)
    assert not [p for p in cache.iterdir() if p.is_dir()]


@pytest.mark.sandbox
def test_bundle_uses_its_requirements_read_only(tmp_path, wheelhouse, monkeypatch, shared_cache):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "requirements.txt").write_text("reprotoy==1.2.0\n")
    (bundle / "repro.toml").write_text(
        'schema = "repro-bundle/1"\n'
        '[defaults]\npython = { requirements = "requirements.txt" }\n'
        '[[claim]]\nid = "toy"\ntext = "the toy package answers 42"\nkind = "python"\n'
        'script = "run.py"\ninputs = ["n.txt"]\nexpected = { value = 42 }\n')
    (bundle / "n.txt").write_text("1\n")
    (bundle / "run.py").write_text(
        "import json, os, reprotoy\n"
        "try:\n    open(os.path.dirname(reprotoy.__file__) + '/x', 'w'); w = True\n"
        "except OSError:\n    w = False\n"
        "json.dump({'value': reprotoy.VALUE * int(open('n.txt').read()), 'env_writable': w},"
        " open(os.environ['REPRO_OUT'] + '/result.json', 'w'))\n")
    monkeypatch.setenv("REPRO_CACHE", str(shared_cache))
    out = tmp_path / "out"
    done = subprocess.run(REPRO + ["check", str(bundle), "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True)
    artifact = json.loads((out / "repro-artifact.json").read_text())
    claim = artifact["claims"][0]
    assert done.returncode == 0, claim["reason"]
    assert claim["computed"] == {"value": 42, "env_writable": False}


@pytest.mark.sandbox
def test_unbuildable_requirements_are_an_error_not_a_verdict(tmp_path, wheelhouse, monkeypatch):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "requirements.txt").write_text("no-such-package-anywhere==1.0\n")
    (bundle / "repro.toml").write_text(
        'schema = "repro-bundle/1"\n'
        '[[claim]]\nid = "c"\ntext = "t"\nkind = "python"\nscript = "run.py"\n'
        'python = { requirements = "requirements.txt" }\nexpected = { x = 1 }\n')
    (bundle / "run.py").write_text("raise SystemExit(1)\n")
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    done = subprocess.run(REPRO + ["check", str(bundle), "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 3
    claim = json.loads((out / "repro-artifact.json").read_text())["claims"][0]
    assert claim["verdict"] == "error"
    assert "could not build the environment from requirements.txt" in claim["reason"]
