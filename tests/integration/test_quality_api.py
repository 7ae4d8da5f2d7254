"""The quality registers over HTTP, on SQLite and PostgreSQL: routes built from the declarations."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient

from customslab.adapters.quality_tables import TABLE_OF
from customslab.adapters.tables_base import metadata
from customslab.adapters.uow import Database
from tests.factories import Network
from tests.integration.conftest import signed_in

Headers = dict[str, str]


def test_the_tables_derived_from_the_entry_classes_are_the_ones_the_migrations_create(
    database: Database,
) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, metadata) if "quality_" in str(d)]
    assert {t.name for t in TABLE_OF.values()} <= set(metadata.tables)
    assert diffs == []


def _post(client: TestClient, path: str, headers: Headers, body: Any = None, status: int = 201) -> Any:
    r = client.post(f"/api/quality/{path}", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def test_an_instrument_is_registered_calibrated_and_taken_out_of_service_through_the_api(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    manager = signed_in(client, net, "central_manager")
    wrong = client.post("/api/quality/equipment", json={"equipment_id": ["x"], "name": "n"}, headers=manager)
    assert wrong.status_code == 422 and wrong.json()["field"] == "equipment_id"
    extra = client.post("/api/quality/equipment", json={"equipment_id": "x", "nom": "n"}, headers=manager)
    assert extra.status_code == 422
    eq = _post(client, "equipment", manager, {"equipment_id": "GC-1", "name": "GC-MS"})
    assert eq["label"] == "GC-MS (GC-1)" and eq["usable_today"] is False and eq["status"] == "in_service"
    calibration = {"result": "ok", "acceptance_criteria": "±0.1 u", "passed": True, "next_due": "2099-01-01"}
    eq = _post(client, f"equipment/{eq['id']}/calibrations", manager, calibration)
    assert eq["usable_today"] is True and eq["calibrations"][0]["next_due"] == "2099-01-01"
    broken = {"kind": "damage", "description": "source burnt", "out_of_service": True}
    eq = _post(client, f"equipment/{eq['id']}/maintenance", signed_in(client, net, "analyst"), broken)
    assert eq["status"] == "out_of_service" and eq["maintenance"][0]["kind"] == "damage"
    assert client.get(f"/api/quality/equipment/{eq['id']}", headers=manager).json() == eq
    assert client.get("/api/quality/equipment/due", headers=manager).json() == []
    outsider = signed_in(client, net, "outsider")
    assert client.get(f"/api/quality/equipment/{eq['id']}", headers=outsider).status_code == 404
    refused = client.post("/api/quality/equipment", json={"equipment_id": "x", "name": "n"})
    assert refused.status_code == 401


def test_a_method_goes_from_draft_to_another_laboratorys_catalogue_through_the_api(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    manager, outsider = signed_in(client, net, "central_manager"), signed_in(client, net, "outsider")
    validation = {"repeatability_sr": 0.05, "uncertainty_model": "GUM", "expanded_uncertainty_absolute": 0.2}
    draft = _post(
        client,
        "methods",
        manager,
        {"method_id": "M-7", "version": "2", "title": "Sugar by polarimetry", "validation": validation},
    )
    assert (draft["status"], draft["technique"], draft["origin"]["published_by"]) == (
        "draft",
        "other",
        net.central,
    )
    validated = _post(client, f"methods/{draft['id']}/validate", manager, status=200)  # no body needed
    assert validated["status"] == "validated" and validated["validation"]["repeatability_sr"] == 0.05
    assert _post(client, f"methods/{draft['id']}/publish", manager, status=200)["published"] is True
    copy = _post(client, f"methods/{draft['id']}/adopt", outsider)
    assert (copy["lab_code"], copy["status"], copy["adopted_from_id"]) == (
        net.other_lab,
        "draft",
        draft["id"],
    )
    again = client.post(f"/api/quality/methods/{draft['id']}/adopt", headers=outsider)
    assert again.status_code == 409


def test_competence_and_qc_records_are_kept_through_the_api(api: tuple[TestClient, Network]) -> None:
    client, net = api
    manager = signed_in(client, net, "central_manager")
    analyst_id = net["analyst"].user_id
    training = _post(client, "training", manager, {"user_id": analyst_id, "topic": "GC-MS"})
    assert training["user"] == analyst_id and training["user_id"] == net["analyst"].username
    assert client.get("/api/quality/training", headers=manager).json() == [training]
    grant = _post(client, "authorisations", manager, {"user_id": analyst_id, "role": "analyst"})
    assert grant["method_id"] is None and grant["revoked"] is False
    assert _post(client, f"authorisations/{grant['id']}/revoke", manager, status=200)["revoked"] is True
    material = {
        "rm_id": "CRM-1",
        "name": "Sucrose",
        "certificate": "NIST 17f",
        "lot": "9",
        "expiry": "2000-01-01",
        "certified_value": "99.9",
        "expanded_uncertainty": "0.1",
        "unit": "%",
    }
    rm = _post(client, "reference-materials", manager, material)
    assert rm["expired"] is True and rm["certified_value"] == 99.9
    qc = {"material": "CRM", "target_mean": 10, "target_sd": 0.1, "points": [10.0, {"value": 10.5}]}
    batch = _post(client, "qc-batches", signed_in(client, net, "analyst"), qc)
    assert batch["status"] == "out of control" and batch["violations"][-1]["rule"] == "1-3s"
    fixed = _post(client, f"qc-batches/{batch['id']}/corrective-actions", manager, {"description": "Rerun."})
    assert fixed["releasable"] is True
    chart = client.get(f"/api/quality/qc-batches/{batch['id']}/chart.svg", headers=manager)
    assert chart.headers["content-type"].startswith("image/svg+xml") and chart.text.startswith("<svg")
    bad = client.post("/api/quality/qc-batches", json=qc | {"equipment_id": ["1"]}, headers=manager)
    assert bad.status_code == 422 and bad.json()["field"] == "equipment_id"
