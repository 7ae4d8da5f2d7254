"""The officer's answer: the test report (identity evidence, the opinion approved or left out on purpose)
and the request page (timeline, the classification at the level decided, the opinion, the report)."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from customslab.domain.access import Actor
from customslab.domain.enums import OrgKind, ResultKind, Role
from customslab.domain.errors import ValidationFailed
from customslab.domain.model import Identification, Organisation
from customslab.domain.quality.report_example import example_report
from customslab.services import analysis, auth, cases, classification, reports
from customslab.services.analysis import ResultCreate, ReviewDecision
from customslab.services.cases import SampleCreate, SampleReceipt
from customslab.services.classification import OpinionCreate
from customslab.services.contract import parse
from customslab.services.reports import ReportIssue
from tests.factories import PASSWORD, Network, assigned_test, received_sample, rum_result, unique
from tests.integration import test_pages as pages
from tests.integration.test_pages import post, sign_in

# The pages' fixtures: an app over the test database, a client, and a fresh network of users.
app, client, net = pages.app, pages.client, pages.net

HTMX = {"HX-Request": "true"}
LIBRARY_VERSION = "2025.06-r3"
HITS = [
    {
        "rank": 1,
        "score": 0.98712,
        "name": "Ethanol",
        "technique": "EI-MS",
        "library_id": "massbank-ei",
        "row": 0,
    },
    {
        "rank": 2,
        "score": 0.91,
        "name": "Methanol",
        "technique": "EI-MS",
        "library_id": "massbank-ei",
        "row": 0,
    },
    {
        "rank": 3,
        "score": 0.55,
        "name": "Acetone",
        "technique": "EI-MS",
        "library_id": "massbank-ei",
        "row": 0,
    },
]
REASONING = "Rum of 40.1 %vol, below 80 %vol: heading 22.08; a rum by its label and taste: 2208.40."


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def _identification(uow_factory: Any, net: Network, test_id: int) -> int:
    """A GC-MS library search kept with the test (as the identify page keeps one)."""
    with uow_factory() as uow:
        uow.act_as("test-setup")
        found = Identification(
            test_id=test_id,
            attachment_sha256="ab" * 32,
            technique="EI-MS",
            library_id="massbank-ei",
            library_version=LIBRARY_VERSION,
            hits=HITS,
            created_by=net["analyst"].user_id,
            created_at=uow.clock(),
        )
        uow.repo.add(found)
        uow.repo.flush()
        uow.commit()
        assert found.id is not None
        return found.id


def approved_rum(app: Any, net: Network) -> tuple[int, int]:
    """Rum declared 2208.40 at the central laboratory: its alcoholic strength (40.1 %vol) and its identity
    by GC-MS, both approved. Returns (request id, sample id)."""
    uow = app.state.uow_factory
    sample = received_sample(
        uow,
        net,
        "central",
        SampleCreate(quantity="2", unit="bottle", seal_number="S-9"),
        SampleReceipt(condition="sealed"),
    )
    strength = assigned_test(uow, net, sample.id, determination="Alcoholic strength", method_ref="M-22")
    analysis.enter_result(uow(), net["analyst"], strength.id, parse(ResultCreate, rum_result("40.1")))
    identity = assigned_test(
        uow, net, sample.id, determination="Identity of the spirit", method_ref="GC-MS-7"
    )
    cmd = ResultCreate(kind=ResultKind.IDENTITY, identification_id=_identification(uow, net, identity.id))
    analysis.enter_result(uow(), net["analyst"], identity.id, cmd)
    for test_id in (strength.id, identity.id):
        analysis.submit_test(uow(), net["analyst"], test_id)
        analysis.review_test(uow(), net["reviewer"], test_id, ReviewDecision(approve=True))
    return sample.request_id, sample.id


def _opinion(app: Any, net: Network, sample_id: int, approve: bool) -> int:
    uow = app.state.uow_factory
    cmd = OpinionCreate(determined_code="2208.40", reasoning=REASONING)
    written = classification.write_opinion(uow(), net["analyst"], sample_id, cmd)
    assert written.id is not None
    if approve:
        classification.approve_opinion(uow(), net["reviewer"], written.id)
    return written.id


def _officer_of_another_office(app: Any, net: Network) -> Actor:
    code = unique("OFF")
    with app.state.uow_factory() as uow:
        uow.act_as("test-setup")
        uow.repo.add(
            Organisation(code, "Another office", OrgKind.CUSTOMS_OFFICE, "KR", administration_code=net.home)
        )
        uow.commit()
    user = auth.UserCreate(
        username=unique("officer_c"),
        full_name="officer c",
        org_code=code,
        roles=[Role.REQUESTER],
        password=PASSWORD,
    )
    out = auth.add_user(app.state.uow_factory(), user)
    return Actor(out.id, out.username, code, frozenset({Role.REQUESTER}))


def _sign_in_as(client: TestClient, username: str) -> None:
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": pages.csrf(client), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_a_report_with_an_identity_result_prints_the_substance_its_library_version_and_best_hits(
    app: Any, net: Network
) -> None:
    _, sample_id = approved_rum(app, net)
    issued = reports.issue_report(app.state.uow_factory(), net["reviewer"], sample_id)
    assert issued.id is not None
    _, pdf = reports.report_pdf(app.state.uow_factory(), net["reviewer"], issued.id)
    text = _text(pdf)
    for printed in (
        "Rum in 700 mL bottles",  # the item is the goods
        "Alcoholic strength by volume 40.1 %vol ± 0.2 (k = 2)",  # a label, not the result's key
        "Identification of Identity of the spirit as Ethanol",
        f"library massbank-ei, version {LIBRARY_VERSION}",
        "1. Ethanol (score 0.987); 2. Methanol (score 0.910); 3. Acetone (score 0.550)",
    ):
        assert printed in text, printed
    assert "alcohol_strength" not in text
    # The verification code covers the evidence: the stored data hashes to the printed code, and any
    # other library version would not.
    with app.state.uow_factory() as uow:
        data = uow.quality.get(reports.IssuedReport, issued.id).data
    assert data.verification_code() == issued.verification_code
    line = next(r for r in data.results if r.evidence is not None)
    assert line.kind == "identity" and line.value == "Ethanol"
    other = replace(line, evidence=replace(line.evidence, library_version="2024.01"))
    edited = replace(data, results=tuple(other if r is line else r for r in data.results))
    assert edited.verification_code() != data.verification_code()


def test_a_report_issued_before_the_new_fields_still_hashes_to_its_printed_code() -> None:
    # Fields added later are left out of the hashed JSON while at their default.
    assert '"evidence"' not in example_report().canonical_json()
    assert '"determined_level"' not in example_report().canonical_json()


def test_a_draft_opinion_refuses_the_report_on_its_field_until_it_is_left_out_on_purpose(
    client: TestClient, app: Any, net: Network
) -> None:
    _, sample_id = approved_rum(app, net)
    _opinion(app, net, sample_id, approve=False)
    with pytest.raises(ValidationFailed) as refused:
        reports.issue_report(app.state.uow_factory(), net["reviewer"], sample_id)
    assert refused.value.field == "leave_out_draft_opinion" and "still a draft" in refused.value.message
    sign_in(client, net, "reviewer")
    assert 'name="leave_out_draft_opinion"' in client.get(f"/samples/{sample_id}").text
    response = post(client, f"/samples/{sample_id}/report", {}, headers=HTMX)
    assert response.headers["HX-Reswap"] == "none"
    faults = json.loads(response.headers["HX-Trigger"])["form-errors"]["errors"]
    assert [f["field"] for f in faults] == ["leave_out_draft_opinion"]
    assert reports.reports_for_sample(app.state.uow_factory(), net["reviewer"], sample_id) == []
    left_out = post(client, f"/samples/{sample_id}/report", {"leave_out_draft_opinion": "yes"}, headers=HTMX)
    assert left_out.status_code == 204 and left_out.headers["HX-Redirect"].endswith("#reports")
    (issued,) = reports.reports_for_sample(app.state.uow_factory(), net["reviewer"], sample_id)
    text = _text(reports.report_pdf(app.state.uow_factory(), net["reviewer"], issued.id or 0)[1])
    assert "No opinion on tariff classification is given in this report." in text
    assert "Determined HS code" not in text and REASONING[:40] not in text


def test_an_approved_opinion_is_printed_on_the_report_with_its_level_and_reviewer(
    app: Any, net: Network
) -> None:
    _, sample_id = approved_rum(app, net)
    _opinion(app, net, sample_id, approve=True)
    issued = reports.issue_report(app.state.uow_factory(), net["reviewer"], sample_id, ReportIssue())
    text = _text(reports.report_pdf(app.state.uow_factory(), net["reviewer"], issued.id or 0)[1])
    for printed in (
        "Declared HS code 2208.40",
        "Determined HS code 2208.40 (subheading)",
        "Rum of 40.1 %vol, below 80 %vol: heading 22.08",
        "Declared 2208.40 agrees at chapter 22; heading and subheading not determined by these results.",
        "Opinion approved by reviewer",
    ):
        assert printed in text, printed


def test_the_officer_sees_the_timeline_the_chapter_decided_and_downloads_the_report(
    client: TestClient, app: Any, net: Network
) -> None:
    request_id, sample_id = approved_rum(app, net)
    issued = reports.issue_report(app.state.uow_factory(), net["reviewer"], sample_id)
    sign_in(client, net, "officer")
    page = client.get(f"/requests/{request_id}").text
    events = re.findall(r'<li data-event="([a-z_]+)"', page)
    steps = ["filed", "registered", "received", "in_analysis", "submitted", "approved", "reported"]
    assert [e for e in events if e in steps] == steps
    determined = re.search(r'<dd class="determined"[^>]*>.*?</dd>', page, re.S)
    assert determined is not None
    # The only rule that fires (Chapter 22 Note 3: 22.03 to 22.06 or 22.08) decides chapter 22 alone.
    assert 'data-code="22"' in determined.group(0) and 'data-level="chapter"' in determined.group(0)
    assert 'data-by="rules"' in determined.group(0) and "chapter 22" in determined.group(0)
    assert "22.08" not in determined.group(0)  # the heading was not decided
    assert "2208.40" not in determined.group(0)  # nor the subheading
    link = re.search(r'href="(/reports/\d+\.pdf)" data-report="([^"]+)"', page)
    assert link is not None and link.group(2) == issued.report_id
    pdf = client.get(link.group(1))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    answer = client.get(f"/requests/{request_id}", headers={"Accept": "application/json"}).json()
    assert answer["samples"][0]["determined"] == {"code": "22", "level": "chapter", "dotted": "22"}
    assert answer["samples"][0]["report"]["url"] == link.group(1)
    client.cookies.clear()
    _sign_in_as(client, _officer_of_another_office(app, net).username)
    assert client.get(link.group(1)).status_code == 404
    assert client.get(f"/requests/{request_id}").status_code == 404


def test_the_request_page_shows_the_approved_opinion_and_never_a_draft(
    client: TestClient, app: Any, net: Network
) -> None:
    request_id, sample_id = approved_rum(app, net)
    opinion_id = _opinion(app, net, sample_id, approve=False)
    sign_in(client, net, "officer")
    draft_page = client.get(f"/requests/{request_id}").text
    assert REASONING not in draft_page and 'class="opinion"' not in draft_page
    classification.approve_opinion(app.state.uow_factory(), net["reviewer"], opinion_id)
    page = client.get(f"/requests/{request_id}").text
    opinion = re.search(rf'<div class="opinion" id="opinion-{opinion_id}">.*?</div>', page, re.S)
    assert opinion is not None
    assert REASONING in opinion.group(0) and "reviewer" in opinion.group(0)
    assert 'data-code="220840"' in opinion.group(0)
    assert 'data-by="opinion"' in page and 'data-event="opinion_approved"' in page


def test_a_draft_newer_than_the_approved_opinion_shows_the_classification_under_revision_as_the_report(
    client: TestClient, app: Any, net: Network
) -> None:
    request_id, sample_id = approved_rum(app, net)
    _opinion(app, net, sample_id, approve=True)
    revised = OpinionCreate(determined_code="2208.70", reasoning="On second thoughts: a liqueur.")
    classification.write_opinion(app.state.uow_factory(), net["analyst"], sample_id, revised)
    sign_in(client, net, "officer")
    page = client.get(f"/requests/{request_id}").text
    assert REASONING not in page and 'class="opinion"' not in page and "liqueur" not in page
    determined = re.search(r'<dd class="determined[^"]*"[^>]*>.*?</dd>', page, re.S)
    assert determined is not None and "Classification under revision" in determined.group(0)
    assert "data-code" not in determined.group(0)
    (answer,) = client.get(f"/requests/{request_id}", headers={"Accept": "application/json"}).json()[
        "samples"
    ]
    assert answer["under_revision"] is True and answer["opinion"] is None and answer["determined"] is None
    # The report, left without the draft, prints no opinion either: the two agree.
    issued = reports.issue_report(
        app.state.uow_factory(), net["reviewer"], sample_id, ReportIssue(leave_out_draft_opinion=True)
    )
    text = _text(reports.report_pdf(app.state.uow_factory(), net["reviewer"], issued.id or 0)[1])
    assert "Determined HS code" not in text


def test_a_rejected_sample_shows_when_and_why_on_the_timeline(
    client: TestClient, app: Any, net: Network
) -> None:
    sample = received_sample(app.state.uow_factory, net, "central")
    cases.reject_sample(
        app.state.uow_factory(), net["central_manager"], sample.id, "seal number does not match"
    )
    sign_in(client, net, "officer")
    page = client.get(f"/requests/{sample.request_id}").text
    rejected = re.search(r'<li data-event="rejected".*?</li>', page, re.S)
    assert rejected is not None and "seal number does not match" in rejected.group(0)


def test_the_hs_page_names_the_chapter_the_rules_decided_not_the_declared_heading_or_subheading(
    client: TestClient, app: Any, net: Network
) -> None:
    _, sample_id = approved_rum(app, net)
    sign_in(client, net, "reviewer")
    page = client.get(f"/samples/{sample_id}/hs").text
    decided = re.search(r'<p id="determined">.*?</p>', page, re.S)
    assert decided is not None and 'data-code="22"' in decided.group(0) and "chapter 22" in decided.group(0)
    assert "22.08" not in decided.group(0) and "2208.40" not in decided.group(0)
    assert (
        "Declared 2208.40 agrees at chapter 22; heading and subheading not determined by these results."
        in page
    )
    # A chapter is no opinion's code: the form is not prefilled with it.
    assert 'name="determined_code" required value=""' in page
