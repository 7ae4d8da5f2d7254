"""Small hostile exports that would cost a server much CPU and memory are refused as a whole, cheaply (a
part of the workbook packed like a zip bomb, a row number past the limit); empty rows and columns past
the sheet's own are not kept; a file of long cells does not make a preview many times its size."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from customslab.domain.errors import ValidationFailed
from customslab.domain.instrument_mapping import ColumnMapping
from customslab.services import result_import_files as files
from customslab.services.result_import_files import FileRefused, read_table
from customslab.services.result_import_rows import MAX_ECHOED, SkipReason, extract

LONG = ColumnMapping(
    sample_column="Sample", analyte_column="Analyte", value_column="Value", unit_column="Unit"
)
HEADER = ["Sample", "Analyte", "Value", "Unit"]


def _book(rows: dict[int, list[object]]) -> bytes:
    """A workbook with these rows, by row number."""
    book = Workbook()
    sheet = book.active
    for number, cells in rows.items():
        for column, value in enumerate(cells, start=1):
            sheet.cell(row=number, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _repacked(content: bytes, name: str, change: bytes) -> bytes:
    """The workbook with `change` inserted after the XML declaration of its part `name`."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as to,
    ):
        for member in source.infolist():
            data = source.read(member)
            if member.filename == name:
                head, rest = data.split(b"?>", 1) if b"?>" in data else (b"", data)
                data = head + (b"?>" if head else b"") + change + rest
            to.writestr(member.filename, data)
    return out.getvalue()


def _refused(content: bytes, match: str) -> None:
    with pytest.raises(FileRefused, match=match) as refused:
        read_table("hostile.xlsx", content, LONG)
    assert isinstance(refused.value, ValidationFailed) and refused.value.field == "file"


def test_a_small_workbook_whose_worksheet_unpacks_a_hundred_times_over_is_refused() -> None:
    content = _book({1: HEADER, 2: ["S-1", "Lead", 0.5, "mg/kg"]})
    padded = _repacked(content, "xl/worksheets/sheet1.xml", b"<!--" + b"a" * (6 * 1024 * 1024) + b"-->")
    assert len(padded) < 100_000
    _refused(padded, "packed more than 100 to 1")


def test_a_workbook_unpacking_past_the_limit_in_all_is_refused_though_no_part_is_large() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for i in range(5):
            archive.writestr(f"xl/media/part{i}.bin", b"\0" * (files.MAX_UNPACKED_BYTES // 4))
    # stored, not packed: no part is a bomb nor larger than a part may be, but they add up
    assert files.MAX_UNPACKED_BYTES // 4 < files.MAX_MEMBER_BYTES
    with pytest.raises(FileRefused, match="unpacks to more"):
        files._refuse_bomb(zipfile.ZipFile(out).infolist())


def test_one_part_larger_than_a_part_may_be_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_MEMBER_BYTES", 2_000)
    rows = {1: HEADER} | {n: [f"S-{n}", "Lead", n, "mg/kg"] for n in range(2, 200)}
    _refused(_book(rows), "unpacks to more")


def test_one_cell_in_the_last_row_of_a_sheet_is_refused_without_reading_a_million_empty_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read = []
    cell_text = files._cell_text
    monkeypatch.setattr(files, "_cell_text", lambda c: read.append(1) or cell_text(c))
    _refused(_book({1: HEADER, 1_048_576: ["x"]}), f"more than {files.MAX_TABLE_ROWS} rows")
    assert len(read) <= 4 * (files.MAX_TABLE_ROWS + 1)  # four columns a row, to the limit and no further


def test_a_row_numbered_past_the_limit_refuses_the_sheet_even_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_TABLE_ROWS", 50)
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["S-1", "Lead", 0.5, "mg/kg"])
    sheet.cell(row=60, column=1).number_format = "0.00"  # a formatted cell, no value
    out = io.BytesIO()
    book.save(out)
    _refused(out.getvalue(), "more than 50 rows")


def test_empty_rows_are_not_kept_and_rows_are_as_wide_as_the_sheet() -> None:
    content = _book({1: HEADER, 5: ["S-1", "Lead", 0.5, "mg/kg"], 9: ["S-2", "Lead", 0.7, "mg/kg"]})
    table = read_table("x.xlsx", content, LONG)
    assert [(n, len(cells)) for n, cells in table.rows] == [(1, 4), (5, 4), (9, 4)]
    assert [r.line for r in extract(table, LONG).readings] == [5, 9]


# -- long cells echoed ---------------------------------------------------------------------------------


def test_a_sample_id_longer_than_any_is_skipped_with_its_reason_and_shown_cut() -> None:
    long_id = "S" * 5_000
    table = read_table("x.csv", f"Sample,Analyte,Value,Unit\n{long_id},Lead,1,mg/kg\n".encode(), LONG)
    read = extract(table, LONG)
    assert read.readings == []
    [skip] = read.skipped
    assert skip.reason is SkipReason.UNKNOWN_SAMPLE and "at most 40 characters" in skip.detail
    assert len(skip.sample) <= MAX_ECHOED and skip.sample.endswith("…")


def test_a_long_cell_is_echoed_cut_in_the_reason_and_the_row() -> None:
    junk = "9" * 3 + "x" * 10_000
    content = f"Sample,Analyte,Value,Unit\nS-1,{'Pb' * 3000},{junk},mg/kg\nS-2,Lead,{junk},mg/kg\n"
    read = extract(read_table("x.csv", content.encode(), LONG), LONG)
    assert [s.reason for s in read.skipped] == [SkipReason.NOT_A_NUMBER, SkipReason.NOT_A_NUMBER]
    for skip in read.skipped:
        assert len(skip.analyte) <= MAX_ECHOED and len(skip.detail) < 2 * MAX_ECHOED
