"""Search latency and throughput on scaled-up EI libraries, next to ms_entropy FlashEntropySearch.

The 1,612 MassBank EI spectra are replicated to N spectra with seeded perturbations (log-normal
intensity noise, 10 % of peaks dropped, 3 random noise peaks added). Queries are the original
spectra. Reports build time, bytes per spectrum, per-query latency (ours: default `hybrid` score,
exact top-5; Flash: open entropy search + top-5), batch throughput with 2 processes, and checks that
our top-5 equals brute force on a sample. Run:
    .venv/bin/python benchmarks/spectra_search.py --sizes 10000,100000,1000000
"""

from __future__ import annotations

import argparse
import gc
import itertools
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from customslab.spectra import scoring_ms
from customslab.spectra.formats.massbank import read_massbank
from customslab.spectra.library_store import MSArrays, write_library
from customslab.spectra.model import Spectrum
from customslab.spectra.search import ms_top_k, search_many


def scaled_peaks(base: list[scoring_ms.EIPeaks], n: int, seed: int) -> MSArrays:
    rng = np.random.default_rng(seed)
    source = np.arange(n) % len(base)
    counts = np.array([p.mz.size for p in base])[source]
    mz = np.concatenate([base[i].mz for i in source]).astype(np.int64)
    intensity = np.concatenate([base[i].intensity for i in source]) * rng.lognormal(0, 0.25, counts.sum())
    owner = np.repeat(np.arange(n), counts)
    keep = (rng.random(mz.size) > 0.1) | (intensity >= 0.99)
    extra_owner = np.repeat(np.arange(n), 3)
    mz = np.concatenate([mz[keep], rng.integers(40, 400, extra_owner.size)])
    intensity = np.concatenate([intensity[keep], rng.uniform(0.01, 0.1, extra_owner.size)])
    owner = np.concatenate([owner[keep], extra_owner])
    order = np.lexsort((-intensity, mz, owner))
    mz, intensity, owner = mz[order], intensity[order], owner[order]
    first = np.ones(mz.size, bool)
    first[1:] = (mz[1:] != mz[:-1]) | (owner[1:] != owner[:-1])
    mz, intensity, owner = mz[first], intensity[first], owner[first]
    peak_max = np.zeros(n)
    np.maximum.at(peak_max, owner, intensity)
    intensity = intensity / peak_max[owner]
    keep = intensity >= scoring_ms.DEFAULT_MIN_RELATIVE
    mz, intensity, owner = mz[keep], intensity[keep], owner[keep]
    indptr = np.concatenate(([0], np.cumsum(np.bincount(owner, minlength=n))))
    low = np.array([p.low_mz for p in base], np.float32)[source]
    ri = np.array([np.nan if p.retention_index is None else p.retention_index for p in base])[source]
    return MSArrays(indptr, mz.astype(np.uint16), intensity.astype(np.float32), low, ri, np.arange(n))


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir())


def run_ours(ms: MSArrays, queries: list[scoring_ms.EIPeaks], spectra: list[Spectrum], tmp: Path) -> dict:
    n = len(ms.rows)
    entries = [{"key": f"s{i}", "name": f"s{i}", "technique": "EI-MS"} for i in range(n)]
    start = time.perf_counter()
    library = write_library(tmp / "lib", entries, ms, {}, {})
    build = time.perf_counter() - start
    latency: dict[str, float] = {}
    exact = 0
    sample = queries[:: max(1, len(queries) // 10)]
    for method in ("hybrid", "entropy"):
        ms_top_k(library, queries[0], 5, method)  # warm the page cache
        start = time.perf_counter()
        for q in queries:
            ms_top_k(library, q, 5, method)
        latency[method] = (time.perf_counter() - start) / len(queries)
        for q in sample:
            fast_ids, fast_scores = ms_top_k(library, q, 5, method)
            brute_ids, brute_scores = ms_top_k(library, q, 5, method, exhaustive=True)
            exact += fast_ids.tolist() == brute_ids.tolist() and np.allclose(fast_scores, brute_scores)
    start = time.perf_counter()
    search_many(library, spectra, 5, workers=1)
    serial = len(spectra) / (time.perf_counter() - start)
    start = time.perf_counter()
    search_many(library, spectra, 5, workers=2)
    parallel = len(spectra) / (time.perf_counter() - start)
    return {
        "build": build,
        "bytes": folder_bytes(tmp / "lib") / n,
        "latency": latency["hybrid"],
        "entropy_latency": latency["entropy"],
        "exact": f"{exact}/{2 * len(sample)}",
        "serial_qps": serial,
        "parallel_qps": parallel,
    }


def run_flash(ms: MSArrays, queries: list[scoring_ms.EIPeaks]) -> dict:
    from ms_entropy import FlashEntropySearch

    indptr, mz, intensity = np.asarray(ms.indptr), np.asarray(ms.mz, np.float32), np.asarray(ms.intensity)
    spectra = [
        {"precursor_mz": 2000.0, "peaks": np.column_stack([mz[a:b], intensity[a:b]])}
        for a, b in itertools.pairwise(indptr)
    ]
    start = time.perf_counter()
    flash = FlashEntropySearch(max_ms2_tolerance_in_da=0.4)
    flash.build_index(spectra, min_ms2_difference_in_da=0.8, precursor_ions_removal_da=None)
    build = time.perf_counter() - start
    del spectra
    gc.collect()
    peaks = [np.column_stack([q.mz, q.intensity]).astype(np.float32) for q in queries]
    start = time.perf_counter()
    for p in peaks:
        clean = flash.clean_spectrum_for_search(
            2000.0, p, min_ms2_difference_in_da=0.8, precursor_ions_removal_da=None
        )
        scores = flash.open_search(peaks=clean, ms2_tolerance_in_da=0.4)
        np.argpartition(-scores, 5)[:5]
    latency = (time.perf_counter() - start) / len(queries)
    index_bytes = sum(a.nbytes for a in flash.entropy_search.index if isinstance(a, np.ndarray))
    return {"build": build, "latency": latency, "bytes": index_bytes / len(indptr[:-1])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
    args = parser.parse_args()
    files = sorted((args.data / "spectra" / "massbank-ei").iterdir())
    spectra = [read_massbank(f)[0] for f in files]
    base = [scoring_ms.prepare_ei(s) for s in spectra]
    rng = np.random.default_rng(0)
    pick = rng.choice(len(spectra), size=min(args.queries, len(spectra)), replace=False)
    queries = [base[i] for i in pick]
    query_spectra = [spectra[i] for i in pick]
    print(f"{len(queries)} queries; mean {np.mean([q.mz.size for q in base]):.0f} peaks per base spectrum")
    header = (
        f"{'N':>9} {'ours build s':>12} {'B/spec':>7} {'hybrid ms/q':>11} {'entropy ms/q':>12} {'exact':>6}"
        f" {'q/s 1p':>7} {'q/s 2p':>7}"
        f" | {'Flash build s':>13} {'B/spec':>7} {'Flash ms/q':>10}"
        f" | {'Flash/hybrid':>12} {'Flash/entropy':>13}"
    )
    lines = []
    for size in [int(s) for s in args.sizes.split(",")]:
        ms = scaled_peaks(base, size, seed=size)
        tmp = Path(tempfile.mkdtemp(prefix="customslab-bench-"))
        try:
            ours = run_ours(ms, queries, query_spectra, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        gc.collect()
        flash = run_flash(ms, queries)
        del ms
        gc.collect()
        line = (
            f"{size:>9} {ours['build']:>12.1f} {ours['bytes']:>7.0f} {1000 * ours['latency']:>11.2f}"
            f" {1000 * ours['entropy_latency']:>12.2f}"
            f" {ours['exact']:>6} {ours['serial_qps']:>7.0f} {ours['parallel_qps']:>7.0f}"
            f" | {flash['build']:>13.1f} {flash['bytes']:>7.0f} {1000 * flash['latency']:>10.2f}"
            f" | {flash['latency'] / ours['latency']:>11.1f}x"
            f" {flash['latency'] / ours['entropy_latency']:>12.1f}x"
        )
        print(line, flush=True)
        lines.append(line)
    print("\n" + header)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
