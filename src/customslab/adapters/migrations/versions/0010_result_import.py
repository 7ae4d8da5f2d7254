"""instrument result import: a saved column mapping per instrument model

Revision ID: 0010_result_import
Revises: 0009_working_day
Create Date: 2026-11-29

A laboratory keeps, per instrument model, how that model's result exports are read (which column holds
the sample id, the analyte, the value, its unit and uncertainty; which rows are calibration or QC rows;
the instrument's analyte names as the laboratory's measurands). The mapping is one JSON value, like the
other quality records; it is audited and versioned like them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import create_table, ref

revision = "0010_result_import"
down_revision = "0009_working_day"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "quality_instrument_mappings",
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("instrument_model", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"),
        unique=[("uq_quality_instrument_mappings_lab_model", ["lab_code", "instrument_model"])],
    )


def downgrade() -> None:
    op.drop_table("quality_instrument_mappings")
