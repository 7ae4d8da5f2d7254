"""Instrument result exports read into tables of text cells. Pure: bytes in, cells out, no database.

Two file kinds are read:
* **CSV** (and the text exports of chromatography and ICP software): UTF-8 with or without its BOM,
  UTF-16 with its BOM, else Latin-1; the fields separated by commas, semicolons or tabs (the mapping
  says which, or the one that splits the mapping's header into most columns is taken).
* **XLSX** (openpyxl, read-only): the first worksheet or the one the mapping names. A formula is kept
  as its text, marked, and never evaluated, nor its cached value trusted.

What refuses the whole file here (`FileRefused`, nothing is written): an empty or oversized file, one
that is neither readable text nor a workbook (an old .xls, a zip that is not a workbook or unpacks too
far), and more rows or columns than MAX_TABLE_ROWS and MAX_COLUMNS. `result_import_rows` reads the
table's rows as results.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from customslab.domain.errors import ValidationFailed
from customslab.domain.instrument_mapping import ColumnMapping, fold

#: A result export is a few hundred kilobytes; anything past this is not one.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: An XLSX is a zip: what it unpacks to is bounded too (a small zip can unpack to gigabytes), in all
#: and part by part, by the sizes its directory declares (Python's zipfile reads no byte past them).
MAX_UNPACKED_BYTES = 16 * 1024 * 1024
MAX_MEMBER_BYTES = 8 * 1024 * 1024
MAX_MEMBERS = 2000
#: The XML of a workbook packs 5 to 20 times; a part packed more than this is a zip bomb...
MAX_COMPRESSION_RATIO = 100
#: ... once it is large enough to cost anything (a small part of repeated tags packs well and is cheap).
RATIO_FLOOR_BYTES = 64 * 1024
MAX_TABLE_ROWS = 20_000
MAX_COLUMNS = 512
#: Where the header is looked for when the mapping gives no row number.
HEADER_SEARCH_ROWS = 100


class FileRefused(ValidationFailed):
    """The file as a whole cannot be imported; nothing of it is written."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


class Formula(str):
    """A spreadsheet cell's formula, kept as its text: never evaluated."""

    __slots__ = ()


class Number(str):
    """A spreadsheet cell's number, written with a dot whatever the mapping's decimal separator."""

    __slots__ = ()


@dataclass(frozen=True)
class Table:
    """A file's cells as text, each row with its line (CSV) or row number (XLSX)."""

    format: str  # csv | xlsx
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""


def read_table(name: str, content: bytes, mapping: ColumnMapping) -> Table:
    """The file's rows of text cells; FileRefused for what is not a result export one can read."""
    if len(content) > MAX_FILE_BYTES:
        raise FileRefused(
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: not a result export."
        )
    if not content.strip():
        raise FileRefused("The file is empty.")
    if content.startswith(b"PK\x03\x04"):
        return _read_xlsx(content, mapping)
    if content.startswith(b"\xd0\xcf\x11\xe0") or name.lower().endswith((".xls", ".xlsx", ".xlsm")):
        raise FileRefused(
            "The file is not a readable XLSX workbook (an Excel 97-2003 .xls is not read): save it as "
            "XLSX or CSV."
        )
    return _read_csv(content, mapping)


def _decode(content: bytes) -> tuple[str, str]:
    if content.startswith(codecs.BOM_UTF8):
        return content.decode("utf-8-sig", errors="replace"), "utf-8-sig"
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return content.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise FileRefused("The file starts as UTF-16 text but is not.") from None
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Instrument PCs still write Windows code pages; Latin-1 reads any byte (µ and ° included).
        return content.decode("latin-1"), "latin-1"


def _csv_rows(text: str, delimiter: str, limit: int | None) -> list[tuple[int, tuple[str, ...]]]:
    rows: list[tuple[int, tuple[str, ...]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        for cells in reader:
            if limit is not None and len(rows) >= limit:
                break
            if len(rows) >= MAX_TABLE_ROWS:
                raise FileRefused(f"The file has more than {MAX_TABLE_ROWS} rows: import it in parts.")
            if len(cells) > MAX_COLUMNS:
                raise FileRefused(f"Line {reader.line_num} has more than {MAX_COLUMNS} columns.")
            rows.append((reader.line_num, tuple(c.strip() for c in cells)))
    except csv.Error as exc:
        raise FileRefused(f"Line {reader.line_num} cannot be read as CSV: {exc}.") from None
    return rows


def _read_csv(content: bytes, mapping: ColumnMapping) -> Table:
    text, encoding = _decode(content)
    if "\x00" in text:
        raise FileRefused("The file is neither text (CSV) nor an XLSX workbook.")
    chosen = mapping.delimiter.character
    if not chosen:
        # The separator that splits the mapping's header into most columns; commas when none finds it.
        sample = HEADER_SEARCH_ROWS if mapping.header_row is None else mapping.header_row + 1
        scores = []
        for candidate in (",", ";", "\t"):
            head = header_of(_csv_rows(text, candidate, sample), mapping)
            scores.append((len(head[1]) if head else 0, candidate))
        best = max(scores, key=lambda s: s[0])
        chosen = best[1] if best[0] else ","
    return Table("csv", tuple(_csv_rows(text, chosen, None)), encoding=encoding, delimiter=chosen)


def _read_xlsx(content: bytes, mapping: ColumnMapping) -> Table:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRefused("The file is not a readable XLSX workbook.") from None
    _refuse_bomb(members)
    from openpyxl import load_workbook  # the reading of workbooks is openpyxl's, not ours

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign zip
        raise FileRefused("The file is not a readable XLSX workbook.") from None
    try:
        names = list(book.sheetnames)
        if not names:
            raise FileRefused("The workbook has no worksheet.")
        if mapping.sheet and mapping.sheet not in names:
            listed = ", ".join(f"'{n}'" for n in names)
            raise FileRefused(f"The workbook has no worksheet '{mapping.sheet}'; it has {listed}.")
        sheet = mapping.sheet or names[0]
        rows = _sheet_rows(book[sheet])
    except FileRefused:
        raise
    except Exception:
        raise FileRefused("The worksheet of the workbook cannot be read.") from None
    finally:
        book.close()
    return Table("xlsx", tuple(rows), sheet=sheet)


def _refuse_bomb(members: list[zipfile.ZipInfo]) -> None:
    """FileRefused for a zip that unpacks to more than a result export holds, in all or in one part, or
    with a part packed like a zip bomb (more than MAX_COMPRESSION_RATIO to 1)."""
    too_much = "The workbook unpacks to more than a result export holds: it is not read."
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise FileRefused(too_much)
    for member in members:
        if member.file_size > MAX_MEMBER_BYTES:
            raise FileRefused(too_much)
        if member.file_size > max(RATIO_FLOOR_BYTES, MAX_COMPRESSION_RATIO * member.compress_size):
            raise FileRefused(
                f"A part of the workbook is packed more than {MAX_COMPRESSION_RATIO} to 1, as no "
                "spreadsheet is: it is not read."
            )


def _sheet_rows(sheet: Any) -> list[tuple[int, tuple[str, ...]]]:
    """The rows holding any text, each with its row number; columns past the sheet's own last one and
    MAX_COLUMNS are not read, and a row numbered past MAX_TABLE_ROWS refuses the sheet at once."""
    width = min(sheet.max_column or MAX_COLUMNS, MAX_COLUMNS)
    rows: list[tuple[int, tuple[str, ...]]] = []
    for number, cells in enumerate(sheet.iter_rows(max_col=width), start=1):
        if number > MAX_TABLE_ROWS:
            raise FileRefused(f"The worksheet has more than {MAX_TABLE_ROWS} rows: import it in parts.")
        texts = tuple(_cell_text(c) for c in cells)
        if any(texts):
            rows.append((number, texts))
    return rows


def _cell_text(cell: Any) -> str:
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if getattr(cell, "data_type", "") == "f" or hasattr(value, "text"):
        return Formula(str(getattr(value, "text", value)))
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return Number(str(number)) if number.is_finite() else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def header_of(
    rows: list[tuple[int, tuple[str, ...]]], mapping: ColumnMapping
) -> tuple[int, tuple[str, ...]] | None:
    """The header row: the one the mapping numbers, else the first naming the mapping's header columns."""
    wanted = {fold(c) for c in mapping.header_columns()}
    if mapping.header_row is not None:
        return next(((n, cells) for n, cells in rows if n == mapping.header_row), None)
    for line, cells in rows[:HEADER_SEARCH_ROWS]:
        if wanted <= {fold(c) for c in cells}:
            return line, cells
    return None
