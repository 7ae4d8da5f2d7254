"""NIST MSP text format: reader and writer for EI mass spectra.

MSP is loosely specified; the readers in the wild disagree on peak separators. We accept every
variant we have met: ``mz int`` pairs separated by spaces, tabs, ``;``, ``,`` or ``mz:int``, several
pairs per line, and annotations in double quotes after a pair.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from customslab.spectra.formats.files import read_record_text
from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique, check_values

_QUOTED = re.compile(r'"[^"]*"')
_SEPARATORS = re.compile(r"[\s;,:()\[\]]+")

# MSP field name (lower case, no spaces or underscores) -> metadata key.
_FIELD_KEYS = {
    "inchikey": "inchikey",
    "formula": "formula",
    "casno": "cas",
    "cas": "cas",
    "cas#": "cas",
    "ri": "retention_index",
    "retentionindex": "retention_index",
    "comment": "comments",
    "comments": "comments",
    "license": "license",
    "accession": "accession",
    "dbno": "accession",
    "authors": "authors",
    "instrumenttype": "instrument_type",
    "ionmode": "ion_mode",
    "spectrumtype": "ms_type",
}
_SYNONYM_FIELDS = {"synon", "synonym", "synonyms"}


def read_msp(path: str | Path) -> list[Spectrum]:
    """Read every record of an MSP file as an EI-MS :class:`Spectrum`."""
    return parse_msp(read_record_text(path, fallback_encoding="latin-1"), str(path))


def parse_msp(text: str, source: str = "<text>") -> list[Spectrum]:
    """Parse MSP text; records are separated by blank lines and start with ``Name:``."""
    spectra: list[Spectrum] = []
    record: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line:
            record.append((number, line))
        elif record:
            spectra.append(_parse_record(record, source))
            record = []
    if record:
        spectra.append(_parse_record(record, source))
    if not spectra:
        raise SpectrumFormatError(source, "no MSP record found (expected 'Name:' and 'Num Peaks:')")
    return spectra


def _parse_record(lines: list[tuple[int, str]], source: str) -> Spectrum:
    start = lines[0][0]
    name = ""
    metadata: dict[str, Any] = {"source": source, "format": "msp", "synonyms": []}
    extra: dict[str, str] = {}
    declared: int | None = None
    numbers: list[float] = []
    number_lines: list[int] = []
    peaks_line = start
    for index, (number, line) in enumerate(lines):
        key, sep, value = line.partition(":")
        field = key.strip().lower().replace(" ", "").replace("_", "")
        if sep and field in ("numpeaks", "numpeak"):
            try:
                declared = int(value.strip())
            except ValueError:
                raise SpectrumFormatError(source, f"Num Peaks is not an integer: {value!r}", number) from None
            peaks_line = number
            numbers, number_lines = _peak_numbers(lines[index + 1 :], source)
            break
        if not sep:
            raise SpectrumFormatError(source, f"expected 'Field: value', found {line[:40]!r}", number)
        value = value.strip()
        if field == "name":
            name = value
        elif field in _SYNONYM_FIELDS:
            metadata["synonyms"].append(value)
        elif field in _FIELD_KEYS:
            _set_field(metadata, _FIELD_KEYS[field], value, source, number)
        else:
            extra[key.strip()] = value
    if not name:
        raise SpectrumFormatError(source, "record has no 'Name:' field", start)
    if declared is None:
        raise SpectrumFormatError(source, f"record {name!r} has no 'Num Peaks:' field", start)
    if len(numbers) % 2:
        raise SpectrumFormatError(source, f"record {name!r} has an m/z without an intensity", peaks_line)
    if len(numbers) // 2 != declared:
        raise SpectrumFormatError(
            source, f"Num Peaks says {declared} but {len(numbers) // 2} peaks follow for {name!r}", peaks_line
        )
    pairs = np.array(numbers, dtype=np.float64).reshape(-1, 2)
    check_values(pairs[:, 0], pairs[:, 1], Technique.EI_MS, source=source, lines=number_lines[::2])
    if extra:
        metadata["msp_fields"] = extra
    order = np.argsort(pairs[:, 0], kind="stable")
    return Spectrum(pairs[order, 0], pairs[order, 1], Technique.EI_MS, name=name, metadata=metadata)


def _set_field(metadata: dict[str, Any], key: str, value: str, source: str, number: int) -> None:
    if key == "retention_index":
        try:
            metadata[key] = float(value.split()[0])
        except (ValueError, IndexError):
            raise SpectrumFormatError(source, f"retention index is not a number: {value!r}", number) from None
    elif key == "cas":
        # NIST writes 'CAS#: 50-00-0; NIST#: 12345' on one line.
        cas, _, rest = value.partition(";")
        metadata["cas"] = cas.strip()
        if "NIST#" in rest:
            metadata["accession"] = rest.split(":", 1)[-1].strip()
    elif key == "comments":
        metadata.setdefault("comments", []).append(value.strip('"'))
    else:
        metadata[key] = value


def _peak_numbers(lines: list[tuple[int, str]], source: str) -> tuple[list[float], list[int]]:
    """Every number after 'Num Peaks:', with the line each stands on."""
    numbers: list[float] = []
    number_lines: list[int] = []
    for number, line in lines:
        for token in _SEPARATORS.split(_QUOTED.sub(" ", line)):
            if not token:
                continue
            try:
                value = float(token)
            except ValueError:
                raise SpectrumFormatError(source, f"peak value is not a number: {token!r}", number) from None
            numbers.append(value)
            number_lines.append(number)
    return numbers, number_lines


def write_msp(spectra: Iterable[Spectrum], path: str | Path) -> None:
    """Write EI-MS spectra as MSP; floats use their shortest exact form so reading back is lossless."""
    chunks = [format_msp_record(spectrum) for spectrum in spectra]
    Path(path).write_text("\n".join(chunks), encoding="utf-8")


def format_msp_record(spectrum: Spectrum) -> str:
    """One MSP record, ending with a blank line."""
    if spectrum.technique is not Technique.EI_MS:
        raise ValueError(f"MSP holds mass spectra only, not {spectrum.technique.value}")
    if not spectrum.name or "\n" in spectrum.name:
        raise ValueError("an MSP record needs a one-line name")
    meta = spectrum.metadata
    lines = [f"Name: {spectrum.name}"]
    lines += [f"Synon: {synonym}" for synonym in meta.get("synonyms", [])]
    for label, key in (
        ("InChIKey", "inchikey"),
        ("Formula", "formula"),
        ("CASNO", "cas"),
        ("Accession", "accession"),
        ("License", "license"),
        ("Authors", "authors"),
        ("Instrument_type", "instrument_type"),
        ("Ion_mode", "ion_mode"),
        ("Spectrum_type", "ms_type"),
    ):
        if meta.get(key):
            lines.append(f"{label}: {meta[key]}")
    if meta.get("retention_index") is not None:
        lines.append(f"RI: {float(meta['retention_index'])!r}")
    lines += [f'Comments: "{comment}"' for comment in meta.get("comments", [])]
    lines += [f"{key}: {value}" for key, value in meta.get("msp_fields", {}).items()]
    lines.append(f"Num Peaks: {len(spectrum.x)}")
    lines += [
        f"{float(mz)!r} {float(intensity)!r}" for mz, intensity in zip(spectrum.x, spectrum.y, strict=True)
    ]
    return "\n".join(lines) + "\n"
