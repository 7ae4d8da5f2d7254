"""The administrator's page of messages to partner deployments: state, attempts, errors and a retry."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from customslab.domain.errors import DomainError
from customslab.domain.federation import OutboxState
from customslab.entrypoints.api.deps import Offset, PathId
from customslab.entrypoints.api.errors import status_of
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.services import federation_delivery
from customslab.services.federation_delivery import OutboxQuery

router = APIRouter(include_in_schema=False)
PAGE = 50


def _page(
    request: Request, actor: PageActor, query: OutboxQuery, error: DomainError | None = None
) -> Response:
    data = federation_delivery.outbox_page(uow_of(request), actor, query)
    params = {k: v for k, v in (("state", query.state), ("partner", query.partner)) if v}
    return render(
        request,
        "admin_messages.html",
        {
            "data": data,
            "states": [s.value for s in OutboxState],
            "params": params,
            "qs": urlencode(params),
            "error": error,
        },
        status_code=200 if error is None else status_of(error),
    )


@router.get("/admin/messages")
def messages_page(
    request: Request,
    actor: PageActor,
    state: OutboxState | None = None,
    partner: str | None = Query(None, max_length=32, pattern=r"^[A-Za-z0-9_.-]*$"),
    offset: Offset = 0,
) -> Response:
    """Messages to partner deployments, newest first, filtered by state and partner."""
    query = OutboxQuery(state=state, partner=partner or None, limit=PAGE, offset=offset)
    return _page(request, actor, query)


@router.post("/admin/messages/{message_pk}/retry")
def retry_message(request: Request, actor: PageActor, message_pk: PathId, form: Form) -> Response:
    """Send a failed or waiting message again now; back to the list with what happened."""
    back = str(form.get("next") or "/admin/messages")
    if not back.startswith("/admin/messages"):
        back = "/admin/messages"
    try:
        entry = federation_delivery.retry_message(uow_of(request), actor, message_pk)
    except DomainError as exc:
        return _page(request, actor, OutboxQuery(limit=PAGE), exc)
    return flash_redirect(
        request, back, say(request, "Message {id} will be sent again now.", id=entry.message_id)
    )
