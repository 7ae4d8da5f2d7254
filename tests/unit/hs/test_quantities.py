"""Reading results: NAME=VALUE[UNIT][±U], unit conversion with pint, refusal of wrong input."""

from __future__ import annotations

import pytest

from customslab.hs.decision import DecisionRule, Tri, compare, parse_decision_rule
from customslab.hs.quantities import QuantityError, make_measurement, parse_result


@pytest.mark.parametrize(
    ("text", "name", "value", "unit", "uncertainty"),
    [
        ("alcohol_strength=85%vol", "alcohol_strength", 85.0, "%vol", None),
        ("alcohol_strength=80.2%vol±0.4", "alcohol_strength", 80.2, "%vol", 0.4),
        ("alcohol_strength=80.2±0.4%vol", "alcohol_strength", 80.2, "%vol", 0.4),
        ("alcohol_strength=40 % vol +/- 0.2", "alcohol_strength", 40.0, "%vol", 0.2),
        ("specific_gravity=0.952", "specific_gravity", 0.952, "", None),
        ("element.Cr=12%", "element.Cr", 12.0, "%", None),
        ("element.Cr=120g/kg", "element.Cr", 12.0, "%", None),
        ("element.B=8ppm", "element.B", 0.0008, "%", None),
        ("theobromine=2500mg/kg±100", "theobromine", 0.25, "%", 0.01),
        ("calorific_value=24.4MJ/kg", "calorific_value", 5827.839878, "kcal/kg", None),
        ("calorific_value=5833kcal/kg", "calorific_value", 5833.0, "kcal/kg", None),
        ("excess_pressure=350kPa", "excess_pressure", 3.5, "bar", None),
        ("polarisation=98.5°Z", "polarisation", 98.5, "°Z", None),
        ("polarisation=98.5", "polarisation", 98.5, "°Z", None),
        ("monomer.vinyl_chloride=60%", "monomer.vinyl_chloride", 60.0, "%", None),
        ("erucic_acid=1.5 % m/m", "erucic_acid", 1.5, "%", None),
    ],
)
def test_results_are_read_and_converted_to_the_default_unit(
    text: str, name: str, value: float, unit: str, uncertainty: float | None
) -> None:
    m = parse_result(text)
    assert (m.name, m.unit, m.expanded_uncertainty) == (name, unit, uncertainty)
    assert m.value == pytest.approx(value, rel=1e-9)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("alcohol_strength=85g/kg", "not accepted"),
        ("element.Cr=12%vol", "not accepted"),
        ("calorific_value=24.4%", "not accepted"),
        ("element.Cr=12", "give a unit"),
        ("element.Xx=1%", "not a chemical element"),
        ("colour=3", "unknown quantity"),
        ("alcohol_strength=120%vol", "exceeds"),
        ("alcohol_strength=85,5%vol", "dot"),
        ("alcohol_strength", "NAME=VALUE"),
        ("alcohol_strength=80%vol±0.4g/kg", "same unit"),
    ],
)
def test_bad_results_are_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(QuantityError, match=message):
        parse_result(text)


def test_a_stored_result_becomes_a_measurement_in_the_default_unit() -> None:
    m = make_measurement("element.Cu", 998.5, "g/kg", 0.5)
    assert (m.value, m.unit, m.expanded_uncertainty) == (99.85, "%", 0.05)


def test_a_negative_content_is_refused() -> None:
    with pytest.raises(QuantityError, match="negative"):
        make_measurement("element.Cu", -1.0, "%")


@pytest.mark.parametrize(
    ("value", "u", "op", "limit", "rule", "expected"),
    [
        (80.0, None, ">=", 80.0, DecisionRule.GUARDED, Tri.TRUE),
        (80.0, 0.4, ">=", 80.0, DecisionRule.GUARDED, Tri.UNDECIDED),
        (80.4, 0.4, ">=", 80.0, DecisionRule.GUARDED, Tri.TRUE),
        (79.6, 0.4, ">=", 80.0, DecisionRule.GUARDED, Tri.UNDECIDED),
        (79.5, 0.4, ">=", 80.0, DecisionRule.GUARDED, Tri.FALSE),
        (80.0, 0.4, ">=", 80.0, DecisionRule.SIMPLE, Tri.TRUE),
        (14.0, None, ">", 14.0, DecisionRule.GUARDED, Tri.FALSE),
        (14.0, 0.1, "<=", 14.0, DecisionRule.GUARDED, Tri.UNDECIDED),
    ],
)
def test_the_decision_rule_applies_the_guard_band(
    value: float, u: float | None, op: str, limit: float, rule: DecisionRule, expected: Tri
) -> None:
    assert compare(value, u, op, limit, rule) is expected


def test_an_unknown_decision_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="simple, guarded"):
        parse_decision_rule("lenient")
