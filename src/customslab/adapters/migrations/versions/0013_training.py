"""training programmes and workshops across the network, participants and completions

Revision ID: 0013_training
Revises: 0012_knowledge
Create Date: 2026-11-30

A host runs a programme (its value as one JSON column: title, kind, dates, participating
administrations, materials, sharing level); each participant's registration, attendance, completion
and the acceptance by their own laboratory is a participation, which links to the competence record
(quality_training) an accepted completion became.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import create_table, ref

revision = "0013_training"
down_revision = "0012_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "training_programmes",
        ref("host_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("programme", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"),
    )
    create_table(
        "training_participations",
        ref("programme_entry_id", sa.Integer(), "training_programmes.id", nullable=False, index=True),
        ref("org_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("participation", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("registered_by", sa.String(length=80), nullable=False),
        sa.Column("registered_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        ref("user_id", sa.Integer(), "users.id", nullable=True, index=True),
        ref("training_entry_id", sa.Integer(), "quality_training.id", nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"),
    )


def downgrade() -> None:
    op.drop_table("training_participations")
    op.drop_table("training_programmes")
