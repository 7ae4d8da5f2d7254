"""The training pages: programmes of the network (upcoming and past), a programme with its materials and
the participants the reader may see, and the host's and the participant's laboratory's forms.

Each form posts to the use case the API's `/api/training/...` routes call, with the same command.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from customslab.domain.access import PERMISSIONS, Action, SharingLevel
from customslab.domain.training import ProgrammeKind
from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.web.common import N_, Form, PageActor, flash_redirect, render, say, uow_of
from customslab.entrypoints.web.quality_forms import command
from customslab.services import training
from customslab.services.contract import parse
from customslab.services.training_views import (
    CompletionDecision,
    ParticipantCreate,
    ParticipationStep,
    ProgrammeCreate,
    ProgrammeEdit,
    ProgrammeQuery,
)

router = APIRouter(include_in_schema=False)

#: The words the pages show for the kinds, states and sharing levels (the template translates them).
WORDS: dict[str, str] = {
    "workshop": N_("workshop"),
    "training_course": N_("training course"),
    "professional_programme": N_("professional programme"),
    "seminar": N_("seminar"),
    "registered": N_("registered"),
    "attended": N_("attended"),
    "completed": N_("completed"),
    "withdrawn": N_("withdrawn"),
    "not_asked": N_("not asked"),
    "pending": N_("awaiting acceptance"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "laboratory": N_("my laboratory only"),
    "administration": N_("my administration"),
    "network": N_("the network"),
    "partners": N_("the network and partner deployments"),
}
FILTERS = ("kind", "host", "year", "text")


@router.get("/training")
def programmes(request: Request, actor: PageActor) -> Response:
    """Programmes I see, upcoming and past, with filters; completions of my staff awaiting me."""
    given = {k: v for k in FILTERS if (v := request.query_params.get(k, "").strip())}
    query = parse(ProgrammeQuery, given)
    data = training.list_programmes(uow_of(request), actor, query)
    context = {
        "data": data,
        "query": query,
        "words": WORDS,
        "kinds": list(ProgrammeKind),
        "levels": list(SharingLevel),
        "may_open": bool(actor.roles & PERMISSIONS[Action.MANAGE_TRAINING]),
    }
    return render(request, "training.html", context)


@router.post("/training/programmes")
def create(request: Request, actor: PageActor, form: Form) -> Response:
    """Open a programme hosted by my organisation."""
    cmd = command(request, ProgrammeCreate, form, words=("administrations", "materials"))
    out = training.create_programme(uow_of(request), actor, cmd)
    return flash_redirect(
        request, f"/training/programmes/{out.id}", say(request, "Programme {title} opened.", title=out.title)
    )


@router.get("/training/programmes/{programme_id}")
def programme(request: Request, actor: PageActor, programme_id: PathId) -> Response:
    """A programme, its materials, the participants I may see, and my forms."""
    detail = training.programme_detail(uow_of(request), actor, programme_id)
    context = {"d": detail, "words": WORDS, "kinds": list(ProgrammeKind), "levels": list(SharingLevel)}
    return render(request, "training_programme.html", context)


@router.post("/training/programmes/{programme_id}/edit")
def edit(request: Request, actor: PageActor, programme_id: PathId, form: Form) -> Response:
    """Change the programme's details (the host)."""
    cmd = command(request, ProgrammeEdit, form, words=("administrations", "materials"))
    out = training.edit_programme(uow_of(request), actor, programme_id, cmd)
    return flash_redirect(
        request, f"/training/programmes/{out.id}", say(request, "Programme {title} saved.", title=out.title)
    )


@router.post("/training/programmes/{programme_id}/participants")
def register(request: Request, actor: PageActor, programme_id: PathId, form: Form) -> Response:
    """Register a participant (the host: anyone; a lab manager: their own staff)."""
    out = training.register_participant(
        uow_of(request), actor, programme_id, command(request, ParticipantCreate, form)
    )
    return flash_redirect(
        request,
        f"/training/programmes/{programme_id}#participants",
        say(request, "{name} registered.", name=out.name),
    )


@router.post("/training/participations/{participation_id}/completion")
def step(request: Request, actor: PageActor, participation_id: PathId, form: Form) -> Response:
    """Record attendance, completion or withdrawal of a participant."""
    out = training.record_step(
        uow_of(request), actor, participation_id, command(request, ParticipationStep, form)
    )
    return flash_redirect(
        request,
        f"/training/programmes/{out.programme_id}#participation-{out.id}",
        say(request, "{name}: {state}.", name=out.name, state=say(request, WORDS[out.state])),
    )


@router.post("/training/participations/{participation_id}/acceptance")
def decide(request: Request, actor: PageActor, participation_id: PathId, form: Form) -> Response:
    """Accept a completion into my laboratory's competence records, or decline it."""
    cmd = command(request, CompletionDecision, form)
    out = training.decide_completion(uow_of(request), actor, participation_id, cmd)
    if out.training_entry_id is not None:
        message = say(request, "The training of {name} is in the competence records.", name=out.name)
    else:
        message = say(request, "The completion of {name} was declined.", name=out.name)
    return flash_redirect(request, f"/training/programmes/{out.programme_id}#participation-{out.id}", message)
