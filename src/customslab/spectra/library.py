"""Build, open and edit spectral libraries; search lives in :mod:`customslab.spectra.search`.

Public API::

    library = build_library([Path("massbank-ei"), Path("polymers.jdx")], Path("var/library/x"))
    library = open_library(Path("var/library/x"))
    library.library_id        # content hash, new after every add/remove
    add_to_library(path, [files]) / remove_from_library(path, [entry keys]) -> Library
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from customslab.spectra import scoring_ms, vib_features
from customslab.spectra.annotations import Annotations, annotate
from customslab.spectra.library_store import (
    VIB_TECHNIQUES,
    Library,
    LibraryError,
    MSArrays,
    entry_key,
    open_library,
    write_library,
)
from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique

__all__ = [
    "Library",
    "LibraryError",
    "add_to_library",
    "build_library",
    "collect_spectrum_files",
    "open_library",
    "read_any",
    "remove_from_library",
]

# Files that live beside spectra in data folders but are not spectra.
_NOT_SPECTRA_SUFFIXES = {".md", ".pdf", ".json", ".yaml", ".yml", ".py", ".r", ".rd", ".zip", ".gz"}
_NOT_SPECTRA_STEMS = (
    "license",
    "readme",
    "subset_metadata",
    "metadata",
    "citation",
    "changelog",
    "description",
    "components",
)


def collect_spectrum_files(sources: Iterable[str | Path]) -> list[Path]:
    """Files given directly, plus every plausible spectrum file under the given folders (sorted)."""
    files: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            for candidate in sorted(p for p in path.rglob("*") if p.is_file()):
                name = candidate.name.lower()
                if (
                    candidate.suffix.lower() in _NOT_SPECTRA_SUFFIXES
                    or name.startswith(_NOT_SPECTRA_STEMS)
                    or name.startswith(".")
                ):
                    continue
                files.append(candidate)
        elif path.is_file():
            files.append(path)
        else:
            raise SpectrumFormatError(str(path), "no such file or folder")
    return files


def read_any(path: str | Path, *, excitation_nm: float | None = None) -> list[Spectrum]:
    """Read a spectrum file of any supported format (format detected from content).

    ``excitation_nm`` converts Raman spectra recorded in nm to Raman shift.
    """
    from customslab.spectra.formats import read_spectra

    spectra = read_spectra(path, excitation_nm=excitation_nm)
    for spectrum in spectra:
        spectrum.metadata.setdefault("source", str(path))
    return spectra


def _entry(spectrum: Spectrum) -> dict[str, Any]:
    meta = spectrum.metadata
    ri = meta.get("retention_index")
    entry: dict[str, Any] = {
        "technique": spectrum.technique.value,
        "name": spectrum.name or Path(str(meta.get("source", "unnamed"))).stem,
        "synonyms": list(meta.get("synonyms", [])),
        "inchikey": meta.get("inchikey"),
        "formula": meta.get("formula"),
        "cas": meta.get("cas"),
        "retention_index": float(ri) if ri is not None else None,
        "source_file": str(meta.get("source", "")),
        "license": meta.get("license"),
        "accession": meta.get("accession"),
        "authors": meta.get("authors"),
    }
    for field in ("label", "description", "citation", "extra"):
        if meta.get(field):
            entry[field] = meta[field]
    entry["key"] = entry_key(entry, spectrum.x, spectrum.y)
    return entry


def _ms_arrays(peaks: list[scoring_ms.EIPeaks], rows: list[int]) -> MSArrays:
    if not peaks:
        return MSArrays.empty()
    counts = np.array([p.mz.size for p in peaks], dtype=np.int64)
    mz = np.concatenate([p.mz for p in peaks]) if counts.sum() else np.zeros(0)
    return MSArrays(
        np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        mz.astype(np.uint16),
        np.concatenate([p.intensity for p in peaks]).astype(np.float32),
        np.array([p.low_mz for p in peaks], dtype=np.float32),
        np.array([np.nan if p.retention_index is None else p.retention_index for p in peaks]),
        np.array(rows, dtype=np.int64),
    )


def _prepare(
    spectra: Sequence[Spectrum], first_row: int
) -> tuple[list[dict[str, Any]], MSArrays, dict[Technique, tuple[list[np.ndarray], list[int]]]]:
    entries: list[dict[str, Any]] = []
    ms_peaks: list[scoring_ms.EIPeaks] = []
    ms_rows: list[int] = []
    vib: dict[Technique, tuple[list[np.ndarray], list[int]]] = {}
    for spectrum in spectra:
        row = first_row + len(entries)
        source = str(spectrum.metadata.get("source", spectrum.name))
        if spectrum.technique is Technique.EI_MS:
            peaks = scoring_ms.prepare_ei(spectrum)
            if peaks.mz.size and peaks.mz.max() > 65535:
                raise SpectrumFormatError(source, "m/z above 65535 cannot be stored at unit resolution")
            if peaks.mz.size == 0:
                raise SpectrumFormatError(source, "mass spectrum has no peak with intensity > 0")
            ms_peaks.append(peaks)
            ms_rows.append(row)
        else:
            vector = vib_features.features(spectrum).vector
            vectors, rows = vib.setdefault(spectrum.technique, ([], []))
            vectors.append(np.asarray(vector, dtype=np.float32))
            rows.append(row)
        entries.append(_entry(spectrum))
    return entries, _ms_arrays(ms_peaks, ms_rows), vib


def _settings() -> dict[str, Any]:
    return {
        "ms_nominal_mass": "rint",
        "ms_min_relative": scoring_ms.DEFAULT_MIN_RELATIVE,
        "ms_mz_power": scoring_ms.DEFAULT_MZ_POWER,
        "ms_intensity_power": scoring_ms.DEFAULT_INTENSITY_POWER,
        "ms_low_mz_grid": scoring_ms.LOW_MZ_GRID.tolist(),
        "vib_methods": vib_features.method_settings(),
    }


def _write(
    out: Path,
    entries: list[dict[str, Any]],
    ms_parts: list[MSArrays],
    vib_parts: dict[Technique, list[tuple[np.ndarray, np.ndarray]]],
) -> Library:
    vib: dict[Technique, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for technique, parts in vib_parts.items():
        matrices = [m for m, _ in parts if len(m)]
        if matrices:
            rows = np.concatenate([r for _, r in parts if len(r)])
            vib[technique] = (np.vstack(matrices), rows, vib_features.axis(technique))
    return write_library(out, entries, MSArrays.concat(ms_parts), vib, _settings())


def _read_all(sources: Iterable[str | Path], excitation_nm: float | None = None) -> list[Spectrum]:
    files = collect_spectrum_files(sources)
    if not files:
        raise SpectrumFormatError(", ".join(str(s) for s in sources), "no spectrum files found")
    spectra: list[Spectrum] = []
    for file in files:
        spectra.extend(read_any(file, excitation_nm=excitation_nm))
    return spectra


def build_library(
    sources: Iterable[str | Path],
    out: str | Path,
    *,
    excitation_nm: float | None = None,
    metadata: Annotations | None = None,
    license: str | None = None,
) -> Library:
    """Read every spectrum under ``sources`` and write a new library at ``out`` (replacing it).

    ``metadata`` (from :func:`customslab.spectra.annotations.read_metadata_table`) names, labels and
    describes the spectra by file; ``license`` applies to every entry whose file states none.
    """
    spectra = _read_all(list(sources), excitation_nm)
    if metadata is not None or license:
        annotate(spectra, metadata, defaults={"license": license} if license else None)
    return build_library_from_spectra(spectra, out)


def build_library_from_spectra(spectra: Sequence[Spectrum], out: str | Path) -> Library:
    """Write a library holding exactly ``spectra``."""
    entries, ms, vib = _prepare(spectra, 0)
    vib_parts = {t: [(np.array(v, dtype=np.float32), np.array(r))] for t, (v, r) in vib.items()}
    return _write(Path(out), entries, [ms], vib_parts)


def add_to_library(path: str | Path, sources: Iterable[str | Path] | Sequence[Spectrum]) -> Library:
    """Append spectra (objects, or files/folders to read) to an existing library; returns the new version."""
    items = list(sources)
    spectra = items if items and isinstance(items[0], Spectrum) else _read_all(items)  # type: ignore[arg-type]
    library = open_library(path)
    old_entries = library.entries()
    entries, ms, vib = _prepare(spectra, len(old_entries))  # type: ignore[arg-type]
    vib_parts: dict[Technique, list[tuple[np.ndarray, np.ndarray]]] = {}
    for technique in VIB_TECHNIQUES:
        existing = library.vib(technique)
        if existing is not None:
            vib_parts.setdefault(technique, []).append((np.asarray(existing[0]), np.asarray(existing[1])))
        if technique in vib:
            vectors, rows = vib[technique]
            vib_parts.setdefault(technique, []).append((np.array(vectors), np.array(rows)))
    ms_parts = [_materialise(library.ms_arrays()), ms]
    return _write(Path(path), old_entries + entries, ms_parts, vib_parts)


def _materialise(ms: MSArrays) -> MSArrays:
    return ms.take(np.arange(len(ms.rows)))


def remove_from_library(path: str | Path, keys: Iterable[str]) -> Library:
    """Remove the entries with these keys; unknown keys raise LibraryError and change nothing."""
    library = open_library(path)
    entries = library.entries()
    wanted = set(keys)
    unknown = wanted - {e["key"] for e in entries}
    if unknown:
        raise LibraryError(f"no entry with key {', '.join(sorted(unknown))} in {path}")
    keep_rows = np.array([i for i, e in enumerate(entries) if e["key"] not in wanted], dtype=np.int64)
    new_row = np.full(len(entries), -1, dtype=np.int64)
    new_row[keep_rows] = np.arange(keep_rows.size)
    ms = library.ms_arrays()
    ms_keep = np.flatnonzero(new_row[np.asarray(ms.rows)] >= 0)
    kept_ms = ms.take(ms_keep)
    kept_ms.rows = new_row[kept_ms.rows]
    vib_parts: dict[Technique, list[tuple[np.ndarray, np.ndarray]]] = {}
    for technique in VIB_TECHNIQUES:
        existing = library.vib(technique)
        if existing is not None:
            rows = new_row[np.asarray(existing[1])]
            vib_parts[technique] = [(np.asarray(existing[0])[rows >= 0], rows[rows >= 0])]
    return _write(Path(path), [entries[i] for i in keep_rows], [kept_ms], vib_parts)
