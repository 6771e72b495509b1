"""Views of the artifact for other readers, through the real command line.

* ``--junit FILE``: one testcase per claim; falsified -> <failure>,
  error -> <error>, unverified -> <skipped>, verified -> none of them.
* ``--markdown FILE``: every claim id with its verdict, and the bundle digest.
* ``repro schema bundle|artifact``: JSON Schemas that describe what repro
  actually reads and writes (checked against the example manifests and a real
  artifact without a JSON Schema validator, which is not a dependency).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "repro_examples"
CLI = [sys.executable, "-m", "harness.cli"]

MIXED_MANIFEST = """\
schema = "repro-bundle/1"

[paper]
id = "SRCH:E5BED67D"
title = "Scaling English Intermediate Tasks for Zero-Shot Cross-Lingual Transfer on XTREME"

[defaults]
timeout_s = 30
memory_mb = 256

[[claim]]
id = "holds"
text = "The mean score is 2.0"
kind = "python"
script = "mean.py"
inputs = ["scores.csv"]
expected = { mean = 2.0 }

[[claim]]
id = "does-not-hold"
text = "The mean score is 3.0"
kind = "python"
script = "mean.py"
inputs = ["scores.csv"]
expected = { mean = 3.0 }

[[claim]]
id = "no-artifact"
text = "A claim nobody has reproduced yet"
kind = "none"

[[claim]]
id = "crashes"
text = "The median score is 2.0"
kind = "python"
script = "crash.py"
inputs = ["scores.csv"]
expected = { median = 2.0 }
"""

MEAN_PY = """\
import csv, json, os
with open("scores.csv", newline="") as f:
    xs = [float(r["score"]) for r in csv.DictReader(f)]
with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"mean": sum(xs) / len(xs)}, f)
"""

CRASH_PY = """\
with open("scores.csv") as f:
    rows = f.read().splitlines()
raise RuntimeError(f"median not implemented for {len(rows) - 1} rows")
"""

EXPECTED = {"holds": "verified", "does-not-hold": "falsified",
            "no-artifact": "unverified", "crashes": "error"}
JUNIT_TAG = {"verified": None, "falsified": "failure", "error": "error", "unverified": "skipped"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def write_bundle(root: Path) -> Path:
    root.mkdir()
    (root / "repro.toml").write_text(MIXED_MANIFEST)
    (root / "scores.csv").write_text("item,score\na,1.5\nb,2.0\nc,2.5\n")
    (root / "mean.py").write_text(MEAN_PY)
    (root / "crash.py").write_text(CRASH_PY)
    return root


def root_or_skip() -> None:
    """Module-scoped fixtures are built before conftest's per-test root gate: skip here too.

    As root a broken sandbox fails, it is never skipped.
    """
    if os.geteuid() != 0:
        pytest.skip("sandbox tests need root (the nsjail backend creates cgroups and mounts a tmpfs)")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """The four-verdict bundle, checked once with --junit and --markdown."""
    root_or_skip()
    base = tmp_path_factory.mktemp("reports")
    bundle = write_bundle(base / "bundle")
    junit, md, out = base / "report.xml", base / "report.md", base / "out"
    done = run_cli("check", str(bundle), "--out", str(out), "--junit", str(junit),
                   "--markdown", str(md))
    artifact = json.loads((out / "repro-artifact.json").read_text())
    return done, artifact, junit, md


# --- JUnit -----------------------------------------------------------------------

@pytest.mark.sandbox
def test_mixed_bundle_verdicts(mixed):
    done, artifact, _, _ = mixed
    assert done.returncode == 1, done.stderr     # one claim is falsified
    assert artifact["verdict"] == "falsified"
    assert {c["id"]: c["verdict"] for c in artifact["claims"]} == EXPECTED
    crash = next(c for c in artifact["claims"] if c["id"] == "crashes")
    assert "median not implemented" in crash["reason"]


@pytest.mark.sandbox
def test_junit_one_testcase_per_claim(mixed):
    _, artifact, junit, _ = mixed
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == list(EXPECTED)
    assert suite.get("tests") == "4"
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("1", "1", "1")

    reasons = {c["id"]: c["reason"] for c in artifact["claims"]}
    for case in cases:
        verdict = EXPECTED[case.get("name")]
        outcome = {child.tag for child in case} & {"failure", "error", "skipped"}
        want = JUNIT_TAG[verdict]
        assert outcome == ({want} if want else set()), (case.get("name"), outcome)
        if want:
            assert case.find(want).get("message") == reasons[case.get("name")]
        assert float(case.get("time")) >= 0


@pytest.mark.sandbox
def test_junit_all_verified(tmp_path):
    junit = tmp_path / "junit.xml"
    done = run_cli("check", str(EXAMPLES_DIR / "tokens-per-step"), "--out", str(tmp_path / "out"),
                   "--junit", str(junit))
    assert done.returncode == 0, done.stderr
    root = ET.parse(junit).getroot()
    cases = root.iter("testcase")
    names = []
    for case in cases:
        names.append(case.get("name"))
        assert not [child for child in case if child.tag in ("failure", "error", "skipped")]
    assert names == ["tokens-per-step-config", "tokens-per-step-formula"]


# --- Markdown ---------------------------------------------------------------------

@pytest.mark.sandbox
def test_markdown_names_claims_verdicts_and_digest(mixed):
    _, artifact, _, md = mixed
    text = md.read_text()
    assert artifact["bundle"]["digest"] in text
    assert artifact["verdict"] in text
    for claim in artifact["claims"]:
        line = next((ln for ln in text.splitlines() if claim["id"] in ln and claim["verdict"] in ln), None)
        assert line is not None, f"no line with {claim['id']} and {claim['verdict']}"
    assert "Scaling English Intermediate Tasks" in text


# --- JSON Schemas -----------------------------------------------------------------

def schema(which: str) -> dict:
    done = run_cli("schema", which)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["$schema"].startswith("https://json-schema.org/")
    assert data["type"] == "object" and isinstance(data["properties"], dict)
    return data


def resolve(root: dict, node: dict) -> dict:
    """Follow a local $ref (also through anyOf [ref, null])."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return root["$defs"][name]
    for option in node.get("anyOf", []):
        if "$ref" in option:
            return resolve(root, option)
    return node


def test_bundle_schema_describes_the_manifest():
    bundle = schema("bundle")
    assert {"schema", "claim"} <= set(bundle["required"])
    assert {"schema", "paper", "defaults", "claim"} <= set(bundle["properties"])
    assert bundle.get("additionalProperties") is False, "unknown keys are errors (SPEC 2)"
    claim_kinds = json.dumps(bundle["properties"]["claim"]) + json.dumps(bundle.get("$defs", {}))
    for kind in ("python", "lean", "none"):
        assert f'"{kind}"' in claim_kinds
    # every example manifest uses only keys the schema knows, at the top level
    for manifest in sorted(EXAMPLES_DIR.glob("*/repro.toml")):
        keys = set(tomllib.loads(manifest.read_text()))
        assert keys <= set(bundle["properties"]), (manifest, keys - set(bundle["properties"]))


def test_artifact_schema_requires_the_skeleton():
    artifact = schema("artifact")
    assert {"schema", "verdict", "bundle", "claims"} <= set(artifact["required"]), artifact["required"]
    claim = resolve(artifact, artifact["properties"]["claims"]["items"])
    assert {"id", "kind", "verdict", "evidence", "flags", "reason"} <= set(claim["properties"])
    bundle = resolve(artifact, artifact["properties"]["bundle"])
    assert "digest" in bundle["properties"]


def test_unknown_schema_name_is_a_usage_error():
    done = run_cli("schema", "nonsense")
    assert done.returncode == 2
    assert "nonsense" in done.stderr


@pytest.mark.sandbox
def test_real_artifact_keys_are_in_the_schema(mixed):
    _, artifact, _, _ = mixed
    root = schema("artifact")
    assert set(artifact) <= set(root["properties"]), set(artifact) - set(root["properties"])
    claim_schema = resolve(root, root["properties"]["claims"]["items"])
    for claim in artifact["claims"]:
        assert set(claim) <= set(claim_schema["properties"]), set(claim) - set(claim_schema["properties"])
        if claim.get("run"):
            run_schema = resolve(root, claim_schema["properties"]["run"])
            assert set(claim["run"]) <= set(run_schema["properties"])
    bundle_schema = resolve(root, root["properties"]["bundle"])
    assert set(artifact["bundle"]) <= set(bundle_schema["properties"])
