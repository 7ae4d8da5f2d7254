"""Writes the hash-chained audit trail from inside every flush, so no service can forget it.

The entries are computed from SQLAlchemy's attribute history (field-level before/after) and
inserted in the same transaction as the change they describe.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from customslab.adapters.orm import AUDITED, audit_entries
from customslab.domain.audit import GENESIS_HASH, AuditRecord, entry_hash

SECRET_COLUMNS = {"password_hash"}
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
                hist = state.attrs[attr.key].history
                if action == "create":
                    value = getattr(obj, attr.key)
                    if value is None or value == "":
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


def _write_entries(session: Session, _flush_context: Any) -> None:
    pending = list(_changes(session))
    if not pending:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # Serialise writers so the chain stays linear; released at commit or rollback.
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})
    last = conn.execute(
        select(audit_entries.c.seq, audit_entries.c.hash).order_by(audit_entries.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS_HASH)
    actor = str(session.info.get("actor", "system"))
    reason = session.info.get("reason")
    at = datetime.now(UTC)
    rows = []
    for entity, entity_id, action, diff in pending:
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


def install_audit_hook(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "after_flush", _write_entries)


def read_chain(session: Session) -> Iterator[AuditRecord]:
    """All entries in sequence order, streamed."""
    result = session.execute(select(audit_entries).order_by(audit_entries.c.seq)).mappings()
    for row in result:
        yield AuditRecord(**dict(row))
