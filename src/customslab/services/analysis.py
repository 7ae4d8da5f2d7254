"""Use cases of tests on a sample: plan, assign, enter results, attach files, review."""

from __future__ import annotations

from typing import Annotated, BinaryIO

from pydantic import Field, ValidationInfo, field_validator

from customslab.domain.access import Action, Actor
from customslab.domain.enums import Role, State
from customslab.domain.errors import PermissionDenied, ValidationFailed
from customslab.domain.federation import TaskStatus
from customslab.domain.model import AnalysisTest, Attachment, Result, Sample
from customslab.domain.quality.competence import assert_analyst_authorised, assert_reviewer_authorised
from customslab.domain.quality.equipment import assert_usable
from customslab.domain.quality.methods import assert_usable_for_test
from customslab.hs.quantities import QuantityError, check_result_unit
from customslab.services.common import acting, acting_on_sample, held_test
from customslab.services.contract import (
    Amount,
    Command,
    Flag,
    Id,
    MeasurementUnit,
    NonNegative,
    Positive,
    Text,
    record_of,
)
from customslab.services.federation_referrals import notify_partner
from customslab.services.ports import AbstractUnitOfWork, UploadTooLarge
from customslab.services.quality import assert_batch_entry_releasable, lab_authorisations, own_entry
from customslab.services.quality_ports import CalibrationEntry, EquipmentEntry, MethodEntry, QcBatchEntry
from customslab.services.referrals import complete_referrals
from customslab.services.views import AttachmentView, ResultView, TestView

_EDITABLE = (State.REGISTERED, State.RECEIVED, State.IN_ANALYSIS, State.RETEST)


class TestCreate(Command):
    """A determination to plan: by a free-text method reference or a catalogued method version."""

    __test__ = False  # not a pytest class, despite its name

    determination: Annotated[str, Text(200, 1)]
    method_ref: Annotated[str, Text(120)] = ""
    method_version_id: Id | None = None
    analyst_id: Id | None = None


class TestAssign(Command):
    __test__ = False

    analyst_id: Id


class ResultCreate(Command):
    """A measured value with its unit and expanded uncertainty U (with k), or a plain observation."""

    name: Annotated[str, Text(120)] = ""
    value: Amount | None = None
    unit: MeasurementUnit = Field(
        default="",
        description="Any unit pint reads (%, % m/m, %vol, mg/kg, g/L, °C, 1 for a ratio) or a laboratory "
        "scale (EBC, pH...); for a named quantity (alcohol_strength, element.Cr...), one of its dimension.",
    )
    expanded_uncertainty: NonNegative | None = None
    coverage_factor: Positive | None = None
    lod: NonNegative | None = None
    loq: NonNegative | None = None
    observation: Annotated[str, Text(4000)] = ""
    equipment_id: Id | None = None
    qc_batch_id: Id | None = None

    @field_validator("unit")
    @classmethod
    def _unit_of_the_quantity(cls, unit: str, info: ValidationInfo) -> str:
        """A named quantity's unit has its dimension: %vol, not g/kg, for alcohol_strength."""
        # `name` is declared before `unit`, so it has been validated (or refused) by now.
        name = str(info.data.get("name") or "")
        if unit and name:
            try:
                check_result_unit(unit, name)
            except QuantityError as exc:
                raise ValueError(str(exc)) from None
        return unit


class ReviewDecision(Command):
    """Approve the test, or return it for retest; the domain asks for a reason to return it."""

    approve: Flag
    reason: Annotated[str, Text(2000)] | None = None


class TestProgress(TestView):
    """A test after a step that may move its sample on: the sample's new state comes with it."""

    sample_state: State


def add_test(uow: AbstractUnitOfWork, actor: Actor, sample_id: int, cmd: TestCreate) -> TestView:
    """Plan a determination on a received sample, by a method, optionally assigning an analyst."""
    with acting_on_sample(uow, actor, Action.ADD_TEST, sample_id) as sample:
        if sample.state not in (State.RECEIVED, State.IN_ANALYSIS, State.RETEST):
            raise ValidationFailed(
                f"Tests can be added to a received sample; sample {sample.lab_sample_id} is "
                f"{sample.state.value.replace('_', ' ')}.",
                field="sample",
            )
        method = cmd.method_ref
        if cmd.method_version_id is not None:
            # A catalogued method: only a validated, current version may start a test (17025 7.2).
            entry = own_entry(uow, actor, MethodEntry, cmd.method_version_id, "Method version")
            assert_usable_for_test(entry.method)
            method = f"{entry.method_code} v{entry.version}"
        if not method:
            raise ValidationFailed("Give what is determined and the method reference.", field="method_ref")
        test = AnalysisTest(cmd.determination, method, State.REGISTERED, uow.clock())
        test.method_version_id = cmd.method_version_id
        if cmd.analyst_id is not None:
            _check_analyst(uow, actor, cmd.analyst_id)
            test.analyst_id = cmd.analyst_id
        sample.tests.append(test)
        uow.repo.flush()
        uow.commit()
        return TestView.of(test, True)


def _check_analyst(uow: AbstractUnitOfWork, actor: Actor, analyst_id: int) -> None:
    analyst = uow.repo.user(analyst_id)
    if analyst is None or analyst.org_code != actor.org_code or Role.ANALYST not in analyst.roles:
        raise ValidationFailed(f"User {analyst_id} is not an analyst of your laboratory.", field="analyst_id")


def assign_test(uow: AbstractUnitOfWork, actor: Actor, test_id: int, cmd: TestAssign) -> TestView:
    """Give an open test to an analyst of the laboratory."""
    with acting(uow, actor, Action.ASSIGN_TEST):
        test, _ = held_test(uow, actor, test_id)
        if test.state not in _EDITABLE:
            raise ValidationFailed(
                f"A test that is {test.state.value} cannot be reassigned.", field="analyst_id"
            )
        _check_analyst(uow, actor, cmd.analyst_id)
        test.analyst_id = cmd.analyst_id
        uow.commit()
        return TestView.of(test, True)


def own_open_test(uow: AbstractUnitOfWork, actor: Actor, test_id: int) -> tuple[AnalysisTest, Sample]:
    """The actor's test, moved into analysis if it was waiting; refused once it has been submitted."""
    test, sample = held_test(uow, actor, test_id)
    if test.analyst_id is not None and test.analyst_id != actor.user_id:
        raise PermissionDenied("This test is assigned to another analyst.")
    if test.state in (State.REGISTERED, State.RECEIVED, State.RETEST):
        test.analyst_id = actor.user_id
        test.move(State.IN_ANALYSIS)
    if sample.state in (State.RECEIVED, State.RETEST):
        first = sample.state is State.RECEIVED
        sample.move(State.IN_ANALYSIS, uow.clock())
        if first:
            notify_partner(uow, sample, TaskStatus.IN_PROGRESS)
    if test.state is not State.IN_ANALYSIS:
        raise ValidationFailed(
            "Results can only be changed while the test is in analysis; "
            f"it is {test.state.value.replace('_', ' ')}.",
            field="test",
        )
    return test, sample


def enter_result(uow: AbstractUnitOfWork, actor: Actor, test_id: int, cmd: ResultCreate) -> ResultView:
    """An analyst enters a result with its unit and expanded uncertainty (and k, LOD/LOQ)."""
    with acting(uow, actor, Action.ENTER_RESULT):
        _quality_checks_for_result(uow, actor, test_id, cmd)
        test, _ = own_open_test(uow, actor, test_id)
        if cmd.value is None and not cmd.observation:
            raise ValidationFailed("Value is required.", field="value")
        if cmd.value is not None and not cmd.unit:
            raise ValidationFailed("A numeric result needs its unit (use 1 for dimensionless).", field="unit")
        if cmd.unit and not cmd.name:
            # The result takes the test's determination as its name: its unit must suit that quantity.
            try:
                check_result_unit(cmd.unit, test.determination)
            except QuantityError as exc:
                raise ValidationFailed(str(exc), field="unit") from None
        if cmd.expanded_uncertainty is not None and cmd.coverage_factor is None:
            raise ValidationFailed(
                "An expanded uncertainty needs its coverage factor k (often 2).", "coverage_factor"
            )
        result = record_of(
            Result, cmd, name=cmd.name or test.determination, entered_by=actor.user_id, entered_at=uow.clock()
        )
        test.results.append(result)
        uow.repo.flush()
        uow.commit()
        return ResultView.of_record(result)


def _quality_checks_for_result(
    uow: AbstractUnitOfWork, actor: Actor, test_id: int, cmd: ResultCreate
) -> None:
    """Authorisation, instrument and QC-batch checks (17025 6.2, 6.4, 7.7).

    Tests planned with a free-text method reference keep the behaviour they had before the catalogue.
    """
    test, _ = held_test(uow, actor, test_id)
    today = uow.clock().date()
    if test.method_version_id is not None:
        entry = uow.quality.get(MethodEntry, test.method_version_id)
        if entry is not None:
            auths = lab_authorisations(uow, actor.org_code)
            assert_analyst_authorised(actor.username, entry.method_code, auths, today)
    if cmd.equipment_id is not None:
        equipment = own_entry(uow, actor, EquipmentEntry, cmd.equipment_id, "Equipment")
        events = [c.event for c in uow.quality.find(CalibrationEntry, equipment_entry_id=equipment.id)]
        assert_usable(equipment.equipment, events, today)
    if cmd.qc_batch_id is not None:
        own_entry(uow, actor, QcBatchEntry, cmd.qc_batch_id, "QC batch")


def attach_file(
    uow: AbstractUnitOfWork,
    actor: Actor,
    test_id: int,
    *,
    filename: str,
    media_type: str,
    stream: BinaryIO,
    max_bytes: int,
) -> AttachmentView:
    """Store a raw instrument file content-addressed (sha256) and attach it to the test."""
    with acting(uow, actor, Action.ENTER_RESULT):
        test, _ = own_open_test(uow, actor, test_id)
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
        return AttachmentView.of_record(att)


def submit_test(uow: AbstractUnitOfWork, actor: Actor, test_id: int) -> TestProgress:
    """The analyst sends the test for review; it needs at least one result."""
    with acting(uow, actor, Action.SUBMIT_TEST):
        test, sample = own_open_test(uow, actor, test_id)
        if not test.results:
            raise ValidationFailed("Enter at least one result before submitting the test.", field="results")
        test.move(State.TO_BE_REVIEWED)
        test.submitted_at = uow.clock()
        sample.sync_with_tests(uow.clock())
        uow.commit()
        return _progress(test, sample)


def review_test(uow: AbstractUnitOfWork, actor: Actor, test_id: int, cmd: ReviewDecision) -> TestProgress:
    """The reviewer approves the test or returns it for retest with a reason."""
    with acting(uow, actor, Action.REVIEW, cmd.reason):
        test, sample = held_test(uow, actor, test_id)
        if cmd.approve and test.analyst_id == actor.user_id:
            raise PermissionDenied("A reviewer cannot approve their own analysis.")
        now = uow.clock()
        if cmd.approve:
            _quality_checks_for_approval(uow, actor, test)
            test.move(State.APPROVED)
            test.approved_by = actor.user_id
            test.approved_at = now
        else:
            test.move(State.RETEST, cmd.reason)
        sample.sync_with_tests(now)
        complete_referrals(uow, sample)
        uow.commit()
        return _progress(test, sample)


def _progress(test: AnalysisTest, sample: Sample) -> TestProgress:
    return TestProgress(**dict(TestView.of(test, True)), sample_state=sample.state)


def _quality_checks_for_approval(uow: AbstractUnitOfWork, actor: Actor, test: AnalysisTest) -> None:
    """The reviewer's authorisation for the method, and QC batches in control or corrected (17025 7.7)."""
    if test.method_version_id is not None:
        entry = uow.quality.get(MethodEntry, test.method_version_id)
        if entry is not None:
            auths = lab_authorisations(uow, actor.org_code)
            assert_reviewer_authorised(actor.username, entry.method_code, auths, uow.clock().date())
    for batch_id in sorted({r.qc_batch_id for r in test.results if r.qc_batch_id is not None}):
        assert_batch_entry_releasable(uow, batch_id)
