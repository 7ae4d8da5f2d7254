"""The referring laboratory's list of the samples it referred out: where each is, its state, its dates."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from customslab.domain.access import Actor
from customslab.entrypoints.web.common import PageActor, render, uow_of
from customslab.entrypoints.web.listing import Format, check_whole, export, listing, read_query
from customslab.entrypoints.web.lists_cases import REFERRED_OUT, referred_out_filter
from customslab.services import referred_out
from customslab.services.listing import ListQuery
from customslab.services.referred_out import ReferredOutPage

router = APIRouter(include_in_schema=False)


def _page(request: Request, actor: Actor, query: ListQuery) -> ReferredOutPage:
    lab = request.query_params.get("lab") or None
    return referred_out.referred_out(uow_of(request), actor, referred_out_filter(query), lab_code=lab)


@router.get("/referred-out")
def referred_out_page(request: Request, actor: PageActor) -> Response:
    """The samples the laboratory referred to another laboratory, searched, filtered, sorted and paged."""
    query = read_query(request.query_params, REFERRED_OUT)
    data = _page(request, actor, query)
    context = {"data": data, "listing": listing(request, REFERRED_OUT, query, data.total, "/referred-out")}
    return render(request, "referred_out.html", context)


@router.get("/referred-out.{fmt}")
def export_referred_out(request: Request, actor: PageActor, fmt: Format) -> Response:
    """Every referral of the list's search and filter, in its order, as CSV or XLSX."""
    data = _page(request, actor, read_query(request.query_params, REFERRED_OUT).whole())
    check_whole(data.total)
    return export(request, REFERRED_OUT, fmt, data.items)
