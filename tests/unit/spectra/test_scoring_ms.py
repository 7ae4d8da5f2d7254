"""EI-MS scores: their formulas on hand-made spectra and their basic properties."""

from __future__ import annotations

import numpy as np
import pytest

from customslab.spectra import scoring_ms as sm
from customslab.spectra.model import Spectrum, Technique


def peaks(mz: list[float], intensity: list[float], ri: float | None = None, low: float = 0.0) -> sm.EIPeaks:
    return sm.EIPeaks(np.array(mz, float), np.array(intensity, float), low, ri)


def test_peaks_are_rounded_to_nominal_mass_keeping_the_largest_in_a_bin() -> None:
    spectrum = Spectrum([40.9, 41.2, 43.0, 57.4], [50, 100, 10, 0.5], Technique.EI_MS)
    prepared = sm.prepare_ei(spectrum, min_relative=0.01)
    assert prepared.mz.tolist() == [41, 43] and prepared.intensity.tolist() == [1.0, 0.1]
    assert prepared.low_mz == 41.0


def test_the_dot_product_follows_the_weighted_formula() -> None:
    q, lib = peaks([41, 43, 57], [1.0, 0.5, 0.25]), peaks([41, 57, 71], [0.8, 1.0, 0.3])
    wq, wl = np.sqrt([1.0, 0.5, 0.25]) * [41, 43, 57], np.sqrt([0.8, 1.0, 0.3]) * [41, 57, 71]
    expected = (wq[0] * wl[0] + wq[2] * wl[1]) ** 2 / (wq @ wq * (wl @ wl))
    assert sm.dot_product(q, lib) == pytest.approx(expected)
    assert sm.dot_product(q, q) == pytest.approx(1.0)


def test_reverse_search_ignores_query_peaks_absent_from_the_library_spectrum() -> None:
    library = peaks([41, 57], [1.0, 0.5])
    mixture = peaks([41, 57, 99, 120], [1.0, 0.5, 0.9, 0.7])
    assert sm.reverse_dot_product(mixture, library) == pytest.approx(1.0)
    assert sm.dot_product(mixture, library) < 0.5


def test_the_ratio_term_rewards_the_same_relative_heights_of_adjacent_shared_peaks() -> None:
    same = sm.ratio_term(np.array([1.0, 2.0, 4.0]), np.array([2.0, 4.0, 8.0]))
    assert same == pytest.approx(2 / 3)
    assert sm.ratio_term(np.array([1.0, 2.0]), np.array([2.0, 1.0])) == pytest.approx(0.25 / 2)


def test_the_composite_score_mixes_dot_product_and_ratio_term_by_peak_counts() -> None:
    q, lib = peaks([41, 43, 57], [1.0, 0.5, 0.25]), peaks([41, 43, 57], [1.0, 0.4, 0.3])
    f_d = sm.dot_product(q, lib, mz_power=3, intensity_power=0.6)
    wq = sm.peak_weights(q, 3, 0.6)
    wl = sm.peak_weights(lib, 3, 0.6)
    expected = (3 * f_d + 3 * sm.ratio_term(wq, wl)) / 6
    assert sm.composite_score(q, lib) == pytest.approx(expected)


def test_entropy_similarity_is_one_for_identical_and_zero_for_disjoint_spectra() -> None:
    a = peaks([41, 43, 57], [1.0, 0.5, 0.25])
    assert sm.entropy_similarity(a, a) == pytest.approx(1.0)
    assert sm.entropy_similarity(a, peaks([91, 92], [1.0, 0.5])) == 0.0


def test_entropy_similarity_matches_the_definition_with_merged_entropy() -> None:
    a, b = peaks([41, 43, 57], [1.0, 0.5, 0.25]), peaks([41, 57, 71], [0.3, 1.0, 0.6])
    p, q = np.zeros(100), np.zeros(100)
    p[[41, 43, 57]] = sm.entropy_weights(a.intensity)
    q[[41, 57, 71]] = sm.entropy_weights(b.intensity)

    def entropy(x: np.ndarray) -> float:
        x = x[x > 0]
        return float(-(x * np.log(x)).sum())

    expected = 1 - (2 * entropy((p + q) / 2) - entropy(p) - entropy(q)) / np.log(4)
    assert sm.entropy_similarity(a, b) == pytest.approx(expected)


def test_low_entropy_spectra_are_reweighted_as_li_et_al_describe() -> None:
    intensity = np.array([1.0, 0.01])
    p = intensity / intensity.sum()
    s = -(p * np.log(p)).sum()
    expected = p ** (0.25 + 0.25 * s)
    assert sm.entropy_weights(intensity) == pytest.approx(expected / expected.sum())


def test_the_retention_index_penalty_starts_after_the_window_and_is_capped() -> None:
    assert sm.retention_index_penalty(1000, 1015) == 0.0
    assert sm.retention_index_penalty(1000, 1120) == pytest.approx(0.1)
    assert sm.retention_index_penalty(1000, 3000) == sm.RI_MAX_PENALTY
    assert sm.retention_index_penalty(None, 3000) == 0.0


def test_the_hybrid_score_is_lowered_only_when_both_retention_indices_differ() -> None:
    a = peaks([41, 43, 57], [1.0, 0.5, 0.25], ri=1000)
    far = peaks([41, 43, 57], [1.0, 0.5, 0.25], ri=1220)
    unknown = peaks([41, 43, 57], [1.0, 0.5, 0.25])
    assert sm.hybrid_score(a, unknown) == pytest.approx(1.0)
    assert sm.hybrid_score(a, far) == pytest.approx(0.8)


def test_peaks_below_the_other_scan_start_do_not_count_in_the_hybrid_score() -> None:
    full = peaks([30, 41, 90, 120], [1.0, 0.5, 0.6, 0.4], low=30)
    cut = peaks([90, 120], [0.6, 0.4], low=85)
    assert sm.hybrid_score(full, cut) == pytest.approx(1.0)
    assert sm.dot_product(full, cut) < 0.9


def test_tolerance_matching_pairs_each_peak_once_closest_first() -> None:
    ia, ib = sm.match_peaks(np.array([100.0, 100.3]), np.array([100.25, 101.0]), tolerance=0.3)
    assert ia.tolist() == [1] and ib.tolist() == [0]
    a, b = peaks([100.02, 150.0], [1.0, 0.5]), peaks([100.0, 150.01], [1.0, 0.5])
    assert sm.dot_product(a, b, tolerance=0.05) == pytest.approx(1.0, abs=1e-6)


def test_an_unknown_score_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown score method"):
        sm.score_pair(peaks([41], [1.0]), peaks([41], [1.0]), "cosine")  # type: ignore[arg-type]
