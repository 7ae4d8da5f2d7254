"""Writes the hash-chained audit trail from the session's own events, so no service can forget it.

The entries are computed at every flush from SQLAlchemy's attribute history (field-level
before/after) and inserted just before commit, in the same transaction as the change they describe:
a rolled-back change leaves no entry, and a committed one always has its entries.

With a signer, the same hook anchors the chain: once the last checkpoint is older than the signer's
interval, the new head is checkpointed in the same transaction (no timer thread: a process that only
reads never needs one, and several processes share the database's notion of "the last checkpoint").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Engine, event, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from customslab.adapters.audit_anchor import AuditSigner, insert_checkpoint, latest_checkpoint
from customslab.adapters.orm import AUDITED, audit_checkpoints, audit_entries
from customslab.domain.audit import GENESIS_HASH, AuditCheckpoint, AuditRecord, entry_hash

SECRET_COLUMNS = {"password_hash", "token_hash"}
#: Bookkeeping that would flood the trail: a session's last activity (its start and end are audited).
#: A federation message's bytes are kept on its own row (the trail records its sha256).
UNAUDITED_COLUMNS = {"last_seen_at", "body", "payload"}
#: Arbitrary constant identifying the audit chain's advisory lock in PostgreSQL.
AUDIT_LOCK_KEY = 7_402_117


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    return value


def _entity(obj: Any) -> tuple[str, str] | None:
    insp = inspect(obj)
    table = insp.mapper.local_table.name
    if table not in AUDITED:
        return None
    ident = insp.mapper.primary_key_from_instance(obj)
    return table, ",".join(str(i) for i in ident)


def _changes(session: Session) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            found = _entity(obj)
            if found is None:
                continue
            state = inspect(obj)
            diff: dict[str, Any] = {}
            for attr in state.mapper.column_attrs:
                if attr.key in UNAUDITED_COLUMNS:
                    continue
                hist = state.attrs[attr.key].history
                if action == "create":
                    value = getattr(obj, attr.key)
                    if value is None or value == "" or attr.key == "row_version":
                        continue
                    diff[attr.key] = {"after": "[set]" if attr.key in SECRET_COLUMNS else _plain(value)}
                elif action == "update" and hist.has_changes():
                    before = hist.deleted[0] if hist.deleted else None
                    after = hist.added[0] if hist.added else None
                    if attr.key in SECRET_COLUMNS:
                        diff[attr.key] = {"before": "[hidden]", "after": "[changed]"}
                    elif _plain(before) != _plain(after):
                        diff[attr.key] = {"before": _plain(before), "after": _plain(after)}
            if action == "update" and not diff:
                continue
            yield found[0], found[1], action, diff


_PENDING = "audit_pending"
#: session.info key: this transaction's entries are appended; a change flushed now would go unaudited.
_APPENDED = "audit_appended"


def _collect(session: Session, _flush_context: Any) -> None:
    """After each flush: keep the field-level changes, which only the flush can see, until commit."""
    pending = list(_changes(session))
    if pending and session.info.get(_APPENDED):
        # A before_commit hook that ran after the audit's changed records: its changes would commit
        # unaudited, and the chain's lock would be held while it ran. Hooks must run before the append.
        raise RuntimeError(
            "Records changed after the audit trail was appended for this commit: "
            + ", ".join(sorted({f"{entity} {entity_id}" for entity, entity_id, _, _ in pending}))
        )
    if pending:
        at = datetime.now(UTC)
        actor = str(session.info.get("actor", "system"))
        reason = session.info.get("reason")
        session.info.setdefault(_PENDING, []).extend((at, actor, reason, *change) for change in pending)


def _lock_chain(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})


def _head(conn: Connection) -> tuple[int, str] | None:
    last = conn.execute(
        select(audit_entries.c.seq, audit_entries.c.hash).order_by(audit_entries.c.seq.desc()).limit(1)
    ).first()
    return (last[0], last[1]) if last else None


def _checkpoint_if_due(
    conn: Connection, signer: AuditSigner, seq: int, head_hash: str, last: AuditCheckpoint | None
) -> None:
    now = datetime.now(UTC)
    if last is not None and last.seq >= seq:
        # The trail is shorter than a checkpoint says: tampering that `audit verify` reports. Writing
        # here would collide with that checkpoint and fail the person's change for nothing.
        return
    if signer.is_due(last.at if last else None, now):
        insert_checkpoint(conn, signer.sign(seq, head_hash, now))


def _write_entries(session: Session, signer: AuditSigner | None = None) -> None:
    """Before commit: chain and insert the collected entries (and a checkpoint, when one is due).

    The chain must stay linear, so PostgreSQL writers are serialised by a transaction-scoped advisory
    lock. It is taken here, the last thing before COMMIT: after the last flush, after every other
    before_commit hook (`Database` installs this one last, and `_collect` refuses a change flushed
    after it), with the last checkpoint read before it. So the lock is held for the head's read,
    the insert and the commit only, and concurrent transactions overlap in everything else.
    """
    session.flush()  # the last changes reach _collect before the chain is written
    pending = session.info.pop(_PENDING, None)
    session.info[_APPENDED] = True
    if not pending:
        return
    conn = session.connection()
    # Read before the lock: it only says whether a checkpoint is due, and one written meanwhile by
    # another transaction makes this one write a checkpoint of its own head (never a wrong one).
    last = latest_checkpoint(conn) if signer is not None else None
    _lock_chain(conn)
    seq, prev = _head(conn) or (0, GENESIS_HASH)
    rows = []
    for at, actor, reason, entity, entity_id, action, diff in pending:
        seq += 1
        h = entry_hash(seq, at, actor, entity, entity_id, action, diff, reason, prev)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": actor,
                "entity": entity,
                "entity_id": entity_id,
                "action": action,
                "changes": diff,
                "reason": reason,
                "prev_hash": prev,
                "hash": h,
            }
        )
        prev = h
    conn.execute(audit_entries.insert(), rows)
    if signer is not None:
        _checkpoint_if_due(conn, signer, seq, prev, last)


def checkpoint_now(engine: Engine, signer: AuditSigner) -> tuple[AuditCheckpoint, bool] | None:
    """Checkpoint the current head now (for cron and `export-head`); None while the trail is empty.

    Returns the head's checkpoint and whether it was written now (False: the head already had one).
    """
    with engine.begin() as conn:
        _lock_chain(conn)
        head = _head(conn)
        if head is None:
            return None
        seq, head_hash = head
        row = conn.execute(select(audit_checkpoints).where(audit_checkpoints.c.seq == seq)).first()
        if row is not None:
            return AuditCheckpoint(**row._asdict()), False
        checkpoint = signer.sign(seq, head_hash, datetime.now(UTC))
        insert_checkpoint(conn, checkpoint)
        return checkpoint, True


def _discard(session: Session, _previous: Any = None) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_APPENDED, None)


def _committed(session: Session) -> None:
    session.info.pop(_APPENDED, None)


def install_audit_hook(factory: sessionmaker[Session], signer: AuditSigner | None = None) -> None:
    """Audit every flush of the factory's sessions, appending the chain at commit. Install it after any
    other before_commit hook of the factory: the append must be the last thing before COMMIT."""

    def before_commit(session: Session) -> None:
        _write_entries(session, signer)

    event.listen(factory, "after_flush", _collect)
    event.listen(factory, "before_commit", before_commit)
    event.listen(factory, "after_commit", _committed)
    event.listen(factory, "after_rollback", _discard)


def read_chain(session: Session) -> Iterator[AuditRecord]:
    """All entries in sequence order, streamed."""
    result = session.execute(select(audit_entries).order_by(audit_entries.c.seq)).mappings()
    for row in result:
        yield AuditRecord(**dict(row))
