"""Setting a deployment up (`customslab init --directory`) and the administrator's directory and users,
through the command line, the API and the pages, on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import vobject
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from customslab.adapters import orm
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.domain.enums import Role
from customslab.entrypoints.cli import app as cli
from customslab.entrypoints.web.app import create_web_app
from customslab.services import users_admin
from customslab.services.users_admin import UserInvite
from tests.factories import PASSWORD, Network, make_network, request_data, unique
from tests.integration.conftest import ADMIN_PASSWORD, EXAMPLE, signed_in

NEW_PASSWORD = "amber-kettle-orchard-quietly"


# -- an empty database (conftest's `empty_url`), and the command line on it ----------------------------
def init(
    url: str, directory: Path, tmp_path: Path, *extra: str, password: str | None = ADMIN_PASSWORD
) -> Any:
    env = {"CUSTOMSLAB_FILE_STORE": str(tmp_path / "files")}
    if password is not None:
        env["CUSTOMSLAB_ADMIN_PASSWORD"] = password
    return CliRunner().invoke(
        cli, ["init", "--directory", str(directory), "--database", url, *extra], env=env
    )


def example() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return loaded


def written(tmp_path: Path, data: dict[str, Any], name: str = "network.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def rows(url: str) -> dict[str, int]:
    """How many rows the directory's tables and the audit trail hold."""
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (orm.administrations, orm.organisations, orm.users, orm.audit_entries)
            }
    finally:
        db.dispose()


def test_init_sets_up_an_empty_database_and_a_second_run_changes_nothing(
    empty_url: str, tmp_path: Path
) -> None:
    first = init(empty_url, EXAMPLE, tmp_path)
    assert first.exit_code == 0, first.output
    assert "Made 7 changes" in first.output
    assert "created home administration KCS (Korea Customs Service, KR)" in first.output
    assert "created administrator admin.kcs" in first.output

    db = Database(empty_url)
    uow = SqlAlchemyUnitOfWork(db, LocalFileStore(tmp_path / "files"))
    with uow:
        home, partner = uow.repo.administration("KCS"), uow.repo.administration("JPC")
        assert home is not None and home.home and home.country == "KR"
        assert partner is not None and not partner.home
        seoul, ccl, rcl = uow.repo.org("KCS-SEL"), uow.repo.org("KCS-CCL"), uow.repo.org("RCL-JP")
        assert seoul is not None and seoul.parent_code == "KCS-CCL" and seoul.administration_code == "KCS"
        assert (
            ccl is not None
            and ccl.is_rcl
            and ccl.contact_points[0].email == "ccl-coordination@customs.example"
        )
        assert rcl is not None and rcl.administration_code == "JPC" and rcl.country == "JP"
        admin = uow.repo.user_by_name("admin.kcs")
        assert admin is not None and admin.roles == {Role.ADMIN} and admin.org_code == "KCS-CCL"
        entries = uow.repo.audit_for("organisations", "KCS-SEL")
        assert entries and entries[0].actor == "system" and entries[0].reason == "customslab init --directory"
    db.dispose()
    before = rows(empty_url)

    again = init(empty_url, EXAMPLE, tmp_path, password=None)
    assert again.exit_code == 0, again.output
    assert "Nothing to change" in again.output
    assert rows(empty_url) == before


def test_a_changed_file_creates_and_updates_what_differs_and_lists_each_change(
    empty_url: str, tmp_path: Path
) -> None:
    assert init(empty_url, EXAMPLE, tmp_path).exit_code == 0
    data = example()
    seoul = data["organisations"][1]
    seoul["name"] = "Seoul Main Customs Laboratory"
    seoul["contact_points"].append(
        {"name": "Yoon Ha-eun", "role": "Analyst", "email": "yoon@customs.example"}
    )
    data["organisations"].append(
        {"code": "KCS-BSN", "name": "Busan Customs Laboratory", "kind": "local", "parent": "KCS-CCL"}
    )
    changed = init(empty_url, written(tmp_path, data), tmp_path, password=None)
    assert changed.exit_code == 0, changed.output
    assert "Made 2 changes" in changed.output
    assert "created organisation KCS-BSN" in changed.output
    assert "updated organisation KCS-SEL: name, contact point 1 added" in changed.output
    assert "Nothing to change" in init(empty_url, written(tmp_path, data), tmp_path).output


def test_a_bad_file_gets_every_problem_with_its_entry_and_field_and_nothing_is_written(
    empty_url: str, tmp_path: Path
) -> None:
    data = example()
    orgs = data["organisations"]
    orgs[1]["parent"] = "KCS-XXX"
    orgs[2]["rcl_region"] = "Asia/Pacific"  # a customs office cannot be an RCL
    orgs[0]["parent"] = "RCL-JP"  # another administration's laboratory
    orgs.append({"code": "KCS-A", "name": "A", "kind": "local", "parent": "KCS-B"})
    orgs.append({"code": "KCS-B", "name": "B", "kind": "local", "parent": "KCS-A"})
    data["partners"].append({"code": "BTC", "name": "Bhutan", "country": "BT", "has_laboratories": False})
    orgs.append({"code": "BT-LAB", "name": "Lab", "kind": "local", "administration": "BTC"})
    data["administrator"]["org"] = "RCL-JP"
    refused = init(empty_url, written(tmp_path, data), tmp_path)
    assert refused.exit_code == 2
    for expected in (
        "organisations[1] (KCS-SEL).parent: no organisation 'KCS-XXX' in the same administration.",
        "organisations[0] (KCS-CCL).parent: no organisation 'RCL-JP' in the same administration.",
        "organisations[2] (KCS-ICN-AIR).rcl_region: only a laboratory can be designated",
        "organisations[4] (KCS-A).parent: the parent links would go round in a circle: KCS-A → KCS-B → KCS-A",
        "organisations[6] (BT-LAB).kind: administration BTC has no laboratories",
        "administrator (admin.kcs).org: no organisation 'RCL-JP' in the home administration.",
    ):
        assert expected in refused.output, (expected, refused.output)
    assert "nothing was written" in refused.output
    assert rows(empty_url)["organisations"] == 0 and rows(empty_url)["administrations"] == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["home"].update(country="ZZ"),
            "home (KCS).country: 'ZZ' is not an ISO 3166 country code",
        ),
        (
            lambda d: d["organisations"][2].update(kind="office"),
            "organisations[2] (KCS-ICN-AIR).kind: 'office'",
        ),
        (
            lambda d: d["organisations"][0]["contact_points"][1].update(email="not-an-address"),
            "organisations[0] (KCS-CCL).contact_points[1].email: email must be an e-mail address",
        ),
        (
            lambda d: d["organisations"][3].update(code="rcl jp"),
            "organisations[3] (rcl jp).code: code must be",
        ),
        (lambda d: d["organisations"][1].pop("name"), "organisations[1] (KCS-SEL).name: name is required."),
        (
            lambda d: d["administrator"].update(pasword="x"),
            "administrator (admin.kcs).pasword: 'pasword' is not",
        ),
    ],
)
def test_a_malformed_entry_is_named_with_its_field_before_the_database_is_touched(
    tmp_path: Path, change: Any, expected: str
) -> None:
    data = example()
    change(data)
    url = f"sqlite:///{tmp_path / 'untouched.sqlite3'}"
    refused = init(url, written(tmp_path, data), tmp_path)
    assert refused.exit_code == 2 and expected in refused.output, refused.output
    assert not (tmp_path / "untouched.sqlite3").exists()


def test_a_new_administrator_needs_a_password_that_meets_the_rules(empty_url: str, tmp_path: Path) -> None:
    missing = init(empty_url, EXAMPLE, tmp_path, password=None)
    assert missing.exit_code == 2
    assert "administrator (admin.kcs).password: a new administrator needs a first password" in missing.output
    weak = init(empty_url, EXAMPLE, tmp_path, password="password1234")
    assert weak.exit_code == 2 and "too easy to guess" in weak.output
    assert rows(empty_url)["users"] == 0
    from_file = tmp_path / "first-password"
    from_file.write_text(ADMIN_PASSWORD + "\n", encoding="utf-8")
    made = init(empty_url, EXAMPLE, tmp_path, "--admin-password-file", str(from_file), password=None)
    assert made.exit_code == 0, made.output
    db = Database(empty_url)
    with SqlAlchemyUnitOfWork(db, LocalFileStore(tmp_path / "files")) as uow:
        from customslab.services.passwords import password_matches

        assert password_matches(uow.repo.user_by_name("admin.kcs"), ADMIN_PASSWORD)
    db.dispose()


def test_the_home_administration_cannot_change_nor_an_organisation_move(
    empty_url: str, tmp_path: Path
) -> None:
    assert init(empty_url, EXAMPLE, tmp_path).exit_code == 0
    data = example()
    data["home"], data["partners"] = data["partners"][0], [data["home"]]
    for org in data["organisations"]:
        org["administration"] = "KCS" if org["code"] != "RCL-JP" else "JPC"
    data["organisations"][3]["administration"] = "KCS"
    refused = init(empty_url, written(tmp_path, data), tmp_path)
    assert refused.exit_code == 2
    assert "home (JPC).code: this server's home administration is already KCS" in refused.output
    assert (
        "partners[0] (KCS).code: KCS is this server's home administration, not a partner." in refused.output
    )
    assert "organisations[3] (RCL-JP).administration: RCL-JP belongs to administration JPC" in refused.output


def test_a_dry_run_says_what_would_change_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dry.sqlite3'}"
    # Not even the schema: on a database that is not current the dry run refuses, and leaves no file.
    refused = init(url, EXAMPLE, tmp_path, "--dry-run")
    assert refused.exit_code == 2 and "customslab db upgrade" in refused.output
    from sqlalchemy import create_engine, inspect

    from customslab.adapters.db import upgrade

    engine = create_engine(url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()

    upgrade(url)
    dry = init(url, EXAMPLE, tmp_path, "--dry-run")
    assert dry.exit_code == 0 and "Would make 7 changes" in dry.output and "Nothing was written" in dry.output
    assert rows(url)["organisations"] == 0


def test_an_administration_without_laboratories_keeps_none(empty_url: str, tmp_path: Path) -> None:
    assert init(empty_url, EXAMPLE, tmp_path).exit_code == 0
    data = example()
    data["home"]["has_laboratories"] = False
    data["organisations"] = [o for o in data["organisations"] if o["kind"] == "customs_office"]
    refused = init(empty_url, written(tmp_path, data), tmp_path)
    assert refused.exit_code == 2
    assert "home (KCS).has_laboratories: KCS has active laboratories (KCS-CCL, KCS-SEL)" in refused.output


# -- the administrator's API ---------------------------------------------------------------------------
def test_an_administrator_creates_edits_and_deactivates_an_organisation_and_it_is_audited(
    api: tuple[TestClient, Network], uow_factory: Any
) -> None:
    client, net = api
    admin = signed_in(client, net, "admin")
    code = unique("KCS-GWJ")
    created = client.post(
        "/api/admin/organisations",
        json={"code": code, "name": "Gwangju lab", "kind": "local", "parent_code": net.central},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["administration_code"] == net.home and body["country"] == "KR" and body["active"]
    listed = client.get("/api/admin/organisations", headers=admin).json()
    assert code in {o["code"] for o in listed} and net.rcl not in {o["code"] for o in listed}

    edited = client.patch(
        f"/api/admin/organisations/{code}",
        json={"name": "Gwangju Customs Laboratory", "row_version": body["row_version"]},
        headers=admin,
    )
    assert edited.status_code == 200 and edited.json()["name"] == "Gwangju Customs Laboratory"
    assert edited.json()["parent_code"] == net.central  # a field not given stays
    cleared = client.patch(f"/api/admin/organisations/{code}", json={"parent_code": None}, headers=admin)
    assert cleared.json()["parent_code"] is None

    gone = client.post(f"/api/admin/organisations/{code}/deactivate", headers=admin)
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert code in {o["code"] for o in client.get("/api/admin/organisations", headers=admin).json()}
    officer = signed_in(client, net, "officer")
    refused = client.post("/api/requests", json=request_data(net, lab_code=code), headers=officer)
    assert refused.status_code == 404 and code in refused.json()["error"]

    with uow_factory() as uow:
        trail = uow.repo.audit_for("organisations", code)
    assert [e.action for e in trail] == ["create", "update", "update", "update"]
    assert {e.actor for e in trail} == {net["admin"].username}
    assert trail[-1].changes["active"] == {"before": True, "after": False}


def test_a_stale_row_version_is_a_409_and_changes_nothing(api: tuple[TestClient, Network]) -> None:
    client, net = api
    admin = signed_in(client, net, "admin")
    read = client.get(f"/api/admin/organisations/{net.local}", headers=admin).json()
    first = client.patch(
        f"/api/admin/organisations/{net.local}",
        json={"address": "Seoul", "row_version": read["row_version"]},
        headers=admin,
    )
    assert first.status_code == 200
    stale = client.patch(
        f"/api/admin/organisations/{net.local}",
        json={"name": "Renamed", "row_version": read["row_version"]},
        headers=admin,
    )
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["error"]
    for path in (
        f"/api/admin/organisations/{net.local}/deactivate",
        f"/api/admin/organisations/{net.local}/contact-points/0/deactivate",
    ):
        assert client.post(path, json={"row_version": read["row_version"]}, headers=admin).status_code == 409
    now = client.get(f"/api/admin/organisations/{net.local}", headers=admin).json()
    assert now["name"] == "Local lab" and now["active"]
    users = {u["username"]: u for u in client.get("/api/admin/users", headers=admin).json()}
    analyst = users[net["analyst"].username]
    changed = client.put(
        f"/api/admin/users/{analyst['id']}/roles",
        json={"roles": ["analyst", "reviewer"], "row_version": analyst["row_version"]},
        headers=admin,
    )
    assert changed.status_code == 200 and changed.json()["roles"] == ["analyst", "reviewer"]
    again = client.put(
        f"/api/admin/users/{analyst['id']}/roles",
        json={"roles": ["analyst"], "row_version": analyst["row_version"]},
        headers=admin,
    )
    assert again.status_code == 409


def test_parents_must_exist_in_the_same_administration_without_a_circle(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    admin = signed_in(client, net, "admin")

    def parent(code: str, to: str | None) -> Any:
        return client.patch(f"/api/admin/organisations/{code}", json={"parent_code": to}, headers=admin)

    assert parent(net.local, net.rcl).status_code == 404  # another administration's laboratory
    assert parent(net.local, "NO-SUCH-LAB").status_code == 404
    assert parent(net.local, net.local).status_code == 422
    circle = parent(net.central, net.local)
    assert circle.status_code == 409 and "circle" in circle.json()["error"]
    office = client.post(
        "/api/admin/organisations",
        json={"code": unique("OFF"), "name": "Office", "kind": "customs_office", "rcl_region": "Asia"},
        headers=admin,
    )
    assert office.status_code == 422 and office.json()["field"] == "rcl_region"
    taken = client.post(
        "/api/admin/organisations", json={"code": net.central, "name": "x", "kind": "local"}, headers=admin
    )
    assert taken.status_code == 409


def test_organisations_and_users_of_another_administration_answer_404(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    admin = signed_in(client, net, "admin")
    coordinator = net["coordinator"].user_id  # at the RCL, another administration
    for method, path, body in (
        ("GET", f"/api/admin/organisations/{net.rcl}", None),
        ("PATCH", f"/api/admin/organisations/{net.rcl}", {"name": "Mine now"}),
        ("POST", f"/api/admin/organisations/{net.rcl}/deactivate", None),
        ("POST", f"/api/admin/organisations/{net.rcl}/contact-points", {"name": "Spy"}),
        ("PUT", f"/api/admin/users/{coordinator}/roles", {"roles": ["admin"]}),
        ("POST", f"/api/admin/users/{coordinator}/deactivate", None),
        ("POST", f"/api/admin/users/{coordinator}/password", {"password": NEW_PASSWORD}),
        ("POST", f"/api/admin/users/{coordinator}/invitation", None),
        ("GET", f"/api/admin/users/{coordinator}/sessions", None),
        ("POST", f"/api/admin/users/{coordinator}/sessions/end", None),
    ):
        answer = client.request(method, path, json=body, headers=admin)
        assert answer.status_code == 404, (method, path, answer.text)
    user = {"username": unique("spy"), "full_name": "Spy", "org_code": net.rcl, "roles": ["analyst"]}
    assert client.post("/api/admin/users/invitations", json=user, headers=admin).status_code == 404
    assert (
        client.post("/api/admin/users", json=user | {"password": NEW_PASSWORD}, headers=admin).status_code
        == 404
    )
    listed = {u["username"] for u in client.get("/api/admin/users", headers=admin).json()}
    assert net["coordinator"].username not in listed and net["analyst"].username in listed
    administrations = client.get("/api/admin/administrations", headers=admin).json()
    assert {net.home, net.rcl_administration} <= {a["code"] for a in administrations}


def test_only_an_administrator_manages_the_directory_and_users(api: tuple[TestClient, Network]) -> None:
    client, net = api
    manager = signed_in(client, net, "central_manager")
    for method, path in (
        ("GET", "/api/admin/organisations"),
        ("GET", "/api/admin/administrations"),
        ("GET", "/api/admin/users"),
        ("POST", f"/api/admin/organisations/{net.local}/deactivate"),
        ("POST", f"/api/admin/users/{net['analyst'].user_id}/deactivate"),
    ):
        assert client.request(method, path, headers=manager).status_code == 403, path


def test_an_administrator_cannot_lock_themselves_out(api: tuple[TestClient, Network]) -> None:
    client, net = api
    admin = signed_in(client, net, "admin")
    me = net["admin"].user_id
    assert (
        client.put(f"/api/admin/users/{me}/roles", json={"roles": ["analyst"]}, headers=admin).status_code
        == 409
    )
    # Nor grant themselves a laboratory role, which would open case files to them.
    granted = client.put(f"/api/admin/users/{me}/roles", json={"roles": ["admin", "reviewer"]}, headers=admin)
    assert granted.status_code == 409 and "another administrator" in granted.json()["error"]
    assert client.post(f"/api/admin/users/{me}/deactivate", headers=admin).status_code == 409
    reset = client.post(f"/api/admin/users/{me}/password", json={"password": NEW_PASSWORD}, headers=admin)
    assert reset.status_code == 409 and "current one" in reset.json()["error"]
    assert client.post(f"/api/admin/organisations/{net.central}/deactivate", headers=admin).status_code == 409


def test_contact_points_are_added_edited_and_deactivated_never_deleted(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    admin = signed_in(client, net, "admin")
    base = f"/api/admin/organisations/{net.local}/contact-points"
    first = client.post(
        base, json={"name": "Kim", "role": "Manager", "email": "kim@customs.example"}, headers=admin
    )
    assert first.status_code == 201
    index = len(first.json()["contact_points"]) - 1
    client.post(base, json={"name": "Lee", "phone": "+82 2 000"}, headers=admin)
    edited = client.patch(f"{base}/{index}", json={"role": "Head"}, headers=admin).json()["contact_points"][
        index
    ]
    assert edited == {
        "index": index,
        "name": "Kim",
        "role": "Head",
        "email": "kim@customs.example",
        "phone": "",
        "active": True,
    }
    off = client.post(f"{base}/{index}/deactivate", headers=admin).json()["contact_points"]
    assert len(off) == index + 2 and off[index]["active"] is False and off[index + 1]["name"] == "Lee"
    assert client.patch(f"{base}/{index + 7}", json={"role": "x"}, headers=admin).status_code == 404
    bad = client.post(base, json={"name": "X", "email": "nope"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["field"] == "email"


def test_the_rcl_contact_point_list_exports_as_csv_and_vcard_for_any_signed_in_user(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    admin = signed_in(client, net, "admin")
    rcl = unique("KCS-RCL")
    created = client.post(
        "/api/admin/organisations",
        json={
            "code": rcl,
            "name": "Central Customs Laboratory (RCL)",
            "kind": "central",
            "rcl_region": "Asia/Pacific",
            "address": "Daejeon",
            "contact_points": [
                {
                    "name": "Kim Min-jun",
                    "role": "RCL contact point",
                    "email": "rcl@customs.example",
                    "phone": "+82 42 481 0000",
                },
                {"name": "Former Head", "role": '=HYPERLINK("x")'},
            ],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    client.post(f"/api/admin/organisations/{rcl}/contact-points/1/deactivate", headers=admin)
    client.post(
        f"/api/admin/organisations/{net.local}/contact-points", json={"name": "Not an RCL"}, headers=admin
    )
    officer = signed_in(client, net, "officer")

    answer = client.get("/api/network/contact-points.csv", headers=officer)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    table = [r for r in csv.DictReader(io.StringIO(answer.text)) if r["org_code"] == rcl]
    assert table == [
        {
            "rcl_region": "Asia/Pacific",
            "org_code": rcl,
            "organisation": "Central Customs Laboratory (RCL)",
            "administration_code": net.home,
            "administration": "Korea Customs Service",
            "country": "KR",
            "name": "Kim Min-jun",
            "role": "RCL contact point",
            "email": "rcl@customs.example",
            "phone": "+82 42 481 0000",
            "address": "Daejeon",
        }
    ]
    assert "Not an RCL" not in answer.text and "Former Head" not in answer.text

    cards = client.get("/api/network/contact-points.vcf", headers=officer)
    assert cards.status_code == 200 and cards.headers["content-type"].startswith("text/vcard")
    parsed = [c for c in vobject.readComponents(cards.text) if rcl in c.note.value]
    assert len(parsed) == 1
    card = parsed[0]
    assert card.version.value == "3.0" and card.fn.value == "Kim Min-jun"
    assert card.email.value == "rcl@customs.example" and card.tel.value == "+82 42 481 0000"
    assert card.org.value == ["Central Customs Laboratory (RCL)"] and card.title.value == "RCL contact point"
    assert client.get("/api/network/contact-points.csv").status_code == 401


def test_a_formula_in_a_contact_point_is_neutralised_in_the_csv() -> None:
    from customslab.services.contact_list import RclContact, contacts_csv

    row = RclContact(
        org_code="X",
        organisation="=cmd|' /C calc'!A0",
        administration_code="K",
        administration="",
        country="KR",
        rcl_region="",
        address="",
        name="@SUM(1)",
        role="-2+3",
        email="",
        phone="+82 2 000 0000",
    )
    line = contacts_csv([row]).splitlines()[1]
    assert "'=cmd" in line and "'@SUM(1)" in line and "'-2+3" in line and ",+82 2 000 0000," in line


# -- users and invitations ----------------------------------------------------------------------------
@pytest.fixture
def web(database: Database, tmp_path: Path) -> Iterator[tuple[TestClient, Network, Any]]:
    """The pages and the API together (the invitation page is a page), and a network."""
    settings = Settings(mode="test", database_url=database.url, file_store=tmp_path / "files")
    app = create_web_app(settings, db=database)
    net = make_network(app.state.uow_factory)
    with TestClient(app) as client:
        yield client, net, app.state.uow_factory


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_post(client: TestClient, path: str, data: dict[str, Any], page: str | None = None) -> Any:
    token = TOKEN.search(client.get(page or path).text)
    assert token, page or path
    return client.post(path, data={**data, "csrf_token": token.group(1)}, follow_redirects=False)


def test_an_invited_user_sets_a_password_once_and_signs_in(web: tuple[TestClient, Network, Any]) -> None:
    client, net, _ = web
    admin = signed_in(client, net, "admin")
    username = unique("lee.analyst").lower()
    invited = client.post(
        "/api/admin/users/invitations",
        json={"username": username, "full_name": "Lee Ji-woo", "org_code": net.local, "roles": ["analyst"]},
        headers=admin,
    )
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert body["user"]["password_set"] is False and body["user"]["invitation_expires_at"] is not None
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)
    link = body["invitation_url"]
    assert link.startswith("http://testserver/invitation/")
    path = link.removeprefix("http://testserver")
    refused = client.post("/api/auth/token", json={"username": username, "password": ""})
    assert refused.status_code == 403

    page = client.get(path)
    assert page.status_code == 200 and "Lee Ji-woo" in page.text and "Local lab" in page.text
    differ = form_post(client, path, {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x"})
    assert differ.status_code == 422 and "differ" in differ.text
    weak = form_post(client, path, {"password": "password1234", "confirm_password": "password1234"})
    assert weak.status_code == 422 and "too easy to guess" in weak.text
    done = form_post(client, path, {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    token = client.post("/api/auth/token", json={"username": username, "password": NEW_PASSWORD})
    assert token.status_code == 200

    used = client.get(path)
    assert used.status_code == 404 and "already used" in used.text
    assert client.get("/invitation/" + "x" * 43).status_code == 404
    listed = {u["username"]: u for u in client.get("/api/admin/users", headers=admin).json()}
    assert listed[username]["password_set"] and listed[username]["invitation_expires_at"] is None
    sessions = client.get(f"/api/admin/users/{listed[username]['id']}/sessions", headers=admin).json()
    assert {s["kind"] for s in sessions["sessions"]} == {"api"}


def test_an_expired_invitation_answers_410_and_a_new_link_replaces_it(
    web: tuple[TestClient, Network, Any], database: Database, tmp_path: Path
) -> None:
    client, net, _ = web
    eight_days_ago = datetime.now(UTC) - timedelta(days=8)
    past = SqlAlchemyUnitOfWork(database, LocalFileStore(tmp_path / "files"), clock=lambda: eight_days_ago)
    cmd = UserInvite(
        username=unique("late").lower(), full_name="Late Comer", org_code=net.central, roles=["reviewer"]
    )
    old = users_admin.invite_user(past, net["admin"], cmd, "http://testserver/")
    old_path = old.invitation_url.removeprefix("http://testserver")
    expired = client.get(old_path)
    assert expired.status_code == 410 and "expired" in expired.text

    admin = signed_in(client, net, "admin")
    fresh = client.post(f"/api/admin/users/{old.user.id}/invitation", headers=admin)
    assert fresh.status_code == 201
    assert client.get(old_path).status_code == 404  # replaced
    assert client.get(fresh.json()["invitation_url"].removeprefix("http://testserver")).status_code == 200


def test_a_reset_password_and_a_deactivation_end_the_users_sessions(
    web: tuple[TestClient, Network, Any],
) -> None:
    client, net, _ = web
    admin = signed_in(client, net, "admin")
    analyst = net["analyst"]
    theirs = signed_in(client, net, "analyst")
    assert client.get("/api/auth/me", headers=theirs).status_code == 200
    weak = client.post(
        f"/api/admin/users/{analyst.user_id}/password", json={"password": "password1234"}, headers=admin
    )
    assert weak.status_code == 422
    reset = client.post(
        f"/api/admin/users/{analyst.user_id}/password", json={"password": NEW_PASSWORD}, headers=admin
    )
    assert reset.status_code == 200 and reset.json() == {"ended": 1}
    assert client.get("/api/auth/me", headers=theirs).status_code == 401
    again = client.post("/api/auth/token", json={"username": analyst.username, "password": NEW_PASSWORD})
    assert again.status_code == 200
    bearer = {"Authorization": f"Bearer {again.json()['access_token']}"}

    off = client.post(f"/api/admin/users/{analyst.user_id}/deactivate", headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    assert client.get("/api/auth/me", headers=bearer).status_code == 401
    assert (
        client.post(
            "/api/auth/token", json={"username": analyst.username, "password": NEW_PASSWORD}
        ).status_code
        == 403
    )
    assert client.post(f"/api/admin/users/{analyst.user_id}/invitation", headers=admin).status_code == 409
    on = client.post(f"/api/admin/users/{analyst.user_id}/activate", headers=admin)
    assert on.json()["active"] is True
    assert (
        client.post(
            "/api/auth/token", json={"username": analyst.username, "password": NEW_PASSWORD}
        ).status_code
        == 200
    )


# -- the pages ------------------------------------------------------------------------------------------
def sign_in_page(client: TestClient, net: Network, who: str) -> None:
    answer = form_post(client, "/login", {"username": net[who].username, "password": PASSWORD, "next": "/"})
    assert answer.status_code == 303, answer.text


def test_the_administrators_pages_add_an_organisation_and_invite_a_user(
    web: tuple[TestClient, Network, Any],
) -> None:
    client, net, _ = web
    sign_in_page(client, net, "admin")
    listing = client.get("/admin/organisations")
    assert listing.status_code == 200 and net.local in listing.text and net.rcl not in listing.text
    assert 'href="/admin/users"' in client.get("/admin/organisations").text

    code = unique("KCS-DGU")
    bad = form_post(
        client,
        "/admin/organisations",
        {"code": code, "name": "Daegu", "kind": "local", "parent_code": net.rcl},
    )
    assert bad.status_code == 404 and "There is no organisation" in bad.text
    made = form_post(
        client,
        "/admin/organisations",
        {"code": code, "name": "Daegu lab", "kind": "local", "parent_code": net.central},
    )
    assert made.status_code == 303 and made.headers["location"] == f"/admin/organisations/{code}"
    detail = client.get(f"/admin/organisations/{code}")
    assert detail.status_code == 200 and "Daegu lab" in detail.text
    point = form_post(
        client,
        f"/admin/organisations/{code}/contact-points",
        {"name": "Jang Mi-rae", "role": "Manager", "email": ""},
        page=f"/admin/organisations/{code}",
    )
    assert point.status_code == 303 and "Jang Mi-rae" in client.get(f"/admin/organisations/{code}").text
    off = form_post(
        client, f"/admin/organisations/{code}/deactivate", {}, page=f"/admin/organisations/{code}"
    )
    assert off.status_code == 303 and "deactivated" in client.get(f"/admin/organisations/{code}").text

    username = unique("park").lower()
    invited = form_post(
        client,
        "/admin/users/invite",
        {
            "username": username,
            "full_name": "Park Seo-jun",
            "org_code": net.local,
            "roles": ["analyst", "reviewer"],
        },
        page="/admin/users",
    )
    assert invited.status_code == 303
    shown = client.get("/admin/users").text
    link = re.search(r'value="(http://testserver/invitation/[^"]+)"', shown)
    assert link and username in shown
    assert "/invitation/" not in client.get("/admin/users").text  # shown once
    assert "Park Seo-jun" in client.get(link.group(1).removeprefix("http://testserver")).text


def test_roles_must_fit_the_organisation(api: tuple[TestClient, Network]) -> None:
    client, net = api
    admin = signed_in(client, net, "admin")
    users = {u["username"]: u for u in client.get("/api/admin/users", headers=admin).json()}
    analyst = users[net["analyst"].username]
    for roles, why in (
        (["network_coordinator"], "Regional Customs Laboratory"),
        (["focal_point"], "member administration"),
    ):
        refused = client.put(
            f"/api/admin/users/{analyst['id']}/roles",
            json={"roles": roles, "row_version": analyst["row_version"]},
            headers=admin,
        )
        assert refused.status_code == 422 and why in refused.json()["error"], refused.text
    office_analyst = client.post(
        "/api/admin/users/invitations",
        json={"username": "desk.analyst", "full_name": "Desk", "org_code": net.office, "roles": ["analyst"]},
        headers=admin,
    )
    assert office_analyst.status_code == 422 and "work in a laboratory" in office_analyst.json()["error"]
    after = {u["username"]: u for u in client.get("/api/admin/users", headers=admin).json()}
    assert after[net["analyst"].username]["roles"] == ["analyst"] and "desk.analyst" not in after
