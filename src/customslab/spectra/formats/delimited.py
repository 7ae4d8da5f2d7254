"""Delimited text spectra: two-column CSV/TXT, and wide tables (RaMPP: x column WN, one spectrum a column).

Decimal commas are accepted only where they cannot be confused with the field separator: with
semicolon, tab or whitespace separators. A comma-separated line with more than two fields is
ambiguous ("1,5,2") and rejected rather than guessed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from customslab.spectra.formats.files import read_export_bytes
from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique, check_values

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_X_UNITS = {
    "cm-1": "cm-1",
    "cm^-1": "cm-1",
    "1/cm": "cm-1",
    "cm⁻¹": "cm-1",
    "wavenumber": "cm-1",
    "wavenumbers": "cm-1",
    "ramanshift": "cm-1",
    "wn": "cm-1",
    "nm": "nm",
    "wavelength": "nm",
    "µm": "um",
    "μm": "um",
    "um": "um",
    "micrometers": "um",
    "m/z": "m/z",
    "mz": "m/z",
    "mass": "m/z",
}
_Y_UNITS = {
    "a": "absorbance",
    "abs": "absorbance",
    "absorbance": "absorbance",
    "%t": "percent_transmittance",
    "t%": "percent_transmittance",
    "%transmittance": "percent_transmittance",
    "transmittance": "transmittance",
    "t": "transmittance",
    "r": "reflectance",
    "reflectance": "reflectance",
    "intensity": "intensity",
    "int": "intensity",
    "counts": "intensity",
    "abundance": "intensity",
}


@dataclass(frozen=True)
class _Table:
    header: list[str] | None
    rows: list[list[float]]
    lines: list[int]  # the file line of each row


def _unit_key(text: str) -> str:
    key = text.strip().strip('"').strip().lower()
    # "Wavenumber (cm-1)" or "Intensity [a.u.]": the unit in brackets wins, then the words before it.
    bracket = re.search(r"[\(\[]([^\)\]]*)[\)\]]", key)
    if bracket and bracket.group(1).strip().replace(" ", "") in {**_X_UNITS, **_Y_UNITS}:
        return bracket.group(1).strip().replace(" ", "")
    return re.sub(r"[\(\[].*", "", key).strip().replace(" ", "").replace("_", "")


def _separator(line: str) -> tuple[str | None, bool]:
    """The field separator of a data line (None: whitespace) and whether decimal commas are allowed."""
    if ";" in line:
        return ";", True
    if "\t" in line:
        return "\t", True
    if "," in line:
        fields = line.split(",")
        if len(fields) == 2 or (len(fields) > 2 and not any(" " in f.strip() for f in fields)):
            return ",", False
        return None, True
    return None, True


def _split(line: str, sep: str | None) -> list[str]:
    fields = line.split(sep) if sep else line.split()
    return [f.strip() for f in fields]


def _parse_number(text: str, decimal_comma: bool) -> float | None:
    if decimal_comma and "," in text and "." not in text:
        text = text.replace(",", ".")
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _read_lines(path: Path) -> list[str]:
    data = read_export_bytes(path)
    if b"\x00" in data:
        raise SpectrumFormatError(str(path), "binary file, not delimited text")
    return data.decode("utf-8-sig", errors="replace").splitlines()


def _table(path: Path) -> _Table:
    source = str(path)
    lines = [
        (n, ln)
        for n, ln in enumerate(_read_lines(path), start=1)
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if not lines:
        raise SpectrumFormatError(source, "no data lines")
    header: list[str] | None = None
    first_number, first_line = lines[0]
    data_lines = lines
    sep, decimal_comma = _separator(lines[1][1] if len(lines) > 1 else first_line)
    fields = _split(first_line, sep)
    if any(_parse_number(f, decimal_comma) is None for f in fields if f):
        header = fields
        while header and header[-1] == "":
            header.pop()  # a trailing separator leaves an empty last column (RaMPP's SW file has one)
        data_lines = lines[1:]
    rows: list[list[float]] = []
    row_lines: list[int] = []
    width = len(header) if header is not None else None
    for number, line in data_lines:
        fields = _split(line, sep)
        while fields and fields[-1] == "" and (width is None or len(fields) > width):
            fields.pop()
        if width is None:
            width = len(fields)
        if len(fields) != width:
            raise SpectrumFormatError(source, f"expected {width} fields, found {len(fields)}", number)
        values = [_parse_number(f, decimal_comma) for f in fields]
        if any(v is None for v in values):
            bad = next(f for f, v in zip(fields, values, strict=True) if v is None)
            raise SpectrumFormatError(source, f"not a finite number: {bad[:30]!r}", number)
        rows.append([v for v in values if v is not None])
        row_lines.append(number)
    if not rows:
        raise SpectrumFormatError(source, "header but no data lines", first_number)
    if header is not None and width is not None:
        if sep is None and len(header) != width:
            # "Wavenumber (cm-1)  Absorbance": words inside a column name, columns apart by 2+ spaces or tabs
            header = [f.strip() for f in re.split(r"\s{2,}|\t", lines[0][1].strip())]
        if len(header) != width:
            raise SpectrumFormatError(source, f"header has {len(header)} fields, data {width}", first_number)
    return _Table(header=header, rows=rows, lines=row_lines)


def _technique(technique: Technique | None, x_unit: str, y_unit: str, path: Path) -> Technique:
    if technique is not None:
        return technique
    if y_unit in {"absorbance", "transmittance", "percent_transmittance", "reflectance"}:
        return Technique.FTIR
    if x_unit == "m/z":
        return Technique.EI_MS
    stem = path.name.lower()
    if "raman" in stem or y_unit == "intensity":
        return Technique.RAMAN
    if "ftir" in stem or "atr" in stem:
        return Technique.FTIR
    raise SpectrumFormatError(str(path), "cannot tell the technique from the header; pass technique=")


def _convert_x(
    x: np.ndarray, x_unit: str, technique: Technique, excitation_nm: float | None, source: str
) -> tuple[np.ndarray, str]:
    if x_unit == "um":
        if np.any(x <= 0):
            raise SpectrumFormatError(source, "non-positive wavelength in micrometres")
        return 1e4 / x, "cm-1"
    if x_unit == "nm":
        if np.any(x <= 0):
            raise SpectrumFormatError(source, "non-positive wavelength in nanometres")
        if technique is Technique.RAMAN:
            if excitation_nm is None:
                return x, "nm"  # preprocessing converts once the excitation wavelength is known
            return 1e7 / excitation_nm - 1e7 / x, "cm-1"
        return 1e7 / x, "cm-1"
    return x, x_unit


def read_two_column(
    path: str | Path,
    *,
    technique: Technique | None = None,
    excitation_nm: float | None = None,
) -> list[Spectrum]:
    """Read an x,y text file; units from the header; Raman in nm is converted when excitation_nm is given."""
    path = Path(path)
    table = _table(path)
    if len(table.rows[0]) != 2:
        raise SpectrumFormatError(str(path), f"expected two columns, found {len(table.rows[0])}")
    x_key = _unit_key(table.header[0]) if table.header else ""
    y_key = _unit_key(table.header[1]) if table.header else ""
    if table.header is not None and (x_key not in _X_UNITS or y_key not in _Y_UNITS):
        raise SpectrumFormatError(str(path), f"unrecognised column units {table.header!r}", 1)
    x_unit = _X_UNITS.get(x_key, "cm-1" if technique is not Technique.EI_MS else "m/z")
    y_unit = _Y_UNITS.get(y_key, "intensity")
    kind = _technique(technique, x_unit if table.header else "", y_unit if table.header else "", path)
    data = np.asarray(table.rows, dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore"):
        x, final_unit = _convert_x(data[:, 0], x_unit, kind, excitation_nm, str(path))
    check_values(x, data[:, 1], kind, source=str(path), x_unit=final_unit, lines=table.lines)
    order = np.argsort(x, kind="stable")
    metadata: dict[str, object] = {
        "source": str(path),
        "format": "delimited",
        "x_unit": final_unit,
        "x_unit_original": x_unit,
        "y_unit": y_unit,
    }
    if excitation_nm is not None and kind is Technique.RAMAN:
        metadata["excitation_nm"] = excitation_nm
    return [Spectrum(x=x[order], y=data[order, 1], technique=kind, name=path.stem, metadata=metadata)]


def read_wide_table(path: str | Path, *, technique: Technique = Technique.RAMAN) -> list[Spectrum]:
    """Read a wide table (RaMPP: `WN;PS V1;...`): one spectrum per column after x, named by its header."""
    path = Path(path)
    table = _table(path)
    if table.header is None or len(table.header) < 2:
        raise SpectrumFormatError(str(path), "a wide table needs a header naming each spectrum", 1)
    x_key = _unit_key(table.header[0])
    if x_key not in _X_UNITS:
        raise SpectrumFormatError(str(path), f"first column {table.header[0]!r} is not an x axis", 1)
    data = np.asarray(table.rows, dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore"):
        x, x_unit = _convert_x(data[:, 0], _X_UNITS[x_key], technique, None, str(path))
    order = np.argsort(x, kind="stable")
    spectra = []
    for column, name in enumerate(table.header[1:], start=1):
        if not name:
            raise SpectrumFormatError(str(path), f"column {column + 1} has no name", 1)
        try:
            check_values(x, data[:, column], technique, source=str(path), x_unit=x_unit, lines=table.lines)
        except SpectrumFormatError as exc:
            raise SpectrumFormatError(exc.source, f"column {name!r}, {exc.problem}", exc.line) from None
        metadata = {
            "source": str(path),
            "format": "wide table",
            "x_unit": x_unit,
            "y_unit": "intensity",
            "column": column,
        }
        spectra.append(
            Spectrum(x=x[order], y=data[order, column], technique=technique, name=name, metadata=metadata)
        )
    return spectra


def looks_like_wide_table(lines: list[str]) -> bool:
    """A header line whose first field names an x axis and which has more than two fields."""
    if not lines:
        return False
    sep, _ = _separator(lines[0])
    fields = _split(lines[0], sep)
    return len([f for f in fields if f]) > 2 and _unit_key(fields[0]) in _X_UNITS
