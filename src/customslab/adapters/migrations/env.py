"""Alembic environment: one migration history for SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import context

from customslab.adapters import orm
from customslab.adapters.db import make_engine
from customslab.adapters.tables_base import metadata

orm.start_mappers()
config = context.config
url = config.get_main_option("sqlalchemy.url") or ""


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a column by rebuilding its table: the old one is dropped while other tables'
            # rows still point at it, which enforced foreign keys refuse. They are off during the
            # migrations (the pragma is a no-op inside a transaction, so it comes first) and checked as
            # a whole before the commit; this connection is thrown away afterwards.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"The migration left rows without their parent: {broken[:5]}")
    engine.dispose()


run_migrations_online()
