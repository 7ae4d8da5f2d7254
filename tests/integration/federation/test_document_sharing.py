"""Knowledge documents at the sharing level "partners" reach the partner deployment; others stay home.

Two real servers over HTTP with real signatures (`tests/federation_pair.py`), both on SQLite to keep it
cheap (the referral test runs the RCL on PostgreSQL): Japan's RCL uploads documents at each level, raises
one to "partners" and adds a version to another; Bhutan's deployment receives the partners' documents as
read-only shared copies, found by its shared-knowledge search, with their extracted text and licence.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.federation_pair import Server, eventually, federation_pair
from tests.federation_story import ok

pytestmark = [pytest.mark.slow]

GUIDE = "Red pepper preparations: 고추를 분쇄한 조제품 is classified in heading 2103, not 0904.\n"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    with federation_pair(
        tmp_path, f"sqlite:///{tmp_path}/member.sqlite3", f"sqlite:///{tmp_path}/rcl.sqlite3"
    ) as servers:
        yield servers


def upload(
    client: httpx.Client, title: str, text: str, sharing: str, licence: str = "CC-BY-4.0"
) -> httpx.Response:
    form = {
        "title": title,
        "kind": "guidebook",
        "language": "en",
        "year": "2025",
        "hs_codes": ["0904", "2103.90"],
        "licence": licence,
        "sharing": sharing,
    }
    files = {"file": ("guide.txt", text.encode("utf-8"), "text/plain")}
    return client.post("/api/knowledge/documents", data=form, files=files)


def outbox(server: Server) -> list[dict[str, Any]]:
    return list(ok(server.admin().get("/api/federation/outbox", params={"limit": 200}))["items"])


def delivered(server: Server) -> bool:
    states = {m["state"] for m in outbox(server)}
    assert "failed" not in states, outbox(server)
    return states == {"delivered"}


def shared(member: Server, q: str) -> list[dict[str, Any]]:
    return list(
        ok(member.admin().get("/api/federation/shared", params={"q": q, "kind": "document"}))["items"]
    )


def test_documents_shared_with_partners_reach_the_partner_and_others_stay_home(
    pair: tuple[Server, Server],
) -> None:
    member, rcl = pair
    manager = rcl.client("manager.jp")

    # A network-level document stays on the RCL's server; a partners-level one without a licence is
    # refused, and nothing of it is stored.
    ok(upload(manager, "Pepper network notes", "Capsicum network notes.", "network"), 201)
    refused = upload(manager, "Pepper without terms", GUIDE, "partners", licence="")
    assert refused.status_code == 422 and "licence" in refused.text
    assert [
        h["title"] for h in ok(manager.get("/api/knowledge/documents", params={"q": "without terms"}))["hits"]
    ] == []

    # Uploaded at "partners"; raised to "partners" by an edit; a new version of a partners' document.
    guide = ok(upload(manager, "Pepper preparations guidebook", GUIDE, "partners"), 201)
    draft = ok(upload(manager, "Pepper seminar paper", "Seminar on capsicum oleoresin.", "laboratory"), 201)
    raised = {"row_version": draft["row_version"], "sharing": "partners"}
    ok(manager.patch(f"/api/knowledge/documents/{draft['id']}", json=raised))
    second = {
        "file": ("guide-v2.txt", (GUIDE + "Revised: mixtures of 0904 and salt.\n").encode(), "text/plain")
    }
    path = f"/api/knowledge/documents/{guide['id']}/versions"
    ok(manager.post(path, files=second, data={"note": "revised"}), 201)

    eventually(lambda: delivered(rcl))
    found = {(c["title"], c["version"]) for c in shared(member, "pepper")}
    assert found == {
        ("Pepper preparations guidebook", "1"),
        ("Pepper preparations guidebook", "2"),
        ("Pepper seminar paper", "1"),
    }
    assert shared(member, "network notes") == []
    assert {m["stream"].split("@")[0] for m in outbox(rcl)} == {
        f"knowledge/document/RCL-JP/{guide['id']}",
        f"knowledge/document/RCL-JP/{draft['id']}",
    }

    # The copy holds the metadata and the extracted text (not the file), under the document's licence.
    (latest,) = [c for c in shared(member, "guidebook") if c["version"] == "2"]
    assert (latest["partner_code"], latest["author_lab"], latest["licence"]) == ("JPC", "RCL-JP", "CC-BY-4.0")
    copy = ok(member.admin().get(f"/api/federation/shared/{latest['id']}"))
    content = copy["content"]
    assert "고추를 분쇄한 조제품" in content["text"] and "Revised" in content["text"]
    assert (content["kind"], content["hs_codes"], content["filename"]) == (
        "guidebook",
        ["0904", "2103.90"],
        "guide-v2.txt",
    )
    assert content["text_cut"] is False and "data" not in content
    assert not ok(member.admin().get("/api/federation/refusals"))
