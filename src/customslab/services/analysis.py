"""Use cases of tests on a sample: plan, assign, enter results, attach files, review."""

from __future__ import annotations

from typing import Annotated, BinaryIO

from customslab.domain.access import Action, Actor
from customslab.domain.enums import Role, State
from customslab.domain.errors import PermissionDenied, ValidationFailed
from customslab.domain.federation import TaskStatus
from customslab.domain.model import AnalysisTest, Attachment, Sample
from customslab.domain.quality.competence import assert_reviewer_authorised
from customslab.domain.quality.errors import MethodNotValidated
from customslab.domain.quality.methods import assert_usable_for_test
from customslab.services.common import acting, acting_on_sample, held_test
from customslab.services.contract import Command, Flag, Id, Text
from customslab.services.federation_referrals import notify_partner
from customslab.services.notifications import notify_approved, notify_assigned
from customslab.services.ports import AbstractUnitOfWork, UploadTooLarge
from customslab.services.quality import assert_batch_entry_releasable, lab_authorisations, own_entry
from customslab.services.quality_ports import MethodEntry
from customslab.services.referrals import complete_referrals
from customslab.services.result_entry import ResultCreate, add_result, check_result_controls
from customslab.services.substances import recompute_mark
from customslab.services.targeting_alerts import alert_first_identifications
from customslab.services.views import AttachmentView, ResultView, TestView
from customslab.substances.register import Register

__all__ = ["ResultCreate", "ReviewDecision", "TestAssign", "TestCreate", "TestProgress"]

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
            entry = own_entry(
                uow, actor, MethodEntry, cmd.method_version_id, "Method version", "method_version_id"
            )
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
        notify_assigned(uow, actor, test)
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
        notify_assigned(uow, actor, test)
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


def enter_result(
    uow: AbstractUnitOfWork,
    actor: Actor,
    test_id: int,
    cmd: ResultCreate,
    bundled: Register | None = None,
) -> ResultView:
    """An analyst enters a result: a quantity with its unit and U (k, LOD/LOQ), or a qualitative outcome;
    one naming a controlled substance (`bundled`: the UN lists) marks the case."""
    with acting(uow, actor, Action.ENTER_RESULT):
        test, _ = held_test(uow, actor, test_id)
        check_result_controls(uow, actor, test, cmd)
        test, _ = own_open_test(uow, actor, test_id)
        result = add_result(uow, actor, test, cmd, bundled)
        uow.commit()
        return ResultView.of_record(result)


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


def review_test(
    uow: AbstractUnitOfWork,
    actor: Actor,
    test_id: int,
    cmd: ReviewDecision,
    bundled: Register | None = None,
) -> TestProgress:
    """The reviewer approves the test or returns it for retest with a reason (the case's controlled
    substance mark is then recomputed from the results that stand, by `bundled` and the stored hits)."""
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
            recompute_mark(uow, actor, sample, bundled)
        sample.sync_with_tests(now)
        complete_referrals(uow, sample)
        notify_approved(uow, sample)
        alert_first_identifications(uow, sample)
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
            try:
                # Withdrawn or superseded after its results were entered: not approved on it (17025 7.2).
                assert_usable_for_test(entry.method)
            except MethodNotValidated as exc:
                raise ValidationFailed(str(exc), field="decision") from None
    for batch_id in sorted({r.qc_batch_id for r in test.results if r.qc_batch_id is not None}):
        assert_batch_entry_releasable(uow, batch_id)
