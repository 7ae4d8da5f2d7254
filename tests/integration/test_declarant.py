"""The declarant (customs broker or agent) on a request: filed by form and API, shown to the officer, and
declaration data like the importer: withheld from another administration until released."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from customslab.adapters.uow import Database
from tests.factories import PASSWORD, request_data
from tests.integration.member_support import World, a_world, bearer, ok

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
BROKER = "Hana Customs Brokers"


@pytest.fixture
def world(database: Database, tmp_path: Path) -> Iterator[World]:
    with a_world(database, tmp_path) as w:
        yield w


def _csrf(client: TestClient, path: str) -> str:
    found = TOKEN.search(client.get(path).text)
    assert found, path
    return found.group(1)


def test_the_officer_files_a_declarant_by_the_form_and_reads_it_on_the_request(world: World) -> None:
    client, net, _ = world
    login = {"username": net["officer"].username, "password": PASSWORD, "next": "/"}
    assert client.post("/login", data=login | {"csrf_token": _csrf(client, "/login")}).status_code in (
        200,
        303,
    )
    form = request_data(net, declarant=BROKER)
    form |= {"requested_determinations": ", ".join(form["requested_determinations"])}
    form["csrf_token"] = _csrf(client, "/requests/new")
    assert 'name="declarant"' in client.get("/requests/new").text
    filed = client.post("/requests/new", data=form, follow_redirects=False)
    assert filed.status_code == 303, filed.text
    page = client.get(filed.headers["location"]).text
    assert "Declarant" in page and BROKER in page


def test_a_declarant_stays_in_its_administration_until_released(world: World) -> None:
    client, net, _ = world
    officer, central = bearer(client, net, "officer"), bearer(client, net, "central_manager")
    req = ok(
        client.post(
            "/api/requests", json=request_data(net, lab_code=net.central, declarant=BROKER), headers=officer
        ),
        201,
    )
    assert req["declarant"] == BROKER
    sample = ok(
        client.post(
            f"/api/requests/{req['id']}/samples", json={"quantity": "1", "unit": "L"}, headers=central
        ),
        201,
    )
    ok(client.post(f"/api/samples/{sample['id']}/receive", json={}, headers=central))
    ok(
        client.post(
            f"/api/samples/{sample['id']}/refer",
            json={"to_lab": net.rcl, "reason": "origin"},
            headers=central,
        ),
        201,
    )
    rcl = bearer(client, net, "rcl_manager")
    seen = ok(client.get(f"/api/requests/{req['id']}", headers=rcl))
    assert seen["declarant"] is None and "declarant" in seen["withheld"]
    assert BROKER not in client.get(f"/api/samples/{sample['id']}", headers=rcl).text

    release = {
        "administration_code": net.rcl_administration,
        "fields": ["declarant"],
        "reason": "broker inquiry",
    }
    ok(client.post(f"/api/requests/{req['id']}/releases", json=release, headers=central), 201)
    after = ok(client.get(f"/api/requests/{req['id']}", headers=rcl))
    assert after["declarant"] == BROKER and "declarant" not in after["withheld"]
    assert after["importer"] is None
