"""Partner deployments and keys: registered, changed, suspended and resumed by an administrator through the
API, the pages and the command line; the rules refuse with a clear 4xx and store nothing."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from customslab.domain.federation import MessageKind, OutboxState, PartnerState
from customslab.domain.model import Administration
from customslab.entrypoints.cli import app as cli
from customslab.entrypoints.web.app import create_web_app
from customslab.services import federation_outbox, federation_partners
from customslab.services.federation_partners import PartnerCreate
from tests.integration.conftest import ADMIN_PASSWORD
from tests.integration.federation.support import PASSWORD, Deployment, deployment, status_change

KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.b64encode(bytes(range(1, 33))).decode()


@pytest.fixture
def kr(tmp_path: Path) -> Iterator[Deployment]:
    made = deployment(tmp_path / "kr", "KRC", "JPC")
    yield made
    made.db.dispose()


def token(client: TestClient, username: str, password: str) -> dict[str, str]:
    answer = client.post("/api/auth/token", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
def api(kr: Deployment) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The API of Korea's deployment and its administrator's bearer header."""
    with TestClient(kr.app()) as client:
        yield client, token(client, "admin.krc", ADMIN_PASSWORD)


def partner_body(**overrides: Any) -> dict[str, Any]:
    return {
        "administration_code": "JPC",
        "base_url": "https://lims.jpc.customs.example/",
        "public_key": KEY,
        "note": "RCL Japan",
    } | overrides


# -- the API --------------------------------------------------------------------------------------------
def test_an_administrator_registers_a_partner_whose_key_is_valid_from_now(
    kr: Deployment, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, admin = api
    made = client.post("/api/federation/partners", json=partner_body(), headers=admin)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["state"] == "active" and body["base_url"] == "https://lims.jpc.customs.example"
    assert body["administration_name"] == "JPC Customs" and body["registered_by"] == "admin.krc"
    (key,) = body["keys"]
    assert key["public_key"] == KEY and key["valid_now"] and key["valid_until"] is None
    assert key["key_id"] == "630dcd2966c4336691125448bbb25b4f"  # sha256 of bytes 0..31, first 32 hex
    listed = client.get("/api/federation/partners", headers=admin).json()
    assert [p["administration_code"] for p in listed] == ["JPC"]
    assert client.get("/api/federation/partners/JPC", headers=admin).json() == body


@pytest.mark.parametrize(
    ("overrides", "status", "field", "text"),
    [
        ({"administration_code": "CNC"}, 404, "administration_code", "no administration CNC"),
        ({"administration_code": "KRC"}, 409, "administration_code", "own administration"),
        ({"public_key": base64.b64encode(bytes(31)).decode()}, 422, "public_key", "32 raw bytes"),
        ({"public_key": "not a key"}, 422, "public_key", "32 raw bytes"),
        ({"base_url": "ftp://lims.jpc.example"}, 422, "base_url", "http(s)://"),
        ({"base_url": "https://lims.jpc.example/?x=1"}, 422, "base_url", "http(s)://"),
    ],
)
def test_a_partner_registration_that_breaks_a_rule_is_refused_and_stores_nothing(
    kr: Deployment,
    api: tuple[TestClient, dict[str, str]],
    overrides: dict[str, Any],
    status: int,
    field: str,
    text: str,
) -> None:
    client, admin = api
    before = kr.counts()
    refused = client.post("/api/federation/partners", json=partner_body(**overrides), headers=admin)
    assert refused.status_code == status, refused.text
    assert refused.json()["field"] == field and text in refused.json()["error"]
    assert kr.counts() == before


def test_a_partner_registered_twice_is_a_409(kr: Deployment, api: tuple[TestClient, dict[str, str]]) -> None:
    client, admin = api
    assert client.post("/api/federation/partners", json=partner_body(), headers=admin).status_code == 201
    before = kr.counts()
    again = client.post("/api/federation/partners", json=partner_body(public_key=OTHER_KEY), headers=admin)
    assert again.status_code == 409 and "registered as a partner already" in again.json()["error"]
    assert kr.counts() == before


def test_only_an_administrator_sees_or_manages_partners(
    kr: Deployment, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, _ = api
    analyst = token(client, "analyst.krc", PASSWORD)
    for method, path, body in (
        ("GET", "/api/federation/partners", None),
        ("POST", "/api/federation/partners", partner_body()),
        ("GET", "/api/federation/key", None),
        ("GET", "/api/federation/inbox", None),
        ("GET", "/api/federation/refusals", None),
    ):
        answer = client.request(method, path, json=body, headers=analyst)
        assert answer.status_code == 403, (method, path, answer.text)
        assert client.request(method, path, json=body).status_code == 401
    assert kr.counts()["federation_partners"] == 0


def test_a_partner_is_suspended_and_resumed_and_what_waits_for_it_is_due_again(
    kr: Deployment, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, admin = api
    version = client.post("/api/federation/partners", json=partner_body(), headers=admin).json()[
        "row_version"
    ]
    off = client.patch("/api/federation/partners/JPC", json={"state": "suspended"}, headers=admin)
    assert off.status_code == 200 and off.json()["state"] == "suspended"
    stale = client.patch(
        "/api/federation/partners/JPC", json={"state": "active", "row_version": version}, headers=admin
    )
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["error"]

    # A message written while the partner is suspended waits, with its retry put off for an hour.
    with kr.uow() as uow:
        waiting = federation_outbox.enqueue(uow, "JPC", "referral/KRC/9", status_change("9"))
        waiting.next_attempt_at = kr.now + timedelta(hours=1)
        uow.commit()
    on = client.patch(
        "/api/federation/partners/JPC",
        json={"state": "active", "row_version": off.json()["row_version"], "note": "back"},
        headers=admin,
    )
    assert on.status_code == 200 and on.json()["state"] == "active" and on.json()["note"] == "back"
    with kr.uow() as uow:
        (due,) = uow.federation.claim_due(kr.now, 10)
        assert due.state is OutboxState.PENDING and due.stream == "referral/KRC/9"
    missing = client.patch("/api/federation/partners/CNC", json={"state": "active"}, headers=admin)
    assert missing.status_code == 404


def test_a_partners_further_key_is_added_once(kr: Deployment, api: tuple[TestClient, dict[str, str]]) -> None:
    client, admin = api
    client.post("/api/federation/partners", json=partner_body(), headers=admin)
    added = client.post("/api/federation/partners/JPC/keys", json={"public_key": OTHER_KEY}, headers=admin)
    assert added.status_code == 201 and [k["public_key"] for k in added.json()["keys"]] == [KEY, OTHER_KEY]
    again = client.post("/api/federation/partners/JPC/keys", json={"public_key": KEY}, headers=admin)
    assert again.status_code == 409 and "registered already" in again.json()["error"]
    unknown = client.post("/api/federation/partners/CNC/keys", json={"public_key": KEY}, headers=admin)
    assert unknown.status_code == 404


def test_the_own_keys_list_this_deployments_administration_and_the_current_key(
    kr: Deployment, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, admin = api
    empty = client.get("/api/federation/key", headers=admin).json()
    assert empty == {
        "administration_code": "KRC",
        "administration_name": "KRC Customs",
        "current": None,
        "signing": None,
        "keys": [],
    }
    key = kr.folder.generate()
    federation_partners.register_own_key(kr.uow(), None, key.key_id, key.public_b64, timedelta(0))
    own = client.get("/api/federation/key", headers=admin).json()
    assert own["current"]["key_id"] == key.key_id and own["current"]["public_key"] == key.public_b64
    assert own["signing"] == own["current"]  # one key: it is the newest and it signs

    # During a rotation's overlap the new key is the one to register, the old one still signs.
    newer = kr.folder.generate()
    federation_partners.register_own_key(kr.uow(), None, newer.key_id, newer.public_b64, timedelta(days=3))
    rotated = client.get("/api/federation/key", headers=admin).json()
    assert (rotated["current"]["key_id"], rotated["signing"]["key_id"]) == (newer.key_id, key.key_id)


def test_a_rotation_ends_the_old_key_after_the_overlap_and_tells_every_active_partner(kr: Deployment) -> None:
    federation_partners.register_partner(
        kr.uow(),
        None,
        PartnerCreate(administration_code="JPC", base_url="https://jp.example", public_key=KEY),
    )
    first, second = kr.folder.generate(), kr.folder.generate()
    federation_partners.register_own_key(kr.uow(), None, first.key_id, first.public_b64, timedelta(0))
    with kr.uow() as uow:
        assert uow.federation.outbox(None, None, 10, 0)[1] == 0  # a first key replaces nothing
    kr.advance(timedelta(days=1))
    own = federation_partners.register_own_key(
        kr.uow(), None, second.key_id, second.public_b64, timedelta(days=3)
    )
    assert [(k.key_id, k.valid_until) for k in own.keys] == [
        (first.key_id, kr.now + timedelta(days=3)),
        (second.key_id, None),
    ]
    assert own.current is not None and own.current.key_id == second.key_id
    with kr.uow() as uow:
        (told,), _ = uow.federation.outbox(None, None, 10, 0)
        assert (
            told.kind is MessageKind.KEY_ROTATED and told.partner_code == "JPC" and told.stream == "keys/KRC"
        )
        assert told.payload["body"]["old_key_id"] == first.key_id
    with pytest.raises(Exception, match="not the id of that public key"):
        federation_partners.register_own_key(kr.uow(), None, "0" * 32, KEY, timedelta(0))


def test_a_rotation_is_written_for_a_suspended_partner_too_and_goes_when_it_is_resumed(
    kr: Deployment,
) -> None:
    with kr.uow() as uow:
        uow.act_as("test-setup")
        uow.repo.add(Administration("CNC", "CNC Customs", "CN"))
        uow.commit()
    for code in ("JPC", "CNC"):
        federation_partners.register_partner(
            kr.uow(),
            None,
            PartnerCreate(administration_code=code, base_url=f"https://{code}.example", public_key=KEY),
        )
    federation_partners.set_partner_state(kr.uow(), None, "CNC", PartnerState.SUSPENDED)
    first, second = kr.folder.generate(), kr.folder.generate()
    federation_partners.register_own_key(kr.uow(), None, first.key_id, first.public_b64, timedelta(0))
    federation_partners.register_own_key(kr.uow(), None, second.key_id, second.public_b64, timedelta(days=3))
    with kr.uow() as uow:
        told, _ = uow.federation.outbox(None, None, 10, 0)
        assert sorted((m.partner_code, m.kind, m.stream) for m in told) == [
            ("CNC", MessageKind.KEY_ROTATED, "keys/KRC"),
            ("JPC", MessageKind.KEY_ROTATED, "keys/KRC"),
        ]
        assert [m.partner_code for m in uow.federation.claim_due(kr.now, 10)] == ["JPC"]
    federation_partners.set_partner_state(kr.uow(), None, "CNC", PartnerState.ACTIVE)
    with kr.uow() as uow:
        assert sorted(m.partner_code for m in uow.federation.claim_due(kr.now, 10)) == ["CNC", "JPC"]


# -- the command line -----------------------------------------------------------------------------------
def run(d: Deployment, *args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    variables = {
        "CUSTOMSLAB_MODE": "dev",
        "CUSTOMSLAB_DATABASE_URL": d.db.url,
        "CUSTOMSLAB_FILE_STORE": str(d.root / "files"),
        "CUSTOMSLAB_FEDERATION_KEY_DIR": str(d.root / "keys"),
        "CUSTOMSLAB_AUDIT_KEY_FILE": str(d.root / "audit-key.pem"),
        "CUSTOMSLAB_PUBLIC_URL": d.public_url,
    }
    result = CliRunner().invoke(cli, ["federation", *args], env=variables | (env or {}))
    assert result.exit_code == code, result.output
    return str(result.output)


def test_two_administrations_connect_with_the_key_and_partner_add_commands(tmp_path: Path) -> None:
    kr = deployment(tmp_path / "kr", "KRC", "JPC")
    jp = deployment(tmp_path / "jp", "JPC", "KRC")
    kr_key = json.loads(run(kr, "key", "--json"))
    jp_key = json.loads(run(jp, "key", "--json"))
    assert kr_key["administration"] == "KRC" and kr_key["public_url"] == kr.public_url
    assert json.loads(run(kr, "key", "--json")) == kr_key  # the first key is made once
    assert (kr.root / "keys" / f"{kr_key['key_id']}.pem").stat().st_mode & 0o777 == 0o600
    assert f"--public-key {kr_key['public_key']}" in run(kr, "key")

    said = run(kr, "partner", "add", "JPC", "--url", jp.public_url, "--public-key", jp_key["public_key"])
    assert "Registered partner JPC (JPC Customs)" in said
    run(
        jp,
        "partner",
        "add",
        "KRC",
        "--url",
        kr.public_url,
        "--public-key",
        kr_key["public_key"],
        "--note",
        "Korea",
    )
    (listed,) = json.loads(run(jp, "partners", "--json"))
    assert listed["administration_code"] == "KRC" and listed["note"] == "Korea"
    assert listed["keys"][0]["key_id"] == kr_key["key_id"]

    refused = run(
        kr, "partner", "add", "JPC", "--url", jp.public_url, "--public-key", jp_key["public_key"], code=2
    )
    assert "registered as a partner already" in refused
    assert "32 raw bytes" in run(kr, "partner", "add-key", "JPC", "--public-key", "nope", code=2)
    assert "now has 2 keys" in run(kr, "partner", "add-key", "JPC", "--public-key", KEY)
    assert "suspended" in run(kr, "partner", "suspend", "JPC")
    assert "suspended" in run(kr, "partners")
    assert "active" in run(kr, "partner", "resume", "JPC")
    assert "no partner deployment for administration CNC" in run(kr, "partner", "suspend", "CNC", code=2)

    rotated = run(kr, "rotate-key", "--overlap-days", "3")
    assert f"Key {kr_key['key_id']} stays valid until" in rotated and "sent to JPC" in rotated
    new = json.loads(run(kr, "key", "--json"))
    assert new["key_id"] != kr_key["key_id"] and (kr.root / "keys" / f"{new['key_id']}.pem").exists()
    with kr.uow() as uow:
        (told,), _ = uow.federation.outbox(None, "JPC", 10, 0)
        assert told.kind is MessageKind.KEY_ROTATED
    kr.db.dispose()
    jp.db.dispose()


def test_in_production_the_key_command_does_not_create_a_key_but_says_to_rotate(kr: Deployment) -> None:
    from customslab.adapters.audit_anchor import new_key_file

    new_key_file(kr.root / "audit-key.pem")
    production = {"CUSTOMSLAB_MODE": "production", "CUSTOMSLAB_SECRET_KEY": "s" * 40}
    said = run(kr, "key", code=2, env=production)
    assert "has no federation key" in said and "customslab federation rotate-key" in said
    assert not (kr.root / "keys").exists() or not list((kr.root / "keys").iterdir())
    assert "New key" in run(kr, "rotate-key", env=production)
    assert json.loads(run(kr, "key", "--json", env=production))["administration"] == "KRC"


# -- the page -------------------------------------------------------------------------------------------
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_post(client: TestClient, path: str, data: dict[str, Any], page: str = "/admin/partners") -> Any:
    found = TOKEN.search(client.get(page).text)
    assert found, page
    return client.post(path, data={**data, "csrf_token": found.group(1)}, follow_redirects=False)


def test_the_partners_page_registers_suspends_and_adds_a_key(kr: Deployment, tmp_path: Path) -> None:
    app = create_web_app(kr.settings(), db=kr.db)
    app.state.uow_factory = kr.uow
    own = kr.folder.generate()
    federation_partners.register_own_key(kr.uow(), None, own.key_id, own.public_b64, timedelta(0))
    with TestClient(app) as client:
        signed_in = form_post(
            client, "/login", {"username": "admin.krc", "password": ADMIN_PASSWORD}, "/login"
        )
        assert signed_in.status_code == 303
        page = client.get("/admin/partners")
        assert page.status_code == 200 and own.public_b64 in page.text and kr.public_url in page.text
        assert '<option value="JPC"' in page.text

        bad = form_post(client, "/admin/partners", partner_body(public_key="abc"))
        assert bad.status_code == 422 and "32 raw bytes" in bad.text
        made = form_post(client, "/admin/partners", partner_body())
        assert made.status_code == 303 and made.headers["location"] == "/admin/partners"
        listing = client.get("/admin/partners").text
        assert "Partner JPC registered." in listing and "https://lims.jpc.customs.example" in listing
        assert '<option value="JPC"' not in listing

        assert form_post(client, "/admin/partners/JPC/suspend", {}).status_code == 303
        assert "Partner JPC suspended." in client.get("/admin/partners").text
        assert form_post(client, "/admin/partners/JPC/keys", {"public_key": OTHER_KEY}).status_code == 303
        edited = form_post(client, "/admin/partners/JPC", {"base_url": "https://jp2.example", "note": ""})
        assert edited.status_code == 303
    found = federation_partners.partner(kr.uow(), None, "JPC")
    assert found.state is PartnerState.SUSPENDED and len(found.keys) == 2
    assert found.base_url == "https://jp2.example" and found.note == ""


def test_an_analyst_cannot_open_the_partners_page(kr: Deployment) -> None:
    app = create_web_app(kr.settings(), db=kr.db)
    app.state.uow_factory = kr.uow
    with TestClient(app) as client:
        form_post(client, "/login", {"username": "analyst.krc", "password": PASSWORD}, "/login")
        assert client.get("/admin/partners").status_code == 403
