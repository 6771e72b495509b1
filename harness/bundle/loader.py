"""Read a bundle: stage it, parse and validate ``repro.toml``, hash it.

All problems are collected and raised together as one :class:`InputError`
whose entries name the file, the line and the key, so a user fixes a
manifest in one round trip instead of one error at a time.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.bundle.digest import FileEntry, bundle_digest
from harness.bundle.manifest import LeanClaim, Manifest, PythonClaim
from harness.bundle.staging import stage_bundle
from harness.bundle.toml_lines import KeyLines
from harness.errors import InputError, Problem
from harness.python_env import requirement_problems

MANIFEST_NAME = "repro.toml"


@dataclass(frozen=True)
class Bundle:
    """A validated, staged bundle: what every later step works from."""

    source: str            # as the user named it
    root: Path             # the staged, read-only-able copy
    manifest: Manifest
    manifest_data: dict[str, Any]   # the manifest as read (for the artifact)
    digest: str
    files: tuple[FileEntry, ...]


def load_bundle(source: Path, staging_dir: Path) -> Bundle:
    """Stage `source` into `staging_dir` and validate it."""
    if not source.exists():
        raise InputError.single("no such file or directory", file=str(source))
    root = stage_bundle(source, staging_dir)
    manifest_path = root / MANIFEST_NAME
    label = _label(source)
    data, lines = _parse_toml(manifest_path, label)
    manifest = _validate(data, lines, label)
    _check_referenced_files(manifest, root, lines, label)
    digest, files = bundle_digest(root)
    return Bundle(source=str(source), root=root, manifest=manifest, manifest_data=data,
                  digest=digest, files=tuple(files))


def _label(source: Path) -> str:
    """How error messages name the manifest: `bundle/repro.toml` or `b.tgz:repro.toml`."""
    if source.is_dir():
        return str(source / MANIFEST_NAME)
    return f"{source}:{MANIFEST_NAME}"


def _parse_toml(path: Path, label: str) -> tuple[dict[str, Any], KeyLines]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.single(f"not valid UTF-8 (byte {exc.start})", file=label) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        if match:
            message += f" (column {match.group(2)})"
        raise InputError.single(f"invalid TOML: {message}", file=label, line=line) from None
    return data, KeyLines(text)


def _validate(data: dict[str, Any], lines: KeyLines, label: str) -> Manifest:
    problems = _duplicate_ids(data, lines, label)
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        problems += _problems_from(exc, data, lines, label)
        raise InputError(_dedupe(problems)) from None
    if problems:
        raise InputError(problems)
    return manifest


def _duplicate_ids(data: dict[str, Any], lines: KeyLines, label: str) -> list[Problem]:
    claims = data.get("claim")
    if not isinstance(claims, list):
        return []
    first: dict[str, int] = {}
    problems = []
    for index, claim in enumerate(claims):
        cid = claim.get("id") if isinstance(claim, dict) else None
        if not isinstance(cid, str):
            continue
        if cid in first:
            problems.append(Problem(
                f"duplicate claim id '{cid}' (first used by claim #{first[cid] + 1}, "
                f"line {lines.line_of(('claim', first[cid], 'id'))})",
                file=label, line=lines.line_of(("claim", index, "id")), field=f"claim[{index}].id"))
        else:
            first[cid] = index
    return problems


_UNION_TAGS = {"python", "lean", "none", "bool", "int", "float", "str", "list[union[int,float]]",
               "constrained-int", "constrained-float", "function-after[_one_rule(), Tolerance]"}


def _data_path(loc: tuple, data: Any) -> tuple[list[str | int], str | None]:
    """Follow pydantic's `loc` through the data.

    Returns the part of the path that exists in the data and, when the error
    is about a key that is absent (missing field), that key's name.  Union
    member names that pydantic inserts into `loc` are skipped.
    """
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and (part in _UNION_TAGS or "[" in part):
            continue
        else:
            return path, str(part) if i == len(loc) - 1 else None
    return path, None


def _problems_from(exc: ValidationError, data: dict, lines: KeyLines, label: str) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        path, absent = _data_path(tuple(error["loc"]), data)
        kind = error["type"]
        field = ".".join(_fmt(p) for p in path) or None
        if kind == "missing" and absent:
            field = ".".join([_fmt(p) for p in path] + [absent])
            message = f"missing required key '{absent}'"
        elif kind == "extra_forbidden":
            message = f"unknown key '{path[-1]}'" + _did_you_mean(path, data)
        elif kind == "union_tag_invalid":
            message = "'kind' must be one of \"python\", \"lean\", \"none\""
        elif kind == "literal_error" and path and path[-1] == "schema":
            message = "'schema' must be \"repro-bundle/1\""
        else:
            message = _clean(error["msg"])
        problems.append(Problem(message, file=label, line=lines.line_of(tuple(path)), field=field))
    return problems


_KNOWN_KEYS = {
    "claim": ["id", "text", "kind", "script", "inputs", "expected", "tolerance", "python",
              "perturb", "perturb_reason", "timeout_s", "memory_mb", "file", "theorem",
              "statement"],
    "defaults": ["tolerance", "timeout_s", "memory_mb", "python"],
    "tolerance": ["rel", "abs", "reported"],
    "paper": ["id", "title", "doi", "url", "authors"],
    "lean": ["toolchain", "image", "allow_axioms"],
    "python": ["requirements"],
    "": ["schema", "paper", "defaults", "lean", "claim"],
}


def _did_you_mean(path: list, data: dict) -> str:
    import difflib

    parent = next((p for p in reversed(path[:-1]) if isinstance(p, str)), "")
    candidates = _KNOWN_KEYS.get(parent, [])
    close = difflib.get_close_matches(str(path[-1]), candidates, n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _fmt(part: str | int) -> str:
    return f"[{part}]" if isinstance(part, int) else part


def _clean(msg: str) -> str:
    msg = msg.removeprefix("Value error, ")
    msg = msg.replace("Input should be", "must be")
    return msg


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """Union members produce one error each for the same key: keep one per key."""
    seen: dict[tuple, Problem] = {}
    for p in problems:
        key = (p.field, p.line)
        if key in seen:
            if "must be" in p.message and "must be" in seen[key].message and p.message != seen[key].message:
                seen[key] = Problem("must be a number, a list of numbers, a string or a boolean"
                                    if ".expected." in f".{p.field}." else p.message,
                                    file=p.file, line=p.line, field=p.field)
            continue
        seen[key] = p
    return list(seen.values())


def _check_referenced_files(manifest: Manifest, root: Path, lines: KeyLines, label: str) -> None:
    problems = []

    def need(relative: str, path: tuple, what: str, directory_ok: bool = False) -> None:
        target = root / relative
        if not (target.is_file() or (directory_ok and target.is_dir())):
            problems.append(Problem(f"{what} '{relative}' does not exist in the bundle"
                                    if not target.exists() else f"{what} '{relative}' is not a file",
                                    file=label, line=lines.line_of(path),
                                    field=".".join(_fmt(p) for p in path)))

    def need_requirements(relative: str, path: tuple) -> None:
        need(relative, path, "requirements file")
        target = root / relative
        if target.is_file():
            text = target.read_bytes().decode("utf-8", "replace")
            for number, message in requirement_problems(text):
                problems.append(Problem(message, file=f"{label.rsplit(MANIFEST_NAME, 1)[0]}{relative}",
                                        line=number))

    defaults_python = manifest.defaults.python
    if defaults_python and defaults_python.requirements:
        need_requirements(defaults_python.requirements, ("defaults", "python", "requirements"))
    for index, claim in enumerate(manifest.claim):
        if isinstance(claim, PythonClaim):
            need(claim.script, ("claim", index, "script"), "script")
            for j, item in enumerate(claim.inputs):
                need(item, ("claim", index, "inputs", j), "input", directory_ok=True)
            if claim.python and claim.python.requirements:
                need_requirements(claim.python.requirements, ("claim", index, "python", "requirements"))
        elif isinstance(claim, LeanClaim):
            need(claim.file, ("claim", index, "file"), "Lean file")
    if problems:
        raise InputError(problems)
