"""The federation outbox as administrators see it: what waits, what failed and why, and a retry."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, Query

from customslab.domain.federation import OutboxState
from customslab.entrypoints.api.deps import Offset, PathId, SignedIn
from customslab.services import federation_delivery
from customslab.services.federation_delivery import FailedRetried, OutboxEntry, OutboxPage, OutboxQuery

router = APIRouter(prefix="/api/federation/outbox")
FEDERATION: list[str | Enum] = ["federation"]


@router.get("", tags=FEDERATION, response_model=OutboxPage)
def list_outbox(
    caller: SignedIn,
    state: OutboxState | None = None,
    partner: str | None = Query(
        None, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$", description="A partner's administration code"
    ),
    limit: int = Query(50, ge=1, le=200),
    offset: Offset = 0,
) -> OutboxPage:
    """Messages to partners, newest first, with their state, attempts and last error (admins only)."""
    query = OutboxQuery(state=state, partner=partner, limit=limit, offset=offset)
    return federation_delivery.outbox_page(caller.uow, caller.actor, query)


@router.post("/{message_pk}/retry", tags=FEDERATION, response_model=OutboxEntry)
def retry_message(message_pk: PathId, caller: SignedIn) -> OutboxEntry:
    """Send a failed or waiting message again now, with the same bytes (admins only; 409 if delivered)."""
    return federation_delivery.retry_message(caller.uow, caller.actor, message_pk)


@router.post("/retry-failed", tags=FEDERATION, response_model=FailedRetried)
def retry_failed(
    caller: SignedIn,
    partner: str = Query(
        ..., max_length=32, pattern=r"^[A-Za-z0-9_.-]+$", description="A partner's administration code"
    ),
) -> FailedRetried:
    """Send every failed message to a partner again now, attempts from 0 (admins only; 404 unknown)."""
    retried = federation_delivery.retry_failed(caller.uow, caller.actor, partner)
    return FailedRetried(partner=partner.upper(), retried=retried)
