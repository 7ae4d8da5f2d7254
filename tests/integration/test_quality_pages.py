"""The quality registers' pages, in process: each register is written on its page, by the roles its use
case accepts, and a refused form stores nothing."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from customslab.services import proficiency
from customslab.services import quality_control as qc
from customslab.services import quality_equipment as equipment
from customslab.services import quality_methods as methods
from tests.factories import PASSWORD, Network

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
HTMX = {"HX-Request": "true"}


def sign_in(client: TestClient, net: Network, who: str) -> TestClient:
    client.cookies.clear()
    token = TOKEN.search(client.get("/login").text)
    assert token
    data = {"username": net[who].username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def post(client: TestClient, path: str, data: dict[str, Any], htmx: bool = True) -> Any:
    """A form posted as the page posts it: by htmx, with the session's CSRF token."""
    token = TOKEN.search(client.get("/hs").text)
    assert token
    headers = HTMX if htmx else {}
    return client.post(
        path, data={**data, "csrf_token": token.group(1)}, headers=headers, follow_redirects=False
    )


def landed(response: Any) -> str:
    """Where a successful htmx form sends the browser."""
    assert response.status_code == 204, response.text
    return str(response.headers["HX-Redirect"])


def form_errors(response: Any) -> list[dict[str, Any]]:
    """The faults a refused htmx form reports, each naming its input."""
    assert response.status_code == 200 and response.headers.get("HX-Reswap") == "none", response.text
    return list(json.loads(response.headers["HX-Trigger"])["form-errors"]["errors"])


def section(html: str, id_: str) -> str:
    return html.split(f'id="{id_}"')[1].split("</section>")[0]


METHOD = {
    "method_id": "KCS-ALC-01",
    "version": "1",
    "title": "Alcoholic strength by density",
    "technique": "density",
    "analytes": "ethanol\n\nmethanol\n",
    "hs_headings": "2208",
}
VALIDATION = {
    "validation.repeatability_sr": "0.02",
    "validation.uncertainty_model": "GUM bottom-up",
    "validation.expanded_uncertainty_absolute": "0,1",
    "validation.unit": "%vol",
}
ROUND = {
    "title": "Ethanol in spirits",
    "measurands.0.measurand": "ethanol",
    "measurands.0.unit": "%vol",
    "measurands.0.assigned_value": "40.0",
    "measurands.0.sigma_pt": "0.2",
}


def test_a_lab_manager_records_validates_and_publishes_a_method_version_on_its_pages(
    client: TestClient, app: Any, net: Network
) -> None:
    sign_in(client, net, "central_manager")
    assert 'hx-post="/quality/methods"' in client.get("/quality/methods").text
    where = landed(post(client, "/quality/methods", METHOD))
    page = client.get(where).text
    assert "KCS-ALC-01 v1 (Alcoholic strength by density)" in page and "ethanol, methanol" in page
    assert "draft" in section(page, "method") and f'hx-post="{where}/validate"' in page

    assert landed(post(client, f"{where}/validate", VALIDATION)) == where
    page = client.get(where).text
    assert "validated" in section(page, "method") and "GUM bottom-up" in section(page, "validation")
    assert landed(post(client, f"{where}/publish", {})) == where
    listed = section(client.get("/quality/methods").text, "methods")
    assert f'href="{where}"' in listed and "published" in listed

    (stored,) = [
        m
        for m in methods.METHODS.list_all(app.state.uow_factory(), net["central_manager"])
        if m.lab_code == net.central
    ]
    assert stored.analytes == ("ethanol", "methanol") and stored.validation is not None
    assert stored.validation.expanded_uncertainty_absolute == 0.1


def test_a_lab_manager_registers_an_instrument_and_records_its_calibration_and_maintenance(
    client: TestClient, net: Network
) -> None:
    sign_in(client, net, "central_manager")
    instrument = {
        "equipment_id": "GCMS-01",
        "name": "GC-MS bench",
        "manufacturer": "Agilent",
        "model": "5977",
    }
    where = landed(post(client, "/quality/equipment", instrument))
    calibration = {
        "kind": "calibration",
        "performed_on": "2025-03-01",
        "next_due": "2099-03-01",
        "result": "mass axis within 0.1 u",
        "acceptance_criteria": "±0.2 u",
        "passed": "yes",
        "certificate": "CAL-2025-17",
    }
    assert landed(post(client, f"{where}/calibrations", calibration)).startswith(where)
    outage = {"kind": "damage", "description": "ion source fouled", "out_of_service": "yes"}
    assert landed(post(client, f"{where}/maintenance", outage)).startswith(where)

    page = client.get(where).text
    assert "CAL-2025-17" in section(page, "calibrations") and "2099-03-01" in page
    assert "ion source fouled" in section(page, "maintenance")
    assert "out of service" in section(page, "instrument")
    listed = section(client.get("/quality/equipment").text, "equipment")
    assert "GC-MS bench (GCMS-01)" in listed and "Agilent 5977" in listed


def test_a_lab_manager_grants_an_authorisation_records_training_and_revokes_it(
    client: TestClient, net: Network
) -> None:
    sign_in(client, net, "central_manager")
    analyst = net["analyst"]
    grant = {"user_id": str(analyst.user_id), "role": "analyst", "method_id": "", "valid_until": "2099-12-31"}
    assert landed(post(client, "/quality/authorisations", grant)) == "/quality/staff#authorisations"
    training = {"user_id": str(analyst.user_id), "topic": "Density meter operation", "trainer": "KCS"}
    assert landed(post(client, "/quality/training", training)) == "/quality/staff#training"

    page = client.get("/quality/staff").text
    people = section(page, "authorisations")
    assert "every method" in people and "2099-12-31" in people and "revoked" not in people
    assert "Density meter operation" in section(page, "training")
    revoke = re.search(r'hx-post="(/quality/authorisations/\d+/revoke)"', people)
    assert revoke
    landed(post(client, revoke.group(1), {}))
    assert "revoked" in section(client.get("/quality/staff").text, "authorisations")


def test_an_analyst_records_a_qc_batch_and_a_reviewer_records_the_corrective_action(
    client: TestClient, net: Network
) -> None:
    sign_in(client, net, "analyst")
    batch = {
        "material": "CRM ethanol 40 %vol",
        "target_mean": "40",
        "target_sd": "0.1",
        "points": "40.0 40,05\n39.95; 40.41",
    }
    where = landed(post(client, "/quality/qc", batch))
    page = client.get(where).text
    assert "out of control" in section(page, "batch") and "1-3s" in section(page, "violations")
    assert "40.05" in section(page, "points") and page.count("<svg") == 1
    # An analyst records batches; a corrective action is for a reviewer or the manager.
    assert f'hx-post="{where}/corrective-actions"' not in page
    assert (
        post(client, f"{where}/corrective-actions", {"description": "recalibrated"}, htmx=False).status_code
        == 403
    )

    sign_in(client, net, "reviewer")
    assert landed(post(client, f"{where}/corrective-actions", {"description": "Density meter recalibrated"}))
    page = client.get(where).text
    assert "Density meter recalibrated" in section(page, "corrective-actions")
    assert "yes" in section(page, "batch").split("Results may be released")[1]
    assert "CRM ethanol 40 %vol" in section(client.get("/quality/qc").text, "qc")


def test_a_coordinator_opens_a_round_and_a_participant_submits_its_result_on_the_round_page(
    client: TestClient, app: Any, net: Network
) -> None:
    sign_in(client, net, "coordinator")
    assert 'href="/quality/pt"' in client.get("/hs").text  # the coordinator's way in
    where = landed(post(client, "/quality/pt", {**ROUND, "participants": [net.central, net.local]}))
    page = client.get(where).text
    assert "ethanol" in section(page, "measurands") and net.local in section(page, "round")
    assert "Submit a result" not in page  # the coordinator does not take part

    sign_in(client, net, "central_manager")
    assert 'href="' + where in section(client.get("/quality/pt").text, "rounds")
    result = {"measurand": "ethanol", "value": "40,1", "expanded_uncertainty": "0.2"}
    assert landed(post(client, f"{where}/results", result)).startswith(where)
    page = client.get(where).text
    assert net.central in section(page, "results") and "40.1" in section(page, "results")
    assert "every measurand" in page  # nothing is left to submit
    round_id = int(where.rsplit("/", 1)[1])
    view = proficiency.round_detail(app.state.uow_factory(), net["coordinator"], round_id)
    assert [(r.lab, r.result.value) for r in view.results] == [(net.central, 40.1)]
    assert f'hx-post="{where}/evaluate"' not in page  # a participant does not close the round

    sign_in(client, net, "coordinator")
    assert landed(post(client, f"{where}/evaluate", {})).startswith(where)
    scores = section(client.get(where).text, "reports")
    assert net.central in scores and "0.50" in scores and "satisfactory" in scores


def test_a_role_the_use_case_refuses_sees_no_form_and_its_post_is_refused(
    client: TestClient, app: Any, net: Network
) -> None:
    sign_in(client, net, "analyst")
    assert 'hx-post="/quality/methods"' not in client.get("/quality/methods").text
    page = client.get("/quality/equipment").text
    assert 'hx-post="/quality/equipment"' not in page and 'hx-post="/quality/reference-materials"' not in page
    assert 'hx-post="/quality/authorisations"' not in client.get("/quality/staff").text
    assert post(client, "/quality/methods", METHOD, htmx=False).status_code == 403
    assert (
        post(client, "/quality/equipment", {"equipment_id": "X-1", "name": "x"}, htmx=False).status_code
        == 403
    )
    grant = {"user_id": str(net["analyst"].user_id), "role": "analyst"}
    assert post(client, "/quality/authorisations", grant, htmx=False).status_code == 403
    assert 'hx-post="/quality/pt"' not in client.get("/quality/pt").text
    assert (
        post(client, "/quality/pt", {**ROUND, "participants": [net.central]}, htmx=False).status_code == 403
    )

    sign_in(client, net, "officer")
    for path in ("/quality/methods", "/quality/equipment", "/quality/staff", "/quality/qc", "/quality/pt"):
        assert client.get(path).status_code == 403, path
    assert (
        post(
            client,
            "/quality/qc",
            {"material": "m", "target_mean": "1", "target_sd": "1", "points": "1"},
            htmx=False,
        ).status_code
        == 403
    )

    uow, manager = app.state.uow_factory, net["central_manager"]
    assert [m for m in methods.METHODS.list_all(uow(), manager) if m.lab_code == net.central] == []
    assert equipment.EQUIPMENT.list_all(uow(), manager) == []
    assert qc.AUTHORISATIONS.list_all(uow(), manager) == [] and qc.QC_BATCHES.list_all(uow(), manager) == []


def test_bad_input_is_reported_next_to_its_field_and_nothing_is_stored(
    client: TestClient, app: Any, net: Network
) -> None:
    sign_in(client, net, "central_manager")
    faults = form_errors(
        post(
            client,
            "/quality/qc",
            {"material": "CRM", "target_mean": "40", "target_sd": "0", "points": "40 abc"},
        )
    )
    assert {f["field"] for f in faults} == {"target_sd", "points"}
    assert any(f["message"] == "Entry 2: 'abc' is not a number." for f in faults)
    no_title = {**METHOD, "title": " ", "validation.lod": "-1"}
    assert {f["field"] for f in form_errors(post(client, "/quality/methods", no_title))} == {
        "title",
        "validation.lod",
    }
    assert post(client, "/quality/methods", no_title, htmx=False).status_code == 422

    where = landed(post(client, "/quality/equipment", {"equipment_id": "FTIR-2", "name": "ATR bench"}))
    backwards = {
        "performed_on": "2025-03-01",
        "next_due": "2025-02-01",
        "result": "ok",
        "acceptance_criteria": "ok",
    }
    assert [f["field"] for f in form_errors(post(client, f"{where}/calibrations", backwards))] == ["next_due"]
    # The draft lacks validation data: the domain refuses, on the page, and the draft stays a draft.
    draft = landed(post(client, "/quality/methods", METHOD))
    assert form_errors(post(client, f"{draft}/validate", {}))
    assert post(client, f"{draft}/validate", {}, htmx=False).status_code == 409

    uow, manager = app.state.uow_factory, net["central_manager"]
    assert qc.QC_BATCHES.list_all(uow(), manager) == []
    (instrument,) = equipment.EQUIPMENT.list_all(uow(), manager)
    assert instrument.calibrations == []
    own = [m for m in methods.METHODS.list_all(uow(), manager) if m.lab_code == net.central]
    assert [(m.title, m.status.value) for m in own] == [(METHOD["title"], "draft")]


def test_a_central_laboratory_reads_a_local_laboratorys_registers_without_forms(
    client: TestClient, app: Any, net: Network
) -> None:
    equipment.EQUIPMENT.record(
        app.state.uow_factory(),
        net["local_manager"],
        equipment.EquipmentCreate(equipment_id="XRF-3", name="XRF"),
    )
    sign_in(client, net, "central_manager")
    page = client.get(f"/quality/equipment?lab={net.local}").text
    assert "XRF (XRF-3)" in page and "read-only" in page and 'hx-post="/quality/equipment"' not in page
    detail = re.search(r'href="(/quality/equipment/\d+)"', section(page, "equipment"))
    assert detail
    assert "/calibrations" not in client.get(detail.group(1)).text
    assert (
        post(
            client,
            f"{detail.group(1)}/calibrations",
            {"result": "ok", "acceptance_criteria": "ok", "next_due": "2099-01-01"},
            htmx=False,
        ).status_code
        == 404
    )
