"""Spectral search for the identification page, written against customslab.spectra directly.

This stands in for services/identification.py until the lead exposes it: it reads the GC-EI-MS
library (MassBank records under settings.shared_data) with customslab.spectra's reader and ranks
it against a query spectrum. The scoring is ours because the web page needs the whole library
scored in one matrix product (a few milliseconds) rather than spectrum by spectrum.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from customslab.spectra.formats import read_spectra
from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique

MAX_MZ = 1000
MZ_WEIGHT = 3.0
INTENSITY_WEIGHT = 0.6


@dataclass(frozen=True)
class LibraryInfo:
    library_id: str
    title: str
    technique: Technique
    folder: str  # below settings.shared_data
    version: str


LIBRARIES = {
    "massbank-ei": LibraryInfo(
        "massbank-ei",
        "MassBank GC-EI-MS (CC BY / CC BY-SA)",
        Technique.EI_MS,
        "spectra/massbank-ei",
        "MassBank-data 2025.05.1",
    ),
}


@dataclass
class _Loaded:
    spectra: list[Spectrum]
    matrix: np.ndarray  # unit-normalised weighted vectors, one row per library spectrum


_cache: dict[Path, _Loaded] = {}
_lock = threading.Lock()


def binned(spectrum: Spectrum) -> np.ndarray:
    """Nominal-mass vector with Stein & Scott weights: w(m) = I(m)^0.6 · m^3.

    Stein S.E., Scott D.R. (1994) Optimization and testing of mass spectral library search
    algorithms for compound identification, J. Am. Soc. Mass Spectrom. 5, 859–866.
    """
    vec = np.zeros(MAX_MZ + 1)
    mz = np.rint(spectrum.x).astype(int)
    keep = (mz > 0) & (mz <= MAX_MZ) & (spectrum.y > 0)
    np.maximum.at(vec, mz[keep], spectrum.y[keep])
    if vec.max() > 0:
        vec = vec / vec.max() * 999.0
    weighted = np.power(vec, INTENSITY_WEIGHT) * np.power(np.arange(MAX_MZ + 1, dtype=float), MZ_WEIGHT)
    norm = np.linalg.norm(weighted)
    return weighted / norm if norm > 0 else weighted


def load_library(root: Path, info: LibraryInfo) -> _Loaded:
    folder = root / info.folder
    with _lock:
        if folder not in _cache:
            if not folder.is_dir():
                raise FileNotFoundError(f"The spectral library {info.title} is not installed at {folder}.")
            spectra = [s for p in sorted(folder.glob("*.txt")) for s in read_spectra(p)]
            _cache[folder] = _Loaded(spectra, np.vstack([binned(s) for s in spectra]))
        return _cache[folder]


def read_query(data: bytes, filename: str) -> Spectrum:
    """The first spectrum of an uploaded file (any format customslab.spectra reads)."""
    suffix = Path(filename).suffix[:10] or ".txt"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"query{suffix}"
        path.write_bytes(data)
        spectra = read_spectra(path)
    if not spectra:
        raise SpectrumFormatError(filename, "no spectrum in the file")
    return spectra[0]


def search(root: Path, library_id: str, query: Spectrum, top: int = 10) -> dict[str, Any]:
    """Rank the library against the query by weighted cosine (dot product of unit vectors)."""
    info = LIBRARIES[library_id]
    if query.technique is not info.technique:
        raise SpectrumFormatError(
            query.name or "query", f"a {query.technique.value} spectrum cannot be searched in {info.title}"
        )
    lib = load_library(root, info)
    scores = lib.matrix @ binned(query)
    order = np.argsort(-scores)[:top]
    hits = []
    for rank, i in enumerate(order, start=1):
        s = lib.spectra[int(i)]
        hits.append(
            {
                "rank": rank,
                "index": int(i),
                "name": s.name,
                "score": round(float(scores[i]), 4),
                "accession": s.metadata.get("accession", ""),
                "inchikey": s.metadata.get("inchikey", ""),
                "formula": s.metadata.get("formula", ""),
                "license": s.metadata.get("license", ""),
            }
        )
    return {
        "technique": info.technique.value,
        "library_id": info.library_id,
        "library_version": f"{info.version} ({len(lib.spectra)} spectra)",
        "method": "weighted cosine (Stein & Scott 1994, m/z^3 · I^0.6)",
        "hits": hits,
    }


def mirror_plot(root: Path, library_id: str, query: Spectrum, index: int) -> dict[str, Any]:
    """uPlot data for a mirror plot: query up, library hit down, both scaled to 100 at the base peak."""
    lib = load_library(root, LIBRARIES[library_id])
    hit = lib.spectra[index]

    def sticks(s: Spectrum) -> dict[int, float]:
        out: dict[int, float] = {}
        top = float(s.y.max()) if s.y.size else 1.0
        for x, y in zip(np.rint(s.x).astype(int), s.y, strict=True):
            out[int(x)] = max(out.get(int(x), 0.0), float(y) / top * 100.0)
        return out

    q, h = sticks(query), sticks(hit)
    xs = sorted(set(q) | set(h))
    return {
        "x": xs,
        "query": [round(q[x], 2) if x in q else None for x in xs],
        "hit": [-round(h[x], 2) if x in h else None for x in xs],
        "query_name": query.name or "query",
        "hit_name": hit.name,
    }
