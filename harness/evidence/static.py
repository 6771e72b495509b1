"""Static analysis of a Python claim: does each reported value come from the inputs?

Without running anything, :class:`~harness.evidence.interpreter.Interpreter`
traces what the script writes to ``result.json`` back to its sources; this
module looks up each expected name there and decides, per value:

* ``computed``          -- it depends on data the script reads (claims with inputs);
* ``formula``           -- computed by arithmetic from constants (claims without inputs);
* ``literal``           -- it is a constant written in the script: directly, through
  variables, through arithmetic on constants when the claim has inputs, or a
  literal that alone matches the expected value hidden in an expression
  (``393216 * 1``, ``8.7 + 0 * sum(xs)``, ``if off: g = 8.7``);
* ``reads-manifest``    -- it depends on ``repro.toml``, where the expected values are;
* ``undeclared-input``  -- a claim without inputs whose value comes from a file (or
  the environment): the data exist but were not declared, so they cannot be perturbed;
* ``undecided``         -- the analysis could not follow it (``exec``, a result
  written in a way it does not recognise); the artifact says why.

The analysis is a guard against the known ways of faking a result, not a
proof: the perturbation run is the second, independent check for claims with
inputs.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

from harness.bundle.manifest import Tolerance
from harness.compare import compare, fmt
from harness.evidence.interpreter import AnalysisTimeout, Interpreter
from harness.evidence.values import NOVALUE, Alt, Leaf, Val, const, flatten, join

Origin = Literal["computed", "formula", "literal", "reads-manifest", "undeclared-input",
                 "undecided"]
VOID_ORIGINS = {"literal", "reads-manifest", "undeclared-input"}


@dataclass(frozen=True)
class ValueFinding:
    name: str
    origin: Origin
    detail: str                 # a sentence: "the literal 8.7 in repro/mean_gain.py line 3"
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class StaticReport:
    values: dict[str, ValueFinding]
    notes: list[str] = field(default_factory=list)


def analyze_claim(plan) -> StaticReport:
    """The static report for one Python claim of a plan (see :mod:`harness.plan`)."""
    claim = plan.claim
    return analyze_script(plan.bundle_root, claim.script, claim.expected, claim.inputs,
                          plan.tolerance)


def analyze_script(bundle_root: Path, script: str, expected: Mapping[str, Any],
                   inputs: Sequence[str], tolerance: Tolerance) -> StaticReport:
    interp = Interpreter(bundle_root, script)
    try:
        interp.run()
    except (RecursionError, AnalysisTimeout) as exc:
        why = (str(exc) if isinstance(exc, AnalysisTimeout)
               else "the script is nested too deeply to analyse")
        return StaticReport(values={name: ValueFinding(name, "undecided", f"could not be traced: "
                                                       f"{why}") for name in expected},
                            notes=[why])
    reported = _reported(interp)
    values = {}
    for name, exp in expected.items():
        if script not in interp.modules:
            values[name] = ValueFinding(name, "undecided", "the script could not be analysed"
                                        + (f" ({interp.notes[0]})" if interp.notes else ""))
            continue
        values[name] = _decide(name, exp, reported, bool(inputs), tolerance)
    return StaticReport(values=values, notes=list(dict.fromkeys(interp.notes)))


def _reported(interp: Interpreter) -> Val | None:
    """Everything that may be written to result.json, or None if no write was found."""
    sinks = list(interp.sinks.values())
    if interp.stdout_to_result:
        sinks.append(interp.stdout)
    return join(*sinks) if sinks else None


# -- looking a name up in what was written -----------------------------------------------

_NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"


def lookup(written: Val, name: str, depth: int = 0) -> Val:
    """The value written under key `name`, in whatever shape it was written."""
    out: list[Val] = []
    for alt in written:
        if depth > 8:
            break
        if alt.kind == "json":
            out.append(lookup(alt.rest or frozenset(), name, depth + 1))
        elif alt.kind == "dict":
            fields = dict(alt.fields)
            if name in fields:
                out.append(fields[name])
            if alt.rest is not None:
                out.append(lookup_loose(alt.rest, name, depth))
        elif alt.kind == "text":
            out.append(_lookup_text(alt, name, depth))
        elif alt.kind == "const" and isinstance(alt.value, (str, bytes)):
            out.append(_lookup_const_text(alt, name))
        elif alt.kind in ("data", "manifest", "unknown"):
            out.append(frozenset([alt]))
    return join(*out)


def lookup_loose(v: Val, name: str, depth: int) -> Val:
    """Values under unknown keys: a structure is looked into, anything else may be it."""
    found = lookup(v, name, depth + 1)
    plain = frozenset(a for a in v if a.kind in ("const", "data", "manifest", "unknown")
                      and not (a.kind == "const" and isinstance(a.value, str)))
    return join(found, plain)


def _lookup_text(alt: Alt, name: str, depth: int) -> Val:
    template, holes = [], []
    for part in alt.parts:
        if isinstance(part, str):
            template.append(part)
            continue
        single = [a for a in part if a.kind == "const" and isinstance(a.value, str)]
        if len(single) == 1 and len(part) == 1:
            template.append(single[0].value)
        else:
            template.append(f"\0{len(holes)}\0")
            holes.append(part)
    text = "".join(template)
    out = []
    key = re.escape(json.dumps(name))
    for m in re.finditer(key + r"\s*:\s*(\0(\d+)\0|" + _NUMBER + r"|true|false|\"[^\"]*\")", text):
        if m.group(2) is not None:
            out.append(holes[int(m.group(2))])
        else:
            out.append(const(json.loads(m.group(1)), alt.file, alt.line, direct=True))
    for hole in holes:
        out.append(lookup(hole, name, depth + 1))
    return join(*out)


def _lookup_const_text(alt: Alt, name: str) -> Val:
    text = alt.value.decode("utf-8", "replace") if isinstance(alt.value, bytes) else alt.value
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return const(data[name], alt.file, alt.line, direct=True) if name in data else frozenset()
    m = re.search(re.escape(json.dumps(name)) + r"\s*:\s*(" + _NUMBER + r"|true|false)", text)
    if m:
        return const(json.loads(m.group(1)), alt.file, alt.line, direct=True)
    return frozenset()


# -- the decision ------------------------------------------------------------------------

def _decide(name: str, expected: Any, reported: Val | None, has_inputs: bool,
            tolerance: Tolerance) -> ValueFinding:
    if reported is None:
        return ValueFinding(name, "undecided", "could not be traced: no write to "
                            "$REPRO_OUT/result.json was found in the script")
    value = lookup(reported, name)
    if not value:
        return ValueFinding(name, "undecided", "could not be traced: the analysis did not find "
                            "where it is written to result.json")
    alts = flatten(value)
    by_kind: dict[str, list[Alt]] = {}
    for alt in sorted(alts, key=lambda a: (a.file, a.line, a.detail)):
        by_kind.setdefault(alt.kind, []).append(alt)
    consts, data = by_kind.get("const", []), by_kind.get("data", [])
    unknown, manifest = by_kind.get("unknown", []), by_kind.get("manifest", [])

    if manifest:
        m = manifest[0]
        return ValueFinding(name, "reads-manifest", "depends on repro.toml, where the expected "
                            f"values are (the script {m.detail}, {_where(m)})",
                            m.file, m.line)
    hidden = _matching_leaf(alts, expected, tolerance)
    if has_inputs:
        if not data and not unknown:
            return _literal(name, consts, hidden, "not from the inputs")
        if hidden is not None:
            return ValueFinding(name, "literal", f"is derived from the literal {fmt(hidden.value)} "
                                f"in {hidden.file} line {hidden.line}, which alone matches the "
                                f"expected {fmt(expected)}", hidden.file, hidden.line)
        match = _matching_const(consts, expected, tolerance)
        if match is not None:
            return ValueFinding(name, "literal", f"may be the literal {fmt(_plain(match.value))} "
                                f"written in {match.file} line {match.line}",
                                match.file, match.line)
        if unknown:
            return _undecided(name, unknown[0])
        d = next((x for x in data if x.detail.startswith("reads")), data[0])
        return ValueFinding(name, "computed", f"is computed from data the script reads "
                            f"({d.detail}, {_where(d)})", d.file, d.line)
    # no declared inputs
    if data:
        d = data[0]
        return ValueFinding(name, "undeclared-input", f"comes from data ({d.detail}, "
                            f"{_where(d)}) but the claim declares no inputs", d.file, d.line)
    if unknown:
        return _undecided(name, unknown[0])
    direct = [a for a in consts if a.direct]
    if direct or hidden is not None:
        return _literal(name, consts, hidden, "not computed")
    first = consts[0] if consts else None
    return ValueFinding(name, "formula", "is computed from constants"
                        + (f" ({_leaf_list(consts)})" if _leaf_list(consts) else ""),
                        first.file if first else None, first.line if first else None)


def _undecided(name: str, u: Alt) -> ValueFinding:
    return ValueFinding(name, "undecided", f"could not be traced: it depends on something the "
                        f"analysis cannot follow ({u.detail}, {_where(u)})", u.file, u.line)


def _literal(name: str, consts: list[Alt], hidden: Leaf | None, why: str) -> ValueFinding:
    direct = [a for a in consts if a.direct and a.value is not NOVALUE]
    if direct and len(consts) == 1:
        a = direct[0]
        return ValueFinding(name, "literal", f"is the literal {fmt(_plain(a.value))} in {a.file} "
                            f"line {a.line}", a.file, a.line)
    if hidden is not None and (why != "not from the inputs" or not _leaf_list(consts)):
        return ValueFinding(name, "literal", f"is derived from the literal {fmt(hidden.value)} in "
                            f"{hidden.file} line {hidden.line}, which alone matches the expected "
                            "value", hidden.file, hidden.line)
    leaves = _leaf_list(consts)
    a = (direct or consts)[0] if consts else None
    return ValueFinding(name, "literal", "is computed from constants only"
                        + (f" ({leaves})" if leaves else "") + f", {why}",
                        a.file if a else None, a.line if a else None)


def _leaf_list(consts: list[Alt]) -> str:
    leaves = sorted({leaf for a in consts for leaf in a.leaves},
                    key=lambda x: (x.file, x.line, repr(x.value)))
    if not leaves:
        return ""
    shown = ", ".join(fmt(x.value) for x in leaves[:6]) + (", ..." if len(leaves) > 6 else "")
    return f"{shown} in {leaves[0].file} line {leaves[0].line}"


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _where(alt: Alt) -> str:
    return f"{alt.file} line {alt.line}"


def distinctive(x: Any) -> bool:
    """A number that would not appear in an honest computation by coincidence.

    0, 1, 2, 0.5 and powers of ten are everywhere (initial values, percentages,
    halves); a literal equal to one of them and to the expected value proves
    nothing.  Anything else (8.7, 393216, 0.73) does.
    """
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return False
    a = abs(x)
    if a in (0, 0.5, 1, 2):
        return False
    exponent = math.log10(a)
    return not math.isclose(exponent, round(exponent), abs_tol=1e-12)


def _matches(value: Any, expected: Any, tolerance: Tolerance) -> bool:
    if isinstance(expected, list) or isinstance(value, (list, tuple)):
        return False
    return compare("x", expected, value, tolerance).ok


def _matching_leaf(alts, expected: Any, tolerance: Tolerance) -> Leaf | None:
    """A numeric literal the value is computed from that alone would pass the comparison."""
    if isinstance(expected, (bool, list)) or not isinstance(expected, (int, float, str)):
        return None
    def closeness(leaf: Leaf):
        try:
            return (abs(float(leaf.value) - float(expected)), leaf.file, leaf.line)
        except (TypeError, ValueError):
            return (math.inf, leaf.file, leaf.line)
    for leaf in sorted({x for a in alts for x in a.leaves}, key=closeness):
        if distinctive(leaf.value) and _matches(leaf.value, expected, tolerance):
            return leaf
    return None


def _matching_const(consts: list[Alt], expected: Any, tolerance: Tolerance) -> Alt | None:
    for alt in consts:
        if alt.value is NOVALUE or alt.value is None:
            continue
        v = _plain(alt.value)
        if isinstance(expected, list) and isinstance(v, list):
            if len(v) == len(expected) and compare("x", expected, v, tolerance).ok:
                return alt
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not distinctive(v):
            continue
        if isinstance(v, (str, bool)) or isinstance(v, (int, float)):
            if _matches(v, expected, tolerance):
                return alt
    return None
