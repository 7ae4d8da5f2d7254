"""A real API on a database seeded by the demo loader, for the contract tests (schema, fuzzing, client)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from customslab.adapters import hs_store
from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.domain.enums import Role
from customslab.entrypoints.api.app import create_app
from customslab.entrypoints.demo_setup import load_demo
from customslab.services import auth

#: A user of the central laboratory who holds every role, so the fuzzer reaches every route's logic.
BROAD_USER = "contract.all-roles"
BROAD_PASSWORD = "contract-password-1"


@dataclass
class SeededApi:
    app: FastAPI
    settings: Settings
    db: Database

    def token(self, username: str = BROAD_USER, password: str = BROAD_PASSWORD) -> str:
        """A fresh bearer token, as a client gets one: through POST /api/auth/token."""
        with TestClient(self.app) as client:
            answer = client.post("/api/auth/token", json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


def seeded_api(tmp: Path, shared_data: Path, library: Path, n_requests: int = 30) -> SeededApi:
    """The demo network (cases in every state, quality registers) plus the HS nomenclature, on SQLite."""
    settings = Settings(
        mode="test",
        database_url=f"sqlite:///{tmp / 'contract.sqlite3'}",
        file_store=tmp / "files",
        shared_data=shared_data,
        library_path=library,
        # The fuzzer signs in wrongly on purpose, all from one address: keep the per-address throttle
        # (tested in test_sessions_and_throttling.py) out of its way.
        sign_in_address_backoff_after=10_000,
        sign_in_address_lockout_after=20_000,
    )
    load_demo(settings, n_requests=n_requests)
    db = Database(settings.database_url)
    with db.engine.begin() as conn:
        hs_store.load_nomenclature(conn, shared_data / "hs")
    app = create_app(settings, db=db)
    factory: Any = app.state.uow_factory
    everything = auth.UserCreate(
        username=BROAD_USER,
        full_name="Contract test user",
        org_code="KCS-CCL",
        # Every role a laboratory can hold (a focal point belongs to a member without a laboratory; the
        # role opens no route of its own): the central laboratory is also an RCL, for the coordinator.
        roles=[r for r in Role if r is not Role.FOCAL_POINT],
        password=BROAD_PASSWORD,
    )
    auth.add_user(factory(), everything)
    return SeededApi(app, settings, db)
