"""Optimistic concurrency: of two people acting on the same record at once, exactly one succeeds.

Every record changed in place carries a `row_version` (see `tables_base.row_version`), and the ORM puts
the version it read into the WHERE clause of each UPDATE. Before each flush this module moves the
version of

* every versioned record with a change of its own, or a child added to one of its collections
  (a custody event to a sample, a result or a file to a test), and
* the aggregate a new child joins by reference (a referral or a report to its sample, a PT result to
  its round), and the sample of a test whose state changes (the sample's state follows its tests).

On PostgreSQL the second writer's UPDATE waits for the first to commit, then matches no row; on SQLite
writers are serialised and the second finds the new version. Either way the ORM raises
`StaleDataError`, and `conflict_for` turns it (and a unique key violated by a concurrent insert, or a
serialisation failure) into a `Conflict` that says what changed, who changed it and when, read from the
audit trail. Nothing of the losing transaction is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from customslab.adapters.orm import audit_entries, mapper_registry, users
from customslab.domain import model as m
from customslab.domain.errors import Conflict
from customslab.domain.joint_analysis import JointAnalysis, JointParticipant
from customslab.services import quality_ports as q


@dataclass(frozen=True)
class _Parent:
    """The aggregate a child record belongs to, by the child's reference to it."""

    reference: str
    kind: type[Any]
    on_change: frozenset[str] = frozenset()  # a change to these fields of the child moves the parent too


PARENTS: dict[type[Any], _Parent] = {
    m.AnalysisTest: _Parent("sample_id", m.Sample, frozenset({"state"})),
    m.Referral: _Parent("sample_id", m.Sample),
    m.Share: _Parent("sample_id", m.Sample),
    m.Identification: _Parent("test_id", m.AnalysisTest),
    q.IssuedReport: _Parent("sample_id", m.Sample),
    q.PtResultEntry: _Parent("round_entry_id", q.PtRoundEntry),
    q.CalibrationEntry: _Parent("equipment_entry_id", q.EquipmentEntry),
    q.MaintenanceRecord: _Parent("equipment_entry_id", q.EquipmentEntry),
    q.CorrectiveActionEntry: _Parent("qc_batch_entry_id", q.QcBatchEntry),
    # Linking a participant's sample moves the joint analysis: a consolidation must see every link.
    JointParticipant: _Parent("joint_analysis_id", JointAnalysis, frozenset({"sample_id"})),
}

#: session.info key: the versions this transaction expects, by (table, primary key).
_EXPECTED = "expected_versions"

#: How a record is named in a message, by table; quality records are "record".
_NOUNS = {
    "organisations": "Organisation",
    "users": "User",
    "analysis_requests": "Request",
    "samples": "Sample",
    "tests": "Test",
    "referrals": "Referral",
    "classification_opinions": "Opinion",
    "joint_analyses": "Joint analysis",
    "joint_participants": "Joint-analysis participant",
}
#: The column that names a record better than its key, where there is one.
_NAMES = {
    "samples": "lab_sample_id",
    "analysis_requests": "reference",
    "users": "username",
    "joint_analyses": "reference",
    "joint_participants": "administration_code",
}


def _versioned(obj: object) -> bool:
    mapper = inspect(obj).mapper
    return mapper.version_id_col is not None


def _changed(obj: object, fields: frozenset[str]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[f].history.has_changes() for f in fields)


def _parent_of(session: Session, obj: object) -> object | None:
    rule = PARENTS.get(type(obj))
    if rule is None:
        return None
    if obj in session.dirty and not (rule.on_change and _changed(obj, rule.on_change)):
        return None
    parent_id = getattr(obj, rule.reference, None)
    if parent_id is None:
        return None
    with session.no_autoflush:
        return session.get(rule.kind, parent_id)


def _to_move(session: Session) -> Iterable[object]:
    for obj in session.dirty:
        if _versioned(obj) and session.is_modified(obj, include_collections=True):
            yield obj
    for obj in (*session.new, *session.dirty, *session.deleted):
        parent = _parent_of(session, obj)
        if parent is not None:
            yield parent


def _move_versions(session: Session, _flush_context: Any, _instances: Any) -> None:
    expected: dict[tuple[str, tuple[Any, ...]], int] = session.info.setdefault(_EXPECTED, {})
    seen: set[int] = set()
    for obj in list(_to_move(session)):
        state = inspect(obj)
        if id(obj) in seen or state.key is None or state.deleted:
            continue
        seen.add(id(obj))
        if state.attrs.row_version.history.has_changes():
            continue  # already moved for this flush
        current = int(getattr(obj, "row_version", None) or 1)
        expected.setdefault((state.mapper.local_table.name, state.key[1]), current)
        obj.row_version = current + 1  # type: ignore[attr-defined]


def _forget(session: Session) -> None:
    session.info.pop(_EXPECTED, None)


def install_version_hook(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "before_flush", _move_versions)
    event.listen(factory, "after_commit", _forget)


def conflict_for(session: Session, exc: BaseException) -> Conflict | None:
    """The Conflict to report for a database error caused by a concurrent writer, or None.

    Called after the transaction was rolled back; reads the current rows and the audit trail."""
    if isinstance(exc, StaleDataError):
        return _stale(session)
    if isinstance(exc, IntegrityError) and _unique_violation(exc):
        table, columns = _unique_key(exc)
        who = _latest_writer(session, table) if table else ""
        return Conflict(
            f"The same record (same {columns}) was saved{who} at the same moment; "
            "nothing of yours was saved. Reload and check before trying again."
        )
    if isinstance(exc, DBAPIError) and _serialisation_failure(exc):
        return Conflict(
            "Another change to the same records was being saved at the same moment; nothing of yours "
            "was saved. Reload and try again."
        )
    return None


def _stale(session: Session) -> Conflict:
    expected: dict[tuple[str, tuple[Any, ...]], int] = session.info.pop(_EXPECTED, {})
    for (table_name, key), version in expected.items():
        table = inspect(_mapped_class(table_name)).local_table
        pk = list(table.primary_key.columns)
        where = [c == v for c, v in zip(pk, key, strict=True)]
        row = session.execute(select(table).where(*where)).mappings().first()
        if row is not None and row["row_version"] == version:
            continue
        noun = _NOUNS.get(table_name) or _noun(table_name)
        named = row is not None and table_name in _NAMES
        name = row[_NAMES[table_name]] if named and row is not None else ",".join(map(str, key))
        if row is None:
            return Conflict(f"{noun} {name} was removed while you were working on it; nothing was saved.")
        return Conflict(
            f"{noun} {name} was changed{_by_whom(session, table_name, key)} while you were working on it; "
            "nothing of yours was saved. Reload it and try again."
        )
    return Conflict(
        "The record was changed by someone else while you were working on it; nothing of yours was saved. "
        "Reload it and try again."
    )


def _noun(table_name: str) -> str:
    """'Authorisation' for quality_authorisations, 'Pt round' for quality_pt_rounds."""
    return table_name.removeprefix("quality_").removesuffix("s").replace("_", " ").capitalize()


def _mapped_class(table_name: str) -> type[Any]:
    for mapper in mapper_registry.mappers:
        if getattr(mapper.local_table, "name", None) == table_name:
            return mapper.class_
    raise KeyError(table_name)  # pragma: no cover - only versioned, mapped tables are expected


def _by_whom(session: Session, table_name: str, key: tuple[Any, ...]) -> str:
    """' by NAME at TIME UTC (what)', from the newest audit entry of the record."""
    a = audit_entries.c
    entity_id = ",".join(str(k) for k in key)
    last = (
        session.execute(
            select(audit_entries)
            .where(a.entity == table_name, a.entity_id == entity_id)
            .order_by(a.seq.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if last is None:
        return ""
    when = last["at"].strftime("%Y-%m-%d %H:%M:%S")
    if not _colleague(session, last["actor"]):
        # Another organisation's staff (a PT participant, a referring laboratory): not named, and what
        # they changed is not described; the loser learns only that the record moved on.
        return f" by another organisation at {when} UTC"
    what = _describe(session, last)
    return f" by {last['actor']} at {when} UTC{f' ({what})' if what else ''}"


def _colleague(session: Session, other: str) -> bool:
    """Whether `other` (a username in the audit trail) works in the acting user's organisation."""
    me = str(session.info.get("actor", ""))
    if other == me:
        return True
    found = dict(
        session.execute(
            select(users.c.username, users.c.org_code).where(users.c.username.in_((me, other)))
        ).all()
    )
    return me in found and found.get(other) == found[me]


def _describe(session: Session, entry: Any) -> str:
    changes = {k: v for k, v in (entry["changes"] or {}).items() if k != "row_version"}
    state = changes.get("state")
    if isinstance(state, dict):
        return f"state: {_short(state.get('before'))} → {_short(state.get('after'))}"
    if changes:
        return "changed: " + ", ".join(k.replace("_", " ") for k in list(changes)[:4])
    # Only its version moved: a record was added under it in the same commit, just before this entry.
    a = audit_entries.c
    before = session.execute(
        select(a.entity, a.action, a.actor).where(a.seq < entry["seq"]).order_by(a.seq.desc()).limit(5)
    ).all()
    related = []
    for entity, action, actor in before:
        if actor != entry["actor"]:
            break
        related.append(f"{entity.replace('_', ' ')} {action}d".replace("created", "added"))
    return ", ".join(dict.fromkeys(related))


def _short(value: Any) -> str:
    text = "—" if value is None or value == "" else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _unique_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


def _unique_key(exc: IntegrityError) -> tuple[str | None, str]:
    """The table and the columns of the violated unique key, as the two databases report them."""
    diag = getattr(exc.orig, "diag", None)
    table = getattr(diag, "table_name", None)
    name = getattr(diag, "constraint_name", None)
    if table and name:
        columns = str(name).removeprefix("uq_").removeprefix(f"{table}_")
        return str(table), columns.replace("_", " ")
    text = str(exc.orig).split("UNIQUE constraint failed:", 1)[-1].strip()
    qualified = [c.strip() for c in text.split(",") if "." in c]
    if not qualified:
        return None, "key"
    table = qualified[0].split(".", 1)[0]
    return table, ", ".join(c.split(".", 1)[1].replace("_", " ") for c in qualified)


def _latest_writer(session: Session, table: str) -> str:
    """' by NAME at TIME UTC' for the newest record added to `table`, from the audit trail."""
    a = audit_entries.c
    last = session.execute(
        select(a.actor, a.at).where(a.entity == table, a.action == "create").order_by(a.seq.desc()).limit(1)
    ).first()
    if last is None:
        return ""
    who = last.actor if _colleague(session, last.actor) else "another organisation"
    return f" by {who} at {last.at:%Y-%m-%d %H:%M:%S} UTC"


def _serialisation_failure(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "database is locked" in str(exc.orig)
