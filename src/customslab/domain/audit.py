"""Hash-chained audit entries: each entry's hash covers its content and the previous entry's hash.

A change made behind the application's back (an UPDATE in the database, a deleted row) breaks the
chain at the first altered entry, which `verify_chain` names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: datetime
    actor: str
    entity: str
    entity_id: str
    action: str
    changes: dict[str, Any]
    reason: str | None
    prev_hash: str
    hash: str


def entry_hash(
    seq: int,
    at: datetime,
    actor: str,
    entity: str,
    entity_id: str,
    action: str,
    changes: dict[str, Any],
    reason: str | None,
    prev_hash: str,
) -> str:
    """sha256 over a canonical JSON of the entry's fields and the previous hash."""
    payload = json.dumps(
        {
            "seq": seq,
            "at": _naive_utc(at).isoformat(timespec="microseconds"),
            "actor": actor,
            "entity": entity,
            "entity_id": entity_id,
            "action": action,
            "changes": changes,
            "reason": reason,
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _naive_utc(at: datetime) -> datetime:
    # SQLite hands datetimes back without a zone: hash the UTC wall time so both stores agree.
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    problem: str | None = None


def verify_chain(entries: Iterable[AuditRecord]) -> ChainVerdict:
    """Walk the entries in sequence order; stop at the first one whose hash or link is wrong."""
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for e in entries:
        if e.seq != expected_seq:
            return ChainVerdict(False, checked, e.seq, f"entry {expected_seq} is missing (found {e.seq})")
        if e.prev_hash != prev:
            return ChainVerdict(False, checked, e.seq, f"entry {e.seq} does not link to entry {e.seq - 1}")
        recomputed = entry_hash(
            e.seq, e.at, e.actor, e.entity, e.entity_id, e.action, e.changes, e.reason, e.prev_hash
        )
        if recomputed != e.hash:
            return ChainVerdict(False, checked, e.seq, f"entry {e.seq} was altered after it was written")
        prev = e.hash
        expected_seq += 1
        checked += 1
    return ChainVerdict(True, checked)
