"""The shared command types: validated once, with messages a person can act on."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customslab.domain.errors import ValidationFailed
from customslab.services.analysis import ResultCreate, TestAssign
from customslab.services.cases import CustodyCreate, RequestCreate, SampleCreate, SampleReceipt
from customslab.services.contract import MAX_INT, parse


def _request(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "lab_code": "KCS-CCL",
        "declaration_number": "12345-26-000001",
        "declared_hs": "2208.40",
        "goods_description": "Rum",
        "origin_country": "JM",
    }
    data.update(overrides)
    return data


def test_a_valid_form_becomes_a_typed_command_with_normalised_codes() -> None:
    cmd = parse(RequestCreate, _request(declared_value="1200,50", currency="USD"))
    assert cmd.origin_country == "JM"
    assert cmd.currency == "USD"
    assert cmd.declared_value == Decimal("1200.50")
    assert cmd.item_number == 1


def test_codes_are_taken_exactly_as_the_schema_lists_them() -> None:
    with pytest.raises(ValidationFailed, match="'jm' must be written in capitals, as JM"):
        parse(RequestCreate, _request(origin_country="jm"))


def test_json_types_are_not_coerced_from_numbers() -> None:
    with pytest.raises(ValidationFailed, match="Due date must be a date written YYYY-MM-DD"):
        parse(RequestCreate, _request(due_date=0))
    with pytest.raises(ValidationFailed, match="Seal intact must be true or false"):
        parse(SampleReceipt, {"seal_intact": 1})
    assert parse(SampleReceipt, {"seal_intact": "no"}).seal_intact is False


def test_empty_form_fields_take_the_commands_defaults() -> None:
    cmd = parse(RequestCreate, _request(importer="", priority="", due_date=""))
    assert cmd.importer == ""
    assert cmd.priority.value == "routine"
    assert cmd.due_date is None


def test_every_field_at_fault_is_named_in_one_plain_message() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(RequestCreate, _request(goods_description=" ", origin_country="ZZ", priority="soon"))
    message = caught.value.message
    assert "Goods description is required." in message
    assert "'ZZ' is not an ISO 3166 country code" in message
    assert "'soon' is not a valid priority; choose one of: routine, urgent" in message
    assert caught.value.field == "goods_description"


@pytest.mark.parametrize("bad", ["1e400", "NaN", "Infinity", "-1", "abc"])
def test_quantities_must_be_finite_positive_numbers(bad: str) -> None:
    with pytest.raises(ValidationFailed, match="Quantity") as caught:
        parse(SampleCreate, {"quantity": bad, "unit": "g"})
    assert caught.value.field == "quantity"


def test_a_nul_character_is_refused_in_text() -> None:
    with pytest.raises(ValidationFailed, match="NUL") as caught:
        parse(SampleCreate, {"quantity": "1", "unit": "g", "description": "bad\x00byte"})
    assert caught.value.field == "description"


def test_whole_numbers_beyond_the_database_range_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="at most"):
        parse(SampleCreate, {"quantity": "1", "unit": "g", "retention_days": MAX_INT + 1})
    with pytest.raises(ValidationFailed, match="at most 9999"):
        parse(RequestCreate, _request(item_number=2**63))


def test_unknown_fields_are_refused_rather_than_silently_dropped() -> None:
    with pytest.raises(ValidationFailed, match="'colour' is not a field here"):
        parse(SampleCreate, {"quantity": "1", "unit": "g", "colour": "red"})


def test_only_the_custody_events_recorded_by_hand_are_accepted() -> None:
    assert parse(CustodyCreate, {"kind": "transport", "from": "A", "to": "B"}).from_ == "A"
    with pytest.raises(ValidationFailed, match="Record one of: disposal, hand_over, storage_move, transport"):
        parse(CustodyCreate, {"kind": "receipt"})


def test_commands_are_immutable_once_validated() -> None:
    cmd = parse(SampleCreate, {"quantity": "2", "unit": "g"})
    with pytest.raises(ValueError, match="frozen"):
        cmd.unit = "kg"  # type: ignore[misc]


@pytest.mark.parametrize("bad", ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"])
def test_dates_are_bounded_to_the_years_1900_to_2199(bad: str) -> None:
    with pytest.raises(
        ValidationFailed, match="Due date must fall between the years 1900 and 2199"
    ) as caught:
        parse(RequestCreate, _request(due_date=bad))
    assert caught.value.field == "due_date"
    assert parse(RequestCreate, _request(due_date="2199-12-31")).due_date is not None


def test_an_id_given_as_true_is_refused_rather_than_read_as_1() -> None:
    with pytest.raises(ValidationFailed, match="Analyst id must be a whole number, not true or false"):
        parse(TestAssign, {"analyst_id": True})
    with pytest.raises(ValidationFailed, match="Analyst id must be at most") as caught:
        parse(TestAssign, {"analyst_id": MAX_INT + 1})
    assert caught.value.field == "analyst_id"
    assert parse(TestAssign, {"analyst_id": "12"}).analyst_id == 12


def test_a_sample_unit_is_a_mass_a_volume_or_a_count() -> None:
    assert parse(SampleCreate, {"quantity": "3", "unit": "bottles"}).unit == "bottles"
    with pytest.raises(ValidationFailed, match="'furlongs' is not a unit of mass, volume or count") as caught:
        parse(SampleCreate, {"quantity": "3", "unit": "furlongs"})
    assert caught.value.field == "unit"


def test_a_result_unit_must_be_a_unit_and_suit_the_named_quantity() -> None:
    assert parse(ResultCreate, {"name": "colour", "value": "3", "unit": "EBC"}).unit == "EBC"
    with pytest.raises(ValidationFailed, match="'%vol' is not a unit of Cr content") as caught:
        parse(ResultCreate, {"name": "element.Cr", "value": "3", "unit": "%vol"})
    assert caught.value.field == "unit"
    with pytest.raises(ValidationFailed, match="'parsecs\\^-7' is not a unit"):
        parse(ResultCreate, {"value": "3", "unit": "parsecs^-7"})
