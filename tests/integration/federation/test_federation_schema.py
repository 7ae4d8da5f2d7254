"""The federation tables the application maps are the ones migration 0008 creates."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from customslab.adapters.federation_tables import FEDERATION_TABLE_NAMES
from customslab.adapters.tables_base import metadata
from customslab.adapters.uow import Database


def test_the_federation_tables_are_the_ones_the_migration_creates(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, metadata) if "federation_" in str(d)]
    assert len(FEDERATION_TABLE_NAMES) == 8 and set(metadata.tables) >= FEDERATION_TABLE_NAMES
    assert diffs == []
