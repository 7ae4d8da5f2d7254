"""Writing messages to partners: an outbox row in the caller's transaction, delivered later by the worker.

Every use case whose change must reach a partner calls `enqueue` (or `broadcast`) inside its unit of
work, before its commit: the message is stored with the change or not at all (rule 14 of the guide).
"""

from __future__ import annotations

import uuid

from customslab.domain.errors import NotFound, ValidationFailed
from customslab.domain.federation import (
    Body,
    Envelope,
    OutboxMessage,
    OutboxState,
    Partner,
    envelope_to_plain,
)
from customslab.services.ports import AbstractUnitOfWork


def home_code(uow: AbstractUnitOfWork) -> str:
    """The code of the administration this deployment belongs to."""
    for a in uow.repo.administrations():
        if a.home:
            return a.code
    raise ValidationFailed(
        "This deployment has no home administration yet; run `customslab init --directory` first.",
        "administration",
    )


def partner_for(uow: AbstractUnitOfWork, administration_code: str) -> Partner | None:
    """The registered partner deployment of an administration, if any (suspended ones included)."""
    return uow.federation.partner(administration_code)


def enqueue(uow: AbstractUnitOfWork, partner_code: str, stream: str, body: Body) -> OutboxMessage:
    """Write one message to a partner, next in its stream (called inside the caller's unit of work)."""
    if uow.federation.partner(partner_code) is None:
        raise NotFound(f"There is no partner deployment for administration {partner_code}.", "partner")
    now = uow.clock()
    envelope = Envelope(
        message_id=str(uuid.uuid4()),
        sender=home_code(uow),
        recipient=partner_code,
        stream=stream,
        seq=uow.federation.next_seq(partner_code, stream),
        sent_at=now,
        body=body,
    )
    message = OutboxMessage(
        message_id=envelope.message_id,
        partner_code=partner_code,
        stream=stream,
        seq=envelope.seq,
        kind=envelope.kind,
        payload=envelope_to_plain(envelope),
        state=OutboxState.PENDING,
        created_at=now,
        next_attempt_at=now,
    )
    uow.federation.add(message)
    return message


def broadcast(uow: AbstractUnitOfWork, stream: str, body: Body) -> list[OutboxMessage]:
    """Write the same message to every active partner (published knowledge; a new key goes to all)."""
    return [enqueue(uow, p.administration_code, stream, body) for p in uow.federation.partners() if p.active]
