"""HS nomenclature, national tariffs and their full-text search.

Revision ID: 0002_hs
Revises: 0001_core
"""

from __future__ import annotations

from alembic import op

from customslab.adapters import hs_store

revision = "0002_hs"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    # The table objects are the single definition of the schema; the migration creates exactly them.
    for table in hs_store.HS_TABLES:
        table.create(bind, checkfirst=True)
    hs_store.create_fts(bind)


def downgrade() -> None:
    bind = op.get_bind()
    hs_store.drop_fts(bind)
    for table in reversed(hs_store.HS_TABLES):
        table.drop(bind, checkfirst=True)
