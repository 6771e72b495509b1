"""End to end: `repro check` on every bundle in repro_examples/, as a user runs it.

Each example is checked through the real command line in a real nsjail sandbox,
then the artifact is read back as a tool would: the exit code, the bundle
verdict, each claim's verdict and evidence, the SPEC 4 skeleton, the logs
beside the artifact and their hashes.  Also: archives give the same digest
and verdicts as the directory, `--claim` filters (and an unknown id is exit 2),
`--json` prints the artifact, and two runs give the same artifact apart from
times and durations.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "repro_examples"
CLI = [sys.executable, "-m", "harness.cli"]
ARTIFACT = "repro-artifact.json"

pytestmark = pytest.mark.sandbox

VERDICTS = {"verified", "falsified", "unverified", "error"}
EVIDENCE = {"data", "formula", "proof", "none"}
EXIT = {"verified": 0, "falsified": 1, "unverified": 3, "error": 3}
TIMING_KEYS = {"started_at", "finished_at", "duration_s"}


@dataclass(frozen=True)
class Expect:
    verdict: str
    evidence: str
    computed: dict | None = None     # name -> value the script must have reported (approx.)
    reason_has: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()      # flags that must be present (void evidence); else none at all


# bundle -> (exit code, bundle verdict, {claim id: Expect}); README.md mirrors this table.
EXAMPLES: dict[str, tuple[int, str, dict[str, Expect]]] = {
    "xtreme-mean-gain": (0, "verified", {
        "mean-gain": Expect("verified", "data", {"gain": 8.7111111}, ("gain=8.71", "8.7")),
    }),
    "xnli-intermediate-vs-direct": (0, "verified", {
        "xnli-mean-diff": Expect("verified", "data",
                                 {"mean_diff": 1.1266667, "languages_improved": 13},
                                 ("mean_diff=", "languages_improved=13")),
    }),
    "xtremer-lowres-robustness": (0, "verified", {
        "lowres-drop": Expect("verified", "data", {"lowres_drop": 1.4125}, ("as precise as reported",)),
        "highres-gain": Expect("verified", "data", {"highres_gain": 0.6}, ('"0.60"',)),
    }),
    "task-selection-diversity": (0, "verified", {
        "difficulty-gain-correlation": Expect("verified", "data", {"difficulty_gain_r": 0.7048571}),
        "selection-vs-random": Expect("verified", "data",
                                      {"mean_gain": [1.5666667, 0.9777778]}, ("[1.57, 0.98]",)),
    }),
    "tokens-per-step": (0, "verified", {
        "tokens-per-step-config": Expect("verified", "data",
                                         {"tokens_per_step": 393216, "effective_batch": 3072}),
        "tokens-per-step-formula": Expect("verified", "formula", {"tokens_per_step": 393216}),
    }),
    "falsified-xquad-gain": (1, "falsified", {
        "xquad-gain": Expect("falsified", "data", {"xquad_gain": 1.1909091},
                             ("xquad_gain=1.19", "does not match", "2.5")),
        "mlqa-gain": Expect("verified", "data", {"mlqa_gain": 1.5142857}, ("default",)),
    }),
    "claim-without-artifact": (3, "unverified", {
        "intermediate-data-size": Expect("verified", "data", {"total_examples_millions": 2.192649}),
        "selection-beats-random": Expect("unverified", "none"),
    }),
    "hardcoded-mean-gain": (3, "unverified", {
        "mean-gain": Expect("unverified", "data", {"gain": 8.7},
                            ("the literal 8.7", "repro/verify_gain.py line 14", "input-insensitive"),
                            flags=("literal", "input-insensitive")),
    }),
}


# --- helpers -----------------------------------------------------------------

@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    out: Path

    @property
    def artifact(self) -> dict:
        return json.loads((self.out / ARTIFACT).read_text())


def repro_check(bundle: Path, out: Path, *args: str) -> Run:
    done = subprocess.run([*CLI, "check", str(bundle), "--out", str(out), *args],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr, out)


def without_timing(value):
    """The artifact with every started_at, finished_at and duration_s removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bundle_files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256_file(p)
            for p in sorted(root.rglob("*")) if p.is_file()}


def make_tgz(src: Path, dest: Path) -> Path:
    """`tar czf dest -C parent name`: members under one top-level directory."""
    with tarfile.open(dest, "w:gz") as tf:
        tf.add(src, arcname=src.name)
    return dest


def make_zip(src: Path, dest: Path) -> Path:
    """`cd src && zip -r dest .`: members at the archive root."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(src).as_posix())
    return dest


@pytest.fixture(scope="session")
def example_runs(tmp_path_factory) -> dict[str, Run]:
    """Each example checked once per session (the tests below only read the results).

    Session-scoped, so it is built before conftest's per-test root gate: skip
    here too when not root.  As root a broken sandbox fails, it is never skipped.
    """
    if os.geteuid() != 0:
        pytest.skip("sandbox tests need root (the nsjail backend creates cgroups and mounts a tmpfs)")
    base = tmp_path_factory.mktemp("examples")
    return {name: repro_check(EXAMPLES_DIR / name, base / name) for name in EXAMPLES}


# --- the examples directory itself ---------------------------------------------

def test_every_example_is_covered_here_and_in_the_readme():
    on_disk = {p.name for p in EXAMPLES_DIR.iterdir() if (p / "repro.toml").is_file()}
    assert on_disk == set(EXAMPLES), "add new examples to EXAMPLES (and to repro_examples/README.md)"
    readme = (EXAMPLES_DIR / "README.md").read_text()
    for name, (code, verdict, _) in EXAMPLES.items():
        row = next((line for line in readme.splitlines() if f"`{name}`" in line), None)
        assert row is not None, f"README.md has no row for {name}"
        assert verdict in row and f"| {code} |" in row, row


# --- each example --------------------------------------------------------------

@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_verdicts(example_runs, name):
    code, verdict, claims = EXAMPLES[name]
    run = example_runs[name]
    assert run.code == code, run.stderr
    artifact = run.artifact
    assert artifact["verdict"] == verdict
    assert artifact["complete"] is True
    assert [c["id"] for c in artifact["claims"]] == list(claims), "claims in manifest order"
    counts = {v: sum(1 for e in claims.values() if e.verdict == v) for v in VERDICTS}
    assert artifact["summary"] == counts

    for record in artifact["claims"]:
        want = claims[record["id"]]
        assert (record["verdict"], record["evidence"]) == (want.verdict, want.evidence), record["reason"]
        for needle in want.reason_has:
            assert needle in record["reason"], record["reason"]
        if record["kind"] == "python":
            # honest examples: nothing to flag; void evidence: (at least) the flags that say why
            if want.flags:
                assert set(want.flags) <= set(record["flags"]), record["flags"]
            else:
                assert record["flags"] == [], record["flags"]
            assert {c["name"] for c in record["comparisons"]} == set(record["expected"])
            # a void claim reports the paper's own number: it matches, and proves nothing
            assert all(c["ok"] for c in record["comparisons"]) == (want.verdict != "falsified")
            assert record["run"]["status"] == "exited" and record["run"]["exit_code"] == 0
        for key, value in (want.computed or {}).items():
            assert record["computed"][key] == pytest.approx(value, rel=1e-6), key


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_artifact_skeleton(example_runs, name):
    """SPEC 4: the part of the artifact tools may rely on."""
    artifact = example_runs[name].artifact
    manifest_text = (EXAMPLES_DIR / name / "repro.toml").read_text()
    assert artifact["schema"] == "repro-artifact/1"
    assert artifact["verdict"] in VERDICTS
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", artifact["bundle"]["digest"])
    paper = artifact["bundle"]["paper"]
    assert paper and paper.get("title"), "every example names its paper"
    assert paper == artifact["bundle"]["manifest"]["paper"]
    if "SRCH:" in manifest_text:
        assert paper["id"].startswith("SRCH:")
    assert artifact["bundle"]["manifest"]["schema"] == "repro-bundle/1"
    # the file list is exactly the bundle, with the hashes of its contents
    files = {f["path"]: f["sha256"] for f in artifact["bundle"]["files"]}
    assert files == bundle_files(EXAMPLES_DIR / name)
    for key in ("harness_version", "started_at", "finished_at", "duration_s", "environment"):
        assert key in artifact
    assert artifact["environment"]["sandbox"]["backend"] == "nsjail"

    for claim in artifact["claims"]:
        assert isinstance(claim["id"], str) and claim["id"]
        assert claim["kind"] in {"python", "lean", "none"}
        assert claim["verdict"] in VERDICTS
        assert claim["evidence"] in EVIDENCE
        assert isinstance(claim["flags"], list) and all(isinstance(f, str) for f in claim["flags"])
        reason = claim["reason"]
        assert isinstance(reason, str) and reason.strip() and "\n" not in reason
        if claim["kind"] == "python":
            assert claim["expected"] and claim["tolerance"]["source"] in {"claim", "defaults", "default"}
            run = claim["run"]
            assert run["backend"] == "nsjail"
            assert run["command"][-1].endswith(".py")
            assert run["limits"]["timeout_s"] == 60 and run["limits"]["memory_mb"] == 512


def named_logs(value, found=None) -> list[tuple[str, str | None]]:
    """Every (log path, recorded sha256 or None) the artifact names, at any depth."""
    found = [] if found is None else found
    if isinstance(value, dict):
        if isinstance(value.get("log"), str):
            found.append((value["log"], value.get("sha256")))
        for key, item in value.items():
            if key.endswith("_log") and isinstance(item, str):
                found.append((item, None))
            else:
                named_logs(item, found)
    elif isinstance(value, list):
        for item in value:
            named_logs(item, found)
    return found


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_logs_beside_the_artifact_match_their_hashes(example_runs, name):
    run = example_runs[name]
    artifact = run.artifact
    logs = named_logs(artifact["claims"])
    for rel, digest in logs:
        assert not rel.startswith("/") and ".." not in Path(rel).parts, rel
        path = run.out / rel
        assert path.is_file(), f"{rel} named in the artifact is missing"
        if digest is not None:
            assert sha256_file(path) == digest, rel
    # stdout and stderr of every sandboxed run: logged, hashed, tail kept in the artifact
    for claim in artifact["claims"]:
        if claim["kind"] != "python":
            assert not claim.get("run"), "nothing runs for a claim without artifact"
            continue
        for stream in ("stdout", "stderr"):
            record = claim["run"][stream]
            assert (record["log"], record["sha256"]) in logs
            assert (run.out / record["log"]).read_text().endswith(record["tail"])


def test_script_output_reaches_the_log(example_runs):
    run = example_runs["tokens-per-step"]
    claim = next(c for c in run.artifact["claims"] if c["id"] == "tokens-per-step-config")
    text = (run.out / claim["run"]["stdout"]["log"]).read_text()
    assert "effective batch 3072 sequences x 128 tokens = 393216 tokens/step" in text


# --- archives --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["falsified-xquad-gain", "tokens-per-step"])
def test_archives_give_the_same_digest_and_verdicts(example_runs, tmp_path, name):
    directory = example_runs[name].artifact
    want = (directory["bundle"]["digest"], directory["verdict"],
            [(c["id"], c["verdict"], c["evidence"]) for c in directory["claims"]])
    for archive in (make_tgz(EXAMPLES_DIR / name, tmp_path / f"{name}.tar.gz"),
                    make_zip(EXAMPLES_DIR / name, tmp_path / f"{name}.zip")):
        run = repro_check(archive, tmp_path / f"out-{archive.name}")
        assert run.code == EXAMPLES[name][0], run.stderr
        got = run.artifact
        assert (got["bundle"]["digest"], got["verdict"],
                [(c["id"], c["verdict"], c["evidence"]) for c in got["claims"]]) == want, archive.name
        assert got["bundle"]["files"] == directory["bundle"]["files"]


# --- command-line options ----------------------------------------------------------

def test_claim_filter(tmp_path):
    bundle = EXAMPLES_DIR / "falsified-xquad-gain"
    run = repro_check(bundle, tmp_path / "one", "--claim", "mlqa-gain")
    assert run.code == 0, run.stderr
    artifact = run.artifact
    assert artifact["verdict"] == "verified"
    assert [c["id"] for c in artifact["claims"]] == ["mlqa-gain"]
    assert artifact["options"]["claims"] == ["mlqa-gain"]
    assert not (run.out / "logs" / "xquad-gain.stdout.log").exists()

    run = repro_check(bundle, tmp_path / "both", "--claim", "xquad-gain", "--claim", "mlqa-gain")
    assert run.code == 1, run.stderr
    assert [c["id"] for c in run.artifact["claims"]] == ["xquad-gain", "mlqa-gain"]
    assert run.artifact["verdict"] == "falsified"


def test_unknown_claim_is_invalid_input(tmp_path):
    run = repro_check(EXAMPLES_DIR / "tokens-per-step", tmp_path / "out", "--claim", "no-such-claim")
    assert run.code == 2
    assert "no-such-claim" in run.stderr and "--claim" in run.stderr
    assert "tokens-per-step-config" in run.stderr, "the message lists the claims there are"
    assert not (tmp_path / "out" / ARTIFACT).exists()


def test_json_prints_the_artifact_on_stdout(tmp_path):
    run = repro_check(EXAMPLES_DIR / "claim-without-artifact", tmp_path / "out", "--json")
    assert run.code == 3, run.stderr
    printed = json.loads(run.stdout)
    assert printed == run.artifact
    assert printed["verdict"] == "unverified"
    assert "repro: unverified" not in run.stdout, "the summary line goes to stderr"


def test_without_json_stdout_is_empty(example_runs):
    assert example_runs["xtreme-mean-gain"].stdout == ""


# --- determinism -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["task-selection-diversity", "falsified-xquad-gain"])
def test_two_runs_give_the_same_artifact_apart_from_times(tmp_path, name):
    first = repro_check(EXAMPLES_DIR / name, tmp_path / "first")
    second = repro_check(EXAMPLES_DIR / name, tmp_path / "second")
    assert first.code == second.code == EXAMPLES[name][0]
    a, b = first.artifact, second.artifact
    for artifact in (a, b):
        assert TIMING_KEYS <= set(artifact)
    assert without_timing(a) == without_timing(b)
    # the scripts' own output is the same too (the sandbox's log has pids and times)
    streams = {path: digest for path, digest in bundle_files(first.out / "logs").items()
               if path.endswith((".stdout.log", ".stderr.log"))}
    assert streams and streams == {path: digest for path, digest in bundle_files(second.out / "logs").items()
                                   if path.endswith((".stdout.log", ".stderr.log"))}
