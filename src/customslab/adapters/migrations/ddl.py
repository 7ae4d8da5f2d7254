"""The table shape the migrations repeat, spelled once: a keyed table, its references and its indexes.

Only the migrations under versions/ import this; application code never does. The migrations are
released, so this module must keep emitting exactly the DDL they were released with, on SQLite and
PostgreSQL: every name it makes is the one the naming convention of `tables_base.metadata` gives
(pk_<table>, fk_<table>_<column>_<referred table>, uq_/ix_<table>_<column>), wrapped in `op.f` so that
it is final whatever the convention becomes; and the foreign keys come in the order Alembic's
autogenerate wrote them (by column name), which is the order SQLite keeps in its stored CREATE TABLE
text. Each migration still names every table, column, type, reference, unique key and index it makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

#: A unique key or an index: one column, named by the convention, or (name, columns) for a named one.
Keyed = str | tuple[str, Sequence[str]]


def ref(name: str, type_: Any, target: str, *, nullable: bool, index: bool = False) -> sa.Column[Any]:
    """A column that references `target` ("table.column"), indexed when `index` is set."""
    return sa.Column(name, type_, nullable=nullable, info={"references": target, "index": index})


def indexed(name: str, type_: Any, *, nullable: bool) -> sa.Column[Any]:
    """A column with an index of its own (and no reference)."""
    return sa.Column(name, type_, nullable=nullable, info={"index": True})


def _named(prefix: str, table: str, spec: Keyed) -> tuple[str, list[str]]:
    if isinstance(spec, str):
        return f"{prefix}_{table}_{spec}", [spec]
    name, columns = spec
    return name, list(columns)


def create_table(
    table: str,
    *columns: sa.Column[Any],
    key: str = "id",
    unique: Sequence[Keyed] = (),
    indexes: Sequence[Keyed] = (),
) -> None:
    """Create `table` keyed by `key`, with the foreign keys and indexes its columns ask for (`ref`,
    `indexed`), then its `unique` keys in the order given, then its named multi-column `indexes`.

    A record table is keyed by `id`, an autoincrementing integer that comes first and is not spelled
    out in the migration; a table keyed otherwise declares its key column among `columns`."""
    if key == "id":
        columns = (sa.Column("id", sa.Integer(), autoincrement=True, nullable=False), *columns)
    foreign_keys = [
        sa.ForeignKeyConstraint(
            [c.name],
            [c.info["references"]],
            name=op.f(f"fk_{table}_{c.name}_{c.info['references'].split('.')[0]}"),
        )
        for c in sorted(columns, key=lambda c: c.name)
        if "references" in c.info
    ]
    primary_key = sa.PrimaryKeyConstraint(key, name=op.f(f"pk_{table}"))
    unique_keys = [
        sa.UniqueConstraint(*cols, name=op.f(name)) for name, cols in (_named("uq", table, u) for u in unique)
    ]
    op.create_table(table, *columns, *foreign_keys, primary_key, *unique_keys)
    own = [c.name for c in columns if c.info.get("index")]
    for name, cols in (_named("ix", table, i) for i in [*own, *indexes]):
        op.create_index(op.f(name), table, cols, unique=False)


def append_only(*tables: str) -> None:
    """The append-only triggers 0001 put on the audit trail, on these tables too (0001's PostgreSQL
    function is reused): UPDATE and DELETE are refused."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in tables:
        if postgres:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION customslab_append_only()"
            )
            continue
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def drop_append_only(*tables: str) -> None:
    """Undo `append_only` on these tables."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in tables:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            continue
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
