"""Delivering the outbox to partners, and the administrator's view of it.

The worker (`entrypoints/worker.py`) calls `deliver_due` in a loop. Each message is sent inside the
unit of work that claimed it: on PostgreSQL the claim is a row lock (SKIP LOCKED), held until the
outcome is committed, so two workers never send the same message at once; a crash before that commit
leaves the message pending, and the partner answers the resend with 409 (already received), which counts
as delivered. A message's bytes are fixed, and committed, before its first send: a retry resends them,
unless the key that signed them has ended since (a rotation's overlap is over, and partners refuse what
it signed): the same envelope, with the same message id, is then signed again with the current key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from customslab.domain.access import Actor
from customslab.domain.errors import InvalidTransition, NotFound
from customslab.domain.federation import (
    MAX_ATTEMPTS,
    MessageKind,
    OutboxMessage,
    OutboxState,
    envelope_from_plain,
    next_attempt,
)
from customslab.services.contract import MAX_INT, Command, View
from customslab.services.federation_outbox import home_code
from customslab.services.federation_partners import admin_or_operator as _acting
from customslab.services.federation_ports import Courier, DeliveryAnswer, MessageEncoder
from customslab.services.listing import EXPORT_LIMIT
from customslab.services.ports import AbstractUnitOfWork

log = logging.getLogger("customslab.federation")

#: Who the audit trail names for what the worker writes.
WORKER = "federation-worker"
#: Answers after which the partner holds the message: 202 accepted, 409 it had it already.
DELIVERED = frozenset({202, 409})
#: Answers that a later attempt may cure: too early (an earlier message of the stream has not arrived),
#: too many requests, the partner's own trouble (5xx), and 403: the partner does not trust us (yet):
#: it has suspended us, or not yet registered our key; its administrator may fix that, and the message
#: then goes. Every other 4xx is final until an admin acts.
TRANSIENT = frozenset({403, 408, 425, 429})
#: The longest error text kept on a message (the partner's answer may be long).
ERROR_CHARS = 2000

UnitOfWorkFactory = Callable[[], AbstractUnitOfWork]
#: Control characters other than tab and newline: a partner's answer may hold them, and PostgreSQL text
#: cannot hold NUL at all (the commit of the outcome would fail, and the message block every pass).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """The text without control characters (tab and newline kept), fit to store and to show."""
    return CONTROL.sub("", text)


class DeliveryPass(View):
    """What one pass of the worker did: messages sent, by outcome, and messages encoded (or signed again)
    for sending."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    encoded: int = 0

    @property
    def sent(self) -> int:
        return self.delivered + self.retrying + self.failed


class OutboxEntry(View):
    """One message of the outbox as an administrator sees it (its body stays in the database)."""

    id: int
    message_id: str
    partner: str
    stream: str
    seq: int
    kind: MessageKind
    state: OutboxState
    attempts: int
    next_attempt_at: datetime
    last_error: str
    sha256: str
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, message: OutboxMessage) -> OutboxEntry:
        return cls.of_record(message, partner=message.partner_code)


class OutboxPage(View):
    """A page of the outbox, newest first, and how many messages are in each state."""

    total: int
    limit: int
    offset: int
    counts: dict[str, int]
    items: list[OutboxEntry]


class OutboxQuery(Command):
    """Which messages to list: a state, a partner (administration code), words of the message id, stream
    or last error, the order (newest first unless `oldest_first`), and the page."""

    state: OutboxState | None = None
    partner: Annotated[str | None, Field(max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")] = None
    text: Annotated[str | None, Field(max_length=100)] = None
    oldest_first: bool = False
    #: Up to a whole export's rows (the pages ask for 50; the API and the CLI bound their own).
    limit: Annotated[int, Field(ge=1, le=EXPORT_LIMIT)] = 50
    offset: Annotated[int, Field(ge=0, le=MAX_INT)] = 0


# -- the worker's side -----------------------------------------------------------------------------
def deliver_due(
    uow_factory: UnitOfWorkFactory,
    encoder: MessageEncoder,
    courier: Courier,
    *,
    now: Callable[[], datetime] | None = None,
    limit: int = 50,
    retry_base: float = 5.0,
    retry_cap: float = 3600.0,
) -> DeliveryPass:
    """Send up to `limit` due messages: first sign those due for the first time (one unit of work),
    then send each in a unit of work of its own, which holds the message's lock until its outcome."""
    counts = {state: 0 for state in OutboxState}
    encoded = _encode_due(uow_factory, encoder, now, limit, retry_base, retry_cap, counts)
    seen = _Seen()
    while sum(counts.values()) < limit:
        outcome = _send_one(uow_factory, encoder, courier, now, retry_base, retry_cap, seen)
        if outcome is None:
            break
        if isinstance(outcome, OutboxState):
            counts[outcome] += 1
        else:  # a head that became due (a woken partner, its stream's next) after the first step
            encoded += 1
    return DeliveryPass(
        delivered=counts[OutboxState.DELIVERED],
        retrying=counts[OutboxState.PENDING],
        failed=counts[OutboxState.FAILED],
        encoded=encoded,
    )


@dataclass
class _Seen:
    """What one pass remembers: partners' URLs, the partners it woke, this deployment's keys (id: end)
    and the messages it signed again. Once is enough: a message the partner answers 5xx is then not
    retried between each of its other messages within the pass, nor a message signed again twice."""

    urls: dict[str, str] = field(default_factory=dict)
    woken: set[str] = field(default_factory=set)
    #: Partners that gave no answer in this pass (or whose answer could not be stored): their other
    #: messages wait for the next pass rather than each waiting out the timeout in turn.
    skipped: set[str] = field(default_factory=set)
    key_ends: dict[str, datetime | None] | None = None
    resigned: set[str] = field(default_factory=set)

    def own_key_ends(self, uow: AbstractUnitOfWork) -> dict[str, datetime | None]:
        if self.key_ends is None:
            self.key_ends = {k.key_id: k.valid_until for k in uow.federation.keys_of(home_code(uow))}
        return self.key_ends

    def url(self, uow: AbstractUnitOfWork, partner_code: str) -> str:
        if partner_code not in self.urls:
            partner = uow.federation.partner(partner_code)
            assert partner is not None  # claim_due returns messages to active partners only
            self.urls[partner_code] = partner.base_url
        return self.urls[partner_code]


def _encode_due(
    uow_factory: UnitOfWorkFactory,
    encoder: MessageEncoder,
    now: Callable[[], datetime] | None,
    limit: int,
    retry_base: float,
    retry_cap: float,
    counts: dict[OutboxState, int],
) -> int:
    """Fix the bytes of the due heads not yet encoded, in one commit before any is sent.

    Whoever sends a message, now or after a crash, sends these bytes: a retry is the same message."""
    encoded = 0
    with uow_factory() as uow:
        uow.act_as(WORKER)
        at = (now or uow.clock)()
        for message in uow.federation.claim_due(at, limit):
            if message.body:
                continue
            if _encode(message, encoder, at, retry_base, retry_cap):
                encoded += 1
            else:
                counts[message.state] += 1
        uow.commit()
    return encoded


def _encode(
    message: OutboxMessage, encoder: MessageEncoder, at: datetime, retry_base: float, retry_cap: float
) -> bool:
    """Store the message's signed bytes; False (the failure recorded on it, as an attempt) if it cannot."""
    try:
        out = encoder(envelope_from_plain(message.payload))
    except Exception as exc:  # a missing key or a body the codec refuses: say so on the message
        log.exception("could not encode outbox message %s", message.message_id)
        _record(message, DeliveryAnswer(None, f"could not encode: {exc}"), at, retry_base, retry_cap)
        return False
    message.body, message.sha256 = out.body, out.sha256
    return True


def _send_one(
    uow_factory: UnitOfWorkFactory,
    encoder: MessageEncoder,
    courier: Courier,
    now: Callable[[], datetime] | None,
    retry_base: float,
    retry_cap: float,
    seen: _Seen,
) -> OutboxState | Literal["encoded"] | None:
    """Claim the first due stream head and send it; None when none is due."""
    with uow_factory() as uow:
        uow.act_as(WORKER)
        at = (now or uow.clock)()
        claimed = uow.federation.claim_due(at, 1, exclude=seen.skipped)
        if not claimed:
            return None
        message = claimed[0]
        if not message.body or _signed_by_ended_key(uow, encoder, message, at, seen):
            # New bytes are committed before they are sent (which releases the claim); the next claim
            # takes the message up.
            ok = _encode(message, encoder, at, retry_base, retry_cap)
            uow.commit()
            return "encoded" if ok else message.state
        try:
            answer = courier.deliver(seen.url(uow, message.partner_code), message.body.encode("utf-8"))
        except Exception as exc:  # a courier must not raise; if one does, the message still waits
            log.exception("the courier failed on outbox message %s", message.message_id)
            answer = DeliveryAnswer(None, f"{type(exc).__name__}: {exc}")
        if answer.status is None:
            seen.skipped.add(message.partner_code)
        answered_at = (now or uow.clock)()
        state = _record(message, answer, answered_at, retry_base, retry_cap)
        if state is OutboxState.DELIVERED and message.partner_code not in seen.woken:
            # It answers (again): whatever else waits for it need not wait out its backoff.
            uow.federation.wake(message.partner_code, answered_at)
            seen.woken.add(message.partner_code)
        # Read before the commit: a failed one rolls back, which expires the message's attributes.
        sent = _Sent(message.id or 0, message.message_id, message.partner_code)
        try:
            uow.commit()
        except Exception:
            log.exception("could not store the outcome of outbox message %s", sent.message_id)
            committed = False
        else:
            committed = True
    if not committed:
        return _record_apart(uow_factory, sent, answer, now, retry_base, retry_cap, seen)
    _log(message, answer, state)
    return state


@dataclass(frozen=True)
class _Sent:
    pk: int
    message_id: str
    partner_code: str


def _record_apart(
    uow_factory: UnitOfWorkFactory,
    sent: _Sent,
    answer: DeliveryAnswer,
    now: Callable[[], datetime] | None,
    retry_base: float,
    retry_cap: float,
    seen: _Seen,
) -> OutboxState:
    """Record an attempt whose outcome could not be committed, in a unit of work of its own, without the
    partner's words (the likely cause); should that fail too, leave the message, and its partner, for a
    later pass, so that one message never stops the others."""
    reason = DeliveryAnswer(answer.status, "the answer could not be stored")
    try:
        with uow_factory() as uow:
            uow.act_as(WORKER)
            message = uow.federation.outbox_message(sent.pk)
            if message is None or message.state is not OutboxState.PENDING:
                return OutboxState.PENDING
            state = _record(message, reason, (now or uow.clock)(), retry_base, retry_cap)
            uow.commit()
    except Exception:
        log.exception("could not record an attempt on outbox message %s", sent.message_id)
        seen.skipped.add(sent.partner_code)
        return OutboxState.PENDING
    _log(message, reason, state)
    return state


def _signed_by_ended_key(
    uow: AbstractUnitOfWork, encoder: MessageEncoder, message: OutboxMessage, at: datetime, seen: _Seen
) -> bool:
    """Whether the message's stored bytes must be signed again: the key that signed them is not one of
    this deployment's keys, or has ended (`valid_until` passed), so partners would refuse them for good.

    A key rotation is the exception: it is signed with the old key on purpose, which its receiver trusts
    until this very message ends it. A message is signed again once per pass: should the encoder still
    sign with the ended key (it keeps its key a little while), those bytes go, and a later pass tries."""
    if message.kind is MessageKind.KEY_ROTATED or message.message_id in seen.resigned:
        return False
    key_id = encoder.signed_with(message.body)
    if key_id is None:
        return False
    ends = seen.own_key_ends(uow)
    if key_id in ends:
        end = ends[key_id]
        if end is None or at < end:
            return False
    seen.resigned.add(message.message_id)
    log.info("signing outbox message %s again: its key %s has ended", message.message_id, key_id)
    return True


def outcome_of(status: int | None, attempts: int) -> OutboxState:
    """Where a message stands after an attempt that got `status` (None: no answer), its `attempts`-th."""
    if status in DELIVERED:
        return OutboxState.DELIVERED
    transient = status is None or status in TRANSIENT or status >= 500
    if transient and attempts < MAX_ATTEMPTS:
        return OutboxState.PENDING
    return OutboxState.FAILED


def _record(
    message: OutboxMessage, answer: DeliveryAnswer, at: datetime, retry_base: float, retry_cap: float
) -> OutboxState:
    message.attempts += 1
    state = outcome_of(answer.status, message.attempts)
    message.state = state
    if state is OutboxState.DELIVERED:
        message.delivered_at = at
        message.last_error = ""
        return state
    said = "no answer" if answer.status is None else f"HTTP {answer.status}"
    detail = clean_text(answer.detail).strip() if answer.detail else ""
    message.last_error = f"{said}: {detail}"[:ERROR_CHARS] if detail else said
    if state is OutboxState.PENDING:
        message.next_attempt_at = next_attempt(at, message.attempts, retry_base, retry_cap)
    return state


def _log(message: OutboxMessage, answer: DeliveryAnswer, state: OutboxState) -> None:
    where = (
        f"{message.message_id} ({message.kind.value}, {message.stream} #{message.seq}) "
        f"to {message.partner_code}"
    )
    if state is OutboxState.DELIVERED:
        log.info("delivered %s: %s", where, answer.status)
    elif state is OutboxState.FAILED:
        log.error(
            "delivery of %s failed for good after %d attempts: %s",
            where,
            message.attempts,
            message.last_error,
        )
    else:
        log.warning(
            "delivery of %s will be retried (attempt %d): %s", where, message.attempts, message.last_error
        )


# -- the administrator's side ----------------------------------------------------------------------
def outbox_page(uow: AbstractUnitOfWork, actor: Actor | None, query: OutboxQuery) -> OutboxPage:
    """The outbox, newest first, filtered by state and partner (administrators, or the operator: None)."""
    with _acting(uow, actor, "list the outbox"):
        partner = query.partner.upper() if query.partner else None
        found, total = uow.federation.outbox(
            query.state,
            partner,
            query.limit,
            query.offset,
            text=query.text,
            oldest_first=query.oldest_first,
        )
        return OutboxPage(
            total=total,
            limit=query.limit,
            offset=query.offset,
            counts=uow.federation.outbox_counts(),
            items=[OutboxEntry.of(m) for m in found],
        )


def retry_message(uow: AbstractUnitOfWork, actor: Actor | None, message_pk: int) -> OutboxEntry:
    """Send a failed or waiting message again now, with a fresh count of attempts (admins, operator).

    The last error stays until the next answer replaces it; the attempts start again from 0, so that a
    message that failed after `MAX_ATTEMPTS` gets the whole backoff again rather than one try."""
    with _acting(uow, actor, f"retry outbox message {message_pk}"):
        message = uow.federation.outbox_message(message_pk)
        if message is None:
            raise NotFound(f"There is no outbox message {message_pk}.")
        if message.state is OutboxState.DELIVERED:
            when = f" on {message.delivered_at:%Y-%m-%d %H:%M} UTC" if message.delivered_at else ""
            raise InvalidTransition(
                f"Message {message.message_id} was delivered{when}; there is nothing to retry."
            )
        message.state = OutboxState.PENDING
        message.next_attempt_at = uow.clock()
        message.attempts = 0
        uow.commit()
        return OutboxEntry.of(message)


class FailedRetried(View):
    """How many failed messages to a partner were set to go again now."""

    partner: str
    retried: int


def retry_failed(uow: AbstractUnitOfWork, actor: Actor | None, partner_code: str) -> int:
    """Send every failed message to a partner again now, attempts from 0 (admins, operator: None)."""
    code = partner_code.strip().upper()
    with _acting(uow, actor, f"retry the failed messages to {code}"):
        if uow.federation.partner(code) is None:
            raise NotFound(f"There is no partner deployment {code}.")
        _, total = uow.federation.outbox(OutboxState.FAILED, code, 1, 0)
        found, _ = uow.federation.outbox(OutboxState.FAILED, code, total, 0) if total else ([], 0)
        at = uow.clock()
        for message in found:  # one by one (not one UPDATE), so that the audit trail has each
            message.state = OutboxState.PENDING
            message.next_attempt_at = at
            message.attempts = 0
        uow.commit()
        return len(found)
