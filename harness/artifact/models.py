"""The reproducibility artifact (``repro-artifact/1``), as pydantic models.

These models are the single source of the artifact format: ``repro schema
artifact`` prints their JSON Schema, and the writer serialises them.  Fields
that vary between two runs of the same bundle on the same machine are only
times and durations (``started_at``, ``finished_at``, ``duration_s``), so
artifacts can be compared with those keys removed.
"""

from __future__ import annotations

import enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.compare import Comparison
from harness.sandbox.base import Limits, RunStatus

ARTIFACT_SCHEMA = "repro-artifact/1"


class Verdict(str, enum.Enum):
    VERIFIED = "verified"
    FALSIFIED = "falsified"
    UNVERIFIED = "unverified"
    ERROR = "error"


class Evidence(str, enum.Enum):
    DATA = "data"          # computed from the declared inputs
    FORMULA = "formula"    # computed from constants, no inputs
    PROOF = "proof"        # a Lean proof
    NONE = "none"          # nothing to check


class Record(BaseModel):
    # Defaults are always written, so the schema lists them as required; NaN and
    # infinities (legal computed values) are written as strings, not as null.
    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True,
                              ser_json_inf_nan="strings")


class ToleranceRecord(Record):
    rel: float | None = None
    abs: float | None = None
    reported: bool = False
    source: Literal["claim", "defaults", "default"] = Field(
        description="where it came from: the claim, [defaults], or the built-in default (rel 5%)")


class StreamRecord(Record):
    bytes: int = Field(description="bytes the run wrote to the stream, including any not kept")
    truncated: bool = Field(description="true when only the head and tail were kept")
    log: str = Field(description="path of the kept log, relative to the artifact")
    sha256: str = Field(description="sha256 of the log file written beside the artifact")
    tail: str = Field(description="the last lines of the stream")


class RunRecord(Record):
    backend: str
    command: list[str] = Field(description="argv as run inside the sandbox")
    limits: Limits
    status: RunStatus
    exit_code: int | None
    signal: int | None
    detail: str = ""
    duration_s: float
    stdout: StreamRecord
    stderr: StreamRecord
    sandbox_log: str = Field(description="the sandbox's own log beside the artifact (varies "
                                         "between runs: pids, times; not hashed)")


class ValueEvidence(Record):
    """Where one reported value comes from (static analysis) and whether it moved (perturbation)."""

    name: str
    origin: Literal["computed", "formula", "literal", "reads-manifest", "undeclared-input",
                    "undecided"] = Field(description="what the static analysis of the script found")
    detail: str = Field(description="the finding as a phrase, with file and line")
    file: str | None = None
    line: int | None = None
    changed: bool | None = Field(
        default=None, description="true if the value changed (or the script failed) on perturbed "
                                  "inputs; false if it never changed; null if no perturbation ran")
    perturbed_values: list[Any] = Field(
        default_factory=list, description="what the script reported in each perturbation run")


class PerturbedFile(Record):
    path: str
    action: str = Field(description="what was done to the file, e.g. 'csv: 18 numbers scaled; "
                                    "9 data rows shuffled'")


class PerturbationAttempt(Record):
    seed: int
    mode: Literal["scale", "resample"]
    files: list[PerturbedFile]
    run: RunRecord | None = None
    computed: dict[str, Any] | None = None
    outcome: str = Field(description="one phrase: which values changed, or why the run counts "
                                     "as sensitive")


class PerturbationRecord(Record):
    status: Literal["run", "skipped", "opted-out", "not-applicable", "not-run"] = Field(
        description="run; skipped (--no-perturb); opted-out (perturb = false, see reason); "
                    "not-applicable (no inputs); not-run (the first run gave nothing to compare)")
    reason: str
    attempts: list[PerturbationAttempt] = Field(default_factory=list)


class EvidenceCheck(Record):
    values: list[ValueEvidence]
    notes: list[str] = Field(default_factory=list,
                             description="what the static analysis could not follow, and why")
    perturbation: PerturbationRecord


class ClaimRecord(Record):
    id: str
    kind: Literal["python", "lean", "none"]
    text: str
    verdict: Verdict
    evidence: Evidence
    flags: list[str] = Field(default_factory=list)
    reason: str = Field(description="one line a reader understands without the logs")
    expected: dict[str, Any] | None = None
    tolerance: ToleranceRecord | None = None
    computed: dict[str, Any] | None = Field(
        default=None, description="what the script wrote to result.json")
    comparisons: list[Comparison] = Field(default_factory=list)
    run: RunRecord | None = None
    evidence_check: EvidenceCheck | None = Field(
        default=None, description="Python claims: is the evidence real (SPEC 3, void evidence)")
    perturb_reason: str | None = None


class FileRecord(Record):
    path: str
    size: int
    sha256: str


class BundleRecord(Record):
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    paper: dict[str, Any] | None = None
    manifest: dict[str, Any] = Field(description="repro.toml as read")
    files: list[FileRecord]


class Environment(Record):
    harness_python: str
    os: str
    kernel: str
    machine: str
    sandbox: dict[str, str]
    packages: dict[str, str]


class Options(Record):
    backend: str
    jobs: int
    claims: list[str] | None = Field(default=None, description="--claim filter, if any")
    perturb: bool = Field(default=True, description="false with --no-perturb")


class Artifact(Record):
    model_config = ConfigDict(title=ARTIFACT_SCHEMA)   # merged with Record's config

    schema_: Literal["repro-artifact/1"] = Field(default=ARTIFACT_SCHEMA, alias="schema")
    verdict: Verdict
    bundle: BundleRecord
    harness_version: str
    started_at: str
    finished_at: str
    duration_s: float
    complete: bool = Field(description="false while claims are still running (or if repro was stopped)")
    options: Options
    environment: Environment
    summary: dict[str, int]
    claims: list[ClaimRecord]

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2) + "\n"
