"""reference numbers: a PostgreSQL sequence per counter, carried over from the `sequences` rows

Revision ID: 0017_number_sequences
Revises: 0016_queue_indexes
Create Date: 2026-11-30

On PostgreSQL each counter of `sequences` (but the sign-in lock's row) gets its sequence, starting after
the row's value, so numbering continues without a number given twice (adapters/number_sequences.py).
Counters first used later get theirs then. The downgrade writes each sequence's last number back into
its row and drops the sequences, so the row counter continues after it. SQLite keeps the rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from customslab.adapters import number_sequences

revision = "0017_number_sequences"
down_revision = "0016_queue_indexes"
branch_labels = None
depends_on = None

_sequences = sa.table("sequences", sa.column("name", sa.String), sa.column("value", sa.Integer))


def _counters(conn: sa.Connection) -> list[tuple[str, int]]:
    rows = conn.execute(sa.select(_sequences.c.name, _sequences.c.value).order_by(_sequences.c.name))
    return [(n, int(v)) for n, v in rows if n not in number_sequences.NOT_COUNTERS]


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for name, value in _counters(conn):
        conn.execute(number_sequences.create_statement(name, value))


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for name, value in _counters(conn):
        last = number_sequences.last_value(conn, name)
        if last is not None and last > value:
            conn.execute(sa.update(_sequences).where(_sequences.c.name == name).values(value=last))
        conn.execute(number_sequences.drop_statement(name))
