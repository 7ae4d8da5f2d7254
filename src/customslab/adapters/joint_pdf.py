"""Render a joint analysis (`JointAnalysisDocument`) as a PDF fit to put before the WCO HS Committee.

The layout and fonts are the test report's (adapters.report_pdf): the same styles, grids and CID-font
markup, so Korean, Japanese and Chinese product names print. The document carries no declaration data:
the view it renders has none.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, Spacer

from customslab.adapters.report_pdf import MARGIN, NAVY, RULE, _a4_document, _grid, _p, _styles
from customslab.hs.nomenclature import format_code
from customslab.services.joint_contract import JointAnalysisDocument, JointParticipantView

Styles = dict[str, ParagraphStyle]


def _code(code: str | None) -> str:
    return format_code(code) if code else "—"


def _facts(rows: list[tuple[str, str]], s: Styles, width: float) -> Any:
    label = 42 * mm
    return _grid([[_p(k, s["label"]), _p(v, s["body"])] for k, v in rows], [label, width - label], False)


def _header_row(titles: tuple[str, ...], s: Styles) -> list[Any]:
    return [_p(t, s["th"]) for t in titles]


def _participants(doc: JointAnalysisDocument, s: Styles, width: float) -> list[Any]:
    rows = [_header_row(("Administration", "Declared code", "Laboratory", "Sample", "Origin"), s)]
    for p in doc.participants:
        lab = f"{p.lab_code} (RCL, on behalf)" if p.on_behalf else p.lab_code
        rows.append(
            [
                _p(f"{p.administration_name} ({p.administration_code})", s["body"]),
                _p(_code(p.declared_code), s["body"]),
                _p(lab, s["body"]),
                _p(p.lab_sample_id or "not linked yet", s["body"]),
                _p(p.origin_country or "—", s["body"]),
            ]
        )
    return [
        _p("2  Participating administrations and declared codes", s["h2"]),
        _grid(rows, [width - 118 * mm, 26 * mm, 40 * mm, 36 * mm, 16 * mm], True),
    ]


def _measurements(doc: JointAnalysisDocument, s: Styles, width: float) -> list[Any]:
    story: list[Any] = [
        _p("3  Measurements", s["h2"]),
        _p("Approved results of each participant's own sample or sub-sample.", s["small"]),
    ]
    for p in doc.participants:
        story.append(_p(f"{p.administration_code} · {p.lab_code}", s["label"]))
        if not p.measurements:
            story.append(_p("No approved result yet.", s["body"]))
            continue
        rows = [_header_row(("Parameter", "Result", "Unit", "U"), s)]
        for m in p.measurements:
            u = f"± {m.expanded_uncertainty}" if m.expanded_uncertainty else "n/a"
            rows.append(
                [
                    _p(m.name, s["body"]),
                    # A qualitative result states its outcome ("not detected", the substance identified).
                    _p(m.value or m.text_value.replace("_", " ") or "—", s["label"]),
                    _p(m.unit, s["body"]),
                    _p(u, s["body"]),
                ]
            )
        story.append(_grid(rows, [width - 90 * mm, 30 * mm, 30 * mm, 30 * mm], True))
    return story


def _opinion(p: JointParticipantView, s: Styles, width: float) -> Any:
    title = _p(f"{p.administration_name} ({p.administration_code})", s["label"])
    o = p.opinion
    if o is None:
        return KeepTogether([title, _p("No approved opinion yet.", s["body"])])
    rules = "\n".join(f"{r.source}: {r.title} → {r.outcome}" for r in o.rules) or "No rule applied."
    rows = [
        ("Declared code", _code(p.declared_code)),
        ("Determined code", _code(o.determined_code)),
        ("Laboratory", f"{o.lab_code}, approved {o.reviewed_at:%Y-%m-%d}" if o.reviewed_at else o.lab_code),
        ("Legal reasoning", o.reasoning),
        ("References", "\n".join(o.references) or "None"),
        ("Rule engine", f"{o.evaluation_message}\nDecision rule: {o.decision_rule or 'n/a'}"),
        ("Rules applied", rules),
    ]
    return KeepTogether([title, _facts(rows, s, width), Spacer(1, 2 * mm)])


def _consolidated(doc: JointAnalysisDocument, s: Styles, width: float) -> list[Any]:
    story: list[Any] = [_p("5  Consolidated opinion of the Regional Customs Laboratory", s["h2"])]
    c = doc.consolidated
    if c is None:
        pending = "; ".join(doc.missing) or "awaiting the RCL's consolidated opinion"
        return [*story, _p(f"Consolidation pending: {pending}.", s["body"])]
    when = f"{c.consolidated_at:%Y-%m-%d}" if c.consolidated_at else ""
    story.append(
        _facts(
            [
                ("Determined code", _code(c.determined_code)),
                ("Reasoning", c.reasoning),
                ("Consolidated", f"by {doc.rcl_name} ({doc.rcl_code}) on {when}"),
            ],
            s,
            width,
        )
    )
    rows = [
        _header_row(("Administration", "Its opinion", "Consolidated", "Explanation of the difference"), s)
    ]
    for p in doc.participants:
        explanation = p.explanation or ("Agrees with the consolidated opinion." if not p.differs else "—")
        determined = p.opinion.determined_code if p.opinion else None
        rows.append(
            [
                _p(p.administration_code, s["body"]),
                _p(_code(determined), s["body"]),
                _p(_code(c.determined_code), s["body"]),
                _p(explanation, s["body"]),
            ]
        )
    story += [Spacer(1, 2 * mm), _grid(rows, [30 * mm, 26 * mm, 26 * mm, width - 82 * mm], True)]
    return story


def _story(doc: JointAnalysisDocument, s: Styles, width: float) -> list[Any]:
    state = "consolidated" if doc.consolidated else "in progress"
    story: list[Any] = [
        _p(doc.title, s["title"]),
        Spacer(1, 2 * mm),
        _p(
            f"Joint analysis {doc.reference}  |  {state}  |  generated {doc.generated_at:%Y-%m-%d %H:%M} UTC",
            s["label"],
        ),
        _p("1  Product", s["h2"]),
        _facts(
            [
                ("Product", doc.product),
                ("Run by", f"{doc.rcl_name} ({doc.rcl_code}), WCO Regional Customs Laboratory"),
                ("Opened", f"{doc.opened_at:%Y-%m-%d}"),
                ("Administrations", ", ".join(p.administration_code for p in doc.participants)),
            ],
            s,
            width,
        ),
    ]
    story += _participants(doc, s, width)
    story += _measurements(doc, s, width)
    story += [_p("4  Classification opinions of the participants", s["h2"])]
    story += [_opinion(p, s, width) for p in doc.participants]
    story += _consolidated(doc, s, width)
    notes = (
        "Prepared for the WCO Harmonized System Committee. The declaration data of each participant's "
        "request (declaration, importer, value, the officer's question) stays with its administration and "
        "is not part of this document."
    )
    story += [Spacer(1, 4 * mm), Paragraph(notes, s["small"])]
    return story


def render_joint_analysis_pdf(doc: JointAnalysisDocument) -> bytes:
    """The joint analysis as PDF bytes; its reference is on every page and in the metadata."""
    buffer = io.BytesIO()
    template = _a4_document(
        buffer,
        title=doc.title,
        author=f"{doc.rcl_name} ({doc.rcl_code})",
        subject=f"Joint analysis {doc.reference} for the WCO HS Committee",
        keywords=f"customslab, joint analysis, {doc.reference}",
    )

    def decorate(canvas: Canvas, _template: Any) -> None:
        width, height = A4
        canvas.saveState()
        canvas.setFillColor(NAVY)
        canvas.setFont("Helvetica-Bold", 9)
        canvas.drawString(MARGIN, height - 12 * mm, f"{doc.rcl_name}")
        canvas.setFont("Helvetica", 8)
        canvas.drawRightString(width - MARGIN, height - 12 * mm, f"Joint analysis {doc.reference}")
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, 14 * mm, width - MARGIN, 14 * mm)
        canvas.setFont("Helvetica", 7.5)
        canvas.drawString(MARGIN, 10 * mm, f"{doc.reference}  |  for the WCO HS Committee")
        canvas.drawRightString(width - MARGIN, 10 * mm, f"Page {canvas.getPageNumber()}")
        canvas.restoreState()

    template.build(_story(doc, _styles(), template.width), onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
