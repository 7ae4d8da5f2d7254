"""Reader for MassBank Record Format 2.x (one or more records per file, each ended by ``//``).

Only electron-ionisation records are accepted: the other MassBank techniques (ESI MS/MS and so on)
have no counterpart in :class:`Technique`, and scoring them as EI spectra would give wrong answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from customslab.spectra.formats.files import read_record_text
from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique, check_values


def read_massbank(path: str | Path) -> list[Spectrum]:
    """Read every record of a MassBank file as an EI-MS :class:`Spectrum`."""
    return parse_massbank(read_record_text(path), str(path))


def parse_massbank(text: str, source: str = "<text>") -> list[Spectrum]:
    """Parse MassBank record text; ``source`` names it in error messages."""
    records: list[Spectrum] = []
    block: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if line == "//":
            records.append(_parse_record(block, source, number))
            block = []
        elif line:
            block.append((number, line))
    if block:
        raise SpectrumFormatError(source, "record is not terminated by '//'", block[-1][0])
    if not records:
        raise SpectrumFormatError(source, "no MassBank record found (expected 'ACCESSION:' ... '//')")
    return records


def _parse_record(lines: list[tuple[int, str]], source: str, end_line: int) -> Spectrum:
    fields: dict[str, list[tuple[int, str]]] = {}
    peaks: list[tuple[float, float]] = []
    peak_lines: list[int] = []
    table: str | None = None
    for number, line in lines:
        if line.startswith("  "):
            # Indented lines continue the table opened by the last tag (PK$PEAK, PK$ANNOTATION, ...).
            if table == "PK$PEAK":
                peaks.append(_parse_peak(line, source, number))
                peak_lines.append(number)
            elif table is None:
                raise SpectrumFormatError(source, "indented line outside a table", number)
            continue
        tag, sep, value = line.partition(": ")
        if not sep:
            if line.endswith(":"):
                tag, value = line[:-1], ""
            else:
                raise SpectrumFormatError(source, f"expected 'TAG: value', found {line[:40]!r}", number)
        table = tag
        fields.setdefault(tag, []).append((number, value.strip()))

    first_line = lines[0][0] if lines else end_line
    if "PK$PEAK" not in fields:
        raise SpectrumFormatError(source, "record has no PK$PEAK table", first_line)
    names = [value for _, value in fields.get("CH$NAME", []) if value]
    if not names:
        raise SpectrumFormatError(source, "record has no CH$NAME", first_line)
    if not peaks:
        raise SpectrumFormatError(source, "PK$PEAK table is empty", fields["PK$PEAK"][0][0])
    if "PK$NUM_PEAK" in fields:
        number, declared = fields["PK$NUM_PEAK"][0]
        if declared.upper() != "N/A" and (not declared.isdigit() or int(declared) != len(peaks)):
            raise SpectrumFormatError(
                source, f"PK$NUM_PEAK says {declared} but the PK$PEAK table has {len(peaks)} peaks", number
            )

    metadata = _metadata(fields, names, source)
    instrument_type = metadata.get("instrument_type", "")
    if instrument_type and "EI" not in instrument_type.upper().replace("-", " ").split():
        raise SpectrumFormatError(
            source,
            f"instrument type {instrument_type!r} is not electron ionisation; "
            "only EI-MS records are supported",
            fields["AC$INSTRUMENT_TYPE"][0][0],
        )
    array = np.array(peaks, dtype=np.float64)
    check_values(array[:, 0], array[:, 1], Technique.EI_MS, source=source, lines=peak_lines)
    order = np.argsort(array[:, 0], kind="stable")
    return Spectrum(
        x=array[order, 0], y=array[order, 1], technique=Technique.EI_MS, name=names[0], metadata=metadata
    )


def _parse_peak(line: str, source: str, number: int) -> tuple[float, float]:
    parts = line.split()
    if len(parts) < 2:
        raise SpectrumFormatError(source, "peak line needs 'm/z intensity [rel.int.]'", number)
    try:
        mz, intensity = float(parts[0]), float(parts[1])
    except ValueError:
        raise SpectrumFormatError(source, f"peak values are not numbers: {line.strip()!r}", number) from None
    return mz, intensity


def _subtags(fields: dict[str, list[tuple[int, str]]], tag: str) -> dict[str, tuple[int, str]]:
    """Split 'AC$MASS_SPECTROMETRY: ION_MODE POSITIVE'-style lines into {'ION_MODE': 'POSITIVE'}."""
    found: dict[str, tuple[int, str]] = {}
    for number, value in fields.get(tag, []):
        key, _, rest = value.partition(" ")
        found.setdefault(key.upper(), (number, rest.strip()))
    return found


def _metadata(fields: dict[str, list[tuple[int, str]]], names: list[str], source: str) -> dict[str, Any]:
    def first(tag: str) -> str | None:
        values = fields.get(tag)
        return values[0][1] if values else None

    metadata: dict[str, Any] = {"source": source, "format": "massbank", "synonyms": names[1:]}
    for key, tag in (
        ("accession", "ACCESSION"),
        ("title", "RECORD_TITLE"),
        ("license", "LICENSE"),
        ("authors", "AUTHORS"),
        ("copyright", "COPYRIGHT"),
        ("formula", "CH$FORMULA"),
        ("instrument", "AC$INSTRUMENT"),
        ("instrument_type", "AC$INSTRUMENT_TYPE"),
    ):
        value = first(tag)
        if value:
            metadata[key] = value
    comments = [value for _, value in fields.get("COMMENT", [])]
    if comments:
        metadata["comments"] = comments

    links = _subtags(fields, "CH$LINK")
    if "INCHIKEY" in links:
        metadata["inchikey"] = links["INCHIKEY"][1].split()[0]
    if "CAS" in links:
        numbers = links["CAS"][1].split()
        metadata["cas"] = numbers[0]
        metadata["cas_numbers"] = numbers

    ms = _subtags(fields, "AC$MASS_SPECTROMETRY")
    for key, sub in (("ion_mode", "ION_MODE"), ("ms_type", "MS_TYPE")):
        if sub in ms:
            metadata[key] = ms[sub][1]

    chromatography = _subtags(fields, "AC$CHROMATOGRAPHY")
    if "RETENTION_INDEX" in chromatography:
        number, value = chromatography["RETENTION_INDEX"]
        try:
            metadata["retention_index"] = float(value.split()[0])
        except (ValueError, IndexError):
            raise SpectrumFormatError(source, f"RETENTION_INDEX is not a number: {value!r}", number) from None
    return metadata
