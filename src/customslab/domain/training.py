"""Training programmes and workshops across the network, their participants, and the two-sided rule
that turns a completion into a competence record (ISO/IEC 17025 6.2.5).

A host (a laboratory or an RCL) runs a programme; its participants come from its own or other
administrations. The host says who attended and who completed, with the date, hours and outcome. A
completion becomes a training record in the participant's OWN laboratory only when that laboratory's
manager accepts it: the host vouches for the training, the laboratory decides what enters its
competence records (6.2.2: the laboratory documents the competence requirements of its own staff).

Pure rules; the services store the values and apply them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from customslab.domain.access import (
    SHARING_RELATIONS,
    Actor,
    Directory,
    Holding,
    Kind,
    Relation,
    SharingLevel,
    relations,
    relations_seen,
)
from customslab.domain.enums import Role
from customslab.domain.errors import InvalidTransition, PermissionDenied, ValidationFailed
from customslab.domain.quality.competence import TrainingRecord

#: The longest a programme may run: a professional programme of a year or so, with room to spare.
MAX_PROGRAMME_DAYS = 731
#: The most hours one completion may claim (a year of full-time work is about 1 800).
MAX_HOURS = Decimal(2000)


class ProgrammeKind(StrEnum):
    WORKSHOP = "workshop"
    TRAINING_COURSE = "training_course"
    PROFESSIONAL_PROGRAMME = "professional_programme"
    SEMINAR = "seminar"


class ParticipationState(StrEnum):
    """registered → attended → completed; registered or attended → withdrawn."""

    REGISTERED = "registered"
    ATTENDED = "attended"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class Acceptance(StrEnum):
    """The participant's laboratory's answer to a completion (only once it is completed)."""

    NOT_ASKED = "not_asked"
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(frozen=True)
class Programme:
    title: str
    kind: ProgrammeKind
    starts_on: date
    ends_on: date
    host_code: str
    administrations: tuple[str, ...] = ()
    description: str = ""
    materials: tuple[int, ...] = ()
    sharing: SharingLevel = SharingLevel.NETWORK

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValidationFailed("A programme needs a title.", field="title")
        if self.ends_on < self.starts_on:
            raise ValidationFailed(
                f"The programme cannot end ({self.ends_on}) before it starts ({self.starts_on}).",
                field="ends_on",
            )
        if (self.ends_on - self.starts_on).days > MAX_PROGRAMME_DAYS:
            raise ValidationFailed("A programme runs two years at most; split a longer one.", field="ends_on")

    def is_past(self, today: date) -> bool:
        return self.ends_on < today


@dataclass(frozen=True)
class Participant:
    """A user of this server (`user_id`), or an external named person of an organisation."""

    name: str
    org_code: str
    user_id: int | None = None
    username: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValidationFailed("A participant needs a name.", field="name")


@dataclass(frozen=True)
class Completion:
    completed_on: date
    hours: Decimal
    outcome: str = ""  # the assessment: "passed the practical test", a mark, "attended all sessions"
    recorded_by: str = ""


@dataclass(frozen=True)
class Participation:
    participant: Participant
    state: ParticipationState = ParticipationState.REGISTERED
    completion: Completion | None = None
    acceptance: Acceptance = Acceptance.NOT_ASKED
    decided_by: str = ""
    decided_on: date | None = None
    decline_reason: str = ""

    @property
    def feeds_a_record(self) -> bool:
        """Whether the completion can enter a competence record on this server (a user of it)."""
        return self.participant.user_id is not None

    def attend(self) -> Participation:
        if self.state is not ParticipationState.REGISTERED:
            raise InvalidTransition(
                f"Attendance is recorded for a registered participant, not a {self.state}."
            )
        return replace(self, state=ParticipationState.ATTENDED)

    def complete(self, programme: Programme, completion: Completion, today: date) -> Participation:
        """The host records the completion; the participant's laboratory is then asked to accept it. A
        completion the laboratory declined may be recorded again, amended: it is asked again."""
        amending = self.state is ParticipationState.COMPLETED and self.acceptance is Acceptance.DECLINED
        if self.state not in (ParticipationState.REGISTERED, ParticipationState.ATTENDED) and not amending:
            raise InvalidTransition(f"A {self.state} participation cannot be completed.")
        if completion.completed_on > today:
            raise ValidationFailed(
                f"A completion cannot be in the future (today is {today}).", field="completed_on"
            )
        if completion.completed_on < programme.starts_on:
            raise ValidationFailed(
                f"A completion cannot precede the programme's start ({programme.starts_on}).",
                field="completed_on",
            )
        if not Decimal(0) < completion.hours <= MAX_HOURS:
            raise ValidationFailed(f"Hours must be more than 0 and at most {MAX_HOURS}.", field="hours")
        asked = Acceptance.PENDING if self.feeds_a_record else Acceptance.NOT_ASKED
        return replace(
            self,
            state=ParticipationState.COMPLETED,
            completion=completion,
            acceptance=asked,
            decided_by="",
            decided_on=None,
            decline_reason="",
        )

    def withdraw(self) -> Participation:
        if self.state in (ParticipationState.COMPLETED, ParticipationState.WITHDRAWN):
            raise InvalidTransition(f"A {self.state} participation cannot be withdrawn.")
        return replace(self, state=ParticipationState.WITHDRAWN)

    def _decidable(self) -> None:
        if self.state is not ParticipationState.COMPLETED or self.completion is None:
            raise InvalidTransition("Only a completion the host has recorded can be accepted or declined.")
        if not self.feeds_a_record:
            raise InvalidTransition(
                "An external participant has no competence record on this server: their laboratory keeps it."
            )
        if self.acceptance is not Acceptance.PENDING:
            raise InvalidTransition(f"This completion was already {self.acceptance}.")

    def accept(self, by: str, on: date) -> Participation:
        self._decidable()
        return replace(self, acceptance=Acceptance.ACCEPTED, decided_by=by, decided_on=on)

    def decline(self, by: str, on: date, reason: str) -> Participation:
        self._decidable()
        if not reason.strip():
            raise ValidationFailed("Say why the completion is declined.", field="reason")
        return replace(
            self, acceptance=Acceptance.DECLINED, decided_by=by, decided_on=on, decline_reason=reason
        )


def assert_may_run(actor: Actor, programme: Programme) -> None:
    """Only the host's lab managers and network coordinators run a programme (edit it, record
    attendance and completion)."""
    if actor.org_code != programme.host_code or not actor.has(Role.LAB_MANAGER, Role.NETWORK_COORDINATOR):
        raise PermissionDenied("Only the host's lab managers and network coordinators run this programme.")


def assert_may_register(actor: Actor, programme: Programme, participant_org: str) -> None:
    """The host registers its own staff and external named participants; a laboratory's manager
    registers their own staff (the service accepts a user id of the actor's own organisation only)."""
    if actor.org_code == programme.host_code and actor.has(Role.LAB_MANAGER, Role.NETWORK_COORDINATOR):
        return
    if actor.has(Role.LAB_MANAGER) and participant_org == actor.org_code:
        return
    raise PermissionDenied("A lab manager registers only the staff of their own laboratory.")


def assert_may_decide(actor: Actor, participation: Participation) -> None:
    """Only a lab manager of the participant's own laboratory accepts or declines a completion."""
    if not actor.has(Role.LAB_MANAGER) or actor.org_code != participation.participant.org_code:
        raise PermissionDenied(
            "Only a lab manager of the participant's own laboratory accepts a completion into its records."
        )


def sees_programme(
    actor: Actor, directory: Directory, programme: Programme, participant_orgs: Iterable[str] = ()
) -> bool:
    """Whether the actor sees a programme: the role's cell of the table for training, narrowed by the
    programme's sharing level; an organisation with participants in it takes part (SHARED) whatever
    the level, so that its manager can follow and accept its staff's completions."""
    holding = Holding(frozenset({programme.host_code}), shared=frozenset(participant_orgs))
    found = relations(actor, directory, holding)
    opened = SHARING_RELATIONS[programme.sharing] | {Relation.SHARED}
    return bool(relations_seen(actor, Kind.TRAINING) & opened & found)


def sees_participant(actor: Actor, programme: Programme, participant: Participant) -> bool:
    """The host sees every participant; another organisation only its own (its staff's personal data
    stays with it)."""
    return actor.org_code in (programme.host_code, participant.org_code)


def training_record(programme: Programme, participation: Participation, host_name: str) -> TrainingRecord:
    """The competence record an accepted completion becomes in the participant's laboratory."""
    completion = participation.completion
    if completion is None or participation.acceptance is not Acceptance.ACCEPTED:
        raise InvalidTransition("Only an accepted completion becomes a training record.")
    topic = f"{programme.title} ({programme.kind.value.replace('_', ' ')}, {completion.hours} h)"
    if completion.outcome:
        topic += f": {completion.outcome}"
    return TrainingRecord(
        user_id=participation.participant.username or participation.participant.name,
        topic=topic[:300],
        completed_on=completion.completed_on,
        trainer=host_name[:200],
    )
