"""Targeting feedback's statistics: mismatch rates with their Wilson interval, small counts, revenue
impact, and the small-cell suppression of figures shown outside an administration. Pure Python (and
NumPy for the intervals of many groups at once)."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

#: The 0.975 quantile of the standard normal distribution: a two-sided 95 % interval.
Z_95 = 1.959963984540054
#: Below this many decided cases a rate is a "small count": shown as "k of n", never as a bare percentage
#: (3 of 3 is not "100 %").
SMALL_N = 10

K = TypeVar("K", bound=Hashable)


def wilson_interval(k: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion k/n; None when n is 0.

    With p̂ = k/n:

        centre = (k + z²/2) / (n + z²)
        half   = z / (n + z²) · √(k(n − k)/n + z²/4)
        (low, high) = (centre − half, centre + half)

    Source: E. B. Wilson (1927), "Probable inference, the law of succession, and statistical inference",
    JASA 22:209–212; recommended over the Wald interval p̂ ± z√(p̂(1−p̂)/n) — which collapses to [0, 0]
    or [1, 1] at k = 0 or k = n — by R. G. Newcombe (1998), Statistics in Medicine 17:857–872 (method 3)
    and L. D. Brown, T. T. Cai & A. DasGupta (2001), Statistical Science 16:101–133. The bounds are
    exactly 0 at k = 0 and exactly 1 at k = n (rounding aside).
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"a proportion needs 0 ≤ k ≤ n, not k={k}, n={n}")
    if n == 0:
        return None
    z2 = z * z
    centre = (k + z2 / 2) / (n + z2)
    half = z / (n + z2) * math.sqrt(k * (n - k) / n + z2 / 4)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def wilson_lows(k: NDArray[np.int64], n: NDArray[np.int64], z: float = Z_95) -> NDArray[np.float64]:
    """The lower bounds of the Wilson score intervals of many proportions k/n at once (every n ≥ 1):

        low = (k + z²/2) / (n + z²) − z / (n + z²) · √(k(n − k)/n + z²/4),  0 where k = 0, never below 0

    the formula of `wilson_interval` (Wilson 1927, JASA 22:209–212), written with the same floating-point
    operations in the same order, so that each bound equals `wilson_interval(k, n)[0]` to the bit: the
    figures rank thousands of groups by it and keep the first few, and must rank them as one by one.
    """
    z2 = z * z
    kf, nf = k.astype(np.float64), n.astype(np.float64)
    centre = (kf + z2 / 2) / (nf + z2)
    half = z / (nf + z2) * np.sqrt((k * (n - k)) / nf + z2 / 4)
    low: NDArray[np.float64] = np.where(k == 0, 0.0, np.maximum(0.0, centre - half))
    return low


@dataclass(frozen=True)
class Rate:
    """k of n decided cases differ from their declaration, with the 95 % Wilson interval."""

    n: int
    k: int
    rate: float
    low: float
    high: float

    @property
    def small(self) -> bool:
        """Too few cases for a percentage to mean much: show "k of n"."""
        return self.n < SMALL_N

    def text(self) -> str:
        """How the rate is written for people: "3 of 4" for a small count, else
        "31.0 % (95 % CI 25.5–36.6 %), n = 263"."""
        if self.small:
            return f"{self.k} of {self.n}"
        return f"{self.rate * 100:.1f} % (95 % CI {self.low * 100:.1f}–{self.high * 100:.1f} %), n = {self.n}"


def rate(k: int, n: int) -> Rate | None:
    """The mismatch rate of k in n with its interval; None without a case."""
    interval = wilson_interval(k, n)
    if interval is None:
        return None
    return Rate(n=n, k=k, rate=k / n, low=interval[0], high=interval[1])


@dataclass(frozen=True)
class RevenueImpact:
    """Determined − declared duty summed over the cases whose difference is known (`known` of `cases`);
    a positive total is revenue that the declarations would have missed."""

    total: Decimal
    known: int
    cases: int

    @property
    def complete(self) -> bool:
        return self.known == self.cases


def revenue_impact(duty_sum: Decimal, known: int, cases: int) -> RevenueImpact:
    if not 0 <= known <= cases:
        raise ValueError(f"known duty differences ({known}) must be between 0 and the cases ({cases})")
    return RevenueImpact(total=duty_sum if known else Decimal("0.00"), known=known, cases=cases)


#: The width of the importer and declarant columns (the request's fields are as long).
PARTY_LENGTH = 200


def party_name(name: str) -> str:
    """An importer's or declarant's name as the targeting figures store and show it: NFKC (full-width
    letters are the ordinary ones), runs of white space as one space, at most PARTY_LENGTH characters."""
    return " ".join(unicodedata.normalize("NFKC", name).split())[:PARTY_LENGTH]


def party_key(name: str) -> str:
    """What makes two spellings one importer (or declarant): `party_name` case-folded, so that
    "Hanbit Trading" and "HANBIT  TRADING" are one group in the figures and one importer to the alerts."""
    return party_name(name).casefold()[:PARTY_LENGTH]


def subheading_differs(declared: str, determined: str) -> bool:
    """Whether the determined code differs from the declared one at the subheading (6 digits), compared
    as far as both are given: a determination decided only to the heading (4 digits) differs only when
    the heading does."""
    a, b = declared[:6], determined[:6]
    width = min(len(a), len(b))
    return a[:width] != b[:width]


def suppress_small_cells(counts: Mapping[K, int], below: int) -> set[K]:
    """The cells of one list of counts to leave out when its total is published: each cell under `below`
    cases, and, when that hides a single non-empty cell, the smallest shown one too (complementary
    suppression), so that the total less the shown cells gives only a sum of hidden ones."""
    hidden = {key for key, n in counts.items() if n < below}
    if len([key for key in hidden if counts[key]]) == 1:
        shown = sorted((n, str(key), key) for key, n in counts.items() if key not in hidden)
        if shown:
            hidden.add(shown[0][2])
    return hidden


def suppress_table(counts: Mapping[tuple[str, str], int], below: int) -> set[tuple[str, str]]:
    """Small-cell suppression of a two-way table (heading × origin) whose row and column totals are also
    published: the small cells, then complementary cells within every row and column, repeated until no
    row or column has a single hidden non-empty cell."""
    hidden = {key for key, n in counts.items() if n < below}
    changed = True
    while changed:
        changed = False
        for axis in (0, 1):
            for line in {key[axis] for key in counts}:
                cells = {key: n for key, n in counts.items() if key[axis] == line}
                lone = [key for key in cells if key in hidden and cells[key]]
                shown = sorted((n, key) for key, n in cells.items() if key not in hidden)
                if len(lone) == 1 and shown:
                    hidden.add(shown[0][1])
                    changed = True
    return hidden
