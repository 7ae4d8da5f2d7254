"""The pruned EI search returns exactly the brute-force top-k, and brute force equals the pairwise scores."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from customslab.spectra import scoring_ms, search_kernel, search_pruned
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


def _engines_agree(spectra: list, crowded: Library, method: str, first: int, seed: int) -> None:
    """Compiled = NumPy = brute force, ids and scores, for library spectra and noisy copies of them.

    The cosine scores agree to the last bit. The entropy scores take their logarithms from the C
    library on the compiled path and from NumPy's own vectorised code on the other, which differ in
    the last bit for a small share of arguments: they agree to 1e-14.
    """
    rng = np.random.default_rng(seed)
    for spectrum in spectra[first::50]:
        query = scoring_ms.prepare_ei(spectrum)
        noisy = scoring_ms.EIPeaks(
            query.mz, query.intensity * rng.uniform(0.5, 1.5, query.mz.size), query.low_mz, 1500.0
        )
        for peaks in (query, noisy):
            compiled = ms_top_k(crowded, peaks, 10, method, engine="compiled")  # type: ignore[arg-type]
            numpy_only = ms_top_k(crowded, peaks, 10, method, engine="numpy")  # type: ignore[arg-type]
            brute_ids, brute_scores = ms_top_k(crowded, peaks, 10, method, exhaustive=True)  # type: ignore[arg-type]
            assert compiled[0].tolist() == numpy_only[0].tolist() == brute_ids.tolist()
            if method == "entropy":
                np.testing.assert_allclose(compiled[1], numpy_only[1], rtol=1e-14, atol=0)
            else:
                assert compiled[1].tolist() == numpy_only[1].tolist()
            np.testing.assert_allclose(compiled[1], brute_scores, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("method", ["hybrid", "dot", "entropy"])
def test_the_compiled_and_numpy_engines_give_the_same_hits_and_scores(
    spectra: list, crowded: Library, method: str
) -> None:
    assert search_kernel.available()  # numba is a dependency; the compiled path must really run
    _engines_agree(spectra, crowded, method, 7, 11)


@pytest.mark.parametrize("method", ["hybrid", "dot", "entropy"])
def test_the_blocked_accumulation_over_many_blocks_gives_the_numpy_hits_and_scores(
    spectra: list, crowded: Library, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With blocks of 1,000 spectra the 12,000-spectrum library spans 12 blocks (the real block is
    32,768 spectra, more than this library): lists cross block boundaries, and some skip blocks."""
    monkeypatch.setattr(search_pruned, "BLOCK", 1000)
    assert crowded.n_ms > 10 * search_pruned.BLOCK
    _engines_agree(spectra, crowded, method, 9, 13)


@pytest.mark.parametrize("block", [1 << 15, 7, 1])
def test_the_compiled_loops_add_the_numpy_sums_or_a_tight_bound_of_them(block: int) -> None:
    loops = search_kernel.kernels()
    assert loops is not None
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 50, 400).astype(np.int32)
    ids[:100].sort()  # posting lists are sorted by spectrum id
    ids[150:].sort()
    weights = rng.uniform(0.01, 1.0, 400).astype(np.float32)
    weights[:20] = rng.uniform(1e-9, 1e-5, 20)  # below the first bin of the entropy tables
    weights[20] = 1.0
    starts, ends, values = np.array([0, 150], np.int64), np.array([100, 400], np.int64), np.array([0.3, 0.05])
    cosine, entropy = np.zeros(50), np.zeros(50)
    shift, base = search_pruned._P_SHIFT, search_pruned._P_BASE
    tables = search_pruned.entropy_tables(values)
    bits = weights.view(np.uint32)
    loops.add_cosine(cosine, ids, weights, starts, ends, values, block, 0, 50, False)
    loops.add_entropy_bound(entropy, ids, bits, starts, ends, tables, shift, base, block, 0, 50, False)
    # A previous query's sums: ``fresh`` zeroes them block by block.
    shared_cosine, shared_entropy = np.full(50, 7.0), np.full(50, 7.0)
    for lo, hi in ((0, 17), (17, 50)):  # two threads' shares of the library
        loops.add_cosine(shared_cosine, ids, weights, starts, ends, values, block, lo, hi, True)
        loops.add_entropy_bound(
            shared_entropy, ids, bits, starts, ends, tables, shift, base, block, lo, hi, True
        )
    assert shared_cosine.tolist() == cosine.tolist()
    assert shared_entropy.tolist() == entropy.tolist()
    expected_cosine, expected_entropy, loose = np.zeros(50), np.zeros(50), np.zeros(50)
    for start, end, q in zip(starts, ends, values, strict=True):
        p = weights[start:end].astype(np.float64)
        np.add.at(expected_cosine, ids[start:end], q * p)
        np.add.at(expected_entropy, ids[start:end], scoring_ms.entropy_terms(np.full(p.size, q), p))
        # A bin is 1/32 of an octave: its upper edge is at most p·(1 + 1/32), or 2⁻¹⁶·(1 + 1/32).
        edge = np.maximum(p, 2.0**-16) * (1 + 1 / 32)
        np.add.at(loose, ids[start:end], scoring_ms.entropy_terms(np.full(p.size, q), edge))
    assert cosine.tolist() == expected_cosine.tolist()  # same terms added in the same order
    # The entropy sums bound the exact ones from above, and tightly: the search stays exact, and
    # prunes nearly as much as with the exact terms. The term is homogeneous of degree 1 and grows
    # with q, so t(λp, q) ≤ λ·t(p, q) for λ ≥ 1: an edge within 1/32 of p costs at most 1/32.
    assert np.all(entropy >= expected_entropy - 1e-15)
    assert np.all(entropy <= loose + 1e-15)
    assert np.all(entropy <= expected_entropy * (1 + 1 / 32) + 1e-4)


def test_an_unknown_engine_is_refused(library: Library, spectra: list) -> None:
    with pytest.raises(ValueError, match="unknown search engine"):
        ms_top_k(library, scoring_ms.prepare_ei(spectra[0]), 5, "hybrid", engine="gpu")  # type: ignore[arg-type]


def _assert_best_offered(
    plans: list[search_pruned.Plan], acc: np.ndarray, results: list, threads: int
) -> None:
    """The compiled pass offers, for raising τ, the survivors best by partial score: the same values as
    NumPy's (spectra tied at the last place may differ), or with two threads each thread's best."""
    kept, numpy_best = results[1]
    compiled_values = np.sort(plans[0].partial(results[0][1], acc[results[0][1]]))
    numpy_values = np.sort(plans[1].partial(numpy_best, acc[numpy_best]))
    assert numpy_values.size == min(search_pruned._PROBE, kept.size)
    if threads == 1:
        assert compiled_values.tolist() == numpy_values.tolist()
        passed_over = np.setdiff1d(kept, results[0][1])  # by the compiled heap: none is better
        assert (
            passed_over.size == 0
            or plans[0].partial(passed_over, acc[passed_over]).max() <= compiled_values[0]
        )
    else:
        assert compiled_values.size <= threads * search_pruned._PROBE
        if numpy_values.size:
            assert compiled_values[-numpy_values.size :].tolist() == numpy_values.tolist()
    others = np.setdiff1d(kept, numpy_best)
    assert others.size == 0 or plans[1].partial(others, acc[others]).max() <= numpy_values[0]


@pytest.mark.parametrize("method", ["hybrid", "dot", "entropy"])
def test_the_compiled_pass_for_the_threshold_finds_the_best_partial_scores_of_numpy(
    spectra: list, crowded: Library, method: str
) -> None:
    """The compiled pass skips runs of 64 spectra none of which can enter its heap; it still offers the
    spectra best by partial score (the same values as NumPy's; spectra tied at the last place may
    differ)."""
    for spectrum in spectra[4::60]:
        peaks = scoring_ms.prepare_ei(spectrum)
        plans: list[search_pruned.Plan] = []
        for compiled in (True, False):
            plan: search_pruned.Plan = (
                search_pruned.EntropyPlan(crowded, peaks)
                if method == "entropy"
                else search_pruned.CosinePlan(crowded, peaks, method == "hybrid", None)
            )
            plan.compiled = compiled
            plans.append(plan)
        acc = np.zeros(crowded.n_ms)
        search_pruned._add_lists(plans[1], acc, plans[1].order[: max(1, plans[1].order.size // 2)])
        assert np.count_nonzero(acc) > 4 * search_pruned._PROBE  # enough runs of 64 to skip some
        best = [
            np.sort(plans[1].partial(ids, acc[ids])) for ids in (search_pruned._best(p, acc) for p in plans)
        ]
        assert best[0].size == search_pruned._PROBE
        assert best[0].tolist() == best[1].tolist()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("method", ["hybrid", "dot"])
def test_the_compiled_survivor_pass_keeps_the_same_spectra_as_numpy(
    spectra: list, crowded: Library, method: str, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two threads, the library (made to count as large) and the candidates are split in two."""
    monkeypatch.setattr(search_pruned, "MIN_SPLIT_LIBRARY", 1000)
    monkeypatch.setattr(search_pruned, "MIN_SPLIT_CANDIDATES", 100)
    for spectrum in spectra[4::60]:
        peaks = scoring_ms.prepare_ei(spectrum)
        peaks = scoring_ms.EIPeaks(peaks.mz, peaks.intensity, peaks.low_mz, 1500.0)
        plans: list[search_pruned.Plan] = []
        for compiled in (True, False):
            plan = search_pruned.CosinePlan(crowded, peaks, method == "hybrid", 1500.0)
            plan.compiled = compiled
            plans.append(plan)
        read = max(1, plans[0].order.size // 2)
        acc = np.zeros(crowded.n_ms)
        search_pruned._add_lists(plans[1], acc, plans[1].order[:read])
        with search_pruned.threads(threads):
            for tau in (0.2, 0.5, 0.8):
                everyone = [search_pruned._survivors(p, acc, None, read, tau) for p in plans]
                assert everyone[0][0].tolist() == everyone[1][0].tolist()
                assert everyone[0][0].size > 0 or tau > 0.5
                _assert_best_offered(plans, acc, everyone, threads)
                some = everyone[1][0][::2]
                kept = [search_pruned._survivors(p, acc, some, read, tau + 0.05) for p in plans]
                assert kept[0][0].tolist() == kept[1][0].tolist()
                _assert_best_offered(plans, acc, kept, threads)


@pytest.mark.parametrize("method", ["hybrid", "dot", "entropy"])
def test_two_threads_find_the_hits_and_scores_of_one(
    spectra: list, crowded: Library, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_pruned, "MIN_SPLIT_LIBRARY", 1000)
    monkeypatch.setattr(search_pruned, "MIN_SPLIT_CANDIDATES", 100)
    run, split = search_pruned._run, []

    def counting_run(calls: list) -> list:
        split.append(len(calls))
        return run(calls)

    monkeypatch.setattr(search_pruned, "_run", counting_run)
    for spectrum in spectra[2::40]:
        query = scoring_ms.prepare_ei(spectrum)
        results = []
        for threads in (1, 2):
            split.clear()
            with search_pruned.threads(threads):
                results.append(ms_top_k(crowded, query, 10, method))  # type: ignore[arg-type]
            assert max(split) == threads  # with two, the passes really were split
        assert results[0][0].tolist() == results[1][0].tolist()
        assert results[0][1].tolist() == results[1][1].tolist()


def test_an_error_in_one_thread_waits_for_the_other_before_it_is_raised() -> None:
    """A pool job must not go on writing into the caller's reused buffers after the caller failed."""
    finished = []

    def slow() -> int:
        time.sleep(0.2)
        finished.append(True)
        return 1

    def failing() -> int:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        search_pruned._run([failing, slow])
    assert finished == [True]


def test_the_compiled_passes_need_no_compilation_after_warm_up(spectra: list, crowded: Library) -> None:
    """warm_up compiles for the types every score passes (a new signature would compile on a query)."""
    loops = search_kernel.kernels()
    assert loops is not None
    loops.warm_up()
    kernels = [getattr(loops, name) for name in dir(loops) if hasattr(getattr(loops, name), "signatures")]
    before = {kernel.__name__: len(kernel.signatures) for kernel in kernels}
    query = scoring_ms.prepare_ei(spectra[5])
    for method in ("hybrid", "dot", "entropy"):
        for threads in (1, 2):
            with search_pruned.threads(threads):
                ms_top_k(crowded, query, 5, method)  # type: ignore[arg-type]
    assert {kernel.__name__: len(kernel.signatures) for kernel in kernels} == before
    with pytest.raises(ValueError, match="at least one thread"), search_pruned.threads(0):
        pass


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("method", ["hybrid", "entropy"])
def test_the_k_th_hit_survives_when_every_list_is_read_and_the_threshold_is_its_own_score(
    spectra: list, crowded: Library, method: str, compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every list read, a candidate's bound is its partial sum alone, from the index's float32
    weights, while the threshold is an exact score from the peak table: the margin must cover the
    float32 rounding, or the k-th hit can fall just below its own score and be lost."""
    monkeypatch.setattr(search_pruned, "_FINISH_COST", 1e9)  # cosine: read every list before finishing
    monkeypatch.setattr(search_pruned, "_SEED_BOUND", -1.0)  # entropy: read every list in the seed
    rng = np.random.default_rng(17)
    for spectrum in spectra[1::12]:
        query = scoring_ms.prepare_ei(spectrum)
        noisy = scoring_ms.EIPeaks(
            query.mz, query.intensity * rng.uniform(0.5, 1.5, query.mz.size), query.low_mz, 1500.0
        )
        plan: search_pruned.Plan = (
            search_pruned.EntropyPlan(crowded, noisy)
            if method == "entropy"
            else search_pruned.CosinePlan(crowded, noisy, True, 1500.0)
        )
        plan.compiled = compiled
        ids, scores = search_pruned.pruned_top_k(plan, 5)
        brute_ids, brute_scores = ms_top_k(crowded, noisy, 5, method, exhaustive=True)  # type: ignore[arg-type]
        assert ids.tolist() == brute_ids.tolist()
        np.testing.assert_allclose(scores, brute_scores, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_compiled_sketch_pass_keeps_the_same_spectra_and_bounds_as_numpy(
    spectra: list, crowded: Library, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both engines keep the spectra met whose sketch bound reaches τ, with the same bounds, and offer
    the highest bounds for raising τ (with two threads, each thread's share of the library)."""
    monkeypatch.setattr(search_pruned, "MIN_SPLIT_LIBRARY", 1000)
    sketch_mz = np.asarray(crowded.arrays["ms_sketch_mz"])
    for spectrum in spectra[4::60]:
        peaks = scoring_ms.prepare_ei(spectrum)
        plans = [search_pruned.EntropyPlan(crowded, peaks) for _ in range(2)]
        plans[1].compiled = False
        order = plans[0].order
        rare = order[~np.isin(plans[0].bins[order], sketch_mz)]
        read = rare[: max(1, rare.size // 2)]  # half the rare lists: every kind of list left unread
        acc = np.zeros(crowded.n_ms)
        search_pruned._add_lists(plans[1], acc, read)
        bounds = plans[0].sketch_bounds(np.setdiff1d(order, read))
        assert bounds.columns.size > 0
        with search_pruned.threads(threads):
            for tau in (0.2, 0.5, 0.8):
                compiled, numpy_only = (search_pruned._sketch_survivors(p, acc, bounds, tau) for p in plans)
                assert compiled[0].tolist() == numpy_only[0].tolist()
                assert compiled[1].tolist() == numpy_only[1].tolist()
                assert compiled[0].size > 0 or tau > 0.5
                offered = np.isin(compiled[0], compiled[2])
                assert offered.sum() == min(compiled[0].size, threads * search_pruned._PROBE)
                if threads == 1 and not offered.all():
                    assert compiled[1][~offered].max() <= compiled[1][offered].min()
                top = np.sort(numpy_only[1][np.isin(numpy_only[0], numpy_only[2])])
                assert top.tolist() == np.sort(compiled[1])[::-1][: top.size][::-1].tolist()


@pytest.mark.parametrize("part", ["sketch", "rare"])
def test_the_entropy_search_leaves_common_lists_unread_and_stays_exact(
    spectra: list, crowded: Library, part: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sketch spares reading most lists at its m/z; hits and scores stay those of brute force,
    also for queries whose peaks all lie at the sketch's m/z, or all outside it."""
    sketch_mz = np.asarray(crowded.arrays["ms_sketch_mz"])
    read: list[np.ndarray] = []
    add_lists = search_pruned._add_lists

    def recording(plan: search_pruned.Plan, acc: np.ndarray, lists: np.ndarray, fresh: bool = False) -> None:
        read.append(plan.bins[lists])
        add_lists(plan, acc, lists, fresh)

    monkeypatch.setattr(search_pruned, "_add_lists", recording)
    spared = 0
    for spectrum in spectra[5::40]:
        full = scoring_ms.prepare_ei(spectrum)
        inside = np.isin(full.mz.astype(np.int64), sketch_mz)
        for peaks in (full, _subset(full, inside if part == "sketch" else ~inside)):
            if peaks.mz.size == 0:
                continue
            read.clear()
            ids, scores = ms_top_k(crowded, peaks, 5, "entropy")
            brute_ids, brute_scores = ms_top_k(crowded, peaks, 5, "entropy", exhaustive=True)
            assert ids.tolist() == brute_ids.tolist()
            np.testing.assert_allclose(scores, brute_scores, rtol=1e-6, atol=1e-9)
            common = np.intersect1d(peaks.mz.astype(np.int64), sketch_mz)
            unread = np.setdiff1d(common, np.concatenate(read))
            spared += unread.size > 0
    assert spared >= 5  # most queries leave lists at the sketch's m/z unread


def _subset(peaks: scoring_ms.EIPeaks, keep: np.ndarray) -> scoring_ms.EIPeaks:
    return scoring_ms.EIPeaks(peaks.mz[keep], peaks.intensity[keep], peaks.low_mz, peaks.retention_index)


def test_the_server_setting_sets_the_threads_of_every_search(monkeypatch: pytest.MonkeyPatch) -> None:
    from customslab.config import Settings
    from customslab.entrypoints import wiring

    monkeypatch.setattr(search_pruned, "DEFAULT_THREADS", 2)
    wiring.spectral_search(Settings(search_threads=None))
    assert search_pruned.DEFAULT_THREADS == 2  # unset: the machine's default stays
    wiring.spectral_search(Settings(search_threads=1))
    assert search_pruned.DEFAULT_THREADS == 1
    assert search_pruned._parts(10**6, search_pruned.MIN_SPLIT_LIBRARY) == [(0, 10**6)]
    with search_pruned.threads(2):  # a block's own count wins over the default
        assert len(search_pruned._parts(10**6, search_pruned.MIN_SPLIT_LIBRARY)) == 2
    with pytest.raises(ValueError, match="at least one thread"):
        search_pruned.set_default_threads(0)
