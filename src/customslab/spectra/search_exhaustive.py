"""Reference scores of one EI query against every library spectrum, vectorised over the CSR peak table.

Used for the methods without a pruned path (reverse, composite, entropy), as the brute-force reference
that the exactness tests and benchmarks compare the fast path with, and as the fallback when no bound
can prune. Formulas and sources are in :mod:`customslab.spectra.scoring_ms`.
"""

from __future__ import annotations

import numpy as np

from customslab.spectra import scoring_ms
from customslab.spectra.library_store import Library
from customslab.spectra.scoring_ms import EIPeaks, ScoreMethod, safe_divide

_BLOCK = 200_000  # spectra per block, to bound temporary memory on large libraries


def _table(bins: np.ndarray, values: np.ndarray) -> np.ndarray:
    table = np.zeros(65536, dtype=np.float64)
    table[bins] = values
    return table


def exhaustive_scores(library: Library, peaks: EIPeaks, method: ScoreMethod) -> np.ndarray:
    """Score of ``peaks`` against every MS spectrum of the library, in library order."""
    n = library.n_ms
    scores = np.zeros(n)
    for start in range(0, n, _BLOCK):
        stop = min(n, start + _BLOCK)
        scores[start:stop] = _block_scores(library, peaks, method, start, stop)
    return scores


def _block_scores(library: Library, peaks: EIPeaks, method: ScoreMethod, start: int, stop: int) -> np.ndarray:
    a = library.arrays
    indptr = np.asarray(a["ms_indptr"][start : stop + 1])
    first, last = int(indptr[0]), int(indptr[-1])
    n = stop - start
    owner = np.repeat(np.arange(n), np.diff(indptr))
    mz_int = np.asarray(a["ms_mz"][first:last])
    mz = mz_int.astype(np.float64)
    intensity = np.asarray(a["ms_int"][first:last], dtype=np.float64)
    bins = peaks.mz.astype(np.int64)
    shared = _table(bins, np.ones(bins.size))[mz_int] > 0

    if method == "entropy":
        p_query = _table(bins, scoring_ms.entropy_weights(peaks.intensity))[mz_int]
        p_library = np.asarray(a["ms_p"][first:last], dtype=np.float64)
        terms = np.where(shared, scoring_ms.entropy_terms(p_query, p_library), 0.0)
        return np.minimum(1.0, np.bincount(owner, weights=terms, minlength=n))

    if method == "composite":
        a_pow, b_pow = scoring_ms.COMPOSITE_INTENSITY_POWER, scoring_ms.COMPOSITE_MZ_POWER
    else:
        a_pow, b_pow = scoring_ms.DEFAULT_INTENSITY_POWER, scoring_ms.DEFAULT_MZ_POWER
    w_query_all = scoring_ms.peak_weights(peaks, b_pow, a_pow)
    w_query = _table(bins, w_query_all)[mz_int]
    w_library = intensity**a_pow * mz**b_pow
    numerator = np.bincount(owner, weights=w_query * w_library, minlength=n)

    if method in ("hybrid", "dot"):
        grid = scoring_ms.LOW_MZ_GRID
        if method == "hybrid":
            g_query = int(np.searchsorted(grid, peaks.low_mz, side="right") - 1)
            cut = np.maximum(g_query, np.asarray(a["ms_low"][start:stop]).astype(np.int64))
        else:
            cut = np.zeros(n, dtype=np.int64)
        query_norm2 = np.array([np.sum(w_query_all[peaks.mz >= c] ** 2) for c in grid])
        library_norm2 = np.bincount(
            owner, weights=np.where(mz >= grid[cut][owner], w_library**2, 0.0), minlength=n
        )
        denominator = query_norm2[cut] * library_norm2
        score = safe_divide(numerator**2, denominator)
        if method == "hybrid" and peaks.retention_index is not None:
            ri = np.asarray(a["ms_ri"][start:stop])
            penalty = np.minimum(
                scoring_ms.RI_MAX_PENALTY,
                scoring_ms.RI_RATE
                * np.maximum(0.0, np.abs(ri - peaks.retention_index) - scoring_ms.RI_WINDOW),
            )
            score = score - np.where(np.isnan(ri), 0.0, penalty)
        return score

    library_norm2 = np.bincount(owner, weights=w_library**2, minlength=n)
    if method == "reverse":
        shared_query_norm2 = np.bincount(owner, weights=np.where(shared, w_query**2, 0.0), minlength=n)
        return safe_divide(numerator**2, shared_query_norm2 * library_norm2)
    if method != "composite":
        raise ValueError(f"unknown score method {method!r}")
    f_d = safe_divide(numerator**2, float(np.sum(w_query_all**2)) * library_norm2)
    n_shared = np.bincount(owner, weights=shared.astype(np.float64), minlength=n)
    # Adjacent shared peaks of the same spectrum, in m/z order (CSR rows are sorted by m/z).
    positions = np.flatnonzero(shared)
    pair = owner[positions[1:]] == owner[positions[:-1]]
    now, before = positions[1:][pair], positions[:-1][pair]
    ratio = (w_library[now] / w_library[before]) * (w_query[before] / w_query[now])
    terms = np.minimum(ratio, 1.0 / ratio)
    f_r = safe_divide(np.bincount(owner[now], weights=terms, minlength=n), n_shared)
    n_u = float(peaks.mz.size)
    return np.where(n_shared > 0, safe_divide(n_u * f_d + n_shared * f_r, n_u + n_shared), 0.0)
