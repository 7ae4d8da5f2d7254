"""The network dashboard: one view, drawn as charts on the page and served as JSON."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from customslab.entrypoints.web.common import PageActor, render, uow_of
from customslab.services.dashboard import network_dashboard

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard(request: Request, actor: PageActor) -> Response:
    """Cases, open and overdue work per laboratory, turnaround, referrals, declared ≠ determined."""
    data = network_dashboard(uow_of(request), actor)
    # "</" is escaped so that no value can close the <script> element the JSON sits in.
    payload = Markup(data.model_dump_json(by_alias=True).replace("</", "<\\/"))
    return render(request, "dashboard.html", {"d": data, "payload": payload})


@router.get("/dashboard.json")
def dashboard_json(request: Request, actor: PageActor) -> Response:
    """The same figures as the dashboard page."""
    data = network_dashboard(uow_of(request), actor)
    return Response(data.model_dump_json(by_alias=True), media_type="application/json")
