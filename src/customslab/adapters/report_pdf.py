"""Render an ISO/IEC 17025 clause 7.8 test report (`ReportData`) to PDF bytes with reportlab platypus.

Every page carries the report id, version, verification code and "Page x of y"; the last block holds
the signatories, a QR code (segno) of the verification payload and the printed sha256. The same sha256
goes into the PDF metadata (/Subject and /Keywords) so `read_verification_code` can recover it.

Fonts: text uses the PDF standard fonts (Helvetica). Characters outside their WinAnsi encoding are
set in reportlab's built-in CID fonts: Hangul and symbols such as δ or ≥ in HYSMyeongJo-Medium, kana
in HeiseiMin-W3, other Han ideographs in STSong-Light. CID fonts are not embedded: a viewer without
Asian font support (or poppler without CJK fonts installed) shows those glyphs blank, but rendering
never fails. Scripts none of these fonts cover (Thai, Arabic, ...) print as missing glyphs.
"""

from __future__ import annotations

import io
import re
from typing import Any
from xml.sax.saxutils import escape

import segno
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from customslab.domain.quality.report import ReportData, short_code
from customslab.services.ports import ReportRenderer

KOREAN_FONT = "HYSMyeongJo-Medium"
JAPANESE_FONT = "HeiseiMin-W3"
CHINESE_FONT = "STSong-Light"
NAVY = colors.HexColor("#1F3A5F")
PALE = colors.HexColor("#EEF2F7")
RULE = colors.HexColor("#B8C4D6")
MARGIN = 18 * mm
_CODE_RE = re.compile(r"sha256:([0-9a-f]{64})")

for _font in (KOREAN_FONT, JAPANESE_FONT, CHINESE_FONT):
    if _font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_font))


def _script_font(ch: str) -> str | None:
    """None when Helvetica (WinAnsi) can print the character, else the CID font that can."""
    try:
        ch.encode("cp1252")
        return None
    except UnicodeEncodeError:
        pass
    code = ord(ch)
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF:
        return JAPANESE_FONT
    if 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF:
        return CHINESE_FONT
    return KOREAN_FONT


def markup(text: str) -> str:
    """Escape text for a Paragraph and wrap runs of non-WinAnsi characters in a CID <font> tag."""
    out: list[str] = []
    run_font: str | None = None
    run: list[str] = []

    def flush() -> None:
        chunk = escape("".join(run))
        out.append(f'<font name="{run_font}">{chunk}</font>' if run_font and chunk else chunk)
        run.clear()

    for ch in text:
        font = _script_font(ch)
        # Keep a Japanese name in one font: ideographs next to kana stay in HeiseiMin.
        if font == CHINESE_FONT and run_font == JAPANESE_FONT:
            font = JAPANESE_FONT
        if ch == " " and run_font is not None:
            font = run_font
        if font != run_font:
            flush()
            run_font = font
        run.append(ch)
    flush()
    return "".join(out).replace("\n", "<br/>")


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()["BodyText"]
    body = ParagraphStyle("body", parent=base, fontName="Helvetica", fontSize=8.6, leading=11)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.4, leading=9.2),
        "label": ParagraphStyle("label", parent=body, fontName="Helvetica-Bold", textColor=NAVY),
        "th": ParagraphStyle("th", parent=body, fontName="Helvetica-Bold", textColor=colors.white),
        "title": ParagraphStyle("title", parent=body, fontName="Helvetica-Bold", fontSize=15, leading=19),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName="Helvetica-Bold",
            fontSize=10,
            leading=13,
            textColor=NAVY,
            spaceBefore=8,
            keepWithNext=1,
        ),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
        "code": ParagraphStyle("code", parent=body, fontName="Courier", fontSize=7.6, leading=9.5),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(markup(text), style)


def _grid(rows: list[list[Any]], widths: list[float], header: bool) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), NAVY))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), PALE))
    table.setStyle(TableStyle(commands))
    return table


def _qr_drawing(payload: str, size: float) -> Drawing:
    """The QR symbol drawn as vector squares, so it stays sharp when printed."""
    qr = segno.make(payload, error="m")
    matrix = [list(row) for row in qr.matrix_iter(scale=1, border=4)]
    cell = size / len(matrix)
    drawing = Drawing(size, size)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                drawing.add(
                    Rect(c * cell, size - (r + 1) * cell, cell, cell, fillColor=colors.black, strokeWidth=0)
                )
    return drawing


def _numbered_canvas(report: ReportData) -> type[rl_canvas.Canvas]:
    """A canvas that holds pages back until the end so each footer can say 'Page x of y'."""
    code = report.verification_code()
    header_right = f"Test report {report.report_id}, version {report.version}"

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                super().showPage()
            super().save()

        def _decorate(self, number: int, total: int) -> None:
            width, height = A4
            self.saveState()
            self.setFillColor(NAVY)
            self.setFont("Helvetica-Bold", 9)
            self.drawString(MARGIN, height - 12 * mm, report.laboratory.name)
            self.setFont("Helvetica", 8)
            self.drawRightString(width - MARGIN, height - 12 * mm, header_right)
            self.setStrokeColor(NAVY)
            self.setLineWidth(0.8)
            self.line(MARGIN, height - 14 * mm, width - MARGIN, height - 14 * mm)
            self.setStrokeColor(RULE)
            self.line(MARGIN, 14 * mm, width - MARGIN, 14 * mm)
            self.setFillColor(colors.black)
            self.setFont("Helvetica", 7.5)
            self.drawString(
                MARGIN,
                10 * mm,
                f"Report {report.report_id} v{report.version}  |  Verification {short_code(code)}",
            )
            self.drawRightString(width - MARGIN, 10 * mm, f"Page {number} of {total}")
            self.restoreState()

    return NumberedCanvas


def _story(report: ReportData, s: dict[str, ParagraphStyle], width: float) -> list[Any]:
    story: list[Any] = [_p(report.title, s["title"]), Spacer(1, 2 * mm)]
    issued = report.issued_on.isoformat()
    ident = f"Report no. {report.report_id}  |  Version {report.version}  |  Issued {issued}"
    story.append(_p(ident, s["label"]))
    if report.amendment is not None:
        box = Table([[_p("AMENDED REPORT. " + report.amendment.statement(), s["body"])]], colWidths=[width])
        box.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 1, colors.HexColor("#B45309")),
                    ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#FEF3C7")),
                ]
            )
        )
        story += [Spacer(1, 2 * mm), box]

    label_w = 42 * mm
    lab = report.laboratory
    performed = report.tests_performed_at or "At the laboratory address above."
    general = [
        [
            "Laboratory",
            f"{lab.name}\n{lab.address}" + (f"\n{lab.accreditation}" if lab.accreditation else ""),
        ],
        ["Tests performed at", performed],
        [
            "Customer",
            f"{report.customer.office}\nRequested by {report.customer.requester}"
            + (f"\nCustomer reference: {report.customer.reference}" if report.customer.reference else ""),
        ],
        ["Sample id", report.item.sample_id],
        [
            "Item description",
            report.item.description
            + (f"\n{report.item.declaration_reference}" if report.item.declaration_reference else ""),
        ],
        ["Condition on receipt", report.item.condition_on_receipt],
        ["Seal", report.item.seal],
        ["Sampling", report.sampling_statement],
        ["Date of receipt", report.received_on.isoformat()],
        ["Date(s) of analysis", f"{report.analysis_from.isoformat()} to {report.analysis_to.isoformat()}"],
        ["Date of issue", report.issued_on.isoformat()],
    ]
    story += [
        _p("1  Laboratory, customer and item", s["h2"]),
        _grid([[_p(k, s["label"]), _p(v, s["body"])] for k, v in general], [label_w, width - label_w], False),
    ]

    method_rows: list[list[Any]] = [[_p(h, s["th"]) for h in ("Method", "Title", "Version", "Deviations")]]
    for m in report.methods:
        method_rows.append(
            [
                _p(m.method_id, s["body"]),
                _p(m.title, s["body"]),
                _p(m.version, s["body"]),
                _p(m.deviations or "None", s["body"]),
            ]
        )
    story += [
        _p("2  Methods", s["h2"]),
        _grid(method_rows, [24 * mm, 66 * mm, 16 * mm, width - 106 * mm], True),
    ]

    story += [_p("3  Results", s["h2"]), _results_table(report, s, width)]
    notes = [
        report.only_item_tested_statement,
        "U is the expanded uncertainty with coverage factor k, giving a level of confidence of about 95 %.",
    ]
    for provider in report.external_providers:
        notes.append(
            f"† Result from an external provider: {provider}. Not covered by this laboratory's tests."
        )
    story += [Spacer(1, 1.5 * mm)] + [_p(n, s["small"]) for n in notes]

    if report.conformity:
        rows: list[list[Any]] = [[_p(h, s["th"]) for h in ("Specification", "Decision rule", "Statement")]]
        for statement in report.conformity:
            rows.append(
                [
                    _p(statement.specification, s["body"]),
                    _p(statement.decision_rule.explain(), s["small"]),
                    _p(statement.statement, s["body"]),
                ]
            )
        story += [
            _p("4  Statement of conformity", s["h2"]),
            _grid(rows, [55 * mm, 60 * mm, width - 115 * mm], True),
        ]

    if report.classification is not None:
        c = report.classification
        rows = [
            ["Declared HS code", c.declared_hs_code],
            ["Determined HS code", c.determined_hs_code],
            ["Reasoning", c.reasoning],
            ["References", "\n".join(c.references) or "None"],
        ]
        # Short enough to keep on one page; a heading stranded above a page break reads badly.
        story.append(
            KeepTogether(
                [
                    _p("5  Opinion on tariff classification", s["h2"]),
                    _p("Opinion and interpretation under ISO/IEC 17025 7.8.7.", s["small"]),
                    _grid(
                        [[_p(k, s["label"]), _p(v, s["body"])] for k, v in rows],
                        [label_w, width - label_w],
                        False,
                    ),
                ]
            )
        )

    if report.remarks:
        story += [_p("Remarks", s["h2"])] + [_p(r, s["body"]) for r in report.remarks]
    story.append(_authorisation_block(report, s, width))
    story += [Spacer(1, 3 * mm), _p(f"End of report {report.report_id} version {report.version}", s["small"])]
    return story


def _results_table(report: ReportData, s: dict[str, ParagraphStyle], width: float) -> Table:
    head = ("Parameter", "Result", "Unit", "U (k)", "LOD / LOQ", "Method")
    rows: list[list[Any]] = [[_p(h, s["th"]) for h in head]]
    for r in report.results:
        u = f"± {r.expanded_uncertainty} (k = {r.coverage_factor})" if r.expanded_uncertainty else "n/a"
        limits = f"{r.lod or '-'} / {r.loq or '-'}" if (r.lod or r.loq) else "n/a"
        name = f"{r.parameter} †" if r.external_provider else r.parameter
        rows.append(
            [
                _p(name, s["body"]),
                _p(r.value, s["label"]),
                _p(r.unit, s["body"]),
                _p(u, s["body"]),
                _p(limits, s["body"]),
                _p(r.method_id, s["body"]),
            ]
        )
    return _grid(rows, [width - 132 * mm, 20 * mm, 24 * mm, 32 * mm, 24 * mm, 32 * mm], True)


def _authorisation_block(report: ReportData, s: dict[str, ParagraphStyle], width: float) -> KeepTogether:
    code = report.verification_code()
    signers = "<br/>".join(
        f"<b>{markup(g.name)}</b>, {markup(g.function)}, {g.signed_on.isoformat()}"
        for g in report.authorised_by
    )
    text = [
        Paragraph("Authorised by " + signers, s["body"]),
        Spacer(1, 2 * mm),
        _p(f"Verification code {short_code(code)}", s["label"]),
        _p("sha256 of the canonical report data:", s["small"]),
        _p(f"{code[:32]}\n{code[32:]}", s["code"]),
        _p(
            "Scan the QR code or quote the code to the laboratory to check this report is genuine.",
            s["small"],
        ),
    ]
    qr = _qr_drawing(report.verification_payload(), 30 * mm)
    table = Table([[text, qr]], colWidths=[width - 34 * mm, 34 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (-1, -1), 0.6, RULE),
                ("BACKGROUND", (0, 0), (0, 0), PALE),
            ]
        )
    )
    return KeepTogether([_p("6  Authorisation and verification", s["h2"]), table])


def _a4_document(buffer: io.BytesIO, **info: str) -> SimpleDocTemplate:
    """An A4 document with the margins of our PDFs; `info` (title, author, subject, keywords) goes into
    its metadata."""
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        creator="customslab",
        **info,
    )


def render_report_pdf(report: ReportData) -> bytes:
    """The test report as PDF bytes; the verification code is printed and stored in the metadata."""
    code = report.verification_code()
    buffer = io.BytesIO()
    doc = _a4_document(
        buffer,
        title=f"{report.title} ({report.report_id} v{report.version})",
        author=report.laboratory.name,
        subject=f"ISO/IEC 17025 test report {report.report_id} v{report.version}; verification sha256:{code}",
        keywords=f"customslab, test report, sha256:{code}",
    )
    doc.build(_story(report, _styles(), doc.width), canvasmaker=_numbered_canvas(report))
    return buffer.getvalue()


def read_verification_code(pdf_bytes: bytes) -> str | None:
    """The sha256 verification code stored in a report's metadata, or None if absent or unreadable."""
    try:
        metadata = PdfReader(io.BytesIO(pdf_bytes)).metadata
    except (PdfReadError, ValueError, OSError):
        return None
    if metadata is None:
        return None
    for text in (metadata.subject, metadata.get("/Keywords")):
        match = _CODE_RE.search(str(text or ""))
        if match:
            return match.group(1)
    return None


class PdfReportRenderer(ReportRenderer):
    """The reportlab/pypdf implementation of the services' report port."""

    def render(self, data: ReportData) -> bytes:
        return render_report_pdf(data)

    def read_code(self, document: bytes) -> str | None:
        return read_verification_code(document)
