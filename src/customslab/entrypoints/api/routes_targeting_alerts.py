"""Targeting alerts: first identifications, rising mismatch rates, repeated importers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from customslab.domain.targeting_alerts import AlertKind
from customslab.entrypoints.api.deps import SignedIn
from customslab.services.targeting_alerts import AlertQuery, AlertView, visible_alerts

router = APIRouter(prefix="/api/targeting", tags=["targeting"])


@router.get("/alerts")
def list_alerts(
    caller: SignedIn,
    rule: Annotated[AlertKind | None, Query(description="Only the alerts of this rule.")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="The newest this many.")] = 100,
) -> list[AlertView]:
    """The targeting alerts I may see, newest first: my administration's (its importers named), and for
    a network coordinator the substances first identified in the network."""
    return visible_alerts(caller.uow, caller.actor, AlertQuery(rule=rule, limit=limit))
