"""The rules of training across the network, without a database: a programme's dates, a participation's
steps, the two-sided agreement before a completion becomes a competence record, and who sees what."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest

from customslab.domain.access import Actor, Directory, SharingLevel
from customslab.domain.enums import Role
from customslab.domain.errors import InvalidTransition, PermissionDenied, ValidationFailed
from customslab.domain.training import (
    Acceptance,
    Completion,
    Participant,
    Participation,
    ParticipationState,
    Programme,
    ProgrammeKind,
    assert_may_decide,
    assert_may_register,
    assert_may_run,
    sees_participant,
    sees_programme,
    training_record,
)
from customslab.services.demo import seed_demo
from customslab.services.demo_training import FOOD_WORKSHOP
from customslab.services.quality_ports import TrainingEntry
from customslab.services.training_ports import ParticipationEntry, ProgrammeEntry
from tests.unit.fakes import FakeQualityRepository, FakeRepository, FakeUnitOfWork

WORKSHOP = Programme(
    "Asia/Pacific RCL workshop on the analysis of food preparations",
    ProgrammeKind.WORKSHOP,
    date(2026, 3, 2),
    date(2026, 3, 6),
    host_code="RCL",
)
ANALYST = Participant("Kim Min-ji", "CCL", user_id=7, username="mkim")
EXTERNAL = Participant("Tashi Dorji", "BTM")
DONE = Completion(date(2026, 3, 6), Decimal(32), "passed the practical test", "coordinator")
#: The day the host records completions in these tests.
TODAY = date(2026, 3, 10)
#: KR: CCL (central) over LCL (local); JP: the RCL; BT: a member without a laboratory.
DIRECTORY = Directory(
    administration_of={"CCL": "KR", "LCL": "KR", "RCL": "JP", "BTM": "BT"},
    parent_of={"CCL": None, "LCL": "CCL", "RCL": None, "BTM": None},
)


def actor(org: str, *roles: Role) -> Actor:
    return Actor(1, "someone", org, frozenset(roles))


def test_a_programme_cannot_end_before_it_starts_or_go_without_a_title() -> None:
    with pytest.raises(ValidationFailed, match="end") as caught:
        Programme("x", ProgrammeKind.SEMINAR, date(2026, 3, 2), date(2026, 3, 1), "RCL")
    assert caught.value.field == "ends_on"
    with pytest.raises(ValidationFailed):
        Programme("  ", ProgrammeKind.SEMINAR, date(2026, 3, 2), date(2026, 3, 2), "RCL")
    assert Programme("x", ProgrammeKind.SEMINAR, date(2026, 3, 2), date(2026, 3, 2), "RCL").is_past(
        date(2026, 3, 3)
    )


def test_a_completion_is_accepted_only_after_the_host_recorded_it() -> None:
    registered = Participation(ANALYST)
    with pytest.raises(InvalidTransition):
        registered.accept("manager", date(2026, 3, 9))
    done = registered.attend().complete(WORKSHOP, DONE, TODAY)
    assert (done.state, done.acceptance) == (ParticipationState.COMPLETED, Acceptance.PENDING)
    accepted = done.accept("manager", date(2026, 3, 9))
    assert accepted.acceptance is Acceptance.ACCEPTED and accepted.decided_by == "manager"
    with pytest.raises(InvalidTransition, match="already accepted"):
        accepted.accept("manager", date(2026, 3, 10))


def test_without_acceptance_there_is_no_training_record_and_with_it_one_that_names_the_programme() -> None:
    done = Participation(ANALYST).complete(WORKSHOP, DONE, TODAY)
    with pytest.raises(InvalidTransition):
        training_record(WORKSHOP, done, "Regional lab")
    record = training_record(WORKSHOP, done.accept("manager", date(2026, 3, 9)), "Regional lab")
    assert record.user_id == "mkim" and record.completed_on == date(2026, 3, 6)
    assert record.trainer == "Regional lab"
    assert record.topic.startswith(WORKSHOP.title) and "32 h" in record.topic and "practical" in record.topic


def test_a_declined_completion_needs_a_reason_and_stays_declined() -> None:
    done = Participation(ANALYST).complete(WORKSHOP, DONE, TODAY)
    with pytest.raises(ValidationFailed):
        done.decline("manager", date(2026, 3, 9), " ")
    declined = done.decline("manager", date(2026, 3, 9), "not a method we run")
    assert declined.acceptance is Acceptance.DECLINED
    with pytest.raises(InvalidTransition):
        declined.accept("manager", date(2026, 3, 9))


def test_an_external_participants_completion_is_recorded_but_not_asked_for_acceptance_here() -> None:
    done = Participation(EXTERNAL).complete(WORKSHOP, DONE, TODAY)
    assert done.acceptance is Acceptance.NOT_ASKED
    with pytest.raises(InvalidTransition, match="external"):
        done.accept("manager", date(2026, 3, 9))


@pytest.mark.parametrize(
    ("completion", "field"),
    [
        (Completion(date(2026, 3, 1), Decimal(8)), "completed_on"),
        (Completion(date(2026, 3, 6), Decimal(0)), "hours"),
        (Completion(date(2026, 3, 6), Decimal(5000)), "hours"),
    ],
)
def test_a_completion_before_the_start_or_with_impossible_hours_is_refused(
    completion: Completion, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Participation(ANALYST).complete(WORKSHOP, completion, TODAY)
    assert caught.value.field == field


def test_a_completion_dated_after_today_is_refused() -> None:
    tomorrow = Completion(date(2026, 3, 11), Decimal(8))
    with pytest.raises(ValidationFailed, match="future") as caught:
        Participation(ANALYST).complete(WORKSHOP, tomorrow, TODAY)
    assert caught.value.field == "completed_on"
    assert Participation(ANALYST).complete(WORKSHOP, Completion(TODAY, Decimal(8)), TODAY).completion


def test_the_host_amends_a_declined_completion_which_is_then_asked_again() -> None:
    declined = Participation(ANALYST).complete(WORKSHOP, DONE, TODAY).decline("lm", TODAY, "wrong hours")
    amended = declined.complete(WORKSHOP, Completion(date(2026, 3, 6), Decimal(30)), TODAY)
    assert (amended.state, amended.acceptance) == (ParticipationState.COMPLETED, Acceptance.PENDING)
    assert amended.completion and amended.completion.hours == 30
    assert (amended.decided_by, amended.decided_on, amended.decline_reason) == ("", None, "")
    # A completion still pending, or accepted, is not recorded again.
    for settled in (amended, amended.accept("lm", TODAY)):
        with pytest.raises(InvalidTransition):
            settled.complete(WORKSHOP, DONE, TODAY)


def test_withdrawal_ends_a_participation_that_has_not_completed() -> None:
    withdrawn = Participation(ANALYST).attend().withdraw()
    assert withdrawn.state is ParticipationState.WITHDRAWN
    for step in (withdrawn.withdraw, withdrawn.attend, lambda: withdrawn.complete(WORKSHOP, DONE, TODAY)):
        with pytest.raises(InvalidTransition):
            step()
    with pytest.raises(InvalidTransition):
        Participation(ANALYST).complete(WORKSHOP, DONE, TODAY).withdraw()


def test_only_the_participants_own_lab_manager_decides() -> None:
    done = Participation(ANALYST).complete(WORKSHOP, DONE, TODAY)
    assert_may_decide(actor("CCL", Role.LAB_MANAGER), done)
    for who in (
        actor("LCL", Role.LAB_MANAGER),
        actor("CCL", Role.REVIEWER),
        actor("RCL", Role.NETWORK_COORDINATOR),
    ):
        with pytest.raises(PermissionDenied):
            assert_may_decide(who, done)


def test_the_host_runs_and_registers_anyone_and_a_lab_manager_registers_their_own_staff() -> None:
    assert_may_run(actor("RCL", Role.NETWORK_COORDINATOR), WORKSHOP)
    with pytest.raises(PermissionDenied):
        assert_may_run(actor("CCL", Role.LAB_MANAGER), WORKSHOP)
    assert_may_register(actor("RCL", Role.NETWORK_COORDINATOR), WORKSHOP, "CCL")
    assert_may_register(actor("CCL", Role.LAB_MANAGER), WORKSHOP, "CCL")
    with pytest.raises(PermissionDenied):
        assert_may_register(actor("CCL", Role.LAB_MANAGER), WORKSHOP, "LCL")


def test_a_participants_data_is_seen_by_the_host_and_their_own_organisation_only() -> None:
    assert sees_participant(actor("RCL", Role.NETWORK_COORDINATOR), WORKSHOP, ANALYST)
    assert sees_participant(actor("CCL", Role.ANALYST), WORKSHOP, ANALYST)
    assert not sees_participant(actor("LCL", Role.LAB_MANAGER), WORKSHOP, ANALYST)


def test_the_sharing_level_narrows_who_sees_a_programme_and_taking_part_opens_it() -> None:
    own_only = Programme(
        "x",
        ProgrammeKind.TRAINING_COURSE,
        date(2026, 1, 5),
        date(2026, 1, 9),
        "CCL",
        sharing=SharingLevel.LABORATORY,
    )
    administration = Programme(
        "x",
        ProgrammeKind.TRAINING_COURSE,
        date(2026, 1, 5),
        date(2026, 1, 9),
        "CCL",
        sharing=SharingLevel.ADMINISTRATION,
    )
    manager_at = lambda org: actor(org, Role.LAB_MANAGER)  # noqa: E731
    assert sees_programme(manager_at("CCL"), DIRECTORY, own_only)
    assert not sees_programme(manager_at("LCL"), DIRECTORY, own_only)
    assert sees_programme(manager_at("LCL"), DIRECTORY, own_only, {"LCL"})
    assert sees_programme(manager_at("LCL"), DIRECTORY, administration)
    assert not sees_programme(manager_at("RCL"), DIRECTORY, administration)
    assert sees_programme(manager_at("BTM"), DIRECTORY, WORKSHOP)
    assert not sees_programme(actor("CCL", Role.REQUESTER), DIRECTORY, WORKSHOP)


def test_the_demo_workshops_completion_is_in_the_central_laboratorys_competence_records_once() -> None:
    repo, quality = FakeRepository(), FakeQualityRepository()

    def make_uow(clock: Callable[[], datetime]) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(repo, quality=quality)
        uow.clock = clock
        return uow

    assert seed_demo(make_uow, n_requests=10) is True
    (workshop,) = [e for e in quality.find(ProgrammeEntry) if e.programme.title == FOOD_WORKSHOP]
    assert workshop.host_code == "RCL-JP"
    records = [e for e in quality.find(TrainingEntry, lab_code="KCS-CCL") if FOOD_WORKSHOP in e.record.topic]
    assert len(records) == 1
    waiting = quality.find(ParticipationEntry, org_code="RCL-JP")
    assert [p.participation.acceptance for p in waiting] == [Acceptance.PENDING]
