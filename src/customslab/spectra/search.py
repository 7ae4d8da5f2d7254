"""Top-k library search: EI-MS through the inverted m/z index, FTIR/Raman through one matrix product.

We write our own search rather than use matchms or ms_entropy because it must be exact for our
scores and faster than Flash entropy search on million-spectrum EI libraries (benchmarks/).

The default EI score (``hybrid``) is exact without reading every posting list: query peaks are
taken in order of squared weight per posting entry and their lists accumulated; by Cauchy-Schwarz
a spectrum can gain at most ‖w_rest‖ / ‖w_Q‖ (for each scan-start cut) from the peaks not yet read,
so reading stops once that bound falls below the k-th best lower bound. Survivors are finished from
the CSR peak table.
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
from customslab.spectra.model import Spectrum, Technique
from customslab.spectra.scoring_ms import EIPeaks, ScoreMethod

_EPS = 1e-9


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "name": self.name,
            "inchikey": self.inchikey,
            "score": round(self.score, 4),
            "library_id": self.library_id,
            "key": self.key,
            "formula": self.formula,
            "cas": self.cas,
            "technique": self.technique,
            "source_file": self.source_file,
            "license": self.license,
            "matched_peaks": len(self.matched_peaks),
        }


class _Query:
    """Query weights and per-cut norms for the (common-range) weighted dot product."""

    def __init__(self, peaks: EIPeaks, common_range: bool) -> None:
        grid = scoring_ms.LOW_MZ_GRID
        self.bins = peaks.mz.astype(np.int64)
        self.w = scoring_ms.peak_weights(
            peaks, scoring_ms.DEFAULT_MZ_POWER, scoring_ms.DEFAULT_INTENSITY_POWER
        )
        self.g = int(np.searchsorted(grid, peaks.low_mz, side="right") - 1) if common_range else 0
        self.common_range = common_range
        above = peaks.mz[None, :] >= grid[:, None]
        self.norm2 = (above * self.w**2).sum(axis=1)
        self.above = above


def _cut_index(library: Library, ids: np.ndarray, query: _Query) -> np.ndarray:
    if not query.common_range:
        return np.zeros(ids.size, dtype=np.int64)
    return np.maximum(query.g, np.asarray(library.arrays["ms_low"])[ids].astype(np.int64))


def _denominator(library: Library, ids: np.ndarray, cut: np.ndarray, query: _Query) -> np.ndarray:
    library_norm2 = np.asarray(library.arrays["ms_norms"])[cut, ids].astype(np.float64)
    return np.sqrt(query.norm2[cut] * library_norm2)


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _finish(library: Library, ids: np.ndarray, rest_table: np.ndarray) -> np.ndarray:
    """Σ w_Q·w_L over the peaks of spectra ``ids`` whose m/z has a value in ``rest_table``."""
    indptr = np.asarray(library.arrays["ms_indptr"])
    starts, counts = indptr[ids], indptr[ids + 1] - indptr[ids]
    total = int(counts.sum())
    if total == 0:
        return np.zeros(ids.size)
    owner = np.repeat(np.arange(ids.size), counts)
    positions = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
    mz = np.asarray(library.arrays["ms_mz"])[positions]
    q = rest_table[mz]
    hit = q != 0
    if not hit.any():
        return np.zeros(ids.size)
    intensity = np.asarray(library.arrays["ms_int"])[positions[hit]].astype(np.float64)
    w = (
        intensity**scoring_ms.DEFAULT_INTENSITY_POWER
        * mz[hit].astype(np.float64) ** scoring_ms.DEFAULT_MZ_POWER
    )
    return np.bincount(owner[hit], weights=q[hit] * w, minlength=ids.size)


def pruned_top_k(library: Library, query: _Query, k: int, ri: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of cos² − RI penalty, reading the posting lists richest in query weight first.

    After each list, an unseen spectrum can score at most U², U = max over cuts of ‖w_rest‖/‖w_Q‖
    (Cauchy-Schwarz), and a seen one at most (partial + U)² − penalty. Once U² is below the k-th best
    lower bound, the survivors are finished from the CSR table, but only when that is cheaper than
    reading the remaining lists (a gathered CSR peak costs about 12 posting entries, measured);
    otherwise reading goes on (every list read gives the exact score).
    """
    inv_indptr = np.asarray(library.arrays["inv_indptr"])
    inv_ids, inv_w = library.arrays["inv_ids"], library.arrays["inv_w"]
    n = library.n_ms
    acc = np.zeros(n)
    touched = np.zeros(n, dtype=bool)
    cut_of = np.zeros(n, dtype=np.int64)
    den_of = np.zeros(n)
    pen_of = np.zeros(n)
    # Read first the lists that remove the most squared query weight per posting entry.
    list_lengths = inv_indptr[query.bins + 1] - inv_indptr[query.bins]
    order = np.argsort(-(query.w**2) / np.maximum(list_lengths, 1), kind="stable")
    lengths = list_lengths[order]
    remaining_cost = np.concatenate((np.cumsum(lengths[::-1])[::-1], [0]))
    peaks_per_spectrum = max(1.0, float(library.arrays["ms_indptr"][-1]) / max(n, 1))
    rest2 = query.norm2.copy()
    cuts = np.arange(rest2.size)
    valid = (query.norm2 > 0) & ((cuts >= query.g) if query.common_range else (cuts == 0))
    lower = -np.inf
    next_check = 2.0
    next_stop_check = 0
    for step, i in enumerate(order, start=1):
        start, end = inv_indptr[query.bins[i]], inv_indptr[query.bins[i] + 1]
        ids = np.asarray(inv_ids[start:end])
        acc[ids] += query.w[i] * np.asarray(inv_w[start:end], dtype=np.float64)
        new = ids[~touched[ids]]
        if new.size:
            # Per-spectrum constants are computed once, when a spectrum is first met.
            touched[new] = True
            cut_of[new] = _cut_index(library, new, query)
            den_of[new] = _denominator(library, new, cut_of[new], query)
            if ri is not None:
                pen_of[new] = _penalties(library, new, ri)
        rest2 = np.maximum(rest2 - query.above[:, i] * query.w[i] ** 2, 0.0)
        if step == order.size:
            continue
        bounds = np.where(valid, np.sqrt(_safe_divide(rest2, query.norm2)), 0.0)
        # Each check costs O(spectra seen): refresh the k-th lower bound on a doubling schedule, and
        # test for stopping only when the bound allows it and not right after a failed test.
        refresh = step >= next_check
        may_stop = float(bounds.max()) ** 2 + _EPS < lower and step >= next_stop_check
        if not (refresh or may_stop):
            continue
        if refresh:
            next_check *= 2
        seen = np.flatnonzero(touched)
        cut = cut_of[seen]
        denominator = den_of[seen]
        partial = _safe_divide(acc[seen], denominator)
        penalty = pen_of[seen]
        if seen.size >= k:
            lower = max(lower, float(np.partition(partial**2 - penalty, seen.size - k)[seen.size - k]))
        if float(bounds.max()) ** 2 + _EPS >= lower:
            continue
        upper = np.minimum(1.0, partial + bounds[cut]) ** 2 - penalty
        keep = upper + _EPS >= lower
        if keep.sum() * peaks_per_spectrum * 12 > remaining_cost[step]:
            next_stop_check = step + 1 + step // 4
            continue
        rest_table = np.zeros(65536, dtype=np.float64)
        rest_table[query.bins[order[step:]]] = query.w[order[step:]]
        ids = seen[keep]
        cosine = _safe_divide(acc[ids] + _finish(library, ids, rest_table), denominator[keep])
        return _top(ids, cosine**2 - penalty[keep], k)
    seen = np.flatnonzero(touched)
    cosine = _safe_divide(acc[seen], den_of[seen])
    return _top(seen, cosine**2 - pen_of[seen], k)


def _penalties(library: Library, ids: np.ndarray, query_ri: float | None) -> np.ndarray:
    if query_ri is None:
        return np.zeros(ids.size)
    ri = np.asarray(library.arrays["ms_ri"])[ids]
    delta = np.abs(ri - query_ri) - scoring_ms.RI_WINDOW
    penalty = np.minimum(scoring_ms.RI_MAX_PENALTY, scoring_ms.RI_RATE * np.maximum(0.0, delta))
    return np.where(np.isnan(ri), 0.0, penalty)


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
    if exhaustive or method in ("reverse", "composite", "entropy"):
        from customslab.spectra.search_exhaustive import exhaustive_scores

        scores = exhaustive_scores(library, peaks, method)
        return _top(np.arange(library.n_ms), scores, k)
    query = _Query(peaks, common_range=method == "hybrid")
    ri = peaks.retention_index if method == "hybrid" else None
    ids, scores = pruned_top_k(library, query, k, ri)
    if scores.size < k or float(scores[-1]) <= 0.0:
        # Unseen spectra score 0 (or less with an RI penalty): only brute force orders those ties.
        from customslab.spectra.search_exhaustive import exhaustive_scores

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
