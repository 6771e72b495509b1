"""The dynamic check: run the script again on perturbed inputs; does each value move?

A claim with inputs is run a second time, sealed as before, on a copy of the
bundle whose inputs are perturbed (:mod:`harness.evidence.perturb`, mode
"scale").  A value that did not move gets one more chance on a stronger
perturbation ("resample", which also flips orderings and thresholds); a value
that survives both is ``input-insensitive``.  "Moved" means by more than the
claim's own tolerance: a value that changes only in its ninth decimal
(``8.7 + 1e-9 * sum(xs)``) would pass the comparison whatever the data say,
so the check could not have failed.
A run that fails on perturbed inputs counts as sensitive: the script did
depend on them.  Seeds come from the claim id, so the same bundle is
perturbed the same way every time, and every attempt is recorded.
"""

from __future__ import annotations

import hashlib
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness.artifact.models import PerturbationAttempt, PerturbedFile, RunRecord
from harness.bundle.manifest import PythonClaim
from harness.compare import compare, fmt
from harness.evidence.perturb import MODES, perturb_bundle
from harness.plan import ClaimPlan

RunSealed = Callable[[Path, Path, str], tuple[Any, dict | None, str | None, RunRecord | None]]


def perturbation_status(claim: PythonClaim, enabled: bool) -> tuple[str, str]:
    """(status, reason) of the perturbation for a claim, before anything runs."""
    if not claim.inputs:
        return "not-applicable", ("the claim declares no inputs: its values are checked by "
                                  "static analysis only")
    if not claim.perturb:
        return "opted-out", f"perturb = false in repro.toml: {claim.perturb_reason}"
    if not enabled:
        return "skipped", "--no-perturb: no perturbation run in this check"
    return "run", "the script was run again on perturbed copies of its inputs"


def seed_for(claim_id: str, attempt: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{claim_id}:{attempt}".encode()).digest()[:4], "big")


@dataclass
class _Attempt:
    seed: int
    mode: str
    files: list[PerturbedFile]
    run: RunRecord | None = None
    computed: dict | None = None
    problem: str | None = None        # why the perturbed run gave no values
    perturbed: bool = True            # False: the inputs could not be perturbed at all


class Sensitivity:
    """The perturbation runs of one claim and what they showed."""

    def __init__(self, plan: ClaimPlan, status: str, reason: str):
        self._plan = plan
        self.status = status
        self.reason = reason
        self._attempts: list[_Attempt] = []
        self._original: dict | None = None

    @property
    def should_run(self) -> bool:
        return self.status == "run"

    def abandon(self, why: str) -> None:
        """The first run failed: there is nothing to compare the perturbed runs with."""
        if self.status == "run":
            self.status, self.reason = "not-run", why

    def attempt(self, index: int, claim_dir: Path, run_sealed: RunSealed) -> None:
        claim = self._plan.claim
        mode, seed = MODES[index], seed_for(claim.id, index)
        work = claim_dir / f"perturbed-{index + 1}"
        try:
            perturbation = perturb_bundle(self._plan.bundle_root, claim.inputs, work / "bundle",
                                          seed, mode)
        except (ValueError, OSError) as exc:
            self._attempts.append(_Attempt(seed, mode, [], problem=f"the inputs could not be "
                                           f"perturbed: {exc}", perturbed=False))
            return
        files = [PerturbedFile(path=c.path, action=c.action) for c in perturbation.changes]
        try:
            _, computed, problem, run = run_sealed(work / "bundle", work / "out",
                                                   f"perturbed-{index + 1}")
        finally:
            shutil.rmtree(work / "bundle", ignore_errors=True)
        self._attempts.append(_Attempt(seed, mode, files, run, computed, problem))

    def set_original(self, computed: dict) -> None:
        self._original = computed

    def needs_another(self, expected: dict) -> bool:
        """After the first attempt: does some value still have to show that it moves?"""
        return (len(self._attempts) < len(MODES)
                and any(moved is False for moved in self.changed(expected).values()))

    def changed(self, expected: dict) -> dict[str, bool | None]:
        """name -> True (moved, or the script failed on perturbed inputs), False (never
        moved), None (no perturbation to judge by)."""
        useful = [a for a in self._attempts if a.perturbed]
        if self._original is None or not useful:
            return {name: None for name in expected}
        out = {}
        for name in expected:
            out[name] = any(a.computed is None or name not in a.computed
                            or self._moved(name, a.computed[name]) for a in useful)
        return out

    def _moved(self, name: str, perturbed: Any) -> bool:
        original = self._original.get(name) if self._original else None
        if _same(perturbed, original):
            return False
        numeric = _is_number(original) or (isinstance(original, list)
                                           and all(_is_number(x) for x in original))
        if numeric and (_is_number(perturbed) or isinstance(perturbed, list)):
            return not compare(name, original, perturbed, self._plan.tolerance).ok
        return True

    def perturbed_values(self, name: str) -> list[Any]:
        return [a.computed.get(name) for a in self._attempts if a.computed is not None]

    def description(self) -> str:
        n = len([a for a in self._attempts if a.perturbed])
        modes = ", then ".join(f"numbers {'scaled' if a.mode == 'scale' else 'resampled'} "
                               f"(seed {a.seed})" for a in self._attempts if a.perturbed)
        return f"{n} run{'s' if n != 1 else ''} on perturbed inputs: {modes}, rows shuffled"

    @property
    def attempts(self) -> list[PerturbationAttempt]:
        return [PerturbationAttempt(seed=a.seed, mode=a.mode, files=a.files, run=a.run,
                                    computed=a.computed, outcome=self._outcome(a))
                for a in self._attempts]

    def _outcome(self, a: _Attempt) -> str:
        if not a.perturbed:
            return f"{a.problem}; this attempt decides nothing"
        if self._original is None:
            return ("ran beside the first run, which gave no result: nothing to compare with, "
                    "this attempt decides nothing")
        if a.computed is None:
            return f"the script failed on perturbed inputs ({a.problem}): counts as sensitive"
        moved, still = [], []
        for name in self._plan.claim.expected:
            if name not in a.computed:
                moved.append(f"{name} (not reported)")
            elif _same(a.computed[name], self._original.get(name)):
                still.append(f"{name}={fmt(a.computed[name])}")
            elif not self._moved(name, a.computed[name]):
                still.append(f"{name}: {fmt(self._original.get(name))} -> "
                             f"{fmt(a.computed[name])}, within the claim's tolerance")
            else:
                moved.append(f"{name}: {fmt(self._original.get(name))} -> {fmt(a.computed[name])}")
        parts = []
        if moved:
            parts.append("changed: " + "; ".join(moved))
        if still:
            parts.append("unchanged: " + "; ".join(still))
        return ", ".join(parts)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _same(a: Any, b: Any) -> bool:
    """Equal as reported values: 1 == 1.0, NaN == NaN, lists element-wise."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b
