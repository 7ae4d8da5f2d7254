"""A test report issued in Korean: its fixed text in Korean, the case data as written, Hangul in the
built-in CID font; it verifies like any other, an amendment keeps its language, and English is unchanged.

What is checked: the text pypdf extracts from the PDF (it reads the CID font's UniKS-UCS2-H encoding back
to Unicode), and that the PDF names the CID font HYSMyeongJo-Medium."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader

from customslab.adapters.report_pdf import render_report_pdf
from customslab.domain.quality.report import ReportData
from customslab.domain.quality.report_example import example_report
from customslab.services import reports
from customslab.services.quality_ports import IssuedReport
from customslab.services.reports import ReportAmend, ReportIssue
from tests.factories import Network
from tests.integration import test_pages as pages
from tests.integration.test_pages import post, sign_in
from tests.integration.test_report_answer import REASONING, _opinion, approved_rum

app, client, net = pages.app, pages.client, pages.net

HTMX = {"HX-Request": "true"}
HANGUL = re.compile(r"[\uac00-\ud7a3]")
KOREAN_HEADINGS = (
    "1 시험실, 의뢰자 및 시험 품목",
    "2 시험 방법",
    "3 시험 결과",
    "5 품목분류 의견",
    "6 승인 및 진위 확인",
)
ENGLISH_HEADINGS = (
    "1 Laboratory, customer and item",
    "2 Methods",
    "3 Results",
    "5 Opinion on tariff classification",
    "6 Authorisation and verification",
)


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def _issued(app: Any, net: Network, entry_id: int) -> tuple[ReportData, bytes]:
    """The issued version's stored report data and its PDF."""
    with app.state.uow_factory() as uow:
        data = uow.quality.get(IssuedReport, entry_id).data
    _, pdf = reports.report_pdf(app.state.uow_factory(), net["reviewer"], entry_id)
    return data, pdf


def test_a_report_issued_in_korean_prints_its_headings_labels_and_statements_in_korean(
    app: Any, net: Network
) -> None:
    _, sample_id = approved_rum(app, net)
    _opinion(app, net, sample_id, approve=True)
    cmd = ReportIssue(language="ko")
    issued = reports.issue_report(app.state.uow_factory(), net["reviewer"], sample_id, cmd)
    data, pdf = _issued(app, net, issued.id or 0)
    text = _text(pdf)
    assert b"HYSMyeongJo-Medium" in pdf
    for printed in (
        *KOREAN_HEADINGS,
        "시험성적서: Rum in 700 mL bottles",  # the title's words in Korean, the goods as the officer wrote
        f"성적서 번호 {issued.report_id} | 버전 1",
        "시료 번호",
        "접수 시 상태",
        "시료 채취는 의뢰자(세관)가 수행하였으며",
        "이 시험 결과는 접수된 상태의 시험 품목에만 해당합니다.",
        "알코올 도수(부피 기준) 40.1 %vol ± 0.2 (k = 2)",  # the measurand's Korean label
        "동정 결과 Ethanol",
        "판정 HS 코드 2208.40 (소호)",
        REASONING,  # written by people: printed as written
        "판정 규칙: 보호대역 적용 판정",
        "검토자(기술책임자)",
        "QR 코드를 스캔하거나",
        f"성적서 {issued.report_id} 버전 1 끝",
    ):
        assert printed in text, printed
    # The footer's page number: pypdf puts a space where the canvas switches to the CID font.
    assert re.search(r"1 / \d+ ?쪽", text)
    for english in (
        *ENGLISH_HEADINGS,
        "Date of receipt",
        "Decision rule:",
        "Alcoholic strength by",
        "Page 1",
    ):
        assert english not in text, english
    assert data.language == "ko" and '"language":"ko"' in data.canonical_json()
    verdict = reports.verify_report(app.state.uow_factory(), pdf)
    assert verdict.status == "issued" and verdict.identical_file is True
    assert verdict.verification_code == issued.verification_code == data.verification_code()


def test_a_draft_left_out_of_a_korean_report_is_said_in_korean(app: Any, net: Network) -> None:
    _, sample_id = approved_rum(app, net)
    _opinion(app, net, sample_id, approve=False)
    cmd = ReportIssue(language="ko", leave_out_draft_opinion=True)
    issued = reports.issue_report(app.state.uow_factory(), net["reviewer"], sample_id, cmd)
    text = _text(_issued(app, net, issued.id or 0)[1])
    assert "이 성적서에는 품목분류에 관한 의견을 기재하지 않습니다." in text
    assert "No opinion on tariff classification" not in text


def test_an_english_report_is_unchanged_and_leaves_the_language_out_of_its_hashed_data(
    app: Any, net: Network
) -> None:
    _, sample_id = approved_rum(app, net)
    _opinion(app, net, sample_id, approve=True)
    issued = reports.issue_report(app.state.uow_factory(), net["reviewer"], sample_id)
    data, pdf = _issued(app, net, issued.id or 0)
    text = _text(pdf)
    for printed in (
        *ENGLISH_HEADINGS,
        "Test report: Rum in 700 mL bottles",
        "Alcoholic strength by volume 40.1 %vol",
        "Determined HS code 2208.40 (subheading)",
        "Decision rule: Guarded acceptance",
    ):
        assert printed in text, printed
    assert re.search(r"Page 1 of \d", text)
    assert not HANGUL.search(text) and b"HYSMyeongJo-Medium" not in pdf
    assert data.language == "en" and '"language"' not in data.canonical_json()
    assert reports.verify_report(app.state.uow_factory(), pdf).status == "issued"


def test_an_amendment_keeps_the_report_language_unless_another_is_given(app: Any, net: Network) -> None:
    _, sample_id = approved_rum(app, net)
    uow = app.state.uow_factory
    first = reports.issue_report(uow(), net["reviewer"], sample_id, ReportIssue(language="ko"))
    kept = reports.amend_report(uow(), net["reviewer"], first.id or 0, ReportAmend(reason="오타 수정"))
    data, pdf = _issued(app, net, kept.id or 0)
    text = _text(pdf)
    assert data.language == "ko"
    assert f"수정 성적서. 이 성적서는 성적서 {first.report_id} 버전 1을 대체합니다. 사유: 오타 수정" in text
    english = reports.amend_report(
        uow(), net["reviewer"], kept.id or 0, ReportAmend(reason="English copy", language="en")
    )
    data, pdf = _issued(app, net, english.id or 0)
    assert data.language == "en"
    assert f"AMENDED REPORT. This report supersedes report {first.report_id} version 2." in _text(pdf)
    old = reports.verify_code(uow(), first.verification_code)
    assert old.status == "superseded"


def test_the_report_form_offers_the_report_language_set_to_the_session_language(
    client: TestClient, app: Any, net: Network
) -> None:
    _, sample_id = approved_rum(app, net)
    sign_in(client, net, "reviewer")
    english = client.get(f"/samples/{sample_id}").text
    assert re.search(r'<option value="en" selected>', english), "English by default"
    post(client, "/language", {"lang": "ko", "next": f"/samples/{sample_id}"})
    page = client.get(f"/samples/{sample_id}").text
    select = re.search(r'<select id="report_language" name="language">.*?</select>', page, re.S)
    assert select is not None and '<option value="ko" selected>' in select.group(0)
    bad = post(client, f"/samples/{sample_id}/report", {"language": "fr"}, headers=HTMX)
    assert bad.headers.get("HX-Reswap") == "none"
    faults = json.loads(bad.headers["HX-Trigger"])["form-errors"]["errors"]
    assert [f["field"] for f in faults] == ["language"]
    assert reports.reports_for_sample(app.state.uow_factory(), net["reviewer"], sample_id) == []
    done = post(client, f"/samples/{sample_id}/report", {"language": "ko"}, headers=HTMX)
    assert done.status_code == 204, done.text
    (issued,) = reports.reports_for_sample(app.state.uow_factory(), net["reviewer"], sample_id)
    assert _issued(app, net, issued.id or 0)[0].language == "ko"


def test_hangul_in_the_case_data_of_an_english_report_prints_in_the_cid_font() -> None:
    data = example_report()
    korean = replace(
        data,
        laboratory=replace(data.laboratory, name="관세중앙분석소"),
        item=replace(data.item, description="건조 고추 분말 (dried red pepper powder)"),
    )
    pdf = render_report_pdf(korean)
    text = _text(pdf)
    assert "건조 고추 분말 (dried red pepper powder)" in text
    assert "관세중앙분석소" in text  # the page header, drawn on the canvas, not in a paragraph
    assert "1 Laboratory, customer and item" in text and b"HYSMyeongJo-Medium" in pdf


def test_the_example_report_in_korean_names_every_page_in_korean() -> None:
    pages_text = [p.extract_text() for p in PdfReader(io.BytesIO(render_report_pdf(example_report(2)))).pages]
    korean = replace(example_report(2), language="ko")
    korean_pages = [p.extract_text() for p in PdfReader(io.BytesIO(render_report_pdf(korean))).pages]
    assert len(korean_pages) >= len(pages_text) - 1
    total = len(korean_pages)
    for number, page in enumerate(korean_pages, start=1):
        flat = re.sub(r"\s+", " ", page)
        assert (
            re.search(rf"{number} / {total} ?쪽", flat) and f"시험성적서 {korean.report_id}, 버전 2" in flat
        )
    assert korean.verification_code() != example_report(2).verification_code()
