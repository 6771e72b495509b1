"""The evidence corpus: honest and cheating repro scripts, and what repro must make of them.

SPEC 3, void evidence: a reported value that is a literal in the script, that
is read from ``repro.toml``, or that does not move when the declared inputs are
perturbed proves nothing; such a claim is ``unverified`` with flags that say
why, never ``verified`` (and not ``falsified`` either: nothing was tested).  A
claim without inputs computed by arithmetic from constants is ``formula``
evidence and is fine.

``tests/evidence_corpus/`` holds one small bundle per case and ``cases.toml``,
the index: for every case whether it is honest, and per claim the static origin
of each reported value, the verdict of a full check and the flags that must be
present (none at all for an honest case).  Here:

* the index and the directories agree, and every case is a well-formed bundle;
* static analysis (no sandbox) finds the expected origin of every value;
* a full ``check()`` (sealed sandbox, with the perturbation run) gives the
  expected verdicts, flags and evidence labels, once per case;
* the acceptance rule of the feature, stated on the whole corpus: at least 25
  cases of both kinds, not one honest case flagged, not one cheat verified;
* ``perturb=False`` (``--no-perturb``): a clean data claim says the
  perturbation was skipped and still verifies, a literal stays unverified.
"""

from __future__ import annotations

import ast
import os
import sys
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "evidence_corpus"
INDEX: dict[str, dict] = tomllib.loads((CORPUS / "cases.toml").read_text())
CLAIMS = [(case, claim_id) for case, entry in INDEX.items() for claim_id in entry["claims"]]
HONEST = [case for case, entry in INDEX.items() if entry["honest"]]
CHEATS = [case for case, entry in INDEX.items() if not entry["honest"]]

ORIGINS = {"computed", "formula", "literal", "reads-manifest", "undeclared-input", "undecided"}
CLEAN_ORIGINS = {"computed", "formula"}
FLAGS = {"literal", "reads-manifest", "input-insensitive", "undeclared-input",
         "analysis-undecided", "perturbation-skipped"}
MAX_DATA_ROWS = 15


def _manifest(case: str) -> dict:
    return tomllib.loads((CORPUS / case / "repro.toml").read_text())


def _text(value) -> str:
    """An enum's value or the string itself (flags, verdicts, evidence)."""
    return getattr(value, "value", value)


def _describe(record) -> str:
    """One line per claim record, for assertion messages."""
    return (f"{record.id}: verdict={_text(record.verdict)} evidence={_text(record.evidence)} "
            f"flags={[_text(f) for f in record.flags]} reason={record.reason!r}")


# --- the index and the directories ------------------------------------------------

def test_index_and_directories_agree():
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    listed = set(INDEX)
    assert on_disk - listed == set(), "directories missing from cases.toml"
    assert listed - on_disk == set(), "cases.toml lists directories that do not exist"
    for case in listed:
        assert (CORPUS / case / "repro.toml").is_file(), case


@pytest.mark.parametrize("case", list(INDEX))
def test_index_entry_matches_its_bundle(case):
    entry = INDEX[case]
    assert isinstance(entry["honest"], bool)
    assert entry["description"].strip() and "\n" not in entry["description"]
    manifest = _manifest(case)
    assert manifest["schema"] == "repro-bundle/1"
    assert manifest["defaults"] == {"timeout_s": 30, "memory_mb": 256}
    claims = {c["id"]: c for c in manifest["claim"]}
    assert 1 <= len(claims) <= 2
    assert set(entry["claims"]) == set(claims), "cases.toml and repro.toml name the same claims"
    for claim_id, want in entry["claims"].items():
        claim = claims[claim_id]
        assert claim["kind"] == "python"
        assert set(want["origin"]) == set(claim["expected"]), f"{claim_id}: one origin per value"
        assert set(want["origin"].values()) <= ORIGINS, want["origin"]
        assert set(want["flags"]) <= FLAGS, want["flags"]
        if entry["honest"]:
            assert want["verdict"] == "verified" and want["flags"] == [], claim_id
            assert set(want["origin"].values()) <= CLEAN_ORIGINS, claim_id
            # evidence is formula exactly when the claim has no inputs
            evidence = "data" if claim.get("inputs") else "formula"
            assert want["evidence"] == evidence, claim_id
            assert set(want["origin"].values()) == {"computed" if evidence == "data" else "formula"}
        else:
            assert want["verdict"] == "unverified", "void evidence is unverified, never falsified"
            assert want["flags"], f"{claim_id}: a cheat names the flags that catch it"


@pytest.mark.parametrize("case", list(INDEX))
def test_case_is_small_and_standard_library_only(case):
    root = CORPUS / case
    allowed = set(sys.stdlib_module_names) | {"repro"}
    for script in root.rglob("*.py"):
        tree = ast.parse(script.read_text(), str(script))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                assert name.split(".")[0] in allowed, f"{script.relative_to(CORPUS)} imports {name}"
    for data in root.rglob("*"):
        if data.is_file() and data.suffix in {".csv", ".tsv", ".jsonl"}:
            rows = [line for line in data.read_text().splitlines() if line.strip()]
            assert len(rows) <= MAX_DATA_ROWS + 1, f"{data.relative_to(CORPUS)}: keep the data tiny"


def test_acceptance_corpus_size():
    """The issue's rule: at least 25 cases, honest ones and cheats."""
    assert len(INDEX) >= 25
    assert len(HONEST) >= 14 and len(CHEATS) >= 16, (len(HONEST), len(CHEATS))


# --- static analysis (no sandbox) -----------------------------------------------------

def _analyze(case: str, tmp: Path) -> dict:
    """claim id -> StaticReport, from the real loader and planner."""
    from harness.bundle.loader import load_bundle
    from harness.evidence.static import analyze_claim
    from harness.plan import plan_claims

    bundle = load_bundle(CORPUS / case, tmp / f"staged-{case}")
    return {plan.claim.id: analyze_claim(plan) for plan in plan_claims(bundle)}


def _origins_message(report, names) -> str:
    lines = []
    for name in names:
        value = report.values.get(name)
        if value is None:
            lines.append(f"  {name}: no analysis")
        else:
            lines.append(f"  {name}: {value.origin} at {value.file}:{value.line}: {value.detail}")
    lines += [f"  note: {n}" for n in report.notes]
    return "\n".join(lines)


@pytest.mark.parametrize(("case", "claim_id"), CLAIMS, ids=[f"{c}/{i}" for c, i in CLAIMS])
def test_static_origin(case, claim_id, tmp_path):
    report = _analyze(case, tmp_path)[claim_id]
    want = INDEX[case]["claims"][claim_id]["origin"]
    got = {name: (report.values[name].origin if name in report.values else None) for name in want}
    assert got == want, f"{case}/{claim_id}\n" + _origins_message(report, want)


def test_acceptance_no_honest_case_is_flagged_statically(tmp_path):
    flagged = []
    for case in HONEST:
        for claim_id, report in _analyze(case, tmp_path).items():
            for name, value in report.values.items():
                if value.origin not in CLEAN_ORIGINS:
                    flagged.append(f"{case}/{claim_id}/{name}: {value.origin}: {value.detail}")
    assert flagged == []


# --- end to end (sealed sandbox, with perturbation) -------------------------------------

def _run_check(case: str, base: Path, perturb: bool = True):
    from harness.check import CheckOptions, check

    out = base / f"out-{case}-{'perturb' if perturb else 'no-perturb'}"
    return check(CORPUS / case, CheckOptions(out_dir=out, jobs=2, perturb=perturb))


@pytest.fixture(scope="module")
def artifacts():
    """Every case checked once (in parallel); the tests below only read the artifacts.

    Module-scoped, so it is built before conftest's per-test root gate: skip
    here too when not root.  As root a broken sandbox fails, it is never skipped.
    """
    if os.geteuid() != 0:
        pytest.skip("sandbox tests need root (the nsjail backend creates cgroups and mounts a tmpfs)")
    with tempfile.TemporaryDirectory(prefix="repro-corpus-") as tmp:
        base = Path(tmp)
        with ThreadPoolExecutor(max_workers=4) as pool:
            done = dict(zip(INDEX, pool.map(lambda case: _run_check(case, base), INDEX)))
        yield done


@pytest.mark.sandbox
@pytest.mark.parametrize("case", list(INDEX))
def test_check_verdicts_and_flags(artifacts, case):
    entry = INDEX[case]
    artifact = artifacts[case]
    records = {c.id: c for c in artifact.claims}
    assert set(records) == set(entry["claims"])
    for claim_id, want in entry["claims"].items():
        record = records[claim_id]
        message = f"{case}/{_describe(record)}"
        flags = [_text(f) for f in record.flags]
        assert _text(record.verdict) == want["verdict"], message
        if entry["honest"]:
            assert flags == [], message
            assert _text(record.evidence) == want["evidence"], message
        else:
            missing = set(want["flags"]) - set(flags)
            assert not missing, f"missing flags {sorted(missing)}: {message}"
        assert record.reason.strip() and "\n" not in record.reason, message
    assert _text(artifact.verdict) == ("verified" if entry["honest"] else "unverified")


@pytest.mark.sandbox
def test_acceptance_no_cheat_is_verified_and_no_honest_case_is_flagged(artifacts):
    verified_cheats = [f"{case}/{_describe(c)}" for case in CHEATS
                       for c in artifacts[case].claims if _text(c.verdict) == "verified"]
    assert verified_cheats == []
    flagged_honest = [f"{case}/{_describe(c)}" for case in HONEST
                      for c in artifacts[case].claims
                      if c.flags or _text(c.verdict) != "verified"]
    assert flagged_honest == []


@pytest.mark.sandbox
def test_without_perturbation(sandbox_tmp):
    """`--no-perturb`: what static analysis cannot see is left open, and says so."""
    honest = _run_check("honest-csv-mean", sandbox_tmp, perturb=False).claims[0]
    assert _text(honest.verdict) == "verified", _describe(honest)
    assert [_text(f) for f in honest.flags] == ["perturbation-skipped"], _describe(honest)

    formula = _run_check("honest-formula", sandbox_tmp, perturb=False).claims
    for record in formula:   # no inputs: nothing to perturb, nothing skipped
        assert (_text(record.verdict), list(record.flags)) == ("verified", []), _describe(record)

    literal = _run_check("cheat-claimed-value", sandbox_tmp, perturb=False).claims[0]
    assert _text(literal.verdict) == "unverified", _describe(literal)
    assert "literal" in [_text(f) for f in literal.flags], _describe(literal)
