"""targeting feedback: one outcome row per decided sample (declared, determined, origin, importer, duty)

Revision ID: 0014_targeting
Revises: 0013_training
Create Date: 2026-11-30

A projection of the case records (rebuilt by `customslab targeting rebuild`), keyed by the sample, with
no foreign keys; indexed for the usual groupings: an administration's or a laboratory's period, and the
heading, origin and importer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import create_table, indexed

revision = "0014_targeting"
down_revision = "0013_training"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "targeting_outcomes",
        sa.Column("sample_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("lab_code", sa.String(length=32), nullable=False),
        sa.Column("administration_code", sa.String(length=32), nullable=False),
        sa.Column("declared_hs", sa.String(length=12), nullable=False),
        sa.Column("determined_hs", sa.String(length=12), nullable=False),
        indexed("heading", sa.String(length=4), nullable=False),
        sa.Column("differs", sa.Boolean(), nullable=False),
        indexed("origin", sa.String(length=2), nullable=False),
        indexed("importer", sa.String(length=200), nullable=False),
        sa.Column("declarant", sa.String(length=200), nullable=False),
        sa.Column("importer_key", sa.String(length=200), nullable=False),
        sa.Column("declarant_key", sa.String(length=200), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("customs_value", customslab.adapters.types.DecimalText(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("duty_difference_cents", sa.BigInteger(), nullable=True),
        key="sample_id",
        indexes=[
            ("ix_targeting_outcomes_admin_decided", ["administration_code", "decided_on"]),
            ("ix_targeting_outcomes_lab_decided", ["lab_code", "decided_on"]),
            ("ix_targeting_outcomes_admin_importer_key", ["administration_code", "importer_key"]),
            ("ix_targeting_outcomes_admin_declarant_key", ["administration_code", "declarant_key"]),
        ],
    )


def downgrade() -> None:
    op.drop_table("targeting_outcomes")
