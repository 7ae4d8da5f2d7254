"""A live server for browser tests: uvicorn in a background thread, a SQLite database in tmp."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from customslab.adapters import hs_store
from customslab.adapters.db import upgrade
from customslab.config import Settings
from customslab.entrypoints.web.app import create_web_app
from customslab.entrypoints.web.screenshots import CHROMIUM, CHROMIUM_ARGS, live_server
from tests.factories import Network, make_network


@dataclass
class Live:
    base: str
    app: Any
    net: Network


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path, reference_library: Path
) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{tmp / 'web.sqlite3'}"
    upgrade(url)
    settings = Settings(
        mode="test",
        database_url=url,
        file_store=tmp / "files",
        shared_data=shared_data,
        library_path=reference_library,
    )
    app = create_web_app(settings)
    # The nomenclature, as `customslab hs load` would: the request form suggests headings from it.
    with app.state.db.engine.begin() as conn:
        hs_store.load_nomenclature(conn, shared_data / "hs")
    net = make_network(app.state.uow_factory)
    with live_server(app) as base:
        yield Live(base, app, net)
    app.state.db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
