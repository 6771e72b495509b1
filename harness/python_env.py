"""Build a bundle's Python dependencies *before* sealing (SPEC 2.3).

Wheels only (``--only-binary=:all:``, so no package code runs on the host at
install time), installed with ``pip --python <sandbox interpreter> --target``
into a cache directory keyed by the hash of the requirements and the
interpreter.  A file lock per key makes concurrent workers build each
environment once; the build goes to a temporary directory that is renamed
into place only when complete, so a crash never leaves a half environment
that a later run would trust.  The result is mounted read-only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from filelock import FileLock

ENV_MOUNT = "/opt/repro-env"
COMPLETE_MARKER = ".repro-complete"
BUILD_TIMEOUT_S = 900


class EnvBuildError(Exception):
    pass


def requirement_problems(text: str) -> list[tuple[int, str]]:
    """Lines a bundle may not use: pip options (index URLs, nested files, editable
    installs) would let a bundle steer what the host downloads and runs."""
    problems = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-"):
            problems.append((number, f"pip option '{line.split()[0]}' is not allowed; "
                                     "list one requirement per line"))
        elif "://" in line or line.startswith((".", "/")):
            problems.append((number, f"'{line}' is a URL or path; only names from the package "
                                     "index are allowed"))
    return problems


def env_key(requirements: bytes, interpreter: str, interpreter_version: str) -> str:
    h = hashlib.sha256()
    for part in (requirements, interpreter.encode(), interpreter_version.encode(),
                 os.uname().machine.encode()):
        h.update(part + b"\0")
    return h.hexdigest()[:32]


def ensure_env(requirements_file: Path, interpreter: str, interpreter_version: str,
               cache: Path) -> Path:
    """Return the directory of the built environment, building it if needed."""
    content = requirements_file.read_bytes()
    key = env_key(content, interpreter, interpreter_version)
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / key
    with FileLock(str(cache / f"{key}.lock"), timeout=BUILD_TIMEOUT_S):
        if (target / COMPLETE_MARKER).exists():
            return target
        building = cache / f"{key}.building"
        shutil.rmtree(building, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "--python", interpreter, "install",
             "--only-binary=:all:", "--no-input", "--disable-pip-version-check", "--quiet",
             "--target", str(building), "-r", str(requirements_file)],
            capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        if done.returncode != 0:
            shutil.rmtree(building, ignore_errors=True)
            lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
            raise EnvBuildError(lines[-1].strip() if lines else f"pip exited {done.returncode}")
        for root, dirs, files in os.walk(building):
            os.chmod(root, 0o755)
            for name in files:
                path = Path(root) / name
                if not path.is_symlink():
                    os.chmod(path, 0o755 if os.access(path, os.X_OK) else 0o644)
        (building / COMPLETE_MARKER).write_text(key + "\n")
        os.replace(building, target)
        return target
