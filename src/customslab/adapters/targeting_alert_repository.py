"""The first identifications table (migration 0015) and its repository: claimed insert-if-absent.

The alerts themselves are quality-style entries (`services.targeting_alert_ports.TargetingAlert`, table
derived in `quality_tables`); this table is the rule's memory, one row per (administration, substance),
with "*" for the network.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from customslab.adapters.tables_base import keyed_table
from customslab.adapters.types import UTCDateTime
from customslab.services.targeting_alert_ports import FirstIdentification, FirstIdentificationRepository

first_identifications = keyed_table(
    "first_identifications",
    # No reference to administrations: "*" (the network) is not one.
    Column("administration_code", String(32), nullable=False),
    Column("substance_key", String(120), nullable=False),
    Column("name", String(300), nullable=False),
    Column("sample_id", Integer, ForeignKey("samples.id"), nullable=False),
    Column("sample_reference", String(40), nullable=False),
    Column("lab_code", String(32), nullable=False),
    Column("first_at", UTCDateTime, nullable=False),
    UniqueConstraint("administration_code", "substance_key", name="uq_first_identifications_admin_substance"),
)

F = first_identifications.c


class SqlFirstIdentificationRepository(FirstIdentificationRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, first: FirstIdentification) -> bool:
        values: dict[str, Any] = {
            "administration_code": first.administration_code,
            "substance_key": first.substance_key,
            "name": first.name,
            "sample_id": first.sample_id,
            "sample_reference": first.sample_reference,
            "lab_code": first.lab_code,
            "first_at": first.first_at,
        }
        dialect = self.session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            # ON CONFLICT DO NOTHING: a concurrent claim of the same pair waits for the other transaction
            # and then inserts nothing, where a check-then-insert would raise at commit.
            ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(first_identifications)
            stmt = ins.values(**values).on_conflict_do_nothing(
                index_elements=["administration_code", "substance_key"]
            )
            # RETURNING, not rowcount: psycopg may report -1 for an insert that returns its key.
            return self.session.execute(stmt.returning(F.id)).scalar_one_or_none() is not None
        if self.find(first.administration_code, first.substance_key) is not None:
            return False
        self.session.execute(first_identifications.insert().values(**values))
        return True

    def find(self, administration_code: str, substance_key: str) -> FirstIdentification | None:
        row = self.session.execute(
            select(first_identifications).where(
                F.administration_code == administration_code, F.substance_key == substance_key
            )
        ).first()
        if row is None:
            return None
        data = row._asdict()
        data.pop("id")
        return FirstIdentification(**data)
