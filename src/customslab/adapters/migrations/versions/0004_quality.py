"""ISO/IEC 17025 quality records, and the links from tests and results to them

Revision ID: 0004_quality
Revises: 0003_opinions
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types

revision = "0004_quality"
down_revision = "0003_opinions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_equipment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lab_code", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("equipment", sa.JSON(), nullable=False),
        sa.Column("registered_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lab_code"], ["organisations.code"], name=op.f("fk_quality_equipment_lab_code_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_equipment")),
        sa.UniqueConstraint("lab_code", "code", name="uq_quality_equipment_lab_code"),
    )
    with op.batch_alter_table("quality_equipment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_equipment_lab_code"), ["lab_code"], unique=False)

    op.create_table(
        "quality_method_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lab_code", sa.String(length=32), nullable=False),
        sa.Column("method_code", sa.String(length=60), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("method", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("adopted_from_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["adopted_from_id"],
            ["quality_method_versions.id"],
            name=op.f("fk_quality_method_versions_adopted_from_id_quality_method_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["lab_code"],
            ["organisations.code"],
            name=op.f("fk_quality_method_versions_lab_code_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_method_versions")),
        sa.UniqueConstraint(
            "lab_code", "method_code", "version", name="uq_quality_method_versions_lab_method"
        ),
    )
    with op.batch_alter_table("quality_method_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_method_versions_lab_code"), ["lab_code"], unique=False)

    op.create_table(
        "quality_pt_rounds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("coordinator_lab", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("measurands", sa.JSON(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reports", sa.JSON(), nullable=True),
        sa.Column("evaluated_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["coordinator_lab"],
            ["organisations.code"],
            name=op.f("fk_quality_pt_rounds_coordinator_lab_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_pt_rounds")),
        sa.UniqueConstraint("code", name=op.f("uq_quality_pt_rounds_code")),
    )
    with op.batch_alter_table("quality_pt_rounds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_pt_rounds_coordinator_lab"), ["coordinator_lab"], unique=False
        )

    op.create_table(
        "quality_reference_materials",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lab_code", sa.String(length=32), nullable=False),
        sa.Column("material", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lab_code"],
            ["organisations.code"],
            name=op.f("fk_quality_reference_materials_lab_code_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_reference_materials")),
    )
    with op.batch_alter_table("quality_reference_materials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_reference_materials_lab_code"), ["lab_code"], unique=False
        )

    op.create_table(
        "quality_authorisations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lab_code", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("authorisation", sa.JSON(), nullable=False),
        sa.Column("recorded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lab_code"],
            ["organisations.code"],
            name=op.f("fk_quality_authorisations_lab_code_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_quality_authorisations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_authorisations")),
    )
    with op.batch_alter_table("quality_authorisations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_authorisations_lab_code"), ["lab_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_authorisations_user_id"), ["user_id"], unique=False)

    op.create_table(
        "quality_calibrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("equipment_entry_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["equipment_entry_id"],
            ["quality_equipment.id"],
            name=op.f("fk_quality_calibrations_equipment_entry_id_quality_equipment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_calibrations")),
    )
    with op.batch_alter_table("quality_calibrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_calibrations_equipment_entry_id"), ["equipment_entry_id"], unique=False
        )

    op.create_table(
        "quality_maintenance",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("equipment_entry_id", sa.Integer(), nullable=False),
        sa.Column("entry", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["equipment_entry_id"],
            ["quality_equipment.id"],
            name=op.f("fk_quality_maintenance_equipment_entry_id_quality_equipment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_maintenance")),
    )
    with op.batch_alter_table("quality_maintenance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_maintenance_equipment_entry_id"), ["equipment_entry_id"], unique=False
        )

    op.create_table(
        "quality_pt_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_entry_id", sa.Integer(), nullable=False),
        sa.Column("lab_code", sa.String(length=32), nullable=False),
        sa.Column("measurand", sa.String(length=120), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.String(length=80), nullable=False),
        sa.Column("submitted_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lab_code"], ["organisations.code"], name=op.f("fk_quality_pt_results_lab_code_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["round_entry_id"],
            ["quality_pt_rounds.id"],
            name=op.f("fk_quality_pt_results_round_entry_id_quality_pt_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_pt_results")),
        sa.UniqueConstraint(
            "round_entry_id", "lab_code", "measurand", name="uq_quality_pt_results_round_lab"
        ),
    )
    with op.batch_alter_table("quality_pt_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_pt_results_lab_code"), ["lab_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quality_pt_results_round_entry_id"), ["round_entry_id"], unique=False
        )

    op.create_table(
        "quality_qc_batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lab_code", sa.String(length=32), nullable=False),
        sa.Column("batch", sa.JSON(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("method_entry_id", sa.Integer(), nullable=True),
        sa.Column("equipment_entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["equipment_entry_id"],
            ["quality_equipment.id"],
            name=op.f("fk_quality_qc_batches_equipment_entry_id_quality_equipment"),
        ),
        sa.ForeignKeyConstraint(
            ["lab_code"], ["organisations.code"], name=op.f("fk_quality_qc_batches_lab_code_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["method_entry_id"],
            ["quality_method_versions.id"],
            name=op.f("fk_quality_qc_batches_method_entry_id_quality_method_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_qc_batches")),
    )
    with op.batch_alter_table("quality_qc_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_qc_batches_lab_code"), ["lab_code"], unique=False)

    op.create_table(
        "quality_training",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lab_code", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lab_code"], ["organisations.code"], name=op.f("fk_quality_training_lab_code_organisations")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_quality_training_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_training")),
    )
    with op.batch_alter_table("quality_training", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_training_lab_code"), ["lab_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_training_user_id"), ["user_id"], unique=False)

    op.create_table(
        "quality_corrective_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("qc_batch_entry_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["qc_batch_entry_id"],
            ["quality_qc_batches.id"],
            name=op.f("fk_quality_corrective_actions_qc_batch_entry_id_quality_qc_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_corrective_actions")),
    )
    with op.batch_alter_table("quality_corrective_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_corrective_actions_qc_batch_entry_id"), ["qc_batch_entry_id"], unique=False
        )

    op.create_table(
        "quality_issued_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.String(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("lab_code", sa.String(length=32), nullable=False),
        sa.Column("verification_code", sa.String(length=64), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=False),
        sa.Column("issued_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("superseded_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("amendment_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name=op.f("fk_quality_issued_reports_issued_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["lab_code"],
            ["organisations.code"],
            name=op.f("fk_quality_issued_reports_lab_code_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["samples.id"], name=op.f("fk_quality_issued_reports_sample_id_samples")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["quality_issued_reports.id"],
            name=op.f("fk_quality_issued_reports_supersedes_id_quality_issued_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_issued_reports")),
        sa.UniqueConstraint("report_id", "version", name="uq_quality_issued_reports_report_version"),
        sa.UniqueConstraint("verification_code", name=op.f("uq_quality_issued_reports_verification_code")),
    )
    with op.batch_alter_table("quality_issued_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_issued_reports_lab_code"), ["lab_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_issued_reports_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_issued_reports_sample_id"), ["sample_id"], unique=False)

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
