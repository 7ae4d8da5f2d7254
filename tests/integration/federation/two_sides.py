"""Two deployments in one process: a member administration without a laboratory (Bhutan) and the Japanese
Regional Customs Laboratory, each with its own database, file store, directory and federation key, and
each the other's partner. Messages travel the real way but without HTTP: the sender's outbox worker pass
(`deliver_due`) encodes and signs each message (`BundleEncoder`), and an in-process courier hands the
bytes to the receiver's inbox (`federation_inbox.receive` through the real `FhirMessageGate`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from customslab.adapters.db import upgrade
from customslab.adapters.federation.encoder import BundleEncoder
from customslab.adapters.federation.gate import FhirMessageGate
from customslab.adapters.federation.keys import DeploymentKey, KeyFolder, verify_bytes
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.domain.access import Actor
from customslab.domain.enums import OrgKind, Role
from customslab.domain.federation import OutboxMessage, OutboxState
from customslab.domain.model import Administration, Organisation
from customslab.entrypoints.web.app import create_web_app
from customslab.services import auth, federation_partners
from customslab.services.federation_delivery import DeliveryPass, deliver_due
from customslab.services.federation_inbox import Refused, receive
from customslab.services.federation_partners import PartnerCreate
from customslab.services.federation_ports import Courier, DeliveryAnswer
from tests.factories import PASSWORD, unique
from tests.integration.federation.support import migrated_sqlite

MEMBER_ADMIN, RCL_ADMIN, THIRD_ADMIN = "BTC", "JPC", "KRC"
MEMBER_ORG, RCL_LAB, THIRD_LAB = "BT-FP", "RCL-JP", "CCL-KR"
#: A second member organisation that the member's directory has and the RCL's has not.
UNKNOWN_ORG = "BT-FP2"
MEMBER_URL, RCL_URL = "http://member.test", "http://rcl.test"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

#: name → (organisation, roles) on each side.
MEMBER_USERS = {
    "focal_point": (MEMBER_ORG, [Role.FOCAL_POINT]),
    "member_officer": (MEMBER_ORG, [Role.REQUESTER]),
    "other_focal_point": (UNKNOWN_ORG, [Role.FOCAL_POINT]),
}
RCL_USERS = {
    "rcl_manager": (RCL_LAB, [Role.LAB_MANAGER, Role.REVIEWER]),
    "rcl_analyst": (RCL_LAB, [Role.ANALYST]),
}


def report_signature_check(statement: bytes, signature: str, public_key: str) -> bool:
    """The check `customslab report verify` is given at the edge."""
    return verify_bytes(public_key, statement, signature)


@dataclass
class Side:
    """One deployment: its database, files, key and users."""

    name: str
    home: str
    url: str
    root: Path
    database: Database
    files: LocalFileStore
    keys: KeyFolder
    key: DeploymentKey = field(init=False)
    users: dict[str, Actor] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Actor:
        return self.users[name]

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.database, self.files)

    def outbox(self) -> list[OutboxMessage]:
        """Every message this side wrote, oldest first."""
        with self.uow() as uow:
            rows, _ = uow.federation.outbox(None, None, 1000, 0)
            # Copies, readable once the unit of work is closed.
            return [dataclasses.replace(m) for m in reversed(rows)]

    def pending(self) -> list[OutboxMessage]:
        return [m for m in self.outbox() if m.state is OutboxState.PENDING]

    @contextmanager
    def pages(self, who: str) -> Iterator[TestClient]:
        """The web pages and the API of this side, signed in as `who` through the sign-in page."""
        settings = Settings(mode="test", database_url=self.database.url, file_store=self.root / "files")
        app = create_web_app(settings, db=self.database)
        with TestClient(app) as client:
            page = client.get("/login").text
            token = TOKEN.search(page)
            assert token, "no CSRF token on the sign-in page"
            form = {"username": self[who].username, "password": PASSWORD, "next": "/", "csrf_token": token[1]}
            assert client.post("/login", data=form, follow_redirects=False).status_code == 303
            yield client


class InProcessCourier(Courier):
    """Hands each bundle to the inbox of the side at `base_url`, as its route would: 202 or the refusal."""

    def __init__(self, sides: dict[str, Side]) -> None:
        self.sides = sides

    def deliver(self, base_url: str, body: bytes) -> DeliveryAnswer:
        side = self.sides[base_url]
        try:
            receive(side.uow, FhirMessageGate(), body, "127.0.0.1")
        except Refused as exc:
            return DeliveryAnswer(exc.status, exc.detail)
        return DeliveryAnswer(202, "accepted")


@dataclass
class TwoSides:
    member: Side
    rcl: Side

    def carry(self, sender: Side) -> DeliveryPass:
        """One worker run of the sender until nothing is due: every pending message goes (or is refused)."""
        courier = InProcessCourier({MEMBER_URL: self.member, RCL_URL: self.rcl})
        encoder = BundleEncoder(lambda: sender.key, sender.keys, sender.url)
        total = DeliveryPass()
        while True:
            done = deliver_due(sender.uow, encoder, courier, retry_base=3600, retry_cap=3600)
            if not (done.sent or done.encoded):
                return total
            total = DeliveryPass(
                delivered=total.delivered + done.delivered,
                retrying=total.retrying + done.retrying,
                failed=total.failed + done.failed,
                encoded=total.encoded + done.encoded,
            )


def _directory(side: Side) -> None:
    with side.uow() as uow:
        uow.act_as("test-setup")
        add = uow.repo.add
        for code, name, country, labs in (
            (MEMBER_ADMIN, "Bhutan Customs", "BT", False),
            (RCL_ADMIN, "Japan Customs", "JP", True),
            (THIRD_ADMIN, "Korea Customs Service", "KR", True),
        ):
            add(Administration(code, name, country, has_laboratories=labs, home=code == side.home))
        uow.repo.flush()
        add(
            Organisation(
                MEMBER_ORG, "Bhutan focal point", OrgKind.MEMBER, "BT", administration_code=MEMBER_ADMIN
            )
        )
        add(
            Organisation(
                RCL_LAB,
                "RCL Japan",
                OrgKind.RCL,
                "JP",
                administration_code=RCL_ADMIN,
                rcl_region="Asia/Pacific",
            )
        )
        add(
            Organisation(
                THIRD_LAB, "Korea central lab", OrgKind.CENTRAL, "KR", administration_code=THIRD_ADMIN
            )
        )
        if side.home == MEMBER_ADMIN:
            add(
                Organisation(
                    UNKNOWN_ORG,
                    "Bhutan second focal point",
                    OrgKind.MEMBER,
                    "BT",
                    administration_code=MEMBER_ADMIN,
                )
            )
        uow.commit()


def _users(side: Side, users: dict[str, tuple[str, list[Role]]]) -> None:
    for name, (org, roles) in users.items():
        cmd = auth.UserCreate(
            username=unique(name), full_name=name, org_code=org, roles=list(roles), password=PASSWORD
        )
        out = auth.add_user(side.uow(), cmd)
        side.users[name] = Actor(out.id, out.username, org, frozenset(roles))


def _side(
    name: str, home: str, url: str, database_url: str | None, root: Path, users: dict[str, Any]
) -> Side:
    if database_url is None:
        database_url = migrated_sqlite(root)
    else:
        upgrade(database_url)
    files, keys = LocalFileStore(root / "files"), KeyFolder(root / "keys")
    side = Side(name, home, url, root, Database(database_url), files, keys)
    _directory(side)
    _users(side, users)
    side.key = side.keys.generate()
    federation_partners.register_own_key(side.uow(), None, side.key.key_id, side.key.public_b64, timedelta(0))
    return side


def _trust(side: Side, other: Side) -> None:
    cmd = PartnerCreate(administration_code=other.home, base_url=other.url, public_key=other.key.public_b64)
    federation_partners.register_partner(side.uow(), None, cmd)


@contextmanager
def two_sides(root: Path, member_url: str | None = None, rcl_url: str | None = None) -> Iterator[TwoSides]:
    """The member and the RCL deployments, each the other's partner: on SQLite files of their own, or on
    the (empty) databases given."""
    member = _side("member", MEMBER_ADMIN, MEMBER_URL, member_url, root / "member", MEMBER_USERS)
    rcl = _side("rcl", RCL_ADMIN, RCL_URL, rcl_url, root / "rcl", RCL_USERS)
    _trust(member, rcl)
    _trust(rcl, member)
    try:
        yield TwoSides(member, rcl)
    finally:
        member.database.dispose()
        rcl.database.dispose()
