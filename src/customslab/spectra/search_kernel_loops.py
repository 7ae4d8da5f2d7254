"""The Numba loops of :mod:`customslab.spectra.search_kernel` (imported only through it).

The posting lists are sorted by spectrum id, so the loops add them block by block of ``block``
spectra (``search_pruned.BLOCK``): the entries of all the lists for one block, then the next. The
sums of one block (256 KiB of float64) stay in the core's L2 cache while they are added to, instead
of one cache miss per entry over the whole library's sums. Each spectrum still receives its terms
in list order, as without blocks, so the sums are the same to the last bit.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def add_cosine(acc, ids, weights, starts, ends, values, block):  # type: ignore[no-untyped-def]
    """acc[ids[j]] += values[i] · weights[j] over the entries j of each list i, block by block."""
    cursor = starts.copy()
    for limit in range(block, acc.size + block, block):
        for i in range(starts.size):
            first, end = cursor[i], ends[i]
            if first >= end:
                continue
            last = end if ids[end - 1] < limit else first + np.searchsorted(ids[first:end], limit)
            value = values[i]
            for j in range(first, last):
                acc[ids[j]] += value * np.float64(weights[j])
            cursor[i] = last


@numba.njit(cache=True, nogil=True)
def add_entropy(acc, ids, p, plogp, starts, ends, values, block):  # type: ignore[no-untyped-def]
    """acc[ids[j]] += ((p+q)·log2(p+q) − p·log2 p − q·log2 q)/2, q = values[i], p·log2 p stored."""
    cursor = starts.copy()
    qlogq = np.zeros(values.size)
    for i in range(values.size):
        q = values[i]
        qlogq[i] = q * math.log2(q) if q > 0.0 else 0.0
    for limit in range(block, acc.size + block, block):
        for i in range(starts.size):
            first, end = cursor[i], ends[i]
            if first >= end:
                continue
            last = end if ids[end - 1] < limit else first + np.searchsorted(ids[first:end], limit)
            q, qq = values[i], qlogq[i]
            for j in range(first, last):
                total = np.float64(p[j]) + q
                acc[ids[j]] += (total * math.log2(total) - np.float64(plogp[j]) - qq) * 0.5
            cursor[i] = last


@numba.njit(cache=True, nogil=True)
def survivors_cosine(acc, candidates, scan_all, low, norm2, query_scale, u, ri, penalty, tau, eps, out):  # type: ignore[no-untyped-def]
    """CosinePlan.upper fused with the survivor test, in the same floating-point operations.

    The candidates (with ``scan_all``: every spectrum with a non-zero sum) that pass go to the front
    of ``out`` (a reused buffer of one slot per spectrum); returns their number. ``low``: each
    spectrum's cut (int8; an empty array: cut 0 for all), ``norm2``: Σw² above the query's cut,
    ``u``: the unread-remainder bound per cut, ``ri``: retention indices (NaN unknown); ``penalty``:
    the query's RI, the window, rate and cap of the RI penalty (empty: no penalty).
    """
    count = 0
    for n in range(acc.size if scan_all else candidates.size):
        i = n if scan_all else candidates[n]
        if scan_all and acc[i] == 0.0:
            continue
        cut = np.int64(low[i]) if low.size > 0 else 0
        root = math.sqrt(np.float64(norm2[i]))
        cosine = (acc[i] / root if root > 0.0 else 0.0) * query_scale[cut]
        bound = min(1.0, cosine + u[cut]) ** 2
        if penalty.size > 0 and bound + eps >= tau and not math.isnan(ri[i]):
            excess = abs(ri[i] - penalty[0]) - penalty[1]
            bound -= min(penalty[3], penalty[2] * max(0.0, excess))
        if bound + eps >= tau:
            out[count] = i
            count += 1
    return count


@numba.njit(cache=True, nogil=True)
def survivors_entropy(acc, candidates, scan_all, rest, tau, eps, out):  # type: ignore[no-untyped-def]
    """EntropyPlan.upper fused with the survivor test: min(1, partial + rest) + eps ≥ τ (the
    survivors go to the front of ``out``; returns their number)."""
    count = 0
    for n in range(acc.size if scan_all else candidates.size):
        i = n if scan_all else candidates[n]
        if scan_all and acc[i] == 0.0:
            continue
        if min(1.0, acc[i] + rest) + eps >= tau:
            out[count] = i
            count += 1
    return count


def warm_up() -> None:
    """Compile for the types the search passes: float64 sums, and the library's int32 ids and float32
    columns read-only (memory-mapped)."""
    acc = np.zeros(2)
    ids = np.zeros(1, dtype=np.int32)
    column = np.ones(1, dtype=np.float32)
    ids.setflags(write=False)
    column.setflags(write=False)
    bounds = np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64)
    add_cosine(acc, ids, column, *bounds, np.ones(1), 1 << 15)
    add_entropy(acc, ids, column, column, *bounds, np.ones(1), 1 << 15)
