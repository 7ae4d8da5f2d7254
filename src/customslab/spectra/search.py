"""Top-k library search: EI-MS through the inverted m/z index, FTIR/Raman through one matrix product.

We write our own search rather than use matchms or ms_entropy because it must be exact for our
scores and faster than Flash entropy search on million-spectrum EI libraries (benchmarks/).

EI-MS search for ``hybrid`` (the default), ``dot`` and ``entropy`` is exact without reading every
posting list (:mod:`customslab.spectra.search_pruned` explains the bounds); ``reverse`` and
``composite`` are scored against the whole library (:mod:`customslab.spectra.search_exhaustive`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from customslab.spectra import scoring_ms
from customslab.spectra.library_store import Library, open_library
from customslab.spectra.model import MAX_MZ, Spectrum, Technique
from customslab.spectra.scoring_ms import EIPeaks, ScoreMethod
from customslab.spectra.search_exhaustive import exhaustive_scores
from customslab.spectra.search_pruned import CosinePlan, EntropyPlan, Plan, pruned_top_k


@dataclass(frozen=True)
class Hit:
    """One search result; ``matched_peaks`` holds (m/z, query intensity, library intensity) for MS."""

    rank: int
    score: float
    row: int
    key: str
    name: str
    inchikey: str | None
    formula: str | None
    cas: str | None
    technique: str
    retention_index: float | None
    source_file: str
    license: str | None
    library_id: str
    matched_peaks: tuple[tuple[float, float, float], ...] = ()
    label: str | None = None
    description: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "name": self.name,
            "label": self.label,
            "inchikey": self.inchikey,
            "score": round(self.score, 4),
            "library_id": self.library_id,
            "key": self.key,
            "formula": self.formula,
            "cas": self.cas,
            "technique": self.technique,
            "source_file": self.source_file,
            "license": self.license,
            "description": self.description,
            "matched_peaks": len(self.matched_peaks),
        }


def _top(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    # Ties are broken by library order so fast and brute-force paths agree exactly.
    order = np.lexsort((ids, -scores))[:k]
    return ids[order], scores[order]


def ms_top_k(
    library: Library, peaks: EIPeaks, k: int, method: ScoreMethod = "hybrid", *, exhaustive: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Indices into the library's MS spectra and their scores, best first (exact top-k)."""
    if library.n_ms == 0 or peaks.mz.size == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    if not (float(peaks.mz.min()) >= 0.0 and float(peaks.mz.max()) <= MAX_MZ):  # NaN fails too
        # Spectrum refuses such peaks when it is made; this keeps the index lookups in bounds.
        raise ValueError(f"query m/z must lie between 0 and {MAX_MZ:g}")
    if exhaustive or method in ("reverse", "composite"):
        return _top(np.arange(library.n_ms), exhaustive_scores(library, peaks, method), k)
    plan: Plan
    if method == "entropy":
        plan = EntropyPlan(library, peaks)
    else:
        ri = peaks.retention_index if method == "hybrid" else None
        plan = CosinePlan(library, peaks, common_range=method == "hybrid", ri=ri)
    ids, scores = pruned_top_k(plan, k)
    if scores.size < k or float(scores[-1]) <= 0.0:
        # Spectra sharing no peak score 0 (or less with an RI penalty): only brute force orders those.
        return _top(np.arange(library.n_ms), exhaustive_scores(library, peaks, method), k)
    return ids, scores


def _matched(library: Library, index: int, peaks: EIPeaks) -> tuple[tuple[float, float, float], ...]:
    indptr = library.arrays["ms_indptr"]
    start, end = int(indptr[index]), int(indptr[index + 1])
    mz = np.asarray(library.arrays["ms_mz"][start:end], dtype=np.float64)
    intensity = np.asarray(library.arrays["ms_int"][start:end], dtype=np.float64)
    ia, ib = scoring_ms.match_peaks(peaks.mz, mz)
    return tuple(
        (float(peaks.mz[a]), float(peaks.intensity[a]), float(intensity[b]))
        for a, b in zip(ia, ib, strict=True)
    )


def _hit(library: Library, rank: int, row: int, score: float, matched: tuple[Any, ...] = ()) -> Hit:
    entry = library.entry(row)
    return Hit(
        rank=rank,
        score=float(score),
        row=row,
        key=entry["key"],
        name=entry["name"],
        inchikey=entry.get("inchikey"),
        formula=entry.get("formula"),
        cas=entry.get("cas"),
        technique=entry["technique"],
        retention_index=entry.get("retention_index"),
        source_file=entry.get("source_file", ""),
        license=entry.get("license"),
        library_id=library.library_id,
        matched_peaks=matched,
        label=entry.get("label"),
        description=entry.get("description"),
    )


def search(
    library: Library,
    query: Spectrum,
    top_k: int = 5,
    method: ScoreMethod | None = None,
    *,
    exhaustive: bool = False,
) -> list[Hit]:
    """The ``top_k`` best library entries of the query's technique, best first."""
    if top_k < 1:
        raise ValueError("top_k must be at least 1")
    if query.technique is Technique.EI_MS:
        peaks = scoring_ms.prepare_ei(query)
        ids, scores = ms_top_k(
            library, peaks, top_k, method or scoring_ms.DEFAULT_METHOD, exhaustive=exhaustive
        )
        rows = np.asarray(library.arrays["ms_rows"])
        return [
            _hit(library, rank, int(rows[i]), s, _matched(library, int(i), peaks))
            for rank, (i, s) in enumerate(zip(ids, scores, strict=True), start=1)
        ]
    vib = library.vib(query.technique)
    if vib is None:
        return []
    from customslab.spectra.preprocess import prepare_vibrational
    from customslab.spectra.scoring_vib import score_matrix

    matrix, rows, axis = vib
    scores = score_matrix(prepare_vibrational(query, np.asarray(axis)), matrix, "pearson")
    ids, best = _top(np.arange(scores.size), np.asarray(scores, dtype=np.float64), top_k)
    return [
        _hit(library, rank, int(rows[i]), s)
        for rank, (i, s) in enumerate(zip(ids, best, strict=True), start=1)
    ]


_WORKER_LIBRARY: Library | None = None


def _worker_init(path: str) -> None:
    global _WORKER_LIBRARY
    _WORKER_LIBRARY = open_library(path)


def _worker_search(args: tuple[list[Spectrum], int, ScoreMethod | None]) -> list[list[Hit]]:
    assert _WORKER_LIBRARY is not None
    queries, top_k, method = args
    return [search(_WORKER_LIBRARY, q, top_k, method) for q in queries]


def search_many(
    library: Library | str | Path,
    queries: Sequence[Spectrum],
    top_k: int = 5,
    method: ScoreMethod | None = None,
    *,
    workers: int = 2,
) -> list[list[Hit]]:
    """Search many queries; with ``workers`` > 1 in processes that each memory-map the same library.

    Processes, not threads: the posting-list accumulation is many small NumPy calls that hold the GIL
    between them, so threads gave no speed-up on the 2-core machine (benchmarks/spectra_search.py).
    """
    opened = library if isinstance(library, Library) else open_library(library)
    if workers <= 1 or len(queries) < 2 * workers:
        return [search(opened, q, top_k, method) for q in queries]
    chunk = max(1, len(queries) // (workers * 4))
    batches = [(list(queries[i : i + chunk]), top_k, method) for i in range(0, len(queries), chunk)]
    with ProcessPoolExecutor(workers, initializer=_worker_init, initargs=(str(opened.path),)) as pool:
        return [hits for batch in pool.map(_worker_search, batches) for hits in batch]
