"""SPEC 3, void evidence: from what the analysis and the perturbation found, to flags.

A *blocking* flag makes the claim ``unverified`` whatever its numbers say: the
repro could not have failed, so its agreement with the paper proves nothing.
``perturbation-skipped`` only records that the dynamic check did not run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.compare import fmt
from harness.evidence.static import VOID_ORIGINS, StaticReport

INPUT_INSENSITIVE = "input-insensitive"
ANALYSIS_UNDECIDED = "analysis-undecided"
PERTURBATION_SKIPPED = "perturbation-skipped"
BLOCKING = frozenset(VOID_ORIGINS | {INPUT_INSENSITIVE, ANALYSIS_UNDECIDED})


@dataclass(frozen=True)
class EvidenceDecision:
    flags: list[str]
    void_reason: str | None        # set when a blocking flag makes the claim unverified

    @property
    def proven_void(self) -> bool:
        """A positive finding (a literal, the manifest, no movement), not just "could not
        tell": only such a finding outranks a run that failed (`error`)."""
        return any(f in BLOCKING and f != ANALYSIS_UNDECIDED for f in self.flags)


def decide(static: StaticReport, changed: dict[str, bool | None], computed: dict[str, Any] | None,
           has_inputs: bool, perturbation_ran: str, perturbation_skipped: bool) -> EvidenceDecision:
    """`changed[name]` is None when no perturbation ran; `perturbation_ran` describes the
    runs for the reason ("2 runs on perturbed inputs")."""
    findings: list[tuple[str, str]] = []          # (flag, sentence)
    for name, finding in static.values.items():
        if finding.origin in VOID_ORIGINS:
            findings.append((finding.origin, f"{_value(name, computed)} {finding.detail}"))
        elif finding.origin == "undecided" and not has_inputs:
            findings.append((ANALYSIS_UNDECIDED, f"{_value(name, computed)} {finding.detail}; "
                             "without inputs there is no perturbation run to decide it"))
    for name, moved in changed.items():
        if moved is False:
            findings.append((INPUT_INSENSITIVE, f"{_value(name, computed)} did not change when the "
                             f"inputs were perturbed, beyond its tolerance ({perturbation_ran})"))
    flags = list(dict.fromkeys(flag for flag, _ in findings))
    if perturbation_skipped:
        flags.append(PERTURBATION_SKIPPED)
    if not findings:
        return EvidenceDecision(flags=flags, void_reason=None)
    reason = f"Void evidence: {findings[0][1]}"
    others = [flag for flag in flags if flag in BLOCKING and flag != findings[0][0]]
    more = len(findings) - 1
    if more:
        reason += f" (and {more} more finding{'s' if more > 1 else ''}"
        reason += f": {', '.join(others)})" if others else ")"
    return EvidenceDecision(flags=flags, void_reason=reason)


def _value(name: str, computed: dict[str, Any] | None) -> str:
    if computed is not None and name in computed:
        return f"reported value {name}={fmt(computed[name])}"
    return f"reported value '{name}'"
