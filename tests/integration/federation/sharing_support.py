"""Two deployments in one test process, each on a database of its own with its own directory.

Side A (home administration A) trusts B (active) and C (suspended); side B (home B) trusts A. A message
"crosses" as the worker and the inbox would carry it, minus the wire: the outbox row's payload is
rebuilt with `envelope_from_plain` and B's handler for its kind runs in a unit of work on B's database
(the signing, FHIR and HTTP legs have tests of their own).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from customslab.adapters.db import upgrade
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.domain.access import Actor
from customslab.domain.enums import OrgKind, Role
from customslab.domain.federation import (
    Envelope,
    OutboxMessage,
    OutboxState,
    Partner,
    PartnerState,
    envelope_from_plain,
)
from customslab.domain.model import Administration, Organisation
from customslab.services import auth
from customslab.services.federation_handlers import handlers
from tests.factories import PASSWORD, unique
from tests.integration.conftest import create_pg_database, drop_pg_database

#: (name, where, roles) of each side's users: "lab" is the side's laboratory, "office" its customs office.
USERS = {
    "manager": ("lab", [Role.LAB_MANAGER]),
    "reviewer": ("lab", [Role.REVIEWER]),
    "analyst": ("lab", [Role.ANALYST]),
    "officer": ("office", [Role.REQUESTER]),
    "admin": ("lab", [Role.ADMIN]),
}


@dataclass
class Side:
    """One deployment: its database, home administration, laboratory, office and users."""

    name: str
    db: Database
    files: Path
    home: str
    lab: str
    office: str
    users: dict[str, Actor] = field(default_factory=dict)

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.db, LocalFileStore(self.files))

    def __getitem__(self, who: str) -> Actor:
        return self.users[who]

    def outbox(self, partner: str | None = None, stream: str | None = None) -> list[OutboxMessage]:
        """The side's outbox messages (to `partner`, on `stream`), oldest first."""
        with self.uow() as uow:
            rows, _ = uow.federation.outbox(None, partner, 10_000, 0)
            # Copies: the stored rows expire when the unit of work ends.
            kept = [_copy(m) for m in rows if stream is None or m.stream == stream]
        return sorted(kept, key=lambda m: m.id or 0)

    def set_partner(self, code: str, state: PartnerState) -> None:
        with self.uow() as uow:
            partner = uow.federation.partner(code)
            assert partner is not None
            partner.state = state
            uow.commit()


def _copy(message: OutboxMessage) -> OutboxMessage:
    return OutboxMessage(**{f.name: getattr(message, f.name) for f in dataclasses.fields(message)})


def _directory(side: Side, foreign: dict[str, PartnerState]) -> None:
    """The side's administrations, laboratory and office, and its partners in the given states."""
    now = datetime.now(UTC)
    with side.uow() as uow:
        uow.act_as("test-setup")
        uow.repo.add(Administration(side.home, f"Customs {side.name}", "KR", home=True))
        for code in foreign:
            uow.repo.add(Administration(code, f"Customs {code}", "JP"))
        uow.repo.flush()
        uow.repo.add(
            Organisation(
                side.lab, f"Laboratory {side.name}", OrgKind.CENTRAL, "KR", administration_code=side.home
            )
        )
        uow.repo.add(
            Organisation(
                side.office,
                f"Office {side.name}",
                OrgKind.CUSTOMS_OFFICE,
                "KR",
                administration_code=side.home,
            )
        )
        uow.repo.flush()
        for code, state in foreign.items():
            uow.federation.add(Partner(code, f"https://{code.lower()}.example.org", state, "test-setup", now))
        uow.commit()
    for name, (where, roles) in USERS.items():
        user = auth.UserCreate(
            username=unique(f"{side.name}-{name}"),
            full_name=f"{name} of {side.name}",
            org_code=getattr(side, where),
            roles=list(roles),
            password=PASSWORD,
        )
        made = auth.add_user(side.uow(), user)
        side.users[name] = Actor(made.id, made.username, getattr(side, where), frozenset(roles))


@dataclass
class Network:
    a: Side
    b: Side
    c_code: str  # the administration A trusts but has suspended


@contextmanager
def two_sides(backend: str, tmp: Path) -> Iterator[Network]:
    """Sides A and B on fresh databases of the backend (SQLite files, or PostgreSQL databases)."""
    urls: list[str] = []
    for name in ("a", "b"):
        if backend == "postgresql":
            urls.append(create_pg_database())
        else:
            urls.append(f"sqlite:///{tmp / f'{name}.sqlite3'}")
        upgrade(urls[-1])
    a_code, b_code, c_code = unique("AA"), unique("BB"), unique("CC")
    a = Side("A", Database(urls[0]), tmp / "a-files", a_code, unique("ALAB"), unique("AOFF"))
    b = Side("B", Database(urls[1]), tmp / "b-files", b_code, unique("BLAB"), unique("BOFF"))
    _directory(a, {b_code: PartnerState.ACTIVE, c_code: PartnerState.SUSPENDED})
    _directory(b, {a_code: PartnerState.ACTIVE})
    try:
        yield Network(a, b, c_code)
    finally:
        for side in (a, b):
            side.db.dispose()
        if backend == "postgresql":
            for url in urls:
                drop_pg_database(url)


def deliver(message: OutboxMessage, to: Side) -> Envelope:
    """Carry one outbox message to the receiving side as its inbox would: the handler of the message's
    kind, in one unit of work that commits (a refusal raises, and nothing is stored)."""
    envelope = envelope_from_plain(message.payload)
    assert envelope.recipient == to.home and message.state is OutboxState.PENDING
    with to.uow() as uow:
        uow.act_as(f"partner:{envelope.sender}")
        partner = uow.federation.partner(envelope.sender)
        assert partner is not None and partner.active
        handlers()[envelope.kind](uow, partner, envelope)
        uow.commit()
    return envelope
