"""A proficiency-test round across the network, through the API, on both backends."""

from __future__ import annotations

from typing import Any

from customslab.domain.access import Actor
from customslab.domain.enums import OrgKind, Role
from customslab.domain.model import Organisation
from customslab.services import proficiency
from customslab.services.proficiency import PtResultCreate
from tests.factories import make_network, unique
from tests.integration.test_api_story import _client, server  # noqa: F401  (fixture)


def test_a_round_is_opened_answered_evaluated_and_each_lab_sees_only_its_own_scores(server: tuple[str, Any]):  # noqa: F811
    base, uow_factory = server
    net = make_network(uow_factory)
    extra = [unique("PTL") for _ in range(5)]
    with uow_factory() as uow:
        for code in extra:
            uow.repo.add(
                Organisation(code, f"Participant {code}", OrgKind.LOCAL, "KR", administration_code=net.home)
            )
        uow.commit()
    coordinator = _client(base, net, "coordinator")
    participants = [net.local, net.central, *extra]
    bad = coordinator.post(
        "/api/pt/rounds", json={"title": "x", "participants": [net.office], "measurands": []}
    )
    assert bad.status_code == 422 and "not a laboratory" in bad.json()["error"]
    created = coordinator.post(
        "/api/pt/rounds",
        json={
            "title": "Alcoholic strength of spirits 2026",
            "participants": participants,
            "measurands": [{"measurand": "alcohol_strength", "unit": "%vol"}],
        },
    )
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    local = _client(base, net, "local_manager")
    assert local.post(
        f"/api/pt/rounds/{rid}/results", json={"measurand": "alcohol_strength", "value": 40.1}
    ).is_success
    again = local.post(f"/api/pt/rounds/{rid}/results", json={"measurand": "alcohol_strength", "value": 40.2})
    assert again.status_code == 409
    central = _client(base, net, "central_manager")
    central.post(
        f"/api/pt/rounds/{rid}/results",
        json={"measurand": "alcohol_strength", "value": 47.0, "expanded_uncertainty": 0.3},
    )

    for i, code in enumerate(extra):
        actor = Actor(0, f"pt{i}", code, frozenset({Role.LAB_MANAGER}))
        result = PtResultCreate(measurand="alcohol_strength", value=40.0 + 0.1 * i)
        proficiency.submit_result(uow_factory(), actor, rid, result)
    outsider = _client(base, net, "outsider")
    assert outsider.get(f"/api/pt/rounds/{rid}").status_code == 404
    assert local.post(f"/api/pt/rounds/{rid}/evaluate").status_code == 403
    evaluated = coordinator.post(f"/api/pt/rounds/{rid}/evaluate")
    assert evaluated.status_code == 200, evaluated.text
    report = evaluated.json()["reports"][0]
    by_lab = {s["lab_id"]: s for s in report["scores"]}
    assert by_lab[net.central]["z_performance"] == "unsatisfactory"
    assert by_lab[net.local]["z_performance"] == "satisfactory"
    assert abs(report["assigned_value"] - 40.2) < 0.3
    mine = local.get(f"/api/pt/rounds/{rid}").json()
    assert [s["lab_id"] for s in mine["reports"][0]["scores"]] == [net.local]
    assert local.get(f"/api/pt/rounds/{rid}/chart.svg").text.startswith("<svg")
    late = local.post(f"/api/pt/rounds/{rid}/results", json={"measurand": "alcohol_strength", "value": 1})
    assert late.status_code in (409, 422) and "closed" in late.json()["error"]
