"""The bundle digest: one hash that names exactly these files with exactly these bytes.

Format (stable, documented in the README): sha256 over, for each regular file
in byte order of its POSIX relative path, the line
``<path>\\0<size>\\0<sha256 hex of content>\\n``.  Paths are included so a
rename changes the digest; sizes make the framing unambiguous.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def list_files(root: Path) -> list[Path]:
    """Regular files under root (the staged copy has nothing else), sorted by path bytes."""
    files = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix().encode())


def bundle_digest(root: Path) -> tuple[str, list[FileEntry]]:
    entries = []
    outer = hashlib.sha256()
    for path in list_files(root):
        rel = path.relative_to(root).as_posix()
        entry = FileEntry(rel, path.stat().st_size, file_sha256(path))
        entries.append(entry)
        outer.update(f"{rel}\0{entry.size}\0{entry.sha256}\n".encode())
    return f"sha256:{outer.hexdigest()}", entries
