"""Proficiency testing across the network."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from customslab.entrypoints.api.deps import CurrentActor, UowFactory
from customslab.entrypoints.api.schemas import PtResultIn, PtRoundIn
from customslab.services import proficiency

router = APIRouter(prefix="/api/pt", tags=["proficiency testing"])


@router.get("/rounds")
def list_rounds(actor: CurrentActor, uow_factory: UowFactory) -> list[dict[str, Any]]:
    """Rounds the laboratory coordinates or takes part in."""
    return proficiency.list_rounds(uow_factory(), actor)


@router.post("/rounds", status_code=201)
def create_round(body: PtRoundIn, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """Open a round (network coordinators)."""
    return proficiency.create_round(uow_factory(), actor, body.model_dump())


@router.get("/rounds/{round_id}")
def get_round(round_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """A round with the results and scores the laboratory may see."""
    return proficiency.round_detail(uow_factory(), actor, round_id)


@router.post("/rounds/{round_id}/results", status_code=201)
def submit_result(
    round_id: int, body: PtResultIn, actor: CurrentActor, uow_factory: UowFactory
) -> dict[str, Any]:
    """Submit the laboratory's result for one measurand."""
    return proficiency.submit_result(uow_factory(), actor, round_id, body.model_dump())


@router.post("/rounds/{round_id}/evaluate")
def evaluate_round(round_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """Close the round and compute robust statistics and scores."""
    return proficiency.evaluate(uow_factory(), actor, round_id)


@router.get("/rounds/{round_id}/chart.svg")
def round_chart(round_id: int, actor: CurrentActor, uow_factory: UowFactory, measurand: int = 0) -> Response:
    """z-score chart of one measurand (the laboratory's own label shown; others anonymised)."""
    view = proficiency.round_detail(uow_factory(), actor, round_id)
    reports = view["reports"]
    if not reports:
        return Response("The round is not evaluated yet.", status_code=409, media_type="text/plain")
    chosen = reports[min(max(measurand, 0), len(reports) - 1)]
    return Response(chosen["chart_svg"], media_type="image/svg+xml")
