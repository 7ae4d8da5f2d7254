"""The knowledge base and the targeting feedback in Chromium, through real pages over a real (SQLite)
database:

- an analyst opens a case about a red pepper preparation, finds the laboratory's guidebook and an earlier
  approved opinion under "Documents and precedents" on its HS evaluation panel, reads the guidebook's
  page, then searches the knowledge base for 고추 and finds the Korean guidebook first, 고추 highlighted;
- a lab manager opens the targeting page and downloads the risk-indicator export as CSV.

The documents and the earlier opinion are put in through the services, as the upload page and the HS
panel would, to keep the story short; the reading and the download go through the pages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from customslab.adapters import hs_store
from customslab.adapters.db import upgrade
from customslab.config import Settings
from customslab.entrypoints.web.app import create_web_app
from customslab.entrypoints.web.screenshots import live_server
from customslab.services import knowledge
from customslab.services.demo_documents import guidebooks
from customslab.services.knowledge import DocumentView, UploadedFile
from customslab.services.risk_export import CSV_COLUMNS
from tests.e2e.conftest import Live
from tests.e2e.test_browser import as_user
from tests.factories import make_network, received_sample
from tests.joint_support import approved_opinion

KOREAN_TITLE = "건고추와 고추 조제품의 품목분류 안내서"
ENGLISH_TITLE = "Guidebook: classifying dried red pepper and preparations of red pepper"
EARLIER = "Red pepper powder with salt, garlic and sugar, seasoning share 55 %"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Live]:
    """The live server of tests/e2e/conftest.py without the spectral library (nothing is identified
    here)."""
    tmp = tmp_path_factory.mktemp("knowledge-live")
    url = f"sqlite:///{tmp / 'web.sqlite3'}"
    upgrade(url)
    settings = Settings(mode="test", database_url=url, file_store=tmp / "files", shared_data=shared_data)
    app = create_web_app(settings)
    with app.state.db.engine.begin() as conn:
        hs_store.load_nomenclature(conn, shared_data / "hs")
    net = make_network(app.state.uow_factory)
    with live_server(app) as base:
        yield Live(base, app, net)
    app.state.db.dispose()


@pytest.fixture
def violations() -> list[str]:
    """The Content-Security-Policy violations of every page a test opens; none may remain at its end."""
    return []


def _guidebooks(live: Live) -> dict[str, DocumentView]:
    """The demo's red pepper guidebooks, uploaded by the central laboratory's manager, by language."""
    added = {}
    for g in guidebooks():
        upload = UploadedFile(g.filename, "text/plain", g.data, 1024 * 1024)
        doc = knowledge.add_document(
            live.app.state.uow_factory(), live.net["central_manager"], g.metadata, upload
        )
        added[doc.language] = doc
    return added


@pytest.mark.browser
def test_an_analyst_finds_the_pepper_guidebook_from_the_hs_panel_and_by_a_korean_search(
    browser: Any, live: Live, violations: list[str]
) -> None:
    net, uow_factory = live.net, live.app.state.uow_factory
    books = _guidebooks(live)
    # An earlier case of the laboratory, decided as a mixed seasoning: a precedent for the new one.
    earlier = received_sample(uow_factory, net, declared_hs="0904.22", goods_description=EARLIER)
    approved_opinion(
        uow_factory,
        net["analyst"],
        net["reviewer"],
        earlier.id,
        "210390",
        "Chapter 9 Note 1: the seasonings make up more than half; a mixed seasoning of 21.03.",
    )
    case = received_sample(
        uow_factory, net, declared_hs="2103.90", goods_description="Red pepper seasoning paste (gochujang)"
    )

    analyst = as_user(browser, live, "analyst", violations)
    analyst.goto(f"{live.base}/queue")
    analyst.get_by_role("link", name=case.lab_sample_id, exact=True).click()
    analyst.get_by_role("link", name="HS evaluation", exact=True).click()
    analyst.wait_for_url(f"{live.base}/samples/{case.id}/hs")
    related = analyst.locator("#related-knowledge")
    expect(related.get_by_role("heading", name="Documents and precedents")).to_be_visible()
    expect(related).to_contain_text("2103")
    documents = related.locator("ul.related-documents")
    expect(documents.get_by_role("link", name=KOREAN_TITLE)).to_be_visible()
    expect(documents.get_by_role("link", name=ENGLISH_TITLE)).to_be_visible()
    expect(related.locator("ul.related-precedents")).to_contain_text(EARLIER)

    documents.get_by_role("link", name=ENGLISH_TITLE).click()
    analyst.wait_for_url(f"{live.base}/knowledge/{books['en'].id}")
    expect(analyst.locator("h1")).to_have_text(ENGLISH_TITLE)
    facts = analyst.locator("#document-facts")
    expect(facts).to_contain_text("0904.21, 0904.22, 2103.90, 2106.90")
    expect(facts).to_contain_text("the administration")
    version = analyst.locator("#versions li[data-version='1']")
    expect(version).to_contain_text("red-pepper-guidebook-en.txt")
    with analyst.expect_download() as downloading:
        version.get_by_role("link", name="red-pepper-guidebook-en.txt").click()
    text = Path(downloading.value.path()).read_text(encoding="utf-8")
    assert "Note 1 to Chapter 9" in text

    analyst.get_by_role("navigation", name="Main").get_by_role("link", name="Knowledge", exact=True).click()
    analyst.get_by_label("Words").fill("고추")
    analyst.get_by_role("button", name="Search").click()
    hits = analyst.locator("#knowledge-results li.hit")
    first = hits.first
    expect(first.get_by_role("heading")).to_have_text(KOREAN_TITLE)
    marks = first.locator("p.snippet mark")
    assert marks.count() > 0
    assert set(marks.all_inner_texts()) == {"고추"}
    assert violations == []


@pytest.mark.browser
def test_a_lab_manager_downloads_the_risk_indicator_export_from_the_targeting_page(
    browser: Any, live: Live, violations: list[str]
) -> None:
    manager = as_user(browser, live, "central_manager", violations)
    manager.get_by_role("navigation", name="Main").get_by_role("link", name="Targeting feedback").click()
    manager.wait_for_url(f"{live.base}/targeting")
    with manager.expect_download() as downloading:
        manager.get_by_role("link", name="Download risk indicators (CSV)").click()
    download = downloading.value
    assert download.suggested_filename.startswith(
        "risk-indicators-"
    ) and download.suggested_filename.endswith(".csv")
    content = Path(download.path()).read_bytes().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(content)))
    assert header == list(CSV_COLUMNS)
    assert violations == []
