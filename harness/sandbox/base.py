"""The isolation seam: what a checker asks of a sandbox, and what it gets back.

A checker (one per claim kind) builds a :class:`SandboxRequest` in terms of
paths *inside* the sandbox; a backend (nsjail, docker, ...) decides how to
provide them.  Neither side knows the other's internals, so adding a backend
touches no checker and adding a claim kind touches no backend.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

BUNDLE_MOUNT = "/bundle"     # the bundle, read-only; also the working directory
OUT_MOUNT = "/out"           # $REPRO_OUT, writable and size-limited
TMP_MOUNT = "/tmp"           # private tmpfs, also $HOME

SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": TMP_MOUNT,
    "TMPDIR": TMP_MOUNT,
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONNOUSERSITE": "1",
    "REPRO_OUT": OUT_MOUNT,
}


class Limits(BaseModel):
    """Resource limits of one sandboxed run (all recorded in the artifact)."""

    model_config = ConfigDict(frozen=True)

    timeout_s: float = 120
    memory_mb: int = 1024
    pids: int = 64
    tmp_mb: int = 64
    out_mb: int = 16
    file_mb: int = 64
    output_bytes: int = 8 * 1024 * 1024    # per stream; more is an output-limit failure
    open_files: int = 256


class RunStatus(str, enum.Enum):
    EXITED = "exited"                 # the process ended by itself (any exit code)
    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out-of-memory"
    OUTPUT_LIMIT = "output-limit"
    SIGNALED = "signaled"             # killed by a signal we cannot attribute to a limit
    SANDBOX_ERROR = "sandbox-error"   # the sandbox itself failed; nothing was decided


@dataclass
class Captured:
    """A bounded capture of one output stream: the head, the tail, and a count."""

    head: bytes = b""
    tail: bytes = b""
    total: int = 0

    @property
    def truncated(self) -> bool:
        return self.total > len(self.head) + len(self.tail)

    def text(self) -> str:
        body = self.head.decode("utf-8", "replace")
        if self.truncated:
            omitted = self.total - len(self.head) - len(self.tail)
            body += f"\n[... repro: {omitted} bytes omitted ...]\n"
        return body + self.tail.decode("utf-8", "replace")


@dataclass
class SandboxRequest:
    argv: list[str]                         # paths as seen inside the sandbox
    bundle_dir: Path                        # host path, mounted read-only at BUNDLE_MOUNT
    collect_to: Path                        # host dir: what the run wrote to $REPRO_OUT is copied here
    limits: Limits = field(default_factory=Limits)
    env: dict[str, str] = field(default_factory=dict)          # added to SANDBOX_ENV
    ro_mounts: list[tuple[Path, str]] = field(default_factory=list)   # (host path, sandbox path)
    masked: list[str] = field(default_factory=list)   # sandbox paths of files that read as empty


@dataclass
class SandboxResult:
    status: RunStatus
    exit_code: int | None
    signal: int | None
    duration_s: float
    stdout: Captured
    stderr: Captured
    detail: str = ""                       # why, in one phrase, for non-EXITED runs
    sandbox_log: str = ""                  # the backend's own log (not the script's)
    peak_memory_bytes: int | None = None


class SandboxUnavailable(Exception):
    """The backend cannot run anything here (missing binary, no privileges, ...)."""


class Backend(Protocol):
    name: str

    def python_executable(self) -> str:
        """The interpreter to run scripts with, as a path inside the sandbox."""

    def describe(self) -> dict[str, str]:
        """Versions for the artifact's environment fingerprint."""

    def run(self, request: SandboxRequest) -> SandboxResult:
        """Run sealed; never raises for anything the sandboxed code does."""

    def cancel(self) -> None:
        """Kill every run in progress and refuse new ones (repro itself is being stopped)."""
