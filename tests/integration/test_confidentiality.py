"""Declaration data stays inside its administration: a referral or share to another administration carries a
redacted view, the sender releases fields one by one, and each release is in the audit trail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customslab.adapters.uow import Database
from customslab.domain.model import DECLARATION_FIELDS
from customslab.services import queries
from customslab.services.ports import QueueFilter
from customslab.services.quality_ports import IssuedReport
from tests.factories import PASSWORD, Network, request_data
from tests.integration.member_support import (
    World,
    a_world,
    analyse_and_report,
    analyse_at_the_rcl,
    bearer,
    ok,
    registered_at_the_central,
)

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
DECLARATION = {
    "declaration_number": "41234-26-7700001",
    "item_number": 3,
    "importer": "Hanbit Trading",
    "declared_value": "12000",
    "currency": "USD",
    "question": "Is this rum of heading 2208?",
}
#: What travels with a referral to another administration, released or not.
CASE = {
    "goods_description": "Rum in 700 mL bottles",
    "declared_hs": "220840",
    "origin_country": "JM",
    "requested_determinations": ["alcoholic strength"],
}


@pytest.fixture
def world(database: Database, tmp_path: Path) -> Iterator[World]:
    with a_world(database, tmp_path) as w:
        yield w


def _referred_to_the_rcl(client: TestClient, net: Network, **declaration: Any) -> tuple[int, int]:
    """A Korean officer's request to the central laboratory, received there and referred to the RCL of
    another administration under seal KR-77: (request id, sample id)."""
    officer, central = bearer(client, net, "officer"), bearer(client, net, "central_manager")
    data = request_data(net, lab_code=net.central, **(DECLARATION | declaration))
    req = ok(client.post("/api/requests", json=data, headers=officer), 201)
    body = {"quantity": "700", "unit": "mL", "seal_number": "KR-77"}
    sample = ok(client.post(f"/api/requests/{req['id']}/samples", json=body, headers=central), 201)
    ok(client.post(f"/api/samples/{sample['id']}/receive", json={"storage_location": "F1"}, headers=central))
    refer = {"to_lab": net.rcl, "reason": "second opinion on the classification"}
    ok(client.post(f"/api/samples/{sample['id']}/refer", json=refer, headers=central), 201)
    return req["id"], sample["id"]


def _release(client: TestClient, net: Network, request_id: int, who: str, **body: Any) -> Any:
    data = {"administration_code": net.rcl_administration, "fields": ["importer"], "reason": "ruling"} | body
    return client.post(f"/api/requests/{request_id}/releases", json=data, headers=bearer(client, net, who))


def test_the_receiving_rcl_sees_the_case_but_not_the_declaration_until_a_field_is_released(world: World):
    client, net, uow_factory = world
    request_id, sid = _referred_to_the_rcl(client, net)
    rcl = bearer(client, net, "rcl_manager")

    for view in (
        ok(client.get(f"/api/requests/{request_id}", headers=rcl)),
        ok(client.get(f"/api/samples/{sid}", headers=rcl))["request"],
    ):
        assert {k: view[k] for k in CASE} == CASE
        assert view["withheld"] == list(DECLARATION_FIELDS)
        assert all(view[f] is None for f in DECLARATION_FIELDS)
    sample = ok(client.get(f"/api/samples/{sid}", headers=rcl))
    assert sample["seal_number"] == "KR-77" and sample["quantity"] == "700"
    assert [e["kind"] for e in sample["custody"]] == ["registered", "receipt", "referral_dispatch"]
    detail = client.get(f"/api/samples/{sid}", headers=rcl).text
    assert "Hanbit" not in detail and "41234-26" not in detail and "12000" not in detail

    released = ok(_release(client, net, request_id, "central_manager", reason="the RCL rules on origin"), 201)
    assert [(r["field_name"], r["administration_code"]) for r in released] == [
        ("importer", net.rcl_administration)
    ]

    after = ok(client.get(f"/api/samples/{sid}", headers=rcl))["request"]
    assert after["importer"] == "Hanbit Trading"
    assert after["withheld"] == [f for f in DECLARATION_FIELDS if f != "importer"]
    assert after["declaration_number"] is None and after["declared_value"] is None
    assert after["question"] is None and after["item_number"] is None

    # The sending administration still reads everything; so does the officer.
    mine = ok(client.get(f"/api/requests/{request_id}", headers=bearer(client, net, "officer")))
    assert mine["withheld"] == [] and mine["declaration_number"] == DECLARATION["declaration_number"]

    uow = uow_factory()
    with uow:
        (entry,) = uow.repo.audit_for("declaration_releases", str(released[0]["id"]))
        assert entry.action == "create" and entry.reason == "the RCL rules on origin"
        assert entry.actor == net["central_manager"].username
        assert entry.changes["field_name"] == {"after": "importer"}


def test_the_release_rules_refuse_with_a_clear_4xx_and_write_nothing(world: World):
    client, net, uow_factory = world
    request_id, _ = _referred_to_the_rcl(client, net)
    ok(_release(client, net, request_id, "central_manager"), 201)

    again = _release(client, net, request_id, "central_manager", fields=["declared_value", "importer"])
    assert again.status_code == 409 and "importer" in again.json()["error"]
    cases = [
        ("officer", {}, 403),  # an officer may not release
        ("rcl_manager", {}, 403),  # the receiving administration sees the request but cannot release
        ("outsider", {}, 404),  # a laboratory that does not see the request
        ("central_manager", {"administration_code": net.home}, 422),  # its own administration
        ("central_manager", {"administration_code": "NO-SUCH"}, 404),
        ("central_manager", {"fields": ["tariff_secret"]}, 422),
        ("central_manager", {"fields": []}, 422),
        ("central_manager", {"reason": ""}, 422),
    ]
    for who, body, status in cases:
        r = _release(client, net, request_id, who, **({"fields": ["currency"]} | body))
        assert r.status_code == status, (who, body, r.text)
    # A laboratory of the same administration the sample was only shared with is not the sender.
    sample_id = ok(client.get(f"/api/requests/{request_id}", headers=bearer(client, net, "reviewer")))[
        "samples"
    ][0]["id"]
    share = {"org_code": net.other_lab, "note": "second opinion"}
    ok(
        client.post(
            f"/api/samples/{sample_id}/share", json=share, headers=bearer(client, net, "rcl_manager")
        ),
        201,
    )
    shared_with = _release(client, net, request_id, "outsider", fields=["currency"])
    assert shared_with.status_code == 403 and "filed request" in shared_with.json()["error"], shared_with.text
    listed = ok(client.get(f"/api/requests/{request_id}/releases", headers=bearer(client, net, "reviewer")))
    assert [r["field_name"] for r in listed] == ["importer"]
    uow = uow_factory()
    with uow:
        assert [r.field_name for r in uow.repo.releases_for(request_id)] == ["importer"]


def test_another_administration_lists_only_the_releases_made_to_it(world: World):
    client, net, _ = world
    request_id, _ = _referred_to_the_rcl(client, net)
    ok(_release(client, net, request_id, "central_manager", fields=["currency"]), 201)
    ok(
        _release(client, net, request_id, "central_manager", administration_code=net.member_administration),
        201,
    )
    seen = ok(client.get(f"/api/requests/{request_id}/releases", headers=bearer(client, net, "rcl_manager")))
    assert [(r["field_name"], r["administration_code"]) for r in seen] == [
        ("currency", net.rcl_administration)
    ]
    all_of_them = client.get(f"/api/requests/{request_id}/releases", headers=bearer(client, net, "officer"))
    assert len(all_of_them.json()) == 2
    assert (
        client.get(
            f"/api/requests/{request_id}/releases", headers=bearer(client, net, "outsider")
        ).status_code
        == 404
    )


def test_the_rcl_coordinator_of_another_administration_gets_404_on_a_domestic_request(world: World):
    client, net, _ = world
    request_id, sid = registered_at_the_central(client, net)
    coordinator = bearer(client, net, "coordinator")
    for path in (
        f"/api/requests/{request_id}",
        f"/api/samples/{sid}",
        f"/api/requests/{request_id}/releases",
    ):
        r = client.get(path, headers=coordinator)
        assert r.status_code == 404, path
        assert "Hanbit" not in r.text
    assert request_id not in [i["id"] for i in ok(client.get("/api/requests", headers=coordinator))["items"]]


def test_a_foreign_laboratory_cannot_find_a_declaration_number_by_searching_its_queue(world: World):
    client, net, uow_factory = world
    request_id, sid = _referred_to_the_rcl(client, net, declaration_number="PROBE-555-0001")
    rcl = bearer(client, net, "rcl_manager")

    def found(text: str) -> list[int]:
        page = ok(client.get("/api/queue", params={"q": text}, headers=rcl))
        return [i["id"] for i in page["items"]]

    assert found("PROBE-555") == []
    assert found("Rum in 700") == [sid]  # the goods description travels with the referral
    ok(_release(client, net, request_id, "central_manager", fields=["declaration_number"]), 201)
    assert found("PROBE-555") == [sid]
    # Inside the sending administration the number is searchable as ever.
    officer, central = bearer(client, net, "officer"), bearer(client, net, "central_manager")
    data = request_data(net, lab_code=net.central, declaration_number="PROBE-555-0002")
    req = ok(client.post("/api/requests", json=data, headers=officer), 201)
    body = {"quantity": "1", "unit": "L"}
    at_home = ok(client.post(f"/api/requests/{req['id']}/samples", json=body, headers=central), 201)
    page = queries.lab_queue(uow_factory(), net["central_manager"], QueueFilter(text="probe-555"))
    assert [i.id for i in page.items] == [at_home["id"]]


def test_a_shared_report_that_prints_the_declaration_is_not_served_abroad_until_released(world: World):
    client, net, _ = world
    request_id, sid = registered_at_the_central(client, net)
    report = analyse_and_report(
        client,
        net,
        sid,
        manager="central_manager",
        analyst="analyst",
        reviewer="reviewer",
        method_ref="M",
        receipt={},
    )
    central, officer = bearer(client, net, "central_manager"), bearer(client, net, "officer")
    ok(client.post(f"/api/samples/{sid}/share", json={"org_code": net.rcl}, headers=central), 201)

    rcl = bearer(client, net, "rcl_manager")
    assert ok(client.get(f"/api/reports/{report['id']}", headers=rcl))["report_id"] == report["report_id"]
    refused = client.get(f"/api/reports/{report['id']}/pdf", headers=rcl)
    assert refused.status_code == 403 and "declaration_number" in refused.json()["error"]
    body = {"fields": ["declaration_number", "item_number"]}
    ok(_release(client, net, request_id, "central_manager", **body), 201)
    assert client.get(f"/api/reports/{report['id']}/pdf", headers=rcl).status_code == 200
    assert client.get(f"/api/reports/{report['id']}/pdf", headers=officer).status_code == 200


def test_the_rcl_report_prints_the_declaration_number_once_it_was_released(world: World):
    client, net, uow_factory = world
    request_id, sid = _referred_to_the_rcl(client, net)
    ok(
        _release(client, net, request_id, "central_manager", fields=["declaration_number", "item_number"]),
        201,
    )
    report_id = analyse_at_the_rcl(client, net, sid, "KR-77")
    uow = uow_factory()
    with uow:
        issued = uow.quality.get(IssuedReport, report_id)
        assert issued is not None
        assert f"declaration {DECLARATION['declaration_number']}, item 3" in issued.data.customer.reference
    pdf = client.get(f"/api/reports/{report_id}/pdf", headers=bearer(client, net, "officer"))
    assert pdf.status_code == 200


# -- the pages ------------------------------------------------------------------------------------------


def _sign_in(client: TestClient, net: Network, who: str) -> str:
    """Sign `who` in through the form; returns a CSRF token for the session."""

    def csrf(path: str) -> str:
        match = TOKEN.search(client.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    client.cookies.clear()
    data = {"username": net[who].username, "password": PASSWORD, "csrf_token": csrf("/login")}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    return csrf("/hs")


def test_the_pages_mark_withheld_fields_and_the_sender_releases_from_the_request_page(world: World):
    client, net, _ = world
    request_id, sid = _referred_to_the_rcl(client, net)

    _sign_in(client, net, "rcl_manager")
    for path in (f"/requests/{request_id}", f"/samples/{sid}"):
        page = client.get(path).text
        assert "withheld by the sending administration" in page, path
        assert "Hanbit" not in page and DECLARATION["declaration_number"] not in page
        assert "Rum in 700 mL bottles" in page
    assert "Release the chosen fields" not in client.get(f"/requests/{request_id}").text
    assert "Hanbit" not in client.get(f"/samples/{sid}/label").text

    token = _sign_in(client, net, "central_manager")
    page = client.get(f"/requests/{request_id}").text
    assert "Release the chosen fields" in page and f'value="{net.rcl_administration}"' in page
    assert "withheld by the sending administration" not in page
    form = {
        "administration_code": net.rcl_administration,
        "fields": ["importer", "question"],
        "reason": "the RCL needs the question",
        "csrf_token": token,
    }
    r = client.post(f"/requests/{request_id}/releases", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "the RCL needs the question" in client.get(f"/requests/{request_id}").text

    _sign_in(client, net, "rcl_manager")
    page = client.get(f"/requests/{request_id}").text
    assert "Hanbit Trading" in page and DECLARATION["question"] in page
    assert DECLARATION["declaration_number"] not in page and "withheld by the sending administration" in page
