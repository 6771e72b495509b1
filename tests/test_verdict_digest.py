"""The bundle verdict and exit codes (SPEC 3, 5), and the bundle digest (SPEC 4)."""

from __future__ import annotations

import itertools
import os
import re
import time
from pathlib import Path

import pytest

from harness.artifact.models import Verdict
from harness.bundle.digest import bundle_digest
from harness.bundle.loader import load_bundle
from harness.verdict import EXIT_CODES, EXIT_INVALID, bundle_verdict, summary

V, F, U, E = Verdict.VERIFIED, Verdict.FALSIFIED, Verdict.UNVERIFIED, Verdict.ERROR


# --- bundle verdict -------------------------------------------------------------------

@pytest.mark.parametrize("claims, verdict", [
    ([V], V),
    ([V, V, V], V),
    ([F], F),
    ([V, F], F),
    ([F, V, U, E], F),                 # falsified wins over everything
    ([E, F], F),
    ([U, F], F),
    ([V, U], U),                       # verified + unverified -> unverified
    ([V, E], U),                       # verified + error -> unverified, never verified
    ([E], U),
    ([E, E], U),
    ([U], U),
    ([U, E], U),
    ([], U),                           # nothing checked verifies nothing
])
def test_bundle_verdict(claims, verdict):
    assert bundle_verdict(claims) is verdict
    assert bundle_verdict(reversed(claims)) is verdict     # order does not matter
    assert bundle_verdict(iter(claims)) is verdict         # any iterable, consumed once


def test_bundle_verdict_is_never_error():
    for n in range(4):
        for claims in itertools.product(list(Verdict), repeat=n):
            assert bundle_verdict(claims) is not E


def test_summary_counts_every_verdict():
    assert summary([V, V, F, E]) == {"verified": 2, "falsified": 1, "unverified": 0, "error": 1}
    assert summary([]) == {"verified": 0, "falsified": 0, "unverified": 0, "error": 0}


# --- exit codes (SPEC 5) ------------------------------------------------------------------

def test_exit_codes():
    assert EXIT_CODES[V] == 0
    assert EXIT_CODES[F] == 1
    assert EXIT_CODES[U] == 3
    assert EXIT_CODES[E] == 3
    assert EXIT_INVALID == 2
    assert set(EXIT_CODES) == set(Verdict)
    assert EXIT_INVALID not in EXIT_CODES.values()


@pytest.mark.parametrize("claims, code", [([V, V], 0), ([V, F], 1), ([V, U], 3), ([V, E], 3),
                                          ([], 3)])
def test_exit_code_of_a_bundle(claims, code):
    assert EXIT_CODES[bundle_verdict(claims)] == code


# --- digest ---------------------------------------------------------------------------------

CONTENT = {
    "repro.toml": b'schema = "repro-bundle/1"\n',
    "repro/mean_gain.py": b"print('gain')\n",
    "data/scores.csv": b"a,b\n1,2\n",
    "data/sub/deep.bin": bytes(range(256)),
    "empty.txt": b"",
    "Z-upper.txt": b"Z",
    "a-lower.txt": b"a",
}


def make_tree(root: Path, content: dict[str, bytes], order=None, mtime: float | None = None) -> Path:
    root.mkdir(parents=True)
    for name in order or content:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content[name])
        if mtime is not None:
            os.utime(path, (mtime, mtime))
    return root


def digest_of(root: Path) -> str:
    return bundle_digest(root)[0]


def test_digest_format(tmp_path):
    digest, entries = bundle_digest(make_tree(tmp_path / "b", CONTENT))
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    assert [e.path for e in entries] == sorted(CONTENT, key=str.encode)
    by_path = {e.path: e for e in entries}
    assert by_path["empty.txt"].size == 0
    assert by_path["data/sub/deep.bin"].size == 256
    assert by_path["empty.txt"].sha256 == \
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_same_content_same_digest_however_created(tmp_path):
    a = make_tree(tmp_path / "a", CONTENT, mtime=1_000_000_000)
    b = make_tree(tmp_path / "elsewhere" / "b", CONTENT, order=list(reversed(CONTENT)),
                  mtime=time.time() + 3600)
    os.chmod(b / "repro" / "mean_gain.py", 0o755)      # modes are not part of the content
    os.utime(b / "data", (1, 1))
    assert digest_of(a) == digest_of(b)


def test_empty_directories_do_not_count(tmp_path):
    a = make_tree(tmp_path / "a", CONTENT)
    b = make_tree(tmp_path / "b", CONTENT)
    (b / "an-empty-dir").mkdir()
    assert digest_of(a) == digest_of(b)


@pytest.mark.parametrize("change", ["one byte", "one byte appended", "rename", "move",
                                    "add empty file", "delete", "swap contents"])
def test_any_change_changes_the_digest(tmp_path, change):
    base = digest_of(make_tree(tmp_path / "a", CONTENT))
    content = dict(CONTENT)
    if change == "one byte":
        data = bytearray(content["data/scores.csv"])
        data[-2] ^= 1
        content["data/scores.csv"] = bytes(data)
    elif change == "one byte appended":
        content["empty.txt"] = b"\n"
    elif change == "rename":
        content["data/scores2.csv"] = content.pop("data/scores.csv")
    elif change == "move":
        content["scores.csv"] = content.pop("data/scores.csv")
    elif change == "add empty file":
        content["data/.keep"] = b""
    elif change == "delete":
        del content["empty.txt"]
    elif change == "swap contents":
        content["Z-upper.txt"], content["a-lower.txt"] = content["a-lower.txt"], content["Z-upper.txt"]
    assert digest_of(make_tree(tmp_path / "b", content)) != base


def test_framing_is_unambiguous(tmp_path):
    # Moving bytes from one file to the next, or a name into a directory, must not collide.
    one = digest_of(make_tree(tmp_path / "1", {"a": b"xy", "b": b"z"}))
    two = digest_of(make_tree(tmp_path / "2", {"a": b"x", "b": b"yz"}))
    three = digest_of(make_tree(tmp_path / "3", {"a/b": b"x"}))
    four = digest_of(make_tree(tmp_path / "4", {"a_b": b"x"}))
    assert len({one, two, three, four}) == 4


def test_digest_is_deterministic(tmp_path):
    root = make_tree(tmp_path / "a", CONTENT)
    assert digest_of(root) == digest_of(root)


def test_loaded_bundle_digest_is_independent_of_where_it_comes_from(tmp_path):
    manifest = (b'schema = "repro-bundle/1"\n\n[[claim]]\nid = "r"\ntext = "t"\n'
                b'kind = "none"\n')
    content = {**CONTENT, "repro.toml": manifest}
    a = make_tree(tmp_path / "a", content, mtime=1_000_000_000)
    b = make_tree(tmp_path / "some" / "other" / "b", content, order=sorted(content, reverse=True))
    first = load_bundle(a, tmp_path / "stage-a")
    second = load_bundle(b, tmp_path / "stage-b")
    assert first.digest == second.digest == digest_of(a)
    assert [f.path for f in first.files] == [f.path for f in second.files]
    (b / "data" / "scores.csv").write_bytes(b"a,b\n1,3\n")
    assert load_bundle(b, tmp_path / "stage-c").digest != first.digest
