"""knowledge base: documents, their versions and the search index

Revision ID: 0012_knowledge
Revises: 0011_controlled_substances
Create Date: 2026-11-30

A knowledge document (guidebook, research material, seminar paper, method, committee decision, approved
classification opinion, training material) is an audited record with its metadata; each uploaded file is
a version, with its extracted text. The search index is two plain tables: one posting per distinct term
of a document (term, document, frequency) and one row of length and filter columns per document.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import customslab.adapters.types
from customslab.adapters.migrations.ddl import create_table, indexed, ref

revision = "0012_knowledge"
down_revision = "0011_controlled_substances"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "knowledge_documents",
        ref("owner_lab", sa.String(length=32), "organisations.code", nullable=False, index=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("author_lab", sa.String(length=120), nullable=False),
        sa.Column("hs_codes", sa.JSON(), nullable=False),
        sa.Column("substances", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("licence", sa.Text(), nullable=False),
        sa.Column("sharing", sa.String(length=16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        indexed("source", sa.String(length=40), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"),
    )
    create_table(
        "knowledge_versions",
        ref("document_id", sa.Integer(), "knowledge_documents.id", nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("uploaded_by", sa.String(length=80), nullable=False),
        sa.Column("uploaded_at", customslab.adapters.types.UTCDateTime(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"),
        unique=[("uq_knowledge_versions_document_version", ["document_id", "version"])],
    )
    op.create_table(
        "knowledge_postings",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("tf", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["knowledge_documents.id"],
            name=op.f("fk_knowledge_postings_document_id_knowledge_documents"),
        ),
        sa.PrimaryKeyConstraint("term", "document_id", name=op.f("pk_knowledge_postings")),
    )
    op.create_index(
        op.f("ix_knowledge_postings_document_id"), "knowledge_postings", ["document_id"], unique=False
    )
    create_table(
        "knowledge_doc_stats",
        ref("document_id", sa.Integer(), "knowledge_documents.id", nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        indexed("owner_lab", sa.String(length=32), nullable=False),
        sa.Column("sharing", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("author_lab", sa.String(length=120), nullable=False),
        sa.Column("hs_text", sa.Text(), nullable=False),
        key="document_id",
    )


def downgrade() -> None:
    op.drop_table("knowledge_doc_stats")
    op.drop_index(op.f("ix_knowledge_postings_document_id"), table_name="knowledge_postings")
    op.drop_table("knowledge_postings")
    op.drop_table("knowledge_versions")
    op.drop_table("knowledge_documents")
