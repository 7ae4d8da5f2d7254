"""federation: partners, keys, the outbox and inbox of signed messages, links, received reports, shared copies

Revision ID: 0008_federation
Revises: 0007_joint_analysis
Create Date: 2026-11-29

Each administration's deployment registers the partners it trusts (base URL, public Ed25519 keys with
validity periods). A change that must reach a partner writes an outbox row in its own transaction; a
worker delivers it. Received messages are kept append-only by id (a replay changes nothing), and so are
refusals. Links tie a local sample to the same referral on a partner's server; received reports and
shared copies keep what partners sent, with provenance.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import append_only, create_table, drop_append_only, ref

revision = "0008_federation"
down_revision = "0007_joint_analysis"
branch_labels = None
depends_on = None

ADMIN = "administrations.code"


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, customslab.adapters.types.UTCDateTime(), nullable=nullable)


def _version() -> sa.Column[object]:
    return sa.Column("row_version", sa.Integer(), server_default="1", nullable=False)


def upgrade() -> None:
    create_table(
        "federation_partners",
        ref("administration_code", sa.String(length=32), ADMIN, nullable=False),
        sa.Column("base_url", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("registered_by", sa.String(length=80), nullable=False),
        _when("registered_at"),
        sa.Column("note", sa.Text(), nullable=False),
        _version(),
        unique=["administration_code"],
    )
    create_table(
        "federation_keys",
        ref("administration_code", sa.String(length=32), ADMIN, nullable=False, index=True),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        _when("valid_from"),
        _when("valid_until", nullable=True),
        sa.Column("added_by", sa.String(length=80), nullable=False),
        _version(),
        unique=[("uq_federation_keys_holder_key", ["administration_code", "key_id"])],
    )
    create_table(
        "federation_outbox",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        ref("partner_code", sa.String(length=32), ADMIN, nullable=False, index=True),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        _when("created_at"),
        _when("next_attempt_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        _when("delivered_at", nullable=True),
        _version(),
        unique=["message_id", ("uq_federation_outbox_stream_seq", ["partner_code", "stream", "seq"])],
        indexes=[("ix_federation_outbox_due", ["state", "next_attempt_at"])],
    )
    create_table(
        "federation_inbox",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        ref("partner_code", sa.String(length=32), ADMIN, nullable=False, index=True),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        _when("received_at"),
        sa.Column("body", sa.Text(), nullable=False),
        unique=["message_id", ("uq_federation_inbox_stream_seq", ["partner_code", "stream", "seq"])],
    )
    create_table(
        "federation_refusals",
        sa.Column("claimed_sender", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        _when("received_at"),
        sa.Column("remote_address", sa.String(length=64), nullable=False),
        indexes=["received_at"],
    )
    create_table(
        "federation_links",
        ref("partner_code", sa.String(length=32), ADMIN, nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("remote_ref", sa.String(length=200), nullable=False),
        ref("sample_id", sa.Integer(), "samples.id", nullable=False, index=True),
        ref("request_id", sa.Integer(), "analysis_requests.id", nullable=False, index=True),
        ref("referral_id", sa.Integer(), "referrals.id", nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        _when("updated_at"),
        sa.Column("status_reason", sa.Text(), nullable=False),
        _version(),
        unique=[("uq_federation_links_remote", ["partner_code", "direction", "remote_ref"])],
    )
    create_table(
        "federation_received_reports",
        ref("link_id", sa.Integer(), "federation_links.id", nullable=False, index=True),
        ref("sample_id", sa.Integer(), "samples.id", nullable=False, index=True),
        ref("partner_code", sa.String(length=32), ADMIN, nullable=False),
        sa.Column("report_id", sa.String(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("verification_code", sa.String(length=64), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        _when("issued_at"),
        sa.Column("laboratory", sa.Text(), nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        _when("received_at"),
        sa.Column("hs_code", sa.String(length=10), nullable=False),
        sa.Column("decision_rule", sa.Text(), nullable=False),
        unique=[("uq_federation_received_reports_version", ["partner_code", "report_id", "version"])],
        indexes=["verification_code"],
    )
    create_table(
        "federation_shared",
        ref("partner_code", sa.String(length=32), ADMIN, nullable=False, index=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("origin_ref", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("author_lab", sa.String(length=200), nullable=False),
        sa.Column("licence", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        _when("published_at"),
        _when("received_at"),
        unique=[("uq_federation_shared_origin", ["partner_code", "kind", "origin_ref", "version"])],
    )
    append_only("federation_inbox", "federation_refusals", "federation_received_reports", "federation_shared")


def downgrade() -> None:
    drop_append_only(
        "federation_inbox", "federation_refusals", "federation_received_reports", "federation_shared"
    )
    for table in (
        "federation_shared",
        "federation_received_reports",
        "federation_links",
        "federation_refusals",
        "federation_inbox",
        "federation_outbox",
        "federation_keys",
        "federation_partners",
    ):
        op.drop_table(table)
