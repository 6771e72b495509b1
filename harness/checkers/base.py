"""What every claim-kind checker shares: its context and how a sandbox run is recorded."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.artifact.models import ClaimRecord, RunRecord, StreamRecord
from harness.fsutil import atomic_write
from harness.plan import ClaimPlan
from harness.sandbox.base import Backend, Captured, SandboxRequest, SandboxResult

TAIL_CHARS = 2000


@dataclass(frozen=True)
class CheckContext:
    backend: Backend | None          # None when the sandbox is unavailable
    backend_problem: str | None      # why it is unavailable
    out_dir: Path                    # where the artifact and logs/ go
    work_dir: Path                   # private scratch space for this check
    env_cache: Path                  # shared cache of built Python environments
    perturb: bool = True             # False with --no-perturb
    jobs: int = 1                    # sandbox runs at the same time, over all claims
    _slots: threading.Semaphore = field(default=None, repr=False)   # type: ignore[assignment]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_slots", threading.BoundedSemaphore(max(1, self.jobs)))

    def run(self, request: SandboxRequest) -> SandboxResult:
        """Run in the sandbox, at most `jobs` runs at once (a claim may have two in flight)."""
        with self._slots:
            return self.backend.run(request)


class Checker(Protocol):
    kind: str

    def check(self, plan: ClaimPlan, ctx: CheckContext) -> ClaimRecord: ...


def record_run(claim_id: str, request: SandboxRequest, result: SandboxResult,
               ctx: CheckContext, label: str = "") -> RunRecord:
    """Write the run's logs beside the artifact and describe the run for it."""
    suffix = f".{label}" if label else ""
    streams = {}
    for name, captured in (("stdout", result.stdout), ("stderr", result.stderr)):
        rel = f"logs/{claim_id}{suffix}.{name}.log"
        data = captured.text().encode()
        atomic_write(ctx.out_dir / rel, data, durable=False)
        streams[name] = StreamRecord(bytes=captured.total, truncated=captured.truncated, log=rel,
                                     sha256=hashlib.sha256(data).hexdigest(),
                                     tail=_tail(captured))
    sandbox_log = f"logs/{claim_id}{suffix}.sandbox.log"
    atomic_write(ctx.out_dir / sandbox_log, result.sandbox_log, durable=False)
    return RunRecord(backend=ctx.backend.name if ctx.backend else "none", sandbox_log=sandbox_log,
                     command=list(request.argv), limits=request.limits, status=result.status,
                     exit_code=result.exit_code, signal=result.signal, detail=result.detail,
                     duration_s=round(result.duration_s, 3), **streams)


def _tail(captured: Captured) -> str:
    text = captured.text()
    return text[-TAIL_CHARS:]


def last_line(captured: Captured) -> str:
    lines = [line for line in captured.text().splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else ""
