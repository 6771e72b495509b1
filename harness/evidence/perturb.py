"""Perturbed copies of a bundle's inputs: a value that survives them is void evidence.

SPEC 3: a repro that cannot fail proves nothing.  The harness runs a claim's
script a second time on a copy of the bundle whose declared inputs are changed
here; a reported value that does not move at all was not computed from them.
"scale" multiplies every number by a random factor well away from 1;
"resample", the stronger second attempt, draws every number anew from the range
of its file, which flips orderings, argmaxes and thresholds that scaling keeps.
Both modes shuffle records.  Every file has its own RNG seeded from
(seed, mode, path), so a run replays byte for byte and adding an input does not
change how the others are perturbed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

MODES = ("scale", "resample")
_VERB = {"scale": "scaled", "resample": "resampled"}


@dataclass(frozen=True)
class FileChange:
    path: str      # bundle-relative POSIX path of the perturbed file
    action: str    # one line a reader understands


@dataclass(frozen=True)
class Perturbation:
    seed: int
    mode: str                          # one of MODES
    changes: tuple[FileChange, ...]    # one per perturbed file, sorted by path


# --- numbers -------------------------------------------------------------

_CORE = r"(?:[0-9]+\.[0-9]+|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?"
_SHAPE = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]+))?(?:([eE])([+-]?)([0-9]+))?")
_CELL = re.compile(rf"(\s*)([+-]?{_CORE})(\s*%?\s*)")
# In free text a number must not touch an identifier ("task1", "v2", "gpt-4",
# "en_US") or be part of a version or address ("1.2.3"): those are names.
_TEXT_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.])(?<![A-Za-z_]-)"
    rf"(?:(?<![A-Za-z0-9_)\]])-)?{_CORE}"
    r"(?![A-Za-z0-9_]|\.[0-9])")


def _unit(m: re.Match[str], value: Decimal) -> Decimal:
    """One unit of the last printed digit: the smallest change a reader sees."""
    _, _, frac, e, esign, edigits = m.groups()
    decimals = len(frac or "")
    if not e:
        return Decimal(1).scaleb(-decimals)
    exp = value.adjusted() if value else int(esign + edigits)
    return Decimal(1).scaleb(exp - decimals)


def _render(m: re.Match[str], new: Decimal) -> str:
    """Print `new` the way the original token was printed (int, decimals, exponent, '+')."""
    sign, whole, frac, e, esign, edigits = m.groups()
    if frac is None and not e:
        q = new.quantize(Decimal(1), ROUND_HALF_EVEN)
        body = str(abs(int(q)))
        if whole.startswith("0"):
            body = body.zfill(len(whole))
    elif not e:
        q = new.quantize(Decimal(1).scaleb(-len(frac)), ROUND_HALF_EVEN)
        body = f"{abs(q):f}"
        if not whole:
            body = body.removeprefix("0")                   # ".5" stays ".7"
    else:
        step = Decimal(1).scaleb(-len(frac or ""))
        exp = new.adjusted() if new else 0
        mant = new.scaleb(-exp).quantize(step, ROUND_HALF_EVEN)
        if abs(mant) >= 10:                                  # 9.96 -> 10.0: renormalise
            exp += 1
            mant = new.scaleb(-exp).quantize(step, ROUND_HALF_EVEN)
        q = mant.scaleb(exp)
        exp_sign = "-" if exp < 0 else ("+" if esign == "+" else "")
        body = f"{abs(mant):f}{e}{exp_sign}{str(abs(exp)).zfill(len(edigits))}"
    return ("-" if q < 0 else "+" if sign == "+" else "") + body


class _Numbers:
    """Rewrites the numbers of one file, with the file's RNG and (for resample) its range."""

    def __init__(self, rng: random.Random, mode: str, tokens: Sequence[str]) -> None:
        self.rng, self.mode, self.count = rng, mode, 0
        self._group_factors: dict[object, float] = {}
        values = [Decimal(t) for t in tokens] or [Decimal(0)]
        lo, hi = min(values), max(values)
        if lo == hi:
            lo, hi = lo - abs(lo) - 1, hi + abs(hi) + 1
        self.lo, self.hi = lo, hi

    def _factor(self) -> float:
        r = self.rng
        return r.uniform(0.55, 0.85) if r.random() < 0.5 else r.uniform(1.2, 1.6)

    def _draw(self, m: re.Match[str], value: Decimal, unit: Decimal, group: object) -> Decimal:
        if self.mode == "scale":
            if not value:                                    # 0 * k is 0: pick a small value
                return unit * self.rng.randint(1, 5) * (-1 if m.group(1) == "-" else 1)
            if group is None:
                factor = self._factor()
            else:
                # One factor per column (or JSON key), with a little noise per value:
                # independent factors average out in a mean or a sum (their mean is
                # ~1.05), a common one moves it by 15% or more; the noise still
                # changes ratios and orderings within the column.
                if group not in self._group_factors:
                    self._group_factors[group] = self._factor()
                factor = self._group_factors[group] * self.rng.uniform(0.9, 1.1)
            return value * Decimal(repr(factor))
        if m.group(3) is None and not m.group(4):           # an integer stays an integer
            a = int(self.lo.to_integral_value(ROUND_CEILING))
            b = int(self.hi.to_integral_value(ROUND_FLOOR))
            return Decimal(self.rng.randint(min(a, b), max(a, b)))
        return Decimal(repr(self.rng.uniform(float(self.lo), float(self.hi))))

    def __call__(self, token: str, group: object = None) -> str:
        """The replacement for one number token; it always differs as printed.  Numbers of
        one `group` (a column) share their scale factor."""
        m = _SHAPE.fullmatch(token)
        assert m is not None, token
        with localcontext() as ctx:
            ctx.prec = 200
            value = Decimal(token)
            unit = _unit(m, value)
            for _ in range(1 if self.mode == "scale" else 5):
                new = self._draw(m, value, unit, group)
                out = _render(m, new)
                if Decimal(out) != value:
                    break
            scale = self.mode == "scale"
            if Decimal(out) == value or (scale and value and not Decimal(out)):
                # Rounding ate the change: move one printed unit the way it went,
                # and in scale mode never onto zero (the sign must survive).
                step = unit if new > value else -unit if new < value else self.rng.choice((unit, -unit))
                if scale and not value + step:
                    step = unit.copy_sign(value)
                out = _render(m, value + step)
        self.count += 1
        return out


def _shuffled(rng: random.Random, items: list) -> tuple[list, bool]:
    """A seeded permutation that really moves something unless all items are equal."""
    out = list(items)
    rng.shuffle(out)
    if out == items and any(x != items[0] for x in items):
        out = out[1:] + out[:1]          # rotating a list that is not constant changes it
    return out, out != items


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _describe(kind: str, mode: str, count: int, note: str = "", moved: str = "") -> str:
    """The one-line FileChange action: what was done, counted."""
    if not count and not moved:
        return f"{kind}: no numbers to change; left as is"
    head = f"{_plural(count, 'number')} {_VERB[mode]}" if count else "no numbers"
    return f"{kind}: " + "; ".join(p for p in (head + note, moved) if p)


# --- formats -------------------------------------------------------------

def _perturb_table(text: str, rng: random.Random, mode: str, delimiter: str, kind: str) -> tuple[str, str]:
    """CSV/TSV: numeric cells change, text cells and the header stay, data rows are shuffled."""
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = rows[:1] if rows and not all(_CELL.fullmatch(c) for c in rows[0]) else []
    body = rows[len(header):]
    numbers = _Numbers(rng, mode, [m.group(2) for row in body for c in row if (m := _CELL.fullmatch(c))])

    def cell(text: str, column: int) -> str:
        m = _CELL.fullmatch(text)
        return m.group(1) + numbers(m.group(2), column) + m.group(3) if m else text

    kept = sum(1 for row in body for c in row if c.strip() and not _CELL.fullmatch(c))
    new_rows = [[cell(c, i) for i, c in enumerate(row)] for row in body]
    data, moved = _shuffled(rng, [r for r in new_rows if r])
    terminator = "\r\n" if "\r\n" in text else "\n"
    lines = [line for line in text.splitlines() if line]
    quote_all = bool(lines) and all(line.startswith('"') for line in lines)
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator=terminator,
               quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
               ).writerows(header + data + [r for r in new_rows if not r])
    out = buf.getvalue()
    if not text.endswith(("\n", "\r")):
        out = out.removesuffix(terminator)
    note = f", {_plural(kept, 'text cell')} kept" if kept else ""
    return out, _describe(kind, mode, numbers.count, note, f"{len(data)} data rows shuffled" * moved)


class _JsonRewriter:
    """Walks parsed JSON: numbers change (never keys, never booleans), record lists are shuffled."""

    def __init__(self, rng: random.Random, mode: str, docs: list) -> None:
        tokens: list[str] = []
        self._collect(docs, tokens)
        self.rng, self.numbers, self.lists_shuffled = rng, _Numbers(rng, mode, tokens), 0

    @staticmethod
    def _token(node: object) -> str | None:
        if isinstance(node, bool):               # bool is an int subclass: True is not 1 here
            return None
        if isinstance(node, int):
            return str(node)
        if isinstance(node, float) and math.isfinite(node):
            return repr(node)
        return None

    def _collect(self, node: object, tokens: list[str]) -> None:
        if (token := self._token(node)) is not None:
            tokens.append(token)
        for child in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
            self._collect(child, tokens)

    def walk(self, node: object, key: str | None = None) -> object:
        """`key`: the dict key the node is under; the numbers of one key are one column."""
        if (token := self._token(node)) is not None:
            new = self.numbers(token, key)
            return int(new) if isinstance(node, int) else float(new)
        if isinstance(node, dict):
            return {k: self.walk(value, k) for k, value in node.items()}
        if not isinstance(node, list):
            return node
        items = [self.walk(child, key) for child in node]
        if len(items) >= 2 and any(all(isinstance(x, t) for x in items) for t in (dict, list)):
            items, moved = _shuffled(self.rng, items)
            self.lists_shuffled += moved
        return items


def _perturb_json(text: str, doc: object, rng: random.Random, mode: str) -> tuple[str, str]:
    """A JSON document, written back indented if it was."""
    rewriter = _JsonRewriter(rng, mode, [doc])
    out = json.dumps(rewriter.walk(doc), indent=2 if "\n" in text.strip() else None, ensure_ascii=False)
    moved = f"{_plural(rewriter.lists_shuffled, 'record list')} shuffled" * bool(rewriter.lists_shuffled)
    return out + "\n" * text.endswith("\n"), _describe("json", mode, rewriter.numbers.count, "", moved)


def _perturb_jsonl(text: str, docs: list, rng: random.Random, mode: str) -> tuple[str, str]:
    """JSON Lines: every line as JSON, then the lines are shuffled (blank lines dropped)."""
    rewriter = _JsonRewriter(rng, mode, docs)
    lines, moved = _shuffled(rng, [json.dumps(rewriter.walk(d), ensure_ascii=False) for d in docs])
    terminator = "\r\n" if "\r\n" in text else "\n"
    out = terminator.join(lines) + terminator * text.endswith("\n")
    return out, _describe("jsonl", mode, rewriter.numbers.count, "", f"{len(lines)} lines shuffled" * moved)


def _perturb_text(text: str, rng: random.Random, mode: str) -> tuple[str, str]:
    """Any other text: free-standing numbers change; lines keep their order (they may be code)."""
    numbers = _Numbers(rng, mode, _TEXT_NUMBER.findall(text))
    out = _TEXT_NUMBER.sub(lambda m: numbers(m.group()), text)
    return out, _describe("text", mode, numbers.count)


def _perturb_file(data: bytes, rel: str, seed: int, mode: str) -> tuple[bytes | None, str]:
    """New content for one input (None: remove it) and the action that says what changed."""
    key = f"{seed}:{mode}:{rel}"
    rng = random.Random(key)
    try:
        text = data.decode("utf-8") if b"\0" not in data else None
    except UnicodeDecodeError:
        text = None
    if text is None:
        if mode == "resample":
            return None, "binary: removed"
        return rng.randbytes(len(data)), f"binary: {len(data)} bytes replaced with seeded random bytes"
    suffix = Path(rel).suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".tab"):
            kind = "csv" if suffix == ".csv" else "tsv"
            out, action = _perturb_table(text, rng, mode, "," if kind == "csv" else "\t", kind)
        elif suffix == ".json":
            out, action = _perturb_json(text, json.loads(text), rng, mode)
        elif suffix in (".jsonl", ".ndjson"):
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
            out, action = _perturb_jsonl(text, docs, rng, mode)
        else:
            out, action = _perturb_text(text, rng, mode)
    except (csv.Error, json.JSONDecodeError):       # not what its name says: plain text
        out, action = _perturb_text(text, random.Random(key), mode)
    return out.encode("utf-8"), action


# --- the bundle copy -----------------------------------------------------

def _input_files(root: Path, inputs: Sequence[str]) -> set[str]:
    """Bundle-relative POSIX paths of every regular file the declared inputs name."""
    files: set[str] = set()
    for name in inputs:
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise ValueError(f"input {name!r} leaves the bundle")
        if path == root:
            raise ValueError(f"input {name!r} is the whole bundle, not an input of it")
        if path.is_file():
            files.add(path.relative_to(root).as_posix())
        elif path.is_dir():
            for dirpath, _, filenames in os.walk(path):
                for f in filenames:
                    p = Path(dirpath, f)
                    if p.is_file() and not p.is_symlink():
                        files.add(p.relative_to(root).as_posix())
        else:
            raise ValueError(f"input {name!r} does not exist in the bundle {root}")
    return files


def _file_mode(src: Path) -> int:
    """World-readable, so the unprivileged sandbox uid can read it; executable stays executable."""
    return 0o755 if src.stat().st_mode & 0o111 else 0o644


def _link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link a non-input, unless its mode is not the one it needs: a link shares
    the inode, so chmod-ing it would change the original too; then copy it."""
    mode = _file_mode(src)
    if (src.stat().st_mode & 0o777) == mode:
        try:
            os.link(src, dst)
            return
        except OSError:                  # cross-device, protected_hardlinks, ...
            pass
    shutil.copy2(src, dst)
    os.chmod(dst, mode)


def _copy_tree(root: Path, dest: Path, targets: set[str], seed: int, mode: str) -> list[FileChange]:
    changes = []
    for dirpath, dirnames, filenames in os.walk(root):
        src_dir = Path(dirpath)
        rel_dir = src_dir.relative_to(root)
        for name in list(dirnames):
            src, dst = src_dir / name, dest / rel_dir / name
            if src.is_symlink():                              # copied as the link it is
                os.symlink(os.readlink(src), dst)
                dirnames.remove(name)
            else:
                dst.mkdir()
                os.chmod(dst, 0o755)
        for name in filenames:
            src, dst, rel = src_dir / name, dest / rel_dir / name, (rel_dir / name).as_posix()
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
            elif rel in targets:
                data, action = _perturb_file(src.read_bytes(), rel, seed, mode)
                if data is not None:
                    with open(dst, "xb") as f:                # a new file, never through a link
                        f.write(data)
                    os.chmod(dst, _file_mode(src))
                changes.append(FileChange(rel, action))
            elif src.is_file():                               # FIFOs, sockets: skipped
                _link_or_copy(src, dst)
    return changes


def perturb_bundle(bundle_root: Path, inputs: Sequence[str], dest: Path, seed: int,
                   mode: str) -> Perturbation:
    """Make `dest` (must not exist) a copy of the bundle at `bundle_root` in which every declared input
    (bundle-relative path of a file, or of a directory: then every file under it) is perturbed."""
    if mode not in MODES:
        raise ValueError(f"unknown perturbation mode {mode!r}; expected one of: {', '.join(MODES)}")
    root = Path(bundle_root).resolve()
    if isinstance(inputs, str):
        raise TypeError("inputs must be a sequence of paths, not one string")
    if not root.is_dir():
        raise ValueError(f"bundle root {bundle_root} is not a directory")
    targets = _input_files(root, inputs)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.mkdir()                                              # FileExistsError if it exists
    try:
        os.chmod(dest, 0o755)
        changes = _copy_tree(root, dest, targets, seed, mode)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return Perturbation(seed, mode, tuple(sorted(changes, key=lambda c: c.path)))
