"""Proficiency testing across the network."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from customslab.domain.errors import InvalidTransition
from customslab.entrypoints.api.deps import PathId, SignedIn
from customslab.services import proficiency
from customslab.services.contract import MAX_INT
from customslab.services.proficiency import (
    PtResultCreate,
    PtRoundCreate,
    PtRoundSummary,
    PtRoundView,
    PtSubmission,
)

router = APIRouter(prefix="/api/pt", tags=["proficiency testing"])

#: Whose rounds to read: a laboratory under the caller's central laboratory (read-only); default own.
LabParam = Annotated[
    str | None,
    Query(max_length=40, description="A laboratory under yours, to read its rounds; default yours."),
]


@router.get("/rounds")
def list_rounds(caller: SignedIn, lab: LabParam = None) -> list[PtRoundSummary]:
    """Rounds the laboratory coordinates or takes part in."""
    return proficiency.list_rounds(caller.uow, caller.actor, lab)


@router.post("/rounds", status_code=201)
def create_round(body: PtRoundCreate, caller: SignedIn) -> PtRoundView:
    """Open a round (network coordinators)."""
    return proficiency.create_round(caller.uow, caller.actor, body)


@router.get("/rounds/{round_id}")
def get_round(round_id: PathId, caller: SignedIn, lab: LabParam = None) -> PtRoundView:
    """A round with the results and scores the laboratory may see."""
    return proficiency.round_detail(caller.uow, caller.actor, round_id, lab)


@router.post("/rounds/{round_id}/results", status_code=201)
def submit_result(round_id: PathId, body: PtResultCreate, caller: SignedIn) -> PtSubmission:
    """Submit the laboratory's result for one measurand."""
    return proficiency.submit_result(caller.uow, caller.actor, round_id, body)


@router.post("/rounds/{round_id}/evaluate")
def evaluate_round(round_id: PathId, caller: SignedIn) -> PtRoundView:
    """Close the round and compute robust statistics and scores."""
    return proficiency.evaluate(caller.uow, caller.actor, round_id)


@router.get(
    "/rounds/{round_id}/chart.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}, "description": "SVG"}},
)
def round_chart(
    round_id: PathId,
    caller: SignedIn,
    measurand: int = Query(0, ge=-MAX_INT, le=MAX_INT, description="Index of the measurand in the round."),
    lab: LabParam = None,
) -> Response:
    """z-score chart of one measurand (the laboratory's own label shown; others anonymised)."""
    reports = proficiency.round_detail(caller.uow, caller.actor, round_id, lab).reports
    if not reports:
        raise InvalidTransition("The round is not evaluated yet.")
    chosen = reports[min(max(measurand, 0), len(reports) - 1)]
    return Response(chosen.chart_svg, media_type="image/svg+xml")
