"""Each quality refusal says, in words, what is wrong and what to do."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from customslab.domain.quality.competence import (
    Authorisation,
    AuthorisedRole,
    assert_analyst_authorised,
    assert_reviewer_authorised,
)
from customslab.domain.quality.equipment import (
    CalibrationEvent,
    CalibrationKind,
    Equipment,
    EquipmentStatus,
    assert_usable,
    due_list,
)
from customslab.domain.quality.errors import (
    AnalystNotAuthorised,
    EquipmentNotUsable,
    MethodNotValidated,
    MethodTransitionError,
    ReviewerNotAuthorised,
)
from customslab.domain.quality.methods import (
    MethodStatus,
    MethodVersion,
    Technique,
    ValidationData,
    assert_usable_for_test,
    supersede,
    validate_method,
    withdraw_method,
)

VALIDATION = ValidationData(
    repeatability_sr=0.05, uncertainty_model="top-down from sR", expanded_uncertainty_relative=0.04
)
TODAY = date(2025, 3, 10)


def a_method(version: str = "1", validation: ValidationData | None = VALIDATION) -> MethodVersion:
    return MethodVersion(
        "CCL-M-012", "Alcoholic strength by densimetry", version, Technique.DENSITY, validation=validation
    )


def test_a_draft_method_cannot_be_used_for_a_test() -> None:
    with pytest.raises(MethodNotValidated, match=r"CCL-M-012 v1 .* still a draft and has not been validated"):
        assert_usable_for_test(a_method())


def test_a_validated_method_can_be_used_and_a_withdrawn_one_cannot() -> None:
    validated = validate_method(a_method(), "Dr. Park", datetime(2025, 1, 2, 9, 0))
    assert validated.status is MethodStatus.VALIDATED and validated.approved_by == "Dr. Park"
    assert_usable_for_test(validated)
    with pytest.raises(MethodNotValidated, match="has been withdrawn"):
        assert_usable_for_test(withdraw_method(validated))


def test_a_method_without_validation_data_cannot_be_validated() -> None:
    with pytest.raises(MethodTransitionError, match="record precision"):
        validate_method(a_method(validation=None), "Dr. Park", datetime(2025, 1, 2))


def test_a_method_cannot_be_validated_without_an_approver() -> None:
    with pytest.raises(MethodTransitionError, match="without an approver"):
        validate_method(a_method(), "  ", datetime(2025, 1, 2))


def test_a_new_version_supersedes_the_old_one_which_is_then_refused() -> None:
    v1 = validate_method(a_method("1"), "Dr. Park", datetime(2025, 1, 2))
    v2 = validate_method(a_method("2"), "Dr. Park", datetime(2025, 2, 2))
    old, new = supersede(v1, v2)
    assert old.status is MethodStatus.WITHDRAWN
    assert_usable_for_test(new)
    with pytest.raises(MethodNotValidated, match="superseded by version 2"):
        assert_usable_for_test(old)


GC = Equipment("EQ-GCMS-03", "GC-MS Agilent 8890/5977B", status=EquipmentStatus.IN_SERVICE)


def calibration(performed: date, due: date, passed: bool = True) -> CalibrationEvent:
    return CalibrationEvent(
        GC.equipment_id, CalibrationKind.CALIBRATION, performed, "mass axis ±0.1 u", "±0.2 u", passed, due
    )


def test_an_instrument_in_calibration_can_be_used() -> None:
    assert_usable(GC, [calibration(date(2025, 1, 5), date(2025, 7, 5))], TODAY)


def test_an_overdue_instrument_is_refused_naming_the_instrument_and_the_date() -> None:
    with pytest.raises(EquipmentNotUsable) as refused:
        assert_usable(GC, [calibration(date(2024, 1, 5), date(2025, 1, 5))], TODAY)
    assert str(refused.value) == (
        "Instrument GC-MS Agilent 8890/5977B (EQ-GCMS-03): calibration overdue since 2025-01-05; "
        "it cannot be used until it is recalibrated."
    )


def test_an_out_of_service_instrument_is_refused() -> None:
    broken = Equipment("EQ-FTIR-01", "FTIR Nicolet iS50", status=EquipmentStatus.OUT_OF_SERVICE)
    with pytest.raises(EquipmentNotUsable, match=r"FTIR Nicolet iS50 \(EQ-FTIR-01\) is out of service"):
        assert_usable(broken, [], TODAY)


def test_a_never_calibrated_instrument_is_refused() -> None:
    with pytest.raises(EquipmentNotUsable, match="has never been calibrated or verified"):
        assert_usable(GC, [], TODAY)


def test_an_instrument_whose_last_calibration_failed_is_refused() -> None:
    history = [
        calibration(date(2024, 6, 1), date(2025, 6, 1)),
        calibration(date(2025, 3, 1), date(2026, 3, 1), False),
    ]
    with pytest.raises(EquipmentNotUsable, match="failed its last calibration on 2025-03-01"):
        assert_usable(GC, history, TODAY)


def test_the_due_list_shows_overdue_and_soon_due_instruments_most_urgent_first() -> None:
    soon = Equipment("EQ-HPLC-02", "HPLC")
    later = Equipment("EQ-XRF-01", "XRF")

    def checked(eq: Equipment, kind: CalibrationKind, performed: date, due: date) -> CalibrationEvent:
        return CalibrationEvent(eq.equipment_id, kind, performed, "ok", "", True, due)

    items = due_list(
        [
            (soon, [checked(soon, CalibrationKind.VERIFICATION, date(2024, 4, 1), date(2025, 3, 30))]),
            (GC, [calibration(date(2024, 1, 5), date(2025, 1, 5))]),
            (later, [checked(later, CalibrationKind.CALIBRATION, date(2025, 1, 1), date(2026, 1, 1))]),
        ],
        TODAY,
    )
    assert [(i.equipment.equipment_id, i.overdue, i.days_left) for i in items] == [
        ("EQ-GCMS-03", True, -64),
        ("EQ-HPLC-02", False, 20),
    ]


ANALYST = Authorisation("u-17", "CCL-M-012", AuthorisedRole.ANALYST, "lab manager", date(2024, 1, 1))


def test_an_authorised_analyst_may_enter_results() -> None:
    assert_analyst_authorised("u-17", "CCL-M-012", [ANALYST], TODAY)


def test_an_analyst_without_authorisation_for_the_method_is_refused() -> None:
    with pytest.raises(AnalystNotAuthorised) as refused:
        assert_analyst_authorised("u-17", "CCL-M-031", [ANALYST], TODAY)
    assert str(refused.value) == (
        "User u-17 is not authorised as analyst for method CCL-M-031 on 2025-03-10: "
        "no analyst authorisation has been granted for this method."
    )


def test_an_expired_or_revoked_authorisation_is_refused_with_the_reason() -> None:
    expired = Authorisation(
        "u-17", "CCL-M-012", AuthorisedRole.ANALYST, "lm", date(2023, 1, 1), date(2024, 12, 31)
    )
    with pytest.raises(AnalystNotAuthorised, match="expired on 2024-12-31"):
        assert_analyst_authorised("u-17", "CCL-M-012", [expired], TODAY)
    revoked = Authorisation("u-17", "CCL-M-012", AuthorisedRole.ANALYST, "lm", date(2023, 1, 1), revoked=True)
    with pytest.raises(AnalystNotAuthorised, match="was revoked"):
        assert_analyst_authorised("u-17", "CCL-M-012", [revoked], TODAY)


def test_an_analyst_authorisation_does_not_allow_review_but_a_role_wide_reviewer_one_does() -> None:
    with pytest.raises(ReviewerNotAuthorised, match="not authorised as reviewer for method CCL-M-012"):
        assert_reviewer_authorised("u-17", "CCL-M-012", [ANALYST], TODAY)
    role_wide = Authorisation("u-17", None, AuthorisedRole.REVIEWER, "director", date(2024, 1, 1))
    assert_reviewer_authorised("u-17", "CCL-M-012", [ANALYST, role_wide], TODAY)
