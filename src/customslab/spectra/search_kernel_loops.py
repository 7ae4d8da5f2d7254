"""The Numba loops of :mod:`customslab.spectra.search_kernel` (imported only through it).

The posting lists are sorted by spectrum id, so the loops add them block by block of ``block``
spectra (``search_pruned.BLOCK``): the entries of all the lists for one block, then the next. The
sums of one block (256 KiB of float64) stay in the core's L2 cache while they are added to, instead
of one cache miss per entry over the whole library's sums. Each spectrum still receives its terms
in list order, as without blocks: the cosine sums are those of NumPy to the last bit. The entropy
loop adds, instead of each term, a tabulated upper bound of it (one look-up, no logarithm): the
sums only steer the pruning, whose bounds stay valid, and every hit is scored exactly.

``error_model="numpy"``: divisions follow IEEE arithmetic (no zero-division check per operation);
every division here is guarded or meant to give an infinity.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _range(ids, starts, ends, lo, hi):  # type: ignore[no-untyped-def]
    """Per list i (entries starts[i]:ends[i], sorted by spectrum id): the entries of spectra lo:hi."""
    cursor = np.empty(starts.size, dtype=np.int64)
    stop = np.empty(starts.size, dtype=np.int64)
    for i in range(starts.size):
        entries = ids[starts[i] : ends[i]]
        cursor[i] = starts[i] + np.searchsorted(entries, lo)
        stop[i] = starts[i] + np.searchsorted(entries, hi)
    return cursor, stop


@numba.njit(cache=True, nogil=True, inline="always")
def _segment(ids, cursor, stop, i, limit):  # type: ignore[no-untyped-def]
    """List i's next entries, of spectra below ``limit`` (first, last); moves its cursor past them."""
    first, end = cursor[i], stop[i]
    if first >= end:
        return first, first
    last = end if ids[end - 1] < limit else first + np.searchsorted(ids[first:end], limit)
    cursor[i] = last
    return first, last


@numba.njit(cache=True, nogil=True, error_model="numpy")
def add_cosine(acc, ids, weights, starts, ends, values, block, lo, hi, fresh):  # type: ignore[no-untyped-def]
    """acc[ids[j]] += values[i] · weights[j] over the entries j of each list i that belong to spectra
    lo:hi, block by block (two threads can fill two ranges of one ``acc``); with ``fresh``, each block
    of ``acc`` is zeroed first."""
    cursor, stop = _range(ids, starts, ends, lo, hi)
    for limit in range(lo + block, hi + block, block):
        if fresh:
            acc[limit - block : min(limit, hi)] = 0.0
        for i in range(starts.size):
            first, last = _segment(ids, cursor, stop, i, limit)
            value = values[i]
            for j in range(first, last):
                acc[ids[j]] += value * np.float64(weights[j])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def add_entropy_bound(acc, ids, p_bits, starts, ends, tables, shift, base, block, lo, hi, fresh):  # type: ignore[no-untyped-def]
    """acc[ids[j]] += tables[i, code(p_j)] over the entries j of each list i that belong to spectra
    lo:hi, block by block; with ``fresh``, each block of ``acc`` is zeroed first (while it is in the
    cache anyway, rather than in a pass of its own over the library's sums).

    ``p_bits``: the library probabilities p as the bits of their float32 (``view(np.uint32)``);
    code(p) = (bits >> shift) − base, within [0, width), is p's bin on a logarithmic grid, and
    ``tables[i, c]`` the entropy term of list i's query probability with the upper edge of bin c
    (:func:`customslab.spectra.search_pruned.entropy_tables`): at least the exact term, since the term
    grows with p. One table look-up per entry instead of a logarithm.
    """
    cursor, stop = _range(ids, starts, ends, lo, hi)
    width = tables.shape[1]
    for limit in range(lo + block, hi + block, block):
        if fresh:
            acc[limit - block : min(limit, hi)] = 0.0
        for i in range(starts.size):
            first, last = _segment(ids, cursor, stop, i, limit)
            for j in range(first, last):
                code = min(max(np.int64(p_bits[j] >> shift) - base, 0), width - 1)
                acc[ids[j]] += tables[i, code]


@numba.njit(cache=True, nogil=True, inline="always")
def keep_best(value, index, top_values, top_ids, filled):  # type: ignore[no-untyped-def]
    """Offer (value, index) to a min-heap of the ``top_values.size`` best values (and their ids, in
    ``top_ids``) that holds ``filled`` of them; returns the new fill."""
    if filled < top_values.size:
        j = filled
        filled += 1
        while j > 0:
            parent = (j - 1) >> 1
            if top_values[parent] <= value:
                break
            top_values[j], top_ids[j] = top_values[parent], top_ids[parent]
            j = parent
        top_values[j], top_ids[j] = value, index
        return filled
    if value <= top_values[0]:
        return filled
    j = 0
    while True:
        child = 2 * j + 1
        if child >= filled:
            break
        if child + 1 < filled and top_values[child + 1] < top_values[child]:
            child += 1
        if top_values[child] >= value:
            break
        top_values[j], top_ids[j] = top_values[child], top_ids[child]
        j = child
    top_values[j], top_ids[j] = value, index
    return filled


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _limits(level, u, scale2, relax):  # type: ignore[no-untyped-def]
    """Per cut c: the least acc²/Σw² of a spectrum whose bound min(1, cos + u[c])² reaches ``level``
    (cos² = acc²·scale2[c]/Σw²), lowered by the factor ``relax``; infinite where none can."""
    limit = np.empty(u.size)
    root_level = math.sqrt(level) if level > 0.0 else 0.0
    for c in range(u.size):
        gap = root_level - u[c]
        if level > 1.0:
            limit[c] = np.inf
        elif gap <= 0.0:
            limit[c] = 0.0
        elif scale2[c] > 0.0:
            limit[c] = gap * gap / scale2[c] * relax
        else:
            limit[c] = np.inf
    return limit


@numba.njit(cache=True, nogil=True, error_model="numpy")
def survivors_cosine(  # type: ignore[no-untyped-def]
    acc, candidates, scan_all, lo, hi, low, norm2, query_scale, u, ri, penalty, tau, eps, out, best, best_ids
):
    """The candidates whose bound min(1, cos + U)² − RI penalty reaches τ − eps (CosinePlan.upper).

    The candidates (with ``scan_all``: every spectrum of lo:hi with a non-zero sum) that pass go to
    the front of ``out`` (a buffer of a slot per candidate); returns their number. The best of them by
    partial cosine go to the min-heap ``best``/``best_ids`` (:func:`keep_best`; its fill is returned
    second). ``low``: each spectrum's cut (int8; an empty array: cut 0 for all), ``norm2``: Σw² above
    the query's cut, ``u``: the unread-remainder bound per cut, ``ri``: retention indices (NaN
    unknown); ``penalty``: the query's RI, the window, rate and cap of the RI penalty (empty: none).

    With cos = acc·scale/‖w_L‖ and acc ≥ 0, the bound reaches a level T ≤ 1 exactly when
    acc²·scale² ≥ (√T − U)²·Σw² or √T ≤ U: no square root or division per spectrum. A first
    branch-free pass applies it with T = τ − eps (no penalty; over the library, it skips runs of 16
    spectra where none reaches the least right side of any cut); the second applies it again, with
    T = τ − eps + penalty, to the spectra that pass and have a penalty. Each right side is relaxed by
    a relative 1e-9, so rounding can only keep a few more spectra (each is then scored exactly).
    """
    relax = 1.0 - 1e-9
    scale2 = query_scale * query_scale
    level = tau - eps
    has_penalty = penalty.size > 0
    query_ri, window, rate, cap = (
        (penalty[0], penalty[1], penalty[2], penalty[3]) if has_penalty else (0.0,) * 4
    )
    limit = _limits(level, u, scale2, relax)
    least = limit.min()
    cut_all = low.size > 0
    first = 0
    items = hi - lo if scan_all else candidates.size
    for start in range(0, items, 16):
        end = min(start + 16, items)
        if scan_all:
            # Over the library, most runs of 16 spectra hold none that passes: skip them after a
            # branch-free maximum of the test with the least limit (a necessary condition).
            largest = -1.0
            for i in range(lo + start, lo + end):
                value = acc[i]
                excess = value * value - least * np.float64(norm2[i])
                largest = excess if excess > largest else largest
            if not largest >= 0.0:
                continue
        for n in range(start, end):
            i = lo + n if scan_all else candidates[n]
            value = acc[i]
            out[first] = i
            first += (value != 0.0) & (
                value * value >= limit[low[i] if cut_all else 0] * np.float64(norm2[i])
            )
    count = 0
    filled = 0
    floor = -1.0  # the heap's least cosine, squared, once it is full
    for n in range(first):
        i = out[n]
        cut = np.int64(low[i]) if cut_all else 0
        value = acc[i]
        squared = np.float64(norm2[i])
        keep = True
        if has_penalty:
            # Branch-free (the outcome is data-dependent): a square root costs less than a mispredicted
            # branch.
            spectrum_ri = ri[i]
            excess = abs(spectrum_ri - query_ri) - window
            cost = min(cap, rate * excess) if excess > 0.0 else 0.0  # NaN (no RI): no penalty
            level_i = level + cost
            gap = math.sqrt(max(level_i, 0.0)) - u[cut]
            need = gap * gap / scale2[cut] * relax if gap > 0.0 else 0.0
            keep = (level_i <= 1.0) & (value * value >= need * squared)
        out[count] = i
        count += keep
        # One branch, rarely taken once the heap is full: the bound test's outcome does not steer it.
        if keep & (value * value * scale2[cut] > floor * squared * relax):
            root = math.sqrt(squared)
            cosine = (value / root if root > 0.0 else 0.0) * query_scale[cut]
            filled = keep_best(cosine, i, best, best_ids, filled)
            if filled == best.size:
                floor = best[0] * best[0]
    return count, filled


@numba.njit(cache=True, nogil=True, error_model="numpy")
def survivors_sketch(  # type: ignore[no-untyped-def]
    acc,
    lo,
    hi,
    mass,
    groups,
    sketch,
    active,
    group_terms,
    columns,
    terms,
    common_rest,
    rare_rest,
    level,
    out,
    bounds,
    best,
    best_ids,
):
    """The spectra of lo:hi met (non-zero sum) whose sketch bound reaches ``level`` (τ − eps) go to
    the front of ``out``, their bounds to ``bounds``, the highest bounds to the heap ``best``; returns
    their number and the heap's fill (``search_pruned._sketch_survivors``).

    The bound is acc + rare_rest[mass] + Σ_j terms[j, sketch[i, columns[j]]], summed in that order.
    Two weaker bounds of it are tested first, the cheaper first: a branch-free pass keeps the spectra
    whose acc reaches level − rare_rest − common_rest (the right side lowered by 1e-12 so that
    rounding only keeps more), then acc + rare_rest + Σ_g group_terms[g, groups[active[g], i]] must
    reach the level before the row is read.
    """
    need = np.empty(rare_rest.size)
    for code in range(rare_rest.size):
        need[code] = level - rare_rest[code] - common_rest[code] - 1e-12
    first = 0
    for i in range(lo, hi):
        value = acc[i]
        out[first] = i
        first += (value != 0.0) & (value >= need[mass[i]])
    # The group bound, group by group: each group's row of codes is read forward, in step with the
    # ascending spectra (``bounds`` holds the running sums until the rows are read).
    for n in range(first):
        i = out[n]
        bounds[n] = acc[i] + rare_rest[mass[i]]
    for g in range(active.size):
        row = groups[active[g]]
        table = group_terms[g]
        for n in range(first):
            bounds[n] += table[row[out[n]]]
    second = 0
    for n in range(first):
        out[second] = out[n]
        second += bounds[n] >= level
    count = 0
    for n in range(second):
        i = out[n]
        total = acc[i] + rare_rest[mass[i]]
        for j in range(columns.size):
            total += terms[j, sketch[i, columns[j]]]
        out[count] = i
        bounds[count] = total
        count += total >= level
    filled = 0
    for n in range(count):
        filled = keep_best(bounds[n], out[n], best, best_ids, filled)
    return count, filled


@numba.njit(cache=True, nogil=True, inline="always")
def _power(x, exponent):  # type: ignore[no-untyped-def]
    """x**exponent in the operations NumPy's ``array ** scalar`` uses for these exponents."""
    if exponent == 1.0:
        return x
    if exponent == 0.5:
        return math.sqrt(x)
    if exponent == 2.0:
        return x * x
    return x**exponent


@numba.njit(cache=True, nogil=True, inline="always")
def _xlog2x(x):  # type: ignore[no-untyped-def]
    return x * math.log2(x) if x > 0.0 else 0.0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def finish(ids, indptr, mz, column, table, values, entropy, intensity_power, mz_power, out):  # type: ignore[no-untyped-def]
    """out[n] = Σ of the terms of the CSR peaks (m, x) of spectrum ids[n] whose m/z has a query list
    (``table[m] >= 0``; m/z beyond the table have none), q = values[table[m]], summed in m/z order as
    ``np.bincount`` sums them. Cosine: q · (x^a · m^b), x the intensity; ``entropy``:
    ((q+x)·log2(q+x) − q·log2 q − x·log2 x)/2, x the probability (q·log2 q once per list)."""
    size = table.size
    qlogq = np.empty(values.size)
    for k in range(values.size):
        qlogq[k] = _xlog2x(values[k]) if entropy else 0.0
    for n in range(ids.size):
        i = ids[n]
        total = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            m = np.int64(mz[j])
            which = table[m] if m < size else -1
            if which < 0:
                continue
            q, x = values[which], np.float64(column[j])
            if entropy:
                total += (_xlog2x(q + x) - qlogq[which] - _xlog2x(x)) / 2.0
            else:
                weight = _power(x, intensity_power)
                weight *= _power(np.float64(m), mz_power)
                total += q * weight
        out[n] = total


@numba.njit(cache=True, nogil=True, error_model="numpy")
def best_partial_cosine(acc, lo, hi, low, norm2, query_scale, top_values, top_ids):  # type: ignore[no-untyped-def]
    """The spectra of lo:hi with the highest partial cosine acc/‖w_L‖·scale (``top_ids``); returns
    how many.

    Once the heap is full, a spectrum is only scored when acc²·scale² > (heap minimum)²·Σw², which
    needs no square root or division; runs of 64 spectra where none passes that test are skipped after
    a branch-free maximum of acc²·scale² − (heap minimum)²·Σw² (the heap only rises meanwhile).
    """
    filled = 0
    cut_all = low.size > 0
    scale2 = query_scale * query_scale
    for start in range(lo, hi, 64):
        end = min(start + 64, hi)
        if filled == top_values.size:
            floor2 = top_values[0] * top_values[0] * (1.0 - 1e-9)
            largest = -1.0
            for i in range(start, end):
                value = acc[i]
                excess = value * value * scale2[np.int64(low[i]) if cut_all else 0] - floor2 * np.float64(
                    norm2[i]
                )
                largest = excess if excess > largest else largest
            if largest <= 0.0:
                continue
        for i in range(start, end):
            value = acc[i]
            if value == 0.0:
                continue
            cut = np.int64(low[i]) if cut_all else 0
            squared = np.float64(norm2[i])
            if filled == top_values.size:
                floor = top_values[0]
                if value * value * scale2[cut] <= floor * floor * squared * (1.0 - 1e-9):
                    continue
            root = math.sqrt(squared)
            if root > 0.0:
                filled = keep_best(value / root * query_scale[cut], i, top_values, top_ids, filled)
    return filled


@numba.njit(cache=True, nogil=True, error_model="numpy")
def best_partial(acc, lo, hi, top_values, top_ids):  # type: ignore[no-untyped-def]
    """The spectra of lo:hi with the highest sums (``top_ids``); returns how many.

    Once the heap is full, runs of 64 spectra whose largest sum does not beat its least are skipped
    after a branch-free maximum.
    """
    filled = 0
    for start in range(lo, hi, 64):
        end = min(start + 64, hi)
        if filled == top_values.size:
            largest = 0.0
            for i in range(start, end):
                value = acc[i]
                largest = value if value > largest else largest
            if largest <= top_values[0]:
                continue
        for i in range(start, end):
            if acc[i] != 0.0:
                filled = keep_best(acc[i], i, top_values, top_ids, filled)
    return filled


def warm_up() -> None:
    """Compile for the types the search passes: float64 sums, and the library's int32 ids and float32
    columns read-only (memory-mapped)."""
    acc = np.zeros(2)
    ids = np.zeros(1, dtype=np.int32)
    column = np.ones(1, dtype=np.float32)
    ids.setflags(write=False)
    column.setflags(write=False)
    bounds = np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64)
    add_cosine(acc, ids, column, *bounds, np.ones(1), 1 << 15, 0, 2, True)
    bits = column.view(np.uint32)
    add_entropy_bound(
        acc, ids, bits, *bounds, np.ones((1, 1)), 23, np.int64(bits[0] >> 23), 1 << 15, 0, 2, True
    )
    rows, indptr, mz = np.zeros(1, np.int64), np.array([0, 1], np.int64), np.zeros(1, np.uint16)
    indptr.setflags(write=False)
    mz.setflags(write=False)
    table = np.zeros(2, np.int16)
    for entropy in (False, True):
        finish(rows, indptr, mz, column, table, np.ones(1), entropy, 0.5, 1.0, acc)
    out, best, best_ids, low = np.zeros(2, np.int64), np.zeros(1), np.zeros(1, np.int64), np.zeros(2, np.int8)
    low.setflags(write=False)
    norm2, ri = np.ones(2, np.float32), np.zeros(2)
    norm2.setflags(write=False)
    ri.setflags(write=False)
    for scan_all in (True, False):
        unit = np.ones(1)
        survivors_cosine(
            acc, rows, scan_all, 0, 2, low, norm2, unit, unit, ri, np.ones(4), 0.5, 1e-9, out, best, best_ids
        )
    mass, sketch, group_rows = np.zeros(2, np.uint8), np.zeros((2, 1), np.uint8), np.zeros((1, 2), np.uint8)
    for array in (mass, sketch, group_rows):
        array.setflags(write=False)
    rest, active, terms = np.zeros(256), np.zeros(1, np.int64), np.zeros((1, 256))
    for lo in (0, 1):  # the whole buffer, and a thread's slice of it
        survivors_sketch(
            acc, lo, 2, mass, group_rows, sketch, active, terms, active, terms, rest, rest, 0.5, out[lo:],
            rest[lo:], best, best_ids,
        )  # fmt: skip
    best_partial_cosine(acc, 0, 2, low, norm2, np.ones(1), best, best_ids)
    best_partial(acc, 0, 2, best, best_ids)
