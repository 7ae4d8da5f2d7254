"""Leave-one-out EI identification accuracy on MassBank: our scores next to matchms and ms_entropy,
on equal inputs, with the system's extra inputs added one at a time, and tuned on a held-out half.

Every spectrum of a compound (InChIKey first block) that has at least two spectra is searched against
all other spectra; it is correct at top-n when a spectrum of the same compound is among the first n
hits (ties broken by library order, as the product does). One run prints three tables:

1. **Equal inputs.** Every method sees the same peaks: nominal m/z, the largest peak per bin, scaled
   to 1 and cut at 1 % of the base peak (``scoring_ms.prepare_ei``, what our library stores), and
   neither the retention index (RI) nor the scan start. Ours at the shipped settings, through the
   product's search (``ms_top_k``); matchms CosineGreedy at several weightings; ms_entropy's Flash
   entropy search. One row gives matchms the uncut peaks the previous version of this benchmark gave it.
2. **System rows.** Ours with the scan start (``hybrid`` without RI), with RI (``dot`` less the RI
   penalty, not a product method, shown to separate the two inputs) and with both (``hybrid``, what
   ``identify`` uses).
3. **Held-out tuning.** The compounds are split in two halves (seeded, stated in the output). Every
   tuned parameter (peak weights m/z^b·I^a, the RI window, rate and cap, and matchms' weighting) is
   chosen on half A (A's queries against a library without B's spectra, best top-1 over a grid) and
   scored on half B's queries against the whole library, next to the shipped settings on the same B
   queries; then the other way round, and both halves together (two-fold cross-validation).

The shipped EI defaults (m/z^1·I^0.5, RI window 20, rate 0.001, cap 0.2) were chosen by leave-one-out
on this same set (``scoring_ms`` says so), so tables 1–2 score them on the set they were tuned on;
table 3 is the honest estimate.

matchms' ``CosineGreedy.matrix`` scores about 5 queries a second here (a Python loop over pairs; a
full run would take 20 minutes per weighting), so its scores are computed with the same formula in
one matrix product (on integer m/z with tolerance 0.1 each peak can match only the equal m/z, so the
greedy assignment is the plain weighted cosine), and checked against matchms itself on a sample of
queries; the largest difference is printed. Flash entropy search runs for real on every query.

Run: .venv/bin/python benchmarks/ei_accuracy.py [--data ../shared/data] [--seed 18]
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

os.environ.setdefault("TQDM_DISABLE", "1")  # matchms progress bars would drown the table
from customslab.spectra import scoring_ms
from customslab.spectra.formats.massbank import read_massbank
from customslab.spectra.library import build_library_from_spectra
from customslab.spectra.library_store import Library
from customslab.spectra.model import Spectrum
from customslab.spectra.scoring_ms import EIPeaks, safe_divide
from customslab.spectra.search import ms_top_k

# matchms: its default (m/z^0, I^1), ours, Stein & Scott's composite weights and three others.
MATCHMS_WEIGHTS = [(0.0, 1.0), (0.0, 0.5), (1.0, 0.5), (2.0, 0.5), (3.0, 0.6), (1.0, 1.0)]
# Our tuning grid (m/z power, intensity power); it holds the shipped (1, 0.5) and every matchms pair.
MZ_POWERS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
INTENSITY_POWERS = (0.33, 0.5, 0.6, 0.75, 1.0)
RI_WINDOWS = (0.0, 10.0, 20.0, 30.0, 50.0, 100.0)
RI_RATES = (0.0005, 0.001, 0.002, 0.005, 0.01)
RI_CAPS = (0.1, 0.2, 0.3, 0.5, 1.0)
SHIPPED_WEIGHTS = (scoring_ms.DEFAULT_MZ_POWER, scoring_ms.DEFAULT_INTENSITY_POWER)
SHIPPED_RI = (scoring_ms.RI_WINDOW, scoring_ms.RI_RATE, scoring_ms.RI_MAX_PENALTY)
MATCHMS_CHECK_QUERIES = 30


@dataclass
class Data:
    keys: np.ndarray  # compound key per spectrum
    queries: np.ndarray  # spectrum indices searched
    peaks: list[EIPeaks]  # prepare_ei of every spectrum (the 1 % cut, scan start, RI)
    uncut: list[tuple[np.ndarray, np.ndarray]]  # nominal bins without the cut (old matchms input)
    half_a: np.ndarray  # per query: its compound is in half A
    a_spectra: np.ndarray  # per spectrum: its compound is in half A
    b_spectra: np.ndarray  # per spectrum: its compound is in half B
    seed: int
    compounds: tuple[int, int]


def load(data_dir: Path, seed: int) -> tuple[Data, list[Spectrum]]:
    files = sorted((data_dir / "spectra" / "massbank-ei").iterdir())
    spectra = [read_massbank(f)[0] for f in files]
    keys = np.array(
        [(s.metadata.get("inchikey") or f"none-{i}").split("-")[0] for i, s in enumerate(spectra)]
    )
    counts = Counter(keys)
    queries = np.array([i for i, k in enumerate(keys) if counts[k] >= 2 and not k.startswith("none")])
    compounds = sorted({keys[i] for i in queries})
    order = np.random.default_rng(seed).permutation(len(compounds))
    in_a = {compounds[j] for j in order[: len(compounds) // 2]}
    half_a = np.array([keys[i] in in_a for i in queries])
    in_b = set(compounds) - in_a
    a_spectra = np.array([k in in_a for k in keys])
    b_spectra = np.array([k in in_b for k in keys])
    data = Data(
        keys=keys,
        queries=queries,
        peaks=[scoring_ms.prepare_ei(s) for s in spectra],
        uncut=[scoring_ms.nominal_bins(s.x[s.y > 0], s.y[s.y > 0]) for s in spectra],
        half_a=half_a,
        a_spectra=a_spectra,
        b_spectra=b_spectra,
        seed=seed,
        compounds=(len(in_a), len(compounds) - len(in_a)),
    )
    return data, spectra


def accuracy(scores: np.ndarray, queries: np.ndarray, keys: np.ndarray) -> tuple[float, float]:
    """Top-1 and top-5 of score rows (one per query, one column per spectrum), the query left out."""
    s = scores.astype(np.float64, copy=True)
    s[np.arange(queries.size), queries] = -np.inf
    top = np.argsort(-s, axis=1, kind="stable")[:, :5]
    hit = keys[top] == keys[queries][:, None]
    return float(hit[:, 0].mean()), float(hit.any(axis=1).mean())


def top1(scores: np.ndarray, queries: np.ndarray, keys: np.ndarray, exclude: np.ndarray) -> float:
    """Top-1 only (the tuning objective); argmax takes the first maximum, as the stable sort does."""
    s = scores.copy()
    s[np.arange(queries.size), queries] = -np.inf
    s[:, exclude] = -np.inf
    return float((keys[s.argmax(axis=1)] == keys[queries]).mean())


class Dense:
    """Weighted cosine², scan-start cut and RI penalty for all query × library pairs at once.

    The same formulas as ``search_exhaustive`` (Stein & Scott 1994; the common-range cut and the AMDIS
    RI penalty of ``scoring_ms``), for any weights, so the grid search costs one matrix product per
    weighting. Library peaks come from the library's own arrays (float32), queries from prepare_ei.
    """

    def __init__(self, library: Library, data: Data) -> None:
        a = library.arrays
        indptr = np.asarray(a["ms_indptr"])
        mz = np.asarray(a["ms_mz"]).astype(np.int64)
        n = library.n_ms
        width = int(mz.max()) + 1
        self.lib = np.zeros((n, width))
        self.lib[np.repeat(np.arange(n), np.diff(indptr)), mz] = np.asarray(a["ms_int"], dtype=np.float64)
        self.query = np.zeros((data.queries.size, width))
        for row, i in enumerate(data.queries):
            p = data.peaks[i]
            self.query[row, p.mz.astype(np.int64)] = p.intensity
        self.mz = np.arange(width, dtype=np.float64)
        grid = scoring_ms.LOW_MZ_GRID
        self.grid_columns = grid.astype(np.int64)
        g_query = np.searchsorted(grid, [data.peaks[i].low_mz for i in data.queries], side="right") - 1
        self.cut = np.maximum(g_query[:, None], np.asarray(a["ms_low"]).astype(np.int64)[None, :])
        ri_query = np.array(
            [np.nan if (r := data.peaks[i].retention_index) is None else r for i in data.queries]
        )
        delta = np.abs(ri_query[:, None] - np.asarray(a["ms_ri"])[None, :])
        self.ri_known = ~np.isnan(delta)
        self.ri_delta = np.where(self.ri_known, delta, 0.0)

    def _norms_above_cuts(self, w: np.ndarray) -> np.ndarray:
        above = np.cumsum((w**2)[:, ::-1], axis=1)[:, ::-1]  # Σ w² over m/z ≥ column
        return above[:, self.grid_columns]

    def cosine2(self, mz_power: float, intensity_power: float, common_range: bool) -> np.ndarray:
        scale = self.mz**mz_power
        wq = self.query**intensity_power * scale
        wl = self.lib**intensity_power * scale
        numerator = wq @ wl.T
        nq, nl = self._norms_above_cuts(wq), self._norms_above_cuts(wl)
        if common_range:
            # Shared peaks all lie above both scan starts, so only the norms need the cut.
            denominator = np.take_along_axis(nq, self.cut, axis=1) * nl.T[self.cut, np.arange(nl.shape[0])]
        else:
            denominator = nq[:, :1] * nl[:, 0][None, :]
        return safe_divide(numerator**2, denominator)

    def penalty(self, window: float, rate: float, cap: float) -> np.ndarray:
        return np.where(self.ri_known, np.minimum(cap, rate * np.maximum(0.0, self.ri_delta - window)), 0.0)


def product_rows(
    library: Library, data: Data, method: scoring_ms.ScoreMethod, *, ri: bool = True
) -> np.ndarray:
    """Score rows through the product's search (top 6, the rest −inf): what ``identify`` ranks."""
    rows = np.full((data.queries.size, library.n_ms), -np.inf)
    for row, i in enumerate(data.queries):
        peaks = data.peaks[i] if ri else replace(data.peaks[i], retention_index=None)
        ids, scores = ms_top_k(library, peaks, 6, method)
        rows[row, ids] = scores
    return rows


def flash_rows(data: Data, n: int) -> np.ndarray:
    """ms_entropy FlashEntropySearch open search over every spectrum, on the same cut peaks."""
    from ms_entropy import FlashEntropySearch

    # EI has no precursor: one dummy precursor above every peak, open search over all fragments,
    # nominal peaks 1 Da apart (tolerance 0.4, centroid merge distance 0.8). Flash's own 1 % noise
    # cut is a no-op on peaks already cut at 1 %.
    peaks = [np.column_stack((p.mz, p.intensity)).astype(np.float32) for p in data.peaks]
    flash = FlashEntropySearch(max_ms2_tolerance_in_da=0.4)
    flash.build_index(
        [{"id": i, "precursor_mz": 2000.0, "peaks": p} for i, p in enumerate(peaks)],
        min_ms2_difference_in_da=0.8,
        precursor_ions_removal_da=None,
    )
    order = np.array([flash[j]["id"] for j in range(n)])
    rows = np.full((data.queries.size, n), -np.inf)
    for row, i in enumerate(data.queries):
        clean = flash.clean_spectrum_for_search(
            precursor_mz=2000.0, peaks=peaks[i], min_ms2_difference_in_da=0.8, precursor_ions_removal_da=None
        )
        rows[row, order] = flash.open_search(peaks=clean, ms2_tolerance_in_da=0.4)
    return rows


def check_matchms(data: Data, dense: Dense, rng: np.random.Generator) -> float:
    """Largest |cosine² from the dense formula − matchms CosineGreedy score²| on a sample of queries."""
    from matchms import Spectrum as MatchmsSpectrum
    from matchms.similarity import CosineGreedy

    logging.getLogger("matchms").setLevel(logging.ERROR)
    library = [
        MatchmsSpectrum(mz=p.mz, intensities=p.intensity, metadata={"id": str(i)})
        for i, p in enumerate(data.peaks)
    ]
    sample = np.sort(rng.choice(data.queries.size, MATCHMS_CHECK_QUERIES, replace=False))
    worst = 0.0
    for mz_power, intensity_power in (MATCHMS_WEIGHTS[0], MATCHMS_WEIGHTS[2]):
        cosine = CosineGreedy(tolerance=0.1, mz_power=mz_power, intensity_power=intensity_power)
        matrix = cosine.matrix([library[data.queries[r]] for r in sample], library, progress_bar=False)
        theirs = np.asarray(matrix["score"] if matrix.dtype.names else matrix, dtype=np.float64) ** 2
        ours = dense.cosine2(mz_power, intensity_power, common_range=False)[sample]
        worst = max(worst, float(np.abs(theirs - ours).max()))
    return worst


def uncut_cosine2(data: Data, mz_power: float, intensity_power: float) -> np.ndarray:
    """matchms' formula on the uncut nominal peaks the previous benchmark gave it."""
    width = int(max(mz.max() for mz, _ in data.uncut)) + 1
    dense = np.zeros((len(data.uncut), width))
    for i, (mz, intensity) in enumerate(data.uncut):
        dense[i, mz.astype(np.int64)] = intensity / intensity.max()
    w = dense**intensity_power * np.arange(width, dtype=np.float64) ** mz_power
    norms = np.sqrt((w**2).sum(axis=1))
    cosine = safe_divide(w[data.queries] @ w.T, norms[data.queries][:, None] * norms[None, :])
    return cosine**2


@dataclass
class Tuned:
    weights: tuple[float, float]
    ri: tuple[float, float, float] | None
    tuning_top1: float


def tune(dense: Dense, data: Data, common_range: bool, with_ri: bool, on_a: bool) -> Tuned:
    """Best top-1 on one half: its queries against a library without the other half's spectra.

    Grid order decides ties.
    """
    rows = data.half_a if on_a else ~data.half_a
    hidden = data.b_spectra if on_a else data.a_spectra
    queries = data.queries[rows]
    # Beyond the window the penalty is min(cap, rate·excess): one excess matrix per window.
    excess = {
        w: np.maximum(0.0, dense.ri_delta[rows] - w) * dense.ri_known[rows]
        for w in (RI_WINDOWS if with_ri else ())
    }
    grid: list[tuple[float, float, float] | None] = (
        list(itertools.product(RI_WINDOWS, RI_RATES, RI_CAPS)) if with_ri else [None]
    )
    best: Tuned | None = None
    for weights in itertools.product(MZ_POWERS, INTENSITY_POWERS):
        base = dense.cosine2(*weights, common_range=common_range)[rows]
        base[np.arange(queries.size), queries] = -np.inf
        base[:, hidden] = -np.inf
        for r in grid:
            scores = base if r is None else base - np.minimum(r[2], r[1] * excess[r[0]])
            got = float((data.keys[scores.argmax(axis=1)] == data.keys[queries]).mean())
            if best is None or got > best.tuning_top1:
                best = Tuned(weights, r, got)
    assert best is not None
    return best


def fmt(t: tuple[float, float]) -> str:
    return f"{100 * t[0]:5.1f} | {100 * t[1]:5.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
    parser.add_argument("--seed", type=int, default=18, help="seed of the split of compounds into halves")
    args = parser.parse_args()
    started = time.perf_counter()
    data, spectra = load(args.data, args.seed)
    n = len(data.peaks)
    keys, queries = data.keys, data.queries
    with_ri = sum(p.retention_index is not None for p in data.peaks)
    print(
        f"{n} spectra ({with_ri} with a retention index), {queries.size} queries of "
        f"{sum(data.compounds)} compounds; split seed {data.seed}: half A {data.compounds[0]} compounds "
        f"({int(data.half_a.sum())} queries), half B {data.compounds[1]} ({int((~data.half_a).sum())})"
    )

    with tempfile.TemporaryDirectory() as tmp:
        library = build_library_from_spectra(spectra, Path(tmp) / "lib")
        ours = {m: product_rows(library, data, m) for m in scoring_ms.SCORE_METHODS}
        ours["hybrid, no RI"] = product_rows(library, data, "hybrid", ri=False)
        dense = Dense(library, data)

    # The dense formulas must reproduce the product's search at the shipped settings.
    shipped = {
        "dot": dense.cosine2(*SHIPPED_WEIGHTS, common_range=False),
        "hybrid, no RI": dense.cosine2(*SHIPPED_WEIGHTS, common_range=True),
    }
    shipped["dot + RI"] = shipped["dot"] - dense.penalty(*SHIPPED_RI)
    shipped["hybrid"] = shipped["hybrid, no RI"] - dense.penalty(*SHIPPED_RI)
    agree, worst = 0, 0.0
    for method in ("dot", "hybrid, no RI", "hybrid"):
        product, mine = ours[method], shipped[method]
        finite = np.isfinite(product)
        worst = max(worst, float(np.abs(product[finite] - mine[finite]).max()))
        agree += int((product.argmax(axis=1) == mine.argmax(axis=1)).sum())
    rng = np.random.default_rng(data.seed)
    matchms_gap = check_matchms(data, dense, rng)
    print(
        f"checks: dense formulas vs the product's search (dot, hybrid without and with RI): "
        f"max |Δscore| {worst:.1e}, same first hit {agree} of {3 * queries.size}; "
        f"dense cosine vs matchms CosineGreedy on {MATCHMS_CHECK_QUERIES} queries: max |Δscore²| "
        f"{matchms_gap:.1e}"
    )

    matchms = {w: dense.cosine2(*w, common_range=False) for w in MATCHMS_WEIGHTS}
    flash = flash_rows(data, n)

    # 1. Equal inputs.
    equal: list[tuple[str, tuple[float, float]]] = []
    for method in ("dot", "reverse", "composite", "entropy"):
        equal.append((f"customslab {method}", accuracy(ours[method], queries, keys)))
    for w in MATCHMS_WEIGHTS:
        default = " (matchms default)" if w == (0.0, 1.0) else ""
        equal.append(
            (f"matchms CosineGreedy m/z^{w[0]:g} I^{w[1]:g}{default}", accuracy(matchms[w], queries, keys))
        )
    equal.append(("ms_entropy FlashEntropySearch (open)", accuracy(flash, queries, keys)))
    uncut = {w: accuracy(uncut_cosine2(data, *w), queries, keys) for w in MATCHMS_WEIGHTS}
    best_uncut_w = max(MATCHMS_WEIGHTS, key=lambda w: uncut[w][0])

    print("\n### Equal inputs (1 % cut for all, no retention index, no scan start), all queries\n")
    print("| method | top-1 % | top-5 % |\n|---|---:|---:|")
    for label, result in equal:
        print(f"| {label} | {fmt(result)} |")
    print(
        f"| *previous input:* matchms m/z^{best_uncut_w[0]:g} I^{best_uncut_w[1]:g} on uncut peaks "
        f"(best of {len(MATCHMS_WEIGHTS)}) | {fmt(uncut[best_uncut_w])} |"
    )

    # 2. System rows.
    system = [
        ("customslab dot (equal input, as above)", accuracy(ours["dot"], queries, keys)),
        ("+ scan start (hybrid without RI)", accuracy(ours["hybrid, no RI"], queries, keys)),
        ("+ RI only (dot − RI penalty; not a product method)", accuracy(shipped["dot + RI"], queries, keys)),
        ("+ scan start + RI (hybrid, the identify default)", accuracy(ours["hybrid"], queries, keys)),
    ]
    print("\n### System rows: ours with the scan start and the retention index, all queries\n")
    print("| method | top-1 % | top-5 % |\n|---|---:|---:|")
    for label, result in system:
        print(f"| {label} | {fmt(result)} |")

    # 3. Tuned on one half, scored on the other (both ways).
    halves = {"A": data.half_a, "B": ~data.half_a}

    def on(rows: np.ndarray, half: str) -> tuple[float, float]:
        return accuracy(rows[halves[half]], queries[halves[half]], keys)

    def both(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
        na, nb = int(halves["A"].sum()), int(halves["B"].sum())
        return ((na * a[0] + nb * b[0]) / (na + nb), (na * a[1] + nb * b[1]) / (na + nb))

    # Per row: label, shipped (A, B), tuned on the other half (A, B), what was chosen on A and on B.
    split: list[tuple[str, list[tuple[float, float]], list[tuple[float, float]], list[str]]] = []
    for label, common_range, ri, key in (
        ("customslab dot (equal input)", False, False, "dot"),
        ("+ scan start", True, False, "hybrid, no RI"),
        ("+ RI only", False, True, "dot + RI"),
        ("+ scan start + RI (hybrid)", True, True, "hybrid"),
    ):
        tuned, chosen = [], []
        for half, other_is_a in (("A", False), ("B", True)):
            pick = tune(dense, data, common_range, ri, on_a=other_is_a)
            scores = dense.cosine2(*pick.weights, common_range=common_range)
            if pick.ri is not None:
                scores = scores - dense.penalty(*pick.ri)
            tuned.append(on(scores, half))
            what = f"m/z^{pick.weights[0]:g} I^{pick.weights[1]:g}"
            if pick.ri is not None:
                what += f", RI window {pick.ri[0]:g} rate {pick.ri[1]:g} cap {pick.ri[2]:g}"
            chosen.append(what)
        split.append((label, [on(shipped[key], "A"), on(shipped[key], "B")], tuned, chosen[::-1]))
    tuned_mm, chosen_mm = [], []
    for half, other in (("A", "B"), ("B", "A")):
        hidden = data.b_spectra if other == "A" else data.a_spectra  # the scored half's spectra
        other_q = queries[halves[other]]
        pick_w = max(MATCHMS_WEIGHTS, key=lambda w: top1(matchms[w][halves[other]], other_q, keys, hidden))
        tuned_mm.append(on(matchms[pick_w], half))
        chosen_mm.append(f"m/z^{pick_w[0]:g} I^{pick_w[1]:g}")
    default_mm = matchms[(0.0, 1.0)]
    split.append(
        (
            "matchms CosineGreedy (weighting: its default / one of the 6)",
            [on(default_mm, "A"), on(default_mm, "B")],
            tuned_mm,
            chosen_mm[::-1],
        )
    )
    for label, rows in (("customslab entropy", ours["entropy"]), ("ms_entropy Flash entropy", flash)):
        fixed = [on(rows, "A"), on(rows, "B")]
        split.append((label, fixed, fixed, ["nothing to tune", "nothing to tune"]))
    print(
        f"\n### Tuned on one half of the compounds, scored on the other (split by compound, seed "
        f"{data.seed}: A {data.compounds[0]} compounds, {int(halves['A'].sum())} queries; "
        f"B {data.compounds[1]} compounds, {int(halves['B'].sum())} queries)\n"
    )
    print(
        "top-1 % / top-5 %. *Shipped*: the settings in the product, chosen on all queries of this set "
        "(matchms: its default m/z^0 I^1). *Tuned*: chosen on the other half (its queries against a "
        "library without this half's spectra), then scored on this half against the whole library.\n"
    )
    print(
        "| method | B shipped | B tuned on A | A shipped | A tuned on B | all shipped | all, tuned on "
        "the other half |\n|---|---:|---:|---:|---:|---:|---:|"
    )

    def cell(t: tuple[float, float]) -> str:
        return f"{100 * t[0]:.1f} / {100 * t[1]:.1f}"

    for label, at_shipped, at_tuned, _ in split:
        print(
            f"| {label} | {cell(at_shipped[1])} | {cell(at_tuned[1])} | {cell(at_shipped[0])} | "
            f"{cell(at_tuned[0])} | {cell(both(*at_shipped))} | {cell(both(*at_tuned))} |"
        )
    print("\nChosen on A / on B:")
    for label, _, _, chosen in split[:5]:
        print(f"- {label}: {chosen[0]} / {chosen[1]}")
    print(
        f"- shipped: m/z^{SHIPPED_WEIGHTS[0]:g} I^{SHIPPED_WEIGHTS[1]:g}, RI window {SHIPPED_RI[0]:g} "
        f"rate {SHIPPED_RI[1]:g} cap {SHIPPED_RI[2]:g}"
    )

    # Where the gain comes from.
    peer_old = uncut[best_uncut_w][0]
    peer_label, peer = max(
        ((lab, r[0]) for lab, r in equal if not lab.startswith("customslab")), key=lambda x: x[1]
    )
    dot, scan, ri_only, hybrid = (r[0] for _, r in system)
    held = [both(*row[2])[0] for row in split]
    hybrid_shipped = both(*split[3][1])[0]
    print("\n### Where the gain comes from (top-1, percentage points)\n")
    print(
        f"On all queries at the shipped settings, the identify default (hybrid, {100 * hybrid:.1f} %) leads "
        f"the best peer as the previous benchmark ran it (matchms on uncut peaks, {100 * peer_old:.1f} %) "
        f"by {100 * (hybrid - peer_old):+.1f} points: {100 * (peer - peer_old):+.1f} from the 1 % peak cut "
        f"(best peer on equal input: {peer_label}, {100 * peer:.1f} %), {100 * (dot - peer):+.1f} from the "
        f"scoring itself (our dot product on equal input, {100 * dot:.1f} %; on nominal peaks it is the "
        f"same formula as matchms CosineGreedy m/z^1 I^0.5), {100 * (scan - dot):+.1f} from the scan start "
        f"and {100 * (hybrid - scan):+.1f} from the retention index on top of it (the retention index alone "
        f"adds {100 * (ri_only - dot):+.1f}). Our entropy score and Flash entropy search agree. The lead is "
        "the system's use of the retention index and the scan start, a fair system feature (NIST MS Search "
        "and AMDIS use RI) that these peers do not offer, not better spectrum scoring. The shipped weights "
        "and RI settings were chosen on this same set; with every parameter chosen on the other half "
        f"(both halves together), hybrid scores {100 * held[3]:.1f} % (shipped {100 * hybrid_shipped:.1f} "
        f"%), the equal-input dot product {100 * held[0]:.1f} % and matchms (its weighting chosen among "
        f"{len(MATCHMS_WEIGHTS)} on the other half) {100 * held[4]:.1f} %; held out, the scan start adds "
        f"{100 * (held[1] - held[0]):+.1f} and the retention index {100 * (held[3] - held[1]):+.1f} on top "
        f"of it. A top-1 figure over {queries.size} queries has a standard error of about "
        f"{100 * np.sqrt(hybrid * (1 - hybrid) / queries.size):.1f} points (more in truth, since the "
        "spectra of one compound are not independent), so differences of a point or two are within noise."
    )
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
