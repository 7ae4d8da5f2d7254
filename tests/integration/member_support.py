"""What the member self-service and confidentiality tests share: the app, extra users, the RCL's work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.domain.access import Actor
from customslab.domain.enums import Role
from customslab.entrypoints.web.app import create_web_app
from customslab.services import auth
from tests.factories import PASSWORD, Network, make_network, unique


def add_user(uow_factory: Any, net: Network, name: str, org: str, roles: list[Role]) -> Actor:
    """A user with `roles` at `org`, as the factories add them; the network knows it as `name`."""
    cmd = auth.UserCreate(
        username=unique(name), full_name=name, org_code=org, roles=list(roles), password=PASSWORD
    )
    out = auth.add_user(uow_factory(), cmd)
    net.users[name] = Actor(out.id, out.username, org, frozenset(roles))
    return net.users[name]


World = tuple[TestClient, Network, Any]


@contextmanager
def a_world(database: Database, tmp_path: Path) -> Iterator[World]:
    """The API and the pages on the test database (client, network, unit-of-work factory); the network
    has a member focal point, an officer of the member administration and an analyst at the RCL."""
    settings = Settings(mode="test", database_url=database.url, file_store=tmp_path / "files")
    app = create_web_app(settings, db=database)
    uow_factory = app.state.uow_factory
    net = make_network(uow_factory)
    add_user(uow_factory, net, "focal_point", net.member, [Role.FOCAL_POINT])
    add_user(uow_factory, net, "member_officer", net.member, [Role.REQUESTER])
    add_user(uow_factory, net, "rcl_analyst", net.rcl, [Role.ANALYST])
    with TestClient(app) as client:
        yield client, net, uow_factory


def bearer(client: TestClient, net: Network, who: str) -> dict[str, str]:
    r = client.post("/api/auth/token", json={"username": net[who].username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def analyse_at_the_rcl(client: TestClient, net: Network, sample_id: int, seal: str) -> int:
    """The RCL receives the referred sample, measures it, approves and reports it: the report's id."""
    manager, analyst = bearer(client, net, "rcl_manager"), bearer(client, net, "rcl_analyst")
    ok(client.post(f"/api/samples/{sample_id}/receive", json={"seal_number": seal}, headers=manager))
    test = ok(
        client.post(
            f"/api/samples/{sample_id}/tests",
            json={
                "determination": "alcoholic strength",
                "method_ref": "WCO-RCL-M-7",
                "analyst_id": net["rcl_analyst"].user_id,
            },
            headers=manager,
        ),
        201,
    )
    result = {
        "name": "alcohol_strength",
        "value": "40.1",
        "unit": "%vol",
        "expanded_uncertainty": "0.2",
        "coverage_factor": "2",
    }
    ok(client.post(f"/api/tests/{test['id']}/results", json=result, headers=analyst), 201)
    ok(client.post(f"/api/tests/{test['id']}/submit", headers=analyst))
    ok(client.post(f"/api/tests/{test['id']}/review", json={"approve": True}, headers=manager))
    report = ok(client.post(f"/api/samples/{sample_id}/report", json={}, headers=manager), 201)
    return int(report["id"])
