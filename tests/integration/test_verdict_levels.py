"""One verdict, worded once: a whisky declared 2208.30 at 40 % vol is decided by the rules only at chapter
22 (the one rule that fires, Chapter 22 Note 3, names headings 22.03 to 22.06 or 22.08, and decides only what
they share), and the API's evaluation, the sample's HS page and the issued test report all say so in the same
sentence, in English and in Korean. None of them claims the heading or the subheading. Where the codes a rule
names share a heading, that heading is decided: a still wine declared 2204.21 at 2 bar excess pressure
(Chapter 22 Subheading Note 1) agrees at heading 22.04."""

from __future__ import annotations

import html
import io
import re
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader

from customslab.services import analysis, classification, reports
from customslab.services.analysis import ResultCreate, ReviewDecision
from customslab.services.classification import OpinionCreate
from customslab.services.contract import parse
from customslab.services.quality_ports import IssuedReport
from customslab.services.reports import ReportAmend, ReportIssue
from tests.factories import Network, assigned_test, received_sample, rum_result
from tests.integration import test_pages as pages
from tests.integration.conftest import signed_in
from tests.integration.test_pages import post, sign_in

# The pages' fixtures: an app over the test database, a client, and a fresh network of users.
app, client, net = pages.app, pages.client, pages.net

WHISKY = {"declared_hs": "2208.30", "goods_description": "Whisky in 700 mL bottles"}
ENGLISH = "Declared 2208.30 agrees at chapter 22; heading and subheading not determined by these results."
KOREAN = "신고 2208.30은(는) 제22류에서 일치한다. 이 결과로 정해지지 않은 단위: 호, 소호."
WINE_ENGLISH = "Declared 2204.21 agrees at heading 22.04; subheading not determined by these results."
WINE_KOREAN = "신고 2204.21은(는) 제2204호에서 일치한다. 이 결과로 정해지지 않은 단위: 소호."


def _approved_whisky(app: Any, net: Network) -> tuple[int, int]:
    """The central laboratory's whisky sample, its alcoholic strength (40.0 % vol ± 0.2) approved and the
    laboratory's opinion (2208.30, the declaration) approved, so the report prints the rules' verdict.
    Returns (request id, sample id)."""
    uow = app.state.uow_factory
    sample = received_sample(uow, net, "central", **WHISKY)
    test = assigned_test(uow, net, sample.id, determination="Alcoholic strength", method_ref="M-22")
    analysis.enter_result(uow(), net["analyst"], test.id, parse(ResultCreate, rum_result("40.0")))
    analysis.submit_test(uow(), net["analyst"], test.id)
    analysis.review_test(uow(), net["reviewer"], test.id, ReviewDecision(approve=True))
    reasoning = "Whisky of 40.0 %vol, below 80 %vol: heading 22.08; a whisky by its label: 2208.30."
    opinion = classification.write_opinion(
        uow(), net["analyst"], sample.id, OpinionCreate(determined_code="2208.30", reasoning=reasoning)
    )
    assert opinion.id is not None
    classification.approve_opinion(uow(), net["reviewer"], opinion.id)
    return sample.request_id, sample.id


def _verdict_on_page(client: TestClient, sample_id: int) -> str:
    page = client.get(f"/samples/{sample_id}/hs")
    assert page.status_code == 200
    found = re.search(r'<p id="verdict-message">(.*?)</p>', page.text, re.S)
    assert found is not None, "the HS page prints no verdict"
    return html.unescape(found.group(1)).strip()


def _report(app: Any, net: Network, entry_id: int) -> tuple[str, str]:
    """The verdict an issued report keeps in its data, and the text of its PDF."""
    uow = app.state.uow_factory
    with uow() as u:
        data = u.quality.get(IssuedReport, entry_id).data
    assert data.classification is not None
    _, pdf = reports.report_pdf(uow(), net["reviewer"], entry_id)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    return data.classification.measurement_verdict, re.sub(r"\s+", " ", text)


def test_a_chapter_only_decision_is_worded_the_same_by_the_api_the_page_and_the_report(
    client: TestClient, app: Any, net: Network
) -> None:
    request_id, sample_id = _approved_whisky(app, net)

    # The API: the level as data, the sentence as text, in both languages.
    headers = signed_in(client, net, "reviewer")
    path = f"/api/samples/{sample_id}/hs-evaluation"
    english = client.get(path, headers=headers).json()
    korean = client.get(path, params={"lang": "ko"}, headers=headers).json()
    for answer in (english, korean):
        assert (answer["status"], answer["determined"], answer["decided"]) == (
            "decided",
            ["220830"],
            ["22"],
        )
        assert (answer["mismatch"], answer["level"], answer["open_levels"]) == (
            "none",
            "chapter",
            ["heading", "subheading"],
        )
        assert answer["missing_evidence"] == []
    assert (english["message"], korean["message"]) == (ENGLISH, KOREAN)
    # The stateless evaluation of the same declaration and result says the same.
    body = {"declared": "2208.30", "results": ["alcohol_strength=40.0%vol±0.2"]}
    values = client.post("/api/hs/evaluate", json=body, headers=headers).json()
    assert (values["decided"], values["level"], values["open_levels"], values["message"]) == (
        ["22"],
        "chapter",
        ["heading", "subheading"],
        ENGLISH,
    )
    # A rule naming one heading decides that heading: a still wine's excess pressure keeps it in 22.04.
    wine = {"declared": "2204.21", "results": ["excess_pressure=2bar"]}
    for lang, sentence in (("en", WINE_ENGLISH), ("ko", WINE_KOREAN)):
        still = client.post("/api/hs/evaluate", json=wine, params={"lang": lang}, headers=headers).json()
        assert (still["status"], still["determined"], still["decided"], still["mismatch"]) == (
            "decided",
            ["220421"],
            ["2204"],
            "none",
        )
        assert (still["level"], still["open_levels"], still["message"]) == (
            "heading",
            ["subheading"],
            sentence,
        )

    # The sample's HS page, in English, then in Korean.
    sign_in(client, net, "reviewer")
    assert _verdict_on_page(client, sample_id) == ENGLISH
    post(client, "/language", {"lang": "ko", "next": "/"})
    assert _verdict_on_page(client, sample_id) == KOREAN

    # The issued test report: the sentence kept in its (hashed) data and printed on the PDF.
    uow = app.state.uow_factory
    issued = reports.issue_report(uow(), net["reviewer"], sample_id, ReportIssue())
    kept, printed = _report(app, net, issued.id or 0)
    assert kept == ENGLISH and ENGLISH in printed
    assert "Determined HS code 2208.30 (subheading)" in printed  # the opinion's code, not the rules'
    # The same report issued again in Korean (a new version, as the importer asked for it in Korean).
    in_korean = ReportAmend(reason="Issued in Korean at the importer's request.", language="ko")
    amended = reports.amend_report(uow(), net["reviewer"], issued.id or 0, in_korean)
    kept_ko, printed_ko = _report(app, net, amended.id or 0)
    assert kept_ko == KOREAN and KOREAN in printed_ko
    assert ENGLISH not in printed_ko

    # The officer's answer on the request reads the same verdict (it prints what the report prints).
    client.cookies.clear()
    sign_in(client, net, "officer")
    page = client.get(f"/requests/{request_id}").text
    verdict = re.search(r'<dd class="rules-verdict"[^>]*>(.*?)</dd>', page, re.S)
    assert verdict is not None and html.unescape(verdict.group(1)).strip() == ENGLISH
    answer = client.get(f"/requests/{request_id}", headers={"Accept": "application/json"}).json()
    assert answer["samples"][0]["rules"]["message"] == ENGLISH
