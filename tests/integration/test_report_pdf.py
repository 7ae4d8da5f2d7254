"""The ISO/IEC 17025 7.8 test report rendered to a real PDF and read back with pypdf."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from pypdf import PdfReader

from customslab.adapters.report_pdf import read_verification_code, render_report_pdf
from customslab.domain.quality.report import Signatory, short_code
from customslab.domain.quality.report_example import example_report


def pdf_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def report_pdf() -> tuple[bytes, list[str]]:
    pdf = render_report_pdf(example_report())
    return pdf, pdf_text(pdf)


def test_every_item_of_clause_7_8_2_1_appears_in_the_report(report_pdf: tuple[bytes, list[str]]) -> None:
    data = example_report()
    text = flat(" ".join(report_pdf[1]))
    expected = {
        "a title": data.title,
        "b laboratory name": data.laboratory.name,
        "b laboratory address": data.laboratory.address,
        "c where tests were performed": data.tests_performed_at,
        "d unique report id": f"Report no. {data.report_id} | Version 1",
        "e customer office": data.customer.office,
        "e requester": "Officer Lee Min-jun",
        "f method and version": "CCL-M-044",
        "f method title": "Fatty acid methyl esters by GC-FID",
        "n deviation from method": "Sample size reduced to 50 mg",
        "g item description": "Pale yellow oily liquid",
        "g condition on receipt": data.item.condition_on_receipt,
        "g sample id": data.item.sample_id,
        "g seal": data.item.seal,
        "h date of receipt": "Date of receipt 2025-03-03",
        "i dates of analysis": "2025-03-04 to 2025-03-07",
        "j date of issue": "Date of issue 2025-03-10",
        "k sampling": "Sampling was performed by the customer",
        "l only the item tested": "The results relate only to the item tested",
        "m result with unit": "EPA (C20:5 n-3) 18.4 g/100 g FA ± 0.6 (k = 2) 0.02 / 0.05",
        "o authorised by": "Technical manager, Organic Analysis Section, 2025-03-10",
        "p external provider": "† Result from an external provider: Yokohama Customs Laboratory (RCL Japan)",
        "7.8.6 decision rule": "Guarded acceptance (ILAC-G8:09/2019 4.2.2)",
        "7.8.6 conformity statement": "Does not conform: ethyl esters are below the LOQ",
        "7.8.7 declared HS": "Declared HS code 1504.20",
        "7.8.7 determined HS": "Determined HS code 1504.20",
        "7.8.7 references": "HS Explanatory Notes to headings 15.04 and 15.18",
        "end of report": f"End of report {data.report_id} version 1",
    }
    missing = {item: needle for item, needle in expected.items() if flat(needle) not in text}
    assert missing == {}


def test_the_verification_code_is_printed_and_round_trips_through_the_metadata(
    report_pdf: tuple[bytes, list[str]],
) -> None:
    pdf, pages = report_pdf
    code = example_report().verification_code()
    assert re.fullmatch(r"[0-9a-f]{64}", code)
    assert read_verification_code(pdf) == code
    text = " ".join(pages)
    assert code[:32] in text and code[32:] in text
    assert f"Verification {short_code(code)}" in text


def test_changing_any_report_field_changes_the_verification_code() -> None:
    original = example_report()
    edited = replace(original, results=(replace(original.results[0], value="18.5"), *original.results[1:]))
    assert edited.verification_code() != original.verification_code()
    assert read_verification_code(render_report_pdf(edited)) == edited.verification_code()


def test_a_pdf_without_a_code_reads_back_as_none() -> None:
    assert read_verification_code(b"not a pdf at all") is None


def test_each_page_of_a_two_page_report_shows_page_x_of_y_and_the_report_id(
    report_pdf: tuple[bytes, list[str]],
) -> None:
    pages = report_pdf[1]
    assert len(pages) == 2
    assert "Page 1 of 2" in pages[0] and "Page 2 of 2" in pages[1]
    assert all("Report CCL-2025-004217 v1" in page for page in pages)


def test_an_amended_report_names_the_version_it_supersedes_and_why() -> None:
    text = flat(" ".join(pdf_text(render_report_pdf(example_report(version=2)))))
    assert "This report supersedes report CCL-2025-004217 version 1." in text
    assert "Declared HS code corrected from 1504.10 to 1504.20" in text
    assert "Report no. CCL-2025-004217 | Version 2" in text


def test_korean_and_japanese_names_render_without_error() -> None:
    data = replace(
        example_report(),
        authorised_by=(
            Signatory("김지원", "기술책임자 (technical manager)", example_report().issued_on),
            Signatory("山田 さくら", "技術管理者", example_report().issued_on),
            Signatory("王小明", "审核员 δ13C ≥ 1 %", example_report().issued_on),
        ),
    )
    pdf = render_report_pdf(data)
    assert pdf.startswith(b"%PDF") and b"HYSMyeongJo-Medium" in pdf and b"HeiseiMin-W3" in pdf
    assert "김지원" in " ".join(pdf_text(pdf))
