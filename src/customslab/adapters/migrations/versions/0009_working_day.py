"""the working day: results of every kind, and each user's notifications

Revision ID: 0009_working_day
Revises: 0008_federation
Create Date: 2026-11-29

A result is quantitative (a value with its unit, as before) or qualitative: detected / not detected,
positive / negative, a text, or an identity backed by a stored spectral identification (its hit list
and library version are the evidence). Existing results are quantitative or plain observations.

Notifications tell a user what needs them (a referral to their laboratory, a test assigned to them, a
result approved on their request, work due within a day). `key` makes each one once per user; e-mail,
when an SMTP server is configured, is sent by the worker and stamped in `emailed_at`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import create_table, ref

revision = "0009_working_day"
down_revision = "0008_federation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), nullable=False, server_default="quantity")
        )
        batch_op.add_column(sa.Column("text_value", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("identification_id", sa.Integer(), nullable=True))
    create_table(
        "notifications",
        ref("user_id", sa.Integer(), "users.id", nullable=False, index=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("read_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("emailed_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        unique=[("uq_notifications_user_key", ["user_id", "key"])],
    )


def downgrade() -> None:
    op.drop_table("notifications")
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("identification_id")
        batch_op.drop_column("text_value")
        batch_op.drop_column("kind")
