"""The whole story through the HTTP API of a real server, as different users, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.entrypoints.api.app import create_app
from tests.factories import PASSWORD, Network, make_network, request_data, rum_result
from tests.integration.conftest import bearer_client, serving

UPLOAD_LIMIT = 50_000


@pytest.fixture
def server(database: Database, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    settings = Settings(
        mode="test",
        database_url=database.url,
        file_store=tmp_path / "files",
        max_upload_bytes=UPLOAD_LIMIT,
    )
    app = create_app(settings, db=database)
    with serving(app) as base:
        yield base, app.state.uow_factory


def _client(base: str, net: Network, who: str) -> httpx.Client:
    return bearer_client(base, net[who].username, PASSWORD)


def test_the_whole_story_through_the_api_and_an_unrelated_lab_sees_none_of_it(server: tuple[str, Any]):
    base, uow_factory = server
    net = make_network(uow_factory)
    officer, local, central = _client(base, net, "officer"), _client(base, net, "local_manager"), None
    r = officer.post("/api/requests", json=request_data(net))
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    sample = local.post(
        f"/api/requests/{request_id}/samples", json={"quantity": "700", "unit": "mL", "seal_number": "S-1"}
    )
    assert sample.status_code == 201, sample.text
    sid = sample.json()["id"]
    assert local.post(
        f"/api/samples/{sid}/receive", json={"seal_intact": True, "storage_location": "F2"}
    ).is_success
    ref = local.post(f"/api/samples/{sid}/refer", json={"to_lab": net.central, "reason": "GC-MS needed"})
    assert ref.status_code == 201 and ref.json()["kind"] == "local_to_central"

    central = _client(base, net, "central_manager")
    queue = central.get("/api/queue", params={"priority": "urgent"}).json()
    assert sid in [i["id"] for i in queue["items"]]
    assert central.post(f"/api/samples/{sid}/receive", json={"seal_intact": True}).is_success
    analyst = _client(base, net, "analyst")
    test = central.post(
        f"/api/samples/{sid}/tests",
        json={
            "determination": "alcoholic strength",
            "method_ref": "KCL-M-022",
            "analyst_id": net["analyst"].user_id,
        },
    ).json()
    result = analyst.post(f"/api/tests/{test['id']}/results", json=rum_result("40.3"))
    assert result.status_code == 201, result.text
    upload = analyst.post(
        f"/api/tests/{test['id']}/files", files={"file": ("density.csv", b"t,rho\n20,0.948\n", "text/csv")}
    )
    assert upload.status_code == 201 and len(upload.json()["sha256"]) == 64
    assert analyst.post(f"/api/tests/{test['id']}/submit").is_success
    reviewer = _client(base, net, "reviewer")
    approved = reviewer.post(f"/api/tests/{test['id']}/review", json={"approve": True})
    assert approved.json()["sample_state"] == "approved"

    seen = officer.get(f"/api/requests/{request_id}").json()
    released = seen["samples"][0]["tests"][0]
    assert released["results"][0]["value"] == "40.3" and released["results"][0]["unit"] == "%vol"

    outsider = _client(base, net, "outsider")
    for path in (f"/api/requests/{request_id}", f"/api/samples/{sid}", f"/api/samples/{sid}/history"):
        r = outsider.get(path)
        assert r.status_code == 404, path
        assert "alcohol" not in r.text
    assert (
        outsider.post(f"/api/tests/{test['id']}/results", json={"value": "1", "unit": "%"}).status_code == 404
    )
    assert outsider.post(f"/api/tests/{test['id']}/files", files={"file": ("x.txt", b"x")}).status_code == 404

    assert officer.post("/api/auth/logout").status_code == 204
    assert officer.get(f"/api/requests/{request_id}").status_code == 401


@pytest.fixture
def lab(server: tuple[str, Any]) -> tuple[Network, dict[str, httpx.Client], int, int]:
    base, uow_factory = server
    net = make_network(uow_factory)
    clients = {w: _client(base, net, w) for w in ("officer", "local_manager", "local_analyst")}
    req = clients["officer"].post("/api/requests", json=request_data(net)).json()
    s = (
        clients["local_manager"]
        .post(f"/api/requests/{req['id']}/samples", json={"quantity": "1", "unit": "kg"})
        .json()
    )
    clients["local_manager"].post(f"/api/samples/{s['id']}/receive", json={})
    t = (
        clients["local_manager"]
        .post(f"/api/samples/{s['id']}/tests", json={"determination": "d", "method_ref": "m"})
        .json()
    )
    return net, clients, s["id"], t["id"]


@pytest.mark.parametrize(
    ("field", "value", "status", "message"),
    [
        ("declared_hs", "22.08.4", 422, "6 to 10 digits"),
        # Well formed, but naming what the loaded nomenclature does not hold: not found.
        ("declared_hs", "77010000", 404, "chapter 77 does not exist"),
        ("declared_hs", "22990000", 404, "heading 22.99 does not exist"),
        ("origin_country", "ZZ", 422, "ISO 3166"),
        ("currency", "EUX", 422, "ISO 4217"),
        ("reason", "curiosity", 422, "not a valid reason"),
        ("lab_code", "NO-SUCH-LAB", 404, "There is no laboratory 'NO-SUCH-LAB'"),
    ],
)
def test_invalid_declaration_data_gets_a_clear_4xx(
    server: tuple[str, Any], field: str, value: str, status: int, message: str
):
    base, uow_factory = server
    net = make_network(uow_factory)
    officer = _client(base, net, "officer")
    r = officer.post("/api/requests", json=request_data(net, **{field: value}))
    assert r.status_code == status, r.text
    assert message in r.json()["error"]
    assert r.json()["field"] == field


def test_bad_requests_get_clear_errors_never_a_500(lab: tuple[Network, dict[str, httpx.Client], int, int]):
    _net, c, sid, tid = lab
    manager, analyst = c["local_manager"], c["local_analyst"]
    bad_json = manager.post(
        f"/api/samples/{sid}/receive", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 422 and "JSON" in bad_json.json()["error"]
    illegal = manager.post(f"/api/samples/{sid}/receive", json={})
    assert illegal.status_code == 409 and "cannot become received" in illegal.json()["error"]
    empty = analyst.post(f"/api/tests/{tid}/files", files={"file": ("empty.txt", b"", "text/plain")})
    assert empty.status_code == 422 and "empty" in empty.json()["error"]
    big = analyst.post(f"/api/tests/{tid}/files", files={"file": ("big.bin", b"x" * (UPLOAD_LIMIT + 1))})
    assert big.status_code == 422 and "limit" in big.json()["error"]
    huge = analyst.post(
        f"/api/tests/{tid}/files", files={"file": ("huge.bin", b"x" * (UPLOAD_LIMIT + 200_000))}
    )
    assert huge.status_code == 413
    detail = manager.get(f"/api/samples/{sid}").json()
    assert detail["tests"][0]["attachments"] == []
    no_unit = analyst.post(f"/api/tests/{tid}/results", json={"value": "3.1"})
    assert no_unit.status_code == 422 and "unit" in no_unit.json()["error"]
    not_a_number = analyst.post(f"/api/tests/{tid}/results", json={"value": "lots", "unit": "%"})
    assert not_a_number.status_code == 422
    forbidden = manager.post(f"/api/tests/{tid}/results", json={"value": "1", "unit": "%"})
    assert forbidden.status_code == 403
    assert manager.get("/api/samples/999999999").status_code == 404
    assert httpx.get(f"{manager.base_url}/api/queue").status_code == 401


def test_the_hs_routes_search_show_and_evaluate(server: tuple[str, Any]):
    base, uow_factory = server
    net = make_network(uow_factory)
    analyst = _client(base, net, "analyst")
    hits = analyst.get("/api/hs/search", params={"q": "rum"}).json()
    assert hits[0]["code"] == "2208"
    node = analyst.get("/api/hs/codes/2208").json()
    assert "220840" in [c["code"] for c in node["children"]]
    out = analyst.post(
        "/api/hs/evaluate", json={"declared": "220710", "results": ["alcohol_strength=40%vol±0.3"]}
    )
    assert out.status_code == 200 and out.json()["determined"] == ["220890"]
    assert (out.json()["mismatch"], out.json()["level"]) == ("heading", "")
    # A rum stays a rum whatever its strength, but the only rule (Chapter 22 Note 3: 22.03 to 22.06 or 22.08)
    # confirms only chapter 22, not its heading or subheading.
    rum = analyst.post(
        "/api/hs/evaluate", json={"declared": "220840", "results": ["alcohol_strength=85%vol±0.3"]}
    ).json()
    assert (rum["determined"], rum["decided"], rum["level"], rum["open_levels"]) == (
        ["220840"],
        ["22"],
        "chapter",
        ["heading", "subheading"],
    )
    bad = analyst.post("/api/hs/evaluate", json={"declared": "220840", "results": ["alcohol_strength=lots"]})
    assert bad.status_code == 422
    assert bad.json()["error"] == "alcohol_strength is a measured quantity; give a value and unit, not 'lots'"
    garbled = analyst.post("/api/hs/evaluate", json={"declared": "220840", "results": ["strength 40"]})
    assert garbled.status_code == 422 and "NAME=VALUE" in garbled.json()["error"]
    assert analyst.get("/api/hs/codes/7799").status_code == 404
