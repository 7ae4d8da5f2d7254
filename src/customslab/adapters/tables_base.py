"""The one SQLAlchemy MetaData every table module registers on, so Alembic sees a single schema."""

from __future__ import annotations

from enum import Enum as PyEnum
from typing import Any

from sqlalchemy import Column, Enum, Integer, MetaData, Table

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def row_version() -> Column[int]:
    """The optimistic-concurrency counter of a record changed in place: every UPDATE names the version it
    read and sets the next one, so of two writers acting on the same version only the first succeeds."""
    return Column("row_version", Integer, nullable=False, default=1, server_default="1")


def keyed_table(name: str, *columns_and_constraints: Any) -> Table:
    """A table on `metadata` keyed by `id`, an autoincrementing integer and its first column: the key of
    every record the system numbers itself (the migrations create it the same way)."""
    return Table(
        name, metadata, Column("id", Integer, primary_key=True, autoincrement=True), *columns_and_constraints
    )


def string_enum(cls: type[PyEnum]) -> Enum:
    """A column holding a domain enum by its value, as a plain string (no database enum type, no CHECK):
    adding a value needs no migration."""
    return Enum(
        cls,
        native_enum=False,
        length=32,
        values_callable=lambda e: [x.value for x in e],
        validate_strings=True,
        create_constraint=False,
    )
