"""Exports of the lists whose pages live in files other helpers of the page share (the queue and my work,
the administrator's users and organisations): each the CSV or XLSX of every row its page's search and
filters select, in its order, under the same authorisation as the page (the same use case answers)."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import Response

from customslab.domain.access import Actor
from customslab.entrypoints.web import lists_admin, lists_cases
from customslab.entrypoints.web.common import PageActor, uow_of
from customslab.entrypoints.web.listing import Format, check_whole, export, read_query
from customslab.services import queries
from customslab.services.listing import EXPORT_LIMIT

router = APIRouter(include_in_schema=False)


def _queue(request: Request, actor: Actor, fmt: Format, analyst_id: int | None) -> Response:
    params = dict(request.query_params)
    flt = replace(lists_cases.queue_filter(params, analyst_id), limit=EXPORT_LIMIT, offset=0)
    data = queries.lab_queue(uow_of(request), actor, flt, lab_code=params.get("lab") or None)
    # A count that stopped at the export's size means more rows than an export holds.
    check_whole(data.total if data.total_exact else data.total + 1)
    return export(request, lists_cases.QUEUE, fmt, data.items)


@router.get("/queue.{fmt}")
def export_queue(request: Request, actor: PageActor, fmt: Format) -> Response:
    """The laboratory queue's rows of the filter, in its order, as CSV or XLSX."""
    return _queue(request, actor, fmt, None)


@router.get("/my-work.{fmt}")
def export_my_work(request: Request, actor: PageActor, fmt: Format) -> Response:
    """The signed-in analyst's work of the filter, in its order, as CSV or XLSX."""
    return _queue(request, actor, fmt, actor.user_id)


@router.get("/admin/users.{fmt}")
def export_users(request: Request, actor: PageActor, fmt: Format) -> Response:
    """The administration's users of the search and filters, in their order, as CSV or XLSX."""
    rows, total = lists_admin.users_rows(
        request, actor, read_query(request.query_params, lists_admin.USERS).whole()
    )
    check_whole(total)
    return export(request, lists_admin.USERS, fmt, rows)


@router.get("/admin/organisations.{fmt}")
def export_organisations(request: Request, actor: PageActor, fmt: Format) -> Response:
    """The administration's organisations of the search and filters, in their order, as CSV or XLSX."""
    query = read_query(request.query_params, lists_admin.ORGANISATIONS).whole()
    rows, total = lists_admin.organisations_rows(request, actor, query)
    check_whole(total)
    return export(request, lists_admin.ORGANISATIONS, fmt, rows)
