"""`perturb_bundle`: the perturbed copy of a bundle that exposes input-insensitive values (SPEC 3).

What a user relies on: every number of a declared input changes but stays
readable as what it was (an int stays an int, a float keeps its decimals),
names and text stay put, records are shuffled, the same seed gives the same
bytes, and the original bundle is never touched.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest

from harness.evidence.perturb import MODES, FileChange, Perturbation, perturb_bundle

TABLE = (
    "name,count,score,share\n"
    "alpha,3,0.250,12.5%\n"
    "beta,17,1.5, 40% \n"
    "gamma,120,-2.75,7%\n"
    "delta,64,10.0,0.5%\n"
)
NUM = re.compile(r"\s*(-?[0-9]+(?:\.([0-9]+))?)\s*%?\s*")


def make_bundle(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        path.chmod(0o644)
    return root


def run(tmp_path: Path, files: dict, inputs: list[str], seed: int = 7, mode: str = "scale",
        name: str = "out") -> tuple[Path, Perturbation]:
    bundle = tmp_path / "bundle"
    if not bundle.exists():
        make_bundle(bundle, files)
    dest = tmp_path / name
    return dest, perturb_bundle(bundle, inputs, dest, seed, mode)


def rows_by_name(text: str, delimiter: str = ",") -> tuple[list[str], dict[str, list[str]], list[str]]:
    header, *rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    return header, {r[0]: r[1:] for r in rows}, [r[0] for r in rows]


def assert_same_form_but_changed(old: str, new: str) -> None:
    """`new` is the same kind of number as `old` (int/decimals/percent) with another value."""
    mo, mn = NUM.fullmatch(old), NUM.fullmatch(new)
    assert mo and mn, (old, new)
    assert mo.group(2) is None and mn.group(2) is None or len(mo.group(2)) == len(mn.group(2)), (old, new)
    assert old.strip().endswith("%") == new.strip().endswith("%")
    assert float(mo.group(1)) != float(mn.group(1)), (old, new)


# --- CSV and the shape of numbers ---------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_csv_every_number_changes_keeps_its_form_and_text_stays(tmp_path, mode):
    dest, p = run(tmp_path, {"data.csv": TABLE, "run.py": "print(1)\n"}, ["data.csv"], mode=mode)
    header, new, order = rows_by_name((dest / "data.csv").read_text())
    _, old, old_order = rows_by_name(TABLE)
    assert header == ["name", "count", "score", "share"]
    assert sorted(new) == sorted(old)                   # text cells unchanged
    for name in old:
        for o, n in zip(old[name], new[name], strict=True):
            assert_same_form_but_changed(o, n)
    assert order != old_order                           # rows shuffled
    assert p.changes == (FileChange("data.csv", f"csv: 12 numbers {mode}d, 4 text cells kept; "
                                                "4 data rows shuffled"),)


def test_two_distinct_rows_are_always_swapped(tmp_path):
    for seed in range(10):
        dest, _ = run(tmp_path, {"two.csv": "k,v\na,1\nb,2\n"}, ["two.csv"], seed, name=f"o{seed}")
        assert rows_by_name((dest / "two.csv").read_text())[2] == ["b", "a"]


def test_scale_factors_are_far_from_one_and_keep_the_sign(tmp_path):
    values = [1000, -2000, 3000, -4000, 5000, 6000]
    dest, _ = run(tmp_path, {"v.txt": " ".join(map(str, values))}, ["v.txt"])
    new = [int(x) for x in (dest / "v.txt").read_text().split()]
    for o, n in zip(values, new, strict=True):
        assert 0.55 <= n / o <= 0.85 or 1.2 <= n / o <= 1.6, (o, n)


def test_zeros_and_one_unit_values_change_without_losing_their_sign(tmp_path):
    dest, _ = run(tmp_path, {"z.txt": "0 0.0 -0.00 0.01 1 -1 0e0"}, ["z.txt"])
    new = (dest / "z.txt").read_text().split()
    assert all(float(x) != 0 for x in new), new
    assert [len(x.split(".")[1]) if "." in x else 0 for x in new[:4]] == [0, 1, 2, 2]
    assert new[2].startswith("-") and new[5].startswith("-") and "e" in new[6]


def test_exponent_notation_stays_exponent_notation(tmp_path):
    dest, _ = run(tmp_path, {"e.txt": "lr 1.5e-05 big 2E+10"}, ["e.txt"])
    lr, big = (dest / "e.txt").read_text().split()[1::2]
    assert re.fullmatch(r"[0-9]\.[0-9]e-0[0-9]", lr) and float(lr) != 1.5e-05
    assert re.fullmatch(r"[0-9]E\+[0-9]{2}", big) and float(big) != 2e10


def test_resample_flips_an_ordering_that_scale_keeps(tmp_path):
    table = "a,b\n1.0,100.0\n2.0,101.0\n3.0,102.0\n"

    def means(dest: Path) -> tuple[float, float]:
        rows = list(csv.DictReader(io.StringIO((dest / "m.csv").read_text())))
        return tuple(sum(float(r[c]) for r in rows) / len(rows) for c in "ab")

    for seed in range(5):
        a, b = means(run(tmp_path, {"m.csv": table}, ["m.csv"], seed, "scale", f"s{seed}")[0])
        assert a < b
    a, b = means(run(tmp_path, {}, ["m.csv"], 1, "resample", "r1")[0])
    assert a > b


def test_resample_draws_from_the_file_range_and_ints_stay_ints(tmp_path):
    dest, _ = run(tmp_path, {"r.txt": "5 9 12 20 7.5"}, ["r.txt"], mode="resample")
    *ints, flt = (dest / "r.txt").read_text().split()
    assert all(5 <= int(x) <= 20 for x in ints) and ints != ["5", "9", "12", "20"]
    assert re.fullmatch(r"[0-9]+\.[0-9]", flt) and 5 <= float(flt) <= 20


def test_csv_crlf_quoting_and_missing_trailing_newline_are_kept(tmp_path):
    src = '"id","val"\r\n"a","1"\r\n"b","2"\r\n"c","3"'
    dest, _ = run(tmp_path, {"q.csv": src.encode()}, ["q.csv"])
    out = (dest / "q.csv").read_bytes().decode()
    assert out.startswith('"id","val"\r\n') and out.count("\r\n") == 3 and not out.endswith("\n")
    assert all(line.startswith('"') for line in out.split("\r\n"))


def test_tsv_cells_change_and_rows_shuffle(tmp_path):
    src = "k\tv\tnote\nx\t10\thello world\ny\t20\tfoo\nz\t30\tbar\n"
    dest, p = run(tmp_path, {"t.tsv": src}, ["t.tsv"])
    header, new, order = rows_by_name((dest / "t.tsv").read_text(), "\t")
    assert header == ["k", "v", "note"] and order != ["x", "y", "z"]
    assert {k: v[1] for k, v in new.items()} == {"x": "hello world", "y": "foo", "z": "bar"}
    assert all(int(new[k][0]) != int(v) for k, v in zip("xyz", (10, 20, 30)))
    assert p.changes[0].action.startswith("tsv: 3 numbers scaled")


# --- JSON, JSONL, text, binary -----------------------------------------

def test_json_numbers_change_but_keys_booleans_and_strings_do_not(tmp_path):
    doc = {"1": 5, "flag": True, "off": False, "lr": 0.25, "name": "bert-base-cased", "none": None,
           "runs": [{"id": 1, "acc": 0.9}, {"id": 2, "acc": 0.8}, {"id": 3, "acc": 0.7}], "xs": [1, 2, 3]}
    dest, p = run(tmp_path, {"d.json": json.dumps(doc, indent=4) + "\n"}, ["d.json"])
    text = (dest / "d.json").read_text()
    new = json.loads(text)
    assert text.startswith("{\n  ") and text.endswith("}\n")          # still indented
    assert list(new) == list(doc)
    assert new["flag"] is True and new["off"] is False and new["name"] == doc["name"] and new["none"] is None
    assert type(new["1"]) is int and new["1"] != 5 and type(new["lr"]) is float and new["lr"] != 0.25
    assert [type(x) for x in new["xs"]] == [int] * 3 and new["xs"] != doc["xs"]
    assert [r["acc"] for r in new["runs"]] != [r["acc"] for r in doc["runs"]]
    assert p.changes[0].action == "json: 11 numbers scaled; 1 record list shuffled"


def test_invalid_json_is_perturbed_as_text(tmp_path):
    dest, p = run(tmp_path, {"bad.json": "{'acc': 0.91, 'run': v2}"}, ["bad.json"])
    out = (dest / "bad.json").read_text()
    assert out.startswith("{'acc': 0.") and out != "{'acc': 0.91, 'run': v2}" and out.endswith("v2}")
    assert p.changes[0].action == "text: 1 number scaled"


def test_jsonl_lines_are_perturbed_and_shuffled(tmp_path):
    recs = [{"step": i, "loss": round(1 / i, 3), "done": False} for i in range(1, 6)]
    dest, p = run(tmp_path, {"log.jsonl": "".join(json.dumps(r) + "\n" for r in recs)}, ["log.jsonl"])
    new = [json.loads(line) for line in (dest / "log.jsonl").read_text().splitlines()]
    assert len(new) == 5 and all(r["done"] is False and type(r["step"]) is int for r in new)
    assert sorted(r["loss"] for r in new) != sorted(r["loss"] for r in recs)
    assert "5 lines shuffled" in p.changes[0].action


def test_text_identifiers_and_versions_are_not_numbers(tmp_path):
    src = "model: bert-base-cased\ntask: task1 v2 en_US gpt-4 resnet-50 1.2.3 x86_64\nlr = 0.001\nepochs: 10\n"
    dest, p = run(tmp_path, {"cfg.yaml": src}, ["cfg.yaml"])
    lines = (dest / "cfg.yaml").read_text().splitlines()
    assert lines[:2] == src.splitlines()[:2]                           # not touched, not reordered
    assert lines[2].startswith("lr = 0.0") and lines[2] != "lr = 0.001"
    assert lines[3].startswith("epochs: ") and int(lines[3].split()[1]) != 10
    assert p.changes[0].action == "text: 2 numbers scaled"


def test_text_without_numbers_is_left_as_is_and_says_so(tmp_path):
    dest, p = run(tmp_path, {"words.txt": "alpha\nbeta\n", "one.csv": "name\nx\n"}, ["words.txt", "one.csv"])
    assert (dest / "words.txt").read_text() == "alpha\nbeta\n"
    assert [c.action for c in p.changes] == ["csv: no numbers to change; left as is",
                                             "text: no numbers to change; left as is"]


@pytest.mark.parametrize("mode", MODES)
def test_binary_inputs_are_replaced_or_removed(tmp_path, mode):
    blob = bytes(range(256)) * 4
    dest, p = run(tmp_path, {"w.bin": blob}, ["w.bin"], mode=mode)
    if mode == "scale":
        out = (dest / "w.bin").read_bytes()
        assert len(out) == len(blob) and out != blob
        assert p.changes == (FileChange("w.bin", "binary: 1024 bytes replaced with seeded random bytes"),)
    else:
        assert not (dest / "w.bin").exists()
        assert p.changes == (FileChange("w.bin", "binary: removed"),)


# --- determinism ---------------------------------------------------------

FILES = {"data/t.csv": TABLE, "data/c.txt": "n=42 x=3.14\n", "data/w.bin": b"\0\1\2\3" * 8}


@pytest.mark.parametrize("mode", MODES)
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, mode):
    a, pa = run(tmp_path, FILES, ["data"], 3, mode, "a")
    b, pb = run(tmp_path, FILES, ["data"], 3, mode, "b")
    c, _ = run(tmp_path, FILES, ["data"], 4, mode, "c")
    names = [ch.path for ch in pa.changes if (a / ch.path).exists()]
    assert pa == pb
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    assert all((a / n).read_bytes() != (c / n).read_bytes() for n in names)


def test_a_file_is_perturbed_the_same_whatever_else_is_an_input(tmp_path):
    one, _ = run(tmp_path, FILES, ["data/t.csv"], name="one")
    both, _ = run(tmp_path, FILES, ["data/t.csv", "data/c.txt"], name="both")
    assert (one / "data/t.csv").read_bytes() == (both / "data/t.csv").read_bytes()
    assert (one / "data/c.txt").read_bytes() == FILES["data/c.txt"].encode()


# --- the copy of the bundle ---------------------------------------------

def test_original_bundle_is_untouched_and_non_inputs_are_linked(tmp_path):
    files = {**FILES, "repro.py": "print(42)\n", "repro.toml": "value = 8.7\n"}
    make_bundle(tmp_path / "bundle", files)
    before = {p: p.read_bytes() for p in (tmp_path / "bundle").rglob("*") if p.is_file()}
    dest, p = run(tmp_path, {}, ["data/t.csv", "data/c.txt"])
    assert {q: q.read_bytes() for q in before} == before             # also through the hard links
    for rel in ("repro.py", "repro.toml", "data/w.bin"):
        assert os.path.samefile(dest / rel, tmp_path / "bundle" / rel)
    for rel in ("data/t.csv", "data/c.txt"):
        assert not os.path.samefile(dest / rel, tmp_path / "bundle" / rel)
    assert [c.path for c in p.changes] == ["data/c.txt", "data/t.csv"]


def test_directory_input_perturbs_every_file_under_it(tmp_path):
    files = {"in/a.txt": "1 2", "in/sub/b.txt": "3 4", "other.txt": "5 6"}
    dest, p = run(tmp_path, files, ["in/"])
    assert [c.path for c in p.changes] == ["in/a.txt", "in/sub/b.txt"]
    assert (dest / "in/a.txt").read_text() != "1 2" and (dest / "in/sub/b.txt").read_text() != "3 4"
    assert (dest / "other.txt").read_text() == "5 6"


def test_modes_are_readable_by_the_sandbox_uid_and_the_original_keeps_its_own(tmp_path):
    bundle = make_bundle(tmp_path / "bundle", {"in/x.txt": "1", "run.sh": "echo 1\n", "priv.txt": "k"})
    (bundle / "run.sh").chmod(0o700)
    (bundle / "priv.txt").chmod(0o600)
    (bundle / "in").chmod(0o700)
    dest, _ = run(tmp_path, {}, ["in/x.txt", "run.sh"])
    mode = lambda p: p.stat().st_mode & 0o777                          # noqa: E731
    assert [mode(dest), mode(dest / "in")] == [0o755, 0o755]
    assert [mode(dest / "in/x.txt"), mode(dest / "run.sh"), mode(dest / "priv.txt")] == [0o644, 0o755, 0o644]
    assert [mode(bundle / "priv.txt"), mode(bundle / "in")] == [0o600, 0o700]


def test_symlinks_are_copied_as_links(tmp_path):
    bundle = make_bundle(tmp_path / "bundle", {"data/x.txt": "1"})
    (bundle / "link.txt").symlink_to("data/x.txt")
    (bundle / "dlink").symlink_to("data")
    dest, _ = run(tmp_path, {}, ["data/x.txt"])
    assert os.readlink(dest / "link.txt") == "data/x.txt" and os.readlink(dest / "dlink") == "data"
    assert (dest / "link.txt").read_text() != "1"                     # points at the perturbed copy


# --- errors --------------------------------------------------------------

@pytest.mark.parametrize("bad", ["missing.csv", "../outside.txt", "/etc/hostname", "escape", "."])
def test_inputs_outside_or_missing_are_rejected(tmp_path, bad):
    (tmp_path / "outside.txt").write_text("1")
    bundle = make_bundle(tmp_path / "bundle", {"data.csv": TABLE})
    (bundle / "escape").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        perturb_bundle(bundle, [bad], tmp_path / "out", 1, "scale")
    assert not (tmp_path / "out").exists()


def test_unknown_mode_and_existing_dest_are_rejected(tmp_path):
    bundle = make_bundle(tmp_path / "bundle", {"data.csv": TABLE})
    with pytest.raises(ValueError, match="unknown perturbation mode 'shuffle'"):
        perturb_bundle(bundle, ["data.csv"], tmp_path / "out", 1, "shuffle")
    (tmp_path / "out").mkdir()
    with pytest.raises(FileExistsError):
        perturb_bundle(bundle, ["data.csv"], tmp_path / "out", 1, "scale")
