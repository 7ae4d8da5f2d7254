"""Batch identification in worker processes: the same hits as one-by-one search, a shared library."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from customslab.spectra.batch import SearchPool, search_in_process, start_method
from customslab.spectra.batch_worker import NATIVE_THREAD_VARIABLES, native_thread_pools
from customslab.spectra.formats.massbank import read_massbank
from customslab.spectra.library import add_to_library, build_library_from_spectra, read_any
from customslab.spectra.library_store import Library, LibraryError, open_library
from customslab.spectra.model import Spectrum, Technique
from customslab.spectra.search import search, search_many


@pytest.fixture(scope="module")
def spectra(shared_data: Path) -> dict[str, list[Spectrum]]:
    """Real EI-MS, ATR-FTIR and Raman spectra; every fifth of each is kept out of the library."""
    ei = [read_massbank(f)[0] for f in sorted((shared_data / "spectra" / "massbank-ei").iterdir())[:150]]
    polymers = shared_data / "spectra" / "mpx-polymers" / "spectra"
    ftir = [read_any(f)[0] for f in sorted(polymers.glob("*ATR*"))[::12]]
    raman = [read_any(f, excitation_nm=532)[0] for f in sorted(polymers.glob("*Raman*"))[::6]]
    every = ei + ftir + raman
    return {
        "library": [s for i, s in enumerate(every) if i % 5],
        "held_out": [s for i, s in enumerate(every) if i % 5 == 0],
    }


@pytest.fixture(scope="module")
def library(spectra: dict[str, list[Spectrum]], tmp_path_factory: pytest.TempPathFactory) -> Library:
    return build_library_from_spectra(spectra["library"], tmp_path_factory.mktemp("batch") / "lib")


@pytest.fixture(scope="module")
def queries(spectra: dict[str, list[Spectrum]]) -> list[Spectrum]:
    """Held-out and in-library queries of all three techniques, interleaved."""
    mixed = [*spectra["held_out"], *spectra["library"][::7]]
    return [mixed[i] for i in np.random.default_rng(3).permutation(len(mixed))]


def test_the_queries_cover_every_technique_held_out_and_in_the_library(
    library: Library, queries: list[Spectrum], spectra: dict[str, list[Spectrum]]
) -> None:
    techniques = {q.technique for q in queries}
    assert techniques == {Technique.EI_MS, Technique.FTIR, Technique.RAMAN}
    assert set(library.counts) == {"EI-MS", "FTIR", "RAMAN"}
    held_out, in_library = {id(s) for s in spectra["held_out"]}, {id(s) for s in spectra["library"]}
    assert any(id(q) in held_out for q in queries) and any(id(q) in in_library for q in queries)


def test_a_batch_in_two_processes_gives_exactly_the_hits_of_one_by_one_search(
    library: Library, queries: list[Spectrum]
) -> None:
    one_by_one = [search(library, q, 5) for q in queries]
    in_workers = search_many(library, queries, 5, workers=2)
    # Hit is a dataclass: equal means the same entries, ranks, scores to the last bit and matched peaks.
    assert in_workers == one_by_one
    assert all(len(hits) == 5 for hits in in_workers)
    ei_hits = [hits for q, hits in zip(queries, in_workers, strict=True) if q.technique is Technique.EI_MS]
    # ...and the matched peaks were really compared: EI hits share several peaks with their query.
    assert sum(len(h.matched_peaks) for hits in ei_hits for h in hits) > 10 * 5 * len(ei_hits)


def test_a_batch_in_this_process_gives_exactly_the_hits_of_one_by_one_search(
    library: Library, queries: list[Spectrum]
) -> None:
    for method in ("hybrid", "entropy", "reverse"):
        expected = [search(library, q, 3, method) for q in queries]
        assert search_many(library, queries, 3, method, workers=1) == expected
        assert search_in_process(library, queries, 3, method) == expected


def test_an_open_pool_answers_several_batches_and_other_score_methods(
    library: Library, queries: list[Spectrum]
) -> None:
    with SearchPool(library.path, workers=2) as pool:
        pool.start()
        assert pool.search(queries[:9], 4) == [search(library, q, 4) for q in queries[:9]]
        assert pool.search(queries, 2, "entropy") == [search(library, q, 2, "entropy") for q in queries]
        assert pool.search([], 5) == []


def _pool_sizes(pools: list[dict] | None) -> list[int]:
    assert pools, "threadpoolctl lists no native thread pool"
    return [int(p["num_threads"]) for p in pools]


def test_workers_map_the_library_files_and_keep_the_callers_native_thread_count(library: Library) -> None:
    with SearchPool(library, workers=2) as pool:
        report = pool.worker_report()
    assert report["library_id"] == library.library_id
    assert report["mapped_arrays"] == sorted(library.arrays)
    # The caller's BLAS thread count, so FTIR/Raman sums run in the same order as in search() here.
    assert _pool_sizes(report["native_threads"]) == _pool_sizes(native_thread_pools())


def test_workers_asked_for_one_native_thread_run_one_and_still_give_the_ei_hits_of_search(
    library: Library, queries: list[Spectrum]
) -> None:
    ei = [q for q in queries if q.technique is Technique.EI_MS]
    with SearchPool(library, workers=2, native_threads=1) as pool:
        report = pool.worker_report()
        assert pool.search(ei, 5) == [search(library, q, 5) for q in ei]
    assert set(_pool_sizes(report["native_threads"])) == {1}
    assert report["environment"] == dict.fromkeys(NATIVE_THREAD_VARIABLES, "1")


def test_workers_are_forked_when_only_the_main_thread_runs_and_come_from_a_fork_server_otherwise() -> None:
    # Earlier tests of the suite may leave threads running (servers, pools): then no fork.
    assert start_method() == ("fork" if threading.active_count() == 1 else "forkserver")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert start_method() == "forkserver"
    finally:
        stop.set()
        other.join()


def test_workers_from_the_fork_server_give_the_same_hits(library: Library, queries: list[Spectrum]) -> None:
    with SearchPool(library, workers=2, start="forkserver") as pool:
        assert pool.search(queries[:12], 5) == [search(library, q, 5) for q in queries[:12]]


def test_a_library_replaced_before_the_workers_open_it_is_refused_rather_than_mixed_up(
    spectra: dict[str, list[Spectrum]], tmp_path: Path
) -> None:
    build_library_from_spectra(spectra["library"][:40], tmp_path / "lib")
    stale = open_library(tmp_path / "lib")
    add_to_library(tmp_path / "lib", spectra["held_out"][:3])
    with SearchPool(stale, workers=2) as pool, pytest.raises(LibraryError, match="changed"):
        pool.search(spectra["held_out"][:8], 5)


def test_a_query_without_peaks_gets_no_hits_and_a_top_k_below_one_is_refused(library: Library) -> None:
    empty = Spectrum(np.array([50.0, 51.0]), np.array([0.0, 0.0]), Technique.EI_MS)
    assert search_in_process(library, [empty], 5) == [[]] == [search(library, empty, 5)]
    with pytest.raises(ValueError, match="top_k"):
        search_many(library, [empty] * 6, 0, workers=2)
