"""The worker side of batch identification (:mod:`customslab.spectra.batch`): what travels and what runs.

Chunks and results are a few NumPy arrays each, never ``Spectrum`` or ``Hit`` objects for EI-MS.
A worker process opens the library once, with ``np.load(mmap_mode="r")`` (``open_library``), and
runs one native (BLAS/OpenMP) thread.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from customslab.spectra import search_kernel, search_pruned
from customslab.spectra.library_store import Library, open_library
from customslab.spectra.model import Spectrum
from customslab.spectra.scoring_ms import EIPeaks, ScoreMethod
from customslab.spectra.search import Hit, ms_top_k, search

NATIVE_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class EIChunk:
    """Prepared EI queries, concatenated: peaks of query i are ``mz[offsets[i]:offsets[i + 1]]``."""

    index: np.ndarray  # position of each query in the batch
    offsets: np.ndarray
    mz: np.ndarray
    intensity: np.ndarray
    low_mz: np.ndarray
    retention_index: np.ndarray  # NaN where unknown
    top_k: int
    method: ScoreMethod


@dataclass(frozen=True)
class EIResult:
    """Per query: ``counts[i]`` hits; per hit: spectrum index, score, and matched-peak count; per
    matched peak: the query peak's position and the library intensity."""

    library_id: str
    index: np.ndarray
    counts: np.ndarray
    ids: np.ndarray
    scores: np.ndarray
    matched_counts: np.ndarray
    matched_query: np.ndarray
    matched_library: np.ndarray


@dataclass(frozen=True)
class VibChunk:
    index: np.ndarray
    spectra: list[Spectrum]
    top_k: int
    method: ScoreMethod | None


@dataclass(frozen=True)
class VibResult:
    library_id: str
    index: np.ndarray
    hits: list[list[Hit]]


def ei_chunk(index: np.ndarray, peaks: list[EIPeaks], top_k: int, method: ScoreMethod) -> EIChunk:
    sizes = np.array([p.mz.size for p in peaks], dtype=np.int64)
    ri = [np.nan if p.retention_index is None else p.retention_index for p in peaks]
    return EIChunk(
        index=index,
        offsets=np.concatenate(([0], np.cumsum(sizes))),
        mz=np.concatenate([p.mz for p in peaks]) if peaks else np.zeros(0),
        intensity=np.concatenate([p.intensity for p in peaks]) if peaks else np.zeros(0),
        low_mz=np.array([p.low_mz for p in peaks], dtype=np.float64),
        retention_index=np.array(ri, dtype=np.float64),
        top_k=top_k,
        method=method,
    )


def _chunk_peaks(chunk: EIChunk, i: int) -> EIPeaks:
    start, end = int(chunk.offsets[i]), int(chunk.offsets[i + 1])
    ri = float(chunk.retention_index[i])
    # Copies, not views: the search sees arrays laid out as prepare_ei made them.
    return EIPeaks(
        chunk.mz[start:end].copy(),
        chunk.intensity[start:end].copy(),
        float(chunk.low_mz[i]),
        None if math.isnan(ri) else ri,
    )


def _matched_arrays(library: Library, ids: np.ndarray, peaks: EIPeaks) -> tuple[np.ndarray, ...]:
    """Per hit, the peaks it shares with the query: (count per hit, query peak index, library intensity).

    The same pairs as ``search._matched`` (equal nominal m/z, in m/z order) for all hits at once.
    """
    indptr = library.arrays["ms_indptr"]
    starts = np.asarray(indptr[ids], dtype=np.int64)
    counts = np.asarray(indptr[ids + 1], dtype=np.int64) - starts
    total = int(counts.sum())
    if total == 0 or peaks.mz.size == 0:
        return np.zeros(ids.size, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32)
    owner = np.repeat(np.arange(ids.size), counts)
    positions = np.arange(total, dtype=np.int64) + np.repeat(starts - (np.cumsum(counts) - counts), counts)
    table = np.full(65536, -1, dtype=np.int32)
    table[np.rint(peaks.mz).astype(np.int64)] = np.arange(peaks.mz.size, dtype=np.int32)
    which = table[np.asarray(library.arrays["ms_mz"])[positions]]
    hit = np.flatnonzero(which >= 0)
    order = np.lexsort((which[hit], owner[hit]))
    hit = hit[order]
    return (
        np.bincount(owner[hit], minlength=ids.size).astype(np.int64),
        which[hit],
        np.asarray(library.arrays["ms_int"])[positions[hit]],
    )


def run_ei(library: Library, chunk: EIChunk) -> EIResult:
    """Search a chunk of EI queries, one search thread each: a batch's processes share the cores."""
    counts, ids, scores, matched_counts, matched_query, matched_library = [], [], [], [], [], []
    for i in range(chunk.index.size):
        peaks = _chunk_peaks(chunk, i)
        with search_pruned.threads(1):
            top_ids, top_scores = ms_top_k(library, peaks, chunk.top_k, chunk.method)
        per_hit, query_peak, library_intensity = _matched_arrays(library, top_ids, peaks)
        counts.append(top_ids.size)
        ids.append(top_ids)
        scores.append(top_scores)
        matched_counts.append(per_hit)
        matched_query.append(query_peak)
        matched_library.append(library_intensity)
    return EIResult(
        library.library_id,
        chunk.index,
        np.array(counts, dtype=np.int64),
        np.concatenate(ids).astype(np.int64) if ids else np.zeros(0, np.int64),
        np.concatenate(scores).astype(np.float64) if scores else np.zeros(0),
        np.concatenate(matched_counts) if matched_counts else np.zeros(0, np.int64),
        np.concatenate(matched_query) if matched_query else np.zeros(0, np.int32),
        np.concatenate(matched_library) if matched_library else np.zeros(0, np.float32),
    )


def run_vib(library: Library, chunk: VibChunk) -> VibResult:
    hits = [search(library, q, chunk.top_k, chunk.method) for q in chunk.spectra]
    return VibResult(library.library_id, chunk.index, hits)


_WORKER_LIBRARY: Library | None = None


#: BLAS/OpenMP threads per worker: a count, or the pools of the parent (threadpoolctl's
#: ``threadpool_info()``) to copy; None leaves the worker as it started (a forked worker is a copy).
NativeThreads = int | list[dict[str, Any]] | None


def set_native_threads(limits: NativeThreads) -> None:
    """Size the native thread pools of this process (threadpoolctl; the variables for later loads)."""
    if limits is None:
        return
    if isinstance(limits, int):
        for name in NATIVE_THREAD_VARIABLES:
            os.environ[name] = str(limits)  # read by native libraries loaded after this point
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is optional
        return
    threadpool_limits(limits=limits)


def init(path: str, native_threads: NativeThreads = None) -> None:
    global _WORKER_LIBRARY
    set_native_threads(native_threads)
    _WORKER_LIBRARY = open_library(path)
    # Load the compiled EI loops now (from Numba's cache; compiled once per machine), not on a query.
    search_kernel.warm_up()


def run(chunk: EIChunk | VibChunk) -> EIResult | VibResult:
    library = _WORKER_LIBRARY
    if library is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("search worker started without a library")
    if isinstance(chunk, EIChunk):
        return run_ei(library, chunk)
    return run_vib(library, chunk)


def ready() -> str:
    assert _WORKER_LIBRARY is not None
    return _WORKER_LIBRARY.library_id


def native_thread_pools() -> list[dict[str, Any]] | None:
    """The native thread pools of this process (threadpoolctl's ``threadpool_info()``); None without it."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl is optional
        return None
    return list(threadpool_info())


def _memory_kib() -> dict[str, int]:
    """Rss, Pss and Private_Dirty of this process in KiB (Linux; empty elsewhere).

    Library pages read through the memory map count in Rss but are page cache shared with every
    process that maps the same files; pages inherited from a forked parent are shared until written.
    Private_Dirty is what the worker wrote for itself alone.
    """
    try:
        with open("/proc/self/smaps_rollup", encoding="ascii") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return {}
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name in ("Rss", "Pss", "Private_Dirty"):
            fields[name.lower()] = int(value.split()[0])
    return fields


def report() -> dict[str, Any]:
    assert _WORKER_LIBRARY is not None
    return {
        "pid": os.getpid(),
        "library_id": _WORKER_LIBRARY.library_id,
        "mapped_arrays": sorted(
            name for name, array in _WORKER_LIBRARY.arrays.items() if isinstance(array, np.memmap)
        ),
        "environment": {name: os.environ.get(name) for name in NATIVE_THREAD_VARIABLES},
        "native_threads": native_thread_pools(),
        "memory_kib": _memory_kib(),
    }
