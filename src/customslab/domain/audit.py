"""Hash-chained audit entries: each entry's hash covers its content and the previous entry's hash.

A change made behind the application's back (an UPDATE in the database, a deleted row) breaks the
chain at the first altered entry, which `verify_chain` names.

The chain alone cannot tell a shortened trail from an intact one, nor an edit whose every later hash
was recomputed (the hash is public). Checkpoints close both gaps: each one states, under a signature
made with a key kept outside the database, that entry `seq` had hash `head_hash`; `verify_anchored`
walks the chain against them. See docs/audit-threat-model.md for what this does and does not defend.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
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
        problem = _entry_problem(e, expected_seq, prev)
        if problem is not None:
            return ChainVerdict(False, checked, e.seq, problem)
        prev = e.hash
        expected_seq += 1
        checked += 1
    return ChainVerdict(True, checked)


#: Bound into every signed payload, so a checkpoint signature can never be replayed as another kind.
CHECKPOINT_PURPOSE = "customslab audit checkpoint v1"


@dataclass(frozen=True)
class AuditCheckpoint:
    """A signed statement that the trail's entry `seq` had the hash `head_hash` at time `at`."""

    seq: int
    head_hash: str
    at: datetime
    key_id: str
    signature: str


def checkpoint_payload(seq: int, head_hash: str, at: datetime, key_id: str) -> bytes:
    """The canonical bytes a checkpoint's signature covers (canonical JSON, as for `entry_hash`)."""
    return json.dumps(
        {
            "purpose": CHECKPOINT_PURPOSE,
            "seq": seq,
            "head": head_hash,
            "at": _naive_utc(at).isoformat(timespec="microseconds"),
            "key": key_id,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode("ascii")


@dataclass(frozen=True)
class AnchoredVerdict:
    """The chain checked against its signed checkpoints (and an exported witness head, if one is given)."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
    problems: tuple[str, ...] = ()
    checkpoints: int = 0
    last_checkpoint_seq: int | None = None
    last_checkpoint_at: datetime | None = None
    unanchored: int = 0
    witness_seq: int | None = None


def _when(at: datetime) -> str:
    return _naive_utc(at).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(first: int, last: int, verb: str) -> str:
    """'entry 7 was deleted' or 'entries 3 to 7 were deleted'."""
    return f"entry {last} was {verb}" if first >= last else f"entries {first} to {last} were {verb}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _entry_problem(e: AuditRecord, expected_seq: int, prev: str) -> str | None:
    if e.seq != expected_seq:
        return f"entry {expected_seq} is missing (found {e.seq})"
    if e.prev_hash != prev:
        return f"entry {e.seq} does not link to entry {e.seq - 1}"
    recomputed = entry_hash(
        e.seq, e.at, e.actor, e.entity, e.entity_id, e.action, e.changes, e.reason, e.prev_hash
    )
    if recomputed != e.hash:
        return f"entry {e.seq} was altered after it was written"
    return None


def verify_anchored(
    entries: Iterable[AuditRecord],
    checkpoints: Sequence[AuditCheckpoint],
    authentic: Callable[[AuditCheckpoint], bool] | None,
    witness: AuditCheckpoint | None = None,
) -> AnchoredVerdict:
    """Walk the chain as `verify_chain` does, and hold it to every checkpoint whose signature is valid.

    `authentic` checks a signature with the deployment's key (None: no key to check with). A checkpoint
    that fails it was forged or altered. An authentic checkpoint (or the witness, an exported head kept
    outside) pins the hash of entry `seq`: a different hash there means the entries since the previous
    pin were rewritten, hashes recomputed; a trail that ends before the pin was truncated.
    """
    found: list[tuple[int, str]] = []
    pins: dict[int, list[tuple[str, str]]] = {}
    good: list[AuditCheckpoint] = []
    ordered = sorted(checkpoints, key=lambda c: c.seq)
    if ordered and authentic is None:
        found.append(
            (
                ordered[0].seq,
                f"{_count(len(ordered), 'signed checkpoint')} cannot be checked: the audit signing key "
                "is not available to this command",
            )
        )
        ordered = []
    for cp in ordered:
        if authentic is not None and authentic(cp):
            good.append(cp)
            pins.setdefault(cp.seq, []).append((cp.head_hash, f"the checkpoint of {_when(cp.at)}"))
        else:
            found.append(
                (
                    cp.seq,
                    f"the checkpoint at entry {cp.seq} ({_when(cp.at)}) does not carry a valid signature "
                    "of this deployment's audit key: it was forged or altered",
                )
            )
    if witness is not None:
        if authentic is not None and not authentic(witness):
            found.append((witness.seq, "the witness head was not signed by this deployment's audit key"))
        else:
            pins.setdefault(witness.seq, []).append(
                (witness.head_hash, f"the witness head signed at {_when(witness.at)}")
            )

    prev, expected, checked, pinned = GENESIS_HASH, 1, 0, 0
    walked_to_end = True
    for e in entries:
        problem = _entry_problem(e, expected, prev)
        if problem is None:
            for pinned_hash, label in pins.get(e.seq, ()):
                if pinned_hash != e.hash:
                    where = (
                        f"entry {e.seq} was rewritten"
                        if pinned + 1 >= e.seq
                        else f"the trail was rewritten between entries {pinned + 1} and {e.seq}"
                    )
                    problem = f"{where}: entry {e.seq} no longer has the hash signed in {label}"
                    checked = pinned  # only the entries up to the last matching pin are vouched for
                    break
        if problem is not None:
            found.append((e.seq, problem))
            walked_to_end = False
            break
        if e.seq in pins:
            pinned = e.seq
        prev, expected, checked = e.hash, expected + 1, checked + 1
    head = expected - 1
    if walked_to_end and pins and max(pins) > head:
        top = max(pins)
        label = pins[top][0][1]
        found.append(
            (
                head + 1,
                f"{_span(head + 1, top, 'deleted')}: {label} "
                f"vouches for entry {top}, but "
                + (f"the trail ends at entry {head}" if head else "the trail has no entries"),
            )
        )
    found.sort(key=lambda p: p[0])
    last = good[-1] if good else None
    return AnchoredVerdict(
        ok=not found,
        checked=checked,
        first_broken_seq=found[0][0] if found else None,
        problem=found[0][1] if found else None,
        problems=tuple(p for _, p in found),
        checkpoints=len(good),
        last_checkpoint_seq=last.seq if last else None,
        last_checkpoint_at=last.at if last else None,
        unanchored=max(0, head - (last.seq if last else 0)),
        witness_seq=witness.seq if witness is not None else None,
    )
