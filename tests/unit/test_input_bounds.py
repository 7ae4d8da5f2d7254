"""Absurd values are refused where they enter, naming the field; sensible ones still pass.

Units are read with pint against what is measured, dates stay within the years of a laboratory,
HS codes are checked for their shape and chapter even without a nomenclature, and ids are whole
numbers in the database's range.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from customslab.domain.access import Actor
from customslab.domain.codes import DECLARED_HS_PATTERN, normalise_hs_code
from customslab.domain.enums import OrgKind, Role
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.domain.model import Organisation, User
from customslab.hs.quantities import COUNT_WORDS, QuantityError, check_result_unit, sample_unit
from customslab.services import analysis, cases
from customslab.services.analysis import ResultCreate, TestAssign, TestCreate
from customslab.services.cases import RequestCreate, SampleCreate, SampleReceipt
from customslab.services.contract import MAX_INT, Command, Day, Moment, parse
from customslab.services.demo_data import GOODS
from customslab.services.quality_control import AuthorisationCreate, QcBatchCreate, TrainingCreate
from customslab.services.quality_equipment import CalibrationCreate
from tests.unit.fakes import FakeRepository, FakeUnitOfWork

TODAY = date(2026, 11, 2)


def _refused(cls: type[Command], data: dict[str, Any], field: str) -> str:
    with pytest.raises(ValidationFailed) as caught:
        parse(cls, data)
    # A field inside a list is named by its path (points.0.QcPointInput.measured_at).
    assert (caught.value.field or "").split(".")[-1] == field, caught.value.message
    return caught.value.message


# -- a sample's quantity ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "unit",
    [
        *("g", "kg", "mg", "mL", "L", "l", "lb", "cm³", "gal", "t", "bottle", "Bottles", "pcs", "pieces"),
        *("KG", "G", "KGM", "LTR", "MLT", "H87", "PCE"),  # as declarations write them (UN/ECE Rec. 20)
    ],
)
def test_a_sample_is_counted_in_a_mass_a_volume_or_pieces(unit: str) -> None:
    assert parse(SampleCreate, {"quantity": "2", "unit": unit}).unit == unit


@pytest.mark.parametrize(
    "unit", ["furlongs", "parsecs^-7", "m", "%", "1", "kg/kg", "m**1e400", "kg)", "°C", "bananas", "2 kg"]
)
def test_a_sample_quantity_in_anything_else_is_refused_naming_the_unit(unit: str) -> None:
    message = _refused(SampleCreate, {"quantity": "2", "unit": unit}, "unit")
    assert f"'{unit}' is not a unit of mass, volume or count" in message


@pytest.mark.parametrize("unit", ["ML", "Ml", "km^3", "kilotonne"])
def test_a_unit_larger_than_a_tonne_or_a_cubic_metre_is_refused_for_a_sample(unit: str) -> None:
    message = _refused(SampleCreate, {"quantity": "2", "unit": unit}, "unit")
    assert "larger than any unit a sample is measured in" in message
    assert ("for millilitres write mL" in message) == (unit.lower() == "ml")


def test_the_count_words_are_lower_case_and_come_in_pairs_of_singular_and_plural() -> None:
    assert all(word == word.lower() for word in COUNT_WORDS)
    assert {"piece", "pieces", "bottle", "bottles", "unit", "units", "item", "items"} <= COUNT_WORDS


@pytest.mark.parametrize("bad", ["1e400", "-1e400", "Infinity"])
def test_an_absurd_quantity_is_refused_naming_the_quantity(bad: str) -> None:
    _refused(SampleCreate, {"quantity": bad, "unit": "g"}, "quantity")
    # A JSON number beyond a float's range arrives as infinity.
    _refused(SampleCreate, {"quantity": float(bad.replace("Infinity", "inf")), "unit": "g"}, "quantity")


# -- a result's unit ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("", "%"),
        ("", "% m/m"),
        ("", "mg/kg"),
        ("", "1"),
        ("", "g/L"),
        ("melting_point", "°C"),
        ("colour", "EBC"),
        ("acidity", "pH"),
        ("alcohol_strength", "%vol"),
        ("alcohol_strength", "% vol"),
        ("alcohol_strength", "%"),
        ("specific_gravity", "1"),
        ("polarisation", "°Z"),
        ("polarisation", "°"),
        ("element.Cr", "g/kg"),
        ("element.Cu", "%"),
        ("theobromine", "mg/kg"),
        ("calorific_value", "MJ/kg"),
        ("excess_pressure", "kPa"),
        ("erucic_acid", "% m/m"),
    ],
)
def test_a_result_unit_that_pint_or_the_laboratory_reads_is_accepted(name: str, unit: str) -> None:
    assert parse(ResultCreate, {"name": name, "value": "1", "unit": unit}).unit == unit


@pytest.mark.parametrize(
    ("name", "unit", "message"),
    [
        ("", "parsecs^-7", "not a unit"),
        ("", "bananas", "not a unit"),
        ("", "m**1e400", "not a unit"),
        ("", "kg)", "not a unit"),
        ("alcohol_strength", "g/kg", "not a unit of alcoholic strength"),
        ("alcohol_strength", "furlongs", "use %vol"),
        ("element.Cr", "%vol", "not a unit of Cr content"),
        ("specific_gravity", "kg", "use 1"),
        ("calorific_value", "%", "kcal/kg"),
    ],
)
def test_a_result_unit_that_is_not_one_or_not_of_the_quantity_is_refused(
    name: str, unit: str, message: str
) -> None:
    assert message in _refused(ResultCreate, {"name": name, "value": "1", "unit": unit}, "unit")


def test_every_unit_of_the_demonstration_results_is_accepted() -> None:
    for *_, name, unit, (low, _high), _u in GOODS:
        assert check_result_unit(unit, name) == unit, name
        parse(ResultCreate, {"name": name, "value": str(low), "unit": unit})


def test_the_unit_checks_say_why_in_words() -> None:
    with pytest.raises(QuantityError, match="mass, volume or count"):
        sample_unit("furlongs")
    with pytest.raises(QuantityError, match="laboratory scale"):
        check_result_unit("furlongz")


# -- dates ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"])
def test_dates_outside_the_years_of_a_laboratory_are_refused_naming_the_field(bad: str) -> None:
    message = _refused(RequestCreate, _request(due_date=bad), "due_date")
    assert message == "Due date must fall between the years 1900 and 2199."
    _refused(TrainingCreate, {"user_id": 1, "topic": "GC-MS", "completed_on": bad}, "completed_on")
    _refused(AuthorisationCreate, {"user_id": 1, "role": "analyst", "valid_until": bad}, "valid_until")
    calibration = {"result": "ok", "acceptance_criteria": "±1 %", "next_due": bad}
    _refused(CalibrationCreate, calibration, "next_due")
    points = [{"value": "1", "measured_at": f"{bad}T09:00:00+09:00"}]
    _refused(
        QcBatchCreate, {"material": "m", "target_mean": 1, "target_sd": 1, "points": points}, "measured_at"
    )


@pytest.mark.parametrize("good", ["1900-01-01", "2026-11-29", "2199-12-31"])
def test_dates_within_the_years_pass(good: str) -> None:
    assert parse(RequestCreate, _request(due_date=good)).due_date == date.fromisoformat(good)


def test_the_schema_of_a_date_and_a_moment_states_the_years() -> None:
    class Dated(Command):
        day: Day
        moment: Moment

    schema = Dated.model_json_schema()["properties"]
    day, moment = (re.compile(schema[field]["pattern"]) for field in ("day", "moment"))
    assert day.match("1900-01-01") and day.match("2199-12-31")
    assert moment.match("1900-01-01T00:00:00Z") and moment.match("2199-12-31T23:59:00.5+09:00")
    assert not day.match("9999-12-31") and not day.match("0001-01-01")
    assert not moment.match("9999-12-31T00:00:00Z") and not moment.match("1899-12-31T23:59:59Z")
    assert (schema["day"]["format"], schema["moment"]["format"]) == ("date", "date-time")


# -- due date, through the service (no nomenclature loaded) -----------------------------------------
@pytest.fixture
def uow() -> FakeUnitOfWork:
    repo = FakeRepository()
    repo.add(Organisation("OFF", "Office", OrgKind.CUSTOMS_OFFICE, "KR"))
    repo.add(Organisation("LAB", "Lab", OrgKind.LOCAL, "KR"))
    repo.add(User("officer", "officer", "OFF", frozenset({Role.REQUESTER})))
    repo.add(User("mgr", "mgr", "LAB", frozenset({Role.LAB_MANAGER})))
    repo.add(User("ana", "ana", "LAB", frozenset({Role.ANALYST})))
    return FakeUnitOfWork(repo, now=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


def _actor(uow: FakeUnitOfWork, name: str) -> Actor:
    user = uow.repo.user_by_name(name)
    assert user is not None and user.id is not None
    return Actor(user.id, user.username, user.org_code, user.roles)


def _request(**overrides: object) -> dict[str, object]:
    return {
        "lab_code": "LAB",
        "declaration_number": "D-1",
        "declared_hs": "2208.40",
        "goods_description": "rum",
        "origin_country": "JM",
    } | overrides


def _file(uow: FakeUnitOfWork, **overrides: object) -> Any:
    return cases.file_request(uow, _actor(uow, "officer"), parse(RequestCreate, _request(**overrides)))


def test_a_due_date_up_to_two_years_ahead_is_accepted(uow: FakeUnitOfWork) -> None:
    assert _file(uow, due_date="2028-11-02").due_date == date(2028, 11, 2)


@pytest.mark.parametrize("far", ["2028-11-03", "2199-12-31"])
def test_a_due_date_beyond_two_years_is_refused_naming_the_due_date(uow: FakeUnitOfWork, far: str) -> None:
    with pytest.raises(ValidationFailed, match="too far ahead: give a date by 2028-11-02") as caught:
        _file(uow, due_date=far)
    assert caught.value.field == "due_date"


def test_the_horizon_of_a_request_filed_on_29_february_ends_on_28_february(uow: FakeUnitOfWork) -> None:
    uow.now = datetime(2028, 2, 29, 9, 0, tzinfo=UTC)
    assert _file(uow, due_date="2030-02-28").due_date == date(2030, 2, 28)
    with pytest.raises(ValidationFailed, match="by 2030-02-28"):
        _file(uow, due_date="2030-03-01")


# -- HS codes -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("2208.40", "220840"),
        ("220840", "220840"),
        ("2208 40", "220840"),
        ("2208.40.10", "22084010"),
        ("2208 40 10", "22084010"),
        ("2208.40.100", "220840100"),
        ("2208.40.1000", "2208401000"),
        ("2208.40-1000", "2208401000"),
        ("2208.40.10.00", "2208401000"),
        ("2208 40 10 00", "2208401000"),
        ("0101.21", "010121"),
        ("9706.10", "970610"),
        (" 2208.40 ", "220840"),
    ],
)
def test_hs_codes_written_as_declarations_write_them_are_accepted(raw: str, digits: str) -> None:
    assert normalise_hs_code(raw) == digits
    assert re.match(DECLARED_HS_PATTERN, raw.strip())


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("99.99.99", "write the heading's 4 digits first"),
        ("22.08.40", "write the heading's 4 digits first"),
        ("2208..40", "write the heading's 4 digits first"),
        ("2208-40", "write the heading's 4 digits first"),
        ("2208401", "a national tariff line adds 2 to 4 digits"),
        ("999999", "HS chapter 99 does not exist"),
        ("98.01.10", "write the heading's 4 digits first"),
        ("980110", "HS chapter 98 does not exist"),
        ("770100", "HS chapter 77 does not exist"),
        ("000000", "HS chapter 00 does not exist"),
        ("２２０８４０", "6 to 10 digits"),
    ],
)
def test_hs_codes_of_no_shape_or_no_chapter_are_refused_without_a_nomenclature(
    raw: str, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=re.escape(message)) as caught:
        normalise_hs_code(raw)
    assert caught.value.field == "declared_hs"
    assert not re.match(DECLARED_HS_PATTERN, raw)


def test_a_request_for_hs_99_99_99_is_refused_while_no_nomenclature_is_loaded(uow: FakeUnitOfWork) -> None:
    assert uow.repo.heading_exists("22") is None
    for code in ("99.99.99", "999999"):
        with pytest.raises(ValidationFailed, match="HS") as caught:
            _file(uow, declared_hs=code)
        assert caught.value.field == "declared_hs"
        assert not isinstance(caught.value, NotFound)


def test_once_a_nomenclature_is_loaded_it_answers_for_chapters_and_headings(uow: FakeUnitOfWork) -> None:
    uow.repo.headings = {"22", "2208", "77"}
    assert _file(uow, declared_hs="2208.40").declared_hs == "220840"
    with pytest.raises(NotFound, match=r"heading 22\.99"):
        _file(uow, declared_hs="2299.00")
    with pytest.raises(NotFound, match="chapter 99"):
        _file(uow, declared_hs="999999")
    with pytest.raises(ValidationFailed, match="write the heading's 4 digits first") as caught:
        _file(uow, declared_hs="99.99.99")
    assert not isinstance(caught.value, NotFound)


# -- ids ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [["x"], "x", 0, -1, MAX_INT + 1, 1.5, True, {"id": 1}])
def test_ids_in_commands_are_whole_numbers_in_the_database_range(bad: object) -> None:
    _refused(ResultCreate, {"value": "1", "unit": "%", "equipment_id": bad}, "equipment_id")
    _refused(ResultCreate, {"value": "1", "unit": "%", "qc_batch_id": bad}, "qc_batch_id")
    qc = {"material": "m", "target_mean": 1, "target_sd": 1, "points": [1]}
    _refused(QcBatchCreate, qc | {"equipment_id": bad}, "equipment_id")
    _refused(QcBatchCreate, qc | {"method_version_id": bad}, "method_version_id")
    _refused(TestCreate, {"determination": "d", "analyst_id": bad}, "analyst_id")
    _refused(TestAssign, {"analyst_id": bad}, "analyst_id")
    _refused(TrainingCreate, {"user_id": bad, "topic": "t"}, "user_id")
    _refused(AuthorisationCreate, {"user_id": bad, "role": "analyst"}, "user_id")


def test_a_whole_number_id_given_as_text_is_read_as_the_number() -> None:
    assert parse(ResultCreate, {"observation": "clear", "equipment_id": "7"}).equipment_id == 7


# -- through the services --------------------------------------------------------------------------
def test_a_result_named_after_the_determination_takes_its_dimension(uow: FakeUnitOfWork) -> None:
    req = _file(uow)
    mgr = _actor(uow, "mgr")
    s = cases.register_sample(uow, mgr, req.id, SampleCreate(quantity=Decimal(1), unit="bottle"))
    cases.receive_sample(uow, mgr, s.id, SampleReceipt())
    t = analysis.add_test(uow, mgr, s.id, TestCreate(determination="alcohol_strength", method_ref="M"))
    with pytest.raises(ValidationFailed, match="not a unit of alcoholic strength") as caught:
        analysis.enter_result(uow, _actor(uow, "ana"), t.id, ResultCreate(value="40", unit="g/kg"))
    assert caught.value.field == "unit"
    kept = analysis.enter_result(uow, _actor(uow, "ana"), t.id, ResultCreate(value="40", unit="%vol"))
    assert (kept.name, kept.unit) == ("alcohol_strength", "%vol")
