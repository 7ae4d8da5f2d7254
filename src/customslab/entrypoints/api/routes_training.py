"""Training programmes and workshops across the network, their participants, and completions accepted
into the participant's laboratory's competence records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from customslab.domain.training import ProgrammeKind
from customslab.entrypoints.api.deps import PathId, SignedIn
from customslab.services import training
from customslab.services.contract import parse
from customslab.services.training_views import (
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
)

router = APIRouter(prefix="/api/training", tags=["training"])

Year = Annotated[int | None, Query(ge=1900, le=2199, description="Programmes running in this year.")]
# The same bounds as ProgrammeQuery's fields, stated in the schema (one line; no NUL).
HostCode = Annotated[
    str, Query(max_length=32, pattern=r"^[^\x00-\x1f\x7f]*$", description="The host organisation's code.")
]
Words = Annotated[
    str, Query(max_length=200, pattern=r"^[^\x00]*$", description="Words of the title or description.")
]


@router.get("/programmes")
def list_programmes(
    caller: SignedIn,
    kind: ProgrammeKind | None = None,
    host: HostCode = "",
    year: Year = None,
    text: Words = "",
) -> ProgrammeList:
    """The programmes I see, upcoming then past, and my staff's completions awaiting my acceptance."""
    query = parse(ProgrammeQuery, {"kind": kind, "host": host, "year": year, "text": text})
    return training.list_programmes(caller.uow, caller.actor, query)


@router.post("/programmes", status_code=201)
def create_programme(body: ProgrammeCreate, caller: SignedIn) -> ProgrammeView:
    """Open a programme hosted by my organisation (lab managers and network coordinators)."""
    return training.create_programme(caller.uow, caller.actor, body)


@router.get("/programmes/{programme_id}")
def get_programme(programme_id: PathId, caller: SignedIn) -> ProgrammeDetail:
    """A programme, its materials, and the participants I may see (the host: all; others: their own)."""
    return training.programme_detail(caller.uow, caller.actor, programme_id)


@router.patch("/programmes/{programme_id}")
def edit_programme(programme_id: PathId, body: ProgrammeEdit, caller: SignedIn) -> ProgrammeView:
    """Change a programme's details (its host only); fields left out stay."""
    return training.edit_programme(caller.uow, caller.actor, programme_id, body)


@router.post("/programmes/{programme_id}/participants", status_code=201)
def register_participant(
    programme_id: PathId, body: ParticipantCreate, caller: SignedIn
) -> ParticipationView:
    """Register a participant: the host registers anyone, a lab manager their own staff."""
    return training.register_participant(caller.uow, caller.actor, programme_id, body)


@router.post("/participations/{participation_id}/completion")
def record_step(participation_id: PathId, body: ParticipationStep, caller: SignedIn) -> ParticipationView:
    """Record attendance, completion (date, hours, outcome) or withdrawal of a participant."""
    return training.record_step(caller.uow, caller.actor, participation_id, body)


@router.post("/participations/{participation_id}/acceptance")
def decide_completion(
    participation_id: PathId, body: CompletionDecision, caller: SignedIn
) -> ParticipationView:
    """Accept a completion into my laboratory's competence records (once), or decline it with a reason."""
    return training.decide_completion(caller.uow, caller.actor, participation_id, body)
