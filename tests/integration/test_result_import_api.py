"""Instrument result import over the JSON API: mappings kept by the laboratory manager, an export
previewed and committed with its fingerprint, and every refusal a clear 4xx with nothing written."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Network, assigned_test, received_sample
from tests.integration.conftest import signed_in
from tests.result_import_support import ICPMS, XRF, export, mapping_body, renamed

Api = tuple[TestClient, Network]


def _case(client: TestClient, net: Network) -> tuple[dict[str, str], int, bytes, list[int]]:
    """The analyst's headers, the central laboratory's ICP-MS mapping, the export naming two of its
    samples, and their tests."""
    uow = client.app.state.uow_factory  # type: ignore[attr-defined]
    ids, tests = {}, []
    for name in ("KCS-CCL-2026-00117", "KCS-CCL-2026-00118"):
        sample = received_sample(uow, net)
        ids[name] = sample.lab_sample_id
        tests.append(assigned_test(uow, net, sample.id, determination="Trace metals", method_ref="ICP-MS").id)
    manager = signed_in(client, net, "central_manager")
    made = client.post("/api/instrument-mappings", json=mapping_body(ICPMS), headers=manager)
    assert made.status_code == 201, made.text
    return signed_in(client, net, "analyst"), made.json()["id"], renamed(ICPMS, ids), tests


def _results(client: TestClient, tests: list[int]) -> int:
    uow = client.app.state.uow_factory()  # type: ignore[attr-defined]
    with uow:
        return sum(len(uow.repo.test(t).results) for t in tests)


def _upload(content: bytes, name: str = ICPMS) -> dict[str, Any]:
    return {"file": (name, content, "text/csv")}


def test_the_api_previews_then_commits_exactly_the_previewed_rows(api: Api) -> None:
    client, net = api
    analyst, mapping_id, content, tests = _case(client, net)
    preview = client.post(
        "/api/results/import/preview",
        data={"mapping_id": str(mapping_id)},
        files=_upload(content),
        headers=analyst,
    )
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert len(shown["rows"]) == 8 and {r["test_id"] for r in shown["rows"]} == set(tests)
    assert {s["reason"] for s in shown["skipped"]} == {"excluded", "unknown_sample"}
    assert shown["file_format"] == "csv" and len(shown["fingerprint"]) == 64
    assert _results(client, tests) == 0, "a preview writes nothing"

    done = client.post(
        "/api/results/import",
        data={"mapping_id": str(mapping_id), "fingerprint": shown["fingerprint"]},
        files=_upload(content),
        headers=analyst,
    )
    assert done.status_code == 201, done.text
    assert done.json()["written"] == 8 and done.json()["tests"] == sorted(tests)
    assert _results(client, tests) == 8


def test_a_commit_with_a_stale_fingerprint_is_a_409_and_a_bad_unit_a_422_naming_the_line(api: Api) -> None:
    client, net = api
    analyst, mapping_id, content, _ = _case(client, net)
    stale = client.post(
        "/api/results/import",
        data={"mapping_id": str(mapping_id), "fingerprint": "0" * 64},
        files=_upload(content),
        headers=analyst,
    )
    assert stale.status_code == 409 and stale.json()["field"] == "fingerprint"
    bad = content.replace(b"He,8.31,mg/kg", b"He,8.31,mg/kilo")
    refused = client.post(
        "/api/results/import/preview",
        data={"mapping_id": str(mapping_id)},
        files=_upload(bad),
        headers=analyst,
    )
    assert refused.status_code == 422
    assert refused.json() == {
        "error": refused.json()["error"],
        "field": "file",
    } and refused.json()["error"].startswith("Line 21: the unit 'mg/kilo' is not a unit")


def test_hostile_uploads_are_refused_with_a_clear_422(api: Api) -> None:
    client, net = api
    analyst, mapping_id, _, _ = _case(client, net)
    for content, said in (
        (b"", "empty"),
        (b"\x00\x01\x02\x03garbage", "neither text"),
        (export(XRF), "names the columns"),  # a workbook of another instrument: wrong columns
        (b"x" * (5 * 1024 * 1024 + 1), "larger than 5 MB"),
    ):
        answer = client.post(
            "/api/results/import/preview",
            data={"mapping_id": str(mapping_id)},
            files=_upload(content, "export.bin"),
            headers=analyst,
        )
        assert answer.status_code == 422 and said in answer.json()["error"], (said, answer.text)


def test_mappings_are_kept_by_the_laboratory_manager_and_read_by_its_staff(api: Api) -> None:
    client, net = api
    analyst = signed_in(client, net, "analyst")
    refused = client.post("/api/instrument-mappings", json=mapping_body(XRF), headers=analyst)
    assert refused.status_code == 403
    manager = signed_in(client, net, "central_manager")
    made = client.post("/api/instrument-mappings", json=mapping_body(XRF), headers=manager).json()
    again = client.post("/api/instrument-mappings", json=mapping_body(XRF), headers=manager)
    assert again.status_code == 409 and again.json()["field"] == "instrument_model"
    wrong = client.post(
        "/api/instrument-mappings", json=mapping_body(XRF, analyte_columns=[]), headers=manager
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "analyte_columns"
    edited = client.put(
        f"/api/instrument-mappings/{made['id']}",
        json=mapping_body(XRF, test_hint="XRF fused bead"),
        headers=manager,
    )
    assert edited.status_code == 200 and edited.json()["test_hint"] == "XRF fused bead"
    listed = client.get("/api/instrument-mappings", headers=analyst).json()
    assert [m["id"] for m in listed["mappings"]] == [made["id"]] and listed["may_manage"] is False
    assert client.get(f"/api/instrument-mappings/{made['id']}", headers=analyst).status_code == 200
    outsider = signed_in(client, net, "outsider")
    assert client.get(f"/api/instrument-mappings/{made['id']}", headers=outsider).status_code == 404


def test_every_import_route_needs_a_signed_in_user(api: Api) -> None:
    client, _ = api
    for method, path in (
        ("get", "/api/instrument-mappings"),
        ("post", "/api/instrument-mappings"),
        ("get", "/api/instrument-mappings/1"),
        ("put", "/api/instrument-mappings/1"),
        ("post", "/api/results/import/preview"),
        ("post", "/api/results/import"),
    ):
        assert getattr(client, method)(path).status_code == 401, path
