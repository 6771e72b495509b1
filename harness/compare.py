"""Compare what a script computed with what the paper reported.

Numbers are compared as the decimals they print as (``Decimal(repr(x))``),
not as binary floats: a value exactly at the edge of the tolerance (8.7 with
5% accepts 9.135) must pass, and ``9.135 - 8.7 > 0.05 * 8.7`` is true in
binary floating point.  ``rel`` is relative to the *expected* value, as the
SPEC says (not ``math.isclose``'s larger-of-the-two); with ``rel`` and
``abs`` a value passes if either holds.
"""

from __future__ import annotations

import math
from decimal import Context, Decimal, InvalidOperation, localcontext
from typing import Any

from pydantic import BaseModel

from harness.bundle.manifest import Tolerance


class Comparison(BaseModel):
    name: str
    expected: Any
    computed: Any = None
    reported: bool = True          # did the script report this name at all
    ok: bool
    detail: str                    # one phrase, e.g. "off by 9.2% (allowed 5.0%)"


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _decimal(x: int | float | str) -> Decimal:
    return Decimal(x) if isinstance(x, (int, str)) else Decimal(repr(x))


def _numeric_string(s: str) -> Decimal | None:
    try:
        d = Decimal(s.strip())
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def fmt(x: Any) -> str:
    """A number as a reader wants it in a one-line reason."""
    if isinstance(x, float):
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return f"{x:.6g}"
    if isinstance(x, list):
        return "[" + ", ".join(fmt(v) for v in x) + "]"
    if isinstance(x, str):
        return f'"{x}"'
    if isinstance(x, bool):
        return "true" if x else "false"
    return str(x)


def describe(tolerance: Tolerance) -> str:
    """'rel tolerance 5.0%', 'abs tolerance 0.01', 'rel 5.0% or abs 0.01', 'as reported'."""
    if tolerance.reported:
        return "as precise as reported"
    parts = []
    if tolerance.rel is not None:
        parts.append(f"rel {_percent(tolerance.rel)}")
    if tolerance.abs is not None:
        parts.append(f"abs {tolerance.abs:g}")
    if len(parts) == 1:
        kind, amount = parts[0].split(" ", 1)
        return f"{kind} tolerance {amount}"
    return "tolerance " + " or ".join(parts)


def _percent(rel: float) -> str:
    """0.05 -> '5.0%', 0.125 -> '12.5%', 1e-7 -> '1e-05%' (never '1e-05.0%')."""
    value = rel * 100
    if not math.isfinite(value):
        return f"{fmt(value)}%"
    text = f"{value:.4g}"
    return (text + ".0" if text.lstrip("-").isdigit() else text) + "%"


# Enough digits that no difference or product of the numbers we compare is rounded
# (the default context keeps 28 digits, which large integers exceed).
_EXACT = Context(prec=4000)


def compare(name: str, expected: Any, computed: Any, tolerance: Tolerance, *,
            present: bool = True) -> Comparison:
    """Compare one named value; never raises on odd input, it reports it."""
    def result(ok: bool, detail: str) -> Comparison:
        return Comparison(name=name, expected=expected, computed=computed if present else None,
                          reported=present, ok=ok, detail=detail)

    if not present:
        return result(False, f"the script did not report '{name}'")
    if isinstance(expected, bool):
        if not isinstance(computed, bool):
            return result(False, f"expected a boolean, got {_type(computed)}")
        return result(computed == expected, "equal" if computed == expected else "differs")
    if isinstance(expected, list):
        return _compare_list(name, expected, computed, tolerance, result)
    if isinstance(expected, str):
        number = _numeric_string(expected) if tolerance.reported else None
        if number is None:
            if not isinstance(computed, str):
                return result(False, f"expected a string, got {_type(computed)}")
            return result(computed == expected, "equal" if computed == expected else "differs")
        return result(*_number_ok(expected, computed, tolerance))
    return result(*_number_ok(expected, computed, tolerance))


def _compare_list(name, expected: list, computed: Any, tolerance: Tolerance, result) -> Comparison:
    if not isinstance(computed, list):
        return result(False, f"expected a list of {len(expected)} numbers, got {_type(computed)}")
    if len(computed) != len(expected):
        return result(False, f"expected {len(expected)} values, got {len(computed)}")
    for i, (e, c) in enumerate(zip(expected, computed)):
        ok, detail = _number_ok(e, c, tolerance)
        if not ok:
            return result(False, f"element {i}: {detail}")
    return result(True, f"all {len(expected)} elements within tolerance")


def _number_ok(expected: int | float | str, computed: Any, tolerance: Tolerance) -> tuple[bool, str]:
    with localcontext(_EXACT):
        return _number_ok_exact(expected, computed, tolerance)


def _number_ok_exact(expected: int | float | str, computed: Any,
                     tolerance: Tolerance) -> tuple[bool, str]:
    if isinstance(computed, str) and tolerance.reported and _numeric_string(computed) is not None:
        c = _numeric_string(computed)
    elif _is_number(computed):
        if isinstance(computed, float) and math.isnan(computed):
            return False, "computed NaN, which never matches"
        if isinstance(computed, float) and math.isinf(computed):
            same = _is_number(expected) and computed == expected
            return same, "equal" if same else f"computed {fmt(computed)}"
        c = _decimal(computed)
    else:
        return False, f"expected a number, got {_type(computed)}"
    if isinstance(expected, float) and math.isnan(expected):
        return False, "expected NaN, which never matches"
    if isinstance(expected, float) and math.isinf(expected):
        return False, f"expected {fmt(expected)}, computed a finite number"
    e = _decimal(expected)
    diff = abs(c - e)
    if tolerance.reported:
        half = Decimal(5).scaleb(e.as_tuple().exponent - 1)
        low, high = e - half, e + half
        ok = low <= c <= high
        return ok, f"{'within' if ok else 'outside'} [{low:f}, {high:f}]"
    allowed = []
    if tolerance.rel is not None:
        allowed.append(_decimal(tolerance.rel) * abs(e))
    if tolerance.abs is not None:
        allowed.append(_decimal(tolerance.abs))
    ok = any(diff <= a for a in allowed)
    if diff == 0:
        return ok, "exact"
    if tolerance.rel is not None and e != 0:
        off = f"off by {_percent(float(diff / abs(e)))}"
    else:
        off = f"off by {float(diff):g}"
    return ok, off


def _type(x: Any) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "a boolean"
    if _is_number(x):
        return "a number"
    if isinstance(x, str):
        return "a string"
    if isinstance(x, list):
        return "a list"
    if isinstance(x, dict):
        return "an object"
    return type(x).__name__
