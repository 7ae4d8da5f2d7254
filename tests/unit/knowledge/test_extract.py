"""Uploaded documents become text: real PDF, Word, HTML and text files are read, and files that are
locked, image-only, hostile or not what their name says are refused with a reason."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from customslab.knowledge import extract
from customslab.knowledge.extract import ExtractionError, extract_text
from customslab.knowledge.text import index_terms, query_terms

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _pdf(pages: list[str]) -> bytes:
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=A4)
    for text in pages:
        if text:
            sheet.drawString(72, 760, text)
        else:
            sheet.rect(72, 600, 200, 100, fill=1)  # a page with a drawing and no text
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def _docx() -> bytes:
    document = docx.Document()
    document.add_heading("Dried red pepper", level=1)
    document.add_paragraph("Ground peppers are classified by their capsaicin content.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Heading"
    table.cell(0, 1).text = "0904.22"
    table.cell(1, 0).text = "Method"
    table.cell(1, 1).text = "HPLC"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_pdf_is_read_page_by_page_with_its_page_count() -> None:
    read = extract_text(_pdf(["Dried red peppers of heading 0904.22", "Capsaicin by HPLC"]), "r.pdf")
    assert read.pages == 2
    assert read.media_type == "application/pdf"
    assert "Dried red peppers" in read.text and "Capsaicin by HPLC" in read.text
    assert set(query_terms("pepper 0904")) <= set(index_terms(read.text))


def test_a_word_document_is_read_with_its_paragraphs_and_tables() -> None:
    read = extract_text(_docx(), "method.docx", DOCX)
    assert read.media_type == DOCX
    assert read.pages == 1
    assert "Ground peppers are classified" in read.text
    assert "Heading\t0904.22" in read.text and "Method\tHPLC" in read.text


def test_an_html_page_is_read_without_its_scripts_and_styles() -> None:
    page = (
        "<html><head><title>고추 분석</title><style>p { color: red }</style>"
        "<script>var secret = 'tracking';</script></head>"
        "<body><p>Dried   red\tpeppers</p><noscript>enable js</noscript><p>고추를 분쇄한 것</p></body></html>"
    )
    read = extract_text(page.encode(), "page.html")
    assert read.media_type == "text/html"
    assert "Dried red peppers" in read.text and "고추를 분쇄한 것" in read.text
    assert "tracking" not in read.text and "color" not in read.text and "enable js" not in read.text


def test_text_in_utf16_or_a_legacy_korean_encoding_is_decoded() -> None:
    korean = "건조한 고추를 분쇄한 것은 제0904호에 분류한다. 관세평가분류원의 분석 결과이다."
    assert extract_text(korean.encode("utf-16"), "note.txt").text == korean
    assert extract_text(korean.encode("euc-kr"), "note.txt").text == korean
    assert extract_text(b"\xef\xbb\xbf# Method", "method.md").text == "# Method"


def test_a_real_article_is_read_and_found_by_its_words(shared_data: Path) -> None:
    path = shared_data / "knowledge" / "2018-rocb-newsletter-62-kccl-designated-rcl.txt"
    read = extract_text(path.read_bytes(), path.name)
    assert "ROCB E-Newsletter No.62" in read.text
    assert read.pages == -(-len(read.text) // extract.CHARS_PER_PAGE)
    assert set(query_terms("Regional Customs Laboratories designated")) <= set(index_terms(read.text))


def test_a_password_protected_pdf_is_refused() -> None:
    writer = PdfWriter(clone_from=io.BytesIO(_pdf(["secret method"])))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    locked = io.BytesIO()
    writer.write(locked)
    with pytest.raises(ExtractionError, match="password"):
        extract_text(locked.getvalue(), "locked.pdf")


def test_a_pdf_only_restricted_by_its_owner_is_read() -> None:
    writer = PdfWriter(clone_from=io.BytesIO(_pdf(["open method"])))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    restricted = io.BytesIO()
    writer.write(restricted)
    assert "open method" in extract_text(restricted.getvalue(), "restricted.pdf").text


def test_a_scanned_pdf_without_a_text_layer_is_refused_saying_ocr_is_not_done() -> None:
    with pytest.raises(ExtractionError, match=r"no text layer.*OCR"):
        extract_text(_pdf(["", ""]), "scan.pdf")


def test_a_word_document_that_unpacks_to_a_zip_bomb_is_refused_unopened() -> None:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_docx())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for member in source.infolist():
            bomb.writestr(member, source.read(member))
        with bomb.open("word/media/padding.bin", "w", force_zip64=True) as padding:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(extract.MAX_UNPACKED_BYTES // len(chunk) + 1):
                padding.write(chunk)
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(ExtractionError, match="unpacks to more than"):
        extract_text(out.getvalue(), "bomb.docx")


def test_a_damaged_word_document_is_refused() -> None:
    damaged = _docx()[:2000]
    with pytest.raises(ExtractionError, match="damaged"):
        extract_text(damaged, "damaged.docx")


def test_a_zip_that_is_not_a_word_document_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ExtractionError, match=r"not a Word"):
        extract_text(out.getvalue(), "notes.docx")


def test_a_file_that_is_not_what_its_name_says_is_refused() -> None:
    with pytest.raises(ExtractionError, match="declared a PDF but is not one"):
        extract_text(b"Just some text, named as a PDF.", "report.pdf")
    with pytest.raises(ExtractionError, match="declared as text but is a PDF"):
        extract_text(_pdf(["text"]), "report.txt")


def test_binary_data_named_as_text_is_refused() -> None:
    with pytest.raises(ExtractionError, match="binary"):
        extract_text(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "program.txt")


def test_an_unsupported_type_is_refused_with_the_types_read() -> None:
    with pytest.raises(ExtractionError, match=r"cannot be read.*\.docx.*\.pdf"):
        extract_text(b"\xd0\xcf\x11\xe0", "old.doc", "application/msword")


def test_a_declared_media_type_wins_over_a_missing_suffix() -> None:
    read = extract_text(b"<p>Capsaicin</p>", "download", "text/html; charset=utf-8")
    assert read.text == "Capsaicin"


def test_more_text_than_a_document_holds_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract, "MAX_CHARS", 1_000)
    with pytest.raises(ExtractionError, match="more than 1,000 characters"):
        extract_text(b"pepper " * 200, "long.txt")


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ExtractionError, match="empty"):
        extract_text(b"", "empty.txt")
