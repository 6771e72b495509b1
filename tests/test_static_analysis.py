"""The static analysis defends itself: it runs on the host, on hostile scripts.

It never reads a file outside the bundle (whatever path the script spells),
gives up within its time budget, and turns scripts it cannot parse or that are
nested too deeply into `undecided` with a note, never into a crash or a
`computed` it did not establish.  The classification of honest and cheating
scripts is tested on the corpus (tests/test_evidence_corpus.py).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.bundle.manifest import Tolerance
from harness.evidence import interpreter
from harness.evidence.static import analyze_script, distinctive

TOL = Tolerance(rel=0.05)
WRITE = 'json.dump({"gain": gain}, open(os.environ["REPRO_OUT"] + "/result.json", "w"))\n'


def _bundle(root: Path, script: str, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.py").write_text(textwrap.dedent(script))
    for name, text in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_script_outside_the_bundle_is_never_read(tmp_path):
    outside = tmp_path / "outside" / "secret.py"
    outside.parent.mkdir()
    outside.write_text("print(8.7)\n")
    bundle = _bundle(tmp_path / "b", f"""\
        import json, os, subprocess, sys
        out = subprocess.run([sys.executable, "{outside}"], capture_output=True, text=True).stdout
        out2 = subprocess.run([sys.executable, "../outside/secret.py"], capture_output=True).stdout
        gain = float(out) + float(out2)
        """ + WRITE)
    report = analyze_script(bundle, "main.py", {"gain": 8.7}, ["data/x.csv"], TOL)
    finding = report.values["gain"]
    assert "secret.py" not in finding.detail and finding.file != str(outside)
    assert finding.origin == "computed"       # the output of a process it cannot see


def test_a_module_import_resolves_only_inside_the_bundle(tmp_path):
    (tmp_path / "paper.py").write_text("GAIN = 8.7\n")      # beside the bundle, not in it
    bundle = _bundle(tmp_path / "b", """\
        import json, os
        from paper import GAIN
        gain = GAIN
        """ + WRITE)
    finding = analyze_script(bundle, "main.py", {"gain": 8.7}, [], TOL).values["gain"]
    assert finding.origin == "undecided"
    assert "paper.GAIN comes from outside the bundle" in finding.detail


def test_a_constant_from_an_installed_package_is_not_a_formula(tmp_path):
    """`pkg.VALUE` or `pkg.get()` is code the analysis cannot see: a literal could hide there."""
    bundle = _bundle(tmp_path / "b", """\
        import json, os
        import somepkg
        gain = somepkg.get_gain() + somepkg.OFFSET
        """ + WRITE)
    finding = analyze_script(bundle, "main.py", {"gain": 8.7}, [], TOL).values["gain"]
    assert finding.origin == "undecided" and "somepkg" in finding.detail


def test_an_installed_package_applied_to_data_is_computed(tmp_path):
    bundle = _bundle(tmp_path / "b", """\
        import json, os
        import numpy as np
        gain = float(np.loadtxt("data/x.csv").mean())
        """ + WRITE)
    finding = analyze_script(bundle, "main.py", {"gain": 8.7}, ["data/x.csv"], TOL).values["gain"]
    assert finding.origin == "computed" and "reads data/x.csv" in finding.detail


def test_the_same_import_inside_the_bundle_is_followed(tmp_path):
    bundle = _bundle(tmp_path / "b", """\
        import json, os
        from repro.paper import GAIN
        gain = GAIN
        """ + WRITE, {"repro/paper.py": "GAIN = 8.7\n"})
    finding = analyze_script(bundle, "main.py", {"gain": 8.7}, [], TOL).values["gain"]
    assert (finding.origin, finding.file, finding.line) == ("literal", "repro/paper.py", 1)


def test_the_analysis_gives_up_within_its_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(interpreter, "TIME_BUDGET_S", 0.0)
    bundle = _bundle(tmp_path / "b", "import json, os\ngain = 3 * 2.9\n" + WRITE)
    report = analyze_script(bundle, "main.py", {"gain": 8.7}, [], TOL)
    assert report.values["gain"].origin == "undecided"
    assert "longer than" in report.notes[0]


def test_deep_nesting_is_undecided_not_a_crash(tmp_path):
    deep = "gain = " + "+".join(["1"] * 50_000) + "\n"
    bundle = _bundle(tmp_path / "b", "import json, os\n" + deep + WRITE)
    report = analyze_script(bundle, "main.py", {"gain": 50_000}, [], TOL)
    assert report.values["gain"].origin == "undecided"
    assert "nested too deeply" in report.values["gain"].detail


def test_a_script_that_does_not_parse_is_undecided_with_the_line(tmp_path):
    bundle = _bundle(tmp_path / "b", "import json, os\ngain = (1 +\n")
    report = analyze_script(bundle, "main.py", {"gain": 1}, [], TOL)
    assert report.values["gain"].origin == "undecided"
    assert any("main.py line" in note and "does not parse" in note for note in report.notes)


def test_no_write_to_result_json_is_undecided(tmp_path):
    bundle = _bundle(tmp_path / "b", "print(3 * 2.9)\n")
    finding = analyze_script(bundle, "main.py", {"gain": 8.7}, [], TOL).values["gain"]
    assert finding.origin == "undecided" and "no write" in finding.detail


@pytest.mark.parametrize("value, expected", [
    (8.7, True), (393216, True), (0.73, True), (3, True),
    (0, False), (1, False), (2, False), (0.5, False), (10, False), (100, False), (0.01, False),
    (-1, False), (True, False), ("8.7", False), (float("nan"), False),
])
def test_distinctive_literals(value, expected):
    """Only a literal that would not turn up by coincidence is taken for the expected value."""
    assert distinctive(value) is expected


def test_an_initial_zero_is_not_the_expected_zero(tmp_path):
    """`errors = 0; for ...: errors += 1` reporting 0 errors is computed, not a literal."""
    bundle = _bundle(tmp_path / "b", """\
        import csv, json, os
        errors = 0
        for row in csv.reader(open("data/x.csv")):
            if float(row[1]) < 0:
                errors += 1
        json.dump({"errors": errors}, open(os.environ["REPRO_OUT"] + "/result.json", "w"))
        """)
    finding = analyze_script(bundle, "main.py", {"errors": 0}, ["data/x.csv"],
                             Tolerance(abs=0)).values["errors"]
    assert finding.origin == "computed"


def test_dataclass_and_namedtuple_fields_carry_their_data(tmp_path):
    """Honest scripts keep rows in dataclasses; a field the analysis cannot see is never a
    constant (that would be a false `literal`)."""
    bundle = _bundle(tmp_path / "b", """\
        import csv, json, os
        from dataclasses import dataclass
        from typing import NamedTuple

        @dataclass
        class Row:
            task: str
            base: float
            inter: float

        class Summary(NamedTuple):
            gain: float

        rows = [Row(r["task"], float(r["base"]), inter=float(r["inter"]))
                for r in csv.DictReader(open("data/x.csv"))]
        summary = Summary(sum(r.inter - r.base for r in rows) / len(rows))
        gain = summary.gain
        """ + WRITE)
    finding = analyze_script(bundle, "main.py", {"gain": 8.7}, ["data/x.csv"], TOL).values["gain"]
    assert finding.origin == "computed" and "reads data/x.csv" in finding.detail


def test_an_attribute_never_assigned_is_undecided_not_a_constant(tmp_path):
    bundle = _bundle(tmp_path / "b", """\
        import csv, json, os
        class Table:
            pass
        t = Table()
        gain = t.mean * 2
        """ + WRITE)
    finding = analyze_script(bundle, "main.py", {"gain": 8.7}, ["data/x.csv"], TOL).values["gain"]
    assert finding.origin == "undecided"


def test_constants_that_would_be_huge_are_not_computed(tmp_path):
    """`10 ** 10 ** 9` or `"x" * 10 ** 10` would hang or exhaust the host: left uncomputed."""
    bundle = _bundle(tmp_path / "b", """\
        import json, math, os
        a = 10 ** 10 ** 9
        b = 1 << 10 ** 9
        c = len("x" * 10 ** 10) + len("y".zfill(10 ** 10)) + math.factorial(10 ** 7)
        gain = 3 * 7 + 0 * (a + b + c)
        """ + WRITE)
    finding = analyze_script(bundle, "main.py", {"gain": 21}, [], TOL).values["gain"]
    assert finding.origin == "formula"
