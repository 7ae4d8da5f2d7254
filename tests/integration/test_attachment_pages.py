"""A test's raw instrument files on the pages: exact download, previews of spectra, images and PDFs, and
nothing shown to whom the visibility table hides them or rendered that could run in the browser."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import segno
from fastapi.testclient import TestClient
from reportlab.pdfgen import canvas

from customslab.services import analysis, attachments, referrals
from customslab.services.referrals import ShareCreate
from tests.factories import PASSWORD, Network, assigned_test, received_sample
from tests.integration.test_pages import sign_in

MASSBANK = "spectra/massbank-ei/MSBNK-GL_Sciences_Inc-GLS00001.txt"
ATR = "spectra/mpx-polymers/spectra/LCG_01-LDPE_nobio_ATR_00f95e21.csv"
JCAMP = Path(__file__).resolve().parents[1] / "fixtures" / "spectra" / "dif.jdx"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def test_id(app: Any, net: Network) -> int:
    """A test on a received sample of the central laboratory, assigned to its analyst."""
    sample = received_sample(app.state.uow_factory, net)
    return assigned_test(
        app.state.uow_factory, net, sample.id, determination="Identity", method_ref="GC-MS"
    ).id


def attach(app: Any, net: Network, test_id: int, name: str, data: bytes, media_type: str) -> int:
    """The analyst attaches `data` to the test as `name`; the attachment's id."""
    out = analysis.attach_file(
        app.state.uow_factory(),
        net["analyst"],
        test_id,
        filename=name,
        media_type=media_type,
        stream=io.BytesIO(data),
        max_bytes=10_000_000,
    )
    return out.id


def bearer(client: TestClient, net: Network, who: str) -> dict[str, str]:
    token = client.post("/api/auth/token", json={"username": net[who].username, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def png() -> bytes:
    buffer = io.BytesIO()
    segno.make("KCS-ICN-2026-00042").save(buffer, kind="png", scale=2)
    return buffer.getvalue()


def pdf(pages: int = 2) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    for number in range(1, pages + 1):
        page.drawString(72, 720, f"Chromatogram report, page {number}")
        page.showPage()
    page.save()
    return buffer.getvalue()


def test_the_download_returns_the_exact_bytes_under_the_files_name(
    client: TestClient, app: Any, net: Network, test_id: int, shared_data: Path
) -> None:
    data = (shared_data / MASSBANK).read_bytes()
    att = attach(app, net, test_id, "GLS00001 ‘run 2’.txt", data, "text/plain")
    sign_in(client, net, "reviewer")
    answer = client.get(f"/attachments/{att}")
    assert answer.status_code == 200
    assert answer.content == data
    assert answer.headers["content-type"].startswith("text/plain")
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="GLS00001 _run 2_.txt"')
    assert "filename*=UTF-8''GLS00001%20%E2%80%98run%202%E2%80%99.txt" in disposition
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answer.headers["content-security-policy"]


def test_a_massbank_record_is_previewed_as_a_stick_plot_with_labelled_axes(
    client: TestClient, app: Any, net: Network, test_id: int, shared_data: Path
) -> None:
    att = attach(app, net, test_id, "GLS00001.txt", (shared_data / MASSBANK).read_bytes(), "text/plain")
    sign_in(client, net, "analyst")
    page = client.get(f"/attachments/{att}/preview")
    assert page.status_code == 200
    svg = re.search(r'<svg class="spectrum-plot".*?</svg>', page.text, re.S)
    assert svg, page.text
    assert ">m/z</text>" in svg[0] and ">Relative abundance (percent of base peak)</text>" in svg[0]
    trace = re.search(r'class="trace"[^>]* d="([^"]+)"', svg[0])
    assert trace and trace[1].count("V") > 5  # one stick per peak
    assert "alpha-MethylBenzylamine" in page.text  # the figure caption names the compound
    assert f'href="/attachments/{att}"' in page.text


def test_an_atr_spectrum_and_a_jcamp_file_are_drawn_as_lines_in_wavenumber(
    client: TestClient, app: Any, net: Network, test_id: int, shared_data: Path
) -> None:
    atr = attach(app, net, test_id, "LDPE.csv", (shared_data / ATR).read_bytes(), "text/csv")
    jdx = attach(app, net, test_id, "pe.jdx", JCAMP.read_bytes(), "chemical/x-jcamp-dx")
    sign_in(client, net, "analyst")
    for att in (atr, jdx):
        page = client.get(f"/attachments/{att}/preview").text
        assert '<svg class="spectrum-plot"' in page
        assert ">Wavenumber (cm⁻¹)</text>" in page and ">Absorbance</text>" in page
        assert re.search(r'class="trace"[^>]* d="M[\d.]+ [\d.]+L', page)
    # The 3,451 points of the ATR scan are thinned for drawing, and the page says so.
    page = client.get(f"/attachments/{atr}/preview").text
    assert "3451 points" in page and "drawn, every peak kept" in page


def test_an_image_is_shown_in_place_and_served_inline_with_its_checked_type(
    client: TestClient, app: Any, net: Network, test_id: int
) -> None:
    data = png()
    att = attach(app, net, test_id, "photo.png", data, "application/octet-stream")
    sign_in(client, net, "analyst")
    page = client.get(f"/attachments/{att}/preview").text
    assert f'<img class="preview-image" src="/attachments/{att}?inline=1"' in page
    shown = client.get(f"/attachments/{att}?inline=1")
    assert shown.content == data and shown.headers["content-type"] == "image/png"
    assert shown.headers["content-disposition"].startswith("inline;")


def test_a_pdf_preview_gives_its_page_count_first_page_text_and_a_link_that_opens_it(
    client: TestClient, app: Any, net: Network, test_id: int
) -> None:
    data = pdf(pages=2)
    att = attach(app, net, test_id, "report.pdf", data, "application/pdf")
    sign_in(client, net, "analyst")
    page = client.get(f"/attachments/{att}/preview").text
    assert "2 pages" in page and "Chromatogram report, page 1" in page
    assert "page 2" not in page
    assert f'href="/attachments/{att}?inline=1" target="_blank" rel="noopener"' in page
    opened = client.get(f"/attachments/{att}?inline=1")
    assert opened.headers["content-type"] == "application/pdf" and opened.content == data
    assert opened.headers["content-disposition"].startswith("inline;")


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [("page.html", HTML, "text/html"), ("logo.svg", SVG, "image/svg+xml"), ("notes.txt", HTML, "text/plain")],
)
def test_markup_is_never_served_inline_nor_with_its_own_type(
    client: TestClient, app: Any, net: Network, test_id: int, name: str, data: bytes, media_type: str
) -> None:
    att = attach(app, net, test_id, name, data, media_type)
    sign_in(client, net, "analyst")
    for path in (f"/attachments/{att}", f"/attachments/{att}?inline=1"):
        answer = client.get(path)
        assert answer.content == data
        assert answer.headers["content-type"] == "application/octet-stream"
        assert answer.headers["content-disposition"].startswith("attachment;")
        assert answer.headers["content-security-policy"] == "default-src 'none'; sandbox"
    page = client.get(f"/attachments/{att}/preview").text
    assert "<img" not in page and "alert(" not in page
    assert "No preview for this kind of file" in page


def test_another_laboratory_an_officer_and_an_administrator_get_404(
    client: TestClient, app: Any, net: Network, test_id: int
) -> None:
    att = attach(app, net, test_id, "photo.png", png(), "image/png")
    for who in ("outsider", "officer", "admin", "coordinator"):
        client.cookies.clear()
        sign_in(client, net, who)
        for path in (f"/attachments/{att}", f"/attachments/{att}/preview", "/attachments/999999999"):
            assert client.get(path).status_code == 404, (who, path)


def test_a_laboratory_the_sample_is_shared_with_may_read_its_files(
    client: TestClient, app: Any, net: Network, test_id: int
) -> None:
    att = attach(app, net, test_id, "photo.png", png(), "image/png")
    sample_id = attachments.attachment_file(app.state.uow_factory(), net["analyst"], att).info.sample_id
    referrals.share_sample(
        app.state.uow_factory(), net["central_manager"], sample_id, ShareCreate(org_code=net.rcl)
    )
    sign_in(client, net, "coordinator")
    assert client.get(f"/attachments/{att}").status_code == 200


def test_the_sample_page_links_each_file_to_its_preview_and_download(
    client: TestClient, app: Any, net: Network, test_id: int
) -> None:
    att = attach(app, net, test_id, "photo.png", png(), "image/png")
    sample_id = attachments.attachment_file(app.state.uow_factory(), net["analyst"], att).info.sample_id
    sign_in(client, net, "reviewer")
    page = client.get(f"/samples/{sample_id}").text
    assert f'href="/attachments/{att}/preview"' in page and f'href="/attachments/{att}" download' in page


def test_an_unreadable_spectrum_says_why_and_still_offers_the_download(
    client: TestClient, app: Any, net: Network, test_id: int
) -> None:
    att = attach(app, net, test_id, "broken.jdx", b"##TITLE=x\n##JCAMP-DX=5.01\n##END=\n", "text/plain")
    sign_in(client, net, "analyst")
    page = client.get(f"/attachments/{att}/preview").text
    assert "This file cannot be shown here:" in page and "broken.jdx" in page
    assert "spectrum-plot" not in page and f'href="/attachments/{att}"' in page


def test_the_api_downloads_the_exact_bytes_and_hides_the_file_from_another_laboratory(
    client: TestClient, app: Any, net: Network, test_id: int
) -> None:
    data = pdf(pages=1)
    att = attach(app, net, test_id, "report.pdf", data, "application/pdf")
    answer = client.get(f"/api/attachments/{att}", headers=bearer(client, net, "reviewer"))
    assert answer.status_code == 200 and answer.content == data
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("attachment;")
    hidden = client.get(f"/api/attachments/{att}", headers=bearer(client, net, "outsider"))
    assert hidden.status_code == 404 and hidden.json() == {"error": f"File {att} was not found."}
