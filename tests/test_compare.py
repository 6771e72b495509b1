"""`compare`: one expected value against what the script reported (SPEC 2.1).

The tests read like the reasons a user sees: exactly-at-the-edge values pass,
a hair beyond fails, NaN never matches, and every mismatch says why.
"""

from __future__ import annotations

import pytest

from harness.bundle.manifest import Tolerance
from harness.compare import Comparison, compare, describe, fmt

REL5 = Tolerance(rel=0.05)
ABS = Tolerance(abs=0.1)
BOTH = Tolerance(rel=0.05, abs=0.5)
REPORTED = Tolerance(reported=True)
NAN = float("nan")
INF = float("inf")


def ok(expected, computed, tolerance=REL5) -> bool:
    result = compare("gain", expected, computed, tolerance)
    assert isinstance(result, Comparison)
    assert result.name == "gain" and result.expected == expected
    return result.ok


def detail(expected, computed, tolerance=REL5) -> str:
    result = compare("gain", expected, computed, tolerance)
    assert not result.ok
    return result.detail


# --- rel and abs ------------------------------------------------------------------

@pytest.mark.parametrize("computed", [8.7, 9.135, 8.265, 9.0, 8.5, 8.7000001])
def test_rel_accepts_up_to_and_including_the_edge(computed):
    assert ok(8.7, computed)


@pytest.mark.parametrize("computed", [9.1351, 8.2649, 9.5, 0.0, -8.7])
def test_rel_rejects_beyond_the_edge(computed):
    assert not ok(8.7, computed)


def test_rel_detail_says_how_far_off():
    assert detail(8.7, 9.1351) == "off by 5.001%"
    assert compare("gain", 8.7, 9.135, REL5).detail == "off by 5.0%"
    assert compare("gain", 8.7, 8.7, REL5).detail == "exact"


def test_rel_is_relative_to_the_expected_value():
    # 100 vs 95.2: |diff| = 4.8 <= 5% of 100 (math.isclose's max() would also say yes);
    # 100 vs 105.2: |diff| = 5.2 > 5% of 100, although it is < 5% of 105.2.
    assert ok(100, 95.2)
    assert not ok(100, 105.2)


@pytest.mark.parametrize("computed, accepted", [(8.8, True), (8.6, True), (8.81, False),
                                                (8.59, False)])
def test_abs_edges(computed, accepted):
    assert ok(8.7, computed, ABS) is accepted


def test_rel_or_abs_either_holds():
    # 9.2 is off by 5.7% (rel fails) but by 0.5 (abs holds)
    assert ok(8.7, 9.2, BOTH)
    # 104 is off by 4% (rel holds) but by 4 (abs fails)
    assert ok(100, 104, BOTH)
    # both fail
    assert not ok(8.7, 9.3, BOTH)


def test_integers_and_floats_mix():
    assert ok(10, 10.4)
    assert ok(10.0, 10)
    assert not ok(10, 11)


def test_large_integers_are_compared_exactly():
    # Beyond 28 significant digits the default decimal context would round the
    # allowed difference up to the computed one.
    expected = 3 * 10**29 + 60
    assert not ok(expected, expected + 3 * 10**28 + 8, Tolerance(rel=0.1))
    assert ok(expected, expected + 3 * 10**28 + 6, Tolerance(rel=0.1))
    assert ok(2**70, 2**70 + 1)


def test_huge_integer_from_json_does_not_crash():
    assert not ok(8.7, 10**400)
    assert "off by" in detail(8.7, 10**400)


# --- zero and negative expected values ------------------------------------------------

def test_zero_expected_with_rel_only_accepts_zero():
    assert ok(0, 0)
    assert ok(0, 0.0)
    assert ok(0.0, -0.0)
    assert not ok(0, 1e-300)
    assert not ok(0.0, -1e-12)


def test_zero_expected_with_abs():
    assert ok(0, 0.05, ABS)
    assert ok(0.0, -0.1, ABS)
    assert not ok(0, 0.1000001, ABS)
    assert ok(0, 0.3, BOTH)


@pytest.mark.parametrize("computed, accepted", [(-9.135, True), (-8.265, True),
                                                (-9.1351, False), (9.135, False),
                                                (8.7, False)])
def test_negative_expected(computed, accepted):
    assert ok(-8.7, computed) is accepted


# --- reported = true ----------------------------------------------------------------------

@pytest.mark.parametrize("computed", [8.65, 8.75, 8.7, 8.70000001, 8.6500000001])
def test_reported_accepts_what_rounds_to_the_printed_value(computed):
    assert ok(8.7, computed, REPORTED)


@pytest.mark.parametrize("computed", [8.7500001, 8.6499999, 8.8, 8.6])
def test_reported_rejects_what_rounds_otherwise(computed):
    assert not ok(8.7, computed, REPORTED)


def test_reported_detail_shows_the_interval():
    assert compare("gain", 8.7, 8.71, REPORTED).detail == "within [8.65, 8.75]"
    assert detail(8.7, 8.7500001, REPORTED) == "outside [8.65, 8.75]"


@pytest.mark.parametrize("computed, accepted", [(393216.4, True), (393215.5, True),
                                                (393216.5, True), (393216, True),
                                                (393216.6, False), (393215.4, False)])
def test_reported_integer(computed, accepted):
    assert ok(393216, computed, REPORTED) is accepted


@pytest.mark.parametrize("computed, accepted", [(8.695, True), (8.705, True), (8.7, True),
                                                (8.7051, False), (8.6949, False),
                                                (8.74, False)])
def test_reported_numeric_string_keeps_printed_digits(computed, accepted):
    assert ok("8.70", computed, REPORTED) is accepted


@pytest.mark.parametrize("computed, accepted", [("8.70", True), ("8.7", True), ("8.704", True),
                                                (" 8.701 ", True), ("8.71", False),
                                                ("8.6", False)])
def test_reported_numeric_string_against_a_computed_numeric_string(computed, accepted):
    assert ok("8.70", computed, REPORTED) is accepted


def test_reported_numeric_string_with_a_non_numeric_computed_string():
    assert "expected a number, got a string" == detail("8.70", "eight point seven", REPORTED)


def test_reported_non_numeric_string_is_compared_exactly():
    assert ok("CIFAR-10", "CIFAR-10", REPORTED)
    assert not ok("CIFAR-10", "CIFAR-100", REPORTED)


def test_reported_intervals_in_plain_notation():
    assert compare("x", "1e3", 1400, REPORTED).detail == "within [500, 1500]"
    assert ok(0.0015, 0.00155, REPORTED)
    assert not ok(0.0015, 0.0016, REPORTED)


def test_numeric_string_without_reported_is_an_exact_string():
    assert ok("8.70", "8.70")
    assert not ok("8.70", "8.7")
    assert detail("8.70", 8.7) == "expected a string, got a number"


# --- lists --------------------------------------------------------------------------------

def test_list_element_wise():
    assert ok([1.0, 2.0, 3.0], [1.04, 1.95, 3.0])
    result = compare("curve", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], REL5)
    assert result.ok and "3" in result.detail


def test_list_bad_element_names_its_index():
    message = detail([1.0, 2.0, 3.0], [1.0, 2.5, 3.0])
    assert message.startswith("element 1:")
    assert "25.0%" in message


def test_list_length_mismatch():
    assert detail([1.0, 2.0], [1.0]) == "expected 2 values, got 1"
    assert detail([1.0], [1.0, 2.0]) == "expected 1 values, got 2"
    assert not ok([1.0], [])


def test_list_against_a_non_list():
    assert "got a number" in detail([1.0, 2.0], 1.0)
    assert "got a string" in detail([1.0], "1.0")


def test_list_elements_of_the_wrong_type():
    assert detail([1.0, 2.0], [1.0, "2.0"]) == "element 1: expected a number, got a string"
    assert detail([1.0], [True]) == "element 0: expected a number, got a boolean"
    assert detail([1.0], [None]) == "element 0: expected a number, got null"
    assert "NaN" in detail([1.0], [NAN])


def test_list_with_reported_tolerance():
    assert ok([8.7, 393216], [8.74, 393216.2], REPORTED)
    assert detail([8.7, 393216], [8.74, 393216.6], REPORTED).startswith("element 1:")


# --- strings and booleans -------------------------------------------------------------------

def test_strings_exactly():
    assert ok("resnet50", "resnet50")
    assert detail("resnet50", "ResNet50") == "differs"
    assert detail("resnet50", "resnet50 ") == "differs"


def test_booleans_exactly():
    assert ok(True, True)
    assert ok(False, False)
    assert detail(True, False) == "differs"


@pytest.mark.parametrize("expected, computed, words", [
    (True, 1, "expected a boolean, got a number"),
    (False, 0, "expected a boolean, got a number"),
    (True, "true", "expected a boolean, got a string"),
    (1, True, "expected a number, got a boolean"),
    (0.0, False, "expected a number, got a boolean"),
])
def test_booleans_and_numbers_do_not_mix(expected, computed, words):
    assert detail(expected, computed) == words


# --- NaN and infinities -------------------------------------------------------------------

@pytest.mark.parametrize("tolerance", [REL5, ABS, BOTH, REPORTED, Tolerance(rel=1e9)])
def test_nan_never_matches(tolerance):
    assert "NaN" in detail(8.7, NAN, tolerance)
    assert "NaN" in detail(NAN, NAN, tolerance)
    assert "NaN" in detail(NAN, 8.7, tolerance)
    assert not ok([1.0, NAN], [1.0, NAN], tolerance)


def test_infinities_match_only_themselves():
    assert ok(INF, INF)
    assert ok(-INF, -INF)
    assert ok(INF, INF, REPORTED)
    assert not ok(INF, -INF)
    assert not ok(-INF, INF)
    assert not ok(INF, 1e308)
    assert not ok(1e308, INF)
    assert not ok(INF, 1e308, Tolerance(rel=1e9))
    assert not ok(8.7, INF, Tolerance(abs=1e308))
    assert "inf" in detail(INF, -INF)


# --- missing values and wrong types ---------------------------------------------------------

def test_missing_value_is_a_mismatch_that_names_it():
    result = compare("gain", 8.7, None, REL5, present=False)
    assert not result.ok
    assert result.reported is False and result.computed is None
    assert "'gain'" in result.detail and "did not report" in result.detail


def test_missing_value_even_for_strings_and_lists():
    for expected in ("x", True, [1.0]):
        result = compare("acc", expected, None, REL5, present=False)
        assert not result.ok and "'acc'" in result.detail


@pytest.mark.parametrize("computed, kind", [("8.7", "a string"), ({"value": 8.7}, "an object"),
                                            (None, "null"), ([8.7], "a list"),
                                            (True, "a boolean")])
def test_wrong_type_names_the_type(computed, kind):
    result = compare("gain", 8.7, computed, REL5)
    assert not result.ok
    assert result.reported is True
    assert result.detail == f"expected a number, got {kind}"


def test_wrong_type_for_a_string():
    assert detail("resnet50", 50) == "expected a string, got a number"
    assert detail("resnet50", None) == "expected a string, got null"


def test_compare_never_raises_on_odd_input():
    for computed in (object(), b"8.7", 1 + 2j, {"a": [1]}, [[1.0]], 10**400, -(10**400)):
        for expected in (8.7, "8.70", [1.0], True, "x", 0, INF):
            for tolerance in (REL5, ABS, BOTH, REPORTED):
                assert isinstance(compare("v", expected, computed, tolerance).ok, bool)


# --- describe() and fmt() ---------------------------------------------------------------------

@pytest.mark.parametrize("tolerance, text", [
    (Tolerance(rel=0.05), "rel tolerance 5.0%"),
    (Tolerance(rel=0.1), "rel tolerance 10.0%"),
    (Tolerance(rel=0.125), "rel tolerance 12.5%"),
    (Tolerance(rel=0.001), "rel tolerance 0.1%"),
    (Tolerance(rel=1), "rel tolerance 100.0%"),
    (Tolerance(rel=0), "rel tolerance 0.0%"),
    (Tolerance(abs=0.01), "abs tolerance 0.01"),
    (Tolerance(abs=2), "abs tolerance 2"),
    (Tolerance(rel=0.05, abs=0.01), "tolerance rel 5.0% or abs 0.01"),
    (Tolerance(reported=True), "as precise as reported"),
])
def test_describe(tolerance, text):
    assert describe(tolerance) == text


def test_describe_tiny_rel_is_readable():
    text = describe(Tolerance(rel=1e-7))
    assert text == "rel tolerance 1e-05%"
    assert ".0%" not in text


def test_fmt():
    assert fmt(8.71) == "8.71"
    assert fmt(1 / 3) == "0.333333"
    assert fmt(393216) == "393216"
    assert fmt(NAN) == "NaN"
    assert fmt(INF) == "inf" and fmt(-INF) == "-inf"
    assert fmt(True) == "true"
    assert fmt("x") == '"x"'
    assert fmt([1.5, 2]) == "[1.5, 2]"
