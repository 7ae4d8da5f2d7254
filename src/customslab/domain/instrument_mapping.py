"""How an instrument model's result export is read: the column mapping a laboratory keeps per model.

A laboratory manager describes once where an instrument's software puts what (the sample id, the analyte,
the value, its unit and uncertainty, the limits), which rows are not results (calibration standards, QC
checks, internal standards) and what the instrument calls an analyte in the laboratory's words ("208 Pb
[He]" is `element.Pb`). Every export of that model is then read the same way (ISO/IEC 17025 7.11.2:
the transfer of data from an instrument is a validated, controlled interface, not retyping).

Two layouts cover the exports customs laboratories meet: *long* (one row per sample and analyte: ICP-MS
batch tables, chromatography data systems) and *wide* (one row per sample, one column per analyte: XRF
oxide tables). Pure rules; the reading of files is in `services.result_import_files`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fnmatch import fnmatchcase

from customslab.domain.errors import FieldError


class Layout(StrEnum):
    LONG = "long"  # one row per sample and analyte; the analyte is named in a column
    WIDE = "wide"  # one row per sample; each analyte has its own column


class Delimiter(StrEnum):
    """How a CSV export separates its fields; `auto` tries comma, semicolon and tab on the header."""

    AUTO = "auto"
    COMMA = "comma"
    SEMICOLON = "semicolon"
    TAB = "tab"

    @property
    def character(self) -> str:
        return {"comma": ",", "semicolon": ";", "tab": "\t"}.get(self.value, "")


def fold(text: str) -> str:
    """A header or a name as compared: case and spacing ignored ("Sample  name" = "sample name")."""
    return " ".join(str(text).casefold().split())


@dataclass(frozen=True)
class SkipRule:
    """Rows whose `column` matches one of `patterns` are not results (a calibration standard, a QC check):
    shell-style patterns (`Cal*`, `*ISTD*`), case and spacing ignored."""

    column: str
    patterns: tuple[str, ...]

    def matches(self, cell: str) -> bool:
        text = fold(cell)
        return any(fnmatchcase(text, fold(p)) for p in self.patterns)


@dataclass(frozen=True)
class ColumnMapping:
    """Where an export of one instrument model keeps each part of a result. Columns are named by their
    header text as the export writes it (case and spacing ignored)."""

    sample_column: str
    layout: Layout = Layout.LONG
    #: Long layout: the column naming the analyte and the one holding its value.
    analyte_column: str = ""
    value_column: str = ""
    #: Wide layout: the columns that each hold one analyte's value (the header names the analyte).
    analyte_columns: tuple[str, ...] = ()
    #: The unit: a column of the export, else one unit for every value (% for an oxide table).
    unit_column: str = ""
    unit: str = ""
    #: The expanded uncertainty U, as a value in the result's unit or, `uncertainty_relative`, in %.
    uncertainty_column: str = ""
    uncertainty_relative: bool = False
    #: The coverage factor k of U: a column, else this value (the k the software states U with).
    coverage_factor_column: str = ""
    coverage_factor: Decimal | None = Decimal(2)
    lod_column: str = ""
    loq_column: str = ""
    #: The header's row number (1 = the first line or row), or None: the first row naming the sample
    #: column (and the analyte and value columns of a long layout).
    header_row: int | None = None
    #: XLSX: the worksheet to read ("": the first).
    sheet: str = ""
    delimiter: Delimiter = Delimiter.AUTO
    #: Decimals written with a comma (12,5); None: so when the fields are separated by semicolons.
    decimal_comma: bool | None = None
    skip_rules: tuple[SkipRule, ...] = ()
    #: The instrument's name of an analyte → the laboratory's measurand ("208 Pb [He]" → element.Pb).
    analyte_aliases: tuple[tuple[str, str], ...] = ()
    #: The instrument's spelling of a unit → a unit pint reads ("ppb" → µg/kg: only the laboratory knows
    #: which basis its software reports in).
    unit_aliases: tuple[tuple[str, str], ...] = ()
    #: A word of the test's determination or method reference (ICP-MS, XRF) that marks the tests of
    #: several analytes this instrument's results go on.
    test_hint: str = ""

    def faults(self) -> list[FieldError]:
        """What the layout needs and the mapping lacks, each on its field."""
        faults: list[FieldError] = []
        if self.layout is Layout.LONG:
            for name in ("analyte_column", "value_column"):
                if not getattr(self, name):
                    faults.append(FieldError(name, "A long layout needs the analyte and the value columns."))
            if self.analyte_columns:
                faults.append(
                    FieldError(
                        "analyte_columns", "Analyte columns belong to a wide layout; leave them empty."
                    )
                )
        else:
            if not self.analyte_columns:
                faults.append(FieldError("analyte_columns", "A wide layout needs its analyte columns."))
            per_row = [self.uncertainty_column, self.coverage_factor_column, self.lod_column, self.loq_column]
            if any(per_row):
                faults.append(
                    FieldError(
                        "uncertainty_column",
                        "A wide layout reads one value per analyte column: uncertainty, coverage factor, "
                        "LOD and LOQ columns belong to a long layout.",
                    )
                )
            if self.analyte_column or self.value_column:
                faults.append(
                    FieldError(
                        "analyte_column",
                        "A wide layout names its analytes by their columns: leave the analyte and value "
                        "columns empty.",
                    )
                )
        if not self.unit_column and not self.unit:
            faults.append(FieldError("unit", "Give the unit column, or the one unit of every value."))
        named = [c for c in self.columns() if c]
        seen: set[str] = set()
        for column in named:
            if fold(column) in seen:
                faults.append(FieldError("sample_column", f"The column '{column}' is mapped twice."))
            seen.add(fold(column))
        return faults

    def columns(self) -> list[str]:
        """Every column the mapping reads a part of a result from (not the skip rules' columns)."""
        return [
            self.sample_column,
            self.analyte_column,
            self.value_column,
            *self.analyte_columns,
            self.unit_column,
            self.uncertainty_column,
            self.coverage_factor_column,
            self.lod_column,
            self.loq_column,
        ]

    def header_columns(self) -> list[str]:
        """The columns that identify the header row: the sample column, and a long layout's analyte and
        value columns."""
        if self.layout is Layout.LONG:
            return [self.sample_column, self.analyte_column, self.value_column]
        return [self.sample_column]

    def skipped_by(self, cells: dict[str, str]) -> SkipRule | None:
        """The rule that leaves out a row, given its cells by folded header, if one does."""
        return next((r for r in self.skip_rules if r.matches(cells.get(fold(r.column), ""))), None)

    def alias(self, analyte: str) -> str | None:
        """The measurand the mapping gives the instrument's analyte name, if it names it."""
        wanted = fold(analyte)
        return next((target for name, target in self.analyte_aliases if fold(name) == wanted), None)

    def unit_spelling(self, unit: str) -> str:
        """The unit as pint should read it: the mapping's alias of the instrument's spelling, if any."""
        wanted = fold(unit)
        return next((target for name, target in self.unit_aliases if fold(name) == wanted), unit.strip())
