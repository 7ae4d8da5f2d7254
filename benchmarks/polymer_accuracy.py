"""Polymer identification accuracy (leave-one-out) and search speed of the FTIR/Raman engine.

Run from the repository root:
    .venv/bin/python benchmarks/polymer_accuracy.py [--data ../shared/data] [--library-size 100000]

Accuracy: every spectrum is a query against all the others of its data set and technique; a hit is a
top-1 neighbour of the same polymer (PE covers LDPE and HDPE). Spectra identical to the query (RaMPP
has two spectra in both its FW and SW files) are removed from its library, so no spectrum finds itself.
The peer is Open Specy's approach: raw spectra, only resampled, ranked by Pearson correlation.

Speed: one FTIR query against a synthetic library of perturbed real spectra, our batched scorer next
to a plain NumPy float64 matrix product and the memory-bandwidth bound.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from customslab.spectra.formats import read_spectra
from customslab.spectra.model import Spectrum, Technique
from customslab.spectra.preprocess import default_axis, prepare_vibrational
from customslab.spectra.reference_sets import polymer_class
from customslab.spectra.scoring_vib import derivative_row_norms, score_matrix

Prepare = Callable[[Spectrum, np.ndarray], np.ndarray]

DEFAULT = "ours (default): arPLS + SG 1st derivative w=21, HQI"
PIPELINES: dict[str, Prepare] = {
    "Open Specy-style: raw, resampled, Pearson": lambda s, a: prepare_vibrational(
        s, a, baseline=None, smooth_window=1, derivative=0, mask_co2=False
    ),
    DEFAULT: lambda s, a: prepare_vibrational(s, a),
    "ours: arPLS + SG smoothing w=11, HQI": lambda s, a: prepare_vibrational(
        s, a, derivative=0, smooth_window=11
    ),
    "ours: SG 1st derivative w=11, HQI": lambda s, a: prepare_vibrational(
        s, a, baseline=None, smooth_window=11
    ),
    "ours: SG 1st derivative w=21, no baseline, HQI": lambda s, a: prepare_vibrational(s, a, baseline=None),
}
DIFF_CORRELATION = "ours: arPLS + SG smoothing w=11, derivative corr."


def load_mpx(data: Path) -> dict[str, tuple[list[Spectrum], list[str]]]:
    folder = data / "spectra" / "mpx-polymers"
    sets: dict[str, tuple[list[Spectrum], list[str]]] = {"MPX ATR-FTIR": ([], []), "MPX Raman": ([], [])}
    with (folder / "subset_metadata.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            key = "MPX ATR-FTIR" if row["Analysis"] == "ATR" else "MPX Raman"
            technique = Technique.FTIR if key == "MPX ATR-FTIR" else Technique.RAMAN
            (spectrum,) = read_spectra(
                folder / "spectra" / row["file"], technique=technique, excitation_nm=532.0
            )
            sets[key][0].append(spectrum)
            sets[key][1].append(polymer_class(row["Polymer"]))
    return sets


def load_rampp(data: Path) -> tuple[list[Spectrum], list[str]]:
    spectra: list[Spectrum] = []
    for path in sorted((data / "spectra" / "rampp-raman" / "data-raw").glob("*.CSV")):
        spectra.extend(read_spectra(path))
    return spectra, [polymer_class(s.name) for s in spectra]


def duplicate_groups(spectra: list[Spectrum]) -> np.ndarray:
    """Spectra with byte-identical intensities share a group id."""
    seen: dict[bytes, int] = {}
    return np.array([seen.setdefault(s.y.tobytes(), len(seen)) for s in spectra])


def top1_accuracy(vectors: np.ndarray, labels: list[str], groups: np.ndarray, method: str = "hqi") -> float:
    names = np.array(labels)
    norms = derivative_row_norms(vectors) if method == "derivative" else None
    hits = 0
    for i in range(len(labels)):
        scores = score_matrix(vectors[i], vectors, method, row_derivative_norms=norms)  # type: ignore[arg-type]
        scores[groups == groups[i]] = -np.inf
        hits += names[int(np.argmax(scores))] == names[i]
    return hits / len(labels)


def accuracy_table(data: Path) -> None:
    datasets = load_mpx(data)
    datasets["RaMPP Raman"] = load_rampp(data)
    print("Top-1 polymer identity, leave-one-out")
    header = f"{'pipeline':52s}" + "".join(f"{k:>15s}" for k in datasets)
    print(header)
    results: dict[str, list[float]] = {}
    for name, prepare in PIPELINES.items():
        row = []
        for spectra, labels in datasets.values():
            axis = default_axis(spectra[0].technique)
            vectors = np.stack([prepare(s, axis) for s in spectra])
            row.append(top1_accuracy(vectors, labels, duplicate_groups(spectra)))
            if name == "ours: arPLS + SG smoothing w=11, HQI":
                results.setdefault(DIFF_CORRELATION, []).append(
                    top1_accuracy(vectors, labels, duplicate_groups(spectra), "derivative")
                )
        results[name] = row
    for name, row in results.items():
        print(f"{name:52s}" + "".join(f"{v:15.1%}" for v in row))
    peer = results["Open Specy-style: raw, resampled, Pearson"]
    ours = results[DEFAULT]
    print(
        f"{'misses, peer / ours (default)':52s}"
        + "".join(f"{_ratio(1 - p, 1 - o):>15s}" for p, o in zip(peer, ours, strict=True))
    )
    print("sizes: " + ", ".join(f"{k} {len(v[1])}" for k, v in datasets.items()))


def _ratio(a: float, b: float) -> str:
    return "inf" if b == 0 and a > 0 else "1.00" if b == 0 else f"{a / b:.2f}"


def _median_seconds(call: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def speed(data: Path, library_size: int, repeats: int) -> None:
    axis = default_axis(Technique.FTIR)
    spectra, _ = load_mpx(data)["MPX ATR-FTIR"]
    real = np.stack([prepare_vibrational(s, axis) for s in spectra])
    rng = np.random.default_rng(0)
    library64 = np.empty((library_size, axis.size))
    for start in range(0, library_size, 10_000):
        rows = min(10_000, library_size - start)
        block = real[rng.integers(0, len(real), rows)] * rng.uniform(0.5, 2, (rows, 1))
        block += rng.normal(0, 0.01, block.shape) + rng.normal(0, 0.002, (rows, 1)) * np.linspace(
            -1, 1, axis.size
        )
        block -= block.mean(axis=1, keepdims=True)
        library64[start : start + rows] = block / np.linalg.norm(block, axis=1, keepdims=True)
    library32 = library64.astype(np.float32)
    query = real[3] + rng.normal(0, 0.01, axis.size)

    plain = _median_seconds(lambda: library64 @ query, repeats)
    ours64 = _median_seconds(lambda: score_matrix(query, library64, "hqi"), repeats)
    ours32 = _median_seconds(lambda: score_matrix(query, library32, "hqi"), repeats)
    same_top = int(np.argmax(score_matrix(query, library32, "hqi"))) == int(np.argmax(library64 @ query))

    buffer = np.empty_like(library64)
    copy = _median_seconds(lambda: np.copyto(buffer, library64), repeats)
    bandwidth = 2 * library64.nbytes / copy  # memcpy reads and writes each byte (STREAM convention)
    bound64 = library64.nbytes / bandwidth
    bound32 = library32.nbytes / bandwidth
    print(f"\nOne FTIR query against {library_size:,} spectra x {axis.size} points (median of {repeats})")
    print(f"memcpy bandwidth (read+write): {bandwidth / 1e9:.1f} GB/s")
    print(f"{'scorer':44s}{'ms':>10s}{'bound ms':>10s}{'x bound':>9s}")
    rows = [
        ("plain NumPy float64 L @ q", plain, bound64),
        ("score_matrix hqi, float64 library", ours64, bound64),
        ("score_matrix hqi, float32 library", ours32, bound32),
    ]
    for label, seconds, bound in rows:
        print(f"{label:44s}{seconds * 1e3:10.1f}{bound * 1e3:10.1f}{seconds / bound:9.2f}")
    print(
        f"float32 score_matrix vs plain float64 product: {plain / ours32:.2f}x faster; "
        f"same top hit: {same_top}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--library-size", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args(argv)
    accuracy_table(args.data)
    if not args.skip_speed:
        speed(args.data, args.library_size, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
