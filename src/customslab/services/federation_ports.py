"""The boundaries federation's use cases depend on: its records' repository, and the keys that sign.

The SQL adapter (`adapters/federation_repository.py`) implements `FederationRepository`; the unit of
work carries it as `uow.federation`. Signing and encoding messages happen at the edges (the worker and
the inbox route), never inside a use case: a use case only writes an outbox row.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from customslab.domain.federation import (
    Envelope,
    FederatedLink,
    FederationKey,
    InboxMessage,
    OutboxMessage,
    OutboxState,
    Partner,
    ReceivedReport,
    Refusal,
    SharedCopy,
    SharedKind,
)


class FederationRepository(abc.ABC):
    """Partners, keys, the outbox and inbox, links to partners' referrals, received reports and copies."""

    @abc.abstractmethod
    def add(self, obj: object) -> None:
        """Stage a new record (flushed at once, so its id is set)."""

    # -- partners and keys ----------------------------------------------------------------------
    @abc.abstractmethod
    def partner(self, administration_code: str) -> Partner | None: ...

    @abc.abstractmethod
    def partners(self) -> Sequence[Partner]: ...

    @abc.abstractmethod
    def keys_of(self, administration_code: str) -> Sequence[FederationKey]:
        """The administration's keys (the home one's are this deployment's own), oldest first."""

    # -- outbox ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def next_seq(self, partner_code: str, stream: str) -> int:
        """The sequence number the next message of `stream` to the partner takes (1 for the first)."""

    @abc.abstractmethod
    def outbox_message(self, message_pk: int) -> OutboxMessage | None: ...

    @abc.abstractmethod
    def outbox(
        self,
        state: OutboxState | None,
        partner_code: str | None,
        limit: int,
        offset: int,
        *,
        text: str | None = None,
        oldest_first: bool = False,
    ) -> tuple[list[OutboxMessage], int]:
        """Messages, newest first (or oldest), whose id, stream or last error holds every word of `text`;
        and how many match in all."""

    @abc.abstractmethod
    def claim_due(self, now: datetime, limit: int, exclude: Collection[str] = ()) -> list[OutboxMessage]:
        """Pending messages due by `now` to active partners (but those in `exclude`), each the first
        undelivered of its stream, locked for this transaction so that no other worker takes them (SKIP
        LOCKED on PostgreSQL)."""

    @abc.abstractmethod
    def wake(self, partner_code: str, now: datetime) -> int:
        """Make the partner's waiting messages due now (it answered again); how many were. Only those
        never tried, or whose last attempt got no answer: one it answered (5xx, 425, 429, 403) waits
        out its backoff."""

    @abc.abstractmethod
    def outbox_counts(self) -> dict[str, int]:
        """How many messages are in each state."""

    # -- inbox and refusals ---------------------------------------------------------------------
    @abc.abstractmethod
    def inbox_message(self, message_id: str) -> InboxMessage | None: ...

    @abc.abstractmethod
    def last_seq(self, partner_code: str, stream: str) -> int:
        """The highest sequence number received on the partner's stream (0 for none)."""

    @abc.abstractmethod
    def inbox(self, limit: int, offset: int) -> tuple[list[InboxMessage], int]: ...

    @abc.abstractmethod
    def refusals(self, limit: int) -> list[Refusal]: ...

    # -- links, received reports, shared copies -------------------------------------------------
    @abc.abstractmethod
    def link(self, partner_code: str, direction: str, remote_ref: str) -> FederatedLink | None: ...

    @abc.abstractmethod
    def links_for_sample(self, sample_id: int) -> Sequence[FederatedLink]: ...

    @abc.abstractmethod
    def links_for_request(self, request_id: int) -> Sequence[FederatedLink]: ...

    @abc.abstractmethod
    def received_reports(self, sample_ids: Sequence[int]) -> list[ReceivedReport]:
        """Reports received for these samples, oldest first."""

    @abc.abstractmethod
    def received_report_by_code(
        self, verification_code: str, pdf_sha256: str | None = None
    ) -> ReceivedReport | None:
        """The report received with this code: the newest whose file is `pdf_sha256`, when one is, else
        the newest with the code (two partners may print the same code)."""

    @abc.abstractmethod
    def shared_copies(
        self,
        kind: SharedKind | None,
        limit: int,
        offset: int,
        *,
        text: str | None = None,
        order: str = "received",
        descending: bool = True,
    ) -> tuple[list[SharedCopy], int]:
        """Copies received from partners whose title, laboratory, partner or licence holds every word of
        `text`, by `order` (received | published | title; `descending` reverses it), and how many match
        in all."""

    @abc.abstractmethod
    def shared_copy(self, copy_id: int) -> SharedCopy | None: ...

    @abc.abstractmethod
    def shared_copy_of(
        self, partner_code: str, kind: SharedKind, origin_ref: str, version: str
    ) -> SharedCopy | None: ...


class MalformedMessage(ValueError):
    """A received message that is not a well-formed, signed customslab FHIR bundle (the reason says why)."""


#: How much of a value a partner claims (a sender, a key id, a type) a refusal's reason shows.
SHOWN_CHARS = 40


def shown(value: object) -> str:
    """A claimed value for a refusal's reason or a log line: quoted by `repr` (so a newline cannot forge
    a line) and cut to its first `SHOWN_CHARS` characters."""
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:SHOWN_CHARS] + "…" if len(text) > SHOWN_CHARS else text)


@dataclass(frozen=True)
class SignedMessage:
    """A received bundle, parsed but not yet trusted: who claims to have signed it, and with which key."""

    sender: str
    key_id: str
    sha256: str
    bundle: dict[str, Any]


class MessageGate(abc.ABC):
    """The edge that reads received bytes: parse, check a signature, decode FHIR into an `Envelope`.

    Implemented in adapters (signature with `cryptography`, FHIR with `fhir.resources`); the inbox use
    case decides what to trust, in order, with these three steps."""

    @abc.abstractmethod
    def parse(self, raw: bytes) -> SignedMessage:
        """Raises `MalformedMessage` for bytes that are not a signed bundle."""

    @abc.abstractmethod
    def signature_valid(self, message: SignedMessage, public_key: str) -> bool: ...

    @abc.abstractmethod
    def decode(self, message: SignedMessage) -> Envelope:
        """Raises `MalformedMessage` for a bundle that is not valid FHIR or not a customslab message."""

    @abc.abstractmethod
    def report_signature_valid(self, statement: bytes, signature: str, public_key: str) -> bool:
        """Whether `signature` (base64) is an Ed25519 signature of `statement` by `public_key`."""


@dataclass(frozen=True)
class DeliveryAnswer:
    """What a partner answered to one delivery: its HTTP status (None when none came) and why."""

    status: int | None
    detail: str


class Courier(abc.ABC):
    """The edge that carries a signed bundle to a partner deployment (HTTP in `adapters/federation`)."""

    @abc.abstractmethod
    def deliver(self, base_url: str, body: bytes) -> DeliveryAnswer:
        """POST the bundle to the partner's inbox; never raises for a network failure (status None)."""


@dataclass(frozen=True)
class EncodedMessage:
    """A message as it travels: the signed bundle's JSON text, and the sha256 of its UTF-8 bytes."""

    body: str
    sha256: str


class MessageEncoder(Protocol):
    """Encodes and signs an envelope (built at the edge from the deployment's key and public URL).

    Encoding makes a message's bytes, stored on its outbox row and resent as they are; `signed_with`
    tells the worker which key signed stored bytes, so that it signs the message again (same id and
    envelope) once that key has ended: partners refuse what an ended key signed."""

    def __call__(self, envelope: Envelope) -> EncodedMessage: ...

    def signed_with(self, body: str) -> str | None:
        """The id of the key that signed `body` (bytes this encoder made); None when it cannot tell."""
        ...
