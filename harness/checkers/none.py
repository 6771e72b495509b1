"""Claims with no artifact (`kind = "none"`): unverified by definition, never an error."""

from __future__ import annotations

from harness.artifact.models import ClaimRecord, Evidence, Verdict
from harness.checkers.base import CheckContext
from harness.plan import ClaimPlan


class NoneChecker:
    kind = "none"

    def check(self, plan: ClaimPlan, ctx: CheckContext) -> ClaimRecord:
        return ClaimRecord(id=plan.claim.id, kind="none", text=plan.claim.text,
                           verdict=Verdict.UNVERIFIED, evidence=Evidence.NONE,
                           reason="No artifact: the claim carries no repro script or proof")
