"""Vibrational features and masked, shift-tolerant scoring: what makes identification hold across labs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from customslab.spectra import confidence
from customslab.spectra.formats import read_spectra
from customslab.spectra.library import build_library_from_spectra
from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique
from customslab.spectra.reference_sets import polymer_class
from customslab.spectra.scoring_vib import masked_shift_scores, row_sums
from customslab.spectra.search import search
from customslab.spectra.vib_features import atr_correct, axis, despike, features, hole_mask

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "spectra"


def _bands(x: np.ndarray, centres: list[float], width: float = 8.0) -> np.ndarray:
    return sum(np.exp(-0.5 * ((x - c) / width) ** 2) for c in centres)  # type: ignore[return-value]


PE = [1063.0, 1130.0, 1296.0, 1440.0, 2848.0, 2882.0]
PS = [621.0, 1001.0, 1031.0, 1602.0, 3054.0]


def _raman(centres: list[float], *, shift: float = 0.0, background: float = 0.0, seed: int = 0) -> Spectrum:
    x = np.linspace(150.0, 3300.0, 1400)
    rng = np.random.default_rng(seed)
    y = 1000 * _bands(x, [c + shift for c in centres]) + rng.normal(0, 5, x.size)
    # Fluorescence: a broad hump far larger than the bands, as raw counts from a fouled particle show.
    y += background * (np.exp(-0.5 * ((x - 1800) / 900) ** 2) + 0.3)
    return Spectrum(x, y, Technique.RAMAN, "synthetic")


def _score(query: Spectrum, library: list[Spectrum], max_shift: int = 8) -> np.ndarray:
    rows = [features(s) for s in library]
    matrix = np.stack([r.vector for r in rows])
    q = features(query)
    grid = axis(query.technique)
    kept = np.zeros(grid.size, dtype=bool)
    kept[q.start : q.stop + 1] = True
    kept &= ~hole_mask(query.technique, grid)
    starts = np.array([r.start for r in rows])
    stops = np.array([r.stop for r in rows])
    r, _ = masked_shift_scores(q.vector, kept, matrix, starts, stops, row_sums(matrix), max_shift=max_shift)
    return r


def test_a_broad_fluorescence_background_does_not_change_which_polymer_is_found() -> None:
    fouled = _raman(PE, background=20000.0, seed=1)
    scores = _score(fouled, [_raman(PS), _raman(PE)])
    assert scores[1] > 0.8 and scores[1] - scores[0] > 0.5


def test_a_calibration_offset_of_ten_wavenumbers_is_absorbed_by_the_shift_search() -> None:
    offset = _raman(PE, shift=10.0, seed=2)
    library = [_raman(PE), _raman(PS)]
    tolerant = _score(offset, library)
    rigid = _score(offset, library, max_shift=0)
    assert tolerant[0] > 0.9 > rigid[0]
    assert tolerant[0] - tolerant[1] > 0.5


def test_the_masked_score_is_pearsons_r_over_the_points_both_spectra_measured() -> None:
    rng = np.random.default_rng(3)
    width, n = 60, 7
    kept = np.ones(width, dtype=bool)
    kept[40:45] = False  # a hole every spectrum leaves out
    kept[:5] = False  # the query starts later than some rows
    starts, stops = rng.integers(0, 20, n), rng.integers(35, width, n)
    matrix = np.zeros((n, 2 * width))
    for i in range(n):
        for b in range(2):
            matrix[i, b * width + starts[i] : b * width + stops[i] + 1] = rng.normal(
                size=stops[i] - starts[i] + 1
            )
        matrix[i, np.flatnonzero(~np.tile(np.r_[np.ones(40), np.zeros(5), np.ones(15)].astype(bool), 2))] = 0
    query = rng.normal(size=2 * width) * np.tile(kept, 2)
    got, shifts = masked_shift_scores(query, kept, matrix, starts, stops, row_sums(matrix))
    for i in range(n):
        shared = np.zeros(width, dtype=bool)
        shared[starts[i] : stops[i] + 1] = True
        shared &= kept
        mask = np.tile(shared, 2)
        expected = np.corrcoef(query[mask], matrix[i, mask])[0, 1]
        assert got[i] == pytest.approx(expected, abs=1e-9)
    assert (shifts == 0).all()


def test_a_shift_is_scored_as_the_shifted_query_over_the_same_points() -> None:
    rng = np.random.default_rng(4)
    width = 50
    kept = np.ones(width, dtype=bool)
    row = rng.normal(size=width)
    query = np.r_[np.zeros(3), row[:-3]]  # the row moved right by 3 points
    matrix = row[None, :]
    r, shift = masked_shift_scores(
        query, kept, matrix, np.array([0]), np.array([width - 1]), row_sums(matrix), max_shift=4
    )
    moved_back = np.r_[query[3:], np.zeros(3)]
    assert shift[0] == -3
    assert r[0] == pytest.approx(np.corrcoef(moved_back, row)[0, 1], abs=1e-9)


def test_rows_sharing_too_few_points_with_the_query_score_minus_one() -> None:
    width = 40
    kept = np.zeros(width, dtype=bool)
    kept[:10] = True
    matrix = np.zeros((1, width))
    matrix[0, 20:] = np.linspace(-1, 1, 20)
    r, _ = masked_shift_scores(
        np.r_[np.linspace(0, 1, 10), np.zeros(30)], kept, matrix, [20], [39], row_sums(matrix)
    )
    assert r[0] == -1.0


def test_a_cosmic_spike_is_removed_and_real_bands_even_sharp_ones_stay() -> None:
    x = np.linspace(200, 1800, 801)  # 2 cm⁻¹ pixels
    rng = np.random.default_rng(5)
    y = 100 * _bands(x, [1001.0]) + 80 * _bands(x, [1400.0], width=2.2) + 10 + rng.normal(0, 1, x.size)
    spiked = y.copy()
    spiked[300] += 500
    spiked[650:652] += 300  # a two-pixel spike
    cleaned = despike(spiked)
    assert abs(cleaned[300] - y[300]) < 5 and np.all(np.abs(cleaned[650:652] - y[650:652]) < 5)
    for centre in (1001.0, 1400.0):  # a broad band and one of ~5 cm⁻¹ FWHM keep their tops
        band = int(np.argmin(np.abs(x - centre)))
        assert cleaned[band] == spiked[band]


def test_atr_correction_applies_once_and_only_to_spectra_declared_atr() -> None:
    x = np.linspace(600, 4000, 100)
    atr = Spectrum(x, np.ones(100), Technique.FTIR, "film", {"sampling": "ATR diamond"})
    corrected = atr_correct(atr)
    np.testing.assert_allclose(corrected.y, x / 1000.0)
    assert atr_correct(corrected) is corrected
    plain = Spectrum(x, np.ones(100), Technique.FTIR, "KBr")
    assert atr_correct(plain) is plain


def test_a_spectrum_outside_the_window_is_refused_with_the_reason() -> None:
    short = Spectrum(np.linspace(100, 300, 50), np.ones(50), Technique.RAMAN, "notch-only")
    with pytest.raises(SpectrumFormatError, match="points fall inside"):
        features(short)


def test_confidence_rises_with_the_score_and_the_lead_and_means_no_match_when_both_are_small() -> None:
    assert (
        confidence.confidence(0.9, 0.3) > confidence.confidence(0.9, 0.02) > confidence.confidence(0.3, 0.02)
    )
    assert confidence.confidence(0.2, 0.01) < confidence.RELIABLE <= confidence.confidence(0.9, 0.3)
    right = [(0.9, 0.3, True)] * 30 + [(0.6, 0.1, True)] * 10
    wrong = [(0.3, 0.01, False)] * 30 + [(0.6, 0.1, False)] * 10
    b0, b1, b2 = confidence.fit(right + wrong)
    assert b1 > 0 and b2 > 0
    assert 0.0 <= confidence.calibration_error(right + wrong, coefficients=(b0, b1, b2)) < 0.2


@pytest.mark.slow
def test_another_laboratorys_raman_spectra_find_their_polymer_in_the_rampp_references(tmp_path: Path) -> None:
    """RaMPP's pristine references (one lab) as the library; MPX Raman spectra (another lab, raw counts in nm,
    fluorescence, another instrument) as queries: the first three of each polymer both sets hold."""
    references = read_spectra(DATA / "rampp-raman" / "data-raw" / "References.CSV")
    library = build_library_from_spectra(references, tmp_path / "lib")
    import csv

    wanted = {"PE": 3, "PP": 3, "PS": 3, "PET": 3}
    right = total = 0
    folder = DATA / "mpx-polymers"
    with (folder / "subset_metadata.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            label = polymer_class(row["Polymer"])
            if row["Analysis"] != "Raman" or wanted.get(label, 0) == 0:
                continue
            wanted[label] -= 1
            (query,) = read_spectra(
                folder / "spectra" / row["file"], technique=Technique.RAMAN, excitation_nm=532.0
            )
            hits = search(library, query, 3)
            assert hits[0].confidence is not None and hits[0].shift_cm is not None
            right += polymer_class(hits[0].name) == label
            total += 1
    assert total == 12 and right >= 10


def test_a_jcamp_file_declaring_atr_sampling_is_atr_corrected_before_comparison() -> None:
    from customslab.spectra.formats.jcamp import parse_jcamp

    xs = np.linspace(4000, 600, 1701)
    ys = 0.1 + np.exp(-0.5 * ((xs - 1720) / 10) ** 2)
    body = "\n".join(f"{x:.1f}, {y:.5f}" for x, y in zip(xs, ys, strict=True))
    text = (
        "##TITLE=film\n##JCAMP-DX=4.24\n##DATA TYPE=INFRARED SPECTRUM\n##SAMPLING PROCEDURE=ATR, diamond\n"
        f"##XUNITS=1/CM\n##YUNITS=ABSORBANCE\n##NPOINTS={xs.size}\n##XYPOINTS=(XY..XY)\n{body}\n##END=\n"
    )
    (spectrum,) = parse_jcamp(text, "film.jdx")
    assert spectrum.metadata["sampling"] == "ATR, diamond"
    corrected = atr_correct(spectrum)
    assert corrected.metadata["atr_corrected"] is True
    np.testing.assert_allclose(corrected.y, spectrum.y * spectrum.x / 1000.0)
