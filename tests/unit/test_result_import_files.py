"""Instrument result exports read with a column mapping: the three example exports, the encodings and
separators, non-detects, and every hostile file refused as a whole with a clear reason."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook
from starlette.datastructures import FormData

from customslab.domain.access import PERMISSIONS, Action, Actor, require
from customslab.domain.enums import ResultKind, Role
from customslab.domain.errors import PermissionDenied, ValidationFailed
from customslab.domain.instrument_mapping import ColumnMapping, Layout
from customslab.entrypoints.web.import_forms import mapping_command, mapping_values
from customslab.services import result_import_files as files
from customslab.services.contract import parse
from customslab.services.instrument_mappings import MappingSave, MappingView
from customslab.services.result_import_files import FileRefused, read_table
from customslab.services.result_import_ports import InstrumentMappingEntry
from customslab.services.result_import_rows import (
    Extracted,
    SkipReason,
    extract,
    measurand_of,
    parse_number,
    parse_value,
)
from tests.result_import_support import GCFID, ICPMS, XRF, export, mapping_body, mapping_of

LONG = ColumnMapping(
    sample_column="Sample", analyte_column="Analyte", value_column="Value", unit_column="Unit"
)


def _read(name: str, content: bytes, mapping: ColumnMapping = LONG) -> Extracted:
    return extract(read_table(name, content, mapping), mapping)


def _sheet(rows: list[list[object]], title: str = "Sheet1") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- the three example exports ----------------------------------------------------------------------


def test_the_icp_ms_export_gives_its_sample_rows_and_leaves_calibration_qc_and_internal_standards_out() -> (
    None
):
    read = _read(ICPMS, export(ICPMS), mapping_of(ICPMS))
    assert read.header_line == 8
    assert [(r.line, r.sample, r.analyte) for r in read.readings][:4] == [
        (20, "KCS-CCL-2026-00117", "52 Cr"),
        (21, "KCS-CCL-2026-00117", "60 Ni"),
        (22, "KCS-CCL-2026-00117", "111 Cd"),
        (23, "KCS-CCL-2026-00117", "208 Pb"),
    ]
    chromium = read.readings[0]
    assert (chromium.value, chromium.unit, chromium.expanded_uncertainty, chromium.coverage_factor) == (
        Decimal("12.84"),
        "mg/kg",
        Decimal("0.95"),
        Decimal("2"),
    )
    assert chromium.lod == Decimal("0.02")
    excluded = [s for s in read.skipped if s.reason is SkipReason.EXCLUDED]
    assert len(excluded) == 14 and {s.sample for s in excluded} >= {"Std 1 (1 ppb)", "CCV 10 ppb"}
    assert {s.analyte for s in excluded if s.sample.startswith("KCS")} == {"115 In (ISTD)"}
    assert len(read.readings) == 10


def test_the_icp_ms_export_reads_a_less_than_and_n_d_as_not_detected_with_the_limit() -> None:
    read = _read(ICPMS, export(ICPMS), mapping_of(ICPMS))
    cadmium = next(r for r in read.readings if r.line == 22)
    assert (cadmium.kind, cadmium.text_value, cadmium.value, cadmium.lod) == (
        ResultKind.DETECTION,
        "not_detected",
        None,
        Decimal("0.004"),
    )
    lead = next(r for r in read.readings if r.line == 28)
    assert (lead.kind, lead.text_value, lead.lod) == (ResultKind.DETECTION, "not_detected", Decimal("0.002"))


def test_the_xrf_workbook_gives_one_result_per_oxide_column_of_each_sample_row() -> None:
    read = _read(XRF, export(XRF), mapping_of(XRF))
    assert read.header_line == 6
    first = [r for r in read.readings if r.sample == "KCS-CCL-2026-00121"]
    assert [r.analyte for r in first] == [
        "SiO2",
        "Al2O3",
        "Fe2O3",
        "CaO",
        "MgO",
        "SO3",
        "TiO2",
        "K2O",
        "Na2O",
    ]
    alumina = first[1]
    assert (alumina.value, alumina.unit) == (Decimal("39.85"), "% m/m")
    assert (first[-1].kind, first[-1].lod) == (ResultKind.DETECTION, Decimal("0.05"))
    assert len(read.readings) == 27
    reasons = {(s.line, s.reason) for s in read.skipped}
    assert reasons == {(7, SkipReason.EXCLUDED), (8, SkipReason.EXCLUDED), (13, SkipReason.NO_VALUE)}


def test_the_gc_fid_export_is_read_as_latin1_with_semicolons_and_decimal_commas() -> None:
    table = read_table(GCFID, export(GCFID), mapping_of(GCFID))
    assert (table.encoding, table.delimiter) == ("latin-1", ";")
    assert any("40 °C" in cell for _, cells in table.rows for cell in cells)
    read = extract(table, mapping_of(GCFID))
    rum = next(r for r in read.readings if r.sample == "KCS-CCL-2026-00131" and r.analyte == "Ethanol")
    assert (rum.value, rum.unit, rum.expanded_uncertainty, rum.coverage_factor, rum.loq) == (
        Decimal("40.27"),
        "% v/v",
        Decimal("0.35"),
        Decimal("2"),
        Decimal("0.05"),
    )
    assert {s.reason for s in read.skipped} == {SkipReason.EXCLUDED}
    assert measurand_of("Ethanol", mapping_of(GCFID)) == "alcohol_strength"
    assert measurand_of("Methanol", mapping_of(GCFID)) is None


def test_the_example_mappings_are_valid_commands() -> None:
    for name in (ICPMS, XRF, GCFID):
        assert parse(MappingSave, mapping_body(name)).instrument_model


# -- encodings, separators, numbers -----------------------------------------------------------------


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_the_separator_is_the_one_that_splits_the_header(separator: str) -> None:
    text = f"Run 12{separator}2026-11-29\nSample{separator}Analyte{separator}Value{separator}Unit\n"
    text += separator.join(["S-1", "Lead", "0.5" if separator != ";" else "0,5", "mg/kg"]) + "\n"
    read = _read("run.txt", text.encode())
    assert [(r.sample, r.value) for r in read.readings] == [("S-1", Decimal("0.5"))]


def test_a_utf8_file_with_its_bom_and_a_utf16_file_are_read() -> None:
    text = "Sample,Analyte,Value,Unit\nS-µ1,Lead,1.5,µg/kg\n"
    for content in (b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
        read = _read("x.csv", content)
        assert [(r.sample, r.unit) for r in read.readings] == [("S-µ1", "µg/kg")]


def test_the_header_row_the_mapping_names_is_used_and_a_wrong_one_is_refused() -> None:
    text = b"Sample,Analyte,Value,Unit\nS-1,Lead,1,mg/kg\n"
    assert _read("x.csv", text, LONG).header_line == 1
    with pytest.raises(FileRefused, match=r"line 2\) has no column 'Sample'"):
        _read("x.csv", text, ColumnMapping(**{**LONG.__dict__, "header_row": 2}))


@pytest.mark.parametrize(
    ("text", "comma", "expected"),
    [
        ("12.5", False, Decimal("12.5")),
        ("-0.004", False, Decimal("-0.004")),
        ("1.2E-03", False, Decimal("0.0012")),
        ("12,5", True, Decimal("12.5")),
        ("1.234,5", True, Decimal("1234.5")),
        ("7", True, Decimal("7")),
    ],
)
def test_numbers_are_read_with_the_mappings_decimal_separator(
    text: str, comma: bool, expected: Decimal
) -> None:
    assert parse_number(text, comma) == expected


@pytest.mark.parametrize(
    ("text", "comma"),
    [("12,5", False), ("1,234.5", False), ("12.5", True), ("abc", False), ("1e999999", False), ("", False)],
)
def test_what_is_not_a_number_in_that_mapping_is_refused(text: str, comma: bool) -> None:
    with pytest.raises(ValueError):
        parse_number(text, comma)


@pytest.mark.parametrize(
    ("text", "outcome", "limit"),
    [
        ("n.d.", "not_detected", None),
        ("ND", "not_detected", None),
        ("< LOD", "not_detected", None),
        ("<0.05", "not_detected", Decimal("0.05")),
        ("< 0,05", "not_detected", Decimal("0.05")),
        ("<LOQ", "detected", None),
        ("불검출", "not_detected", None),
    ],
)
def test_what_instruments_write_for_a_non_detect_is_a_detection_outcome(
    text: str, outcome: str, limit: Decimal | None
) -> None:
    kind, value, said, below = parse_value(text, decimal_comma="," in text)
    assert (kind, value, said, below) == (ResultKind.DETECTION, None, outcome, limit)


def test_a_value_above_the_range_is_not_a_number_to_record() -> None:
    read = _read("x.csv", b"Sample,Analyte,Value,Unit\nS-1,Lead,>1000,mg/kg\n")
    assert [(s.reason, s.line) for s in read.skipped] == [(SkipReason.NOT_A_NUMBER, 2)]


@pytest.mark.parametrize(
    ("analyte", "key"),
    [
        ("208 Pb [He]", "element.Pb"),
        ("Pb 208", "element.Pb"),
        ("Cd111", "element.Cd"),
        ("52Cr", "element.Cr"),
        ("Lead", "element.Pb"),
        ("Al2O3", "alumina_content"),
        ("Alcoholic strength", "alcohol_strength"),
        ("Methanol", None),
        ("SiO2", None),
        ("Xx 12", None),
    ],
)
def test_instrument_analyte_names_are_read_as_measurands(analyte: str, key: str | None) -> None:
    assert measurand_of(analyte, LONG) == key


def test_the_mappings_aliases_come_first() -> None:
    mapping = ColumnMapping(
        **{**LONG.__dict__, "analyte_aliases": (("pb 208", "element.Sn"), ("SiO2", "SiO2"))}
    )
    assert measurand_of("Pb 208", mapping) == "element.Sn"
    assert measurand_of("SiO2", mapping) == "SiO2"


# -- units -------------------------------------------------------------------------------------------


def test_a_unit_pint_cannot_read_refuses_the_whole_file_and_names_its_line() -> None:
    content = export(ICPMS).replace(
        b"KCS-CCL-2026-00118,60 Ni,He,1.96,mg/kg", b"KCS-CCL-2026-00118,60 Ni,He,1.96,mg/kgg"
    )
    with pytest.raises(FileRefused, match=r"Line 26: the unit 'mg/kgg' is not a unit") as refused:
        _read(ICPMS, content, mapping_of(ICPMS))
    assert refused.value.field == "file" and "Nothing was imported" in refused.value.message


def test_ppb_is_refused_unless_the_mapping_says_what_it_means_here() -> None:
    content = b"Sample,Analyte,Value,Unit\nS-1,Lead,1.5,ppb\n"
    with pytest.raises(FileRefused, match=r"Line 2: the unit 'ppb'"):
        _read("x.csv", content)
    aliased = ColumnMapping(**{**LONG.__dict__, "unit_aliases": (("PPB", "µg/kg"),)})
    assert [r.unit for r in _read("x.csv", content, aliased).readings] == ["µg/kg"]


def test_a_calibration_row_the_mapping_leaves_out_is_not_held_to_the_unit_rule() -> None:
    # The ICP-MS export's standards are in ppb, which this laboratory's mapping reads as µg/kg; without
    # the alias they are still left out, so the file reads.
    mapping = mapping_of(ICPMS, unit_aliases={})
    assert len(_read(ICPMS, export(ICPMS), mapping).readings) == 10


# -- hostile files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"   \r\n\r\n  "])
def test_an_empty_file_is_refused(content: bytes) -> None:
    with pytest.raises(FileRefused, match="empty"):
        read_table("x.csv", content, LONG)


def test_a_file_without_the_mappings_columns_is_refused_naming_them() -> None:
    with pytest.raises(FileRefused, match="'Sample', 'Analyte', 'Value'") as refused:
        _read(GCFID, export(GCFID))
    assert refused.value.field == "file"


def test_a_file_that_lacks_a_column_the_mapping_reads_is_refused_naming_it() -> None:
    mapping = mapping_of(ICPMS, uncertainty_column="U (k=2) [mg/kg]")
    with pytest.raises(FileRefused, match=r"'U \(k=2\) \[mg/kg\]'"):
        _read(ICPMS, export(ICPMS), mapping)


def test_a_header_without_rows_below_is_refused() -> None:
    with pytest.raises(FileRefused, match="no rows below its header"):
        _read("x.csv", b"Sample,Analyte,Value,Unit\n\n\n")


def test_an_oversized_file_is_refused_before_it_is_read() -> None:
    with pytest.raises(FileRefused, match="larger than 5 MB"):
        read_table("x.csv", b"a" * (files.MAX_FILE_BYTES + 1), LONG)


def test_a_file_of_too_many_rows_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_TABLE_ROWS", 50)
    rows = "".join(f"S-{i},Lead,1,mg/kg\n" for i in range(60))
    with pytest.raises(FileRefused, match="more than 50 rows"):
        read_table("x.csv", f"Sample,Analyte,Value,Unit\n{rows}".encode(), LONG)


def test_binary_content_and_an_old_xls_workbook_are_refused() -> None:
    with pytest.raises(FileRefused, match="neither text"):
        read_table("x.csv", b"Sample\x00\x01\x02", LONG)
    with pytest.raises(FileRefused, match="97-2003"):
        read_table("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, LONG)


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(FileRefused, match="not a readable XLSX"):
        read_table("x.xlsx", out.getvalue(), LONG)


def test_a_workbook_that_unpacks_to_more_than_an_export_holds_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (files.MAX_UNPACKED_BYTES + 1))
    assert len(out.getvalue()) < 200_000
    with pytest.raises(FileRefused, match="unpacks to more"):
        read_table("bomb.xlsx", out.getvalue(), LONG)


def test_a_formula_cell_is_not_evaluated_and_its_row_is_skipped_with_the_reason() -> None:
    content = _sheet(
        [
            ["Sample", "Analyte", "Value", "Unit"],
            ["S-1", "Lead", "=2*3", "mg/kg"],
            ["S-2", "Lead", 0.5, "mg/kg"],
        ]
    )
    read = _read("x.xlsx", content)
    assert [(r.sample, r.value) for r in read.readings] == [("S-2", Decimal("0.5"))]
    assert [(s.line, s.reason) for s in read.skipped] == [(2, SkipReason.FORMULA)]


def test_a_named_worksheet_is_read_and_a_missing_one_is_refused_with_the_sheets_it_has() -> None:
    content = _sheet([["Sample", "Analyte", "Value", "Unit"], ["S-1", "Lead", 0.5, "mg/kg"]], title="Quant")
    assert len(_read("x.xlsx", content, ColumnMapping(**{**LONG.__dict__, "sheet": "Quant"})).readings) == 1
    with pytest.raises(FileRefused, match="no worksheet 'Results'; it has 'Quant'"):
        _read("x.xlsx", content, ColumnMapping(**{**LONG.__dict__, "sheet": "Results"}))


def test_rows_without_a_sample_id_or_a_value_are_listed_with_their_reason() -> None:
    read = _read("x.csv", b"Sample,Analyte,Value,Unit\n,Lead,1,mg/kg\nS-2,Lead,,mg/kg\nS-3,,1,mg/kg\n")
    assert [(s.line, s.reason) for s in read.skipped] == [
        (2, SkipReason.NO_SAMPLE),
        (3, SkipReason.NO_VALUE),
        (4, SkipReason.UNKNOWN_ANALYTE),
    ]


# -- the mapping's own rules, and who keeps it --------------------------------------------------------


def test_a_mapping_lacking_what_its_layout_needs_is_refused_field_by_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(MappingSave, {"instrument_model": "X", "sample_column": "Sample", "layout": "long"})
    assert {e.field for e in refused.value.errors} == {"analyte_column", "value_column", "unit"}
    with pytest.raises(ValidationFailed) as refused:
        parse(MappingSave, {"instrument_model": "X", "sample_column": "S", "layout": "wide", "unit": "%"})
    assert {e.field for e in refused.value.errors} == {"analyte_columns"}


def test_a_mapping_unit_or_unit_alias_pint_cannot_read_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(MappingSave, mapping_body(XRF, unit="% bananas"))
    assert refused.value.field == "unit"
    with pytest.raises(ValidationFailed):
        parse(MappingSave, mapping_body(ICPMS, unit_aliases={"ppb": "parts per banana"}))


def test_an_alias_is_stored_as_the_measurands_key() -> None:
    mapping = mapping_of(GCFID, analyte_aliases={"Ethanol": "Alcoholic strength by volume"})
    assert mapping.analyte_aliases == (("Ethanol", "alcohol_strength"),)
    assert mapping.layout is Layout.LONG


def test_only_a_laboratory_manager_may_manage_instrument_mappings() -> None:
    assert PERMISSIONS[Action.MANAGE_INSTRUMENT_MAPPINGS] == {Role.LAB_MANAGER}
    require(Actor(1, "m", "L", frozenset({Role.LAB_MANAGER})), Action.MANAGE_INSTRUMENT_MAPPINGS)
    for role in set(Role) - {Role.LAB_MANAGER}:
        with pytest.raises(PermissionDenied, match="lab manager"):
            require(Actor(1, "x", "L", frozenset({role})), Action.MANAGE_INSTRUMENT_MAPPINGS)


def test_the_mapping_form_shows_a_stored_mapping_and_reads_it_back_unchanged() -> None:
    for name in (ICPMS, XRF, GCFID):
        stored = mapping_of(name, header_row=8, decimal_comma=False, uncertainty_relative=name == ICPMS)
        entry = InstrumentMappingEntry("L", "Model", "", stored, "m", datetime.now(UTC), id=1)
        values = mapping_values(MappingView.of(entry)) | {"instrument_model": "Model"}
        form = FormData([(k, v) for k, v in values.items() if v])
        read = mapping_command(form).mapping()
        expected = (
            stored if stored.coverage_factor is not None else replace(stored, coverage_factor=Decimal(2))
        )
        assert read == expected, name
