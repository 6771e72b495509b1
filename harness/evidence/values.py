"""The abstract values of the static analysis: where a value may come from.

A value (`Val`) is a set of alternatives (`Alt`): every way the analysis saw
it could be produced.  An alternative is one of

* ``const``    -- computed from constants only; ``value`` holds it when known;
* ``data``     -- depends on something read at run time (a file, the
  environment, a subprocess);
* ``manifest`` -- depends on ``repro.toml``, i.e. on the expected values;
* ``unknown``  -- the analysis could not follow it (``exec``, a name that is
  never bound, ...);

or a structure that keeps what is inside it apart: ``dict`` (known keys in
``fields``, the rest in ``rest``), ``seq`` (positional ``items`` or ``rest``),
``text`` (a string built from parts, e.g. an f-string of JSON written by
hand), ``json`` (the text of ``json.dumps(obj)``), and references the
interpreter resolves (``func``, ``cls``, ``instance``, ``module``, ``ref`` to
an outside name, ``handle`` for a file opened for writing, ``buffer``).

Every alternative carries ``leaves``: the numeric literals it was computed
from, with their place, so a reason can say "the literal 8.7 in
repro/mean_gain.py line 3" and a value that is a constant in disguise
(``393216 * 1``, ``8.7 + 0 * sum(xs)``) is still recognised.

Values only grow (joins), and `widen` caps their size, so the interpreter's
fixpoint terminates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

NOVALUE = object()          # a constant whose value the analysis did not compute
MAX_ALTS = 16
MAX_LEAVES = 12
MAX_COMBOS = 64

PROVENANCE = ("const", "data", "manifest", "unknown")
RANK = {"const": 0, "data": 1, "unknown": 2, "manifest": 3}


@dataclass(frozen=True)
class Leaf:
    value: float | int
    file: str
    line: int


@dataclass(frozen=True)
class Alt:
    kind: str
    value: Any = field(default=NOVALUE, compare=False)
    vkey: Any = None                       # hashable stand-in for value (for equality)
    direct: bool = False                   # a literal exactly as written
    leaves: frozenset = frozenset()
    file: str = ""
    line: int = 0
    detail: str = ""
    fields: tuple = ()                     # dict: ((key, Val), ...)
    items: tuple | None = None             # seq: (Val, ...) when the positions are known
    rest: frozenset | None = None          # dict/seq: values under unknown keys/positions
    parts: tuple = ()                      # text: (str | Val, ...)
    ref: Any = None                        # func/cls/instance/module/ref/handle: what it is


Val = frozenset   # of Alt

EMPTY: Val = frozenset()


def val(*alts: Alt) -> Val:
    return frozenset(alts)


def const(value: Any, file: str = "", line: int = 0, direct: bool = False,
          leaves: Iterable[Leaf] = ()) -> Val:
    leaves = frozenset(leaves)
    if direct and is_number(value) and not isinstance(value, bool):
        leaves = leaves | {Leaf(value, file, line)}
    elif direct and isinstance(value, str) and _numeric(value) is not None:
        leaves = leaves | {Leaf(_numeric(value), file, line)}
    return val(Alt("const", value=value, vkey=_key(value), direct=direct,
                   leaves=_cap_leaves(leaves), file=file, line=line))


def source(kind: str, detail: str, file: str, line: int, leaves: Iterable[Leaf] = ()) -> Val:
    return val(Alt(kind, detail=detail, file=file, line=line, leaves=_cap_leaves(frozenset(leaves))))


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _numeric(s: str) -> float | int | None:
    try:
        return int(s.strip())
    except ValueError:
        pass
    try:
        x = float(s.strip())
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _key(value: Any) -> Any:
    if value is NOVALUE:
        return ("?",)
    try:
        hash(value)
        return (type(value).__name__, value)
    except TypeError:
        return (type(value).__name__, repr(value)[:200])


def _cap_leaves(leaves: frozenset) -> frozenset:
    if len(leaves) <= MAX_LEAVES:
        return leaves
    return frozenset(sorted(leaves, key=lambda x: (x.file, x.line, repr(x.value)))[:MAX_LEAVES])


def join(*vals: Val) -> Val:
    out = frozenset().union(*vals)
    return widen(out) if len(out) > MAX_ALTS else out


def widen(v: Val) -> Val:
    """Merge alternatives of the same provenance so a value stays small."""
    groups: dict[str, list[Alt]] = {}
    keep = []
    for alt in v:
        if alt.kind in PROVENANCE:
            groups.setdefault(alt.kind, []).append(alt)
        else:
            keep.append(alt)
    merged = []
    for kind, alts in groups.items():
        if len(alts) == 1:
            merged.append(alts[0])
            continue
        alts.sort(key=lambda a: (a.file, a.line, a.detail))
        first = alts[0]
        # a const that may be several values: keep the direct literals apart, they name the cheat
        if kind == "const":
            direct = [a for a in alts if a.direct][:MAX_ALTS // 2]
            merged.extend(direct)
            alts = [a for a in alts if not a.direct] or alts
            first = alts[0]
        merged.append(Alt(kind, detail=first.detail, file=first.file, line=first.line,
                          leaves=_cap_leaves(frozenset().union(*(a.leaves for a in alts)))))
    if len(keep) > MAX_ALTS // 2:
        flat = flatten(frozenset(keep))
        keep = list(widen(flat)) if len(flat) > MAX_ALTS else list(flat)
    return frozenset(merged + keep)


def flatten(v: Val, depth: int = 0) -> Val:
    """Only the provenance alternatives of a value, looking inside structures."""
    out = set()
    for alt in v:
        if alt.kind in PROVENANCE:
            out.add(alt)
        elif depth > 6:
            out.add(Alt("unknown", detail="a deeply nested structure", file=alt.file, line=alt.line))
        else:
            for inner in inner_vals(alt):
                out |= flatten(inner, depth + 1)
            if alt.kind == "ref" and alt.detail == "external":
                out.add(Alt("unknown", detail=f"{alt.ref} comes from outside the bundle",
                            file=alt.file, line=alt.line))
            elif alt.kind in ("func", "cls", "module", "ref", "handle", "buffer", "instance"):
                out.add(Alt("const", file=alt.file, line=alt.line))
    return frozenset(out)


def inner_vals(alt: Alt) -> list[Val]:
    inner = [v for _, v in alt.fields] + list(alt.items or ()) + [p for p in alt.parts
                                                                  if not isinstance(p, str)]
    if alt.rest is not None:
        inner.append(alt.rest)
    return inner


def combine(fn: Callable[..., Any] | None, vals: list[Val], file: str, line: int,
            detail: str = "") -> Val:
    """The value of an operation on `vals`: its provenance is the strongest of its operands'
    (manifest > unknown > data > const); constants are computed by `fn` when it is given.
    An operand with no value yet (not bound, a missing attribute) gives no value: nothing
    is known of the result, which must not pass for a constant."""
    if any(not v for v in vals):
        return EMPTY
    flats = [flatten(v) or const(NOVALUE, file, line) for v in vals]
    total = 1
    for f in flats:
        total *= len(f)
    if total > MAX_COMBOS:
        flats = [widen(f) if len(f) > 1 else f for f in flats]
        flats = [f if len(f) <= 2 else frozenset([_summary(f)]) for f in flats]
    out = set()
    for combo in _product(flats):
        leaves = _cap_leaves(frozenset().union(*(a.leaves for a in combo)))
        strongest = max(combo, key=lambda a: RANK[a.kind], default=None)
        if strongest is not None and strongest.kind != "const":
            out.add(Alt(strongest.kind, detail=strongest.detail, file=strongest.file,
                        line=strongest.line, leaves=leaves))
            continue
        value = NOVALUE
        if fn is not None and all(a.value is not NOVALUE for a in combo):
            value = safe_eval(fn, [a.value for a in combo])
        out.add(Alt("const", value=value, vkey=_key(value), leaves=leaves, file=file, line=line,
                    detail=detail))
    return join(frozenset(out))


def _summary(f: Val) -> Alt:
    strongest = max(f, key=lambda a: RANK[a.kind])
    return replace(strongest, leaves=_cap_leaves(frozenset().union(*(a.leaves for a in f))),
                   value=NOVALUE if strongest.kind == "const" else strongest.value,
                   vkey=_key(NOVALUE) if strongest.kind == "const" else strongest.vkey)


def _product(lists: list[Val]):
    if not lists:
        yield ()
        return
    head, *tail = lists
    for alt in head:
        for rest in _product(tail):
            yield (alt,) + rest


def _too_big(x: Any) -> bool:
    if isinstance(x, int) and not isinstance(x, bool):
        return abs(x) > 10 ** 30
    if isinstance(x, (str, bytes)):
        return len(x) > 100_000
    if isinstance(x, (tuple, list, set, frozenset, dict)):
        return len(x) > 10_000
    return False


def safe_eval(fn: Callable[..., Any], args: list[Any]) -> Any:
    """Compute a constant, or NOVALUE if it fails or could be huge (``10 ** 10 ** 9``)."""
    if any(_too_big(a) for a in args) or _costly(fn, args):
        return NOVALUE
    try:
        result = fn(*args)
    except Exception:   # noqa: BLE001 - any failure means "not computed"
        return NOVALUE
    if isinstance(result, (map, filter, zip, range, enumerate, reversed)):
        try:
            result = tuple(_take(result, 10_001))
        except Exception:   # noqa: BLE001
            return NOVALUE
    if isinstance(result, list):
        result = tuple(result)
    return NOVALUE if _too_big(result) else result


_BIG_RESULTS = {"pow", "_power", "lshift", "factorial", "comb", "perm"}


def _costly(fn: Callable[..., Any], args: list[Any]) -> bool:
    """Would computing this take a long time or a lot of memory?  The analysis runs on the
    host: ``10 ** 10 ** 9``, ``1 << 10 ** 9``, ``"x" * 10 ** 10`` must not be computed."""
    ints = [abs(a) for a in args if isinstance(a, int) and not isinstance(a, bool)]
    if not ints:
        return False
    if getattr(fn, "__name__", "") in _BIG_RESULTS and max(ints) > 4096:
        return True
    sized = any(isinstance(a, (str, bytes, tuple, list)) for a in args)
    return sized and max(ints) > 100_000


def _take(it, n):
    for i, x in enumerate(it):
        if i >= n:
            raise ValueError("too long")
        yield x


def _power(a, b):  # noqa: used by the interpreter for **
    return a ** b


def with_kind(v: Val, kind: str, detail: str, file: str, line: int) -> Val:
    """Promote constant alternatives to `kind` (a value chosen by a condition on data)."""
    out = set()
    for alt in v:
        if alt.kind == "const":
            out.add(Alt(kind, detail=detail, file=file, line=line, leaves=alt.leaves))
        else:
            out.add(alt)
    return frozenset(out)


def dict_alt(fields: dict[str, Val], rest: Val | None, file: str, line: int) -> Alt:
    return Alt("dict", fields=tuple(sorted(fields.items(), key=lambda kv: kv[0])), rest=rest,
               file=file, line=line)


def seq_alt(items: list[Val] | None, rest: Val | None, file: str, line: int) -> Alt:
    return Alt("seq", items=tuple(items) if items is not None else None, rest=rest,
               file=file, line=line)


def const_structure(value: Any, file: str, line: int, direct: bool = True) -> Val:
    """A constant Python structure (from ``json.loads('...')``) as a value whose parts are
    literals written in the script."""
    if isinstance(value, dict):
        return val(dict_alt({str(k): const_structure(v, file, line, direct) for k, v in value.items()},
                            None, file, line))
    if isinstance(value, list):
        return const(tuple(value), file, line, direct=False,
                     leaves=[Leaf(x, file, line) for x in value if is_number(x)][:MAX_LEAVES])
    return const(value, file, line, direct=direct)
