"""Wires the demo loader to a real database: the bootstrap for `customslab demo` and the screenshots.

The seeding itself is a service (services/demo.py) that only sees the unit of work it is given. Set-up
also loads the HS nomenclature and builds the default spectral library from the public data beside the
checkout (`settings.shared_data`), so that the HS pages have content and the first identification
does not wait for a library build.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from customslab.adapters import hs_store
from customslab.adapters.audit_log import checkpoint_now
from customslab.adapters.db import upgrade
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.entrypoints import wiring
from customslab.hs.nomenclature import HsError
from customslab.services.demo import DEMO_PASSWORD, DEMO_USERS, UowFactory, seed_demo
from customslab.services.demo_documents import article, guidebooks, seed_demo_documents
from customslab.spectra.library_store import LibraryError, open_library
from customslab.spectra.reference_sets import open_reference_library

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "DemoSetUp", "build_default_library", "load_demo", "set_up_demo"]

#: Where set-up says what it is doing (the demo command echoes it; tests and screenshots stay quiet).
Say = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class DemoSetUp:
    """What `set_up_demo` did: whether it created the network, and where the library is (None: none)."""

    created: bool
    library: Path | None


def set_up_demo(
    settings: Settings, n_requests: int = 300, seed: int = 20261121, say: Say = _quiet
) -> DemoSetUp:
    """Everything `customslab demo` needs before it serves: the database with the network and the HS
    nomenclature, and the default spectral library."""
    created = load_demo(settings, n_requests, seed, say)
    return DemoSetUp(created, build_default_library(settings, say))


def load_demo(settings: Settings, n_requests: int = 300, seed: int = 20261121, say: Say = _quiet) -> bool:
    """Create the demo database unless it already holds the network, and load the HS nomenclature
    unless it is loaded; returns whether it created the network."""
    upgrade(settings.database_url)
    db = wiring.database(settings)
    files = LocalFileStore(settings.file_store)

    def make_uow(clock: Callable[[], datetime]) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(db, files, clock)

    try:
        _load_nomenclature(db, settings.shared_data / "hs", say)
        created = seed_demo(make_uow, n_requests, seed)
        _seed_documents(make_uow, settings.shared_data / "knowledge", say)
        if db.audit_signer is not None:
            # The loader commits faster than the checkpoint interval: anchor everything it wrote.
            checkpoint_now(db.engine, db.audit_signer)
        return created
    finally:
        db.dispose()


def _seed_documents(make_uow: UowFactory, folder: Path, say: Say) -> None:
    """The demo's guidebooks, and the public ROCB A/P articles when the real data is there (a demo
    without it still serves, with the guidebooks only)."""
    articles = sorted(folder.glob("[0-9][0-9][0-9][0-9]-*.txt")) if folder.is_dir() else []
    documents = guidebooks() + [article(path.name, path.read_bytes()) for path in articles]
    added = seed_demo_documents(make_uow, documents)
    if added:
        say(f"Added {added} documents to the knowledge base.")


def _load_nomenclature(db: Database, folder: Path, say: Say) -> None:
    """Load the HS nomenclature (as `customslab hs load` does) unless the database already holds it; a
    demo without the data still serves, with the HS pages saying the nomenclature is not loaded."""
    with db.engine.begin() as conn:
        if hs_store.is_loaded(conn):
            return
        try:
            counts = hs_store.load_nomenclature(conn, folder)
        except (HsError, OSError) as exc:
            say(f"The HS nomenclature was not loaded ({exc}); `customslab hs load --data FOLDER` loads it.")
            return
    say("Loaded the HS nomenclature: " + ", ".join(f"{n} {level}" for level, n in counts.items()) + ".")


def build_default_library(settings: Settings, say: Say = _quiet) -> Path | None:
    """Build the default spectral library from the reference data unless a current one is there, so the
    first search opens it in milliseconds instead of building it (about 20 s) inside a request.
    Returns its folder, or None when there is no reference data to build it from."""
    path = settings.default_library_path()
    try:
        open_library(path)
        return path
    except LibraryError:
        pass  # not built yet, or by an older format version: built below
    say(f"Building the default spectral library at {path} (once; about 20 seconds)...")
    try:
        library = open_reference_library(path, settings.shared_data)
    except LibraryError as exc:
        say(f"The default spectral library was not built ({exc}); identification will say so.")
        return None
    counts = ", ".join(f"{n} {technique}" for technique, n in sorted(library.counts.items()))
    say(f"Built the default spectral library: {counts} spectra.")
    return path
