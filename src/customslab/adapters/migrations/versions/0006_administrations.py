"""administrations: every organisation and request belongs to a customs administration

Revision ID: 0006_administrations
Revises: 0005_hardening
Create Date: 2026-11-29

Administrations (countries or customs territories) become records. Each organisation belongs to one;
each request to its filing office's. Organisations gain the RCL designation (a region) and can be
deactivated. Declaration data released to another administration is recorded field by field,
append-only. An existing database gets one administration per country its organisations are in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import append_only, create_table, drop_append_only, ref

revision = "0006_administrations"
down_revision = "0005_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "administrations",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("has_laboratories", sa.Boolean(), nullable=False),
        sa.Column("home", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("row_version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_administrations")),
    )
    # One administration per country already in the directory, named after its country.
    op.execute(
        "INSERT INTO administrations (code, name, country, has_laboratories, home, active, row_version) "
        "SELECT o.country, 'Customs administration ' || o.country, o.country, "
        "MAX(CASE WHEN o.kind IN ('central', 'local', 'rcl', 'external') THEN 1 ELSE 0 END) = 1, "
        "false, true, 1 FROM organisations o GROUP BY o.country"
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("administration_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("rcl_region", sa.String(length=80), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute("UPDATE organisations SET administration_code = country")
    op.execute("UPDATE organisations SET rcl_region = 'Asia/Pacific' WHERE kind = 'rcl'")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.alter_column("administration_code", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_organisations_administration_code"), ["administration_code"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_organisations_administration_code_administrations"),
            "administrations",
            ["administration_code"],
            ["code"],
        )
    with op.batch_alter_table("analysis_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("administration_code", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE analysis_requests SET administration_code = (SELECT o.administration_code "
        "FROM organisations o WHERE o.code = analysis_requests.office_code)"
    )
    with op.batch_alter_table("analysis_requests", schema=None) as batch_op:
        batch_op.alter_column("administration_code", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_analysis_requests_administration_code"), ["administration_code"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_analysis_requests_administration_code_administrations"),
            "administrations",
            ["administration_code"],
            ["code"],
        )
    create_table(
        "declaration_releases",
        ref("administration_code", sa.String(length=32), "administrations.code", nullable=False),
        sa.Column("field_name", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("released_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        ref("released_by", sa.Integer(), "users.id", nullable=False),
        ref("request_id", sa.Integer(), "analysis_requests.id", nullable=False, index=True),
        unique=[("uq_declaration_releases_field", ["request_id", "administration_code", "field_name"])],
    )
    append_only("declaration_releases")


def downgrade() -> None:
    drop_append_only("declaration_releases")
    op.drop_table("declaration_releases")
    with op.batch_alter_table("analysis_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_analysis_requests_administration_code_administrations"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_analysis_requests_administration_code"))
        batch_op.drop_column("administration_code")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_organisations_administration_code_administrations"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_organisations_administration_code"))
        batch_op.drop_column("active")
        batch_op.drop_column("rcl_region")
        batch_op.drop_column("administration_code")
    op.drop_table("administrations")
