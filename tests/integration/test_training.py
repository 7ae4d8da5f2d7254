"""Training across the network, through the use cases, on SQLite (and the main path on PostgreSQL): a
workshop hosted by the RCL with participants from two administrations, completions recorded by the host
and accepted (or not) by the participant's own laboratory into its competence records.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from customslab.domain.access import Actor
from customslab.domain.enums import NotificationKind, Role
from customslab.domain.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.quality.competence import TrainingRecord
from customslab.domain.training import Acceptance, ParticipationState, ProgrammeKind
from customslab.services import auth, notifications, training
from customslab.services.notifications import NotificationQuery
from customslab.services.quality_ports import TrainingEntry
from customslab.services.training_views import (
    CompletionDecision,
    ParticipantCreate,
    ParticipationStep,
    ProgrammeCreate,
    ProgrammeEdit,
    ProgrammeQuery,
)
from tests.factories import PASSWORD, Network, make_network

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


def workshop(uow_factory: Any, net: Network, **overrides: Any) -> int:
    cmd = ProgrammeCreate(
        title="Asia/Pacific RCL workshop on the analysis of food preparations",
        kind=ProgrammeKind.WORKSHOP,
        starts_on=date(2026, 3, 2),
        ends_on=date(2026, 3, 6),
        administrations=[net.home, net.member_administration],
        description="Pepper preparations, cooked rice, re-esterified fish oil.",
        materials=[7, 9],
        **overrides,
    )
    return training.create_programme(uow_factory(), net["coordinator"], cmd).id


def completed(
    uow_factory: Any,
    net: Network,
    programme_id: int,
    who: str = "analyst",
    registrar: str = "central_manager",
) -> int:
    """`who` registered by their own lab manager (`registrar`), attended and completed (the host)."""
    host = net["coordinator"]
    p = training.register_participant(
        uow_factory(), net[registrar], programme_id, ParticipantCreate(user_id=net[who].user_id)
    )
    training.record_step(uow_factory(), host, p.id, ParticipationStep(step="attended"))
    step = ParticipationStep(step="completed", completed_on=date(2026, 3, 6), hours="32", outcome="passed")
    out = training.record_step(uow_factory(), host, p.id, step)
    assert out.state is ParticipationState.COMPLETED and out.acceptance is Acceptance.PENDING
    return p.id


def records_of(uow_factory: Any, lab: str, user_id: int) -> list[tuple[int, TrainingRecord]]:
    """The training records of a user in a laboratory's competence register: (entry id, record)."""
    with uow_factory() as uow:
        return [(e.id, e.record) for e in uow.quality.find(TrainingEntry, lab_code=lab, user_id=user_id)]


@pytest.fixture
def net(uow_factory: Any) -> Network:
    return make_network(uow_factory)


def test_an_accepted_completion_becomes_one_training_record_in_the_participants_own_laboratory(
    uow_factory: Any, net: Network
) -> None:
    programme_id = workshop(uow_factory, net)
    external = training.register_participant(
        uow_factory(),
        net["coordinator"],
        programme_id,
        ParticipantCreate(name="Tashi Dorji", org_code=net.member),
    )
    participation = completed(uow_factory, net, programme_id)
    assert records_of(uow_factory, net.central, net["analyst"].user_id) == []  # not before acceptance

    manager = net["central_manager"]
    waiting = training.list_programmes(uow_factory(), manager, ProgrammeQuery()).awaiting
    assert [a.participation_id for a in waiting] == [participation]
    accepted = training.decide_completion(
        uow_factory(), manager, participation, CompletionDecision(accept=True)
    )
    again = training.decide_completion(uow_factory(), manager, participation, CompletionDecision(accept=True))

    records = records_of(uow_factory, net.central, net["analyst"].user_id)
    assert len(records) == 1
    entry_id, record = records[0]
    assert accepted.training_entry_id == again.training_entry_id == entry_id
    assert record.user_id == net["analyst"].username and record.completed_on == date(2026, 3, 6)
    assert "food preparations" in record.topic and record.trainer == "Regional lab"
    detail = training.programme_detail(uow_factory(), net["coordinator"], programme_id)
    assert {p.id for p in detail.participants} == {external.id, participation}
    assert set(detail.programme.administrations) == {net.home, net.member_administration}
    assert [m.link for m in detail.programme.materials] == [
        "/knowledge/documents/7",
        "/knowledge/documents/9",
    ]


@SQLITE_ONLY
def test_the_participants_lab_managers_are_told_a_completion_awaits_them(
    uow_factory: Any, net: Network
) -> None:
    participation = completed(uow_factory, net, workshop(uow_factory, net))
    page = notifications.list_notifications(uow_factory(), net["central_manager"], NotificationQuery())
    mine = [n for n in page.items if n.kind is NotificationKind.TRAINING_COMPLETION]
    assert len(mine) == 1 and mine[0].link.endswith(f"#participation-{participation}")
    assert "food preparations" in mine[0].subject


@SQLITE_ONLY
def test_another_laboratorys_manager_cannot_accept_a_completion(uow_factory: Any, net: Network) -> None:
    participation = completed(uow_factory, net, workshop(uow_factory, net))
    with pytest.raises(NotFound):  # they do not even learn the participant exists
        training.decide_completion(
            uow_factory(), net["outsider"], participation, CompletionDecision(accept=True)
        )
    with pytest.raises(PermissionDenied):  # the host vouches, but does not decide for the laboratory
        training.decide_completion(
            uow_factory(), net["coordinator"], participation, CompletionDecision(accept=True)
        )
    assert records_of(uow_factory, net.central, net["analyst"].user_id) == []


@SQLITE_ONLY
def test_a_declined_completion_leaves_no_record_and_cannot_be_accepted_afterwards(
    uow_factory: Any, net: Network
) -> None:
    participation = completed(uow_factory, net, workshop(uow_factory, net))
    manager = net["central_manager"]
    with pytest.raises(ValidationFailed):
        training.decide_completion(uow_factory(), manager, participation, CompletionDecision(accept=False))
    out = training.decide_completion(
        uow_factory(), manager, participation, CompletionDecision(accept=False, reason="not our method")
    )
    assert out.acceptance is Acceptance.DECLINED and out.training_entry_id is None
    with pytest.raises(InvalidTransition):
        training.decide_completion(uow_factory(), manager, participation, CompletionDecision(accept=True))
    assert records_of(uow_factory, net.central, net["analyst"].user_id) == []


@SQLITE_ONLY
def test_a_third_organisation_sees_the_programme_but_not_the_participants_of_others(
    uow_factory: Any, net: Network
) -> None:
    programme_id = workshop(uow_factory, net)
    completed(uow_factory, net, programme_id)
    own = training.register_participant(
        uow_factory(),
        net["local_manager"],
        programme_id,
        ParticipantCreate(user_id=net["local_analyst"].user_id),
    )
    seen = training.programme_detail(uow_factory(), net["local_manager"], programme_id)
    assert [p.id for p in seen.participants] == [own.id]
    assert net["analyst"].username not in seen.model_dump_json()
    with pytest.raises(NotFound):
        training.record_step(
            uow_factory(),
            net["local_manager"],
            seen.participants[0].id - 1,
            ParticipationStep(step="withdrawn"),
        )


@SQLITE_ONLY
def test_a_lab_manager_registers_only_their_own_staff_and_only_the_host_edits(
    uow_factory: Any, net: Network
) -> None:
    programme_id = workshop(uow_factory, net)
    with pytest.raises(NotFound):
        training.register_participant(
            uow_factory(),
            net["local_manager"],
            programme_id,
            ParticipantCreate(user_id=net["analyst"].user_id),
        )
    with pytest.raises(PermissionDenied):
        training.register_participant(
            uow_factory(),
            net["local_manager"],
            programme_id,
            ParticipantCreate(name="A. Kim", org_code=net.central),
        )
    with pytest.raises(PermissionDenied):
        training.edit_programme(
            uow_factory(), net["central_manager"], programme_id, ProgrammeEdit(title="Mine", row_version=1)
        )
    with pytest.raises(PermissionDenied):
        training.create_programme(
            uow_factory(),
            net["analyst"],
            ProgrammeCreate(title="x", kind="seminar", starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 1)),
        )
    read = training.programme_detail(uow_factory(), net["coordinator"], programme_id).programme.row_version
    edited = training.edit_programme(
        uow_factory(),
        net["coordinator"],
        programme_id,
        ProgrammeEdit(ends_on=date(2026, 3, 7), row_version=read),
    )
    assert edited.ends_on == date(2026, 3, 7) and edited.title.startswith("Asia/Pacific")
    # Another edit made on the copy read before the first is refused, and changes nothing.
    with pytest.raises(Conflict, match="changed by someone else"):
        training.edit_programme(
            uow_factory(), net["coordinator"], programme_id, ProgrammeEdit(title="Stale", row_version=read)
        )
    assert (
        training.programme_detail(uow_factory(), net["coordinator"], programme_id).programme.title != "Stale"
    )
    with pytest.raises(ValidationFailed):
        training.edit_programme(
            uow_factory(),
            net["coordinator"],
            programme_id,
            ProgrammeEdit(ends_on=date(2026, 1, 1), row_version=edited.row_version),
        )
    training.register_participant(
        uow_factory(), net["central_manager"], programme_id, ParticipantCreate(user_id=net["analyst"].user_id)
    )
    with pytest.raises(Conflict):
        training.register_participant(
            uow_factory(),
            net["central_manager"],
            programme_id,
            ParticipantCreate(user_id=net["analyst"].user_id),
        )


@SQLITE_ONLY
def test_a_programme_shared_with_the_laboratory_alone_is_hidden_from_others_until_they_take_part(
    uow_factory: Any, net: Network
) -> None:
    programme_id = workshop(uow_factory, net, sharing="laboratory")

    def titles(who: str) -> list[int]:
        shown = training.list_programmes(uow_factory(), net[who], ProgrammeQuery())
        return [p.id for p in (*shown.upcoming, *shown.past)]

    assert programme_id in titles("rcl_manager")
    assert programme_id not in titles("central_manager")
    with pytest.raises(NotFound):
        training.programme_detail(uow_factory(), net["central_manager"], programme_id)
    with pytest.raises(PermissionDenied):
        training.list_programmes(uow_factory(), net["officer"], ProgrammeQuery())
    training.register_participant(
        uow_factory(),
        net["coordinator"],
        programme_id,
        ParticipantCreate(name="Song Ha-eun", org_code=net.central),
    )
    assert programme_id in titles("central_manager")
    assert programme_id not in titles("local_manager")


@SQLITE_ONLY
def test_completion_rules_withdrawal_and_external_participants(uow_factory: Any, net: Network) -> None:
    programme_id = workshop(uow_factory, net)
    host = net["coordinator"]
    external = training.register_participant(
        uow_factory(), host, programme_id, ParticipantCreate(name="Tashi Dorji", org_code=net.member)
    )
    early = ParticipationStep(step="completed", completed_on=date(2026, 3, 1), hours="8")
    with pytest.raises(ValidationFailed):
        training.record_step(uow_factory(), host, external.id, early)
    done = training.record_step(
        uow_factory(),
        host,
        external.id,
        ParticipationStep(step="completed", completed_on=date(2026, 3, 6), hours="8"),
    )
    assert done.acceptance is Acceptance.NOT_ASKED  # no competence record on this server to feed
    with pytest.raises(InvalidTransition):
        training.record_step(uow_factory(), host, external.id, ParticipationStep(step="withdrawn"))
    mine = training.register_participant(
        uow_factory(), net["central_manager"], programme_id, ParticipantCreate(user_id=net["analyst"].user_id)
    )
    with pytest.raises(PermissionDenied):  # only the host records completion
        training.record_step(
            uow_factory(),
            net["central_manager"],
            mine.id,
            ParticipationStep(step="completed", completed_on=date(2026, 3, 6), hours=Decimal(8)),
        )
    out = training.record_step(
        uow_factory(), net["central_manager"], mine.id, ParticipationStep(step="withdrawn")
    )
    assert out.state is ParticipationState.WITHDRAWN
    with pytest.raises(InvalidTransition):
        training.decide_completion(
            uow_factory(), net["central_manager"], mine.id, CompletionDecision(accept=True)
        )


@SQLITE_ONLY
def test_two_managers_accepting_at_once_make_one_training_record(uow_factory: Any, net: Network) -> None:
    participation = completed(uow_factory, net, workshop(uow_factory, net))
    out = auth.add_user(
        uow_factory(),
        auth.UserCreate(
            username=f"{net['central_manager'].username}b",
            full_name="second manager",
            org_code=net.central,
            roles=[Role.LAB_MANAGER],
            password=PASSWORD,
        ),
    )
    managers = [
        net["central_manager"],
        Actor(out.id, out.username, net.central, frozenset({Role.LAB_MANAGER})),
    ]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(actor: Actor) -> None:
        uow = uow_factory()
        barrier.wait()
        try:
            training.decide_completion(uow, actor, participation, CompletionDecision(accept=True))
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=accept, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "ok" in outcomes
    assert len(records_of(uow_factory, net.central, net["analyst"].user_id)) == 1


@SQLITE_ONLY
def test_the_host_registers_users_of_its_own_organisation_only_and_learns_nothing_of_others(
    uow_factory: Any, net: Network
) -> None:
    programme_id = workshop(uow_factory, net)
    host = net["coordinator"]
    for who in ("analyst", "local_manager", "rcl_manager"):  # rcl_manager: the host's own staff
        if who == "rcl_manager":
            own = training.register_participant(
                uow_factory(), host, programme_id, ParticipantCreate(user_id=net[who].user_id)
            )
            assert own.user_id == net[who].user_id
            continue
        with pytest.raises(NotFound) as caught:
            training.register_participant(
                uow_factory(), host, programme_id, ParticipantCreate(user_id=net[who].user_id)
            )
        assert net[who].username not in str(caught.value)
    # Another organisation's people come as named participants, or through their own lab manager.
    guest = training.register_participant(
        uow_factory(), host, programme_id, ParticipantCreate(name="Guest analyst", org_code=net.central)
    )
    assert guest.user_id is None


def test_the_host_amends_a_declined_completion_and_the_lab_is_asked_again(
    uow_factory: Any, net: Network
) -> None:
    participation = completed(uow_factory, net, workshop(uow_factory, net))
    manager, host = net["central_manager"], net["coordinator"]
    training.decide_completion(
        uow_factory(), manager, participation, CompletionDecision(accept=False, reason="32 h is too many")
    )
    amended = ParticipationStep(step="completed", completed_on=date(2026, 3, 6), hours="24", outcome="passed")
    out = training.record_step(uow_factory(), host, participation, amended)
    assert (out.acceptance, out.hours, out.decline_reason) == (Acceptance.PENDING, Decimal(24), "")
    asked = notifications.list_notifications(uow_factory(), manager, NotificationQuery(limit=50)).items
    assert len([n for n in asked if n.kind is NotificationKind.TRAINING_COMPLETION]) == 2
    accepted = training.decide_completion(
        uow_factory(), manager, participation, CompletionDecision(accept=True)
    )
    assert accepted.training_entry_id is not None


@SQLITE_ONLY
def test_a_completion_dated_in_the_future_is_refused(uow_factory: Any, net: Network) -> None:
    programme_id = workshop(uow_factory, net)
    p = training.register_participant(
        uow_factory(), net["central_manager"], programme_id, ParticipantCreate(user_id=net["analyst"].user_id)
    )
    with uow_factory() as uow:
        tomorrow = uow.clock().date() + timedelta(days=1)
    step = ParticipationStep(step="completed", completed_on=tomorrow, hours="8")
    with pytest.raises(ValidationFailed) as caught:
        training.record_step(uow_factory(), net["coordinator"], p.id, step)
    assert caught.value.field == "completed_on"
    (kept,) = training.programme_detail(uow_factory(), net["coordinator"], programme_id).participants
    assert kept.state is ParticipationState.REGISTERED
