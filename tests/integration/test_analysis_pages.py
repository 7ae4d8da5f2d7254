"""The sample page's test forms: the catalogue, usable instruments, refusals next to their field, and
results of every kind shown in words (htmx posts, as the browser sends them)."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from customslab.services import analysis
from customslab.services import quality_control as qc
from customslab.services import quality_equipment as equipment
from customslab.services import quality_methods as methods
from customslab.services.analysis import ResultCreate, TestCreate
from customslab.services.cases import SampleCreate, SampleReceipt
from tests.conftest import shared_data_dir
from tests.factories import Network, assigned_test, received_sample
from tests.integration import test_pages as pages
from tests.integration.test_pages import post, sign_in
from tests.integration.test_quality_flow import VALIDATION, _authorise, _instrument, _method, _test

HTMX = {"HX-Request": "true"}


# The pages' fixtures with the reference library (the identification page searches it).
app, client, net = pages.app, pages.client, pages.net


SPECTRUM = "spectra/massbank-ei/MSBNK-GL_Sciences_Inc-GLS00001.txt"


def a_received_sample(app: Any, net: Network) -> tuple[int, int]:
    """A request to the central laboratory with a received sample stored at B-2: (request, sample)."""
    sample = received_sample(
        app.state.uow_factory,
        net,
        sample=SampleCreate(quantity="2", unit="bottle"),
        receipt=SampleReceipt(storage_location="B-2"),
    )
    return sample.request_id, sample.id


def _faults(response: Any) -> dict[str | None, str]:
    """The form errors of a refused htmx post, by field."""
    assert response.status_code == 200 and response.headers.get("HX-Reswap") == "none", response.text
    errors = json.loads(response.headers["HX-Trigger"])["form-errors"]["errors"]
    return {e["field"]: e["message"] for e in errors}


def _select(page: str, name: str) -> str:
    """The HTML of the first select named `name` on the page."""
    found = re.search(rf'<select[^>]*name="{name}"[^>]*>.*?</select>', page, re.S)
    assert found, f"no select {name}"
    return found.group(0)


def page_of(client: TestClient, sid: int) -> str:
    return str(client.get(f"/samples/{sid}").text)


def _catalogued_test(app: Any, net: Network) -> tuple[int, int]:
    uow = app.state.uow_factory
    _, sid = a_received_sample(app, net)
    return sid, _test(uow, net, sid, _method(uow, net).id)


def test_an_unauthorised_analyst_gets_the_refusal_on_the_analyst_field(
    client: TestClient, app: Any, net: Network
) -> None:
    sid, tid = _catalogued_test(app, net)
    sign_in(client, net, "analyst")
    page = client.get(f"/samples/{sid}").text
    assert '<output name="analyst_id">analyst</output>' in page  # where the refusal is shown
    result = {"name": "alcohol_strength", "value": "40.1", "unit": "%vol", "coverage_factor": "2"}
    faults = _faults(post(client, f"/tests/{tid}/results", result, headers=HTMX))
    assert set(faults) == {"analyst_id"} and "not authorised as analyst" in faults["analyst_id"]


def test_an_overdue_instrument_is_refused_on_the_instrument_field(
    client: TestClient, app: Any, net: Network
) -> None:
    sid, tid = _catalogued_test(app, net)
    uow = app.state.uow_factory
    _authorise(uow, net, "analyst", "analyst")
    overdue = _instrument(uow, net, next_due_days=-2)
    sign_in(client, net, "analyst")
    assert f'value="{overdue}"' not in _select(client.get(f"/samples/{sid}").text, "equipment_id")
    result = {"name": "alcohol_strength", "value": "40.1", "unit": "%vol", "equipment_id": str(overdue)}
    faults = _faults(post(client, f"/tests/{tid}/results", result, headers=HTMX))
    assert set(faults) == {"equipment_id"} and "overdue" in faults["equipment_id"]


def test_approval_with_an_out_of_control_qc_batch_is_refused_on_the_decision(
    client: TestClient, app: Any, net: Network
) -> None:
    sid, tid = _catalogued_test(app, net)
    uow = app.state.uow_factory
    _authorise(uow, net, "analyst", "analyst")
    _authorise(uow, net, "reviewer", "reviewer")
    batch = qc.QC_BATCHES.record(
        uow(),
        net["analyst"],
        qc.QcBatchCreate(material="CRM ethanol", target_mean=40.0, target_sd=0.1, points=[40.0, 40.5]),
    )
    sign_in(client, net, "analyst")
    offered = _select(client.get(f"/samples/{sid}").text, "qc_batch_id")
    assert f'value="{batch.id}"' in offered and "out of control" in offered
    result = {
        "name": "alcohol_strength",
        "value": "40.1",
        "unit": "%vol",
        "qc_batch_id": str(batch.id),
        "equipment_id": str(_instrument(uow, net)),
    }
    assert post(client, f"/tests/{tid}/results", result, headers=HTMX).status_code == 204
    assert post(client, f"/tests/{tid}/submit", {}, headers=HTMX).status_code == 204
    client.cookies.clear()
    sign_in(client, net, "reviewer")
    faults = _faults(post(client, f"/tests/{tid}/review", {"decision": "approve"}, headers=HTMX))
    assert set(faults) == {"decision"} and "out of control" in faults["decision"]


def test_the_add_test_form_lists_only_validated_current_method_versions(
    client: TestClient, app: Any, net: Network
) -> None:
    uow = app.state.uow_factory
    _, sid = a_received_sample(app, net)
    validated = _method(uow, net)
    draft = methods.METHODS.record(
        uow(),
        net["central_manager"],
        methods.MethodCreate(
            method_id="CCL-M-031",
            version="1",
            title="Chromium by XRF",
            analytes=("element.Cr", "element.Ni"),
            validation=methods.ValidationInput(**VALIDATION),
        ),
    )
    by_gc = methods.METHODS.record(
        uow(),
        net["central_manager"],
        methods.MethodCreate(
            method_id="CCL-M-032",
            version="2",
            title="Ethanol by GC",
            analytes=("alcohol_strength",),
            validation=methods.ValidationInput(**VALIDATION),
        ),
    )
    methods.validate_method_version(uow(), net["central_manager"], by_gc.id)
    sign_in(client, net, "central_manager")
    page = page_of(client, sid)
    assert "Ethanol by GC (other): Alcoholic strength by volume" in _select(page, "method_version_id")
    determination = f'value="alcohol_strength" label="Alcoholic strength by volume" data-method="{by_gc.id}"'
    assert determination in page
    offered = _select(page, "method_version_id")
    assert f'value="{validated.id}"' in offered and "CCL-M-022 v3" in offered
    assert 'label="chromium (Cr)"' not in page_of(client, sid)  # the draft's determinations are not offered
    assert f'value="{draft.id}"' not in offered and 'value="other"' in offered
    crafted = {"method_version_id": str(draft.id), "determination": "element.Cr"}
    assert set(_faults(post(client, f"/samples/{sid}/tests", crafted, headers=HTMX))) == {"method_version_id"}
    unnamed = {"method_version_id": "other", "determination": "Moisture"}
    assert set(_faults(post(client, f"/samples/{sid}/tests", unnamed, headers=HTMX))) == {"method_ref"}
    nothing = {"determination": ""}
    faults = _faults(post(client, f"/samples/{sid}/tests", nothing, headers=HTMX))
    assert set(faults) == {"determination", "method_version_id"}
    planned = {"method_version_id": str(validated.id), "determination": "alcoholic strength"}
    assert post(client, f"/samples/{sid}/tests", planned, headers=HTMX).status_code == 204
    free = {"method_version_id": "other", "method_ref": "In-house M-7", "determination": "Moisture"}
    assert post(client, f"/samples/{sid}/tests", free, headers=HTMX).status_code == 204
    page = client.get(f"/samples/{sid}").text
    assert "CCL-M-022 v3" in page and "In-house M-7 · not catalogued" in page


def test_the_result_form_offers_only_the_laboratorys_usable_instruments(
    client: TestClient, app: Any, net: Network
) -> None:
    uow = app.state.uow_factory
    _, sid = a_received_sample(app, net)
    assigned_test(uow, net, sid, determination="Alcohol", method_ref="M-22")
    usable = _instrument(uow, net)
    never = equipment.EQUIPMENT.record(
        uow(), net["central_manager"], equipment.EquipmentCreate(equipment_id="XRF-2", name="XRF bench")
    )
    foreign = equipment.EQUIPMENT.record(
        uow(), net["outsider"], equipment.EquipmentCreate(equipment_id="GC-9", name="Other lab GC")
    )
    sign_in(client, net, "analyst")
    page = client.get(f"/samples/{sid}").text
    offered = _select(page, "equipment_id")
    assert f'value="{usable}"' in offered and "Density meter (DMA-1)" in offered
    assert "XRF bench" not in offered and f'value="{never.id}"' not in offered
    assert "Other lab GC" not in offered and f'value="{foreign.id}"' not in offered
    assert 'value="alcohol_strength" label="Alcoholic strength by volume · %vol"' in page


def test_the_officer_sees_the_analyst_by_name_and_the_custody_chain_but_no_audit_history(
    client: TestClient, app: Any, net: Network
) -> None:
    uow = app.state.uow_factory
    _, sid = a_received_sample(app, net)
    assigned_test(uow, net, sid, determination="Alcohol", method_ref="M-22")
    sign_in(client, net, "officer")
    page = client.get(f"/samples/{sid}").text
    assert '<span class="muted">· analyst</span>' in page
    assert f"· {net['analyst'].user_id}</span>" not in page
    custody = page.split("Chain of custody")[1].split("</section>")[0]
    assert "receipt" in custody and "B-2" in custody and "No custody events" not in custody
    assert "Audit history" not in page
    client.cookies.clear()
    sign_in(client, net, "central_manager")
    staff_page = client.get(f"/samples/{sid}").text
    assert "Audit history" in staff_page and '<span class="muted">· analyst</span>' in staff_page


def test_qualitative_results_are_entered_and_shown_in_words_with_the_identitys_evidence(
    client: TestClient, app: Any, net: Network
) -> None:
    uow = app.state.uow_factory
    _, sid = a_received_sample(app, net)
    tid = analysis.add_test(
        uow(), net["analyst"], sid, TestCreate(determination="Identity of the powder", method_ref="GC-MS")
    ).id
    sign_in(client, net, "analyst")
    path = shared_data_dir() / SPECTRUM
    with path.open("rb") as fh:
        uploaded = post(client, f"/tests/{tid}/identify/upload", {}, files={"file": (path.name, fh)})
    identify = client.get(uploaded.headers["location"]).text
    found = re.search(r'name="attachment" value="([0-9a-f]{64})"', identify)
    assert found, identify
    sha = found.group(1)
    assert "Record as the identity result" in identify
    recorded = post(client, f"/tests/{tid}/identify/result", {"attachment": sha, "hit": "1"}, headers=HTMX)
    assert recorded.status_code == 204, recorded.text
    detection = {"name": "cocaine", "kind": "detection", "text_value": "not detected", "coverage_factor": "2"}
    assert post(client, f"/tests/{tid}/results", detection, headers=HTMX).status_code == 204
    wrong = {"kind": "screening", "text_value": "maybe", "value": "3"}
    assert set(_faults(post(client, f"/tests/{tid}/results", wrong, headers=HTMX))) == {"text_value", "value"}
    page = client.get(f"/samples/{sid}").text
    results = page.split(f'id="test-{tid}"')[1].split("</table>")[0]
    assert "not detected" in results and "(detection)" in results
    assert "alpha-MethylBenzylamine" in results and "(identity:" in results
    evidence = re.search(rf'href="/tests/{tid}/identify#identification-(\d+)"', results)
    assert evidence, results
    kept = client.get(f"/tests/{tid}/identify").text
    assert f'id="identification-{evidence.group(1)}"' in kept
    assert post(client, f"/tests/{tid}/submit", {}, headers=HTMX).status_code == 204


def test_a_result_named_by_its_label_is_stored_under_the_measurand_key(
    client: TestClient, app: Any, net: Network
) -> None:
    uow = app.state.uow_factory
    _, sid = a_received_sample(app, net)
    tid = assigned_test(uow, net, sid, determination="Alcohol", method_ref="M-22").id
    sign_in(client, net, "analyst")
    typed = {"name": "Alcoholic strength", "value": "40.2", "unit": "%vol", "coverage_factor": "2"}
    assert post(client, f"/tests/{tid}/results", typed, headers=HTMX).status_code == 204
    analysis.enter_result(uow(), net["analyst"], tid, ResultCreate(name="colour", value="3", unit="EBC"))
    shown = client.get(f"/samples/{sid}").text.split(f'id="test-{tid}"')[1].split("</table>")[0]
    assert "<td>Alcoholic strength by volume</td>" in shown and "<td>colour</td>" in shown
    evaluation = client.get(f"/samples/{sid}/hs")
    assert evaluation.status_code == 200 and "alcohol_strength" in evaluation.text
