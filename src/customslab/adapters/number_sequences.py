"""Reference numbers on PostgreSQL: one database sequence per counter (`request-2026`,
`sample-KCS-ICN-2026`), so that taking a number holds no lock until commit.

The counters used to be rows of the `sequences` table, bumped by an upsert: the row stayed locked until
the registration committed, so every registration of a laboratory (and every request filed anywhere,
for `request-<year>`) waited for the one before it. `nextval` takes no lock that lasts: two transactions
get distinct numbers at once, whatever they do afterwards.

What that costs, and why it is acceptable:

* **Gaps.** A number taken by a transaction that rolls back (a refused form, a conflict) is not given
  again, so numbers can skip (REQ-2026-000041, then -000043). Numbers stay unique and increasing; a
  register of samples or reports needs unique, not gap-free, identifiers (ISO/IEC 17025 7.4, 7.8.2).
* **First use.** A counter's sequence is created the first time its name is used (a new laboratory, a
  new year), in a short transaction of its own on another connection, committed at once, so it never
  waits for the registration that asked for it. Two transactions creating the same new sequence at the
  same moment both go on: the loser of the race finds it made, and both draw from the one sequence.
* **Carried over.** A new sequence starts after the value the counter's row in `sequences` holds, so
  the counters of a database upgraded from the table (and migration 0017) continue where they stopped.
* **Backup and restore.** `pg_dump` copies every sequence with its current value (read when the dump
  reaches it, never lower than any number the dumped rows hold), and `pg_restore` sets it again, so a
  restored deployment continues after the last number it had: none is given twice.

The sequence is named after the counter (letters and digits) plus a digest of its exact name, which keeps
it inside PostgreSQL's 63-byte identifiers and tells apart names that differ only in punctuation.
SQLite keeps the row counter (`SqlRepository.next_number`): it has one writer at a time anyway.
"""

from __future__ import annotations

import functools
import hashlib
import re

from sqlalchemy import URL, Connection, Engine, TextClause, create_engine, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from customslab.adapters.orm import sequences

PREFIX = "number_"
#: Names that are locks, not counters (`SqlRepository.lock_sign_in` on SQLite): never a sequence.
NOT_COUNTERS = frozenset({"sign-in"})
#: A concurrent CREATE of the same sequence: unique violation in the catalogue, or "already exists".
_RACE_LOST = frozenset({"23505", "42P07"})


#: One statement takes the number, or finds no sequence (no row). The sequence is looked up in pg_class
#: itself, not by `to_regclass`: a name looked up while missing stays "missing" in the backend's catalogue
#: cache until it next takes a lock, and would still be after another connection created it.
_DRAW = text(
    "SELECT nextval(c.oid) FROM pg_catalog.pg_class c WHERE c.relname = :seq AND c.relkind = 'S' "
    "AND c.relnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = current_schema())"
)


def sequence_name(name: str) -> str:
    """The PostgreSQL sequence of the counter `name`: `number_sample_kcs_icn_2026_3f2a9c1b07de`.

    These names are stored state (migration 0017 and every deployment's sequences use them): a new
    scheme would start fresh sequences from the `sequences` rows and give numbers twice, so it would need
    a migration renaming the old sequences first."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40]
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{PREFIX}{slug}_{digest}"


def next_value(conn: Connection, name: str) -> int:
    """The counter's next number, in the transaction of `conn` (which it does not lock)."""
    seq = {"seq": sequence_name(name)}
    value = conn.execute(_DRAW, seq).scalar()
    if value is None:
        create_sequence(conn, name)
        value = conn.execute(_DRAW, seq).scalar_one()
    return int(value)


def create_sequence(conn: Connection, name: str) -> None:
    """Create the counter's sequence, starting after its row in `sequences`, in an autocommitted
    transaction of another connection (the caller's transaction would hold the new catalogue rows, and
    block anyone else needing the same counter, until it commits). The row is added when missing, so
    `sequences` names every counter (migration 0017's downgrade writes their values back there).

    The connection is opened outside the engine's pool: the caller already holds one of its
    connections, and a burst of first uses (every request on 1 January) must not wait for the pool its
    own callers hold. The database role needs the right to create sequences in its schema (PostgreSQL
    15 and later grant it on `public` only to the schema's owner)."""
    with _outside_pool(conn.engine.url).connect() as own:
        own = own.execution_options(isolation_level="AUTOCOMMIT")
        own.execute(
            insert(sequences).values(name=name, value=0).on_conflict_do_nothing(index_elements=["name"])
        )
        stopped_at = own.execute(select(sequences.c.value).where(sequences.c.name == name)).scalar_one()
        try:
            own.execute(create_statement(name, int(stopped_at)))
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in _RACE_LOST:
                raise
            # Another transaction created it a moment ago: it is there to draw from.


@functools.lru_cache(maxsize=8)
def _outside_pool(url: URL) -> Engine:
    """An engine that opens a fresh connection each time and keeps none."""
    return create_engine(url, poolclass=NullPool)


def create_statement(name: str, stopped_at: int) -> TextClause:
    """CREATE SEQUENCE for the counter, its first number the one after `stopped_at`."""
    return text(f"CREATE SEQUENCE IF NOT EXISTS {sequence_name(name)} AS bigint START WITH {stopped_at + 1}")


def last_value(conn: Connection, name: str) -> int | None:
    """The last number the counter's sequence gave (its start less one when it gave none yet); None when
    the counter has no sequence."""
    seq = sequence_name(name)
    if conn.execute(text("SELECT to_regclass(:seq)"), {"seq": seq}).scalar() is None:
        return None
    last, called = conn.execute(text(f"SELECT last_value, is_called FROM {seq}")).one()
    return int(last) if called else int(last) - 1


def drop_statement(name: str) -> TextClause:
    return text(f"DROP SEQUENCE IF EXISTS {sequence_name(name)}")
