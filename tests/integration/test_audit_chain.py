"""The audit trail detects a change made behind the application's back, on both backends."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.domain.enums import OrgKind
from customslab.domain.model import Organisation
from customslab.entrypoints.cli import app
from customslab.services import cases, queries
from tests.factories import make_network, request_command, unique


def _tamper(db: Database, seq: int) -> None:
    """What a database administrator could do: lift the append-only guard and edit a row."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
        conn.execute(
            text("UPDATE audit_entries SET actor = 'mallory' WHERE seq = :s"),
            {"s": seq},
        )


def test_an_audit_entry_altered_in_the_database_is_named_by_verify(fresh_url: str, tmp_path: Path):
    db = Database(fresh_url)
    files = LocalFileStore(tmp_path / "f")

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(db, files)

    net = make_network(uow)
    cases.file_request(uow(), net["officer"], request_command(net))
    verdict = queries.verify_audit(uow())
    assert verdict.ok and verdict.checked > 10
    _tamper(db, 7)
    broken = queries.verify_audit(uow())
    assert broken.model_dump(include={"ok", "checked", "first_broken_seq", "problem", "problems"}) == {
        "ok": False,
        "checked": 6,
        "first_broken_seq": 7,
        "problem": "entry 7 was altered after it was written",
        "problems": ["entry 7 was altered after it was written"],
    }
    result = CliRunner().invoke(app, ["audit", "verify", "--database-url", fresh_url])
    assert result.exit_code == 3
    assert "BROKEN at entry 7" in result.output
    db.dispose()


def test_the_audit_trail_refuses_updates_and_deletes_while_the_guard_is_in_place(
    fresh_url: str, tmp_path: Path
):
    db = Database(fresh_url)
    make_network(lambda: SqlAlchemyUnitOfWork(db, LocalFileStore(tmp_path)))
    for statement in ("UPDATE audit_entries SET actor = 'x'", "DELETE FROM audit_entries"):
        with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
    result = CliRunner().invoke(app, ["audit", "verify", "--database-url", fresh_url])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    db.dispose()


def test_a_rolled_back_change_leaves_no_entry_and_concurrent_writers_keep_one_chain(
    fresh_url: str, tmp_path: Path
):
    db = Database(fresh_url)
    files = LocalFileStore(tmp_path / "f")

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(db, files)

    net = make_network(uow)
    before = queries.verify_audit(uow()).checked
    with uow() as work:
        # Flushed (its audit entries computed), then rolled back: nothing may remain.
        work.act_as("tester")
        work.repo.add(
            Organisation(unique("ORG"), "Never committed", OrgKind.LOCAL, "KR", administration_code=net.home)
        )
        work.session.flush()
    assert queries.verify_audit(uow()).checked == before
    with uow() as work:
        # Never flushed before commit: the commit's own flush must still be audited.
        work.act_as("tester")
        work.repo.add(
            Organisation(unique("ORG"), "Committed", OrgKind.LOCAL, "KR", administration_code=net.home)
        )
        work.commit()
    assert queries.verify_audit(uow()).checked == before + 1
    before += 1

    errors: list[BaseException] = []

    def register(count: int) -> None:
        try:
            for _ in range(count):
                cases.file_request(uow(), net["officer"], request_command(net))
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(6,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    verdict = queries.verify_audit(uow())
    assert verdict.ok and verdict.checked > before
    with db.engine.connect() as conn:
        seqs = [row[0] for row in conn.execute(text("SELECT seq FROM audit_entries ORDER BY seq"))]
        created = conn.execute(
            text(
                "SELECT count(*) FROM audit_entries WHERE entity = 'analysis_requests' AND action = 'create'"
            )
        ).scalar_one()
        requests = conn.execute(text("SELECT count(*) FROM analysis_requests")).scalar_one()
    assert seqs == list(range(1, len(seqs) + 1))
    assert created == requests == 18
    db.dispose()
