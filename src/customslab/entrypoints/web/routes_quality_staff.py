"""The staff competence pages: training records and authorisations (ISO/IEC 17025 6.2).

Each form posts to the use case the API's `/api/quality/training` and `/api/quality/authorisations`
routes call, with the same command.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from customslab.domain.quality.competence import AuthorisedRole
from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.entrypoints.web.quality_forms import command
from customslab.services.quality_control import (
    AUTHORISATIONS,
    TRAINING,
    AuthorisationCreate,
    TrainingCreate,
    revoke_authorisation,
)
from customslab.services.quality_pages import staff_page

router = APIRouter(include_in_schema=False)


@router.get("/quality/staff")
def staff(request: Request, actor: PageActor) -> Response:
    """Training records and authorisations of the laboratory's staff."""
    page = staff_page(uow_of(request), actor, request.query_params.get("lab") or None)
    names = {s.username: s.name for s in page.staff}
    return render(request, "quality_staff.html", {"page": page, "names": names})


@router.post("/quality/training")
def add_training(request: Request, actor: PageActor, form: Form) -> Response:
    """Record a completed training of a member of the laboratory."""
    out = TRAINING.record(uow_of(request), actor, command(request, TrainingCreate, form))
    return flash_redirect(
        request,
        "/quality/staff#training",
        say(request, "Training of {user} in {topic} recorded.", user=out.user_id, topic=out.topic),
    )


@router.post("/quality/authorisations")
def grant(request: Request, actor: PageActor, form: Form) -> Response:
    """Authorise a member of the laboratory as analyst or reviewer, for one method or all."""
    out = AUTHORISATIONS.record(uow_of(request), actor, command(request, AuthorisationCreate, form))
    if out.role is AuthorisedRole.REVIEWER:
        message = say(request, "{user} authorised as reviewer.", user=out.user_id)
    else:
        message = say(request, "{user} authorised as analyst.", user=out.user_id)
    return flash_redirect(request, "/quality/staff#authorisations", message)


@router.post("/quality/authorisations/{entry_id}/revoke")
def revoke(request: Request, actor: PageActor, entry_id: PathId, form: Form) -> Response:
    """Revoke an authorisation."""
    out = revoke_authorisation(uow_of(request), actor, entry_id)
    return flash_redirect(
        request,
        "/quality/staff#authorisations",
        say(request, "Authorisation of {user} revoked.", user=out.user_id),
    )
