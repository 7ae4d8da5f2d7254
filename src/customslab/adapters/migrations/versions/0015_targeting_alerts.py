"""targeting alerts: the declarant on a request, the substances first identified and the alerts raised

Revision ID: 0015_targeting_alerts
Revises: 0014_targeting
Create Date: 2026-11-30

A request names its declarant (the customs broker or agent), declaration data like the importer. The
first identification of a substance in an administration (and, with administration "*", in the
network) is kept once per substance; the alerts raised by the targeting rules are audited entries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import create_table, indexed, ref

revision = "0015_targeting_alerts"
down_revision = "0014_targeting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("analysis_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declarant", sa.String(length=200), nullable=False, server_default=""))
    create_table(
        "first_identifications",
        sa.Column("administration_code", sa.String(length=32), nullable=False),
        sa.Column("substance_key", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        ref("sample_id", sa.Integer(), "samples.id", nullable=False),
        sa.Column("sample_reference", sa.String(length=40), nullable=False),
        sa.Column("lab_code", sa.String(length=32), nullable=False),
        sa.Column("first_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        unique=[("uq_first_identifications_admin_substance", ["administration_code", "substance_key"])],
    )
    create_table(
        "targeting_alerts",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        indexed("administration_code", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("raised_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("heading", sa.String(length=4), nullable=False),
        sa.Column("origin", sa.String(length=2), nullable=False),
        sa.Column("importer", sa.String(length=200), nullable=False),
        sa.Column("substance_key", sa.String(length=120), nullable=False),
        sa.Column("substance_name", sa.String(length=300), nullable=False),
        sa.Column("lab_code", sa.String(length=32), nullable=False),
        sa.Column("sample_reference", sa.String(length=40), nullable=False),
        sa.Column("recent_n", sa.Integer(), nullable=False),
        sa.Column("recent_k", sa.Integer(), nullable=False),
        sa.Column("history_n", sa.Integer(), nullable=False),
        sa.Column("history_k", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("labs", sa.JSON(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"),
        unique=["key"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_targeting_alerts_administration_code"), table_name="targeting_alerts")
    op.drop_table("targeting_alerts")
    op.drop_table("first_identifications")
    with op.batch_alter_table("analysis_requests", schema=None) as batch_op:
        batch_op.drop_column("declarant")
