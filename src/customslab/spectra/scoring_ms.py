"""Similarity scores for electron-ionisation mass spectra.

Pairwise; the library search uses the same formulas.

Peaks are compared at unit resolution: every m/z is rounded to the nearest integer (nominal mass) and
peaks that fall in the same nominal bin keep the largest intensity. EI libraries are recorded at unit
resolution and rounding is right for organic ions below about m/z 600, whose mass defect stays under
0.5. A ``tolerance`` option matches unrounded peaks within a window instead (greedy, closest first).

Defaults were chosen by leave-one-out on the MassBank EI set (benchmarks/ei_accuracy.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from customslab.spectra.model import FloatArray, Spectrum, Technique

IntArray = npt.NDArray[np.int64]
ScoreMethod = Literal["hybrid", "dot", "reverse", "composite", "entropy"]
SCORE_METHODS: tuple[ScoreMethod, ...] = ("hybrid", "dot", "reverse", "composite", "entropy")
DEFAULT_METHOD: ScoreMethod = "hybrid"

DEFAULT_MIN_RELATIVE = 0.01
DEFAULT_MZ_POWER = 1.0
DEFAULT_INTENSITY_POWER = 0.5
# Stein & Scott (1994) found m/z^3 with intensity^0.6 best for their composite score.
COMPOSITE_MZ_POWER = 3.0
COMPOSITE_INTENSITY_POWER = 0.6
# Scan starts are compared on this grid so the library can keep one precomputed norm per grid step.
LOW_MZ_GRID = np.array([0, 20, 26, 28, 30, 33, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 100], float)
RI_WINDOW = 20.0
RI_RATE = 0.001
RI_MAX_PENALTY = 0.2


@dataclass(frozen=True)
class EIPeaks:
    """A centroid EI spectrum ready for scoring: m/z sorted and unique, intensities scaled to max 1."""

    mz: FloatArray
    intensity: FloatArray
    low_mz: float = 0.0
    retention_index: float | None = None


def prepare_ei(
    spectrum: Spectrum, *, min_relative: float = DEFAULT_MIN_RELATIVE, nominal: bool = True
) -> EIPeaks:
    """Round to nominal mass (unless ``nominal=False``), scale to max 1 and drop peaks below ``min_relative``.

    ``low_mz`` keeps the lowest recorded m/z before the noise cut: it stands in for the scan start,
    which differs between laboratories (m/z 27 to 85 in MassBank) and is not stored in most records.
    """
    if spectrum.technique is not Technique.EI_MS:
        raise ValueError(f"expected an EI-MS spectrum, got {spectrum.technique.value}")
    ri = spectrum.metadata.get("retention_index")
    retention_index = float(ri) if ri is not None and math.isfinite(float(ri)) else None
    keep = spectrum.y > 0
    mz, intensity = spectrum.x[keep], spectrum.y[keep]
    if mz.size == 0:
        return EIPeaks(np.zeros(0), np.zeros(0), 0.0, retention_index)
    low_mz = float(np.rint(mz.min()))
    if nominal:
        mz, intensity = nominal_bins(mz, intensity)
    intensity = intensity / intensity.max()
    keep = intensity >= min_relative
    return EIPeaks(mz[keep].astype(np.float64), intensity[keep], low_mz, retention_index)


def nominal_bins(mz: FloatArray, intensity: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Round m/z to integers; within one nominal bin keep the largest intensity."""
    bins = np.rint(mz).astype(np.int64)
    order = np.lexsort((-intensity, bins))
    bins, intensity = bins[order], intensity[order]
    first = np.ones(bins.size, dtype=bool)
    first[1:] = bins[1:] != bins[:-1]
    return bins[first].astype(np.float64), intensity[first]


def match_peaks(
    mz_a: FloatArray, mz_b: FloatArray, tolerance: float | None = None
) -> tuple[IntArray, IntArray]:
    """Indices of matched peaks: equal nominal m/z, or within ``tolerance`` (one-to-one, closest first)."""
    if tolerance is None:
        _, ia, ib = np.intersect1d(np.rint(mz_a), np.rint(mz_b), assume_unique=True, return_indices=True)
        return ia.astype(np.int64), ib.astype(np.int64)
    lo = np.searchsorted(mz_b, mz_a - tolerance, side="left")
    hi = np.searchsorted(mz_b, mz_a + tolerance, side="right")
    pairs = [(abs(mz_a[i] - mz_b[j]), i, j) for i in range(mz_a.size) for j in range(lo[i], hi[i])]
    pairs.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    chosen: list[tuple[int, int]] = []
    for _, i, j in pairs:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            chosen.append((i, j))
    chosen.sort()
    ia_arr = np.array([i for i, _ in chosen], dtype=np.int64)
    ib_arr = np.array([j for _, j in chosen], dtype=np.int64)
    return ia_arr, ib_arr


def safe_divide(numerator: npt.ArrayLike, denominator: np.ndarray) -> FloatArray:
    """numerator / denominator element-wise (broadcast), 0 where the denominator is not positive."""
    out = np.zeros(np.broadcast(numerator, denominator).shape, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def peak_weights(peaks: EIPeaks, mz_power: float, intensity_power: float) -> FloatArray:
    """w = I^a · (m/z)^b (Stein & Scott 1994, J Am Soc Mass Spectrom 5:859)."""
    return peaks.intensity**intensity_power * peaks.mz**mz_power


def grid_floor(low_mz: float) -> float:
    """The scan start rounded down to :data:`LOW_MZ_GRID`."""
    return float(LOW_MZ_GRID[np.searchsorted(LOW_MZ_GRID, low_mz, side="right") - 1])


def dot_product(
    query: EIPeaks,
    library: EIPeaks,
    *,
    mz_power: float = DEFAULT_MZ_POWER,
    intensity_power: float = DEFAULT_INTENSITY_POWER,
    tolerance: float | None = None,
    common_range: bool = False,
) -> float:
    """NIST weighted dot product: F_D = (Σ w_Q·w_L)² / (Σ w_Q² · Σ w_L²), w = I^a·(m/z)^b.

    Stein & Scott 1994 (J Am Soc Mass Spectrom 5:859-866). With ``common_range`` both spectra are
    first cut at c = max(scan start of each, floored to LOW_MZ_GRID): a peak below the other
    laboratory's scan start cannot be matched, so it should not count against the pair (our rationale;
    +1.5 points top-1 on MassBank EI).
    """
    wq = peak_weights(query, mz_power, intensity_power)
    wl = peak_weights(library, mz_power, intensity_power)
    if common_range:
        cut = max(grid_floor(query.low_mz), grid_floor(library.low_mz))
        wq = np.where(query.mz >= cut, wq, 0.0)
        wl = np.where(library.mz >= cut, wl, 0.0)
    ia, ib = match_peaks(query.mz, library.mz, tolerance)
    return _squared_cosine(wq, wl, ia, ib, query_norm2=np.dot(wq, wq))


def reverse_dot_product(
    query: EIPeaks,
    library: EIPeaks,
    *,
    mz_power: float = DEFAULT_MZ_POWER,
    intensity_power: float = DEFAULT_INTENSITY_POWER,
    tolerance: float | None = None,
) -> float:
    """Reverse match: F_D with query peaks absent from the library spectrum left out of Σ w_Q².

    (Σ_shared w_Q·w_L)² / (Σ_shared w_Q² · Σ_all w_L²): a mixture or co-elution in the query is not
    penalised (NIST MS Search "reverse search"; Stein & Scott 1994).
    """
    wq = peak_weights(query, mz_power, intensity_power)
    wl = peak_weights(library, mz_power, intensity_power)
    ia, ib = match_peaks(query.mz, library.mz, tolerance)
    return _squared_cosine(wq, wl, ia, ib, query_norm2=np.dot(wq[ia], wq[ia]))


def _squared_cosine(
    wq: FloatArray, wl: FloatArray, ia: IntArray, ib: IntArray, *, query_norm2: np.floating
) -> float:
    # The forward and reverse dot products differ only in which query peaks make up Σ w_Q².
    denominator = float(query_norm2 * np.dot(wl, wl))
    if denominator == 0.0:
        return 0.0
    return float(np.dot(wq[ia], wl[ib]) ** 2 / denominator)


def ratio_term(wq: FloatArray, wl: FloatArray) -> float:
    """F_R = (1/N) Σ_{i=2..N} (w_L,i/w_L,i-1 · w_Q,i-1/w_Q,i)^n, n = ±1 so each term is ≤ 1.

    Over the N shared peaks in m/z order (Stein & Scott 1994). The m/z factors of the weights cancel.
    """
    n = wq.size
    if n < 2:
        return 0.0
    ratio = (wl[1:] / wl[:-1]) * (wq[:-1] / wq[1:])
    return float(np.minimum(ratio, 1.0 / ratio).sum() / n)


def composite_score(
    query: EIPeaks,
    library: EIPeaks,
    *,
    mz_power: float = COMPOSITE_MZ_POWER,
    intensity_power: float = COMPOSITE_INTENSITY_POWER,
    tolerance: float | None = None,
) -> float:
    """Composite identity: (N_U·F_D + N_LU·F_R) / (N_U + N_LU).

    N_U = peaks in the query, N_LU = shared peaks, F_D = :func:`dot_product`, F_R = :func:`ratio_term`
    (Stein & Scott 1994, J Am Soc Mass Spectrom 5:859-866).
    """
    ia, ib = match_peaks(query.mz, library.mz, tolerance)
    if ia.size == 0:
        return 0.0
    f_d = dot_product(query, library, mz_power=mz_power, intensity_power=intensity_power, tolerance=tolerance)
    wq = peak_weights(query, mz_power, intensity_power)[ia]
    wl = peak_weights(library, mz_power, intensity_power)[ib]
    n_u, n_lu = query.mz.size, ia.size
    return (n_u * f_d + n_lu * ratio_term(wq, wl)) / (n_u + n_lu)


def entropy_weights(intensity: FloatArray) -> FloatArray:
    """Probabilities p (Σp = 1), re-weighted when the spectral entropy S < 3: p ∝ I^(0.25 + 0.25·S).

    Li et al. 2021, Nat Methods 18:1524-1531 ("Spectral entropy outperforms MS/MS dot product").
    """
    total = intensity.sum()
    if total <= 0:
        return np.zeros_like(intensity)
    p = intensity / total
    entropy = float(-np.sum(p * np.log(p, where=p > 0, out=np.zeros_like(p))))
    if entropy < 3.0:
        p = p ** (0.25 + 0.25 * entropy)
        p = p / p.sum()
    return p


def entropy_terms(p: FloatArray, q: FloatArray) -> FloatArray:
    """Per shared peak: ((p+q)·log2(p+q) − p·log2 p − q·log2 q) / 2; their sum is the similarity."""

    def xlog2x(values: FloatArray) -> FloatArray:
        return values * np.log2(values, where=values > 0, out=np.zeros_like(values))

    return (xlog2x(p + q) - xlog2x(p) - xlog2x(q)) / 2.0


def entropy_similarity(query: EIPeaks, library: EIPeaks, *, tolerance: float | None = None) -> float:
    """Entropy similarity 1 − (2·S_PQ − S_P − S_Q) / ln 4, with S_PQ the entropy of (P+Q)/2.

    Li et al. 2021, Nat Methods 18:1524-1531, with their weighting of low-entropy spectra. Only shared
    peaks contribute, so it equals Σ :func:`entropy_terms` over matched peaks.
    """
    ia, ib = match_peaks(query.mz, library.mz, tolerance)
    p = entropy_weights(query.intensity)[ia]
    q = entropy_weights(library.intensity)[ib]
    return float(min(1.0, entropy_terms(p, q).sum()))


def retention_index_penalty(
    query_ri: float | None,
    library_ri: float | None,
    *,
    window: float = RI_WINDOW,
    rate: float = RI_RATE,
    max_penalty: float = RI_MAX_PENALTY,
) -> float:
    """min(max_penalty, rate·max(0, |ΔRI| − window)); 0 unless both retention indices are known.

    The linear penalty beyond a tolerance window, capped, follows AMDIS (Stein 1999, J Am Soc Mass
    Spectrom 10:770-781). Window 20 units and rate 0.001 per unit were set by leave-one-out on MassBank
    EI, where RI comes from different laboratories and columns.
    """
    if query_ri is None or library_ri is None:
        return 0.0
    return min(max_penalty, rate * max(0.0, abs(query_ri - library_ri) - window))


def hybrid_score(query: EIPeaks, library: EIPeaks, *, tolerance: float | None = None) -> float:
    """Common-range weighted dot product minus the retention-index penalty (default score of identify)."""
    base = dot_product(query, library, tolerance=tolerance, common_range=True)
    return base - retention_index_penalty(query.retention_index, library.retention_index)


def score_pair(query: EIPeaks, library: EIPeaks, method: ScoreMethod = DEFAULT_METHOD) -> float:
    """Score one pair with a named method, at the library defaults."""
    if method == "hybrid":
        return hybrid_score(query, library)
    if method == "dot":
        return dot_product(query, library)
    if method == "reverse":
        return reverse_dot_product(query, library)
    if method == "composite":
        return composite_score(query, library)
    if method == "entropy":
        return entropy_similarity(query, library)
    raise ValueError(f"unknown score method {method!r}; choose one of {', '.join(SCORE_METHODS)}")
