"""Deployments for the federation tests: each a database of its own, set up from a directory file as
`customslab init --directory` does, with a clock the test moves, and signed messages between them.

Migrating a database takes seconds, so one migrated SQLite file is made per test process and copied for
each deployment; a test that runs on PostgreSQL too passes its own migrated URL (conftest's `fresh_url`).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from customslab.adapters.db import upgrade
from customslab.adapters.federation import fhir_codec
from customslab.adapters.federation.keys import DeploymentKey, KeyFolder
from customslab.adapters.federation.signing import bundle_text, sign_bundle
from customslab.adapters.tables_base import metadata
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.domain.access import Actor
from customslab.domain.enums import Role
from customslab.domain.federation import Body, Envelope, TaskStatus, TaskStatusChanged
from customslab.entrypoints.api.app import create_app
from customslab.services import auth, directory, federation_partners
from customslab.services.federation_partners import PartnerCreate
from tests.integration.conftest import ADMIN_PASSWORD

PASSWORD = "harbour-ledger-violin-seven"
#: The moment every deployment's clock starts at (a test moves it with `advance`).
START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

DIRECTORY = """
home: {{code: {home}, name: {home} Customs, country: {country}, has_laboratories: true}}
partners:
  - {{code: {partner}, name: {partner} Customs, country: {partner_country}}}
organisations:
  - {{code: {home}-CCL, name: {home} Central Customs Laboratory, kind: central}}
  - {{code: {home}-OFF, name: {home} Airport Customs, kind: customs_office}}
  - {{code: {partner}-CCL, name: {partner} Central Customs Laboratory, kind: rcl, administration: {partner},
     rcl_region: Asia/Pacific}}
administrator: {{username: admin.{lower}, full_name: Administrator {home}, org: {home}-CCL}}
"""
COUNTRIES = {"KRC": "KR", "JPC": "JP", "CNC": "CN"}


@cache
def _template() -> Path:
    """A migrated, empty SQLite database, made once per test process."""
    folder = Path(tempfile.mkdtemp(prefix="customslab-federation-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "migrated.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


def migrated_sqlite(folder: Path) -> str:
    """A migrated SQLite database of its own in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "customslab.sqlite3"
    shutil.copyfile(_template(), path)
    return f"sqlite:///{path}"


@dataclass
class Deployment:
    """One administration's server: its database, key folder, settings, users and clock."""

    home: str
    partner: str
    root: Path
    db: Database
    now: datetime = START
    users: dict[str, Actor] = field(default_factory=dict)

    @property
    def public_url(self) -> str:
        return f"https://lims.{self.home.lower()}.customs.example"

    def settings(self, **overrides: Any) -> Settings:
        given: dict[str, Any] = {
            "mode": "test",
            "database_url": self.db.url,
            "file_store": self.root / "files",
            "federation_key_dir": self.root / "keys",
            "public_url": self.public_url,
        }
        return Settings(**(given | overrides))

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.db, LocalFileStore(self.root / "files"), clock=lambda: self.now)

    def advance(self, by: timedelta) -> None:
        self.now += by

    @property
    def folder(self) -> KeyFolder:
        return KeyFolder(self.root / "keys")

    def app(self, **overrides: Any) -> FastAPI:
        """The API of this deployment, on its database and clock."""
        app = create_app(self.settings(**overrides), db=self.db)
        app.state.uow_factory = self.uow
        return app

    def counts(self) -> dict[str, int]:
        """How many rows each table holds, the audit trail's tables left out."""
        with self.db.engine.connect() as conn:
            return {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in metadata.sorted_tables
                if not t.name.startswith("audit")
            }

    def trust(self, partner: str, key: DeploymentKey | str, base_url: str = "") -> None:
        """Register `partner`'s deployment with its public key, as its administrator would."""
        public = key if isinstance(key, str) else key.public_b64
        cmd = PartnerCreate(
            administration_code=partner,
            base_url=base_url or f"https://lims.{partner.lower()}.customs.example",
            public_key=public,
        )
        federation_partners.register_partner(self.uow(), None, cmd)


def deployment(root: Path, home: str, partner: str, url: str | None = None) -> Deployment:
    """A deployment of administration `home` that knows `partner`'s administration in its directory, with
    its administrator and an analyst; on a copy of the migrated SQLite database unless `url` is given."""
    spec = directory.read_directory(
        DIRECTORY.format(
            home=home,
            lower=home.lower(),
            country=COUNTRIES[home],
            partner=partner,
            partner_country=COUNTRIES[partner],
        )
    )
    db = Database(url or migrated_sqlite(root))
    made = Deployment(home, partner, root, db)
    directory.apply_directory(made.uow(), spec, ADMIN_PASSWORD)
    with made.uow() as uow:
        admin = uow.repo.user_by_name(f"admin.{home.lower()}")
        assert admin is not None and admin.id is not None
        made.users["admin"] = Actor(admin.id, admin.username, f"{home}-CCL", frozenset({Role.ADMIN}))
    analyst = auth.add_user(
        made.uow(),
        auth.UserCreate(
            username=f"analyst.{home.lower()}",
            full_name="Analyst",
            org_code=f"{home}-CCL",
            roles=[Role.ANALYST],
            password=PASSWORD,
        ),
    )
    made.users["analyst"] = Actor(analyst.id, analyst.username, f"{home}-CCL", frozenset({Role.ANALYST}))
    return made


# -- messages ------------------------------------------------------------------------------------------
def status_change(ref: str = "R-1") -> TaskStatusChanged:
    """The simplest body: a referral's status moved (the tests give its kind a handler of their own)."""
    return TaskStatusChanged(ref, TaskStatus.ACCEPTED)


def envelope(
    sender: str,
    recipient: str,
    body: Body | None = None,
    *,
    seq: int = 1,
    stream: str = "",
    message_id: str = "",
    sent_at: datetime = START,
) -> Envelope:
    return Envelope(
        message_id=message_id or str(uuid.uuid4()),
        sender=sender,
        recipient=recipient,
        stream=stream or f"referral/{sender}/R-1",
        seq=seq,
        sent_at=sent_at,
        body=body or status_change(),
    )


def signed(message: Envelope, key: DeploymentKey, signer: str | None = None) -> bytes:
    """The envelope as the bytes a sender posts: a FHIR message bundle signed by `key` for `signer`."""
    bundle = fhir_codec.encode(message, f"https://lims.{message.sender.lower()}.customs.example")
    return bundle_text(sign_bundle(bundle, signer or message.sender, key, message.sent_at)).encode()
