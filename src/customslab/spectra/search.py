"""Top-k library search: EI-MS through the inverted m/z index, FTIR/Raman through one matrix product.

We write our own search rather than use matchms or ms_entropy because it must be exact for our
scores and faster than Flash entropy search on million-spectrum EI libraries (benchmarks/).

EI-MS search for ``hybrid`` (the default), ``dot`` and ``entropy`` is exact without reading every
posting list (:mod:`customslab.spectra.search_pruned` explains the bounds); ``reverse`` and
``composite`` are scored against the whole library (:mod:`customslab.spectra.search_exhaustive`).
Where Numba is installed, the pruned search runs compiled passes (:mod:`customslab.spectra.search_kernel`),
in two threads on a machine with 2 CPUs (:func:`customslab.spectra.search_pruned.threads`);
``engine="numpy"`` keeps to NumPy in one thread, with the same hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from threadpoolctl import threadpool_limits

from customslab.spectra import confidence, scoring_ms, scoring_vib, search_kernel, vib_features
from customslab.spectra.library_store import Library, open_library
from customslab.spectra.model import MAX_MZ, Spectrum, Technique
from customslab.spectra.scoring_ms import EIPeaks, ScoreMethod
from customslab.spectra.search_exhaustive import exhaustive_scores
from customslab.spectra.search_pruned import CosinePlan, EntropyPlan, Plan, pruned_top_k

Engine = Literal["auto", "compiled", "numpy"]
ENGINES: tuple[Engine, ...] = ("auto", "compiled", "numpy")


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
    # FTIR/Raman: p(this identity is right), calibrated (spectra.confidence); the axis shift applied.
    confidence: float | None = None
    lead: float | None = None  # score minus the best score of another identity
    shift_cm: float | None = None

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
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "lead": self.lead,
            "shift_cm": self.shift_cm,
        }


def _top(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    # Ties are broken by library order so fast and brute-force paths agree exactly.
    order = np.lexsort((ids, -scores))[:k]
    return ids[order], scores[order]


def ms_top_k(
    library: Library,
    peaks: EIPeaks,
    k: int,
    method: ScoreMethod = "hybrid",
    *,
    exhaustive: bool = False,
    engine: Engine = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Indices into the library's MS spectra and their scores, best first (exact top-k).

    ``engine`` of the pruned search: ``"compiled"`` runs the Numba passes of
    :mod:`customslab.spectra.search_kernel`, ``"numpy"`` NumPy alone, ``"auto"`` compiled where
    Numba is installed. Both give the same hits; the cosine scores agree to the last bit, the entropy
    scores to about 1e-15 (C library against NumPy logarithms).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown search engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "compiled" and not search_kernel.available():
        raise RuntimeError("the compiled EI search needs Numba (pip install numba)")
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
    plan.compiled = engine != "numpy"
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
    return vib_search(library, query, top_k)


def vib_search(library: Library, query: Spectrum, top_k: int) -> list[Hit]:
    """FTIR/Raman: masked, shift-tolerant Pearson over vib_features, each hit with its confidence."""
    index = library.vib_index(query.technique)
    if index is None:
        return []
    query_features = vib_features.features(query)
    grid = np.asarray(index.axis)
    kept = np.zeros(grid.size, dtype=bool)
    kept[query_features.start : query_features.stop + 1] = True
    kept &= ~vib_features.hole_mask(query.technique, grid)
    # One BLAS thread: the (rows × shifts) product is limited by arithmetic, not memory, and a second
    # thread gives only 1.48× the speed for about 1.35× the CPU per query (benchmarks/spectra_search.py,
    # FTIR bound); with one, the scores do not depend on the caller's thread count, so batch workers and
    # this process agree to the last bit.
    with threadpool_limits(limits=1, user_api="blas"):
        scores, shifts = scoring_vib.masked_shift_scores(
            query_features.vector,
            kept,
            index.matrix,
            index.starts,
            index.stops,
            index.sums,
            max_shift=vib_features.METHODS[query.technique].max_shift,
            min_points=vib_features.MIN_SHARED_POINTS,
        )
    scores = np.asarray(scores, dtype=np.float64)
    ids, best = _top(np.arange(scores.size), scores, top_k)
    ids, best = ids[best > -1.0], best[best > -1.0]
    leads = identity_leads(scores, np.asarray(index.identity), ids)
    rows = np.asarray(index.rows)
    step = float(grid[1] - grid[0]) if grid.size > 1 else 0.0
    return [
        replace(
            _hit(library, rank, int(rows[i]), s),
            confidence=confidence.confidence(s, lead),
            lead=round(float(lead), 4),
            shift_cm=round(float(shifts[i]) * step, 1),
        )
        for rank, (i, s, lead) in enumerate(zip(ids, best, leads, strict=True), start=1)
    ]


def identity_leads(scores: np.ndarray, identity: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """For each chosen row: its score minus the best score of a row of another identity.

    With no other identity in the library the lead is taken against r = −1, the lowest score.
    """
    if ids.size == 0:
        return np.zeros(0)
    best = np.full(int(identity.max()) + 1, -1.0)
    np.maximum.at(best, identity, scores)
    order = np.argsort(-best, kind="stable")
    leads = np.empty(ids.size)
    for k, i in enumerate(ids):
        own = int(identity[i])
        others = [int(c) for c in order[:2] if int(c) != own]
        leads[k] = scores[i] - (best[others[0]] if others else -1.0)
    return leads


def search_many(
    library: Library | str | Path,
    queries: Sequence[Spectrum],
    top_k: int = 5,
    method: ScoreMethod | None = None,
    *,
    workers: int = 2,
) -> list[list[Hit]]:
    """``search`` for each query, in query order; with ``workers`` > 1 in processes that each
    memory-map the same library (:mod:`customslab.spectra.batch`, which also says why processes).

    This starts and stops its workers; to search many batches, keep a ``batch.SearchPool`` open.
    """
    from customslab.spectra.batch import SearchPool, search_in_process

    opened = library if isinstance(library, Library) else open_library(library)
    if workers <= 1 or len(queries) < 2 * workers:
        return search_in_process(opened, queries, top_k, method)
    with SearchPool(opened, workers) as pool:
        return pool.search(queries, top_k, method)
