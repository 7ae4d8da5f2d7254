"""The rows of an instrument export read as results, as a column mapping describes them. Pure.

Decimals are read with a comma (12,5) when the mapping says so, by default when the fields are separated
by semicolons. What instruments write for a non-detect is read as a detection outcome: "n.d.", "<LOD"
and "< 0.05" (not detected, below that limit), "<LOQ" (detected, below the LOQ).

What refuses the whole file (`FileRefused`, nothing is written): no header with the mapping's columns,
no rows below it, more than MAX_RESULT_ROWS results, and a unit that pint cannot read at all (the line
is named; the mapping's unit aliases give an instrument's spelling its unit). What skips a row, with its
reason, is everything else: a calibration or QC row the mapping leaves out, no sample id, no value, a
value that is not a number, a formula.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from customslab.domain.enums import ResultKind
from customslab.domain.instrument_mapping import ColumnMapping, Layout, fold
from customslab.hs.measurands import ELEMENT_NAMES, measurand, measurand_key
from customslab.hs.quantities import QuantityError, check_result_unit
from customslab.services.result_import_files import FileRefused, Formula, Number, Table, header_of

#: Result rows one import writes at most (a wide row gives one per analyte column).
MAX_RESULT_ROWS = 5_000
#: A lab sample id is at most this long (the width of its column); a longer one is no sample's.
MAX_SAMPLE_ID = 40
#: A cell's text echoed in a skipped row or a reason is cut to this length, so that a file of long cells
#: does not make a preview many times its own size.
MAX_ECHOED = 80


def clip(text: str, limit: int = MAX_ECHOED) -> str:
    """`text` as a reason echoes it: cut to `limit` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SkipReason(StrEnum):
    """Why a row of the file writes nothing; every skipped row is listed with one of these."""

    EXCLUDED = "excluded"  # a calibration, QC or other row the mapping's rules leave out
    NO_SAMPLE = "no_sample_id"
    NO_VALUE = "no_value"
    NO_UNIT = "no_unit"
    NOT_A_NUMBER = "not_a_number"
    FORMULA = "formula"
    UNKNOWN_SAMPLE = "unknown_sample"
    UNKNOWN_ANALYTE = "unknown_analyte"
    UNIT_MISMATCH = "unit_mismatch"
    NO_TEST = "no_test"
    AMBIGUOUS_TEST = "ambiguous_test"
    TEST_NOT_OPEN = "test_not_open"
    NOT_YOURS = "assigned_to_another_analyst"
    DUPLICATE = "duplicate"
    CONFLICTING = "conflicting_values"
    ALREADY_RECORDED = "already_recorded"
    REFUSED = "refused"  # the controls of result entry, or the result's own rules


@dataclass(frozen=True)
class Skip:
    """A row, or one analyte of it, that writes nothing; the file's sample id and analyte are `clip`ped."""

    line: int
    sample: str
    analyte: str
    reason: SkipReason
    detail: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "sample", clip(self.sample))
        object.__setattr__(self, "analyte", clip(self.analyte))


@dataclass(frozen=True)
class Reading:
    """A row's result as the file states it, before it meets the database."""

    line: int
    sample: str
    analyte: str
    kind: ResultKind
    value: Decimal | None
    unit: str
    text_value: str = ""
    expanded_uncertainty: Decimal | None = None
    coverage_factor: Decimal | None = None
    lod: Decimal | None = None
    loq: Decimal | None = None


@dataclass
class Extracted:
    header_line: int
    readings: list[Reading] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


def _refuse_columns(mapping: ColumnMapping, header: tuple[int, tuple[str, ...]] | None) -> None:
    needed = [c for c in (*mapping.columns(), *(r.column for r in mapping.skip_rules)) if c]
    if header is None:
        listed = ", ".join(f"'{c}'" for c in mapping.header_columns())
        raise FileRefused(
            f"No row of the file names the columns {listed} this mapping reads: is it the right mapping "
            "for this export?"
        )
    line, cells = header
    present = {fold(c) for c in cells}
    missing = [c for c in needed if fold(c) not in present]
    if missing:
        listed = ", ".join(f"'{c}'" for c in missing)
        raise FileRefused(f"The header (line {line}) has no column {listed}, which the mapping reads.")


def extract(table: Table, mapping: ColumnMapping) -> Extracted:
    """The readings of the table and the rows skipped, each with its reason; FileRefused when the
    header is not found or a unit is not one pint reads."""
    header = header_of(list(table.rows), mapping)
    _refuse_columns(mapping, header)
    assert header is not None
    header_line, names = header
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(fold(name), i)
    comma = mapping.decimal_comma if mapping.decimal_comma is not None else table.delimiter == ";"
    out = Extracted(header_line)
    body = [(n, cells) for n, cells in table.rows if n > header_line and any(cells)]
    if not body:
        raise FileRefused(f"The file has no rows below its header (line {header_line}).")
    for line, cells in body:
        by_name = {key: cells[i] if i < len(cells) else "" for key, i in index.items()}
        _read_row(line, by_name, mapping, comma, out)
        if len(out.readings) + len(out.skipped) > MAX_RESULT_ROWS:
            raise FileRefused(f"The file holds more than {MAX_RESULT_ROWS} results: import it in parts.")
    return out


def _cell(cells: dict[str, str], column: str) -> str:
    return cells.get(fold(column), "") if column else ""


def _read_row(line: int, cells: dict[str, str], mapping: ColumnMapping, comma: bool, out: Extracted) -> None:
    sample = _cell(cells, mapping.sample_column).strip()
    if mapping.layout is Layout.LONG:
        pairs = [(_cell(cells, mapping.analyte_column).strip(), _cell(cells, mapping.value_column))]
    else:
        pairs = [(column, _cell(cells, column)) for column in mapping.analyte_columns]
    rule = mapping.skipped_by(cells)
    if rule is not None:
        said = clip(_cell(cells, rule.column))
        why = f"{rule.column} is '{said}': not a result row (the mapping leaves it out)."
        out.skipped.append(
            Skip(line, sample, pairs[0][0] if len(pairs) == 1 else "", SkipReason.EXCLUDED, why)
        )
        return
    if isinstance(cells.get(fold(mapping.sample_column)), Formula) or isinstance(
        cells.get(fold(mapping.unit_column)), Formula
    ):
        why = "The sample id or the unit of this row is a formula, which is not evaluated."
        out.skipped.extend(Skip(line, "", a, SkipReason.FORMULA, why) for a, _ in pairs)
        return
    raw_unit = _cell(cells, mapping.unit_column).strip() if mapping.unit_column else mapping.unit
    unit = mapping.unit_spelling(raw_unit) if raw_unit else ""
    if unit:
        _refuse_unreadable_unit(line, raw_unit, unit)
    if not sample:
        if any(v.strip() for _, v in pairs):
            out.skipped.append(Skip(line, "", "", SkipReason.NO_SAMPLE, "The row has no sample id."))
        return  # a note or a sub-total line: not a result
    if len(pairs) > 1 and not any(v.strip() for _, v in pairs):
        out.skipped.append(
            Skip(line, sample, "", SkipReason.NO_VALUE, "The row has no value in any analyte column.")
        )
        return
    if len(sample) > MAX_SAMPLE_ID and any(v.strip() for _, v in pairs):
        why = f"A lab sample id has at most {MAX_SAMPLE_ID} characters: this one is no sample's."
        out.skipped.append(Skip(line, sample, "", SkipReason.UNKNOWN_SAMPLE, why))
        return
    for analyte, value in pairs:
        skip, reading = _reading(line, sample, analyte, value, unit, cells, mapping, comma)
        if skip is not None:
            out.skipped.append(skip)
        elif reading is not None:
            out.readings.append(reading)


def _refuse_unreadable_unit(line: int, raw: str, unit: str) -> None:
    try:
        check_result_unit(unit)
    except QuantityError as exc:
        spelled = f"'{clip(raw)}'" + (f" (read as '{clip(unit)}')" if unit != raw else "")
        raise FileRefused(
            f"Line {line}: the unit {spelled} is not a unit ({exc}). Nothing was imported: correct the "
            "file, or give the instrument's spelling its unit in the mapping's unit aliases."
        ) from None


def _reading(
    line: int,
    sample: str,
    analyte: str,
    value: str,
    unit: str,
    cells: dict[str, str],
    mapping: ColumnMapping,
    comma: bool,
) -> tuple[Skip | None, Reading | None]:
    def skip(reason: SkipReason, detail: str) -> tuple[Skip, None]:
        return Skip(line, sample, analyte, reason, detail), None

    if not analyte:
        return skip(SkipReason.UNKNOWN_ANALYTE, "The row names no analyte.")
    extras = {
        "expanded uncertainty": _cell(cells, mapping.uncertainty_column),
        "coverage factor": _cell(cells, mapping.coverage_factor_column),
        "LOD": _cell(cells, mapping.lod_column),
        "LOQ": _cell(cells, mapping.loq_column),
    }
    if isinstance(value, Formula) or any(isinstance(v, Formula) for v in extras.values()):
        return skip(SkipReason.FORMULA, "A cell of this row holds a formula, which is not evaluated.")
    if not value.strip():
        return skip(SkipReason.NO_VALUE, "The value cell is empty.")
    numbers: dict[str, Decimal | None] = {}
    for what, text in extras.items():
        try:
            numbers[what] = parse_number(text, comma) if text.strip() else None
        except ValueError:
            return skip(SkipReason.NOT_A_NUMBER, f"The {what} '{clip(text)}' is not a number.")
    try:
        kind, amount, outcome, limit = parse_value(value, comma)
    except ValueError as exc:
        return skip(SkipReason.NOT_A_NUMBER, str(exc))
    lod, loq = numbers["LOD"], numbers["LOQ"]
    if outcome == "not_detected" and limit is not None:
        lod = limit
    if (amount is not None or lod is not None or loq is not None) and not unit:
        return skip(SkipReason.NO_UNIT, "The row gives no unit, and the mapping none for every value.")
    u, k = numbers["expanded uncertainty"], numbers["coverage factor"]
    if kind is ResultKind.QUANTITY:
        if u is not None and mapping.uncertainty_relative and amount is not None:
            u = abs(amount) * u / 100
        k = k if k is not None else (mapping.coverage_factor if u is not None else None)
    else:
        u = k = None  # an outcome has no uncertainty
    reading = Reading(line, sample, analyte, kind, amount, unit, outcome, u, k, lod, loq)
    return None, reading


_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?")
_THOUSANDS_DOTS = re.compile(r"[-+]?\d{1,3}(?:\.\d{3})+,\d+")
#: How instrument software writes "not detected" (spaces and case ignored).
NOT_DETECTED = frozenset(
    {"nd", "n.d.", "n.d", "n/d", "notdetected", "<lod", "<dl", "<mdl", "<idl", "bdl", "<nwg", "불검출"}
)
#: ... and "detected, below the limit of quantification".
BELOW_LOQ = frozenset({"<loq", "<lq", "<bg", "<pql"})


def parse_number(text: str, decimal_comma: bool) -> Decimal:
    """A number as an export writes it; ValueError when it is not one (a decimal comma only where the
    mapping or the semicolon separator says so, thousands dots only before a decimal comma)."""
    written = text.strip()
    if isinstance(text, Number):
        return Decimal(written)
    plain = written
    if decimal_comma:
        if _THOUSANDS_DOTS.fullmatch(written):
            plain = written.replace(".", "").replace(",", ".")
        elif "," in written and "." not in written:
            plain = written.replace(",", ".")
        elif "." in written:
            raise ValueError(f"'{clip(text)}' has a decimal point: the mapping reads decimal commas (12,5).")
    elif "," in written:
        raise ValueError(f"'{clip(text)}' is written with a comma: the mapping reads decimal points (12.5).")
    if not _NUMBER.fullmatch(plain):
        raise ValueError(f"'{clip(text)}' is not a number.")
    try:
        return Decimal(plain)
    except InvalidOperation:
        raise ValueError(f"'{clip(text)}' is not a number.") from None


def parse_value(text: str, decimal_comma: bool) -> tuple[ResultKind, Decimal | None, str, Decimal | None]:
    """(kind, value, outcome, limit) of a value cell: a number; "n.d." or "<LOD" (not detected); "< 0.05"
    (not detected, that limit); "<LOQ" (detected, below the LOQ). ValueError for anything else."""
    squeezed = "".join(text.split()).casefold()
    if squeezed in NOT_DETECTED:
        return ResultKind.DETECTION, None, "not_detected", None
    if squeezed in BELOW_LOQ:
        return ResultKind.DETECTION, None, "detected", None
    if squeezed.startswith("<"):
        limit = parse_number(text.strip()[1:].strip(), decimal_comma)
        return ResultKind.DETECTION, None, "not_detected", limit
    if squeezed.startswith(">"):
        raise ValueError(f"'{clip(text)}' is above the instrument's range: no value to record.")
    return ResultKind.QUANTITY, parse_number(text, decimal_comma), "", None


_ELEMENT_WITH_MASS = re.compile(
    r"(?:(?P<before>\d{1,3})\s*)?(?P<symbol>[A-Z][a-z]?)(?:\s*-?\s*(?P<after>\d{1,3}))?\s*(?:\[[^\]]*\]|\([^)]*\))?"
)


def measurand_of(analyte: str, mapping: ColumnMapping) -> str | None:
    """The measurand key an instrument's analyte name stands for, or None when nothing names it: the
    mapping's alias, else a measurand's key, label or known spelling ("Lead", "Al2O3"), else an element
    written with its mass number and the ICP-MS mode ("208 Pb [He]", "Pb 208", "Cd111")."""
    alias = mapping.alias(analyte)
    if alias is not None:
        return alias
    key = measurand_key(analyte)
    if measurand(key) is not None:
        return key
    element = _ELEMENT_WITH_MASS.fullmatch(analyte.strip())
    if element and element["symbol"] in ELEMENT_NAMES and not (element["before"] and element["after"]):
        return f"element.{element['symbol']}"
    return None
