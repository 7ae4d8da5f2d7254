"""controlled substances: the national lists an administration loads, and the mark on a controlled case

Revision ID: 0011_controlled_substances
Revises: 0010_result_import
Create Date: 2026-11-29

An administration loads its national lists of controlled substances (name, legal reference, the parsed
rows as one JSON value); the UN lists ship with the code. A sample whose identity result names a
controlled substance carries the control entries, when and by whom it was marked, for the officer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import create_table, ref

revision = "0011_controlled_substances"
down_revision = "0010_result_import"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "controlled_substance_lists",
        ref("administration_code", sa.String(length=32), "administrations.code", nullable=False, index=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("reference", sa.String(length=300), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_by", sa.String(length=80), nullable=False),
        sa.Column("loaded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"),
        unique=[("uq_controlled_substance_lists_admin_name", ["administration_code", "name"])],
    )
    with op.batch_alter_table("samples", schema=None) as batch_op:
        batch_op.add_column(sa.Column("control_mark", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("control_marked_at", customslab.adapters.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("control_marked_by", sa.String(length=80), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("samples", schema=None) as batch_op:
        batch_op.drop_column("control_marked_by")
        batch_op.drop_column("control_marked_at")
        batch_op.drop_column("control_mark")
    op.drop_table("controlled_substance_lists")
