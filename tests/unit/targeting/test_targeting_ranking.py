"""The ranking of many groups at once: the same floors, and the same first rows, as one view at a time."""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np

from customslab.domain.targeting import wilson_interval, wilson_lows
from customslab.services.targeting import rate_view, riskiest
from customslab.services.targeting_ports import RateRow


def test_the_interval_floors_of_many_groups_at_once_equal_those_of_each_group_alone() -> None:
    rng = random.Random(17)
    pairs = [(k, n) for n in range(1, 60) for k in range(n + 1)]
    pairs += [(rng.randint(0, n), n) for n in (rng.randint(60, 3_000_000) for _ in range(5000))]
    k = np.array([p[0] for p in pairs], dtype=np.int64)
    n = np.array([p[1] for p in pairs], dtype=np.int64)

    lows = wilson_lows(k, n).tolist()

    # Equal to the bit: a group's rank may not depend on whether it was computed alone or with others.
    assert lows == [wilson_interval(*p)[0] for p in pairs]  # type: ignore[index]


def _row(key: str, k: int, n: int) -> RateRow:
    return RateRow(key=(key,), n=n, k=k, duty_difference_sum=Decimal("0.00"), duty_known_n=0)


def test_the_riskiest_groups_are_those_a_sort_of_every_groups_view_puts_first() -> None:
    rng = random.Random(3)
    # Many ties: equal counts under different names, and floors equal once rounded to four decimals.
    rows = [_row(f"IMP{i:04d}", *sorted((rng.randint(0, 12), rng.randint(1, 12)))) for i in range(400)]
    rows += [_row(f"BIG{i:03d}", 100 * i, 1000 * i + 1) for i in range(1, 40)]
    rng.shuffle(rows)
    views = sorted(
        (rate_view(("importer",), r, with_duty=False) for r in rows),
        key=lambda v: (-v.wilson_low, -v.n, v.label),
    )

    for top in (1, 7, 50, len(rows), None):
        expected = [v.label for v in views[:top]]
        assert [r.key[0] for r in riskiest(rows, top)] == expected


def test_no_group_has_no_riskiest_row() -> None:
    assert riskiest([], 50) == []
