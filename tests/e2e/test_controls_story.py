"""The story in Chromium with the ISO/IEC 17025 controls: method authorisation, instrument calibration,
internal quality control and the classification opinion each refuse a step next to the input they
name, until the laboratory puts it right; then the officer downloads the report that proves the identity.

The quality registers are seeded through the services (their own pages have their own tests); every
step of the case that a control guards goes through the pages."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from customslab.domain.access import Actor
from customslab.domain.enums import Role
from customslab.domain.quality.competence import AuthorisedRole
from customslab.domain.quality.equipment import CalibrationKind
from customslab.domain.quality.methods import Technique
from customslab.services import auth, cases, queries
from customslab.services import quality_control as qc
from customslab.services import quality_equipment as equipment
from customslab.services import quality_methods as methods
from customslab.services.cases import SampleCreate, SampleReceipt
from tests.e2e.conftest import Live
from tests.e2e.test_browser import SPECTRUM, as_user
from tests.factories import PASSWORD, request_command, unique

METHOD = "CCL-M-050"


@pytest.fixture
def violations() -> list[str]:
    """The policy violations of every page the story opens; none may remain at its end."""
    return []


@dataclass
class Seeded:
    request_id: int
    sample_id: int
    method_version_id: int
    usable: int  # an instrument calibrated and in date
    failing: int  # an instrument in date when the page opens, overdue by the time the form is sent
    batch: int  # a QC batch out of control (Westgard 1-3s)


def _colleague(live: Live, name: str, role: Role) -> None:
    """A second analyst or reviewer of the central laboratory, signed in as the others are."""
    user = auth.UserCreate(
        username=unique(name), full_name=name, org_code=live.net.central, roles=[role], password=PASSWORD
    )
    out = auth.add_user(live.app.state.uow_factory(), user)
    live.net.users[name] = Actor(out.id, out.username, live.net.central, frozenset({role}))


def _instrument(live: Live, code: str, name: str) -> int:
    uow, manager = live.app.state.uow_factory, live.net["central_manager"]
    eq = equipment.EQUIPMENT.record(uow(), manager, equipment.EquipmentCreate(equipment_id=code, name=name))
    today = uow().clock().date()
    calibration = equipment.CalibrationCreate(
        performed_on=today - timedelta(days=60),
        result="mass axis within 0.1 u; PFTBA tune passed",
        acceptance_criteria="±0.2 u",
        passed=True,
        next_due=today + timedelta(days=120),
    )
    equipment.record_calibration(uow(), manager, eq.id, calibration)
    return eq.id


def _seed(live: Live) -> Seeded:
    """The officer's request for a white powder at the central laboratory, received there; a validated
    GC-MS method for which `analyst_b` and `reviewer` are authorised and `analyst` is not; two GC-MS
    instruments; a QC batch out of control."""
    uow, net = live.app.state.uow_factory, live.net
    manager = net["central_manager"]
    _colleague(live, "analyst_b", Role.ANALYST)
    _colleague(live, "reviewer_b", Role.REVIEWER)
    req = cases.file_request(
        uow(),
        net["officer"],
        request_command(
            net,
            lab_code=net.central,
            declared_hs="2921.49",
            goods_description="White crystalline powder, 1 kg",
            origin_country="CN",
            reason="narcotics_precursors",
            requested_determinations=["identity"],
            question="Is this powder alpha-methylbenzylamine, a precursor?",
        ),
    )
    sample = cases.register_sample(uow(), manager, req.id, SampleCreate(quantity=Decimal(1000), unit="g"))
    cases.receive_sample(uow(), manager, sample.id, SampleReceipt(storage_location="Safe 3"))
    method = methods.METHODS.record(
        uow(),
        manager,
        methods.MethodCreate(
            method_id=METHOD,
            version="2",
            title="Identification and assay of amine precursors by GC-MS",
            technique=Technique.GC_MS,
            analytes=("substance identity", "purity"),
            validation=methods.ValidationInput(
                repeatability_sr=Decimal("0.4"),
                uncertainty_model="GUM bottom-up",
                expanded_uncertainty_absolute=Decimal(1),
                unit="%",
            ),
        ),
    )
    method = methods.validate_method_version(uow(), manager, method.id)
    for who, role in (("analyst_b", AuthorisedRole.ANALYST), ("reviewer", AuthorisedRole.REVIEWER)):
        grant = qc.AuthorisationCreate(user_id=net[who].user_id, role=role, method_id=METHOD)
        qc.AUTHORISATIONS.record(uow(), manager, grant)
    batch = qc.QC_BATCHES.record(
        uow(),
        manager,
        qc.QcBatchCreate(
            batch_id="QC-AMB-07",
            material="alpha-methylbenzylamine CRM 99.0 %",
            target_mean=Decimal(99),
            target_sd=Decimal("0.2"),
            points=[
                Decimal(p) for p in ("99.05", "98.90", "99.95")
            ],  # the last is 4.75 SD off: Westgard 1-3s
            method_version_id=method.id,
        ),
    )
    assert batch.status == "out of control"
    return Seeded(
        req.id,
        sample.id,
        method.id,
        _instrument(live, "GCMS-1", "GC-MS 5977B"),
        _instrument(live, "GCMS-2", "GC-MS 5975C"),
        batch.id,
    )


def _now_overdue(live: Live, instrument: int) -> None:
    """A verification entered late from the paper log: its next check was due yesterday."""
    uow = live.app.state.uow_factory
    today = uow().clock().date()
    check = equipment.CalibrationCreate(
        kind=CalibrationKind.VERIFICATION,
        performed_on=today - timedelta(days=30),
        result="tune report filed",
        acceptance_criteria="±0.2 u",
        passed=True,
        next_due=today - timedelta(days=1),
    )
    equipment.record_calibration(uow(), live.net["central_manager"], instrument, check)


def _refusal_next_to(form: Any, field: str, words: str) -> None:
    """The refusal is the element right after the input `field` names, which it describes."""
    target = form.locator(f'[name="{field}"]').first
    error = target.locator("xpath=following-sibling::*[1]")
    expect(error).to_have_class("field-error")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text(words)
    expect(target).to_have_attribute("aria-invalid", "true")
    expect(target).to_have_attribute("aria-describedby", error.get_attribute("id") or "missing id")


def _result_form(page: Any, test_id: str) -> Any:
    form = page.locator(f'form[action="/tests/{test_id}/results"]')
    form.locator("xpath=..").locator("summary").click()
    return form


def _purity(form: Any, instrument: int, batch: int | None = None) -> None:
    form.locator('select[name="kind"]').select_option("quantity")
    form.locator('input[name="name"]').fill("purity")
    form.locator('input[name="value"]').fill("98.6")
    form.locator('input[name="unit"]').fill("%")
    form.locator('input[name="expanded_uncertainty"]').fill("1.0")
    form.locator('select[name="equipment_id"]').select_option(str(instrument))
    if batch is not None:
        form.locator('select[name="qc_batch_id"]').select_option(str(batch))


@pytest.mark.browser
@pytest.mark.slow
def test_the_controls_refuse_next_to_the_field_until_put_right_and_the_officer_gets_the_proof(
    browser: Any, live: Live, shared_data: Path, violations: list[str]
) -> None:
    seeded = _seed(live)
    net, base = live.net, live.base
    sample_url = f"{base}/samples/{seeded.sample_id}"

    # The manager plans a test by the validated GC-MS method and gives it to an analyst who is not
    # authorised for it: planning is allowed, the result will not be.
    manager = as_user(browser, live, "central_manager", violations)
    manager.goto(sample_url)
    manager.select_option("#method_version_id", str(seeded.method_version_id))
    expect(manager.get_by_label("Reference of the non-catalogued method")).to_be_hidden()
    manager.get_by_label("Determination").fill("substance identity")
    manager.select_option("#analyst_id", str(net["analyst"].user_id))
    manager.get_by_role("button", name="Add the test").click()
    expect(manager.locator("#messages")).to_contain_text("added")
    article = manager.locator("article.test").first
    expect(article).to_contain_text(f"{METHOD} v2")
    test_id = (article.get_attribute("id") or "").removeprefix("test-")

    # That analyst's result is refused, and the refusal stands next to the analyst's name.
    analyst = as_user(browser, live, "analyst", violations)
    analyst.goto(sample_url)
    form = _result_form(analyst, test_id)
    expect(form.locator('output[name="analyst_id"]')).to_have_text("analyst")
    _purity(form, seeded.usable)
    form.get_by_role("button", name="Record the result").click()
    _refusal_next_to(form, "analyst_id", "no analyst authorisation has been granted for this method")
    expect(form.locator('[name="analyst_id"] + .field-error')).to_contain_text(METHOD)

    # The manager gives the test to the authorised analyst.
    manager.goto(sample_url)
    manager.select_option(f"#as-{test_id}", str(net["analyst_b"].user_id))
    manager.get_by_role("button", name="Assign").click()
    expect(manager.locator(f"#test-{test_id} h3")).to_contain_text("analyst_b")

    # The authorised analyst picks an instrument that falls overdue before the form is sent: refused
    # next to the instrument. The other instrument and the QC batch (out of control) are accepted.
    analyst_b = as_user(browser, live, "analyst_b", violations)
    analyst_b.goto(sample_url)
    form = _result_form(analyst_b, test_id)
    _purity(form, seeded.failing, seeded.batch)
    _now_overdue(live, seeded.failing)
    form.get_by_role("button", name="Record the result").click()
    _refusal_next_to(form, "equipment_id", "overdue since")
    expect(form.locator('[name="equipment_id"] + .field-error')).to_contain_text("GCMS-2")
    form.locator('select[name="equipment_id"]').select_option(str(seeded.usable))
    form.get_by_role("button", name="Record the result").click()
    expect(analyst_b.locator("#messages")).to_contain_text("recorded")
    expect(analyst_b.locator(f"#test-{test_id} tr[data-kind='quantity']")).to_contain_text("98.6")

    # The identity, from a real MassBank GC-EI-MS record, with the hit list as its evidence.
    analyst_b.get_by_role("link", name="Identify a spectrum").click()
    analyst_b.set_input_files("#spectrum-file", str(shared_data / SPECTRUM))
    analyst_b.get_by_role("button", name="Upload and identify").click()
    analyst_b.wait_for_selector("#mirror canvas")
    top = analyst_b.locator("#hits tbody tr").first.inner_text()
    assert "alpha-MethylBenzylamine" in top
    analyst_b.get_by_role("button", name="Record as the identity result").click()
    analyst_b.wait_for_url(f"{sample_url}*")
    expect(analyst_b.locator("#messages")).to_contain_text(
        "Identity result recorded: alpha-MethylBenzylamine"
    )
    identity = analyst_b.locator(f"#test-{test_id} tr[data-kind='identity']")
    expect(identity).to_contain_text("alpha-MethylBenzylamine")
    analyst_b.get_by_role("button", name="Submit for review").click()
    expect(analyst_b.locator("#messages")).to_contain_text("submitted")

    # The reviewer's approval is refused next to the decision while the QC batch is out of control.
    reviewer = as_user(browser, live, "reviewer", violations)
    reviewer.goto(sample_url)
    review = reviewer.locator(f'form[action="/tests/{test_id}/review"]')
    review.get_by_role("button", name="Approve").click()
    _refusal_next_to(review, "decision", "QC-AMB-07 is out of control (Westgard 1-3s")

    # The manager records the corrective action on the QC batch's page; the approval then goes through.
    manager.goto(f"{base}/quality/qc/{seeded.batch}")
    manager.get_by_label("What was done").fill(
        "GC-MS inlet liner replaced and retuned; control rerun in range."
    )
    manager.get_by_role("button", name="Record", exact=True).click()
    expect(manager.locator("#corrective-actions")).to_contain_text("inlet liner replaced")
    review.get_by_role("button", name="Approve").click()
    expect(reviewer.locator("#messages")).to_contain_text("approved")

    # A draft classification opinion stops the report, next to the box that would leave it out.
    reviewer.goto(f"{sample_url}/hs")
    reviewer.get_by_label("Determined HS code").fill("2921.49")
    reviewer.get_by_label("Reasoning").fill(
        "alpha-Methylbenzylamine is an aromatic monoamine of subheading 2921.49 (GC-MS identity)."
    )
    reviewer.get_by_role("button", name="Record the opinion").click()
    expect(reviewer.locator("#messages")).to_contain_text("draft")
    reviewer.goto(sample_url)
    report_form = reviewer.locator(f'form[action="/samples/{seeded.sample_id}/report"]')
    report_form.get_by_role("button", name="Issue the test report").click()
    _refusal_next_to(report_form, "leave_out_draft_opinion", "is still a draft")

    # Another reviewer approves the opinion; the report is issued with it.
    reviewer_b = as_user(browser, live, "reviewer_b", violations)
    reviewer_b.goto(f"{sample_url}/hs")
    reviewer_b.get_by_role("button", name="Approve the opinion").click()
    expect(reviewer_b.locator("#messages")).to_contain_text("approved")
    report_form.get_by_role("button", name="Issue the test report").click()
    expect(reviewer.locator("#messages")).to_contain_text("issued")

    # The officer sees where the request stands, the classification, and downloads the report.
    officer = as_user(browser, live, "officer", violations)
    officer.goto(f"{base}/requests/{seeded.request_id}")
    events = officer.locator("#timeline ol.timeline li[data-event]").evaluate_all(
        "items => items.map(li => li.dataset.event)"
    )
    assert {"filed", "received", "approved", "opinion_approved", "reported"} <= set(events), events
    determined = officer.locator("dd.determined[data-code][data-level]")
    expect(determined).to_have_attribute("data-by", "opinion")
    assert (determined.get_attribute("data-code") or "").startswith("292149")
    expect(officer.locator("div.opinion")).to_contain_text("aromatic monoamine")
    link = officer.locator("p.report-download a[data-report][data-version]")
    expect(link).to_contain_text("Download the test report")
    pdf = officer.context.request.get(f"{base}{link.get_attribute('href')}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    detail = queries.sample_detail(live.app.state.uow_factory(), net["reviewer"], seeded.sample_id)
    evidence = detail.tests[0].identifications[0]
    flat = " ".join(text.split())
    assert "alpha-MethylBenzylamine" in flat
    assert evidence.library_id in flat and evidence.library_version in flat, flat
    assert violations == []
