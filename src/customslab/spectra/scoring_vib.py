"""Similarity scores for FTIR and Raman vectors on a common axis, one pair at a time or batched.

The batched form is our own rather than a library's because it is the hot loop of a library search:
with library rows prepared once (mean zero, unit L2 norm; `preprocess.prepare_vibrational`), every
score below is one matrix–vector product over the library plus O(n) work, so a search costs one
pass over the library's memory. The library may be stored as float32 to halve that traffic.
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
