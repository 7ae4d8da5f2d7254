"""The quality registers through their one mechanism: typed commands in, typed views out, own lab only."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from customslab.domain.access import Actor
from customslab.domain.enums import OrgKind, Role
from customslab.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.model import Organisation, User
from customslab.domain.quality.equipment import EquipmentStatus
from customslab.domain.quality.methods import MethodStatus
from customslab.services import quality
from customslab.services import quality_control as qc
from customslab.services import quality_equipment as equipment
from customslab.services import quality_methods as methods
from customslab.services.contract import parse
from tests.unit.fakes import FakeUnitOfWork

MANAGER = Actor(1, "park", "LAB-A", frozenset({Role.LAB_MANAGER}))
OTHER_MANAGER = Actor(2, "sato", "LAB-B", frozenset({Role.LAB_MANAGER}))
ANALYST = Actor(3, "kim", "LAB-A", frozenset({Role.ANALYST}))
VALIDATION = {"repeatability_sr": "0,05", "uncertainty_model": "GUM", "expanded_uncertainty_absolute": 0.2}


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    # Two unrelated laboratories: the visibility table lets each read its own quality records only.
    uow.repo.add(Organisation("LAB-A", "Lab A", OrgKind.LOCAL, "KR"))
    uow.repo.add(Organisation("LAB-B", "Lab B", OrgKind.LOCAL, "JP"))
    for actor in (MANAGER, OTHER_MANAGER, ANALYST):
        roles = actor.roles | ({Role.ANALYST, Role.REVIEWER} if actor is ANALYST else set())
        uow.repo.add(User(actor.username, actor.username.title(), actor.org_code, frozenset(roles)))
    return uow


#: One valid command per register, as a form or a JSON body would give it.
NEW_ENTRY: dict[str, dict[str, Any]] = {
    "methods": {"method_id": "M-1", "version": "1", "title": "ABV by densimetry", "technique": "density"},
    "equipment": {"equipment_id": "DMA-1", "name": "Density meter", "location": "B 2.14"},
    "reference-materials": {
        "rm_id": "CRM-7",
        "name": "Ethanol 40 %vol",
        "certificate": "BAM-123",
        "lot": "L-9",
        "expiry": "2027-01-31",
        "certified_value": "40,02",
        "expanded_uncertainty": "0.05",
        "unit": "%vol",
    },
    "training": {"user_id": 3, "topic": "Densimetry"},
    "authorisations": {"user_id": 3, "role": "analyst"},
    "qc-batches": {"material": "CRM ethanol", "target_mean": "40", "target_sd": "0.1", "points": [40.0]},
}


@pytest.mark.parametrize("reg", quality.REGISTERS, ids=lambda r: r.path)
def test_every_register_adds_lists_and_shows_an_entry_of_the_laboratory_only(
    uow: FakeUnitOfWork, reg: Any
) -> None:
    added = reg.record(uow, MANAGER, parse(reg.command, NEW_ENTRY[reg.path]))
    assert isinstance(added, reg.view)
    assert reg.list_all(uow, MANAGER) == [added]
    assert reg.detail(uow, MANAGER, added.id) == added
    assert reg.list_all(uow, OTHER_MANAGER) == []
    with pytest.raises(NotFound, match=f"{reg.what} {added.id} was not found"):
        reg.detail(uow, OTHER_MANAGER, added.id)


def test_the_registers_cover_every_kind_of_record_the_brief_names() -> None:
    paths = {r.path for r in quality.REGISTERS} | {s.path for s in quality.STEPS}
    assert {"methods", "equipment", "calibrations", "maintenance", "reference-materials"} <= paths
    assert {"training", "authorisations", "qc-batches", "corrective-actions"} <= paths


def test_a_register_refuses_a_role_that_may_not_write_it_in_words(uow: FakeUnitOfWork) -> None:
    with pytest.raises(PermissionDenied, match=r"Only a lab manager may manage equipment\."):
        equipment.EQUIPMENT.record(uow, ANALYST, parse(equipment.EquipmentCreate, NEW_ENTRY["equipment"]))


def test_an_id_or_a_date_of_the_wrong_type_is_refused_before_the_service_runs() -> None:
    with pytest.raises(ValidationError):
        equipment.EquipmentCreate.model_validate({"equipment_id": ["x"], "name": "DMA"})
    with pytest.raises(ValidationFailed) as refused:
        parse(qc.TrainingCreate, {"user_id": "three", "topic": "x"})
    assert refused.value.field == "user_id"
    with pytest.raises(ValidationFailed, match="not a date") as refused:
        parse(equipment.CalibrationCreate, {"result": "ok", "acceptance_criteria": "±1", "next_due": "soon"})
    assert refused.value.field == "next_due"
    with pytest.raises(ValidationFailed, match=r"A QC batch needs at least one control value\."):
        parse(qc.QcBatchCreate, {"material": "CRM", "target_mean": 1, "target_sd": 1, "points": []})


def test_a_second_instrument_with_the_same_code_is_a_conflict(uow: FakeUnitOfWork) -> None:
    cmd = parse(equipment.EquipmentCreate, NEW_ENTRY["equipment"])
    equipment.EQUIPMENT.record(uow, MANAGER, cmd)
    with pytest.raises(Conflict, match="DMA-1 is already registered"):
        equipment.EQUIPMENT.record(uow, MANAGER, cmd)


def test_calibration_and_maintenance_decide_whether_an_instrument_may_be_used(uow: FakeUnitOfWork) -> None:
    eq = equipment.EQUIPMENT.record(uow, MANAGER, parse(equipment.EquipmentCreate, NEW_ENTRY["equipment"]))
    assert not eq.usable_today and "never been calibrated" in eq.not_usable_because
    too_early = {"performed_on": "2026-10-01", "result": "ok", "acceptance_criteria": "±1"}
    with pytest.raises(ValidationFailed, match="next due date cannot be before") as refused:
        equipment.record_calibration(
            uow, MANAGER, eq.id, parse(equipment.CalibrationCreate, too_early | {"next_due": "2026-09-01"})
        )
    assert refused.value.field == "next_due"
    done = parse(equipment.CalibrationCreate, too_early | {"next_due": "2027-10-01", "passed": True})
    eq = equipment.record_calibration(uow, MANAGER, eq.id, done)
    assert eq.usable_today and eq.calibrations[0].performed_on == date(2026, 10, 1)
    broken = equipment.MaintenanceCreate(kind="damage", description="cell cracked", out_of_service=True)
    eq = equipment.record_maintenance(uow, ANALYST, eq.id, broken)
    assert eq.status is EquipmentStatus.OUT_OF_SERVICE and not eq.usable_today
    assert eq.maintenance[0].performed_by == "kim"
    assert equipment.EQUIPMENT.detail(uow, MANAGER, eq.id) == eq


def test_a_method_is_validated_published_and_adopted_by_another_laboratory_as_a_draft(
    uow: FakeUnitOfWork,
) -> None:
    draft = methods.METHODS.record(
        uow, MANAGER, parse(methods.MethodCreate, NEW_ENTRY["methods"] | {"validation": VALIDATION})
    )
    assert draft.validation is not None and draft.validation.repeatability_sr == 0.05
    with pytest.raises(NotFound):
        methods.METHODS.detail(uow, OTHER_MANAGER, draft.id)
    validated = methods.validate_method_version(uow, MANAGER, draft.id)
    assert validated.status is MethodStatus.VALIDATED and validated.approved_by == "park"
    with pytest.raises(NotFound):  # only the laboratory's own versions can be changed
        methods.publish_method(uow, OTHER_MANAGER, draft.id)
    methods.publish_method(uow, MANAGER, draft.id)
    copy = methods.adopt_method(uow, OTHER_MANAGER, draft.id)
    assert (copy.lab_code, copy.status, copy.adopted_from_id) == ("LAB-B", MethodStatus.DRAFT, draft.id)
    assert copy.origin is not None and copy.origin.describe() == "adopted from LAB-A version 1"
    with pytest.raises(Conflict, match="already in your laboratory's catalogue"):
        methods.adopt_method(uow, MANAGER, draft.id)
    assert [m.id for m in methods.METHODS.list_all(uow, OTHER_MANAGER)] == [copy.id, draft.id]


def test_an_authorisation_needs_the_role_and_a_method_of_the_catalogue(uow: FakeUnitOfWork) -> None:
    with pytest.raises(Conflict, match="park does not have the reviewer role"):
        qc.AUTHORISATIONS.record(uow, MANAGER, qc.AuthorisationCreate(user_id=1, role="reviewer"))
    with pytest.raises(NotFound, match="Method M-9 is not in your catalogue"):
        qc.AUTHORISATIONS.record(
            uow, MANAGER, qc.AuthorisationCreate(user_id=3, role="analyst", method_id="M-9")
        )
    with pytest.raises(NotFound, match="User 2 is not a member of your laboratory") as refused:
        qc.AUTHORISATIONS.record(uow, MANAGER, qc.AuthorisationCreate(user_id=2, role="analyst"))
    assert refused.value.field == "user_id"
    grant = qc.AUTHORISATIONS.record(uow, MANAGER, qc.AuthorisationCreate(user_id=3, role="analyst"))
    assert (grant.user, grant.user_id, grant.method_id, grant.revoked) == (3, "kim", None, False)
    assert qc.revoke_authorisation(uow, MANAGER, grant.id).revoked


def test_an_out_of_control_batch_is_releasable_after_a_corrective_action(uow: FakeUnitOfWork) -> None:
    points = [40.0, {"value": "40,41", "run_id": "r1"}]
    batch = qc.QC_BATCHES.record(
        uow, ANALYST, parse(qc.QcBatchCreate, NEW_ENTRY["qc-batches"] | {"points": points})
    )
    assert batch.batch.batch_id == "QC-LAB-A-00001" and batch.batch.points[1].run_id == "r1"
    assert batch.status == "out of control" and not batch.releasable
    assert [v.rule for v in batch.violations if v.rejection] == ["1-3s"]
    with pytest.raises(PermissionDenied, match="lab manager or reviewer may record corrective actions"):
        qc.record_corrective_action(uow, ANALYST, batch.id, qc.CorrectiveActionCreate(description="x"))
    fixed = qc.record_corrective_action(
        uow, MANAGER, batch.id, qc.CorrectiveActionCreate(description="  Recalibrated.  ")
    )
    assert fixed.releasable and fixed.corrective_actions[0].description == "Recalibrated."
