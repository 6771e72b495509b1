"""Python claims: run the repro script sealed, read result.json, compare."""

from __future__ import annotations

import json
from pathlib import Path

from harness.artifact.models import ClaimRecord, Evidence, Verdict
from harness.bundle.manifest import PythonClaim
from harness.checkers.base import CheckContext, last_line, record_run
from harness.compare import Comparison, compare, describe, fmt
from harness.plan import ClaimPlan
from harness.python_env import ENV_MOUNT, EnvBuildError, ensure_env
from harness.sandbox.base import BUNDLE_MOUNT, RunStatus, SandboxRequest, SandboxUnavailable

RESULT_FILE = "result.json"
RESULT_MAX_BYTES = 1024 * 1024
PREFIX = "Sealed-sandbox repro"


class PythonChecker:
    kind = "python"

    def check(self, plan: ClaimPlan, ctx: CheckContext) -> ClaimRecord:
        claim: PythonClaim = plan.claim
        base = dict(id=claim.id, kind="python", text=claim.text,
                    evidence=Evidence.DATA if claim.inputs else Evidence.FORMULA,
                    expected=dict(claim.expected), tolerance=plan.tolerance_record,
                    perturb_reason=claim.perturb_reason)

        def error(reason: str, **extra) -> ClaimRecord:
            return ClaimRecord(verdict=Verdict.ERROR, reason=f"{PREFIX}: {reason}", **base, **extra)

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

        collect = ctx.work_dir / "claims" / claim.id / "out"
        request = SandboxRequest(argv=[python, "-B", "-s", f"{BUNDLE_MOUNT}/{claim.script}"],
                                 bundle_dir=plan.bundle_root, collect_to=collect,
                                 limits=plan.limits, env=env, ro_mounts=mounts)
        try:
            result = ctx.backend.run(request)
        except SandboxUnavailable as exc:
            return error(f"sandbox unavailable: {exc}")
        run = record_run(claim.id, request, result, ctx)

        if result.status is not RunStatus.EXITED:
            return error(f"{result.status.value}: {result.detail}", run=run)
        if result.exit_code != 0:
            hint = last_line(result.stderr)
            return error(f"script exited with status {result.exit_code}"
                         + (f": {hint}" if hint else ""), run=run)
        computed, problem = _read_result(collect / RESULT_FILE)
        if problem:
            return error(problem, run=run)

        comparisons = [compare(name, value, computed.get(name), plan.tolerance,
                               present=name in computed)
                       for name, value in claim.expected.items()]
        verified = all(c.ok for c in comparisons)
        reason = _reason(comparisons, plan)
        return ClaimRecord(verdict=Verdict.VERIFIED if verified else Verdict.FALSIFIED,
                           reason=reason, computed=computed, comparisons=comparisons, run=run,
                           **base)


def _read_result(path: Path) -> tuple[dict, str | None]:
    if not path.is_file():
        return {}, "the script wrote no $REPRO_OUT/result.json"
    if path.stat().st_size > RESULT_MAX_BYTES:
        return {}, f"result.json is larger than {RESULT_MAX_BYTES // 1024} KiB"
    try:
        data = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return {}, f"result.json is not valid JSON ({exc})"
    if not isinstance(data, dict):
        return {}, "result.json must be a JSON object mapping names to values"
    return data, None


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
