"""JCAMP-DX data tables: (X++(Y..Y)) profiles and (XY..XY), (XYW..XYW), (XYM..XYM) point and peak lists.

A table comes either from a plain block (##XYDATA=, ##XYPOINTS=, ##PEAK TABLE=) or from a page of a
JCAMP-DX 5.01 ##NTUPLES record; the NTUPLES reader gives a page the same labels (FIRSTX, XFACTOR, ...)
that a plain block would carry, so both are read here in one way.

Layouts of (XY..XY)-type tables accepted, following McDonald & Wilks (1988) and Lampen et al. (1994):
the values of one tuple are separated by a comma (blanks around it allowed); tuples are separated by
blanks, tabs or semicolons, several to a line or one per line; a separator may end a line. Tables
written without commas (`x y`, `x;y`, `x y x y`) are read by position, each line holding whole tuples.
'?' marks a value that was not measured: its point is counted (for ##NPOINTS) and left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from customslab.spectra.formats.jcamp_asdf import AsdfError, decode_line
from customslab.spectra.model import MAX_POINTS, FloatArray, SpectrumFormatError

#: Data forms read as equally spaced profiles, and as tuples (with their widths).
PROFILE_FORM = "(X++(Y..Y))"
TUPLE_FORMS = {"(XY..XY)": 2, "(XYW..XYW)": 3, "(XYM..XYM)": 3}

_COMMA = re.compile(r"\s*,\s*")
_TUPLE_SEPARATORS = re.compile(r"[\s;]+")
# One AFFN number; in a comma-free table a sign also starts a new value, as in PAC ("450+10").
_AFFN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|\?")


@dataclass
class DataTable:
    """One data table and the labelled records that describe it, from a block or an NTUPLES page."""

    start_line: int  # the block's ##TITLE line
    line: int  # the line of the record that opens the table
    kind: str  # XYDATA, XYPOINTS or PEAKTABLE (an NTUPLES "PEAKS" page is a PEAKTABLE)
    form: str  # normalised variable list: (X++(Y..Y)), (XY..XY), (XYW..XYW) or (XYM..XYM)
    labels: Mapping[str, str]
    label_lines: Mapping[str, int]
    data: list[tuple[int, str]]
    where: str  # "block at line 3" or "page 'T = 5' at line 20", for messages
    page: str = ""  # the NTUPLES page variables, "" for a plain block
    names: Mapping[str, str] = field(default_factory=dict)  # how to name a label in messages

    def name(self, key: str) -> str:
        return self.names.get(key, f"##{key}")


def label_float(table: DataTable, key: str, source: str, default: float | None = None) -> float:
    """The number a label holds ('D' exponents allowed); its default, or an error naming it, when absent."""
    if key not in table.labels or not table.labels[key].strip():
        if default is None:
            raise SpectrumFormatError(source, f"required {table.name(key)} missing in {table.where}")
        return default
    text = table.labels[key]
    try:
        value = float(text.replace("D", "E").replace("d", "e").split()[0])
    except (ValueError, IndexError):
        raise SpectrumFormatError(
            source, f"{table.name(key)}={text!r} is not a number", table.label_lines.get(key)
        ) from None
    if not math.isfinite(value):
        raise SpectrumFormatError(source, f"{table.name(key)} is not finite", table.label_lines.get(key))
    return value


def label_integer(table: DataTable, key: str, source: str) -> int:
    """A whole, non-negative number held by a required label."""
    value = label_float(table, key, source)
    if value != int(value) or value < 0:
        raise SpectrumFormatError(
            source, f"{table.name(key)} must be a whole number", table.label_lines.get(key)
        )
    return int(value)


def read_profile(table: DataTable, source: str) -> tuple[FloatArray, FloatArray, list[int]]:
    """(X++(Y..Y)) in AFFN or ASDF: x from FIRSTX, LASTX (or DELTAX) and NPOINTS, y as written.

    NPOINTS must equal the number of ordinates, '?' included: it is the table's length, so a
    different count means a truncated or corrupted table, and the x axis depends on it.
    """
    npoints = label_integer(table, "NPOINTS", source)
    if npoints > MAX_POINTS:
        raise SpectrumFormatError(
            source,
            f"{table.name('NPOINTS')}={npoints}: at most {MAX_POINTS:,} points are accepted",
            table.label_lines.get("NPOINTS"),
        )
    firstx = label_float(table, "FIRSTX", source)
    xfactor = label_float(table, "XFACTOR", source, 1.0)
    if "LASTX" in table.labels and table.labels["LASTX"].strip():
        lastx = label_float(table, "LASTX", source)
    else:
        lastx = firstx + label_float(table, "DELTAX", source) * (npoints - 1)
    ys: list[float | None] = []
    y_lines: list[int] = []
    line_starts: list[tuple[int, int, float]] = []
    previous_ended_in_dif = False
    for number, line in table.data:
        try:
            decoded = decode_line(line)
        except AsdfError as exc:
            raise SpectrumFormatError(source, str(exc), number) from None
        values = decoded.ys
        index = len(ys)
        if previous_ended_in_dif:
            # The Y-value check: a line after one ending in DIF form repeats that line's last ordinate.
            last = ys[-1]
            if not values:
                raise SpectrumFormatError(source, "Y-value check missing after a line in DIF form", number)
            first = values[0]
            if first is None or last is None or not math.isclose(first, last, rel_tol=1e-9, abs_tol=1e-9):
                raise SpectrumFormatError(
                    source,
                    f"DIF Y-value check failed: line starts with {_shown(first)} but the previous line "
                    f"ended with {_shown(last)}",
                    number,
                )
            values = values[1:]
            index -= 1
        line_starts.append((number, index, decoded.x * xfactor))
        ys.extend(values)
        y_lines.extend([number] * len(values))
        previous_ended_in_dif = decoded.ends_in_dif
        if len(ys) > npoints + 1:
            # Stop before DUP counts can fill memory; +1 for a final Y-value check line.
            raise SpectrumFormatError(
                source,
                f"{table.name('NPOINTS')}={npoints} but the table holds more than {npoints + 1} Y values",
                number,
            )
    if len(ys) != npoints:
        raise SpectrumFormatError(
            source,
            f"{table.name('NPOINTS')}={npoints} but the table holds {len(ys)} Y values",
            table.label_lines.get("NPOINTS"),
        )
    if npoints == 0:
        raise SpectrumFormatError(source, f"empty spectrum ({table.name('NPOINTS')}=0)", table.line)
    _check_line_abscissae(line_starts, firstx, lastx, npoints, source)
    x = np.linspace(firstx, lastx, npoints) if npoints > 1 else np.array([firstx])
    measured = [i for i, y in enumerate(ys) if y is not None]
    if not measured:
        raise SpectrumFormatError(source, "every ordinate is missing ('?')", table.line)
    y = np.array([ys[i] for i in measured], dtype=np.float64)
    return x[measured], y, [y_lines[i] for i in measured]


def _shown(value: float | None) -> str:
    return "'?'" if value is None else f"{value:g}"


def _check_line_abscissae(
    line_starts: list[tuple[int, int, float]], firstx: float, lastx: float, npoints: int, source: str
) -> None:
    # Writers round the X that starts a line, so it is checked only to within one point spacing;
    # a shifted or missing line is still caught, with its line number.
    step = (lastx - firstx) / (npoints - 1) if npoints > 1 else 0.0
    tolerance = abs(step) * (1 + 1e-6) + 1e-9 * max(abs(firstx), abs(lastx))
    for number, index, line_x in line_starts:
        expected = firstx + index * step
        if not abs(line_x - expected) <= tolerance:
            raise SpectrumFormatError(
                source,
                f"line X={line_x:g} does not match point {index + 1} of FIRSTX..LASTX "
                f"(expected {expected:g})",
                number,
            )


def read_tuples(table: DataTable, source: str) -> tuple[FloatArray, FloatArray, list[int]]:
    """(XY..XY), (XYW..XYW) or (XYM..XYM): x and y of every tuple whose x and y were measured.

    W (a width) must be a number, '?' or empty; M (a multiplicity) is free text. Neither is kept.
    When NPOINTS is given it must equal the number of tuples, '?' included, so that a truncated
    table is refused rather than read as a shorter spectrum.
    """
    xs: list[float] = []
    ys: list[float] = []
    lines: list[int] = []
    count = 0
    check_width = table.form == "(XYW..XYW)"
    one_pair_fast = table.form == "(XY..XY)"
    for number, line in table.data:
        if count > MAX_POINTS:
            raise SpectrumFormatError(source, f"more than {MAX_POINTS:,} points in one table", number)
        if one_pair_fast:
            # The common "x,y" or "x, y" line, read without the general tokenising below.
            pair = line.split(",")
            if len(pair) == 2:
                try:
                    x_value, y_value = float(pair[0]), float(pair[1])
                except ValueError:
                    pass
                else:
                    count += 1
                    xs.append(x_value)
                    ys.append(y_value)
                    lines.append(number)
                    continue
        for fields in _line_tuples(line, table.form, source, number):
            count += 1
            if check_width:
                _number(fields[2], source, number, optional=True)
            try:
                x_value, y_value = float(fields[0]), float(fields[1])
            except ValueError:
                # A '?' (not measured) leaves its point out; _number names anything else.
                _number(fields[0], source, number)
                _number(fields[1], source, number)
                continue
            xs.append(x_value)
            ys.append(y_value)
            lines.append(number)
    if "NPOINTS" in table.labels and table.labels["NPOINTS"].strip():
        declared = label_integer(table, "NPOINTS", source)
        if declared != count:
            raise SpectrumFormatError(
                source,
                f"{table.name('NPOINTS')}={declared} but the table holds {count} points",
                table.label_lines.get("NPOINTS"),
            )
    if not xs:
        raise SpectrumFormatError(
            source, "empty data table" if not count else "every point is missing ('?')", table.line
        )
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64), lines


def _line_tuples(line: str, form: str, source: str, number: int) -> list[list[str]]:
    width = TUPLE_FORMS[form]
    text = line.strip()
    if "," in text:
        tuples = []
        for group in _TUPLE_SEPARATORS.split(_COMMA.sub(",", text)):
            if not group:
                continue
            fields = group.split(",")
            if len(fields) == width + 1 and fields[-1] == "":
                fields.pop()  # a comma closing the tuple, as in "x,y,"
            if len(fields) != width:
                raise SpectrumFormatError(
                    source, f"expected {width} comma-separated values, got {group!r}", number
                )
            tuples.append(fields)
        return tuples
    fields = []
    for piece in _TUPLE_SEPARATORS.split(text):
        if piece:
            # M of (XYM..XYM) is text (S, D, T...), so there a blank-separated piece is one field.
            fields.extend([piece] if form == "(XYM..XYM)" else _split_affn(piece, source, number))
    if len(fields) % width:
        raise SpectrumFormatError(
            source, f"{len(fields)} values on the line do not make whole tuples of {width}", number
        )
    return [fields[i : i + width] for i in range(0, len(fields), width)]


def _split_affn(piece: str, source: str, number: int) -> list[str]:
    try:
        float(piece)
    except ValueError:
        pass
    else:
        return [piece]
    values = []
    position = 0
    while position < len(piece):
        match = _AFFN.match(piece, position)
        if match is None:
            raise SpectrumFormatError(source, f"malformed number in {piece!r}", number)
        values.append(match.group())
        position = match.end()
    return values


def _number(text: str, source: str, number: int, *, optional: bool = False) -> float | None:
    text = text.strip()
    if text == "?" or (optional and not text):
        return None
    try:
        return float(text)
    except ValueError:
        raise SpectrumFormatError(source, f"malformed number {text!r}", number) from None
