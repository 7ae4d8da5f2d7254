"""The targeting feedback page: one view (figures, alerts) drawn as server-side SVG charts and tables, the
same view as /targeting.json, and the risk-indicator export as session-authenticated downloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from customslab.adapters.tabular_export import CSV_MEDIA_TYPE, to_csv
from customslab.entrypoints.downloads import SANDBOXED, content_disposition
from customslab.entrypoints.web.common import PageActor, language, render, translations, uow_of
from customslab.entrypoints.web.rate_svg import rate_bars_svg, scale_of, trend_svg, whisker_svg
from customslab.services.contract import parse
from customslab.services.risk_export import (
    CSV_COLUMNS,
    RiskExportQuery,
    RiskIndicatorExport,
    csv_rows,
    risk_indicators,
)
from customslab.services.targeting import RateTable, TargetingQuery
from customslab.services.targeting_page import TargetingDashboard, targeting_dashboard

router = APIRouter(include_in_schema=False)
#: Bars per chart; the tables below list the rest (up to the query's `top`).
CHART_ROWS = 15


def _period(request: Request) -> dict[str, str]:
    """The period filter as the page's form sends it (?from=…&to=…; empty means the default)."""
    return {"start": request.query_params.get("from", ""), "end": request.query_params.get("to", "")}


def _dashboard(request: Request, actor: PageActor) -> TargetingDashboard:
    return targeting_dashboard(uow_of(request), actor, parse(TargetingQuery, _period(request)))


def _charts(data: TargetingDashboard, gettext: Callable[[str], str]) -> dict[str, Any]:
    f = data.figures

    def bars(table: RateTable | None, title: str) -> Any:
        if table is None or not table.rows:
            return None
        return rate_bars_svg([(r.label, r) for r in table.rows[:CHART_ROWS]], gettext(title), gettext)

    return {
        "heading": bars(f.by_heading, "Mismatch rate by HS heading"),
        "origin": bars(f.by_origin, "Mismatch rate by origin"),
        "trend": trend_svg([(r.label, r) for r in f.trend], gettext("Mismatch rate by month"), gettext)
        if f.trend
        else None,
    }


@router.get("/targeting")
def targeting_page(request: Request, actor: PageActor) -> Response:
    """Mismatch rates with n and Wilson intervals, revenue impact, trend, alerts and the downloads."""
    data = _dashboard(request, actor)
    gettext = translations(language(request)).gettext
    period = _period(request)
    query = urlencode({k: v for k, v in (("from", period["start"]), ("to", period["end"])) if v})
    return render(
        request,
        "targeting.html",
        {
            "d": data,
            "f": data.figures,
            "charts": _charts(data, gettext),
            "whisker": lambda rate, scale: whisker_svg(rate, scale, gettext),
            "scale_of": scale_of,
            "period": period,
            "query": f"?{query}" if query else "",
        },
    )


@router.get("/targeting.json")
def targeting_json(request: Request, actor: PageActor) -> Response:
    """The same view as the targeting page."""
    return Response(_dashboard(request, actor).model_dump_json(by_alias=True), media_type="application/json")


def _export(request: Request, actor: PageActor) -> RiskIndicatorExport:
    return risk_indicators(uow_of(request), actor, parse(RiskExportQuery, _period(request)))


def _filename(export: RiskIndicatorExport, extension: str) -> str:
    p = export.period
    return f"risk-indicators-{export.administration}-{p.start.isoformat()}-{p.end.isoformat()}.{extension}"


def _download_headers(export: RiskIndicatorExport, extension: str) -> dict[str, str]:
    # A download is nobody's page: should a browser ever render it, it runs and reaches nothing.
    return {
        "Content-Disposition": content_disposition("attachment", _filename(export, extension)),
        "Content-Security-Policy": SANDBOXED,
    }


@router.get("/targeting/risk-indicators.csv")
def risk_indicators_csv(request: Request, actor: PageActor) -> Response:
    """The administration's risk indicators of the page's period, as a CSV download."""
    export = _export(request, actor)
    return Response(
        to_csv(CSV_COLUMNS, csv_rows(export)),
        media_type=CSV_MEDIA_TYPE,
        headers=_download_headers(export, "csv"),
    )


@router.get("/targeting/risk-indicators.json")
def risk_indicators_json(request: Request, actor: PageActor) -> Response:
    """The administration's risk indicators of the page's period, as a JSON download (the API's schema)."""
    export = _export(request, actor)
    return Response(
        export.model_dump_json(by_alias=True),
        media_type="application/json",
        headers=_download_headers(export, "json"),
    )
