"""Receiving a partner's message: trust, in order, then act on it once; every refusal is recorded.

The checks run in this order, each refusing with its own status: the bytes parse as a signed bundle
(400), the claimed sender is a registered partner (403) and active (403), the key it names is one of the
partner's keys valid now (403), the signature holds (403), the bundle decodes as a customslab message
(400) addressed to this deployment by the partner that signed it (400). Then, in one unit of work: a
message id already received or a sequence number already passed is a duplicate (409), a gap in the
stream means an earlier message has not arrived (425), the use case's refusal is a 422; otherwise the
handler's changes and the `InboxMessage` are committed together. A refusal stores nothing of the
message: it is logged, and a `Refusal` row is written in a transaction of its own.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime

from customslab.domain.access import Action, Actor
from customslab.domain.errors import Conflict, DomainError
from customslab.domain.federation import Envelope, InboxMessage, MessageKind, Refusal
from customslab.services.common import acting
from customslab.services.contract import View
from customslab.services.federation_handlers import handlers
from customslab.services.federation_outbox import home_code
from customslab.services.federation_ports import MalformedMessage, MessageGate, SignedMessage, shown
from customslab.services.ports import AbstractUnitOfWork

log = logging.getLogger("customslab.federation")

UowFactory = Callable[[], AbstractUnitOfWork]

#: What the refusals table keeps of a claimed sender and a client address (their columns' sizes).
_SENDER_CHARS, _ADDRESS_CHARS = 32, 64
#: What it keeps of a reason, which may quote what the sender wrote.
REASON_CHARS = 500


class Refused(Exception):
    """A message refused with an HTTP status (400, 403, 409, 413, 415, 422, 425 or 503) and the reason."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Received(View):
    """A message accepted and acted on."""

    message_id: str
    sender: str
    kind: MessageKind
    stream: str
    seq: int


class InboxEntry(View):
    """A received message, as the administrator lists them (its bytes stay in the database)."""

    id: int
    message_id: str
    partner_code: str
    stream: str
    seq: int
    kind: MessageKind
    sha256: str
    key_id: str
    received_at: datetime


class InboxPage(View):
    """Received messages, newest first, and how many there are in all."""

    items: list[InboxEntry]
    total: int


class RefusalEntry(View):
    """A refused message: who claimed to send it, why it was refused, its hash and size."""

    id: int
    claimed_sender: str
    reason: str
    sha256: str
    size: int
    received_at: datetime
    remote_address: str


# -- refusals ----------------------------------------------------------------------------------------
def refuse(
    uow_factory: UowFactory,
    status: int,
    reason: str,
    *,
    claimed_sender: str = "",
    sha256: str = "",
    size: int = 0,
    remote_address: str = "",
) -> Refused:
    """Log the refusal and record it in a transaction of its own; the exception for the caller to raise."""
    # %r throughout: a claimed value with a newline in it must not forge a log line of its own.
    log.warning(
        "refused a federation message (%s) from %r claiming to be %r: %r",
        status,
        remote_address or "?",
        claimed_sender[:_SENDER_CHARS],
        reason[:REASON_CHARS],
    )
    uow = uow_factory()
    with uow:
        uow.act_as("federation inbox", f"refused ({status})")
        uow.federation.add(
            Refusal(
                claimed_sender=claimed_sender[:_SENDER_CHARS],
                reason=f"{status}: {reason}"[:REASON_CHARS],
                sha256=sha256,
                size=size,
                received_at=uow.clock(),
                remote_address=remote_address[:_ADDRESS_CHARS],
            )
        )
        uow.commit()
    return Refused(status, reason)


# -- receiving ---------------------------------------------------------------------------------------
def receive(uow_factory: UowFactory, gate: MessageGate, raw: bytes, remote_address: str) -> Received:
    """Verify a received message and act on it once, in order; raises `Refused` for any other outcome."""
    sha256 = hashlib.sha256(raw).hexdigest()
    claimed = ""

    def refused(status: int, reason: str) -> Refused:
        return refuse(
            uow_factory,
            status,
            reason,
            claimed_sender=claimed,
            sha256=sha256,
            size=len(raw),
            remote_address=remote_address,
        )

    try:
        text = raw.decode("utf-8")
        message = gate.parse(raw)
    except UnicodeDecodeError:
        raise refused(400, "Not a signed customslab message: the body is not UTF-8 JSON.") from None
    except MalformedMessage as exc:
        raise refused(400, f"Not a signed customslab message: {exc}") from None
    claimed = message.sender
    problem = _untrusted(uow_factory, gate, message)
    if problem is not None:
        raise refused(403, problem)
    try:
        envelope = gate.decode(message)
    except MalformedMessage as exc:
        raise refused(400, f"Not a valid customslab FHIR message: {exc}") from None
    problem = _misaddressed(uow_factory, message, envelope)
    if problem is not None:
        raise refused(400, problem)
    try:
        _act_once(uow_factory, message, envelope, text, sha256)
    except Refused as exc:
        raise refused(exc.status, exc.detail) from None
    except Conflict:
        # Either the inbox's unique keys caught a second delivery of the same message at the same
        # moment (then it is in the inbox now: a duplicate), or the use case clashed with a concurrent
        # change (a row version moved): nothing was stored, so the sender must try again, not count it
        # delivered.
        if _already_received(uow_factory, envelope.message_id):
            raise refused(409, f"Message {envelope.message_id} was received already.") from None
        raise refused(
            503, f"Message {envelope.message_id} clashed with a concurrent change here; send it again."
        ) from None
    except Exception:
        # A fault here (a bug, the database gone away) rolled everything back: the sender keeps the
        # message and sends it again, and the refusal says so rather than a bare 500.
        log.exception("acting on federation message %s from %s failed", envelope.message_id, envelope.sender)
        raise refused(
            503,
            f"Acting on message {envelope.message_id} failed here; nothing was stored; send it again later.",
        ) from None
    log.info(
        "received %s %s from %s (%s #%s)",
        envelope.kind.value,
        envelope.message_id,
        envelope.sender,
        envelope.stream,
        envelope.seq,
    )
    return Received(
        message_id=envelope.message_id,
        sender=envelope.sender,
        kind=envelope.kind,
        stream=envelope.stream,
        seq=envelope.seq,
    )


def _already_received(uow_factory: UowFactory, message_id: str) -> bool:
    with uow_factory() as uow:
        return uow.federation.inbox_message(message_id) is not None


def _untrusted(uow_factory: UowFactory, gate: MessageGate, message: SignedMessage) -> str | None:
    """Why the claimed sender, its key or the signature is not trusted, or None."""
    with uow_factory() as uow:
        code = message.sender
        partner = uow.federation.partner(code)
        if partner is None:
            return f"{shown(code) if code else 'The sender'} is not a partner of this deployment."
        if not partner.active:
            return f"Partner {code} is suspended."
        now = uow.clock()
        keys = [k for k in uow.federation.keys_of(code) if k.key_id == message.key_id]
        valid = [k for k in keys if k.valid_at(now)]
        if not valid:
            if keys:
                return f"Key {message.key_id} of {code} is not valid now."
            return f"{code} has no key {shown(message.key_id)}."
        if not gate.signature_valid(message, valid[-1].public_key):
            return f"The signature does not match the message (key {message.key_id} of {code})."
    return None


def _misaddressed(uow_factory: UowFactory, message: SignedMessage, envelope: Envelope) -> str | None:
    """Why the message is not for this deployment from its signer, or None."""
    with uow_factory() as uow:
        home = home_code(uow)
    if envelope.recipient != home:
        return f"The message is addressed to {envelope.recipient}, not to this deployment ({home})."
    if envelope.sender != message.sender:
        return f"The message says it comes from {envelope.sender}, but {message.sender} signed it."
    return None


def _act_once(
    uow_factory: UowFactory, message: SignedMessage, envelope: Envelope, body: str, sha256: str
) -> None:
    """Order and idempotency, the use case, and the inbox row, in one unit of work."""
    handler = handlers().get(envelope.kind)
    sender, stream, seq = envelope.sender, envelope.stream, envelope.seq
    with uow_factory() as uow:
        uow.act_as(f"partner {sender}", f"federation message {envelope.message_id}")
        if uow.federation.inbox_message(envelope.message_id) is not None:
            raise Refused(409, f"Message {envelope.message_id} was received already.")
        last = uow.federation.last_seq(sender, stream)
        if seq <= last:
            # Not this message (its id is new), yet its place in the stream is taken: the sender numbered
            # two messages alike (a database restored from an old backup, say). Counting it delivered
            # would drop it silently, so it is refused for an administrator to look at.
            raise Refused(
                422,
                f"Message {envelope.message_id} reuses number {seq} of stream {stream}, which another "
                f"message took already (last received: {last}).",
            )
        if seq > last + 1:
            raise Refused(
                425, f"Message {seq} of stream {stream} came before message {last + 1}; send that first."
            )
        if handler is None:
            raise Refused(422, f"This deployment does not act on {envelope.kind.value} messages.")
        partner = uow.federation.partner(sender)
        assert partner is not None  # checked by _untrusted; partners are never deleted
        try:
            handler(uow, partner, envelope)
        except DomainError as exc:
            raise Refused(422, exc.message) from None
        uow.federation.add(
            InboxMessage(
                message_id=envelope.message_id,
                partner_code=sender,
                stream=stream,
                seq=seq,
                kind=envelope.kind,
                sha256=sha256,
                key_id=message.key_id,
                received_at=uow.clock(),
                body=body,
            )
        )
        uow.commit()


# -- the administrator's lists -----------------------------------------------------------------------
def inbox(uow: AbstractUnitOfWork, actor: Actor, limit: int = 50, offset: int = 0) -> InboxPage:
    """Messages received from partners, newest first."""
    with acting(uow, actor, Action.MANAGE_DIRECTORY):
        rows, total = uow.federation.inbox(limit, offset)
        return InboxPage(items=[InboxEntry.of_record(m) for m in rows], total=total)


def refusals(uow: AbstractUnitOfWork, actor: Actor, limit: int = 50) -> list[RefusalEntry]:
    """Messages refused, newest first."""
    with acting(uow, actor, Action.MANAGE_DIRECTORY):
        return [RefusalEntry.of_record(r) for r in uow.federation.refusals(limit)]
