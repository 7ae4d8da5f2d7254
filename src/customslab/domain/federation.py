"""Federation between deployments: partners, their keys, the messages that cross, and their rules.

Each administration runs its own server. Servers that trust each other (both sides register the other as
a partner, with its public key) exchange messages: a referral and its lifecycle, results and the report,
and published knowledge. A message is data (rule 14 of the design guide): a change that must reach a
partner writes an `OutboxMessage` in the same transaction; a worker encodes it as a signed HL7 FHIR
bundle and delivers it; the receiver verifies the signature, checks idempotency and order, then calls
the ordinary use case. This module is pure: it names no FHIR, HTTP or SQL type.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from customslab.domain.errors import InvalidTransition, ValidationFailed
from customslab.domain.plain import from_plain, to_plain

#: The base URL under which customslab's FHIR extensions, code systems and identifiers are named.
FHIR_BASE = "https://customslab.org/fhir"


class PartnerState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class OutboxState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    #: Refused by the partner for good (a 4xx that a retry cannot cure), or out of attempts: waits for an
    #: administrator's retry.
    FAILED = "failed"


class TaskStatus(StrEnum):
    """The shared lifecycle of a referral across servers (FHIR Task.status codes)."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


#: Which Task status may follow which. A status repeated (a second custody event while in progress) is
#: allowed where listed, so that the receiving laboratory can report each step.
TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.REQUESTED: frozenset(
        {TaskStatus.ACCEPTED, TaskStatus.REJECTED, TaskStatus.CANCELLED, TaskStatus.IN_PROGRESS}
    ),
    TaskStatus.ACCEPTED: frozenset(
        {TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.REJECTED}
    ),
    TaskStatus.IN_PROGRESS: frozenset({TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED, TaskStatus.CANCELLED}),
    TaskStatus.COMPLETED: frozenset({TaskStatus.COMPLETED}),  # a corrected report re-completes
    TaskStatus.REJECTED: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}


def check_task_transition(current: TaskStatus, target: TaskStatus) -> None:
    if target not in TASK_TRANSITIONS[current]:
        raise InvalidTransition(f"A referral that is {current.value} cannot become {target.value}.")


class MessageKind(StrEnum):
    REFERRAL_REQUESTED = "referral-requested"
    TASK_STATUS = "task-status"
    RESULTS_ISSUED = "results-issued"
    KNOWLEDGE_SHARED = "knowledge-shared"
    KEY_ROTATED = "key-rotated"


class SharedKind(StrEnum):
    METHOD = "method"
    SPECTRUM = "spectrum"
    OPINION = "opinion"
    DOCUMENT = "document"


# -- records ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class Partner:
    """Another administration's deployment that this one trusts: where to send, and whose keys to accept.

    Trust is explicit in both directions: each side registers the other. A suspended partner's messages
    are refused, and nothing is sent to it (its outbox waits)."""

    administration_code: str
    base_url: str
    state: PartnerState
    registered_by: str
    registered_at: datetime
    note: str = ""
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.state is PartnerState.ACTIVE


@dataclass(eq=False)
class FederationKey:
    """A public Ed25519 key: this deployment's own (`administration_code` is the home one) or a partner's.

    A key is valid from `valid_from` until `valid_until` (open-ended when None); a rotation gives the old
    key an end, so both are accepted during the overlap."""

    administration_code: str
    key_id: str
    public_key: str  # base64 of the 32 raw bytes
    valid_from: datetime
    valid_until: datetime | None = None
    added_by: str = ""
    id: int | None = None

    def valid_at(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_until is None or at < self.valid_until)


@dataclass(eq=False)
class OutboxMessage:
    """A message to one partner, written in the transaction of the change that causes it.

    `stream` groups the messages that must arrive in order (one referral's); `seq` numbers them within it.
    `payload` is the message as data (`Envelope.to_plain`); `body` and `sha256` are the signed bundle's
    exact bytes, fixed at the first attempt so a retry sends the same bytes."""

    message_id: str
    partner_code: str
    stream: str
    seq: int
    kind: MessageKind
    payload: dict[str, Any]
    state: OutboxState
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    last_error: str = ""
    body: str = ""
    sha256: str = ""
    delivered_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class InboxMessage:
    """A message received from a partner and acted on (append-only): its id makes a replay harmless."""

    message_id: str
    partner_code: str
    stream: str
    seq: int
    kind: MessageKind
    sha256: str
    key_id: str
    received_at: datetime
    body: str
    id: int | None = None


@dataclass(eq=False)
class Refusal:
    """A message refused before anything of it was stored: who claimed to send it, why, and its hash."""

    claimed_sender: str
    reason: str
    sha256: str
    size: int
    received_at: datetime
    remote_address: str = ""
    id: int | None = None


@dataclass(eq=False)
class FederatedLink:
    """Ties a local sample to the same referral on a partner's server.

    `direction` "out": our sample was referred to the partner (we sent the ServiceRequest);
    "in": the partner referred its sample to us (we created a request and sample from its message).
    `remote_ref` is the referral's id as the sending side named it (the stream of its messages)."""

    partner_code: str
    direction: str
    remote_ref: str
    sample_id: int
    request_id: int
    referral_id: int | None
    status: TaskStatus
    updated_at: datetime
    status_reason: str = ""
    id: int | None = None


@dataclass(eq=False)
class ReceivedReport:
    """A partner laboratory's issued report and results, received for one of our referred samples."""

    link_id: int
    sample_id: int
    partner_code: str
    report_id: str
    version: int
    verification_code: str
    pdf_sha256: str
    signature: str  # base64 Ed25519 signature of `report_statement(...)` by the issuing deployment
    key_id: str
    issued_at: datetime
    laboratory: str
    conclusion: str
    results: list[dict[str, Any]]
    received_at: datetime
    hs_code: str = ""
    decision_rule: str = ""
    id: int | None = None


@dataclass(eq=False)
class SharedCopy:
    """A read-only copy of knowledge a partner published, with its provenance."""

    partner_code: str
    kind: SharedKind
    origin_ref: str
    version: str
    author_lab: str
    licence: str
    title: str
    content: dict[str, Any]
    published_at: datetime
    received_at: datetime
    id: int | None = None


# -- messages as data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecimenData:
    lab_sample_id: str
    description: str
    quantity: Decimal
    unit: str
    seal_number: str
    condition: str = ""


@dataclass(frozen=True)
class ReferralRequested:
    """A laboratory (or a member's focal point) asks a partner's laboratory to analyse a sample.

    `declaration` holds only the declaration fields released to the receiving administration."""

    ref: str
    from_org: str
    to_lab: str
    reason: str
    request_reference: str
    office_code: str
    goods_description: str
    declared_hs: str
    origin_country: str
    analysis_reason: str
    priority: str
    due_date: date
    requested_determinations: tuple[str, ...]
    specimen: SpecimenData
    declaration: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskStatusChanged:
    """The referral's shared status moved: accepted or rejected, in progress, completed or cancelled.

    A custody step at the receiving laboratory rides along (receipt with the seal found intact or not)."""

    ref: str
    status: TaskStatus
    reason: str = ""
    at: datetime | None = None
    seal_intact: bool | None = None
    custody_note: str = ""


@dataclass(frozen=True)
class ObservationData:
    name: str
    value: str | None
    unit: str
    expanded_uncertainty: str | None = None
    coverage_factor: str | None = None
    method: str = ""


@dataclass(frozen=True)
class ResultsIssued:
    """The receiving laboratory issued its report: the results, and the PDF with its verification code."""

    ref: str
    report_id: str
    version: int
    verification_code: str
    issued_at: datetime
    laboratory: str
    conclusion: str
    observations: tuple[ObservationData, ...]
    pdf_sha256: str
    pdf_base64: str
    report_signature: str
    report_key_id: str
    hs_code: str = ""
    decision_rule: str = ""


@dataclass(frozen=True)
class KnowledgeShared:
    kind: SharedKind
    origin_ref: str
    version: str
    author_lab: str
    licence: str
    title: str
    published_at: datetime
    content: dict[str, Any]


@dataclass(frozen=True)
class KeyRotated:
    """The sender has a new key; its old one stays valid until `old_key_valid_until`."""

    key_id: str
    public_key: str
    old_key_id: str
    old_key_valid_until: datetime


Body = ReferralRequested | TaskStatusChanged | ResultsIssued | KnowledgeShared | KeyRotated

KIND_OF: dict[type[Any], MessageKind] = {
    ReferralRequested: MessageKind.REFERRAL_REQUESTED,
    TaskStatusChanged: MessageKind.TASK_STATUS,
    ResultsIssued: MessageKind.RESULTS_ISSUED,
    KnowledgeShared: MessageKind.KNOWLEDGE_SHARED,
    KeyRotated: MessageKind.KEY_ROTATED,
}
BODY_OF: dict[MessageKind, type[Any]] = {v: k for k, v in KIND_OF.items()}


@dataclass(frozen=True)
class Envelope:
    """One message between two deployments: who to whom, its place in its stream, and its body."""

    message_id: str
    sender: str  # administration code of the sending deployment
    recipient: str
    stream: str
    seq: int
    sent_at: datetime
    body: Body

    @property
    def kind(self) -> MessageKind:
        return KIND_OF[type(self.body)]


def referral_stream(sender: str, ref: str) -> str:
    """The stream of one referral's messages, named by the side that opened it (both directions use it)."""
    return f"referral/{sender}/{ref}"


def report_statement(verification_code: str, pdf_sha256: str, report_id: str, version: int) -> bytes:
    """What the issuing deployment signs for a report: the receiver verifies the PDF against it."""
    return f"customslab-report\n{report_id}\n{version}\n{verification_code}\n{pdf_sha256}\n".encode()


# -- delivery rules --------------------------------------------------------------------------------

#: After this many failed attempts a message stops retrying by itself and waits for an administrator.
MAX_ATTEMPTS = 25


def next_attempt(now: datetime, attempts: int, base_seconds: float, cap_seconds: float) -> datetime:
    """Exponential backoff with full jitter: base·2^(n−1), capped, times a uniform factor in [0.5, 1].

    (The "full jitter" family of AWS's Architecture Blog, "Exponential Backoff And Jitter", 2015; the
    lower half is cut so a retry never comes back at once.)"""
    delay = min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1))
    return now + timedelta(seconds=delay * random.uniform(0.5, 1.0))


def check_base_url(url: str) -> str:
    """A partner's base URL: http(s), no query or fragment, no trailing slash."""
    cleaned = url.strip().rstrip("/")
    if not cleaned.startswith(("https://", "http://")) or "?" in cleaned or "#" in cleaned:
        raise ValidationFailed("A partner's base URL is http(s)://host[:port][/path].", "base_url")
    if len(cleaned) > 300:
        raise ValidationFailed("A partner's base URL is at most 300 characters.", "base_url")
    return cleaned


#: Base64 of 32 bytes: 43 characters and one '=' (the last character carries 4 bits, the rest 0).
PUBLIC_KEY_PATTERN = r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$"


def check_public_key(public_key: str) -> str:
    """An Ed25519 public key as it travels: base64 (standard alphabet, padded) of its 32 raw bytes."""
    cleaned = public_key.strip()
    try:
        raw = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32 or base64.b64encode(raw).decode() != cleaned:
        raise ValidationFailed(
            "A public key is the base64 of its 32 raw bytes (44 characters ending in '='), as "
            "`customslab federation key` prints it.",
            "public_key",
        )
    return cleaned


def public_key_id(public_key: str) -> str:
    """A key's id: the first 32 hex digits of the SHA-256 of its 32 raw bytes."""
    return hashlib.sha256(base64.b64decode(check_public_key(public_key))).hexdigest()[:32]


def envelope_to_plain(envelope: Envelope) -> dict[str, Any]:
    """The envelope as JSON-ready data (what the outbox row keeps until the worker encodes it)."""
    plain: dict[str, Any] = to_plain(envelope)
    plain["kind"] = envelope.kind.value
    return plain


def envelope_from_plain(plain: dict[str, Any]) -> Envelope:
    """Rebuild an envelope from `envelope_to_plain` output; the body's type comes from `kind`."""
    body_type = BODY_OF[MessageKind(plain["kind"])]
    return Envelope(
        message_id=plain["message_id"],
        sender=plain["sender"],
        recipient=plain["recipient"],
        stream=plain["stream"],
        seq=int(plain["seq"]),
        sent_at=datetime.fromisoformat(plain["sent_at"]),
        body=from_plain(body_type, plain["body"]),
    )
