"""The targeting outcomes table: one narrow row per decided sample, so that the targeting figures are
GROUP BY queries (see targeting_repository) over indexes that fit the usual groupings.

It is a projection of the case records (rebuilt by `customslab targeting rebuild`), so it holds no
foreign keys: a bulk load or a rebuild need not touch the case tables' locks.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, String, Table

from customslab.adapters.tables_base import metadata
from customslab.adapters.types import DecimalText

targeting_outcomes = Table(
    "targeting_outcomes",
    metadata,
    Column("sample_id", Integer, primary_key=True, autoincrement=False),
    Column("reference", String(40), nullable=False),
    Column("lab_code", String(32), nullable=False),
    Column("administration_code", String(32), nullable=False),
    Column("declared_hs", String(12), nullable=False),
    Column("determined_hs", String(12), nullable=False),
    Column("heading", String(4), nullable=False, index=True),
    Column("differs", Boolean, nullable=False),
    Column("origin", String(2), nullable=False, index=True),
    Column("importer", String(200), nullable=False, index=True),
    Column("declarant", String(200), nullable=False),
    #: `domain.targeting.party_key` of each: a new outcome takes the spelling already stored for its key in
    #: its administration, so that grouping by the name groups by the key (targeting_outcomes.py).
    Column("importer_key", String(200), nullable=False),
    Column("declarant_key", String(200), nullable=False),
    Column("decided_on", Date, nullable=False),
    #: The decision's month, "YYYY-MM", stored so that the trend groups the same way on both databases.
    Column("month", String(7), nullable=False),
    Column("customs_value", DecimalText, nullable=True),
    Column("currency", String(3), nullable=False),
    #: Determined − declared duty in hundredths of the currency unit: integer sums are exact on both
    #: databases (SQLite has no decimal type); null when a tariff rate or the value is unknown.
    Column("duty_difference_cents", BigInteger, nullable=True),
    Index("ix_targeting_outcomes_admin_decided", "administration_code", "decided_on"),
    Index("ix_targeting_outcomes_lab_decided", "lab_code", "decided_on"),
    Index("ix_targeting_outcomes_admin_importer_key", "administration_code", "importer_key"),
    Index("ix_targeting_outcomes_admin_declarant_key", "administration_code", "declarant_key"),
)
