"""The quality controls of a test and results of every kind, through the services on real databases."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.domain.model import Identification
from customslab.domain.quality.errors import (
    AnalystNotAuthorised,
    BatchOutOfControl,
    EquipmentNotUsable,
    MethodNotValidated,
)
from customslab.entrypoints.api.app import create_app
from customslab.entrypoints.api.errors import quality_field
from customslab.services import analysis, analysis_choices
from customslab.services import quality_control as qc
from customslab.services import quality_methods as methods
from customslab.services.analysis import ResultCreate
from customslab.services.identification import SearchResult, record_identity_result
from tests.factories import PASSWORD, Network, assigned_test, make_network
from tests.integration.test_quality_flow import (
    APPROVE,
    RESULT,
    VALIDATION,
    _authorise,
    _instrument,
    _method,
    _sample,
    _test,
    _with,
)

HITS = [
    {"rank": 1, "score": 0.94, "name": "Cocaine", "technique": "EI-MS", "library_id": "massbank", "row": 4},
    {"rank": 2, "score": 0.71, "name": "Lidocaine", "technique": "EI-MS", "library_id": "massbank", "row": 9},
]


@pytest.fixture
def net(uow_factory: Any) -> Network:
    return make_network(uow_factory)


def _identification(uow_factory: Any, net: Network, test_id: int) -> int:
    """A spectral identification stored with the test, as the identification page keeps one."""
    uow = uow_factory()
    with uow:
        uow.act_as("test-setup")
        ident = Identification(
            test_id, "f" * 64, "EI-MS", "massbank", "2025.06", HITS, net["analyst"].user_id, uow.clock()
        )
        uow.repo.add(ident)
        uow.commit()
        assert ident.id is not None
        return ident.id


def _identity_test(uow_factory: Any, net: Network, sid: int) -> int:
    return assigned_test(uow_factory, net, sid, determination="Identity of the powder", method_ref="GC-MS").id


def test_an_unauthorised_analyst_on_a_catalogued_method_is_refused_on_the_analyst_field(
    uow_factory: Any, net: Network
) -> None:
    tid = _test(uow_factory, net, _sample(uow_factory, net), _method(uow_factory, net).id)
    with pytest.raises(AnalystNotAuthorised) as refused:
        analysis.enter_result(uow_factory(), net["analyst"], tid, RESULT)
    assert quality_field(refused.value) == "analyst_id"


def test_an_overdue_instrument_is_refused_with_the_equipment_field(uow_factory: Any, net: Network) -> None:
    tid = _test(uow_factory, net, _sample(uow_factory, net), _method(uow_factory, net).id)
    _authorise(uow_factory, net, "analyst", "analyst")
    overdue = _instrument(uow_factory, net, next_due_days=-1)
    with pytest.raises(EquipmentNotUsable, match="overdue") as refused:
        analysis.enter_result(uow_factory(), net["analyst"], tid, _with(equipment_id=overdue))
    assert quality_field(refused.value) == "equipment_id"


def test_another_laboratorys_instrument_is_not_found_on_the_equipment_field(
    uow_factory: Any, net: Network
) -> None:
    tid = _test(uow_factory, net, _sample(uow_factory, net), _method(uow_factory, net).id)
    _authorise(uow_factory, net, "analyst", "analyst")
    foreign = _instrument_of(uow_factory, net, "outsider")
    with pytest.raises(NotFound) as refused:
        analysis.enter_result(uow_factory(), net["analyst"], tid, _with(equipment_id=foreign))
    assert refused.value.field == "equipment_id"


def _instrument_of(uow_factory: Any, net: Network, who: str) -> int:
    from customslab.services import quality_equipment as equipment

    eq = equipment.EQUIPMENT.record(
        uow_factory(), net[who], equipment.EquipmentCreate(equipment_id="XRF-2", name="XRF bench")
    )
    return eq.id


def test_approval_with_an_out_of_control_qc_batch_is_refused_on_the_decision(
    uow_factory: Any, net: Network
) -> None:
    tid = _test(uow_factory, net, _sample(uow_factory, net), _method(uow_factory, net).id)
    _authorise(uow_factory, net, "analyst", "analyst")
    _authorise(uow_factory, net, "reviewer", "reviewer")
    batch = qc.QC_BATCHES.record(
        uow_factory(),
        net["analyst"],
        qc.QcBatchCreate(material="CRM ethanol", target_mean=40.0, target_sd=0.1, points=[40.0, 40.5]),
    )
    result = _with(qc_batch_id=batch.id, equipment_id=_instrument(uow_factory, net))
    analysis.enter_result(uow_factory(), net["analyst"], tid, result)
    analysis.submit_test(uow_factory(), net["analyst"], tid)
    with pytest.raises(BatchOutOfControl) as refused:
        analysis.review_test(uow_factory(), net["reviewer"], tid, APPROVE)
    assert quality_field(refused.value) == "decision"


def test_the_forms_offer_only_validated_current_methods_and_usable_instruments(
    uow_factory: Any, net: Network
) -> None:
    validated = _method(uow_factory, net)
    draft = methods.METHODS.record(
        uow_factory(),
        net["central_manager"],
        methods.MethodCreate(
            method_id="CCL-M-030",
            version="1",
            title="Draft method",
            analytes=("element.Cr",),
            validation=methods.ValidationInput(**VALIDATION),
        ),
    )
    usable = _instrument(uow_factory, net)
    overdue = _instrument_of(uow_factory, net, "central_manager")  # never calibrated
    offered = analysis_choices.analysis_choices(uow_factory(), net["analyst"])
    assert [m.id for m in offered.methods] == [validated.id] and draft.id not in {
        m.id for m in offered.methods
    }
    assert [i.id for i in offered.instruments] == [usable] and overdue not in {
        i.id for i in offered.instruments
    }
    assert analysis_choices.analysis_choices(uow_factory(), net["outsider"]).methods == []


def test_an_identity_result_requires_an_identification_of_the_same_test(
    uow_factory: Any, net: Network
) -> None:
    sid = _sample(uow_factory, net)
    mine, other = _identity_test(uow_factory, net, sid), _identity_test(uow_factory, net, sid)
    foreign = _identification(uow_factory, net, other)
    with pytest.raises(ValidationFailed) as refused:
        analysis.enter_result(
            uow_factory(), net["analyst"], mine, ResultCreate(kind="identity", identification_id=foreign)
        )
    assert refused.value.field == "identification_id"
    own = _identification(uow_factory, net, mine)
    with pytest.raises(ValidationFailed) as unlisted:
        analysis.enter_result(
            uow_factory(),
            net["analyst"],
            mine,
            ResultCreate(kind="identity", identification_id=own, text_value="Heroin"),
        )
    assert unlisted.value.field == "text_value"
    best = analysis.enter_result(
        uow_factory(), net["analyst"], mine, ResultCreate(kind="identity", identification_id=own)
    )
    second = analysis.enter_result(
        uow_factory(),
        net["analyst"],
        mine,
        ResultCreate(kind="identity", identification_id=own, text_value="lidocaine"),
    )
    assert (best.kind, best.text_value, best.value, best.unit) == ("identity", "Cocaine", None, "")
    assert second.text_value == "Lidocaine"


def test_a_test_with_only_an_identity_result_can_be_submitted_and_shows_its_evidence(
    uow_factory: Any, net: Network
) -> None:
    from customslab.services import queries

    sid = _sample(uow_factory, net)
    tid = _identity_test(uow_factory, net, sid)
    own = _identification(uow_factory, net, tid)
    analysis.enter_result(
        uow_factory(), net["analyst"], tid, ResultCreate(kind="identity", identification_id=own)
    )
    submitted = analysis.submit_test(uow_factory(), net["analyst"], tid)
    assert submitted.state == "to_be_reviewed"
    shown = next(t for t in queries.sample_detail(uow_factory(), net["reviewer"], sid).tests if t.id == tid)
    evidence = shown.results[0].evidence
    assert evidence is not None and evidence.library_version == "2025.06"
    assert [h.name for h in evidence.top_hits] == ["Cocaine", "Lidocaine"]
    assert shown.analyst_name == "analyst"


def test_the_identification_page_records_its_best_hit_as_the_identity_result_at_once(
    uow_factory: Any, net: Network
) -> None:
    sid = _sample(uow_factory, net)
    tid = _identity_test(uow_factory, net, sid)
    found = SearchResult(
        technique="EI-MS",
        library="default",
        library_id="massbank",
        library_version="2025.06",
        library_counts={"EI-MS": 2},
        method="cosine",
        query={"name": "powder", "points": 40},
        hits=HITS,
    )
    with pytest.raises(ValidationFailed, match="Attach the spectrum file"):
        record_identity_result(uow_factory(), net["analyst"], tid, "e" * 64, found)
    uow = uow_factory()
    with uow:
        assert not list(uow.repo.identifications_for(tid))  # nothing half-written
    spectrum = analysis.attach_file(
        uow_factory(),
        net["analyst"],
        tid,
        filename="powder.msp",
        media_type="text/plain",
        stream=io.BytesIO(b"Name: powder\nNum Peaks: 1\n82 999\n"),
        max_bytes=10_000,
    )
    out = record_identity_result(uow_factory(), net["analyst"], tid, spectrum.sha256, found, "Lidocaine")
    assert (out.kind, out.text_value) == ("identity", "Lidocaine")
    assert out.evidence is not None and out.evidence.identification_id == out.identification_id
    assert analysis.submit_test(uow_factory(), net["analyst"], tid).state == "to_be_reviewed"


def test_qualitative_results_of_each_kind_are_stored_and_a_test_of_them_is_submitted(
    uow_factory: Any, net: Network
) -> None:
    sid = _sample(uow_factory, net)
    tid = assigned_test(uow_factory, net, sid, determination="Cocaine screening", method_ref="colour test").id
    for cmd in (
        ResultCreate(kind="screening", text_value="negative"),
        ResultCreate(
            name="cocaine", kind="detection", text_value="not detected", observation="LOD 0.1 mg/kg"
        ),
        ResultCreate(kind="text", text_value="white crystalline powder"),
    ):
        analysis.enter_result(uow_factory(), net["analyst"], tid, cmd)
    assert analysis.submit_test(uow_factory(), net["analyst"], tid).state == "to_be_reviewed"
    uow = uow_factory()
    with uow:
        test = uow.repo.test(tid)
        assert test is not None
        stored = [(r.kind, r.text_value, r.value, r.coverage_factor) for r in test.results]
    assert stored == [
        ("screening", "negative", None, None),
        ("detection", "not_detected", None, None),
        ("text", "white crystalline powder", None, None),
    ]


def test_the_api_names_the_field_of_a_result_that_does_not_fit_its_kind(
    database: Database, tmp_path: Path
) -> None:
    app = create_app(Settings(mode="test", database_url=database.url, file_store=tmp_path / "f"), db=database)
    uow_factory = app.state.uow_factory
    net = make_network(uow_factory)
    tid = _identity_test(uow_factory, net, _sample(uow_factory, net))
    with TestClient(app) as client:
        token = client.post(
            "/api/auth/token", json={"username": net["analyst"].username, "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        bad = client.post(
            f"/api/tests/{tid}/results", json={"kind": "detection", "text_value": "maybe"}, headers=headers
        )
        assert bad.status_code == 422 and bad.json()["field"] == "text_value", bad.text
        good = client.post(
            f"/api/tests/{tid}/results", json={"kind": "detection", "text_value": "detected"}, headers=headers
        )
        assert good.status_code == 201 and good.json()["kind"] == "detection", good.text
        assert good.json()["text_value"] == "detected" and good.json()["value"] is None


def test_a_quantity_on_a_catalogued_method_names_its_instrument(uow_factory: Any, net: Network) -> None:
    # Without an instrument its calibration could not be checked (17025 6.4).
    tid = _test(uow_factory, net, _sample(uow_factory, net), _method(uow_factory, net).id)
    _authorise(uow_factory, net, "analyst", "analyst")
    with pytest.raises(ValidationFailed, match="instrument") as refused:
        analysis.enter_result(uow_factory(), net["analyst"], tid, RESULT)
    assert refused.value.field == "equipment_id"
    entered = analysis.enter_result(
        uow_factory(), net["analyst"], tid, _with(equipment_id=_instrument(uow_factory, net))
    )
    assert entered.value is not None


def test_a_method_withdrawn_after_planning_takes_no_result_and_no_approval(
    uow_factory: Any, net: Network
) -> None:
    method = _method(uow_factory, net)
    sid = _sample(uow_factory, net)
    tid = _test(uow_factory, net, sid, method.id)
    other = _test(uow_factory, net, sid, method.id)
    _authorise(uow_factory, net, "analyst", "analyst")
    _authorise(uow_factory, net, "reviewer", "reviewer")
    instrument = _instrument(uow_factory, net)
    analysis.enter_result(uow_factory(), net["analyst"], tid, _with(equipment_id=instrument))
    analysis.submit_test(uow_factory(), net["analyst"], tid)
    methods.withdraw_method_version(uow_factory(), net["central_manager"], method.id)
    with pytest.raises(MethodNotValidated, match="withdrawn") as at_entry:
        analysis.enter_result(uow_factory(), net["analyst"], other, _with(equipment_id=instrument))
    assert quality_field(at_entry.value) == "method_version_id"
    with pytest.raises(ValidationFailed, match="withdrawn") as at_approval:
        analysis.review_test(uow_factory(), net["reviewer"], tid, APPROVE)
    assert at_approval.value.field == "decision"
