"""The network dashboard: one dict, drawn as charts on the page and served as JSON."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup

from customslab.entrypoints.web.common import PageActor, render, uow_of
from customslab.services.dashboard import network_dashboard

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard(request: Request, actor: PageActor) -> Response:
    """Cases, open and overdue work per laboratory, turnaround, referrals, declared ≠ determined."""
    data = network_dashboard(uow_of(request), actor)
    payload = Markup(json.dumps(data).replace("</", "<\\/"))
    return render(request, "dashboard.html", {"d": data, "payload": payload})


@router.get("/dashboard.json")
def dashboard_json(request: Request, actor: PageActor) -> JSONResponse:
    """The same figures as the dashboard page."""
    return JSONResponse(network_dashboard(uow_of(request), actor))
