"""Staging a bundle: safe copies of directories, safe extraction of archives.

Archives are built on the fly, including hand-crafted malicious members.
Every attack test checks three things the user can see: an InputError whose
message names the offending member, the source as the error's file, and that
nothing was written outside the staging directory.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from harness.bundle.staging import StageLimits, stage_bundle
from harness.errors import InputError

MANIFEST = b'schema = "repro-bundle/1"\n'


# --- helpers -----------------------------------------------------------------

def tar_file(name: str, data: bytes = b"x", mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    return info, data


def tar_special(name: str, type_: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = type_
    info.linkname = linkname
    return info, None


def make_tgz(path: Path, members) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def make_zip(path: Path, members, compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members:  # name: str or a crafted ZipInfo
            zf.writestr(name, data)
    return path


def stage_error(source: Path, dest: Path, limits: StageLimits = StageLimits()) -> str:
    """Stage expecting failure; return the message, checking the error names the source."""
    with pytest.raises(InputError) as excinfo:
        stage_bundle(source, dest, limits)
    [problem] = excinfo.value.problems
    assert problem.file == str(source)
    return problem.message


def all_entries(root: Path) -> list[Path]:
    return sorted(root.rglob("*"))


@pytest.fixture
def bundle_dir(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "data").mkdir(parents=True)
    (src / "repro.toml").write_bytes(MANIFEST)
    (src / "data" / "scores.csv").write_text("a,b\n1,2\n")
    return src


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "stage"


# --- directory sources -------------------------------------------------------

def test_plain_directory_is_copied_and_is_the_root(bundle_dir, dest):
    root = stage_bundle(bundle_dir, dest)
    assert root == dest
    assert (root / "repro.toml").read_bytes() == MANIFEST
    assert (root / "data" / "scores.csv").read_text() == "a,b\n1,2\n"
    assert sorted(p.relative_to(root).as_posix() for p in all_entries(root)) == [
        "data", "data/scores.csv", "repro.toml"]


def test_directory_copy_is_a_snapshot_not_a_link(bundle_dir, dest):
    root = stage_bundle(bundle_dir, dest)
    staged = root / "data" / "scores.csv"
    assert staged.stat().st_ino != (bundle_dir / "data" / "scores.csv").stat().st_ino
    (bundle_dir / "data" / "scores.csv").write_text("changed\n")
    assert staged.read_text() == "a,b\n1,2\n"


def test_single_top_level_directory_becomes_the_root(tmp_path, bundle_dir, dest):
    parent = tmp_path / "parent"
    parent.mkdir()
    bundle_dir.rename(parent / "mybundle")
    assert stage_bundle(parent, dest) == dest / "mybundle"


def test_in_bundle_file_symlink_is_dereferenced(bundle_dir, dest):
    (bundle_dir / "alias.csv").symlink_to("data/scores.csv")
    root = stage_bundle(bundle_dir, dest)
    staged = root / "alias.csv"
    assert not staged.is_symlink()
    assert stat.S_ISREG(staged.lstat().st_mode)
    assert staged.read_text() == "a,b\n1,2\n"


def test_in_bundle_directory_symlink_is_copied_as_directory(bundle_dir, dest):
    (bundle_dir / "more").symlink_to("data", target_is_directory=True)
    root = stage_bundle(bundle_dir, dest)
    assert not (root / "more").is_symlink() and (root / "more").is_dir()
    assert (root / "more" / "scores.csv").read_text() == "a,b\n1,2\n"


def test_symlink_out_of_the_bundle_is_refused(tmp_path, bundle_dir, dest):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    (bundle_dir / "data" / "leak").symlink_to(secret)
    message = stage_error(bundle_dir, dest)
    assert "data/leak" in message and str(secret) in message and "outside" in message
    assert not any(p.is_file() and p.read_text() == "TOP SECRET" for p in all_entries(dest))


def test_relative_symlink_climbing_out_is_refused(bundle_dir, dest):
    (bundle_dir / "up").symlink_to("../..", target_is_directory=True)
    message = stage_error(bundle_dir, dest)
    assert "'up'" in message and "../.." in message and "outside" in message


def test_dangling_symlink_is_refused(bundle_dir, dest):
    (bundle_dir / "data" / "gone").symlink_to("nowhere.csv")
    message = stage_error(bundle_dir, dest)
    assert "data/gone" in message and "nowhere.csv" in message and "dangles" in message


@pytest.mark.parametrize("target", [".", "..", "../.."])
def test_directory_symlink_loop_is_refused(bundle_dir, dest, target):
    (bundle_dir / "data" / "deep").mkdir()
    (bundle_dir / "data" / "deep" / "loop").symlink_to(target, target_is_directory=True)
    message = stage_error(bundle_dir, dest)
    assert "data/deep/loop" in message and "loops" in message


def test_fifo_in_directory_is_refused(bundle_dir, dest):
    os.mkfifo(bundle_dir / "data" / "pipe")
    message = stage_error(bundle_dir, dest)
    assert "data/pipe" in message and "fifo" in message


def test_directory_limits_apply(bundle_dir, dest, tmp_path):
    for i in range(10):
        (bundle_dir / "data" / f"f{i}").write_text("x")
    assert "too many" in stage_error(bundle_dir, dest, StageLimits(max_files=5))

    (bundle_dir / "data" / "big.bin").write_bytes(b"\0" * 2000)
    message = stage_error(bundle_dir, tmp_path / "stage2", StageLimits(max_file_bytes=1000))
    assert "data/big.bin" in message and "per-file limit" in message
    assert all(p.stat().st_size <= 1000 for p in all_entries(tmp_path / "stage2") if p.is_file())

    deep = bundle_dir.joinpath(*"abcdef")
    deep.mkdir(parents=True)
    message = stage_error(bundle_dir, tmp_path / "stage3", StageLimits(max_depth=4))
    assert "a/b/c/d/e" in message and "nested" in message


def test_staging_inside_the_source_is_refused(bundle_dir):
    message = stage_error(bundle_dir, bundle_dir / "stage")
    assert "inside the bundle" in message


def test_permissions_are_normalised(bundle_dir, dest):
    script = bundle_dir / "run.py"
    script.write_text("print(1)")
    script.chmod(0o700)
    (bundle_dir / "data" / "scores.csv").chmod(0o600)
    (bundle_dir / "data").chmod(0o700)
    old = os.umask(0o077)
    try:
        root = stage_bundle(bundle_dir, dest)
    finally:
        os.umask(old)
    assert stat.S_IMODE(root.stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "data").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "data" / "scores.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((root / "repro.toml").stat().st_mode) == 0o644
    assert stat.S_IMODE((root / "run.py").stat().st_mode) == 0o755


# --- source kinds and the bundle root ---------------------------------------

def test_non_archive_file_is_refused(tmp_path, dest):
    source = tmp_path / "bundle.tar"
    source.write_bytes(b"whatever")
    assert "not a directory or a .tar.gz/.tgz/.zip archive" in stage_error(source, dest)


def test_missing_source_is_an_input_error(tmp_path, dest):
    assert "no such file" in stage_error(tmp_path / "nope.tgz", dest)


def test_missing_manifest_is_refused(tmp_path, dest):
    source = make_tgz(tmp_path / "b.tgz", [tar_file("b/data.csv")])
    assert "no repro.toml at the bundle root" in stage_error(source, dest)


def test_two_top_level_directories_are_not_guessed_between(tmp_path, dest):
    source = make_tgz(tmp_path / "b.tgz", [tar_file("a/repro.toml", MANIFEST),
                                           tar_file("b/repro.toml", MANIFEST)])
    assert "no repro.toml at the bundle root" in stage_error(source, dest)


def test_nonempty_dest_is_a_programming_error(bundle_dir, dest):
    dest.mkdir()
    (dest / "old").write_text("x")
    with pytest.raises(ValueError):
        stage_bundle(bundle_dir, dest)


# --- tar.gz ------------------------------------------------------------------

def test_tgz_with_single_top_level_directory(tmp_path, dest):
    source = make_tgz(tmp_path / "b.tar.gz", [
        tar_special("mybundle", tarfile.DIRTYPE),
        tar_file("mybundle/repro.toml", MANIFEST),
        tar_file("mybundle/data/scores.csv", b"1,2\n"),   # parent not listed: created
        tar_file("mybundle/run.sh", b"#!/bin/sh\n", mode=0o4775),  # setuid dropped
    ])
    root = stage_bundle(source, dest)
    assert root == dest / "mybundle"
    assert (root / "repro.toml").read_bytes() == MANIFEST
    assert (root / "data" / "scores.csv").read_bytes() == b"1,2\n"
    assert stat.S_IMODE((root / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "data").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "repro.toml").stat().st_mode) == 0o644


def test_tgz_made_with_dot_has_manifest_at_top(tmp_path, dest):
    source = make_tgz(tmp_path / "b.tgz", [tar_special(".", tarfile.DIRTYPE),
                                           tar_file("./repro.toml", MANIFEST)])
    assert stage_bundle(source, dest) == dest


@pytest.mark.parametrize("name", ["../evil", "b/../../evil", "./../evil"])
def test_tar_traversal_is_refused(tmp_path, dest, name):
    source = make_tgz(tmp_path / "b.tgz", [tar_file("b/repro.toml", MANIFEST),
                                           tar_file(name, b"pwned")])
    message = stage_error(source, dest)
    assert repr(name) in message and "leaves the bundle" in message
    assert not (tmp_path / "evil").exists()


def test_tar_absolute_name_is_refused(tmp_path, dest):
    target = tmp_path / "evil_abs"
    source = make_tgz(tmp_path / "b.tgz", [tar_file(str(target), b"pwned")])
    message = stage_error(source, dest)
    assert str(target) in message and "absolute" in message
    assert not target.exists()


def test_tar_symlink_member_is_refused(tmp_path, dest):
    outside = tmp_path / "outside"
    outside.mkdir()
    source = make_tgz(tmp_path / "b.tgz", [
        tar_file("b/repro.toml", MANIFEST),
        tar_special("b/link", tarfile.SYMTYPE, linkname=str(outside)),
        tar_file("b/link/planted", b"pwned"),       # the classic write-through-link
    ])
    message = stage_error(source, dest)
    assert "'b/link'" in message and "archives may not contain links" in message
    assert not (outside / "planted").exists()
    assert not (dest / "b" / "link").exists()


def test_tar_hard_link_to_outside_is_refused(tmp_path, dest):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    source = make_tgz(tmp_path / "b.tgz", [
        tar_file("b/repro.toml", MANIFEST),
        tar_special("b/hl", tarfile.LNKTYPE, linkname=str(secret)),
        tar_file("b/hl", b"overwritten"),
    ])
    message = stage_error(source, dest)
    assert "'b/hl'" in message and "hard link" in message and "may not contain links" in message
    assert secret.read_text() == "TOP SECRET"
    assert secret.stat().st_nlink == 1
    assert not (dest / "b" / "hl").exists()


@pytest.mark.parametrize("type_", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_tar_device_and_fifo_members_are_refused(tmp_path, dest, type_):
    source = make_tgz(tmp_path / "b.tgz", [tar_file("b/repro.toml", MANIFEST),
                                           tar_special("b/dev", type_)])
    message = stage_error(source, dest)
    assert "'b/dev'" in message and "only regular files and directories" in message
    assert not (dest / "b" / "dev").exists()


def test_tar_duplicate_member_is_refused(tmp_path, dest):
    source = make_tgz(tmp_path / "b.tgz", [tar_file("b/repro.toml", MANIFEST),
                                           tar_file("b/x.csv", b"1"), tar_file("b/x.csv", b"2")])
    message = stage_error(source, dest)
    assert "'b/x.csv'" in message and "more than once" in message


def test_tar_file_below_a_file_is_refused(tmp_path, dest):
    source = make_tgz(tmp_path / "b.tgz", [tar_file("b/x", b"1"), tar_file("b/x/y", b"2")])
    message = stage_error(source, dest)
    assert "'b/x/y'" in message


def test_tar_too_many_files(tmp_path, dest):
    source = make_tgz(tmp_path / "b.tgz", [tar_file(f"b/f{i}") for i in range(20)])
    message = stage_error(source, dest, StageLimits(max_files=10))
    assert "too many files" in message
    assert len(all_entries(dest)) <= 10


def test_tar_total_size_bomb_stops_at_the_limit(tmp_path, dest):
    # Each member is under the per-file limit; only counting the total catches it.
    source = make_tgz(tmp_path / "b.tgz", [tar_file(f"b/f{i}", b"\0" * 100) for i in range(10)])
    limits = StageLimits(max_total_bytes=550, max_file_bytes=1000)
    message = stage_error(source, dest, limits)
    assert "'b/f5'" in message and "550" in message
    assert sum(p.stat().st_size for p in all_entries(dest) if p.is_file()) <= 550


def test_tar_file_over_per_file_limit(tmp_path, dest):
    source = make_tgz(tmp_path / "b.tgz", [tar_file("b/big", b"\0" * 5000)])
    message = stage_error(source, dest, StageLimits(max_file_bytes=1000))
    assert "'b/big'" in message and "per-file limit" in message


def test_tar_depth_limit(tmp_path, dest):
    source = make_tgz(tmp_path / "b.tgz", [tar_file("/".join("abcdefgh"))])
    message = stage_error(source, dest, StageLimits(max_depth=5))
    assert "a/b/c/d/e/f/g/h" in message and "nested" in message
    assert not (dest / "a").exists()


def test_corrupt_gzip_is_an_input_error(tmp_path, dest):
    source = tmp_path / "b.tgz"
    source.write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(200))
    assert "corrupt" in stage_error(source, dest)


def test_not_gzip_at_all_is_an_input_error(tmp_path, dest):
    source = tmp_path / "b.tar.gz"
    source.write_bytes(b"plain text, not an archive")
    assert "corrupt" in stage_error(source, dest)


def test_truncated_tgz_is_an_input_error(tmp_path, dest):
    full = make_tgz(tmp_path / "full.tgz",
                    [tar_file("b/repro.toml", MANIFEST)]
                    + [tar_file(f"b/f{i}", os.urandom(600)) for i in range(20)])
    data = full.read_bytes()
    # Cut mid-stream and just before the gzip trailer: tarfile alone stages a
    # partial bundle silently for some cuts; the gzip CRC/length must catch all.
    for i, cut in enumerate([len(data) // 2, len(data) - 8, len(data) - 1]):
        source = tmp_path / f"cut{i}.tgz"
        source.write_bytes(data[:cut])
        assert "truncated" in stage_error(source, tmp_path / f"stage{i}")


# --- zip ---------------------------------------------------------------------

def test_zip_with_single_top_level_directory(tmp_path, dest):
    exe = zipfile.ZipInfo("mybundle/run.py")
    exe.external_attr = (stat.S_IFREG | 0o700) << 16
    exe.create_system = 3
    source = make_zip(tmp_path / "b.zip", [("mybundle/repro.toml", MANIFEST),
                                           ("mybundle/data/scores.csv", b"1,2\n"),
                                           (exe, b"print(1)\n")])
    root = stage_bundle(source, dest)
    assert root == dest / "mybundle"
    assert (root / "repro.toml").read_bytes() == MANIFEST
    assert (root / "data" / "scores.csv").read_bytes() == b"1,2\n"
    assert stat.S_IMODE((root / "run.py").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "repro.toml").stat().st_mode) == 0o644


@pytest.mark.parametrize("name", ["../evil", "b/../../evil"])
def test_zip_traversal_is_refused(tmp_path, dest, name):
    source = make_zip(tmp_path / "b.zip", [("b/repro.toml", MANIFEST), (name, b"pwned")])
    message = stage_error(source, dest)
    assert repr(name) in message and "leaves the bundle" in message
    assert not (tmp_path / "evil").exists()


def test_zip_absolute_name_is_refused(tmp_path, dest):
    target = tmp_path / "evil_abs"
    source = make_zip(tmp_path / "b.zip", [("b/repro.toml", MANIFEST), (str(target), b"pwned")])
    message = stage_error(source, dest)
    assert str(target) in message and "absolute" in message
    assert not target.exists()


def test_zip_backslash_name_is_refused(tmp_path, dest):
    source = make_zip(tmp_path / "b.zip", [("b/repro.toml", MANIFEST), ("..\\evil", b"pwned")])
    message = stage_error(source, dest)
    assert "evil" in message and "backslash" in message
    assert not (tmp_path / "evil").exists()


def test_zip_symlink_member_is_refused(tmp_path, dest):
    link = zipfile.ZipInfo("b/link")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    source = make_zip(tmp_path / "b.zip", [("b/repro.toml", MANIFEST), (link, b"/etc/passwd")])
    message = stage_error(source, dest)
    assert "'b/link'" in message and "archives may not contain links" in message
    assert not (dest / "b" / "link").exists()


def test_zip_duplicate_member_is_refused(tmp_path, dest):
    with pytest.warns(UserWarning):  # zipfile itself warns when writing one
        source = make_zip(tmp_path / "b.zip", [("b/repro.toml", MANIFEST),
                                               ("b/x.csv", b"1"), ("b/x.csv", b"2")])
    message = stage_error(source, dest)
    assert "'b/x.csv'" in message and "more than once" in message


def _patch_declared_size(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size in the member's local and central headers."""
    raw = bytearray(path.read_bytes())
    name = member.encode()
    for sig, field, name_len_at, header_len in ((b"PK\x03\x04", 22, 26, 30),
                                                (b"PK\x01\x02", 24, 28, 46)):
        at = raw.find(sig)
        while at != -1:
            (name_len,) = struct.unpack_from("<H", raw, at + name_len_at)
            if raw[at + header_len: at + header_len + name_len] == name:
                struct.pack_into("<I", raw, at + field, size)
            at = raw.find(sig, at + 1)
    path.write_bytes(bytes(raw))


def test_zip_lying_declared_size_is_not_trusted(tmp_path, dest):
    source = make_zip(tmp_path / "b.zip", [("b/repro.toml", MANIFEST),
                                           ("b/bomb.bin", b"\0" * 100_000)])
    _patch_declared_size(source, "b/bomb.bin", 10)
    with zipfile.ZipFile(source) as zf:  # the lie took effect
        assert zf.getinfo("b/bomb.bin").file_size == 10
    message = stage_error(source, dest, StageLimits(max_file_bytes=1000))
    assert "'b/bomb.bin'" in message
    assert all(p.stat().st_size <= 1000 for p in all_entries(dest) if p.is_file())


def test_zip_bomb_over_per_file_limit(tmp_path, dest):
    source = make_zip(tmp_path / "b.zip", [("b/bomb.bin", b"\0" * 1_000_000)])
    assert source.stat().st_size < 5000  # highly compressed
    message = stage_error(source, dest, StageLimits(max_file_bytes=1000))
    assert "'b/bomb.bin'" in message and "per-file limit" in message
    assert not (dest / "b" / "bomb.bin").exists() or (dest / "b" / "bomb.bin").stat().st_size <= 1000


def test_zip_too_many_files(tmp_path, dest):
    source = make_zip(tmp_path / "b.zip", [(f"b/f{i}", b"") for i in range(20)])
    assert "too many files" in stage_error(source, dest, StageLimits(max_files=10))


def test_corrupt_zip_is_an_input_error(tmp_path, dest):
    source = tmp_path / "b.zip"
    source.write_bytes(b"PK\x03\x04" + os.urandom(100))
    assert "corrupt" in stage_error(source, dest)


def test_truncated_zip_is_an_input_error(tmp_path, dest):
    full = make_zip(tmp_path / "full.zip", [("b/repro.toml", MANIFEST),
                                            ("b/data.bin", os.urandom(5000))])
    source = tmp_path / "cut.zip"
    source.write_bytes(full.read_bytes()[:3000])
    assert "corrupt" in stage_error(source, dest)


def test_zip_crc_mismatch_is_an_input_error(tmp_path, dest):
    source = make_zip(tmp_path / "b.zip", [("b/repro.toml", MANIFEST),
                                           ("b/data.csv", b"original-data")],
                      compression=zipfile.ZIP_STORED)
    source.write_bytes(source.read_bytes().replace(b"original-data", b"tampered-data"))
    message = stage_error(source, dest)
    assert "corrupt" in message and "'b/data.csv'" in message
