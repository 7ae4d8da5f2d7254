"""Batch identification in worker processes that share one memory-mapped library.

Processes, not threads, for a batch: each query still has NumPy steps that hold the GIL between its
compiled passes, so a batch scales with processes, each running its searches in one thread (one
interactive search, by contrast, splits its compiled passes between two threads:
:func:`customslab.spectra.search_pruned.threads`).

Why two processes measured slower than one (issue #16), from measurements on the 2-core machine:

- **The run got one core's share.** Linux's autogroup scheduler shares the CPUs between sessions,
  not processes, and other sessions were busy: the benchmark obtained about 0.65 CPU-seconds per
  second whether it ran one process or three (parent and two workers), so a second worker could
  only add its own costs. benchmarks/spectra_search.py now reports the CPU time each run obtained
  and the throughput with the time spent waiting for a CPU taken out.
- **Those costs**, which this module removes or shrinks:
  - a pool started per call. :class:`SearchPool` keeps its workers for many batches;
    ``search_many`` still starts one, forking (no import) where that is safe and using the fork
    server where the caller runs other threads (a fork can copy a lock another thread holds);
  - ``Spectrum`` objects to the workers and lists of ``Hit`` back, unpickled one by one in the
    parent. EI-MS queries are now prepared in the parent and travel as five concatenated arrays;
    workers return the top-k indices, scores and matched peaks as arrays, and the parent reads the
    hits' metadata from ``entries.jsonl`` as ``search()`` does;
  - the matched peaks found hit by hit with ``np.intersect1d``; now one pass per query;
  - chunks in query order, four per worker, so one chunk of slow queries could end the batch
    alone. Queries are now dealt in order of estimated cost (posting entries), longest first,
    sixteen chunks per worker;
  - for FTIR/Raman, each worker's OpenBLAS starting one thread per core (see ``native_threads``).

The library never travels: every worker opens it with ``np.load(mmap_mode="r")``, so all processes
read the same page-cache pages, and a worker's own (anonymous) memory stays small.

FTIR/Raman queries go to the workers as spectra (their preprocessing is most of their cost) and come
back as the hits of :func:`customslab.spectra.search.search`, so both paths give what ``search`` gives.
"""

from __future__ import annotations

import math
import multiprocessing
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from customslab.spectra import batch_worker, scoring_ms
from customslab.spectra.batch_worker import EIChunk, EIResult, VibChunk, VibResult, ei_chunk, run_ei, run_vib
from customslab.spectra.library_store import Library, LibraryError, open_library
from customslab.spectra.model import Spectrum, Technique
from customslab.spectra.scoring_ms import EIPeaks, ScoreMethod
from customslab.spectra.search import Hit, _hit

# Queries per chunk: small enough that the last chunk leaves no worker idle for long, large enough
# that the pipe round trip (~0.2 ms) stays a small part of a chunk.
_CHUNKS_PER_WORKER = 16
_MAX_CHUNK = 32


def _resolve_ei(
    library: Library, peaks: Mapping[int, EIPeaks], result: EIResult, out: list[list[Hit]]
) -> None:
    """Build the Hit objects of one chunk in the parent: metadata from ``entries.jsonl``, as search().

    Plain lists rather than NumPy scalars: this loop runs in the parent for every hit, on one of the
    cores the workers use.
    """
    rows = np.asarray(library.arrays["ms_rows"])[result.ids].tolist()
    scores = result.scores.tolist()
    matched_counts = result.matched_counts.tolist()
    matched_query = result.matched_query.tolist()
    matched_library = result.matched_library.astype(np.float64).tolist()
    hit_at = matched_at = 0
    for position, count in zip(result.index.tolist(), result.counts.tolist(), strict=True):
        query_mz, query_intensity = peaks[position].mz.tolist(), peaks[position].intensity.tolist()
        hits: list[Hit] = []
        for rank in range(1, count + 1):
            end = matched_at + matched_counts[hit_at]
            matched = tuple(
                (query_mz[q], query_intensity[q], value)
                for q, value in zip(
                    matched_query[matched_at:end], matched_library[matched_at:end], strict=True
                )
            )
            hits.append(_hit(library, rank, rows[hit_at], scores[hit_at], matched))
            hit_at += 1
            matched_at = end
        out[position] = hits


def start_method() -> str:
    """``fork`` when this process runs only its main thread (cheapest), else ``forkserver``.

    Forking a process that runs other threads can copy a lock that one of them holds, and the child
    then waits for it forever; the fork server is a small single-threaded process that forks workers.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _plan(
    library: Library, queries: Sequence[Spectrum], top_k: int, method: ScoreMethod | None, workers: int
) -> tuple[list[EIChunk | VibChunk], dict[int, EIPeaks]]:
    """Chunks of work, the longest first, and the prepared EI peaks that the parent keeps."""
    ei_method: ScoreMethod = method or scoring_ms.DEFAULT_METHOD
    peaks = {i: scoring_ms.prepare_ei(q) for i, q in enumerate(queries) if q.technique is Technique.EI_MS}
    vib = [i for i, q in enumerate(queries) if q.technique is not Technique.EI_MS]
    size = max(1, min(_MAX_CHUNK, math.ceil(len(queries) / (workers * _CHUNKS_PER_WORKER))))
    chunks: list[EIChunk | VibChunk] = []
    if vib:
        # A vibrational query (baseline, smoothing, one pass over its matrix) costs more than most
        # EI queries, so these go first.
        for start in range(0, len(vib), size):
            index = np.array(vib[start : start + size], dtype=np.int64)
            chunks.append(VibChunk(index, [queries[i] for i in index.tolist()], top_k, method))
    if peaks:
        inv_indptr = np.asarray(library.arrays["inv_indptr"])
        lengths = np.diff(inv_indptr)
        order = list(peaks)
        # Cost of a query ~ the posting entries it may read; longest first (LPT scheduling).
        cost = np.array([lengths[np.rint(peaks[i].mz).astype(np.int64)].sum() for i in order])
        ranked = [order[j] for j in np.argsort(-cost, kind="stable").tolist()]
        for start in range(0, len(ranked), size):
            index = np.array(ranked[start : start + size], dtype=np.int64)
            chunks.append(ei_chunk(index, [peaks[i] for i in index.tolist()], top_k, ei_method))
    return chunks, peaks


def _collect(
    library: Library,
    result: EIResult | VibResult,
    peaks: dict[int, EIPeaks],
    out: list[list[Hit]],
) -> None:
    if result.library_id != library.library_id:
        raise LibraryError(
            f"the library at {library.path} changed while the batch was being searched "
            f"(worker {result.library_id}, caller {library.library_id}); open it again and search again"
        )
    if isinstance(result, EIResult):
        _resolve_ei(library, peaks, result, out)
    else:
        for position, hits in zip(result.index.tolist(), result.hits, strict=True):
            out[position] = hits


def search_in_process(
    library: Library, queries: Sequence[Spectrum], top_k: int = 5, method: ScoreMethod | None = None
) -> list[list[Hit]]:
    """The batch path without workers: same preparation, search and hit assembly, in this process."""
    _check_top_k(top_k)
    chunks, peaks = _plan(library, queries, top_k, method, 1)
    out: list[list[Hit]] = [[] for _ in queries]
    for chunk in chunks:
        result = run_ei(library, chunk) if isinstance(chunk, EIChunk) else run_vib(library, chunk)
        _collect(library, result, peaks, out)
    return out


def _check_top_k(top_k: int) -> None:
    if top_k < 1:
        raise ValueError("top_k must be at least 1")


class SearchPool:
    """Worker processes, each with the library memory-mapped, that search batches of queries.

    Start it once and reuse it: ``with SearchPool(library, workers=2) as pool: pool.search(queries)``.
    The workers start on the first batch (or :meth:`start`) and stay until :meth:`close`.

    ``native_threads``: BLAS/OpenMP threads per worker. None (the default) gives each worker as many
    as this process has, so FTIR/Raman scores are bit-identical to ``search()`` here: OpenBLAS sums in
    another order with another thread count (about 1e-7 apart). 1 avoids running more threads than
    cores, which made an FTIR/Raman batch about twice as fast on two cores (measured), at the price
    of that last-bit difference from a multi-threaded caller. EI-MS search uses no BLAS.
    """

    def __init__(
        self,
        library: Library | str | Path,
        workers: int = 2,
        *,
        start: str | None = None,
        native_threads: int | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.library = library if isinstance(library, Library) else open_library(library)
        self.workers = workers
        self.start_method = start or start_method()
        self.native_threads = native_threads
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context(self.start_method)
            if self.start_method == "forkserver":
                context.set_forkserver_preload(["customslab.spectra.batch_worker"])
            limits: batch_worker.NativeThreads = self.native_threads
            if limits is None and self.start_method != "fork":
                # A forked worker keeps this process's pools; a fresh interpreter copies them.
                limits = batch_worker.native_thread_pools()
            self._executor = ProcessPoolExecutor(
                self.workers,
                mp_context=context,
                initializer=batch_worker.init,
                initargs=(str(self.library.path), limits),
            )
        return self._executor

    def start(self) -> None:
        """Start the workers now (not on the first batch) and check the version of the library they opened."""
        pool = self._pool()
        ids = {f.result() for f in [pool.submit(batch_worker.ready) for _ in range(self.workers)]}
        if ids != {self.library.library_id}:
            self.close()
            raise LibraryError(f"the library at {self.library.path} changed while the workers started")

    def worker_report(self) -> dict[str, Any]:
        """One worker's pid, library id, native thread pools and memory (for benchmarks and tests)."""
        return self._pool().submit(batch_worker.report).result()

    def search(
        self, queries: Sequence[Spectrum], top_k: int = 5, method: ScoreMethod | None = None
    ) -> list[list[Hit]]:
        """Hits for every query, in query order; equal to ``search()`` called on each in turn."""
        _check_top_k(top_k)
        chunks, peaks = _plan(self.library, queries, top_k, method, self.workers)
        out: list[list[Hit]] = [[] for _ in queries]
        pool = self._pool()
        futures: list[Future[Any]] = [pool.submit(batch_worker.run, chunk) for chunk in chunks]
        try:
            # In submission order: the parent assembles one chunk's hits while workers run later ones.
            for future in futures:
                _collect(self.library, future.result(), peaks, out)
        except BrokenProcessPool:
            self.close()
            raise
        finally:
            for future in futures:
                future.cancel()
        return out

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> SearchPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
