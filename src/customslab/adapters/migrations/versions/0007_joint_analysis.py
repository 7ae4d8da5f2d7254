"""joint analysis: an RCL settles differing HS opinions of several administrations

Revision ID: 0007_joint_analysis
Revises: 0006_administrations
Create Date: 2026-11-30

A joint analysis is opened by a Regional Customs Laboratory on a product, with the participating
administrations, the HS code each declared and the laboratory that records for each (its own, or the
RCL for a member administration without one). Each participant links its own sample or sub-sample;
at consolidation its approved opinion and the RCL's explanation of any difference are kept with it.
Both tables are changed in place, so both carry a row version.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import create_table, ref

revision = "0007_joint_analysis"
down_revision = "0006_administrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "joint_analyses",
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        ref("rcl_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        ref("opened_by", sa.Integer(), "users.id", nullable=False),
        sa.Column("opened_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("determined_code", sa.String(length=10), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=False),
        ref("consolidated_by", sa.Integer(), "users.id", nullable=True),
        sa.Column("consolidated_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("row_version", sa.Integer(), server_default="1", nullable=False),
        unique=["reference"],
    )
    create_table(
        "joint_participants",
        ref("joint_analysis_id", sa.Integer(), "joint_analyses.id", nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        ref("administration_code", sa.String(length=32), "administrations.code", nullable=False),
        sa.Column("declared_code", sa.String(length=10), nullable=False),
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("on_behalf", sa.Boolean(), nullable=False),
        ref("sample_id", sa.Integer(), "samples.id", nullable=True, index=True),
        ref("linked_by", sa.Integer(), "users.id", nullable=True),
        sa.Column("linked_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        ref("opinion_id", sa.Integer(), "classification_opinions.id", nullable=True),
        sa.Column("determined_code", sa.String(length=10), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("row_version", sa.Integer(), server_default="1", nullable=False),
        unique=[
            ("uq_joint_participants_administration", ["joint_analysis_id", "administration_code"]),
            ("uq_joint_participants_sample", ["joint_analysis_id", "sample_id"]),
        ],
    )


def downgrade() -> None:
    op.drop_table("joint_participants")
    op.drop_table("joint_analyses")
