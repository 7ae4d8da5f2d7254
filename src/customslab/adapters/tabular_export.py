"""Rows of a list as a spreadsheet: CSV (the standard library) and XLSX (openpyxl).

Both guard against formula injection (OWASP "CSV injection"): a cell whose text a spreadsheet would run
as a formula (it starts with = + - @, a tab or a carriage return) is written as text: CSV prefixes it
with an apostrophe, which spreadsheets hide and do not evaluate; XLSX stores it as a string cell."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: What a spreadsheet takes for the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Excel's limit on a sheet's name.
_SHEET_TITLE_CHARS = 31

Cell = str | int | float | Decimal | date | datetime | Enum | Sequence[str] | None


def plain(value: Cell) -> str | int | float | Decimal | date | datetime | None:
    """A cell's value as a spreadsheet holds it: enums by their value, lists joined, times in UTC
    without a zone (Excel has none)."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value)
    return value  # type: ignore[return-value]


def defused(text: str) -> str:
    """Text that a spreadsheet shows as typed rather than runs as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 CSV with a byte-order mark (so that Excel reads the encoding), a header row first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([defused(h) for h in headers])
    for row in rows:
        cells = []
        for value in row:
            v = plain(value)
            if v is None:
                cells.append("")
            elif isinstance(v, datetime):
                cells.append(v.isoformat(sep=" ", timespec="seconds"))
            elif isinstance(v, str):
                cells.append(defused(v))
            else:
                cells.append(str(v))
        writer.writerow(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Cell]], title: str = "Export") -> bytes:
    """An XLSX workbook of one sheet: the header row in bold and frozen, then the rows, numbers and
    dates as such; no cell is ever a formula."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(title))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = _text_cell(sheet, h)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells: list[object] = []
        for value in row:
            v = plain(value)
            cells.append(_text_cell(sheet, v) if isinstance(v, str) else v)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_cell(sheet: object, text: str) -> WriteOnlyCell:
    # openpyxl would store text that starts with "=" as a formula; a string cell is never evaluated.
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", text))
    cell.data_type = "s"
    return cell


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip() or "Export"
    return cleaned[:_SHEET_TITLE_CHARS]
