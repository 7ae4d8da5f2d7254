"""The SQLAlchemy implementation of the quality repository port (entries are ORM-mapped)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from customslab.adapters.quality_tables import TABLE_OF
from customslab.services.quality_ports import E, QualityRepository


class SqlQualityRepository(QualityRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: object) -> None:
        self.session.add(entry)
        self.session.flush()

    def get(self, kind: type[E], entry_id: int) -> E | None:
        return self.session.get(kind, entry_id)

    def find(self, kind: type[E], **equal: object) -> list[E]:
        table = TABLE_OF[kind]
        conditions: list[Any] = [table.c[name] == value for name, value in equal.items()]
        return list(self.session.scalars(select(kind).where(*conditions).order_by(table.c.id)).all())

    def find_any(self, kind: type[E], **any_of: Collection[object]) -> list[E]:
        table = TABLE_OF[kind]
        conditions = [table.c[name].in_(list(values)) for name, values in any_of.items()]
        return list(self.session.scalars(select(kind).where(*conditions).order_by(table.c.id)).all())
