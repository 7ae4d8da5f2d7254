"""The spectrum value object shared by readers, preprocessing, scoring and the library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# What a spectrum may hold. Every reader goes through `check_values`, and so does every Spectrum
# when it is made, so preprocessing, the library writer and the search never see anything else.
#: Largest m/z: beyond any EI spectrum, and the largest nominal m/z the library stores (16-bit
#: unsigned). Rounding to nominal mass never carries a peak at or below it past 65535.
MAX_MZ = 65535.0
#: Largest wavenumber or Raman shift magnitude in cm⁻¹ (a wavelength of 100 nm): far beyond the
#: mid- and near-infrared and any Raman laser line.
MAX_WAVENUMBER = 100_000.0
#: Largest wavelength in nm, for Raman spectra kept in nm until the excitation is known (100 µm).
MAX_WAVELENGTH_NM = 100_000.0
#: Largest intensity magnitude: no detector records more, and sums of squares stay finite.
MAX_INTENSITY = 1e30
#: Most points (or peaks) in one spectrum: a 0.01 cm⁻¹ FTIR scan over 10,000 cm⁻¹ holds as many.
MAX_POINTS = 1_000_000


class Technique(StrEnum):
    """Spectroscopic technique; a query is only compared with library spectra of its own technique."""

    EI_MS = "EI-MS"
    FTIR = "FTIR"
    RAMAN = "RAMAN"


class SpectrumFormatError(ValueError):
    """A spectrum file could not be read; names the file, the line (when known) and the problem."""

    def __init__(self, source: str, problem: str, line: int | None = None) -> None:
        self.source = source
        self.problem = problem
        self.line = line
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {problem}")


@dataclass
class Spectrum:
    """One spectrum: x (m/z for MS, wavenumber cm⁻¹ for FTIR/Raman shift) and y (intensity).

    For EI-MS the arrays are a centroid peak list sorted by m/z; for FTIR/Raman they are a
    continuous profile sorted by increasing x. Values no instrument records (see `check_values`)
    raise SpectrumFormatError when the spectrum is made.
    """

    x: FloatArray
    y: FloatArray
    technique: Technique
    name: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.x = np.asarray(self.x, dtype=np.float64)
        self.y = np.asarray(self.y, dtype=np.float64)
        if self.x.shape != self.y.shape or self.x.ndim != 1:
            raise ValueError("x and y must be one-dimensional arrays of the same length")
        source = str(self.metadata.get("source") or self.name or "spectrum")
        check_values(self.x, self.y, self.technique, source=source, x_unit=self.metadata.get("x_unit"))


@dataclass(frozen=True)
class _Axis:
    point: str  # what one point is called in messages
    name: str
    unit: str
    low: float
    high: float
    low_included: bool  # only a Raman shift may be 0 (the Rayleigh line) or negative (anti-Stokes)

    def value(self, v: float) -> str:
        return f"{self.name} {v:g}{self.unit}"


def _axis(technique: Technique, x_unit: object) -> _Axis:
    if technique is Technique.EI_MS:
        return _Axis("peak", "m/z", "", 0.0, MAX_MZ, False)
    if x_unit == "nm":
        return _Axis("point", "wavelength", " nm", 0.0, MAX_WAVELENGTH_NM, False)
    if technique is Technique.RAMAN:
        return _Axis("point", "Raman shift", " cm⁻¹", -MAX_WAVENUMBER, MAX_WAVENUMBER, True)
    return _Axis("point", "wavenumber", " cm⁻¹", 0.0, MAX_WAVENUMBER, False)


def check_values(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    technique: Technique,
    *,
    source: str,
    x_unit: object = None,
    lines: Sequence[int] | None = None,
) -> None:
    """Refuse a spectrum that no instrument can have recorded, naming the first bad point and its value.

    Refused: more than MAX_POINTS points; x or y that is not a finite number; m/z ≤ 0 or above
    MAX_MZ; a wavenumber ≤ 0 or above MAX_WAVENUMBER (a Raman shift beyond ±MAX_WAVENUMBER; a
    wavelength ≤ 0 or above MAX_WAVELENGTH_NM); an intensity beyond ±MAX_INTENSITY, or a negative
    one for EI-MS, whose intensities are ion abundances. Points are numbered from 1 in the order
    given (readers pass them in file order); ``lines`` gives each point's line in the file.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    axis = _axis(technique, x_unit)
    if xs.size > MAX_POINTS:
        raise SpectrumFormatError(
            source, f"{xs.size:,} {axis.point}s in one spectrum; at most {MAX_POINTS:,} are accepted"
        )
    y_low = 0.0 if technique is Technique.EI_MS else -MAX_INTENSITY
    with np.errstate(invalid="ignore"):
        above_low = xs >= axis.low if axis.low_included else xs > axis.low
        good = above_low & (xs <= axis.high) & (ys >= y_low) & (ys <= MAX_INTENSITY)
    if bool(good.all()):
        return
    index = int(np.flatnonzero(~good)[0])
    line = lines[index] if lines is not None and index < len(lines) else None
    x_value, y_value = float(xs[index]), float(ys[index])
    where = f"{axis.point} {index + 1}"
    if not np.isfinite(x_value):
        problem = f"{where} has {axis.value(x_value)}, which is not finite"
    elif not axis.low <= x_value <= axis.high or (x_value == axis.low and not axis.low_included):
        limits = (
            f"from {axis.low:g} to {axis.high:g}{axis.unit}"
            if axis.low_included
            else f"above {axis.low:g} and at most {axis.high:g}{axis.unit}"
        )
        problem = f"{where} has {axis.value(x_value)}, outside the accepted range ({limits})"
    elif not np.isfinite(y_value):
        problem = f"{where} ({axis.value(x_value)}) has intensity {y_value:g}, which is not finite"
    elif y_value < 0 and technique is Technique.EI_MS:
        problem = f"{where} ({axis.value(x_value)}) has a negative intensity ({y_value:g})"
    else:
        problem = (
            f"{where} ({axis.value(x_value)}) has intensity {y_value:g}, "
            f"beyond the accepted ±{MAX_INTENSITY:g}"
        )
    raise SpectrumFormatError(source, problem, line)
