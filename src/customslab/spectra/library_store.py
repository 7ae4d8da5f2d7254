"""On-disk spectral library: memory-mapped NumPy arrays, a JSON-lines metadata table and a manifest.

Layout of a library folder (format version 6):

- ``manifest.json``: format version, library id (content hash; changes with every edit), counts
  per technique, the preprocessing settings and the data licences;
- ``entries.jsonl`` + ``entries_offsets.npy``: one metadata object per entry, read by seeking, so
  opening a million-entry library does not parse a million lines;
- EI-MS, CSR style: ``ms_indptr`` (int64), ``ms_mz`` (uint16 nominal m/z), ``ms_int`` (float32,
  max 1), ``ms_p`` (float32 entropy-weighted probabilities), per spectrum ``ms_rows`` (entry row),
  ``ms_low`` (scan-start grid index, int8, never above the lowest peak), ``ms_ri`` (float64, NaN
  when unknown), ``ms_norms`` (float32, Σw² above each LOW_MZ_GRID cut, shape cuts × spectra);
- the inverted m/z index over the same peaks: ``inv_indptr`` (per nominal m/z), ``inv_ids``
  (int32 spectrum), ``inv_w`` (float32 weight I^a·m^b), ``inv_p`` (float32) and ``inv_plogp``
  (float32 p·log2 p, so the entropy search takes one logarithm per entry);
- the common-ion sketch of the entropy search: ``ms_sketch_mz`` (uint16, the SKETCH_COLUMNS m/z with
  the longest posting lists, ascending), ``ms_sketch`` (uint8, spectra × columns: each spectrum's p at
  those m/z as a code of :data:`SKETCH_EDGES`, 0 where it has no peak; two cache lines per spectrum),
  ``ms_sketch_groups`` (uint8, groups of SKETCH_GROUP columns × spectra: p summed over each group, a
  code of :data:`SKETCH_EDGES`; one row per group, so the search streams the rows of the groups it
  needs) and ``ms_sketch_mass`` (uint8, p summed over all the columns, a code
  of :data:`SKETCH_MASS_EDGES`). Codes name the least edge at or above the value, so the search bounds
  the entropy terms of a column from a code without reading the list;
- FTIR/Raman: ``vib_<TECHNIQUE>.npy`` (float32 rows of vib_features.features: the spectrum and its
  derivative block), ``..._rows.npy``, ``..._axis.npy``, ``..._span.npy`` (first and last axis index
  each row measured, int32), ``..._sums.npy`` (Σ row and Σ row², float64, for masked scoring) and
  ``..._ident.npy`` (int32 identity code per row, for the confidence's lead over other identities).
  The manifest keeps the FTIR/Raman preprocessing; a library built with other settings is refused.

Every array is read with ``mmap_mode="r"`` and ``allow_pickle=False``. Writes go to a sibling temporary
folder that replaces the library only when complete, so a failed build leaves the old one intact.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from customslab.spectra import model, scoring_ms, scoring_vib, vib_features
from customslab.spectra.model import Technique

FORMAT_VERSION = 6
#: Columns of the common-ion sketch (two cache lines per spectrum), and columns per group of it.
SKETCH_COLUMNS = 128
SKETCH_GROUP = 8
#: Upper edges of the sketch's p codes: 0 (no peak), then 1/16-octave steps from 2^(−254/16) to
#: 2^(−1/16), and last 1 + 2⁻²⁰ (float32 rounding may leave a lone peak's p a hair above 1).
SKETCH_EDGES = np.concatenate(([0.0], 2.0 ** (np.arange(-254, 0) / 16.0), [1.0 + 2.0**-20]))
#: Upper edges of the codes of a spectrum's p summed over the sketch columns: steps of 1/255.
SKETCH_MASS_EDGES = np.concatenate((np.arange(255) / 255.0, [1.0 + 2.0**-20]))
MAX_MZ = int(model.MAX_MZ)  # ms_mz is uint16; readers refuse any m/z above it
VIB_TECHNIQUES = (Technique.FTIR, Technique.RAMAN)


class LibraryError(ValueError):
    """A library folder is missing, incomplete or of an unknown format version."""


@dataclass
class MSArrays:
    """Preprocessed EI-MS peaks in CSR form (rows of ``entries``)."""

    indptr: np.ndarray
    mz: np.ndarray
    intensity: np.ndarray
    low_mz: np.ndarray
    retention_index: np.ndarray
    rows: np.ndarray

    @classmethod
    def empty(cls) -> MSArrays:
        return cls(
            np.zeros(1, np.int64),
            np.zeros(0, np.uint16),
            np.zeros(0, np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.float64),
            np.zeros(0, np.int64),
        )

    def take(self, keep: np.ndarray) -> MSArrays:
        """The subset of spectra ``keep`` (indices into this set), in that order."""
        starts, ends = self.indptr[keep], self.indptr[keep + 1]
        counts = ends - starts
        positions = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(
            int(counts.sum())
        )
        return MSArrays(
            np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
            np.asarray(self.mz)[positions],
            np.asarray(self.intensity)[positions],
            np.asarray(self.low_mz)[keep],
            np.asarray(self.retention_index)[keep],
            np.asarray(self.rows)[keep],
        )

    @staticmethod
    def concat(parts: list[MSArrays]) -> MSArrays:
        offsets = np.cumsum([0] + [int(p.indptr[-1]) for p in parts[:-1]])
        return MSArrays(
            np.concatenate(
                [[0]] + [np.asarray(p.indptr[1:]) + o for p, o in zip(parts, offsets, strict=True)]
            ),
            np.concatenate([np.asarray(p.mz) for p in parts]).astype(np.uint16),
            np.concatenate([np.asarray(p.intensity) for p in parts]).astype(np.float32),
            np.concatenate([np.asarray(p.low_mz) for p in parts]).astype(np.float32),
            np.concatenate([np.asarray(p.retention_index) for p in parts]).astype(np.float64),
            np.concatenate([np.asarray(p.rows) for p in parts]).astype(np.int64),
        )


@dataclass
class Library:
    """An opened library; arrays are memory-mapped, entries are read on demand."""

    path: Path
    manifest: dict[str, Any]
    arrays: dict[str, np.ndarray]
    # Held open so that an opened library stays a consistent snapshot after the folder is replaced.
    _entries_fd: int = field(default=-1, repr=False)
    _offsets: np.ndarray | None = field(default=None, repr=False)

    def __del__(self) -> None:
        if self._entries_fd >= 0:
            os.close(self._entries_fd)
            self._entries_fd = -1

    @property
    def library_id(self) -> str:
        """Content hash of the entries; every add or remove gives a new id."""
        return str(self.manifest["library_id"])

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.manifest["counts"])

    @property
    def n_ms(self) -> int:
        return int(self.arrays["ms_rows"].shape[0])

    def entry(self, row: int) -> dict[str, Any]:
        """Metadata of one entry (name, inchikey, formula, cas, technique, source_file, license, ...)."""
        assert self._offsets is not None
        start, end = int(self._offsets[row]), int(self._offsets[row + 1])
        return dict(json.loads(os.pread(self._entries_fd, end - start, start)))

    def entries(self) -> list[dict[str, Any]]:
        assert self._offsets is not None
        data = os.pread(self._entries_fd, int(self._offsets[-1]), 0)
        return [json.loads(line) for line in data.decode("utf-8").splitlines()]

    def ms_arrays(self) -> MSArrays:
        a = self.arrays
        low = scoring_ms.LOW_MZ_GRID[np.asarray(a["ms_low"], dtype=np.int64)].astype(np.float32)
        return MSArrays(a["ms_indptr"], a["ms_mz"], a["ms_int"], low, a["ms_ri"], a["ms_rows"])

    def vib(self, technique: Technique) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(matrix, entry rows, axis) for FTIR or Raman, or None when the library has none."""
        name = f"vib_{technique.name}"
        if name not in self.arrays:
            return None
        return self.arrays[name], self.arrays[f"{name}_rows"], self.arrays[f"{name}_axis"]

    def vib_index(self, technique: Technique) -> VibIndex | None:
        """Everything masked scoring needs for FTIR or Raman, memory-mapped; None when absent."""
        name = f"vib_{technique.name}"
        if name not in self.arrays:
            return None
        a = self.arrays
        span = a[f"{name}_span"]
        return VibIndex(
            a[name],
            a[f"{name}_rows"],
            a[f"{name}_axis"],
            span[:, 0],
            span[:, 1],
            a[f"{name}_sums"],
            a[f"{name}_ident"],
        )


@dataclass(frozen=True)
class VibIndex:
    """One technique's rows: features, entry rows, axis, measured span per row, (Σ, Σ²) per row."""

    matrix: np.ndarray
    rows: np.ndarray
    axis: np.ndarray
    starts: np.ndarray
    stops: np.ndarray
    sums: np.ndarray
    identity: np.ndarray  # int32 code per row: rows of one identity (label, InChIKey, name) share it


def open_library(path: str | Path) -> Library:
    """Open a library folder written by :func:`write_library`."""
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise LibraryError(f"{path} is not a spectral library (no manifest.json)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LibraryError(f"{manifest_path} is not valid JSON: {exc}") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise LibraryError(
            f"{path}: library format {manifest.get('format_version')!r}, "
            f"expected {FORMAT_VERSION}; rebuild it"
        )
    has_vib = any(str(n).startswith("vib_") for n in manifest.get("arrays", []))
    if has_vib and manifest.get("settings", {}).get("vib_methods") != vib_features.method_settings():
        raise LibraryError(f"{path}: FTIR/Raman spectra were prepared with other settings; rebuild it")
    arrays: dict[str, np.ndarray] = {}
    for name in manifest["arrays"]:
        file = path / f"{name}.npy"
        if not file.is_file():
            raise LibraryError(f"{path}: array {name}.npy is missing; rebuild the library")
        arrays[name] = np.load(file, mmap_mode="r", allow_pickle=False)
    offsets = np.load(path / "entries_offsets.npy", mmap_mode="r", allow_pickle=False)
    fd = os.open(path / "entries.jsonl", os.O_RDONLY)
    return Library(path, manifest, arrays, fd, offsets)


def entry_key(entry: dict[str, Any], x: np.ndarray, y: np.ndarray) -> str:
    """Stable content hash of one entry: its technique, name, identifiers and peaks or vector."""
    digest = hashlib.sha256()
    for part in (entry.get("technique"), entry.get("name"), entry.get("inchikey"), entry.get("source_file")):
        digest.update(str(part).encode("utf-8") + b"\x00")
    digest.update(np.ascontiguousarray(x, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return digest.hexdigest()[:20]


def _inverted_index(ms: MSArrays, weights: np.ndarray, probs: np.ndarray) -> dict[str, np.ndarray]:
    n_peaks = int(ms.indptr[-1])
    mz = np.asarray(ms.mz)
    order = np.argsort(mz, kind="stable")
    spectrum_of_peak = np.repeat(np.arange(len(ms.rows), dtype=np.int32), np.diff(np.asarray(ms.indptr)))
    counts = np.bincount(mz, minlength=MAX_MZ + 1) if n_peaks else np.zeros(MAX_MZ + 1, np.int64)
    p = probs.astype(np.float64)  # the stored float32 values, so both columns agree
    plogp = p * np.log2(p, where=p > 0, out=np.zeros_like(p))
    return {
        "inv_indptr": np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        "inv_ids": spectrum_of_peak[order],
        "inv_w": weights[order],
        "inv_p": probs[order],
        "inv_plogp": plogp[order].astype(np.float32),
    }


def _sketch(spectrum_of_peak: np.ndarray, mz: np.ndarray, p: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """The common-ion sketch: codes of p at the SKETCH_COLUMNS most frequent m/z, of their sums over
    groups of SKETCH_GROUP columns, and of their sum."""
    counts = np.bincount(mz, minlength=MAX_MZ + 1) if mz.size else np.zeros(MAX_MZ + 1, np.int64)
    present = np.flatnonzero(counts)
    columns = np.sort(present[np.argsort(-counts[present], kind="stable")[:SKETCH_COLUMNS]])
    column_of = np.full(MAX_MZ + 1, -1, dtype=np.int64)
    column_of[columns] = np.arange(columns.size)
    which = column_of[mz]
    hit = np.flatnonzero(which >= 0)
    sketch = np.zeros((n, columns.size), dtype=np.uint8)
    # side="left": the least edge at or above p (p ≤ 1 + 2⁻²⁰ always, so the last code bounds any p).
    sketch[spectrum_of_peak[hit], which[hit]] = np.searchsorted(SKETCH_EDGES, p[hit], side="left")
    mass = np.bincount(spectrum_of_peak[hit], weights=p[hit], minlength=n)
    groups = -(-columns.size // SKETCH_GROUP)
    cell = spectrum_of_peak[hit].astype(np.int64) * groups + which[hit] // SKETCH_GROUP
    group_mass = np.bincount(cell, weights=p[hit], minlength=n * groups)
    group_codes = np.searchsorted(SKETCH_EDGES, group_mass, side="left")
    return {
        "ms_sketch_mz": columns.astype(np.uint16),
        "ms_sketch": sketch,
        "ms_sketch_groups": np.ascontiguousarray(group_codes.astype(np.uint8).reshape(n, groups).T),
        "ms_sketch_mass": np.searchsorted(SKETCH_MASS_EDGES, mass, side="left").astype(np.uint8),
    }


def derived_ms_arrays(ms: MSArrays) -> dict[str, np.ndarray]:
    """Weights, entropy probabilities, norms per scan-start cut and the inverted index, from the CSR peaks."""
    indptr = np.asarray(ms.indptr)
    mz = np.asarray(ms.mz).astype(np.float64)
    intensity = np.asarray(ms.intensity).astype(np.float64)
    n = len(ms.rows)
    counts = np.diff(indptr)
    spectrum_of_peak = np.repeat(np.arange(n), counts)
    weights = intensity**scoring_ms.DEFAULT_INTENSITY_POWER * mz**scoring_ms.DEFAULT_MZ_POWER
    # Entropy weighting (Li et al. 2021) vectorised over all spectra at once.
    totals = np.bincount(spectrum_of_peak, weights=intensity, minlength=n)
    p = intensity / np.maximum(totals[spectrum_of_peak], 1e-300)
    plogp = p * np.log(p, where=p > 0, out=np.zeros_like(p))
    entropy = -np.bincount(spectrum_of_peak, weights=plogp, minlength=n)
    exponent = np.where(entropy < 3.0, 0.25 + 0.25 * entropy, 1.0)[spectrum_of_peak]
    pw = p**exponent
    pw /= np.maximum(np.bincount(spectrum_of_peak, weights=pw, minlength=n)[spectrum_of_peak], 1e-300)
    grid = scoring_ms.LOW_MZ_GRID
    norms = np.zeros((n, grid.size), dtype=np.float64)
    w2 = weights**2
    for g, cut in enumerate(grid):
        norms[:, g] = np.bincount(spectrum_of_peak, weights=np.where(mz >= cut, w2, 0.0), minlength=n)
    # The scan start cannot lie above a recorded peak; the pruning bounds rely on it.
    lowest = np.full(n, np.inf)
    np.minimum.at(lowest, spectrum_of_peak, mz)
    low_mz = np.minimum(np.asarray(ms.low_mz, dtype=np.float64), lowest)
    low_index = np.searchsorted(grid, low_mz, side="right") - 1
    arrays: dict[str, np.ndarray] = {
        "ms_indptr": indptr.astype(np.int64),
        "ms_mz": np.asarray(ms.mz).astype(np.uint16),
        "ms_int": intensity.astype(np.float32),
        "ms_p": pw.astype(np.float32),
        "ms_rows": np.asarray(ms.rows).astype(np.int64),
        "ms_low": low_index.astype(np.int8),
        "ms_ri": np.asarray(ms.retention_index).astype(np.float64),
        # Stored cut-major so that one query's gathers walk along contiguous rows.
        "ms_norms": np.ascontiguousarray(norms.T, dtype=np.float32),
    }
    arrays.update(_inverted_index(ms, weights.astype(np.float32), pw.astype(np.float32)))
    # From the stored float32 probabilities, as the search reads them.
    stored = pw.astype(np.float32).astype(np.float64)
    arrays.update(_sketch(spectrum_of_peak, np.asarray(ms.mz).astype(np.int64), stored, n))
    return arrays


def _spans(matrix: np.ndarray, width: int) -> np.ndarray:
    """First and last axis index where a row is non-zero in any block (what the spectrum measured)."""
    spans = np.zeros((matrix.shape[0], 2), dtype=np.int32)
    for first in range(0, matrix.shape[0], 8192):
        block = np.asarray(matrix[first : first + 8192])
        nonzero = (block.reshape(block.shape[0], -1, width) != 0).any(axis=1)
        has = nonzero.any(axis=1)
        spans[first : first + block.shape[0], 0] = np.where(has, nonzero.argmax(axis=1), 0)
        spans[first : first + block.shape[0], 1] = np.where(
            has, width - 1 - nonzero[:, ::-1].argmax(axis=1), -1
        )
    return spans


def identity_of(entry: dict[str, Any]) -> str:
    """What a hit answers: the entry's label, else its InChIKey's first block, else its name."""
    if entry.get("label"):
        return str(entry["label"])
    if entry.get("inchikey"):
        return str(entry["inchikey"]).split("-")[0]
    return " ".join(str(entry.get("name", "")).lower().split())


def _identities(entries: list[dict[str, Any]], rows: np.ndarray) -> np.ndarray:
    """One int32 code per vibrational row; rows of the same identity share it."""
    codes: dict[str, int] = {}
    found = [codes.setdefault(identity_of(entries[int(r)]), len(codes)) for r in rows]
    return np.array(found, dtype=np.int32)


def write_library(
    out: str | Path,
    entries: list[dict[str, Any]],
    ms: MSArrays,
    vib: dict[Technique, tuple[np.ndarray, np.ndarray, np.ndarray]],
    settings: dict[str, Any],
) -> Library:
    """Write a complete library folder atomically and open it."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays = derived_ms_arrays(ms)
    for technique, (matrix, rows, axis) in vib.items():
        name = f"vib_{technique.name}"
        arrays[name] = np.ascontiguousarray(matrix, dtype=np.float32)
        arrays[f"{name}_rows"] = np.asarray(rows, dtype=np.int64)
        arrays[f"{name}_axis"] = np.asarray(axis, dtype=np.float64)
        arrays[f"{name}_span"] = _spans(arrays[name], np.asarray(axis).size)
        arrays[f"{name}_sums"] = scoring_vib.row_sums(arrays[name])
        arrays[f"{name}_ident"] = _identities(entries, arrays[f"{name}_rows"])
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry["technique"]] = counts.get(entry["technique"], 0) + 1
    digest = hashlib.sha256(f"customslab-library-{FORMAT_VERSION}".encode())
    for entry in entries:
        digest.update(entry["key"].encode("ascii"))
    # The preprocessing is part of what a hit list's library id names.
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode("utf-8"))
    licences = sorted({str(entry.get("license")) for entry in entries if entry.get("license")})
    manifest = {
        "format_version": FORMAT_VERSION,
        "library_id": digest.hexdigest()[:16],
        "n_entries": len(entries),
        "counts": counts,
        "settings": settings,
        "licenses": licences,
        "attribution": "Each entry keeps its source file, licence and authors in entries.jsonl; "
        "share-alike licences (CC BY-SA) apply to this library file.",
        "arrays": sorted(arrays),
    }
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, array in arrays.items():
            np.save(staging / f"{name}.npy", array, allow_pickle=False)
        offsets = [0]
        with (staging / "entries.jsonl").open("wb") as handle:
            for entry in entries:
                line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
                handle.write(line)
                offsets.append(offsets[-1] + len(line))
        np.save(staging / "entries_offsets.npy", np.array(offsets, dtype=np.int64), allow_pickle=False)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return open_library(out)
