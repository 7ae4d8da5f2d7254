"""The laboratory's ISO/IEC 17025 registers on one page: equipment, methods, authorisations, QC, PT.

An overview, read-only; each register's own page (routes_quality_methods, _equipment, _staff, _qc,
_pt) adds and changes its records through the use cases the API (`/api/quality/...`, `/api/pt/...`)
calls, which check the roles.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from customslab.entrypoints.web.common import PageActor, render, uow_of
from customslab.services.quality_overview import registers_overview

router = APIRouter(include_in_schema=False)


@router.get("/quality")
def registers(request: Request, actor: PageActor) -> Response:
    """Calibration due list, equipment, method catalogue, authorisations, QC batches and PT rounds."""
    # ?lab= reads the registers of a laboratory under the reader's central laboratory, read-only.
    overview = registers_overview(uow_of(request), actor, request.query_params.get("lab") or None)
    # The charts are SVG written by domain/quality/charts.py, which escapes every text it draws.
    charts = {key: Markup(svg) for key, svg in overview.charts.items()}
    return render(request, "quality.html", {**dict(overview), "charts": charts})
