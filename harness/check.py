"""`check`: the one function every front-end (CLI, CI job, queue worker) calls.

bundle -> plan -> sandbox runs (in parallel) -> verdicts -> artifact.

No result is lost: the artifact on disk is rewritten atomically as claims
finish (with ``complete = false`` until the end), so a crash or a kill at
any point leaves the last consistent snapshot, and an interrupted check still
writes a final artifact in which unfinished claims are ``error``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from harness import __version__
from harness.artifact.models import (Artifact, BundleRecord, ClaimRecord, FileRecord, Options,
                                     Verdict)
from harness.bundle.loader import Bundle, load_bundle
from harness.checkers import check_claim, unchecked
from harness.checkers.base import CheckContext
from harness.environment import fingerprint
from harness.errors import InputError
from harness.fsutil import atomic_write
from harness.plan import ClaimPlan, plan_claims
from harness.sandbox import open_backend
from harness.sandbox.base import Backend, SandboxUnavailable
from harness.verdict import bundle_verdict, summary

ARTIFACT_NAME = "repro-artifact.json"
SNAPSHOT_INTERVAL_S = 0.5


@dataclass
class CheckOptions:
    out_dir: Path = Path("repro-out")
    backend: str = "nsjail"
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    claims: list[str] | None = None
    env_cache: Path | None = None
    perturb: bool = True             # False: --no-perturb (claims say perturbation-skipped)
    progress: Callable[[int, int, ClaimRecord], None] | None = None


def check(source: Path, options: CheckOptions) -> Artifact:
    """Check a bundle and write its artifact; raises InputError for invalid input."""
    started = _now()
    t0 = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="repro-check-"))
    os.chmod(scratch, 0o755)   # the sandbox's unprivileged uid must reach the staged bundle
    try:
        bundle = load_bundle(source, scratch / "bundle")
        plans = _select(bundle, options.claims)
        backend, problem = _open_backend(options.backend, plans)
        ctx = CheckContext(backend=backend, backend_problem=problem, out_dir=options.out_dir,
                           work_dir=scratch / "work", env_cache=options.env_cache or _default_cache(),
                           perturb=options.perturb, jobs=max(1, options.jobs))
        sandbox_info = backend.describe() if backend else {"backend": options.backend,
                                                             "unavailable": problem or ""}
        writer = _ArtifactWriter(bundle, options, started, t0, fingerprint(sandbox_info))
        results = _run_all(plans, ctx, options, writer, backend)
        return writer.write(results, complete=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _select(bundle: Bundle, only: list[str] | None) -> list[ClaimPlan]:
    if only:
        known = {c.id for c in bundle.manifest.claim}
        unknown = [cid for cid in only if cid not in known]
        if unknown:
            raise InputError.single(f"no claim with id {', '.join(repr(u) for u in unknown)} "
                                    f"(claims: {', '.join(sorted(known))})", field="--claim")
    return plan_claims(bundle, only)


def _open_backend(name: str, plans: list[ClaimPlan]) -> tuple[Backend | None, str | None]:
    if not any(p.claim.kind != "none" for p in plans):
        return None, "no claim needs a sandbox"
    try:
        return open_backend(name), None
    except SandboxUnavailable as exc:
        return None, str(exc)


def _run_all(plans: list[ClaimPlan], ctx: CheckContext, options: CheckOptions,
             writer: "_ArtifactWriter", backend: Backend | None) -> dict[str, ClaimRecord]:
    results: dict[str, ClaimRecord] = {}
    total = len(plans)
    jobs = max(1, min(options.jobs, total or 1))
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="claim")
    futures = {pool.submit(_safe_check, plan, ctx): plan for plan in plans}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                record = future.result()
                results[record.id] = record
                if options.progress:
                    options.progress(len(results), total, record)
            if done:
                writer.snapshot(results)
    except BaseException as exc:   # KeyboardInterrupt, SystemExit from SIGTERM
        for future in pending:
            future.cancel()
        if backend is not None:
            backend.cancel()
        why = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"stopped ({type(exc).__name__})"
        for plan in plans:
            if plan.claim.id not in results:
                results[plan.claim.id] = unchecked(plan, f"repro was {why} before this claim finished")
        writer.write(results, complete=False)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def _safe_check(plan: ClaimPlan, ctx: CheckContext) -> ClaimRecord:
    """A bug in a checker makes that claim `error`, it never loses the other results."""
    try:
        return check_claim(plan, ctx)
    except Exception as exc:  # noqa: BLE001 - recorded, not swallowed
        return unchecked(plan, f"internal error while checking: {type(exc).__name__}: {exc}")


class _ArtifactWriter:
    """Builds the artifact from the results so far and writes it atomically."""

    def __init__(self, bundle: Bundle, options: CheckOptions, started: str, t0: float, env):
        self._bundle = bundle
        self._options = options
        self._started = started
        self._t0 = t0
        self._env = env
        self._order = [c.id for c in bundle.manifest.claim]
        self._lock = threading.Lock()
        self._last_snapshot = 0.0

    def build(self, results: dict[str, ClaimRecord], complete: bool) -> Artifact:
        claims = [results[cid] for cid in self._order if cid in results]
        verdicts = [c.verdict for c in claims]
        manifest = self._bundle.manifest_data
        return Artifact(
            verdict=bundle_verdict(verdicts) if complete else Verdict.UNVERIFIED,
            bundle=BundleRecord(digest=self._bundle.digest, paper=manifest.get("paper"),
                                manifest=manifest,
                                files=[FileRecord(path=f.path, size=f.size, sha256=f.sha256)
                                       for f in self._bundle.files]),
            harness_version=__version__, started_at=self._started, finished_at=_now(),
            duration_s=round(time.monotonic() - self._t0, 3), complete=complete,
            options=Options(backend=self._options.backend, jobs=self._options.jobs,
                            claims=self._options.claims, perturb=self._options.perturb),
            environment=self._env, summary=summary(verdicts), claims=claims)

    def snapshot(self, results: dict[str, ClaimRecord]) -> None:
        if time.monotonic() - self._last_snapshot >= SNAPSHOT_INTERVAL_S:
            self.write(results, complete=False)

    def write(self, results: dict[str, ClaimRecord], complete: bool) -> Artifact:
        with self._lock:
            artifact = self.build(results, complete)
            atomic_write(self._options.out_dir / ARTIFACT_NAME, artifact.to_json())
            self._last_snapshot = time.monotonic()
            return artifact


def _default_cache() -> Path:
    if "REPRO_CACHE" in os.environ:
        return Path(os.environ["REPRO_CACHE"]) / "envs"
    if os.geteuid() == 0:
        return Path("/var/cache/repro/envs")
    return Path.home() / ".cache" / "repro" / "envs"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
