"""What the member self-service and confidentiality tests share: the app, extra users, a sample registered
at the central laboratory, and a laboratory's analysis and report of it."""

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
from tests.factories import PASSWORD, Network, make_network, request_data, rum_result, unique


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


def registered_at_the_central(client: TestClient, net: Network) -> tuple[int, int]:
    """The officer's request to the central laboratory, and the sample its manager registers on it:
    (request id, sample id)."""
    officer, central = bearer(client, net, "officer"), bearer(client, net, "central_manager")
    req = ok(client.post("/api/requests", json=request_data(net, lab_code=net.central), headers=officer), 201)
    body = {"quantity": "1", "unit": "L"}
    sample = ok(client.post(f"/api/requests/{req['id']}/samples", json=body, headers=central), 201)
    return req["id"], sample["id"]


def analyse_at_the_rcl(client: TestClient, net: Network, sample_id: int, seal: str) -> int:
    """The RCL receives the referred sample, measures it, approves and reports it: the report's id."""
    report = analyse_and_report(
        client,
        net,
        sample_id,
        manager="rcl_manager",
        analyst="rcl_analyst",
        reviewer="rcl_manager",
        method_ref="WCO-RCL-M-7",
        receipt={"seal_number": seal},
    )
    return int(report["id"])


def analyse_and_report(
    client: TestClient,
    net: Network,
    sample_id: int,
    *,
    manager: str,
    analyst: str,
    reviewer: str,
    method_ref: str,
    receipt: dict[str, str],
) -> Any:
    """The laboratory of `manager` receives the sample with `receipt` and plans the alcoholic strength by
    `method_ref` for `analyst`, who measures it; `reviewer` approves and reports it: the report."""
    signed = {who: bearer(client, net, who) for who in dict.fromkeys((manager, analyst, reviewer))}
    managing, measuring, reviewing = signed[manager], signed[analyst], signed[reviewer]
    ok(client.post(f"/api/samples/{sample_id}/receive", json=receipt, headers=managing))
    test = ok(
        client.post(
            f"/api/samples/{sample_id}/tests",
            json={
                "determination": "alcoholic strength",
                "method_ref": method_ref,
                "analyst_id": net[analyst].user_id,
            },
            headers=managing,
        ),
        201,
    )
    ok(client.post(f"/api/tests/{test['id']}/results", json=rum_result("40.1"), headers=measuring), 201)
    ok(client.post(f"/api/tests/{test['id']}/submit", headers=measuring))
    ok(client.post(f"/api/tests/{test['id']}/review", json={"approve": True}, headers=reviewing))
    return ok(client.post(f"/api/samples/{sample_id}/report", json={}, headers=reviewing), 201)
