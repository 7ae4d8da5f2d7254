"""The spectrum value object shared by readers, preprocessing, scoring and the library."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


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
    continuous profile sorted by increasing x.
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
