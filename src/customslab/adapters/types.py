"""Column types that keep the domain's values exact on both SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from customslab.domain.enums import Role
from customslab.domain.model import ContactPoint


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC, returned timezone-aware, so SQLite and PostgreSQL agree."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class DecimalText(TypeDecorator[Decimal]):
    """Measured values keep the digits the analyst entered ("80.20" stays 80.20)."""

    impl = String(48)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class RoleSet(TypeDecorator[frozenset[Role]]):
    impl = String(200)
    cache_ok = True

    def process_bind_param(self, value: frozenset[Role] | None, dialect: Dialect) -> str | None:
        return None if value is None else ",".join(sorted(r.value for r in value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> frozenset[Role] | None:
        if value is None:
            return None
        return frozenset(Role(v) for v in value.split(",") if v)


class ContactPointList(TypeDecorator[list[ContactPoint]]):
    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: list[ContactPoint] | None, dialect: Dialect) -> Any:
        return None if value is None else [asdict(c) for c in value]

    def process_result_value(self, value: Any, dialect: Dialect) -> list[ContactPoint] | None:
        return None if value is None else [ContactPoint(**c) for c in value]
