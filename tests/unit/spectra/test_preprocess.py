"""Preprocessing: units, resampling, baseline, smoothing, masking and the prepare_vibrational pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique
from customslab.spectra.preprocess import (
    correct_baseline,
    default_axis,
    normalise,
    prepare_vibrational,
    raman_shift,
    resample,
    select_range,
    smooth,
    to_absorbance,
    to_raman_shift,
)


def _band(x: np.ndarray, centre: float, width: float = 10.0) -> np.ndarray:
    return np.exp(-0.5 * ((x - centre) / width) ** 2)


def _ftir(y_of_x=None, **metadata: object) -> Spectrum:  # type: ignore[no-untyped-def]
    x = np.arange(500.0, 4001.0, 1.0)
    y = _band(x, 1720) + 0.5 * _band(x, 2915, 15) if y_of_x is None else y_of_x(x)
    return Spectrum(x=x, y=y, technique=Technique.FTIR, name="synthetic", metadata=dict(metadata))


def test_the_default_ftir_axis_spans_550_to_4000_in_2_cm_steps() -> None:
    axis = default_axis(Technique.FTIR)
    assert (axis[0], axis[-1], axis.size) == (550.0, 4000.0, 1726)
    np.testing.assert_allclose(np.diff(axis), 2.0)
    raman = default_axis(Technique.RAMAN)
    assert (raman[0], raman[-1]) == (200.0, 3200.0)
    with pytest.raises(ValueError, match="peak lists"):
        default_axis(Technique.EI_MS)


def test_raman_shift_follows_the_excitation_formula() -> None:
    assert raman_shift(np.array([532.0]), 532.0)[0] == pytest.approx(0.0)
    assert raman_shift(np.array([580.0]), 532.0)[0] == pytest.approx(1e7 / 532 - 1e7 / 580)


def test_a_raman_spectrum_in_nm_needs_an_excitation_wavelength() -> None:
    spectrum = Spectrum(np.linspace(540, 620, 50), np.ones(50), Technique.RAMAN, "r", {"x_unit": "nm"})
    with pytest.raises(SpectrumFormatError, match="excitation"):
        to_raman_shift(spectrum)
    shifted = to_raman_shift(spectrum, 532.0)
    assert shifted.metadata["x_unit"] == "cm-1"
    assert shifted.x[0] == pytest.approx(1e7 / 532 - 1e7 / 540)


@pytest.mark.parametrize(("unit", "scale"), [("transmittance", 1.0), ("percent_transmittance", 100.0)])
def test_transmittance_becomes_absorbance_as_minus_log10(unit: str, scale: float) -> None:
    spectrum = Spectrum(
        np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.1, 0.0]) * scale, Technique.FTIR, "t", {"y_unit": unit}
    )
    converted = to_absorbance(spectrum)
    np.testing.assert_allclose(converted.y, [0.0, 1.0, 6.0])
    assert converted.metadata["y_unit"] == "absorbance"


def test_resampling_never_extrapolates_outside_the_measured_range() -> None:
    spectrum = Spectrum(np.array([10.0, 20.0]), np.array([1.0, 3.0]), Technique.FTIR)
    values = resample(spectrum, np.array([5.0, 10.0, 15.0, 20.0, 25.0]))
    assert np.isnan(values[0]) and np.isnan(values[-1])
    np.testing.assert_allclose(values[1:4], [1.0, 2.0, 3.0])
    zeros = resample(spectrum, np.array([5.0, 15.0]), outside="zero")
    np.testing.assert_allclose(zeros, [0.0, 2.0])


@pytest.mark.parametrize("method", ["arpls", "asls", "imodpoly"])
def test_baseline_correction_removes_a_sloping_background_and_keeps_the_band(method: str) -> None:
    x = np.linspace(550, 4000, 1726)
    band = _band(x, 1720, 12)
    corrected = correct_baseline(band + 0.3 + 1e-4 * x, x, method=method)  # type: ignore[arg-type]
    assert np.max(np.abs(corrected - band)) < 0.1
    assert corrected[np.argmin(np.abs(x - 1720))] > 0.85


def test_savitzky_golay_derivative_of_a_line_is_its_slope() -> None:
    y = 3.0 * np.arange(50.0)
    np.testing.assert_allclose(smooth(y, window=7, deriv=1, delta=2.0), 1.5)
    with pytest.raises(ValueError, match="odd"):
        smooth(y, window=8)


def test_normalisations_give_unit_norm_unit_max_and_zero_mean_unit_sd() -> None:
    y = np.array([1.0, 2.0, 4.0, -1.0])
    assert np.linalg.norm(normalise(y, "l2")) == pytest.approx(1.0)
    assert np.max(np.abs(normalise(y, "max"))) == pytest.approx(1.0)
    snv = normalise(y, "snv")
    assert (snv.mean(), snv.std()) == pytest.approx((0.0, 1.0))
    np.testing.assert_array_equal(normalise(np.zeros(3), "l2"), 0.0)


def test_select_range_keeps_only_the_requested_window() -> None:
    part = select_range(_ftir(), 1000, 1100)
    assert part.x[0] == 1000 and part.x[-1] == 1100


def test_prepared_vectors_are_centred_unit_vectors_with_co2_masked_for_ftir() -> None:
    axis = default_axis(Technique.FTIR)
    vector = prepare_vibrational(_ftir(lambda x: _band(x, 1720) + _band(x, 2350, 20)), axis)
    assert np.linalg.norm(vector) == pytest.approx(1.0)
    assert vector.sum() == pytest.approx(0.0, abs=1e-9)
    co2 = (axis >= 2280) & (axis <= 2400)
    np.testing.assert_array_equal(vector[co2], 0.0)


def test_the_dot_product_of_prepared_vectors_is_their_pearson_correlation() -> None:
    axis = default_axis(Technique.FTIR)
    a = prepare_vibrational(_ftir(), axis, baseline=None, smooth_window=1)
    b = prepare_vibrational(
        _ftir(lambda x: _band(x, 1730) + 0.2 * _band(x, 2915)), axis, baseline=None, smooth_window=1
    )
    kept = a != 0
    assert a @ b == pytest.approx(np.corrcoef(a[kept], b[kept])[0, 1])


def test_scaling_offset_and_a_sloping_baseline_do_not_change_the_prepared_vector() -> None:
    axis = default_axis(Technique.FTIR)
    clean = prepare_vibrational(_ftir(), axis)
    disturbed = prepare_vibrational(
        _ftir(lambda x: 7 * (_band(x, 1720) + 0.5 * _band(x, 2915, 15)) + 2 + 2e-4 * x), axis
    )
    assert clean @ disturbed > 0.98


def test_points_outside_a_short_raman_range_are_zero_and_too_little_overlap_is_an_error() -> None:
    axis = default_axis(Technique.RAMAN)
    x = np.linspace(600, 1800, 400)
    vector = prepare_vibrational(Spectrum(x, _band(x, 1000), Technique.RAMAN), axis)
    np.testing.assert_array_equal(vector[axis < 600], 0.0)
    with pytest.raises(SpectrumFormatError, match="points fall inside"):
        prepare_vibrational(Spectrum(np.array([10.0, 20.0]), np.ones(2), Technique.RAMAN, "tiny"), axis)


def test_a_flat_spectrum_is_refused_because_it_carries_nothing_to_compare() -> None:
    with pytest.raises(SpectrumFormatError, match="flat"):
        prepare_vibrational(
            _ftir(lambda x: np.full_like(x, 0.5)), default_axis(Technique.FTIR), baseline=None
        )


def test_mass_spectra_are_not_vibrational() -> None:
    with pytest.raises(ValueError, match="FTIR and Raman"):
        prepare_vibrational(Spectrum([1.0], [1.0], Technique.EI_MS), default_axis(Technique.FTIR))
