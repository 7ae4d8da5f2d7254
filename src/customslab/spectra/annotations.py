"""Metadata tables that annotate spectrum files: names, identity labels, descriptions and licences.

Instrument exports and public data sets often keep the identity of each spectrum outside the file (a
spreadsheet of sample, polymer, treatment...). A metadata table is a CSV with a ``file`` column (the
spectrum file's name) and any of the columns in :data:`ENTRY_COLUMNS`; other columns are kept under
``extra`` in the library entry, so nothing is lost. ``label`` is the identity a search answers with
(for polymers the polymer class, e.g. PE for LDPE and HDPE).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from customslab.spectra.model import Spectrum, SpectrumFormatError

ENTRY_COLUMNS = ("name", "label", "description", "inchikey", "formula", "cas", "license", "authors")
_ALIASES = {"licence": "license", "compound": "name", "class": "label", "polymer": "label"}

Annotations = Mapping[str, Mapping[str, Any]]


def read_metadata_table(path: str | Path) -> dict[str, dict[str, Any]]:
    """Rows of a metadata table keyed by file name; a missing ``file`` column or a repeated file fails."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
            header = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SpectrumFormatError(str(path), f"cannot read the metadata table: {exc}") from None
    columns = {name: _ALIASES.get(name.strip().lower(), name.strip().lower()) for name in header if name}
    if "file" not in columns.values():
        raise SpectrumFormatError(str(path), "a metadata table needs a 'file' column", 1)
    table: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(rows, start=2):
        record: dict[str, Any] = {}
        extra: dict[str, str] = {}
        for column, field in columns.items():
            value = (row.get(column) or "").strip()
            if not value:
                continue
            if field in ENTRY_COLUMNS or field == "file":
                record[field] = value
            else:
                extra[column.strip()] = value
        file = record.pop("file", "")
        if not file:
            raise SpectrumFormatError(str(path), "the 'file' cell is empty", line)
        name = Path(file).name
        if name in table:
            raise SpectrumFormatError(str(path), f"file {name!r} appears twice", line)
        if extra:
            record["extra"] = extra
        table[name] = record
    return table


def annotate(
    spectra: Iterable[Spectrum],
    table: Annotations | None = None,
    *,
    defaults: Mapping[str, Any] | None = None,
    strict: bool = True,
) -> None:
    """Copy each spectrum's row (matched by its source file's name) into its metadata, then defaults.

    With ``strict``, rows naming files that are not among the spectra raise a clear error: a typo in
    the table must not silently leave spectra unlabelled.
    """
    spectra = list(spectra)
    used: set[str] = set()
    for spectrum in spectra:
        file = Path(str(spectrum.metadata.get("source", ""))).name
        row = (table or {}).get(file)
        if row is not None:
            used.add(file)
            for field, value in row.items():
                if field == "name":
                    spectrum.name = str(value)
                else:
                    spectrum.metadata[field] = value
        for field, value in (defaults or {}).items():
            if spectrum.metadata.get(field) in (None, ""):
                spectrum.metadata[field] = value
    missing = sorted(set(table or {}) - used)
    if strict and missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise SpectrumFormatError("metadata table", f"no spectrum file named {shown} among the sources")
