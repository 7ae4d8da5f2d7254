"""Similarity scores for FTIR and Raman vectors on a common axis, one pair at a time or batched.

The batched form is our own rather than a library's because it is the hot loop of a library search:
with library rows prepared once (mean zero, unit L2 norm; `preprocess.prepare_vibrational`), every
score below is one matrix product over the library plus O(n) work, so a search reads the library
once. With a dozen shifts that product is limited by arithmetic rather than by memory; storing the
library as float32 makes it about 1.5× faster than float64 (benchmarks/spectra_search.py, FTIR bound).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from customslab.spectra.model import FloatArray

Method = Literal["pearson", "hqi", "derivative", "euclidean"]
METHODS: tuple[Method, ...] = ("pearson", "hqi", "derivative", "euclidean")
# Rows per block when a pass over the library must materialise derivatives; keeps temporaries ~100 MB.
_CHUNK_ROWS = 8192


def _centred_unit(v: FloatArray) -> FloatArray | None:
    centred = np.asarray(v, dtype=np.float64) - np.mean(v)
    norm = float(np.linalg.norm(centred))
    return centred / norm if norm > 0 else None


def pearson(a: FloatArray, b: FloatArray) -> float:
    """Pearson correlation r = Σ(aᵢ−ā)(bᵢ−b̄) / √(Σ(aᵢ−ā)² Σ(bᵢ−b̄)²); 0 for a flat vector.

    The match score of Open Specy (Cowger et al., Anal. Chem. 93 (2021) 7543).
    """
    ua, ub = _centred_unit(a), _centred_unit(b)
    if ua is None or ub is None:
        return 0.0
    return float(np.clip(ua @ ub, -1.0, 1.0))


def hit_quality_index(a: FloatArray, b: FloatArray) -> float:
    """HQI = 100·r² with r the Pearson correlation (Renner et al., TrAC 111 (2019) 229).

    Our one departure: anticorrelated spectra (r < 0) score 0, since r² alone would rank an inverted
    spectrum as a perfect hit.
    """
    r = pearson(a, b)
    return 100.0 * r * r if r > 0 else 0.0


def derivative_correlation(a: FloatArray, b: FloatArray) -> float:
    """Pearson r of first differences, r(Δa, Δb) with Δaᵢ = aᵢ₊₁ − aᵢ; blind to offsets and slow baselines.

    First-derivative correlation, one of the matching strategies reviewed by Renner et al.,
    TrAC 111 (2019) 229.
    """
    return pearson(np.diff(a), np.diff(b))


def euclidean_distance(a: FloatArray, b: FloatArray) -> float:
    """d = ‖â − b̂‖₂ on L2-normalised vectors â = a/‖a‖ (0 identical, 2 opposite); lower is better.

    Euclidean distance as a library-search metric: Varmuza & Filzmoser, Introduction to Multivariate
    Statistical Analysis in Chemometrics (2009), ch. 2.4.
    """
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return float(np.sqrt(2.0))
    return float(np.linalg.norm(np.asarray(a) / na - np.asarray(b) / nb))


def derivative_row_norms(library_matrix: np.ndarray) -> FloatArray:
    """‖Δrowᵢ − mean(Δrowᵢ)‖ per library row; compute once, pass to score_matrix(method='derivative')."""
    norms = np.empty(library_matrix.shape[0], dtype=np.float64)
    for start in range(0, library_matrix.shape[0], _CHUNK_ROWS):
        block = np.diff(np.asarray(library_matrix[start : start + _CHUNK_ROWS], dtype=np.float64), axis=1)
        block -= block.mean(axis=1, keepdims=True)
        norms[start : start + block.shape[0]] = np.sqrt(np.einsum("ij,ij->i", block, block))
    return norms


def score_matrix(
    query_vec: FloatArray,
    library_matrix: np.ndarray,
    method: Method = "hqi",
    *,
    row_derivative_norms: FloatArray | None = None,
) -> FloatArray:
    """Score one query against every row of a library matrix (rows from prepare_vibrational).

    Rows must be mean-zero and unit-norm; then Σⱼ(Lᵢⱼ−L̄ᵢ)(qⱼ−q̄) = Lᵢ·(q−q̄), so
    - pearson: r = L·q̂ with q̂ the centred, unit query (one matrix–vector product);
    - hqi: 100·max(r, 0)² (Renner et al. 2019);
    - euclidean: ‖Lᵢ − q̂‖ = √(2 − 2r), on the prepared (centred, unit) vectors;
    - derivative: r(ΔLᵢ, Δq) = Lᵢ·(Dᵀ(Δq − mean Δq)) / (‖ΔLᵢ − mean ΔLᵢ‖ ‖Δq − mean Δq‖), again one
      product; the row norms come from derivative_row_norms (computed here, one extra pass, if not given).
    """
    matrix = np.asarray(library_matrix)
    if matrix.ndim != 2 or matrix.shape[1] != np.shape(query_vec)[0]:
        raise ValueError(
            f"library matrix {matrix.shape} does not match a query of length {np.shape(query_vec)[0]}"
        )
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    dtype = matrix.dtype if matrix.dtype in (np.float32, np.float64) else np.float64
    if method == "derivative":
        d = np.diff(np.asarray(query_vec, dtype=np.float64))
        d -= d.mean()
        d_norm = float(np.linalg.norm(d))
        if d_norm == 0:
            return np.zeros(matrix.shape[0])
        # Dᵀd: the adjoint of first differencing, so that Lᵢ·(Dᵀd) = (ΔLᵢ)·d.
        adjoint = np.zeros(matrix.shape[1])
        adjoint[1:] += d
        adjoint[:-1] -= d
        numerators = (matrix @ adjoint.astype(dtype)).astype(np.float64)
        norms = derivative_row_norms(matrix) if row_derivative_norms is None else row_derivative_norms
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(norms > 0, numerators / (norms * d_norm), 0.0)
        return np.clip(r, -1.0, 1.0)
    q = _centred_unit(query_vec)
    if q is None:
        return np.zeros(matrix.shape[0]) if method != "euclidean" else np.full(matrix.shape[0], np.sqrt(2.0))
    r = np.clip((matrix @ q.astype(dtype)).astype(np.float64), -1.0, 1.0)
    if method == "pearson":
        return r
    if method == "hqi":
        return 100.0 * np.square(np.maximum(r, 0.0))
    return np.sqrt(2.0 - 2.0 * r)


def shifted_queries(vector: FloatArray, kept: np.ndarray, max_shift: int) -> np.ndarray:
    """The query moved by −K…K axis steps, block by block; points shifted in from outside are 0.

    Columns of the result are the shifts in order; every column is zero where the query is not kept,
    so each shift is compared over the same points.
    """
    width = kept.size
    blocks = vector.reshape(-1, width)
    out = np.zeros((vector.size, 2 * max_shift + 1))
    for column, shift in enumerate(range(-max_shift, max_shift + 1)):
        moved = np.zeros_like(blocks)
        if shift >= 0:
            moved[:, shift:] = blocks[:, : width - shift]
        else:
            moved[:, :shift] = blocks[:, -shift:]
        out[:, column] = (moved * kept).reshape(-1)
    return out


def masked_shift_scores(
    query: FloatArray,
    query_kept: np.ndarray,
    matrix: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    row_sums: np.ndarray,
    *,
    max_shift: int = 0,
    min_points: int = 1,
) -> tuple[FloatArray, np.ndarray]:
    """Pearson r of the query with every library row over the points both kept, best over shifts.

    Rows and query are B blocks of one axis each (zero where not kept). For row i the shared points
    Rᵢ are the row's range [startᵢ, stopᵢ] ∩ the query's kept points, in every block, and

        r = (Σlq − Σl·Σq/n) / √((Σl² − (Σl)²/n)(Σq² − (Σq)²/n))     (sums over Rᵢ, n = |Rᵢ|)

    which is the ordinary Pearson correlation restricted to Rᵢ. Σlq for all shifts is one product
    of the library with a (points × shifts) matrix, one pass over the library's memory; Σq, Σq² and n
    come from prefix sums of the query (O(1) per row); Σl and Σl² are the row's stored sums minus
    what lies outside the query's range. Returns (best r, the shift in axis steps that gave it).
    Rows sharing fewer than ``min_points`` points per block score −1.
    """
    matrix = np.asarray(matrix)
    width = query_kept.size
    n_blocks = query.size // width
    if matrix.ndim != 2 or matrix.shape[1] != query.size or n_blocks * width != query.size:
        raise ValueError(f"library matrix {matrix.shape} does not match a query of length {query.size}")
    shifted = shifted_queries(np.asarray(query, dtype=np.float64), query_kept, max_shift)
    dtype = matrix.dtype if matrix.dtype in (np.float32, np.float64) else np.float64
    lq = (matrix @ shifted.astype(dtype)).astype(np.float64)  # rows × shifts
    kept_idx = np.flatnonzero(query_kept)
    q_lo, q_hi = (int(kept_idx[0]), int(kept_idx[-1])) if kept_idx.size else (0, -1)
    lo = np.maximum(np.asarray(starts, dtype=np.int64), q_lo)
    hi = np.minimum(np.asarray(stops, dtype=np.int64), q_hi)
    empty = hi < lo
    lo_c, hi_c = np.where(empty, 0, lo), np.where(empty, -1, hi)

    def range_sum(prefix: np.ndarray) -> np.ndarray:
        # prefix has a leading zero row: Σ over [lo, hi] = prefix[hi+1] − prefix[lo]
        return prefix[hi_c + 1] - prefix[lo_c]

    count = np.concatenate(([0], np.cumsum(query_kept)))
    n = n_blocks * range_sum(count).astype(np.float64)
    s_q = np.zeros_like(lq)
    s_qq = np.zeros_like(lq)
    for b in range(n_blocks):
        part = shifted[b * width : (b + 1) * width]
        zeros = np.zeros((1, part.shape[1]))
        s_q += range_sum(np.concatenate((zeros, np.cumsum(part, axis=0))))
        s_qq += range_sum(np.concatenate((zeros, np.cumsum(part * part, axis=0))))
    s_l = np.asarray(row_sums[:, 0], dtype=np.float64).copy()
    s_ll = np.asarray(row_sums[:, 1], dtype=np.float64).copy()
    outside = np.ones(width, dtype=bool)
    outside[q_lo : q_hi + 1] = False
    if outside.any():
        cols = np.flatnonzero(np.tile(outside, n_blocks))
        for first in range(0, matrix.shape[0], _CHUNK_ROWS):
            block = np.asarray(matrix[first : first + _CHUNK_ROWS][:, cols], dtype=np.float64)
            s_l[first : first + block.shape[0]] -= block.sum(axis=1)
            s_ll[first : first + block.shape[0]] -= np.einsum("ij,ij->i", block, block)
    with np.errstate(divide="ignore", invalid="ignore"):
        safe_n = np.where(n > 0, n, 1.0)[:, None]
        cov = lq - s_l[:, None] * s_q / safe_n
        var_l = (s_ll - s_l * s_l / safe_n[:, 0])[:, None]
        var_q = s_qq - s_q * s_q / safe_n
        r = np.where((var_l > 1e-12) & (var_q > 1e-12), cov / np.sqrt(var_l * var_q), -1.0)
    r = np.clip(r, -1.0, 1.0)
    r[n < n_blocks * max(min_points, 1)] = -1.0
    best = np.argmax(r, axis=1)
    return r[np.arange(r.shape[0]), best], best - max_shift


def row_sums(matrix: np.ndarray) -> np.ndarray:
    """(Σ row, Σ row²) per library row, float64; stored with the library for masked_shift_scores."""
    out = np.empty((matrix.shape[0], 2), dtype=np.float64)
    for first in range(0, matrix.shape[0], _CHUNK_ROWS):
        block = np.asarray(matrix[first : first + _CHUNK_ROWS], dtype=np.float64)
        out[first : first + block.shape[0], 0] = block.sum(axis=1)
        out[first : first + block.shape[0], 1] = np.einsum("ij,ij->i", block, block)
    return out
