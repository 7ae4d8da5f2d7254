"""Polymer identification across laboratories: ours next to plain and derivative Pearson, one run.

Run from the repository root:
    .venv/bin/python benchmarks/polymer_accuracy.py [--data ../shared/data] [--fit-confidence]

Splits (a query is never in its own library; queries of a polymer the library lacks are left out of
top-1 and counted as out-of-library, where the right answer is "no reliable match"):
- MPX ATR-FTIR, leave one site out (LCG, NAP, VLFR): the spectra of one site against the other two;
- MPX Raman, leave one exposure campaign out (all MPX Raman spectra come from one site, VLFR);
- MPX, leave one site and campaign out: ATR and Raman together, a query against the other
  site/campaign groups of its technique (the figure the goal "inside MPX across sites" reads);
- RaMPP as the library, MPX Raman as queries: another laboratory, instrument, range and resolution,
  raw counts with fluorescence against spectra scaled 0–1;
- MPX Raman as the library, RaMPP as queries.
Peers, run here on the same spectra and splits: plain Pearson (resampled raw spectra, the Open Specy
approach) and first-derivative Pearson (np.gradient of the resampled raw spectrum), both over the range
the two spectra share. Ours: customslab.spectra.vib_features + scoring_vib.masked_shift_scores, the
identification default.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from customslab.spectra import confidence
from customslab.spectra.formats import read_spectra
from customslab.spectra.library import build_library_from_spectra
from customslab.spectra.model import Spectrum, Technique
from customslab.spectra.preprocess import resample, to_absorbance, to_raman_shift
from customslab.spectra.reference_sets import polymer_class
from customslab.spectra.scoring_vib import masked_shift_scores, row_sums
from customslab.spectra.search import vib_search
from customslab.spectra.vib_features import METHODS, MIN_SHARED_POINTS, VibFeatures, axis, features, hole_mask


@dataclass(frozen=True)
class Item:
    spectrum: Spectrum
    label: str
    group: str  # site or campaign (MPX), source file (RaMPP)
    product: str = ""  # MPX product (Polymer_ID and polymer)


Split = tuple[str, list[tuple[list[Item], list[Item]]]]


def load_mpx(data: Path) -> list[Item]:
    folder = data / "spectra" / "mpx-polymers"
    items = []
    with (folder / "subset_metadata.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            technique = Technique.FTIR if row["Analysis"] == "ATR" else Technique.RAMAN
            (spectrum,) = read_spectra(
                folder / "spectra" / row["file"], technique=technique, excitation_nm=532.0
            )
            if technique is Technique.FTIR:  # as spectra.reference_sets annotates the default library
                spectrum.metadata["sampling"] = "ATR"
                spectrum.metadata["atr_corrected"] = row["ATRcorrection"] in {"1", "1.0"}
            group = row["Region"] if technique is Technique.FTIR else row["Campaign"]
            items.append(Item(spectrum, polymer_class(row["Polymer"]), group, row["Polymer"]))
    return items


def load_rampp(data: Path) -> list[Item]:
    """RaMPP's spectra; the two that appear in both the FW and SW files are kept once."""
    items, seen = [], set()
    for path in sorted((data / "spectra" / "rampp-raman" / "data-raw").glob("*.CSV")):
        for s in read_spectra(path):
            if s.y.tobytes() not in seen:
                seen.add(s.y.tobytes())
                items.append(Item(s, polymer_class(s.name), path.stem))
    return items


def leave_group_out(items: list[Item]) -> list[tuple[list[Item], list[Item]]]:
    groups = sorted({i.group for i in items})
    return [([i for i in items if i.group == g], [i for i in items if i.group != g]) for g in groups]


def leave_product_out(items: list[Item]) -> list[tuple[list[Item], list[Item]]]:
    products = sorted({i.product for i in items})
    return [([i for i in items if i.product == p], [i for i in items if i.product != p]) for p in products]


def splits(data: Path) -> list[Split]:
    mpx, rampp = load_mpx(data), load_rampp(data)
    atr = [i for i in mpx if i.spectrum.technique is Technique.FTIR]
    raman = [i for i in mpx if i.spectrum.technique is Technique.RAMAN]
    return [
        ("MPX ATR-FTIR, leave one site out", leave_group_out(atr)),
        ("MPX Raman, leave one campaign out", leave_group_out(raman)),
        ("MPX Raman, leave one product out", leave_product_out(raman)),
        ("MPX all, leave one site/campaign out", leave_group_out(atr) + leave_group_out(raman)),
        ("RaMPP library -> MPX Raman queries", [(raman, rampp)]),
        ("MPX Raman library -> RaMPP queries", [(rampp, raman)]),
    ]


Prepare = Callable[[Spectrum], VibFeatures]


def raw_vector(spectrum: Spectrum, derivative: bool) -> VibFeatures:
    """A peer's vector: the spectrum (or its gradient) resampled, over the technique's window."""
    technique = spectrum.technique
    spectrum = to_raman_shift(spectrum) if technique is Technique.RAMAN else to_absorbance(spectrum)
    grid = axis(technique)
    values = resample(spectrum, grid)
    measured = np.flatnonzero(np.isfinite(values))
    start, stop = int(measured[0]), int(measured[-1])
    part = values[start : stop + 1]
    vector = np.zeros(grid.size)
    vector[start : stop + 1] = np.gradient(part) if derivative else part
    return VibFeatures(vector, start, stop)


PIPELINES: dict[str, tuple[Prepare, bool]] = {
    "plain Pearson (Open Specy-style)": (lambda s: raw_vector(s, False), False),
    "first-derivative Pearson": (lambda s: raw_vector(s, True), False),
    "customslab (default)": (features, True),
}


@dataclass
class Outcome:
    top1: float
    n: int
    scores: list[tuple[float, float, bool]]  # (r1, gap, correct) per in-library query
    outside: list[tuple[float, float]]  # (r1, gap) per out-of-library query


def run_ours(folds: list[tuple[list[Item], list[Item]]], tmp: Path) -> Outcome:
    """Ours through the production path: a library written to disk (float32), then vib_search."""
    hits = n = 0
    scores: list[tuple[float, float, bool]] = []
    outside: list[tuple[float, float]] = []
    for f, (queries, library) in enumerate(folds):
        spectra = []
        for item in library:
            spectrum = replace(item.spectrum, metadata={**item.spectrum.metadata, "label": item.label})
            spectra.append(spectrum)
        built = build_library_from_spectra(spectra, tmp / f"fold{f}")
        labels = {i.label for i in library}
        for query in queries:
            (top,) = vib_search(built, query.spectrum, 1)
            assert top.lead is not None
            if query.label in labels:
                correct = top.label == query.label
                hits += correct
                n += 1
                scores.append((top.score, top.lead, correct))
            else:
                outside.append((top.score, top.lead))
    return Outcome(hits / max(n, 1), n, scores, outside)


def run_split(folds: list[tuple[list[Item], list[Item]]], prepare: Prepare, ours: bool) -> Outcome:
    cache: dict[int, VibFeatures] = {}

    def prep(item: Item) -> VibFeatures:
        key = id(item.spectrum)
        if key not in cache:
            cache[key] = prepare(item.spectrum)
        return cache[key]

    hits = n = 0
    scores: list[tuple[float, float, bool]] = []
    outside: list[tuple[float, float]] = []
    for queries, library in folds:
        technique = library[0].spectrum.technique
        grid = axis(technique)
        holes = hole_mask(technique, grid) if ours else np.zeros(grid.size, dtype=bool)
        labels = np.array([i.label for i in library])
        rows = [prep(i) for i in library]
        matrix = np.stack([r.vector for r in rows])
        starts = np.array([r.start for r in rows])
        stops = np.array([r.stop for r in rows])
        sums = row_sums(matrix)
        shift = METHODS[technique].max_shift if ours else 0
        for query in queries:
            q = prep(query)
            kept = np.zeros(grid.size, dtype=bool)
            kept[q.start : q.stop + 1] = True
            kept &= ~holes
            r, _ = masked_shift_scores(
                q.vector, kept, matrix, starts, stops, sums, max_shift=shift, min_points=MIN_SHARED_POINTS
            )
            best = int(np.argmax(r))
            others = r[labels != labels[best]]
            gap = float(r[best] - (others.max() if others.size else -1.0))
            if query.label in set(labels):
                correct = bool(labels[best] == query.label)
                hits += correct
                n += 1
                scores.append((float(r[best]), gap, correct))
            else:
                outside.append((float(r[best]), gap))
    return Outcome(hits / max(n, 1), n, scores, outside)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument(
        "--fit-confidence", action="store_true", help="refit the confidence model and print it"
    )
    args = parser.parse_args(argv)
    table = splits(args.data)
    results: dict[str, list[Outcome]] = {}
    for name, (prepare, ours) in PIPELINES.items():
        if ours:
            with tempfile.TemporaryDirectory() as tmp:
                results[name] = [run_ours(folds, Path(tmp) / str(i)) for i, (_, folds) in enumerate(table)]
        else:
            results[name] = [run_split(folds, prepare, ours) for _, folds in table]
    print("Top-1 polymer identity across laboratories (queries whose polymer the library has)")
    width = max(len(n) for n, _ in table) + 2
    print(f"{'split':{width}s}{'queries':>8s}" + "".join(f"{p[:26]:>28s}" for p in PIPELINES))
    for s, (name, _) in enumerate(table):
        row = [results[p][s] for p in PIPELINES]
        print(f"{name:{width}s}{row[0].n:>8d}" + "".join(f"{o.top1:>28.3f}" for o in row))
    ours = results["customslab (default)"]
    for peer in ("plain Pearson (Open Specy-style)", "first-derivative Pearson"):
        ratios = []
        for o, p in zip(ours, results[peer], strict=True):
            ratios.append(
                f"{(1 - p.top1) / (1 - o.top1):.2f}" if o.top1 < 1 else "inf" if p.top1 < 1 else "1.00"
            )
        print(f"misses, {peer} / ours: " + ", ".join(ratios))

    # The combined MPX split repeats the MPX ATR and campaign splits, and the product split reuses the
    # campaign split's spectra: the confidence is fitted on the other four, each spectrum once as a query.
    distinct = [
        i
        for i, (name, _) in enumerate(table)
        if not name.startswith(("MPX all", "MPX Raman, leave one product"))
    ]
    if args.fit_confidence:
        print("fitted on the distinct splits:", confidence.fit(_pool([ours[i] for i in distinct])))
        # Held-out check: fit without one split, measure the calibration error on the split left out.
        for i in distinct:
            rest = _pool([ours[j] for j in distinct if j != i])
            beta = confidence.fit(rest)
            error = confidence.calibration_error(_pool([ours[i]]), coefficients=beta)
            print(f"  fitted without {table[i][0]!r}: {beta}; its calibration error {error:.3f}")
    print(
        "\nConfidence of our top hit (< 0.5 = 'no reliable match'); IN-SAMPLE: the model was fitted on these"
    )
    print("splits (see --fit-confidence for the error on a split left out of the fit)")
    heads = ("right, said reliable", "wrong, said reliable", "outside, said none")
    print(f"{'split':{width}s}" + "".join(f"{h:>22s}" for h in heads))
    for (name, _), o in zip(table, ours, strict=True):
        p_right = [confidence.confidence(r, g) for r, g, c in o.scores if c]
        p_wrong = [confidence.confidence(r, g) for r, g, c in o.scores if not c]
        p_out = [confidence.confidence(r, g) for r, g in o.outside]
        print(
            f"{name:{width}s}"
            f"{_share(p_right, True):>22s}{_share(p_wrong, True):>22s}{_share(p_out, False):>22s}"
        )
    in_sample = confidence.calibration_error(_pool([ours[i] for i in distinct]))
    print(f"expected calibration error, in-sample, distinct splits: {in_sample:.3f}")
    return 0


def _pool(outcomes: list[Outcome]) -> list[tuple[float, float, bool]]:
    return [t for o in outcomes for t in o.scores] + [(r, g, False) for o in outcomes for r, g in o.outside]


def _share(values: list[float], reliable: bool) -> str:
    if not values:
        return "-"
    hits = sum((v >= confidence.RELIABLE) == reliable for v in values)
    return f"{hits}/{len(values)}"


if __name__ == "__main__":
    sys.exit(main())
