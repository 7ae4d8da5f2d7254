"""classification opinions

Revision ID: 0003_opinions
Revises: 0002_hs
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import create_table, indexed, ref

revision = "0003_opinions"
down_revision = "0002_hs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "classification_opinions",
        ref("sample_id", sa.Integer(), "samples.id", nullable=False, index=True),
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("declared_code", sa.String(length=10), nullable=False),
        indexed("determined_code", sa.String(length=10), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("goods_description", sa.Text(), nullable=False),
        ref("author_id", sa.Integer(), "users.id", nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        ref("reviewer_id", sa.Integer(), "users.id", nullable=True),
        sa.Column("reviewed_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("classification_opinions")
