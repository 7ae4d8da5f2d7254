"""Proficiency testing: ISO 13528:2022 robust statistics (Algorithm A) and performance scores.

We implement Algorithm A ourselves: it is twenty lines of arithmetic whose every step the standard
fixes, and a statistics dependency would not let us document the edge cases our PT rounds meet.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from customslab.domain.quality.errors import ProficiencyDataError

MAD_FACTOR = 1.483  # ISO 13528:2022 C.3.1, makes the MAD consistent with σ for normal data
WINSOR_K = 1.5  # δ = 1.5·s*
SD_FACTOR = 1.134  # corrects the SD of data winsorised at ±1.5 s* back to σ (normal data)
U_PT_FACTOR = 1.25  # u(x_pt) = 1.25·s*/√p, ISO 13528:2022 7.7.3


@dataclass(frozen=True)
class RobustStatistics:
    x_star: float
    s_star: float
    p: int
    iterations: int
    converged: bool
    note: str = ""


def _third_figure_quantum(s: float, x: float) -> float:
    # The place value of the third significant figure of s* (or of x* when s* is 0).
    ref = abs(s) if s > 0 else abs(x)
    if ref == 0:
        return 0.0
    return 10.0 ** (math.floor(math.log10(ref)) - 2)


def algorithm_a(
    values: Sequence[float], max_iterations: int = 100, tolerance: float | None = None
) -> RobustStatistics:
    """Robust average x* and robust SD s* by ISO 13528:2022 Annex C.3 (Algorithm A, from ISO 5725-5).

    Start: x* = median(xᵢ), s* = 1.483·median|xᵢ − x*|.
    Repeat: δ = 1.5·s*; xᵢ* = clamp(xᵢ, x* − δ, x* + δ);
            x* = Σxᵢ*/p;  s* = 1.134·√(Σ(xᵢ* − x*)²/(p − 1)).
    Convergence (as the standard says): the third significant figure of s*, and the digit of the same
    place value in x*, do not change from one iteration to the next; we round both to that place and
    compare. At most `max_iterations` updates are made; `converged` tells whether the rule was met.
    The standard's rule can stop while s* still creeps upwards (slowly converging data sets); pass
    `tolerance` (e.g. 1e-9) to iterate instead until |Δx*| and |Δs*| are both ≤ tolerance·s*.

    Edge cases, decided here because the standard does not:
    - p = 1: x* = x₁, s* = 0 (no spread can be estimated; σ_pt must come from elsewhere).
    - s* = 0 at the start (more than half the values identical, or all equal): winsorising at ±0 would
      collapse every value onto the median, so we stop with x* = median and s* = 0 and say so in `note`.
      No division by s* ever happens.
    - p = 2: the MAD is half the difference, no value is winsorised, x* is the mean.
    """
    data = [float(v) for v in values]
    if not data:
        raise ProficiencyDataError("Algorithm A needs at least one result.")
    if not all(math.isfinite(v) for v in data):
        raise ProficiencyDataError("Algorithm A cannot use results that are not finite numbers.")
    p = len(data)
    x_star = statistics.median(data)
    if p == 1:
        return RobustStatistics(x_star, 0.0, 1, 0, True, "single result: no robust SD can be estimated")
    s_star = MAD_FACTOR * statistics.median(abs(v - x_star) for v in data)
    if s_star == 0:
        return RobustStatistics(
            x_star, 0.0, p, 0, True, "more than half the results are identical: s* = 0, x* = median"
        )
    for iteration in range(1, max_iterations + 1):
        delta = WINSOR_K * s_star
        low, high = x_star - delta, x_star + delta
        winsorised = [min(max(v, low), high) for v in data]
        new_x = statistics.fmean(winsorised)
        new_s = SD_FACTOR * statistics.stdev(winsorised, new_x)
        if tolerance is not None:
            limit = tolerance * new_s
            same = abs(new_s - s_star) <= limit and abs(new_x - x_star) <= limit
        else:
            q = _third_figure_quantum(new_s, new_x)
            same = q == 0 or (round(new_s / q) == round(s_star / q) and round(new_x / q) == round(x_star / q))
        x_star, s_star = new_x, new_s
        if same:
            return RobustStatistics(x_star, s_star, p, iteration, True)
    return RobustStatistics(x_star, s_star, p, max_iterations, False, "maximum iterations reached")


class Performance(StrEnum):
    SATISFACTORY = "satisfactory"
    QUESTIONABLE = "questionable"
    UNSATISFACTORY = "unsatisfactory"


def classify_score(score: float) -> Performance:
    """|z| ≤ 2 satisfactory, 2 < |z| < 3 questionable, |z| ≥ 3 unsatisfactory (ISO 13528:2022 9.4.1).

    Also used for z′ and ζ, which ISO 13528 interprets on the same scale.
    """
    a = abs(score)
    if a <= 2:
        return Performance.SATISFACTORY
    if a < 3:
        return Performance.QUESTIONABLE
    return Performance.UNSATISFACTORY


def classify_en(en: float) -> Performance:
    """|E_n| ≤ 1 satisfactory, |E_n| > 1 unsatisfactory (ISO 13528:2022 9.7.2)."""
    return Performance.SATISFACTORY if abs(en) <= 1 else Performance.UNSATISFACTORY


def z_score(x: float, x_pt: float, sigma_pt: float) -> float:
    """z = (x − x_pt)/σ_pt (ISO 13528:2022 9.4)."""
    return (x - x_pt) / sigma_pt


def z_prime_score(x: float, x_pt: float, sigma_pt: float, u_x_pt: float) -> float:
    """z′ = (x − x_pt)/√(σ_pt² + u(x_pt)²) (ISO 13528:2022 9.5)."""
    return (x - x_pt) / math.sqrt(sigma_pt**2 + u_x_pt**2)


def zeta_score(x: float, x_pt: float, u_x: float, u_x_pt: float) -> float | None:
    """ζ = (x − x_pt)/√(u(x)² + u(x_pt)²) (ISO 13528:2022 9.6); None when both uncertainties are 0."""
    denominator = math.sqrt(u_x**2 + u_x_pt**2)
    return (x - x_pt) / denominator if denominator > 0 else None


def en_score(x: float, x_pt: float, big_u_x: float, big_u_x_pt: float) -> float | None:
    """E_n = (x − x_pt)/√(U(x)² + U(x_pt)²) with expanded uncertainties (ISO 13528:2022 9.7)."""
    denominator = math.sqrt(big_u_x**2 + big_u_x_pt**2)
    return (x - x_pt) / denominator if denominator > 0 else None


def u_assigned_from_robust(s_star: float, p: int) -> float:
    """u(x_pt) = 1.25·s*/√p for a consensus assigned value (ISO 13528:2022 7.7.3)."""
    return U_PT_FACTOR * s_star / math.sqrt(p)


@dataclass(frozen=True)
class PtRound:
    """A PT round for one measurand. Leave assigned_value None to use the participants' consensus x*;
    leave sigma_pt None to use the robust SD s* as σ_pt."""

    round_id: str
    scheme: str
    measurand: str
    unit: str
    assigned_value: float | None = None
    assigned_standard_uncertainty: float | None = None
    sigma_pt: float | None = None
    coverage_factor: float = 2.0


@dataclass(frozen=True)
class ParticipantResult:
    lab_id: str
    value: float
    standard_uncertainty: float | None = None
    expanded_uncertainty: float | None = None


@dataclass(frozen=True)
class LabScore:
    lab_id: str
    value: float
    z: float
    z_prime: float
    zeta: float | None
    en: float | None
    z_performance: Performance
    en_performance: Performance | None


@dataclass(frozen=True)
class RoundReport:
    round_id: str
    measurand: str
    unit: str
    p: int
    robust: RobustStatistics
    assigned_value: float
    u_assigned: float
    sigma_pt: float
    scores: tuple[LabScore, ...]
    notes: tuple[str, ...]

    def score_for(self, lab_id: str) -> LabScore:
        return next(s for s in self.scores if s.lab_id == lab_id)


def evaluate_round(pt_round: PtRound, results: Sequence[ParticipantResult]) -> RoundReport:
    """Assigned value, σ_pt and every participant's z, z′, ζ and E_n for one round."""
    ids = [r.lab_id for r in results]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ProficiencyDataError(
            f"Round {pt_round.round_id}: more than one result from {', '.join(duplicates)}."
        )
    robust = algorithm_a([r.value for r in results])
    notes: list[str] = [robust.note] if robust.note else []
    if pt_round.assigned_value is not None:
        x_pt = pt_round.assigned_value
        u_pt = pt_round.assigned_standard_uncertainty or 0.0
    else:
        x_pt = robust.x_star
        u_pt = u_assigned_from_robust(robust.s_star, robust.p)
    sigma_pt = pt_round.sigma_pt if pt_round.sigma_pt is not None else robust.s_star
    if not sigma_pt > 0:
        raise ProficiencyDataError(
            f"Round {pt_round.round_id}: the standard deviation for proficiency assessment is {sigma_pt}; "
            "set σ_pt for the round (the participants' results give no spread to use)."
        )
    if u_pt > 0.3 * sigma_pt:
        # ISO 13528:2022 9.2.1: above this ratio the uncertainty of x_pt is not negligible; read z′.
        notes.append("u(x_pt) > 0.3·σ_pt: the uncertainty of the assigned value is not negligible; use z′.")
    big_u_pt = pt_round.coverage_factor * u_pt
    scores = []
    for r in results:
        z = z_score(r.value, x_pt, sigma_pt)
        zeta = (
            None
            if r.standard_uncertainty is None
            else zeta_score(r.value, x_pt, r.standard_uncertainty, u_pt)
        )
        en = (
            None
            if r.expanded_uncertainty is None
            else en_score(r.value, x_pt, r.expanded_uncertainty, big_u_pt)
        )
        scores.append(
            LabScore(
                r.lab_id,
                r.value,
                z,
                z_prime_score(r.value, x_pt, sigma_pt, u_pt),
                zeta,
                en,
                classify_score(z),
                None if en is None else classify_en(en),
            )
        )
    return RoundReport(
        pt_round.round_id,
        pt_round.measurand,
        pt_round.unit,
        robust.p,
        robust,
        x_pt,
        u_pt,
        sigma_pt,
        tuple(scores),
        tuple(notes),
    )
