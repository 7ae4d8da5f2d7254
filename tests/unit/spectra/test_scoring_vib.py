"""FTIR/Raman similarity scores, one pair at a time and batched."""

from __future__ import annotations

import numpy as np
import pytest

from customslab.spectra.scoring_vib import (
    METHODS,
    derivative_correlation,
    derivative_row_norms,
    euclidean_distance,
    hit_quality_index,
    pearson,
    score_matrix,
)


def _prepared(rng: np.random.Generator, rows: int, n: int = 300) -> np.ndarray:
    m = np.cumsum(rng.normal(size=(rows, n)), axis=1)
    m -= m.mean(axis=1, keepdims=True)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_pearson_matches_numpy_and_ignores_scale_and_offset() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=100), rng.normal(size=100)
    assert pearson(a, b) == pytest.approx(np.corrcoef(a, b)[0, 1])
    assert pearson(a, 3 * a + 5) == pytest.approx(1.0)
    assert pearson(a, np.ones(100)) == 0.0


def test_hqi_is_100_r_squared_and_zero_for_anticorrelation() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=100), rng.normal(size=100)
    r = np.corrcoef(a, a + b)[0, 1]
    assert hit_quality_index(a, a + b) == pytest.approx(100 * r * r)
    assert hit_quality_index(a, -a) == 0.0
    assert hit_quality_index(a, a) == pytest.approx(100.0)


def test_derivative_correlation_ignores_a_linear_baseline_that_pearson_does_not() -> None:
    x = np.linspace(0, 1, 500)
    peak = np.exp(-(((x - 0.5) / 0.02) ** 2))
    tilted = peak + 5 * x
    assert derivative_correlation(peak, tilted) > 0.99 > 0.5 > pearson(peak, tilted)


def test_euclidean_distance_is_zero_for_scaled_copies_and_two_for_opposites() -> None:
    a = np.array([1.0, 2.0, 3.0])
    assert euclidean_distance(a, 4 * a) == pytest.approx(0.0)
    assert euclidean_distance(a, -a) == pytest.approx(2.0)


@pytest.mark.parametrize("method", METHODS)
def test_batched_scores_equal_the_pairwise_scores(method: str) -> None:
    rng = np.random.default_rng(3)
    library = _prepared(rng, 40)
    query = library[7] + 0.3 * rng.normal(size=300)
    pairwise = {
        "pearson": pearson,
        "hqi": hit_quality_index,
        "derivative": derivative_correlation,
        "euclidean": lambda a, b: euclidean_distance(a - a.mean(), b),
    }[method]
    expected = np.array([pairwise(query, row) for row in library])
    np.testing.assert_allclose(score_matrix(query, library, method), expected, atol=1e-9)  # type: ignore[arg-type]


def test_a_float32_library_gives_the_same_ranking_and_scores_to_single_precision() -> None:
    rng = np.random.default_rng(4)
    library = _prepared(rng, 200)
    query = library[11] + 0.02 * rng.normal(size=300)
    exact = score_matrix(query, library, "pearson")
    single = score_matrix(query, library.astype(np.float32), "pearson")
    np.testing.assert_allclose(single, exact, atol=1e-5)
    assert int(np.argmax(single)) == int(np.argmax(exact)) == 11


def test_precomputed_derivative_norms_give_the_same_scores() -> None:
    rng = np.random.default_rng(5)
    library = _prepared(rng, 30)
    query = rng.normal(size=300)
    norms = derivative_row_norms(library)
    np.testing.assert_allclose(
        score_matrix(query, library, "derivative", row_derivative_norms=norms),
        score_matrix(query, library, "derivative"),
    )


def test_a_query_of_the_wrong_length_or_an_unknown_method_is_refused() -> None:
    library = np.eye(3)
    with pytest.raises(ValueError, match="does not match"):
        score_matrix(np.ones(4), library)
    with pytest.raises(ValueError, match="unknown method"):
        score_matrix(np.ones(3), library, "cosine")  # type: ignore[arg-type]


def test_a_flat_query_scores_zero_against_everything() -> None:
    library = _prepared(np.random.default_rng(6), 5)
    np.testing.assert_array_equal(score_matrix(np.ones(300), library, "hqi"), 0.0)
    np.testing.assert_array_equal(score_matrix(np.ones(300), library, "derivative"), 0.0)
