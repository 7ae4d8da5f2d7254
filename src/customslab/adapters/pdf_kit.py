"""What our PDFs share: fonts for every script, text markup, paragraph styles, grids and the A4 page.

Fonts: text uses the PDF standard fonts (Helvetica). Characters outside their WinAnsi encoding are
set in reportlab's built-in CID fonts: Hangul and symbols such as δ or ≥ in HYSMyeongJo-Medium, kana
in HeiseiMin-W3, other Han ideographs in STSong-Light. CID fonts are not embedded: a viewer without
Asian font support (or poppler without CJK fonts installed) shows those glyphs blank, but rendering
never fails. Scripts none of these fonts cover (Thai, Arabic, ...) print as missing glyphs.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

KOREAN_FONT = "HYSMyeongJo-Medium"
JAPANESE_FONT = "HeiseiMin-W3"
CHINESE_FONT = "STSong-Light"
NAVY = colors.HexColor("#1F3A5F")
PALE = colors.HexColor("#EEF2F7")
RULE = colors.HexColor("#B8C4D6")
MARGIN = 18 * mm

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


def script_runs(text: str) -> list[tuple[str | None, str]]:
    """The text cut into runs of one font each: (None, text) where Helvetica (WinAnsi) prints it, else
    (the CID font that does, text)."""
    runs: list[tuple[str | None, str]] = []
    run_font: str | None = None
    run: list[str] = []

    def flush() -> None:
        if run:
            runs.append((run_font, "".join(run)))
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
    return runs


def markup(text: str) -> str:
    """Escape text for a Paragraph and wrap runs of non-WinAnsi characters in a CID <font> tag."""
    out = [
        f'<font name="{font}">{escape(chunk)}</font>' if font else escape(chunk)
        for font, chunk in script_runs(text)
    ]
    return "".join(out).replace("\n", "<br/>")


def draw_string(canvas: Canvas, x: float, y: float, text: str, right: bool = False) -> None:
    """`canvas.drawString` (or `drawRightString`, ending at x) in the canvas's current font, with runs
    that font cannot print (Hangul, kana, Han) set in their CID font, as `markup` does for paragraphs."""
    runs = script_runs(text)
    if all(font is None for font, _ in runs):
        (canvas.drawRightString if right else canvas.drawString)(x, y, text)
        return
    base, size = canvas._fontname, canvas._fontsize
    fonts = [(font or base, chunk) for font, chunk in runs]
    if right:
        x -= sum(pdfmetrics.stringWidth(chunk, font, size) for font, chunk in fonts)
    for font, chunk in fonts:
        canvas.setFont(font, size)
        canvas.drawString(x, y, chunk)
        x += pdfmetrics.stringWidth(chunk, font, size)
    canvas.setFont(base, size)


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
