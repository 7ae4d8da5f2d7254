"""The typed contract of the training use cases: commands in, views out (the API, the pages and the
tests share them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, WithJsonSchema, model_validator

from customslab.domain.access import Actor, SharingLevel
from customslab.domain.enums import Role
from customslab.domain.training import (
    MAX_HOURS,
    Acceptance,
    Completion,
    Participation,
    ParticipationState,
    Programme,
    ProgrammeKind,
)
from customslab.services.contract import Command, Day, Flag, Id, Positive, Text, View
from customslab.services.training_ports import ParticipationEntry, ProgrammeEntry

Code = Annotated[str, Text(32, 1, single_line=True)]
MaterialIds = Annotated[list[Id], Field(max_length=50, description="Knowledge document ids.")]
#: Hours of training completed: more than 0, at most MAX_HOURS (the schema states both bounds).
Hours = Annotated[
    Positive,
    Field(le=MAX_HOURS),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": float(MAX_HOURS)}),
]
AdministrationCodes = Annotated[list[Code], Field(max_length=60, description="Administration codes.")]


def material_link(document_id: int) -> str:
    """Where a material is read: the knowledge base's page of the document."""
    return f"/knowledge/documents/{document_id}"


class ProgrammeCreate(Command):
    """A workshop, training course, professional programme or seminar, hosted by my organisation."""

    title: Annotated[str, Text(300, 1)]
    kind: ProgrammeKind
    starts_on: Day
    ends_on: Day
    administrations: AdministrationCodes = []
    description: Annotated[str, Text(5000)] = ""
    materials: MaterialIds = []
    sharing: SharingLevel = Field(default=SharingLevel.NETWORK, description="Who sees the programme.")

    @model_validator(mode="after")
    def _in_order(self) -> ProgrammeCreate:
        if self.ends_on < self.starts_on:
            raise ValueError("the programme cannot end before it starts")
        return self


class ProgrammeEdit(Command):
    """The details to change; fields left out (or null) stay as they are. `row_version` is the version
    read: a change made since is a 409."""

    row_version: Annotated[int, Field(ge=1, le=2**31 - 1)] = Field(
        description="The row_version of the programme as read; a change made since is a 409."
    )
    title: Annotated[str, Text(300, 1)] | None = None
    kind: ProgrammeKind | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    administrations: AdministrationCodes | None = None
    description: Annotated[str, Text(5000)] | None = None
    materials: MaterialIds | None = None
    sharing: SharingLevel | None = None


class ProgrammeQuery(Command):
    """Filters of the programme list."""

    kind: ProgrammeKind | None = None
    host: Annotated[str, Text(32, single_line=True)] = ""
    year: Annotated[int, Field(ge=1900, le=2199)] | None = None
    text: Annotated[str, Text(200)] = Field(default="", description="Words of the title or description.")

    def matches(self, p: Programme) -> bool:
        return (
            (self.kind is None or p.kind is self.kind)
            and (not self.host or p.host_code == self.host)
            and (self.year is None or p.starts_on.year <= self.year <= p.ends_on.year)
            and (not self.text or self.text.casefold() in f"{p.title} {p.description}".casefold())
        )


class ParticipantCreate(Command):
    """A user of this server (`user_id`), or an external person: `name` and `org_code`."""

    user_id: Id | None = None
    name: Annotated[str, Text(200)] = ""
    org_code: Annotated[str, Text(32, single_line=True)] = ""

    @model_validator(mode="after")
    def _one_of(self) -> ParticipantCreate:
        if self.user_id is None and not (self.name and self.org_code):
            raise ValueError("name a user (user_id), or an external person (name and org_code)")
        if self.user_id is not None and (self.name or self.org_code):
            raise ValueError("a user is named by user_id alone")
        return self


class Step(StrEnum):
    ATTENDED = "attended"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class ParticipationStep(Command):
    """What the host records of a participant: attendance, completion (date, hours, outcome), or a
    withdrawal."""

    step: Step
    completed_on: Day | None = None
    hours: Hours | None = None
    outcome: Annotated[str, Text(300)] = ""

    @model_validator(mode="after")
    def _completion_given(self) -> ParticipationStep:
        if self.step is Step.COMPLETED and (self.completed_on is None or self.hours is None):
            raise ValueError("a completion needs its date (completed_on) and hours")
        return self

    def completion(self, by: str) -> Completion:
        assert self.completed_on is not None and self.hours is not None  # the validator checked
        return Completion(self.completed_on, self.hours, self.outcome, by)


class CompletionDecision(Command):
    """The participant's lab manager's answer: accept into the competence record, or decline why."""

    accept: Flag
    reason: Annotated[str, Text(500)] = ""


class MaterialLink(View):
    id: int
    link: str


class ProgrammeView(View):
    id: int
    title: str
    kind: ProgrammeKind
    starts_on: date
    ends_on: date
    host_code: str
    host_name: str
    administrations: list[str]
    description: str
    materials: list[MaterialLink]
    sharing: SharingLevel
    created_by: str
    created_at: datetime
    row_version: int

    @classmethod
    def of(cls, e: ProgrammeEntry, host_name: str) -> ProgrammeView:
        p = e.programme
        return cls.of_record(
            p,
            id=e.id,
            host_name=host_name,
            administrations=list(p.administrations),
            materials=[MaterialLink(id=m, link=material_link(m)) for m in p.materials],
            created_by=e.created_by,
            created_at=e.created_at,
            row_version=getattr(e, "row_version", None) or 1,
        )


class ParticipationView(View):
    """A participant as the host or their own organisation sees them, and what the viewer may do."""

    id: int
    programme_id: int
    name: str
    org_code: str
    user_id: int | None
    username: str
    state: ParticipationState
    completed_on: date | None
    hours: Decimal | None
    outcome: str
    acceptance: Acceptance
    decided_by: str
    decided_on: date | None
    decline_reason: str
    training_entry_id: int | None
    may_decide: bool

    @classmethod
    def of(cls, e: ParticipationEntry, actor: Actor, programme: Programme) -> ParticipationView:
        p: Participation = e.participation
        done = p.completion
        return cls.of_record(
            p,
            id=e.id,
            programme_id=e.programme_entry_id,
            name=p.participant.name,
            org_code=p.participant.org_code,
            user_id=p.participant.user_id,
            username=p.participant.username,
            completed_on=done.completed_on if done else None,
            hours=done.hours if done else None,
            outcome=done.outcome if done else "",
            training_entry_id=e.training_entry_id,
            may_decide=p.acceptance is Acceptance.PENDING
            and actor.has(Role.LAB_MANAGER)
            and actor.org_code == p.participant.org_code,
        )


class AwaitingView(View):
    """A completion of one of my staff awaiting my acceptance."""

    participation_id: int
    programme_id: int
    programme_title: str
    name: str
    completed_on: date
    hours: Decimal

    @classmethod
    def of(cls, programme: ProgrammeEntry, e: ParticipationEntry) -> AwaitingView:
        done = e.participation.completion
        assert done is not None and e.id is not None and programme.id is not None
        return cls(
            participation_id=e.id,
            programme_id=programme.id,
            programme_title=programme.programme.title,
            name=e.participation.participant.name,
            completed_on=done.completed_on,
            hours=done.hours,
        )


class ProgrammeList(View):
    upcoming: list[ProgrammeView]
    past: list[ProgrammeView]
    awaiting: list[AwaitingView]


class StaffChoice(View):
    id: int
    name: str
    username: str


class ProgrammeDetail(View):
    programme: ProgrammeView
    participants: list[ParticipationView]
    may_run: bool
    may_register_staff: bool
    staff: list[StaffChoice]
