"""Preprocessing of FTIR and Raman spectra: units, resampling, baseline, smoothing, masking, normalisation.

`prepare_vibrational` is the one pipeline that library entries and queries both go through, so that a
query is always compared with library vectors made the same way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import numpy as np
from pybaselines import Baseline
from scipy.signal import savgol_filter

from customslab.spectra.model import FloatArray, Spectrum, SpectrumFormatError, Technique

# 2 cm⁻¹ steps: 1,726 points for FTIR. Finer than the 4 cm⁻¹ resolution of routine ATR-FTIR (so no
# band is undersampled) while keeping a 100k-spectrum library at 1.4 GB in float64.
FTIR_RANGE = (550.0, 4000.0)
RAMAN_RANGE = (200.0, 3200.0)
AXIS_STEP = 2.0
CO2_REGION = (2280.0, 2400.0)
# Water vapour rotation lines above 3600 cm⁻¹; the 1300–2000 cm⁻¹ vapour band is never masked because
# it overlaps the carbonyl and aromatic bands that identify polymers.
WATER_REGION = (3600.0, 4000.0)

BaselineMethod = Literal["arpls", "asls", "imodpoly"]
Normalisation = Literal["l2", "max", "snv"]


def _source(spectrum: Spectrum) -> str:
    return str(spectrum.metadata.get("source") or spectrum.name or "spectrum")


def default_axis(technique: Technique) -> FloatArray:
    """The common axis for a vibrational technique: FTIR 550–4000 cm⁻¹, Raman 200–3200 cm⁻¹, 2 cm⁻¹ steps."""
    if technique is Technique.FTIR:
        low, high = FTIR_RANGE
    elif technique is Technique.RAMAN:
        low, high = RAMAN_RANGE
    else:
        raise ValueError(f"{technique.value} spectra are peak lists and have no common axis")
    return np.linspace(low, high, round((high - low) / AXIS_STEP) + 1)


def raman_shift(wavelength_nm: FloatArray, excitation_nm: float) -> FloatArray:
    """Raman shift Δν̃ = 10⁷/λ₀ − 10⁷/λ in cm⁻¹ from scattered wavelength λ and excitation λ₀ in nm."""
    if excitation_nm <= 0:
        raise ValueError("excitation wavelength must be positive")
    return 1e7 / excitation_nm - 1e7 / np.asarray(wavelength_nm, dtype=np.float64)


def to_raman_shift(spectrum: Spectrum, excitation_nm: float | None = None) -> Spectrum:
    """Convert a Raman spectrum recorded in nm to Raman shift; one already in cm⁻¹ is returned as it is."""
    if spectrum.metadata.get("x_unit") != "nm":
        return spectrum
    excitation = excitation_nm if excitation_nm is not None else spectrum.metadata.get("excitation_nm")
    if excitation is None:
        raise SpectrumFormatError(
            _source(spectrum), "Raman spectrum in nm: the excitation wavelength is needed"
        )
    shift = raman_shift(spectrum.x, float(excitation))
    order = np.argsort(shift, kind="stable")
    metadata = {**spectrum.metadata, "x_unit": "cm-1", "excitation_nm": float(excitation)}
    return replace(spectrum, x=shift[order], y=spectrum.y[order], metadata=metadata)


def to_absorbance(spectrum: Spectrum) -> Spectrum:
    """A = −log₁₀ T; T in percent when the unit says so or any value exceeds 1.5 (no real T does).

    T is clipped at 10⁻⁶ (A = 6) because a zero or negative transmittance is noise, not infinite absorbance.
    """
    unit = spectrum.metadata.get("y_unit")
    if unit not in {"transmittance", "percent_transmittance"}:
        return spectrum
    t = spectrum.y / 100.0 if unit == "percent_transmittance" or np.max(spectrum.y) > 1.5 else spectrum.y
    absorbance = -np.log10(np.clip(t, 1e-6, None))
    return replace(spectrum, y=absorbance, metadata={**spectrum.metadata, "y_unit": "absorbance"})


def resample(spectrum: Spectrum, axis: FloatArray, *, outside: Literal["nan", "zero"] = "nan") -> FloatArray:
    """Linear interpolation onto axis; outside the measured range NaN (or 0), never extrapolated."""
    fill = np.nan if outside == "nan" else 0.0
    order = np.argsort(spectrum.x, kind="stable")
    return np.interp(axis, spectrum.x[order], spectrum.y[order], left=fill, right=fill)


def correct_baseline(
    y: FloatArray, x: FloatArray | None = None, *, method: BaselineMethod = "arpls", lam: float = 1e5
) -> FloatArray:
    """Subtract a baseline estimated with pybaselines (arPLS by default; Baek et al., Analyst 140 (2015) 250).

    arPLS needs no asymmetry parameter, unlike AsLS, and copes with both ATR tilt and Raman
    fluorescence; lam=1e5 on a 2 cm⁻¹ grid follows broad backgrounds without eating bands 20–50 cm⁻¹ wide.
    imodpoly (Zhao et al. 2007) is the polynomial alternative used by Open Specy.
    """
    fitter = Baseline(x_data=x)
    if method == "arpls":
        baseline, _ = fitter.arpls(y, lam=lam)
    elif method == "asls":
        baseline, _ = fitter.asls(y, lam=lam, p=0.01)
    elif method == "imodpoly":
        baseline, _ = fitter.imodpoly(y, poly_order=5)
    else:
        raise ValueError(f"unknown baseline method {method!r}")
    return np.asarray(y - baseline, dtype=np.float64)


def smooth(
    y: FloatArray, *, window: int = 11, polyorder: int = 2, deriv: int = 0, delta: float = 1.0
) -> FloatArray:
    """Savitzky–Golay smoothing or derivative (scipy.signal.savgol_filter); window in points, odd."""
    if window % 2 == 0 or window <= polyorder:
        raise ValueError("window must be odd and larger than polyorder")
    if y.size < window:
        return np.asarray(np.gradient(y, delta) if deriv == 1 else y.copy(), dtype=np.float64)
    return np.asarray(savgol_filter(y, window, polyorder, deriv=deriv, delta=delta), dtype=np.float64)


def normalise(y: FloatArray, method: Normalisation = "l2") -> FloatArray:
    """Vector (L2) norm, maximum, or SNV (Barnes et al., Appl. Spectrosc. 43 (1989) 772: (y − ȳ)/s)."""
    if method == "l2":
        scale = float(np.linalg.norm(y))
        shifted = y
    elif method == "max":
        scale = float(np.max(np.abs(y)))
        shifted = y
    elif method == "snv":
        shifted = y - np.mean(y)
        scale = float(np.std(y))
    else:
        raise ValueError(f"unknown normalisation {method!r}")
    return shifted / scale if scale > 0 else np.zeros_like(y)


def region_mask(axis: FloatArray, regions: list[tuple[float, float]]) -> np.ndarray:
    """True where axis falls inside any (low, high) region."""
    mask = np.zeros(axis.shape, dtype=bool)
    for low, high in regions:
        mask |= (axis >= low) & (axis <= high)
    return mask


def select_range(spectrum: Spectrum, low: float, high: float) -> Spectrum:
    """The part of a spectrum with low ≤ x ≤ high."""
    keep = (spectrum.x >= low) & (spectrum.x <= high)
    return replace(spectrum, x=spectrum.x[keep], y=spectrum.y[keep])


def prepare_vibrational(
    spectrum: Spectrum,
    axis: FloatArray,
    *,
    excitation_nm: float | None = None,
    baseline: BaselineMethod | None = "arpls",
    baseline_lam: float = 1e5,
    smooth_window: int = 21,
    derivative: int = 1,
    mask_co2: bool | None = None,
    mask_water: bool = False,
    min_points: int = 20,
) -> FloatArray:
    """Turn an FTIR or Raman spectrum into a vector on axis: mean zero over the kept points, unit L2 norm.

    Steps: Raman nm → shift, transmittance → absorbance, linear resampling, baseline (arPLS),
    Savitzky–Golay first derivative (window 21 points = 42 cm⁻¹, order 2; derivative=0 smooths
    instead), masking (outside the measured range; CO₂ 2280–2400 cm⁻¹ for FTIR by default; optionally
    water vapour above 3600 cm⁻¹), centring and L2 normalisation. Masked points are 0, so that the dot
    product of two prepared vectors is their Pearson correlation over the kept points.

    The defaults won the leave-one-out benchmark (benchmarks/polymer_accuracy.py) against plain
    resampled spectra on MPX ATR-FTIR, MPX Raman and RaMPP Raman; the derivative removes what the
    baseline fit leaves, and the wide window keeps the derivative from amplifying noise.
    """
    if spectrum.technique is Technique.EI_MS:
        raise ValueError("prepare_vibrational is for FTIR and Raman spectra")
    if spectrum.technique is Technique.RAMAN:
        spectrum = to_raman_shift(spectrum, excitation_nm)
    else:
        spectrum = to_absorbance(spectrum)
    values = resample(spectrum, axis)
    measured = np.isfinite(values)
    if int(measured.sum()) < min_points:
        raise SpectrumFormatError(
            _source(spectrum),
            f"only {int(measured.sum())} points fall inside {axis[0]:g}–{axis[-1]:g} cm⁻¹; need {min_points}",
        )
    covered = np.flatnonzero(measured)
    # The measured part is one contiguous run, because interpolation only leaves NaN at the two ends.
    part = values[covered[0] : covered[-1] + 1]
    part_axis = axis[covered[0] : covered[-1] + 1]
    if baseline is not None:
        part = correct_baseline(part, part_axis, method=baseline, lam=baseline_lam)
    step = float(part_axis[1] - part_axis[0]) if part_axis.size > 1 else 1.0
    if smooth_window > 1 or derivative:
        part = smooth(part, window=max(smooth_window, 5 if derivative else 3), deriv=derivative, delta=step)
    vector = np.zeros_like(values)
    vector[covered[0] : covered[-1] + 1] = part
    masked = ~measured
    if mask_co2 if mask_co2 is not None else spectrum.technique is Technique.FTIR:
        masked |= region_mask(axis, [CO2_REGION])
    if mask_water:
        masked |= region_mask(axis, [WATER_REGION])
    kept = ~masked
    vector[kept] -= vector[kept].mean()
    vector[masked] = 0.0
    norm = float(np.linalg.norm(vector))
    # Relative test: centring a constant leaves rounding residue, not signal.
    if not np.isfinite(norm) or norm <= 1e-10 * float(np.linalg.norm(values[measured])):
        raise SpectrumFormatError(
            _source(spectrum), "spectrum is flat after preprocessing; nothing to compare"
        )
    return vector / norm
