"""JCAMP-DX 4.24 / 5.x reader (XYDATA in AFFN or ASDF, XYPOINTS, PEAK TABLE, compound files).

Tolerance decisions, so that a laboratory knows what is accepted:
- the x axis of (X++(Y..Y)) data comes from FIRSTX, LASTX and NPOINTS; the X value written at the
  start of each line is checked only to within one point spacing, because writers commonly round it
  (a shifted or missing line is still caught, with its line number);
- the number of ordinates must equal NPOINTS exactly;
- a missing final ##END is accepted only at the end of the file and only when no nested block is left
  open; a ##TITLE inside an unfinished data block is an error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from customslab.spectra.formats.files import read_export_bytes
from customslab.spectra.formats.jcamp_asdf import AsdfError, decode_line
from customslab.spectra.formats.jcamp_writer import write_jcamp
from customslab.spectra.model import (
    MAX_POINTS,
    FloatArray,
    Spectrum,
    SpectrumFormatError,
    Technique,
    check_values,
)

__all__ = ["normalise_label", "parse_jcamp", "read_jcamp", "write_jcamp"]

_DATA_LABELS = {"XYDATA", "XYPOINTS", "PEAKTABLE"}
_METADATA_LABELS = {
    "TITLE": "title",
    "CASREGISTRYNO": "cas_registry_no",
    "MOLFORM": "molform",
    "NAMES": "names",
    "ORIGIN": "origin",
    "OWNER": "owner",
}
_Y_UNITS = {
    "ABSORBANCE": "absorbance",
    "TRANSMITTANCE": "transmittance",
    "REFLECTANCE": "reflectance",
    "COUNTS": "counts",
    "ARBITRARYUNITS": "arbitrary",
    "RELATIVEABUNDANCE": "relative_abundance",
}
_PAIR_SPLIT = re.compile(r"[\s;]+")


@dataclass
class _Block:
    start_line: int
    labels: dict[str, str] = field(default_factory=dict)
    label_lines: dict[str, int] = field(default_factory=dict)
    data_form: str = ""
    data_label: str = ""
    data_line: int = 0
    data: list[tuple[int, str]] = field(default_factory=list)
    children: int = 0


def normalise_label(label: str) -> str:
    """JCAMP labels compare without case, spaces, dashes, slashes and underscores (spec 4.24, 3.2)."""
    return re.sub(r"[\s\-/_]", "", label).upper()


def read_jcamp(path: str | Path, *, excitation_nm: float | None = None) -> list[Spectrum]:
    """Read every data block of a JCAMP-DX file; Raman in nm is converted when excitation_nm is given."""
    path = Path(path)
    text = read_export_bytes(path).decode("utf-8-sig", errors="replace")
    return parse_jcamp(text, str(path), excitation_nm=excitation_nm)


def parse_jcamp(text: str, source: str, *, excitation_nm: float | None = None) -> list[Spectrum]:
    """Parse JCAMP-DX text; source names the file in errors."""
    finished: list[_Block] = []
    stack: list[_Block] = []
    current_label = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("$$", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.lstrip().startswith("##"):
            if stack and stack[-1].data_label and current_label == stack[-1].data_label:
                stack[-1].data.append((number, line))
            elif stack and current_label:
                # Continuation line of a multi-line text record such as ##NAMES.
                block = stack[-1]
                block.labels[current_label] = block.labels[current_label] + "\n" + line.strip()
            elif not stack:
                raise SpectrumFormatError(source, "text before the first ##TITLE", number)
            continue
        label, sep, value = line.lstrip()[2:].partition("=")
        if not sep:
            raise SpectrumFormatError(source, f"labelled record without '=': {line.strip()[:40]!r}", number)
        key = normalise_label(label)
        value = value.strip()
        current_label = key
        if key == "TITLE":
            if stack and not _may_contain_blocks(stack[-1]):
                raise SpectrumFormatError(
                    source,
                    f"block opened at line {stack[-1].start_line} has no ##END before this ##TITLE",
                    number,
                )
            if stack:
                stack[-1].children += 1
            stack.append(_Block(start_line=number))
        elif not stack:
            raise SpectrumFormatError(source, f"##{label.strip()} before the first ##TITLE", number)
        block = stack[-1]
        if key == "END":
            finished.append(stack.pop())
            current_label = ""
            continue
        if key in _DATA_LABELS:
            if block.data_label:
                raise SpectrumFormatError(source, "a block may hold only one data table", number)
            block.data_label, block.data_form, block.data_line = key, normalise_label(value), number
        elif key == "NTUPLES":
            raise SpectrumFormatError(source, "##NTUPLES (JCAMP-DX 6, NMR) is not supported", number)
        block.labels[key] = value
        block.label_lines[key] = number
    if len(stack) > 1:
        raise SpectrumFormatError(
            source, f"file ends inside a nested block opened at line {stack[-1].start_line}; ##END missing"
        )
    if stack:
        # Only the outermost block is open at end of file: unambiguous, so the ##END is implied.
        finished.append(stack.pop())
    if not finished:
        raise SpectrumFormatError(source, "no ##TITLE: not a JCAMP-DX file")
    spectra = [_block_to_spectrum(block, source, excitation_nm) for block in finished if block.data_label]
    for block in finished:
        _check_block_count(block, source)
    if not spectra:
        raise SpectrumFormatError(source, "no ##XYDATA, ##XYPOINTS or ##PEAK TABLE found")
    spectra.sort(key=lambda s: int(s.metadata["jcamp_block_line"]))
    return spectra


def _may_contain_blocks(block: _Block) -> bool:
    return "BLOCKS" in block.labels and not block.data_label


def _check_block_count(block: _Block, source: str) -> None:
    if "BLOCKS" not in block.labels:
        return
    declared = _integer(block, "BLOCKS", source)
    if declared != block.children:
        raise SpectrumFormatError(
            source,
            f"##BLOCKS={declared} but the compound file holds {block.children} blocks",
            block.label_lines["BLOCKS"],
        )


def _float(block: _Block, key: str, source: str, default: float | None = None) -> float:
    if key not in block.labels:
        if default is None:
            raise SpectrumFormatError(source, f"required ##{key} missing in block at line {block.start_line}")
        return default
    try:
        value = float(block.labels[key].replace("D", "E").split()[0])
    except (ValueError, IndexError):
        raise SpectrumFormatError(
            source, f"##{key}={block.labels[key]!r} is not a number", block.label_lines[key]
        ) from None
    if not math.isfinite(value):
        raise SpectrumFormatError(source, f"##{key} is not finite", block.label_lines[key])
    return value


def _integer(block: _Block, key: str, source: str) -> int:
    value = _float(block, key, source)
    if value != int(value) or value < 0:
        raise SpectrumFormatError(source, f"##{key} must be a whole number", block.label_lines[key])
    return int(value)


def _technique(block: _Block, source: str) -> Technique:
    data_type = normalise_label(block.labels.get("DATATYPE", ""))
    if "INFRARED" in data_type:
        return Technique.FTIR
    if "RAMAN" in data_type:
        return Technique.RAMAN
    if "MASS" in data_type:
        return Technique.EI_MS
    if not data_type and normalise_label(block.labels.get("XUNITS", "")) in {"M/Z", "MZ"}:
        return Technique.EI_MS
    line = block.label_lines.get("DATATYPE", block.start_line)
    shown = block.labels.get("DATATYPE", "(missing)")
    raise SpectrumFormatError(
        source, f"unsupported ##DATA TYPE {shown!r}: expected infrared, Raman or mass", line
    )


def _block_to_spectrum(block: _Block, source: str, excitation_nm: float | None) -> Spectrum:
    technique = _technique(block, source)
    xfactor = _float(block, "XFACTOR", source, 1.0)
    yfactor = _float(block, "YFACTOR", source, 1.0)
    if block.data_label == "XYDATA" and block.data_form == "(X++(Y..Y))":
        # FIRSTX and LASTX are already actual abscissae; only the ordinates carry a factor.
        x, y, lines = _read_xydata(block, source)
        xfactor = 1.0
    elif block.data_form in {"(XY..XY)", "(XYW..XYW)", "(XYM..XYM)"}:
        if block.data_label == "PEAKTABLE" and technique is not Technique.EI_MS:
            raise SpectrumFormatError(
                source, "peak tables are supported for mass spectra only", block.data_line
            )
        x, y, lines = _read_pairs(block, source, width=2 if block.data_form == "(XY..XY)" else 3)
    else:
        raise SpectrumFormatError(
            source, f"unsupported data form ##{block.data_label}={block.data_form}", block.data_line
        )
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        x, y = x * xfactor, y * yfactor
        x, x_unit = _convert_x_units(x, block, technique, source, excitation_nm)
    check_values(x, y, technique, source=source, x_unit=x_unit, lines=lines)
    order = np.argsort(x, kind="stable")
    metadata: dict[str, object] = {
        "source": source,
        "format": "JCAMP-DX " + block.labels.get("JCAMPDX", "").split("$$")[0].strip(),
        "x_unit": x_unit,
        "y_unit": _Y_UNITS.get(
            normalise_label(block.labels.get("YUNITS", "")), block.labels.get("YUNITS", "")
        ),
        "jcamp_block_line": block.start_line,
        "jcamp_labels": {k: v for k, v in block.labels.items() if k not in _DATA_LABELS},
    }
    if excitation_nm is not None and technique is Technique.RAMAN:
        metadata["excitation_nm"] = excitation_nm
    for key, meta_key in _METADATA_LABELS.items():
        if key in block.labels:
            metadata[meta_key] = block.labels[key]
    names = block.labels.get("NAMES", "").strip().splitlines()
    name = names[0].strip() if names and names[0].strip() else block.labels.get("TITLE", "")
    return Spectrum(x=x[order], y=y[order], technique=technique, name=name, metadata=metadata)


def _convert_x_units(
    x: FloatArray, block: _Block, technique: Technique, source: str, excitation_nm: float | None
) -> tuple[FloatArray, str]:
    unit = normalise_label(block.labels.get("XUNITS", ""))
    if technique is Technique.EI_MS:
        return x, "m/z"
    if unit in {"1CM", "CM1", "CM-1", "WAVENUMBERS", ""}:
        return x, "cm-1"
    if unit in {"MICROMETERS", "MICRONS", "UM"}:
        if np.any(x <= 0):
            raise SpectrumFormatError(
                source, "non-positive wavelength in micrometres", block.label_lines["XUNITS"]
            )
        return 1e4 / x, "cm-1"
    if unit in {"NANOMETERS", "NM"}:
        if np.any(x <= 0):
            raise SpectrumFormatError(
                source, "non-positive wavelength in nanometres", block.label_lines["XUNITS"]
            )
        if technique is Technique.RAMAN:
            if excitation_nm is None:
                return x, "nm"
            return 1e7 / excitation_nm - 1e7 / x, "cm-1"
        return 1e7 / x, "cm-1"
    raise SpectrumFormatError(
        source, f"unsupported ##XUNITS={block.labels['XUNITS']!r}", block.label_lines["XUNITS"]
    )


def _read_xydata(block: _Block, source: str) -> tuple[FloatArray, FloatArray, list[int]]:
    npoints = _integer(block, "NPOINTS", source)
    if npoints > MAX_POINTS:
        raise SpectrumFormatError(
            source,
            f"##NPOINTS={npoints}: at most {MAX_POINTS:,} points are accepted",
            block.label_lines["NPOINTS"],
        )
    firstx = _float(block, "FIRSTX", source)
    xfactor = _float(block, "XFACTOR", source, 1.0)
    if "LASTX" in block.labels:
        lastx = _float(block, "LASTX", source)
    else:
        lastx = firstx + _float(block, "DELTAX", source) * (npoints - 1)
    ys: list[float] = []
    y_lines: list[int] = []
    line_starts: list[tuple[int, int, float]] = []
    previous_ended_in_dif = False
    for number, line in block.data:
        try:
            decoded = decode_line(line)
        except AsdfError as exc:
            raise SpectrumFormatError(source, str(exc), number) from None
        values = decoded.ys
        index = len(ys)
        if previous_ended_in_dif:
            if not values:
                raise SpectrumFormatError(source, "Y-value check missing after a line in DIF form", number)
            if not math.isclose(values[0], ys[-1], rel_tol=1e-9, abs_tol=1e-9):
                raise SpectrumFormatError(
                    source,
                    f"DIF Y-value check failed: line starts with {values[0]:g} but the previous line "
                    f"ended with {ys[-1]:g}",
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
                source, f"##NPOINTS={npoints} but the table holds more than {npoints + 1} Y values", number
            )
    if len(ys) != npoints:
        raise SpectrumFormatError(
            source,
            f"##NPOINTS={npoints} but the table holds {len(ys)} Y values",
            block.label_lines["NPOINTS"],
        )
    if npoints == 0:
        raise SpectrumFormatError(source, "empty spectrum (##NPOINTS=0)", block.data_line)
    step = (lastx - firstx) / (npoints - 1) if npoints > 1 else 0.0
    tolerance = abs(step) * (1 + 1e-6) + 1e-9 * max(abs(firstx), abs(lastx))
    for number, index, line_x in line_starts:
        expected = firstx + index * step
        if abs(line_x - expected) > tolerance:
            raise SpectrumFormatError(
                source,
                f"line X={line_x:g} does not match point {index + 1} of FIRSTX..LASTX "
                f"(expected {expected:g})",
                number,
            )
    x = np.linspace(firstx, lastx, npoints) if npoints > 1 else np.array([firstx])
    return x, np.asarray(ys, dtype=np.float64), y_lines


def _read_pairs(block: _Block, source: str, width: int) -> tuple[FloatArray, FloatArray, list[int]]:
    xs: list[float] = []
    ys: list[float] = []
    lines: list[int] = []
    for number, line in block.data:
        for group in _PAIR_SPLIT.split(line.strip()):
            if not group:
                continue
            fields = group.split(",")
            if len(fields) != width:
                raise SpectrumFormatError(
                    source, f"expected {width} comma-separated values, got {group!r}", number
                )
            try:
                x_value, y_value = float(fields[0]), float(fields[1])
            except ValueError:
                raise SpectrumFormatError(source, f"malformed number in {group!r}", number) from None
            xs.append(x_value)
            ys.append(y_value)
            lines.append(number)
    if "NPOINTS" in block.labels and _integer(block, "NPOINTS", source) != len(xs):
        raise SpectrumFormatError(
            source,
            f"##NPOINTS={block.labels['NPOINTS']} but the table holds {len(xs)} points",
            block.label_lines["NPOINTS"],
        )
    if not xs:
        raise SpectrumFormatError(source, "empty data table", block.data_line)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64), lines
