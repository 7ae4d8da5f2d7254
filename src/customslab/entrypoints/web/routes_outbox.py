"""The administrator's page of messages to partner deployments: state, attempts, errors and a retry."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from customslab.domain.errors import DomainError
from customslab.domain.federation import OutboxState
from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.api.errors import status_of
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.entrypoints.web.listing import Format, check_whole, export, listing, read_query
from customslab.entrypoints.web.lists_admin import MESSAGES, messages_rows
from customslab.services import federation_delivery

router = APIRouter(include_in_schema=False)

#: A partner's administration code, as the outbox stores it.
Partner = Annotated[str | None, Query(max_length=32, pattern=r"^[A-Za-z0-9_.-]*$")]


def _page(
    request: Request, actor: PageActor, partner: str | None = None, error: DomainError | None = None
) -> Response:
    query = read_query(request.query_params, MESSAGES)
    data = messages_rows(request, actor, query, partner)
    return render(
        request,
        "admin_messages.html",
        {
            "data": data,
            "states": [s.value for s in OutboxState],
            "listing": listing(request, MESSAGES, query, data.total, "/admin/messages"),
            "qs": urlencode({k: v for k, v in request.query_params.items() if v}),
            "error": error,
        },
        status_code=200 if error is None else status_of(error),
    )


@router.get("/admin/messages")
def messages_page(request: Request, actor: PageActor, partner: Partner = None) -> Response:
    """Messages to partner deployments, newest first, searched and filtered by state and partner."""
    return _page(request, actor, partner)


@router.get("/admin/messages.{fmt}")
def export_messages(request: Request, actor: PageActor, fmt: Format, partner: Partner = None) -> Response:
    """Every message of the list's search and filters, in its order, as CSV or XLSX."""
    data = messages_rows(request, actor, read_query(request.query_params, MESSAGES).whole(), partner)
    check_whole(data.total)
    return export(request, MESSAGES, fmt, data.items)


@router.post("/admin/messages/{message_pk}/retry")
def retry_message(request: Request, actor: PageActor, message_pk: PathId, form: Form) -> Response:
    """Send a failed or waiting message again now; back to the list with what happened."""
    back = str(form.get("next") or "/admin/messages")
    if not back.startswith("/admin/messages"):
        back = "/admin/messages"
    try:
        entry = federation_delivery.retry_message(uow_of(request), actor, message_pk)
    except DomainError as exc:
        return _page(request, actor, error=exc)
    return flash_redirect(
        request, back, say(request, "Message {id} will be sent again now.", id=entry.message_id)
    )
