"""A calibrated confidence for an FTIR/Raman identification: the chance that its top hit is right.

A raw score means different things in different libraries: r = 0.6 is a clear answer when every other
polymer scores 0.2 and a coin toss when the next polymer scores 0.59. The confidence reads both the
top score r₁ and its lead over the best hit of another identity, g = r₁ − max{rᵢ : labelᵢ ≠ label₁},
through a logistic model (Platt, Advances in Large Margin Classifiers (1999) 61):

    p = 1 / (1 + exp(−(β₀ + β₁·r₁ + β₂·g)))

fitted by maximum likelihood on the cross-laboratory splits of benchmarks/polymer_accuracy.py
(`--fit-confidence`), queries whose polymer the library lacks included as wrong answers. Below
RELIABLE the identification says "no reliable match". Neither feature grows with the library's size,
unlike a rank or a raw count, so one threshold serves every library; but the lead does depend on
which identities the library holds, and calibration measured on a split left out of the fit is
worst (ECE ≈ 0.4) when the library lacks most of the queries' materials: the benchmark prints it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize

#: (β₀, β₁, β₂), from `benchmarks/polymer_accuracy.py --fit-confidence` (MPX and RaMPP splits).
COEFFICIENTS = (-5.03, 7.44, 7.42)
#: Confidence at or above which a top hit is reported as an identification.
RELIABLE = 0.5


def confidence(r1: float, gap: float, coefficients: Sequence[float] = COEFFICIENTS) -> float:
    """p(top hit right | r₁, g) from the logistic model above; 0 ≤ p ≤ 1."""
    b0, b1, b2 = coefficients
    z = b0 + b1 * r1 + b2 * gap
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


def fit(samples: Sequence[tuple[float, float, bool]]) -> tuple[float, float, float]:
    """Maximum-likelihood (β₀, β₁, β₂) for (r₁, g, right?) samples, lightly L2-regularised."""
    data = np.array([(r, g) for r, g, _ in samples], dtype=np.float64)
    y = np.array([1.0 if right else 0.0 for _, _, right in samples])
    design = np.column_stack([np.ones(len(y)), data])

    def loss(beta: np.ndarray) -> float:
        z = design @ beta
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + 1e-3 * beta[1:] @ beta[1:])

    result = minimize(loss, np.zeros(3), method="BFGS")
    b0, b1, b2 = (round(float(b), 2) for b in result.x)
    return b0, b1, b2


def calibration_error(
    samples: Sequence[tuple[float, float, bool]],
    bins: int = 10,
    coefficients: Sequence[float] = COEFFICIENTS,
) -> float:
    """Expected calibration error: Σ_b (n_b/N)·|mean p − share right| over equal-width bins of p."""
    if not samples:
        return 0.0
    p = np.array([confidence(r, g, coefficients) for r, g, _ in samples])
    right = np.array([1.0 if c else 0.0 for _, _, c in samples])
    edges = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = edges == b
        if inside.any():
            total += inside.sum() / p.size * abs(p[inside].mean() - right[inside].mean())
    return float(total)
