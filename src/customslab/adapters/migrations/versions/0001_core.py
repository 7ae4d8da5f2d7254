"""core case management

Revision ID: 0001_core
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import create_table, indexed, ref

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

#: The states a sample and a test both go through, as released (a change to the domain's `State`
#: needs a migration of its own, so this is not imported from it).
STATES = (
    "registered",
    "received",
    "in_analysis",
    "to_be_reviewed",
    "approved",
    "reported",
    "archived",
    "rejected",
    "retest",
    "cancelled",
)


def _enum(name: str, *values: str) -> sa.Enum:
    """Enums are stored as their values in a VARCHAR(32), with no CHECK constraint and no native type."""
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    create_table(
        "audit_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("entity", sa.String(length=60), nullable=False),
        sa.Column("entity_id", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        key="seq",
        indexes=[("ix_audit_entity", ["entity", "entity_id"])],
    )
    create_table(
        "organisations",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            _enum("orgkind", "central", "local", "rcl", "member", "external", "customs_office"),
            nullable=False,
        ),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        ref("parent_code", sa.String(length=32), "organisations.code", nullable=True),
        sa.Column("contact_points", customslab.adapters.types.ContactPointList(), nullable=False),
        key="code",
    )
    create_table(
        "sequences",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        key="name",
    )
    create_table(
        "users",
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        ref("org_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("roles", customslab.adapters.types.RoleSet(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        unique=["username"],
    )
    create_table(
        "analysis_requests",
        sa.Column("reference", sa.String(length=40), nullable=False),
        ref("office_code", sa.String(length=32), "organisations.code", nullable=False),
        ref("requester_id", sa.Integer(), "users.id", nullable=False, index=True),
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("declaration_number", sa.String(length=60), nullable=False),
        sa.Column("item_number", sa.Integer(), nullable=False),
        sa.Column("declared_hs", sa.String(length=10), nullable=False),
        sa.Column("goods_description", sa.Text(), nullable=False),
        sa.Column("origin_country", sa.String(length=2), nullable=False),
        sa.Column("importer", sa.String(length=200), nullable=False),
        sa.Column("declared_value", customslab.adapters.types.DecimalText(length=48), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column(
            "reason",
            _enum(
                "reason",
                "classification",
                "origin",
                "narcotics_precursors",
                "safety_hazardous",
                "ipr",
                "other",
            ),
            nullable=False,
        ),
        sa.Column("priority", _enum("priority", "routine", "urgent"), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("requested_determinations", sa.JSON(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        unique=["reference"],
    )
    create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        ref("user_id", sa.Integer(), "users.id", nullable=False, index=True),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        key="token_hash",
    )
    create_table(
        "samples",
        sa.Column("lab_sample_id", sa.String(length=40), nullable=False),
        ref("request_id", sa.Integer(), "analysis_requests.id", nullable=False, index=True),
        ref("lab_code", sa.String(length=32), "organisations.code", nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", customslab.adapters.types.DecimalText(length=48), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("state", _enum("state", *STATES), nullable=False),
        sa.Column("registered_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("seal_number", sa.String(length=60), nullable=False),
        sa.Column("condition_on_receipt", sa.Text(), nullable=False),
        sa.Column("storage_location", sa.String(length=120), nullable=False),
        sa.Column("retention_until", sa.Date(), nullable=True),
        sa.Column("disposed_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("disposal_record", sa.Text(), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=False),
        sa.Column("received_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("analysis_started_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("submitted_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("approved_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("reported_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        ref("parent_id", sa.Integer(), "samples.id", nullable=True),
        unique=["lab_sample_id"],
        indexes=[("ix_samples_lab_state", ["lab_code", "state"])],
    )
    create_table(
        "custody_events",
        ref("sample_id", sa.Integer(), "samples.id", nullable=False, index=True),
        sa.Column(
            "kind",
            _enum(
                "custodykind",
                "registered",
                "receipt",
                "hand_over",
                "transport",
                "storage_move",
                "sub_sampling",
                "referral_dispatch",
                "disposal",
            ),
            nullable=False,
        ),
        sa.Column("at", customslab.adapters.types.UTCDateTime(), nullable=False),
        ref("by_user_id", sa.Integer(), "users.id", nullable=False),
        sa.Column("from_party", sa.String(length=200), nullable=False),
        sa.Column("to_party", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("seal_number", sa.String(length=60), nullable=False),
        sa.Column("seal_intact", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
    )
    create_table(
        "referrals",
        ref("sample_id", sa.Integer(), "samples.id", nullable=False, index=True),
        ref("from_lab", sa.String(length=32), "organisations.code", nullable=False, index=True),
        ref("to_lab", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column(
            "kind",
            _enum("referralkind", "local_to_central", "member_to_rcl", "joint_analysis", "other"),
            nullable=False,
        ),
        sa.Column(
            "state",
            _enum("referralstate", "sent", "accepted", "completed", "declined"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        ref("created_by", sa.Integer(), "users.id", nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("accepted_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("completed_at", customslab.adapters.types.UTCDateTime(), nullable=True),
    )
    create_table(
        "shares",
        ref("sample_id", sa.Integer(), "samples.id", nullable=False, index=True),
        ref("org_code", sa.String(length=32), "organisations.code", nullable=False, index=True),
        ref("shared_by", sa.Integer(), "users.id", nullable=False),
        sa.Column("shared_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        unique=[("uq_shares_sample_org", ["sample_id", "org_code"])],
    )
    create_table(
        "tests",
        ref("sample_id", sa.Integer(), "samples.id", nullable=False, index=True),
        sa.Column("determination", sa.String(length=200), nullable=False),
        sa.Column("method_ref", sa.String(length=120), nullable=False),
        sa.Column("state", _enum("state", *STATES), nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        ref("analyst_id", sa.Integer(), "users.id", nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=False),
        ref("approved_by", sa.Integer(), "users.id", nullable=True),
        sa.Column("approved_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        sa.Column("submitted_at", customslab.adapters.types.UTCDateTime(), nullable=True),
        indexes=[("ix_tests_analyst_state", ["analyst_id", "state"])],
    )
    create_table(
        "attachments",
        ref("test_id", sa.Integer(), "tests.id", nullable=False, index=True),
        indexed("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        ref("uploaded_by", sa.Integer(), "users.id", nullable=False),
        sa.Column("uploaded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
    )
    create_table(
        "identifications",
        ref("test_id", sa.Integer(), "tests.id", nullable=False, index=True),
        sa.Column("attachment_sha256", sa.String(length=64), nullable=False),
        sa.Column("technique", sa.String(length=20), nullable=False),
        sa.Column("library_id", sa.String(length=120), nullable=False),
        sa.Column("library_version", sa.String(length=120), nullable=False),
        sa.Column("hits", sa.JSON(), nullable=False),
        ref("created_by", sa.Integer(), "users.id", nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
    )
    create_table(
        "results",
        ref("test_id", sa.Integer(), "tests.id", nullable=False, index=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("value", customslab.adapters.types.DecimalText(length=48), nullable=True),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("expanded_uncertainty", customslab.adapters.types.DecimalText(length=48), nullable=True),
        sa.Column("coverage_factor", customslab.adapters.types.DecimalText(length=48), nullable=True),
        sa.Column("lod", customslab.adapters.types.DecimalText(length=48), nullable=True),
        sa.Column("loq", customslab.adapters.types.DecimalText(length=48), nullable=True),
        sa.Column("observation", sa.Text(), nullable=False),
        ref("entered_by", sa.Integer(), "users.id", nullable=False),
        sa.Column("entered_at", customslab.adapters.types.UTCDateTime(), nullable=False),
    )
    _append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    # Dropping a table drops its indexes too, on SQLite and PostgreSQL; dependants go first.
    for table in (
        "results",
        "identifications",
        "attachments",
        "tests",
        "shares",
        "referrals",
        "custody_events",
        "samples",
        "api_tokens",
        "analysis_requests",
        "users",
        "sequences",
        "organisations",
        "audit_entries",
    ):
        op.drop_table(table)


APPEND_ONLY = ("audit_entries", "custody_events")


def _append_only_triggers() -> None:
    """The audit trail and the custody chain refuse UPDATE and DELETE inside the database too."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION customslab_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION customslab_append_only()"
            )
    else:
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS customslab_append_only()")
    else:
        for table in APPEND_ONLY:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
