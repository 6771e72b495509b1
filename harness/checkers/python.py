"""Python claims: analyse the script, run it sealed, check the evidence is real, compare.

1. Static analysis (:mod:`harness.evidence.static`): where each expected value
   comes from, without running anything.
2. The sealed run; ``result.json`` is read and compared with the paper.
3. For a claim with inputs, the perturbation run(s) (:mod:`harness.evidence.sensitivity`),
   started at the same time as the first run: a value that does not move is
   input-insensitive.
4. :mod:`harness.evidence.decision`: any void-evidence flag makes the claim
   ``unverified``, whatever the numbers say.

Inside the sandbox ``repro.toml`` reads as an empty file: the expected values
are never in reach of the script.
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from harness.artifact.models import (ClaimRecord, EvidenceCheck, Evidence, PerturbationRecord,
                                     ValueEvidence, Verdict)
from harness.bundle.manifest import PythonClaim
from harness.checkers.base import CheckContext, last_line, record_run
from harness.compare import Comparison, compare, describe, fmt
from harness.evidence.decision import decide
from harness.evidence.sensitivity import Sensitivity, perturbation_status
from harness.evidence.static import StaticReport, ValueFinding, analyze_claim
from harness.plan import ClaimPlan
from harness.python_env import ENV_MOUNT, EnvBuildError, ensure_env
from harness.sandbox.base import (BUNDLE_MOUNT, RunStatus, SandboxRequest, SandboxResult,
                                  SandboxUnavailable)

RESULT_FILE = "result.json"
RESULT_MAX_BYTES = 1024 * 1024
PREFIX = "Sealed-sandbox repro"
MANIFEST_IN_SANDBOX = f"{BUNDLE_MOUNT}/repro.toml"


class PythonChecker:
    kind = "python"

    def check(self, plan: ClaimPlan, ctx: CheckContext) -> ClaimRecord:
        claim: PythonClaim = plan.claim
        static = _static(plan)
        status, status_reason = perturbation_status(claim, ctx.perturb)
        base = dict(id=claim.id, kind="python", text=claim.text,
                    evidence=Evidence.DATA if claim.inputs else Evidence.FORMULA,
                    expected=dict(claim.expected), tolerance=plan.tolerance_record,
                    perturb_reason=claim.perturb_reason)
        sensitivity = Sensitivity(plan, status, status_reason)

        def finish(verdict: Verdict, reason: str, computed: dict | None = None, **extra) -> ClaimRecord:
            changed = sensitivity.changed(claim.expected) if computed is not None else {}
            decision = decide(static, changed, computed, bool(claim.inputs),
                              sensitivity.description(), status in ("skipped", "opted-out"))
            if decision.void_reason is not None and (verdict is not Verdict.ERROR
                                                     or decision.proven_void):
                run_note = f" (the run: {reason.removeprefix(PREFIX + ': ')})" \
                    if verdict is Verdict.ERROR else ""
                verdict, reason = Verdict.UNVERIFIED, decision.void_reason + run_note
            return ClaimRecord(verdict=verdict, reason=reason, flags=decision.flags,
                               computed=computed, evidence_check=_evidence(static, sensitivity,
                                                                           changed),
                               **base, **extra)

        def error(reason: str, **extra) -> ClaimRecord:
            sensitivity.abandon("the first run gave no result to compare with")
            return finish(Verdict.ERROR, f"{PREFIX}: {reason}", **extra)

        if ctx.backend is None:
            return error(f"sandbox unavailable: {ctx.backend_problem}")
        python = ctx.backend.python_executable()
        env, mounts = {"PYTHONPATH": BUNDLE_MOUNT}, []
        if plan.requirements:
            try:
                built = ensure_env(plan.bundle_root / plan.requirements, python,
                                   ctx.backend.describe().get("python", ""), ctx.env_cache)
            except EnvBuildError as exc:
                return error(f"could not build the environment from {plan.requirements}: {exc}")
            mounts.append((built, ENV_MOUNT))
            env["PYTHONPATH"] = f"{BUNDLE_MOUNT}:{ENV_MOUNT}"

        claim_dir = ctx.work_dir / "claims" / claim.id

        def request(bundle_dir: Path, collect: Path) -> SandboxRequest:
            return SandboxRequest(argv=[python, "-B", "-s", f"{BUNDLE_MOUNT}/{claim.script}"],
                                  bundle_dir=bundle_dir, collect_to=collect, limits=plan.limits,
                                  env=env, ro_mounts=mounts, masked=[MANIFEST_IN_SANDBOX])

        def run_sealed(bundle_dir: Path, collect: Path, label: str = "") -> tuple[
                SandboxResult | None, dict | None, str | None, object]:
            req = request(bundle_dir, collect)
            try:
                result = ctx.run(req)
            except SandboxUnavailable as exc:
                return None, None, f"sandbox unavailable: {exc}", None
            run = record_run(claim.id, req, result, ctx, label=label)
            return (result, *_outcome(result, collect / RESULT_FILE), run)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"perturb-{claim.id}") as pool:
            first: Future | None = None
            if sensitivity.should_run:
                first = pool.submit(sensitivity.attempt, 0, claim_dir, run_sealed)
            result, computed, problem, run = run_sealed(plan.bundle_root, claim_dir / "out")
            if first is not None:
                first.result()
            if problem is not None:
                return error(problem, run=run)
            sensitivity.set_original(computed)
            if sensitivity.should_run and sensitivity.needs_another(claim.expected):
                sensitivity.attempt(1, claim_dir, run_sealed)

        comparisons = [compare(name, value, computed.get(name), plan.tolerance,
                               present=name in computed)
                       for name, value in claim.expected.items()]
        verified = all(c.ok for c in comparisons)
        return finish(Verdict.VERIFIED if verified else Verdict.FALSIFIED,
                      _reason(comparisons, plan), computed=computed, comparisons=comparisons,
                      run=run)


def _static(plan: ClaimPlan) -> StaticReport:
    """The static report; a bug in the analysis leaves the values undecided, never crashes."""
    try:
        return analyze_claim(plan)
    except Exception as exc:  # noqa: BLE001 - recorded in the artifact
        why = f"the analysis failed ({type(exc).__name__}: {exc})"
        return StaticReport(values={n: ValueFinding(n, "undecided", f"could not be traced: {why}")
                                    for n in plan.claim.expected}, notes=[why])


def _outcome(result: SandboxResult, result_file: Path) -> tuple[dict | None, str | None]:
    """(what the script reported, None) or (None, why the run gave nothing to compare)."""
    if result.status is not RunStatus.EXITED:
        return None, f"{result.status.value}: {result.detail}"
    if result.exit_code != 0:
        hint = last_line(result.stderr)
        return None, f"script exited with status {result.exit_code}" + (f": {hint}" if hint else "")
    return _read_result(result_file)


def _read_result(path: Path) -> tuple[dict | None, str | None]:
    if not path.is_file():
        return None, "the script wrote no $REPRO_OUT/result.json"
    if path.stat().st_size > RESULT_MAX_BYTES:
        return None, f"result.json is larger than {RESULT_MAX_BYTES // 1024} KiB"
    try:
        data = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"result.json is not valid JSON ({exc})"
    if not isinstance(data, dict):
        return None, "result.json must be a JSON object mapping names to values"
    return data, None


def _evidence(static: StaticReport, sensitivity: Sensitivity,
              changed: dict[str, bool | None]) -> EvidenceCheck:
    values = [ValueEvidence(name=f.name, origin=f.origin, detail=f.detail, file=f.file,
                            line=f.line, changed=changed.get(f.name),
                            perturbed_values=sensitivity.perturbed_values(f.name))
              for f in static.values.values()]
    return EvidenceCheck(values=values, notes=static.notes,
                         perturbation=PerturbationRecord(status=sensitivity.status,
                                                         reason=sensitivity.reason,
                                                         attempts=sensitivity.attempts))


def _reason(comparisons: list[Comparison], plan: ClaimPlan) -> str:
    tol = describe(plan.tolerance) + (", default" if plan.tolerance_record.source == "default" else "")
    bad = [c for c in comparisons if not c.ok]
    if not bad:
        if len(comparisons) == 1:
            c = comparisons[0]
            return (f"{PREFIX}: computed {c.name}={fmt(c.computed)} matches expected "
                    f"{fmt(c.expected)} ({tol})")
        pairs = ", ".join(f"{c.name}={fmt(c.computed)}" for c in comparisons)
        return f"{PREFIX}: all {len(comparisons)} values match expected ({tol}): {pairs}"
    first = bad[0]
    more = f" (and {len(bad) - 1} more mismatches)" if len(bad) > 1 else ""
    if not first.reported:
        return f"{PREFIX}: the script did not report '{first.name}'{more}"
    return (f"{PREFIX}: computed {first.name}={fmt(first.computed)} does not match expected "
            f"{fmt(first.expected)} ({tol}: {first.detail}){more}")
