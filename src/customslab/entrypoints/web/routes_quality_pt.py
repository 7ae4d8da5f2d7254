"""The proficiency-testing pages: rounds, a participant's submissions, the coordinator's evaluation.

Each form posts to the use case the API's `/api/pt/rounds` routes call, with the same command.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.entrypoints.web.quality_forms import command
from customslab.services import proficiency
from customslab.services.proficiency import PtResultCreate, PtRoundCreate
from customslab.services.quality_pages import pt_page, pt_round_page

router = APIRouter(include_in_schema=False)

#: Rows of measurands the form to open a round offers; blank rows are left out.
MEASURAND_ROWS = 4


@router.get("/quality/pt")
def rounds(request: Request, actor: PageActor) -> Response:
    """The proficiency-test rounds the laboratory coordinates or takes part in."""
    page = pt_page(uow_of(request), actor)
    return render(request, "quality_pt.html", {"page": page, "rows": range(MEASURAND_ROWS)})


@router.post("/quality/pt")
def open_round(request: Request, actor: PageActor, form: Form) -> Response:
    """Open a round with its measurands and participating laboratories (network coordinators)."""
    cmd = command(request, PtRoundCreate, form, many=("participants",))
    out = proficiency.create_round(uow_of(request), actor, cmd)
    return flash_redirect(
        request, f"/quality/pt/{out.id}", say(request, "Round {code} opened.", code=out.code)
    )


@router.get("/quality/pt/{round_id}")
def round_page(request: Request, actor: PageActor, round_id: PathId) -> Response:
    """A round: its measurands, the results and scores the laboratory may see, and its next step."""
    page = pt_round_page(uow_of(request), actor, round_id, request.query_params.get("lab") or None)
    # The z-score charts are SVG written by domain/quality/charts.py, which escapes every text it draws.
    charts = [Markup(r.chart_svg) for r in page.round.reports]
    return render(request, "quality_pt_round.html", {"page": page, "r": page.round, "charts": charts})


@router.post("/quality/pt/{round_id}/results")
def submit(request: Request, actor: PageActor, round_id: PathId, form: Form) -> Response:
    """Submit the laboratory's result for one measurand, with its uncertainty."""
    out = proficiency.submit_result(uow_of(request), actor, round_id, command(request, PtResultCreate, form))
    return flash_redirect(
        request,
        f"/quality/pt/{round_id}#results",
        say(
            request,
            "Result for {measurand} submitted to round {code}.",
            measurand=out.measurand,
            code=out.round,
        ),
    )


@router.post("/quality/pt/{round_id}/evaluate")
def evaluate(request: Request, actor: PageActor, round_id: PathId, form: Form) -> Response:
    """Close the round and score every participant."""
    out = proficiency.evaluate(uow_of(request), actor, round_id)
    return flash_redirect(
        request, f"/quality/pt/{round_id}#reports", say(request, "Round {code} evaluated.", code=out.code)
    )
