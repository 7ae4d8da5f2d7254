"""The quality rules enforced in the case flow, and report issuance, on real SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from typer.testing import CliRunner

from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.domain.quality.errors import (
    AnalystNotAuthorised,
    BatchOutOfControl,
    EquipmentNotUsable,
    MethodNotValidated,
    ReviewerNotAuthorised,
)
from customslab.entrypoints.api.app import create_app
from customslab.entrypoints.cli import app as cli_app
from customslab.services import analysis, reports
from customslab.services import quality_control as qc
from customslab.services import quality_equipment as equipment
from customslab.services import quality_methods as methods
from customslab.services.analysis import ResultCreate, ReviewDecision
from customslab.services.cases import SampleCreate, SampleReceipt
from customslab.services.reports import ReportAmend, ReportIssue, ReportVersion
from tests.factories import (
    PASSWORD,
    Network,
    assigned_test,
    calibrated_instrument,
    make_network,
    received_sample,
)

VALIDATION = {
    "repeatability_sr": 0.05,
    "uncertainty_model": "GUM bottom-up",
    "expanded_uncertainty_absolute": 0.2,
    "unit": "%vol",
}


@pytest.fixture
def net(uow_factory: Any) -> Network:
    return make_network(uow_factory)


def _sample(uow_factory: Any, net: Network) -> int:
    sample = SampleCreate(quantity="700", unit="mL", seal_number="S-77")
    receipt = SampleReceipt(seal_intact=True, condition="sealed")
    return received_sample(uow_factory, net, "central", sample, receipt).id


def _method(uow_factory: Any, net: Network, validated: bool = True) -> methods.MethodView:
    m = methods.METHODS.record(
        uow_factory(),
        net["central_manager"],
        methods.MethodCreate(
            method_id="CCL-M-022",
            version="3",
            title="Alcoholic strength by densimetry",
            technique="density",
            validation=methods.ValidationInput(**VALIDATION),
        ),
    )
    if validated:
        m = methods.validate_method_version(uow_factory(), net["central_manager"], m.id)
    return m


def _authorise(uow_factory: Any, net: Network, who: str, role: str) -> qc.AuthorisationView:
    return qc.AUTHORISATIONS.record(
        uow_factory(),
        net["central_manager"],
        qc.AuthorisationCreate(user_id=net[who].user_id, role=role, method_id="CCL-M-022"),
    )


def _instrument(uow_factory: Any, net: Network, next_due_days: int = 180) -> int:
    return calibrated_instrument(
        uow_factory,
        net,
        equipment.EquipmentCreate(equipment_id="DMA-1", name="Density meter"),
        calibrated_days_ago=200,
        result="within 0.0001 g/cm3",
        acceptance_criteria="±0.0002 g/cm3",
        next_due_days=next_due_days,
    )


def _test(uow_factory: Any, net: Network, sid: int, method_id: int) -> int:
    t = assigned_test(uow_factory, net, sid, determination="alcoholic strength", method_version_id=method_id)
    assert t.method_ref == "CCL-M-022 v3"
    return t.id


RESULT = ResultCreate(
    name="alcohol_strength", value="40.20", unit="%vol", expanded_uncertainty="0.2", coverage_factor="2"
)
APPROVE = ReviewDecision(approve=True)


def _with(**links: int) -> ResultCreate:
    """The standard result, linked to an instrument or a QC batch."""
    return RESULT.model_copy(update=links)


def _approved_sample(uow_factory: Any, net: Network) -> int:
    sid = _sample(uow_factory, net)
    method = _method(uow_factory, net)
    _authorise(uow_factory, net, "analyst", "analyst")
    _authorise(uow_factory, net, "reviewer", "reviewer")
    tid = _test(uow_factory, net, sid, method.id)
    eq = _instrument(uow_factory, net)
    analysis.enter_result(uow_factory(), net["analyst"], tid, _with(equipment_id=eq))
    analysis.submit_test(uow_factory(), net["analyst"], tid)
    out = analysis.review_test(uow_factory(), net["reviewer"], tid, APPROVE)
    assert out.sample_state == "approved"
    return sid


def test_a_test_cannot_start_on_a_method_version_that_is_not_validated(uow_factory: Any, net: Network):
    sid = _sample(uow_factory, net)
    draft = _method(uow_factory, net, validated=False)
    with pytest.raises(MethodNotValidated, match="still a draft and has not been validated"):
        _test(uow_factory, net, sid, draft.id)


def test_an_analyst_without_authorisation_cannot_enter_a_result(uow_factory: Any, net: Network):
    sid = _sample(uow_factory, net)
    tid = _test(uow_factory, net, sid, _method(uow_factory, net).id)
    with pytest.raises(AnalystNotAuthorised, match="no analyst authorisation has been granted"):
        analysis.enter_result(uow_factory(), net["analyst"], tid, RESULT)
    grant = _authorise(uow_factory, net, "analyst", "analyst")
    qc.revoke_authorisation(uow_factory(), net["central_manager"], grant.id)
    with pytest.raises(AnalystNotAuthorised, match="authorisation was revoked"):
        analysis.enter_result(uow_factory(), net["analyst"], tid, RESULT)


def test_a_result_is_refused_on_an_overdue_or_out_of_service_instrument(uow_factory: Any, net: Network):
    sid = _sample(uow_factory, net)
    tid = _test(uow_factory, net, sid, _method(uow_factory, net).id)
    _authorise(uow_factory, net, "analyst", "analyst")
    overdue = _instrument(uow_factory, net, next_due_days=-3)
    with pytest.raises(EquipmentNotUsable, match=r"Density meter \(DMA-1\): calibration overdue since"):
        analysis.enter_result(uow_factory(), net["analyst"], tid, _with(equipment_id=overdue))
    due = equipment.equipment_due(uow_factory(), net["central_manager"])
    assert due[0].id == overdue and due[0].overdue is True
    equipment.record_maintenance(
        uow_factory(),
        net["central_manager"],
        overdue,
        equipment.MaintenanceCreate(kind="damage", description="cell cracked", out_of_service=True),
    )
    with pytest.raises(EquipmentNotUsable, match="is out of service and cannot be used"):
        analysis.enter_result(uow_factory(), net["analyst"], tid, _with(equipment_id=overdue))


def test_approval_is_refused_for_an_out_of_control_qc_batch_until_a_corrective_action(
    uow_factory: Any, net: Network
):
    sid = _sample(uow_factory, net)
    tid = _test(uow_factory, net, sid, _method(uow_factory, net).id)
    _authorise(uow_factory, net, "analyst", "analyst")
    batch = qc.QC_BATCHES.record(
        uow_factory(),
        net["analyst"],
        qc.QcBatchCreate(
            material="CRM ethanol 40 %vol", target_mean=40.0, target_sd=0.1, points=[40.02, 39.95, 40.41]
        ),
    )
    assert batch.status == "out of control" and batch.releasable is False
    result = _with(qc_batch_id=batch.id, equipment_id=_instrument(uow_factory, net))
    analysis.enter_result(uow_factory(), net["analyst"], tid, result)
    analysis.submit_test(uow_factory(), net["analyst"], tid)
    with pytest.raises(ReviewerNotAuthorised, match="no reviewer authorisation has been granted"):
        analysis.review_test(uow_factory(), net["reviewer"], tid, APPROVE)
    _authorise(uow_factory, net, "reviewer", "reviewer")
    refusal = r"is out of control \(Westgard 1-3s, R-4s\); record a corrective action"
    with pytest.raises(BatchOutOfControl, match=refusal):
        analysis.review_test(uow_factory(), net["reviewer"], tid, APPROVE)
    qc.record_corrective_action(
        uow_factory(),
        net["central_manager"],
        batch.id,
        qc.CorrectiveActionCreate(description="Recalibrated the density meter; rerun in control."),
    )
    assert analysis.review_test(uow_factory(), net["reviewer"], tid, APPROVE).state == "approved"
    svg = qc.qc_chart_svg(uow_factory(), net["central_manager"], batch.id)
    assert svg.startswith("<svg") and "#C0392B" in svg


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def test_a_report_is_issued_for_an_approved_sample_and_verifies_as_issued(uow_factory: Any, net: Network):
    sid = _approved_sample(uow_factory, net)
    issued = reports.issue_report(
        uow_factory(), net["reviewer"], sid, ReportIssue(remarks=["Kept 6 months."])
    )
    assert issued.id is not None
    name, pdf = reports.report_pdf(uow_factory(), net["reviewer"], issued.id)
    text = _text(pdf)
    for item in (
        "Central lab",  # laboratory
        issued.report_id,  # unique identification
        "Customs office",  # customer
        "CCL-M-022",  # method with version
        "Alcoholic strength by densimetry",
        "S-77, intact on receipt",  # seal
        "Alcoholic strength by volume 40.20 %vol ± 0.2 (k = 2)",  # result (as people read it), U and k
        "Guarded acceptance",  # decision rule
        "The results relate only to the item tested",
    ):
        assert item in text, item
    assert reports.verify_report(uow_factory(), pdf).status == "issued"
    assert reports.verify_report(uow_factory(), pdf).identical_file is True
    assert name.endswith("-v1.pdf")
    with uow_factory() as uow:
        sample = uow.repo.sample(sid)
        assert sample is not None and sample.state.value == "reported"


def test_an_amendment_supersedes_the_old_version_and_the_old_pdf_verifies_as_superseded(
    uow_factory: Any, net: Network
):
    sid = _approved_sample(uow_factory, net)
    first = reports.issue_report(uow_factory(), net["reviewer"], sid)
    assert first.id is not None
    _, old_pdf = reports.report_pdf(uow_factory(), net["reviewer"], first.id)
    amend = ReportAmend(reason="Declared HS corrected.")
    second = reports.amend_report(uow_factory(), net["reviewer"], first.id, amend)
    assert (second.report_id, second.version, second.supersedes_id) == (first.report_id, 2, first.id)
    assert second.id is not None
    _, new_pdf = reports.report_pdf(uow_factory(), net["reviewer"], second.id)
    assert f"supersedes report {first.report_id} version 1" in _text(new_pdf)
    old = reports.verify_report(uow_factory(), old_pdf)
    assert old.status == "superseded"
    assert old.superseded_by == ReportVersion(report_id=first.report_id, version=2)
    assert reports.verify_report(uow_factory(), new_pdf).status == "issued"
    assert reports.verify_report(uow_factory(), b"%PDF-1.4 not a report").status == "unknown"
    # The old version is still there, byte for byte.
    assert reports.report_pdf(uow_factory(), net["reviewer"], first.id)[1] == old_pdf


def test_a_sample_that_is_not_approved_cannot_be_reported(uow_factory: Any, net: Network):
    from customslab.domain.errors import InvalidTransition

    sid = _sample(uow_factory, net)
    with pytest.raises(InvalidTransition, match="Only an approved sample can be reported"):
        reports.issue_report(uow_factory(), net["reviewer"], sid)


def test_the_api_serves_a_report_to_its_lab_and_refuses_another_labs_report_with_404(
    database: Database, tmp_path: Path
):
    settings = Settings(mode="test", database_url=database.url, file_store=tmp_path / "files")
    app = create_app(settings, db=database)
    uow_factory = app.state.uow_factory
    net = make_network(uow_factory)
    sid = _approved_sample(uow_factory, net)
    with TestClient(app) as client:

        def login(who: str) -> dict[str, str]:
            r = client.post("/api/auth/token", json={"username": net[who].username, "password": PASSWORD})
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        reviewer, outsider = login("reviewer"), login("outsider")
        issued = client.post(f"/api/samples/{sid}/report", json={}, headers=reviewer)
        assert issued.status_code == 201, issued.text
        rid = issued.json()["id"]
        pdf = client.get(f"/api/reports/{rid}/pdf", headers=reviewer)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert client.get(f"/api/reports/{rid}/pdf", headers=outsider).status_code == 404
        assert client.get(f"/api/reports/{rid}", headers=outsider).status_code == 404
        assert (
            client.post(f"/api/reports/{rid}/amend", json={"reason": "x"}, headers=outsider).status_code
            == 404
        )
        assert client.get(f"/api/reports/{rid}").status_code == 401
        verified = client.post(
            "/api/reports/verify", files={"file": ("r.pdf", pdf.content)}, headers=outsider
        )
        assert verified.json()["status"] == "issued"
        assert client.get("/api/quality/equipment", headers=outsider).json() == []
        eq_id = client.get("/api/quality/equipment", headers=reviewer).json()[0]["id"]
        assert client.get(f"/api/quality/equipment/{eq_id}", headers=outsider).status_code == 404
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.content)
    run = CliRunner().invoke(cli_app, ["report", "verify", str(path), "--database-url", database.url])
    assert run.exit_code == 0 and run.output.startswith("ISSUED: report "), run.output
    path.write_bytes(b"%PDF-1.4 nothing")
    run = CliRunner().invoke(cli_app, ["report", "verify", str(path), "--database-url", database.url])
    assert run.exit_code == 2 and run.output.startswith("UNKNOWN"), run.output
