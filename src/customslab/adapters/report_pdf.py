"""Render an ISO/IEC 17025 clause 7.8 test report (`ReportData`) to PDF bytes with reportlab platypus.

Every page carries the report id, version, verification code and "Page x of y"; the last block holds
the signatories, a QR code (segno) of the verification payload and the printed sha256. The same sha256
goes into the PDF metadata (/Subject and /Keywords) so `read_verification_code` can recover it.
Fonts, styles and the page are adapters/pdf_kit.py's (any script prints; see there). Every fixed text is
in the report's language (domain/quality/report_text.py); a Korean report sets its Hangul in reportlab's
built-in CID font HYSMyeongJo-Medium, as any Hangul in an English one. The metadata stays English: it is
read by programs.
"""

from __future__ import annotations

import io
import re
from functools import partial
from typing import Any

import segno
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from customslab.adapters.pdf_kit import (
    MARGIN,
    NAVY,
    PALE,
    RULE,
    _a4_document,
    _grid,
    _p,
    _styles,
    draw_string,
    markup,
)
from customslab.domain.quality.report import ReportData, short_code
from customslab.domain.quality.report_text import report_text
from customslab.hs.levels import dotted
from customslab.services.ports import ReportRenderer

_CODE_RE = re.compile(r"sha256:([0-9a-f]{64})")


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


def _words(report: ReportData) -> partial[str]:
    """The report's fixed text in its language: `t("key", **placeholders)`."""
    return partial(report_text, report.language)


def _numbered_canvas(report: ReportData) -> type[rl_canvas.Canvas]:
    """A canvas that holds pages back until the end so each footer can say 'Page x of y'."""
    code = report.verification_code()
    t = _words(report)
    header_right = t("header", id=report.report_id, version=report.version)

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
            draw_string(self, MARGIN, height - 12 * mm, report.laboratory.name)
            self.setFont("Helvetica", 8)
            draw_string(self, width - MARGIN, height - 12 * mm, header_right, right=True)
            self.setStrokeColor(NAVY)
            self.setLineWidth(0.8)
            self.line(MARGIN, height - 14 * mm, width - MARGIN, height - 14 * mm)
            self.setStrokeColor(RULE)
            self.line(MARGIN, 14 * mm, width - MARGIN, 14 * mm)
            self.setFillColor(colors.black)
            self.setFont("Helvetica", 7.5)
            footer = t("footer", id=report.report_id, version=report.version, code=short_code(code))
            draw_string(self, MARGIN, 10 * mm, footer)
            draw_string(self, width - MARGIN, 10 * mm, t("page", number=number, total=total), right=True)
            self.restoreState()

    return NumberedCanvas


def _story(report: ReportData, s: dict[str, ParagraphStyle], width: float) -> list[Any]:
    t = _words(report)
    story: list[Any] = [_p(report.title, s["title"]), Spacer(1, 2 * mm)]
    issued = report.issued_on.isoformat()
    story.append(_p(t("ident", id=report.report_id, version=report.version, issued=issued), s["label"]))
    if report.amendment is not None:
        amended = t("amended", statement=report.amendment.statement(report.language))
        box = Table([[_p(amended, s["body"])]], colWidths=[width])
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
    performed = report.tests_performed_at or t("performed_here")
    customer = report.customer
    analysed = t("date_range", start=report.analysis_from.isoformat(), end=report.analysis_to.isoformat())
    general = [
        [
            t("laboratory"),
            f"{lab.name}\n{lab.address}" + (f"\n{lab.accreditation}" if lab.accreditation else ""),
        ],
        [t("performed_at"), performed],
        [
            t("customer"),
            f"{customer.office}\n{t('requested_by', name=customer.requester)}"
            + (f"\n{t('customer_reference', reference=customer.reference)}" if customer.reference else ""),
        ],
        [t("sample_id"), report.item.sample_id],
        [
            t("item_description"),
            report.item.description
            + (f"\n{report.item.declaration_reference}" if report.item.declaration_reference else ""),
        ],
        [t("condition"), report.item.condition_on_receipt],
        [t("seal_label"), report.item.seal],
        [t("sampling"), report.sampling_statement],
        [t("received_on"), report.received_on.isoformat()],
        [t("analysed_on"), analysed],
        [t("issued_on"), report.issued_on.isoformat()],
    ]
    story += [
        _p(t("h.general"), s["h2"]),
        _grid([[_p(k, s["label"]), _p(v, s["body"])] for k, v in general], [label_w, width - label_w], False),
    ]

    method_head = (t("col.method"), t("col.title"), t("col.version"), t("col.deviations"))
    method_rows: list[list[Any]] = [[_p(h, s["th"]) for h in method_head]]
    for m in report.methods:
        method_rows.append(
            [
                _p(m.method_id, s["body"]),
                _p(m.title, s["body"]),
                _p(m.version, s["body"]),
                _p(m.deviations or t("none"), s["body"]),
            ]
        )
    story += [
        _p(t("h.methods"), s["h2"]),
        _grid(method_rows, [24 * mm, 66 * mm, 16 * mm, width - 106 * mm], True),
    ]

    story += [_p(t("h.results"), s["h2"]), _results_table(report, s, width)]
    story += _evidence(report, s)
    notes = [report.only_item_tested_statement, t("uncertainty_note")]
    notes += [t("external_note", provider=provider) for provider in report.external_providers]
    story += [Spacer(1, 1.5 * mm)] + [_p(n, s["small"]) for n in notes]

    if report.conformity:
        head = (t("col.specification"), t("col.decision_rule"), t("col.statement"))
        rows: list[list[Any]] = [[_p(h, s["th"]) for h in head]]
        for statement in report.conformity:
            rows.append(
                [
                    _p(statement.specification, s["body"]),
                    _p(statement.decision_rule.explain(report.language), s["small"]),
                    _p(statement.statement, s["body"]),
                ]
            )
        story += [
            _p(t("h.conformity"), s["h2"]),
            _grid(rows, [55 * mm, 60 * mm, width - 115 * mm], True),
        ]

    if report.classification is not None:
        c = report.classification
        # Stored as digits (partners read them); printed as the nomenclature writes them, with the level.
        determined = _code(c.determined_hs_code) + (f" ({c.determined_level})" if c.determined_level else "")
        rows = [
            [t("declared_code"), _code(c.declared_hs_code)],
            [t("determined_code"), determined],
            [t("reasoning"), c.reasoning],
            [t("references"), "\n".join(c.references) or t("none")],
        ]
        if c.measurement_verdict:
            rows.append([t("measurement_rules"), c.measurement_verdict])
        if c.approved_by:
            approved = c.approved_by + (f", {c.approved_on.isoformat()}" if c.approved_on else "")
            rows.append([t("approved_by"), approved])
        # Short enough to keep on one page; a heading stranded above a page break reads badly.
        story.append(
            KeepTogether(
                [
                    _p(t("h.opinion"), s["h2"]),
                    _p(t("opinion_note"), s["small"]),
                    _grid(
                        [[_p(k, s["label"]), _p(v, s["body"])] for k, v in rows],
                        [label_w, width - label_w],
                        False,
                    ),
                ]
            )
        )

    if report.remarks:
        story += [_p(t("h.remarks"), s["h2"])] + [_p(r, s["body"]) for r in report.remarks]
    story.append(_authorisation_block(report, s, width))
    story += [Spacer(1, 3 * mm), _p(t("end", id=report.report_id, version=report.version), s["small"])]
    return story


def _results_table(report: ReportData, s: dict[str, ParagraphStyle], width: float) -> Table:
    t = _words(report)
    head = ("col.parameter", "col.result", "col.unit", "col.uncertainty", "col.limits", "col.method")
    rows: list[list[Any]] = [[_p(t(h), s["th"]) for h in head]]
    for r in report.results:
        # A qualitative result (detected, positive, an identity) has no measurement uncertainty to state.
        u = f"± {r.expanded_uncertainty} (k = {r.coverage_factor})" if r.expanded_uncertainty else t("n/a")
        limits = f"{r.lod or '-'} / {r.loq or '-'}" if (r.lod or r.loq) else t("n/a")
        name = f"{r.printed_name} †" if r.external_provider else r.printed_name
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


def _code(code: str) -> str:
    """'220840' → '2208.40', '2208' → '22.08'; a code already written with dots is printed as it is."""
    return dotted(code) if code.isdigit() else code


def _evidence(report: ReportData, s: dict[str, ParagraphStyle]) -> list[Any]:
    """What each identity rests on: the library searched, its version, and the best-ranked hits."""
    t = _words(report)
    out: list[Any] = []
    for r in report.results:
        e = r.evidence
        if e is None:
            continue
        hits = "; ".join(t("hit", rank=n, name=h.name, score=h.score) for n, h in enumerate(e.hits, start=1))
        said = t(
            "evidence",
            name=r.printed_name,
            value=r.value,
            technique=e.technique,
            library=e.library_id,
            version=e.library_version,
            hits=hits or t("no_hits"),
        )
        out.append(_p(said, s["small"]))
        if r.controls:
            # Under the identity it concerns, in the body's weight: the officer acts on it.
            out.append(_p(t("controls", value=r.value, entries="; ".join(r.controls)), s["label"]))
    return ([Spacer(1, 1.5 * mm)] if out else []) + out


def _authorisation_block(report: ReportData, s: dict[str, ParagraphStyle], width: float) -> KeepTogether:
    code = report.verification_code()
    t = _words(report)
    signers = "<br/>".join(
        f"<b>{markup(g.name)}</b>, {markup(g.function)}, {g.signed_on.isoformat()}"
        for g in report.authorised_by
    )
    text = [
        Paragraph(markup(t("authorised_by")) + signers, s["body"]),
        Spacer(1, 2 * mm),
        _p(t("verification_code", code=short_code(code)), s["label"]),
        _p(t("sha256_of_data"), s["small"]),
        _p(f"{code[:32]}\n{code[32:]}", s["code"]),
        _p(t("scan"), s["small"]),
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
    return KeepTogether([_p(t("h.authorisation"), s["h2"]), table])


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
