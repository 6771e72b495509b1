"""One checker per claim kind.  Adding a kind means adding a module here; no
sandbox backend changes.  A kind without a checker in this version is
reported as `error` with a reason, never silently skipped."""

from __future__ import annotations

from harness.artifact.models import ClaimRecord, Evidence, Verdict
from harness.checkers.base import CheckContext, Checker
from harness.checkers.none import NoneChecker
from harness.checkers.python import PythonChecker
from harness.plan import ClaimPlan

CHECKERS: dict[str, Checker] = {c.kind: c for c in (PythonChecker(), NoneChecker())}

_EVIDENCE = {"lean": Evidence.PROOF, "python": Evidence.DATA, "none": Evidence.NONE}


def check_claim(plan: ClaimPlan, ctx: CheckContext) -> ClaimRecord:
    checker = CHECKERS.get(plan.claim.kind)
    if checker is None:
        return unchecked(plan, f"No checker for '{plan.claim.kind}' claims in this version "
                               "of repro; the claim was not checked")
    return checker.check(plan, ctx)


def unchecked(plan: ClaimPlan, reason: str) -> ClaimRecord:
    """The record of a claim that could not be decided: always `error`, with the reason."""
    return ClaimRecord(id=plan.claim.id, kind=plan.claim.kind, text=plan.claim.text,
                       verdict=Verdict.ERROR, evidence=_EVIDENCE[plan.claim.kind], reason=reason)
