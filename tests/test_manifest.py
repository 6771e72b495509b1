"""Manifest validation: what a user sees when `repro.toml` is wrong.

Every error is an InputError whose problems name the file (`.../repro.toml`),
the field (`claim[0].tolerance`) and the 1-based line where the user has to
look.  Expected lines are computed from the manifest text itself (the line
holding a marker string), so the tests say *which* line, not a magic number.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from harness.bundle.loader import load_bundle
from harness.bundle.manifest import LeanClaim, NoneClaim, PythonClaim
from harness.errors import InputError, Problem
from harness.plan import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, plan_claims

HEADER = 'schema = "repro-bundle/1"\n'

CLAIM = """\
[[claim]]
id = "mean-gain"
text = "Intermediate training improves the average by 8.7 points"
kind = "python"
script = "repro/mean_gain.py"
inputs = ["data/scores.csv"]
expected = { gain = 8.7 }
"""

FILES = {
    "repro/mean_gain.py": "print('hi')\n",
    "data/scores.csv": "a,b\n1,2\n",
    "requirements.txt": "numpy\n",
    "proofs/Tokens.lean": "theorem t : 1 = 1 := rfl\n",
}


# --- helpers -----------------------------------------------------------------

def claim(cid: str = "mean-gain", **replace: str) -> str:
    """CLAIM with some `key = value` lines replaced (value None drops the line)."""
    text = CLAIM.replace('"mean-gain"', f'"{cid}"')
    for key, value in replace.items():
        pattern = re.compile(rf"^{key} = .*$", re.M)
        assert pattern.search(text), key
        line = "" if value is None else f"{key} = {value}"
        text = pattern.sub(lambda _: line, text)
    return re.sub(r"\n\n+", "\n", text)


def write_bundle(tmp_path: Path, manifest: str | bytes, files: dict[str, str] | None = None,
                 name: str = "bundle") -> Path:
    root = tmp_path / name
    root.mkdir()
    for rel, content in (FILES if files is None else files).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    data = manifest.encode() if isinstance(manifest, str) else manifest
    (root / "repro.toml").write_bytes(data)
    return root


def problems_of(tmp_path: Path, manifest: str | bytes, files: dict[str, str] | None = None
                ) -> list[Problem]:
    root = write_bundle(tmp_path, manifest, files)
    with pytest.raises(InputError) as info:
        load_bundle(root, tmp_path / "stage")
    problems = info.value.problems
    assert problems, "an InputError must carry at least one problem"
    return problems


def only_problem(tmp_path: Path, manifest: str | bytes, files: dict[str, str] | None = None
                 ) -> Problem:
    problems = problems_of(tmp_path, manifest, files)
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    assert problem.file == str(tmp_path / "bundle" / "repro.toml")
    return problem


def line_with(text: str, marker: str, occurrence: int = 1) -> int:
    """1-based number of the line holding the `occurrence`-th copy of `marker`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    assert len(hits) >= occurrence, f"{marker!r} not in manifest"
    return hits[occurrence - 1]


def assert_problem(problem: Problem, *, line: int, field: str | None, words: tuple[str, ...]):
    assert problem.line == line, str(problem)
    assert problem.field == field, str(problem)
    for word in words:
        assert word in problem.message, str(problem)
    # The one line the CLI prints carries all of it.
    rendered = str(problem)
    assert f"repro.toml:{line}" in rendered
    if field:
        assert f"field '{field}'" in rendered


def load_ok(tmp_path: Path, manifest: str, files: dict[str, str] | None = None):
    root = write_bundle(tmp_path, manifest, files)
    return load_bundle(root, tmp_path / "stage")


# --- a valid bundle ---------------------------------------------------------------

FULL = HEADER + """
[paper]
id = "SRCH:E5BED67D"
title = "Scaling English Intermediate Tasks"
doi = "10.5281/zenodo.20818264"

[defaults]
tolerance = { rel = 0.1 }
timeout_s = 60
memory_mb = 512
python = { requirements = "requirements.txt" }

[[claim]]
id = "mean-gain"
text = "Intermediate training improves the XTREME average by 8.7 points"
kind = "python"
script = "repro/mean_gain.py"
inputs = ["data/scores.csv"]
expected = { gain = 8.7, per_task = [1.5, 2, 3.25], label = "ok", flag = true, printed = "8.70" }
tolerance = { abs = 0.5 }
timeout_s = 30

[[claim]]
id = "inherits"
text = "Uses the defaults"
kind = "python"
script = "repro/mean_gain.py"
expected = { x = 1 }
perturb = false
perturb_reason = "no inputs: a closed-form formula"

[[claim]]
id = "tokens-per-step"
text = "Each optimisation step sees 393216 tokens"
kind = "lean"
file = "proofs/Tokens.lean"
theorem = "tokens_per_step"
statement = "128 * 3072 = 393216"
memory_mb = 2048

[[claim]]
id = "robustness"
text = "A claim with no artifact yet"
kind = "none"
"""


def test_valid_bundle_loads_with_its_values(tmp_path):
    bundle = load_ok(tmp_path, FULL)
    m = bundle.manifest
    assert m.paper.id == "SRCH:E5BED67D"
    assert [c.id for c in m.claim] == ["mean-gain", "inherits", "tokens-per-step", "robustness"]
    gain, inherits, lean, none = m.claim
    assert isinstance(gain, PythonClaim) and isinstance(lean, LeanClaim)
    assert isinstance(none, NoneClaim)
    assert gain.expected == {"gain": 8.7, "per_task": [1.5, 2, 3.25], "label": "ok",
                             "flag": True, "printed": "8.70"}
    assert type(gain.expected["flag"]) is bool
    assert gain.inputs == ["data/scores.csv"]
    assert inherits.perturb is False and inherits.perturb_reason.startswith("no inputs")
    assert lean.statement == "128 * 3072 = 393216"
    # the manifest as read is kept for the artifact
    assert bundle.manifest_data["paper"]["doi"] == "10.5281/zenodo.20818264"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", bundle.digest)
    assert {f.path for f in bundle.files} == set(FILES) | {"repro.toml"}


def test_defaults_are_applied_by_the_plan(tmp_path):
    plans = {p.claim.id: p for p in plan_claims(load_ok(tmp_path, FULL))}
    gain, inherits, lean, none = (plans[i] for i in
                                  ("mean-gain", "inherits", "tokens-per-step", "robustness"))
    # tolerance: the claim's own, else [defaults], and the source is recorded
    assert (gain.tolerance.abs, gain.tolerance.rel) == (0.5, None)
    assert gain.tolerance_record.source == "claim"
    assert inherits.tolerance.rel == 0.1 and inherits.tolerance_record.source == "defaults"
    # limits: the claim's own value wins, else [defaults]
    assert gain.limits.timeout_s == 30 and gain.limits.memory_mb == 512
    assert inherits.limits.timeout_s == 60 and inherits.limits.memory_mb == 512
    assert lean.limits.timeout_s == 60 and lean.limits.memory_mb == 2048
    assert gain.requirements == "requirements.txt" and inherits.requirements == "requirements.txt"
    assert [p.index for p in plans.values()] == [0, 1, 2, 3]


def test_built_in_defaults_when_nothing_is_given(tmp_path):
    (plan,) = plan_claims(load_ok(tmp_path, HEADER + CLAIM))
    assert plan.tolerance.rel == 0.05 and plan.tolerance.abs is None
    assert plan.tolerance_record.source == "default"
    assert plan.tolerance_record.rel == 0.05
    assert plan.limits.timeout_s == DEFAULT_TIMEOUT_S == 120
    assert plan.limits.memory_mb == DEFAULT_MEMORY_MB == 1024
    assert plan.requirements is None


def test_plan_selects_claims_by_id(tmp_path):
    plans = plan_claims(load_ok(tmp_path, FULL), only=["robustness", "mean-gain"])
    assert [p.claim.id for p in plans] == ["mean-gain", "robustness"]


def test_input_may_be_a_directory_and_a_bom_is_ignored(tmp_path):
    text = HEADER + claim(inputs='["data"]')
    bundle = load_ok(tmp_path, "\ufeff" + text)
    assert bundle.manifest.claim[0].inputs == ["data"]


def test_a_multi_line_string_does_not_confuse_the_locator(tmp_path):
    # `[[claim]]` and `key =` inside a multi-line string are text, not structure.
    text = HEADER + claim(text='"""\nA long claim.\n[[claim]]\ntolerence = 1\n"""') + "tolerence = 1\n"
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=len(text.splitlines()), field="claim[0].tolerence",
                   words=("unknown key 'tolerence'",))


# --- unknown keys ----------------------------------------------------------------------

def test_unknown_top_level_key(tmp_path):
    text = HEADER + "shema_version = 2\n\n" + CLAIM
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=2, field="shema_version", words=("unknown key 'shema_version'",))


def test_unknown_key_in_paper(tmp_path):
    text = HEADER + '[paper]\nid = "x"\ntitel = "A title"\n\n' + CLAIM
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "titel"), field="paper.titel",
                   words=("unknown key 'titel'", "did you mean 'title'"))


def test_unknown_key_in_defaults(tmp_path):
    text = HEADER + "[defaults]\ntimeout_s = 10\nmemory = 512\n\n" + CLAIM
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "memory ="), field="defaults.memory",
                   words=("unknown key 'memory'", "did you mean 'memory_mb'"))


def test_typo_in_a_claim_suggests_the_right_key(tmp_path):
    text = HEADER + CLAIM + "\n" + claim("second") + "tolerence = { rel = 0.05 }\n"
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "tolerence"), field="claim[1].tolerence",
                   words=("unknown key 'tolerence'", "did you mean 'tolerance'"))


def test_unknown_key_inside_an_inline_table(tmp_path):
    text = HEADER + CLAIM + "tolerance = { rel = 0.05, rell = 1 }\n"
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "rell"), field="claim[0].tolerance.rell",
                   words=("unknown key 'rell'", "did you mean 'rel'"))


def test_unknown_key_in_a_claim_sub_table(tmp_path):
    text = HEADER + CLAIM + "\n" + claim("second") + "\n[claim.tolerance]\nrel = 0.05\nrell = 1\n"
    problem = only_problem(tmp_path, text)
    # [claim.tolerance] belongs to the last [[claim]] so far: the second one
    assert_problem(problem, line=line_with(text, "rell"), field="claim[1].tolerance.rell",
                   words=("unknown key 'rell'",))


def test_unknown_key_with_a_dotted_key(tmp_path):
    text = HEADER + CLAIM + "tolerance.rell = 1\n"
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "rell"), field="claim[0].tolerance.rell",
                   words=("unknown key 'rell'",))


def test_unknown_key_in_claim_python_table(tmp_path):
    # `python` is both the claim's kind and a key of the claim; the message must
    # still name the inner key, not "python".
    text = HEADER + CLAIM + "\n[claim.python]\nrequirementz = \"requirements.txt\"\n"
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "requirementz"),
                   field="claim[0].python.requirementz",
                   words=("unknown key 'requirementz'", "did you mean 'requirements'"))


def test_key_of_another_kind_is_named_as_such(tmp_path):
    text = HEADER + '[[claim]]\nid = "r"\ntext = "t"\nkind = "none"\nscript = "x.py"\n'
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "script"), field="claim[0].script",
                   words=("unknown key 'script'", 'kind "none"'))
    assert "did you mean 'script'" not in problem.message


def test_unknown_key_in_claims_written_as_an_inline_array(tmp_path):
    text = HEADER + ('claim = [\n  { id = "a", text = "t", kind = "none" },\n'
                     '  { id = "b", text = "t", kind = "none", note = 1 },\n]\n')
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "note"), field="claim[1].note",
                   words=("unknown key 'note'",))


# --- claim ids ---------------------------------------------------------------------------

def test_duplicate_claim_id_points_at_the_second_one(tmp_path):
    text = HEADER + CLAIM + "\n" + claim("other") + "\n" + CLAIM
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, 'id = "mean-gain"', occurrence=2),
                   field="claim[2].id", words=("duplicate claim id 'mean-gain'",))
    # ... and says where the first one is
    assert f"line {line_with(text, 'id = \"mean-gain\"')}" in problem.message


@pytest.mark.parametrize("bad", ["has space", "", "x" * 65, "caf\u00e9", "a/b"])
def test_claim_id_pattern(tmp_path, bad):
    text = HEADER + claim(bad)
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "id = "), field="claim[0].id",
                   words=("claim id",))
    assert f'"{bad}"' in problem.message or (len(bad) > 64 and "64 characters" in problem.message)


def test_claim_id_at_the_limits_is_fine(tmp_path):
    bundle = load_ok(tmp_path, HEADER + claim("A.z_0-9" + "x" * 57))
    assert len(bundle.manifest.claim[0].id) == 64


# --- missing fields, wrong types -----------------------------------------------------------

def test_missing_field_points_at_the_claim_header(tmp_path):
    text = HEADER + CLAIM + "\n" + claim("second", script=None)
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "[[claim]]", occurrence=2),
                   field="claim[1].script", words=("missing required key 'script'",))


def test_missing_kind(tmp_path):
    text = HEADER + '[[claim]]\nid = "a"\ntext = "t"\n'
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "[[claim]]"), field="claim[0].kind",
                   words=("missing required key 'kind'",))


def test_missing_schema(tmp_path):
    problem = only_problem(tmp_path, CLAIM)
    assert_problem(problem, line=1, field="schema", words=("missing required key 'schema'",))


def test_wrong_schema(tmp_path):
    text = '# my bundle\nschema = "repro-bundle/2"\n' + CLAIM
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=2, field="schema", words=("repro-bundle/1", "repro-bundle/2"))


def test_no_claims_at_all(tmp_path):
    problem = only_problem(tmp_path, HEADER + '[paper]\nid = "x"\n')
    assert problem.field == "claim" and "missing required key 'claim'" in problem.message


def test_unknown_kind(tmp_path):
    text = HEADER + claim(kind='"pyhton"')
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "kind ="), field="claim[0].kind",
                   words=('"python"', '"lean"', '"none"', "pyhton"))


def test_timeout_as_a_string(tmp_path):
    text = HEADER + CLAIM + 'timeout_s = "ten"\n'
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "timeout_s"), field="claim[0].timeout_s",
                   words=("must be a number", '"ten"'))


def test_memory_must_be_an_integer(tmp_path):
    text = HEADER + "[defaults]\nmemory_mb = 10.5e2\n\n" + CLAIM
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "memory_mb"), field="defaults.memory_mb",
                   words=("must be an integer",))


def test_expected_string_is_fine(tmp_path):
    bundle = load_ok(tmp_path, HEADER + claim(expected='{ gain = "x" }'))
    assert bundle.manifest.claim[0].expected == {"gain": "x"}


def test_expected_mixed_list_is_one_error_naming_the_item(tmp_path):
    text = HEADER + claim(expected='{ gain = [1, "a"] }')
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "expected"), field="claim[0].expected.gain",
                   words=("must be a number, a list of numbers, a string or a boolean", "item 1"))


@pytest.mark.parametrize("value, got", [("{ a = 1 }", "table"), ("1979-05-27", "date"),
                                        ("[[1, 2]]", "item 0"), ("[1, true]", "item 1")])
def test_expected_wrong_shapes(tmp_path, value, got):
    text = HEADER + claim(expected=f"{{ gain = {value} }}")
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "expected"), field="claim[0].expected.gain",
                   words=("must be a number", got))


def test_expected_on_several_lines(tmp_path):
    text = HEADER + claim(expected=None) + "\n[claim.expected]\ngain = 8.7\nbad = { x = 1 }\n"
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "bad ="), field="claim[0].expected.bad",
                   words=("must be a number",))


def test_inputs_must_be_a_list(tmp_path):
    text = HEADER + claim(inputs='"data/scores.csv"')
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "inputs"), field="claim[0].inputs",
                   words=("must be a list", "data/scores.csv"))


def test_input_listed_twice(tmp_path):
    text = HEADER + claim(inputs='["data/scores.csv", "data/scores.csv"]')
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "inputs"), field="claim[0].inputs",
                   words=("listed twice",))


def test_empty_expected(tmp_path):
    text = HEADER + claim(expected="{}")
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "expected"), field="claim[0].expected",
                   words=("at least one expected value",))


def test_empty_expected_list(tmp_path):
    text = HEADER + claim(expected="{ gain = 8.7, curve = [] }")
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "expected"), field="claim[0].expected.curve",
                   words=("'curve' is an empty list",))


def test_python_claim_without_expected(tmp_path):
    text = HEADER + claim(expected=None)
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "[[claim]]"), field="claim[0].expected",
                   words=("missing required key 'expected'",))


def test_perturb_false_needs_a_reason(tmp_path):
    text = HEADER + CLAIM + "perturb = false\n"
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "perturb"), field="claim[0].perturb",
                   words=("perturb_reason",))


@pytest.mark.parametrize("reason", ['""', '"   "'])
def test_perturb_false_with_a_blank_reason(tmp_path, reason):
    text = HEADER + CLAIM + f"perturb = false\nperturb_reason = {reason}\n"
    problem = only_problem(tmp_path, text)
    assert problem.line == line_with(text, "perturb = false")


def test_perturb_reason_without_perturb_false(tmp_path):
    text = HEADER + CLAIM + 'perturb_reason = "why not"\n'
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "perturb_reason"),
                   field="claim[0].perturb_reason", words=("perturb = false",))


# --- tolerance ---------------------------------------------------------------------------

def test_empty_tolerance(tmp_path):
    text = HEADER + CLAIM + "tolerance = {}\n"
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "tolerance"), field="claim[0].tolerance",
                   words=("'rel'", "'abs'", "reported"))


def test_reported_cannot_be_combined(tmp_path):
    text = HEADER + CLAIM + "tolerance = { reported = true, rel = 0.1 }\n"
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "tolerance"), field="claim[0].tolerance",
                   words=("cannot be combined",))


@pytest.mark.parametrize("where", ["claim", "defaults"])
@pytest.mark.parametrize("key, value", [("rel", "-0.1"), ("abs", "-1")])
def test_negative_tolerance(tmp_path, where, key, value):
    tol = f"tolerance = {{ {key} = {value} }}\n"
    if where == "claim":
        text, field = HEADER + CLAIM + tol, f"claim[0].tolerance.{key}"
    else:
        text, field = HEADER + "[defaults]\n" + tol + "\n" + CLAIM, f"defaults.tolerance.{key}"
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "tolerance"), field=field,
                   words=("greater than or equal to 0", value))


@pytest.mark.parametrize("value", ["nan", "inf", '"5%"', "true"])
def test_tolerance_must_be_a_finite_number(tmp_path, value):
    text = HEADER + CLAIM + f"tolerance = {{ rel = {value} }}\n"
    problem = only_problem(tmp_path, text)
    assert problem.line == line_with(text, "tolerance")
    assert problem.field.startswith("claim[0].tolerance")


def test_reported_must_be_a_boolean(tmp_path):
    text = HEADER + CLAIM + 'tolerance = { reported = "yes" }\n'
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "tolerance"),
                   field="claim[0].tolerance.reported", words=("boolean",))


# --- paths and files -----------------------------------------------------------------------

@pytest.mark.parametrize("path, words", [
    ("../x.py", ("leaves the bundle",)),
    ("repro/../../x.py", ("leaves the bundle",)),
    ("/etc/passwd", ("absolute",)),
    ("C:/x.py", ("absolute",)),
    ("repro\\\\mean_gain.py", ("backslash",)),
    ("./repro/mean_gain.py", ("normalised",)),
    ("", ("non-empty",)),
])
def test_script_path_must_stay_inside(tmp_path, path, words):
    text = HEADER + claim(script=f'"{path}"')
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "script"), field="claim[0].script", words=words)


def test_input_path_escape(tmp_path):
    text = HEADER + claim(inputs='["data/scores.csv", "../../etc/passwd"]')
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "inputs"), field="claim[0].inputs",
                   words=("leaves the bundle",))


def test_lean_file_absolute(tmp_path):
    text = HEADER + ('[[claim]]\nid = "l"\ntext = "t"\nkind = "lean"\nfile = "/proofs/T.lean"\n'
                     'theorem = "t"\nstatement = "1 = 1"\n')
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "file ="), field="claim[0].file",
                   words=("absolute",))


def test_missing_script(tmp_path):
    text = HEADER + claim(script='"repro/nope.py"')
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "script"), field="claim[0].script",
                   words=("script 'repro/nope.py' does not exist",))


def test_script_that_is_a_directory(tmp_path):
    text = HEADER + claim(script='"repro"')
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "script"), field="claim[0].script",
                   words=("is not a file",))


def test_missing_input_on_a_multi_line_array(tmp_path):
    text = HEADER + claim(inputs='[\n  "data/scores.csv",  # the scores\n  "data/missing.csv",\n]')
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "missing.csv"), field="claim[0].inputs[1]",
                   words=("input 'data/missing.csv' does not exist",))


def test_missing_requirements_in_defaults(tmp_path):
    text = HEADER + '[defaults]\npython = { requirements = "reqs.txt" }\n\n' + CLAIM
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "reqs.txt"),
                   field="defaults.python.requirements",
                   words=("requirements file 'reqs.txt' does not exist",))


def test_missing_requirements_in_a_claim(tmp_path):
    text = HEADER + CLAIM + 'python = { requirements = "reqs.txt" }\n'
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "reqs.txt"),
                   field="claim[0].python.requirements", words=("does not exist",))


def test_missing_lean_file(tmp_path):
    text = HEADER + ('[[claim]]\nid = "l"\ntext = "t"\nkind = "lean"\nfile = "proofs/Nope.lean"\n'
                     'theorem = "t"\nstatement = "1 = 1"\n')
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "Nope.lean"), field="claim[0].file",
                   words=("Lean file 'proofs/Nope.lean' does not exist",))


# --- TOML itself ----------------------------------------------------------------------------

def test_toml_syntax_error(tmp_path):
    text = HEADER + CLAIM + "timeout_s = = 3\n"
    problem = only_problem(tmp_path, text)
    assert problem.line == line_with(text, "= = 3")
    assert problem.message.startswith("invalid TOML")
    assert "(at line" not in problem.message           # the line is in .line, said once


def test_unterminated_string(tmp_path):
    text = HEADER + '[paper]\ntitle = "no end\n\n' + CLAIM
    problem = only_problem(tmp_path, text)
    assert problem.line == line_with(text, "no end")
    assert "invalid TOML" in problem.message


@pytest.mark.parametrize("final_newline", [True, False])
def test_duplicate_toml_key(tmp_path, final_newline):
    text = HEADER + CLAIM + 'text = "said twice"' + ("\n" if final_newline else "")
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "said twice"), field="claim[0].text",
                   words=("invalid TOML", "'text' is defined twice",
                          f"first on line {line_with(text, 'text =')}"))


def test_duplicate_table(tmp_path):
    text = HEADER + '[paper]\nid = "x"\n\n[paper]\ntitle = "y"\n\n' + CLAIM
    problem = only_problem(tmp_path, text)
    assert_problem(problem, line=line_with(text, "[paper]", occurrence=2), field="paper",
                   words=("invalid TOML", "[paper]", "twice"))


def test_manifest_not_utf8(tmp_path):
    text = (HEADER + '[paper]\ntitle = "Caf\xe9"\n\n' + CLAIM).encode("latin-1")
    problem = only_problem(tmp_path, text)
    assert "UTF-8" in problem.message
    assert problem.line == 3


def test_several_errors_are_all_reported_in_line_order(tmp_path):
    text = (HEADER + "colour = 1\n\n" + claim(script='"repro/nope.py"') + "tolerence = 1\n"
            'timeout_s = "ten"\n\n' + claim("mean-gain", kind='"pyhton"'))
    problems = problems_of(tmp_path, text)
    got = [(p.line, p.field) for p in problems]
    assert got == [
        (line_with(text, "colour"), "colour"),
        (line_with(text, "nope.py"), "claim[0].script"),
        (line_with(text, "tolerence"), "claim[0].tolerence"),
        (line_with(text, "timeout_s"), "claim[0].timeout_s"),
        (line_with(text, 'id = "mean-gain"', occurrence=2), "claim[1].id"),
        (line_with(text, "pyhton"), "claim[1].kind"),
    ]
    assert all(p.file.endswith("repro.toml") for p in problems)


def test_archive_errors_name_the_archive(tmp_path):
    text = HEADER + CLAIM + "tolerence = 1\n"
    archive = tmp_path / "b.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, content in {**FILES, "repro.toml": text}.items():
            data = content.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(InputError) as info:
        load_bundle(archive, tmp_path / "stage")
    (problem,) = info.value.problems
    assert problem.file == f"{archive}:repro.toml"
    assert problem.line == line_with(text, "tolerence")


def test_missing_bundle(tmp_path):
    with pytest.raises(InputError) as info:
        load_bundle(tmp_path / "nope", tmp_path / "stage")
    assert "no such file" in str(info.value)


# --- the command line --------------------------------------------------------------------------

def _repro() -> list[str]:
    exe = Path(sys.executable).with_name("repro")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "harness.cli"]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(_repro() + list(args), cwd=cwd, capture_output=True, text=True,
                          timeout=60, env=env)


def test_cli_invalid_bundle_exits_2_with_file_line_and_field(tmp_path):
    text = HEADER + CLAIM + "tolerence = { rel = 0.05 }\n"
    root = write_bundle(tmp_path, text)
    done = run_cli("check", str(root), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    assert f"repro.toml:{line_with(text, 'tolerence')}" in done.stderr
    assert "claim[0].tolerence" in done.stderr
    assert "did you mean 'tolerance'" in done.stderr
    assert not (tmp_path / "out" / "repro-artifact.json").exists()


def test_cli_reports_every_problem(tmp_path):
    text = HEADER + "colour = 1\n" + CLAIM + 'timeout_s = "ten"\n'
    root = write_bundle(tmp_path, text)
    done = run_cli("check", str(root), cwd=tmp_path)
    assert done.returncode == 2
    assert "colour" in done.stderr and "timeout_s" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_toml_syntax_error(tmp_path):
    root = write_bundle(tmp_path, HEADER + "[[claim]\n")
    done = run_cli("check", str(root), cwd=tmp_path)
    assert done.returncode == 2
    assert "repro.toml:2" in done.stderr and "invalid TOML" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [("check", "--jobs", "0", "x"),
                                  ("check", "--backend", "chroot", "x"),
                                  ("check",)])
def test_cli_bad_command_line_exits_2(tmp_path, args):
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr


def test_cli_nonexistent_bundle_exits_2(tmp_path):
    done = run_cli("check", str(tmp_path / "no-such-bundle"), cwd=tmp_path)
    assert done.returncode == 2
    assert "no-such-bundle" in done.stderr and "no such file" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_unknown_claim_selection_exits_2(tmp_path):
    root = write_bundle(tmp_path, HEADER + CLAIM)
    done = run_cli("check", str(root), "--claim", "nope", cwd=tmp_path)
    assert done.returncode == 2
    assert "'nope'" in done.stderr and "mean-gain" in done.stderr
    assert "Traceback" not in done.stderr
