"""The audit append holds the chain's lock only for the append: the last thing before COMMIT."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from customslab.adapters.audit_log import AUDIT_LOCK_KEY
from customslab.adapters.repository import SqlRepository
from customslab.adapters.uow import Database
from customslab.domain.audit import verify_chain
from customslab.domain.model import Administration
from tests.factories import unique


def _administration() -> Administration:
    code = unique("AD")
    return Administration(code, f"Administration {code}", "KR")


def test_a_change_made_by_a_commit_hook_after_the_audit_append_is_refused_not_committed_unaudited(
    database: Database,
) -> None:
    late = _administration()

    def changes_a_record(session: Session) -> None:
        session.add(late)

    event.listen(database.sessions, "before_commit", changes_a_record)
    try:
        with database.sessions() as s:
            s.add(_administration())
            with pytest.raises(RuntimeError, match="after the audit trail was appended"):
                s.commit()
            s.rollback()
    finally:
        event.remove(database.sessions, "before_commit", changes_a_record)
    with database.sessions() as s:
        assert s.get(Administration, late.code) is None
        assert verify_chain(list(SqlRepository(s).audit_chain())).ok


@pytest.mark.postgres
def test_a_transaction_writes_and_flushes_while_another_holds_the_audit_lock_and_waits_only_to_commit(
    pg_url: str,
) -> None:
    db = Database(pg_url)
    try:
        with db.engine.connect() as appending:
            appending.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})
            with db.sessions() as s:
                s.execute(text("SET LOCAL lock_timeout = '200ms'"))
                s.add(_administration())
                s.flush()  # the change and its audit entries are made without the chain's lock
                with pytest.raises(OperationalError, match="lock timeout"):
                    s.commit()  # only the append waits for the other's
            appending.rollback()
        with db.sessions() as s:
            s.add(_administration())
            s.commit()
    finally:
        db.dispose()
