"""The laboratory's ISO/IEC 17025 registers on one page: equipment, methods, authorisations, QC, PT.

Read-only here; records are written through the API (`/api/quality/...`, `/api/pt/...`), whose
use cases check the same roles. Every list is the signed-in user's own laboratory's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from customslab.domain.access import LAB_STAFF
from customslab.domain.errors import PermissionDenied
from customslab.entrypoints.web.common import PageActor, render, uow_of
from customslab.services import proficiency, quality

router = APIRouter(include_in_schema=False)


@router.get("/quality")
def registers(request: Request, actor: PageActor) -> Response:
    """Calibration due list, equipment, method catalogue, authorisations, QC batches and PT rounds."""
    if not actor.has(*LAB_STAFF):
        raise PermissionDenied("The quality registers are for laboratory staff.")
    batches = quality.list_qc_batches(uow_of(request), actor)
    charts = {b["id"]: Markup(quality.qc_chart_svg(uow_of(request), actor, b["id"])) for b in batches[-6:]}
    users = _lab_people(request, actor.org_code)
    context = {
        "due": quality.equipment_due(uow_of(request), actor),
        "equipment": quality.list_equipment(uow_of(request), actor),
        "methods": quality.list_methods(uow_of(request), actor),
        "authorisations": quality.list_authorisations(uow_of(request), actor),
        "users": users,
        "batches": batches,
        "charts": charts,
        "rounds": proficiency.list_rounds(uow_of(request), actor),
    }
    return render(request, "quality.html", context)


def _lab_people(request: Request, lab_code: str) -> dict[str, str]:
    """Username (as the registers store it) → full name, for the laboratory's staff."""
    uow = uow_of(request)
    with uow:
        return {u.username: u.full_name or u.username for u in uow.repo.users(lab_code)}
