"""The knowledge base over HTTP and from the command line (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.entrypoints.api.app import create_app
from customslab.entrypoints.cli import app as cli
from tests.factories import Network, make_network, unique
from tests.integration.conftest import signed_in
from tests.integration.knowledge_support import KOREAN_PEPPER

LIMIT = 4096
ADD = ("knowledge", "add")


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Network]]:
    db = Database(sqlite_url)
    settings = Settings(
        mode="test", database_url=sqlite_url, file_store=tmp_path / "files", max_upload_bytes=LIMIT
    )
    app = create_app(settings, db=db)
    net = make_network(app.state.uow_factory)
    with TestClient(app) as c:
        yield c, net
    db.dispose()


def _form(**fields: Any) -> dict[str, Any]:
    return {"title": "고추 조제품 지침서", "kind": "guidebook", "language": "KO", "year": "2024"} | fields


def test_a_document_is_uploaded_found_edited_versioned_and_downloaded_through_the_api(
    client: tuple[TestClient, Network],
) -> None:
    c, net = client
    analyst, reviewer = signed_in(c, net, "analyst"), signed_in(c, net, "reviewer")
    word = unique("apiword").lower()
    body = f"{KOREAN_PEPPER}\n{word}".encode()
    files = {"file": ("pepper.txt", body, "text/plain")}
    form = _form(hs_codes=["0904", "2103.90"], tags=["pepper", "guide"])
    created = c.post("/api/knowledge/documents", data=form, files=files, headers=analyst)
    assert created.status_code == 201, created.text
    doc = created.json()
    assert (doc["language"], doc["hs_codes"], doc["current_version"]) == ("ko", ["0904", "2103.90"], 1)
    found = c.get(
        "/api/knowledge/documents", params={"q": "고추", "hs": "0904", "language": "ko"}, headers=analyst
    )
    assert found.status_code == 200 and doc["id"] in [h["id"] for h in found.json()["hits"]]
    hit = next(h for h in found.json()["hits"] if h["id"] == doc["id"])
    assert any(s["highlighted"] and s["text"] == "고추" for s in hit["snippet"])
    patch = {"row_version": doc["row_version"], "tags": ["pepper"], "year": 2025}
    edited = c.patch(f"/api/knowledge/documents/{doc['id']}", json=patch, headers=reviewer)
    assert edited.status_code == 200 and (edited.json()["year"], edited.json()["tags"]) == (2025, ["pepper"])
    stale = c.patch(f"/api/knowledge/documents/{doc['id']}", json=patch, headers=analyst)
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["error"]
    v2 = c.post(
        f"/api/knowledge/documents/{doc['id']}/versions",
        data={"note": "typo"},
        files={"file": ("pepper.html", b"<html><body><p>Red pepper v2</p></body></html>", "text/html")},
        headers=analyst,
    )
    assert v2.status_code == 201 and v2.json()["current_version"] == 2
    first = c.get(f"/api/knowledge/documents/{doc['id']}/versions/1/file", headers=analyst)
    assert first.status_code == 200 and first.content == body
    assert "attachment" in first.headers["content-disposition"]
    second = c.get(f"/api/knowledge/documents/{doc['id']}/versions/2/file", headers=analyst)
    assert second.headers["content-type"] == "application/octet-stream"  # markup is never served as HTML
    assert (
        c.get(f"/api/knowledge/documents/{doc['id']}", headers=signed_in(c, net, "rcl_manager")).status_code
        == 404
    )
    assert c.get("/api/knowledge/documents", params={"q": "x"}).status_code == 401
    officer = c.get("/api/knowledge/documents", params={"q": "x"}, headers=signed_in(c, net, "officer"))
    assert officer.status_code == 403


def test_hostile_uploads_get_their_status_and_reason(client: tuple[TestClient, Network]) -> None:
    c, net = client
    analyst = signed_in(c, net, "analyst")

    def post(name: str, data: bytes, media_type: str, **form: Any) -> Any:
        files = {"file": (name, data, media_type)}
        return c.post("/api/knowledge/documents", data=_form(**form), files=files, headers=analyst)

    assert post("tool.exe", b"MZ", "application/octet-stream").status_code == 415
    too_big = post("big.txt", b"x" * (LIMIT + 1), "text/plain")
    assert too_big.status_code == 413 and "limit" in too_big.json()["error"]
    way_too_big = post("huge.txt", b"x" * (LIMIT + 200_000), "text/plain")
    assert way_too_big.status_code == 413
    empty = post("empty.txt", b"", "text/plain")
    assert empty.status_code == 422 and empty.json()["field"] == "file"
    bad_code = post("ok.txt", b"text", "text/plain", hs_codes=["9999"])
    assert bad_code.status_code == 422 and bad_code.json()["field"].startswith("hs_codes")
    bad_language = post("ok.txt", b"text", "text/plain", language="english!")
    assert bad_language.status_code == 422


def test_a_sample_lists_what_bears_on_it_through_the_api(client: tuple[TestClient, Network]) -> None:
    from tests.factories import received_sample

    c, net = client
    sample = received_sample(c.app.state.uow_factory, net, declared_hs="0904.22")  # type: ignore[attr-defined]
    analyst = signed_in(c, net, "analyst")
    files = {"file": ("g.txt", b"Dried pepper guide", "text/plain")}
    doc = c.post(
        "/api/knowledge/documents", data=_form(hs_codes=["0904"]), files=files, headers=analyst
    ).json()
    related = c.get(f"/api/samples/{sample.id}/knowledge", headers=analyst)
    assert related.status_code == 200 and doc["id"] in [d["id"] for d in related.json()["documents"]]
    assert related.json()["headings"] == ["0904"]
    assert (
        c.get(f"/api/samples/{sample.id}/knowledge", headers=signed_in(c, net, "rcl_manager")).status_code
        == 404
    )


def test_the_cli_adds_searches_and_reindexes(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path
) -> None:
    db = Database(sqlite_url)
    from customslab.adapters.uow import LocalFileStore, SqlAlchemyUnitOfWork

    files = tmp_path / "files"
    net = make_network(lambda: SqlAlchemyUnitOfWork(db, LocalFileStore(files)))
    db.dispose()
    monkeypatch.setenv("CUSTOMSLAB_FILE_STORE", str(files))
    article = shared_data / "knowledge" / "2018-busan-workshop-capacity-building.txt"
    runner = CliRunner()
    user = net["central_manager"].username
    common = ["--database-url", sqlite_url]
    meta = ["--language", "en", "--year", "2018", "--as", user, *common]
    added = runner.invoke(
        cli,
        [
            *ADD,
            str(article),
            "--title",
            "Busan workshop 2018",
            "--kind",
            "seminar_paper",
            *meta,
            "--tag",
            "RCL",
        ],
    )
    assert added.exit_code == 0, added.output
    assert "Added document" in added.output
    found = runner.invoke(cli, ["knowledge", "search", "Busan workshop", "--as", user, "--json", *common])
    assert found.exit_code == 0, found.output
    assert '"Busan workshop 2018"' in found.output
    text = runner.invoke(cli, ["knowledge", "search", "Busan", "--as", user, "--limit", "3", *common])
    assert "*Busan*" in text.output
    refused = runner.invoke(cli, ["knowledge", "search", "x", "--as", "nobody-at-all", *common])
    assert refused.exit_code == 2 and "no active user" in refused.output
    bad = runner.invoke(
        cli,
        [*ADD, str(article), "--title", "t", "--kind", "novel", *meta],
    )
    assert bad.exit_code == 2 and "kind" in bad.output
    again = runner.invoke(cli, ["knowledge", "reindex", *common])
    assert again.exit_code == 0 and again.output.startswith("Indexed ")
