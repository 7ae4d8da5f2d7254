"""ISO/IEC 17025 quality records, and the links from tests and results to them

Revision ID: 0004_quality
Revises: 0003_opinions
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import create_table, indexed, ref

revision = "0004_quality"
down_revision = "0003_opinions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "quality_equipment",
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("equipment", sa.JSON(), nullable=False),
        sa.Column("registered_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        unique=[("uq_quality_equipment_lab_code", ["lab_code", "code"])],
    )
    create_table(
        "quality_method_versions",
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("method_code", sa.String(length=60), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("method", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        ref("adopted_from_id", sa.Integer(), "quality_method_versions.id", nullable=True),
        unique=[("uq_quality_method_versions_lab_method", ["lab_code", "method_code", "version"])],
    )
    create_table(
        "quality_pt_rounds",
        ref("coordinator_lab", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("measurands", sa.JSON(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reports", sa.JSON(), nullable=True),
        sa.Column("evaluated_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        unique=["code"],
    )
    create_table(
        "quality_reference_materials",
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("material", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
    )
    create_table(
        "quality_authorisations",
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        ref("user_id", sa.Integer(), "users.id", nullable=False, index=True),
        sa.Column("authorisation", sa.JSON(), nullable=False),
        sa.Column("recorded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", customslab.adapters.types.UTCDateTime(), nullable=True),
    )
    # The two logs of an instrument differ only in the name of the record they keep.
    for table, record in (("quality_calibrations", "event"), ("quality_maintenance", "entry")):
        create_table(
            table,
            ref("equipment_entry_id", sa.Integer(), "quality_equipment.id", nullable=False, index=True),
            sa.Column(record, sa.JSON(), nullable=False),
            sa.Column("recorded_by", sa.String(length=80), nullable=False),
            sa.Column("recorded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        )
    create_table(
        "quality_pt_results",
        ref("round_entry_id", sa.Integer(), "quality_pt_rounds.id", nullable=False, index=True),
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("measurand", sa.String(length=120), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.String(length=80), nullable=False),
        sa.Column("submitted_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        unique=[("uq_quality_pt_results_round_lab", ["round_entry_id", "lab_code", "measurand"])],
    )
    create_table(
        "quality_qc_batches",
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("batch", sa.JSON(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        ref("method_entry_id", sa.Integer(), "quality_method_versions.id", nullable=True),
        ref("equipment_entry_id", sa.Integer(), "quality_equipment.id", nullable=True),
    )
    create_table(
        "quality_training",
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        ref("user_id", sa.Integer(), "users.id", nullable=False, index=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
    )
    create_table(
        "quality_corrective_actions",
        ref("qc_batch_entry_id", sa.Integer(), "quality_qc_batches.id", nullable=False, index=True),
        sa.Column("action", sa.JSON(), nullable=False),
    )
    create_table(
        "quality_issued_reports",
        indexed("report_id", sa.String(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        ref("sample_id", sa.Integer(), "samples.id", nullable=False, index=True),
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("verification_code", sa.String(length=64), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        ref("issued_by", sa.Integer(), "users.id", nullable=False),
        sa.Column("issued_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        ref("supersedes_id", sa.Integer(), "quality_issued_reports.id", nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("superseded_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("amendment_reason", sa.Text(), nullable=False),
        unique=[("uq_quality_issued_reports_report_version", ["report_id", "version"]), "verification_code"],
    )

    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("equipment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("qc_batch_id", sa.Integer(), nullable=True))

    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("method_version_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.drop_column("method_version_id")
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("qc_batch_id")
        batch_op.drop_column("equipment_id")
    for table in (
        "quality_issued_reports",
        "quality_pt_results",
        "quality_pt_rounds",
        "quality_corrective_actions",
        "quality_qc_batches",
        "quality_authorisations",
        "quality_training",
        "quality_reference_materials",
        "quality_maintenance",
        "quality_calibrations",
        "quality_equipment",
        "quality_method_versions",
    ):
        op.drop_table(table)
