"""A member administration without a laboratory serves itself: it registers and seals its sample, refers it
to a Regional Customs Laboratory of another administration, follows it there and downloads the report."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customslab.adapters.uow import Database
from customslab.domain.enums import CustodyKind, Role
from customslab.domain.model import DECLARATION_FIELDS
from customslab.services.quality_ports import IssuedReport
from tests.factories import PASSWORD, request_data
from tests.integration.member_support import (
    World,
    a_world,
    add_user,
    analyse_at_the_rcl,
    bearer,
    ok,
    registered_at_the_central,
)

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(database: Database, tmp_path: Path) -> Iterator[World]:
    with a_world(database, tmp_path) as w:
        yield w


def _file_to_the_focal_point(world: World, who: str = "focal_point") -> int:
    client, net, _ = world
    data = request_data(net, lab_code=net.member, importer="Druk Trading", currency="USD")
    return int(ok(client.post("/api/requests", json=data, headers=bearer(client, net, who)), 201)["id"])


def test_a_member_registers_seals_refers_to_an_rcl_follows_it_and_downloads_the_report(world: World):
    client, net, uow_factory = world
    fp = bearer(client, net, "focal_point")
    request_id = _file_to_the_focal_point(world)
    sample = ok(
        client.post(
            f"/api/requests/{request_id}/samples",
            json={"quantity": "500", "unit": "mL", "seal_number": "BT-0001"},
            headers=fp,
        ),
        201,
    )
    sid = sample["id"]
    assert sample["lab_code"] == net.member and sample["state"] == "registered"
    courier = {
        "kind": "hand_over",
        "from": net.member,
        "to": "courier",
        "seal_number": "BT-0001",
        "seal_intact": True,
        "note": "sealed parcel to the courier",
    }
    ok(client.post(f"/api/samples/{sid}/custody", json=courier, headers=fp), 201)
    referral = ok(
        client.post(
            f"/api/samples/{sid}/refer",
            json={
                "to_lab": net.rcl,
                "reason": "no laboratory in the administration",
                "seal_number": "BT-0002",
            },
            headers=fp,
        ),
        201,
    )
    assert referral["kind"] == "member_to_rcl" and referral["to_lab"] == net.rcl

    followed = ok(client.get(f"/api/samples/{sid}", headers=fp))
    assert followed["lab_code"] == net.rcl and followed["state"] == "registered"
    assert followed["seal_number"] == "BT-0002" and followed["request"]["importer"] == "Druk Trading"
    kinds = [e["kind"] for e in followed["custody"]]
    assert kinds == [CustodyKind.REGISTERED, CustodyKind.HAND_OVER, CustodyKind.REFERRAL_DISPATCH]

    rcl = bearer(client, net, "rcl_manager")
    assert sid in [s["id"] for s in ok(client.get("/api/queue", headers=rcl))["items"]]
    at_rcl = ok(client.get(f"/api/samples/{sid}", headers=rcl))
    assert at_rcl["request"]["withheld"] == list(DECLARATION_FIELDS)
    assert at_rcl["request"]["importer"] is None and at_rcl["request"]["goods_description"]

    # The focal point releases the officer's question to the RCL's administration, and only that.
    release = {"administration_code": net.rcl_administration, "fields": ["question"], "reason": "method"}
    ok(client.post(f"/api/requests/{request_id}/releases", json=release, headers=fp), 201)
    at_rcl = ok(client.get(f"/api/samples/{sid}", headers=rcl))["request"]
    assert at_rcl["question"] == "Is this rum of heading 2208?" and at_rcl["importer"] is None

    report_id = analyse_at_the_rcl(client, net, sid, "BT-0002")

    assert ok(client.get(f"/api/samples/{sid}", headers=fp))["state"] == "reported"
    assert [r["id"] for r in ok(client.get(f"/api/samples/{sid}/reports", headers=fp))] == [report_id]
    pdf = client.get(f"/api/reports/{report_id}/pdf", headers=fp)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    result = ok(client.get(f"/api/requests/{request_id}", headers=fp))["samples"][0]["tests"][0]["results"][0]
    assert result["value"] == "40.1"
    assert request_id in [r["id"] for r in ok(client.get("/api/requests", headers=fp))["items"]]
    # The RCL printed what it could read of the declaration: nothing was released to it.
    uow = uow_factory()
    with uow:
        (issued,) = uow.quality.find(IssuedReport, sample_id=sid)
        assert "withheld by the sending administration" in issued.data.customer.reference
        assert "Druk" not in str(issued.data)


def test_the_focal_point_registers_the_sample_of_a_request_its_officer_filed(world: World):
    client, net, _ = world
    request_id = _file_to_the_focal_point(world, "member_officer")
    fp, officer = bearer(client, net, "focal_point"), bearer(client, net, "member_officer")
    assert request_id in [r["id"] for r in ok(client.get("/api/requests", headers=fp))["items"]]
    body = {"quantity": "1", "unit": "kg"}
    refused = client.post(f"/api/requests/{request_id}/samples", json=body, headers=officer)
    assert refused.status_code == 403
    sample = ok(client.post(f"/api/requests/{request_id}/samples", json=body, headers=fp), 201)
    assert sample["lab_code"] == net.member
    refer = {"to_lab": net.rcl, "reason": "analysis"}
    assert client.post(f"/api/samples/{sample['id']}/refer", json=refer, headers=officer).status_code == 403
    assert ok(client.get(f"/api/requests/{request_id}", headers=officer))["samples"][0]["id"] == sample["id"]


def test_a_supervisor_lists_the_requests_of_the_office_and_an_officer_only_their_own(world: World):
    client, net, uow_factory = world
    add_user(uow_factory, net, "supervisor", net.office, [Role.SUPERVISOR])
    filed = ok(
        client.post("/api/requests", json=request_data(net), headers=bearer(client, net, "officer")), 201
    )
    supervisor = ok(client.get("/api/requests", headers=bearer(client, net, "supervisor")))
    assert filed["id"] in [r["id"] for r in supervisor["items"]]
    colleague = ok(client.get("/api/requests", headers=bearer(client, net, "officer_b")))
    assert filed["id"] not in [r["id"] for r in colleague["items"]]


def test_the_focal_point_cannot_receive_nor_touch_a_sample_once_it_left_for_the_rcl(world: World):
    client, net, _ = world
    fp = bearer(client, net, "focal_point")
    request_id = _file_to_the_focal_point(world)
    sample = ok(
        client.post(f"/api/requests/{request_id}/samples", json={"quantity": "1", "unit": "kg"}, headers=fp),
        201,
    )
    sid = sample["id"]
    receipt = client.post(f"/api/samples/{sid}/receive", json={}, headers=fp)
    assert receipt.status_code == 403 and "receive a sample" in receipt.json()["error"]
    ok(
        client.post(f"/api/samples/{sid}/refer", json={"to_lab": net.rcl, "reason": "analysis"}, headers=fp),
        201,
    )
    again = client.post(f"/api/samples/{sid}/refer", json={"to_lab": net.rcl, "reason": "again"}, headers=fp)
    assert again.status_code == 409 and net.rcl in again.json()["error"]
    custody = client.post(f"/api/samples/{sid}/custody", json={"kind": "transport"}, headers=fp)
    assert custody.status_code == 409
    history = ok(client.get(f"/api/samples/{sid}", headers=fp))["custody"]
    assert [e["kind"] for e in history] == ["registered", "referral_dispatch"]


def test_the_focal_point_does_not_read_the_rcls_results_before_approval(world: World):
    """A member is the RCL's customer: not its audit history, unapproved values or draft opinions."""
    client, net, _ = world
    fp, manager = bearer(client, net, "focal_point"), bearer(client, net, "rcl_manager")
    request_id = _file_to_the_focal_point(world)
    body = {"quantity": "1", "unit": "kg"}
    sid = ok(client.post(f"/api/requests/{request_id}/samples", json=body, headers=fp), 201)["id"]
    refer = {"to_lab": net.rcl, "reason": "analysis"}
    ok(client.post(f"/api/samples/{sid}/refer", json=refer, headers=fp), 201)
    ok(client.post(f"/api/samples/{sid}/receive", json={}, headers=manager))
    plan = {
        "determination": "alcoholic strength",
        "method_ref": "M-1",
        "analyst_id": net["rcl_analyst"].user_id,
    }
    test = ok(client.post(f"/api/samples/{sid}/tests", json=plan, headers=manager), 201)
    result = {"name": "alcohol_strength", "value": "37.77", "unit": "%vol"}
    ok(
        client.post(
            f"/api/tests/{test['id']}/results", json=result, headers=bearer(client, net, "rcl_analyst")
        ),
        201,
    )
    history = client.get(f"/api/samples/{sid}/history", headers=fp)
    assert history.status_code == 403 and "37.77" not in history.text
    evaluation = ok(client.get(f"/api/samples/{sid}/hs-evaluation", headers=fp))
    assert evaluation["measurements_used"] == 0 and "37.77" not in str(evaluation)
    assert "37.77" in client.get(f"/api/samples/{sid}/history", headers=manager).text
    staff_view = ok(client.get(f"/api/samples/{sid}/hs-evaluation", headers=manager))
    assert staff_view["measurements_used"] == 1


def test_a_laboratory_still_refers_only_a_sample_it_has_received(world: World):
    client, net, _ = world
    _, sid = registered_at_the_central(client, net)
    central = bearer(client, net, "central_manager")
    r = client.post(f"/api/samples/{sid}/refer", json={"to_lab": net.rcl, "reason": "x"}, headers=central)
    assert r.status_code == 422 and "Only a received sample can be referred" in r.json()["error"]


def test_a_focal_point_cannot_register_a_sample_on_a_request_sent_to_a_laboratory(world: World):
    client, net, _ = world
    officer = bearer(client, net, "officer")
    req = ok(client.post("/api/requests", json=request_data(net, lab_code=net.rcl), headers=officer), 201)
    fp = bearer(client, net, "focal_point")
    r = client.post(f"/api/requests/{req['id']}/samples", json={"quantity": "1", "unit": "L"}, headers=fp)
    assert r.status_code == 404


# -- the same story through the pages ---------------------------------------------------------------


def _csrf(client: TestClient, path: str) -> str:
    match = TOKEN.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def test_the_focal_point_does_it_all_through_the_pages(world: World):
    client, net, _ = world
    login = {"username": net["focal_point"].username, "password": PASSWORD, "next": "/"}
    signed = client.post(
        "/login", data=login | {"csrf_token": _csrf(client, "/login")}, follow_redirects=False
    )
    assert signed.status_code == 303
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/requests"
    assert 'href="/requests/new"' in client.get("/requests").text
    form = client.get("/requests/new").text
    assert f'value="{net.member}"' in form and f'value="{net.rcl}"' in form

    def post(path: str, data: dict[str, Any]) -> Any:
        token = _csrf(client, "/requests")
        return client.post(path, data=data | {"csrf_token": token}, follow_redirects=False)

    filed = request_data(net, lab_code=net.member, importer="Druk Trading")
    filed["requested_determinations"] = "alcoholic strength"
    r = post("/requests/new", filed)
    assert r.status_code == 303, r.text
    request_page = r.headers["location"]
    page = client.get(request_page).text
    assert "Register the sample" in page and "Druk Trading" in page
    r = post(f"{request_page}/samples", {"quantity": "250", "unit": "g", "seal_number": "BT-7"})
    sample_page = r.headers["location"]
    page = client.get(sample_page).text
    assert "Refer to another laboratory" in page and "Record a custody event" in page
    assert "Record receipt" not in page
    assert page.index(f'value="{net.rcl}"') < page.index(f'value="{net.central}"')  # RCLs first
    r = post(f"{sample_page}/custody", {"kind": "transport", "to": "courier", "seal_intact": "yes"})
    assert r.status_code == 303
    r = post(f"{sample_page}/refer", {"to_lab": net.rcl, "reason": "no laboratory", "seal_number": "BT-8"})
    assert r.headers["location"] == sample_page
    page = client.get(sample_page).text
    assert net.rcl in page and "BT-8" in page and "Refer to another laboratory" not in page

    sid = int(sample_page.rsplit("/", 1)[1])
    report_id = analyse_at_the_rcl(client, net, sid, "BT-8")
    page = client.get(sample_page).text
    assert f'href="/reports/{report_id}.pdf"' in page
    pdf = client.get(f"/reports/{report_id}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
