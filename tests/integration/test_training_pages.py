"""Training on the pages and the API (SQLite): a coordinator opens a workshop, registers a participant,
records the completion; the participant's lab manager accepts it on the programme page, and the record
shows on the laboratory's staff competence page. Bad input gets a 4xx and stores nothing."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customslab.services import training
from customslab.services.training_views import ProgrammeQuery
from tests.factories import PASSWORD, Network
from tests.integration.conftest import signed_in

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
HTMX = {"HX-Request": "true"}
WORKSHOP = {
    "title": "Asia/Pacific RCL workshop on the analysis of food preparations",
    "kind": "workshop",
    "starts_on": "2026-03-02",
    "ends_on": "2026-03-06",
    "sharing": "network",
    "materials": "3 4",
    "description": "Pepper preparations and cooked rice.",
}


def sign_in(client: TestClient, net: Network, who: str) -> None:
    client.cookies.clear()
    token = TOKEN.search(client.get("/login").text)
    assert token
    data = {"username": net[who].username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def post(client: TestClient, path: str, data: dict[str, Any], token: bool = True) -> Any:
    found = TOKEN.search(client.get("/training").text)
    assert found
    if not token:  # as a plain form (htmx would get the refusal as a message on the page)
        return client.post(path, data=data, follow_redirects=False)
    return client.post(
        path, data={**data, "csrf_token": found.group(1)}, headers=HTMX, follow_redirects=False
    )


def landed(response: Any) -> str:
    assert response.status_code == 204, response.text
    return str(response.headers["HX-Redirect"])


def form_errors(response: Any) -> list[str]:
    assert response.status_code == 200 and response.headers.get("HX-Reswap") == "none", response.text
    return [e["field"] for e in json.loads(response.headers["HX-Trigger"])["form-errors"]["errors"]]


def test_a_completion_recorded_by_the_host_and_accepted_on_the_page_shows_on_the_staff_page(
    client: TestClient, app: Any, net: Network
) -> None:
    sign_in(client, net, "coordinator")
    assert 'href="/training"' in client.get("/training").text
    page = landed(post(client, "/training/programmes", WORKSHOP)).split("#")[0]
    html = client.get(page).text
    assert WORKSHOP["title"] in html and 'href="/knowledge/documents/4"' in html
    # The edit form carries the version read: a change made since is refused, the form's is saved.
    version = re.search(r'name="row_version" value="(\d+)"', html)
    assert version, "no row_version on the edit form"
    stale = post(client, f"{page}/edit", {**WORKSHOP, "row_version": str(int(version.group(1)) + 1)})
    assert "changed by someone else" in str(stale.headers), (stale.status_code, stale.headers)
    landed(
        post(client, f"{page}/edit", {**WORKSHOP, "ends_on": "2026-03-07", "row_version": version.group(1)})
    )
    # The analyst's own manager registers them; the host records the completion.
    sign_in(client, net, "central_manager")
    landed(post(client, f"{page}/participants", {"user_id": str(net["analyst"].user_id)}))
    sign_in(client, net, "coordinator")
    (participation,) = training.programme_detail(
        app.state.uow_factory(), net["coordinator"], int(page.rsplit("/", 1)[1])
    ).participants
    done = {"step": "completed", "completed_on": "2026-03-06", "hours": "32", "outcome": "passed"}
    landed(post(client, f"/training/participations/{participation.id}/completion", done))

    sign_in(client, net, "central_manager")
    listing = client.get("/training").text
    assert 'id="awaiting"' in listing and WORKSHOP["title"] in listing
    assert "Accept into the competence records" in client.get(page).text
    landed(post(client, f"/training/participations/{participation.id}/acceptance", {"accept": "true"}))
    staff = client.get("/quality/staff").text.split('id="training"')[1]
    assert WORKSHOP["title"] in staff and "Regional lab" in staff

    sign_in(client, net, "local_manager")
    third = client.get(page).text
    assert WORKSHOP["title"] in third and net["analyst"].username not in third
    assert "Accept into the competence records" not in third


def test_forms_without_the_csrf_token_or_with_bad_input_are_refused_and_store_nothing(
    client: TestClient, app: Any, net: Network
) -> None:
    sign_in(client, net, "coordinator")
    assert post(client, "/training/programmes", WORKSHOP, token=False).status_code == 403
    backwards = {**WORKSHOP, "ends_on": "2026-03-01"}
    assert form_errors(post(client, "/training/programmes", backwards))
    assert form_errors(post(client, "/training/programmes", {**WORKSHOP, "materials": "3 x"})) == [
        "materials"
    ]
    shown = training.list_programmes(app.state.uow_factory(), net["coordinator"], ProgrammeQuery())
    assert [p for p in (*shown.upcoming, *shown.past) if p.host_code == net.rcl] == []
    sign_in(client, net, "officer")
    assert client.get("/training").status_code == 403


def test_the_api_runs_the_whole_path_and_answers_bad_input_with_a_4xx(
    client: TestClient, net: Network
) -> None:
    host, manager = signed_in(client, net, "coordinator"), signed_in(client, net, "central_manager")
    body = {k: v for k, v in WORKSHOP.items() if k != "materials"} | {"materials": [3, 4]}
    created = client.post("/api/training/programmes", json=body, headers=host)
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    assert (
        client.post(
            "/api/training/programmes", json={**body, "ends_on": "2026-01-01"}, headers=host
        ).status_code
        == 422
    )
    assert (
        client.post("/api/training/programmes", json={**body, "kind": "party"}, headers=host).status_code
        == 422
    )
    assert client.post("/api/training/programmes", json=body, headers=manager).status_code == 201
    assert (
        client.patch(
            f"/api/training/programmes/{pid}", json={"title": "x", "row_version": 1}, headers=manager
        ).status_code
        == 403
    )
    version = created.json()["row_version"]
    kept = client.patch(
        f"/api/training/programmes/{pid}",
        json={"title": None, "ends_on": "2026-03-07", "row_version": version},
        headers=host,
    )
    assert kept.status_code == 200 and kept.json()["title"] == WORKSHOP["title"]  # null: left as it is
    assert kept.json()["row_version"] > version
    # A change made on the copy read before that edit is refused, and changes nothing.
    stale = client.patch(
        f"/api/training/programmes/{pid}", json={"title": "Stale", "row_version": version}, headers=host
    )
    assert stale.status_code == 409
    assert client.get(f"/api/training/programmes/{pid}", headers=host).json()["programme"]["title"] != "Stale"
    assert (
        client.patch(f"/api/training/programmes/{pid}", json={"title": "x"}, headers=host).status_code == 422
    )
    backwards = client.patch(
        f"/api/training/programmes/{pid}",
        json={"ends_on": "2026-03-01", "row_version": kept.json()["row_version"]},
        headers=host,
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "ends_on"
    assert client.get("/api/training/programmes", params={"host": "R\x0e"}, headers=host).status_code == 422
    assert client.get("/api/training/programmes/999999", headers=host).status_code == 404
    both = {"user_id": net["analyst"].user_id, "name": "x", "org_code": net.central}
    path = f"/api/training/programmes/{pid}/participants"
    assert client.post(path, json=both, headers=host).status_code == 422
    registered = client.post(path, json={"user_id": net["analyst"].user_id}, headers=manager)
    assert registered.status_code == 201, registered.text
    part = registered.json()["id"]
    step = f"/api/training/participations/{part}/completion"
    too_long = {"step": "completed", "completed_on": "2026-03-06", "hours": 5000}
    assert client.post(step, json=too_long, headers=host).status_code == 422
    assert client.post(step, json={"step": "completed"}, headers=host).status_code == 422
    early = client.post(
        step, json={"step": "completed", "completed_on": "2026-03-01", "hours": 8}, headers=host
    )
    assert early.status_code == 422 and early.json()["field"] == "completed_on"
    done = client.post(
        step, json={"step": "completed", "completed_on": "2026-03-06", "hours": 8}, headers=host
    )
    assert done.status_code == 200 and done.json()["acceptance"] == "pending"
    accept = f"/api/training/participations/{part}/acceptance"
    assert client.post(accept, json={"accept": True}, headers=host).status_code == 403
    accepted = client.post(accept, json={"accept": True}, headers=manager)
    assert accepted.status_code == 200 and accepted.json()["training_entry_id"]
    records = client.get("/api/quality/training", headers=manager).json()
    (topic,) = [r["topic"] for r in records if r["user"] == net["analyst"].user_id]
    assert topic.startswith("Asia/Pacific")
    listed = client.get(
        "/api/training/programmes", params={"kind": "workshop", "year": 2026}, headers=manager
    )
    assert pid in [p["id"] for p in listed.json()["past"] + listed.json()["upcoming"]]
    assert client.get("/api/training/programmes", params={"year": "soon"}, headers=manager).status_code == 422
