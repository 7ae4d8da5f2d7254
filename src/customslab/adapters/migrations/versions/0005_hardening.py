"""hardening: row versions, server-side sessions, sign-in events, signed audit checkpoints

Revision ID: 0005_hardening
Revises: 0004_quality
Create Date: 2026-11-29

Every record that is changed in place gets a `row_version`, the optimistic-concurrency counter the ORM
checks in each UPDATE. API tokens become server-side sessions shared by the API and the pages (the
tokens issued before are dropped, so everyone signs in again once). Failed and successful sign-ins are
kept for throttling. The audit chain's head is checkpointed with a signature made outside the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import append_only, create_table, drop_append_only, indexed, ref

revision = "0005_hardening"
down_revision = "0004_quality"
branch_labels = None
depends_on = None

#: Tables whose rows are changed in place, and so carry a row version.
VERSIONED = (
    "organisations",
    "users",
    "analysis_requests",
    "samples",
    "tests",
    "referrals",
    "classification_opinions",
    "quality_authorisations",
    "quality_calibrations",
    "quality_corrective_actions",
    "quality_equipment",
    "quality_issued_reports",
    "quality_maintenance",
    "quality_method_versions",
    "quality_pt_results",
    "quality_pt_rounds",
    "quality_qc_batches",
    "quality_reference_materials",
    "quality_training",
)


def upgrade() -> None:
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"))
    op.drop_table("api_tokens")
    create_table(
        "sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        ref("user_id", sa.Integer(), "users.id", nullable=False, index=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("ended_reason", sa.String(length=60), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        unique=["token_hash"],
    )
    create_table(
        "sign_in_events",
        indexed("at", customslab.adapters.types.UTCDateTime(), nullable=False),
        indexed("username", sa.String(length=80), nullable=False),
        indexed("address", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
    )
    create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        key="seq",
    )
    append_only("audit_checkpoints", "sign_in_events")


def downgrade() -> None:
    drop_append_only("audit_checkpoints", "sign_in_events")
    op.drop_table("audit_checkpoints")
    op.drop_table("sign_in_events")
    op.drop_table("sessions")
    create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        ref("user_id", sa.Integer(), "users.id", nullable=False, index=True),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        key="token_hash",
    )
    for table in reversed(VERSIONED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("row_version")
