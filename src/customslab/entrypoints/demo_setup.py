"""Wires the demo loader to a real database: the bootstrap for `customslab demo` and the screenshots.

The seeding itself is a service (services/demo.py) that only sees the unit of work it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from customslab.adapters.audit_log import checkpoint_now
from customslab.adapters.db import upgrade
from customslab.adapters.uow import LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.entrypoints import wiring
from customslab.services.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "load_demo"]


def load_demo(settings: Settings, n_requests: int = 300, seed: int = 20261121) -> bool:
    """Create the demo database unless it already holds the network; returns whether it created it."""
    upgrade(settings.database_url)
    db = wiring.database(settings)
    files = LocalFileStore(settings.file_store)

    def make_uow(clock: Callable[[], datetime]) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(db, files, clock)

    try:
        created = seed_demo(make_uow, n_requests, seed)
        if db.audit_signer is not None:
            # The loader commits faster than the checkpoint interval: anchor everything it wrote.
            checkpoint_now(db.engine, db.audit_signer)
        return created
    finally:
        db.dispose()
