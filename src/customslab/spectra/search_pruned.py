"""Exact top-k EI search that reads only part of the inverted m/z index.

Every score with a pruned path is a sum over shared peaks of a per-peak term, finished by a
per-spectrum transform (``hybrid``/``dot``: Σ w_Q·w_L divided by the norms, squared, less the RI
penalty; ``entropy``: Σ of the entropy terms). A plan describes, for one score, the per-peak term,
the order in which the query's posting lists are read, and two bounds: what a spectrum that shares
none of the lists read so far can still score, and what a spectrum already met can reach at most.

The search runs in four steps, each a handful of NumPy calls or compiled passes
(:mod:`customslab.spectra.search_kernel`), so the cost is set by the number of posting entries read
and spectra scored rather than by Python overhead:

1. **Seed.** Read the lists that remove the most bound per entry until half of the bound is gone,
   rank the spectra met by their partial score (the score the lists read would give them alone), and
   score the best 64 exactly from the CSR peak table (64 per thread where the search runs in two).
   The k-th best exact score τ is a lower bound of the final k-th score.
2. **Read.** The unseen-spectrum bound depends only on the query, so the number of lists to read is
   known at once: the shortest prefix after which that bound falls below τ, and lists worth about as
   many entries as one pass over the library (right after that prefix, nearly every spectrum met
   would survive the next step).
3. **Prune.** Keep the spectra met whose upper bound reaches τ; score the best 64 (per thread) exactly,
   which may raise τ. While scoring the survivors would cost more than reading as many entries again,
   read them, and prune again.
4. **Finish.** Score the survivors exactly from the CSR table; the top k of those is the exact
   answer (ties broken by library order).

The bounds:

- ``hybrid``/``dot``: the unread query peaks above cut c carry ‖w_rest,c‖²; by Cauchy-Schwarz a
  spectrum gains at most ‖w_rest,c‖·‖w_L,c‖ from them, i.e. U_c = ‖w_rest,c‖/‖w_Q,c‖ in cosine.
- ``entropy``: the per-peak term t(p, q) is concave and homogeneous of degree 1 and increases in
  p, so Σ t(p_i, q_i) ≤ t(Σp_i, Σq_i) ≤ t(1, Q_rest), with Q_rest the unread query probability.

``entropy`` goes further (:func:`sketched_top_k`): the long lists are those of the common ions, and
the library's common-ion sketch (``ms_sketch``: codes of each spectrum's p at the 128 most frequent
m/z, of its p summed over groups of 8 of them and over all of them) bounds what a spectrum gains
from the unread lists at those m/z without reading them. Steps 1 and 2 are as above, but after the
lists τ needs only the lists at other m/z are read; step 3 bounds each spectrum met once, from its
sketch, and step 4 is as above.

``reverse`` and ``composite`` are not bounded by the unread query weight (one shared peak can give a
reverse score of 1), so they scan the whole library (:mod:`customslab.spectra.search_exhaustive`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from types import ModuleType
from typing import TypeVar

import numpy as np

from customslab.spectra import library_store, scoring_ms, search_kernel
from customslab.spectra.library_store import Library
from customslab.spectra.scoring_ms import EIPeaks, safe_divide

#: Margin of every bound test. The partial sums come from the index's float32 weights (each term off
#: by up to 2⁻²⁴ of itself, so a sum of at most 1 by about 1e-7), while τ and the final scores are
#: exact scores from the peak table in float64: a spectrum whose score equals τ must still pass.
EPS = 1e-6
_CHUNK_ENTRIES = 1 << 20  # posting entries per step, to bound temporary memory
# More lists are read while scoring the candidates left would cost more than reading as many entries
# again, counting a candidate's CSR peak as this many posting entries. Measured with the compiled
# passes, a peak costs 7–9 entries (0.4–0.6 µs a candidate of 51 peaks, 1.1–1.5 ns an entry); half
# that, since a batch of lists never removes every candidate (4 and 8 gave the same median).
_FINISH_COST = 4.0
# A survivor pass over the library costs about as much as reading this many posting entries per
# spectrum (measured with the compiled passes: 4–5 ns a spectrum, 1.1–1.5 ns an entry).
_READ_AHEAD = 4
# The first lists read hold this much of the unseen-spectrum bound; they seed the threshold.
_SEED_BOUND = 0.5

#: Spectra per block of the compiled accumulation: 32,768 float64 sums (256 KiB) stay in L2 while all
#: the lists' entries of the block are added (the posting lists are sorted by spectrum id).
BLOCK = 1 << 15
_NONE = np.zeros(0, dtype=np.int64)  # the compiled survivors' "no candidates yet"
_NO_CUTS = np.zeros(0, dtype=np.int8)  # "cut 0 for every spectrum" (``dot``); read-only like ms_low
_NO_CUTS.setflags(write=False)
#: The spectra best by their partial scores that are scored exactly to raise the threshold τ.
_PROBE = 64
#: The entropy search reads the lists of query peaks outside the common-ion sketch until the query
#: probability left on unread ones is at most this; a spectrum can gain at most t(P_R, this) from
#: them, P_R its own probability outside the sketch (≤ t(1, 0.01) ≈ 0.04).
_RARE_LEFT = 0.01
#: Margin on a spectrum's probability outside the sketch, 1 − (its sketch mass): the stored float32
#: probabilities sum to 1 within 2⁻²⁴ or so.
_MASS_MARGIN = 1e-6
_scratch = threading.local()
_T = TypeVar("_T")


# --- threads: one search split over spectrum ranges (the compiled passes release the GIL) ---------

#: Threads of one search by default: 2 where the machine has 2 CPUs or more
#: (:func:`set_default_threads`; the server's ``CUSTOMSLAB_SEARCH_THREADS``). Batch searches
#: (``search_many``, ``SearchPool``) run one thread per process instead, so that their processes,
#: not threads, share the cores.
DEFAULT_THREADS = min(
    2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)
#: A pass over fewer spectra than this runs in one thread (splitting costs more than it saves).
MIN_SPLIT_LIBRARY = 1 << 17
MIN_SPLIT_CANDIDATES = 1 << 12
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def set_default_threads(count: int) -> None:
    """Threads of every search made outside a :func:`threads` block, from now on."""
    global DEFAULT_THREADS
    if count < 1:
        raise ValueError("a search needs at least one thread")
    DEFAULT_THREADS = count


@contextlib.contextmanager
def threads(count: int) -> Iterator[None]:
    """Searches made by this thread inside the block use ``count`` threads each."""
    if count < 1:
        raise ValueError("a search needs at least one thread")
    previous = getattr(_scratch, "threads", None)
    _scratch.threads = count
    try:
        yield
    finally:
        _scratch.threads = previous


def _parts(items: int, minimum: int) -> list[tuple[int, int]]:
    """0:items cut into one range per search thread (one range if ``items`` < ``minimum``); cuts fall
    on multiples of BLOCK where that keeps every range non-empty."""
    count: int = getattr(_scratch, "threads", None) or DEFAULT_THREADS
    if count == 1 or items < minimum:
        return [(0, items)]
    cuts = [0]
    for p in range(1, count):
        even = items * p // count
        aligned = even // BLOCK * BLOCK
        cuts.append(aligned if aligned > cuts[-1] else even)
    cuts.append(items)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _forget_pool() -> None:
    """In a forked child: the parent's pool threads do not exist there; start a new pool if needed."""
    global _pool, _pool_size
    _pool, _pool_size = None, 0


os.register_at_fork(after_in_child=_forget_pool)


def _bind(call: Callable[[int, int], _T], lo: int, hi: int) -> Callable[[], _T]:
    return lambda: call(lo, hi)


def _run(calls: list[Callable[[], _T]]) -> list[_T]:
    """Every call's result, in order: the first in this thread, the others in the search pool."""
    global _pool, _pool_size
    if len(calls) == 1:
        return [calls[0]()]
    with _pool_lock:
        if _pool is None or _pool_size < len(calls) - 1:
            _pool, _pool_size = ThreadPoolExecutor(len(calls) - 1, "customslab-search"), len(calls) - 1
        pool = _pool
    futures = [pool.submit(call) for call in calls[1:]]
    try:
        first = calls[0]()
    finally:
        # Never leave a pool job writing into this thread's reused buffers after an error here.
        wait(futures)
    return [first, *(future.result() for future in futures)]


#: The compiled entropy accumulation bins a library probability p by the top bits of its float32:
#: sign, exponent and 5 mantissa bits (bins 1/32 of an octave wide), from 2⁻¹⁶ (everything smaller
#: shares the first bin) to 2 (the last bin takes everything from 2 up, with an infinite term). A
#: query's tables (545 bins per list, 4.3 KiB) stay in the core's L1/L2 cache beside the block of
#: sums; bins of 1/128 octave (tables four times larger) measured a few per cent slower at 1M.
_P_SHIFT = 18
_P_BASE = int(np.array(2.0**-16, np.float32).view(np.uint32)) >> _P_SHIFT
_P_TOP = int(np.array(2.0, np.float32).view(np.uint32)) >> _P_SHIFT
#: Upper edge of each bin: the first float32 of the next bin.
_P_EDGES = (
    (np.arange(_P_BASE + 1, _P_TOP + 2, dtype=np.uint32) << _P_SHIFT).view(np.float32).astype(np.float64)
)
_P_EDGES_XLOG2X = _P_EDGES * np.log2(_P_EDGES)


def entropy_tables(values: np.ndarray) -> np.ndarray:
    """Per query probability q (a row) and bin of library probabilities (a column): the entropy term
    of q with the bin's upper edge, at least the term of q with any p of the bin (the term grows with
    p); the last bin's term is infinite (no probability reaches 2, so none is ever bounded by it).

    As :func:`customslab.spectra.scoring_ms.entropy_terms`, with p·log2 p of the edges computed once.
    """
    q = np.asarray(values, dtype=np.float64)[:, None]
    joint = q + _P_EDGES[None, :]
    tables = joint * np.log2(joint)
    tables -= _P_EDGES_XLOG2X
    tables -= q * np.log2(q, where=q > 0, out=np.zeros_like(q))
    tables /= 2.0
    tables[:, -1] = np.inf
    return tables


def _scratch_buffer(name: str, n: int, dtype: type) -> np.ndarray:
    """This thread's reused buffer ``name`` of ``n`` values (the per-spectrum sums, the compiled passes'
    outputs): a fresh multi-megabyte array per query costs a page fault per 4 KiB page it touches."""
    buffer: np.ndarray | None = getattr(_scratch, name, None)
    if buffer is None or buffer.size != n:
        buffer = np.empty(n, dtype=dtype)
        setattr(_scratch, name, buffer)
    return buffer


def _heap() -> tuple[np.ndarray, np.ndarray]:
    """Empty buffers for the compiled passes' heap of the best partial scores."""
    return np.empty(_PROBE), np.empty(_PROBE, dtype=np.int64)


class Plan:
    """Shared state: the query's posting lists and the order in which they are read."""

    columns: tuple[str, ...]  # the inverted-index columns the per-peak term reads
    csr_column: str  # the same quantity in the CSR peak table

    #: Accumulate with the compiled loops of :mod:`customslab.spectra.search_kernel` where available.
    compiled = True

    def __init__(self, library: Library, peaks: EIPeaks, values: np.ndarray, priority: np.ndarray) -> None:
        inv_indptr = np.asarray(library.arrays["inv_indptr"])
        self.library = library
        self.bins = peaks.mz.astype(np.int64)
        self.values = values
        self.starts = inv_indptr[self.bins]
        self.lengths = inv_indptr[self.bins + 1] - self.starts
        # Read first the lists that remove the most bound per posting entry.
        self.order = np.argsort(-priority / np.maximum(self.lengths, 1), kind="stable")

    def term(self, query_value: float, library: list[np.ndarray], out: np.ndarray) -> None:
        """Write the terms of one posting-list slice (its ``columns``) into ``out``."""
        raise NotImplementedError

    def csr_term(self, query_value: np.ndarray, mz: np.ndarray, library_value: np.ndarray) -> np.ndarray:
        """The terms of CSR peaks (m/z and ``csr_column`` values), query values given per peak."""
        raise NotImplementedError

    def unseen_bound(self, read: int) -> float:
        """Highest score of a spectrum sharing none of the first ``read`` lists."""
        raise NotImplementedError

    def upper(self, ids: np.ndarray, partial: np.ndarray, read: int, tau: float) -> np.ndarray:
        """Highest score of spectra ``ids`` whose terms over the first ``read`` lists sum to ``partial``."""
        raise NotImplementedError

    def score(self, ids: np.ndarray, total: np.ndarray) -> np.ndarray:
        """Exact score from the sum of the terms over all shared peaks."""
        raise NotImplementedError

    def partial(self, ids: np.ndarray, partial: np.ndarray) -> np.ndarray:
        """A ranking of spectra ``ids`` by their partial sums: the score they would have if the lists
        read so far were all they share (the cosine, before squaring and without the RI penalty)."""
        raise NotImplementedError

    def survivor_kernel(self, loops: ModuleType, read: int, tau: float) -> Callable[..., tuple[int, int]]:
        """The compiled survivor test after ``read`` lists, as kernel(acc, candidates, scan_all, lo, hi,
        out, best, best_ids) -> (survivors, heap fill) (see ``search_kernel_loops.survivors_*``)."""
        raise NotImplementedError

    def survivors(
        self, loops: ModuleType, acc: np.ndarray, candidates: np.ndarray | None, read: int, tau: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """``_survivors`` in compiled passes (one per thread over a share of the candidates, or of the
        library when ``candidates`` is None), and the survivors best by :meth:`partial`."""
        kernel = self.survivor_kernel(loops, read, tau)
        items = acc.size if candidates is None else candidates.size
        out = _scratch_buffer("ids", acc.size, np.int64)

        def part(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
            best, best_ids = _heap()
            if candidates is None:
                count, filled = kernel(acc, _NONE, True, lo, hi, out[lo:hi], best, best_ids)
            else:
                count, filled = kernel(acc, candidates[lo:hi], False, 0, 0, out[lo:hi], best, best_ids)
            return out[lo : lo + count].copy(), best_ids[:filled].copy()

        minimum = MIN_SPLIT_LIBRARY if candidates is None else MIN_SPLIT_CANDIDATES
        parts = _run([_bind(part, lo, hi) for lo, hi in _parts(items, minimum)])
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([kept for kept, _ in parts]), np.concatenate([best for _, best in parts])

    def best_compiled(
        self, loops: ModuleType, acc: np.ndarray, lo: int, hi: int, best: np.ndarray, ids: np.ndarray
    ) -> int:
        """The spectra of lo:hi best by :meth:`partial` among those with a non-zero sum, in one
        compiled pass (into the heap ``best``/``ids``); returns how many the heap holds."""
        raise NotImplementedError

    def finish_compiled(self, loops: ModuleType, ids: np.ndarray, table: np.ndarray, out: np.ndarray) -> None:
        """``_finish`` in one compiled pass: ``out`` gets the sums, ``table`` maps m/z to a list or -1."""
        arrays = self.library.arrays
        loops.finish(
            ids,
            np.asarray(arrays["ms_indptr"]),
            np.asarray(arrays["ms_mz"]),
            np.asarray(arrays[self.csr_column]),
            table,
            np.ascontiguousarray(self.values, dtype=np.float64),
            isinstance(self, EntropyPlan),
            float(scoring_ms.DEFAULT_INTENSITY_POWER),
            float(scoring_ms.DEFAULT_MZ_POWER),
            out,
        )


class CosinePlan(Plan):
    """Weighted dot product (cos²), with the common-range cut and RI penalty for ``hybrid``."""

    columns = ("inv_w",)
    csr_column = "ms_int"

    def __init__(self, library: Library, peaks: EIPeaks, common_range: bool, ri: float | None) -> None:
        grid = scoring_ms.LOW_MZ_GRID
        w = scoring_ms.peak_weights(peaks, scoring_ms.DEFAULT_MZ_POWER, scoring_ms.DEFAULT_INTENSITY_POWER)
        super().__init__(library, peaks, w, w**2)
        self.g = int(np.searchsorted(grid, peaks.low_mz, side="right") - 1) if common_range else 0
        self.common_range = common_range
        self.ri = ri
        above = peaks.mz[None, :] >= grid[:, None]
        self.norm2 = (above * w**2).sum(axis=1)
        removed = np.cumsum(above[:, self.order] * w[self.order] ** 2, axis=1)
        rest2 = np.maximum(self.norm2[:, None] - np.hstack((np.zeros((grid.size, 1)), removed)), 0.0)
        cuts = np.arange(grid.size)
        valid = (self.norm2 > 0) & ((cuts >= self.g) if common_range else (cuts == 0))
        # U[c, r]: cosine an unread remainder can add at cut c after reading r lists.
        self.u = np.where(valid[:, None], np.sqrt(safe_divide(rest2, self.norm2[:, None])), 0.0)
        self.unseen = self.u.max(axis=0) ** 2
        # The cut is max(g, scan start of the library spectrum): tables indexed by the latter. The
        # library norm above the cut is always the one above g, because no library peak lies below its
        # own scan start (the writer enforces it).
        cut_of = np.maximum(self.g, cuts) if common_range else np.zeros(grid.size, dtype=np.int64)
        self.u_by_low = self.u[cut_of]
        self.query_scale = np.sqrt(safe_divide(np.ones(grid.size), self.norm2[cut_of]))
        self.library_norm2 = library.arrays["ms_norms"][self.g]

    def term(self, query_value: float, library: list[np.ndarray], out: np.ndarray) -> None:
        np.multiply(library[0], query_value, out=out)

    def csr_term(self, query_value: np.ndarray, mz: np.ndarray, library_value: np.ndarray) -> np.ndarray:
        intensity = library_value.astype(np.float64)
        weight = intensity**scoring_ms.DEFAULT_INTENSITY_POWER * mz.astype(np.float64) ** float(
            scoring_ms.DEFAULT_MZ_POWER
        )
        return query_value * weight

    def unseen_bound(self, read: int) -> float:
        return float(self.unseen[read])

    def _low(self, ids: np.ndarray) -> np.ndarray | int:
        return np.asarray(self.library.arrays["ms_low"])[ids] if self.common_range else 0

    def _cosine(self, ids: np.ndarray, total: np.ndarray, low: np.ndarray | int) -> np.ndarray:
        library_norm2 = np.asarray(self.library_norm2)[ids].astype(np.float64)
        return safe_divide(total, np.sqrt(library_norm2)) * self.query_scale[low]

    def _penalty(self, ids: np.ndarray) -> np.ndarray:
        if self.ri is None:
            return np.zeros(ids.size)
        ri = np.asarray(self.library.arrays["ms_ri"])[ids]
        excess = np.abs(ri - self.ri) - scoring_ms.RI_WINDOW
        penalty = np.minimum(scoring_ms.RI_MAX_PENALTY, scoring_ms.RI_RATE * np.maximum(0.0, excess))
        return np.where(np.isnan(ri), 0.0, penalty)

    def upper(self, ids: np.ndarray, partial: np.ndarray, read: int, tau: float) -> np.ndarray:
        low = self._low(ids)
        bound = np.minimum(1.0, self._cosine(ids, partial, low) + self.u_by_low[low, read]) ** 2
        if self.ri is not None:
            # The penalty is only worth its gathers for the spectra that pass without it.
            near = np.flatnonzero(bound + EPS >= tau)
            bound[near] -= self._penalty(ids[near])
        return bound

    def score(self, ids: np.ndarray, total: np.ndarray) -> np.ndarray:
        return self._cosine(ids, total, self._low(ids)) ** 2 - self._penalty(ids)

    def partial(self, ids: np.ndarray, partial: np.ndarray) -> np.ndarray:
        return self._cosine(ids, partial, self._low(ids))

    def _low_array(self) -> np.ndarray:
        return np.asarray(self.library.arrays["ms_low"]) if self.common_range else _NO_CUTS

    def best_compiled(
        self, loops: ModuleType, acc: np.ndarray, lo: int, hi: int, best: np.ndarray, ids: np.ndarray
    ) -> int:
        low, norm2 = self._low_array(), np.asarray(self.library_norm2)
        return int(loops.best_partial_cosine(acc, lo, hi, low, norm2, self.query_scale, best, ids))

    def survivor_kernel(self, loops: ModuleType, read: int, tau: float) -> Callable[..., tuple[int, int]]:
        low, norm2 = self._low_array(), np.asarray(self.library_norm2)
        u = np.ascontiguousarray(self.u_by_low[:, read])
        ri = np.asarray(self.library.arrays["ms_ri"])
        penalty = (
            np.zeros(0)
            if self.ri is None
            else np.array([self.ri, scoring_ms.RI_WINDOW, scoring_ms.RI_RATE, scoring_ms.RI_MAX_PENALTY])
        )

        def kernel(*args: object) -> tuple[int, int]:
            acc, candidates, scan_all, lo, hi, out, best, best_ids = args
            return loops.survivors_cosine(
                acc, candidates, scan_all, lo, hi, low, norm2, self.query_scale, u, ri, penalty, tau, EPS,
                out, best, best_ids,
            )  # fmt: skip

        return kernel


class EntropyPlan(Plan):
    """Entropy similarity (Li et al. 2021) as the sum of its per-shared-peak terms."""

    columns = ("inv_p", "inv_plogp")
    csr_column = "ms_p"

    def __init__(self, library: Library, peaks: EIPeaks) -> None:
        q = scoring_ms.entropy_weights(peaks.intensity)
        super().__init__(library, peaks, q, q)
        unread = np.concatenate((np.cumsum(q[self.order][::-1])[::-1], [0.0]))
        self.rest = scoring_ms.entropy_terms(np.ones(unread.size), unread)

    def term(self, query_value: float, library: list[np.ndarray], out: np.ndarray) -> None:
        # ((p+q)·log2(p+q) − p·log2 p − q·log2 q)/2 with p·log2 p stored: one logarithm per entry.
        p, plogp = library
        np.add(p, query_value, out=out)
        logarithm = np.log2(out)
        out *= logarithm
        out -= plogp
        out -= query_value * np.log2(query_value) if query_value > 0 else 0.0
        out *= 0.5

    def csr_term(self, query_value: np.ndarray, mz: np.ndarray, library_value: np.ndarray) -> np.ndarray:
        return scoring_ms.entropy_terms(query_value, library_value.astype(np.float64))

    def unseen_bound(self, read: int) -> float:
        return float(min(1.0, self.rest[read]))

    def score(self, ids: np.ndarray, total: np.ndarray) -> np.ndarray:
        return np.minimum(1.0, total)

    def partial(self, ids: np.ndarray, partial: np.ndarray) -> np.ndarray:
        return partial

    def best_compiled(
        self, loops: ModuleType, acc: np.ndarray, lo: int, hi: int, best: np.ndarray, ids: np.ndarray
    ) -> int:
        return int(loops.best_partial(acc, lo, hi, best, ids))

    def sketch_bounds(self, unread: np.ndarray) -> SketchBounds:
        """What the common-ion sketch bounds once the lists ``unread`` are left unread."""
        arrays = self.library.arrays
        column_of = np.full(65536, -1, dtype=np.int64)
        sketch_mz = np.asarray(arrays["ms_sketch_mz"]).astype(np.int64)
        column_of[sketch_mz] = np.arange(sketch_mz.size)
        columns = column_of[self.bins[unread]]
        q_common, q_rare = self.values[unread[columns >= 0]], float(self.values[unread[columns < 0]].sum())
        columns = columns[columns >= 0]
        groups = np.asarray(arrays["ms_sketch_groups"]).shape[0]
        q_group = np.bincount(
            columns // library_store.SKETCH_GROUP, weights=q_common, minlength=groups
        ).astype(float)
        active = np.flatnonzero(q_group > 0)
        edges, mass_edges = library_store.SKETCH_EDGES, library_store.SKETCH_MASS_EDGES
        # A spectrum with mass code c holds more than edges[c − 1] of its probability on the sketch's
        # m/z (at most edges[c]), so at most 1 − edges[c − 1] elsewhere.
        below = np.concatenate(([0.0], mass_edges[:-1]))
        rare_mass = np.minimum(1.0, 1.0 - below) + _MASS_MARGIN

        def tables(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
            grid = (values.size, edges.size)
            return np.ascontiguousarray(
                scoring_ms.entropy_terms(np.broadcast_to(edges, grid), np.broadcast_to(values[:, None], grid))
            )

        return SketchBounds(
            columns=np.ascontiguousarray(columns),
            terms=tables(q_common, edges),
            groups=active,
            group_terms=tables(q_group[active], edges),
            common_rest=scoring_ms.entropy_terms(mass_edges, np.full(256, float(q_common.sum()))),
            rare_rest=scoring_ms.entropy_terms(rare_mass, np.full(256, q_rare)),
        )


@dataclass(frozen=True)
class SketchBounds:
    """The entropy search's bounds on what spectra can still gain from the unread lists.

    Σ t(p_i, q_i) ≤ t(Σp_i, Σq_i), the term being concave and homogeneous of degree 1, and it grows
    with p: so a spectrum gains from a set of unread lists at most t(its probability there, the
    query's there), and an upper edge of its probability may stand for it.

    ``columns``: the sketch columns of the unread lists at the sketch's m/z, ``terms[j, c]``: the term
    of column j's query probability with the upper edge of p code c (0 for code 0, no peak);
    ``groups``: the column groups holding unread lists, ``group_terms[g, c]``: the term of the unread
    query probability of group g with the upper edge of code c of a spectrum's probability there;
    ``common_rest[c]`` / ``rare_rest[c]``: per sketch-mass code c, the most a spectrum gains from all
    unread lists at / outside the sketch's m/z.
    """

    columns: np.ndarray
    terms: np.ndarray
    groups: np.ndarray
    group_terms: np.ndarray
    common_rest: np.ndarray
    rare_rest: np.ndarray


def _add_lists(plan: Plan, acc: np.ndarray, lists: np.ndarray, fresh: bool = False) -> None:
    """Add the terms of the posting lists ``lists`` into the dense per-spectrum ``acc`` (zeroed first
    where ``fresh``).

    Terms go through one reused buffer and ``np.add.at``: fresh multi-megabyte temporaries cost more
    in page faults than the arithmetic (measured on the 2-core benchmark machine).
    """
    arrays = plan.library.arrays
    inv_ids, columns = arrays["inv_ids"], [arrays[name] for name in plan.columns]
    loops = search_kernel.kernels() if plan.compiled else None
    if loops is not None:
        starts = plan.starts[lists]
        ends = starts + plan.lengths[lists]
        values = np.ascontiguousarray(plan.values[lists], dtype=np.float64)
        ids = np.asarray(inv_ids)
        if isinstance(plan, EntropyPlan):
            p_bits = np.asarray(columns[0]).view(np.uint32)
            tables = entropy_tables(values)

            def add(lo: int, hi: int) -> None:
                loops.add_entropy_bound(
                    acc, ids, p_bits, starts, ends, tables, _P_SHIFT, _P_BASE, BLOCK, lo, hi, fresh
                )

        else:
            weights = np.asarray(columns[0])

            def add(lo: int, hi: int) -> None:
                loops.add_cosine(acc, ids, weights, starts, ends, values, BLOCK, lo, hi, fresh)

        _run([_bind(add, lo, hi) for lo, hi in _parts(acc.size, MIN_SPLIT_LIBRARY)])
        return
    if fresh:
        acc.fill(0.0)
    buffer = np.empty(min(_CHUNK_ENTRIES, int(plan.lengths[lists].sum()) if lists.size else 0))
    for i in lists.tolist():
        start, end = int(plan.starts[i]), int(plan.starts[i] + plan.lengths[i])
        for first in range(start, end, _CHUNK_ENTRIES):
            last = min(end, first + _CHUNK_ENTRIES)
            terms = buffer[: last - first]
            plan.term(float(plan.values[i]), [np.asarray(c[first:last]) for c in columns], terms)
            np.add.at(acc, np.asarray(inv_ids[first:last]), terms)


def _finish(plan: Plan, ids: np.ndarray, lists: np.ndarray) -> np.ndarray:
    """Per spectrum of ``ids``: the sum of the terms over its peaks whose m/z is one of ``lists``.

    Summed over each spectrum's CSR row in m/z order, on both engines: the compiled loop
    (:meth:`Plan.finish_compiled`) and NumPy's gathers and ``bincount`` add the same terms in the same
    order.
    """
    arrays = plan.library.arrays
    if ids.size == 0 or lists.size == 0:
        return np.zeros(ids.size)
    table = np.full(65536, -1, dtype=np.int32)
    table[plan.bins[lists]] = lists
    loops = search_kernel.kernels() if plan.compiled else None
    if loops is not None:
        # The compiled loop reads the table up to the query's highest m/z only (a few KiB, in the
        # core's L1 cache, rather than 256 KiB): small list numbers, m/z beyond it have no list.
        table = table[: int(plan.bins.max()) + 1].astype(np.int16 if plan.bins.size < 2**15 else np.int32)
        out = np.empty(ids.size)
        rows = np.ascontiguousarray(ids, dtype=np.int64)

        def finish(lo: int, hi: int) -> None:
            plan.finish_compiled(loops, rows[lo:hi], table, out[lo:hi])

        _run([_bind(finish, lo, hi) for lo, hi in _parts(rows.size, MIN_SPLIT_CANDIDATES)])
        return out
    indptr = np.asarray(arrays["ms_indptr"])
    starts, counts = indptr[ids], indptr[ids + 1] - indptr[ids]
    total = int(counts.sum())
    if total == 0:
        return np.zeros(ids.size)
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    positions = np.arange(total, dtype=np.int64)
    positions += shift
    mz = np.asarray(arrays["ms_mz"])[positions]
    which = table[mz]
    hit = np.flatnonzero(which >= 0)
    if hit.size == 0:
        return np.zeros(ids.size)
    owner = np.searchsorted(np.cumsum(counts), hit, side="right")
    library_value = np.asarray(arrays[plan.csr_column])[positions[hit]]
    terms = plan.csr_term(plan.values[which[hit]], mz[hit], library_value)
    return np.bincount(owner, weights=terms, minlength=ids.size)


def _raise_threshold(plan: Plan, tau: float, best: np.ndarray, k: int) -> float:
    """τ, or the k-th best exact score of the spectra ``best`` where that is higher.

    Any k real scores bound the final k-th score from below; the better the guess, the fewer lists
    the search reads and the fewer spectra it finishes. Only the speed depends on this choice, never
    the result.
    """
    if best.size < k:
        return tau
    exact = plan.score(best, _finish(plan, best, np.arange(plan.bins.size)))
    return max(tau, float(np.partition(exact, exact.size - k)[exact.size - k]))


def _best(plan: Plan, acc: np.ndarray) -> np.ndarray:
    """The ``_PROBE`` spectra with the highest :meth:`Plan.partial` among those with a non-zero sum."""
    loops = search_kernel.kernels() if plan.compiled else None
    if loops is not None:

        def best(lo: int, hi: int) -> np.ndarray:
            values, ids = _heap()
            return ids[: plan.best_compiled(loops, acc, lo, hi, values, ids)].copy()

        return np.concatenate(_run([_bind(best, lo, hi) for lo, hi in _parts(acc.size, MIN_SPLIT_LIBRARY)]))
    ids = np.flatnonzero(acc)
    return _top_partial(plan, acc, ids)


def _top_partial(plan: Plan, acc: np.ndarray, ids: np.ndarray) -> np.ndarray:
    if ids.size <= _PROBE:
        return ids
    return ids[np.argpartition(-plan.partial(ids, acc[ids]), _PROBE - 1)[:_PROBE]]


def _survivors(
    plan: Plan, acc: np.ndarray, candidates: np.ndarray | None, read: int, tau: float
) -> tuple[np.ndarray, np.ndarray]:
    """The candidates (all spectra met when None) whose upper bound after ``read`` lists reaches τ,
    and the ``_PROBE`` of them best by :meth:`Plan.partial`.

    The compiled engine does it in one pass (:meth:`Plan.survivors`) rather than a NumPy pass per
    step over arrays of up to a million spectra. Both keep every spectrum whose bound reaches τ; the
    compiled test may keep a few more (it tests a relaxed necessary condition first), which only
    costs their finishing.
    """
    loops = search_kernel.kernels() if plan.compiled else None
    if loops is not None:
        return plan.survivors(loops, acc, candidates, read, tau)
    ids = np.flatnonzero(acc) if candidates is None else candidates
    kept = ids[plan.upper(ids, acc[ids], read, tau) + EPS >= tau]
    return kept, _top_partial(plan, acc, kept)


def _needed(plan: Plan, tau: float) -> int:
    """The fewest lists after which a spectrum sharing none of them scores below τ."""
    total_lists = plan.order.size
    return next((r for r in range(1, total_lists + 1) if plan.unseen_bound(r) + EPS < tau), total_lists)


def _sketch_survivors(
    plan: EntropyPlan, acc: np.ndarray, bounds: SketchBounds, tau: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The spectra met whose bound from the sketch reaches τ, their bounds, and the ``_PROBE`` of
    them (per thread) with the highest bounds.

    A spectrum's bound: its partial sum, plus what the unread lists outside the sketch's m/z can give
    it (``rare_rest`` of its sketch mass), plus, where that and ``common_rest`` still reach τ, the
    tabulated terms of its sketch row's codes in the unread lists' columns. Spectra not met share
    none of the lists read, and the lists read include those after which such a spectrum falls
    below τ (:func:`_needed`).
    """
    arrays = plan.library.arrays
    mass, sketch = np.asarray(arrays["ms_sketch_mass"]), np.asarray(arrays["ms_sketch"])
    groups = np.asarray(arrays["ms_sketch_groups"])
    level = tau - EPS
    loops = search_kernel.kernels() if plan.compiled else None
    if loops is not None:
        out, values = _scratch_buffer("ids", acc.size, np.int64), _scratch_buffer("bounds", acc.size, float)

        def part(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            best, best_ids = _heap()
            count, filled = loops.survivors_sketch(
                acc, lo, hi, mass, groups, sketch, bounds.groups, bounds.group_terms, bounds.columns,
                bounds.terms, bounds.common_rest, bounds.rare_rest, level, out[lo:hi], values[lo:hi],
                best, best_ids,
            )  # fmt: skip
            return out[lo : lo + count].copy(), values[lo : lo + count].copy(), best_ids[:filled].copy()

        parts = _run([_bind(part, lo, hi) for lo, hi in _parts(acc.size, MIN_SPLIT_LIBRARY)])
        if len(parts) == 1:
            return parts[0]
        return tuple(np.concatenate([part[j] for part in parts]) for j in range(3))  # type: ignore[return-value]
    ids = np.flatnonzero(acc)
    codes = mass[ids]
    near = acc[ids] >= level - bounds.rare_rest[codes] - bounds.common_rest[codes] - 1e-12
    ids = ids[near]
    base = acc[ids] + bounds.rare_rest[mass[ids]]
    total = base.copy()
    for g, group in enumerate(bounds.groups.tolist()):
        total += bounds.group_terms[g][groups[group, ids]]
    ids, total = ids[total >= level], base[total >= level]
    for j, column in enumerate(bounds.columns.tolist()):
        total += bounds.terms[j][sketch[ids, column]]
    keep = total >= level
    ids, total = ids[keep], total[keep]
    best = ids if ids.size <= _PROBE else ids[np.argpartition(-total, _PROBE - 1)[:_PROBE]]
    return ids, total, best


def sketched_top_k(plan: EntropyPlan, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by entropy similarity, bounding the common ions' lists from the sketch.

    The long posting lists belong to the common ions (m/z 41, 43, 55, 57, ...), and reading them was
    most of the work. Here most of them are left unread: each spectrum's sketch holds its
    probabilities at the library's most frequent m/z, coded by an upper edge, so one 64-byte row
    bounds the terms of all those lists at once.

    1. **Seed** as :func:`pruned_top_k`: read the lists that remove the most bound per entry until
       half of the bound is gone, and take τ from the exact scores of the spectra best by their
       partial sums.
    2. **Read** the lists after which a spectrum sharing none of them falls below τ (in the same
       order), then the lists at m/z outside the sketch (the shorter ones) until the query
       probability left on those is at most ``_RARE_LEFT``.
    3. **Bound** every spectrum met by its partial sum plus what the unread lists can give it
       (:func:`_sketch_survivors`), score the ``_PROBE`` with the highest bounds exactly to raise τ,
       and keep those whose bound still reaches τ.
    4. **Finish**: score those exactly from the CSR peak table; the top k is the exact answer.
    """
    total_lists = plan.order.size
    acc = _scratch_buffer("acc", plan.library.n_ms, float)
    read = next((r for r in range(1, total_lists + 1) if plan.unseen_bound(r) <= _SEED_BOUND), total_lists)
    _add_lists(plan, acc, plan.order[:read], fresh=True)
    tau = _raise_threshold(plan, -np.inf, _best(plan, acc), k)
    needed = max(read, _needed(plan, tau))
    later = plan.order[needed:]
    rare = later[~np.isin(plan.bins[later], np.asarray(plan.library.arrays["ms_sketch_mz"]))]
    # Leave the rare lists with the least query probability per entry (read last) while the query
    # probability they hold is at most _RARE_LEFT.
    left = np.cumsum(plan.values[rare][::-1])[::-1]
    more = np.concatenate((plan.order[read:needed], rare[left > _RARE_LEFT]))
    if more.size:
        _add_lists(plan, acc, more)
    ids, bounds, best = _sketch_survivors(plan, acc, plan.sketch_bounds(np.setdiff1d(later, more)), tau)
    tau = _raise_threshold(plan, tau, best, k)
    candidates = ids[bounds + EPS >= tau]
    scores = plan.score(candidates, _finish(plan, candidates, np.arange(plan.bins.size)))
    order = np.lexsort((candidates, -scores))[:k]
    return candidates[order], scores[order]


def pruned_top_k(plan: Plan, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k (library indices and scores, best first) for the plan's query and score.

    The first lists read are those that hold half of the bound. The spectra they meet with the best
    partial scores are scored exactly; the k-th of those scores is the threshold τ, and the lists
    after which a spectrum sharing none of them falls below τ are read, with a few more (right after
    those, nearly every spectrum met would survive τ). Then more lists are read
    (doubling the entries read) while finishing the remaining candidates from the CSR table would cost
    more than reading the next batch; each batch tightens the candidates' bounds, and τ rises from
    the exact scores of the best of them. A bound after a batch is only applied to the candidates
    that survived the previous bounds, since every bound holds on its own.
    """
    if isinstance(plan, EntropyPlan):
        return sketched_top_k(plan, k)
    n, total_lists = plan.library.n_ms, plan.order.size
    read_entries = np.concatenate(([0], np.cumsum(plan.lengths[plan.order])))
    acc = _scratch_buffer("acc", n, float)
    read = next((r for r in range(1, total_lists + 1) if plan.unseen_bound(r) <= _SEED_BOUND), total_lists)
    _add_lists(plan, acc, plan.order[:read], fresh=True)
    tau = _raise_threshold(plan, -np.inf, _best(plan, acc), k)
    # Right after the lists τ needs, the unseen bound is just under τ and nearly every spectrum met
    # would survive: read ahead first, as many entries as a survivor pass over the library costs.
    ahead = np.searchsorted(read_entries, read_entries[_needed(plan, tau)] + _READ_AHEAD * n)
    needed = int(min(total_lists, ahead))
    if needed > read:
        _add_lists(plan, acc, plan.order[read:needed])
        read = needed
    candidates: np.ndarray | None = None  # None: every spectrum with a non-zero sum
    peaks_per_spectrum = float(plan.library.arrays["ms_indptr"][-1]) / max(n, 1)
    while np.isfinite(tau):
        candidates, best = _survivors(plan, acc, candidates, read, tau)
        higher = _raise_threshold(plan, tau, best, k)
        if higher > tau:
            tau = higher
            candidates, _ = _survivors(plan, acc, candidates, read, tau)
        if read == total_lists:
            break
        after = int(min(total_lists, max(read + 1, np.searchsorted(read_entries, 2 * read_entries[read]))))
        if candidates.size * peaks_per_spectrum * _FINISH_COST <= read_entries[after] - read_entries[read]:
            break
        _add_lists(plan, acc, plan.order[read:after])
        read = after
    if candidates is None:
        candidates = np.flatnonzero(acc)
    # Each candidate's score is summed again over all its shared peaks in m/z order (the cost is that
    # of gathering its CSR row, whichever lists are left), so the result does not depend on the order
    # the partial sums were added in.
    scores = plan.score(candidates, _finish(plan, candidates, np.arange(plan.bins.size)))
    order = np.lexsort((candidates, -scores))[:k]
    return candidates[order], scores[order]
