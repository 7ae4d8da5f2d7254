"""Absurd values sent to the API get a 422 that names the field, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Network, request_data
from tests.integration.conftest import signed_in

Headers = dict[str, str]


def _refused(response: Any, field: str, words: str = "") -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"].split(".")[-1] == field, body
    assert words in body["error"]


def _years_from_today(years: int) -> str:
    today = datetime.now(UTC).date()
    try:
        return today.replace(year=today.year + years).isoformat()
    except ValueError:  # 29 February
        return today.replace(year=today.year + years, day=28).isoformat()


def _request(client: TestClient, net: Network, officer: Headers) -> int:
    r = client.post("/api/requests", json=request_data(net), headers=officer)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_a_request_with_an_absurd_due_date_or_hs_code_is_refused_naming_the_field(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    officer = signed_in(client, net, "officer")
    for due, words in [
        ("9999-12-31", "between the years 1900 and 2199"),
        (_years_from_today(3), "too far ahead"),
    ]:
        r = client.post("/api/requests", json=request_data(net, due_date=due), headers=officer)
        _refused(r, "due_date", words)
    r = client.post("/api/requests", json=request_data(net, declared_hs="99.99.99"), headers=officer)
    _refused(r, "declared_hs", "write the heading's 4 digits first")
    within = request_data(net, due_date=_years_from_today(1), declared_hs="2208.40.1000")
    r = client.post("/api/requests", json=within, headers=officer)
    assert r.status_code == 201, r.text
    assert r.json()["declared_hs"] == "2208401000"


def test_a_sample_in_furlongs_or_of_1e400_grams_is_refused_and_one_in_bottles_is_registered(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    request_id = _request(client, net, signed_in(client, net, "officer"))
    manager = signed_in(client, net, "local_manager")
    path = f"/api/requests/{request_id}/samples"
    for unit in ("furlongs", "parsecs^-7"):
        _refused(client.post(path, json={"quantity": "2", "unit": unit}, headers=manager), "unit", unit)
    _refused(client.post(path, json={"quantity": "1e400", "unit": "g"}, headers=manager), "quantity")
    # A JSON number too large for a float: the body is written by hand, as json.dumps cannot.
    raw = b'{"quantity": 1e400, "unit": "g"}'
    r = client.post(path, content=raw, headers=manager | {"Content-Type": "application/json"})
    _refused(r, "quantity")
    r = client.post(path, json={"quantity": "2", "unit": "bottles"}, headers=manager)
    assert r.status_code == 201, r.text


def test_a_result_in_a_unit_of_another_dimension_or_with_a_list_as_equipment_id_is_refused(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    request_id = _request(client, net, signed_in(client, net, "officer"))
    manager, analyst = signed_in(client, net, "local_manager"), signed_in(client, net, "local_analyst")
    sample = client.post(
        f"/api/requests/{request_id}/samples", json={"quantity": "700", "unit": "mL"}, headers=manager
    ).json()
    assert client.post(f"/api/samples/{sample['id']}/receive", json={}, headers=manager).is_success
    test = client.post(
        f"/api/samples/{sample['id']}/tests",
        json={"determination": "alcoholic strength", "method_ref": "M-22"},
        headers=manager,
    ).json()
    path = f"/api/tests/{test['id']}/results"
    result = {"name": "alcohol_strength", "value": "40.2", "unit": "%vol"}
    _refused(client.post(path, json=result | {"unit": "g/kg"}, headers=analyst), "unit", "alcoholic strength")
    _refused(client.post(path, json=result | {"unit": "parsecs^-7"}, headers=analyst), "unit", "not a unit")
    for bad in (["x"], "x", True, 0):
        r = client.post(path, json=result | {"equipment_id": bad}, headers=analyst)
        _refused(r, "equipment_id")
    r = client.post(path, json=result, headers=analyst)
    assert r.status_code == 201, r.text
    assert r.json()["unit"] == "%vol"


def test_a_qc_batch_with_a_list_as_equipment_id_or_a_moment_in_9999_is_refused(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    manager = signed_in(client, net, "central_manager")
    batch = {"material": "ethanol 40 %vol control", "target_mean": 40, "target_sd": 0.1, "points": [40.0]}
    r = client.post("/api/quality/qc-batches", json=batch | {"equipment_id": ["x"]}, headers=manager)
    _refused(r, "equipment_id")
    late = {"value": 40.0, "measured_at": "9999-12-31T09:00:00+09:00"}
    r = client.post("/api/quality/qc-batches", json=batch | {"points": [late]}, headers=manager)
    _refused(r, "measured_at", "between the years 1900 and 2199")
    r = client.post("/api/quality/qc-batches", json=batch, headers=manager)
    assert r.status_code == 201, r.text


def test_an_hs_search_for_punctuation_alone_is_refused_naming_q_not_a_server_error(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    analyst = signed_in(client, net, "analyst")
    for text in ("|", " ", "'*'", "..."):
        r = client.get("/api/hs/search", params={"q": text}, headers=analyst)
        _refused(r, "q")
    r = client.get("/api/hs/search", params={"q": "| rum |"}, headers=analyst)
    assert r.status_code == 200, r.text
    assert r.json()[0]["code"] == "2208"


def test_a_substance_check_with_a_mistyped_cas_number_or_inchikey_is_refused_not_found_uncontrolled(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    analyst = signed_in(client, net, "analyst")
    check = "/api/substances/check"
    _refused(client.get(check, headers=analyst), "name", "Give a name, a CAS number or an InChIKey")
    _refused(client.get(check, params={"name": "  "}, headers=analyst), "name")
    # 50-36-2 is cocaine; a wrong check digit must not read as "not controlled".
    _refused(client.get(check, params={"cas": "50-36-3"}, headers=analyst), "cas", "check digit")
    _refused(client.get(check, params={"cas": "cocaine"}, headers=analyst), "cas")
    _refused(client.get(check, params={"inchikey": "ZPUCINDJVBIVPJ"}, headers=analyst), "inchikey")
    for found in ({"cas": "50-36-2"}, {"inchikey": "ZPUCINDJVBIVPJ-LJISPDSOSA-N"}, {"name": "Cocaine"}):
        r = client.get(check, params=found, headers=analyst)
        assert r.status_code == 200, r.text
        assert [c["regime"] for c in r.json()["controls"]] == ["UN1961"], r.json()
