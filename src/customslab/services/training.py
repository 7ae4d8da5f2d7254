"""Use cases of training across the network: programmes, participants, completions, and the acceptance
that turns a completion into a competence record of the participant's own laboratory (17025 6.2.5).

The views are in `training_views`; the rules in `domain.training`. Who sees a programme is the table's
cell for Kind.TRAINING narrowed by the programme's sharing level (`sees_programme`); who sees a
participant is the host, or the participant's own organisation.
"""

from __future__ import annotations

from dataclasses import replace

from customslab.domain.access import Action, Actor, require
from customslab.domain.enums import NotificationKind, Role
from customslab.domain.errors import Conflict, NotFound, ValidationFailed
from customslab.domain.training import (
    Acceptance,
    Participant,
    Participation,
    ParticipationState,
    Programme,
    assert_may_decide,
    assert_may_register,
    assert_may_run,
    sees_participant,
    sees_programme,
    training_record,
)
from customslab.services.notifications import notify, subject_for
from customslab.services.organisations import check_version
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_ports import TrainingEntry
from customslab.services.training_ports import ParticipationEntry, ProgrammeEntry
from customslab.services.training_views import (
    AwaitingView,
    CompletionDecision,
    ParticipantCreate,
    ParticipationStep,
    ParticipationView,
    ProgrammeCreate,
    ProgrammeDetail,
    ProgrammeEdit,
    ProgrammeList,
    ProgrammeQuery,
    ProgrammeView,
    StaffChoice,
    Step,
)

UoW = AbstractUnitOfWork


def _host_name(uow: UoW, code: str) -> str:
    org = uow.repo.org(code)
    return org.name if org is not None else code


def _checked_administrations(uow: UoW, codes: list[str]) -> tuple[str, ...]:
    for code in codes:
        if uow.repo.administration(code) is None:
            raise ValidationFailed(f"There is no administration '{code}'.", field="administrations")
    return tuple(dict.fromkeys(codes))


def _participations(uow: UoW, programme_id: int) -> list[ParticipationEntry]:
    return uow.quality.find(ParticipationEntry, programme_entry_id=programme_id)


def _visible(uow: UoW, actor: Actor, programme_id: int) -> tuple[ProgrammeEntry, list[ParticipationEntry]]:
    """The programme and its participations, or NotFound where the actor may not know it exists."""
    require(actor, Action.READ_KNOWLEDGE)
    entry = uow.quality.get(ProgrammeEntry, programme_id)
    taking_part = _participations(uow, programme_id) if entry is not None else []
    orgs = {p.org_code for p in taking_part}
    if entry is None or not sees_programme(actor, uow.repo.directory(), entry.programme, orgs):
        raise NotFound(f"Training programme {programme_id} was not found.")
    return entry, taking_part


def _view(uow: UoW, entry: ProgrammeEntry) -> ProgrammeView:
    return ProgrammeView.of(entry, _host_name(uow, entry.host_code))


def create_programme(uow: UoW, actor: Actor, cmd: ProgrammeCreate) -> ProgrammeView:
    """Open a programme hosted by the actor's organisation (lab managers and network coordinators)."""
    require(actor, Action.MANAGE_TRAINING)
    with uow:
        uow.act_as(actor.username)
        programme = Programme(
            title=cmd.title,
            kind=cmd.kind,
            starts_on=cmd.starts_on,
            ends_on=cmd.ends_on,
            host_code=actor.org_code,
            administrations=_checked_administrations(uow, cmd.administrations),
            description=cmd.description,
            materials=tuple(dict.fromkeys(cmd.materials)),
            sharing=cmd.sharing,
        )
        entry = ProgrammeEntry(actor.org_code, programme, actor.username, uow.clock())
        uow.quality.add(entry)
        view = _view(uow, entry)
        uow.commit()
        return view


def edit_programme(uow: UoW, actor: Actor, programme_id: int, cmd: ProgrammeEdit) -> ProgrammeView:
    """Change a programme's details (its host's managers and coordinators); fields left out stay. A
    change made since `row_version` was read is a 409."""
    require(actor, Action.MANAGE_TRAINING)
    with uow:
        uow.act_as(actor.username)
        entry, _ = _visible(uow, actor, programme_id)
        assert_may_run(actor, entry.programme)
        check_version(f"Programme {programme_id}", entry, cmd.row_version)
        changes = cmd.model_dump(exclude_none=True, exclude={"row_version"})
        if "administrations" in changes:
            changes["administrations"] = _checked_administrations(uow, cmd.administrations or [])
        if "materials" in changes:
            changes["materials"] = tuple(dict.fromkeys(cmd.materials or []))
        entry.programme = replace(entry.programme, **changes)
        entry.updated_at = uow.clock()
        view = _view(uow, entry)
        uow.commit()
        return view


def list_programmes(uow: UoW, actor: Actor, query: ProgrammeQuery) -> ProgrammeList:
    """The programmes the actor sees, upcoming (and running) then past, filtered; and, for a lab
    manager, the completions of their staff awaiting acceptance."""
    require(actor, Action.READ_KNOWLEDGE)
    with uow:
        directory = uow.repo.directory()
        today = uow.clock().date()
        taking_part: dict[int, set[str]] = {}
        for p in uow.quality.find(ParticipationEntry):
            taking_part.setdefault(p.programme_entry_id, set()).add(p.org_code)
        shown = [
            e
            for e in uow.quality.find(ProgrammeEntry)
            if e.id is not None
            and sees_programme(actor, directory, e.programme, taking_part.get(e.id, ()))
            and query.matches(e.programme)
        ]
        views = [_view(uow, e) for e in shown]
        upcoming = sorted((v for v in views if v.ends_on >= today), key=lambda v: v.starts_on)
        past = sorted((v for v in views if v.ends_on < today), key=lambda v: v.starts_on, reverse=True)
        return ProgrammeList(upcoming=upcoming, past=past, awaiting=_awaiting(uow, actor, directory))


def _awaiting(uow: UoW, actor: Actor, directory: object) -> list[AwaitingView]:
    if not actor.has(Role.LAB_MANAGER):
        return []
    out = []
    for p in uow.quality.find(
        ParticipationEntry, org_code=actor.org_code, state=ParticipationState.COMPLETED
    ):
        if p.participation.acceptance is Acceptance.PENDING:
            programme = uow.quality.get(ProgrammeEntry, p.programme_entry_id)
            assert programme is not None  # a participation references its programme
            out.append(AwaitingView.of(programme, p))
    return out


def programme_detail(uow: UoW, actor: Actor, programme_id: int) -> ProgrammeDetail:
    """A programme, its materials, the participants the actor may see, and what the actor may do."""
    with uow:
        entry, taking_part = _visible(uow, actor, programme_id)
        programme = entry.programme
        shown = [p for p in taking_part if sees_participant(actor, programme, p.participation.participant)]
        hosting = actor.org_code == programme.host_code and actor.has(
            Role.LAB_MANAGER, Role.NETWORK_COORDINATOR
        )
        staff = [
            StaffChoice(id=u.id, name=u.full_name, username=u.username)
            for u in uow.repo.users(actor.org_code)
            if u.active and u.id is not None
        ]
        return ProgrammeDetail(
            programme=_view(uow, entry),
            participants=[ParticipationView.of(p, actor, programme) for p in shown],
            may_run=hosting,
            may_register_staff=hosting or actor.has(Role.LAB_MANAGER),
            staff=staff if (hosting or actor.has(Role.LAB_MANAGER)) else [],
        )


def register_participant(
    uow: UoW, actor: Actor, programme_id: int, cmd: ParticipantCreate
) -> ParticipationView:
    """Register a participant: a user of this server by the manager (or host coordinator) of their own
    organisation only; the host also registers external named participants. A user id of another
    organisation is not found: its name and laboratory are not the actor's to read."""
    require(actor, Action.MANAGE_TRAINING)
    with uow:
        uow.act_as(actor.username)
        entry, taking_part = _visible(uow, actor, programme_id)
        if cmd.user_id is not None:
            user = uow.repo.user(cmd.user_id)
            if user is None or not user.active or user.id is None:
                raise NotFound(f"User {cmd.user_id} was not found.", field="user_id")
            if user.org_code != actor.org_code:
                raise NotFound(f"User {cmd.user_id} was not found.", field="user_id")
            participant = Participant(user.full_name or user.username, user.org_code, user.id, user.username)
        else:
            org = uow.repo.org(cmd.org_code or "")
            if org is None:
                raise ValidationFailed(f"There is no organisation '{cmd.org_code}'.", field="org_code")
            participant = Participant(cmd.name or "", org.code)
        assert_may_register(actor, entry.programme, participant.org_code)
        _no_double(taking_part, participant)
        _widen_administrations(uow, entry, participant.org_code)
        p = ParticipationEntry(
            programme_id,
            participant.org_code,
            Participation(participant),
            ParticipationState.REGISTERED,
            actor.username,
            uow.clock(),
            user_id=participant.user_id,
        )
        uow.quality.add(p)
        view = ParticipationView.of(p, actor, entry.programme)
        uow.commit()
        return view


def _no_double(taking_part: list[ParticipationEntry], participant: Participant) -> None:
    for p in taking_part:
        other = p.participation.participant
        same = (
            other.user_id == participant.user_id
            if participant.user_id is not None
            else (
                other.user_id is None
                and other.name == participant.name
                and other.org_code == participant.org_code
            )
        )
        if same and p.participation.state is not ParticipationState.WITHDRAWN:
            raise Conflict(f"{participant.name} is already registered for this programme.", field="user_id")


def _widen_administrations(uow: UoW, entry: ProgrammeEntry, org_code: str) -> None:
    """A participant's administration takes part in the programme."""
    org = uow.repo.org(org_code)
    admin = org.administration_code if org is not None else None
    if admin and admin not in entry.programme.administrations:
        entry.programme = replace(entry.programme, administrations=(*entry.programme.administrations, admin))


def _participation(
    uow: UoW, actor: Actor, participation_id: int
) -> tuple[ParticipationEntry, ProgrammeEntry]:
    p = uow.quality.get(ParticipationEntry, participation_id)
    if p is not None:
        entry, _ = _visible(uow, actor, p.programme_entry_id)
        if sees_participant(actor, entry.programme, p.participation.participant):
            return p, entry
    raise NotFound(f"Participation {participation_id} was not found.")


def record_step(uow: UoW, actor: Actor, participation_id: int, cmd: ParticipationStep) -> ParticipationView:
    """The host records attendance or completion; the host or the participant's own lab manager records
    a withdrawal. A completion of a user of this server asks their lab managers to accept it."""
    require(actor, Action.MANAGE_TRAINING)
    with uow:
        uow.act_as(actor.username)
        p, entry = _participation(uow, actor, participation_id)
        programme = entry.programme
        if cmd.step is Step.WITHDRAWN and actor.org_code == p.org_code and actor.has(Role.LAB_MANAGER):
            p.participation = p.participation.withdraw()
        else:
            assert_may_run(actor, programme)
            if cmd.step is Step.ATTENDED:
                p.participation = p.participation.attend()
            elif cmd.step is Step.WITHDRAWN:
                p.participation = p.participation.withdraw()
            else:
                today = uow.clock().date()
                p.participation = p.participation.complete(programme, cmd.completion(actor.username), today)
        p.state = p.participation.state
        if p.participation.acceptance is Acceptance.PENDING:
            _ask_acceptance(uow, p, programme)
        view = ParticipationView.of(p, actor, programme)
        uow.commit()
        return view


def _ask_acceptance(uow: UoW, p: ParticipationEntry, programme: Programme) -> None:
    managers = [
        u.id
        for u in uow.repo.users(p.org_code)
        if u.active and Role.LAB_MANAGER in u.roles and u.id is not None
    ]
    ref = f"{p.participation.participant.name}, {programme.title}"
    kind = NotificationKind.TRAINING_COMPLETION
    link = f"/training/programmes/{p.programme_entry_id}#participation-{p.id}"
    # Keyed by the moment it was recorded: a completion amended after a decline asks again.
    key = f"training:participation:{p.id}:completed:{uow.clock():%Y%m%dT%H%M%S%f}"
    notify(uow, managers, kind, key, subject_for(kind, ref), link)


def decide_completion(
    uow: UoW, actor: Actor, participation_id: int, cmd: CompletionDecision
) -> ParticipationView:
    """The participant's own lab manager accepts the completion, which becomes a training record of
    their laboratory (once: accepting again returns the same record), or declines it with a reason."""
    with uow:
        uow.act_as(actor.username)
        p, entry = _participation(uow, actor, participation_id)
        assert_may_decide(actor, p.participation)
        today = uow.clock().date()
        if cmd.accept and p.participation.acceptance is Acceptance.ACCEPTED and p.training_entry_id:
            return ParticipationView.of(p, actor, entry.programme)
        if not cmd.accept:
            p.participation = p.participation.decline(actor.username, today, cmd.reason)
        else:
            p.participation = p.participation.accept(actor.username, today)
            _record_training(uow, actor, p, entry)
        view = ParticipationView.of(p, actor, entry.programme)
        uow.commit()
        return view


def _record_training(uow: UoW, actor: Actor, p: ParticipationEntry, entry: ProgrammeEntry) -> None:
    user_id = p.participation.participant.user_id
    assert user_id is not None  # accept() refuses an external participant
    record = training_record(entry.programme, p.participation, _host_name(uow, entry.host_code))
    training = TrainingEntry(p.org_code, user_id, record, actor.username, uow.clock())
    uow.quality.add(training)
    p.training_entry_id = training.id
