"""A central laboratory oversees the laboratories under it, read-only; the network coordinator and the
administrator read figures, never cases. Real SQLite and PostgreSQL, services and pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.domain.errors import Conflict, NotFound
from customslab.entrypoints.web.app import create_web_app
from customslab.services import analysis, cases, dashboard, proficiency, queries, referrals
from customslab.services import quality_control as qc
from customslab.services import quality_equipment as equipment
from customslab.services.analysis import TestCreate
from customslab.services.cases import CustodyCreate, SampleCreate, SampleReceipt
from customslab.services.contract import parse
from customslab.services.ports import QueueFilter
from customslab.services.proficiency import PtResultCreate, PtRoundCreate
from customslab.services.quality_overview import registers_overview
from customslab.services.referrals import ReferralCreate
from tests.factories import PASSWORD, Network, make_network, request_command, unique
from tests.integration.conftest import signed_in

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ALL = QueueFilter(limit=200)


@pytest.fixture
def app(database: Database, tmp_path: Path) -> Any:
    settings = Settings(mode="test", database_url=database.url, file_store=tmp_path / "files")
    return create_web_app(settings, db=database)


@pytest.fixture
def net(app: Any) -> Network:
    return make_network(app.state.uow_factory)


@pytest.fixture
def uow(app: Any) -> Any:
    """The unit-of-work factory of the app, so that services and pages share one database."""
    return app.state.uow_factory


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def sign_in(client: TestClient, net: Network, who: str) -> TestClient:
    token = TOKEN.search(client.get("/login").text)
    assert token
    response = client.post(
        "/login",
        data={"username": net[who].username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def sample_at(uow: Any, net: Network, lab: str) -> tuple[int, str]:
    """A request filed to the laboratory `lab` ("local" or "central") whose sample its manager
    registered and received; returns (sample id, laboratory sample id)."""
    sample, _ = case_at(uow, net, lab)
    return sample, _["sample"]


def case_at(uow: Any, net: Network, lab: str) -> tuple[int, dict[str, str]]:
    """As `sample_at`, with declaration data of its own; returns the sample id and what identifies the
    case: laboratory sample id, request reference, declaration number and importer."""
    manager = net[f"{lab}_manager"]
    declaration, importer = unique("DCL"), unique("Importer ")
    cmd = request_command(net, lab_code=getattr(net, lab), declaration_number=declaration, importer=importer)
    req = cases.file_request(uow(), net["officer"], cmd)
    created = cases.register_sample(uow(), manager, req.id, SampleCreate(quantity="1", unit="L"))
    received = cases.receive_sample(uow(), manager, created.id, SampleReceipt())
    case = {
        "sample": received.lab_sample_id,
        "reference": req.reference,
        "declaration": declaration,
        "importer": importer,
    }
    return received.id, case


def local_instrument(uow: Any, net: Network) -> equipment.EquipmentView:
    cmd = equipment.EquipmentCreate(equipment_id=unique("DMA-"), name="Density meter", location="Seoul B2")
    return equipment.EQUIPMENT.record(uow(), net["local_manager"], cmd)


# -- the central laboratory oversees the laboratories under it --------------------------------------


@pytest.mark.parametrize("who", ["central_manager", "reviewer"])
def test_central_staff_see_the_local_laboratorys_queue_and_sample(uow: Any, net: Network, who: str) -> None:
    sid, _ = sample_at(uow, net, "local")
    page = queries.lab_queue(uow(), net[who], ALL, lab_code=net.local)
    assert page.lab_code == net.local and sid in [i.id for i in page.items]
    assert [lab.code for lab in page.labs] == [net.central, *sorted([net.local, net.other_lab])]
    detail = queries.sample_detail(uow(), net[who], sid)
    assert detail.id == sid and detail.held_by_me is False
    # Their own queue stays their own laboratory's.
    assert sid not in [i.id for i in queries.lab_queue(uow(), net[who], ALL).items]


def test_the_central_laboratory_cannot_change_a_local_laboratorys_sample(uow: Any, net: Network) -> None:
    sid, _ = sample_at(uow, net, "local")
    manager, reviewer = net["central_manager"], net["reviewer"]
    with pytest.raises(NotFound, match="not held by your laboratory"):
        analysis.add_test(uow(), manager, sid, TestCreate(determination="alcoholic strength"))
    with pytest.raises(NotFound, match="not held by your laboratory"):
        cases.reject_sample(uow(), reviewer, sid, "leaking bottle")
    with pytest.raises(NotFound, match="not held by your laboratory"):
        cases.record_custody(
            uow(), manager, sid, parse(CustodyCreate, {"kind": "storage_move", "location": "X"})
        )
    with pytest.raises(NotFound, match="not held by your laboratory"):
        referrals.refer_sample(uow(), manager, sid, ReferralCreate(to_lab=net.rcl, reason="joint"))
    assert queries.sample_detail(uow(), net["local_manager"], sid).state == "received"
    # Once the local laboratory refers it to the central one, the central laboratory holds it, and the
    # local one, which referred it away, is told so (409), as for any laboratory that let a sample go.
    referrals.refer_sample(
        uow(), net["local_manager"], sid, ReferralCreate(to_lab=net.central, reason="GC-MS")
    )
    with pytest.raises(Conflict, match="only the laboratory holding a sample can change it"):
        cases.record_custody(
            uow(), net["local_manager"], sid, parse(CustodyCreate, {"kind": "storage_move", "location": "X"})
        )


def test_the_local_laboratory_does_not_see_the_central_laboratorys_records(uow: Any, net: Network) -> None:
    sid, _ = sample_at(uow, net, "central")
    cmd = equipment.EquipmentCreate(equipment_id=unique("GCMS-"), name="GC-MS")
    equipment.EQUIPMENT.record(uow(), net["central_manager"], cmd)
    local = net["local_manager"]
    with pytest.raises(NotFound):
        queries.sample_detail(uow(), local, sid)
    with pytest.raises(NotFound):
        queries.lab_queue(uow(), local, ALL, lab_code=net.central)
    with pytest.raises(NotFound):
        equipment.EQUIPMENT.list_all(uow(), local, net.central)
    with pytest.raises(NotFound):
        registers_overview(uow(), local, net.central)
    with pytest.raises(NotFound):
        proficiency.list_rounds(uow(), local, net.central)
    assert [lab.code for lab in queries.lab_queue(uow(), local, ALL).labs] == [net.local]
    assert net.central not in dashboard.network_dashboard(uow(), local).labs


def test_an_analyst_of_the_central_laboratory_does_not_see_the_local_laboratorys_records(
    uow: Any, net: Network
) -> None:
    sid, _ = sample_at(uow, net, "local")
    local_instrument(uow, net)
    analyst = net["analyst"]
    with pytest.raises(NotFound):
        queries.sample_detail(uow(), analyst, sid)
    with pytest.raises(NotFound):
        queries.lab_queue(uow(), analyst, ALL, lab_code=net.local)
    with pytest.raises(NotFound):
        equipment.EQUIPMENT.list_all(uow(), analyst, net.local)
    with pytest.raises(NotFound):
        registers_overview(uow(), analyst, net.local)


@pytest.mark.parametrize("who", ["central_manager", "reviewer"])
def test_central_staff_read_the_local_laboratorys_quality_records_but_change_only_their_own(
    uow: Any, net: Network, who: str
) -> None:
    instrument = local_instrument(uow, net)
    batch = qc.QC_BATCHES.record(
        uow(),
        net["local_analyst"],
        parse(qc.QcBatchCreate, {"material": "CRM", "target_mean": "40", "target_sd": "0.1", "points": [40]}),
    )
    reader = net[who]
    assert [e.id for e in equipment.EQUIPMENT.list_all(uow(), reader, net.local)] == [instrument.id]
    assert equipment.EQUIPMENT.detail(uow(), reader, instrument.id) == instrument
    assert [b.id for b in qc.QC_BATCHES.list_all(uow(), reader, net.local)] == [batch.id]
    assert "<svg" in qc.qc_chart_svg(uow(), reader, batch.id)
    assert equipment.EQUIPMENT.list_all(uow(), reader) == []  # their own laboratory has none
    overview = registers_overview(uow(), reader, net.local)
    assert overview.lab_code == net.local and [e.id for e in overview.equipment] == [instrument.id]
    assert overview.labs[0] == net.central and net.local in overview.labs
    calibration = {
        "result": "ok",
        "acceptance_criteria": "±0.1",
        "passed": True,
        "next_due": "2030-01-01",
    }
    with pytest.raises(NotFound):
        equipment.record_calibration(
            uow(), net["central_manager"], instrument.id, parse(equipment.CalibrationCreate, calibration)
        )
    with pytest.raises(NotFound):
        qc.record_corrective_action(uow(), reader, batch.id, qc.CorrectiveActionCreate(description="re-run"))


def test_central_staff_read_the_local_laboratorys_pt_rounds_as_the_local_laboratory_does(
    uow: Any, net: Network
) -> None:
    created = proficiency.create_round(
        uow(),
        net["coordinator"],
        PtRoundCreate(
            title="Alcoholic strength",
            participants=[net.local, net.rcl, net.other_lab],
            measurands=[{"measurand": "alcohol", "unit": "%vol", "assigned_value": 40, "sigma_pt": 0.2}],  # type: ignore[list-item]
        ),
    )
    for who, value in (("local_analyst", "40.1"), ("rcl_manager", "39.9"), ("outsider", "40.3")):
        proficiency.submit_result(
            uow(), net[who], created.id, PtResultCreate(measurand="alcohol", value=value)
        )
    proficiency.evaluate(uow(), net["coordinator"], created.id)
    manager = net["central_manager"]
    assert [r.id for r in proficiency.list_rounds(uow(), manager, net.local)] == [created.id]
    assert proficiency.list_rounds(uow(), manager) == []  # the central laboratory takes no part itself
    with pytest.raises(NotFound):
        proficiency.round_detail(uow(), manager, created.id)
    seen = proficiency.round_detail(uow(), manager, created.id, net.local)
    assert [r.lab for r in seen.results] == [net.local]
    assert [s.lab_id for s in seen.reports[0].scores] == [net.local]
    assert net.rcl not in seen.reports[0].chart_svg
    assert [r.id for r in registers_overview(uow(), manager, net.local).rounds] == [created.id]
    # The analyst of the central laboratory reads no other laboratory's rounds.
    with pytest.raises(NotFound):
        proficiency.list_rounds(uow(), net["analyst"], net.local)


def test_central_staff_get_the_local_laboratorys_pages(client: TestClient, uow: Any, net: Network) -> None:
    sid, lab_sample_id = sample_at(uow, net, "local")
    instrument = local_instrument(uow, net)
    sign_in(client, net, "central_manager")
    queue = client.get("/queue", params={"lab": net.local})
    assert queue.status_code == 200 and lab_sample_id in queue.text
    assert f'<option value="{net.local}" selected>' in queue.text
    rows = client.get("/queue", params={"lab": net.local}, headers={"HX-Request": "true"})
    assert lab_sample_id in rows.text and f'id="queue-lab" hx-swap-oob="true">· {net.local}' in rows.text
    page = client.get(f"/samples/{sid}")
    assert page.status_code == 200 and lab_sample_id in page.text
    for action in ("tests", "custody", "reject", "cancel"):  # read-only: no action of the holder's
        assert f"/samples/{sid}/{action}" not in page.text, action
    quality = client.get("/quality", params={"lab": net.local})
    assert quality.status_code == 200 and instrument.label in quality.text and "read-only" in quality.text


def test_local_staff_get_404_on_the_central_laboratorys_queue_and_registers(
    client: TestClient, uow: Any, net: Network
) -> None:
    sid, _ = sample_at(uow, net, "central")
    sign_in(client, net, "local_manager")
    assert client.get("/queue", params={"lab": net.central}).status_code == 404
    assert client.get("/quality", params={"lab": net.central}).status_code == 404
    assert client.get(f"/samples/{sid}").status_code == 404


# -- dashboards: own and child laboratories, the administration, the network in figures -------------


def test_the_central_laboratorys_dashboard_covers_it_and_the_laboratories_under_it(
    uow: Any, net: Network
) -> None:
    sample_at(uow, net, "local")
    sample_at(uow, net, "central")
    central = dashboard.network_dashboard(uow(), net["central_manager"])
    assert central.scope == net.central and set(central.labs) == {net.central, net.local}
    local = dashboard.network_dashboard(uow(), net["local_manager"])
    assert local.scope == net.local and local.labs == [net.local]


def _seeded(uow: Any, net: Network) -> list[dict[str, str]]:
    """Requests of the home administration with distinct declaration data, one referred to the RCL of
    the other administration and analysed there; returns what identifies each case."""
    seeded = [case_at(uow, net, lab) for lab in ("local", "local", "central")]
    referred = seeded[0][0]
    referrals.refer_sample(
        uow(), net["local_manager"], referred, ReferralCreate(to_lab=net.rcl, reason="RCL")
    )
    cases.receive_sample(uow(), net["rcl_manager"], referred, SampleReceipt())
    return [case for _, case in seeded]


def test_the_coordinators_dashboard_has_figures_per_administration_and_no_case(
    client: TestClient, uow: Any, net: Network
) -> None:
    seeded = _seeded(uow, net)
    sign_in(client, net, "coordinator")
    response = client.get("/dashboard.json")
    assert response.status_code == 200
    data = response.json()
    assert data["scope"] == "network"
    rows = {a["code"]: a for a in data["administrations"]}
    # Another administration's row with fewer than 3 cases is a small cell too; the coordinator's is exact.
    assert rows[net.home]["cases"] is None and rows[net.home]["labs"] == 2
    assert rows[net.rcl_administration]["cases"] >= 1
    assert rows[net.home]["referrals_out"] >= 1 and rows[net.rcl_administration]["referrals_in"] >= 1
    assert {"from": net.home, "to": net.rcl_administration, "count": 1} in data[
        "referrals_between_administrations"
    ]
    # Small cells of another administration's laboratories are suppressed: the local laboratory has one
    # case left, the central one one; the RCL's own figures are the coordinator's administration's.
    cases_of = dict(zip(data["labs"], data["cases_per_lab"], strict=True))
    assert cases_of[net.local] is None and cases_of[net.central] is None and cases_of[net.rcl] == 1
    page = client.get("/dashboard")
    assert page.status_code == 200 and "Figures per administration" in page.text and "&lt;3" in page.text
    for text in (response.text, page.text):
        for case in seeded:
            for identifier in case.values():
                assert identifier not in text, identifier
    # No field of the figures is of a case: none names a sample, a reference or declaration data.
    assert not {
        k
        for k in _keys(data)
        if re.search("sample|reference|declaration|importer|declared_value|question", k)
    }


def _keys(node: Any) -> set[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_the_administrators_dashboard_covers_their_administration_only(uow: Any, net: Network) -> None:
    _seeded(uow, net)
    figures = dashboard.network_dashboard(uow(), net["admin"])
    assert figures.scope == net.home
    assert net.rcl not in figures.labs and set(figures.labs) == {net.central, net.local}
    assert [a.code for a in figures.administrations] == [net.home]
    # Their own administration's laboratories are not suppressed, however few their cases.
    assert None not in figures.cases_per_lab
    # The referral across the border is their administration's own figure.
    assert [(r.from_, r.to, r.count) for r in figures.referrals_between_administrations] == [
        (net.home, net.rcl_administration, 1)
    ]


def test_the_api_reads_a_local_laboratorys_registers_and_rounds_for_central_staff_only(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    uow = client.app.state.uow_factory  # type: ignore[attr-defined]
    instrument = local_instrument(uow, net)
    created = proficiency.create_round(
        uow(),
        net["coordinator"],
        PtRoundCreate(
            title="Sugar",
            participants=[net.local],
            measurands=[{"measurand": "polarisation", "unit": "°Z"}],  # type: ignore[list-item]
        ),
    )
    central = signed_in(client, net, "central_manager")
    listed = client.get("/api/quality/equipment", params={"lab": net.local}, headers=central)
    assert listed.status_code == 200 and [e["id"] for e in listed.json()] == [instrument.id]
    assert (
        client.get("/api/quality/equipment/due", params={"lab": net.local}, headers=central).status_code
        == 200
    )
    rounds = client.get("/api/pt/rounds", params={"lab": net.local}, headers=central)
    assert [r["id"] for r in rounds.json()] == [created.id]
    one = client.get(f"/api/pt/rounds/{created.id}", params={"lab": net.local}, headers=central)
    assert one.status_code == 200
    local = signed_in(client, net, "local_manager")
    for path in ("/api/quality/equipment", "/api/quality/methods", "/api/pt/rounds"):
        assert client.get(path, params={"lab": net.central}, headers=local).status_code == 404, path
    analyst = signed_in(client, net, "analyst")
    assert client.get("/api/quality/equipment", params={"lab": net.local}, headers=analyst).status_code == 404


def test_an_administrator_sees_no_request_waiting_at_their_laboratory(uow: Any, net: Network) -> None:
    """The administrator sits at the central laboratory but reads no case files, incoming ones included."""
    filed = cases.file_request(uow(), net["officer"], request_command(net, lab_code=net.central))
    waiting = [r.id for r in dashboard.incoming_requests(uow(), net["central_manager"], limit=500)]
    assert filed.id in waiting
    assert dashboard.incoming_requests(uow(), net["admin"], limit=500) == []
    assert queries.lab_queue(uow(), net["admin"], QueueFilter(limit=200)).items == []
