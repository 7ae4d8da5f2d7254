"""The SQLAlchemy implementation of the federation repository port."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, not_, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from customslab.adapters.federation_tables import (
    federation_inbox,
    federation_keys,
    federation_links,
    federation_outbox,
    federation_partners,
    federation_received_reports,
    federation_refusals,
    federation_shared,
)
from customslab.domain.federation import (
    FederatedLink,
    FederationKey,
    InboxMessage,
    OutboxMessage,
    OutboxState,
    Partner,
    PartnerState,
    ReceivedReport,
    Refusal,
    SharedCopy,
    SharedKind,
)
from customslab.services.federation_ports import FederationRepository

#: How `services.federation_delivery` starts the last error of an attempt that got no answer.
NO_ANSWER = "no answer"
O = federation_outbox.c  # noqa: E741 - the outbox's columns, read often below


def _words_in(text: str | None, *columns: Any) -> list[Any]:
    """One condition per word of `text`: the word is in one of the columns (case-insensitive)."""
    return [
        or_(*(func.lower(col).like(f"%{word}%") for col in columns)) for word in (text or "").lower().split()
    ]


class SqlFederationRepository(FederationRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: object) -> None:
        self.session.add(obj)
        self.session.flush()

    def partner(self, administration_code: str) -> Partner | None:
        return self.session.scalars(
            select(Partner).where(federation_partners.c.administration_code == administration_code)
        ).first()

    def partners(self) -> Sequence[Partner]:
        return self.session.scalars(select(Partner).order_by(federation_partners.c.administration_code)).all()

    def keys_of(self, administration_code: str) -> Sequence[FederationKey]:
        stmt = select(FederationKey).where(federation_keys.c.administration_code == administration_code)
        return self.session.scalars(stmt.order_by(federation_keys.c.valid_from, federation_keys.c.id)).all()

    # -- outbox -------------------------------------------------------------------------------------
    def next_seq(self, partner_code: str, stream: str) -> int:
        last = self.session.scalar(
            select(func.max(O.seq)).where(O.partner_code == partner_code, O.stream == stream)
        )
        return int(last or 0) + 1

    def outbox_message(self, message_pk: int) -> OutboxMessage | None:
        return self.session.get(OutboxMessage, message_pk)

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
        conditions: list[Any] = []
        if state is not None:
            conditions.append(O.state == state)
        if partner_code is not None:
            conditions.append(O.partner_code == partner_code)
        conditions += _words_in(text, O.message_id, O.stream, O.last_error)
        total = self.session.scalar(select(func.count()).select_from(federation_outbox).where(*conditions))
        order = O.id.asc() if oldest_first else O.id.desc()
        rows = self.session.scalars(
            select(OutboxMessage).where(*conditions).order_by(order).limit(limit).offset(offset)
        ).all()
        return list(rows), int(total or 0)

    def claim_due(self, now: datetime, limit: int, exclude: Collection[str] = ()) -> list[OutboxMessage]:
        earlier = aliased(federation_outbox)
        # The head of its stream: no message of the same stream to the same partner waits before it
        # (a failed one holds its stream back too, so nothing overtakes it).
        head = not_(
            select(earlier.c.id)
            .where(
                earlier.c.partner_code == O.partner_code,
                earlier.c.stream == O.stream,
                earlier.c.seq < O.seq,
                earlier.c.state != OutboxState.DELIVERED,
            )
            .exists()
        )
        active = (
            select(federation_partners.c.id)
            .where(
                federation_partners.c.administration_code == O.partner_code,
                federation_partners.c.state == PartnerState.ACTIVE,
            )
            .exists()
        )
        stmt = (
            select(OutboxMessage)
            .where(and_(O.state == OutboxState.PENDING, O.next_attempt_at <= now, head, active))
            .where(O.partner_code.not_in(sorted(exclude)) if exclude else true())
            .order_by(O.next_attempt_at, O.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            # Row locks, held until this transaction ends: a second worker skips what the first holds.
            stmt = stmt.with_for_update(skip_locked=True, of=federation_outbox)
        return list(self.session.scalars(stmt).all())

    def wake(self, partner_code: str, now: datetime) -> int:
        result = self.session.execute(
            update(federation_outbox)
            .where(O.partner_code == partner_code, O.state == OutboxState.PENDING, O.next_attempt_at > now)
            .where(or_(O.attempts == 0, O.last_error.startswith(NO_ANSWER, autoescape=True)))
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def outbox_counts(self) -> dict[str, int]:
        rows = self.session.execute(select(O.state, func.count()).group_by(O.state)).all()
        counts = {s.value: 0 for s in OutboxState}
        counts.update({str(getattr(state, "value", state)): int(n) for state, n in rows})
        return counts

    # -- inbox and refusals -------------------------------------------------------------------------
    def inbox_message(self, message_id: str) -> InboxMessage | None:
        return self.session.scalars(
            select(InboxMessage).where(federation_inbox.c.message_id == message_id)
        ).first()

    def last_seq(self, partner_code: str, stream: str) -> int:
        c = federation_inbox.c
        last = self.session.scalar(
            select(func.max(c.seq)).where(c.partner_code == partner_code, c.stream == stream)
        )
        return int(last or 0)

    def inbox(self, limit: int, offset: int) -> tuple[list[InboxMessage], int]:
        total = self.session.scalar(select(func.count()).select_from(federation_inbox))
        rows = self.session.scalars(
            select(InboxMessage).order_by(federation_inbox.c.id.desc()).limit(limit).offset(offset)
        ).all()
        return list(rows), int(total or 0)

    def refusals(self, limit: int) -> list[Refusal]:
        stmt = select(Refusal).order_by(federation_refusals.c.id.desc()).limit(limit)
        return list(self.session.scalars(stmt).all())

    # -- links, received reports, shared copies -----------------------------------------------------
    def link(self, partner_code: str, direction: str, remote_ref: str) -> FederatedLink | None:
        return self.session.scalars(
            select(FederatedLink).where(
                federation_links.c.partner_code == partner_code,
                federation_links.c.direction == direction,
                federation_links.c.remote_ref == remote_ref,
            )
        ).first()

    def links_for_sample(self, sample_id: int) -> Sequence[FederatedLink]:
        stmt = select(FederatedLink).where(federation_links.c.sample_id == sample_id)
        return self.session.scalars(stmt.order_by(federation_links.c.id)).all()

    def links_for_request(self, request_id: int) -> Sequence[FederatedLink]:
        stmt = select(FederatedLink).where(federation_links.c.request_id == request_id)
        return self.session.scalars(stmt.order_by(federation_links.c.id)).all()

    def received_reports(self, sample_ids: Sequence[int]) -> list[ReceivedReport]:
        if not sample_ids:
            return []
        c = federation_received_reports.c
        stmt = select(ReceivedReport).where(c.sample_id.in_(list(sample_ids))).order_by(c.id)
        return list(self.session.scalars(stmt).all())

    def received_report_by_code(
        self, verification_code: str, pdf_sha256: str | None = None
    ) -> ReceivedReport | None:
        c = federation_received_reports.c
        stmt = select(ReceivedReport).where(c.verification_code == verification_code).order_by(c.id.desc())
        if pdf_sha256 is not None:
            exact = self.session.scalars(stmt.where(c.pdf_sha256 == pdf_sha256)).first()
            if exact is not None:
                return exact
        return self.session.scalars(stmt).first()

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
        c = federation_shared.c
        conditions: list[Any] = [] if kind is None else [c.kind == kind]
        conditions += _words_in(text, c.title, c.author_lab, c.partner_code, c.licence)
        total = self.session.scalar(select(func.count()).select_from(federation_shared).where(*conditions))
        terms = {"published": [c.published_at, c.id], "title": [c.title, c.id]}.get(order, [c.id])
        ordered = [t.desc() if descending else t.asc() for t in terms]
        rows = self.session.scalars(
            select(SharedCopy).where(*conditions).order_by(*ordered).limit(limit).offset(offset)
        ).all()
        return list(rows), int(total or 0)

    def shared_copy(self, copy_id: int) -> SharedCopy | None:
        return self.session.get(SharedCopy, copy_id)

    def shared_copy_of(
        self, partner_code: str, kind: SharedKind, origin_ref: str, version: str
    ) -> SharedCopy | None:
        c = federation_shared.c
        return self.session.scalars(
            select(SharedCopy).where(
                c.partner_code == partner_code,
                c.kind == kind,
                c.origin_ref == origin_ref,
                c.version == version,
            )
        ).first()
