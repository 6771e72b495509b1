"""Stage a bundle: copy a directory or extract an archive into a fresh directory.

The staged copy is what gets hashed and what gets bind-mounted read-only into
a sandbox that runs as an unprivileged uid.  So it must

* contain only regular files and directories (no symlinks, devices, fifos or
  hard links that could reach outside the bundle),
* be world-readable (directories 0o755, files 0o644 or 0o755) and owned by
  whoever runs repro, whatever the archive's headers say,
* be a snapshot: later edits to the source must not change what was hashed.

Everything is written by hand from paths built component by component under
``dest`` (never ``extractall``), with ``O_EXCL|O_NOFOLLOW``, after each name
has been validated.  Size limits count the bytes actually written rather than
trusting headers, so an archive bomb stops at the limit.
"""

from __future__ import annotations

import gzip
import os
import re
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NoReturn

from harness.errors import InputError

MANIFEST_NAME = "repro.toml"
CHUNK = 1024 * 1024
DIR_MODE = 0o755
FILE_MODE = 0o644
EXEC_MODE = 0o755

# Everything a damaged or hostile archive can make tarfile/zipfile/zlib raise
# while we read it.  RuntimeError is zipfile's "encrypted member" error,
# NotImplementedError its "unsupported compression method".
_ARCHIVE_ERRORS = (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile,
                   zipfile.LargeZipFile, zlib.error, RuntimeError, NotImplementedError,
                   ValueError)


@dataclass(frozen=True)
class StageLimits:
    """Bounds on what a bundle may unpack to (defences against archive bombs)."""

    max_files: int = 10_000                  # regular files + directories
    max_total_bytes: int = 512 * 1024**2     # sum of uncompressed file sizes
    max_file_bytes: int = 256 * 1024**2
    max_depth: int = 32


def stage_bundle(source: Path, dest: Path, limits: StageLimits = StageLimits()) -> Path:
    """Copy/extract `source` (a directory, or a .tar.gz/.tgz/.zip archive) into the empty
    directory `dest` and return the bundle root inside it (the directory holding repro.toml).

    `dest` is created if missing; it must be empty (a non-empty `dest` is a
    programming error and raises ValueError).  Every problem with `source`
    raises InputError naming the offending member or path.
    """
    source = Path(source)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ValueError(f"staging directory {dest} is not empty")
    os.chmod(dest, DIR_MODE)  # the root may itself be mounted into the sandbox
    stager = _Stager(dest, limits, str(source))
    name = source.name.lower()
    if source.is_dir():
        _stage_directory(stager, source)
    elif not source.exists():
        stager.fail("no such file or directory")
    elif source.is_file() and name.endswith((".tar.gz", ".tgz")):
        _stage_tar(stager, source)
    elif source.is_file() and name.endswith(".zip"):
        _stage_zip(stager, source)
    else:
        stager.fail("not a directory or a .tar.gz/.tgz/.zip archive")
    return _bundle_root(stager, dest)


def _bundle_root(stager: _Stager, dest: Path) -> Path:
    """`dest` if repro.toml is at the top, else the single top-level directory holding it.

    The second case is the common ``tar czf b.tgz mybundle/``.
    """
    if (dest / MANIFEST_NAME).is_file():
        return dest
    top = list(dest.iterdir())
    if len(top) == 1 and top[0].is_dir() and (top[0] / MANIFEST_NAME).is_file():
        return top[0]
    stager.fail(f"no {MANIFEST_NAME} at the bundle root")


class _Stager:
    """Writes validated entries under `dest` and enforces the limits.

    Paths are tuples of already-validated components; `kinds` remembers what
    we created at each one, so a later entry can never turn into a write
    through something it does not expect (a file where a directory should be).
    """

    def __init__(self, dest: Path, limits: StageLimits, user_file: str):
        self.dest = dest
        self.limits = limits
        self.user_file = user_file
        self.kinds: dict[tuple[str, ...], str] = {(): "dir"}
        self.entries = 0
        self.total_bytes = 0

    def fail(self, message: str) -> NoReturn:
        raise InputError.single(message, file=self.user_file)

    def check_depth(self, parts: tuple[str, ...], label: str) -> None:
        if len(parts) > self.limits.max_depth:
            self.fail(f"{label!r} is nested {len(parts)} levels deep "
                      f"(limit {self.limits.max_depth})")

    def _admit(self, parts: tuple[str, ...], label: str) -> Path:
        """Check depth and count for a new entry at `parts`; return its path under dest."""
        self.check_depth(parts, label)
        if parts in self.kinds:
            self.fail(f"{label!r} appears more than once")
        self.entries += 1
        if self.entries > self.limits.max_files:
            self.fail(f"too many files and directories (limit {self.limits.max_files}), "
                      f"reached at {label!r}")
        return self.dest.joinpath(*parts)

    def ensure_parents(self, parts: tuple[str, ...], label: str) -> None:
        """Create missing parent directories (archives need not list them)."""
        self.check_depth(parts, label)  # before creating any of them
        for i in range(1, len(parts)):
            kind = self.kinds.get(parts[:i])
            if kind == "file":
                self.fail(f"{label!r} is inside {'/'.join(parts[:i])!r}, which is a file")
            if kind is None:
                self.mkdir(parts[:i], label)

    def mkdir(self, parts: tuple[str, ...], label: str) -> None:
        path = self._admit(parts, label)
        os.mkdir(path, DIR_MODE)
        os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask
        self.kinds[parts] = "dir"

    def write_file(self, parts: tuple[str, ...], data: BinaryIO, executable: bool,
                   label: str) -> None:
        """Stream `data` into a new file, stopping as soon as a size limit is exceeded."""
        path = self._admit(parts, label)
        self.kinds[parts] = "file"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
        with open(fd, "wb") as out:
            size = 0
            while chunk := data.read(CHUNK):
                size += len(chunk)
                self.total_bytes += len(chunk)
                if size > self.limits.max_file_bytes:
                    self.fail(f"{label!r} is larger than the per-file limit of "
                              f"{self.limits.max_file_bytes} bytes")
                if self.total_bytes > self.limits.max_total_bytes:
                    self.fail(f"the bundle is larger than the limit of "
                              f"{self.limits.max_total_bytes} bytes (reached at {label!r})")
                out.write(chunk)
            os.fchmod(out.fileno(), EXEC_MODE if executable else FILE_MODE)


# --- directories -------------------------------------------------------------

def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def _stage_directory(stager: _Stager, source: Path) -> None:
    """Copy a directory tree, dereferencing only symlinks that stay inside it.

    Every directory we recurse into is named by its real path (the root is
    resolved, links are replaced by their resolved target), so "inside the
    root" is a plain prefix test and a link to one of the directories we are
    currently copying is a loop.
    """
    root = os.path.realpath(source)
    if _inside(os.path.realpath(stager.dest), root):
        stager.fail(f"the staging directory {stager.dest} is inside the bundle")

    def walk(real_dir: str, parts: tuple[str, ...], ancestors: tuple[str, ...]) -> None:
        with os.scandir(real_dir) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            rel = parts + (entry.name,)
            label = "/".join(rel)
            path, target = entry.path, None
            if entry.is_symlink():
                target = os.readlink(path)
                try:
                    path = os.path.realpath(path, strict=True)
                except FileNotFoundError:
                    stager.fail(f"symlink {label!r} -> {target!r} dangles")
                except OSError as e:
                    stager.fail(f"symlink {label!r} -> {target!r} cannot be resolved: "
                                f"{e.strerror}")
                if not _inside(path, root):
                    stager.fail(f"symlink {label!r} -> {target!r} points outside the bundle")
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                if path in ancestors:  # only a link can lead back up the tree
                    stager.fail(f"symlink {label!r} -> {target!r} loops back to "
                                "one of its own parent directories")
                stager.mkdir(rel, label)
                walk(path, rel, ancestors + (path,))
            elif stat.S_ISREG(st.st_mode):
                _copy_regular(stager, path, rel, label)
            else:
                stager.fail(f"{label!r} is a {_kind(st.st_mode)}; a bundle may contain "
                            "only regular files and directories")

    try:
        walk(root, (), (root,))
    except OSError as e:
        stager.fail(f"cannot copy {e.filename or source}: {e.strerror}")


def _copy_regular(stager: _Stager, path: str, parts: tuple[str, ...], label: str) -> None:
    """Copy one source file, re-checking its type on the open descriptor.

    O_NOFOLLOW and the fstat close the window between our lstat and the
    open: a file swapped for a link or a fifo meanwhile is refused, not
    followed or blocked on.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with open(fd, "rb") as src:
        st = os.fstat(src.fileno())
        if not stat.S_ISREG(st.st_mode):
            stager.fail(f"{label!r} changed while it was being copied")
        stager.write_file(parts, src, bool(st.st_mode & 0o111), label)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "special file"


# --- archives ----------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def _member_parts(stager: _Stager, name: str) -> tuple[str, ...]:
    """Validate an archive member name and split it into safe path components.

    '.' and empty components are dropped (``tar czf b.tgz -C dir .`` names
    members ``./x``); anything that could leave `dest` is refused.
    """
    if "\0" in name:
        stager.fail(f"archive member {name!r} contains a NUL byte")
    if "\\" in name:
        stager.fail(f"archive member {name!r} contains a backslash")
    if name.startswith("/") or _DRIVE.match(name):
        stager.fail(f"archive member {name!r} has an absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        stager.fail(f"archive member {name!r} leaves the bundle ('..' is not allowed)")
    return parts


class _Archive:
    """Adds archive members one by one, refusing duplicates."""

    def __init__(self, stager: _Stager):
        self.stager = stager
        self.seen: set[tuple[str, ...]] = set()

    def parts(self, name: str) -> tuple[str, ...]:
        parts = _member_parts(self.stager, name)
        if parts in self.seen:
            self.stager.fail(f"archive member {name!r} appears more than once")
        self.seen.add(parts)
        return parts

    def add_dir(self, name: str) -> None:
        parts = self.parts(name)
        kind = self.stager.kinds.get(parts)
        if kind == "dir":  # the root, or already created as some file's parent
            return
        if kind == "file":
            self.stager.fail(f"archive member {name!r} is both a file and a directory")
        self.stager.ensure_parents(parts, name)
        self.stager.mkdir(parts, name)

    def add_file(self, name: str, declared_size: int, open_data, executable: bool) -> None:
        parts = self.parts(name)
        if not parts:
            self.stager.fail(f"archive member {name!r} is a file with an empty name")
        if parts in self.stager.kinds:
            self.stager.fail(f"archive member {name!r} is both a file and a directory")
        # The header is only a hint to fail early; write_file counts real bytes.
        if declared_size > self.stager.limits.max_file_bytes:
            self.stager.fail(f"{name!r} is larger than the per-file limit of "
                             f"{self.stager.limits.max_file_bytes} bytes")
        self.stager.ensure_parents(parts, name)
        with open_data() as data:
            self.stager.write_file(parts, data, executable, name)

    def refuse_link(self, name: str, what: str, target: str | None = None) -> NoReturn:
        to = f" to {target!r}" if target is not None else ""
        self.stager.fail(f"archive member {name!r} is a {what}{to}; "
                         "archives may not contain links")

    def refuse_special(self, name: str, what: str) -> NoReturn:
        self.stager.fail(f"archive member {name!r} is a {what}; a bundle may contain "
                         "only regular files and directories")


def _stage_tar(stager: _Stager, source: Path) -> None:
    """Extract a gzipped tar in one streaming pass.

    Decompression is done by GzipFile rather than tarfile's own gzip layer
    because GzipFile checks the stream's CRC and length and raises on a
    truncated stream; tarfile alone silently stops at a header cut in half,
    which would stage part of the bundle without a word.
    """
    archive = _Archive(stager)
    current = None
    try:
        with gzip.GzipFile(source, "rb") as gz, tarfile.open(fileobj=gz, mode="r|") as tf:
            for member in tf:
                current = member.name
                if member.issym():
                    archive.refuse_link(member.name, "symlink", member.linkname)
                elif member.islnk():
                    archive.refuse_link(member.name, "hard link", member.linkname)
                elif member.isdir():
                    archive.add_dir(member.name)
                elif member.isreg():
                    archive.add_file(member.name, member.size,
                                     lambda m=member: tf.extractfile(m),
                                     bool(member.mode & 0o111))
                elif member.ischr() or member.isblk():
                    archive.refuse_special(member.name, "device")
                elif member.isfifo():
                    archive.refuse_special(member.name, "fifo")
                else:
                    archive.refuse_special(member.name, f"tar entry of type {member.type!r}")
            current = None
            _drain(stager, gz)
    except InputError:
        raise
    except _ARCHIVE_ERRORS as e:
        where = f" at member {current!r}" if current is not None else ""
        stager.fail(f"corrupt or truncated .tar.gz archive{where}: {e or type(e).__name__}")


def _drain(stager: _Stager, gz: gzip.GzipFile) -> None:
    """Read the stream after the tar's end marker so GzipFile verifies its tail.

    The padding counts towards the size limit: a tail of gigabytes of zeros
    is a bomb like any other.
    """
    while chunk := gz.read(CHUNK):
        stager.total_bytes += len(chunk)
        if stager.total_bytes > stager.limits.max_total_bytes:
            stager.fail(f"the archive is larger than the limit of "
                        f"{stager.limits.max_total_bytes} bytes (after the last member)")


def _stage_zip(stager: _Stager, source: Path) -> None:
    """Extract a zip.  Unix file types live in the top 16 bits of external_attr."""
    archive = _Archive(stager)
    current = None
    try:
        with zipfile.ZipFile(source) as zf:
            for info in zf.infolist():
                current = info.filename
                mode = info.external_attr >> 16 if info.create_system == 3 else 0
                if stat.S_ISLNK(mode):
                    archive.refuse_link(info.filename, "symlink")
                elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                    archive.refuse_special(info.filename, "device")
                elif stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
                    archive.refuse_special(info.filename, "fifo or socket")
                elif info.is_dir() or stat.S_ISDIR(mode):
                    archive.add_dir(info.filename)
                else:
                    archive.add_file(info.filename, info.file_size,
                                     lambda i=info: zf.open(i),
                                     bool(mode & 0o111))
    except InputError:
        raise
    except _ARCHIVE_ERRORS as e:
        where = f" at member {current!r}" if current is not None else ""
        stager.fail(f"corrupt or unreadable .zip archive{where}: {e or type(e).__name__}")
