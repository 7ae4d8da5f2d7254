"""Targeting feedback: mismatch rates with their intervals, and the risk-indicator export."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from customslab.adapters.tabular_export import CSV_MEDIA_TYPE, to_csv
from customslab.entrypoints.api.deps import SignedIn
from customslab.entrypoints.downloads import content_disposition
from customslab.services.contract import Day, parse
from customslab.services.risk_export import (
    CSV_COLUMNS,
    RiskExportQuery,
    RiskIndicatorExport,
    SelectorType,
    csv_rows,
    risk_indicators,
)
from customslab.services.targeting import TargetingFigures, TargetingQuery, targeting_figures

router = APIRouter(prefix="/api/targeting", tags=["targeting"])

# `Day`: YYYY-MM-DD only (a bare number is refused, never read as a Unix time), as every date of the API.
Start = Annotated[
    Day | None, Query(alias="from", description="First decision day (default: 12 months back).")
]
End = Annotated[Day | None, Query(alias="to", description="Last decision day, inclusive (default: today).")]
Scope = Annotated[
    Literal["auto", "administration", "network"],
    Query(description="administration (importers included) or network (coordinators: figures only)."),
]
MinN = Annotated[int | None, Query(ge=1, le=1_000_000, description="Leave out groups with fewer cases.")]
Selectors = Annotated[list[SelectorType] | None, Query(alias="selector", description="Selector types.")]


@router.get("")
def get_targeting_figures(
    caller: SignedIn,
    start: Start = None,
    end: End = None,
    scope: Scope = "auto",
    min_n: MinN = None,
    top: Annotated[int, Query(ge=1, le=1000, description="Rows per table.")] = 50,
) -> TargetingFigures:
    """Mismatch rates (declared ≠ determined) with n and the 95 % Wilson interval by heading, origin,
    heading × origin, importer, declarant and month, and the revenue impact, in my scope."""
    query = parse(
        TargetingQuery, {"start": start, "end": end, "scope": scope, "min_n": min_n or 1, "top": top}
    )
    return targeting_figures(caller.uow, caller.actor, query)


def _export(
    caller: SignedIn, start: date | None, end: date | None, min_n: int | None, selectors: list[str] | None
) -> RiskIndicatorExport:
    given: dict[str, object] = {"start": start, "end": end}
    if min_n is not None:
        given["min_n"] = min_n
    if selectors:
        given["selector_types"] = selectors
    return risk_indicators(caller.uow, caller.actor, parse(RiskExportQuery, given))


def _filename(export: RiskIndicatorExport, extension: str) -> str:
    p = export.period
    return f"risk-indicators-{export.administration}-{p.start.isoformat()}-{p.end.isoformat()}.{extension}"


@router.get("/risk-indicators.json")
def export_risk_indicators_json(
    caller: SignedIn, start: Start = None, end: End = None, min_n: MinN = None, selector: Selectors = None
) -> RiskIndicatorExport:
    """My administration's risk indicators as JSON (schema: docs/risk-indicators.schema.json)."""
    return _export(caller, start, end, min_n, list(selector or []))


@router.get(
    "/risk-indicators.csv",
    response_class=Response,
    responses={
        200: {
            "description": "UTF-8 CSV with a byte-order mark; header row: the columns of docs/targeting.md.",
            "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def export_risk_indicators_csv(
    caller: SignedIn, start: Start = None, end: End = None, min_n: MinN = None, selector: Selectors = None
) -> Response:
    """My administration's risk indicators as CSV, one row per indicator (columns: docs/targeting.md)."""
    export = _export(caller, start, end, min_n, list(selector or []))
    return Response(
        to_csv(CSV_COLUMNS, csv_rows(export)),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition("attachment", _filename(export, "csv"))},
    )
