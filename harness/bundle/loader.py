"""Read a bundle: stage it, parse and validate ``repro.toml``, hash it.

All problems are collected and raised together as one :class:`InputError`
whose entries name the file, the line and the key, so a user fixes a
manifest in one round trip instead of one error at a time.
"""

from __future__ import annotations

import ast
import datetime
import difflib
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.bundle.digest import FileEntry, bundle_digest
from harness.bundle.manifest import (Defaults, LeanClaim, LeanSettings, Manifest, NoneClaim, Paper,
                                     PythonClaim, PythonEnv, Tolerance, _relative_path)
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
    manifest = _validate(data, lines, label, root)
    digest, files = bundle_digest(root)
    return Bundle(source=str(source), root=root, manifest=manifest, manifest_data=data,
                  digest=digest, files=tuple(files))


def _label(source: Path) -> str:
    """How error messages name the manifest: `bundle/repro.toml` or `b.tgz:repro.toml`."""
    if source.is_dir():
        return str(source / MANIFEST_NAME)
    return f"{source}:{MANIFEST_NAME}"


# --- TOML ----------------------------------------------------------------------

def _parse_toml(path: Path, label: str) -> tuple[dict[str, Any], KeyLines]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError.single(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset "
                                f"{exc.start}); save the file as UTF-8",
                                file=label, line=line) from None
    text = text.removeprefix("\ufeff")     # a BOM some editors write: harmless, ignore it
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError([_toml_problem(exc, text, label)]) from None
    return data, KeyLines(text)


def _toml_problem(exc: tomllib.TOMLDecodeError, text: str, label: str) -> Problem:
    message = str(exc)
    line: int | None = None
    column: str | None = None
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
    if match:
        line, column = int(match.group(1)), match.group(2)
        message = message[:match.start()]
    elif message.endswith("(at end of document)"):
        # tomllib says "end of document" when the error is on the last line and the file has
        # no final newline; that is still a line the user can go to.
        line = text.count("\n") + 1
        message = message.removesuffix("(at end of document)").rstrip()
    field = None
    if message.startswith("Cannot overwrite a value"):
        duplicate = KeyLines(text).duplicate_assignment()
        if duplicate:
            path, first, second = duplicate
            return Problem(f"invalid TOML: key '{path[-1]}' is defined twice (first on line {first})",
                           file=label, line=second, field=_field(path))
    declared = re.match(r"Cannot (declare|mutate immutable namespace) (\(.*\))", message)
    if declared:
        try:
            keys = ast.literal_eval(declared.group(2))
            field = ".".join(str(k) for k in keys)
        except (ValueError, SyntaxError):
            pass
        if field and declared.group(1) == "declare":
            message = f"table [{field}] is defined twice"
        elif field:
            message = f"'{field}' is already defined and cannot be extended here"
    if column and not message.startswith(("table ", "'")):
        message += f" (column {column})"
    return Problem(f"invalid TOML: {message}", file=label, line=line, field=field)


# --- validation ------------------------------------------------------------------

def _validate(data: dict[str, Any], lines: KeyLines, label: str, root: Path) -> Manifest:
    problems = _duplicate_ids(data, lines, label)
    manifest = None
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        problems += _problems_from(exc, data, lines, label)
    # Files are checked from the raw data, so a missing script is reported together with
    # the schema errors of the same manifest rather than in a second round trip.
    problems += _file_problems(data, root, lines, label)
    if problems or manifest is None:
        problems.sort(key=lambda p: (p.file != label, p.file or "", p.line is None, p.line or 0))
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
                file=label, line=lines.line_of(("claim", index, "id")),
                field=_field(("claim", index, "id"))))
        else:
            first[cid] = index
    return problems


_KINDS = {"python": PythonClaim, "lean": LeanClaim, "none": NoneClaim}
_TABLES: dict[str, type[BaseModel]] = {"paper": Paper, "defaults": Defaults, "lean": LeanSettings,
                                       "tolerance": Tolerance, "python": PythonEnv}
_TYPE_NAMES = {
    "int_type": "an integer", "float_type": "a number", "string_type": "a string",
    "bool_type": "a boolean (true or false)", "list_type": "a list", "dict_type": "a table",
    "model_type": "a table", "model_attributes_type": "a table", "literal_error": None,
}


def _is_union_member(part: Any) -> bool:
    """Names pydantic inserts into `loc` for the members of a union."""
    return isinstance(part, str) and (
        part in ("bool", "int", "float", "str", "none", "python", "lean")
        or "[" in part or part.startswith(("constrained-", "function-")))


def _data_path(loc: tuple, data: Any) -> tuple[tuple[str | int, ...], str | None]:
    """Follow pydantic's `loc` through the data.

    Returns the part of the path that exists in the data and, when the error
    is about a key that is absent (missing field), that key's name.  Union
    member names that pydantic inserts into `loc` are skipped: for a claim
    that is its `kind` (so `claim/0/python/python/requirements` is the
    claim's `python` table, not the tag twice).
    """
    path: list[str | int] = []
    node = data
    tag_pending = False
    for i, part in enumerate(loc):
        if tag_pending and isinstance(node, dict) and part == node.get("kind"):
            tag_pending = False
            continue
        tag_pending = False
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
            tag_pending = len(path) == 2 and path[0] == "claim"
        elif _is_union_member(part):
            continue
        else:
            return tuple(path), str(part) if i == len(loc) - 1 else None
    return tuple(path), None


def _value_at(data: Any, path: tuple) -> Any:
    node = data
    for part in path:
        node = node[part]
    return node


def _problems_from(exc: ValidationError, data: dict, lines: KeyLines, label: str) -> list[Problem]:
    """One problem per key: a union's members each report the same bad value."""
    groups: dict[tuple, list[dict]] = {}
    for error in exc.errors(include_url=False):
        if error["type"] == "duplicate_claim_id":
            continue                       # reported by _duplicate_ids, with both lines
        path, absent = _data_path(tuple(error["loc"]), data)
        if error["type"] == "union_tag_not_found":
            absent = "kind"
        node = _value_at(data, path)
        if error["type"] == "union_tag_invalid" and isinstance(node, dict) and "kind" in node:
            path += ("kind",)
        key = (error.get("ctx") or {}).get("key")
        if isinstance(key, str) and isinstance(node, dict) and key in node:
            path += (key,)                 # a model-level rule about one key: point at it
        if len(path) > 4 and path[0] == "claim" and path[2] == "expected":
            path = path[:4]                # one message per expected value, not per element
        groups.setdefault((path, absent if error["type"] in ("missing", "union_tag_not_found")
                           else None), []).append(error)
    problems = []
    for (path, absent), errors in groups.items():
        full = path + ((absent,) if absent else ())
        line = lines.line_of(path)
        if line is None and len(path) == 0:
            line = 1                       # a missing top-level key belongs at the top
        problems.append(Problem(_message(errors, path, absent, data), file=label, line=line,
                                field=_field(full)))
    return problems


def _message(errors: list[dict], path: tuple, absent: str | None, data: dict) -> str:
    types = [e["type"] for e in errors]
    value = _value_at(data, path)
    if absent == "kind":
        return "missing required key 'kind' (one of \"python\", \"lean\", \"none\")"
    if absent:
        return f"missing required key '{absent}'"
    if "extra_forbidden" in types:
        return _unknown_key(path, data)
    if len(path) == 4 and path[0] == "claim" and path[2] == "expected" \
            and all(t in _TYPE_NAMES for t in types):
        return f"must be a number, a list of numbers, a string or a boolean ({_got_expected(value)})"
    if "union_tag_invalid" in types:
        return f"'kind' must be one of \"python\", \"lean\", \"none\" (got {_got(value)})"
    if path == ("schema",):
        return f"'schema' must be \"repro-bundle/1\" (got {_got(value)})"
    if path == ("claim",) and "too_short" in types:
        return "the bundle needs at least one [[claim]]"
    if len(path) == 3 and path[0] == "claim" and path[2] == "id" \
            and "string_pattern_mismatch" in types:
        if len(value) > 64:
            return f"claim id must be at most 64 characters (got {len(value)})"
        return f"claim id must be 1 to 64 of A-Z a-z 0-9 . _ - (got {_got(value)})"
    # A union (e.g. integer or float) reports one type error per member.  If any member
    # accepted the type but not the value (e.g. a negative number), that is the message.
    other = [e for e in errors if e["type"] not in _TYPE_NAMES]
    if other:
        message = _clean(other[0]["msg"])
        if other[0]["type"] in ("greater_than", "greater_than_equal", "less_than",
                                "less_than_equal"):
            if isinstance(value, float) and value != value:
                return "must be a number, not nan"
            message += f" (got {_got(value)})"
        return message
    names = [_TYPE_NAMES[t] for t in types if _TYPE_NAMES.get(t)]
    if "a number" in names and "an integer" in names:
        names.remove("an integer")
    names = list(dict.fromkeys(names))
    if names:
        return f"must be {' or '.join(names)} (got {_got(value)})"
    return _clean(errors[0]["msg"])


def _unknown_key(path: tuple, data: dict) -> str:
    key = str(path[-1])
    parent = path[:-1]
    kind = None
    if len(parent) == 2 and parent[0] == "claim":
        kind = _value_at(data, parent).get("kind")
        model = _KINDS.get(kind)
        others = {k for m in _KINDS.values() for k in _keys(m)}
        if model is not None and key in others:
            return f"unknown key '{key}' (not allowed in a claim of kind \"{kind}\")"
    elif not parent:
        model = Manifest
    else:
        name = next((p for p in reversed(parent) if isinstance(p, str)), "")
        model = _TABLES.get(name)
    candidates = _keys(model) if model is not None else []
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.75)
    return f"unknown key '{key}'" + (f" (did you mean '{close[0]}'?)" if close else "")


def _keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _got(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'the string "{shown}"'
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (datetime.date, datetime.time)):
        return "a date/time"
    return type(value).__name__


def _got_expected(value: Any) -> str:
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                return f"item {i} of the list is {_got(item)}"
    return f"got {_got(value)}"


def _field(path: tuple) -> str:
    """`claim[0].expected.gain` — array indexes in brackets, odd keys quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"'
            out += f".{name}" if out else name
    return out


def _clean(msg: str) -> str:
    msg = msg.removeprefix("Value error, ")
    msg = msg.replace("Input should be", "must be")
    return msg


# --- files the manifest names --------------------------------------------------------

def _referenced(data: dict) -> Iterator[tuple[tuple, Any, str]]:
    """(key path, value, what) for every file the manifest names."""
    def requirements(env: Any, path: tuple) -> Iterator[tuple[tuple, Any, str]]:
        if isinstance(env, dict) and "requirements" in env:
            yield path + ("requirements",), env["requirements"], "requirements file"

    defaults = data.get("defaults")
    if isinstance(defaults, dict):
        yield from requirements(defaults.get("python"), ("defaults", "python"))
    claims = data.get("claim")
    for index, claim in enumerate(claims if isinstance(claims, list) else []):
        if not isinstance(claim, dict):
            continue
        if claim.get("kind") == "python":
            if "script" in claim:
                yield ("claim", index, "script"), claim["script"], "script"
            inputs = claim.get("inputs")
            for j, item in enumerate(inputs if isinstance(inputs, list) else []):
                yield ("claim", index, "inputs", j), item, "input"
            yield from requirements(claim.get("python"), ("claim", index, "python"))
        elif claim.get("kind") == "lean" and "file" in claim:
            yield ("claim", index, "file"), claim["file"], "Lean file"


def _file_problems(data: dict, root: Path, lines: KeyLines, label: str) -> list[Problem]:
    problems = []
    checked_requirements = set()
    for path, relative, what in _referenced(data):
        if not isinstance(relative, str):
            continue                       # a type error, reported by validation
        try:
            _relative_path(relative)
        except ValueError:
            continue                       # reported by validation
        target = root / relative
        if target.is_file() or (what == "input" and target.is_dir()):
            if what == "requirements file" and relative not in checked_requirements:
                checked_requirements.add(relative)
                text = target.read_bytes().decode("utf-8", "replace")
                for number, message in requirement_problems(text):
                    problems.append(Problem(
                        message, file=f"{label.rsplit(MANIFEST_NAME, 1)[0]}{relative}",
                        line=number))
            continue
        message = (f"{what} '{relative}' does not exist in the bundle" if not target.exists()
                   else f"{what} '{relative}' is not a file")
        problems.append(Problem(message, file=label, line=lines.line_of(path), field=_field(path)))
    return problems
