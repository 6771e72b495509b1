"""Resolve each claim's effective settings: claim value, else [defaults], else built-in.

Done once, before anything runs, so the artifact can say where each setting
came from and checkers never re-implement the precedence rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.artifact.models import ToleranceRecord
from harness.bundle.loader import Bundle
from harness.bundle.manifest import DEFAULT_TOLERANCE, Claim, Tolerance
from harness.sandbox.base import Limits

DEFAULT_TIMEOUT_S = 120
DEFAULT_MEMORY_MB = 1024


@dataclass(frozen=True)
class ClaimPlan:
    claim: Claim
    index: int
    tolerance: Tolerance
    tolerance_record: ToleranceRecord
    limits: Limits
    requirements: str | None       # bundle-relative path of requirements.txt, if any
    bundle_root: Path


def plan_claims(bundle: Bundle, only: list[str] | None = None) -> list[ClaimPlan]:
    manifest = bundle.manifest
    defaults = manifest.defaults
    plans = []
    for index, claim in enumerate(manifest.claim):
        if only is not None and claim.id not in only:
            continue
        own_tol = getattr(claim, "tolerance", None)
        if own_tol is not None:
            tol, source = own_tol, "claim"
        elif defaults.tolerance is not None:
            tol, source = defaults.tolerance, "defaults"
        else:
            tol, source = DEFAULT_TOLERANCE, "default"
        timeout = getattr(claim, "timeout_s", None) or defaults.timeout_s or DEFAULT_TIMEOUT_S
        memory = getattr(claim, "memory_mb", None) or defaults.memory_mb or DEFAULT_MEMORY_MB
        own_env = getattr(claim, "python", None)
        env = own_env if own_env is not None else defaults.python
        plans.append(ClaimPlan(
            claim=claim, index=index, tolerance=tol,
            tolerance_record=ToleranceRecord(rel=tol.rel, abs=tol.abs, reported=bool(tol.reported),
                                             source=source),
            limits=Limits(timeout_s=timeout, memory_mb=memory),
            requirements=env.requirements if env else None,
            bundle_root=bundle.root,
        ))
    return plans
