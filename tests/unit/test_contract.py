"""The shared command types: validated once, with messages a person can act on."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customslab.domain.errors import ValidationFailed
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
