"""Real databases for integration tests: a SQLite file and a PostgreSQL server (never mocked)."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from customslab.adapters import hs_store
from customslab.adapters.db import upgrade
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.entrypoints.api.app import create_app
from tests.conftest import shared_data_dir
from tests.factories import PASSWORD, Network, make_network

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: The example directory file of the docs, and the first administrator's password `init` is given for it.
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "network.example.yaml"
ADMIN_PASSWORD = "plain-vivid-harbour-lantern"


def pg_admin_url() -> str:
    return os.environ.get("CUSTOMSLAB_TEST_DATABASE_URL", DEFAULT_PG)


def create_pg_database() -> str:
    """A fresh, uniquely named database on the test server; fails loudly when none answers."""
    admin = make_url(pg_admin_url())
    name = f"customslab_test_{uuid.uuid4().hex[:10]}"
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except Exception as exc:  # pragma: no cover - the message is the point
        raise RuntimeError(
            "PostgreSQL tests need a server: set CUSTOMSLAB_TEST_DATABASE_URL or run one on "
            f"127.0.0.1:5432 ({exc})"
        ) from exc
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    admin = make_url(pg_admin_url())
    name = make_url(url).database
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _prepare(url: str) -> None:
    """Migrate and load the HS nomenclature, as `customslab db upgrade` and `hs load` would."""
    upgrade(url)
    db = Database(url)
    with db.engine.begin() as conn:
        hs_store.load_nomenclature(conn, shared_data_dir() / "hs")
    db.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    url = create_pg_database()
    _prepare(url)
    yield url
    drop_pg_database(url)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'customslab.sqlite3'}"
    _prepare(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    url = request.getfixturevalue("pg_url" if backend == "postgresql" else "sqlite_url")
    db = Database(url)
    yield db
    db.dispose()


@pytest.fixture
def uow_factory(database: Database, tmp_path: Path) -> Callable[[], SqlAlchemyUnitOfWork]:
    files = LocalFileStore(tmp_path / "files")
    return lambda: SqlAlchemyUnitOfWork(database, files)


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own with nothing in it, not even the schema: `customslab init` migrates it."""
    if backend == "postgresql":
        url = create_pg_database()
        yield url
        drop_pg_database(url)
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database of the test's own, for a test that breaks it for good (tampering, say)."""
    if backend == "postgresql":
        url = create_pg_database()
        upgrade(url)
        yield url
        drop_pg_database(url)
    else:
        url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        upgrade(url)
        yield url


@pytest.fixture
def api(database: Database, tmp_path: Path) -> Iterator[tuple[TestClient, Network]]:
    """The JSON API on the test database, and a network of users to call it as."""
    settings = Settings(mode="test", database_url=database.url, file_store=tmp_path / "files")
    app = create_app(settings, db=database)
    net = make_network(app.state.uow_factory)
    with TestClient(app) as client:
        yield client, net


@pytest.fixture
def app(database: Database, tmp_path: Path) -> Any:
    """The API and the pages over the test database (a module that needs the reference library or other
    settings defines its own)."""
    from customslab.entrypoints.web.app import create_web_app

    settings = Settings(
        mode="test", database_url=database.url, file_store=tmp_path / "files", shared_data=shared_data_dir()
    )
    return create_web_app(settings, db=database)


@pytest.fixture
def net(app: Any) -> Network:
    """A fresh network of organisations and one user per role, in `app`'s database."""
    return make_network(app.state.uow_factory)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def bearer_client(base: str, username: str, password: str) -> httpx.Client:
    """An HTTP client to the server at `base`, signed in as `username` through the API."""
    token = httpx.post(f"{base}/api/auth/token", json={"username": username, "password": password})
    assert token.status_code == 200, token.text
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token.json()['access_token']}"})


def signed_in(client: TestClient, net: Network, who: str) -> dict[str, str]:
    """The bearer header of the network's user `who`, signed in through the API."""
    r = client.post("/api/auth/token", json={"username": net[who].username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app behind a real HTTP server on a free local port while the block lasts: its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


KbFactory = Callable[[], SqlAlchemyUnitOfWork]


@pytest.fixture
def kb(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[KbFactory, Network]]:
    """The shared SQLite test database (PostgreSQL is covered by the ranking and access-table tests)."""
    db = Database(sqlite_url)
    files = LocalFileStore(tmp_path / "files")

    def factory() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(db, files)

    yield factory, make_network(factory)
    db.dispose()
