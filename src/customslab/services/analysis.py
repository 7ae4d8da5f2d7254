"""Use cases of tests on a sample: plan, assign, enter results, attach files, review."""

from __future__ import annotations

from typing import Any, BinaryIO

from customslab.domain.access import Action, Actor, require
from customslab.domain.enums import Role, State
from customslab.domain.errors import PermissionDenied, ValidationFailed
from customslab.domain.model import AnalysisTest, Attachment, Identification, Result
from customslab.domain.quality.competence import assert_analyst_authorised, assert_reviewer_authorised
from customslab.domain.quality.equipment import assert_usable
from customslab.domain.quality.methods import assert_usable_for_test
from customslab.services.common import held_sample, held_test, to_decimal
from customslab.services.ports import AbstractUnitOfWork, UploadTooLarge
from customslab.services.quality import assert_batch_entry_releasable, lab_authorisations, own_entry
from customslab.services.quality_ports import CalibrationEntry, EquipmentEntry, MethodEntry, QcBatchEntry
from customslab.services.referrals import complete_referrals
from customslab.services.views import identification_view, result_view, test_view

_EDITABLE = (State.REGISTERED, State.RECEIVED, State.IN_ANALYSIS, State.RETEST)


def add_test(uow: AbstractUnitOfWork, actor: Actor, sample_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Plan a determination on a received sample, by a method, optionally assigning an analyst."""
    with uow:
        require(actor, Action.ADD_TEST)
        uow.act_as(actor.username)
        sample = held_sample(uow, actor, sample_id)
        if sample.state not in (State.RECEIVED, State.IN_ANALYSIS, State.RETEST):
            raise ValidationFailed(
                f"Tests can be added to a received sample; sample {sample.lab_sample_id} is "
                f"{sample.state.value.replace('_', ' ')}.",
                field="sample",
            )
        determination = str(data.get("determination", "")).strip()
        method = str(data.get("method_ref", "")).strip()
        version_id = data.get("method_version_id")
        if version_id is not None:
            # A catalogued method: only a validated, current version may start a test (17025 7.2).
            entry = own_entry(uow, actor, MethodEntry, int(version_id), "Method version")
            assert_usable_for_test(entry.method)
            method = f"{entry.method_code} v{entry.version}"
        if not determination or not method:
            raise ValidationFailed("Give what is determined and the method reference.", field="determination")
        test = AnalysisTest(determination, method, State.REGISTERED, uow.clock())
        test.method_version_id = int(version_id) if version_id is not None else None
        analyst_id = data.get("analyst_id")
        if analyst_id is not None:
            _check_analyst(uow, actor, int(analyst_id))
            test.analyst_id = int(analyst_id)
        sample.tests.append(test)
        uow.repo.flush()
        uow.commit()
        return test_view(test, True)


def _check_analyst(uow: AbstractUnitOfWork, actor: Actor, analyst_id: int) -> None:
    analyst = uow.repo.user(analyst_id)
    if analyst is None or analyst.org_code != actor.org_code or Role.ANALYST not in analyst.roles:
        raise ValidationFailed(f"User {analyst_id} is not an analyst of your laboratory.", field="analyst_id")


def assign_test(uow: AbstractUnitOfWork, actor: Actor, test_id: int, analyst_id: int) -> dict[str, Any]:
    with uow:
        require(actor, Action.ASSIGN_TEST)
        uow.act_as(actor.username)
        test, _ = held_test(uow, actor, test_id)
        if test.state not in _EDITABLE:
            raise ValidationFailed(
                f"A test that is {test.state.value} cannot be reassigned.", field="analyst_id"
            )
        _check_analyst(uow, actor, analyst_id)
        test.analyst_id = analyst_id
        uow.commit()
        return test_view(test, True)


def _own_open_test(uow: AbstractUnitOfWork, actor: Actor, test_id: int) -> tuple[AnalysisTest, Any]:
    test, sample = held_test(uow, actor, test_id)
    if test.analyst_id is not None and test.analyst_id != actor.user_id:
        raise PermissionDenied("This test is assigned to another analyst.")
    if test.state in (State.REGISTERED, State.RECEIVED, State.RETEST):
        test.analyst_id = actor.user_id
        test.move(State.IN_ANALYSIS)
    if sample.state in (State.RECEIVED, State.RETEST):
        sample.move(State.IN_ANALYSIS, uow.clock())
    if test.state is not State.IN_ANALYSIS:
        raise ValidationFailed(
            "Results can only be changed while the test is in analysis; "
            f"it is {test.state.value.replace('_', ' ')}.",
            field="test",
        )
    return test, sample


def enter_result(uow: AbstractUnitOfWork, actor: Actor, test_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """An analyst enters a result with its unit and expanded uncertainty (and k, LOD/LOQ)."""
    with uow:
        require(actor, Action.ENTER_RESULT)
        uow.act_as(actor.username)
        links = _quality_checks_for_result(uow, actor, test_id, data)
        test, _ = _own_open_test(uow, actor, test_id)
        name = str(data.get("name", "")).strip() or test.determination
        unit = str(data.get("unit", "")).strip()
        value = to_decimal(data.get("value"), "value", required=not data.get("observation"))
        if value is not None and not unit:
            raise ValidationFailed("A numeric result needs its unit (use 1 for dimensionless).", field="unit")
        u = to_decimal(
            data.get("expanded_uncertainty"), "expanded_uncertainty", required=False, positive=True
        )
        k = to_decimal(data.get("coverage_factor"), "coverage_factor", required=False, positive=True)
        if u is not None and k is None:
            raise ValidationFailed(
                "An expanded uncertainty needs its coverage factor k (often 2).", "coverage_factor"
            )
        result = Result(
            name=name,
            value=value,
            unit=unit,
            entered_by=actor.user_id,
            entered_at=uow.clock(),
            expanded_uncertainty=u,
            coverage_factor=k,
            lod=to_decimal(data.get("lod"), "lod", required=False, positive=True),
            loq=to_decimal(data.get("loq"), "loq", required=False, positive=True),
            observation=str(data.get("observation", "")),
            equipment_id=links[0],
            qc_batch_id=links[1],
        )
        test.results.append(result)
        uow.repo.flush()
        uow.commit()
        return result_view(result)


def _quality_checks_for_result(
    uow: AbstractUnitOfWork, actor: Actor, test_id: int, data: dict[str, Any]
) -> tuple[int | None, int | None]:
    """Authorisation, instrument and QC-batch checks (17025 6.2, 6.4, 7.7); returns the links to keep.

    Tests planned with a free-text method reference keep the behaviour they had before the catalogue.
    """
    test, _ = held_test(uow, actor, test_id)
    today = uow.clock().date()
    if test.method_version_id is not None:
        entry = uow.quality.get(MethodEntry, test.method_version_id)
        if entry is not None:
            auths = lab_authorisations(uow, actor.org_code)
            assert_analyst_authorised(actor.username, entry.method_code, auths, today)
    equipment_id = data.get("equipment_id")
    if equipment_id is not None:
        equipment = own_entry(uow, actor, EquipmentEntry, int(equipment_id), "Equipment")
        events = [c.event for c in uow.quality.find(CalibrationEntry, equipment_entry_id=equipment.id)]
        assert_usable(equipment.equipment, events, today)
    batch_id = data.get("qc_batch_id")
    if batch_id is not None:
        own_entry(uow, actor, QcBatchEntry, int(batch_id), "QC batch")
    return (
        int(equipment_id) if equipment_id is not None else None,
        int(batch_id) if batch_id is not None else None,
    )


def attach_file(
    uow: AbstractUnitOfWork,
    actor: Actor,
    test_id: int,
    *,
    filename: str,
    media_type: str,
    stream: BinaryIO,
    max_bytes: int,
) -> dict[str, Any]:
    """Store a raw instrument file content-addressed (sha256) and attach it to the test."""
    with uow:
        require(actor, Action.ENTER_RESULT)
        uow.act_as(actor.username)
        test, _ = _own_open_test(uow, actor, test_id)
        if not filename.strip():
            raise ValidationFailed("The file needs a name.", field="file")
        try:
            stored = uow.files.put(stream, max_bytes)
        except UploadTooLarge as exc:
            raise ValidationFailed(f"Upload refused: {exc}.", field="file") from None
        if stored.size == 0:
            raise ValidationFailed("The file is empty.", field="file")
        att = Attachment(
            stored.sha256,
            filename.strip()[:255],
            media_type or "application/octet-stream",
            stored.size,
            actor.user_id,
            uow.clock(),
        )
        test.attachments.append(att)
        uow.repo.flush()
        uow.commit()
        return {"id": att.id, "sha256": att.sha256, "filename": att.filename, "size": att.size}


def record_identification(
    uow: AbstractUnitOfWork, actor: Actor, test_id: int, attachment_sha256: str, search: dict[str, Any]
) -> dict[str, Any]:
    """Keep a spectral search's hit list and library version with the test it supports."""
    with uow:
        require(actor, Action.ENTER_RESULT)
        uow.act_as(actor.username)
        test, _ = _own_open_test(uow, actor, test_id)
        if not any(a.sha256 == attachment_sha256 for a in test.attachments):
            raise ValidationFailed(
                "Attach the spectrum file to the test before identifying it.", "attachment"
            )
        ident = Identification(
            test_id=test_id,
            attachment_sha256=attachment_sha256,
            technique=str(search["technique"]),
            library_id=str(search["library_id"]),
            library_version=str(search["library_version"]),
            hits=list(search["hits"]),
            created_by=actor.user_id,
            created_at=uow.clock(),
        )
        uow.repo.add(ident)
        uow.repo.flush()
        uow.commit()
        return identification_view(ident)


def submit_test(uow: AbstractUnitOfWork, actor: Actor, test_id: int) -> dict[str, Any]:
    """The analyst sends the test for review; it needs at least one result."""
    with uow:
        require(actor, Action.SUBMIT_TEST)
        uow.act_as(actor.username)
        test, sample = _own_open_test(uow, actor, test_id)
        if not test.results:
            raise ValidationFailed("Enter at least one result before submitting the test.", field="results")
        test.move(State.TO_BE_REVIEWED)
        test.submitted_at = uow.clock()
        sample.sync_with_tests(uow.clock())
        uow.commit()
        return test_view(test, True) | {"sample_state": sample.state.value}


def review_test(
    uow: AbstractUnitOfWork, actor: Actor, test_id: int, *, approve: bool, reason: str | None = None
) -> dict[str, Any]:
    """The reviewer approves the test or returns it for retest with a reason."""
    with uow:
        require(actor, Action.REVIEW)
        uow.act_as(actor.username, reason)
        test, sample = held_test(uow, actor, test_id)
        if approve and test.analyst_id == actor.user_id:
            raise PermissionDenied("A reviewer cannot approve their own analysis.")
        now = uow.clock()
        if approve:
            _quality_checks_for_approval(uow, actor, test)
            test.move(State.APPROVED)
            test.approved_by = actor.user_id
            test.approved_at = now
        else:
            test.move(State.RETEST, reason)
        sample.sync_with_tests(now)
        complete_referrals(uow, sample)
        uow.commit()
        return test_view(test, True) | {"sample_state": sample.state.value}


def _quality_checks_for_approval(uow: AbstractUnitOfWork, actor: Actor, test: AnalysisTest) -> None:
    """The reviewer's authorisation for the method, and QC batches in control or corrected (17025 7.7)."""
    if test.method_version_id is not None:
        entry = uow.quality.get(MethodEntry, test.method_version_id)
        if entry is not None:
            auths = lab_authorisations(uow, actor.org_code)
            assert_reviewer_authorised(actor.username, entry.method_code, auths, uow.clock().date())
    for batch_id in sorted({r.qc_batch_id for r in test.results if r.qc_batch_id is not None}):
        assert_batch_entry_releasable(uow, batch_id)
