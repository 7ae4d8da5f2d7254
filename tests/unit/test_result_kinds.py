"""A result of each kind is checked where it enters: what its kind needs, and nothing its kind has not."""

from __future__ import annotations

from typing import Any

import pytest

from customslab.domain.errors import ValidationFailed
from customslab.domain.model import Identification
from customslab.services.analysis import ResultCreate
from customslab.services.contract import parse
from customslab.services.result_entry import identified_substance

NOW_HITS = [{"name": "Cocaine", "score": 0.93}, {"name": "Lidocaine", "score": 0.71}]


def _fields(data: dict[str, Any]) -> set[str | None]:
    with pytest.raises(ValidationFailed) as refused:
        parse(ResultCreate, data)
    return {e.field for e in refused.value.errors}


@pytest.mark.parametrize(
    ("data", "stored"),
    [
        ({"kind": "detection", "text_value": "Not detected"}, "not_detected"),
        ({"kind": "detection", "text_value": "detected"}, "detected"),
        ({"kind": "screening", "text_value": "positive"}, "positive"),
        ({"kind": "text", "text_value": "woven fabric of cotton"}, "woven fabric of cotton"),
        ({"kind": "identity", "identification_id": "3"}, ""),
    ],
)
def test_each_qualitative_kind_takes_its_outcome(data: dict[str, Any], stored: str) -> None:
    assert parse(ResultCreate, data).text_value == stored


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"kind": "detection", "text_value": "positive"}, {"text_value"}),
        ({"kind": "screening"}, {"text_value"}),
        ({"kind": "text"}, {"text_value"}),
        ({"kind": "identity"}, {"identification_id"}),
        ({"kind": "detection", "text_value": "detected", "value": "3", "unit": "%"}, {"value", "unit"}),
        (
            {"kind": "screening", "text_value": "negative", "expanded_uncertainty": "1"},
            {"expanded_uncertainty"},
        ),
        ({"kind": "text", "text_value": "x", "identification_id": "2"}, {"identification_id"}),
        ({"kind": "text", "text_value": "x", "lod": "0.1", "unit": "mg/kg"}, {"lod", "unit"}),
        ({"kind": "identity", "identification_id": "2", "loq": "0.3"}, {"loq"}),
        ({"kind": "detection", "text_value": "detected", "unit": "mg/kg"}, {"unit"}),  # a unit of nothing
        ({"value": "40.1"}, {"unit"}),
        ({"unit": "%"}, {"value"}),
        ({"value": "1", "unit": "%", "text_value": "detected"}, {"text_value"}),
        ({"value": "1", "unit": "%", "expanded_uncertainty": "0.1"}, {"coverage_factor"}),
        ({"kind": "guess"}, {"kind"}),
    ],
)
def test_a_result_missing_what_its_kind_needs_is_refused_on_each_field(
    data: dict[str, Any], fields: set[str]
) -> None:
    assert _fields(data) == fields


@pytest.mark.parametrize("kind", ["detection", "screening"])
def test_a_detection_or_screening_outcome_keeps_its_limits_in_their_unit(kind: str) -> None:
    # "Not detected" means below the LOD: the outcome is read against its limits.
    outcome = "not_detected" if kind == "detection" else "negative"
    data = {"kind": kind, "text_value": outcome, "lod": "0.1", "loq": "0.3", "unit": "mg/kg"}
    cmd = parse(ResultCreate, data)
    assert (str(cmd.lod), str(cmd.loq), cmd.unit, cmd.value) == ("0.1", "0.3", "mg/kg", None)


def test_a_quantity_keeps_its_value_and_unit_and_a_typed_label_becomes_its_key() -> None:
    cmd = parse(ResultCreate, {"name": "Alcoholic strength", "value": "40,1", "unit": "%vol"})
    assert (cmd.kind, cmd.name, str(cmd.value), cmd.unit) == ("quantity", "alcohol_strength", "40.1", "%vol")


def test_the_unit_is_checked_against_the_measurand_typed_by_its_label() -> None:
    assert _fields({"name": "Alcoholic strength", "value": "40", "unit": "g/kg"}) == {"unit"}


def test_an_identity_names_the_best_hit_unless_another_hit_of_the_list_is_chosen() -> None:
    ident = Identification(1, "a" * 64, "EI-MS", "massbank", "2025.1", NOW_HITS, 1, None)
    assert identified_substance(ident, "") == "Cocaine"
    assert identified_substance(ident, "lidocaine") == "Lidocaine"
    with pytest.raises(ValidationFailed) as refused:
        identified_substance(ident, "Heroin")
    assert refused.value.field == "text_value"
    empty = Identification(1, "a" * 64, "EI-MS", "massbank", "2025.1", [], 1, None)
    with pytest.raises(ValidationFailed, match="no hit"):
        identified_substance(empty, "")
