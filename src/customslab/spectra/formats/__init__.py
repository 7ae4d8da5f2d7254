"""Spectrum file readers; `read_spectra` recognises the format from the content and the extension."""

from __future__ import annotations

import re
from pathlib import Path

from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique

__all__ = ["detect_format", "read_spectra"]

_SNIFF_BYTES = 65536
_JCAMP_SUFFIXES = {".jdx", ".dx", ".jcamp", ".jcm"}
_MSP_NAME = re.compile(r"^name\s*:", re.IGNORECASE | re.MULTILINE)
_MSP_PEAKS = re.compile(r"^num\s*peaks\s*:", re.IGNORECASE | re.MULTILINE)


def detect_format(path: str | Path) -> str:
    """One of 'jcamp', 'massbank', 'msp', 'wide', 'two-column'; SpectrumFormatError when none fits."""
    from customslab.spectra.formats.delimited import looks_like_wide_table

    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise SpectrumFormatError(str(path), f"cannot read file: {exc.strerror or exc}") from None
    if b"\x00" in head:
        raise SpectrumFormatError(str(path), "binary file: export the spectrum as JCAMP-DX or CSV")
    text = head.decode("utf-8-sig", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise SpectrumFormatError(str(path), "empty file")
    first = lines[0].lstrip()
    if first.startswith("##"):
        return "jcamp"
    if path.suffix.lower() in _JCAMP_SUFFIXES:
        raise SpectrumFormatError(str(path), "named as JCAMP-DX but does not start with a ##TITLE record", 1)
    if first.startswith("ACCESSION:") or "\nPK$PEAK:" in text or "\nCH$NAME:" in text:
        return "massbank"
    if _MSP_NAME.search(text) and _MSP_PEAKS.search(text):
        return "msp"
    if looks_like_wide_table(lines[:1]):
        return "wide"
    if any(c.isdigit() for c in lines[-1]):
        return "two-column"
    raise SpectrumFormatError(
        str(path), "unknown spectrum format (expected JCAMP-DX, MassBank, MSP or CSV/TXT)"
    )


def read_spectra(
    path: str | Path,
    *,
    technique: Technique | None = None,
    excitation_nm: float | None = None,
) -> list[Spectrum]:
    """Read every spectrum in a file of any supported format; unknown content raises SpectrumFormatError."""
    kind = detect_format(path)
    if kind == "jcamp":
        from customslab.spectra.formats.jcamp import read_jcamp

        return read_jcamp(path, excitation_nm=excitation_nm)
    if kind == "massbank":
        from customslab.spectra.formats.massbank import read_massbank

        return read_massbank(path)
    if kind == "msp":
        from customslab.spectra.formats.msp import read_msp

        return read_msp(path)
    from customslab.spectra.formats.delimited import read_two_column, read_wide_table

    if kind == "wide":
        return read_wide_table(path, technique=technique or Technique.RAMAN)
    return read_two_column(path, technique=technique, excitation_nm=excitation_nm)
