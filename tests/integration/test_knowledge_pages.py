"""The knowledge base's pages: search with highlighted snippets, a document's page, the upload and edit
forms as the browser posts them (htmx, CSRF), who is refused, and "Documents and precedents" on a case.

SQLite only, but for the upload-and-find test, which runs on both databases: the search's SQL is the
store's, tested on both by its own tests; these test the pages."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customslab.domain.access import SharingLevel
from customslab.services import knowledge
from customslab.services.demo_documents import guidebooks
from customslab.services.knowledge import DocumentCreate, DocumentView, UploadedFile
from customslab.services.knowledge_ports import KnowledgeDocument
from tests.factories import Network, received_sample
from tests.integration.test_pages import csrf, post, sign_in

HTMX = {"HX-Request": "true"}
UPLOAD_FORM = {
    "title": "Cocoa content of puffed cereals: a method note",
    "kind": "method",
    "language": "en",
    "year": "2025",
    "hs_codes": "1904.10, 1806.90",
    "substances": "theobromine\ncaffeine",
    "tags": "cocoa, HPLC",
    "licence": "internal",
    "sharing": "administration",
}
NOTE = (
    b"Cocoa content is estimated from theobromine and caffeine measured by HPLC, "
    b"then calculated on a totally defatted basis for Note 3 to Chapter 19."
)


@pytest.fixture
def backend() -> str:
    """These pages' tests run on SQLite; a test that also needs PostgreSQL parametrises `backend`."""
    return "sqlite"


def _add(app: Any, who: Any, title: str, text: bytes, **metadata: Any) -> DocumentView:
    """A document added through the service (as the API and the upload form do), as text."""
    fields = {"title": title, "kind": "guidebook", "language": "en", "year": 2024} | metadata
    upload = UploadedFile(f"{title[:20]}.txt", "text/plain", text, 1024 * 1024)
    return knowledge.add_document(app.state.uow_factory(), who, DocumentCreate.model_validate(fields), upload)


def _pepper_guidebooks(app: Any, net: Network) -> list[DocumentView]:
    """The demo's two red pepper guidebooks, added by the central laboratory's manager."""
    return [
        knowledge.add_document(
            app.state.uow_factory(),
            net["central_manager"],
            g.metadata,
            UploadedFile(g.filename, "text/plain", g.data, 1024 * 1024),
        )
        for g in guidebooks()
    ]


def _documents(app: Any) -> int:
    uow = app.state.uow_factory()
    with uow:
        return len(uow.quality.find(KnowledgeDocument))


def _main(page: str) -> str:
    return page[page.index("<main") :]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_an_analyst_uploads_a_document_through_the_form_and_finds_it_highlighted(
    client: TestClient, app: Any, net: Network
) -> None:
    sign_in(client, net, "analyst")
    assert 'href="/knowledge"' in client.get("/queue").text, "the navigation links the knowledge base"
    form = client.get("/knowledge/new").text
    assert 'enctype="multipart/form-data"' in form and 'name="sharing" value="network"' in form

    files = {"file": ("cocoa-note.txt", NOTE, "text/plain")}
    done = post(client, "/knowledge", UPLOAD_FORM, files=files, headers=HTMX)
    assert done.status_code == 204, done.text
    url = done.headers["HX-Redirect"]
    assert re.fullmatch(r"/knowledge/\d+", url)

    page = _main(client.get(url).text)
    assert "Cocoa content of puffed cereals: a method note" in page
    assert "1904.10, 1806.90" in page and "theobromine; caffeine" in page and "cocoa, HPLC" in page
    assert f'href="{url}/versions/1"' in page and "cocoa-note.txt" in page
    assert "Document added." in page

    found = _main(client.get("/knowledge", params={"q": "theobromine HPLC", "hs": "1904"}).text)
    assert "1 document found" in found
    assert f'href="{url}"' in found and "<mark>theobromine</mark>" in found and "<mark>HPLC</mark>" in found

    download = client.get(f"{url}/versions/1")
    assert download.status_code == 200 and download.content == NOTE
    assert download.headers["content-disposition"].startswith("attachment;")


def test_markup_in_a_documents_text_is_shown_as_text_in_the_snippet(
    client: TestClient, app: Any, net: Network
) -> None:
    text = b"Dried capsicum <script>alert('x')</script> and <b>capsicum</b> flakes &amp; powder."
    _add(app, net["central_manager"], "Markup in the text", text)
    sign_in(client, net, "analyst")
    page = _main(client.get("/knowledge", params={"q": "capsicum"}).text)
    assert "<script>alert" not in page and "<b>capsicum" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<mark>capsicum</mark>" in page and "&amp;amp; powder" in page


def test_an_officer_is_refused_the_knowledge_base_and_sees_no_documents_on_the_case(
    client: TestClient, app: Any, net: Network
) -> None:
    _pepper_guidebooks(app, net)
    sample = received_sample(app.state.uow_factory, net, declared_hs="0904.22")
    sign_in(client, net, "officer")
    assert client.get("/knowledge").status_code == 403
    assert client.get("/knowledge", params={"q": "pepper"}).status_code == 403
    assert client.get("/knowledge/new").status_code == 403
    page = client.get(f"/samples/{sample.id}")
    assert page.status_code == 200
    assert 'href="/knowledge"' not in page.text and "Documents and precedents" not in page.text


def test_another_laboratorys_private_document_is_not_found_nor_listed(
    client: TestClient, app: Any, net: Network
) -> None:
    private = _add(app, net["outsider"], "Internal capsicum notes", b"Zanthoxylum private findings.")
    sign_in(client, net, "analyst")
    assert client.get(f"/knowledge/{private.id}").status_code == 404
    assert client.get(f"/knowledge/{private.id}/versions/1").status_code == 404
    assert "0 documents found" in client.get("/knowledge", params={"q": "Zanthoxylum"}).text
    client.cookies.clear()
    sign_in(client, net, "outsider")
    assert "Internal capsicum notes" in client.get(f"/knowledge/{private.id}").text


def test_a_form_without_its_csrf_token_is_refused_and_stores_nothing(
    client: TestClient, app: Any, net: Network
) -> None:
    doc = _add(app, net["central_manager"], "Sugar polarisation", b"Polarisation of raw sugar.")
    sign_in(client, net, "central_manager")
    before = _documents(app)
    files = {"file": ("forged.txt", b"forged upload", "text/plain")}
    forged = client.post("/knowledge", data=UPLOAD_FORM, files=files, follow_redirects=False)
    assert forged.status_code == 403
    edited = client.post(
        f"/knowledge/{doc.id}",
        data=UPLOAD_FORM | {"row_version": "1", "csrf_token": "not-the-session-token"},
        follow_redirects=False,
    )
    assert edited.status_code == 403
    assert _documents(app) == before
    assert "Sugar polarisation" in client.get(f"/knowledge/{doc.id}").text


def test_the_owner_laboratory_edits_the_metadata_and_adds_a_version_and_others_may_not(
    client: TestClient, app: Any, net: Network
) -> None:
    doc = _add(app, net["central_manager"], "Alcoholic strength", b"Densimetry v1.", sharing="administration")
    wide = _add(app, net["central_manager"], "Ethanol", b"Ethanol content.", sharing="network")
    sign_in(client, net, "analyst")
    page = client.get(f"/knowledge/{doc.id}").text
    assert 'id="edit-metadata"' in page and "Upload a new version" in page
    # Changing a document shared beyond the administration takes the right to share it so far.
    assert 'id="edit-metadata"' not in client.get(f"/knowledge/{wide.id}").text
    changed = UPLOAD_FORM | {"title": "Alcoholic strength by densimetry", "tags": "", "sharing": "network"}
    refused = post(client, f"/knowledge/{doc.id}", changed | {"row_version": "1"}, headers=HTMX)
    faults = json.loads(refused.headers["HX-Trigger"])["form-errors"]["errors"]
    assert [f["field"] for f in faults] == [None] and "beyond the administration" in faults[0]["message"]
    saved = post(
        client,
        f"/knowledge/{doc.id}",
        changed | {"row_version": "1", "sharing": "administration"},
        headers=HTMX,
    )
    assert saved.status_code == 204, saved.text
    version = post(
        client,
        f"/knowledge/{doc.id}/versions",
        {"note": "second edition"},
        files={"file": ("v2.txt", b"Densimetry v2.", "text/plain")},
        headers=HTMX,
    )
    assert version.status_code == 204, version.text
    page = _main(client.get(f"/knowledge/{doc.id}").text)
    assert "Alcoholic strength by densimetry" in page and "Version 2 added." in page
    assert "<dt>Tags</dt><dd>—</dd>" in page, "an emptied field is cleared"
    assert 'data-version="2"' in page and "second edition" in page
    assert client.get(f"/knowledge/{doc.id}/versions/1").content == b"Densimetry v1."

    client.cookies.clear()
    sign_in(client, net, "outsider")
    other = client.get(f"/knowledge/{doc.id}")
    assert other.status_code == 200 and 'id="edit-metadata"' not in other.text
    data = UPLOAD_FORM | {"row_version": "2", "csrf_token": csrf(client, f"/knowledge/{doc.id}")}
    assert client.post(f"/knowledge/{doc.id}", data=data, follow_redirects=False).status_code == 403


def test_an_unreadable_file_is_refused_next_to_the_file_input_and_nothing_is_stored(
    client: TestClient, app: Any, net: Network
) -> None:
    sign_in(client, net, "analyst")
    before = _documents(app)
    files = {"file": ("tool.exe", b"MZ\x90\x00binary", "application/octet-stream")}
    refused = post(client, "/knowledge", UPLOAD_FORM, files=files, headers=HTMX)
    assert refused.status_code == 200 and refused.headers.get("HX-Reswap") == "none"
    faults = json.loads(refused.headers["HX-Trigger"])["form-errors"]["errors"]
    assert faults[0]["field"] == "file" and "tool.exe" in faults[0]["message"]
    assert _documents(app) == before


def test_the_hs_panel_of_a_red_pepper_case_lists_the_guidebooks_and_links_them(
    client: TestClient, app: Any, net: Network
) -> None:
    korean, english = _pepper_guidebooks(app, net)
    unrelated = _add(app, net["central_manager"], "Rum and spirits", b"Alcoholic strength of rum.")
    sample = received_sample(
        app.state.uow_factory, net, declared_hs="0904.22", goods_description="Red pepper seasoning powder"
    )
    sign_in(client, net, "analyst")
    for path in (f"/samples/{sample.id}/hs", f"/samples/{sample.id}"):
        page = client.get(path).text
        section = page[page.index('id="related-knowledge"') :]
        section = section[: section.index("</section>")]
        assert "Documents and precedents" in section and "0904" in section
        assert f'href="/knowledge/{korean.id}"' in section and f'href="/knowledge/{english.id}"' in section
        assert f'href="/knowledge/{unrelated.id}"' not in section
        # Precedents: other tests of the session share approved opinions network-wide, so only the
        # heading is certain here (the precedents themselves are checked in test_knowledge.py).
        assert "Precedents" in section
    assert SharingLevel(korean.sharing) is SharingLevel.ADMINISTRATION


def test_a_bad_filter_is_explained_on_the_search_page_with_what_was_typed(
    client: TestClient, app: Any, net: Network
) -> None:
    _add(app, net["central_manager"], "Polymer identity by FTIR", b"Polyethylene spectra.")
    sign_in(client, net, "analyst")
    listed = _main(client.get("/knowledge").text)
    assert "Documents shared with you, newest first" in listed and "Polymer identity by FTIR" in listed
    refused = client.get("/knowledge", params={"q": "polyethylene", "hs": "39x"})
    assert refused.status_code == 422
    page = _main(refused.text)
    assert 'id="search-error"' in page and "is not an HS code" in page
    assert 'value="39x"' in page and 'value="polyethylene"' in page
