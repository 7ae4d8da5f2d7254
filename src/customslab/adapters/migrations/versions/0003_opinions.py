"""classification opinions

Revision ID: 0003_opinions
Revises: 0002_hs
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types

revision = "0003_opinions"
down_revision = "0002_hs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classification_opinions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("lab_code", sa.String(length=32), nullable=False),
        sa.Column("declared_code", sa.String(length=10), nullable=False),
        sa.Column("determined_code", sa.String(length=10), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("goods_description", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_classification_opinions_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["lab_code"],
            ["organisations.code"],
            name=op.f("fk_classification_opinions_lab_code_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_classification_opinions_reviewer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["samples.id"], name=op.f("fk_classification_opinions_sample_id_samples")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classification_opinions")),
    )
    for col in ("sample_id", "lab_code", "determined_code"):
        op.create_index(op.f(f"ix_classification_opinions_{col}"), "classification_opinions", [col])


def downgrade() -> None:
    op.drop_table("classification_opinions")
