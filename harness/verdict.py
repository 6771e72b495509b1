"""From claim verdicts to the bundle's verdict, and to the process exit code (SPEC 3, 5)."""

from __future__ import annotations

from collections.abc import Iterable

from harness.artifact.models import Verdict

EXIT_CODES = {Verdict.VERIFIED: 0, Verdict.FALSIFIED: 1, Verdict.UNVERIFIED: 3, Verdict.ERROR: 3}
EXIT_INVALID = 2


def bundle_verdict(claims: Iterable[Verdict]) -> Verdict:
    """Falsified if any claim is; verified if every claim is; else unverified.

    An empty selection cannot verify anything, so it is unverified.
    """
    verdicts = list(claims)
    if Verdict.FALSIFIED in verdicts:
        return Verdict.FALSIFIED
    if verdicts and all(v is Verdict.VERIFIED for v in verdicts):
        return Verdict.VERIFIED
    return Verdict.UNVERIFIED


def summary(claims: Iterable[Verdict]) -> dict[str, int]:
    counts = {v.value: 0 for v in Verdict}
    for v in claims:
        counts[v.value] += 1
    return counts
