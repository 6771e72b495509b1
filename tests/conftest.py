"""Shared fixtures for tests that run real sandboxes.

Tests marked ``@pytest.mark.sandbox`` run nsjail for real.  They are skipped,
with the reason, only when the test process is not root (the nsjail backend
needs root for its cgroups and its $REPRO_OUT tmpfs).  As root they always
run: if the sandbox is broken there, they fail, they are never skipped.

Generic helpers for any test file:

* ``sandbox_tmp`` — a fresh directory the sandbox's unprivileged uid can reach
  (pytest's ``tmp_path`` sits under a 0700 directory it cannot traverse);
* ``sandbox_backend`` — one ``NsjailBackend`` for the session;
* ``run_in_sandbox`` — run a Python source string sealed, get the result;
* ``write_bundle`` / ``run_repro_check`` — a one-file bundle and the real CLI;
* ``sandbox_host_uid`` — give this test's sandboxes a host uid of their own, so
  "no process of the sandbox uid is left" is not confused by other runs on the
  same machine;
* ``sandbox_processes()`` — live (non-zombie) host processes of a uid.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_CONSOLE_SCRIPT = Path(sys.executable).parent / "repro"   # what `make bootstrap` installs
REPRO_CLI = ([str(_CONSOLE_SCRIPT)] if _CONSOLE_SCRIPT.exists()
             else [sys.executable, "-m", "harness.cli"])
NOT_ROOT_REASON = ("sandbox tests need root (the nsjail backend creates cgroups and mounts a "
                   "tmpfs); run the suite as root, as CI does")


# -- gate: sandbox tests run as root, are skipped (with the reason) otherwise --------

@pytest.fixture(scope="session")
def sandbox_root() -> None:
    """Skip the requesting test when not root; never skip as root."""
    if os.geteuid() != 0:
        pytest.skip(NOT_ROOT_REASON)


@pytest.fixture(autouse=True)
def _sandbox_gate(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("sandbox") is not None:
        request.getfixturevalue("sandbox_root")


# -- places and backends --------------------------------------------------------------

@pytest.fixture
def sandbox_tmp() -> Path:
    """A directory (mode 0755, under the system temp dir) the sandbox uid can traverse."""
    path = Path(tempfile.mkdtemp(prefix="repro-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def sandbox_backend(sandbox_root):
    """The real nsjail backend.  As root, an unavailable sandbox is a failure, not a skip."""
    from harness.sandbox.nsjail import NsjailBackend
    return NsjailBackend()


@pytest.fixture
def sandbox_host_uid(monkeypatch) -> int:
    """A host uid for this test's sandboxes that no user and no other process has.

    Patches ``harness.sandbox.nsjail.HOST_UID`` (read at run time) for in-process
    runs and sets ``REPRO_SANDBOX_HOST_UID`` for ``repro`` subprocesses.
    """
    import pwd

    import harness.sandbox.nsjail as nsjail_backend

    base = 200_000 + (os.getpid() % 50_000) * 16
    for uid in range(base, base + 16):
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            pass
        if not sandbox_processes(uid, include_zombies=True):
            break
    else:  # pragma: no cover - 16 busy uids in a row
        pytest.fail("no free uid for the sandbox")
    monkeypatch.setattr(nsjail_backend, "HOST_UID", uid)
    monkeypatch.setenv("REPRO_SANDBOX_HOST_UID", str(uid))
    return uid


def sandbox_processes(uid: int | None = None, *, include_zombies: bool = False) -> list[int]:
    """Host pids whose real uid is ``uid`` (default: the sandbox's HOST_UID).

    Zombies are dead (they hold a pid, nothing else) and wait for init to reap
    them; they are left out unless asked for.
    """
    if uid is None:
        from harness.sandbox.nsjail import HOST_UID as uid  # noqa: N811
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines()
                          if ":" in line)
        except OSError:
            continue
        if fields.get("Uid", "").split()[:1] != [str(uid)]:
            continue
        if not include_zombies and fields.get("State", "").strip().startswith(("Z", "X")):
            continue
        pids.append(int(status.parent.name))
    return sorted(pids)


# -- running scripts ------------------------------------------------------------------

@dataclass
class ScriptRun:
    result: "object"           # harness.sandbox.base.SandboxResult
    collected: Path            # what the run left in $REPRO_OUT, copied out
    bundle: Path

    @property
    def stdout(self) -> str:
        return self.result.stdout.text()

    @property
    def stderr(self) -> str:
        return self.result.stderr.text()

    def report(self) -> dict:
        """The last line of stdout that is a JSON object (scripts report that way)."""
        for line in reversed(self.stdout.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)
        raise AssertionError(f"no JSON report on stdout.\nstdout: {self.stdout[-2000:]}\n"
                             f"stderr: {self.stderr[-2000:]}\nstatus: {self.result.status} "
                             f"{self.result.detail}")


@pytest.fixture
def run_in_sandbox(sandbox_backend, sandbox_tmp) -> Callable[..., ScriptRun]:
    """``run_in_sandbox(source, files={}, backend=None, **limits)`` -> ScriptRun.

    ``source`` is dedented and run as /bundle/main.py with the sandbox's python;
    ``files`` adds other bundle files (name -> str | bytes); ``limits`` are
    ``Limits`` fields (timeout_s, memory_mb, ...).
    """
    from harness.sandbox.base import Limits, SandboxRequest

    counter = iter(range(1_000_000))

    def run(source: str, *, files: dict[str, str | bytes] | None = None, backend=None,
            env: dict[str, str] | None = None, **limits) -> ScriptRun:
        n = next(counter)
        bundle = sandbox_tmp / f"bundle-{n}"
        bundle.mkdir(mode=0o755)
        for name, content in {"main.py": textwrap.dedent(source), **(files or {})}.items():
            path = bundle / name
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
            path.chmod(0o644)
        collected = sandbox_tmp / f"collected-{n}"
        be = backend or sandbox_backend
        request = SandboxRequest(argv=[be.python_executable(), "-B", "-s", "/bundle/main.py"],
                                 bundle_dir=bundle, collect_to=collected,
                                 limits=Limits(**limits), env=dict(env or {}))
        return ScriptRun(result=be.run(request), collected=collected, bundle=bundle)

    return run


@pytest.fixture
def write_bundle(sandbox_tmp) -> Callable[..., Path]:
    """``write_bundle(source, expected={"x": 1}, name="b", **defaults)`` -> bundle dir.

    One python claim ``c`` running ``source`` (no inputs); ``defaults`` become the
    manifest's ``[defaults]`` (timeout_s, memory_mb).
    """
    def write(source: str, *, expected: dict | None = None, name: str = "bundle",
              **defaults) -> Path:
        root = sandbox_tmp / name
        root.mkdir(mode=0o755)
        (root / "main.py").write_text(textwrap.dedent(source))
        lines = ['schema = "repro-bundle/1"']
        if defaults:
            lines.append("[defaults]")
            lines += [f"{key} = {json.dumps(value)}" for key, value in defaults.items()]
        expect = ", ".join(f"{k} = {json.dumps(v)}" for k, v in (expected or {"x": 1}).items())
        lines += ["[[claim]]", 'id = "c"', 'text = "a claim"', 'kind = "python"',
                  'script = "main.py"', f"expected = {{ {expect} }}"]
        (root / "repro.toml").write_text("\n".join(lines) + "\n")
        for path in root.iterdir():
            path.chmod(0o644)
        return root

    return write


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    out_dir: Path

    @property
    def artifact(self) -> dict:
        return json.loads((self.out_dir / "repro-artifact.json").read_text())

    def claim(self, claim_id: str = "c") -> dict:
        return next(c for c in self.artifact["claims"] if c["id"] == claim_id)


@pytest.fixture
def run_repro_check(sandbox_tmp) -> Callable[..., CliRun]:
    """``run_repro_check(bundle, *args, timeout=60)`` runs ``repro check`` as a user does."""
    def run(bundle: Path, *args: str, timeout: float = 60) -> CliRun:
        out = sandbox_tmp / f"out-{bundle.name}"
        done = subprocess.run([*REPRO_CLI, "check", str(bundle), "--out", str(out), *args],
                              cwd=REPO, capture_output=True, text=True, timeout=timeout)
        return CliRun(done.returncode, done.stdout, done.stderr, out)

    return run
