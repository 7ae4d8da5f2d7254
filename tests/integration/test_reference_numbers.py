"""Reference numbers: unique, never given twice (after an upgrade, a rollback or a restore), and on
PostgreSQL taken without a lock that would make one registration wait for another's commit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from customslab.adapters import number_sequences, orm
from customslab.adapters.db import alembic_config, upgrade
from customslab.adapters.repository import SqlRepository
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.entrypoints.cli import app
from customslab.services import cases
from tests.factories import make_network, request_command, unique
from tests.integration.conftest import create_pg_database, drop_pg_database

runner = CliRunner()


@pytest.fixture
def pg(pg_url: str) -> Iterator[Database]:
    db = Database(pg_url)
    yield db
    db.dispose()


def _waits_at_most(session: Session, ms: int) -> None:
    """The session's transaction fails, rather than waits, on a lock held longer than `ms`."""
    session.execute(text(f"SET LOCAL lock_timeout = '{ms}ms'"))


@pytest.mark.postgres
@pytest.mark.parametrize("first_use", [True, False], ids=["new counter", "counter in use"])
def test_two_open_transactions_take_distinct_numbers_and_the_second_does_not_wait_for_the_first(
    pg: Database, first_use: bool
) -> None:
    name = f"sample-{unique('LAB')}-2026"
    if not first_use:
        with pg.sessions() as s:
            SqlRepository(s).next_number(name)
            s.commit()
    first, second = pg.sessions(), pg.sessions()
    try:
        a = SqlRepository(first).next_number(name)  # first's transaction stays open
        _waits_at_most(second, 200)
        try:
            b = SqlRepository(second).next_number(name)
        except OperationalError as exc:  # pragma: no cover - the failure this test exists for
            pytest.fail(f"the second transaction waited for the first's lock: {exc}")
        assert a != b and b == a + 1
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()


@pytest.mark.postgres
def test_two_transactions_creating_the_same_new_counter_at_once_both_get_a_number(pg: Database) -> None:
    name = f"report-{unique('LAB')}-2026"
    got: list[int] = []
    failed: list[BaseException] = []
    with pg.engine.connect() as rival:
        # The rival's CREATE is not committed yet: the other creator runs into it in the catalogue.
        rival.execute(number_sequences.create_statement(name, 0))

        def draw() -> None:
            try:
                with pg.sessions() as s:
                    got.append(SqlRepository(s).next_number(name))
                    s.commit()
            except BaseException as exc:  # pragma: no cover - reported below
                failed.append(exc)

        thread = threading.Thread(target=draw)
        thread.start()
        thread.join(0.5)
        rival.commit()
    thread.join(10)
    assert not failed, failed
    assert got == [1]


@pytest.mark.postgres
def test_a_number_taken_by_a_rolled_back_transaction_is_not_given_again(pg: Database) -> None:
    name = f"request-{unique('Y')}"
    with pg.sessions() as s:
        assert SqlRepository(s).next_number(name) == 1
        s.rollback()
    with pg.sessions() as s:
        assert SqlRepository(s).next_number(name) == 2  # a gap, never a number twice


def test_a_counter_continues_after_the_value_its_row_held(database: Database) -> None:
    """A counter written by the row counter (before migration 0017, or on SQLite) goes on from its row."""
    name = f"sample-{unique('LAB')}-2025"
    with database.engine.begin() as conn:
        conn.execute(insert(orm.sequences).values(name=name, value=41))
    with database.sessions() as s:
        assert SqlRepository(s).next_number(name) == 42
        s.commit()
    with database.sessions() as s:
        assert SqlRepository(s).next_number(name) == 43


@pytest.mark.postgres
def test_migration_0017_carries_the_counters_over_and_its_downgrade_writes_them_back() -> None:
    url = create_pg_database()
    db: Database | None = None
    try:
        upgrade(url, "0016_queue_indexes")
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(
                insert(orm.sequences),
                [{"name": "request-2026", "value": 17}, {"name": "sign-in", "value": 0}],
            )
        upgrade(url)
        with db.sessions() as s:
            assert SqlRepository(s).next_number("request-2026") == 18
            s.commit()
        with db.engine.connect() as conn:
            assert number_sequences.last_value(conn, "sign-in") is None
        db.engine.dispose()
        command.downgrade(alembic_config(url), "0016_queue_indexes")
        with db.engine.connect() as conn:
            values = dict(conn.execute(select(orm.sequences.c.name, orm.sequences.c.value)).all())
            assert values == {"request-2026": 18, "sign-in": 0}
            assert number_sequences.last_value(conn, "request-2026") is None
    finally:
        if db is not None:
            db.dispose()
        drop_pg_database(url)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_restored_deployment_gives_no_reference_number_twice(kind: str, tmp_path: Path) -> None:
    urls = (
        [create_pg_database(), create_pg_database()]
        if kind == "postgresql"
        else [
            f"sqlite:///{tmp_path / 'source.sqlite3'}",
            f"sqlite:///{tmp_path / 'restored.sqlite3'}",
        ]
    )
    source, restored = urls
    try:
        upgrade(source)
        db = Database(source)
        uow = lambda: SqlAlchemyUnitOfWork(db, LocalFileStore(tmp_path / "files"))  # noqa: E731
        net = make_network(uow)
        before = [cases.file_request(uow(), net["officer"], request_command(net)).reference for _ in range(3)]
        db.dispose()
        env = {"CUSTOMSLAB_DATABASE_URL": source, "CUSTOMSLAB_FILE_STORE": str(tmp_path / "files")}
        done = runner.invoke(app, ["backup", str(tmp_path / "backup")], env=env)
        assert done.exit_code == 0, done.output
        env = {"CUSTOMSLAB_DATABASE_URL": restored, "CUSTOMSLAB_FILE_STORE": str(tmp_path / "restored-files")}
        done = runner.invoke(app, ["restore", str(tmp_path / "backup")], env=env)
        assert done.exit_code == 0, done.output
        db = Database(restored)
        uow = lambda: SqlAlchemyUnitOfWork(db, LocalFileStore(tmp_path / "restored-files"))  # noqa: E731
        after = cases.file_request(uow(), net["officer"], request_command(net)).reference
        db.dispose()
        assert after not in before and after > max(before), (before, after)
    finally:
        if kind == "postgresql":
            for url in urls:
                drop_pg_database(url)
