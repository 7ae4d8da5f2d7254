"""FTIR and Raman spectra as comparison features that survive a change of laboratory and instrument.

One method per technique, used for every library and every query (no per-data-set switches). It was
chosen by cross-laboratory validation (benchmarks/polymer_accuracy.py): MPX leave-one-site-out, RaMPP
as the library with MPX Raman as queries and the reverse, never by leave-one-out inside one set.

Steps, each answering a way two laboratories' spectra of one material differ:
1. units: Raman nm → Raman shift, transmittance → absorbance, ATR → transmission-like (ATR spectra
   declared as such and not yet corrected);
2. range harmonisation: resampling onto one 2 cm⁻¹ axis and a window per technique that leaves out
   what instruments disagree on (Raman below 350 cm⁻¹: notch/edge filter; above 3150: detector end
   and water; FTIR outside 600–3800 cm⁻¹; the CO₂ band 2280–2400 cm⁻¹);
3. cosmic-spike removal (Raman): points whose second difference is a robust outlier are interpolated
   (Whitaker & Hayes, Chemom. Intell. Lab. Syst. 179 (2018) 82);
4. baseline: arPLS (Baek et al., Analyst 140 (2015) 250) through pybaselines; stiffer for FTIR than
   for Raman, whose fluorescence background bends within a few hundred cm⁻¹;
5. intensity compression (Raman): a signed square root, so that the strongest band (C–H stretch)
   does not decide the match alone and relative intensities that change with orientation,
   crystallinity and laser power weigh less;
6. two feature blocks: the corrected spectrum and its Savitzky–Golay first derivative (scipy), each
   centred and of unit norm over the kept points; the derivative block carries band positions and
   shapes, the first block the band pattern, and neither sees a remaining slow background.

Scores (scoring_vib.masked_shift_scores) are Pearson correlations over the points both spectra measured,
maximised over a small shift of the query axis (Raman calibration drifts by several cm⁻¹ between
instruments).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
from scipy.ndimage import median_filter, minimum_filter1d
from scipy.signal import savgol_filter

from customslab.spectra.model import FloatArray, Spectrum, SpectrumFormatError, Technique
from customslab.spectra.preprocess import AXIS_STEP, correct_baseline, resample, to_absorbance, to_raman_shift

#: Spectral window per technique (cm⁻¹) and regions left out inside it.
WINDOWS: dict[Technique, tuple[float, float]] = {
    Technique.FTIR: (600.0, 3800.0),
    Technique.RAMAN: (350.0, 3150.0),
}
HOLES: dict[Technique, tuple[tuple[float, float], ...]] = {
    Technique.FTIR: ((2280.0, 2400.0),),
    Technique.RAMAN: (),
}


@dataclass(frozen=True)
class VibMethod:
    """The preprocessing and scoring settings of one technique."""

    baseline_lam: float
    compress: float  # exponent of the signed power transform; 1 leaves intensities as they are
    noise_floor: float  # soft threshold in units of the noise σ (0: none)
    derivative_window: int  # Savitzky–Golay window (points) of the derivative block
    derivative_weight: float  # weight of the derivative block against the spectrum block
    max_shift: int  # largest shift of the query axis tried, in axis steps (2 cm⁻¹ each)
    despike: bool

    def describe(self) -> str:
        return (
            ("cosmic-spike removal, " if self.despike else "")
            + f"arPLS baseline (λ={self.baseline_lam:g})"
            + (f", noise floor {self.noise_floor:g}σ" if self.noise_floor else "")
            + (f", signed power {self.compress:g}" if self.compress != 1 else "")
            + f"; spectrum and SG first derivative (w={self.derivative_window}, weight "
            f"{self.derivative_weight:g}), Pearson r over the shared range, best shift within "
            f"±{self.max_shift * AXIS_STEP:g} cm⁻¹"
        )


METHODS: dict[Technique, VibMethod] = {
    Technique.FTIR: VibMethod(
        baseline_lam=1e5,
        compress=1.0,
        noise_floor=0.0,
        derivative_window=21,
        derivative_weight=2.0,
        max_shift=5,
        despike=False,
    ),
    Technique.RAMAN: VibMethod(
        baseline_lam=1e4,
        compress=0.5,
        noise_floor=1.0,
        derivative_window=11,
        derivative_weight=1.0,
        max_shift=8,
        despike=True,
    ),
}


def method_settings() -> dict[str, dict[str, float | int | bool]]:
    """The settings of every technique, as a library's manifest keeps them (JSON-ready)."""
    return {t.value: dict(asdict(m)) for t, m in METHODS.items()}


#: A library entry and a query must share at least this many points (300 cm⁻¹) to be compared.
MIN_SHARED_POINTS = 150


def axis(technique: Technique) -> FloatArray:
    """The comparison axis of a technique: its window in 2 cm⁻¹ steps."""
    if technique not in WINDOWS:
        raise ValueError(f"{technique.value} spectra are peak lists and have no common axis")
    low, high = WINDOWS[technique]
    return np.linspace(low, high, round((high - low) / AXIS_STEP) + 1)


def hole_mask(technique: Technique, grid: FloatArray) -> np.ndarray:
    """True at the axis points every spectrum of the technique leaves out."""
    mask = np.zeros(grid.shape, dtype=bool)
    for low, high in HOLES.get(technique, ()):
        mask |= (grid >= low) & (grid <= high)
    return mask


@dataclass(frozen=True)
class VibFeatures:
    """Two blocks of len(axis) each; zero outside [start, stop] and in the technique's holes."""

    vector: FloatArray
    start: int
    stop: int  # inclusive


def despike(y: FloatArray, threshold: float = 8.0) -> FloatArray:
    """Replace cosmic spikes, on the detector's own sampling, by linear interpolation.

    A spike is one or two pixels wide; a Raman band spans several. With r = y − median₅(y) (a running
    median over five pixels) and σ = 1.4826·MAD(r), pixel i is a spike when r_i > threshold·σ and r_i
    is nearly all of its height above the local minimum (r_i > 0.85·(y_i − min y[i−3…i+3])): a band
    sampled with two or more pixels per FWHM keeps at most 0.75 of its height in r at its top, a
    spike nearly all of it (after Whitaker & Hayes, Chemom. Intell. Lab. Syst. 179 (2018) 82, who
    flag outliers of the first difference). The flagged pixels and one on each side are replaced.
    """
    if y.size < 7:
        return y
    residual = y - median_filter(y, size=5, mode="nearest")
    sigma = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    if sigma <= 0:
        return y
    local_min = minimum_filter1d(y, size=7, mode="nearest")
    spikes = (residual > threshold * sigma) & (residual > 0.85 * (y - local_min))
    if not spikes.any():
        return y
    spikes = np.convolve(spikes, np.ones(3), mode="same") > 0
    good = np.flatnonzero(~spikes)
    if good.size < 2:
        return y
    out = y.copy()
    bad = np.flatnonzero(spikes)
    out[bad] = np.interp(bad, good, y[good])
    return out


def atr_correct(spectrum: Spectrum) -> Spectrum:
    """ATR absorbance → transmission-like: A·ν̃/1000, since the penetration depth d_p ∝ λ = 1/ν̃.

    The simple ATR correction of instrument software (Harrick, Internal Reflection Spectroscopy,
    1967, d_p = λ / (2π n₁ √(sin²θ − (n₂/n₁)²))); applied only to spectra declared ATR
    (metadata ``sampling`` containing "ATR") and not already corrected (``atr_corrected``).
    """
    sampling = str(spectrum.metadata.get("sampling") or "").upper()
    if "ATR" not in sampling or spectrum.metadata.get("atr_corrected"):
        return spectrum
    metadata = {**spectrum.metadata, "atr_corrected": True}
    return replace(spectrum, y=spectrum.y * np.abs(spectrum.x) / 1000.0, metadata=metadata)


def _source(spectrum: Spectrum) -> str:
    return str(spectrum.metadata.get("source") or spectrum.name or "spectrum")


def _noise_sigma(y: FloatArray) -> float:
    """σ of white noise from the first differences: 1.4826·MAD(Δy)/√2."""
    d = np.diff(y)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0))


def _unit_block(values: FloatArray, kept: np.ndarray) -> FloatArray | None:
    block = np.where(kept, values, 0.0)
    block[kept] -= block[kept].mean()
    norm = float(np.linalg.norm(block))
    return block / norm if norm > 0 and np.isfinite(norm) else None


def features(
    spectrum: Spectrum, *, excitation_nm: float | None = None, method: VibMethod | None = None
) -> VibFeatures:
    """The comparison features of an FTIR or Raman spectrum (steps in the module docstring)."""
    technique = spectrum.technique
    if technique not in METHODS:
        raise ValueError("vibrational features are for FTIR and Raman spectra")
    settings = method or METHODS[technique]
    if technique is Technique.RAMAN:
        spectrum = to_raman_shift(spectrum, excitation_nm)
    else:
        spectrum = atr_correct(to_absorbance(spectrum))
    if settings.despike:
        order = np.argsort(spectrum.x, kind="stable")
        spectrum = replace(spectrum, x=spectrum.x[order], y=despike(spectrum.y[order]))
    grid = axis(technique)
    values = resample(spectrum, grid)
    measured = np.flatnonzero(np.isfinite(values))
    if measured.size < MIN_SHARED_POINTS:
        low, high = WINDOWS[technique]
        raise SpectrumFormatError(
            _source(spectrum),
            f"only {measured.size} points fall inside {low:g}–{high:g} cm⁻¹; need {MIN_SHARED_POINTS}",
        )
    start, stop = int(measured[0]), int(measured[-1])
    part = values[start : stop + 1]
    part = correct_baseline(part, grid[start : stop + 1], lam=settings.baseline_lam)
    if settings.noise_floor > 0:
        part = np.maximum(part - settings.noise_floor * _noise_sigma(part), 0.0)
    if settings.compress != 1.0:
        part = np.sign(part) * np.abs(part) ** settings.compress
    window = min(settings.derivative_window, part.size - (1 - part.size % 2))
    slope = savgol_filter(part, window, 2, deriv=1) if window > 2 else np.gradient(part)
    kept = np.zeros(grid.size, dtype=bool)
    kept[start : stop + 1] = True
    kept &= ~hole_mask(technique, grid)
    blocks = []
    for block_values, weight in ((part, 1.0), (slope, settings.derivative_weight)):
        full = np.zeros(grid.size)
        full[start : stop + 1] = block_values
        unit = _unit_block(full, kept)
        if unit is None:
            raise SpectrumFormatError(
                _source(spectrum), "spectrum is flat after preprocessing; nothing to compare"
            )
        blocks.append(unit * weight)
    return VibFeatures(np.concatenate(blocks), start, stop)
