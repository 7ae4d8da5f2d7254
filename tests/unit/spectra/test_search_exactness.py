"""The pruned EI search returns exactly the brute-force top-k, and brute force equals the pairwise scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from customslab.spectra import scoring_ms
from customslab.spectra.formats.massbank import read_massbank
from customslab.spectra.library import build_library_from_spectra
from customslab.spectra.library_store import Library
from customslab.spectra.model import Spectrum, Technique
from customslab.spectra.search import ms_top_k
from customslab.spectra.search_exhaustive import exhaustive_scores


@pytest.fixture(scope="module")
def spectra(shared_data: Path) -> list:
    files = sorted((shared_data / "spectra" / "massbank-ei").iterdir())
    return [read_massbank(f)[0] for f in files[::3]]


@pytest.fixture(scope="module")
def library(spectra: list, tmp_path_factory: pytest.TempPathFactory) -> Library:
    return build_library_from_spectra(spectra, tmp_path_factory.mktemp("lib") / "lib")


@pytest.mark.parametrize("method", scoring_ms.SCORE_METHODS)
def test_brute_force_scores_equal_the_pairwise_formulas(spectra: list, library: Library, method: str) -> None:
    query = scoring_ms.prepare_ei(spectra[11])
    scores = exhaustive_scores(library, query, method)  # type: ignore[arg-type]
    for index in range(0, len(spectra), 37):
        expected = scoring_ms.score_pair(query, scoring_ms.prepare_ei(spectra[index]), method)  # type: ignore[arg-type]
        assert scores[index] == pytest.approx(expected, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("method", scoring_ms.SCORE_METHODS)
@pytest.mark.parametrize("k", [1, 5, 20])
def test_the_fast_top_k_equals_brute_force_for_every_score(
    spectra: list, library: Library, method: str, k: int
) -> None:
    for spectrum in spectra[::25]:
        query = scoring_ms.prepare_ei(spectrum)
        fast_ids, fast_scores = ms_top_k(library, query, k, method)  # type: ignore[arg-type]
        brute_ids, brute_scores = ms_top_k(library, query, k, method, exhaustive=True)  # type: ignore[arg-type]
        np.testing.assert_allclose(fast_scores, brute_scores, rtol=1e-6, atol=1e-9)
        assert fast_ids.tolist() == brute_ids.tolist()


def test_perturbed_queries_not_in_the_library_also_get_the_exact_top_k(
    spectra: list, library: Library
) -> None:
    rng = np.random.default_rng(7)
    for spectrum in spectra[5::40]:
        query = scoring_ms.prepare_ei(spectrum)
        noisy = scoring_ms.EIPeaks(
            query.mz, query.intensity * rng.uniform(0.5, 1.5, query.mz.size), query.low_mz, None
        )
        fast_ids, fast_scores = ms_top_k(library, noisy, 10, "hybrid")
        brute_ids, brute_scores = ms_top_k(library, noisy, 10, "hybrid", exhaustive=True)
        assert fast_ids.tolist() == brute_ids.tolist()
        np.testing.assert_allclose(fast_scores, brute_scores, rtol=1e-6)


@pytest.fixture(scope="module")
def crowded(spectra: list, tmp_path_factory: pytest.TempPathFactory) -> Library:
    """Many perturbed copies of each spectrum: near-ties at the top, as in a large real library."""
    rng = np.random.default_rng(3)
    copies = []
    for i in range(12_000):
        source = spectra[i % len(spectra)]
        keep = (rng.random(source.x.size) > 0.1) | (source.y == source.y.max())
        y = source.y[keep] * rng.lognormal(0.0, 0.25, int(keep.sum()))
        copies.append(Spectrum(source.x[keep], y, Technique.EI_MS, source.name, dict(source.metadata)))
    return build_library_from_spectra(copies, tmp_path_factory.mktemp("crowded") / "lib")


@pytest.mark.parametrize("method", ["hybrid", "dot", "entropy"])
def test_the_pruned_search_is_exact_among_many_near_duplicates(
    spectra: list, crowded: Library, method: str
) -> None:
    for spectrum in spectra[3::45]:
        query = scoring_ms.prepare_ei(spectrum)
        for k in (1, 5, 25):
            fast_ids, fast_scores = ms_top_k(crowded, query, k, method)  # type: ignore[arg-type]
            brute_ids, brute_scores = ms_top_k(crowded, query, k, method, exhaustive=True)  # type: ignore[arg-type]
            np.testing.assert_allclose(fast_scores, brute_scores, rtol=1e-6, atol=1e-9)
            assert fast_ids.tolist() == brute_ids.tolist()
