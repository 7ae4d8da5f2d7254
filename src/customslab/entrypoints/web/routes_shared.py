"""The page of knowledge partner deployments shared: provenance of each copy, and adopting a method."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.entrypoints.web.listing import Format, check_whole, export, listing, read_query
from customslab.entrypoints.web.lists_admin import SHARED, shared_rows
from customslab.services import federation_shared

router = APIRouter(include_in_schema=False)


@router.get("/shared-knowledge")
def shared_knowledge(request: Request, actor: PageActor) -> Response:
    """Methods, spectra and opinions partners shared, with their provenance, searched, filtered by kind,
    sorted and paged; managers adopt methods."""
    query = read_query(request.query_params, SHARED)
    page = shared_rows(request, actor, query)
    context = {"page": page, "listing": listing(request, SHARED, query, page.total, "/shared-knowledge")}
    return render(request, "shared_knowledge.html", context)


@router.get("/shared-knowledge.{fmt}")
def export_shared_knowledge(request: Request, actor: PageActor, fmt: Format) -> Response:
    """Every shared copy of the list's search and filter, in its order, as CSV or XLSX."""
    page = shared_rows(request, actor, read_query(request.query_params, SHARED).whole())
    check_whole(page.total)
    return export(request, SHARED, fmt, page.items)


@router.post("/shared-knowledge/{copy_id:int}/adopt")
def adopt(request: Request, actor: PageActor, copy_id: PathId, form: Form) -> Response:
    """Adopt a shared method as a draft of the laboratory's catalogue."""
    method = federation_shared.adopt_shared_method(uow_of(request), actor, copy_id)
    return flash_redirect(
        request,
        "/quality#methods",
        say(request, "Method {label} adopted as a draft; validate it before use.", label=method.label),
    )
